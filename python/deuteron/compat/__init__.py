"""Compatibility with programs written for Helion.

A Helion program runs under deuteron after changing its imports
(``import helion`` -> ``import deuteron``, ``helion.language`` ->
``deuteron.language``, ``helion._testing`` -> ``deuteron.testing``).  To run one
unchanged, install the import alias first::

    import deuteron.compat
    deuteron.compat.install_helion_alias()
    import helion                      # deuteron, under Helion's name

or run it as ``python -m deuteron.compat program.py [args...]``.

This module also holds the small platform queries Helion programs take from
``helion._compat`` (``supports_tensor_descriptor()``, ...), answered for
deuteron's one back end (Triton).
"""

from __future__ import annotations

import functools

import torch

from ..runtime.device import device_info
from .helion_alias import HelionInternalUsed, install_helion_alias, uninstall_helion_alias

__all__ = [
    "install_helion_alias", "uninstall_helion_alias", "HelionInternalUsed",
    "supports_tensor_descriptor", "get_tensor_descriptor_fn_name", "use_tileir_tunables", "is_hip",
    "requires_torch_version", "requires_cuda_version", "min_dot_size", "device_num_sm",
    "supports_torch_compile_fusion", "supports_amd_cdna_tunables",
]


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for p in text.split("+")[0].split("."):
        digits = "".join(c for c in p if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


@functools.cache
def supports_tensor_descriptor() -> bool:
    """Whether kernels here can use tensor descriptors (TMA): an NVIDIA GPU of compute capability 9.0+."""
    return torch.cuda.is_available() and torch.version.cuda is not None and torch.cuda.get_device_capability() >= (9, 0)


def get_tensor_descriptor_fn_name() -> str:
    """The Triton function generated code uses to make a tensor descriptor."""
    return "tl.make_tensor_descriptor"


def use_tileir_tunables() -> bool:
    """deuteron has no TileIR back end."""
    return False


def is_hip() -> bool:
    """deuteron generates code for NVIDIA GPUs (and the CPU interpreters), never ROCm."""
    return False


def supports_amd_cdna_tunables() -> bool:
    return False


def requires_torch_version(min_version: str) -> bool:
    """Whether the installed PyTorch is at least ``min_version`` (pre-release suffixes ignored)."""
    return _version(torch.__version__) >= _version(min_version)


def requires_cuda_version(min_version: str) -> bool:
    """Whether PyTorch was built with CUDA at least ``min_version``."""
    return torch.version.cuda is not None and _version(torch.version.cuda) >= _version(min_version)


def supports_torch_compile_fusion() -> bool:
    """Kernels are ``torch.library`` operators, so torch.compile treats them as opaque calls."""
    return False


def min_dot_size(device: torch.device | None = None, lhs: torch.dtype | None = None,
                 rhs: torch.dtype | None = None) -> tuple[int, int, int]:
    """The smallest (M, N, K) tile a dot accepts in Triton (16 in every dim)."""
    return (16, 16, 16)


def device_num_sm(device: torch.device | None = None) -> int:
    """The number of streaming multiprocessors of ``device`` (on the CPU: those of the GPU
    that code is generated for there, an H100)."""
    if device is None and torch.cuda.is_available():
        device = torch.device("cuda", torch.cuda.current_device())
    return int(device_info(None if device is None else torch.device(device))["sm_count"])
