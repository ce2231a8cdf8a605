"""The per-loop config keys with Helion's entries, compiled and run on the GPU: the tl.range
knobs of a persistent loop over tiles, loop_orders and flatten_loops of an inner loop over
several dims, static_ranges of a short inner loop dim, a matmul whose K loop unrolls and
pipelines with block pointers (Helion's test_unroll_with_pipelining)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import deuteron

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kernels_loops import add_one, device_loop_3d, matmul, nested_2d, scale_rows  # noqa: E402

pytestmark = pytest.mark.gpu

C = deuteron.Config


@pytest.mark.parametrize("pid_type", ["persistent_blocked", "persistent_interleaved"])
@pytest.mark.parametrize("knobs", [
    dict(range_unroll_factors=[2]), dict(range_num_stages=[3]), dict(range_multi_buffers=[False]),
    dict(range_flattens=[True]),
    dict(range_unroll_factors=[2], range_num_stages=[3], range_multi_buffers=[True], range_flattens=[False]),
])
def test_persistent_loop_over_tiles_takes_the_grid_loop_entry(pid_type, knobs):
    x = torch.randn(640, 968, device="cuda")
    cfg = C(block_sizes=[32, 16], pid_type=pid_type, **knobs)
    torch.testing.assert_close(add_one.bind((x,)).compile_config(cfg)(x), x + 1)


@pytest.mark.parametrize("order", [[0, 1, 2], [1, 0, 2], [2, 0, 1]])
@pytest.mark.parametrize("flatten", [False, True])
def test_inner_loop_orders_and_flattening(order, flatten):
    x = torch.randn(16, 24, 20, 12, device="cuda")
    blocks = [2, 8, 4, 1] if not flatten else [2, 64, 2, 1]
    cfg = C(block_sizes=blocks, loop_orders=[order], flatten_loops=[flatten], range_unroll_factors=[0, 2, 0, 2])
    torch.testing.assert_close(device_loop_3d.bind((x,)).compile_config(cfg)(x), torch.sin(x))


def test_flattened_loop_with_a_row_from_before_it():
    x, s = torch.randn(64, 33, 17, device="cuda"), torch.randn(64, device="cuda")
    cfg = C(block_sizes=[4, 16, 8], flatten_loops=[True], indexing="tensor_descriptor")
    torch.testing.assert_close(scale_rows.bind((x, s)).compile_config(cfg)(x, s), x * s[:, None, None] + 1.0)


def test_static_range_of_a_short_inner_dim():
    x = torch.randn(64, 32, 4, device="cuda")
    for cfg in (C(block_sizes=[16, 16, 1], static_ranges=[True]),
                C(block_sizes=[16, 16, 1], static_ranges=[True], range_unroll_factors=[2], range_num_stages=[3])):
        torch.testing.assert_close(nested_2d.bind((x,)).compile_config(cfg)(x), x + 1)


def test_unroll_with_pipelining_in_a_persistent_matmul():
    a = torch.randn(256, 256, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(256, 256, device="cuda", dtype=torch.bfloat16)
    cfg = C(block_sizes=[64, 16, 16], indexing="block_ptr", loop_orders=[[1, 0]], pid_type="persistent_blocked",
            range_num_stages=[4, 2], range_unroll_factors=[4, 4])
    torch.testing.assert_close(matmul.bind((a, b)).compile_config(cfg)(a, b), a @ b, atol=1e-2, rtol=1e-2)
