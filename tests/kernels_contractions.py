"""Kernels whose dots contract over a whole dim (`x[tile, :] @ w[:, tile]`), for
tests/test_contraction_rolling.py: a reduction_loops entry rolls such a
contraction into a loop over chunks (passes/contraction_rolling.cc)."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel(static_shapes=True)
def gated_projection(g: torch.Tensor, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    # The squeeze-and-excitation backward's form: an elementwise prologue over
    # [tile_m, :] feeds the product, inside the loop over tile_k.
    m, n = x.size()
    k = a.size(1)
    c = torch.empty([m, k], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        for tile_k in hl.tile(k):
            t = g[tile_m, :] * x[tile_m, :] * (1.0 - x[tile_m, :])
            c[tile_m, tile_k] = torch.relu(t @ a[:, tile_k])
    return c


def gated_projection_ref(g, x, a):
    t = (g.float() * x.float() * (1.0 - x.float())).to(x.dtype)
    return torch.relu(t.float() @ a.float())


@deuteron.kernel(static_shapes=True)
def addmm_steps(x: torch.Tensor, w: torch.Tensor, steps: int) -> torch.Tensor:
    # torch.addmm onto a carried accumulator: the chunks start from it.
    m, n = x.size()
    p = w.size(1)
    out = torch.empty([m, p], dtype=torch.float32, device=x.device)
    for tile_m, tile_p in hl.tile([m, p]):
        acc = hl.zeros([tile_m, tile_p], dtype=torch.float32)
        for _ in range(steps):
            acc = torch.addmm(acc, x[tile_m, :], w[:, tile_p])
        out[tile_m, tile_p] = acc
    return out


def addmm_steps_ref(x, w, steps):
    return steps * (x.float() @ w.float())


@deuteron.kernel(static_shapes=True)
def scaled_in_place(y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    # The product reads y, which the kernel then writes: the contraction stays whole.
    m, n = y.size()
    p = w.size(1)
    out = torch.empty([m, p], dtype=torch.float32, device=y.device)
    for tile_m in hl.tile(m):
        row = y[tile_m, :]
        out[tile_m, :] = row @ w[:, :]
        y[tile_m, :] = row * 2
    return out


@deuteron.kernel(static_shapes=True)
def row_sum_and_projection(x: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # A reduction over the same whole dim the product contracts: one entry rolls both.
    m, n = x.size()
    k = a.size(1)
    sums = torch.empty([m], dtype=torch.float32, device=x.device)
    out = torch.empty([m, k], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        row = x[tile_m, :].to(torch.float32)
        total = row.sum(-1)
        sums[tile_m] = total
        for tile_k in hl.tile(k):
            out[tile_m, tile_k] = (x[tile_m, :] @ a[:, tile_k]) / total[:, None]
    return sums, out


def row_sum_and_projection_ref(x, a):
    total = x.float().sum(-1)
    return total, (x.float() @ a.float()) / total[:, None]


@deuteron.kernel(static_shapes=True)
def projection_into_view(y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    # The product reads y's first columns and the kernel writes a view of the same
    # memory (y's last columns): views of one argument are one memory, so the
    # contraction stays whole.
    m, n2 = y.size()
    n = n2 // 2
    left = y[:, :n]
    right = y[:, n:]
    out = torch.empty([m, w.size(1)], dtype=torch.float32, device=y.device)
    for tile_m in hl.tile(m):
        row = left[tile_m, :]
        out[tile_m, :] = row @ w[:, :]
        right[tile_m, :] = row * 2
    return out
