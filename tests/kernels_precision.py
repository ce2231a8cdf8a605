"""Kernels of tests/test_precision.py: chains of 16-bit float ops."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel(config={"block_sizes": [1]})
def softmax_chain(x: torch.Tensor) -> torch.Tensor:
    n, _m = x.size()
    out = torch.empty_like(x)
    for tile_n in hl.tile(n):
        values = x[tile_n, :]
        shifted = values - torch.amax(values, dim=1, keepdim=True)
        exp = torch.exp(shifted)
        out[tile_n, :] = exp / torch.sum(exp, dim=1, keepdim=True)
    return out


@deuteron.kernel(config={"block_sizes": [64]})
def arithmetic_chain(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        a = x[tile]
        b = y[tile]
        t = (a * 1.7 + b) * a - b
        # (only tensor divisors: eager multiplies by the reciprocal of a scalar one)
        out[tile] = t / (b * b + 1.0)
    return out


@deuteron.kernel(config={"block_sizes": [64]})
def rounded_by_cast(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty(x.size(), dtype=torch.float32, device=x.device)
    for tile in hl.tile(x.size(0)):
        # The program asks for the fp16 sum as float32: fast mode rounds it too.
        out[tile] = (x[tile] + y[tile]).float() * 3.0
    return out


def arithmetic_chain_eager(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    t = (x * 1.7 + y) * x - y
    return t / (y * y + 1.0)
