"""Reshapes inside tile loops that merge or split dims, in both CPU modes:
merges of tiles (their padding lanes masked in reductions), merges of whole
dims of constant length, rope's split of a head dim into [2, d // 2] and back,
unflatten with -1; reshapes that would cut a tile's block or reorder dims are
compile errors that name the reshape."""

from __future__ import annotations

import pytest
import torch

import kernels_reshapes as R
import deuteron
from deuteron import exc
from conftest import fresh


def test_merge_roundtrip(mode):
    x = torch.randn(20, 36)  # partial tiles along both dims
    torch.testing.assert_close(fresh(R.merge_roundtrip)(x), x * 2 + 1)


def test_merged_sum(mode):
    x = torch.randn(3, 5, 7)
    torch.testing.assert_close(fresh(R.merged_sum)(x), x.sum(dim=(1, 2)), rtol=1e-5, atol=1e-5)


def test_merged_max_ignores_padding_lanes(mode):
    x = -torch.rand(10, 13) - 1  # all negative: a padding lane counted as 0 would win
    expect = x.view(5, 2, 13).amax(dim=(1, 2))
    torch.testing.assert_close(fresh(R.merged_max)(x), expect)


@pytest.mark.parametrize("shape", [(6, 4, 8), (5, 3, 8)])
def test_flatten_whole_dims(mode, shape):
    x = torch.randn(*shape)
    torch.testing.assert_close(fresh(R.flatten_whole)(x), x.flatten(1) * 3)


@pytest.mark.parametrize("d", [64, 16])
def test_rope_rotate_half(mode, d):
    x = torch.randn(7, d)
    lo, hi = x[:, : d // 2], x[:, d // 2 :]
    torch.testing.assert_close(fresh(R.rotate_half)(x), torch.cat([-hi, lo], dim=-1))


def test_unflatten_with_inferred_size(mode):
    x = torch.randn(9, 32)
    torch.testing.assert_close(fresh(R.unflatten_pairs)(x), x.view(9, 8, 4).sum(-1), rtol=1e-5, atol=1e-5)


def test_merged_arithmetic(mode):
    x, y = torch.randn(12, 20), torch.randn(12, 20)
    torch.testing.assert_close(fresh(R.merged_outer)(x, y), x * y + torch.sigmoid(x))


def test_splitting_a_tile_block_is_an_error(mode):
    with pytest.raises(exc.CompileError, match=r"splits the block of tile"):
        fresh(R.split_tile_block)(torch.randn(96))


def test_reorder_by_reshape_is_an_error(mode):
    with pytest.raises(exc.CompileError, match=r"(?s)cannot reshape \[tile_m, tile_n\].*the size tile_n here.*reorder dims"):
        fresh(R.reorder_by_reshape)(torch.randn(16, 8))


def test_padded_inner_split_is_an_error(mode):
    with pytest.raises(exc.CompileError, match=r"inner size 12 is not a power of two"):
        fresh(R.padded_inner_split)(torch.randn(4, 24))


@pytest.mark.parametrize("block", [2, 16, 64])
def test_split_tile_block_pair_sums(mode, block):
    x = torch.randn(256)
    bound = fresh(R.pair_sums).bind((x,))
    out = bound.load(deuteron.Config(block_sizes=[block]))(x)
    torch.testing.assert_close(out, x.view(-1, 2).sum(-1))


def test_split_tile_block_roundtrip(mode):
    x = torch.randn(128)
    bound = fresh(R.split_block_roundtrip).bind((x,))
    out = bound.load(deuteron.Config(block_sizes=[32]))(x)
    g = x.view(-1, 4)
    torch.testing.assert_close(out, (g * 2 + g.sum(-1, keepdim=True)).view(-1))


def test_split_tile_block_needs_power_of_two_extent(mode):
    with pytest.raises(exc.CompileError, match=r"splits the block of tile"):
        fresh(R.pair_sums)(torch.randn(96))


def test_split_tile_block_raises_the_minimum_block(mode):
    bound = fresh(R.pair_sums).bind((torch.randn(64),))
    assert bound.config_spec["block_sizes"][0]["min"] == 2


def test_rotary_embedding(mode):
    x = torch.randn(3, 4, 19, 32)
    cos, sin = torch.randn(19, 32), torch.randn(19, 32)
    torch.testing.assert_close(fresh(R.rotary)(x, cos, sin), R.rotary_reference(x, cos, sin), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("k", [64, 40])
def test_contraction_of_two_dims_with_equal_lanes(mode, k):
    # Helion's int4 unpacking: a slice of 2 * block lanes against an interleaved [tile * 2] merge.
    torch.manual_seed(0)
    a = torch.randn(24, k)
    b = torch.randint(-128, 128, (k // 2, 20), dtype=torch.int8)
    expect = a @ R.unpack_nibbles(b).to(a.dtype)
    torch.testing.assert_close(fresh(R.packed_nibble_matmul)(a, b), expect, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("block_k", [16, 32])
def test_contraction_of_a_split_block_merged_back(mode, block_k):
    # b[tile_k.begin // 2 : ... + block_k // 2] has block_k // 2 rows (the
    # quotient cancels in the length); [block_k // 2, 2] merged is block_k lanes.
    torch.manual_seed(0)
    a = torch.randn(24, 64)
    b = torch.randint(-128, 128, (32, 32), dtype=torch.int8)
    expect = a @ R.unpack_nibbles(b).to(a.dtype)
    bound = fresh(R.packed_nibble_matmul_by_k).bind((a, b))
    out = bound.load(deuteron.Config(block_sizes=[16, block_k, 16]))(a, b)
    torch.testing.assert_close(out, expect, rtol=1e-4, atol=1e-3)


def test_contraction_of_dims_with_different_lanes_is_an_error(mode):
    with pytest.raises(exc.CompileError, match=r"(?s)matmul contraction dims differ.*as many lanes under every config"):
        fresh(R.contraction_lanes_differ)(torch.randn(16, 64), torch.randn(64, 16))
