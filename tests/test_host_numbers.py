"""Numbers host code computes at run time and tile loops use: arithmetic on a
float argument (`scale = 1.0 / (1.0 - p)`), math on a symbolic size
(`1.0 / math.sqrt(head_dim)` under dynamic shapes), a number either branch of a
host `if` binds (`num_groups = h // hk` or `1`).  Python computes them; the
kernel receives them as scalar arguments.  In both CPU modes, against PyTorch."""

from __future__ import annotations

import math

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel
def scale_by_keep(p: float, x: torch.Tensor) -> torch.Tensor:
    scale = 1.0 / (1.0 - p)
    out = torch.empty_like(x)
    for t in hl.tile(x.numel()):
        out[t] = x[t] * scale
    return out


@deuteron.kernel(static_shapes=False)
def scale_by_inv_sqrt_of_size(x: torch.Tensor) -> torch.Tensor:
    sm_scale = 1.0 / math.sqrt(x.size(1))
    qk_scale = sm_scale * 1.44269504
    out = torch.empty_like(x)
    for tm, tn in hl.tile(x.size()):
        out[tm, tn] = x[tm, tn] * qk_scale
    return out


@deuteron.kernel(static_shapes=False)
def scale_by_inv_size_squared(x: torch.Tensor) -> torch.Tensor:
    alpha = 1.0 / x.size(1) ** 2
    neg = -alpha
    out = torch.empty_like(x)
    for tm, tn in hl.tile(x.size()):
        out[tm, tn] = x[tm, tn] * neg
    return out


