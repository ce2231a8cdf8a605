"""Matrix products on tiles in the forms Helion accepts, in both CPU modes:
torch.bmm / baddbmm / mm / addmm with PyTorch's positional out_dtype (the
`.dtype` overloads Helion's attention examples use), baddbmm's beta/alpha,
torch.matmul / @ broadcasting a 2-D operand over a 3-D one's batch, 1-D
(matrix-vector) operands, hl.dot with both acc= and out_dtype=, and
expand() to a tile's block size.  Unsupported forms are compile errors."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh

C3 = deuteron.Config(block_sizes=[1, 16, 16, 16])
DTYPES = [torch.float32, torch.float16]


def _close(got, expect):
    torch.testing.assert_close(got.float(), expect.float(), atol=3e-2, rtol=3e-2)


@deuteron.kernel(config=deuteron.Config(block_sizes=[1, 16, 16]))
def bmm_out_dtype(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    B, M, K = a.shape
    N = b.size(2)
    out = torch.empty([B, M, N], dtype=torch.float32, device=a.device)
    for tb, tm, tn in hl.tile([B, M, N]):
        out[tb, tm, tn] = torch.bmm(a[tb, tm, :], b[tb, :, tn], torch.float32)
    return out


@deuteron.kernel(config=C3)
def baddbmm_out_dtype(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    B, M, K = a.shape
    N = b.size(2)
    out = torch.empty([B, M, N], dtype=torch.float32, device=a.device)
    for tb, tm, tn in hl.tile([B, M, N]):
        acc = hl.zeros([tb, tm, tn], dtype=torch.float32)
        for tk in hl.tile(K):
            acc = torch.baddbmm(acc, a[tb, tm, tk], b[tb, tk, tn], torch.float32)
        out[tb, tm, tn] = acc
    return out


@deuteron.kernel(config=C3)
def baddbmm_scaled(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    B, M, K = a.shape
    N = b.size(2)
    out = torch.empty([B, M, N], dtype=torch.float32, device=a.device)
    for tb, tm, tn in hl.tile([B, M, N]):
        acc = hl.full([tb, tm, tn], 1.0, dtype=torch.float32)
        for tk in hl.tile(K):
            acc = torch.baddbmm(acc, a[tb, tm, tk], b[tb, tk, tn], beta=0.5, alpha=2.0)
        out[tb, tm, tn] = acc
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[1, 16, 16]))
def baddbmm_beta0(c: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    B, M, K = a.shape
    N = b.size(2)
    out = torch.empty([B, M, N], dtype=torch.float32, device=a.device)
    for tb, tm, tn in hl.tile([B, M, N]):
        out[tb, tm, tn] = torch.baddbmm(c[tb, tm, tn], a[tb, tm, :], b[tb, :, tn], beta=0.0)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]))
def mm_addmm_out_dtype(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.shape
    n = y.size(1)
    out = torch.empty([m, n], dtype=torch.float32, device=x.device)
    for tm, tn in hl.tile([m, n]):
        acc = hl.zeros([tm, tn], dtype=torch.float32)
        for tk in hl.tile(k):
            acc = torch.addmm(acc, x[tm, tk], y[tk, tn], torch.float32)
        out[tm, tn] = acc + torch.mm(x[tm, :], y[:, tn], torch.float32)
    return out


@deuteron.kernel(config=C3)
def matmul_3d_2d(a: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    B, M, K = a.shape
    N = w.size(1)
    out = torch.empty([B, M, N], dtype=torch.float32, device=a.device)
    for tb, tm, tn in hl.tile([B, M, N]):
        acc = hl.zeros([tb, tm, tn], dtype=torch.float32)
        for tk in hl.tile(K):
            acc = acc + torch.matmul(a[tb, tm, tk], w[tk, tn])
        out[tb, tm, tn] = acc
    return out


@deuteron.kernel(config=C3)
def matmul_2d_3d(w: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    B, K, N = a.shape
    M = w.size(0)
    out = torch.empty([B, M, N], dtype=torch.float32, device=a.device)
    for tb, tm, tn in hl.tile([B, M, N]):
        acc = hl.zeros([tb, tm, tn], dtype=torch.float32)
        for tk in hl.tile(K):
            acc = torch.baddbmm(acc, w[tm, tk], a[tb, tk, tn])
        out[tb, tm, tn] = acc
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16]))
def matvec(x: torch.Tensor, v: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    m, k = x.shape
    mv = torch.empty([m], dtype=x.dtype, device=x.device)
    vm = torch.empty([k], dtype=x.dtype, device=x.device)
    for tm in hl.tile(m):
        mv[tm] = x[tm, :] @ v[:]
    for tk in hl.tile(k):
        vm[tk] = torch.matmul(u[:], x[:, tk])
    return mv, vm


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]))
def dot_acc_out_dtype(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.shape
    n = y.size(1)
    out = torch.empty([m, n], dtype=torch.float16, device=x.device)
    for tm, tn in hl.tile([m, n]):
        acc = hl.zeros([tm, tn], dtype=torch.float16)
        for tk in hl.tile(k):
            acc = hl.dot(x[tm, tk], y[tk, tn], acc=acc, out_dtype=torch.float16)
        out[tm, tn] = acc
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16]))
def expand_to_block_size(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty_like(x)
    for tm, tn in hl.tile([m, n]):
        row = v[tn].unsqueeze(0)
        out[tm, tn] = x[tm, tn] + row.expand(tm.block_size, tn.block_size) + row.expand(tm.block_size, -1)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_bmm_and_baddbmm_positional_out_dtype(mode, dtype):
    a, b = torch.randn(3, 20, 40, dtype=dtype), torch.randn(3, 40, 24, dtype=dtype)
    expect = torch.bmm(a.float(), b.float())
    out = fresh(bmm_out_dtype)(a, b)
    assert out.dtype == torch.float32
    _close(out, expect)
    _close(fresh(baddbmm_out_dtype)(a, b), expect)


@pytest.mark.parametrize("dtype", DTYPES)
def test_baddbmm_beta_alpha(mode, dtype):
    a, b = torch.randn(2, 20, 40, dtype=dtype), torch.randn(2, 40, 24, dtype=dtype)
    expect = torch.ones(2, 20, 24)
    for k0 in range(0, 40, 16):
        expect = 0.5 * expect + 2.0 * torch.bmm(a.float()[:, :, k0:k0 + 16], b.float()[:, k0:k0 + 16, :])
    _close(fresh(baddbmm_scaled)(a, b), expect)
    c = torch.full((2, 20, 24), float("nan"))  # beta=0 ignores the input, NaN included
    _close(fresh(baddbmm_beta0)(c, a, b), torch.bmm(a.float(), b.float()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_mm_addmm_positional_out_dtype(mode, dtype):
    x, y = torch.randn(32, 48, dtype=dtype), torch.randn(48, 40, dtype=dtype)
    _close(fresh(mm_addmm_out_dtype)(x, y), 2 * (x.float() @ y.float()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_broadcasts_a_matrix_over_the_batch(mode, dtype):
    a, w = torch.randn(3, 20, 40, dtype=dtype), torch.randn(40, 24, dtype=dtype)
    _close(fresh(matmul_3d_2d)(a, w), torch.matmul(a.float(), w.float()))
    w2, b = torch.randn(20, 40, dtype=dtype), torch.randn(3, 40, 24, dtype=dtype)
    _close(fresh(matmul_2d_3d)(w2, b), torch.matmul(w2.float(), b.float()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_with_a_vector(mode, dtype):
    x, v, u = torch.randn(40, 24, dtype=dtype), torch.randn(24, dtype=dtype), torch.randn(40, dtype=dtype)
    mv, vm = fresh(matvec)(x, v, u)
    assert mv.dtype == dtype and vm.dtype == dtype
    _close(mv, x.float() @ v.float())
    _close(vm, u.float() @ x.float())


def test_hl_dot_acc_and_out_dtype(mode):
    x, y = torch.randn(32, 48, dtype=torch.float16), torch.randn(48, 40, dtype=torch.float16)
    out = fresh(dot_acc_out_dtype)(x, y)
    assert out.dtype == torch.float16
    _close(out, x.float() @ y.float())


@pytest.mark.parametrize("dtype", DTYPES)
def test_expand_to_a_tile_block_size(mode, dtype):
    x, v = torch.randn(40, 24, dtype=dtype), torch.randn(24, dtype=dtype)
    _close(fresh(expand_to_block_size)(x, v), x + 2 * v)


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16]))
def matmul_4d(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty([a.size(0), a.size(1), a.size(2), b.size(3)], dtype=a.dtype, device=a.device)
    for t0, t1 in hl.tile([a.size(0), a.size(1)]):
        out[t0, t1, :, :] = torch.matmul(a[t0, t1, :, :], b[t0, t1, :, :])
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16]))
def matmul_0d(a: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(a)
    for t in hl.tile(a.size(0)):
        out[t] = a[t] @ a[0]
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16]))
def matmul_1d_mismatch(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tm, tk in hl.tile([x.size(0), x.size(1)]):
        out[tm] = x[tm, tk] @ v[:]
    return out


def test_unsupported_matmul_forms_are_compile_errors(mode):
    with pytest.raises(exc.CompileError, match="matmul of a 4-D value is not supported"):
        fresh(matmul_4d)(torch.randn(2, 2, 16, 32), torch.randn(2, 2, 32, 16))
    with pytest.raises(exc.CompileError, match="matmul of a 0-d value"):
        fresh(matmul_0d)(torch.randn(32))
    with pytest.raises(exc.CompileError, match="matmul contraction dims differ"):
        fresh(matmul_1d_mismatch)(torch.randn(32, 32), torch.randn(32))


@deuteron.kernel(config=deuteron.Config(block_sizes=[1, 1, 8]))
def mm_transposed_rhs(x: torch.Tensor, w: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    n = w.size(0)
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tm, tn, tk in hl.tile([m, n, k]):
        out[tm, tn] = torch.addmm(bias[tm, tn], x[tm, tk], w[tn, tk].T)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("blocks", [[1, 1, 8], [2, 4, 16], [16, 16, 16]])
def test_small_blocks_on_matmul_dims(mode, dtype, blocks):
    # A config may give matmul dims blocks under 16 (Helion's block_sizes=[1, 1, 8]).
    k = blocks[2]  # the K tile is a grid dim: one tile of it covers K
    x, w, bias = torch.randn(4, k, dtype=dtype), torch.randn(6, k, dtype=dtype), torch.randn(4, 6, dtype=dtype)
    bound = fresh(mm_transposed_rhs).bind((x, w, bias))
    cfg = deuteron.Config(block_sizes=blocks)
    _close(bound.compile_config(cfg)(x, w, bias), torch.addmm(bias.float(), x.float(), w.float().T))
    code = bound.to_triton_code(cfg)
    # K under 16 is a multiply and a sum (tl.dot's minimum K); small M and N stay tl.dot.
    assert ("tl.dot(" in code) == (blocks[2] >= 16)


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]))
def augassign_matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), y.size(1)], dtype=x.dtype, device=x.device)
    for tm, tn in hl.tile([x.size(0), y.size(1)]):
        acc = hl.zeros([tm, tn], dtype=torch.float32)
        for tk in hl.tile(x.size(1)):
            acc += x[tm, tk] @ y[tk, tn]
        out[tm, tn] = acc
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]),
                 ignore_warnings=[exc.TiledKMatmulAccumulationWarning])
def augassign_matmul_quiet(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), y.size(1)], dtype=x.dtype, device=x.device)
    for tm, tn in hl.tile([x.size(0), y.size(1)]):
        acc = hl.zeros([tm, tn], dtype=torch.float32)
        for tk in hl.tile(x.size(1)):
            acc += hl.dot(x[tm, tk], y[tk, tn])
        out[tm, tn] = acc
    return out


def test_tiled_k_accumulation_warning(mode, capfd):
    # Helion warns (on stderr) about `acc += a @ b` in a K loop; ignore_warnings silences it.
    x, y = torch.randn(32, 48), torch.randn(48, 32)
    _close(fresh(augassign_matmul)(x, y), x @ y)
    err = capfd.readouterr().err
    assert "WARNING[TiledKMatmulAccumulationWarning]" in err and "test_matmul_forms.py:" in err
    _close(fresh(augassign_matmul_quiet)(x, y), x @ y)
    _close(fresh(mm_addmm_out_dtype)(x, y), 2 * (x @ y))  # addmm accumulates: no warning
    assert "TiledKMatmulAccumulationWarning" not in capfd.readouterr().err


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]))
def packed_rhs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, k = a.shape
    n = b.size(1)
    out = torch.empty([m, n], dtype=a.dtype, device=a.device)
    for tm, tn in hl.tile([m, n]):
        acc = hl.zeros([tm, tn], dtype=a.dtype)
        for tk in hl.tile(k // 2):
            lhs = a[tm, tk.begin * 2 : tk.begin * 2 + tk.block_size * 2]
            packed = b[tk, tn]
            rhs = torch.stack([packed, packed], dim=1).reshape(tk.block_size * 2, tn.block_size)
            acc = torch.addmm(acc, lhs, rhs)
        out[tm, tn] = acc
    return out


def test_merging_reshape_of_unpacking_contracts_lane_by_lane(mode):
    # int4/fp4 unpacking interleaves two values along K with a reshape that
    # merges dims: the merged dim has as many lanes as the slice of `a` it
    # contracts with, and they pair up lane by lane (Helion's rule).
    a, b = torch.randn(32, 64), torch.randn(32, 32)
    _close(fresh(packed_rhs)(a, b), a @ b.repeat_interleave(2, dim=0))


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16]))
def outer_k(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # K is a whole dim of 1, 2, 4 or 8 lanes: under tl.dot's minimum of 16
    m, k = x.shape
    n = y.size(1)
    out = torch.empty([m, n], dtype=torch.float32, device=x.device)
    for tm, tn in hl.tile([m, n]):
        acc = hl.full([tm, tn], 1.0, dtype=torch.float32)
        out[tm, tn] = torch.addmm(acc, x[tm, :], y[:, tn])
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[2, 16, 16]))
def outer_k_batched(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    b, m, k = x.shape
    n = y.size(2)
    out = torch.empty([b, m, n], dtype=torch.float32, device=x.device)
    for tb, tm, tn in hl.tile([b, m, n]):
        out[tb, tm, tn] = torch.bmm(x[tb, tm, :], y[tb, :, tn], torch.float32)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [1, 2, 3, 4, 8])
def test_contraction_shorter_than_tl_dot_minimum(mode, dtype, k):
    # Each K lane counts once (Triton 3.6 on the GPU summed a broadcast product's
    # K axis of 1 or 2 lanes as if it had 8; Helion's test_dot reshape_k tests).
    x, y = torch.randn(40, k, dtype=dtype), torch.randn(k, 24, dtype=dtype)
    _close(fresh(outer_k)(x, y), 1.0 + x.float() @ y.float())
    xb, yb = torch.randn(3, 40, k, dtype=dtype), torch.randn(3, k, 24, dtype=dtype)
    _close(fresh(outer_k_batched)(xb, yb), torch.bmm(xb.float(), yb.float()))
    if k > 1 and mode == "triton":
        code = fresh(outer_k).bind((x, y)).to_triton_code(deuteron.Config(block_sizes=[16, 16]))
        assert "tl.split(" in code and "tl.sum(" not in code
