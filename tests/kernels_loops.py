"""Kernels with loops the per-loop config keys act on (tests/gpu/test_loop_entries_gpu.py,
tests/test_compile_sm90.py)."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel(autotune_effort="none")
def add_one(x: torch.Tensor) -> torch.Tensor:
    out = x.new_empty(x.size())
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + 1
    return out


@deuteron.kernel(autotune_effort="none")
def device_loop_3d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    a, b, c, d = x.shape
    for tile_a in hl.tile(a):
        for tile_b, tile_c, tile_d in hl.tile([b, c, d]):
            out[tile_a, tile_b, tile_c, tile_d] = torch.sin(x[tile_a, tile_b, tile_c, tile_d])
    return out


@deuteron.kernel(autotune_effort="none")
def scale_rows(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    a, b, c = x.shape
    for tile_a in hl.tile(a):
        row = s[tile_a]
        for tile_b, tile_c in hl.tile([b, c]):
            out[tile_a, tile_b, tile_c] = x[tile_a, tile_b, tile_c] * row[:, None, None] + 1.0
    return out


@deuteron.kernel(autotune_effort="none")
def nested_2d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    m, n = x.size(1), x.size(2)
    for tile_outer in hl.tile(x.size(0)):
        for tile_m, tile_n in hl.tile([m, n]):
            out[tile_outer, tile_m, tile_n] = x[tile_outer, tile_m, tile_n] + 1
    return out


@deuteron.kernel(autotune_effort="none")
def matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.empty([m, n], dtype=torch.promote_types(x.dtype, y.dtype), device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out
