"""Kernels over jagged (ragged) inner dimensions with hl.jagged_tile, shared by
tests/test_jagged_tile.py (both CPU modes) and tests/gpu/test_jagged_gpu.py,
with their PyTorch references."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel
def padded_row_max(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Max of x[i, :lengths[i]] (rows of x padded to a common width): the
    lanes past a row's end must be the max's identity, not the load's 0."""
    b = x.size(0)
    out = torch.empty([b], dtype=x.dtype, device=x.device)
    for tile_b in hl.tile(b):
        ends = lengths[tile_b]
        best = hl.full([tile_b], float("-inf"), dtype=x.dtype)
        for tile_k in hl.jagged_tile(ends):
            best = torch.maximum(best, (x[tile_b, tile_k] * 2 - 1).amax(dim=1))
        out[tile_b] = best
    return out


def padded_row_max_ref(x, lengths):
    return torch.stack([(x[i, : int(n)] * 2 - 1).amax() for i, n in enumerate(lengths.tolist())])


@deuteron.kernel
def packed_scale(values: torch.Tensor, offsets: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Packed rows values[offsets[i]:offsets[i+1]] times scale[i], written in
    place of a copy: a store over the jagged tile writes only each row's lanes."""
    b = offsets.size(0) - 1
    out = torch.full_like(values, -7.0)
    for tile_b in hl.tile(b):
        starts = offsets[tile_b]
        counts = offsets[tile_b.index + 1] - starts
        s = scale[tile_b]
        for tile_k in hl.jagged_tile(counts):
            idx = starts[:, None] + tile_k.index[None, :]
            out[idx] = values[idx] * s[:, None]
    return out


def packed_scale_ref(values, offsets, scale):
    out = torch.full_like(values, -7.0)
    for i in range(offsets.numel() - 1):
        s, e = int(offsets[i]), int(offsets[i + 1])
        out[s:e] = values[s:e] * scale[i]
    return out


@deuteron.kernel
def grid_of_ragged_means(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean over x[i, j, :lengths[i, j]]: a jagged tile under a 2-D parent."""
    b1, b2 = lengths.size()
    out = torch.zeros([b1, b2], dtype=torch.float32, device=x.device)
    for tile_i, tile_j in hl.tile([b1, b2]):
        n = lengths[tile_i, tile_j]
        acc = hl.zeros([tile_i, tile_j], dtype=torch.float32)
        for tile_k in hl.jagged_tile(n):
            acc += x[tile_i, tile_j, tile_k].float().sum(dim=-1)
        out[tile_i, tile_j] = acc / torch.clamp(n, min=1).float()
    return out


def grid_of_ragged_means_ref(x, lengths):
    out = torch.zeros(lengths.shape, dtype=torch.float32)
    for i in range(lengths.size(0)):
        for j in range(lengths.size(1)):
            n = int(lengths[i, j])
            if n:
                out[i, j] = x[i, j, :n].float().mean()
    return out


@deuteron.kernel
def nested_ragged_sums(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """out[b, m] = x[b, :rows[b], m].sum() for m < cols[b]: two jagged tiles of one parent."""
    b = x.size(0)
    out = torch.full([b, x.size(2)], -1.0, dtype=x.dtype, device=x.device)
    for tile_b in hl.tile(b):
        r = rows[tile_b]
        c = cols[tile_b]
        for tile_m in hl.jagged_tile(c):
            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(r):
                acc += (x[tile_b, tile_k, tile_m] + 0.5).sum(dim=1)
            out[tile_b, tile_m] = acc.to(x.dtype)
    return out


def nested_ragged_sums_ref(x, rows, cols):
    out = torch.full([x.size(0), x.size(2)], -1.0, dtype=x.dtype)
    for i in range(x.size(0)):
        r, c = int(rows[i]), int(cols[i])
        out[i, :c] = (x[i, :r, :c] + 0.5).sum(0)
    return out


@deuteron.kernel
def ragged_batched_matmul(a: torch.Tensor, w: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """out[b] = (a[b, :, :lengths[b]] + 1) @ w[b, :lengths[b], :]: a matmul
    contracting a jagged tile (the lanes past a row's end add nothing)."""
    nb, m, _ = a.size()
    n = w.size(2)
    out = torch.empty([nb, m, n], dtype=torch.float32, device=a.device)
    for tile_b, tile_m, tile_n in hl.tile([nb, m, n]):
        ends = lengths[tile_b]
        acc = hl.zeros([tile_b, tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.jagged_tile(ends):
            acc = torch.baddbmm(acc, a[tile_b, tile_m, tile_k] + 1, w[tile_b, tile_k, tile_n])
        out[tile_b, tile_m, tile_n] = acc
    return out


def ragged_batched_matmul_ref(a, w, lengths):
    outs = []
    for i, k in enumerate(lengths.tolist()):
        outs.append((a[i, :, :k].float() + 1) @ w[i, :k, :].float())
    return torch.stack(outs)


@deuteron.kernel
def packed_prefix_add(x: torch.Tensor, offsets: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """out = y plus, on each row's first offsets[i+1] - offsets[i] columns, that
    row's packed values: a tile loop up to the tile's longest row (its end a
    device value, hl.tile(0, longest)), then one over the rest of the row."""
    out = torch.empty_like(y)
    for tile_r in hl.tile(y.size(0)):
        first = offsets[tile_r]
        count = offsets[tile_r.index + 1] - first
        longest = count.amax()
        for tile_c in hl.tile(0, longest):
            packed = hl.load(x, [first[:, None] + tile_c.index[None, :]],
                             extra_mask=tile_c.index[None, :] < count[:, None])
            out[tile_r, tile_c] = y[tile_r, tile_c] + packed
        for tile_c in hl.tile(longest, y.size(1)):
            out[tile_r, tile_c] = y[tile_r, tile_c]
    return out


def packed_prefix_add_ref(x, offsets, y):
    out = y.clone()
    for i in range(y.size(0)):
        a, b = int(offsets[i]), int(offsets[i + 1])
        out[i, : b - a] += x[a:b]
    return out
