"""The per-loop config keys have Helion's entries, counted and ordered as Helion counts them
(cpp/include/deuteron/config.h, ConfigSpec; analysis/config_space.cc), with the meaning Helion gives
each: a Config written for Helion runs unchanged, in both CPU modes.

  loop_orders     one per loop over 2+ dims, the grid's and inner loops' (an inner loop's order nests its loops)
  flatten_loops   one per hl.tile loop over 2+ dims whose dims every value holds all or none of
  l2_groupings    one per grid of 2+ dims
  range_*         one per kernel's grid loop (the loop over tiles of a persistent pid_type), then per inner loop dim
  range_num_stages  none where the kernel reads and writes an argument
  static_ranges   one per inner loop dim with known bounds and at most 8 steps
"""

from __future__ import annotations

import re

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


def inplace_nested_loops(x: torch.Tensor) -> torch.Tensor:
    for tile_outer in hl.tile(x.size(0)):
        for tile_inner in hl.tile(x.size(1)):
            x[tile_outer, tile_inner] = x[tile_outer, tile_inner] + 1
    return x


def device_loop_3d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    a, b, c, d = x.shape
    for tile_a in hl.tile(a):
        for tile_b, tile_c, tile_d in hl.tile([b, c, d]):
            out[tile_a, tile_b, tile_c, tile_d] = torch.sin(x[tile_a, tile_b, tile_c, tile_d])
    return out


def nested_loop_2d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    m, n = x.size(1), x.size(2)
    for tile_outer in hl.tile(x.size(0)):
        for tile_m, tile_n in hl.tile([m, n]):
            out[tile_outer, tile_m, tile_n] = x[tile_outer, tile_m, tile_n] + 1
    return out


def matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out


def pointwise_2d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] * torch.sigmoid(x[tile])
    return out


def two_k_loops(x: torch.Tensor) -> torch.Tensor:
    out = x.new_empty([x.size(0)])
    block_k = hl.register_block_size(x.size(1))
    for tile_m in hl.tile(x.size(0)):
        total = hl.zeros([tile_m], dtype=torch.float32)
        for tile_k in hl.tile(x.size(1), block_size=block_k):
            total = total + x[tile_m, tile_k].sum(-1)
        for tile_k in hl.tile(x.size(1), block_size=block_k):
            total = total + x[tile_m, tile_k].amax(-1)
        out[tile_m] = total
    return out


