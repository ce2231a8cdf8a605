"""Which devices benchmark configs: one benchmark worker per GPU of the host.

Tuning for a GPU benchmarks on every visible GPU of the same model and
compute capability (the tuning GPU first), or on the first ``autotune_devices``
of them.  Each benchmark worker is pinned to its GPU through its environment:
``CUDA_VISIBLE_DEVICES`` names that one GPU (so it is ``cuda:0`` inside the
worker, and a crash or a corrupted context there touches no other GPU), and
``DEUTERON_AUTOTUNE_DEVICE_INDEX`` says which one it is.

On the CPU (tests, interpreters) there is no GPU to pin: ``autotune_devices=N``
starts N benchmark workers that each claim a simulated device index, so the
multi-GPU path runs, spreads work and survives lost workers the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..runtime import env

__all__ = ["BenchDevice", "benchmark_devices"]


@dataclass(frozen=True)
class BenchDevice:
    index: int                     # the GPU's index in this process (or the simulated index)
    environment: dict[str, str] = field(default_factory=dict)  # for its benchmark worker
    torch_device: str | None = None  # where the worker puts the arguments ("cuda:0" when pinned)


def _same_model(a: Any, b: Any) -> bool:
    return a.name == b.name and (a.major, a.minor) == (b.major, b.minor)


def benchmark_devices(device: torch.device | None, cuda: bool, requested: int | None) -> list[BenchDevice]:
    """The devices to benchmark on for a kernel whose arguments are on ``device``."""
    if not cuda or not torch.cuda.is_available():
        n = requested or 1
        return [BenchDevice(i, {env.AUTOTUNE_DEVICE_INDEX: str(i)}, None) for i in range(n)]
    first = device.index if device is not None and device.index is not None else torch.cuda.current_device()
    props = torch.cuda.get_device_properties(first)
    order = [first] + [i for i in range(torch.cuda.device_count())
                       if i != first and _same_model(torch.cuda.get_device_properties(i), props)]
    if requested is not None:
        order = order[:requested]
    visible = env.cuda_visible_devices()
    out = []
    for i in order:
        physical = visible[i] if visible is not None and i < len(visible) else str(i)
        out.append(BenchDevice(i, {"CUDA_VISIBLE_DEVICES": physical, env.AUTOTUNE_DEVICE_INDEX: str(i)}, "cuda:0"))
    return out
