"""A registered block size (hl.register_block_size) is a dimension from the
moment it is registered: hl.zeros([tile_m, block_size]) before the tile loop
that tiles with it, hl.zeros / hl.arange of a block size no loop tiles with.
Both CPU modes against PyTorch (tests/kernels_block_dims.py), the generated
code's masking, and the config space keeping every registered block size."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh

import kernels_block_dims as K


def close(a, b, tol=1e-4):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


def run(kernel, args, block_sizes=None):
    k = fresh(kernel)
    if block_sizes is None:
        return k(*args)
    return k.bind(args).compile_config({"block_sizes": block_sizes})(*args)


@pytest.mark.parametrize("block_sizes", [None, [16, 8], [32, 4], [64, 128]])
def test_lane_accumulator_before_its_loop(mode, block_sizes):
    torch.manual_seed(0)
    x = torch.randn(37, 100)
    close(run(K.lane_accumulated_row_sum, (x,), block_sizes), K.lane_accumulated_row_sum_ref(x))


def test_lane_accumulator_fp16(mode):
    torch.manual_seed(1)
    x = torch.randn(19, 70, dtype=torch.float16)
    close(run(K.lane_accumulated_row_sum, (x,), [16, 4]), K.lane_accumulated_row_sum_ref(x), tol=2e-2)


@pytest.mark.parametrize("block_sizes", [[16, 32], [8, 64], [4, 16]])
def test_partial_last_tile_adds_nothing_past_its_end(mode, block_sizes):
    # 100 is no multiple of 32 or 64: a computed `x * 2 + shift` joins the
    # lanes, and the lanes past n must count 0.
    torch.manual_seed(2)
    x = torch.randn(21, 100)
    close(run(K.lane_accumulated_shifted_sum, (x, 1.5), block_sizes), K.lane_accumulated_shifted_sum_ref(x, 1.5))


@pytest.mark.parametrize("block_sizes", [None, [8, 16], [4, 64]])
def test_loop_over_a_window_with_the_registered_block(mode, block_sizes):
    torch.manual_seed(3)
    x = torch.randn(13, 200)
    close(run(K.lane_accumulated_window_sum, (x, 37, 150), block_sizes),
          K.lane_accumulated_window_sum_ref(x, 37, 150))


@pytest.mark.parametrize("block_sizes", [None, [16, 8], [32, 4]])
def test_two_registered_blocks_kl_div_form(mode, block_sizes):
    torch.manual_seed(4)
    y_pred = torch.randn(10, 50).log_softmax(-1)
    y_true = torch.randn(10, 50).softmax(-1)
    loss, per = run(K.two_block_loss, (y_pred, y_true), block_sizes)
    ref_loss, ref_per = K.two_block_loss_ref(y_pred, y_true)
    close(loss, ref_loss)
    close(per, ref_per)


@pytest.mark.parametrize("block_sizes", [None, [16, 32, 8], [64, 16, 16]])
def test_block_sizes_no_loop_tiles_with(mode, block_sizes):
    torch.manual_seed(5)
    a = torch.randn(40, 27)
    b = torch.randn(27, 36)
    close(run(K.untiled_block_matmul, (a, b), block_sizes), K.untiled_block_matmul_ref(a, b), tol=1e-3)


def test_block_sizes_no_loop_tiles_with_under_an_inner_grid(mode):
    torch.manual_seed(5)
    a = torch.randn(20, 27)
    b = torch.randn(27, 36)
    close(run(K.untiled_block_matmul_inner_grid, (a, b), [16, 32, 16]), K.untiled_block_matmul_ref(a, b), tol=1e-3)


def test_block_size_after_its_loop_is_the_lanes_again(mode):
    torch.manual_seed(6)
    x = torch.randn(9, 50)
    got = run(K.lanes_after_the_loop, (x,), [16, 8])
    close(got, K.lanes_after_the_loop_ref(x, 16))


@pytest.mark.parametrize("block_sizes", [None, [8], [64]])
def test_whole_dim_of_a_fixed_block_stores_into_its_tile(mode, block_sizes):
    # 40 rows: the last tile of 16 is partial, and its store writes only the live rows.
    torch.manual_seed(7)
    x = torch.randn(40, 30)
    close(run(K.fixed_block_rows, (x,), block_sizes), K.fixed_block_rows_ref(x))


@pytest.mark.parametrize("block_sizes", [None, [16, 16], [64, 32]])
def test_matmul_accumulator_over_lanes(mode, block_sizes):
    torch.manual_seed(8)
    a = torch.randn(50, 16)
    b = torch.randn(16, 24)
    close(run(K.lane_rows_matmul_colsum, (a, b), block_sizes), K.lane_rows_matmul_colsum_ref(a, b), tol=1e-3)


# ------------------------------------------------------- config and codegen


def test_config_space_keeps_untiled_block_sizes(mode):
    a, b = torch.randn(40, 24), torch.randn(24, 36)
    spec = fresh(K.untiled_block_matmul).bind((a, b)).config_spec
    # block_m, block_n (never tiled) and the k loop's.
    assert len(spec["block_sizes"]) == 3
    assert [e["min"] for e in spec["block_sizes"][:2]] == [16, 16]
    assert [e["max"] for e in spec["block_sizes"][:2]] == [64, 64]
    # Their lanes are the matmul's M and N.
    assert all(e["used_in_dot"] for e in spec["block_sizes"])


def triton_code(kernel, args, block_sizes):
    return fresh(kernel).bind(args).to_triton_code({"block_sizes": block_sizes})


def test_codegen_loaded_tile_needs_no_where(mode):
    # A masked load reads 0 past the end: the lanes take it as it is.
    code = triton_code(K.lane_accumulated_row_sum, (torch.randn(37, 100),), [16, 32])
    assert "tl.where" not in code
    assert "tl.full([_BLOCK_SIZE_1, _BLOCK_SIZE_0]" in code or "tl.full(" in code


def test_codegen_computed_tile_is_zeroed_past_its_end(mode):
    code = triton_code(K.lane_accumulated_shifted_sum, (torch.randn(21, 100), 1.5), [16, 32])
    assert "tl.where(mask_" in code
    # A block dividing n needs no mask at all.
    code = triton_code(K.lane_accumulated_shifted_sum, (torch.randn(21, 128), 1.5), [16, 32])
    assert "tl.where" not in code


def test_ir_names_the_lanes_dim(mode):
    ir = fresh(K.lane_accumulated_shifted_sum).bind((torch.randn(21, 100), 1.5)).dump_ir()
    assert "full _block_size_0 [0, _block_size_0)" in ir
    assert "block_lanes axis 1" in ir


# ------------------------------------------------------------------ errors


@deuteron.kernel
def lanes_of_another_block(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    block_a = hl.register_block_size(n)
    block_b = hl.register_block_size(n)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m, block_a])
        for tile_n in hl.tile(n, block_size=block_b):
            acc += x[tile_m, tile_n]
        out[tile_m] = acc.sum(-1)
    return out


def test_tile_of_another_block_size_does_not_join_the_lanes(mode):
    with pytest.raises(exc.ShapeMismatch, match="cannot be broadcast together"):
        fresh(lanes_of_another_block).bind((torch.randn(8, 16),))