def three_grids(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r1, r2, r3 = x.new_empty(x.size()), y.new_empty(y.size()), y.new_empty(y.size())
    for t in hl.tile(x.size(), block_size=[16, 16]):
        r1[t] = x[t] * 2.0
    for t in hl.tile(y.size(), block_size=[16, 16]):
        r2[t] = y[t] + 1.0
    for t in hl.tile(y.size(), block_size=[16, 16]):
        r3[t] = y[t] + 2.0
    return r1, r2, r3


def kernel_loop_line(code: str, var: str) -> str:
    (line,) = [ln for ln in code.splitlines() if re.match(rf"\s*for {var} in ", ln)]
    return line


def test_range_knobs_have_a_grid_loop_entry_then_the_inner_loops(mode):
    x = torch.randn(32, 48)
    bound = deuteron.kernel(nested_loops).bind((x,))
    assert len(bound.config_spec.range_unroll_factors) == 2
    cfg = deuteron.Config(block_sizes=[16, 16], range_unroll_factors=[0, 2], range_num_stages=[0, 2],
                          range_multi_buffers=[None, False], range_flattens=[None, True], range_warp_specializes=[])
    normalized = bound.normalize_config(cfg)
    assert normalized["range_unroll_factors"] == [0, 2]
    assert normalized["range_warp_specializes"] == [None, None]  # an empty list: every default
    code = bound.to_triton_code(cfg)
    assert "loop_unroll_factor=2" in code and "disallow_acc_multi_buffer=True" in code and "flatten=True" in code
    torch.testing.assert_close(bound.compile_config(cfg)(x), x + 1)


def test_the_grid_loop_entry_acts_on_the_persistent_loop_over_tiles(mode):
    x = torch.randn(64, 96)
    bound = deuteron.kernel(pointwise_2d).bind((x,))
    # Other pid types launch one program per tile: no loop for the entry to act on.
    flat = deuteron.Config(block_sizes=[32, 16], range_unroll_factors=[2], range_num_stages=[3])
    assert bound.normalize_config(flat)["range_unroll_factors"] == [0]
    for pid in ("persistent_blocked", "persistent_interleaved"):
        cfg = deuteron.Config(block_sizes=[32, 16], pid_type=pid, range_unroll_factors=[2], range_num_stages=[3],
                              range_multi_buffers=[True], range_flattens=[False])
        line = kernel_loop_line(bound.to_triton_code(cfg), "virtual_pid")
        for arg in ("loop_unroll_factor=2", "num_stages=3", "disallow_acc_multi_buffer=False", "flatten=False"):
            assert arg in line, (arg, line)
        torch.testing.assert_close(bound.compile_config(cfg)(x), x * torch.sigmoid(x))


def test_loop_orders_of_an_inner_loop_over_three_dims(mode):
    x = torch.randn(4, 6, 5, 3)
    bound = deuteron.kernel(device_loop_3d).bind((x,))
    assert [len(p) for p in bound.config_spec.loop_orders] == [3]
    for order in ([0, 1, 2], [1, 0, 2], [2, 0, 1]):
        cfg = deuteron.Config(block_sizes=[2, 4, 2, 1], loop_orders=[order])
        code = bound.to_triton_code(cfg)
        # The first dim of the permutation is the outermost loop; tile_b, tile_c, tile_d are d1, d2, d3.
        offsets = re.findall(r"for offset_(\d) in tl\.range", code)
        assert offsets == [str(1 + o) for o in order], (order, offsets)
        torch.testing.assert_close(bound.compile_config(cfg)(x), torch.sin(x))


def test_an_inner_loops_knobs_follow_its_dim_when_reordered(mode):
    x = torch.randn(2, 6, 5, 3)
    bound = deuteron.kernel(device_loop_3d).bind((x,))
    # Entries: [grid loop, tile_b, tile_c, tile_d].
    cfg = deuteron.Config(block_sizes=[2, 4, 2, 1], loop_orders=[[2, 0, 1]], range_unroll_factors=[0, 2, 3, 4])
    code = bound.to_triton_code(cfg)
    assert "loop_unroll_factor=4" in kernel_loop_line(code, "offset_3")
    assert "loop_unroll_factor=2" in kernel_loop_line(code, "offset_1")
    torch.testing.assert_close(bound.compile_config(cfg)(x), torch.sin(x))


def test_static_ranges_only_for_short_inner_loop_dims(mode):
    x = torch.randn(8, 32, 4)
    bound = deuteron.kernel(nested_loop_2d).bind((x,))
    # tile_m runs over 32 elements (too many to unroll as written), tile_n over 4.
    assert len(bound.config_spec.static_ranges) == 1
    on = deuteron.Config(block_sizes=[4, 16, 1], static_ranges=[True])
    ignored = deuteron.Config(block_sizes=[4, 16, 1], static_ranges=[True], range_unroll_factors=[2, 2, 2])
    assert bound.normalize_config(ignored)["range_unroll_factors"] == [0, 2, 0]
    code = bound.to_triton_code(on)
    assert "tl.static_range" in kernel_loop_line(code, "offset_2")
    assert "tl.range" in kernel_loop_line(code, "offset_1")
    torch.testing.assert_close(bound.compile_config(on)(x), x + 1)


def test_no_range_num_stages_where_the_kernel_reads_and_writes_an_argument(mode):
    x = torch.randn(16, 16)
    assert len(deuteron.kernel(nested_loops).bind((x,)).config_spec.range_num_stages) == 2
    bound = deuteron.kernel(inplace_nested_loops).bind((x,))
    assert len(bound.config_spec.range_num_stages) == 0
    assert len(bound.config_spec.range_unroll_factors) == 2
    with pytest.raises(exc.InvalidConfig, match="range_num_stages"):
        bound.normalize_config(deuteron.Config(range_num_stages=[0, 2]))
    y = x.clone()
    bound.compile_config(deuteron.Config(block_sizes=[8, 8], range_unroll_factors=[0, 2]))(y)
    torch.testing.assert_close(y, x + 1)


def test_flatten_entries_where_helion_offers_them(mode):
    x = torch.randn(64, 48)
    # A matmul's operands hold one grid dim each: Helion offers no flattening.
    assert len(deuteron.kernel(matmul).bind((x, torch.randn(48, 32))).config_spec.flatten_loops) == 0
    assert len(deuteron.kernel(pointwise_2d).bind((x,)).config_spec.flatten_loops) == 1
    # hl.grid loops are not offered flattening, tile loops over 2+ dims are (grid or inner).
    assert len(deuteron.kernel(device_loop_3d).bind((torch.randn(2, 4, 4, 4),)).config_spec.flatten_loops) == 1


def test_loops_sharing_a_block_size_share_their_entries(mode):
    x = torch.randn(8, 64)
    bound = deuteron.kernel(two_k_loops).bind((x,))
    # Entries: the grid loop and one for both k loops (one block size).
    assert len(bound.config_spec.range_unroll_factors) == 2
    cfg = deuteron.Config(block_sizes=[16, 4], range_unroll_factors=[0, 2])  # block_k, then tile_m
    assert bound.to_triton_code(cfg).count("loop_unroll_factor=2") == 2
    want = x.sum(-1) + x.view(8, 4, 16).amax(-1).sum(-1)  # each block of 16 adds its max
    torch.testing.assert_close(bound.compile_config(cfg)(x), want, rtol=1e-5, atol=1e-5)


def test_short_lists_are_completed_and_nested_lists_flattened(mode):
    x, y = torch.randn(32, 64), torch.randn(32, 64)
    bound = deuteron.kernel(three_grids).bind((x, y))
    cfg = deuteron.Config(pid_type="persistent_interleaved", l2_grouping=[2, 4, 2])
    assert bound.normalize_config(cfg)["l2_groupings"] == [2, 4, 2]
    assert bound.normalize_config(deuteron.Config(l2_groupings=[4]))["l2_groupings"] == [4, 1, 1]
    r1, r2, r3 = bound.compile_config(cfg)(x, y)
    torch.testing.assert_close(r1, x * 2.0)
    torch.testing.assert_close(r2, y + 1.0)
    torch.testing.assert_close(r3, y + 2.0)
    with pytest.raises(exc.InvalidConfig, match="l2_groupings"):
        bound.normalize_config(deuteron.Config(l2_groupings=[1, 1, 1, 1]))


def test_num_sm_multiplier_needs_a_persistent_pid_type(mode):
    x = torch.randn(64, 96)
    bound = deuteron.kernel(pointwise_2d).bind((x,))
    for pid in ("flat", "xyz"):
        with pytest.raises(exc.InvalidConfig, match=r"num_sm_multiplier=2 can only be used with persistent"):
            bound.normalize_config(deuteron.Config(pid_type=pid, num_sm_multiplier=2))
    assert bound.normalize_config(deuteron.Config(pid_type="flat", num_sm_multiplier=1))["num_sm_multiplier"] == 1
    cfg = deuteron.Config(block_sizes=[32, 16], pid_type="persistent_blocked", num_sm_multiplier=2)
    torch.testing.assert_close(bound.compile_config(cfg)(x), x * torch.sigmoid(x))


def scale_rows_3d(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    a, b, c = x.shape
    for tile_a in hl.tile(a):
        row = s[tile_a]
        for tile_b, tile_c in hl.tile([b, c]):
            out[tile_a, tile_b, tile_c] = x[tile_a, tile_b, tile_c] * row[:, None, None] + 1.0
    return out


def carried_3d(x: torch.Tensor) -> torch.Tensor:
    out = x.new_empty([x.size(0)])
    for tile_a in hl.tile(x.size(0)):
        acc = hl.zeros([tile_a], dtype=torch.float32)
        for tile_b, tile_c in hl.tile([x.size(1), x.size(2)]):
            acc = acc + x[tile_a, tile_b, tile_c].sum(-1).sum(-1)
        out[tile_a] = acc
    return out


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 0, 1]])
def test_flatten_loops_runs_an_inner_loop_as_one(mode, order):
    x = torch.randn(4, 6, 5, 3)
    bound = deuteron.kernel(device_loop_3d).bind((x,))
    cfg = deuteron.Config(block_sizes=[2, 16, 2, 1], flatten_loops=[True], loop_orders=[order])
    code = bound.to_triton_code(cfg)
    assert "flatten_loops[0]: tile_b, tile_c, tile_d as one loop" in code
    assert "for offset_nest_1 in tl.range(0, 90, _BLOCK_SIZE_1 * _BLOCK_SIZE_2 * _BLOCK_SIZE_3)" in code
    # The order's last dim varies fastest along the flattened lanes.
    fastest = 1 + order[-1]
    assert re.search(rf"indices_{fastest} = lin_1 % \d+$", code, re.M), code
    torch.testing.assert_close(bound.compile_config(cfg)(x), torch.sin(x))


