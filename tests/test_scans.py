"""Scans (cumsum, cumprod, hl.associative_scan) and reductions by combine
functions (hl.reduce) on the CPU, in both interpret modes, against PyTorch."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
import kernels_scans as K
from conftest import fresh


def close(a, b, tol=1e-5):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


def reference_scan(fn, xs, dim, reverse=False):
    """Helion's definition: acc = combine(acc, x[k]) in scan order."""
    xs = xs if isinstance(xs, tuple) else (xs,)
    n = xs[0].shape[dim]
    order = range(n - 1, -1, -1) if reverse else range(n)
    out = [torch.empty_like(x) for x in xs]
    acc = None
    for k in order:
        cur = tuple(x.select(dim, k) for x in xs)
        acc = cur if acc is None else tuple(fn(*acc, *cur)) if len(xs) > 1 else (fn(acc[0], cur[0]),)
        for o, a in zip(out, acc):
            o.select(dim, k).copy_(a)
    return tuple(out) if len(xs) > 1 else out[0]


# ------------------------------------------------------------------ cumsum / cumprod

@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32])
@pytest.mark.parametrize("shape", [(10, 37), (8, 64), (3, 1)])
def test_torch_cumsum_types_and_partial_tiles(mode, dtype, shape):
    x = torch.randn(shape).to(dtype) if dtype.is_floating_point else torch.randint(-9, 9, shape, dtype=dtype)
    expect = torch.cumsum(x.float() if dtype == torch.float16 else x, dim=1).to(torch.cumsum(x, 1).dtype)
    out = torch.empty_like(expect)
    got = fresh(K.torch_cumsum_rows)(x, out)
    assert got.dtype == torch.cumsum(x, 1).dtype  # integers sum in int64, as in PyTorch
    close(got, expect, 2e-3 if dtype == torch.float16 else 1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64])
def test_cumprod_method(mode, dtype):
    x = (torch.rand(9, 13) + 0.5).to(dtype) if dtype.is_floating_point else torch.randint(-2, 3, (9, 13), dtype=dtype)
    close(fresh(K.method_cumprod_rows)(x), torch.cumprod(x, 1).to(dtype))


def test_hl_cumsum_and_cumprod_reverse(mode):
    # 37 columns: the reverse scan meets the padding lanes first.
    x = torch.randn(6, 37)
    close(fresh(K.hl_cumsum_reverse)(x), torch.cumsum(x.flip(1), 1).flip(1), 1e-4)
    y = torch.rand(6, 37) + 0.5
    close(fresh(K.hl_cumprod_reverse)(y), torch.cumprod(y.flip(1), 1).flip(1), 1e-4)


def test_hl_cumsum_keeps_integer_dtype(mode):
    x = torch.randint(-50, 50, (5, 12), dtype=torch.int32)
    got = fresh(K.hl_cumsum_reverse)(x)
    assert got.dtype == torch.int32
    close(got, torch.cumsum(x.flip(1), 1).flip(1).to(torch.int32))


def test_scans_along_tile_dims_stay_within_blocks(mode):
    x = torch.randn(21, 40)
    expect = torch.empty_like(x)
    for i in range(0, 21, 8):
        for j in range(0, 40, 16):
            blk = x[i:i + 8, j:j + 16]
            expect[i:i + 8, j:j + 16] = torch.cumsum(blk, 0) + torch.cumsum(blk.flip(1), 1).flip(1)
    close(fresh(K.cumsum_within_tiles)(x), expect, 1e-4)


def test_cumsum_of_a_3d_value(mode):
    x = torch.randn(5, 7, 6)
    close(fresh(K.cumsum_3d_middle)(x), torch.cumsum(x, 1), 1e-5)


# ------------------------------------------------------------------ associative_scan

@pytest.mark.parametrize("shape", [(3, 4), (7, 100), (2, 1)])
def test_associative_scan_add(mode, shape):
    x = torch.randn(shape)
    close(fresh(K.scan_rows)(x), torch.cumsum(x, 1), 1e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32])
