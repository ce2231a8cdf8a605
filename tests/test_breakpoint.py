"""breakpoint() in kernels: in host code it is Python's, in every mode; in a tile
loop it stops where the kernel runs as Python -- the PyTorch reference code
(DEUTERON_INTERPRET=1, or Helion's HELION_INTERPRET=1) or the Triton code under
Triton's interpreter (TRITON_INTERPRET=1) -- and a compiled kernel is a
BreakpointInDeviceLoopRequiresInterpret error.  HELION_INTERPRET=1 together
with TRITON_INTERPRET=1 is Helion's IncompatibleInterpretModes."""

from __future__ import annotations

import builtins

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from deuteron.runtime.kernel import BoundKernel
from conftest import fresh


@deuteron.kernel
def device_breakpoint(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        breakpoint()
        out[tile] = x[tile] + 1
    return out


@deuteron.kernel
def hl_breakpoint(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile]
        hl.breakpoint()
        out[tile] = v * 2
    return out


@deuteron.kernel
def host_breakpoint(x: torch.Tensor) -> torch.Tensor:
    breakpoint()
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    return out


@deuteron.kernel
def breakpoint_with_arguments(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        breakpoint(x)
        out[tile] = x[tile]
    return out


@pytest.fixture
def stops(monkeypatch):
    """Counts the debugger's stops instead of stopping (builtins.breakpoint replaced)."""
    calls = []
    monkeypatch.setattr(builtins, "breakpoint", lambda *a, **k: calls.append(1))
    return calls


def test_device_breakpoint_stops_once_per_program(mode, stops):
    x = torch.arange(40, dtype=torch.float32)
    run = fresh(device_breakpoint).bind((x,)).compile_config(deuteron.Config(block_sizes=[16]))
    torch.testing.assert_close(run(x), x + 1)
    assert len(stops) == 3  # one per tile: 40 elements in blocks of 16


def test_hl_breakpoint(mode, stops):
    x = torch.arange(8, dtype=torch.float32)
    torch.testing.assert_close(fresh(hl_breakpoint)(x), x * 2)
    assert stops


def test_the_generated_code_calls_breakpoint(mode):
    x = torch.arange(8, dtype=torch.float32)
    bound = fresh(device_breakpoint).bind((x,))
    assert "    breakpoint()" in bound.to_triton_code(bound.default_config())
    assert "    breakpoint()" in bound.to_reference_code()


def test_host_breakpoint(mode, stops):
    x = torch.arange(8, dtype=torch.float32)
    torch.testing.assert_close(fresh(host_breakpoint)(x), x)
    assert len(stops) == 1


def test_helion_interpret_is_the_reference_mode(monkeypatch, stops):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    monkeypatch.setenv("HELION_INTERPRET", "1")
    x = torch.arange(8, dtype=torch.float32)
    bound = fresh(device_breakpoint).bind((x,))
    assert bound.backend == "reference"
    torch.testing.assert_close(bound(x), x + 1)
    assert stops


def test_compiled_device_breakpoint_is_an_error(monkeypatch):
    # No interpret mode: the kernel would be compiled (the device check is skipped
    # so that CPU tensors reach the compiler).
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    monkeypatch.delenv("HELION_INTERPRET", raising=False)
    monkeypatch.setattr(BoundKernel, "_device_problem", lambda self, device, args=(): None)
    with pytest.raises(exc.BreakpointInDeviceLoopRequiresInterpret,
                       match=r"breakpoint\(\) inside an `hl.tile` or `hl.grid` loop requires TRITON_INTERPRET=1 "
                             r"or DEUTERON_INTERPRET=1") as info:
        fresh(device_breakpoint).bind((torch.zeros(8),))
    assert "test_breakpoint.py:" in str(info.value) and "^" in str(info.value)


def test_breakpoint_takes_no_arguments(mode):
    with pytest.raises(exc.TypeInferenceError, match=r"breakpoint\(\) does not take any arguments"):
        fresh(breakpoint_with_arguments).bind((torch.zeros(8),))


def test_helion_and_triton_interpret_together_are_incompatible(monkeypatch):
    monkeypatch.setenv("HELION_INTERPRET", "1")
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    with pytest.raises(exc.IncompatibleInterpretModes, match="cannot be used together"):
        fresh(host_breakpoint).bind((torch.zeros(8),))
