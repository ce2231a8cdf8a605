"""Pointwise kernels on the CPU, through both interpret modes, checked against PyTorch."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import deuteron
import kernels_pointwise as K
from conftest import fresh


def close(a, b, tol=1e-5):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


@pytest.mark.parametrize("shape,bshape,dtype", [
    ((1000,), (1000,), torch.float32),
    ((64, 200), (200,), torch.float16),
    ((3, 129, 65), (1, 65), torch.float32),
    ((17,), (17,), torch.int32),
])
def test_add_broadcast(mode, shape, bshape, dtype):
    if dtype.is_floating_point:
        x, y = torch.randn(shape, dtype=dtype), torch.randn(bshape, dtype=dtype)
    else:
        x, y = torch.randint(-100, 100, shape, dtype=dtype), torch.randint(-100, 100, bshape, dtype=dtype)
    out = fresh(K.add)(x, y)
    assert out.dtype == (x + y).dtype
    close(out, x + y, 1e-3 if dtype == torch.float16 else 1e-5)


def test_add_mixed_dtypes_promote(mode):
    x = torch.randn(100, dtype=torch.float16)
    y = torch.randn(100, dtype=torch.float32)
    out = fresh(K.add)(x, y)
    assert out.dtype == torch.float32
    close(out, x + y)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float16, 2e-3)])
def test_unary_chain(mode, dtype, tol):
    x = torch.randn(777, dtype=dtype)
    v = x.float()
    expect = (torch.sigmoid(v) + torch.tanh(v) * torch.exp(-v.abs()) - torch.sqrt(v * v + 1) + F.silu(v))
    close(fresh(K.unary_chain)(x).float(), expect, tol * 4)


def test_type_promotion_with_scalars(mode):
    x = torch.randint(-50, 50, (300,), dtype=torch.int32)
    y = torch.randn(300, dtype=torch.float16)
    close(fresh(K.promote)(x, y), (x * 3 + y / 2).float() * 0.5, 1e-3)


def test_compare_where_and_runtime_floats(mode):
    x = torch.randn(513)
    out = fresh(K.compare_where)(x, -0.5, 0.75)
    inside = (x >= -0.5) & (x <= 0.75)
    close(out, torch.where(inside, x, torch.clamp(x, -0.5, 0.75) * 2))


def test_integer_math_matches_python_semantics(mode):
    x = torch.randint(-1000, 1000, (400,), dtype=torch.int64)
    out = fresh(K.int_math)(x, 7)
    close(out, x // 7 + x % 7 * 100 + (x << 1) - (x & 7))


def test_tile_attributes(mode):
    x = torch.randn(37, 45)
    out = fresh(K.tile_ops)(x)
    ramp = torch.arange(37).float()[:, None] * 1000 + torch.arange(45)[None, :]
    close(out, x + ramp + 8)


def test_grid_loop_with_inner_tiles(mode):
    x = torch.randn(9, 300)
    s = torch.randn(9)
    close(fresh(K.rows_times_scale)(x, s), x * s[:, None])


def test_tile_with_begin_and_scalar_index(mode):
    x = torch.randn(200)
    out = fresh(K.shifted)(x, 10)
    bs = K.shifted.bind((x, 10)).config.block_sizes[0]
    expect = torch.zeros_like(x)
    for begin in range(10, 200, bs):
        end = min(begin + bs, 200)
        expect[begin:end] = x[begin:end] - x[begin]
    close(out, expect)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_constexpr_static_range(mode, k):
    x = torch.randn(100, dtype=torch.float32)
    close(fresh(K.powers)(x, k), x**k, 1e-4)


def test_none_views_make_an_outer_product(mode):
    a, b = torch.randn(70), torch.randn(33)
    close(fresh(K.outer)(a, b), a[:, None] * b[None, :])


def test_helper_function_is_inlined(mode):
    x = torch.randn(256)
    close(fresh(K.helper_calls)(x), F.gelu(x, approximate="tanh") + math.pi)


def test_non_contiguous_input(mode):
    x = torch.randn(40, 24).t()  # strides (1, 24)
    close(fresh(K.transposed_copy)(x), x * 1)


def test_hl_load_with_extra_mask(mode):
    x = torch.randn(100)
    out = fresh(K.masked_load)(x)
    prev = torch.cat([torch.zeros(1), x[:-1]])
    close(out, x - prev)


def test_dynamic_shapes_share_one_specialization(mode):
    k = fresh(K.add_dynamic)
    for shape in [(10, 20), (33, 7), (64, 64)]:
        x, y = torch.randn(shape), torch.randn(shape)
        close(k(x, y), x + y)
    assert len(k._bound) == 1  # sizes >= 2 share a key


def test_expanded_scalar_input(mode):
    # The gradient of .sum() is a scalar expanded to the input's shape (stride 0).
    g, x = torch.ones(()).expand(1000), torch.randn(1000)
    close(fresh(K.mul)(g, x), x, 0)


def test_reduction_over_an_expanded_dim(mode):
    # Stride 0 along the reduced dim: each of the 37 rows counts.
    xe = torch.randn(1, 50).expand(37, 50)
    close(fresh(K.col_sum)(xe), xe.sum(0), 1e-4)
