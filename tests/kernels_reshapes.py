"""Kernels that reshape tile-shaped values inside tile loops: merging
neighbouring dims (tile_m.block_size * tile_n.block_size, flatten, -1) and
splitting a whole dim of constant length (rope's [.., 2, d // 2]), shared by
tests/test_tile_reshapes.py (CPU, both modes) and tests/gpu/test_reshapes_gpu.py."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel(config=deuteron.Config(block_sizes=[8, 16]))
def merge_roundtrip(x: torch.Tensor) -> torch.Tensor:
    # Helion's test_reshape_input_types: every spelling of a merge and its undo.
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        v = x[tile_m, tile_n] * 2
        v = v.reshape(-1, tile_m.block_size * tile_n.block_size)
        v = v.reshape(tile_m.block_size, tile_n.block_size)
        v = v.flatten(0)
        v = v + 1
        v = v.reshape(tile_m, tile_n)
        v = v.view(tile_m.block_size * 2 // 2, tile_n.block_size + 1 - 1)
        out[tile_m, tile_n] = v
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[2, 4, 4]))
def merged_sum(x: torch.Tensor) -> torch.Tensor:
    # Helion's test_reshape_sum: the sum over a merged dim of two tiles.
    out = x.new_empty([x.size(0)])
    for tile0 in hl.tile(x.size(0)):
        acc = hl.zeros([tile0], dtype=x.dtype)
        for tile1, tile2 in hl.tile([x.size(1), x.size(2)]):
            acc += x[tile0, tile1, tile2].reshape(tile0, -1).sum(-1)
        out[tile0] = acc
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4, 8]))
def merged_max(x: torch.Tensor) -> torch.Tensor:
    # A max over a merged dim of partial tiles: the padding lanes of both
    # factors must not count (the inputs are all negative).
    m, n = x.size()
    out = torch.empty([m // 2], dtype=x.dtype, device=x.device)
    for tile_r in hl.tile(m // 2):
        best = hl.full([tile_r], float("-inf"), dtype=x.dtype)
        for tile_n in hl.tile(n):
            pair = x[tile_r.index * 2, tile_n]  # [tile_r, tile_n]
            two = torch.stack([pair, x[tile_r.index * 2 + 1, tile_n]], dim=1)  # [tile_r, 2, tile_n]
            best = torch.maximum(best, torch.amax(two.flatten(1), dim=-1))
        out[tile_r] = best
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def flatten_whole(x: torch.Tensor) -> torch.Tensor:
    # Whole dims of constant length merge into the whole dim of their product.
    n, a, b = x.size()
    out = torch.empty([n, a * b], dtype=x.dtype, device=x.device)
    for tile in hl.tile(n):
        out[tile, :] = x[tile, :, :].flatten(1) * 3
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def rotate_half(x: torch.Tensor) -> torch.Tensor:
    # rope's layout: the head dim split into [2, d // 2], halves swapped and
    # one negated, joined and merged back.
    n, d = x.size()
    half = d // 2
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        pair = x[tile, :].reshape([tile, 2, half]).permute(0, 2, 1)
        lo, hi = hl.split(pair)
        out[tile, :] = hl.join(-hi, lo).permute(0, 2, 1).reshape([tile, d])
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def unflatten_pairs(x: torch.Tensor) -> torch.Tensor:
    # unflatten with -1, then a sum over the inner pieces.
    n, d = x.size()
    out = torch.empty([n, d // 4], dtype=x.dtype, device=x.device)
    for tile in hl.tile(n):
        out[tile, :] = x[tile, :].unflatten(1, (-1, 4)).sum(-1)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[8, 8]))
def merged_outer(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # Arithmetic between two merged values and a broadcast along them.
    m, n = x.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        a = x[tile_m, tile_n].flatten()
        b = torch.reshape(y[tile_m, tile_n], [-1])
        c = (a * b + torch.sigmoid(a)).unflatten(0, (tile_m, tile_n))
        out[tile_m, tile_n] = c
    return out


# ----------------------------------------------------------------- errors


@deuteron.kernel
def split_tile_block(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile].view(tile.block_size // 2, 2)
        out[tile] = v.reshape(tile)
    return out


@deuteron.kernel
def reorder_by_reshape(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(1), x.size(0)], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile(x.size()):
        out[tile_n, tile_m] = x[tile_m, tile_n].reshape(tile_n, tile_m)
    return out


@deuteron.kernel
def padded_inner_split(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = x[tile, :].reshape(tile, 2, 12).reshape(tile, 24)
    return out


@deuteron.kernel(static_shapes=True)
def pair_sums(x: torch.Tensor) -> torch.Tensor:
    # Helion's test_view_blocksize_constexpr_pairsum: a tile's block split
    # as [block // 2, 2] (the extent is a power of two: every block whole),
    # stored through an arange of block // 2.
    n = x.size(0)
    out = x.new_empty(n // 2)
    for tile in hl.tile(n):
        a, b = hl.split(x[tile].view(tile.block_size // 2, 2))
        out[tile.begin // 2 + hl.arange(0, tile.block_size // 2)] = a + b
    return out


@deuteron.kernel(static_shapes=True)
def split_block_roundtrip(x: torch.Tensor) -> torch.Tensor:
    # [block] -> [block // 4, 4] (-1 inferred) -> arithmetic per group of 4 -> back to the tile.
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile].reshape(-1, 4)
        out[tile] = (v * 2 + v.sum(-1, keepdim=True)).reshape(tile)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[2, 8]))
def rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    # Rotary embedding over [batch, heads, seq, head_dim] with the halves of
    # the head dim as a split [2, head_dim // 2] axis.
    b, h, t, d = x.size()
    out = torch.empty_like(x)
    for tile_b, tile_t in hl.tile([b, t]):
        c0, c1 = hl.split(cos[tile_t, :].float().view(tile_t, 2, d // 2).transpose(1, 2))
        s0, s1 = hl.split(sin[tile_t, :].float().view(tile_t, 2, d // 2).transpose(1, 2))
        halves = x[tile_b, :, tile_t, :].float().unflatten(-1, (2, -1)).transpose(-1, -2)
        x0, x1 = hl.split(halves)
        y0 = x0 * c0[None, None, :, :] - x1 * s0[None, None, :, :]
        y1 = x1 * c1[None, None, :, :] + x0 * s1[None, None, :, :]
        out[tile_b, :, tile_t, :] = hl.join(y0, y1).transpose(-1, -2).flatten(-2).to(out.dtype)
    return out


def rotary_reference(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.size(-1) // 2
    x0, x1 = x[..., :half].float(), x[..., half:].float()
    c0, c1, s0, s1 = cos[:, :half], cos[:, half:], sin[:, :half], sin[:, half:]
    return torch.cat([x0 * c0 - x1 * s0, x1 * c1 + x0 * s1], -1).to(x.dtype)


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]))
def packed_nibble_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # a: [M, K]; b: [K // 2, N] int8, two signed 4-bit values per byte (low nibble first).
    m, k = a.shape
    n = b.size(1)
    out = torch.empty([m, n], dtype=torch.float32, device=a.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_kp in hl.tile(k // 2):
            begin = tile_kp.begin * 2
            a_tile = a[tile_m, begin:begin + tile_kp.block_size * 2]
            packed = b[tile_kp, tile_n]
            lo = (packed & 0xF).to(torch.int32)
            lo = torch.where(lo >= 8, lo - 16, lo)
            hi = (packed >> 4).to(torch.int32)
            w = torch.stack([lo.to(a.dtype), hi.to(a.dtype)], dim=1).reshape(tile_kp.block_size * 2, tile_n.block_size)
            # Different dims with 2 * block lanes each: they contract lane by lane.
            acc = hl.dot(a_tile, w, acc=acc)
        out[tile_m, tile_n] = acc
    return out


@deuteron.kernel(static_shapes=True)
def packed_nibble_matmul_by_k(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # The same product tiled over K (Helion's form): the packed rows of a K tile
    # are a slice starting at tile_k.begin // 2 (through a variable), half a
    # block long, unpacked into [block_k // 2, 2, block_n] and merged back to
    # block_k lanes that contract with a[tile_m, tile_k].
    m, k = a.shape
    n = b.size(1)
    block_n = hl.register_block_size(n)
    block_k = hl.register_block_size(k)
    out = torch.empty([m, n], dtype=torch.float32, device=a.device)
    for tile_m in hl.tile(m):
        for tile_n in hl.tile(n, block_size=block_n):
            acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
            for tile_k in hl.tile(k, block_size=block_k):
                start = tile_k.begin
                packed = b[start // 2:start // 2 + block_k // 2, tile_n]
                lo = (packed & 0xF).to(torch.int32)
                lo = torch.where(lo >= 8, lo - 16, lo)
                hi = (packed >> 4).to(torch.int32)
                w = torch.stack([lo.to(a.dtype), hi.to(a.dtype)], dim=2).permute(0, 2, 1).reshape([block_k, block_n])
                acc = hl.dot(a[tile_m, tile_k], w, acc=acc)
            out[tile_m, tile_n] = acc
    return out


def unpack_nibbles(b: torch.Tensor) -> torch.Tensor:
    lo = (b & 0xF).to(torch.int32)
    lo = torch.where(lo >= 8, lo - 16, lo)
    hi = (b >> 4).to(torch.int32)
    return torch.stack([lo, hi], dim=1).reshape(-1, b.size(1))


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]))
def contraction_lanes_differ(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, k = a.shape
    n = b.size(1)
    out = torch.empty([m, n], dtype=torch.float32, device=a.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            a_tile = a[tile_m, tile_k.begin:tile_k.begin + tile_k.block_size * 2]
            acc = hl.dot(a_tile, b[tile_k, tile_n], acc=acc)
        out[tile_m, tile_n] = acc
    return out
