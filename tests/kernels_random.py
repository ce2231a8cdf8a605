"""Kernels drawing random numbers (tests/test_random.py, tests/gpu/test_random_gpu.py)."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel()
def rand_2d(x: torch.Tensor, seed: int) -> torch.Tensor:
    out = torch.empty_like(x)
    m, n = x.shape
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = hl.rand([tile_m, tile_n], seed=seed)
    return out


@deuteron.kernel(static_shapes=False)
def rand_2d_dynamic(x: torch.Tensor, seed: int) -> torch.Tensor:
    out = torch.empty_like(x)
    m, n = x.shape
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = hl.rand([tile_m, tile_n], seed=seed)
    return out


@deuteron.kernel()
def rand_3d_with_whole_dim(x: torch.Tensor, seed: int) -> torch.Tensor:
    out = torch.empty_like(x)
    b, m, k = x.shape
    for tile_b, tile_m in hl.tile([b, m]):
        out[tile_b, tile_m, :] = hl.rand([tile_b, tile_m, k], seed=seed)
    return out


@deuteron.kernel()
def rand_seed_tensor(x: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.rand([tile], seed=seed)
    return out


@deuteron.kernel()
def rand_explicit_offsets(x: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.empty_like(x)
    b = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        base = tile.index.to(torch.int64) * 3
        a[tile] = hl.rand([], seed=seed, offsets=base)
        b[tile] = hl.rand([], seed=seed, offsets=base + 1)
    return a, b


@deuteron.kernel()
def rand4x_masks(x: torch.Tensor, seed: int) -> torch.Tensor:
    out = torch.empty([4, x.size(0)], dtype=torch.float32, device=x.device)
    for tile in hl.tile(x.size(0)):
        r0, r1, r2, r3 = hl.rand4x(seed, tile.index.to(torch.int64))
        out[0, tile] = r0
        out[1, tile] = r1
        out[2, tile] = r2
        out[3, tile] = r3
    return out


@deuteron.kernel()
def randint_2d(x: torch.Tensor, seed: int) -> torch.Tensor:
    out = torch.empty(x.shape, dtype=torch.int32, device=x.device)
    m, n = x.shape
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = hl.randint([tile_m, tile_n], low=-5, high=17, seed=seed)
    return out


@deuteron.kernel()
def rand_rows_in_inner_loop(x: torch.Tensor, seed: int) -> torch.Tensor:
    # The draw covers tile_m only: every column block gets the same row values.
    out = torch.empty_like(x)
    m, n = x.shape
    for tile_n in hl.tile(n):
        for tile_m in hl.tile(m):
            r = hl.rand([tile_m], seed=seed)
            out[tile_m, tile_n] = r[:, None].expand(tile_m, tile_n)
    return out


@deuteron.kernel()
def rand_times_row_mean(x: torch.Tensor, seed: int) -> torch.Tensor:
    m, _ = x.shape
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = hl.rand([tile_m], seed=seed) * x[tile_m, :].mean(-1)
    return out


def _seeded_noise(tile_m, tile_n, seed: int) -> torch.Tensor:
    return hl.rand([tile_m, tile_n], seed=seed)


@deuteron.kernel()
def rand_in_helper_twice(x: torch.Tensor, seed: int) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty([2, m, n], dtype=torch.float32, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        out[0, tile_m, tile_n] = _seeded_noise(tile_m, tile_n, seed)
        out[1, tile_m, tile_n] = _seeded_noise(tile_m, tile_n, seed)
    return out


# ----------------------------------------------------------- low-memory dropout
# The mask is never stored: forward and backward draw it again from the seed.
# (Helion's example computes `scale` on the host; here it is computed per tile.)

@deuteron.kernel(static_shapes=False)
def dropout_fwd(p: float, x: torch.Tensor, seed: int) -> torch.Tensor:
    n = x.numel()
    x_flat = x.view(-1)
    out_flat = torch.empty_like(x_flat)
    for tile in hl.tile(n):
        scale = 1.0 / (1.0 - p)
        keep = hl.rand([tile], seed=seed) > p
        out_flat[tile] = torch.where(keep, x_flat[tile].to(torch.float32) * scale, 0.0).to(x.dtype)
    return out_flat.view_as(x)


@deuteron.kernel(static_shapes=False)
def dropout_bwd(p: float, grad_y: torch.Tensor, seed: int) -> torch.Tensor:
    n = grad_y.numel()
    g_flat = grad_y.view(-1)
    out_flat = torch.empty_like(g_flat)
    for tile in hl.tile(n):
        scale = 1.0 / (1.0 - p)
        keep = hl.rand([tile], seed=seed) > p
        out_flat[tile] = torch.where(keep, g_flat[tile].to(torch.float32) * scale, 0.0).to(grad_y.dtype)
    return out_flat.view_as(grad_y)


# ----------------------------------------------------------- torch's generator

@deuteron.kernel()
def rand_like_twice(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.empty_like(x)
    b = torch.empty_like(x)
    m, n = x.shape
    for tile_m, tile_n in hl.tile([m, n]):
        t = x[tile_m, tile_n]
        a[tile_m, tile_n] = torch.rand_like(t)
        b[tile_m, tile_n] = torch.rand_like(t)
    return a, b


@deuteron.kernel()
def rand_like_with_scale(x: torch.Tensor) -> tuple[torch.Tensor, float]:
    """A scalar beside the tensor: a traced call rebuilds it from the host code."""
    out = torch.empty_like(x)
    m, n = x.shape
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = torch.rand_like(x[tile_m, tile_n])
    return out, 0.25


@deuteron.kernel()
def randn_like_2d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    m, n = x.shape
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = torch.randn_like(x[tile_m, tile_n])
    return out


@deuteron.kernel()
def rand_explicit_then_implicit(x: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    explicit = torch.empty_like(x)
    implicit = torch.empty_like(x)
    m, n = x.shape
    for tile_m, tile_n in hl.tile([m, n]):
        explicit[tile_m, tile_n] = hl.rand([tile_m, tile_n], seed=seed)
        implicit[tile_m, tile_n] = torch.rand((tile_m, tile_n), device=x.device, dtype=x.dtype)
    return explicit, implicit


@deuteron.kernel()
def rand_two_loops(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.empty_like(x)
    b = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        a[tile] = torch.rand_like(x[tile])
    for tile in hl.tile(x.size(0)):
        b[tile] = torch.rand_like(x[tile])
    return a, b


@deuteron.kernel()
def rand_like_half_with_carried_sum(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # rand_like inside an inner loop whose carried value widens (sema lowers
    # the loop twice): the call site keeps one seed slot.
    m, n = x.shape
    noise = torch.empty_like(x)
    sums = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        acc = 0
        for tile_n in hl.tile(n):
            r = torch.rand_like(x[tile_m, tile_n])
            noise[tile_m, tile_n] = r
            acc = acc + r.float().sum(-1)
        sums[tile_m] = acc
    return noise, sums
