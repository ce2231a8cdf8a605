"""Kernels for tests/test_codegen_regressions.py: small programs that once
compiled to wrong or invalid Triton code (found running Helion's tests under
TRITON_INTERPRET=1)."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel
def negative_scalar_index(src: torch.Tensor, dst: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    for _ in hl.grid(1):
        dst[-1] = 1.0
        src[-2] = dst[-1]
    return src, dst


@deuteron.kernel
def negative_index_2d(x: torch.Tensor) -> torch.Tensor:
    for _ in hl.grid(1):
        x[-1, -3] = 42.0
    return x


@deuteron.kernel
def negative_index_with_tile(x: torch.Tensor) -> torch.Tensor:
    for tile in hl.tile(x.size(0)):
        x[tile, -1] = x[tile, -2] + 1.0
    return x


@deuteron.kernel
def add_2d(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out


@deuteron.kernel
def zeros_accumulate_2d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        tmp = hl.zeros(tile, dtype=x.dtype)
        tmp += x[tile]
        tmp += x[tile]
        out[tile] = tmp
    return out


@deuteron.kernel
def device_argument(n: int, device: torch.device) -> torch.Tensor:
    out = torch.zeros([n], dtype=torch.int32, device=device)
    for tile in hl.tile(n, block_size=64):
        out[tile] = tile.count
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]))
def bf16_matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), y.size(1)], dtype=torch.float32, device=x.device)
    for tile_m, tile_n in hl.tile([x.size(0), y.size(1)]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(x.size(1)):
            acc = hl.dot(x[tile_m, tile_k], y[tile_k, tile_n], acc=acc)
        out[tile_m, tile_n] = acc
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16]), static_shapes=False)
def rows_prefix_plus_one(x: torch.Tensor, n: int) -> torch.Tensor:
    """An inner tile loop whose bound is an int argument: a runtime scalar in
    `tl.range` (Triton < 3.8's interpreter converts it with int() on a 1-element
    array, which numpy >= 2.4 refuses)."""
    out = torch.zeros_like(x)
    for i in hl.grid(x.size(0)):
        for t in hl.tile(n):
            out[i, t] = x[i, t] + 1
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16]))
def scatter_rows_masked(src: torch.Tensor, rows: torch.Tensor, count: int, out: torch.Tensor) -> torch.Tensor:
    """Rows of `src` stored at `out[rows[i]]` for i < count; the lanes past `count`
    are clamped to row 0's index and masked out of the store (the correct form of
    Helion's moe_matmul_ogs store, whose unmasked lanes race with row 0's)."""
    for tile_t, tile_n in hl.tile([rows.size(0), src.size(1)]):
        valid = tile_t.index < count
        idx = rows[torch.where(valid, tile_t.index, 0)]
        hl.store(out, [idx, tile_n], src[tile_t, tile_n] * 2, extra_mask=valid[:, None])
    return out
