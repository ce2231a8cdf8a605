"""Kernels used by the pointwise tests (a real module: deuteron reads kernel source from files)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

import deuteron
import deuteron.language as hl

SCALE = 0.5


@deuteron.kernel(autotune_effort="none")
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x, y = torch.broadcast_tensors(x, y)
    out = torch.empty(x.shape, dtype=torch.promote_types(x.dtype, y.dtype), device=x.device)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out


@deuteron.kernel(autotune_effort="none")
def unary_chain(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        v = x[tile]
        out[tile] = torch.sigmoid(v) + torch.tanh(v) * torch.exp(-v.abs()) - torch.sqrt(v * v + 1) + F.silu(v)
    return out


@deuteron.kernel(autotune_effort="none")
def promote(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty(x.shape, dtype=torch.float32, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = (x[tile] * 3 + y[tile] / 2).float() * SCALE
    return out


@deuteron.kernel(autotune_effort="none")
def compare_where(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile]
        inside = (v >= lo) & (v <= hi)
        out[tile] = torch.where(inside, v, torch.clamp(v, min=lo, max=hi) * 2)
    return out


@deuteron.kernel(autotune_effort="none")
def int_math(x: torch.Tensor, d: int) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile]
        out[tile] = v // d + v % d * 100 + (v << 1) - (v & 7)
    return out


@deuteron.kernel(autotune_effort="none")
def tile_ops(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n], block_size=[8, 16]):
        ramp = tile_m.index.to(torch.float32)[:, None] * 1000 + tile_n.index[None, :]
        out[tile_m, tile_n] = x[tile_m, tile_n] + ramp + tile_n.begin * 0 + tile_m.block_size
    return out


@deuteron.kernel(autotune_effort="none")
def rows_times_scale(x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty_like(x)
    for row in hl.grid(m):
        for tile in hl.tile(n):
            out[row, tile] = x[row, tile] * scale[row]
    return out


@deuteron.kernel(autotune_effort="none")
def shifted(x: torch.Tensor, start: int) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile in hl.tile(start, x.size(0)):
        out[tile] = x[tile] - x[tile.begin]
    return out


@deuteron.kernel(autotune_effort="none")
def powers(x: torch.Tensor, k: hl.constexpr) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        acc = x[tile]
        for _ in hl.static_range(k - 1):
            acc = acc * x[tile]
        out[tile] = acc
    return out


@deuteron.kernel(autotune_effort="none")
def outer(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = a.new_empty([a.size(0), b.size(0)])
    for ti, tj in hl.tile([a.size(0), b.size(0)]):
        out[ti, tj] = a[ti][:, None] * b[None, tj]
    return out


def _gelu_tanh(v):
    return F.gelu(v, approximate="tanh")


@deuteron.kernel(autotune_effort="none")
def helper_calls(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = _gelu_tanh(x[tile]) + math.pi
    return out


@deuteron.kernel(autotune_effort="none")
def transposed_copy(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile(out.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n] * 1
    return out


@deuteron.kernel(autotune_effort="none")
def masked_load(x: torch.Tensor) -> torch.Tensor:
    n = x.size(0)
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        prev = hl.load(x, [tile.index - 1], extra_mask=tile.index > 0)
        out[tile] = x[tile] - prev
    return out


@deuteron.kernel(autotune_effort="none", static_shapes=False)
def add_dynamic(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(out.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n] + y[tile_m, tile_n]
    return out


from deuteron.autotuner import BooleanFragment, IntegerFragment  # noqa: E402


@deuteron.kernel(autotune_effort="none")
def tunable_scale(x: torch.Tensor) -> torch.Tensor:
    factor = hl.register_tunable("factor", IntegerFragment(1, 4, 2))
    negate = hl.register_tunable("negate", BooleanFragment())
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile] * factor
        if negate:
            v = -v
        out[tile] = v
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[32]))
def mul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * y[tile]
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 4]))
def col_sum(x: torch.Tensor) -> torch.Tensor:
    """Sums over a dim that may be expanded (stride 0): the reduction must still count every row."""
    m, n = x.size()
    out = torch.empty([n], dtype=torch.float32, device=x.device)
    for tn in hl.tile(n):
        acc = hl.zeros([tn], dtype=torch.float32)
        for tm in hl.tile(m):
            acc += x[tm, tn].sum(0)
        out[tn] = acc
    return out
