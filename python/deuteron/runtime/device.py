"""What the code generator needs to know about the GPU (or the CPU interpreter)."""

from __future__ import annotations

import functools
from typing import Any

import torch


@functools.lru_cache(maxsize=None)
def triton_version() -> int:
    """The installed Triton as major * 100 + minor (3.6 is 306): what the
    code generator may use depends on it (target.h: has_block_pointers)."""
    try:
        import triton
    except ImportError:  # the interpret mode runs without Triton
        return 306
    major, minor = (int("".join(c for c in p if c.isdigit()) or 0) for p in triton.__version__.split(".")[:2])
    return major * 100 + minor


@functools.lru_cache(maxsize=None)
def _cuda_info(index: int) -> dict[str, Any]:
    props = torch.cuda.get_device_properties(index)
    shared = getattr(props, "shared_memory_per_block_optin", 0) or 227 * 1024
    return {
        "name": props.name,
        "sm_count": props.multi_processor_count,
        "compute_capability": props.major * 10 + props.minor,
        "max_shared_memory": int(shared),
        "is_cuda": True,
        "triton_version": triton_version(),
    }


# What a CPU-only machine compiles for: an H100 (the project's reference GPU),
# so that generated code is the same as on the device.
_CPU_INFO: dict[str, Any] = {
    "name": "NVIDIA H100 80GB HBM3",
    "sm_count": 132,
    "compute_capability": 90,
    "max_shared_memory": 227 * 1024,
    "is_cuda": False,
}


def device_info(device: torch.device | None) -> dict[str, Any]:
    if device is not None and device.type == "cuda" and torch.cuda.is_available():
        return dict(_cuda_info(device.index if device.index is not None else torch.cuda.current_device()))
    return {**_CPU_INFO, "triton_version": triton_version()}


def device_key(device: torch.device | None) -> str:
    """A short name for caches: the GPU's name, or 'cpu'."""
    if device is not None and device.type == "cuda" and torch.cuda.is_available():
        return _cuda_info(device.index if device.index is not None else torch.cuda.current_device())["name"]
    return "cpu"
