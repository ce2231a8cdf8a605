"""Elementwise arithmetic on host tensors (``y = x * 0.5``, ``a + b``, ``-x``,
``x > 0``) in host code, alone or inside tuples and comprehensions, read by the
tile loops afterwards.  sema models the result's shape (broadcast) and dtype
(torch.result_type); Python computes it.  Both CPU modes.
"""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel(autotune_effort="none")
def scaled_sum(tensors: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> torch.Tensor:
    result = torch.zeros_like(tensors[0])
    scaled = tuple(t * s for t, s in zip(tensors, (0.5, 1.0, 1.5), strict=False))
    for tile in hl.tile(result.size(0)):
        acc = torch.zeros([tile], dtype=torch.float32, device=result.device)
        for t in scaled:
            acc += t[tile]
        result[tile] = acc
    return result


def test_comprehension_of_host_tensor_arithmetic(mode):
    ts = tuple(torch.randn(37) for _ in range(3))
    expected = ts[0] * 0.5 + ts[1] + ts[2] * 1.5
    torch.testing.assert_close(fresh(scaled_sum)(ts), expected)


@deuteron.kernel(autotune_effort="none")
def host_expressions(x: torch.Tensor, y: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    diff = x - y[None, :]          # broadcast [m, n] - [1, n]
    neg = -diff
    positive = x > 0               # bool tensor
    half = n / 2                   # int tensor / int: float32
    out = torch.empty_like(x)
    for tm, tn in hl.tile(x.size()):
        out[tm, tn] = torch.where(positive[tm, tn], neg[tm, tn], diff[tm, tn]) + half[tn]
    return out


def test_broadcast_negation_comparison_and_true_division(mode):
    x, y = torch.randn(12, 20), torch.randn(20)
    n = torch.arange(20, dtype=torch.int32)
    diff = x - y[None, :]
    expected = torch.where(x > 0, -diff, diff) + n / 2
    torch.testing.assert_close(fresh(host_expressions)(x, y, n), expected)


@deuteron.kernel(autotune_effort="none")
def int_scaled(x: torch.Tensor) -> torch.Tensor:
    doubled = x * 2                # stays int32 (a Python int does not promote)
    as_float = x * 0.5             # an int tensor times a float: float32
    out = torch.empty([x.size(0)], dtype=torch.float32, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = doubled[tile].to(torch.float32) + as_float[tile]
    return out


def test_result_dtypes_follow_torch_result_type(mode):
    x = torch.arange(-20, 21, dtype=torch.int32)
    torch.testing.assert_close(fresh(int_scaled)(x), (x * 2).float() + x * 0.5)


@deuteron.kernel(autotune_effort="none")
def mismatched(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    s = x + y
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = s[tile]
    return out


def test_constant_sizes_that_cannot_broadcast_are_a_compile_error(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    with pytest.raises(exc.CompileError, match=r"size of tensor a \(8\) must match the size of tensor b \(5\)"):
        fresh(mismatched).bind((torch.randn(8), torch.randn(5)))


@deuteron.kernel(autotune_effort="none")
def in_place_update(x: torch.Tensor) -> torch.Tensor:
    x += 1
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    return out


def test_in_place_host_update_is_not_a_new_tensor(monkeypatch):
    # `x += 1` writes the argument itself (not modeled): the device may not read it.
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    with pytest.raises(exc.CompileError, match="computed by host code"):
        fresh(in_place_update).bind((torch.randn(8),))
