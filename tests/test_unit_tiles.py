"""Tiles of one lane (`hl.tile(a, b, block_size=1)`) broadcast against other
tiles on the same axis, as in Helion: in both CPU modes against PyTorch
(tests/kernels_unit_tiles.py), and a block size of 1 chosen by the config is
still a tile that does not broadcast."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh

import kernels_unit_tiles as K


def close(a, b, tol=1e-4):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_horner_over_one_lane_row_tiles(mode, dtype):
    torch.manual_seed(0)
    x = (torch.rand(37, 20) - 0.5).to(dtype)
    coef = torch.randn(5, 20).to(dtype)
    close(fresh(K.horner)(x, coef), K.horner_ref(x, coef), tol=1e-4 if dtype == torch.float32 else 2e-3)


def test_one_lane_tile_index_in_arithmetic(mode):
    torch.manual_seed(1)
    x = torch.randn(9, 33)
    w = torch.randn(4, 33)
    close(fresh(K.weighted_rows)(x, w), K.weighted_rows_ref(x, w))


@deuteron.kernel
def config_sized_rows(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    b, c = x.shape
    out = torch.empty_like(x)
    for tile_b, tile_c in hl.tile([b, c]):
        acc = hl.zeros([tile_b, tile_c], dtype=torch.float32)
        for row in hl.tile(w.size(0)):
            acc = acc + w[row, tile_c] * x[tile_b, tile_c]
        out[tile_b, tile_c] = acc
    return out


def test_a_tile_whose_block_the_config_picks_does_not_broadcast(mode):
    # Its block may be larger than 1 under another config: the shapes clash.
    with pytest.raises(exc.ShapeMismatch, match="cannot be broadcast together"):
        fresh(config_sized_rows).bind((torch.randn(4, 8), torch.randn(3, 8)))


def test_unit_batch_tile_with_loop_bounded_slices_feeding_a_dot(mode):
    a, k = torch.randn(2, 64, 64), torch.randn(2, 64, 32)
    torch.testing.assert_close(fresh(K.diagonal_blocks_product)(a, k), K.diagonal_blocks_product_ref(a, k),
                               atol=1e-3, rtol=1e-3)
