"""Whole dims identified by their size, on the GPU (compiled Triton) against
PyTorch (tests/kernels_whole_dims.py): w[:, :] of a square w, a transposed
square block, and n-lane whole dims meeting next_power_of_2(n)-lane values."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_whole_dims as K  # noqa: E402


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_se_block_square_weight(dtype):
    torch.manual_seed(0)
    x = torch.randn(1000, 128, device="cuda", dtype=dtype)
    w = (torch.randn(128, 128, device="cuda") / 8).to(dtype)
    K.se_block.reset()
    tol = 1e-2 if dtype == torch.float32 else 3e-2
    torch.testing.assert_close(K.se_block(x, w), K.se_block_ref(x, w), rtol=tol, atol=tol)


@pytest.mark.parametrize("n", [16, 24])
def test_square_transpose(n):
    torch.manual_seed(1)
    a = torch.randn(37, n, n, device="cuda")
    K.square_transpose_add.reset()
    torch.testing.assert_close(K.square_transpose_add(a), K.square_transpose_add_ref(a), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("n", [500, 24])
def test_padded_accumulator(n):
    torch.manual_seed(2)
    x = torch.randn(333, n, device="cuda")
    K.padded_accumulator.reset()
    out, sums = K.padded_accumulator(x)
    eo, es = K.padded_accumulator_ref(x)
    torch.testing.assert_close(out, eo)
    torch.testing.assert_close(sums, es, rtol=1e-4, atol=1e-3)


def test_padded_loop_carry():
    torch.manual_seed(3)
    x = torch.randn(65, 7, 20, device="cuda")
    K.padded_loop_carry.reset()
    torch.testing.assert_close(K.padded_loop_carry(x), K.padded_loop_carry_ref(x), rtol=1e-4, atol=1e-4)


def test_dynamic_sizes_one_dim():
    torch.manual_seed(4)
    K.merge_rows.reset()
    for n in (40, 1000):
        a, b, wa = (torch.randn(300, n, device="cuda"), torch.randn(300, n, device="cuda"),
                    torch.rand(300, device="cuda"))
        torch.testing.assert_close(K.merge_rows(a, b, wa), K.merge_rows_ref(a, b, wa))


def test_two_bounded_slices_of_one_length():
    torch.manual_seed(5)
    a = torch.randn(100, 8, 8, device="cuda")
    K.corner_blocks.reset()
    torch.testing.assert_close(K.corner_blocks(a), K.corner_blocks_ref(a))


@pytest.mark.parametrize("rows", [3, 8, 100])
def test_one_block_tile_meets_whole_dim(rows):
    torch.manual_seed(6)
    x = torch.randn(rows, 1000, device="cuda")
    bias = torch.randn(rows, 1000, device="cuda")
    K.one_block_rows.reset()
    got = K.one_block_rows(x, bias, 1 << (rows - 1).bit_length())
    torch.testing.assert_close(got, K.one_block_rows_ref(x, bias))
