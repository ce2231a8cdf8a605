"""deuteron's runtime: kernels, configs, settings, generated modules, launching.

Two helpers that Helion programs call as ``helion.runtime.<name>`` live here, public:

* ``get_num_sm(device, reserved_sms=0)``: the number of streaming multiprocessors
  a persistent kernel can use on ``device`` (on the CPU: those of the GPU code is
  generated for there, as the compiler sees it);
* ``set_triton_allocator()``: installs the allocator Triton needs for device-side
  tensor descriptors (deuteron's launches install it themselves when needed).
"""

from __future__ import annotations

import torch

from .device import device_info
from .launcher import ensure_allocator

__all__ = ["get_num_sm", "set_triton_allocator"]


def get_num_sm(device: torch.device | str | None = None, *, reserved_sms: int = 0) -> int:
    """Streaming multiprocessors of ``device`` less ``reserved_sms`` (at least 1)."""
    if device is None and torch.cuda.is_available():
        device = torch.device("cuda", torch.cuda.current_device())
    count = int(device_info(None if device is None else torch.device(device))["sm_count"])
    return max(1, count - reserved_sms)


def set_triton_allocator() -> None:
    """Installs Triton's allocator for device-side tensor descriptors (once per process)."""
    if torch.cuda.is_available():
        ensure_allocator()