def test_flatten_loops_with_a_value_from_outside_the_loop(mode):
    x, s = torch.randn(6, 7, 5), torch.randn(6)
    bound = deuteron.kernel(scale_rows_3d).bind((x, s))
    assert len(bound.config_spec.flatten_loops) == 1
    cfg = deuteron.Config(block_sizes=[2, 4, 4], flatten_loops=[True], indexing="tensor_descriptor")
    normalized = bound.normalize_config(cfg)
    # The flattened loop's accesses address memory through pointers; the row's load keeps its mode.
    assert normalized["indexing"] == ["tensor_descriptor", "pointer", "pointer"]
    code = bound.to_triton_code(cfg)
    assert "mask_nest_1 = lin_1 < 35" in code
    torch.testing.assert_close(bound.compile_config(cfg)(x, s), x * s[:, None, None] + 1.0)


def offset_by_block_start(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_a in hl.tile(x.size(0)):
        for tile_b, tile_c in hl.tile([x.size(1), x.size(2)]):
            out[tile_a, tile_b, tile_c] = x[tile_a, tile_b, tile_c] + tile_b.begin
    return out


def test_an_inner_loop_that_is_not_pointwise_is_not_flattened(mode):
    # A value holding one of the loop's dims without the other: Helion offers no entry.
    x = torch.randn(4, 6, 5)
    bound = deuteron.kernel(carried_3d).bind((x,))
    assert len(bound.config_spec.flatten_loops) == 0
    cfg = deuteron.Config(block_sizes=[2, 4, 4])
    torch.testing.assert_close(bound.compile_config(cfg)(x), x.sum((1, 2)), rtol=1e-5, atol=1e-5)
    # Helion offers one (every value holds both dims or neither), but a block's start has no
    # meaning in one flat loop: deuteron says it cannot.
    bound = deuteron.kernel(offset_by_block_start).bind((x,))
    assert len(bound.config_spec.flatten_loops) == 1
    with pytest.raises(exc.InvalidConfig, match=r"flatten_loops.*cannot run that loop as one"):
        bound.normalize_config(deuteron.Config(flatten_loops=[True]))
