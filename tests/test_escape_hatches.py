"""Helion's escape hatches into Triton: hl.inline_triton (Triton text pasted into
the kernel), hl.triton_kernel (a @triton.jit function called from device code,
defined again in the generated module with what it uses) and
hl.inline_asm_elementwise (tl.inline_asm_elementwise).

With TRITON_INTERPRET=1 the generated Triton runs and is compared with PyTorch.
The PyTorch reference mode cannot run Triton text: there a kernel holding
inline Triton or a @triton.jit call runs its generated Triton under Triton's
interpreter (whose library functions are swapped in for the launch only);
inline assembly, which no interpreter runs, says so at the call.  Misused
arguments are InvalidAPIUsage compile errors in both modes.
"""

from __future__ import annotations

import pytest
import torch
import triton
import triton.language as tl

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh

SCALE = tl.constexpr(3.0)
OFFSET = 0.5


@triton.jit
def _plus_one(v):
    return v + 1.0


@triton.jit
def scaled_plus_one(v):
    return _plus_one(v * SCALE) + OFFSET


@triton.jit
def sum_and_product(a, b):
    return a + b, a * b


@deuteron.kernel
def inline_add_twice(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        xv = x[tile]
        out[tile] = hl.inline_triton(
            """
            tmp = {lhs} + {rhs}
            tmp + {lhs}
            """,
            args={"lhs": xv, "rhs": y[tile]},
            output_like=xv,
        )
    return out


@deuteron.kernel
def inline_two_results(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    s_out = torch.empty_like(x)
    d_out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        a = x[tile]
        s, d = hl.inline_triton("{0} + {1}, {0} - {1}", args=[a, y[tile]], output_like=(a, a))
        s_out[tile] = s
        d_out[tile] = d
    return s_out, d_out


@deuteron.kernel
def inline_pointer(x: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    # A host tensor is its pointer: each tile adds its element count to counts[1].
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        v = x[tile]
        hl.inline_triton("tl.atomic_add({0} + {1}, tl.sum(tl.full({2}.shape, 1, tl.int32)))",
                         args=(counts, 1, v), output_like=None)
        out[tile] = v * 2
    return out


@deuteron.kernel
def call_jit_objects(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    a_out = torch.empty_like(x)
    b_out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        xv = x[tile]
        a_out[tile] = hl.triton_kernel(scaled_plus_one, args=(xv,), output_like=xv)
        s, p = hl.triton_kernel("sum_and_product", args={"a": xv, "b": y[tile]}, output_like=(xv, xv))
        b_out[tile] = s - p
    return a_out, b_out


@deuteron.kernel
def call_jit_source(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        xv = x[tile]
        out[tile] = hl.triton_kernel(
            """
            def cube(v):
                return v * v * v
            """,
            args=(xv,),
            output_like=xv,
        )
    return out


@deuteron.kernel
def asm_copy(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = hl.inline_asm_elementwise("mov.u32 $0, $1;", "=r,r", [x[tile]], dtype=torch.int32,
                                              is_pure=True, pack=1)
    return out


def _run_or_reference_error(mode, kernel, *args):
    """The kernel's result: under Triton's interpreter in both modes (the reference
    mode hands kernels holding Triton source to it)."""
    k = fresh(kernel)
    out = k(*args)
    assert k.bind(args).backend == "triton"
    return out


@triton.jit
def mix_norm(a, b):
    # Library functions that are themselves @triton.jit (tl.sum, tl.sigmoid, tl.cdiv)
    # and a side-effect-only call.
    tl.debug_barrier()
    mixed = tl.where(a > b, a - b, a + b)
    return mixed * tl.rsqrt(tl.maximum(tl.sum(mixed * mixed), 1e-12)) + tl.sigmoid(a) * 0.0


@deuteron.kernel
def call_mix_norm(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0), block_size=32):
        xv = x[tile]
        out[tile] = hl.triton_kernel(mix_norm, args=(xv, y[tile]), output_like=xv)
    return out


def test_triton_library_functions_run(mode):
    x, y = torch.randn(96), torch.randn(96)
    before = {owner: dict(vars(owner)) for owner in (tl, tl.core, tl.core.tensor)}
    out = _run_or_reference_error(mode, call_mix_norm, x, y)
    if mode == "eager":
        # The launch leaves triton.language as it found it: Triton 3.6's interpreted tl.sum
        # patches the modules its code names (`core`) for good, and a later compile of
        # Triton code in the process then failed ('ir.value' object has no attribute 'dtype').
        for owner, attrs in before.items():
            changed = [n for n, v in attrs.items() if vars(owner).get(n) is not v]
            assert not changed, f"{owner} changed by the interpreted launch: {changed[:5]}"

    mixed = torch.where(x > y, x - y, x + y).view(3, 32)
    expected = mixed * torch.rsqrt((mixed * mixed).sum(-1, keepdim=True).clamp_min(1e-12))
    torch.testing.assert_close(out, expected.view(-1), rtol=1e-5, atol=1e-5)
    # The process compiles Triton as before after the interpreted launch.
    from triton.runtime.jit import JITFunction
    from deuteron.runtime import env
    assert isinstance(tl.sum, JITFunction) != env.triton_interpret()


def test_inline_asm_needs_triton(mode):
    x = torch.arange(16, dtype=torch.int32)
    if mode == "eager":
        with pytest.raises(exc.CompileError, match="cannot run in the PyTorch reference mode"):
            fresh(asm_copy)(x)
        assert fresh(asm_copy).bind((x,)).backend == "reference"


def test_inline_triton_results(mode):
    x, y = torch.randn(100), torch.randn(100)
    out = _run_or_reference_error(mode, inline_add_twice, x, y)
    if out is not None:
        torch.testing.assert_close(out, 2 * x + y)
    pair = _run_or_reference_error(mode, inline_two_results, x, y)
    if pair is not None:
        torch.testing.assert_close(pair[0], x + y)
        torch.testing.assert_close(pair[1], x - y)


def test_inline_triton_host_tensor_is_its_pointer(mode):
    x = torch.randn(100)
    counts = torch.zeros(2, dtype=torch.int32)
    out = _run_or_reference_error(mode, inline_pointer, x, counts)
    if out is not None:
        torch.testing.assert_close(out, x * 2)
        # Every tile's block (masked lanes included) is counted: at least the 100 elements.
        assert counts[0].item() == 0 and counts[1].item() >= 100


def test_triton_kernel_calls(mode):
    x, y = torch.randn(64), torch.randn(64)
    res = _run_or_reference_error(mode, call_jit_objects, x, y)
    if res is not None:
        torch.testing.assert_close(res[0], x * 3.0 + 1.0 + 0.5)
        torch.testing.assert_close(res[1], (x + y) - x * y)
    out = _run_or_reference_error(mode, call_jit_source, x)
    if out is not None:
        torch.testing.assert_close(out, x * x * x)


def test_generated_code(mode):
    x, y = torch.randn(64), torch.randn(64)
    code = fresh(call_jit_objects).bind((x, y)).generate(backend="triton")
    # Each @triton.jit function once, its callees and globals before it.
    for text in ("def _plus_one(v):", "def scaled_plus_one(v):", "def sum_and_product(a, b):",
                 "SCALE = tl.constexpr(3.0)", "OFFSET = 0.5"):
        assert code.count(text) == 1, text
    assert code.index("def _plus_one") < code.index("def scaled_plus_one")
    assert "sum_and_product(a=" in code
    lock = torch.zeros(4, dtype=torch.int32)
    code = fresh(inline_pointer).bind((x, lock)).generate(backend="triton")
    assert "tl.atomic_add(counts + " in code
    code = fresh(asm_copy).bind((torch.zeros(16, dtype=torch.int32),)).generate(backend="triton")
    assert 'tl.inline_asm_elementwise("mov.u32 $0, $1;", "=r,r", [' in code
    assert "dtype=tl.int32, is_pure=True, pack=1)" in code


@deuteron.kernel
def bad_output_like(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = hl.inline_triton("{0}", args=(x[tile],), output_like="not a tensor")
    return out


@deuteron.kernel
def bad_placeholder(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = hl.inline_triton("{bad}", args={"x": x[tile]}, output_like=x[tile])
    return out


@deuteron.kernel
def bad_function(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = hl.triton_kernel("no_such_function", args=(x[tile],), output_like=x[tile])
    return out


@deuteron.kernel
def bad_asm_dtype(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = hl.inline_asm_elementwise("mov.u32 $0, $1;", "=r,r", [x[tile]], dtype="int32",
                                              is_pure=True, pack=1)
    return out


@pytest.mark.parametrize("kernel, message", [
    (bad_output_like, "output_like must be a tensor"),
    (bad_placeholder, r"the placeholder \{bad\} has no value"),
    (bad_function, "'no_such_function' is no @triton.jit function"),
    (bad_asm_dtype, "dtype must be torch.dtype"),
])
def test_misuse_is_invalid_api_usage(mode, kernel, message):
    with pytest.raises(exc.InvalidAPIUsage, match=message) as info:
        fresh(kernel)(torch.zeros(8, dtype=torch.int32 if kernel is bad_asm_dtype else torch.float32))
    assert "test_escape_hatches.py:" in str(info.value) and "^" in str(info.value)


def test_hl_names_run_only_in_kernels():
    for fn in (hl.inline_triton, hl.triton_kernel, hl.inline_asm_elementwise):
        with pytest.raises(exc.NotInsideKernelError):
            fn("x", args=(), output_like=None)
