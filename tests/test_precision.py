"""The `precision` setting (docs/language.md, "Precision"), in both CPU modes.

"fast" keeps 16-bit float values in float32 between ops; "strict" rounds
after every op as PyTorch eager does.  bf16 arithmetic is unreliable under
Triton's interpreter (docs: TRITON_NOTES), so the Triton mode runs fp16.
"""

from __future__ import annotations

import pytest
import torch

import kernels_precision as K
from conftest import TRITON_MODE, fresh

HALF_TYPES = [torch.float16] if TRITON_MODE else [torch.float16, torch.bfloat16]


def with_precision(kernel, precision):
    """The kernel (shared by the tests) set to `precision`, with no specializations."""
    k = fresh(kernel)
    k.settings.precision = precision
    return k


def run(kernel, precision, *args):
    return with_precision(kernel, precision)(*args)


def error(out, exact):
    return (out.double() - exact).abs()


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_fast_is_at_least_as_close_to_float64_as_strict(mode, dtype):
    torch.manual_seed(0)
    x = (torch.randn(32, 512) * 4).to(dtype)
    exact = torch.softmax(x.double(), dim=1)
    fast = error(run(K.softmax_chain, "fast", x), exact)
    strict = error(run(K.softmax_chain, "strict", x), exact)
    assert fast.max() <= strict.max()
    assert fast.mean() < strict.mean()  # strict's per-op rounding adds up: not a tie


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_strict_bit_matches_eager_per_op_rounding(mode, dtype):
    torch.manual_seed(1)
    x, y = torch.randn(1000).to(dtype), torch.randn(1000).to(dtype)
    eager = K.arithmetic_chain_eager(x, y)
    strict = run(K.arithmetic_chain, "strict", x, y)
    assert torch.equal(strict, eager)
    # fast rounds once: not eager's bits, but closer to the exact value
    fast = run(K.arithmetic_chain, "fast", x, y)
    exact = K.arithmetic_chain_eager(x.double(), y.double())
    assert not torch.equal(fast, eager)
    assert error(fast, exact).mean() < error(strict, exact).mean()


def test_fast_rounds_at_a_cast_the_program_writes(mode):
    torch.manual_seed(2)
    x, y = torch.randn(1000, dtype=torch.float16), torch.randn(1000, dtype=torch.float16)
    want = (x + y).float() * 3.0  # eager: the fp16 sum, then float32
    for precision in ("fast", "strict"):
        assert torch.equal(run(K.rounded_by_cast, precision, x, y), want)


def test_the_setting_changes_the_generated_code(mode):
    x = torch.randn(4, 64, dtype=torch.bfloat16)
    fast = with_precision(K.softmax_chain, "fast").bind((x,)).generate(backend="triton")
    strict = with_precision(K.softmax_chain, "strict").bind((x,)).generate(backend="triton")
    assert "tl.div_rn" in strict and "tl.div_rn" not in fast
    # fast: bf16 only at the store; strict: after every op
    assert fast.count(".to(tl.bfloat16)") == 1
    assert strict.count(".to(tl.bfloat16)") > 3


def test_an_unknown_precision_is_an_error():
    with pytest.raises(ValueError, match="'precision'"):
        fresh(K.softmax_chain).settings.precision = "exact"
