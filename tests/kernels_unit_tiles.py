"""Kernels whose inner loop tiles have one lane (`hl.tile(a, b, block_size=1)`):
values indexed by such a tile broadcast against other tiles on the same axis,
as Helion sizes the tile 1.  Shared by tests/test_unit_tiles.py (both CPU
modes) and tests/gpu/test_unit_tiles_gpu.py, with their references."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel
def horner(x: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
    """sum_k coef[k, c] * x[b, c] ** (K - 1 - k), by Horner's rule over the rows of coef."""
    b, c = x.shape
    k = coef.size(0)
    out = torch.empty_like(x)
    for tile_b, tile_c in hl.tile([b, c]):
        xv = x[tile_b, tile_c]
        acc = hl.zeros([tile_b, tile_c], dtype=torch.float32)
        for row in hl.tile(0, k, block_size=1):
            acc = acc * xv + coef[row, tile_c]
        out[tile_b, tile_c] = acc.to(x.dtype)
    return out


def horner_ref(x, coef):
    acc = torch.zeros_like(x, dtype=torch.float32)
    for k in range(coef.size(0)):
        acc = acc * x.float() + coef[k].float()
    return acc.to(x.dtype)


@deuteron.kernel
def weighted_rows(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """out[b, c] = sum_{r >= 1} w[r, c] * x[b, c] * r, the row tile's index (a
    one-lane tile) in the arithmetic on the left of a [b, c] value."""
    b, c = x.shape
    out = torch.empty_like(x)
    for tile_b, tile_c in hl.tile([b, c]):
        acc = hl.zeros([tile_b, tile_c], dtype=torch.float32)
        for r in hl.tile(1, w.size(0), block_size=1):
            scale = r.index[:, None].to(torch.float32)
            acc = acc + (w[r, tile_c] * scale) * x[tile_b, tile_c]
        out[tile_b, tile_c] = acc
    return out


def weighted_rows_ref(x, w):
    r = torch.arange(w.size(0), dtype=torch.float32)[1:, None]
    return x * (w[1:] * r).sum(0)
