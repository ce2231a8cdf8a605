"""NaN in max/min reductions and their indices on the GPU (compiled Triton):
the NaN-aware tl.reduce combine functions, persistent and rolled, against
PyTorch (tests/test_nan.py checks the interpreted forms on the CPU)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_nan as K  # noqa: E402
from test_nan import CONFIGS, check, expected, nan_rows  # noqa: E402

import deuteron  # noqa: E402


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
@pytest.mark.parametrize("config", range(len(CONFIGS)))
def test_max_min_and_indices_propagate_nan(dtype, config):
    x = nan_rows(37, dtype).cuda()
    K.row_max_min.reset()
    fn = K.row_max_min.bind((x,)).compile_config(CONFIGS[config])
    check(fn(x), expected(x))


@pytest.mark.parametrize("n", [1000, 4096])
@pytest.mark.parametrize("loops", [None, 256])
def test_long_rows(n, loops):
    # NaN scattered over long rows, several warps per row, rolled and not.
    g = torch.Generator().manual_seed(2)
    x = torch.randn(64, n, generator=g)
    rows = torch.arange(0, 64, 3)
    x[rows, torch.randint(0, n, (len(rows),), generator=g)] = float("nan")
    x[5, :] = float("nan")
    x = x.cuda()
    K.row_max_min.reset()
    cfg = deuteron.Config(block_sizes=[2], reduction_loops=[loops], num_warps=8)
    check(K.row_max_min.bind((x,)).compile_config(cfg)(x), expected(x))


def test_elementwise_maximum_minimum():
    nan, inf = float("nan"), float("inf")
    x = torch.tensor([nan, 1.0, nan, -inf, inf, 2.0, nan, 3.0], device="cuda")
    y = torch.tensor([1.0, nan, nan, nan, -inf, 3.0, inf, -3.0], device="cuda")
    K.elementwise_max_min.reset()
    hi, lo = K.elementwise_max_min(x, y)
    torch.testing.assert_close(hi, torch.maximum(x, y), equal_nan=True)
    torch.testing.assert_close(lo, torch.minimum(x, y), equal_nan=True)
