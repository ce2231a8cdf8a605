"""Inner tile loops whose iterations are independent become grid dims
(passes/independent_loops_to_grid.cc): the results match PyTorch in both CPU modes,
with the config's grid loop order, persistent program ids and a dot in the loop;
the Triton code has no loop left for them; and the loops that must keep their order
stay loops.
"""

from __future__ import annotations

import re

import pytest
import torch

import deuteron
import deuteron.language as hl
from conftest import fresh


@deuteron.kernel(autotune_effort="none")
def scaled_columns(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        scale = s[tile_m]
        for tile_n in hl.tile(n):
            out[tile_m, tile_n] = x[tile_m, tile_n] * scale[:, None] + 1.0
    return out


@deuteron.kernel(autotune_effort="none")
def batched_columns(x: torch.Tensor) -> torch.Tensor:
    b, m, n = x.shape
    out = torch.empty_like(x)
    for tile_b, tile_m in hl.tile([b, m]):
        for tile_n in hl.tile(n):
            out[tile_b, tile_m, tile_n] = x[tile_b, tile_m, tile_n] * 2.0 - tile_n.index[None, None, :]
    return out


@deuteron.kernel(autotune_effort="none")
def row_projection(x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    m, k = x.shape
    r = a.size(1)
    out = torch.empty([m, r], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        for tile_r in hl.tile(r):
            acc = hl.zeros([tile_m, tile_r], dtype=torch.float32)
            for tile_k in hl.tile(k):
                acc = torch.addmm(acc, x[tile_m, tile_k], a[tile_k, tile_r])
            out[tile_m, tile_r] = torch.relu(acc)
    return out


@deuteron.kernel(autotune_effort="none")
def in_place_columns(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    for tile_m in hl.tile(m):
        for tile_n in hl.tile(n):
            x[tile_m, tile_n] = x[tile_m, tile_n] * 3.0
    return x


@deuteron.kernel(autotune_effort="none")
def shift_left_in_place(x: torch.Tensor) -> torch.Tensor:
    # Each column block reads one column of the next block before that block is
    # written (in loop order): as programs, the next block could be written first.
    m, n = x.shape
    for tile_m in hl.tile(m):
        for tile_n in hl.tile(n - 1):
            x[tile_m, tile_n] = x[tile_m, tile_n.index + 1]
    return x


@deuteron.kernel(autotune_effort="none")
def columns_and_row_total(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    m, n = x.shape
    out = torch.empty_like(x)
    total = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(n):
            v = x[tile_m, tile_n]
            out[tile_m, tile_n] = v + 1.0
            acc = acc + v.sum(-1)
        total[tile_m] = acc
    return out, total


def _loops(kernel, args, config):
    """The tl.range loops of the kernel's Triton code for this config."""
    code = kernel.bind(args).to_triton_code(config)
    return re.findall(r"for offset_\d+ in tl\.range", code)


def test_a_column_loop_becomes_programs(mode):
    x, s = torch.randn(100, 300), torch.randn(100)
    cfg = {"block_sizes": [32, 64]}
    fn = fresh(scaled_columns).bind((x, s)).compile_config(cfg)
    torch.testing.assert_close(fn(x, s), x * s[:, None] + 1.0)
    assert _loops(scaled_columns, (x, s), cfg) == []


@pytest.mark.parametrize("config", [
    {"block_sizes": [1, 16, 32]},
    {"block_sizes": [2, 16, 32], "loop_orders": [[1, 0]]},
    {"block_sizes": [2, 16, 32], "pid_type": "persistent_blocked"},
    {"block_sizes": [2, 16, 32], "pid_type": "persistent_interleaved", "loop_orders": [[1, 0]]},
], ids=["plain", "loop-order", "persistent", "interleaved-ordered"])
def test_the_new_grid_dim_with_the_configs_program_ids(mode, config):
    x = torch.randn(3, 40, 70)
    fn = fresh(batched_columns).bind((x,)).compile_config(config)
    torch.testing.assert_close(fn(x), x * 2.0 - torch.arange(70.0))
    assert _loops(batched_columns, (x,), config) == []


def test_a_loop_with_a_k_loop_inside_becomes_programs(mode):
    x, a = torch.randn(64, 96), torch.randn(96, 80)
    cfg = {"block_sizes": [16, 32, 32]}
    fn = fresh(row_projection).bind((x, a)).compile_config(cfg)
    torch.testing.assert_close(fn(x, a), torch.relu(x @ a), rtol=1e-4, atol=1e-4)
    assert len(_loops(row_projection, (x, a), cfg)) == 1  # the K loop, which carries acc


def test_a_loop_reading_only_what_it_stores_becomes_programs(mode):
    # Each iteration reads back only its own elements (same tile indices).
    x = torch.randn(50, 60)
    cfg = {"block_sizes": [16, 32]}
    y = x.clone()
    fresh(in_place_columns).bind((y,)).compile_config(cfg)(y)
    torch.testing.assert_close(y, x * 3.0)
    assert _loops(in_place_columns, (x.clone(),), cfg) == []


def test_loops_that_keep_their_order_stay_loops(mode):
    x = torch.randn(50, 60)
    cfg = {"block_sizes": [16, 32]}
    # The loop reads a column the next iteration stores.
    y = x.clone()
    fresh(shift_left_in_place).bind((y,)).compile_config(cfg)(y)
    torch.testing.assert_close(y[:, :-1], x[:, 1:])
    assert len(_loops(shift_left_in_place, (x.clone(),), cfg)) == 1
    # The loop carries a row total besides its stores.
    out, total = fresh(columns_and_row_total).bind((x,)).compile_config(cfg)(x)
    torch.testing.assert_close(out, x + 1.0)
    torch.testing.assert_close(total, x.sum(-1), rtol=1e-5, atol=1e-5)
    assert len(_loops(columns_and_row_total, (x,), cfg)) == 1


def test_a_loop_given_range_knobs_stays_the_loop_they_ask_for(mode):
    # range_unroll_factors: [the grid loop, the column loop]
    x, s = torch.randn(100, 300), torch.randn(100)
    cfg = {"block_sizes": [32, 64], "range_unroll_factors": [0, 2]}
    code = scaled_columns.bind((x, s)).to_triton_code(cfg)
    assert "loop_unroll_factor=2" in code and len(_loops(scaled_columns, (x, s), cfg)) == 1
    fn = fresh(scaled_columns).bind((x, s)).compile_config(cfg)
    torch.testing.assert_close(fn(x, s), x * s[:, None] + 1.0)


@deuteron.kernel(autotune_effort="none", static_shapes=False)
def rows_of_columns(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    m, n, k = x.shape
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n, :] = x[tile_m, tile_n, :] * 2.0
    return out


@pytest.mark.parametrize("loop_orders", [[[0, 1]], [[1, 0]]])
def test_chunks_that_became_programs_under_the_configs_grid_order(mode, loop_orders):
    # Reduction rolling's chunks of the whole dim k become a grid dim appended after
    # the written ones; with a loop_orders entry the emitter set up only the dims the
    # entry names (Helion's test_hl_rand_non_tiled_dimensions: `indices_3` undefined).
    x = torch.randn(20, 24, 256)
    cfg = {"block_sizes": [8, 8], "reduction_loops": [64], "loop_orders": loop_orders}
    fn = fresh(rows_of_columns).bind((x,)).compile_config(cfg)
    torch.testing.assert_close(fn(x), x * 2.0)


@deuteron.kernel(autotune_effort="none", static_shapes=False)
def split_columns(x: torch.Tensor, split: int) -> torch.Tensor:
    # Two column loops, the second from a host number: each becomes programs
    # (as two launches: neither is the program's only loop).
    m, n = x.shape
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        for tile_n in hl.tile(split):
            out[tile_m, tile_n] = x[tile_m, tile_n] + 1.0
        for tile_n in hl.tile(split, n):
            out[tile_m, tile_n] = x[tile_m, tile_n] * 2.0
    return out


@pytest.mark.parametrize("config", [
    {"block_sizes": [16, 32, 32]},
    {"block_sizes": [16, 32, 32], "pid_type": "persistent_blocked"},
    {"block_sizes": [16, 32, 32], "pid_type": "persistent_interleaved"},
], ids=["flat", "persistent", "interleaved"])
@pytest.mark.parametrize("split", [0, 37, 100])
def test_a_loop_from_a_host_number_becomes_programs(mode, config, split):
    x = torch.randn(50, 100)
    fn = fresh(split_columns).bind((x, split)).compile_config(config)
    expected = torch.cat([x[:, :split] + 1.0, x[:, split:] * 2.0], dim=1)
    torch.testing.assert_close(fn(x, split), expected)
    assert _loops(split_columns, (x, split), config) == []


@deuteron.kernel(autotune_effort="none", static_shapes=False)
def columns_from(x: torch.Tensor, start: int) -> torch.Tensor:
    m, n = x.shape
    out = torch.zeros_like(x)
    for tile_m in hl.tile(m):
        for tile_n in hl.tile(start, n):
            out[tile_m, tile_n] = x[tile_m, tile_n] * 2.0
    return out


@pytest.mark.parametrize("config", [
    {"block_sizes": [16, 32]},
    {"block_sizes": [16, 32], "pid_type": "persistent_blocked"},
], ids=["flat", "persistent"])
@pytest.mark.parametrize("start", [0, 30, 100, 130])
def test_a_loop_from_past_its_end_runs_no_programs(mode, config, start):
    # hl.tile(start, n) with start > n is empty, as range(start, n): as programs
    # of the grid it launches none (not a negative grid).
    x = torch.randn(40, 100)
    got = fresh(columns_from).bind((x, start)).compile_config(config)(x, start)
    expected = torch.zeros_like(x)
    expected[:, start:] = x[:, start:] * 2.0
    torch.testing.assert_close(got, expected)