def test_associative_scan_max_reverse_with_padding(mode, dtype):
    # All negative, 37 columns: padding lanes filled with 0 would win.
    x = (-torch.rand(6, 37) * 100 - 1).to(dtype)
    got = fresh(K.scan_max_reverse)(x)
    assert got.dtype == dtype
    close(got, reference_scan(torch.maximum, x, 1, reverse=True))


def test_associative_scan_without_identity(mode):
    x = torch.randn(6, 37)
    x[x.abs() < 0.7] = 0
    x[:, -1] = 0  # the last real lane is zero: a reverse scan must not pick up padding
    y = -torch.rand(6, 37) - 1  # lanes of 0 past the end would win a min of abs
    got = fresh(K.scan_first_nonzero)(x, y)
    fn = K.first_nonzero
    close(got[0], reference_scan(fn, x, 1))
    close(got[1], reference_scan(fn, x, 1, reverse=True))
    close(got[2], reference_scan(K.min_abs, y, 1, reverse=True))


def test_torch_functions_and_the_higher_order_op(mode):
    x = torch.rand(5, 9) + 0.5
    close(fresh(K.scan_torch_add_and_hop)(x), torch.cumprod(x, 1) + torch.cumsum(x, 1), 1e-4)


@pytest.mark.parametrize("reverse", [False, True])
def test_tuple_scan_of_a_non_commutative_combine(mode, reverse):
    a, b = torch.rand(6, 23) + 0.5, torch.randn(6, 23)
    _, expect = reference_scan(K.affine, (a, b), 1, reverse=reverse)
    close(fresh(K.recurrence)(a, b, reverse), expect, 1e-4)


def test_segmented_scan_along_the_tile_dim(mode):
    ids = torch.tensor([0, 0, 1, 1, 1, 2, 3, 3, 3, 3, 4])
    v = torch.randn(11, 3)
    expect = torch.empty_like(v)
    for start in range(0, 11, 8):  # the scan runs within each block of 8 rows
        blk = slice(start, start + 8)
        expect[blk] = reference_scan(K.segmented_add, (v[blk], ids[blk, None].expand(-1, 3).to(v.dtype)), 0)[0]
    close(fresh(K.segmented_cumsum)(v, ids.float()), expect, 1e-5)


# ------------------------------------------------------------------ hl.reduce

@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_reduce_over_a_dim_that_is_not_a_power_of_two(mode, dtype):
    x = (-torch.rand(10, 37) * 10 - 1).to(dtype)
    got = fresh(K.reduce_rows)(x)
    tol = 1e-2 if dtype == torch.float16 else 1e-5
    close(got[0].float(), x.float().sum(1), tol)
    close(got[1], x.amax(1))
    close(got[2], x.abs().amin(1))


def test_reduce_with_other_and_keep_dims(mode):
    x = torch.rand(9, 3) + 0.5
    close(fresh(K.reduce_prod_other)(x), x.prod(1, keepdim=True), 1e-5)


def test_reduce_tuple_argmax(mode):
    x = torch.randn(10, 37)
    x[3] = 1.0  # ties resolve to the first index
    close(fresh(K.reduce_argmax)(x), x.argmax(1))


def test_reduce_over_tile_dims_and_all_dims(mode):
    x = -torch.rand(21, 40) - 1
    got = fresh(K.reduce_tile_dims)(x)
    close(got[:40], x.amax(0))
    close(got[40:], x.sum().reshape(1), 1e-4)


def test_reduce_3d(mode):
    x = -torch.rand(5, 7, 6)
    close(fresh(K.reduce_3d)(x), x.amax(1))


# ------------------------------------------------------------------ compiler behaviour

