"""A kernel called by another kernel is an error, in host code as in device code (Helion's
NestedKernelCallsNotSupported); a kernel passed as a combine function is still inlined."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel
def double(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = x[tile] * 2
    return out


@deuteron.kernel
def calls_on_device(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = double(x[tile])
    return out


@deuteron.kernel
def calls_on_host(x: torch.Tensor) -> torch.Tensor:
    y = double(x)
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = y[tile] + 1
    return out


@deuteron.kernel
def add_combine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a + b


@deuteron.kernel
def scan_with_kernel_combine(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        out[tile_m, :] = hl.associative_scan(add_combine, x[tile_m, :], dim=1)
    return out


@pytest.mark.parametrize("kernel", [calls_on_device, calls_on_host])
def test_a_kernel_calling_a_kernel_is_an_error(kernel, mode):
    with pytest.raises(exc.NestedKernelCallsNotSupported,
                       match="Calling a Helion kernel from within another Helion kernel is not supported"):
        fresh(kernel)(torch.randn(8))


def test_a_kernel_as_a_combine_function_is_inlined(mode):
    x = torch.randn(4, 16)
    torch.testing.assert_close(fresh(scan_with_kernel_combine)(x), torch.cumsum(x, dim=1), atol=1e-5, rtol=1e-5)
