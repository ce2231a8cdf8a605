"""deuteron.experimental.backward on the GPU (compiled Triton): the kernels of
tests/test_autodiff.py on CUDA tensors with shapes that span several programs
and masked edges, against PyTorch's autograd."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_autodiff as A  # noqa: E402
from deuteron.experimental import backward  # noqa: E402


def check(kernel, reference, inputs, tol):
    inputs = [x.cuda() for x in inputs]
    kernel.reset()
    kernel(*[x.clone() for x in inputs])
    outs = reference(*[x.clone() for x in inputs])
    outs = outs if isinstance(outs, tuple) else (outs,)
    grads_out = tuple(torch.randn_like(o) for o in outs)
    got = backward(kernel, grads_out if len(grads_out) > 1 else grads_out[0], *inputs)
    leaves = [x.detach().clone().requires_grad_(True) for x in inputs]
    expect = reference(*leaves)
    torch.autograd.backward(expect if isinstance(expect, tuple) else (expect,), grads_out)
    got = got if isinstance(got, tuple) else (got,)
    for g, leaf in zip(got, leaves):
        torch.testing.assert_close(g, leaf.grad, rtol=tol, atol=tol)


def test_broadcast_inputs_accumulate_over_programs():
    check(A.row_scale, lambda x, w, b: x * w + b[:, None],
          [torch.randn(1000, 96), torch.randn(96), torch.randn(1000)], 1e-4)


def test_softmax():
    check(A.softmax_rows, lambda v: torch.softmax(v, dim=1), [torch.randn(513, 300)], 1e-5)


def test_layer_norm():
    def ref(x, w):
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).mean(-1, keepdim=True)
        r = torch.rsqrt(var + 1e-5)
        return (x - mean) * r * w, r

    check(A.layer_norm, ref, [torch.randn(300, 256), torch.randn(256)], 1e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_single_loop_matmul(dtype):
    tol = 1e-3 if dtype == torch.float32 else 3e-2
    check(A.linear, lambda x, w, b: torch.sigmoid(x.float() @ w.float() + b).to(dtype),
          [torch.randn(200, 64).to(dtype), torch.randn(64, 32).to(dtype), torch.randn(32)], tol)


def test_matmul_with_a_k_loop():
    # tf32 dots on the GPU: a looser tolerance than the CPU's.
    check(A.matmul_k_loop, lambda a, b: torch.tanh(a @ b), [torch.randn(100, 96), torch.randn(96, 72)], 2e-2)


def test_accumulating_loop():
    check(A.row_sums, lambda x: torch.logsumexp(x, -1), [torch.randn(300, 700)], 1e-4)
