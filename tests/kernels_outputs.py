"""Kernels whose results are not all fresh tensors (test_torch_outputs.py): a mutated
argument returned, a view of it, one tensor twice, scalars, None, nesting."""

from __future__ import annotations

import math

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel(config=deuteron.Config(block_sizes=[4, 8]))
def add_inplace(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    for tile in hl.tile(x.size()):
        x[tile] = x[tile] + y[tile]
    return x


@deuteron.kernel(config=deuteron.Config(block_sizes=[4, 8]))
def add_into_out(x: torch.Tensor, y: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + y[tile]
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[2, 4, 8]))
def mutate_permuted(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    for tile in hl.tile(x.size()):
        x[tile] = x[tile] + y[tile]
    return x.permute(2, 0, 1)


@deuteron.kernel(config=deuteron.Config(block_sizes=[4, 8]))
def mutate_return_view(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    for tile in hl.tile(x.size()):
        x[tile] = x[tile] + y[tile]
    return x, x.view(-1)


@deuteron.kernel(config=deuteron.Config(block_sizes=[4, 8]))
def mutate_with_out(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        x[tile] = x[tile] + 1
        out[tile] = x[tile] + y[tile]
    return x, out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4, 8]))
def twice(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] * 2.0
    return out, out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4, 8]))
def with_flat_view(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] * 2.0
    return out, out.view(-1)


@deuteron.kernel(config=deuteron.Config(block_sizes=[4, 8]))
def with_scalars(x: torch.Tensor) -> tuple[torch.Tensor, float, int, None]:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] * 2.0
    return out, math.pi, x.size(0), None


@deuteron.kernel(config=deuteron.Config(block_sizes=[4, 8]))
def one_tuple(x: torch.Tensor) -> tuple[torch.Tensor]:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] * 2.0
    return (out,)


@deuteron.kernel(config=deuteron.Config(block_sizes=[4, 8]))
def nested(x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    a = torch.empty_like(x)
    b = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        a[tile] = x[tile] + 1.0
        b[tile] = x[tile] - 1.0
    return a, [b, x]


@deuteron.kernel(config=deuteron.Config(block_sizes=[4, 8]))
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + y[tile]
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4, 8]))
def double_pair(x: torch.Tensor) -> tuple[torch.Tensor, float]:
    """A fresh tensor and a scalar; differentiable (register_autograd below)."""
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] * 2.0
    return out, 0.5


def _double_pair_setup(ctx, inputs, output):
    out, half = output  # the kernel's result, scalar included
    ctx.half = half


def _double_pair_backward(ctx, grad_out, grad_half):
    assert grad_half is None
    return grad_out * (ctx.half * 4.0)  # 2.0


double_pair.register_autograd(_double_pair_backward, setup_context=_double_pair_setup)
