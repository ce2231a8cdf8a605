"""A whole-dim slice (`x[tile, :]`) over a dim whose size is only known at run
time (static_shapes=False) is looped over in chunks (reduction_loops), so one
compiled kernel is right for every size, including sizes past the first call's
and past one chunk.  Where it cannot be chunked (an inner loop, a matmul, a
scan) it is one masked block of next_power_of_2(size) lanes, the kernel keyed
on that power of two; a size read from tensor data there is a compile error
naming the dim (tests/kernels_dynamic_full.py)."""

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


def test_whole_dim_in_an_inner_loop_is_one_block_keyed_by_its_power_of_two(mode):
    # Used inside an inner loop, the dim cannot be chunked: it is one masked block of
    # next_power_of_2(size) lanes, and the kernel binds again for a size needing more.
    torch.manual_seed(2)
    kernel = fresh(K.rows_summed_in_inner_loop)
    for n in (24, 20, 32, 33, 7, 100):
        x = torch.randn(8, n)
        close(kernel(x), K.rows_summed_in_inner_loop_ref(x), tol=1e-3)
    assert len(kernel._bound) == 4  # 32 lanes (24, 20, 32), 64, 8, 128
    bound = kernel.bind((torch.randn(8, 24),))
    assert bound.specialized_args == ("triton.next_power_of_2(max((x.size(1)), 1))",)


def test_whole_dim_sized_by_an_int_argument(mode):
    torch.manual_seed(3)
    kernel = fresh(K.first_n_summed_in_inner_loop)
    x = torch.randn(8, 40)
    for n in (5, 7, 9, 40):
        close(kernel(x, n), K.first_n_summed_in_inner_loop_ref(x, n), tol=1e-3)
    assert len(kernel._bound) == 3  # 8 lanes (5, 7), 16, 64


def test_whole_dim_of_specialized_size_under_a_grid_branch(mode):
    torch.manual_seed(4)
    kernel = fresh(K.norms_by_grid_branch)
    for shape in ((4, 32), (3, 48)):
        x = torch.randn(*shape)
        for got, want in zip(kernel(x), K.norms_by_grid_branch_ref(x)):
            close(got, want, tol=1e-4)


def test_whole_dim_sized_by_tensor_data_in_an_inner_loop_is_a_compile_error(mode):
    # Its size (t.item()) is no function of the arguments: nothing to key a block on.
    with pytest.raises(deuteron.exc.ShapeSpecializingAllocation) as info:  # Helion's class (a CompileError)
        fresh(K.first_item_summed_in_inner_loop)(torch.randn(8, 24), torch.tensor(5))
    msg = str(info.value)
    assert "only known at run time" in msg and "inner loop" in msg and "not a function of the kernel's arguments" in msg
