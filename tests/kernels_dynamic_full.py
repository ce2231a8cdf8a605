"""Whole-dim slices (`x[tile, :]`) over a dim whose size is only known at run
time (static_shapes=False): shared by tests/test_dynamic_full_dims.py (both CPU
modes) and tests/gpu/test_dynamic_full_dims_gpu.py."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel(static_shapes=False)
def scale_rows(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tm in hl.tile(x.size(0)):
        out[tm, :] = x[tm, :] * 2.0
    return out


def scale_rows_ref(x):
    return x * 2.0


@deuteron.kernel(static_shapes=False)
def row_sums(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=torch.float32, device=x.device)
    for tm in hl.tile(x.size(0)):
        out[tm] = x[tm, :].to(torch.float32).sum(-1)
    return out


def row_sums_ref(x):
    return x.float().sum(-1)


@deuteron.kernel(static_shapes=False)
def softmax_rows(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tm in hl.tile(x.size(0)):
        row = x[tm, :].to(torch.float32)
        m = torch.amax(row, dim=-1, keepdim=True)
        e = torch.exp(row - m)
        out[tm, :] = (e / e.sum(-1, keepdim=True)).to(x.dtype)
    return out


def softmax_rows_ref(x):
    return torch.softmax(x.float(), dim=-1).to(x.dtype)


@deuteron.kernel(static_shapes=False)
def rows_summed_in_inner_loop(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=torch.float32, device=x.device)
    for tm in hl.tile(x.size(0)):
        acc = hl.zeros([tm], dtype=torch.float32)
        for _ in hl.grid(2):
            acc = acc + x[tm, :].sum(-1)
        out[tm] = acc
    return out


def rows_summed_in_inner_loop_ref(x):
    return 2 * x.float().sum(-1)


@deuteron.kernel(static_shapes=False)
def first_n_summed_in_inner_loop(x: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=torch.float32, device=x.device)
    for tm in hl.tile(x.size(0)):
        acc = hl.zeros([tm], dtype=torch.float32)
        for _ in hl.grid(2):
            acc = acc + x[tm, :n].sum(-1)
        out[tm] = acc
    return out


def first_n_summed_in_inner_loop_ref(x, n):
    return 2 * x[:, :n].float().sum(-1)


@deuteron.kernel(static_shapes=False)
def first_item_summed_in_inner_loop(x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    m = n.item()
    out = torch.empty([x.size(0)], dtype=torch.float32, device=x.device)
    for tm in hl.tile(x.size(0)):
        acc = hl.zeros([tm], dtype=torch.float32)
        for _ in hl.grid(2):
            acc = acc + x[tm, :m].sum(-1)
        out[tm] = acc
    return out


@deuteron.kernel(static_shapes=False)
def norms_by_grid_branch(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # Helion's branch-by-grid pattern: whole dims of hl.specialize'd size under an `if`.
    scaled = torch.empty_like(x, dtype=torch.float32)
    peak = torch.empty_like(x, dtype=torch.float32)
    d = hl.specialize(x.size(1))
    for pid, row in hl.grid([2, x.size(0)]):
        if pid == 0:
            offsets = hl.arange(0, d)
            vals = x[row, offsets].to(torch.float32)
            scaled[row, offsets] = vals / torch.sum(vals * vals, dim=-1, keepdim=True)
        else:
            offsets = hl.arange(0, d)
            vals = x[row, offsets].to(torch.float32)
            peak[row, offsets] = vals / torch.amax(torch.abs(vals), dim=-1, keepdim=True)
    return scaled, peak


def norms_by_grid_branch_ref(x):
    v = x.float()
    return v / (v * v).sum(-1, keepdim=True), v / v.abs().amax(-1, keepdim=True)
