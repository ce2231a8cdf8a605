"""Launching compiled Triton kernels from generated host code.

Generated modules call ``_launch(kernel, grid, *args, num_warps=, num_stages=)``.

:func:`default_launcher` goes through Triton's JIT entry point, which binds
the arguments, computes Triton's specialization and looks the compiled kernel
up on every call.  :func:`fast_launcher` does that once per *launch signature*
(device, 16-byte alignment of each pointer, and the properties of each int
that Triton specializes on) and afterwards calls the compiled kernel's
launcher directly, which removes most of Triton's per-call overhead.
"""

from __future__ import annotations

from typing import Any

import torch
import triton

try:  # Triton >= 3.3
    from triton import knobs as _knobs
except ImportError:  # pragma: no cover
    _knobs = None

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def default_launcher(kernel: Any, grid: tuple, *args: Any, num_warps: int = 4, num_stages: int = 1,
                     maxnreg: int | None = None) -> Any:
    if maxnreg is not None:
        return kernel[grid](*args, num_warps=num_warps, num_stages=num_stages, maxnreg=maxnreg)
    return kernel[grid](*args, num_warps=num_warps, num_stages=num_stages)


def _launch_signature(args: tuple) -> tuple:
    """What Triton specializes a compiled kernel on, for these argument values."""
    sig = []
    for a in args:
        t = type(a)
        if t is torch.Tensor or isinstance(a, torch.Tensor):
            sig.append((a.data_ptr() & 15) == 0)
        elif t is int:
            sig.append((a == 1, (a & 15) == 0, _INT32_MIN <= a <= _INT32_MAX))
        else:
            sig.append(t)
    return tuple(sig)


def _hooks_active() -> bool:
    rt = _knobs.runtime if _knobs is not None else None
    return rt is not None and (rt.launch_enter_hook is not None or rt.launch_exit_hook is not None)


_current_device = torch.cuda.current_device
try:
    _raw_stream = torch._C._cuda_getCurrentRawStream
except AttributeError:  # pragma: no cover
    def _raw_stream(idx: int) -> int:
        return torch.cuda.current_stream(idx).cuda_stream


def fast_launcher(kernel: Any, grid: tuple, *args: Any, num_warps: int = 4, num_stages: int = 1,
                  maxnreg: int | None = None) -> None:
    cache = kernel.__dict__.get("_deuteron_compiled")
    if cache is None:
        cache = kernel.__dict__["_deuteron_compiled"] = {}
    device = _current_device()
    key = (device, num_warps, num_stages, maxnreg, _launch_signature(args))
    compiled = cache.get(key)
    if compiled is None or _hooks_active():
        compiled = default_launcher(kernel, grid, *args, num_warps=num_warps, num_stages=num_stages, maxnreg=maxnreg)
        if hasattr(compiled, "result"):  # an async compile future
            compiled = compiled.result()
        if compiled is not None and hasattr(compiled, "run"):
            cache[key] = compiled
        return
    g1 = grid[1] if len(grid) > 1 else 1
    g2 = grid[2] if len(grid) > 2 else 1
    compiled.run(grid[0], g1, g2, _raw_stream(device), compiled.function, compiled.packed_metadata, None, None, None,
                 *args)
