"""The matmul forms of tests/test_matmul_forms.py compiled and run on the GPU
(bf16/fp16 operands, float32 products): positional out_dtype of bmm /
baddbmm / mm / addmm, baddbmm's beta/alpha, a 2-D operand broadcast over a
3-D one's batch, matrix-vector products, hl.dot(acc=, out_dtype=), and
expand() to a tile's block size."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_matmul_forms as F  # noqa: E402


def _randn(*shape, dtype=torch.float16):
    return torch.randn(*shape, device="cuda", dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_bmm_forms_gpu(dtype):
    a, b = _randn(4, 70, 96, dtype=dtype), _randn(4, 96, 50, dtype=dtype)
    expect = torch.bmm(a.float(), b.float())
    F._close(F.fresh(F.bmm_out_dtype)(a, b), expect)
    F._close(F.fresh(F.baddbmm_out_dtype)(a, b), expect)
    c = torch.full((4, 70, 50), float("nan"), device="cuda")
    F._close(F.fresh(F.baddbmm_beta0)(c, a, b), expect)
    w = _randn(96, 50, dtype=dtype)
    F._close(F.fresh(F.matmul_3d_2d)(a, w), torch.matmul(a.float(), w.float()))


def test_mm_vector_and_expand_gpu():
    x, y = _randn(64, 80), _randn(80, 48)
    F._close(F.fresh(F.mm_addmm_out_dtype)(x, y), 2 * (x.float() @ y.float()))
    F._close(F.fresh(F.dot_acc_out_dtype)(x, y), x.float() @ y.float())
    v, u = _randn(80), _randn(64)
    mv, vm = F.fresh(F.matvec)(x, v, u)
    F._close(mv, x.float() @ v.float())
    F._close(vm, u.float() @ x.float())
    xx, vv = _randn(40, 24), _randn(24)
    F._close(F.fresh(F.expand_to_block_size)(xx, vv), xx.float() + 2 * vv.float())


@pytest.mark.parametrize("blocks", [[1, 1, 8], [2, 4, 16], [16, 16, 16]])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_small_matmul_blocks_gpu(blocks, dtype):
    # tl.dot pads M and N under 16; K under 16 is a multiply and a sum.
    k = blocks[2]  # the K tile is a grid dim: one tile of it covers K
    x, w, bias = _randn(40, k, dtype=dtype), _randn(24, k, dtype=dtype), _randn(40, 24, dtype=dtype)
    bound = F.fresh(F.mm_transposed_rhs).bind((x, w, bias))
    out = bound.compile_config(F.deuteron.Config(block_sizes=blocks))(x, w, bias)
    F._close(out, torch.addmm(bias.float(), x.float(), w.float().T))


@pytest.mark.parametrize("k", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_contraction_shorter_than_tl_dot_minimum_gpu(k, dtype):
    # A whole K of 1 or 2 came out 8/K times too large on the H100 (Triton 3.6
    # summing a broadcast product's short K axis); now a sum of outer products.
    x, y = _randn(64, k, dtype=dtype), _randn(k, 32, dtype=dtype)
    F._close(F.fresh(F.outer_k)(x, y), 1.0 + x.float() @ y.float())
    xb, yb = _randn(3, 64, k, dtype=dtype), _randn(3, k, 32, dtype=dtype)
    F._close(F.fresh(F.outer_k_batched)(xb, yb), torch.bmm(xb.float(), yb.float()))
