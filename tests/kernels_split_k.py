"""Kernels whose tile block sizes are computed on the host from tunables (split-K)."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl
from deuteron.autotuner import IntegerFragment, PowerOfTwoFragment


@deuteron.kernel(autotune_effort="none", static_shapes=True)
def matmul_split_k(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.zeros([m, n], dtype=torch.promote_types(x.dtype, y.dtype), device=x.device)
    split_k = hl.register_tunable("split_k", PowerOfTwoFragment(1, 256))
    k_block = deuteron.next_power_of_2(deuteron.cdiv(k, split_k))
    for tile_m, tile_n, outer_k in hl.tile([m, n, k], block_size=[None, None, k_block]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for inner_k in hl.tile(outer_k.begin, outer_k.end):
            acc = torch.addmm(acc, x[tile_m, inner_k], y[inner_k, tile_n])
        hl.atomic_add(out, [tile_m, tile_n], acc)
    return out


@deuteron.kernel(autotune_effort="none", static_shapes=True)
def chunked_scale(x: torch.Tensor) -> torch.Tensor:
    # One tile per chunk: the block is the chunk length rounded up to a power of 2.
    n = x.size(0)
    chunks = hl.register_tunable("chunks", PowerOfTwoFragment(1, 64, 4))
    block = deuteron.next_power_of_2(deuteron.cdiv(n, chunks))
    out = torch.empty_like(x)
    for tile in hl.tile(n, block_size=block):
        out[tile] = x[tile] * 2 + hl.zeros([tile], dtype=x.dtype) + tile.block_size
    return out


@deuteron.kernel(autotune_effort="none", static_shapes=True)
def odd_block(x: torch.Tensor) -> torch.Tensor:
    # split * 3 is no power of two: each config's value is checked when lowering.
    split = hl.register_tunable("split", IntegerFragment(1, 4, 1))
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0), block_size=split * 3):
        out[tile] = x[tile]
    return out
