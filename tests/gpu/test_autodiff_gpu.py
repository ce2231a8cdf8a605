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


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)  # the tolerances below hold for these inputs, not only on average


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


# Float32 dots: deuteron's default dot_precision is "tf32", as Helion's is (both read
# TRITON_F32_DEFAULT), while PyTorch's reference matmuls are IEEE float32
# (torch.backends.cuda.matmul.allow_tf32 is off).  tf32 keeps 10 mantissa bits, so the
# forward's dot and the backward's dots each differ from the reference by up to ~1e-3
# relative per product, summed over K: the tf32 runs get a tolerance for that.  The
# same shapes under TRITON_INTERPRET=1 (exact float32 dots) agree to 1e-5, and the
# "ieee" runs below (the backward kernels take the forward's dot_precision) check the
# backward kernels tightly on the GPU.
TF32_TOL = {"linear": 1e-2, "matmul_k_loop": 5e-2}


@pytest.fixture
def dot_precision(request):
    """Runs the kernel under test with the dot_precision of the parameter; restores it after."""
    kernel = request.param[0]
    kernel.settings.dot_precision = request.param[1]
    yield request.param[1]
    del kernel.settings.dot_precision


@pytest.mark.parametrize("dot_precision", [(A.linear, "tf32"), (A.linear, "ieee")], indirect=True,
                         ids=["tf32", "ieee"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_single_loop_matmul(dtype, dot_precision):
    if dtype == torch.bfloat16:
        tol = 3e-2
    else:
        tol = TF32_TOL["linear"] if dot_precision == "tf32" else 1e-4
    check(A.linear, lambda x, w, b: torch.sigmoid(x.float() @ w.float() + b).to(dtype),
          [torch.randn(200, 64).to(dtype), torch.randn(64, 32).to(dtype), torch.randn(32)], tol)


@pytest.mark.parametrize("dot_precision", [(A.matmul_k_loop, "tf32"), (A.matmul_k_loop, "ieee")], indirect=True,
                         ids=["tf32", "ieee"])
def test_matmul_with_a_k_loop(dot_precision):
    tol = TF32_TOL["matmul_k_loop"] if dot_precision == "tf32" else 1e-4
    check(A.matmul_k_loop, lambda a, b: torch.tanh(a @ b), [torch.randn(100, 96), torch.randn(96, 72)], tol)


def test_accumulating_loop():
    check(A.row_sums, lambda x: torch.logsumexp(x, -1), [torch.randn(300, 700)], 1e-4)


# Inner loops evaluated whole (cpp/src/autodiff/whole_loops.cc): the forward runs
# blocks of 16 over a dim none divides; the backward holds the whole dim, padded to
# a power of two, in one block, and its compiler masks the padding.
def test_online_softmax_two_loops():
    check(A.online_softmax, lambda x: torch.softmax(x, dim=1), [torch.randn(513, 300)], 1e-5)


def test_running_max():
    check(A.running_max, lambda x: x.amax(-1), [torch.randn(300, 1000)], 1e-5)


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_attention_loop_with_dots(causal):
    # 300 keys: the forward's last key block is partial, the backward's 512 lanes
    # padded.  IEEE dots, so that the tolerance checks the backward, not tf32.
    kernel = A.causal_attention if causal else A.attention

    def reference(q, k, v):
        s = q @ k.transpose(1, 2) * 0.25
        if causal:
            keep = torch.arange(q.size(1), device=q.device)[:, None] >= torch.arange(k.size(1), device=q.device)[None, :]
            s = s.masked_fill(~keep, float("-inf"))
        return torch.softmax(s, -1) @ v

    kernel.settings.dot_precision = "ieee"
    try:
        check(kernel, reference, [torch.randn(2, 200, 16), torch.randn(2, 300, 16), torch.randn(2, 300, 16)], 1e-4)
    finally:
        del kernel.settings.dot_precision
