"""Kernels taking an int argument where a compile-time value is needed: through
`hl.specialize(n)` (Helion's gdn_fwd_h: `chunk_size = hl.specialize(chunk_size)`)
or directly as `block_size=n` (Helion's test_loop_arg_block).  The kernel is keyed
on such an argument's value.  Shared by tests/test_int_specialize.py (both CPU
modes) and tests/gpu/test_int_specialize_gpu.py."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel(static_shapes=True)
def chunk_sums(x: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """Per-chunk row sums: out[b, c] = sum(x[b, c * chunk_size:(c + 1) * chunk_size])."""
    b, t = x.shape
    chunk_size = hl.specialize(chunk_size)
    out = torch.empty([b, t // chunk_size], dtype=x.dtype, device=x.device)
    for tile_b in hl.tile(b):
        for tile_t in hl.tile(t, block_size=chunk_size):
            out[tile_b, tile_t.id] = x[tile_b, tile_t].sum(-1)
    return out


def chunk_sums_ref(x, chunk_size):
    b, t = x.shape
    return x.reshape(b, t // chunk_size, chunk_size).sum(-1)


@deuteron.kernel(config={"block_sizes": []})
def sin_blocks(x: torch.Tensor, block_size: int) -> torch.Tensor:
    """sin(x), in tiles of block_size elements (an int argument as block_size=)."""
    out = torch.empty_like(x)
    (a,) = x.shape
    for tile_a in hl.tile(a, block_size=block_size):
        out[tile_a] = torch.sin(x[tile_a])
    return out


@deuteron.kernel
def doubled_in_pairs(x: torch.Tensor, half: int) -> torch.Tensor:
    """x * 2 in tiles of `hl.specialize(half * 2)` elements (an expression of an int argument)."""
    (n,) = x.shape
    width = hl.specialize(half * 2)
    out = torch.empty_like(x)
    for tile in hl.tile(n, block_size=width):
        out[tile] = x[tile] * 2
    return out
