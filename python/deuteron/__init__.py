"""deuteron: a tile-based GPU kernel language embedded in Python.

Write a kernel as PyTorch code with tile loops; deuteron's C++ compiler turns
it into Triton code, tunes it, and returns a normal PyTorch callable::

    import torch, deuteron
    import deuteron.language as hl

    @deuteron.kernel()
    def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(out.size()):
            out[tile] = x[tile] + y[tile]
        return out
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from . import autotune, exc, experimental, language
from .runtime.config import Config
from .runtime.kernel import BoundKernel, Kernel, install_autotuner
from .runtime.settings import RefMode, Settings
from .runtime.standalone import OutputCodeOptions
from .version import __version__

# The runtime never imports the autotuner (it sits below it); it is plugged in here.
install_autotuner(autotune)


def kernel(fn: Callable[..., Any] | None = None, *, config: Config | dict | None = None,
           configs: Sequence[Config | dict] | None = None, key: Callable[..., Any] | None = None,
           settings: Settings | None = None, **setting_kwargs: Any) -> Any:
    """Decorator that makes a deuteron kernel (usable with or without parentheses).

    ``config=`` fixes one Config (no autotuning); ``configs=[...]`` autotunes over
    that list only; ``key=`` adds to the specialization key; any other keyword is
    a Setting (``static_shapes``, ``autotune_effort``, ...).
    """

    def wrap(f: Callable[..., Any]) -> Kernel:
        return Kernel(f, config=config, configs=configs, key=key, settings=settings, **setting_kwargs)

    if fn is not None:
        return wrap(fn)
    return wrap


jit = kernel


def cdiv(a: int, b: int) -> int:
    """Ceiling division of ints (host code; also understood in kernels' host code)."""
    return -(-a // b)


def next_power_of_2(n: int) -> int:
    """The smallest power of two >= ``n`` (1 for ``n <= 1``)."""
    return 1 if n <= 1 else 1 << (int(n) - 1).bit_length()


__all__ = ["kernel", "jit", "Kernel", "BoundKernel", "Config", "Settings", "RefMode", "OutputCodeOptions", "exc",
           "language", "experimental", "cdiv", "next_power_of_2", "__version__"]

# Keep the namespace to the public names (dir(deuteron) lists no typing helpers);
# the annotations above are strings (postponed evaluation), so nothing needs them.
del Any, Callable, Sequence, annotations
