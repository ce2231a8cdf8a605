"""Dims of size 1 broadcast, as Helion reads them: `:` over a size-1 dim
(`rsqrt[tile, :]` of an [m, 1] tensor against [tile, n]), and a device scalar
index into a size-1 dim (a block mask of shape [1, 1, rows] indexed by head)
reads its one element.  A constant index past the dim is an error.  In both CPU
modes, against PyTorch."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel
def scale_rows(x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tm in hl.tile(x.size(0)):
        xt = x[tm, :]
        rt = r[tm, :]  # [tm, 1]
        out[tm, :] = xt * rt - (xt * rt).mean(-1)[:, None] * rt ** 3
    return out


@deuteron.kernel
def per_head_counts(x: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    # counts: [1, heads_or_1, rows]; x: [heads, rows]
    out = torch.empty_like(x)
    for h, tr in hl.tile([x.size(0), x.size(1)], block_size=[1, None]):
        c = counts[0, h.begin, tr]
        out[h, tr] = x[h, tr] + c[None, :].to(x.dtype)
    return out


def test_colon_over_a_size_one_dim_broadcasts(mode):
    x, r = torch.randn(37, 24), torch.rand(37, 1) + 0.5
    expect = x * r - (x * r).mean(-1, keepdim=True) * r**3
    torch.testing.assert_close(fresh(scale_rows)(x, r), expect, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("heads_in_mask", [1, 3])
def test_scalar_index_into_a_size_one_dim_reads_its_element(mode, heads_in_mask):
    x = torch.randn(3, 40)
    counts = torch.arange(heads_in_mask * 40, dtype=torch.int32).reshape(1, heads_in_mask, 40)
    expect = x + counts.expand(1, 3, 40)[0].to(x.dtype)
    torch.testing.assert_close(fresh(per_head_counts)(x, counts), expect)


def test_constant_index_past_the_dim_is_an_error(mode):
    @deuteron.kernel
    def k(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty([x.size(1)], dtype=x.dtype, device=x.device)
        for t in hl.tile(x.size(1)):
            out[t] = x[2, t]
        return out

    with pytest.raises(exc.CompileError, match=r"index 2 is out of range for dimension 0 of 'x' \(size 2\)"):
        fresh(k)(torch.randn(2, 8))


@deuteron.kernel
def concat_columns(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # Helion's concatenate example: one tile spans both inputs; the program masks
    # each load to its own columns, deuteron masks them against the tensor too.
    out = torch.empty([x.size(0), x.size(1) + y.size(1)], dtype=x.dtype, device=x.device)
    for t0, t1 in hl.tile(out.size()):
        xp = hl.load(x, [t0, t1], extra_mask=(t1.index < x.size(1))[None, :])
        yp = hl.load(y, [t0, t1.index - x.size(1)], extra_mask=(t1.index >= x.size(1))[None, :])
        out[t0, t1] = torch.where((t1.index < x.size(1))[None, :], xp, yp)
    return out


@pytest.mark.parametrize("nx,ny", [(30, 70), (64, 64), (5, 1)])
def test_a_masked_load_may_run_past_the_tensor(mode, nx, ny):
    x, y = torch.randn(9, nx), torch.randn(9, ny)
    torch.testing.assert_close(fresh(concat_columns)(x, y), torch.cat([x, y], dim=1))


def test_an_unmasked_load_past_the_tensor_is_an_error(mode):
    @deuteron.kernel
    def k(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = torch.empty([x.size(0) + y.size(0)], dtype=x.dtype, device=x.device)
        for t in hl.tile(out.size(0)):
            out[t] = x[t]
        return out

    with pytest.raises(exc.CompileError, match="runs up to 12 but dimension 0 of 'x' has size 8"):
        fresh(k)(torch.randn(8), torch.randn(4))


@deuteron.kernel
def rowwise_softmax_views(x: torch.Tensor) -> torch.Tensor:
    # Helion's test_softmax_view_reshape: a row's max and sum viewed as [tile, 1].
    n, _m = x.size()
    out = torch.empty_like(x)
    for tile_n in hl.tile(n):
        values = x[tile_n, :]
        amax = torch.amax(values, dim=1).view(tile_n, 1)
        exp = torch.exp(values - amax)
        sum_exp = torch.reshape(torch.sum(exp, dim=1), [tile_n, 1])
        out[tile_n, :] = exp / sum_exp
    return out


@pytest.mark.parametrize("block", [1, 8])
def test_a_unit_tiles_reduction_viewed_with_a_unit_dim(mode, block):
    # With block 1 the tile's axis is not printed: the reduction is a scalar in
    # the Triton code, and its view as [tile, 1] one element (tl.reshape takes
    # blocks only; this failed to compile on the GPU as under the interpreter).
    x = torch.randn(16, 64)
    got = fresh(rowwise_softmax_views).bind((x,)).compile_config(deuteron.Config(block_sizes=[block]))(x)
    torch.testing.assert_close(got, torch.softmax(x, dim=1))