def test_generated_triton_code_is_readable(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")  # binding on the CPU; the code is the Triton module
    x = torch.randn(6, 37)
    code = fresh(K.scan_max_reverse).bind((x,)).generate(backend="triton")
    assert "def maximum_0(a, b):" in code
    assert "tl.associative_scan(" in code and "maximum_0, reverse=True)" in code
    code = fresh(K.hl_cumsum_reverse).bind((x,)).generate(backend="triton")
    assert "tl.cumsum(" in code and "reverse=True" in code
    # A combine without a visible identity keeps padding lanes out with a flag.
    code = fresh(K.reduce_rows).bind((x,)).generate(backend="triton")
    assert "def min_abs_0_masked(" in code
    assert "tl.reduce(" in code


def test_scanned_dim_is_not_rolled(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    x = torch.randn(8, 4, 2048)
    bound = fresh(K.scan_then_amax).bind((x,))
    # The scanned (whole) dim 4 stays persistent; no reduction_loops entry for it.
    assert bound.config_spec["reduction_loops"] == []


def test_scanned_dim_then_reduced_matches(mode):
    x = torch.randn(8, 4, 100)
    close(fresh(K.scan_then_amax)(x), torch.cumsum(x, 1).amax(1), 1e-5)


def test_ir_shows_the_combine_region(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    x = torch.randn(6, 37)
    ir = fresh(K.reduce_argmax).bind((x,)).dump_ir()
    assert "combine_reduce fn argmax_pair axis 1" in ir
    assert "combine(" in ir


# ------------------------------------------------------------------ errors

def not_elementwise(a, b):
    return a + hl.zeros([4], dtype=torch.float32)


def three_args(a, b, c):
    return a + b + c


def pair_sum(left, right):
    return left[0] + right[0], left[1] + right[1]


@deuteron.kernel()
def bad_combine_function(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = hl.associative_scan(torch.sub, x[tile, :], dim=1)
    return out


@deuteron.kernel()
def bad_shape(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = hl.associative_scan(not_elementwise, x[tile, :], dim=1)
    return out


@deuteron.kernel()
def bad_arity(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.reduce(three_args, x[tile, :], dim=1)
    return out


@deuteron.kernel()
def bad_other(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], device=x.device)
    for tile in hl.tile(x.size(0)):
        a, b = hl.reduce(pair_sum, (x[tile, :], x[tile, :]), dim=1, other=(1.0, 2.0, 3.0))
        out[tile] = a
    return out


@pytest.mark.parametrize("kernel,message", [
    (bad_combine_function, "the combine function must be a module-level Python function"),
    (bad_shape, "must compute elementwise"),
    (bad_arity, "it must take 2"),
    (bad_other, "'other' has 3 values for 2 tensors"),
])
def test_combine_errors(monkeypatch, kernel, message):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    with pytest.raises(deuteron.exc.CompileError) as info:
        fresh(kernel)(torch.randn(8, 4))
    assert message in str(info.value)
    assert info.value.filename.endswith("test_scans.py")


# ------------------------------------------------------------------ compiles for the GPU

def _sm90_cases():
    x = torch.randn(64, 100)
    return [
        (K.torch_cumsum_rows, (torch.randint(-9, 9, (64, 100), dtype=torch.int32),
                               torch.empty(64, 100, dtype=torch.int64))),
        (K.hl_cumsum_reverse, (x.half(),)),
        (K.scan_max_reverse, (x,)),
        (K.scan_first_nonzero, (x, x)),
        (K.recurrence, (x, x, True)),
        (K.segmented_cumsum, (x, torch.randn(64))),
        (K.reduce_rows, (x.half(),)),
        (K.reduce_prod_other, (x,)),
        (K.reduce_argmax, (x,)),
        (K.reduce_tile_dims, (x,)),
        (K.reduce_3d, (torch.randn(6, 7, 5),)),
    ]


@pytest.mark.skipif(__import__("os").environ.get("TRITON_INTERPRET", "0") not in ("", "0"),
                    reason="compiles real Triton kernels; run without TRITON_INTERPRET")
@pytest.mark.parametrize("case", range(len(_sm90_cases())))
def test_compiles_for_sm90(case, monkeypatch):
    # Triton accepts the combine helpers, tuple scans and reductions, and the
    # int8 validity flags (Triton's interpreter is more lenient than its compiler).
    from deuteron.runtime.aot import compile_for_target

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    kernel, args = _sm90_cases()[case]
    bound = fresh(kernel).bind(args)
    configs = [bound.default_config()]
    if kernel in (K.scan_max_reverse, K.reduce_argmax):
        configs.append(deuteron.Config(block_sizes=[1], num_warps=2))  # unit_dim_elimination: 1-D values
    for cfg in configs:
        for launch in compile_for_target(bound, cfg, args):
            assert launch.compiled.asm["cubin"]
