"""hl.barrier() between top-level loops: each loop is its own launch, in program
order, so a phase reads what the phases before it stored; the call itself
generates nothing.  As in Helion (which runs the phases as one persistent
kernel) the pid_type must be persistent: the default and the search take
persistent_blocked / persistent_interleaved only, another is a
BarrierRequiresPersistent ConfigError.  Inside a tile loop hl.barrier() is a
BarrierOnlyAllowedAtTopLevel compile error.
"""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel
def two_phases(x: torch.Tensor) -> torch.Tensor:
    tmp = torch.empty_like(x)
    out = torch.empty_like(x)
    for t in hl.tile(x.size(0)):
        tmp[t] = x[t] * 2
    hl.barrier()
    for t in hl.tile(x.size(0)):
        # Reads tmp in reverse: another program's (and another block's) elements.
        out[t] = tmp[x.size(0) - 1 - t.index] + 1
    return out


@deuteron.kernel
def three_phases_two_groups(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    a = torch.empty_like(x)
    b = torch.empty_like(x)
    out = torch.empty_like(x)
    for t in hl.tile(x.size(0)):
        a[t] = x[t] + 1
    for t in hl.tile(x.size(0)):
        b[t] = y[t] + 5
    hl.barrier()
    for t in hl.tile(x.size(0)):
        out[t] = (a[t] + b[t]) * 2
    hl.barrier()
    for t in hl.tile(x.size(0)):
        out[t] = out[t] + 7
    return out


@deuteron.kernel
def split_sum(x: torch.Tensor) -> torch.Tensor:
    # Per-row partial sums, then the rows' total from every partial (a reduction
    # over values other programs wrote).
    m, n = x.shape
    partial = torch.empty([m], dtype=torch.float32, device=x.device)
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tm in hl.tile(m):
        partial[tm] = x[tm, :].to(torch.float32).sum(-1)
    hl.barrier()
    for tm in hl.tile(m):
        out[tm] = partial[tm] * 2.0 + partial[:].sum()
    return out


@pytest.mark.parametrize("pid_type", ["persistent_blocked", "persistent_interleaved"])
def test_phases_see_earlier_phases(mode, pid_type):
    x = torch.arange(37, dtype=torch.float32)
    run = fresh(two_phases).bind((x,)).compile_config(deuteron.Config(block_sizes=[8, 16], pid_type=pid_type))
    out = run(x)
    torch.testing.assert_close(out, x.flip(0) * 2 + 1)


@pytest.mark.parametrize("pid_type", ["flat", "xyz"])
def test_a_pid_type_that_is_not_persistent_is_an_error(mode, pid_type):
    x = torch.arange(37, dtype=torch.float32)
    bound = fresh(two_phases).bind((x,))
    assert bound.default_config().pid_type == "persistent_blocked"
    with pytest.raises(exc.BarrierRequiresPersistent, match=rf"hl\.barrier\(\) requires pid_type to be persistent "
                                                            rf"\(got '{pid_type}'\)"):
        bound.compile_config(deuteron.Config(block_sizes=[8, 16], pid_type=pid_type))
    assert issubclass(exc.BarrierRequiresPersistent, exc.ConfigError)


def test_the_search_takes_persistent_pid_types_only(monkeypatch):
    import json

    from deuteron.runtime.core import core

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    x = torch.arange(37, dtype=torch.float32)
    bound = fresh(two_phases).bind((x,))
    assert json.loads(bound.tune_spec_json())["barrier_phases"] is True
    space = core().SearchSession(bound.tune_spec_json(), dict(bound.device_info), None, "random", 1, "quick", None)
    (pid,) = [p for p in json.loads(space.describe()) if p["name"] == "pid_type"]
    assert pid["choices"] and set(pid["choices"]) <= {"persistent_blocked", "persistent_interleaved"}
    for config in space.ask(8):
        assert json.loads(config)["pid_type"] in ("persistent_blocked", "persistent_interleaved")


def test_several_barriers_and_loops_between(mode):
    x = torch.arange(20, dtype=torch.float32)
    y = torch.arange(20, dtype=torch.float32) * 3
    out = fresh(three_phases_two_groups)(x, y)
    torch.testing.assert_close(out, ((x + 1) + (y + 5)) * 2 + 7)


def test_reduction_phases(mode):
    x = torch.randn(24, 40)
    out = fresh(split_sum)(x)
    rows = x.sum(-1)
    torch.testing.assert_close(out, rows * 2 + rows.sum(), rtol=1e-4, atol=1e-4)


def test_barrier_generates_nothing(mode):
    x = torch.arange(8, dtype=torch.float32)
    bound = fresh(two_phases).bind((x,))
    for code in (bound.generate(backend="triton"), bound.to_reference_code()):
        # Only a comment keeps it: `None  # hl.barrier()` where the host code had the call.
        assert "None  # hl.barrier()" in code
        # (The reference module's line table quotes the kernel's source lines: data, not code.)
        code = code.split("_deuteron_spans = [")[0]
        assert not any("barrier" in line.split("#")[0] for line in code.splitlines())


@deuteron.kernel
def barrier_in_loop(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for t in hl.tile(x.size(0)):
        hl.barrier()
        out[t] = x[t]
    return out


def test_barrier_inside_a_loop_is_an_error(mode):
    with pytest.raises(exc.BarrierOnlyAllowedAtTopLevel, match=r"hl\.barrier\(\) is only supported between") as info:
        fresh(barrier_in_loop)(torch.zeros(8))
    assert "test_barrier.py:" in str(info.value) and "^" in str(info.value)


def test_barrier_outside_a_kernel():
    with pytest.raises(exc.NotInsideKernelError):
        hl.barrier()
