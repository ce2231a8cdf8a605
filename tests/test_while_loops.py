"""`while cond:` inside tile loops: a loop whose condition (one value: a device
scalar, or a tensor over tiles of one lane) is tested before every iteration,
carrying the names its body assigns, in both CPU modes against PyTorch
(tests/kernels_while.py); and the errors for what is not supported."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh

import kernels_while as K


def close(a, b, tol=1e-5):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


@pytest.mark.parametrize("n", [0, 1, 5])
def test_counter_and_carried_tile(mode, n):
    x = torch.randn(100)
    close(fresh(K.count_up)(x, n), K.count_up_ref(x, n))


def test_zero_dim_tensor_counter(mode):
    x = torch.zeros(16)
    close(fresh(K.zero_dim_counter)(x), torch.full_like(x, 4.0))


def test_condition_from_a_reduction(mode):
    torch.manual_seed(0)
    x = torch.randn(6, 40) * torch.tensor([0.5, 3.0, 100.0, 1.0, 7.0, 0.01])[:, None]
    out, ks = fresh(K.halve_rows)(x)
    ref_out, ref_ks = K.halve_rows_ref(x)
    close(out, ref_out)
    torch.testing.assert_close(ks, ref_ks)


def test_nested_while_and_if(mode):
    torch.manual_seed(1)
    x = torch.randn(24, 16)
    run = fresh(K.nested).bind((x, 30.0)).compile_config(deuteron.Config(block_sizes=[8]))
    close(run(x, 30.0), K.nested_ref(x, 30.0, 8), tol=1e-4)


@pytest.mark.parametrize("reps", [0, 3])
def test_inner_tile_loop_in_the_body(mode, reps):
    torch.manual_seed(2)
    x = torch.randn(20, 50)
    close(fresh(K.repeated_row_sums)(x, reps), x.sum(-1) * reps, tol=1e-4)


def test_spin_lock_on_a_scalar_index(mode):
    torch.manual_seed(3)
    x = torch.randn(12, 8)
    groups = torch.tensor([0, 2, 1, 0, 2, 2, 1, 0, 3, 3, 0, 1], dtype=torch.int32)
    lock = torch.zeros(4, dtype=torch.int32)
    out = torch.randn(4, 8)
    ref = K.lock_add_ref(x, groups, out)
    close(fresh(K.lock_add)(x, groups, lock, out), ref)
    assert lock.eq(0).all()


def test_spin_lock_over_one_lane_tiles(mode):
    lock = torch.zeros(16, dtype=torch.int32)
    bound = fresh(K.lock_tiles).bind((lock,))
    # The tile feeds the condition: only blocks of one lane, in the space and by default.
    assert bound.config_spec.block_sizes[0].max_size == 1
    assert bound.default_config().block_sizes == [1]
    out = bound(lock)
    assert out.eq(0).all()
    code = bound.to_triton_code(bound.default_config())
    assert "while while_cond:" in code and "tl.atomic_cas" in code


def test_a_config_giving_the_condition_more_lanes_is_an_error(mode):
    lock = torch.zeros(16, dtype=torch.int32)
    bound = fresh(K.lock_tiles).bind((lock,))
    with pytest.raises(exc.ConfigError, match=r"must be at most 1: the while loop at line \d+ tests a value over the "
                                              r"tile idx"):
        bound.normalize_config(deuteron.Config(block_sizes=[4]))


def test_a_carried_value_nothing_reads(mode):
    x = torch.randn(50)
    close(fresh(K.overwritten_unread)(x), x * 0.125)


def test_a_condition_false_when_compiling_never_runs_the_body(mode):
    x = torch.randn(10)
    close(fresh(K.never_runs)(x), x)
    assert "while_cond" not in (b := fresh(K.never_runs).bind((x,))).to_triton_code(b.default_config())


# ------------------------------------------------------------------ errors


@deuteron.kernel
def several_lanes(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0), block_size=16):
        v = x[tile]
        while v > 1.0:
            v = v * 0.5
        out[tile] = v
    return out


@deuteron.kernel
def whole_row_condition(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for i in hl.grid(x.size(0)):
        row = x[i, :]
        while row > 1.0:
            row = row * 0.5
        out[i, :] = row
    return out


@deuteron.kernel
def forever(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile]
        while True:
            v = v + 1
        out[tile] = v
    return out


@deuteron.kernel
def while_else(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        flag = 0
        while flag == 0:
            flag = 1
        else:
            out[tile] = x[tile]
    return out


@deuteron.kernel
def while_break(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile]
        k = 0
        while k < 3:
            k += 1
            break
        out[tile] = v
    return out


@deuteron.kernel
def kind_changes(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile]
        k = 0
        j = 0
        while j < 3:
            k = (1, 2)
            j += 1
        out[tile] = v
    return out


@deuteron.kernel
def host_tensor_condition(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        while x:
            pass
        out[tile] = x[tile]
    return out


@deuteron.kernel
def body_local_after(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        k = 0
        while k < 2:
            fresh_name = x[tile] * k
            k += 1
        out[tile] = fresh_name
    return out


@pytest.mark.parametrize("kernel, kind, message", [
    (several_lanes, exc.CompileError, r"the condition of a while loop must be one value, got a tensor of shape "
                                      r"\[tile\]: the tile tile has blocks of 16 lanes"),
    (whole_row_condition, exc.CompileError, r"one of its axes is a whole dim of 32 elements"),
    (forever, exc.CompileError, r"this while loop never ends"),
    (while_else, exc.StatementNotSupported, r"while-else"),
    (while_break, exc.CompileError, r"break is not supported inside tile loops"),
    (kind_changes, exc.CompileError, r"'k' holds a number or tensor before this loop but a tuple"),
    (host_tensor_condition, exc.HostTensorDirectUsage, r"the condition of a while loop: the host tensor 'x'"),
    (body_local_after, exc.CompileError, r"'fresh_name' is assigned inside the while loop at line \d+ and not "
                                         r"before it"),
])
def test_errors_name_the_construct(mode, kernel, kind, message):
    x = torch.randn(8, 32) if kernel is whole_row_condition else torch.randn(32)
    with pytest.raises(kind, match=message) as info:
        fresh(kernel).bind((x,))
    err = info.value
    assert err.filename.endswith("test_while_loops.py") and err.line > 0 and err.col > 0
    assert "^" in str(err)
