"""Tuning kernels whose runs change memory, on a GPU (the CPU version, with fake timing:
tests/test_autotune_saved_memory.py): arguments written in place and tensors reached
through StackTensor addresses are the same for every checked config and reach the caller
updated once, whether the configs ran in a benchmark process or in this one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron.autotune import TuneHooks, tune

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_stack as K  # noqa: E402
from kernels_stack import pointers  # noqa: E402

CONFIGS = [deuteron.Config(block_sizes=[s]) for s in (256, 1024, 4096)]


@deuteron.kernel(autotune_progress_bar=False, autotune_cache=False)
def accumulate(acc: torch.Tensor, x: torch.Tensor) -> None:
    """acc += x * 2 (a read-modify-write of an argument)."""
    for tile in hl.tile(acc.size(0)):
        acc[tile] = acc[tile] + x[tile] * 2


@pytest.mark.parametrize("isolate", [None, False], ids=["benchmark_process", "this_process"])
def test_an_in_place_kernel_tunes_over_every_config_and_updates_once(isolate):
    torch.manual_seed(0)
    acc, x = torch.randn(1 << 20, device="cuda"), torch.randn(1 << 20, device="cuda")
    acc0 = acc.clone()
    accumulate.reset()
    b = accumulate.bind((acc, x))
    res = tune(b, (acc, x), CONFIGS, hooks=TuneHooks(isolate=isolate), return_result=True)
    assert not res.failures, res.failures
    assert torch.equal(acc, acc0)
    b.compile_config(res.config)(acc, x)
    torch.testing.assert_close(acc, acc0 + 2 * x)


def test_an_untuned_stack_update_tunes_and_updates_once():
    torch.manual_seed(1)
    tensors = [torch.randn(5000, device="cuda") for _ in range(6)]
    before = [t.clone() for t in tensors]
    y = torch.randn(5000, device="cuda")
    K.add_in_place.reset()
    K.add_in_place(pointers(tensors), tensors[0], y)  # no config: autotunes (quick)
    for t, old in zip(tensors, before):
        torch.testing.assert_close(t, old + y)
