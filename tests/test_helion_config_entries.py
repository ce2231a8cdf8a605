"""Helion's entry counts of the per-loop config keys (cpp/src/config/helion_entries.cc): a tl.range
knob entry for each grid loop, an empty knob list, an l2_groupings entry for every grid of 2+ dims.
Configs in Helion's form normalize to deuteron's and run, in both CPU modes."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc


def nested_loops(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_outer in hl.tile(x.size(0)):  # the grid
        for tile_inner in hl.tile(x.size(1)):  # a device loop
            out[tile_outer, tile_inner] = x[tile_outer, tile_inner] + 1
    return out


def add_3d(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = x.new_empty(x.size())
    for idx in hl.grid(x.size()):
        out[idx] = x[idx] + y[idx]
    return out


def test_grid_loop_entries_of_range_knobs(mode):
    kernel = deuteron.kernel(nested_loops)
    x = torch.randn(32, 48)
    bound = kernel.bind((x,))
    helion = deuteron.Config(block_sizes=[16, 16], range_unroll_factors=[0, 2], range_num_stages=[0, 2],
                             range_multi_buffers=[None, False], range_flattens=[None, True], range_warp_specializes=[])
    own = deuteron.Config(block_sizes=[16, 16], range_unroll_factors=[2], range_num_stages=[2],
                          range_multi_buffers=[False], range_flattens=[True])
    assert bound.normalize_config(helion) == bound.normalize_config(own)
    assert bound.normalize_config(helion)["range_unroll_factors"] == [2]
    torch.testing.assert_close(bound.compile_config(helion)(x), x + 1)


def test_persistent_grid_loop_entry_must_be_default(mode):
    bound = deuteron.kernel(nested_loops).bind((torch.randn(32, 48),))
    with pytest.raises(exc.InvalidConfig, match=r"'range_unroll_factors': entry 0 is 4, .*grid loop of kernel 0"):
        bound.normalize_config(deuteron.Config(block_sizes=[16, 16], pid_type="persistent_blocked",
                                               range_unroll_factors=[4, 2]))


def add_4d(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = x.new_empty(x.size())
    for idx in hl.grid(x.size()):
        out[idx] = x[idx] + y[idx]
    return out


@pytest.mark.parametrize("fn,shape", [(add_3d, (5, 6, 7)), (add_4d, (3, 4, 5, 6))])
def test_l2_grouping_of_an_hl_grid(mode, fn, shape):
    # Helion has an l2_groupings entry for every grid of 2+ dims, hl.grid indices included:
    # grouping reorders the program ids over the grid's two fastest dims.
    x, y = torch.randn(*shape), torch.randn(*shape)
    bound = deuteron.kernel(fn).bind((x, y))
    assert bound.normalize_config(deuteron.Config())["l2_groupings"] == [1]
    for group in (1, 2, 4):
        cfg = deuteron.Config(l2_grouping=group)
        assert bound.normalize_config(cfg)["l2_groupings"] == [group]
        assert ("group_id" in bound.to_triton_code(cfg)) == (group > 1)
        torch.testing.assert_close(bound.compile_config(cfg)(x, y), x + y)
    with pytest.raises(exc.InvalidConfig, match=r"'l2_groupings'"):
        bound.normalize_config(deuteron.Config(l2_grouping=3))


def test_l2_grouping_of_an_hl_grid_with_loop_order(mode):
    x, y = torch.randn(5, 6, 7), torch.randn(5, 6, 7)
    bound = deuteron.kernel(add_3d).bind((x, y))
    cfg = deuteron.Config(l2_grouping=4, loop_order=[2, 1, 0])
    assert bound.normalize_config(cfg)["loop_orders"] == [[2, 1, 0]]
    torch.testing.assert_close(bound.compile_config(cfg)(x, y), x + y)


@deuteron.kernel
def _row_sums(x: torch.Tensor) -> torch.Tensor:
    out = x.new_empty([x.size(0)])
    for tm in hl.tile(x.size(0)):
        out[tm] = x[tm, :].sum(-1)
    return out


def test_one_reduction_loops_value_stands_for_every_loop(mode):
    # Helion's layer_norm test passes reduction_loops=32 (not a list): every
    # reduction loop loops over chunks of 32, here past a dim it does not divide.
    x = torch.randn(4, 48)
    bound = _row_sums.bind((x,))
    assert bound.normalize_config(deuteron.Config(block_sizes=[1], reduction_loops=32))["reduction_loops"] == [32]
    got = bound.compile_config(deuteron.Config(block_sizes=[1], reduction_loops=32))(x)
    torch.testing.assert_close(got, x.sum(-1), rtol=1e-5, atol=1e-5)
