"""deuteron.experimental.backward in both CPU modes: the gradients of pointwise
kernels (every differentiable unary op, the arithmetic operators, broadcasts,
several inputs and outputs, values stored and loaded back) and of reductions
over whole dims (sum, mean, amax/amin with ties shared as PyTorch shares them,
softmax, layer and RMS norm, keepdim, middle dims, 3-D) against PyTorch's
autograd; the backward is a readable kernel file, cached per bound kernel;
inner loops that accumulate, and inner loops with other carried values (online
softmax, attention) evaluated as one iteration over their whole dim;
what the transform cannot differentiate is an AutodiffNotSupported naming the
op and its line, never a wrong gradient.
"""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from deuteron.experimental import backward
from conftest import fresh


def check(kernel, reference, inputs, extra=(), rtol=1e-5, atol=1e-5):
    """Runs the kernel, its backward, and PyTorch's autograd on the reference; compares.
    ``extra``: the kernel's arguments after the tensors (the reference does not take them)."""
    fresh(kernel)(*[x.clone() for x in inputs], *extra)
    outs = reference(*[x.detach().clone() for x in inputs])
    outs = outs if isinstance(outs, tuple) else (outs,)
    grads_out = tuple(torch.randn(o.shape) for o in outs)
    got, source, triton_code = backward(kernel, grads_out if len(grads_out) > 1 else grads_out[0],
                                        *inputs, *extra, return_code=True)
    leaves = [x.detach().clone().requires_grad_(True) for x in inputs]
    expect = reference(*leaves)
    expect = expect if isinstance(expect, tuple) else (expect,)
    torch.autograd.backward(expect, grads_out)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(leaves)
    for g, leaf in zip(got, leaves):
        torch.testing.assert_close(g, leaf.grad, rtol=rtol, atol=atol)
    assert "def backward_kernel(" in source
    assert "@triton.jit" in triton_code
    return source


# ------------------------------------------------------------------ pointwise

UNARY = {
    "sin": torch.sin, "cos": torch.cos, "exp": torch.exp, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "relu": torch.relu, "abs": torch.abs, "neg": torch.neg, "erf": torch.erf,
    "sinh": torch.sinh, "cosh": torch.cosh, "expm1": torch.expm1,
}
POSITIVE = {"log": torch.log, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "reciprocal": torch.reciprocal,
            "log1p": torch.log1p, "log2": torch.log2}


@deuteron.kernel
def unary(x: torch.Tensor, fn: str) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        v = x[tile]
        if fn == "sin":
            r = torch.sin(v)
        elif fn == "cos":
            r = torch.cos(v)
        elif fn == "exp":
            r = torch.exp(v)
        elif fn == "tanh":
            r = torch.tanh(v)
        elif fn == "sigmoid":
            r = torch.sigmoid(v)
        elif fn == "relu":
            r = torch.relu(v)
        elif fn == "abs":
            r = torch.abs(v)
        elif fn == "neg":
            r = -v
        elif fn == "erf":
            r = torch.erf(v)
        elif fn == "atan":
            r = torch.atan(v)
        elif fn == "sinh":
            r = torch.sinh(v)
        elif fn == "cosh":
            r = torch.cosh(v)
        elif fn == "expm1":
            r = torch.expm1(v)
        elif fn == "log":
            r = torch.log(v)
        elif fn == "sqrt":
            r = torch.sqrt(v)
        elif fn == "rsqrt":
            r = torch.rsqrt(v)
        elif fn == "reciprocal":
            r = torch.reciprocal(v)
        elif fn == "log1p":
            r = torch.log1p(v)
        else:
            r = torch.log2(v)
        out[tile] = r
    return out


@pytest.mark.parametrize("name", sorted(UNARY) + sorted(POSITIVE))
def test_unary(mode, name):
    fn = UNARY.get(name) or POSITIVE[name]
    x = torch.randn(100, 3)
    if name in POSITIVE:
        x = x.abs() + 0.5
    check(unary, lambda t: fn(t), [x], extra=(name,), rtol=1e-4, atol=1e-4)


