"""Kernels over StackTensors (hl.stacktensor_like: tensors of one shape at the
addresses a uint64 tensor holds), shared by tests/test_stack_tensor.py (both
CPU modes) and tests/gpu/test_stack_tensor_gpu.py, with their PyTorch
references.  The stacked tensors are reached only through their addresses."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


def pointers(tensors, device=None) -> torch.Tensor:
    """The uint64 tensor of the tensors' addresses (what a caller of these kernels builds)."""
    device = device if device is not None else tensors[0].device
    return torch.as_tensor([t.data_ptr() for t in tensors], dtype=torch.uint64, device=device)


@deuteron.kernel
def stack_sum(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The sum of the stacked vectors: a reduction over the pointers' dim."""
    n = like.size(0)
    out = torch.empty([n], dtype=torch.float32, device=like.device)
    for tile in hl.tile(n):
        stack = hl.stacktensor_like(like, ptrs[:])
        out[tile] = stack[tile].to(torch.float32).sum(0)
    return out


def stack_sum_ref(tensors):
    return torch.stack(tensors).float().sum(0)


@deuteron.kernel
def weighted_rows(ptrs: torch.Tensor, like: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """out[m, n] = sum_j w[j] * t_j[m, n], the stack walked in tiles of pointers
    (the last one partial) by an inner loop: masks on the pointers' dim."""
    m, n = like.size()
    s = ptrs.size(0)
    out = torch.empty([m, n], dtype=torch.float32, device=like.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_s in hl.tile(s):
            stack = hl.stacktensor_like(like, ptrs[tile_s])
            acc = acc + (stack[tile_m, tile_n].to(torch.float32) * w[tile_s][:, None, None]).sum(0)
        out[tile_m, tile_n] = acc
    return out


def weighted_rows_ref(tensors, w):
    return (torch.stack(tensors).float() * w.float()[:, None, None]).sum(0)


@deuteron.kernel
def scatter_scaled(x: torch.Tensor, ptrs: torch.Tensor, like: torch.Tensor, scale: torch.Tensor) -> None:
    """Tensor j becomes x * scale[j]: a store of [stack, tile] values, one row per tensor."""
    n = x.size(0)
    for tile in hl.tile(n):
        stack = hl.stacktensor_like(like, ptrs[:])
        stack[tile] = x[tile][None, :] * scale[:, None]


@deuteron.kernel
def masked_copy_between_stacks(src: torch.Tensor, dst: torch.Tensor, like: torch.Tensor, limit: int) -> None:
    """dst_j[i] = src_j[i] + 1 where i < limit (hl.load / hl.store with extra_mask); the rest
    of each dst tensor is left as it was."""
    n = like.size(0)
    for tile in hl.tile(n):
        keep = tile.index < limit
        v = hl.load(hl.stacktensor_like(like, src[:]), [tile], extra_mask=keep[None, :])
        hl.store(hl.stacktensor_like(like, dst[:]), [tile], v + 1, extra_mask=keep[None, :])


@deuteron.kernel
def transposed_stack_copy(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Stacked tensors that are transposed views (strides (1, m)): addresses plus the example's strides."""
    r, c = like.size()
    out = torch.empty([ptrs.size(0), r, c], dtype=like.dtype, device=like.device)
    for tile_r, tile_c in hl.tile([r, c]):
        out[:, tile_r, tile_c] = hl.stacktensor_like(like, ptrs[:])[tile_r, tile_c]
    return out


@deuteron.kernel
def one_pointer_each(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A stack of one tensor per program (a scalar pointer: no pointers' dim)."""
    s = ptrs.size(0)
    n = like.size(0)
    out = torch.empty([s, n], dtype=like.dtype, device=like.device)
    for j in hl.grid(s):
        one = hl.stacktensor_like(like, ptrs[j])
        out[j, :] = one[:] * 2
    return out


@deuteron.kernel
def add_in_place(ptrs: torch.Tensor, like: torch.Tensor, y: torch.Tensor) -> None:
    """t_j += y for every stacked t_j (an augmented assignment: a load and a store)."""
    n = like.size(0)
    for tile in hl.tile(n):
        stack = hl.stacktensor_like(like, ptrs[:])
        stack[tile] += y[tile]


@deuteron.kernel
def grid_of_pointers(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A 2-D table of pointers, one of its dims tiled: out[a, b, :] = t_ab * (b + 1)."""
    a, b = ptrs.size()
    n = like.size(0)
    out = torch.empty([a, b, n], dtype=like.dtype, device=like.device)
    for tile_a in hl.tile(a):
        stack = hl.stacktensor_like(like, ptrs[tile_a, :])
        scale = (hl.arange(b) + 1).to(like.dtype)
        out[tile_a, :, :] = stack[:] * scale[None, :, None]
    return out


@deuteron.kernel
def copy_pointers(ptrs: torch.Tensor) -> torch.Tensor:
    """uint64 values loaded and stored as they are."""
    out = torch.empty_like(ptrs)
    for tile in hl.tile(ptrs.size(0)):
        out[tile] = ptrs[tile]
    return out
