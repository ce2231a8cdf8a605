"""Kernels that take functions as arguments, read global tensors, or write lambdas
(tests/test_callables.py)."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl

GLOBAL_BIAS = torch.arange(64, dtype=torch.float32)
SCALE = 3.0


@deuteron.kernel(config=deuteron.Config(block_sizes=[32]))
def apply(x: torch.Tensor, fn) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = fn(x[tile])
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[32]), static_shapes=False)
def apply_tile(x: torch.Tensor, fn) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = fn(x[tile], tile)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]))
def mm(x: torch.Tensor, y: torch.Tensor, mm_func) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.empty([m, n], dtype=torch.float32, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = mm_func(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]))
def matmul_epilogue(x: torch.Tensor, y: torch.Tensor,
                    epilogue=lambda acc, tile: acc) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.empty([m, n], dtype=torch.float32, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = epilogue(acc, (tile_m, tile_n))
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[32]))
def add_global(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + GLOBAL_BIAS[tile] * SCALE
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[32]))
def inner_lambda(x: torch.Tensor, k: float) -> torch.Tensor:
    out = torch.empty_like(x)
    twice = lambda v, s=2: v * s
    for tile in hl.tile(x.size(0)):
        shift = lambda v: v + k
        out[tile] = shift(twice(x[tile]))
    return out


def double(v):
    return v * 2


def plus_global(v, tile):
    return v + GLOBAL_BIAS[tile]


@deuteron.kernel(config=deuteron.Config(block_sizes=[8]))
def row_max(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = hl.reduce(lambda a, b: torch.maximum(a, b), x[tile_m, :], dim=1)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[8]))
def reduce_with(x: torch.Tensor, combine) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = hl.reduce(combine, x[tile_m, :], dim=1)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16]))
def score_mod_rows(x: torch.Tensor, score_mod) -> torch.Tensor:
    # flex_attention's call: the score and four index tensors; a score_mod may take
    # the ones it reads and gather the rest in `*_`.
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        rows = tile_m.index[:, None]
        cols = tile_n.index[None, :]
        out[tile_m, tile_n] = score_mod(x[tile_m, tile_n], 0, 1, rows, cols)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16]))
def with_keywords(x: torch.Tensor, fn) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = fn(x[tile], 2.0, 3.0, scale=0.5, shift=1.0)
    return out


def gather_rest(score, *idx):
    # A module-level helper with *args: idx is (b, h, rows, cols).
    return score + idx[2] * 0.5 + len(idx)


def keywords_gathered(v, *args, scale, **kw):
    return v * scale + args[1] + kw["shift"]


@deuteron.kernel(config=deuteron.Config(block_sizes=[16]))
def make_with(x: torch.Tensor, factory) -> torch.Tensor:
    # A factory function passed in: it forwards its keywords with **kw.
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        base = factory(x, tile, dtype=torch.float32)
        out[tile] = base + x[tile]
    return out


def forwarding_factory(x, tile, name="zeros", **kw):
    # getattr with a name known when compiling; an f-string of one; ** of the collected keywords.
    return getattr(torch, name)([tile], device=x.device, **kw) + getattr(x, f"new_{name}")([tile], **kw)


def ones_factory(x, tile, **kw):
    return forwarding_factory(x, tile, "ones", **kw)
