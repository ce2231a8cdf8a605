"""Wrong or invalid generated code, each once seen running Helion's tests
under TRITON_INTERPRET=1, in both CPU modes (the `mode` fixture)."""

from __future__ import annotations

import pytest
import torch

import deuteron
import kernels_regressions as K
from conftest import fresh


def test_negative_constant_indices_count_from_the_end(mode):
    # x[-1] once addressed the element before the tensor (an out-of-bounds
    # write that corrupted the heap under the interpreter).
    src, dst = fresh(K.negative_scalar_index)(torch.zeros(128), torch.zeros(128))
    want_dst = torch.zeros(128)
    want_dst[-1] = 1.0
    want_src = torch.zeros(128)
    want_src[-2] = 1.0
    assert torch.equal(dst, want_dst) and torch.equal(src, want_src)

    x = fresh(K.negative_index_2d)(torch.zeros(64, 128))
    want = torch.zeros(64, 128)
    want[-1, -3] = 42.0
    assert torch.equal(x, want)

    x = torch.arange(50 * 7, dtype=torch.float32).reshape(50, 7)
    want = x.clone()
    want[:, -1] = want[:, -2] + 1.0
    assert torch.equal(fresh(K.negative_index_with_tile)(x), want)


def test_negative_constant_index_out_of_range_is_an_error(mode):
    with pytest.raises(deuteron.exc.CompileError, match="out of range"):
        fresh(K.negative_index_2d).bind((torch.zeros(2, 2),))


@pytest.mark.parametrize("config", [
    deuteron.Config(block_sizes=[1024, 1], flatten_loops=[True], loop_orders=[[1, 0]]),
    deuteron.Config(block_sizes=[64, 1], flatten_loops=[True]),
    deuteron.Config(block_sizes=[1, 128], flatten_loops=[True]),
])
def test_flattened_grid_with_a_block_of_one(mode, config):
    # A flattened grid's dims vary across a program's lanes even with a block
    # of 1: unit-dim elimination once made them a scalar offset the flat
    # kernel never defines (NameError: offset_1).
    x, y = torch.randn(100, 500), torch.randn(100, 500)
    torch.testing.assert_close(fresh(K.add_2d).bind((x, y)).compile_config(config)(x, y), x + y)
    z = torch.randn(96, 130)
    torch.testing.assert_close(fresh(K.zeros_accumulate_2d).bind((z,)).compile_config(config)(z), z * 2)


def test_torch_device_argument(mode):
    # The torch.library entry point once annotated it as `device: )`.
    out = fresh(K.device_argument)(100, torch.device("cpu"))
    assert torch.equal(out, torch.full([100], 2, dtype=torch.int32))


def test_bfloat16_dot(mode):
    # Triton 3.6's interpreter multiplies bfloat16 dot operands as their
    # uint16 bit patterns (results around 1e10); the operands are widened to
    # float32 there (exact), and stay bfloat16 on GPUs.
    g = torch.Generator().manual_seed(3)
    x = torch.randn(32, 48, generator=g).to(torch.bfloat16)
    y = torch.randn(48, 40, generator=g).to(torch.bfloat16)
    torch.testing.assert_close(fresh(K.bf16_matmul)(x, y), x.float() @ y.float(), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("n", [25, 1, 32])
def test_inner_loop_bound_from_an_int_argument(mode, n):
    # Seen on Helion's moe_matmul_ogs (max_T_per_expert) under TRITON_INTERPRET=1.
    x = torch.randn(4, 32)
    want = torch.zeros_like(x)
    want[:, :n] = x[:, :n] + 1
    assert torch.equal(fresh(K.rows_prefix_plus_one)(x, n), want)


def test_gather_index_store_with_extra_mask(mode):
    src = torch.randn(40, 24)
    rows = torch.randperm(40)
    out = fresh(K.scatter_rows_masked)(src, rows, 13, torch.zeros(40, 24))
    want = torch.zeros(40, 24)
    want[rows[:13]] = src[:13] * 2
    assert torch.equal(out, want)
