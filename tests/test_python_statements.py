"""Python statements the parser lowers to plain ones (frontend/desugar.h), in real
kernels: assignment expressions (`name := value`), a for/while loop's `else` clause,
and `global`/`nonlocal` declarations of names the kernel only reads.  Host code and
tile loops, both CPU modes; and the errors where the lowering would change what the
program means.
"""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh

SCALE = 3.0


@deuteron.kernel
def walrus_kernel(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    if (n := x.size(0)) > 8:                        # host: an if condition
        bias = n * 0.5
    else:
        bias = 0.0
    for tile in hl.tile(n):
        y = (v := x[tile]) * v                      # device: a value read again in the statement
        out[tile] = y + (w := v + 1.0) * w + bias
    return out


def test_assignment_expressions_in_host_and_device_code(mode):
    x = torch.randn(40)
    torch.testing.assert_close(fresh(walrus_kernel)(x), x * x + (x + 1) ** 2 + 20.0)


@deuteron.kernel
def loop_else_kernel(x: torch.Tensor, limit: int) -> torch.Tensor:
    out = torch.empty_like(x)
    total = 0
    for i in range(4):                              # host loop without break: else always runs
        total += i
    else:
        total += 100
    for tile in hl.tile(x.size(0)):
        acc = x[tile]
        for k in range(3):                          # device-side unrolled loop, else clause
            acc = acc + k
        else:
            acc = acc * 2
        out[tile] = acc + total
    for i in range(6):                              # host loop with break: else runs when none did
        if i * i > limit:                           # (host only: break is not a device statement)
            found = i
            break
    else:
        found = 99
    return out * found


def test_loop_else_clauses(mode):
    x = torch.randn(33)
    # range(4) sums to 6, +100; (x + 3) * 2; 3 * 3 > 5 breaks at i = 3.
    torch.testing.assert_close(fresh(loop_else_kernel)(x, 5), ((x + 3) * 2 + 106) * 3)
    # Nothing breaks below 36: the else gives 99.
    torch.testing.assert_close(fresh(loop_else_kernel)(x, 40), ((x + 3) * 2 + 106) * 99)


@deuteron.kernel
def global_read_kernel(x: torch.Tensor) -> torch.Tensor:
    global SCALE
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * SCALE
    return out


def test_a_global_declaration_of_a_name_only_read(mode):
    x = torch.randn(20)
    torch.testing.assert_close(fresh(global_read_kernel)(x), x * 3.0)


def test_assigning_a_declared_global_is_an_error():
    @deuteron.kernel
    def k(x: torch.Tensor) -> torch.Tensor:
        global SCALE
        SCALE = 2.0
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = x[tile] * SCALE
        return out

    with pytest.raises(exc.StatementNotSupported) as info:
        k.bind((torch.randn(8),))
    text = str(info.value)
    assert "assigning to a global name ('SCALE') is not supported in kernels" in text
    assert "SCALE = 2.0" in text and "^" in text


def test_a_walrus_read_before_it_in_the_statement_is_an_error():
    @deuteron.kernel
    def k(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            v = x[tile]
            out[tile] = v + (v := v * 2)
        return out

    with pytest.raises(exc.StatementNotSupported, match="'v' is read before the assignment expression"):
        k.bind((torch.randn(8),))


def test_a_walrus_in_a_while_condition_is_an_error():
    @deuteron.kernel
    def k(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            i = 0
            while (j := i + 1) < 3:
                i = j
            out[tile] = x[tile] + i
        return out

    with pytest.raises(exc.StatementNotSupported, match="in a while condition"):
        k.bind((torch.randn(8),))
