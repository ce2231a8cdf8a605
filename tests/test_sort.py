"""torch.sort and torch.topk along a whole row inside tile loops, in both CPU modes,
against torch on the whole tensor (values and indices), in float32, float16 and int32."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel
def sort_rows(x: torch.Tensor, descending: hl.constexpr) -> tuple[torch.Tensor, torch.Tensor]:
    m, n = x.shape
    vals = torch.empty_like(x)
    idx = torch.empty(m, n, dtype=torch.int64, device=x.device)
    for tile_m in hl.tile(m):
        v, i = torch.sort(x[tile_m, :], dim=-1, descending=descending)
        vals[tile_m, :] = v
        idx[tile_m, :] = i
    return vals, idx


@deuteron.kernel
def sorted_cumsum(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        v, _ = x[tile_m, :].sort(dim=1)
        out[tile_m, :] = torch.cumsum(v, dim=-1)
    return out


@deuteron.kernel
def topk_rows(x: torch.Tensor, k: hl.constexpr, largest: hl.constexpr) -> tuple[torch.Tensor, torch.Tensor]:
    m, n = x.shape
    vals = torch.empty(m, k, dtype=x.dtype, device=x.device)
    idx = torch.empty(m, k, dtype=torch.int64, device=x.device)
    for tile_m in hl.tile(m):
        v, i = torch.topk(x[tile_m, :], k, dim=-1, largest=largest)
        vals[tile_m, :] = v
        idx[tile_m, :] = i
    return vals, idx


def _distinct(m, n, dtype):
    # distinct values (a permutation), so that the indices are unique
    x = torch.stack([torch.randperm(n) for _ in range(m)]).to(torch.float32) - n / 2
    return (x / 4).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32])
@pytest.mark.parametrize("n", [16, 21])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_values_and_indices(mode, dtype, n, descending):
    x = _distinct(5, n, dtype) if dtype.is_floating_point else torch.randint(-1000, 1000, (5, n), dtype=dtype)
    vals, idx = fresh(sort_rows)(x, descending)
    ref = torch.sort(x, dim=-1, descending=descending, stable=True)
    torch.testing.assert_close(vals, ref.values)
    torch.testing.assert_close(idx, ref.indices)


def test_sort_with_ties_and_infinities_is_stable(mode):
    x = torch.tensor([[1.0, -0.0, float("inf"), 1.0, -float("inf"), 0.0, -2.5, 1.0, 3.0]])
    for descending in (False, True):
        vals, idx = fresh(sort_rows)(x, descending)
        ref = torch.sort(x, dim=-1, descending=descending, stable=True)
        torch.testing.assert_close(vals, ref.values)
        torch.testing.assert_close(idx, ref.indices)


def test_sort_then_cumsum(mode):
    x = _distinct(3, 12, torch.float32)
    torch.testing.assert_close(fresh(sorted_cumsum)(x), torch.cumsum(torch.sort(x, dim=1).values, dim=-1))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("n,k", [(16, 4), (20, 3), (8, 8)])
@pytest.mark.parametrize("largest", [True, False])
def test_topk(mode, dtype, n, k, largest):
    x = _distinct(4, n, dtype)
    vals, idx = fresh(topk_rows)(x, k, largest)
    ref = torch.topk(x, k, dim=-1, largest=largest)
    torch.testing.assert_close(vals, ref.values)
    torch.testing.assert_close(idx, ref.indices)


@deuteron.kernel
def sort_tiled_axis(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        v, _ = torch.sort(x[tile_m, tile_n], dim=-1)
        out[tile_m, tile_n] = v
    return out


def test_sorting_a_tile_of_the_axis_is_an_error(mode):
    with pytest.raises(exc.CompileError, match="needs the whole axis"):
        fresh(sort_tiled_axis)(torch.randn(4, 8))
