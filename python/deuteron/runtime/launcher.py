"""Launching compiled Triton kernels from generated host code.

Generated modules call ``_launch(kernel, grid, *args, num_warps=, num_stages=)``.
The default goes through Triton's JIT (which compiles on first use and caches);
:func:`fast_launcher` skips its per-call argument binding once a kernel is
compiled, which is most of Triton's launch overhead.
"""

from __future__ import annotations

from typing import Any

import triton


def _interpreting() -> bool:
    return bool(triton.knobs.runtime.interpret) if hasattr(triton, "knobs") else False


def default_launcher(kernel: Any, grid: tuple, *args: Any, num_warps: int = 4, num_stages: int = 1,
                     maxnreg: int | None = None) -> Any:
    if maxnreg is not None:
        return kernel[grid](*args, num_warps=num_warps, num_stages=num_stages, maxnreg=maxnreg)
    return kernel[grid](*args, num_warps=num_warps, num_stages=num_stages)