@deuteron.kernel
def arithmetic(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        a, b, c = x[tile], y[tile], z[tile]
        out[tile] = (a * b - c) / (b * b + 1.0) + a ** 3 - 2.0 * torch.maximum(a, c) + torch.minimum(b, 0.5)
    return out


def test_arithmetic_operators(mode):
    x, y, z = torch.randn(3, 257).unbind(0)
    check(arithmetic, lambda a, b, c: (a * b - c) / (b * b + 1.0) + a ** 3 - 2.0 * torch.maximum(a, c)
          + torch.minimum(b, torch.tensor(0.5)), [x, y, z], rtol=1e-4, atol=1e-4)


@deuteron.kernel
def maximum_ties(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = torch.maximum(x[tile], y[tile])
    return out


def test_maximum_shares_ties(mode):
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    y = torch.tensor([1.0, 5.0, 3.0, 0.0])
    check(maximum_ties, torch.maximum, [x, y])


@deuteron.kernel
def softplus_where(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        v = x[tile]
        out[tile] = torch.where(v > 0.0, torch.log(1.0 + torch.exp(v)), v * v)
    return out


def test_softplus_and_where(mode):
    x = torch.randn(64, 16)
    check(softplus_where, lambda v: torch.where(v > 0, torch.log(1.0 + torch.exp(v)), v * v), [x])


@deuteron.kernel
def row_scale(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m in hl.tile(x.size(0)):
        out[tile_m, :] = x[tile_m, :] * w[:] + b[tile_m, None]
    return out


def test_broadcast_inputs_accumulate_over_programs(mode):
    # w is read by every program (its gradient sums over the tiles of m: atomics),
    # b is broadcast along the row (its gradient sums over the row).
    x, w, b = torch.randn(70, 24), torch.randn(24), torch.randn(70)
    source = check(row_scale, lambda x, w, b: x * w + b[:, None], [x, w, b], rtol=1e-4, atol=1e-4)
    assert "hl.atomic_add(grad_w" in source


@deuteron.kernel
def two_outputs(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    s = torch.empty_like(x)
    p = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        p[tile] = x[tile] * y[tile]
        s[tile] = torch.sin(x[tile]) + y[tile]
    return s, p


def test_several_outputs(mode):
    x, y = torch.randn(2, 40, 5).unbind(0)
    check(two_outputs, lambda x, y: (torch.sin(x) + y, x * y), [x, y])


@deuteron.kernel
def rows_of_reshape(x: torch.Tensor) -> torch.Tensor:
    n = x.size(-1)
    rows = x.reshape([-1, n])  # a host name in the shape: the backward views by sizes
    out = torch.empty_like(rows)
    for tile_m in hl.tile(rows.size(0)):
        out[tile_m, :] = torch.tanh(rows[tile_m, :]) * 2
    return out.view(x.size())


def test_inputs_read_through_a_reshape(mode):
    check(rows_of_reshape, lambda x: torch.tanh(x) * 2, [torch.randn(2, 6, 16)])


def test_a_reshape_that_copied_is_an_error_not_a_lost_gradient(mode):
    x = torch.randn(16, 6, 2).transpose(0, 2)  # reshape([-1, 16]) copies it
    fresh(rows_of_reshape)(x)
    with pytest.raises(RuntimeError, match="view"):
        backward(rows_of_reshape, torch.randn(x.shape), x)


def test_gradients_of_the_first_outputs_only(mode):
    # One gradient for a kernel that returns two tensors (attention's out and
    # lse, given out's gradient): the others are zero.
    x, y = torch.randn(2, 40, 5).unbind(0)
    fresh(two_outputs)(x.clone(), y.clone())
    g = torch.randn(40, 5)
    gx, gy = backward(two_outputs, g, x, y)
    torch.testing.assert_close(gx, g * torch.cos(x))
    torch.testing.assert_close(gy, g)


@deuteron.kernel
def store_then_load(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    tmp = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        v = x[tile]
        x[tile] = v * 2
        tmp[tile] = torch.exp(x[tile])
        out[tile] = tmp[tile] * v
    return out


def test_values_stored_and_loaded_back(mode):
    # A load after a store at the same index reads the stored value, both for an
    # argument written in place and for a buffer host code allocated.
    x = torch.randn(96)
    check(store_then_load, lambda x: torch.exp(x * 2) * x, [x])


@deuteron.kernel
def flat_views(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(a)
    a_flat = a.view(-1)
    b_flat = b.view(-1)
    out_flat = out.view(-1)
    for tile in hl.tile(a.numel()):
        out_flat[tile] = torch.tanh(a_flat[tile]) * b_flat[tile]
    return out


def test_inputs_and_outputs_read_through_views(mode):
    # The loop reads views host code made: the backward makes the same views of
    # the arguments and of their gradient buffers.
    a, b = torch.randn(2, 12, 20).unbind(0)
    source = check(flat_views, lambda a, b: torch.tanh(a) * b, [a, b])
    assert "grad_a_flat = grad_a.view([240])" in source  # the sizes the loop saw


@deuteron.kernel
def half_precision(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = torch.sigmoid(x[tile]) * y[tile]
    return out


def test_half_inputs(mode):
    x, y = torch.randn(2, 128).to(torch.float16).unbind(0)
    check(half_precision, lambda x, y: torch.sigmoid(x) * y, [x, y], rtol=2e-2, atol=2e-2)


# ----------------------------------------------------------------- reductions

@deuteron.kernel
def reductions(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile in hl.tile(m):
        v = x[tile, :]
        out[tile] = v.sum(-1) + torch.exp(v).mean(-1) * 0.5 + torch.amax(v, -1) - torch.amin(v * v, -1)
    return out


def test_sum_mean_amax_amin(mode):
    x = torch.randn(50, 33)
    check(reductions, lambda v: v.sum(-1) + torch.exp(v).mean(-1) * 0.5 + v.amax(-1) - (v * v).amin(-1), [x],
          rtol=1e-4, atol=1e-4)


@deuteron.kernel
def row_max(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), 1], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = torch.amax(x[tile, :], -1, keepdim=True)
    return out


def test_amax_shares_ties_like_torch(mode):
    x = torch.randn(16, 8)
    x[:, 2] = 5.0
    x[:, 6] = 5.0
    x[3, 7] = 5.0
    check(row_max, lambda v: v.amax(-1, keepdim=True), [x])


@deuteron.kernel
def middle_dim(x: torch.Tensor) -> torch.Tensor:
    a, b, c = x.shape
    out = torch.empty([a, c], dtype=x.dtype, device=x.device)
    for tile_a in hl.tile(a):
        out[tile_a, :] = torch.tanh(x[tile_a, :, :]).sum(1)
    return out


def test_middle_dim_3d(mode):
    check(middle_dim, lambda v: torch.tanh(v).sum(1), [torch.randn(6, 10, 12)], rtol=1e-4, atol=1e-4)


@deuteron.kernel
def softmax_rows(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = torch.nn.functional.softmax(x[tile, :], dim=1)
    return out


def test_softmax(mode):
    check(softmax_rows, lambda v: torch.softmax(v, dim=1), [torch.randn(40, 50)])


@deuteron.kernel
def layer_norm(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    m, n = x.size()
    out = torch.empty_like(x)
    rstd = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        acc = x[tile_m, :]
        mean = torch.sum(acc, dim=-1) / n
        centered = acc - mean[:, None]
        var = torch.sum(centered * centered, dim=-1) / n
        r = torch.rsqrt(var + eps)
        out[tile_m, :] = centered * r[:, None] * w[None, :]
        rstd[tile_m] = r
    return out, rstd.reshape(-1, 1)


def test_layer_norm_two_outputs_and_a_scalar(mode):
    def ref(x, w):
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).mean(-1, keepdim=True)
        r = torch.rsqrt(var + 1e-5)
        return (x - mean) * r * w, r

    check(layer_norm, ref, [torch.randn(30, 32), torch.randn(32)], rtol=1e-4, atol=1e-4)


@deuteron.kernel
def rms_norm(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m in hl.tile(x.size(0)):
        v = x[tile_m, :].to(torch.float32)
        inv = torch.rsqrt(torch.mean(v * v, dim=-1) + 1e-5)
        out[tile_m, :] = (v * inv[:, None]).to(out.dtype)
    return out


def test_rms_norm(mode):
    check(rms_norm, lambda v: v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + 1e-5), [torch.randn(20, 64)],
          rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------- matmuls

@deuteron.kernel
def linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), w.size(1)], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(x.size(0)):
        y = x[tile_m, :].to(torch.float32) @ w[:, :].to(torch.float32) + b[:]
        out[tile_m, :] = torch.sigmoid(y).to(out.dtype)
    return out


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_single_loop_matmul(mode, dtype):
    # dX = dY @ W^T per tile; dW = X^T @ dY and db summed over the tiles of m (atomics).
    x, w, b = torch.randn(40, 48).to(dtype), torch.randn(48, 32).to(dtype), torch.randn(32)
    tol = 1e-4 if dtype == torch.float32 else 2e-2
    source = check(linear, lambda x, w, b: torch.sigmoid(x.float() @ w.float() + b).to(dtype), [x, w, b],
                   rtol=tol, atol=tol)
    assert "hl.dot(" in source and "hl.atomic_add(grad_w" in source
    if dtype != torch.float32:  # summed in float32, rounded once
        assert "grad_w = torch.zeros_like(w, dtype=torch.float32)" in source


@deuteron.kernel
def batched(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty([a.size(0), a.size(1), b.size(2)], dtype=a.dtype, device=a.device)
    for tile_b in hl.tile(a.size(0)):
        out[tile_b, :, :] = torch.bmm(a[tile_b, :, :], b[tile_b, :, :])
    return out


def test_batched_matmul(mode):
    check(batched, torch.bmm, [torch.randn(4, 16, 24), torch.randn(4, 24, 32)], rtol=1e-4, atol=1e-4)


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]))
def matmul_k_loop(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, k = a.size()
    out = torch.empty([m, b.size(1)], dtype=torch.float32, device=a.device)
    for tile_m, tile_n in hl.tile([m, b.size(1)]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, a[tile_m, tile_k], b[tile_k, tile_n])
        out[tile_m, tile_n] = torch.tanh(acc)
    return out


def test_matmul_with_a_k_loop(mode):
    # The backward runs the K loop again with the result's gradient: dA and dB
    # are added atomically over the programs of the other operand's dim.
    source = check(matmul_k_loop, lambda a, b: torch.tanh(a @ b), [torch.randn(40, 48), torch.randn(48, 24)],
                   rtol=1e-4, atol=1e-4)
    assert "for tile_k in hl.tile(48)" in source


@pytest.mark.parametrize("precision", ["ieee", "tf32x3"])
def test_backward_takes_the_forward_dot_precision(mode, precision):
    # Its float32 dots compute as the forward's do (tests/gpu compares "ieee" runs tightly).
    k = fresh(matmul_k_loop)
    k.settings.dot_precision = precision
    try:
        source = check(k, lambda a, b: torch.tanh(a @ b), [torch.randn(32, 48), torch.randn(48, 16)],
                       rtol=1e-4, atol=1e-4)
        assert f"dot_precision={precision!r}" in source
        a, b = torch.randn(32, 48), torch.randn(48, 16)
        _, _, triton_code = backward(k, torch.randn(32, 16), a, b, return_code=True)
        assert f'input_precision="{precision}"' in triton_code
    finally:
        del k.settings.dot_precision
        fresh(k)


@deuteron.kernel
def row_sums(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(x.size(0)):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(x.size(1)):
            acc = acc + torch.exp(x[tile_m, tile_n]).sum(-1)
        out[tile_m] = torch.log(acc)
    return out


def test_accumulating_loop(mode):
    check(row_sums, lambda x: torch.logsumexp(x, -1), [torch.randn(30, 70)], rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------- the backward itself

@deuteron.kernel
def mul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = x[tile] * y[tile]
    return out


def test_backward_is_a_kernel_file_cached_per_bound_kernel(mode):
    x, y, g = torch.randn(3, 64).unbind(0)
    fresh(mul)(x, y)
    gx, gy = backward(mul, g, x, y)
    torch.testing.assert_close(gx, g * y)
    torch.testing.assert_close(gy, g * x)
    cache = mul.bind((x, y))._backward_compiled_cache
    (compiled,) = cache.values()
    assert compiled.path.read_text() == compiled.source
    assert "def backward_kernel(x, y, grad_out):" in compiled.source
    backward(mul, g, x, y)
    assert len(cache) == 1 and next(iter(cache.values())) is compiled


def test_backward_before_a_call_is_an_error(mode):
    with pytest.raises(exc.AutodiffKernelNotCalled):
        backward(fresh(mul), torch.ones(4), torch.ones(4), torch.ones(4))


def test_helion_alias_reaches_backward():
    from deuteron.compat.helion_alias import install_helion_alias

    install_helion_alias()
    import helion

    assert helion.experimental.backward is backward




# ------------------------------------------- inner loops evaluated whole (online softmax)
# An inner loop whose carried values are more than an accumulation computes
# the same function whatever its block, so the backward evaluates it as one
# iteration over its whole dim (cpp/src/autodiff/whole_loops.cc).  The forward
# runs several blocks of a dim that none divides; the backward's compiler pads
# the whole dim and masks the padding as the forward masks its last block.

@deuteron.kernel(config=deuteron.Config(block_sizes=[8, 16]))
def running_max(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(x.size(0)):
        acc = hl.full([tile_m], float("-inf"), dtype=torch.float32)
        for tile_n in hl.tile(x.size(1)):
            acc = torch.maximum(acc, x[tile_m, tile_n].amax(-1))
        out[tile_m] = acc
    return out


def test_running_max(mode):
    source = check(running_max, lambda x: x.amax(-1), [torch.randn(20, 70)])
    assert "x[tile_m, :]" in source and "for tile_n" not in source


@deuteron.kernel(config=deuteron.Config(block_sizes=[8, 16, 16]))
def online_softmax(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        mi = hl.full([tile_m], float("-inf"), dtype=torch.float32)
        di = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(n):
            values = x[tile_m, tile_n]
            mi_next = torch.maximum(mi, torch.amax(values, dim=1))
            di = di * torch.exp(mi - mi_next) + torch.exp(values - mi_next[:, None]).sum(dim=1)
            mi = mi_next
        for tile_n in hl.tile(n):
            out[tile_m, tile_n] = torch.exp(x[tile_m, tile_n] - mi[:, None]) / di[:, None]
    return out


def test_online_softmax_two_loops(mode):
    # Both loops (the second only stores) are evaluated whole; x's two loads
    # read the same whole rows, so their gradients are summed and stored once.
    source = check(online_softmax, lambda x: torch.softmax(x, dim=1), [torch.randn(20, 70)])
    assert "hl.atomic_add" not in source


@deuteron.kernel(config=deuteron.Config(block_sizes=[8, 16]))
def log_sum_exp_online(x: torch.Tensor) -> torch.Tensor:
    # One loop carrying a running max and a rescaled sum, whose results are
    # used after it (the log of the sum, plus the max).
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(x.size(0)):
        mi = hl.full([tile_m], float("-inf"), dtype=torch.float32)
        di = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(x.size(1)):
            values = x[tile_m, tile_n] * 2.0
            mi_next = torch.maximum(mi, torch.amax(values, dim=1))
            di = di * torch.exp(mi - mi_next) + torch.exp(values - mi_next[:, None]).sum(dim=1)
            mi = mi_next
        out[tile_m] = mi + torch.log(di)
    return out


def test_online_logsumexp(mode):
    check(log_sum_exp_online, lambda x: torch.logsumexp(x * 2.0, -1), [torch.randn(12, 45)], rtol=1e-4, atol=1e-4)


@deuteron.kernel(config=deuteron.Config(block_sizes=[1, 16, 16]))
def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    b, m, d = q.size()
    out = torch.empty_like(q)
    for tile_b, tile_m in hl.tile([b, m]):
        m_i = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
        l_i = hl.zeros([tile_b, tile_m], dtype=torch.float32)
        acc = hl.zeros([tile_b, tile_m, d], dtype=torch.float32)
        q_tile = q[tile_b, tile_m, :]
        for tile_n in hl.tile(k.size(1)):
            qk = torch.bmm(q_tile, k[tile_b, tile_n, :].transpose(1, 2)) * 0.25
            m_ij = torch.maximum(m_i, torch.amax(qk, -1))
            p = torch.exp(qk - m_ij[:, :, None])
            alpha = torch.exp(m_i - m_ij)
            l_i = l_i * alpha + torch.sum(p, -1)
            acc = torch.baddbmm(acc * alpha[:, :, None], p, v[tile_b, tile_n, :])
            m_i = m_ij
        out[tile_b, tile_m, :] = acc / l_i[:, :, None]
    return out


def _attention_reference(q, k, v):
    return torch.softmax(q @ k.transpose(1, 2) * 0.25, -1) @ v


@pytest.mark.parametrize("keys", [48, 50])
def test_attention_loop_with_dots(mode, keys):
    # 50 keys: the forward's last key block is partial, and the backward's
    # whole key dim is padded to 64; the padded keys must not enter the softmax.
    q, k, v = torch.randn(2, 40, 16), torch.randn(2, keys, 16), torch.randn(2, keys, 16)
    source = check(attention, _attention_reference, [q, k, v], rtol=1e-4, atol=1e-4)
    assert "k[tile_b, :, :]" in source


@deuteron.kernel(config=deuteron.Config(block_sizes=[1, 16, 16]))
def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    b, m, d = q.size()
    out = torch.empty_like(q)
    for tile_b, tile_m in hl.tile([b, m]):
        m_i = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
        l_i = hl.zeros([tile_b, tile_m], dtype=torch.float32)
        acc = hl.zeros([tile_b, tile_m, d], dtype=torch.float32)
        q_tile = q[tile_b, tile_m, :]
        for tile_n in hl.tile(k.size(1)):
            qk = torch.bmm(q_tile, k[tile_b, tile_n, :].transpose(1, 2)) * 0.25
            keep = tile_m.index[:, None] >= tile_n.index[None, :]
            qk = torch.where(keep[None, :, :], qk, float("-inf"))
            m_ij = torch.maximum(m_i, torch.amax(qk, -1))
            p = torch.exp(qk - m_ij[:, :, None])
            alpha = torch.exp(m_i - m_ij)
            l_i = l_i * alpha + torch.sum(p, -1)
            acc = torch.baddbmm(acc * alpha[:, :, None], p, v[tile_b, tile_n, :])
            m_i = m_ij
        out[tile_b, tile_m, :] = acc / l_i[:, :, None]
    return out


def test_causal_attention_reads_the_key_index(mode):
    # tile_n.index is the same lanes whatever the block: hl.arange over the whole key dim.
    def reference(q, k, v):
        s = q @ k.transpose(1, 2) * 0.25
        keep = torch.arange(q.size(1))[:, None] >= torch.arange(k.size(1))[None, :]
        return torch.softmax(s.masked_fill(~keep, float("-inf")), -1) @ v

    q, k, v = torch.randn(2, 40, 16), torch.randn(2, 50, 16), torch.randn(2, 50, 16)
    source = check(causal_attention, reference, [q, k, v], rtol=1e-4, atol=1e-4)
    assert "hl.arange(50)" in source


@deuteron.kernel
def running_max_from_one(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(x.size(0)):
        acc = hl.full([tile_m], float("-inf"), dtype=torch.float32)
        for tile_n in hl.tile(1, x.size(1)):
            acc = torch.maximum(acc, x[tile_m, tile_n].amax(-1))
        out[tile_m] = acc
    return out


@deuteron.kernel
def running_max_over_block(x: torch.Tensor) -> torch.Tensor:
    # Reads the tile's begin: not the same function of every block size.
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(x.size(0)):
        acc = hl.full([tile_m], float("-inf"), dtype=torch.float32)
        for tile_n in hl.tile(x.size(1)):
            acc = torch.maximum(acc, x[tile_m, tile_n].amax(-1) + tile_n.begin)
        out[tile_m] = acc
    return out


def test_a_loop_not_evaluated_whole_is_an_error_at_its_line(mode):
    x = torch.randn(8, 16)
    fresh(running_max_from_one)(x)
    with pytest.raises(exc.AutodiffNotSupported) as info:
        backward(running_max_from_one, torch.randn(8), x)
    text = str(info.value)
    assert "for tile_n in hl.tile(1, x.size(1)):" in text and "^~~~" in text
    # co_firstlineno is the decorator's line.
    assert (info.value.line, info.value.col) == (running_max_from_one.fn.__code__.co_firstlineno + 5, 9)


@deuteron.kernel
def cumulative(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = torch.cumsum(x[tile, :], 1)
    return out


@deuteron.kernel
def masked(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.load(x, [tile], extra_mask=tile.index < 10) * 2.0
    return out


@pytest.mark.parametrize("kernel, what, shapes, grad_shape", [
    (masked, "a load with a mask", [(32,)], (32,)),
    (cumulative, "'scan'", [(8, 16)], (8, 16)),
    (running_max_from_one, "it starts at 1, not 0", [(8, 16)], (8,)),
    (running_max_over_block, "its tile's 'tile_begin'", [(8, 16)], (8,)),
    (running_max, "16385 elements would be 32768 lanes of one row in registers (at most 16384)", [(2, 16385)], (2,)),
])
def test_unsupported_ops_are_named_with_their_line(mode, kernel, what, shapes, grad_shape):
    inputs = [torch.randn(s) for s in shapes]
    fresh(kernel)(*inputs)
    with pytest.raises(exc.AutodiffNotSupported) as info:
        backward(kernel, torch.randn(grad_shape), *inputs)
    assert what in str(info.value)
    assert info.value.line > 0
