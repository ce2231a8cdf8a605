"""torch.zeros / ones / empty / full / arange inside tile loops (what hl.zeros,
hl.full and hl.arange make), with shapes of tiles, ints and arithmetic on tile
attributes that comes to a block size (tile.block_size), in both CPU modes.
Partial last tiles (sizes that are not multiples of the block) check the masks.
"""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel(config=deuteron.Config(block_sizes=[16]))
def torch_fills(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty(x.size(0), 4, dtype=torch.float32, device=x.device)
    for tile in hl.tile(x.size(0)):
        acc = torch.zeros([tile], dtype=torch.float32, device=x.device)   # a list of tiles
        ones = torch.ones(tile, device=x.device)                           # sizes as arguments
        sevens = torch.full([tile.block_size], 7, dtype=torch.int32)       # tile.block_size is the tile
        empty = torch.empty((tile,), dtype=torch.float16)                  # contents unspecified: overwritten
        empty = empty * 0 + 2
        acc += x[tile]
        out[tile, 0] = acc
        out[tile, 1] = ones + sevens
        out[tile, 2] = empty
        out[tile, 3] = torch.full([tile], 2.5, device=x.device).sum() * 0 + x[tile] * 2
    return out


def test_torch_fills_inside_tile_loops(mode):
    x = torch.randn(45)
    out = fresh(torch_fills)(x)
    torch.testing.assert_close(out[:, 0], x)
    torch.testing.assert_close(out[:, 1], torch.full((45,), 8.0))
    torch.testing.assert_close(out[:, 2], torch.full((45,), 2.0))
    torch.testing.assert_close(out[:, 3], x * 2)


@deuteron.kernel(config=deuteron.Config(block_sizes=[8]))
def full_dtypes(x: torch.Tensor) -> torch.Tensor:
    # torch.full infers its dtype from the fill value, as PyTorch does: 3 -> int64,
    # True -> bool, 1.5 -> float32; a device scalar fill is broadcast.
    out = torch.empty(x.size(0), 4, dtype=torch.float64, device=x.device)
    for tile in hl.tile(x.size(0)):
        i = torch.full([tile], 3) // 2          # int64: floor division stays integral
        b = torch.full([tile], True)
        f = torch.full([tile], 1.5) // 1        # float32: 1.0
        s = torch.full([tile, 2], x[tile].sum())
        out[tile, 0] = i.to(torch.float64)
        out[tile, 1] = b.to(torch.float64)
        out[tile, 2] = f.to(torch.float64)
        out[tile, 3] = s.sum(-1).to(torch.float64)
    return out


def test_full_infers_dtype_from_the_fill_value(mode):
    x = torch.randn(20, dtype=torch.float64)
    out = fresh(full_dtypes)(x)
    torch.testing.assert_close(out[:, 0], torch.ones(20, dtype=torch.float64))
    torch.testing.assert_close(out[:, 1], torch.ones(20, dtype=torch.float64))
    torch.testing.assert_close(out[:, 2], torch.ones(20, dtype=torch.float64))
    # each tile's sum, twice, on the tile's rows (8, 8, then the partial 4)
    sums = torch.cat([x[0:8].sum().repeat(8), x[8:16].sum().repeat(8), x[16:20].sum().repeat(4)]) * 2
    torch.testing.assert_close(out[:, 3], sums.to(torch.float32).to(torch.float64), rtol=1e-5, atol=1e-5)


@deuteron.kernel(config=deuteron.Config(block_sizes=[16]))
def aranges(x: torch.Tensor) -> torch.Tensor:
    n = x.size(0)
    out = torch.zeros([n, 4], dtype=torch.int32, device=x.device)
    for tile in hl.tile(n):
        out[tile, 0] = torch.arange(tile.block_size, device=x.device)              # lanes 0..block-1
        out[tile, 1] = torch.arange(tile.begin, tile.begin + tile.block_size)      # tile.index
        start = tile.begin * 2
        end = (tile.begin + tile.block_size) * 2
        out[tile, 2] = torch.arange(start, end, step=2, device=x.device)            # 2 * tile.index
        out[tile, 3] = hl.arange(start + 1, end + 1, 2)                             # 2 * tile.index + 1
    return out


def test_arange_over_a_tile(mode):
    x = torch.randn(40)
    out = fresh(aranges)(x)
    idx = torch.arange(40, dtype=torch.int32)
    torch.testing.assert_close(out[:, 0], idx % 16)
    torch.testing.assert_close(out[:, 1], idx)
    torch.testing.assert_close(out[:, 2], idx * 2)
    torch.testing.assert_close(out[:, 3], idx * 2 + 1)


@deuteron.kernel
def arange_whole(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([x.size(0), 8], dtype=torch.int64, device=x.device)
    for tile in hl.tile(x.size(0)):
        r = torch.arange(8)                      # int64, a whole dim of 8
        s = torch.arange(3, 19, 2)               # 8 values: 3, 5, ..., 17
        out[tile, :] = r[None, :] * 100 + s[None, :] + tile.index[:, None] * 0
    return out


def test_arange_with_constant_bounds(mode):
    out = fresh(arange_whole)(torch.randn(5))
    expect = (torch.arange(8) * 100 + torch.arange(3, 19, 2)).expand(5, 8)
    torch.testing.assert_close(out, expect)


@deuteron.kernel
def arange_data_dependent(x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile in hl.tile(x.size(0)):
        k = n[0]
        out[tile] = torch.arange(0, k).sum() + x[tile]
    return out


def test_arange_of_a_length_known_only_on_the_device_is_an_error(mode):
    with pytest.raises(exc.CompileError, match="length"):
        fresh(arange_data_dependent)(torch.randn(8), torch.tensor([3]))


@deuteron.kernel
def zeros_of_a_device_value(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = torch.zeros([x[tile].sum()]).sum()
    return out


def test_sizes_must_be_known_when_compiling(mode):
    with pytest.raises(exc.CompileError, match="sizes inside tile loops must be tiles or ints"):
        fresh(zeros_of_a_device_value)(torch.randn(8))


@deuteron.kernel
def new_methods_in_tiles(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    # Helion's layer_norm / rms_norm backward: accumulators made with the
    # receiver's tensor methods (host tensor or tile value), its dtype unless given.
    n = hl.specialize(x.size(1))
    out = torch.empty([x.size(0), n], dtype=torch.float32, device=x.device)
    for tm in hl.tile(x.size(0)):
        acc = w.new_zeros(n, dtype=torch.float32)        # host tensor receiver, dtype given
        ones = w.new_ones([n])                           # w's dtype (float16)
        xt = x[tm, :]
        filled = xt.new_full([tm, n], 0.5)               # tile receiver: x's dtype
        blank = xt.new_empty(tm, n, dtype=torch.float32)  # sizes as arguments; contents overwritten
        blank = blank * 0 + 1
        acc += w[:].to(torch.float32)
        out[tm, :] = xt.to(torch.float32) * acc[None, :] + ones[None, :].to(torch.float32) + filled + blank
    return out


def test_new_tensor_methods_inside_tile_loops(mode):
    x = torch.randn(37, 24, dtype=torch.float16)
    w = torch.randn(24, dtype=torch.float16)
    expect = x.float() * w.float()[None, :] + 1.0 + 0.5 + 1.0
    torch.testing.assert_close(fresh(new_methods_in_tiles)(x, w), expect, rtol=2e-3, atol=2e-3)


def test_new_methods_keep_the_receiver_dtype(mode):
    @deuteron.kernel
    def k(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for t in hl.tile(x.size(0)):
            out[t] = x[t].new_full([t], 3) + x[t].new_ones(t)  # int32 tiles stay int32
        return out

    x = torch.arange(20, dtype=torch.int32)
    got = fresh(k)(x)
    assert got.dtype == torch.int32
    torch.testing.assert_close(got, torch.full((20,), 4, dtype=torch.int32))


# --------------------------- sizes as arguments, one sequence or size=, on the host and in tiles

@deuteron.kernel(config=deuteron.Config(block_sizes=[8, 16]))
def host_sizes_every_way(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    # Helion's mamba2_chunk_state: `B.new_empty(batch, nchunks, nheads, headdim, dstate)`.
    m, n = x.size()
    shape = (m, n)
    a = x.new_empty(m, 2, n)                             # sizes as arguments
    b = x.new_zeros(m, n, dtype=torch.float64)
    c = x.new_ones(size=(m, n))
    d = x.new_full((m, n), 2.0)
    e = torch.empty(*shape, device=x.device)             # sizes unpacked from a tuple
    f = torch.zeros(size=[m, n], dtype=x.dtype, device=x.device)
    g = torch.ones(m, n, device=x.device)
    h = torch.full(size=shape, fill_value=0.5, device=x.device)
    i = x.new_empty(x.size())                            # one sequence: x.size()
    for tm, tn in hl.tile([m, n]):
        v = x[tm, tn]
        a[tm, 0, tn] = v
        a[tm, 1, tn] = -v
        b[tm, tn] = b[tm, tn] + v.to(torch.float64)
        c[tm, tn] = c[tm, tn] + v
        d[tm, tn] = d[tm, tn] * v
        e[tm, tn] = v * 3
        f[tm, tn] = f[tm, tn] + v * 4
        g[tm, tn] = g[tm, tn] - v
        h[tm, tn] = h[tm, tn] + v
        i[tm, tn] = v + 7
    return a, b, c, d, e, f, g, h, i


def test_host_creation_sizes_every_way(mode):
    x = torch.randn(21, 35)
    a, b, c, d, e, f, g, h, i = fresh(host_sizes_every_way)(x)
    torch.testing.assert_close(a, torch.stack([x, -x], dim=1))
    assert b.dtype == torch.float64
    torch.testing.assert_close(b, x.double())
    for got, expect in ((c, x + 1), (d, x * 2), (e, x * 3), (f, x * 4), (g, 1 - x), (h, x + 0.5), (i, x + 7)):
        torch.testing.assert_close(got, expect)


@deuteron.kernel(config=deuteron.Config(block_sizes=[8, 16]))
def tile_sizes_every_way(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tm, tn in hl.tile([m, n]):
        v = x[tm, tn]
        shape = (tm, tn)
        acc = torch.zeros(*shape, dtype=torch.float32)   # sizes unpacked from a tuple
        acc += v.new_ones(tm, tn)                         # sizes as arguments
        acc += v.new_zeros(size=(tm, tn))                 # size=
        acc += v.new_full(shape, 2.0)                     # new_full(size, value)
        acc += torch.full(size=[tm, tn], fill_value=3.0)
        acc += x.new_zeros(tm, tn)                        # a host receiver
        out[tm, tn] = acc + v
    return out


def test_tile_creation_sizes_every_way(mode):
    x = torch.randn(21, 35)
    torch.testing.assert_close(fresh(tile_sizes_every_way)(x), x + 6)
