"""Advanced indexing, torch.gather, argmax without dim and a merged dim stored
into a slice, compiled on the GPU against PyTorch (kernels of
tests/test_advanced_indexing.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_advanced_indexing as K  # noqa: E402

DTYPES = [torch.float32, torch.float16, torch.bfloat16]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("blocks", [[16, 32], [1, 64], [64, 64]])
def test_index_tensors_broadcast_together(dtype, blocks):
    x = torch.randn(200, 300, device="cuda").to(dtype)
    rows = torch.randint(0, 200, (130, 110), device="cuda")
    cols = torch.randint(0, 300, (110,), device="cuda")
    got = K.run(K.rows_by_cols, (x, rows, cols), blocks)
    torch.testing.assert_close(got, x[rows, cols] + x[:130, :110])


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_the_broadcast_shape_goes(dtype):
    x3 = torch.randn(70, 50, 90, device="cuda").to(dtype)
    a = torch.randint(0, 70, (100, 60), device="cuda")
    b = torch.randint(0, 90, (100, 60), device="cuda")
    torch.testing.assert_close(K.run(K.apart, (x3, a, b), [16, 16]), x3[a, :, b])
    torch.testing.assert_close(K.run(K.scalar_between, (x3, a, b), [16, 32]), x3[a, 2, b])
    x = torch.randn(200, 300, device="cuda").to(dtype)
    a2 = torch.randint(0, 200, (100, 60), device="cuda")
    b2 = torch.randint(0, 300, (100, 60), device="cuda")
    torch.testing.assert_close(K.run(K.none_between, (x, a2, b2), [16, 16]), x[a2, None, b2])


def test_scatter_and_masked_gather():
    rows = torch.randint(0, 200, (130, 110), device="cuda")
    cols = torch.randint(0, 300, (110,), device="cuda")
    v = torch.randn(130, 110, device="cuda")
    want = torch.zeros(200, 300, device="cuda")
    want.index_put_((rows, cols[None, :].expand(130, 110)), v, accumulate=True)
    got = K.run(K.scatter_add, (torch.zeros(200, 300, device="cuda"), rows, cols, v), [16, 32])
    torch.testing.assert_close(got, want)
    x = torch.randn(200, 300, device="cuda")
    rows = torch.randint(-3, 200, (130, 110), device="cuda")
    want = torch.where(rows >= 0, x[rows.clamp(min=0), cols[None, :]], 0.0)
    torch.testing.assert_close(K.run(K.masked_gather, (x, rows, cols), [16, 32]), want)


def test_gathered_rows_in_an_inner_loop():
    col = torch.randint(0, 64, (130, 64), device="cuda")
    val = torch.rand(130, 64, device="cuda")
    b = torch.rand(64, 96, device="cuda")
    want = (val[:, :, None] * b[col]).sum(1)
    torch.testing.assert_close(K.run(K.spmm, (col, val, b), [16, 32, 16]), want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("block", [1, 16, 32])
def test_one_tile_on_two_axes_is_its_block(block):
    x = torch.randn(100, 100, device="cuda")
    want = torch.zeros_like(x)
    for s in range(0, 100, block):
        want[s:s + block, s:s + block] = x[s:s + block, s:s + block] * 2
    torch.testing.assert_close(K.run(K.diagonal_blocks, (x,), [block]), want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_along_either_dim(dtype):
    x = torch.randn(130, 64, device="cuda").to(dtype)
    idx = torch.randint(0, 64, (130, 70), device="cuda")
    torch.testing.assert_close(K.run(K.gather_cols, (x, idx), [16, 32]), torch.gather(x, 1, idx))
    idx0 = torch.randint(0, 130, (70, 64), device="cuda")
    torch.testing.assert_close(K.run(K.gather_rows, (x, idx0), [16, 32]), torch.gather(x, 0, idx0) * 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_argmax_without_dim(dtype):
    x = torch.randn(100, 130, device="cuda").to(dtype)
    x[3, 5] = x[3, 9] = float("nan")
    x[70, 2] = x[70, 11] = 100.0
    bm, bn = 32, 64
    gm, gn = -(-100 // bm), -(-130 // bn)
    got = K.run(K.block_arg_extremes, (x, torch.zeros(gm, gn, 2, dtype=torch.int64, device="cuda")), [bm, bn])
    for i in range(gm):
        for j in range(gn):
            blk = x[i * bm:(i + 1) * bm, j * bn:(j + 1) * bn]
            assert got[i, j, 0].item() == torch.argmax(blk).item(), (i, j)
            assert got[i, j, 1].item() == torch.argmin(blk).item(), (i, j)


@pytest.mark.parametrize("dtype", DTYPES)
def test_stacked_rows_store_into_a_slice_of_twice_the_block(dtype):
    a = torch.randn(256, 128, device="cuda").to(dtype)
    b = torch.randn(256, 128, device="cuda").to(dtype)
    want = torch.zeros(512, 128, dtype=dtype, device="cuda")
    want[0::2], want[1::2] = a, b
    torch.testing.assert_close(K.run(K.interleave, (a, b), [32, 64]), want)
