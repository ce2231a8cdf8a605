"""A whole-dim slice (`x[tile, :]`) over a dim whose size is only known at run
time (static_shapes=False) is looped over in chunks (reduction_loops), so one
compiled kernel is right for every size, including sizes past the first call's
and past one chunk; where it cannot be chunked the kernel gets a compile error
naming the dim and suggesting static_shapes=True (tests/kernels_dynamic_full.py)."""

from __future__ import annotations

import pytest
import torch

import deuteron
from conftest import fresh

import kernels_dynamic_full as K

# Sizes within one chunk, across chunk boundaries, and past the first call's.
SHAPES = [(5, 3), (16, 64), (7, 100), (3, 4097), (9, 5000)]


def close(a, b, tol=1e-4):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_elementwise_whole_dim_of_runtime_size(mode, dtype):
    kernel = fresh(K.scale_rows)  # one kernel for every size: no reset between calls
    for m, n in SHAPES:
        x = torch.randn(m, n).to(dtype)
        close(kernel(x), K.scale_rows_ref(x), tol=1e-4 if dtype == torch.float32 else 2e-3)


def test_row_sum_over_runtime_size(mode):
    torch.manual_seed(0)
    kernel = fresh(K.row_sums)
    for m, n in SHAPES:
        x = torch.randn(m, n)
        close(kernel(x), K.row_sums_ref(x), tol=1e-3)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_softmax_over_runtime_size(mode, dtype):
    torch.manual_seed(1)
    kernel = fresh(K.softmax_rows)
    for m, n in SHAPES:
        x = torch.randn(m, n).to(dtype)
        close(kernel(x), K.softmax_rows_ref(x), tol=1e-4 if dtype == torch.float32 else 2e-3)


def test_whole_dim_that_cannot_be_chunked_is_a_compile_error(mode):
    with pytest.raises(deuteron.exc.CompileError) as info:
        fresh(K.rows_summed_in_inner_loop)(torch.randn(8, 24))
    msg = str(info.value)
    assert "only known at run time" in msg and "inner loop" in msg and "static_shapes=True" in msg
