"""NaN in max/min reductions (amax, amin, torch.max/min with dim, argmax,
argmin) and in elementwise maximum/minimum: the results must be PyTorch's.

PyTorch returns NaN for a row holding a NaN and, for the index, the position
of the first NaN.  Triton's tl.max/tl.argmax ignore NaN, so the generated code
reduces floats through NaN-aware helpers, and a rolled reduction
(reduction_loops) accumulates with a NaN-aware comparison.  Rows put NaN
first, last, in several places and everywhere, among infinities, in every
chunk of a rolled loop and in the padded last block (37 columns)."""

from __future__ import annotations

import math

import pytest
import torch

import deuteron
import kernels_nan as K
from conftest import fresh

NAN, INF = math.nan, math.inf


def nan_rows(n: int, dtype: torch.dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(13, n, generator=g)
    x[1, 0] = NAN                       # first
    x[2, n - 1] = NAN                   # last (in the padded block, the last chunk)
    x[3, [2, 9, 20, n - 3]] = NAN       # several, in several chunks
    x[4, :] = NAN                       # all
    x[5, :] = torch.tensor([INF, -INF] * (n // 2) + [INF] * (n % 2))
    x[5, 17] = NAN                      # among infinities
    x[6, :] = -INF                      # all -inf: index 0
    x[7, :] = INF
    x[8, 5], x[8, 30] = INF, -INF       # infinities without NaN
    x[9, 11], x[9, 25] = 7.0, 7.0       # ties: the first occurrence
    x[9, 3], x[9, 33] = -7.0, -7.0
    x[10, 8] = NAN                      # NaN in a row whose max comes later
    x[10, 20] = 100.0
    x[11, [0, n - 1]] = NAN
    x[12, 16] = NAN                     # the first lane of a chunk of 16 (rolled)
    return x.to(dtype)


def expected(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    vmax, imax = torch.max(x, dim=1)
    vmin, imin = torch.min(x, dim=1)
    return (torch.amax(x, 1), torch.amin(x, 1), vmax, vmin, imax, imin, torch.argmax(x, 1), torch.argmin(x, 1))


NAMES = ("amax", "amin", "max values", "min values", "max indices", "min indices", "argmax", "argmin")
CONFIGS = [
    deuteron.Config(block_sizes=[4]),                           # persistent row
    deuteron.Config(block_sizes=[4], reduction_loops=[16]),     # rolled, 3 chunks
    deuteron.Config(block_sizes=[2], reduction_loops=[8]),      # rolled, 5 chunks
    deuteron.Config(block_sizes=[1]),                           # 1-D values (unit dims eliminated)
    deuteron.Config(block_sizes=[1], reduction_loops=[16]),
]


def check(got, want):
    for name, g, w in zip(NAMES, got, want):
        assert g.dtype == w.dtype, name
        torch.testing.assert_close(g, w, equal_nan=True, rtol=0, atol=0, msg=lambda m, n=name: f"{n}: {m}")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("config", range(len(CONFIGS)))
def test_max_min_and_indices_propagate_nan(mode, dtype, config):
    x = nan_rows(37, dtype)
    fn = fresh(K.row_max_min).bind((x,)).compile_config(CONFIGS[config])
    check(fn(x), expected(x))


@pytest.mark.parametrize("config", range(len(CONFIGS)))
def test_max_min_integers_unchanged(mode, config):
    x = torch.randint(-5, 5, (13, 37), generator=torch.Generator().manual_seed(1), dtype=torch.int32)
    fn = fresh(K.row_max_min).bind((x,)).compile_config(CONFIGS[config])
    check(fn(x), expected(x))


@pytest.mark.parametrize("config", [deuteron.Config(block_sizes=[4]), deuteron.Config(block_sizes=[4], reduction_loops=[16])])
def test_max_keepdim_used_in_the_loop(mode, config):
    x = nan_rows(64, torch.float32)
    out, idx = fresh(K.row_max_keepdim).bind((x,)).compile_config(config)(x)
    v, i = x.max(dim=-1, keepdim=True)
    torch.testing.assert_close(out, x - v, equal_nan=True)
    torch.testing.assert_close(idx, i)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_elementwise_maximum_minimum_propagate_nan(mode, dtype):
    x = torch.tensor([NAN, 1.0, NAN, -INF, INF, 2.0, NAN, 0.0, -0.0, 3.0], dtype=dtype)
    y = torch.tensor([1.0, NAN, NAN, NAN, -INF, 3.0, INF, -0.0, 0.0, -3.0], dtype=dtype)
    hi, lo = fresh(K.elementwise_max_min)(x, y)
    torch.testing.assert_close(hi, torch.maximum(x, y), equal_nan=True, rtol=0, atol=0)
    torch.testing.assert_close(lo, torch.minimum(x, y), equal_nan=True, rtol=0, atol=0)


@pytest.mark.skipif(__import__("os").environ.get("TRITON_INTERPRET", "0") not in ("", "0"),
                    reason="compiles real Triton kernels; run without TRITON_INTERPRET")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_nan_aware_reductions_compile_for_sm90(dtype, monkeypatch):
    # The GPU forms of the helpers (tl.reduce with NaN-aware combine functions)
    # are what the interpreter never runs: Triton must accept them.
    from deuteron.runtime.aot import compile_for_target

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    x = nan_rows(37, dtype)
    bound = fresh(K.row_max_min).bind((x,))
    for cfg in CONFIGS[:3]:
        for launch in compile_for_target(bound, cfg, (x,)):
            assert launch.compiled.asm["cubin"]
