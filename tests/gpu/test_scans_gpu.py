"""Scans and reductions by combine functions on the GPU (compiled Triton),
against PyTorch: cumsum/cumprod, hl.associative_scan with tuples and reverse
over padded dims, hl.reduce with and without `other`, and several configs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_scans as K  # noqa: E402


def close(a, b, tol=1e-5):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


def _scan(fn, xs, dim, reverse=False):
    xs = xs if isinstance(xs, tuple) else (xs,)
    n = xs[0].shape[dim]
    out = [torch.empty_like(x) for x in xs]
    acc = None
    for k in (range(n - 1, -1, -1) if reverse else range(n)):
        cur = tuple(x.select(dim, k) for x in xs)
        acc = cur if acc is None else tuple(fn(*acc, *cur)) if len(xs) > 1 else (fn(acc[0], cur[0]),)
        for o, a in zip(out, acc):
            o.select(dim, k).copy_(a)
    return tuple(out) if len(xs) > 1 else out[0]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32])
def test_cumsum(dtype):
    x = torch.randn(300, 1000, device="cuda").to(dtype) if dtype.is_floating_point else \
        torch.randint(-9, 9, (300, 1000), device="cuda", dtype=dtype)
    expect = torch.cumsum(x.float() if dtype == torch.float16 else x, 1).to(torch.cumsum(x, 1).dtype)
    K.torch_cumsum_rows.reset()
    got = K.torch_cumsum_rows(x, torch.empty_like(expect))
    close(got.float(), expect.float(), 1e-2 if dtype == torch.float16 else 1e-3)


def test_reverse_scans_over_padded_dims():
    x = -torch.rand(64, 1000, device="cuda") * 100 - 1
    K.scan_max_reverse.reset()
    close(K.scan_max_reverse(x), _scan(torch.maximum, x, 1, reverse=True))
    y = torch.randn(64, 37, device="cuda")
    y[y.abs() < 0.7] = 0
    y[:, -1] = 0
    z = -torch.rand(64, 37, device="cuda") - 1
    K.scan_first_nonzero.reset()
    got = K.scan_first_nonzero(y, z)
    close(got[0], _scan(K.first_nonzero, y, 1))
    close(got[1], _scan(K.first_nonzero, y, 1, reverse=True))
    close(got[2], _scan(K.min_abs, z, 1, reverse=True))


@pytest.mark.parametrize("reverse", [False, True])
def test_linear_recurrence(reverse):
    a, b = torch.rand(32, 300, device="cuda") + 0.5, torch.randn(32, 300, device="cuda") * 0.01
    K.recurrence.reset()
    close(K.recurrence(a, b, reverse), _scan(K.affine, (a, b), 1, reverse=reverse)[1], 1e-3)


def test_reductions():
    x = -torch.rand(100, 1000, device="cuda") * 10 - 1
    K.reduce_rows.reset()
    got = K.reduce_rows(x)
    close(got[0], x.sum(1), 1e-3)
    close(got[1], x.amax(1))
    close(got[2], x.abs().amin(1))
    K.reduce_argmax.reset()
    close(K.reduce_argmax(x), x.argmax(1))
    z = torch.rand(100, 3, device="cuda") + 0.5
    K.reduce_prod_other.reset()
    close(K.reduce_prod_other(z), z.prod(1, keepdim=True))


def test_scan_then_reduce_over_the_scanned_dim():
    x = torch.randn(8, 4, 2048, device="cuda")
    K.scan_then_amax.reset()
    close(K.scan_then_amax(x), torch.cumsum(x.double(), 1).amax(1).float(), 1e-3)


@pytest.mark.parametrize("block", [1, 2, 16])
def test_scan_rows_under_configs(block):
    import deuteron

    x = torch.randn(33, 1000, device="cuda")
    bound = K.scan_rows.bind((x,))
    for warps in (1, 4, 8):
        fn = bound.compile_config(deuteron.Config(block_sizes=[block], num_warps=warps))
        close(fn(x), torch.cumsum(x, 1), 1e-3)
