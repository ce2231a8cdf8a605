"""torch.stack and the view functions (torch.unsqueeze, torch.reshape, ...) inside tile
loops, and the order of decorators around @kernel.

The stack kernels run in both CPU modes (the reference module and Triton's
interpreter) against torch.stack on the whole tensors, in float32 and float16.
"""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel(static_shapes=True)
def stack_mid(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    m, n = a.shape
    out = torch.empty(m, 3, n, dtype=a.dtype, device=a.device)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, :, tile_n] = torch.stack([a[tile_m, tile_n], b[tile_m, tile_n], c[tile_m, tile_n]], dim=1)
    return out


@deuteron.kernel(static_shapes=True)
def stack_first_then_reduce(a: torch.Tensor, b: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    # dim=0 in front, then a reduction over the stacked axis: out = w[0]*a + w[1]*b
    (n,) = a.shape
    out = torch.empty(n, dtype=a.dtype, device=a.device)
    for tile in hl.tile(n):
        s = torch.stack((a[tile], b[tile]))  # [2, tile]
        out[tile] = (s.float() * w[:, None]).sum(0).to(a.dtype)
    return out


@deuteron.kernel(static_shapes=True)
def stack_last_promotes(a: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
    # an int and a float tensor: the result is float (torch's promotion); dim=-1
    (n,) = a.shape
    out = torch.empty(n, 2, dtype=torch.promote_types(a.dtype, i.dtype), device=a.device)
    for tile in hl.tile(n):
        out[tile, :] = torch.stack([a[tile], i[tile]], dim=-1)
    return out


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_stack_in_the_middle_non_power_of_2(mode, dtype):
    a, b, c = (torch.randn(65, 129, dtype=dtype) for _ in range(3))
    torch.testing.assert_close(fresh(stack_mid)(a, b, c), torch.stack([a, b, c], dim=1))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_stack_in_front_then_reduce_over_it(mode, dtype):
    a, b = torch.randn(100, dtype=dtype), torch.randn(100, dtype=dtype)
    expect = (a.float() * 2 + b.float() * 3).to(dtype)
    w = torch.tensor([2.0, 3.0])
    torch.testing.assert_close(fresh(stack_first_then_reduce)(a, b, w), expect, atol=2e-3, rtol=2e-3)


def test_stack_last_promotes(mode):
    a = torch.randn(37)
    i = torch.randint(-5, 5, (37,), dtype=torch.int32)
    out = fresh(stack_last_promotes)(a, i)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, torch.stack([a, i.float()], dim=-1))


@deuteron.kernel(static_shapes=True)
def stack_unequal(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, n = a.shape
    out = torch.empty(m, 2, n, dtype=a.dtype, device=a.device)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, :, tile_n] = torch.stack([a[tile_m, tile_n], b[tile_m, :]], dim=1)
    return out


def test_stack_of_unequal_shapes_is_a_shape_mismatch(mode):
    with pytest.raises(exc.ShapeMismatch, match="one shape"):
        fresh(stack_unequal)(torch.randn(4, 8), torch.randn(4, 8))


@deuteron.kernel
def softmax_view_functions(x: torch.Tensor) -> torch.Tensor:
    n, _m = x.size()
    out = torch.empty_like(x)
    for tile_n in hl.tile(n):
        values = x[tile_n, :]
        amax = torch.unsqueeze(torch.amax(values, dim=1), -1)
        exp = torch.exp(values - amax)
        sum_exp = torch.reshape(torch.sum(exp, dim=1), [tile_n, 1])
        out[tile_n, :] = torch.squeeze(torch.transpose(torch.unsqueeze(exp / sum_exp, 0), 0, 1), 1)
    return out


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float16, 2e-3)])
def test_view_functions_of_torch(mode, dtype, tol):
    x = torch.randn(33, 70, dtype=dtype)
    expect = torch.softmax(x.float(), dim=1).to(dtype)
    torch.testing.assert_close(fresh(softmax_view_functions)(x), expect, atol=tol, rtol=tol)


def _identity(fn):
    return fn


@_identity
@deuteron.kernel
def decorated_above(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + 1
    return out


@deuteron.kernel
@_identity
def decorated_below(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + 1
    return out


def test_a_decorator_above_kernel_is_fine(mode):
    x = torch.randn(8)
    torch.testing.assert_close(decorated_above(x), x + 1)


def test_a_decorator_below_kernel_is_an_error(mode):
    with pytest.raises(exc.DecoratorAfterHelionKernelDecorator,
                       match="Decorators after helion kernel decorator are not allowed") as info:
        decorated_below(torch.randn(8))
    assert info.value.line == decorated_below.fn.__code__.co_firstlineno + 1  # the @_identity line
    assert "@_identity" in str(info.value)
