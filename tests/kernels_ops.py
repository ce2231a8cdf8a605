"""Kernels used by the torch.compile / export / autograd tests."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel(config=deuteron.Config(block_sizes=[32]))
def scale_add(x: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * alpha + y[tile]
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[4]))
def row_softmax(x: torch.Tensor) -> torch.Tensor:
    n, _ = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        out[tile, :] = torch.softmax(x[tile, :], dim=-1)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16]))
def add_into(out: torch.Tensor, x: torch.Tensor) -> None:
    for tile in hl.tile(x.size(0)):
        out[tile] = out[tile] + x[tile]


@deuteron.kernel(config=deuteron.Config(block_sizes=[32]))
def mul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * y[tile]
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[32]))
def square(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * x[tile]
    return out


def _square_setup(ctx, inputs, output):
    (x,) = inputs
    ctx.save_for_backward(x)


def _square_backward(ctx, grad):
    (x,) = ctx.saved_tensors
    return mul(grad, x * 2)  # the backward is another deuteron kernel


square.register_autograd(_square_backward, setup_context=_square_setup)


class Model(torch.nn.Module):
    def forward(self, x, y):
        z = scale_add(x, y, 2.0)
        return row_softmax(z.view(8, -1)).view(-1) + 1


@deuteron.kernel(config=deuteron.Config(block_sizes=[32]), static_shapes=False)
def scale_dynamic(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """Compiled once for all sizes (static_shapes=False): traces with symbolic sizes."""
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * alpha
    return out
