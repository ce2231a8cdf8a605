"""`while` loops inside tile loops on the GPU (compiled Triton: scf.while with
a scalar condition) against PyTorch (tests/kernels_while.py), including a spin
lock that programs really contend for."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import deuteron

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_while as K  # noqa: E402


def close(a, b, tol=1e-5):
    torch.testing.assert_close(a.cpu(), b.cpu(), atol=tol, rtol=tol)


@pytest.mark.parametrize("n", [0, 3])
def test_counter_and_carried_tile(n):
    x = torch.randn(1000, device="cuda")
    K.count_up.reset()
    close(K.count_up(x, n), K.count_up_ref(x.cpu(), n), tol=1e-4)


def test_zero_dim_tensor_counter():
    x = torch.zeros(300, device="cuda")
    K.zero_dim_counter.reset()
    close(K.zero_dim_counter(x), torch.full((300,), 4.0))


def test_condition_from_a_reduction():
    torch.manual_seed(0)
    x = torch.randn(64, 200, device="cuda") * torch.logspace(-2, 3, 64, device="cuda")[:, None]
    K.halve_rows.reset()
    out, ks = K.halve_rows(x)
    ref_out, ref_ks = K.halve_rows_ref(x.cpu())
    close(out, ref_out)
    torch.testing.assert_close(ks.cpu(), ref_ks)


def test_nested_while_and_if():
    torch.manual_seed(1)
    x = torch.randn(96, 64, device="cuda")
    K.nested.reset()
    run = K.nested.bind((x, 30.0)).compile_config(deuteron.Config(block_sizes=[16]))
    close(run(x, 30.0), K.nested_ref(x.cpu(), 30.0, 16), tol=1e-4)


def test_inner_tile_loop_in_the_body():
    x = torch.randn(130, 300, device="cuda")
    K.repeated_row_sums.reset()
    close(K.repeated_row_sums(x, 3), x.cpu().sum(-1) * 3, tol=1e-3)


def test_contended_spin_lock():
    # 4096 rows into 3 output rows: programs wait for each other's locks.
    torch.manual_seed(3)
    x = torch.randn(4096, 64, device="cuda")
    groups = torch.randint(0, 3, (4096,), device="cuda", dtype=torch.int32)
    lock = torch.zeros(3, dtype=torch.int32, device="cuda")
    out = torch.zeros(3, 64, device="cuda")
    ref = K.lock_add_ref(x.cpu(), groups.cpu(), out.cpu())
    K.lock_add.reset()
    close(K.lock_add(x, groups, lock, out), ref, tol=1e-3)
    assert lock.eq(0).all()


def test_spin_lock_over_one_lane_tiles():
    lock = torch.zeros(1024, dtype=torch.int32, device="cuda")
    K.lock_tiles.reset()
    assert K.lock_tiles(lock).eq(0).all()
