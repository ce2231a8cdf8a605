"""Kernels of the index-width tests (a real module: deuteron reads kernel source from files)."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


def _outer(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # The output is larger than either argument: its offsets decide the width.
    out = torch.empty([x.size(0), y.size(0)], dtype=torch.int8, device=x.device)
    for tm, tn in hl.tile([x.size(0), y.size(0)]):
        out[tm, tn] = x[tm][:, None] * y[tn][None, :]
    return out


outer = deuteron.kernel(_outer, autotune_effort="none")
outer_dynamic = deuteron.kernel(_outer, autotune_effort="none", static_shapes=False)


@deuteron.kernel(autotune_effort="none", static_shapes=False)
def copy_dynamic(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    return out


@deuteron.kernel(autotune_effort="none")
def fill_n(x: torch.Tensor, n: int) -> torch.Tensor:
    # The output's size is an int argument: unknown when binding.
    out = torch.empty([n], dtype=torch.int8, device=x.device)
    for tile in hl.tile(n):
        out[tile] = x[0]
    return out


@deuteron.kernel(autotune_effort="none", static_shapes=False)
def add_like_dynamic(x: torch.Tensor) -> torch.Tensor:
    # empty_like keeps the stride order of a non-contiguous x: strides read at run time.
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(x.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n] + 1
    return out


@deuteron.kernel(autotune_effort="none", index_dtype=torch.int32)
def copy_int32(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    return out


@deuteron.kernel(autotune_effort="none", index_dtype=torch.int32, static_shapes=False)
def copy_int32_dynamic(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    return out