@deuteron.kernel
def group_rows(x: torch.Tensor, groups: int, grouped: bool) -> torch.Tensor:
    # One output row per group of rows: the group size is whichever branch ran.
    n = x.size(0)
    if grouped:
        per_group = n // groups  # an int either way: a host symbol read after the `if`
    else:
        per_group = 1
    out = torch.zeros([n], dtype=x.dtype, device=x.device)
    for t in hl.tile(n):
        out[t] = x[t] + (t.index // per_group).to(x.dtype)
    return out


@deuteron.kernel
def rebound_after_use(p: float, x: torch.Tensor) -> torch.Tensor:
    scale = p * 2.0
    out = torch.empty_like(x)
    for t in hl.tile(x.numel()):
        out[t] = x[t] * scale
    scale = p * 100.0  # after the loop: the kernel saw the value above
    return out


@deuteron.kernel
def float_either_branch(x: torch.Tensor, p: float, flip: bool) -> torch.Tensor:
    if flip:
        s = -p
    else:
        s = p * 0.5
    out = torch.empty_like(x)
    for t in hl.tile(x.numel()):
        out[t] = x[t] * s
    return out


def test_float_argument_arithmetic(mode):
    x = torch.randn(300)
    k = fresh(scale_by_keep)
    torch.testing.assert_close(k(0.25, x), x / 0.75)
    torch.testing.assert_close(k(0.5, x), x * 2.0)  # the same kernel, another value


@pytest.mark.parametrize("d", [16, 48])
def test_math_on_a_symbolic_size(mode, d):
    x = torch.randn(10, d)
    torch.testing.assert_close(fresh(scale_by_inv_sqrt_of_size)(x), x * (1.0 / math.sqrt(d) * 1.44269504))


def test_symbolic_size_power_and_negation(mode):
    x = torch.randn(6, 12)
    torch.testing.assert_close(fresh(scale_by_inv_size_squared)(x), x * -(1.0 / 144))


@pytest.mark.parametrize("grouped", [True, False])
def test_int_bound_by_either_branch(mode, grouped):
    x = torch.randn(64)
    per_group = 64 // 4 if grouped else 1
    expect = x + (torch.arange(64) // per_group).to(x.dtype)
    torch.testing.assert_close(fresh(group_rows)(x, 4, grouped), expect)


@pytest.mark.parametrize("flip", [True, False])
def test_float_bound_by_either_branch(mode, flip):
    x = torch.randn(100)
    expect = x * (-0.3 if flip else 0.15)
    torch.testing.assert_close(fresh(float_either_branch)(x, 0.3, flip), expect)


def test_value_is_read_where_it_is_computed(mode):
    x = torch.randn(50)
    torch.testing.assert_close(fresh(rebound_after_use)(0.5, x), x * 1.0)


def test_generated_host_code_reads_the_name_after_its_statement(mode):
    bound = scale_by_keep.bind((0.25, torch.randn(8)))
    code = bound.to_triton_code(bound.default_config())
    # Python computes it; the launch passes the name.
    lines = [ln.strip() for ln in code.splitlines()]
    assert "scale = 1.0 / (1.0 - p)" in lines
    assert any(ln.startswith("_launch_0(") and ", scale, " in ln for ln in lines)


def test_a_host_number_in_a_list_argument(mode):
    @deuteron.kernel
    def k(x: torch.Tensor, items: list[float]) -> torch.Tensor:
        out = torch.empty_like(x)
        for t in hl.tile(x.numel()):
            out[t] = x[t] * items[0]
        return out

    x = torch.randn(20)
    torch.testing.assert_close(fresh(k)(x, [2.0]), x * 2.0)


@deuteron.kernel
def block_partial_sums(x: torch.Tensor) -> torch.Tensor:
    # A host tensor sized by a registered block size, and the block size in
    # device arithmetic (Helion's layer_norm backward, mamba2_chunk_scan).
    m_block = hl.register_block_size(x.size(0))
    n = hl.specialize(x.size(1))
    num_blocks = (x.size(0) + m_block - 1) // m_block
    partial = x.new_empty([num_blocks, n], dtype=torch.float32)
    for mb in hl.tile(x.size(0), block_size=m_block):
        acc = x.new_zeros(n, dtype=torch.float32)
        for t in hl.tile(mb.begin, mb.end):
            acc += x[t, :].to(torch.float32).sum(0)
        partial[mb.id, :] = acc * (m_block * 0 + 1)
    return partial


@pytest.mark.parametrize("block", [8, 32])
def test_registered_block_size_in_host_and_device_arithmetic(mode, block):
    x = torch.randn(100, 16)
    k = fresh(block_partial_sums)
    got = k.bind((x,)).compile_config(deuteron.Config(block_sizes=[block, 4]))(x)
    assert got.shape == ((100 + block - 1) // block, 16)
    torch.testing.assert_close(got.sum(0), x.sum(0), rtol=1e-4, atol=1e-4)


class _Machine:
    """Stands for a runtime query deuteron does not model (Helion's get_num_sm(device))."""

    def __init__(self, workers):
        self.workers = workers

    def num_workers(self, x: torch.Tensor):
        return self.workers


_MACHINE = _Machine(3)
_ODD_MACHINE = _Machine(4.0)


@deuteron.kernel
def per_worker_rows(x: torch.Tensor) -> torch.Tensor:
    # A loop bound and a size computed by a function deuteron does not model:
    # Python's value, read after the statement (grouped_gemm's persistent workers).
    num_workers = _MACHINE.num_workers(x)
    n = x.size(0)
    out = x.new_zeros([num_workers, n])
    for w in hl.grid(num_workers):
        for t in hl.tile(n, block_size=16):
            out[w, t] = x[t] * (w + 1)
    return out


def test_loop_bound_computed_by_an_unmodeled_function(mode):
    x = torch.randn(40)
    expect = x[None, :] * torch.arange(1, 4, dtype=x.dtype)[:, None]
    torch.testing.assert_close(fresh(per_worker_rows)(x), expect)


def test_an_unmodeled_loop_bound_that_is_not_an_int_fails_at_the_call(mode):
    @deuteron.kernel
    def k(x: torch.Tensor) -> torch.Tensor:
        count = _ODD_MACHINE.num_workers(x)
        out = torch.zeros_like(x)
        for w in hl.grid(count):
            out[w] = x[w]
        return out

    with pytest.raises(TypeError, match="cannot be interpreted as an integer"):
        fresh(k)(torch.randn(8))
