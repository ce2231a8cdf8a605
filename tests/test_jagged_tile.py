"""hl.jagged_tile: ragged inner loops whose lanes end per parent lane, in both
CPU modes against PyTorch (tests/kernels_jagged.py), and the errors for a
jagged tile used without its parent tiles."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh

import kernels_jagged as K


def close(a, b, tol=1e-4):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


@pytest.mark.parametrize("block_sizes", [None, [4, 2], [1, 8], [16, 1]])
def test_max_over_a_jagged_tile_ignores_lanes_past_each_end(mode, block_sizes):
    torch.manual_seed(0)
    x = torch.randn(11, 13)
    lengths = torch.tensor([3, 13, 1, 7, 5, 2, 9, 4, 13, 6, 8])
    k = fresh(K.padded_row_max)
    got = k(x, lengths) if block_sizes is None else k.bind((x, lengths)).compile_config({"block_sizes": block_sizes})(x, lengths)
    close(got, K.padded_row_max_ref(x, lengths))


def test_store_over_a_jagged_tile_writes_only_each_rows_lanes(mode):
    torch.manual_seed(1)
    offsets = torch.tensor([0, 4, 4, 9, 10, 17])
    values = torch.randn(20)
    scale = torch.randn(5)
    close(fresh(K.packed_scale)(values, offsets, scale), K.packed_scale_ref(values, offsets, scale))


@pytest.mark.parametrize("block_sizes", [None, [1, 1, 4], [2, 2, 2]])
def test_jagged_tile_under_a_2d_parent(mode, block_sizes):
    torch.manual_seed(2)
    lengths = torch.tensor([[3, 0, 6], [1, 6, 2]], dtype=torch.int32)
    x = torch.randn(2, 3, 6, dtype=torch.float16)
    k = fresh(K.grid_of_ragged_means)
    args = (x, lengths)
    got = k(*args) if block_sizes is None else k.bind(args).compile_config({"block_sizes": block_sizes})(*args)
    close(got, K.grid_of_ragged_means_ref(x, lengths), tol=2e-3)


def test_nested_jagged_tiles(mode):
    torch.manual_seed(3)
    x = torch.randn(5, 6, 7)
    rows = torch.tensor([6, 0, 2, 5, 1])
    cols = torch.tensor([7, 3, 0, 4, 2], dtype=torch.int32)
    close(fresh(K.nested_ragged_sums)(x, rows, cols), K.nested_ragged_sums_ref(x, rows, cols))


def test_matmul_contracting_a_jagged_tile(mode):
    torch.manual_seed(4)
    a = torch.randn(3, 16, 32)
    w = torch.randn(3, 32, 16)
    lengths = torch.tensor([32, 5, 17])
    got = fresh(K.ragged_batched_matmul)(a, w, lengths)
    close(got, K.ragged_batched_matmul_ref(a, w, lengths), tol=1e-2)


# ------------------------------------------------------------------ errors


@deuteron.kernel
def jagged_outermost(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile in hl.jagged_tile(lengths):
        out[tile] = x[tile]
    return out


@deuteron.kernel
def jagged_over_an_int(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        for tile_n in hl.jagged_tile(n):
            out[tile_m, tile_n] = x[tile_m, tile_n]
    return out


@deuteron.kernel
def jagged_without_parent(x: torch.Tensor, lengths: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([x.size(0)], dtype=x.dtype, device=x.device)
    for tile_b in hl.tile(x.size(0)):
        acc = hl.zeros([tile_b], dtype=x.dtype)
        for tile_k in hl.jagged_tile(lengths[tile_b]):
            acc += (x[tile_b, tile_k] * w[tile_k][None, :]).sum(1)
        out[tile_b] = acc
    return out


@deuteron.kernel
def jagged_over_a_whole_dim(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([x.size(0)], dtype=x.dtype, device=x.device)
    for tile_b in hl.tile(x.size(0)):
        acc = hl.zeros([tile_b], dtype=x.dtype)
        for tile_k in hl.jagged_tile(lengths[:]):
            acc += x[tile_b, tile_k].sum(1)
        out[tile_b] = acc
    return out


def test_jagged_tile_as_the_outermost_loop_is_an_error(mode):
    with pytest.raises(exc.InvalidJaggedTileUsage, match="cannot be the outermost loop") as e:
        fresh(jagged_outermost).bind((torch.randn(8), torch.tensor([2, 3])))
    assert "for tile in hl.jagged_tile(lengths)" in str(e.value)


def test_jagged_tile_over_an_int_is_an_error(mode):
    with pytest.raises(exc.InvalidJaggedTileUsage, match=r"tensor of per-lane ends .* got .*int"):
        fresh(jagged_over_an_int).bind((torch.randn(8, 16),))


def test_jagged_tile_indexed_without_its_parent_is_an_error(mode):
    x, lengths, w = torch.randn(4, 8), torch.tensor([1, 2, 3, 4]), torch.randn(8)
    with pytest.raises(exc.InvalidJaggedTileUsage, match=r"'tile_k' is used in an access to 'w' .* without its parent tile tile_b"):
        fresh(jagged_without_parent).bind((x, lengths, w))


def test_jagged_tile_over_a_whole_dim_is_an_error(mode):
    with pytest.raises(exc.InvalidJaggedTileUsage, match="every axis is an enclosing tile"):
        fresh(jagged_over_a_whole_dim).bind((torch.randn(4, 8), torch.tensor([1, 2, 3, 4])))


def _sm90_cases():
    return [
        (K.padded_row_max, (torch.randn(11, 13), torch.tensor([3, 13, 1, 7, 5, 2, 9, 4, 13, 6, 8]))),
        (K.packed_scale, (torch.randn(20), torch.tensor([0, 4, 4, 9, 10, 17]), torch.randn(5))),
        (K.grid_of_ragged_means, (torch.randn(2, 3, 6, dtype=torch.float16), torch.tensor([[3, 0, 6], [1, 6, 2]], dtype=torch.int32))),
        (K.nested_ragged_sums, (torch.randn(5, 6, 7), torch.tensor([6, 0, 2, 5, 1]), torch.tensor([7, 3, 0, 4, 2], dtype=torch.int32))),
        (K.ragged_batched_matmul, (torch.randn(3, 16, 32), torch.randn(3, 32, 16), torch.tensor([32, 5, 17]))),
    ]


@pytest.mark.skipif(__import__("os").environ.get("TRITON_INTERPRET", "0") not in ("", "0"),
                    reason="compiles real Triton kernels; run without TRITON_INTERPRET")
@pytest.mark.parametrize("case", range(len(_sm90_cases())))
def test_compiles_for_sm90(case, monkeypatch):
    # Triton's compiler takes the jagged masks (its interpreter is more lenient).
    from deuteron.runtime.aot import compile_for_target

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    kernel, args = _sm90_cases()[case]
    bound = fresh(kernel).bind(args)
    for launch in compile_for_target(bound, bound.default_config(), args):
        assert launch.compiled.asm["cubin"]


@deuteron.kernel
def jagged_mean(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([x.size(0)], dtype=x.dtype, device=x.device)
    for tile_b in hl.tile(x.size(0)):
        acc = hl.zeros([tile_b], dtype=x.dtype)
        for tile_k in hl.jagged_tile(lengths[tile_b]):
            acc += x[tile_b, tile_k].mean(dim=1)
        out[tile_b] = acc
    return out


def test_mean_over_a_jagged_tile_is_an_error(mode):
    # Its divisor would be the block's length, not each row's.
    with pytest.raises(exc.CompileError, match=r"mean, var or std over a jagged tile \('tile_k'"):
        fresh(jagged_mean).bind((torch.randn(4, 8), torch.tensor([1, 2, 3, 4])))


def _prefix_add_args():
    torch.manual_seed(7)
    lengths = torch.tensor([5, 0, 300, 17, 299, 1, 64, 250])
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)])
    return torch.randn(int(offsets[-1])), offsets, torch.randn(8, 300)


def test_default_config_sizes_jagged_blocks_by_the_values_they_appear_in(mode):
    # The ends of jagged loops are device values: their blocks are what the
    # per-program budget (2048 elements) leaves after the other axes of the
    # values they appear in, never 1 (their extents' placeholder once made them 1).
    x, offsets, y = _prefix_add_args()
    bs = fresh(K.packed_prefix_add).bind((x, offsets, y)).default_config()["block_sizes"]
    assert bs == [2, 1024, 512]  # [rows, the jagged loop's columns, the rest of each row]
    rows, cols = torch.tensor([6, 0, 2, 5, 1]), torch.tensor([7, 3, 0, 4, 2], dtype=torch.int32)
    spec = fresh(K.nested_ragged_sums).bind((torch.randn(5, 6, 7), rows, cols)).config_spec
    bs = spec.default_config()["block_sizes"]
    assert [b["origin"] for b in spec.block_sizes] == ["tile_b", "tile_m", "tile_k"]
    # the [tile_b, tile_k, tile_m] loads: two jagged blocks share what tile_b leaves
    assert bs[1] == bs[2] > 1 and bs[0] * bs[1] * bs[2] <= 2048
    assert "size_hint" not in spec.block_sizes[2]  # unknown until the kernel runs


def test_jagged_loops_under_their_default_config(mode):
    x, offsets, y = _prefix_add_args()
    close(fresh(K.packed_prefix_add)(x, offsets, y), K.packed_prefix_add_ref(x, offsets, y))
