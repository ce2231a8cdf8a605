"""Whole dims (`:`) identified by their size, as Helion reads them: two `:`
of one size on one tensor are two axes (w[:, :] of a square w) that still meet
the other dims of that size, and a `:` of n elements meets a dim of
next_power_of_2(n) lanes (hl.zeros([tile, next_power_of_2(n)])).  Shared by
tests/test_whole_dims.py (CPU modes) and tests/gpu/test_whole_dims_gpu.py."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel
def se_block(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    # x: [m, n], w: [n, n]  ->  2 * x * sigmoid(x @ w)  (examples/se_block.py's form)
    m, n = x.size()
    out = torch.empty_like(x)
    s = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        x_tile = x[tile_m, :]
        s[tile_m, :] = torch.sigmoid(x_tile @ w[:, :]).to(x.dtype)
        out[tile_m, :] = 2.0 * x_tile * s[tile_m, :]
    return out


def se_block_ref(x, w):
    return 2.0 * x * torch.sigmoid((x.float() @ w.float())).to(x.dtype)


@deuteron.kernel
def square_transpose_add(a: torch.Tensor) -> torch.Tensor:
    # a: [b, n, n]  ->  a + a.transpose(1, 2), then rows scaled by their sums
    out = torch.empty_like(a)
    for tb in hl.tile(a.size(0)):
        blk = a[tb, :, :]
        t = blk + blk.transpose(1, 2)
        out[tb, :, :] = t * t.sum(-1, keepdim=True)
    return out


def square_transpose_add_ref(a):
    t = a + a.transpose(1, 2)
    return t * t.sum(-1, keepdim=True)


@deuteron.kernel
def padded_accumulator(x: torch.Tensor) -> torch.Tensor:
    # acc has next_power_of_2(n) lanes; x[tile, :] has n: the padding lanes
    # never reach the row sums nor the store.
    hl.specialize(x.size(1))
    out = torch.empty_like(x)
    sums = torch.empty([x.size(0)], dtype=torch.float32, device=x.device)
    for tile in hl.tile(x.size(0)):
        acc = hl.full([tile, deuteron.next_power_of_2(x.size(1))], 1.0)
        acc = x[tile, :].to(torch.float32) + acc
        sums[tile] = acc.sum(-1)
        out[tile, :] = acc.to(x.dtype)
    return out, sums


def padded_accumulator_ref(x):
    acc = x.float() + 1.0
    return acc.to(x.dtype), acc.sum(-1)


@deuteron.kernel
def padded_loop_carry(x: torch.Tensor) -> torch.Tensor:
    # A loop-carried accumulator of next_power_of_2(n) lanes takes n-lane
    # values: the padding lanes read zero, so the max and sum see only n.
    hl.specialize(x.size(2))
    out = torch.empty([x.size(0), x.size(2)], dtype=torch.float32, device=x.device)
    for tile in hl.tile(x.size(0)):
        acc = hl.zeros([tile, deuteron.next_power_of_2(x.size(2))])
        for j in hl.tile(x.size(1), block_size=1):
            acc = acc + x[tile, j.begin, :].to(torch.float32) + 1.0
        out[tile, :] = acc - acc.sum(-1, keepdim=True) / x.size(2)
    return out


def padded_loop_carry_ref(x):
    acc = (x.float() + 1.0).sum(1)
    return acc - acc.sum(-1, keepdim=True) / x.size(2)


@deuteron.kernel(static_shapes=False)
def merge_rows(a: torch.Tensor, b: torch.Tensor, wa: torch.Tensor) -> torch.Tensor:
    # Dynamic shapes: a's and b's last dims have sizes known only at run time,
    # taken as one (checked equal on each call).
    out = torch.empty_like(a)
    for t in hl.tile(a.size(0)):
        out[t, :] = a[t, :] * wa[t, None] + b[t, :] * (1.0 - wa[t, None])
    return out


def merge_rows_ref(a, b, wa):
    return a * wa[:, None] + b * (1.0 - wa[:, None])


@deuteron.kernel
def corner_blocks(a: torch.Tensor) -> torch.Tensor:
    # a: [b, 8, 8]: the top-right 4x4 block plus the transposed bottom-left one.
    out = torch.empty([a.size(0), 4, 4], dtype=a.dtype, device=a.device)
    for tb in hl.tile(a.size(0)):
        out[tb, :, :] = a[tb, 0:4, 4:8] + a[tb, 4:8, 0:4].transpose(1, 2)
    return out


def corner_blocks_ref(a):
    return a[:, 0:4, 4:8] + a[:, 4:8, 0:4].transpose(1, 2)


@deuteron.kernel
def one_block_rows(x: torch.Tensor, bias: torch.Tensor, rows_block: hl.constexpr) -> torch.Tensor:
    # An inner tile loop over x's rows whose fixed block covers them all at once
    # (rows_block = next_power_of_2(rows)): its tile meets the whole dim `:` of the
    # rows, in a sum with bias[:, tile] and in the store to out[:, tile].
    rows, cols = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(cols):
        for r in hl.tile(rows, block_size=rows_block):
            out[:, tile] = x[r, tile] * 2 + bias[:, tile]
    return out


def one_block_rows_ref(x, bias):
    return x * 2 + bias


@deuteron.kernel(static_shapes=True)
def dot_column_softmax(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    # softmax over the columns of x_tile @ w[:, :]: a reduction over the dot's
    # whole output dim, then a store through another `:` of that size
    m, n = x.size()
    out = torch.empty([m, w.size(1)], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m, :] = torch.softmax(x[tile_m, :] @ w[:, :], dim=-1)
    return out


def dot_column_softmax_ref(x, w):
    return torch.softmax(x.float() @ w.float(), dim=-1)


@deuteron.kernel(static_shapes=True)
def square_copy_scaled(w: torch.Tensor) -> torch.Tensor:
    # stores through both `:` of a square block at once: a chunk of one would
    # pair lane i only with lane i of the other, so nothing rolls
    out = torch.empty_like(w)
    for tb in hl.tile(w.size(0)):
        out[tb, :, :] = w[tb, :, :] * 2.0
    return out


@deuteron.kernel(static_shapes=True)
def state_update(h0: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    # The state's `:` (h0's D) accumulates k.T @ v, whose rows are k's `:` of
    # the same size: hl.dot's acc= meets them (Helion's linear-attention engine).
    n, D, dv = h0.shape
    T = k.size(1)
    out = torch.empty_like(h0)
    for idx, tile_dv in hl.tile([n, dv], block_size=[1, None]):
        h = h0[idx, :, tile_dv].float()
        for t in hl.grid(T):
            k_t = k[idx, t, :, :]  # [C, D]
            v_t = v[idx, t, :, tile_dv]  # [C, tile_dv]
            h = hl.dot(k_t.transpose(-2, -1), v_t, acc=h)
        out[idx, :, tile_dv] = h.to(out.dtype)
    return out


def state_update_ref(h0, k, v):
    h = h0.float().clone()
    for t in range(k.size(1)):
        h = h + k[:, t].float().transpose(-2, -1) @ v[:, t].float()
    return h.to(h0.dtype)
