"""hl.grid(begin, end, step) and range(begin, end, step): outer and inner loops with a step,
in both CPU modes, against the same loops in Python."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel
def outer_step(x: torch.Tensor, begin: int, step: hl.constexpr) -> torch.Tensor:
    (n,) = x.shape
    out = torch.zeros_like(x)
    for i in hl.grid(begin, n, step):
        out[i] = x[i] * 2
    return out


@deuteron.kernel
def outer_step_kw_2d(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.zeros_like(x)
    for i, j in hl.grid([1, 0], [m, n], [2, 3]):
        out[i, j] = x[i, j] + i * 100 + j
    return out


@deuteron.kernel
def inner_range_step(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.shape
    out = torch.zeros_like(x)
    for tile in hl.tile(n):
        acc = hl.zeros([tile], dtype=torch.float32)
        for k in range(1, 10, 2):
            acc = acc + x[tile].float() / k
        out[tile] = acc.to(x.dtype)
    return out


@deuteron.kernel
def inner_grid_step_end_only(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.zeros([m], dtype=x.dtype, device=x.device)
    for tile in hl.tile(m):
        acc = hl.zeros([tile], dtype=torch.float32)
        for j in hl.grid(n, step=4):  # every 4th column
            acc = acc + x[tile, j].float()
        out[tile] = acc.to(x.dtype)
    return out


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("n,begin,step", [(16, 0, 2), (17, 3, 5), (7, 0, 7)])
def test_outer_grid_with_a_step(mode, dtype, n, begin, step):
    x = torch.randn(n, dtype=dtype)
    expect = torch.zeros_like(x)
    for i in range(begin, n, step):
        expect[i] = x[i] * 2
    torch.testing.assert_close(fresh(outer_step)(x, begin, step), expect)


def test_outer_grid_2d_with_steps(mode):
    x = torch.randn(9, 8)
    expect = torch.zeros_like(x)
    for i in range(1, 9, 2):
        for j in range(0, 8, 3):
            expect[i, j] = x[i, j] + i * 100 + j
    torch.testing.assert_close(fresh(outer_step_kw_2d)(x), expect)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float16, 2e-3)])
def test_inner_range_with_a_step(mode, dtype, tol):
    x = torch.randn(37, dtype=dtype)
    expect = (x.float() * sum(1.0 / k for k in range(1, 10, 2))).to(dtype)
    torch.testing.assert_close(fresh(inner_range_step)(x), expect, atol=tol, rtol=tol)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float16, 2e-3)])
def test_inner_grid_with_a_step_keyword(mode, dtype, tol):
    x = torch.randn(5, 18, dtype=dtype)
    expect = x[:, ::4].float().sum(-1).to(dtype)
    torch.testing.assert_close(fresh(inner_grid_step_end_only)(x), expect, atol=tol, rtol=tol)


@deuteron.kernel
def zero_step(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for i in hl.grid(0, x.size(0), 0):
        out[i] = x[i]
    return out


def test_a_step_must_be_positive(mode):
    with pytest.raises(exc.CompileError, match="positive step"):
        fresh(zero_step)(torch.randn(4))
