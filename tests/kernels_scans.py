"""Kernels with scans and reductions by combine functions (tests/test_scans.py, tests/gpu)."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


# ---------------------------------------------------------------- combine functions

def add(a, b):
    return a + b


def mul(a, b):
    return a * b


def maximum(a, b):
    return torch.maximum(a, b)


def first_nonzero(a, b):
    # Associative but with no identity the compiler can see: keeps the left
    # operand unless it is zero.
    return torch.where(a != 0, a, b)


def min_abs(a, b):
    # Commutative and associative, with no identity the compiler can see
    # (0 would be wrong: padding lanes filled with it would win).
    return torch.minimum(a.abs(), b.abs())


def argmax_pair(left, right):
    lv, li = left
    rv, ri = right
    take = (rv > lv) | ((rv == lv) & (ri < li))
    return torch.where(take, rv, lv), torch.where(take, ri, li)


def segmented_add(lv, ls, rv, rs):
    # Sum within a segment (a run of equal ids): resets where the id changes.
    return torch.where(ls == rs, lv + rv, rv), rs


def affine(a1, b1, a2, b2):
    # Composition of x -> a*x + b maps (not commutative): the first-order
    # linear recurrence h_t = a_t * h_{t-1} + b_t.
    return a1 * a2, b1 * a2 + b2


# ---------------------------------------------------------------- kernels

@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def torch_cumsum_rows(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    for tile in hl.tile(x.size(0)):
        out[tile, :] = torch.cumsum(x[tile, :], dim=1)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def method_cumprod_rows(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = x[tile, :].cumprod(1).to(x.dtype)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def hl_cumsum_reverse(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = hl.cumsum(x[tile, :], dim=1, reverse=True)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def hl_cumprod_reverse(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = hl.cumprod(x[tile, :], dim=-1, reverse=True)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[8, 16]))
def cumsum_within_tiles(x: torch.Tensor) -> torch.Tensor:
    # Scans along tile dims run within each block (partial blocks included).
    out = torch.empty_like(x)
    for tm, tn in hl.tile(x.shape):
        out[tm, tn] = torch.cumsum(x[tm, tn], dim=0) + hl.cumsum(x[tm, tn], dim=1, reverse=True)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[2]))
def cumsum_3d_middle(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :, :] = torch.cumsum(x[tile, :, :], dim=1)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def scan_rows(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = hl.associative_scan(add, x[tile, :], dim=1)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def scan_max_reverse(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = hl.associative_scan(maximum, x[tile, :], dim=1, reverse=True)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def scan_first_nonzero(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # Forward and reverse with combines that have no visible identity (a
    # reverse min_abs scan would give 0 everywhere if padding lanes took part).
    fwd = torch.empty_like(x)
    rev = torch.empty_like(x)
    rev_min = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        row = x[tile, :]
        fwd[tile, :] = hl.associative_scan(first_nonzero, row, dim=1)
        rev[tile, :] = hl.associative_scan(first_nonzero, row, dim=1, reverse=True)
        rev_min[tile, :] = hl.associative_scan(min_abs, y[tile, :], dim=1, reverse=True)
    return torch.stack([fwd, rev, rev_min])


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def scan_torch_add_and_hop(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        a = hl.associative_scan(torch.mul, x[tile, :], dim=1)
        b = torch._higher_order_ops.associative_scan(add, x[tile, :], dim=1)
        out[tile, :] = a + b
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def recurrence(a: torch.Tensor, b: torch.Tensor, reverse: hl.constexpr) -> torch.Tensor:
    out = torch.empty_like(b)
    for tile in hl.tile(a.size(0)):
        _, h = hl.associative_scan(affine, (a[tile, :], b[tile, :]), dim=1, reverse=reverse)
        out[tile, :] = h
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[8]))
def segmented_cumsum(values: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(values)
    for tile in hl.tile(values.size(0)):
        v = values[tile, :]
        s = ids[tile].unsqueeze(1).expand_as(v)
        total, _ = torch._higher_order_ops.associative_scan(segmented_add, (v, s), 0)
        out[tile, :] = total
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def reduce_rows(x: torch.Tensor) -> torch.Tensor:
    # Sum (identity 0), max (identity -inf) and a combine without a visible
    # identity, over rows whose length is not a power of two.
    out = torch.empty([3, x.size(0)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        row = x[tile, :]
        out[0, tile] = hl.reduce(add, row, dim=1)
        out[1, tile] = hl.reduce(maximum, row, dim=1)
        out[2, tile] = hl.reduce(min_abs, row, dim=1)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def reduce_prod_other(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), 1], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = hl.reduce(mul, x[tile, :], dim=1, other=1.0, keep_dims=True)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def reduce_argmax(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=torch.int64, device=x.device)
    for tile in hl.tile(x.size(0)):
        v = x[tile, :]
        i = hl.arange(x.size(1)).to(torch.int64)[None, :].expand_as(v)
        _, idx = hl.reduce(argmax_pair, (v, i), dim=1)
        out[tile] = idx
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[8, 16]))
def reduce_tile_dims(x: torch.Tensor) -> torch.Tensor:
    # Over a tile dim (partial blocks), then over everything (dim=None).
    cols = torch.full([x.size(1)], float("-inf"), dtype=x.dtype, device=x.device)
    total = torch.zeros([1], dtype=x.dtype, device=x.device)
    for tm, tn in hl.tile(x.shape):
        block = x[tm, tn]
        hl.atomic_max(cols, [tn], hl.reduce(maximum, block, dim=0))
        hl.atomic_add(total, [0], hl.reduce(add, block))
    return torch.cat([cols, total])


@deuteron.kernel(config=deuteron.Config(block_sizes=[2]))
def reduce_3d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), x.size(2)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = hl.reduce(maximum, x[tile, :, :], dim=1)
    return out


@deuteron.kernel()
def scan_then_amax(x: torch.Tensor) -> torch.Tensor:
    m, _, n = x.shape
    out = torch.empty([m, n], dtype=torch.float32, device=x.device)
    for tile in hl.tile(m):
        c = torch.cumsum(x[tile, :, :].to(torch.float32), dim=1)
        out[tile, :] = c.amax(1)
    return out
