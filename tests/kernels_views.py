"""Kernels for the torch.compile tests of writes through host views and of
structured / dtype / string arguments (test_torch_views.py)."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import torch

import deuteron
import deuteron.language as hl

CFG = deuteron.Config(block_sizes=[16])
CFG2 = deuteron.Config(block_sizes=[4, 4])


@deuteron.kernel(config=CFG)
def via_view(x: torch.Tensor) -> None:
    y = x.view(-1)
    for tile in hl.tile(y.size(0)):
        y[tile] = y[tile] + 1


@deuteron.kernel(config=CFG)
def via_view_of_size(x: torch.Tensor) -> torch.Tensor:
    y = x.view(x.size())
    for tile in hl.tile(y.size()):
        y[tile] = y[tile] + 1
    return x


@deuteron.kernel(config=CFG)
def via_reshape(x: torch.Tensor) -> None:
    y = x.reshape(-1)
    for tile in hl.tile(y.size(0)):
        y[tile] = y[tile] * 2


@deuteron.kernel(config=CFG)
def via_flatten(x: torch.Tensor) -> None:
    y = x.flatten()
    for tile in hl.tile(y.size(0)):
        y[tile] = y[tile] * 2


@deuteron.kernel(config=CFG2)
def via_permute(x: torch.Tensor) -> None:
    y = x.permute(1, 0)
    for ti, tj in hl.tile(y.size()):
        y[ti, tj] = y[ti, tj] * 2 + 1


@deuteron.kernel(config=CFG2)
def via_chain(x: torch.Tensor) -> None:
    # transpose, unsqueeze, squeeze, t: back to x's own layout, through four views
    y = x.transpose(0, 1).unsqueeze(0).squeeze(0).t()
    for ti, tj in hl.tile(y.size()):
        y[ti, tj] = y[ti, tj] - 3


@deuteron.kernel(config=CFG)
def via_getitem(x: torch.Tensor) -> None:
    row = x[1]
    for tile in hl.tile(row.size(0)):
        row[tile] = row[tile] + 10


@deuteron.kernel(config=CFG)
def via_contiguous(x: torch.Tensor) -> None:
    y = x.contiguous()
    for tile in hl.tile(y.size(0)):
        y[tile] = y[tile] + 1


@deuteron.kernel(config=CFG)
def reads_view(x: torch.Tensor) -> torch.Tensor:
    y = x.view(-1)
    out = torch.empty_like(y)
    for tile in hl.tile(y.size(0)):
        out[tile] = y[tile] + 1
    return out


# --------------------------------------------- structured / dtype / string arguments

class Scaled(NamedTuple):
    x: torch.Tensor
    scale: float


@dataclasses.dataclass
class AxpyArgs:
    x: torch.Tensor
    y: torch.Tensor
    alpha: float
    out_dtype: torch.dtype


@deuteron.kernel(config=CFG)
def pair_sum(pair: tuple[torch.Tensor, torch.Tensor], n: int) -> torch.Tensor:
    out = torch.empty_like(pair[0])
    for tile in hl.tile(pair[0].size(0)):
        out[tile] = pair[0][tile] + pair[1][tile] * n
    return out


@deuteron.kernel(config=CFG)
def scaled(p: Scaled, dtype: torch.dtype, mode: str) -> torch.Tensor:
    out = torch.empty(p.x.shape, dtype=dtype, device=p.x.device)
    for tile in hl.tile(p.x.size(0)):
        if mode == "square":
            out[tile] = (p.x[tile] * p.x[tile] * p.scale).to(dtype)
        else:
            out[tile] = (p.x[tile] * p.scale).to(dtype)
    return out


@deuteron.kernel(config=CFG)
def axpy(a: AxpyArgs) -> torch.Tensor:
    out = torch.empty(a.x.shape, dtype=a.out_dtype, device=a.x.device)
    for tile in hl.tile(a.x.size(0)):
        out[tile] = (a.alpha * a.x[tile] + a.y[tile]).to(a.out_dtype)
    return out


@deuteron.kernel(config=CFG)
def dict_into(d: dict[str, torch.Tensor]) -> None:
    out = d["out"]
    for tile in hl.tile(out.size(0)):
        out[tile] = out[tile] + d["x"][tile]


@deuteron.kernel(config=CFG2, static_shapes=True)
def static_add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + y[tile]
    return out


@deuteron.kernel(config=CFG)
def host_in_place(x: torch.Tensor, out: torch.Tensor) -> None:
    # Host code writes x (the kernels only read it): x is mutated all the same.
    x.mul_(2)
    x[0] = 5.0
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + 1


@deuteron.kernel(config=CFG)
def host_in_place_view(x: torch.Tensor, out: torch.Tensor) -> None:
    y = x.view(-1)
    y.add_(1)
    for tile in hl.tile(y.size(0)):
        out[tile] = y[tile]


@deuteron.kernel(config=CFG, static_shapes=False)
def via_reshape_dynamic(x: torch.Tensor) -> None:
    # Dynamic shapes: x's strides are symbols, so whether reshape views or
    # copies is known only at run time (its strides are read then).
    y = x.reshape(-1)
    for tile in hl.tile(y.size(0)):
        y[tile] = y[tile] * 2
