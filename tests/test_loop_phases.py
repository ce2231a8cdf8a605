"""Helion's rules for a kernel's top-level loops (sema/loop_phases.cc): Helion
runs the loops between hl.barrier() calls as one launch, so a loop may not
read or write a tensor an earlier loop of its phase wrote (LoopDependencyError)
and no statement but hl.barrier() may stand between two top-level loops
(TopLevelStatementBetweenLoops).  deuteron keeps both, so that a kernel means
the same under Helion; with a barrier between them dependent loops run in
order (each loop is its own launch)."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel
def write_then_update(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile]
    for tile in hl.tile(y.size()):
        out[tile] += y[tile]
    return out


@deuteron.kernel
def update_argument_then_read(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        y[tile] += x[tile]
    for tile in hl.tile(y.size()):
        out[tile] = y[tile] * 2
    return out


@deuteron.kernel
def atomic_then_read(x: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        hl.atomic_add(counts, [0], 1)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + counts[0]
    return out


@deuteron.kernel
def through_a_view(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    rows = x.view(4, -1)
    for tile in hl.tile(4):
        rows[tile, :] = rows[tile, :] * 2
    for tile in hl.tile(x.size()):
        out[tile] = x[tile]
    return out


@deuteron.kernel
def statement_between(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    for tile in hl.tile(x.size()):
        x[tile] += x[tile]
    scale = x.sum()
    for tile in hl.tile(y.size()):
        y[tile] += y[tile]
    return x * scale + y


@deuteron.kernel
def with_barrier(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile]
    hl.barrier()
    for tile in hl.tile(y.size()):
        out[tile] += y[tile]
    return out


@deuteron.kernel
def independent_loops(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # Both loops read x and name their locals alike: nothing one writes is touched by the other.
    a = torch.empty_like(x)
    b = torch.empty_like(y)
    for tile in hl.tile(x.size()):
        v = x[tile] * 2
        a[tile] = v
    for tile in hl.tile(y.size()):
        v = x[tile] + y[tile]
        b[tile] = v
    return a, b


@pytest.mark.parametrize("kernel, name, extra", [
    (write_then_update, "out", ""),
    (update_argument_then_read, "y", ""),
    (atomic_then_read, "counts", ""),
    (through_a_view, "rows", "'x' shares its memory"),
])
def test_a_loop_touching_what_an_earlier_loop_wrote(mode, kernel, name, extra):
    args = (torch.randn(16), torch.zeros(1, dtype=torch.int32)) if kernel is atomic_then_read else (
        (torch.randn(16),) if kernel is through_a_view else (torch.randn(16), torch.randn(16)))
    with pytest.raises(exc.LoopDependencyError,
                       match=rf"Loop dependency detected: '{name}' was written in a previous loop\. If this "
                             rf"dependency is intentional, insert hl\.barrier\(\) between the loops\.") as info:
        fresh(kernel).bind(args)
    message = str(info.value)
    assert "test_loop_phases.py:" in message and "^" in message
    assert extra in message


def test_a_statement_between_loops(mode):
    with pytest.raises(exc.TopLevelStatementBetweenLoops,
                       match=r"Statements cannot appear between top level loops: this one follows the loop at line "
                             r"\d+ and precedes the loop at line \d+") as info:
        fresh(statement_between).bind((torch.randn(16), torch.randn(16)))
    assert "scale = x.sum()" in str(info.value)


def test_a_barrier_separates_dependent_loops(mode):
    x, y = torch.randn(40), torch.randn(40)
    torch.testing.assert_close(fresh(with_barrier)(x, y), x + y)


def test_loops_that_share_only_reads_and_local_names(mode):
    x, y = torch.randn(40), torch.randn(40)
    a, b = fresh(independent_loops)(x, y)
    torch.testing.assert_close(a, x * 2)
    torch.testing.assert_close(b, x + y)
