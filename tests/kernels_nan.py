"""Kernels for tests/test_nan.py: max/min reductions, their indices and
elementwise maximum/minimum, whose NaN handling must be PyTorch's."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel
def row_max_min(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    m, _ = x.size()
    amax = torch.empty([m], dtype=x.dtype, device=x.device)
    amin = torch.empty_like(amax)
    vmax = torch.empty_like(amax)
    vmin = torch.empty_like(amax)
    imax = torch.empty([m], dtype=torch.int64, device=x.device)
    imin = torch.empty_like(imax)
    argmax = torch.empty_like(imax)
    argmin = torch.empty_like(imax)
    for tile in hl.tile(m):
        row = x[tile, :]
        amax[tile] = torch.amax(row, dim=1)
        amin[tile] = torch.amin(row, dim=1)
        v, i = torch.max(row, dim=1)
        vmax[tile] = v
        imax[tile] = i
        v, i = torch.min(row, 1)
        vmin[tile] = v
        imin[tile] = i
        argmax[tile] = torch.argmax(row, dim=1)
        argmin[tile] = torch.argmin(row, dim=1)
    return amax, amin, vmax, vmin, imax, imin, argmax, argmin


@deuteron.kernel
def row_max_keepdim(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # keepdim=True and a use of the result in the same loop (softmax's shape).
    out = torch.empty_like(x)
    idx = torch.empty([x.size(0), 1], dtype=torch.int64, device=x.device)
    for tile in hl.tile(x.size(0)):
        row = x[tile, :]
        v, i = row.max(dim=-1, keepdim=True)
        out[tile, :] = row - v
        idx[tile, :] = i
    return out, idx


@deuteron.kernel
def elementwise_max_min(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    hi = torch.empty_like(x)
    lo = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        hi[tile] = torch.maximum(x[tile], y[tile])
        lo[tile] = torch.minimum(x[tile], y[tile])
    return hi, lo
