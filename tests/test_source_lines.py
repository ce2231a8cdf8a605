"""An exception the kernel's own code raises in interpret mode (PyTorch's IndexError
for an index past a tensor's end, in the generated PyTorch-eager module) keeps its
type and message, and carries a note naming the kernel's source line with a caret
(the module's line table: runtime/source_lines.py), not only generated code."""

from __future__ import annotations

import inspect

import pytest
import torch

import deuteron
import deuteron.language as hl
from conftest import fresh


@deuteron.kernel
def gather_rows(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    out = torch.empty([idx.size(0), x.size(1)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(idx.size(0)):
        rows = idx[tile]
        out[tile, :] = x[rows, :] * 2
    return out


def _line_of(kernel, text: str) -> int:
    lines, first = inspect.getsourcelines(kernel.fn)
    return first + next(i for i, line in enumerate(lines) if text in line)


def test_index_past_the_end_names_the_kernel_line(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    x, idx = torch.randn(8, 4), torch.tensor([0, 3, 9, 1])
    with pytest.raises(IndexError, match="index 9 is out of bounds") as info:
        fresh(gather_rows)(x, idx)
    (note,) = info.value.__notes__
    line = _line_of(gather_rows, "x[rows, :] * 2")
    head, src, caret = note.splitlines()
    assert head.startswith(f"{__file__}:{line}:") and "kernel 'gather_rows'" in head, note
    assert src.strip().endswith("out[tile, :] = x[rows, :] * 2"), note
    # The caret is under the read that raised: x[rows, :].
    col = int(head.split(":")[2])
    assert src.split("| ", 1)[1][col - 1:].startswith("x[rows, :]"), note
    assert caret.split("| ", 1)[1] == " " * (col - 1) + "^" * len("x[rows, :]"), note


def test_the_note_is_added_once_and_good_calls_still_run(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    k = fresh(gather_rows)
    x = torch.randn(8, 4)
    torch.testing.assert_close(k(x, torch.tensor([7, 0])), x[[7, 0]] * 2)
    for _ in range(2):  # the second call takes the specialization's fast path
        with pytest.raises(IndexError) as info:
            k(x, torch.tensor([8]))
        assert len(info.value.__notes__) == 1
