"""StackTensor memory in PyTorch: the tensors a uint64 address names, read and written.

``hl.stacktensor_like(like, ptrs[...])`` is a stack of tensors shaped like
``like``, each at an address a lane of ``ptrs`` holds.  Generated Triton code
turns those addresses into pointers itself.  Two things of deuteron's reach the
same memory from PyTorch, and use this module:

* the reference back end (``DEUTERON_INTERPRET=1``, codegen/reference), whose
  generated modules call :func:`load` and :func:`store` for a stack's loads and
  stores;
* the autotuner (autotune/saved_memory.py), which saves the bytes a kernel's
  stores through a stack can change, and puts them back.

A tensor at an address is made over that memory without a copy: through
``ctypes`` for CPU memory, ``__cuda_array_interface__`` for CUDA memory.  The
host cannot keep the tensors the addresses came from instead: a kernel receives
only numbers, which may point anywhere (into one buffer, at other offsets).
"""

from __future__ import annotations

import ctypes
from typing import Any, Sequence

import torch

__all__ = ["memory_at", "view", "load", "store"]


class _DeviceBytes:
    """``nbytes`` bytes of GPU memory at ``address``, for ``torch.as_tensor`` (no copy)."""

    def __init__(self, address: int, nbytes: int) -> None:
        self.__cuda_array_interface__ = {"shape": (nbytes,), "typestr": "|u1", "data": (address, False),
                                         "strides": None, "version": 3}


def memory_at(address: int, like: torch.Tensor) -> torch.Tensor:
    """The bytes (uint8, not a copy) that a tensor with like's dtype, sizes and strides
    spans at ``address`` on like's device."""
    nbytes = (1 + sum((n - 1) * s for n, s in zip(like.shape, like.stride()))) * like.element_size()
    if like.device.type == "cpu":
        return torch.frombuffer((ctypes.c_char * nbytes).from_address(address), dtype=torch.uint8)
    if like.device.type == "cuda":
        return torch.as_tensor(_DeviceBytes(address, nbytes), device=like.device)
    raise NotImplementedError(f"StackTensor pointers into {like.device.type} memory cannot be read here")


def view(address: int, like: torch.Tensor) -> torch.Tensor:
    """The tensor a StackTensor pointer names: like's dtype, sizes and strides over the
    memory at ``address`` on like's device (a view of it, not a copy)."""
    if address == 0:
        raise ValueError("a StackTensor pointer is null (0) where the kernel reads or writes through it")
    if like.numel() == 0:
        return like.new_empty(like.shape)
    return memory_at(address, like).view(like.dtype).as_strided(like.shape, like.stride())


def _lanes(ptrs: torch.Tensor, shape: Sequence[int], x: Any) -> torch.Tensor:
    """``x`` broadcast to ptrs.shape + shape, one row per pointer."""
    x = torch.as_tensor(x, device=ptrs.device)
    return x.expand(tuple(ptrs.shape) + tuple(shape)).reshape((ptrs.numel(),) + tuple(shape))


def load(ptrs: torch.Tensor, like: torch.Tensor, index: tuple, shape: Sequence[int],
         mask: torch.Tensor | None) -> torch.Tensor:
    """Row j: the tensor pointer j names, indexed by ``index`` (one row's ``shape``); lanes
    that ``mask`` leaves out read 0, and a pointer whose lanes it all leaves out is not read."""
    out = torch.zeros((ptrs.numel(),) + tuple(shape), dtype=like.dtype, device=ptrs.device)
    keep = None if mask is None else _lanes(ptrs, shape, mask)
    for j, address in enumerate(ptrs.reshape(-1).tolist()):
        if keep is not None and not bool(keep[j].any()):
            continue
        got = view(address, like)[index]
        out[j] = got if keep is None else torch.where(keep[j], got, 0)
    return out.reshape(tuple(ptrs.shape) + tuple(shape))


def store(ptrs: torch.Tensor, like: torch.Tensor, index: tuple, shape: Sequence[int], value: Any,
          mask: torch.Tensor | None) -> None:
    """Row j of ``value`` (broadcast to ptrs.shape + shape) into the tensor pointer j names,
    at ``index``; lanes that ``mask`` leaves out are not written."""
    rows = _lanes(ptrs, shape, value).to(like.dtype)
    keep = None if mask is None else _lanes(ptrs, shape, mask)
    for j, address in enumerate(ptrs.reshape(-1).tolist()):
        if keep is not None and not bool(keep[j].any()):
            continue
        target, row = view(address, like), rows[j]
        if like.dtype == torch.uint64:  # index_put has no uint64 kernel: write the int64 bits
            target, row = target.view(torch.int64), row.view(torch.int64)
        if keep is None:
            target[index] = row
        else:
            sel = keep[j]
            target[tuple(torch.as_tensor(i, device=ptrs.device).expand(tuple(shape))[sel] for i in index)] = row[sel]
