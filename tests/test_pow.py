"""x ** y and torch.pow in tiles: PyTorch's meaning for every sign of the base
(a negative base with an integer exponent, a zero exponent), in both CPU modes
(Triton's interpreter has no libdevice, so generated modules carry their own
pow there)."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from conftest import fresh


@deuteron.kernel
def pow_scalar(x: torch.Tensor, y: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = torch.pow(x[tile], y)
    return out


@deuteron.kernel
def pow_tensor(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] ** y[tile]
    return out


@deuteron.kernel
def sum_of_squares(x: torch.Tensor) -> torch.Tensor:
    # Helion's test_arange_reduction_with_synthetic_lanes: pow(2) of negative values.
    out = torch.empty([x.size(0)], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(x.size(0)):
        out[tile_m] = x[tile_m, :].to(torch.float32).pow(2).sum(-1)
    return out


BASES = torch.tensor([-2.5, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])


@pytest.mark.parametrize("y", [2.0, 3.0, 0.0, -1.0, 0.5, 1.5])
def test_pow_of_every_sign_matches_pytorch(mode, y):
    torch.testing.assert_close(fresh(pow_scalar)(BASES, y), torch.pow(BASES, y), equal_nan=True)


def test_pow_with_tensor_exponents_matches_pytorch(mode):
    x = BASES.repeat(4)
    y = torch.tensor([2.0, 3.0, 0.0, -1.0]).repeat_interleave(8)
    torch.testing.assert_close(fresh(pow_tensor)(x, y), x ** y, equal_nan=True)


def test_sum_of_squares_of_negative_values(mode):
    x = torch.randn(64, 128)
    torch.testing.assert_close(fresh(sum_of_squares)(x), x.pow(2).sum(-1), rtol=1e-4, atol=1e-4)
