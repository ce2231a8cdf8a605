"""print(prefix, *values) and hl.device_print inside tile loops: the values
reach stdout in both CPU modes (interpret mode prints whole tensors, Triton's
interpreter runs tl.device_print), the kernel's result is unchanged, and the
misuses Helion rejects are compile errors with its messages.
"""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel
def prints(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    m, n = x.shape
    print("host side")
    for tile_m, tile_n in hl.tile([m, n]):
        a = x[tile_m, tile_n]
        b = y[tile_m, tile_n]
        print("a and b: ", a, b)
        values = (a + 1,)
        hl.device_print("plus one: ", *values)
        print("no values")
        out[tile_m, tile_n] = a + b
    return out


def test_print_inside_tile_loops(mode, capfd):
    x = torch.full([2, 2], 42.0)
    y = torch.full([2, 2], 7.0)
    out = fresh(prints)(x, y)
    torch.testing.assert_close(out, x + y)
    text = capfd.readouterr().out
    assert "host side" in text
    assert "a and b:" in text and "42" in text and "7" in text
    assert "plus one:" in text and "43" in text
    if mode == "eager":  # Triton's interpreter prints a prefix without values only on GPUs
        assert "no values" in text


@deuteron.kernel
def print_in_inner_loop(x: torch.Tensor) -> torch.Tensor:
    m, k = x.shape
    out = torch.zeros([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc += x[tile_m, tile_k].sum(-1)
        print("accumulator: ", acc)
        out[tile_m] = acc
    return out


def test_print_after_an_inner_loop(mode, capfd):
    x = torch.full([4, 24], 4.0)
    out = fresh(print_in_inner_loop)(x)
    torch.testing.assert_close(out, torch.full([4], 96.0))
    assert "96" in capfd.readouterr().out


@deuteron.kernel
def print_no_args(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        print()
        out[tile] = x[tile]
    return out


@deuteron.kernel
def print_int_prefix(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        print(123, x[tile])
        out[tile] = x[tile]
    return out


@deuteron.kernel
def print_constant(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    n = x.size(0)
    for tile in hl.tile(n):
        print("n: ", n)
        out[tile] = x[tile]
    return out


@pytest.mark.parametrize("kernel,message", [
    (print_no_args, r"print\(\) requires at least one argument"),
    (print_int_prefix, r"First argument to print\(\) must be a string prefix"),
    (print_constant, r"print\(\) only supports runtime tensor values"),
])
def test_print_misuse_is_an_error(mode, kernel, message):
    with pytest.raises(exc.InvalidPrintCall, match=message) as info:
        fresh(kernel)(torch.randn(8))
    # Helion raises these as its InternalError; deuteron's class is that too, a
    # compile error at the call (not a report of a bug in deuteron).
    assert isinstance(info.value, exc.CompileError) and isinstance(info.value, exc.InternalError)
    assert "test_device_print.py:" in str(info.value) and "^" in str(info.value)
    assert "bug in deuteron" not in str(info.value)
