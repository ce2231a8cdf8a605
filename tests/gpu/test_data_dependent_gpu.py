"""Grids bounded by a one-element tensor on the GPU: the programs load the bound
themselves (persistent launch, no host sync), also under torch.compile (kernels of
tests/test_data_dependent.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import deuteron

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_data_dependent as D  # noqa: E402
from conftest import fresh  # noqa: E402


@pytest.mark.parametrize("pid_type", ["persistent_blocked", "persistent_interleaved"])
def test_a_tile_loop_bounded_by_a_device_tensor(pid_type):
    x = torch.randn(100_000, device="cuda")
    bound = fresh(D.prefix_plus_one).bind((x, torch.tensor(5, device="cuda")))
    run = bound.compile_config(deuteron.Config(pid_type=pid_type))
    for value in (0, 1, 37, 64, 99_999, 100_000):
        n = torch.tensor(value, device="cuda")
        expect = torch.zeros_like(x)
        expect[:value] = x[:value] + 1
        torch.testing.assert_close(run(x, n), expect)


def test_a_grid_of_item_rows_and_torch_compile():
    k = fresh(D.prefix_rows_by_item)
    x = torch.randn(300, 64, device="cuda")
    for rows in (0, 7, 300):
        n = torch.tensor(rows, device="cuda")
        expect = torch.cat([x[:rows] * 2, torch.zeros(300 - rows, 64, device="cuda")])
        torch.testing.assert_close(k(x, n), expect)
    # Nothing data-dependent for the tracer: the bound is read inside the kernel.
    compiled = torch.compile(lambda a, b: k(a, b) + 1, fullgraph=True)
    n = torch.tensor(11, device="cuda")
    torch.testing.assert_close(compiled(x, n), k(x, n) + 1)
