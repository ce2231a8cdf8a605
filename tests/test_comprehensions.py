"""Comprehensions (list, generator, dict) over sequences known when compiling,
in host code and inside tile loops, unrolled when compiling; zip / enumerate
of such sequences; and the error for a comprehension inside a tile loop over
something known only at run time.  Both CPU modes.
"""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel
def host_comprehensions(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    multipliers = [m * 2 for m in (1, 2, 3)]                     # [2, 4, 6]
    offsets = tuple(i + 1 for i in range(3) if i != 1)           # (1, 3)
    table = {k: (k + 1) * 10 for k in range(4)}                  # {0: 10, 1: 20, 2: 30, 3: 40}
    pairs = [(a, b) for a in (1, 2) for b in (10, 20)]           # nested clauses
    for tile in hl.tile(x.size(0)):
        acc = hl.zeros([tile], dtype=torch.float32)
        for m in multipliers:
            acc += x[tile] * m                                   # 12 x
        for o in offsets:
            acc += o                                             # + 4
        acc += table[2] + table[3]                               # + 70
        for a, b in pairs:
            acc += a * b                                         # + 90
        out[tile] = acc
    return out


def test_host_comprehensions(mode):
    x = torch.randn(50)
    torch.testing.assert_close(fresh(host_comprehensions)(x), x * 12 + 164)


@deuteron.kernel
def device_comprehensions(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    host = [i * 2 for i in (1, 2)]
    for tile in hl.tile(x.size(0)):
        vals = [x[tile], y[tile]]
        scaled = tuple(v * s for v, s in zip(vals, (0.5, 2.0), strict=True))   # device values
        weights = {name: w for name, w in (("a", 1.0), ("b", 3.0))}
        squares = [v * v for v in vals]
        acc = torch.zeros([tile], dtype=torch.float32, device=x.device)
        for h in host:
            for d in [i + 1 for i in range(2)]:
                acc += scaled[0] * h * d                       # (2 + 4) * (1 + 2) = 18 * x/2
        for i, s in enumerate(squares, start=1):
            acc += s * i * weights["b" if i == 2 else "a"]     # x^2 + 6 y^2
        out[tile] = acc + scaled[1] + len(weights)
    return out


def test_device_comprehensions(mode):
    x, y = torch.randn(37), torch.randn(37)
    expect = x * 9 + x * x + 6 * y * y + y * 2 + 2
    torch.testing.assert_close(fresh(device_comprehensions)(x, y), expect, rtol=1e-5, atol=1e-5)


@deuteron.kernel
def dict_methods(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    d = {k: k * k for k in (1, 2, 3, 2)}                       # a repeated key keeps its place
    for tile in hl.tile(x.size(0)):
        acc = x[tile]
        for k, v in d.items():
            acc = acc * 1 + k * v                              # 1 + 8 + 27
        for k in d:
            acc = acc + k                                      # + 6
        acc = acc + sum_of(list(d.values())) + d.get(5, 100)   # + 14 + 100
        out[tile] = acc
    return out


def sum_of(values):
    total = 0
    for v in values:
        total = total + v
    return total


def test_dict_methods(mode):
    x = torch.randn(10)
    torch.testing.assert_close(fresh(dict_methods)(x), x + 36 + 6 + 14 + 100)


@deuteron.kernel
def comprehension_over_a_device_tensor(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = sum_of([v for v in x[tile]])
    return out


def test_comprehension_over_a_device_value_is_an_error(mode):
    with pytest.raises(exc.CompileError, match="comprehension inside a tile loop is unrolled when compiling"):
        fresh(comprehension_over_a_device_tensor)(torch.randn(8))


@deuteron.kernel
def host_comprehension_over_runtime_values(x: torch.Tensor, n: int) -> torch.Tensor:
    # n is not a constant: Python runs this comprehension; the kernel does not use it.
    sizes = [i for i in range(n)]
    out = torch.zeros_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + 1
    return out + len(sizes)


def test_host_comprehension_over_runtime_values_runs_in_python(mode):
    x = torch.randn(6)
    torch.testing.assert_close(fresh(host_comprehension_over_runtime_values)(x, 3), x + 4)


@deuteron.kernel
def missing_key(x: torch.Tensor) -> torch.Tensor:
    d = {i: i for i in range(2)}
    out = torch.zeros_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * d[7]
    return out


def test_missing_dict_key_is_an_error(mode):
    with pytest.raises(exc.CompileError, match="KeyError: 7"):
        fresh(missing_key)(torch.randn(8))


@deuteron.kernel(config=deuteron.Config(block_sizes=[16]))
def dict_unpacking(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    base = {"a": 1.0, "b": 2.0}
    scales = {"a": 0.5, **base, "c": 3.0}  # host code: a Python dict
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        d = {**scales, "b": 10.0}  # later entries win, as in Python
        out[tile] = x[tile] * d["a"] + y[tile] * d["b"] + d["c"]
    return out


def test_dict_displays_unpack_mappings(mode):
    x, y = torch.randn(40), torch.randn(40)
    torch.testing.assert_close(fresh(dict_unpacking)(x, y), x + y * 10.0 + 3.0)
