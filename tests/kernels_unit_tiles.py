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


@deuteron.kernel(autotune_effort="none")
def diagonal_blocks_product(a: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    # Helion's linear-attention kda backward: a tile of block 1 over the batch and
    # slices whose bounds loops compute; the slices' bounds masks lose the batch axis
    # with the loads (a 3-D load feeding a 2-D dot did not compile on the GPU).
    BHN = a.size(0)
    C = hl.specialize(a.size(1))
    K = k.size(2)
    NC = C // 16
    out = torch.zeros([BHN, C, K], dtype=torch.float32, device=a.device)
    block_k = hl.register_block_size(K)
    for tile_bhn, tile_k in hl.tile([BHN, K], block_size=[1, block_k]):
        for i_i in range(1, NC):
            r0 = i_i * 16
            acc = hl.zeros([tile_bhn, 16, tile_k], dtype=torch.float32)
            for i_j in range(i_i):
                c0 = i_j * 16
                kk = k[tile_bhn, c0:c0 + 16, tile_k].to(torch.float32)
                ab = a[tile_bhn, r0:r0 + 16, c0:c0 + 16]
                acc = acc + hl.dot(ab, kk)
            out[tile_bhn, r0:r0 + 16, tile_k] = acc
    return out


def diagonal_blocks_product_ref(a, k):
    B, C, _ = a.shape
    out = torch.zeros(B, C, k.size(2))
    for i in range(1, C // 16):
        for j in range(i):
            out[:, i * 16:(i + 1) * 16] += a[:, i * 16:(i + 1) * 16, j * 16:(j + 1) * 16] @ k[:, j * 16:(j + 1) * 16]
    return out
