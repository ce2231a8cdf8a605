"""Registered block sizes used as dims before (or without) the tile loop that
tiles with them, on the GPU (compiled Triton) against PyTorch, under several
configs (tests/kernels_block_dims.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import deuteron

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_block_dims as K  # noqa: E402


def close(a, b, tol=1e-4):
    torch.testing.assert_close(a.cpu(), b.cpu(), atol=tol, rtol=tol)


def run(kernel, args, block_sizes):
    kernel.reset()
    if block_sizes is None:
        return kernel(*args)
    return kernel.bind(args).compile_config(deuteron.Config(block_sizes=block_sizes))(*args)


@pytest.mark.parametrize("block_sizes", [None, [64, 4], [1024, 16], [128, 64]])
def test_lane_accumulated_row_sum(block_sizes):
    torch.manual_seed(0)
    x = torch.randn(1000, 3001, device="cuda")
    close(run(K.lane_accumulated_row_sum, (x,), block_sizes), K.lane_accumulated_row_sum_ref(x), tol=1e-3)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_lane_accumulated_row_sum_low_precision(dtype):
    torch.manual_seed(1)
    x = torch.randn(300, 777, device="cuda", dtype=dtype)
    close(run(K.lane_accumulated_row_sum, (x,), [128, 8]), K.lane_accumulated_row_sum_ref(x), tol=5e-2)


@pytest.mark.parametrize("block_sizes", [None, [256, 8], [64, 32]])
def test_partial_tiles_add_nothing(block_sizes):
    torch.manual_seed(2)
    x = torch.randn(513, 1000, device="cuda")
    close(run(K.lane_accumulated_shifted_sum, (x, 1.5), block_sizes),
          K.lane_accumulated_shifted_sum_ref(x, 1.5), tol=1e-2)


@pytest.mark.parametrize("block_sizes", [None, [16, 128]])
def test_window_sum(block_sizes):
    torch.manual_seed(3)
    x = torch.randn(100, 600, device="cuda")
    close(run(K.lane_accumulated_window_sum, (x, 37, 555), block_sizes),
          K.lane_accumulated_window_sum_ref(x, 37, 555), tol=1e-3)


@pytest.mark.parametrize("block_sizes", [None, [512, 4], [128, 32]])
def test_kl_div_form(block_sizes):
    torch.manual_seed(4)
    y_pred = torch.randn(100, 3000, device="cuda").log_softmax(-1)
    y_true = torch.randn(100, 3000, device="cuda").softmax(-1)
    loss, per = run(K.two_block_loss, (y_pred, y_true), block_sizes)
    ref_loss, ref_per = K.two_block_loss_ref(y_pred, y_true)
    close(loss, ref_loss, tol=1e-3)
    close(per, ref_per)


@pytest.mark.parametrize("block_sizes", [None, [16, 32, 16], [64, 64, 32]])
def test_untiled_block_matmul(block_sizes):
    torch.manual_seed(5)
    a = torch.randn(300, 200, device="cuda")
    b = torch.randn(200, 150, device="cuda")
    close(run(K.untiled_block_matmul, (a, b), block_sizes), K.untiled_block_matmul_ref(a, b), tol=5e-2)


@pytest.mark.parametrize("block_sizes", [None, [32]])
def test_fixed_block_rows(block_sizes):
    torch.manual_seed(6)
    x = torch.randn(200, 999, device="cuda")
    close(run(K.fixed_block_rows, (x,), block_sizes), K.fixed_block_rows_ref(x), tol=1e-3)


def test_lanes_after_the_loop():
    torch.manual_seed(7)
    x = torch.randn(77, 500, device="cuda")
    # block_sizes[0] is block_n (registered before the tile loop over m), [1] tile_m.
    close(run(K.lanes_after_the_loop, (x,), [64, 16]), K.lanes_after_the_loop_ref(x, 64), tol=1e-3)


@pytest.mark.parametrize("block_sizes", [None, [32, 64], [64, 16]])
def test_matmul_accumulator_over_lanes(block_sizes):
    torch.manual_seed(8)
    a = torch.randn(1000, 64, device="cuda")
    b = torch.randn(64, 300, device="cuda")
    close(run(K.lane_rows_matmul_colsum, (a, b), block_sizes), K.lane_rows_matmul_colsum_ref(a, b), tol=0.5)


def test_untiled_block_matmul_inner_grid():
    torch.manual_seed(9)
    a = torch.randn(200, 96, device="cuda")
    b = torch.randn(96, 130, device="cuda")
    close(run(K.untiled_block_matmul_inner_grid, (a, b), [32, 32, 32]), K.untiled_block_matmul_ref(a, b), tol=5e-2)
