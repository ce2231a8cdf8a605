"""What a tuned config is valid for: the keys of the shared tuning cache.

A result is valid for one *family* (the same kernel compiled the same way on
the same kind of GPU with the same software) and, inside it, one *shape* (the
arguments' specialization).  Both are JSON documents; their SHA-256 hashes are
the keys:

* family: the kernel's name, a hash of its source and of every source and
  global value it refers to (helpers it calls, recursively, and constants),
  the settings that change generated code, the ``configs=`` list, the GPU's
  model, compute capability and SM count, and the versions of deuteron,
  Triton, torch and the CUDA driver;
* shape: each argument's kind and dtype, its sizes (exact with static shapes,
  else the {0, 1, >=2} buckets the specialization uses), strides, and
  alignment of its first element (bytes, at most 16), the specialization
  key as a whole (it includes a user's ``key=`` function), and a hash of the
  config space.

Nothing host-specific goes in (no file paths, no line numbers, no hostname):
the same kernel on another machine of the fleet computes the same keys.  The
tuning effort and strategy are not part of the key: they are recorded with
the result, and decide which of two results is better (tuning_record.py).
A new shape of a known family finds its nearest tuned shapes by
:func:`shape_distance` (warm starts).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from ..runtime import source as _source
from .cache import versions

__all__ = ["TuningKey", "tuning_key", "digest", "shape_distance", "driver_version"]


def digest(material: Any) -> str:
    """SHA-256 of the canonical JSON of ``material`` (sorted keys, no spaces)."""
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class TuningKey:
    family: dict[str, Any]
    shape: dict[str, Any]

    @property
    def material(self) -> dict[str, Any]:
        return {"family": self.family, "shape": self.shape}

    @functools.cached_property
    def key(self) -> str:
        return digest(self.material)

    @functools.cached_property
    def family_key(self) -> str:
        return digest(self.family)


@functools.lru_cache(maxsize=None)
def driver_version() -> str:
    """The CUDA version the installed driver supports ("12.4"), from libcuda's cuDriverGetVersion;
    "none" without a driver."""
    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        v = ctypes.c_int(0)
        try:
            if lib.cuDriverGetVersion(ctypes.byref(v)) == 0 and v.value > 0:
                return f"{v.value // 1000}.{(v.value % 1000) // 10}"
        except AttributeError:
            continue
    return "none"


def _callees(fn: Any) -> list[dict[str, Any]]:
    """The globals the kernel names, helpers' sources included, without where they live."""
    out = []
    for spec in _source.referenced_globals(fn):
        out.append({k: v for k, v in spec.items() if k not in ("filename", "first_line")})
    return out


def _alignment(t: torch.Tensor) -> int:
    # From the storage offset: PyTorch's allocations start at least 16 bytes aligned,
    # and a traced (fake) tensor has no address but has an offset.
    offset = int(t.storage_offset()) * t.element_size()
    if offset == 0:
        return 16
    return min(16, offset & -offset)


def _device(bound: Any) -> dict[str, Any]:
    info = dict(bound.device_info or {})
    device = getattr(bound, "device", None)
    if device is None or device.type != "cuda" or not info.get("is_cuda", False):
        return {"model": "cpu"}
    return {"model": info.get("name"), "compute_capability": info.get("compute_capability"),
            "sm_count": info.get("sm_count")}


def _family(bound: Any, candidates: Sequence[Any]) -> dict[str, Any]:
    kernel = bound.kernel
    s = bound.settings
    src = kernel.source()
    device = _device(bound)
    return {
        "kernel": kernel.fn.__qualname__,
        "source": hashlib.sha256(src.text.encode()).hexdigest(),
        "callees": digest(_callees(kernel.fn)),
        "settings": {"static_shapes": s.static_shapes, "index_dtype": str(s.index_dtype),
                     "dot_precision": s.dot_precision, "precision": s.precision, "interpret": s.interpret,
                     "accuracy_check": s.autotune_accuracy_check},
        "configs": [c.to_json() for c in candidates],
        "device": device,
        "versions": dict(versions(), driver=driver_version() if device["model"] != "cpu" else "none"),
    }


def _arg(spec: dict[str, Any], value: Any, static: bool) -> dict[str, Any]:
    if spec["kind"] != "tensor":
        out = {"kind": spec["kind"]}
        if spec["kind"] == "constexpr":
            out["value"] = spec["value"]
        elif spec["kind"] == "dtype":
            out["value"] = spec["dtype"]  # compiled in: results for another dtype are no neighbours
        elif "elements" in spec:
            out["value"] = spec["elements"]  # a structured argument: neighbours only with equal elements
        return out
    sizes = spec["sizes"] if static else [min(int(n), 2) for n in spec["sizes"]]
    strides = spec["strides"] if static else [int(st) == 1 for st in spec["strides"]]
    return {"kind": "tensor", "dtype": spec["dtype"], "sizes": sizes, "strides": strides,
            "align": _alignment(value)}


def tuning_key(bound: Any, args: Sequence[Any], candidates: Sequence[Any]) -> TuningKey:
    """The keys of ``bound``'s result for ``args`` (normalized) tuned over ``candidates``
    (``configs=``; empty for a search of the whole space)."""
    kernel = bound.kernel
    static = bound.settings.static_shapes
    specs = kernel.arg_specs(args)
    shape = {
        "args": [_arg(spec, value, static) for spec, value in zip(specs, args)],
        "specialization": repr(kernel.specialization_key(tuple(args))),
        "space": hashlib.sha256(bound.tune_spec_json().encode()).hexdigest(),
    }
    return TuningKey(_family(bound, candidates), shape)


def shape_distance(a: dict[str, Any], b: dict[str, Any]) -> float:
    """How far apart two shapes of one family are (inf: not comparable).

    The sum over tensor dimensions of |log2 ratio| of the sizes, plus 1 for each
    dtype, stride order or alignment that differs; arguments of other kinds and
    constexpr values must match."""
    args_a, args_b = a.get("args"), b.get("args")
    if not isinstance(args_a, list) or not isinstance(args_b, list) or len(args_a) != len(args_b):
        return math.inf
    total = 0.0
    for x, y in zip(args_a, args_b):
        if not isinstance(x, dict) or not isinstance(y, dict) or x.get("kind") != y.get("kind"):
            return math.inf
        if x.get("kind") != "tensor":
            if x.get("value") != y.get("value"):
                return math.inf
            continue
        sx, sy = x.get("sizes"), y.get("sizes")
        if not isinstance(sx, list) or not isinstance(sy, list) or len(sx) != len(sy):
            return math.inf
        for p, q in zip(sx, sy):
            if not isinstance(p, (int, bool)) or not isinstance(q, (int, bool)):
                return math.inf
            total += abs(math.log2(max(int(p), 1)) - math.log2(max(int(q), 1)))
        total += (x.get("dtype") != y.get("dtype")) + (_order(x.get("strides")) != _order(y.get("strides"))) \
            + (x.get("align") != y.get("align"))
    return total


def _order(strides: Any) -> Any:
    if not isinstance(strides, list):
        return None
    return sorted(range(len(strides)), key=lambda i: -float(strides[i]) if isinstance(strides[i], (int, float)) else 0)
