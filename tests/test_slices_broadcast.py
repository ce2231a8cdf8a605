"""Device-side views and indexing (issue 18), in both CPU modes, against PyTorch:
slices with bounds in loads and stores (constant, host-size and device bounds,
negative bounds, length 1 as a size-1 axis), Helion's implicit broadcast of a
lower-rank operand by tile identity (and the reduction without keepdim that
stays an error), and Tensor.view(dtype) as a bitcast.
"""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel(config=deuteron.Config(block_sizes=[16]))
def column_slices(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([x.size(0), 4], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile, 0:3] = x[tile, 2:5] + x[tile, -3:]
        out[tile, 3:] = x[tile, 0:1] * 2
    return out


def test_constant_slices_load_and_store(mode):
    x = torch.randn(37, 7)
    out = fresh(column_slices)(x)
    expect = torch.zeros(37, 4)
    expect[:, 0:3] = x[:, 2:5] + x[:, -3:]
    expect[:, 3:] = x[:, 0:1] * 2
    torch.testing.assert_close(out, expect)


@deuteron.kernel(config=deuteron.Config(block_sizes=[8, 4]))
def mixed_rank_add(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    k = a.size(2)
    out = torch.empty_like(a)
    for tile0, tile1 in hl.tile([a.size(0), a.size(1)]):
        out[tile0, tile1, 0:k] = a[tile0, tile1, 0:k] + b[tile0, 0:k] * c[tile0]
    return out


def test_implicit_broadcast_by_tile(mode):
    # b[tile0, 0:k] is [tile0, k] beside [tile0, tile1, k]: it goes to [tile0, 1, k];
    # c[tile0] to [tile0, 1, 1] (then broadcast against the product).
    a, b, c = torch.randn(10, 6, 3), torch.randn(10, 5), torch.randn(10)
    out = fresh(mixed_rank_add)(a, b, c)
    expect = a + b[:, None, 0:3] * c[:, None, None]
    torch.testing.assert_close(out, expect)


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16]))
def row_bias(a: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(a)
    for tile0, tile1 in hl.tile(a.size()):
        out[tile0, tile1] = torch.where(a[tile0, tile1] > 0, bias[tile0], a[tile0, tile1])
    return out


def test_implicit_broadcast_in_where(mode):
    a, bias = torch.randn(20, 24), torch.randn(20)
    out = fresh(row_bias)(a, bias)
    torch.testing.assert_close(out, torch.where(a > 0, bias[:, None], a))


@deuteron.kernel
def missing_keepdim(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m in hl.tile(x.size(0)):
        out[tile_m, :] = x[tile_m, :] - torch.amax(x[tile_m, :], dim=1)
    return out


def test_reduction_without_keepdim_stays_an_error(mode):
    with pytest.raises(exc.ShapeMismatch, match="cannot be broadcast together"):
        fresh(missing_keepdim)(torch.randn(32, 64))


@deuteron.kernel
def unit_slices(src: torch.Tensor, dst: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    for i in hl.grid(src.size(0) - 1):
        dst[i : i + 1] = 1.0
        src[i] = dst[i : i + 1] + y[i + 1 : i + 2]
    return src


def test_device_bounds_of_length_one(mode):
    src, dst, y = torch.randn(12), torch.zeros(12), torch.randn(12)
    expect = src.clone()
    expect[:-1] = 1.0 + y[1:]
    out = fresh(unit_slices)(src.clone(), dst, y)
    torch.testing.assert_close(out, expect)
    assert dst[:-1].eq(1).all() and dst[-1] == 0


@deuteron.kernel(config=deuteron.Config(block_sizes=[16]))
def window(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0) - 4], dtype=x.dtype, device=x.device)
    for tile in hl.tile(out.size(0)):
        out[tile] = x[tile.begin + 2 : tile.begin + 2 + tile.block_size].sum() + x[tile] * 0
    return out


def test_device_bounds_of_a_tile_length(mode):
    x = torch.randn(68)
    out = fresh(window)(x)
    expect = torch.empty(64)
    for b in range(0, 64, 16):
        expect[b : b + 16] = x[b + 2 : b + 18].sum()
    torch.testing.assert_close(out, expect)


@deuteron.kernel(config=deuteron.Config(block_sizes=[64]))
def bits_plus_one(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        bits = x[tile].view(dtype=torch.int16) + 1
        out[tile] = bits.view(torch.bfloat16)
    return out


def test_view_dtype_is_a_bitcast(mode):
    x = torch.randn(100, dtype=torch.bfloat16)
    out = fresh(bits_plus_one)(x)
    expect = (x.view(torch.int16) + 1).view(torch.bfloat16)
    assert torch.equal(out.view(torch.int16), expect.view(torch.int16))


@deuteron.kernel
def view_other_width(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile].view(torch.int16).to(torch.float32)
    return out


def test_view_dtype_of_another_width_is_an_error(mode):
    with pytest.raises(exc.CompileError, match="needs a dtype of the same width"):
        fresh(view_other_width)(torch.randn(8))


@deuteron.kernel
def stepped(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), 2], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = x[tile, 0:4:2]
    return out


def test_slice_with_a_step(mode):
    x = torch.randn(8, 4)
    torch.testing.assert_close(fresh(stepped)(x), x[:, 0:4:2])


@deuteron.kernel
def stepped_1d(src1, dst1, src2, dst2):
    for _ in hl.grid(1):
        dst1[::2] = 1.0
        src1[::2] = dst1[::2]
        dst2[1::3] = 2.0
        src2[1::3] = dst2[1::3]
    return src1, dst1, src2, dst2


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_slice_with_a_step_loads_and_stores(mode, dtype):
    n = 50  # not a multiple of either step: the last lanes of a 3-step slice end early
    bufs = [torch.zeros(n, dtype=dtype) for _ in range(4)]
    src1, dst1, src2, dst2 = fresh(stepped_1d)(*bufs)
    e1 = torch.zeros(n, dtype=dtype)
    e1[::2] = 1.0
    e2 = torch.zeros(n, dtype=dtype)
    e2[1::3] = 2.0
    for got, want in ((src1, e1), (dst1, e1), (src2, e2), (dst2, e2)):
        torch.testing.assert_close(got, want)


@deuteron.kernel
def negative_step(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for _ in hl.grid(1):
        out[::-1] = x[::1]
    return out


def test_slice_with_a_negative_step_is_an_error(mode):
    with pytest.raises(exc.CompileError, match="the slice step must be positive, got -1"):
        fresh(negative_step)(torch.randn(8))


@deuteron.kernel(config=deuteron.Config(block_sizes=[4, 8, 8]))
def bias_add_3d(x: torch.Tensor, bias1: torch.Tensor, bias2: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_l, tile_m, tile_n in hl.tile(x.size()):
        out[tile_l, tile_m, tile_n] = x[tile_l, tile_m, tile_n] + bias1[tile_l, tile_m, tile_n] + bias2[tile_l, tile_m, tile_n]
    return out


def test_tile_on_a_dim_of_size_one_broadcasts(mode):
    x, b1, b2 = torch.randn(6, 10, 12), torch.randn(1, 10, 12), torch.randn(6, 1, 12)
    torch.testing.assert_close(fresh(bias_add_3d)(x, b1, b2), x + b1 + b2)


@deuteron.kernel(config=deuteron.Config(block_sizes=[8]))
def index_with_unit_axis(c: torch.Tensor) -> torch.Tensor:
    m, n = c.shape
    out = torch.empty([1, m, n], dtype=c.dtype, device=c.device)
    for tile_m in hl.tile(m):
        out[:, tile_m, :] = c[tile_m.index[None, :], :]
    return out


def test_index_tensor_with_a_size_one_axis(mode):
    c = torch.randn(20, 6)
    torch.testing.assert_close(fresh(index_with_unit_axis)(c), c[None])


@deuteron.kernel(config=deuteron.Config(block_sizes=[16]))
def doubled(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out = torch.zeros([x.size(0) * 2], dtype=torch.int32, device=x.device)
    pairs = torch.zeros([x.size(0) * 2], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        start = tile.begin * 2
        out[start : start + tile.block_size * 2] = hl.arange(start, start + tile.block_size * 2).to(torch.int32)
        lanes = torch.arange(tile.block_size * 2, device=x.device)
        pairs[start : start + tile.block_size * 2] = (lanes % 2).to(x.dtype) + lanes.sum() * 0
    return out, pairs


def test_lengths_of_several_blocks(mode):
    # A whole dim of 2 * block_size lanes, its size a config value (x: 4 whole blocks).
    out, pairs = fresh(doubled)(torch.randn(64))
    torch.testing.assert_close(out, torch.arange(128, dtype=torch.int32))
    torch.testing.assert_close(pairs, (torch.arange(128) % 2).float())
