"""Whole dims (`:`) identified by their size, Helion's rule (tests/kernels_whole_dims.py):
w[:, :] of a square w has two distinct axes that meet x's dim of that size, a
transpose of a square block stays a transpose, and a `:` of n elements meets
an accumulator of next_power_of_2(n) lanes without its padding lanes reaching
sums or stores.  In both CPU modes, against PyTorch."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh

import kernels_whole_dims as K


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_square_weight_two_colons(mode, dtype):
    torch.manual_seed(0)
    x = torch.randn(40, 16, dtype=dtype)
    w = (torch.randn(16, 16) / 4).to(dtype)
    tol = 1e-4 if dtype == torch.float32 else 2e-2
    torch.testing.assert_close(fresh(K.se_block)(x, w), K.se_block_ref(x, w), rtol=tol, atol=tol)


@pytest.mark.parametrize("n", [8, 12])
def test_square_block_transpose_stays_a_transpose(mode, n):
    torch.manual_seed(1)
    a = torch.randn(5, n, n)
    torch.testing.assert_close(fresh(K.square_transpose_add)(a), K.square_transpose_add_ref(a), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("n", [500, 24])
def test_next_power_of_two_accumulator_meets_whole_dim(mode, dtype, n):
    torch.manual_seed(2)
    x = torch.randn(33, n, dtype=dtype)
    out, sums = fresh(K.padded_accumulator)(x)
    eo, es = K.padded_accumulator_ref(x)
    torch.testing.assert_close(out, eo)
    torch.testing.assert_close(sums, es, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("rows", [3, 4, 7])
@pytest.mark.parametrize("block_sizes", [None, [2], [16]])
def test_a_tile_covering_a_whole_dim_in_one_block_meets_it(mode, rows, block_sizes):
    torch.manual_seed(6)
    x = torch.randn(rows, 13)
    bias = torch.randn(rows, 13)
    args = (x, bias, 1 << (rows - 1).bit_length())
    k = fresh(K.one_block_rows)
    got = k(*args) if block_sizes is None else k.bind(args).compile_config({"block_sizes": block_sizes})(*args)
    torch.testing.assert_close(got, K.one_block_rows_ref(x, bias))


def test_a_tile_of_a_smaller_block_does_not_meet_the_whole_dim(mode):
    x = torch.randn(5, 8)
    with pytest.raises(exc.ShapeMismatch, match="cannot be broadcast"):
        fresh(K.one_block_rows)(x, x, 4)


def test_two_bounded_slices_of_one_length(mode):
    torch.manual_seed(5)
    a = torch.randn(6, 8, 8)
    torch.testing.assert_close(fresh(K.corner_blocks)(a), K.corner_blocks_ref(a))


def test_padded_loop_carried_accumulator(mode):
    torch.manual_seed(3)
    x = torch.randn(9, 3, 20)
    torch.testing.assert_close(fresh(K.padded_loop_carry)(x), K.padded_loop_carry_ref(x), rtol=1e-4, atol=1e-4)


def test_whole_dims_of_unrelated_sizes_still_clash(mode):
    @deuteron.kernel
    def k(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for t in hl.tile(x.size(0)):
            out[t, :] = x[t, :] + y[t, :]
        return out

    # 300 and 400 both take 512 lanes, but neither is the other's padding.
    with pytest.raises(exc.ShapeMismatch, match=r"shapes \[t, 300\] and \[t, 400\] cannot be broadcast together"):
        k(torch.randn(4, 300), torch.randn(4, 400))


def test_dynamic_sizes_equal_at_bind_become_one_dim(mode):
    torch.manual_seed(4)
    k = fresh(K.merge_rows)
    for n in (40, 72):
        a, b, wa = torch.randn(11, n), torch.randn(11, n), torch.rand(11)
        torch.testing.assert_close(k(a, b, wa), K.merge_rows_ref(a, b, wa))
    with pytest.raises(ValueError, match=r"takes \(a.size\(1\)\) and \(b.size\(1\)\) as one size"):
        k(torch.randn(11, 40), torch.randn(11, 41), torch.rand(11))


# Rolling a dot's whole output dim (reduction_loops on the `:` of x_tile @ w[:, :]):
# the columns come chunk by chunk, x_tile's whole row (the contraction) is read once.
# A chunk that does not divide the dim (200 by 64) masks its last chunk.
@pytest.mark.parametrize("n, chunk", [(64, 16), (200, 64), (128, 128)])
def test_rolled_columns_of_a_square_weight(mode, n, chunk):
    torch.manual_seed(8)
    x = torch.randn(40, n, dtype=torch.float16)
    w = (torch.randn(n, n) / n**0.5).to(torch.float16)
    bound = fresh(K.se_block).bind((x, w))
    assert len(bound.config_spec["reduction_loops"]) == 1  # the two `:` of w roll as one
    got = bound.compile_config({"block_sizes": [16], "reduction_loops": [chunk]})(x, w)
    torch.testing.assert_close(got, K.se_block_ref(x, w), rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("chunk", [None, 16, 32])
def test_rolled_softmax_over_dot_columns(mode, chunk):
    torch.manual_seed(9)
    x = torch.randn(24, 32)
    w = torch.randn(32, 96) / 4
    got = fresh(K.dot_column_softmax).bind((x, w)).compile_config(
        {"block_sizes": [8], "reduction_loops": [chunk]})(x, w)
    torch.testing.assert_close(got, K.dot_column_softmax_ref(x, w), rtol=1e-4, atol=1e-5)


def test_a_store_through_both_axes_of_a_square_does_not_roll(mode):
    w = torch.randn(3, 16, 16)
    bound = fresh(K.square_copy_scaled).bind((w,))
    assert len(bound.config_spec["reduction_loops"]) == 0
    torch.testing.assert_close(bound.compile_config({"block_sizes": [2]})(w), w * 2)


def test_dot_accumulator_whole_dim_meets_the_products(mode):
    h0 = torch.randn(2, 32, 24)
    k, v = torch.randn(2, 3, 16, 32), torch.randn(2, 3, 16, 24)
    torch.testing.assert_close(fresh(K.state_update)(h0, k, v), K.state_update_ref(h0, k, v), atol=1e-3, rtol=1e-3)
