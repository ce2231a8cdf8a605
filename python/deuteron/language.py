"""The deuteron kernel language (``import deuteron.language as hl``).

These functions are never executed as Python inside a kernel: deuteron's C++
compiler reads the kernel's source and compiles calls to them.  Calling one
outside a kernel raises :class:`deuteron.exc.NotInsideKernelError`, except for
the few that are meaningful in host code (``specialize``, ``cdiv``).
See docs/language.md for what each one means.
"""

from __future__ import annotations

from typing import Any

from .exc import NotInsideKernelError


class constexpr:  # noqa: N801 - the spelling users write (x: hl.constexpr)
    """Annotation: the argument's value is specialized into the compiled kernel."""


class Tile:
    """The type of the values yielded by ``hl.tile`` (for annotations only)."""


def _device_only(name: str):
    def fn(*args: Any, **kwargs: Any) -> Any:
        raise NotInsideKernelError(
            f"hl.{name}() can only be used inside a deuteron kernel (a function decorated with "
            f"@deuteron.kernel); the compiler translates it, it does not run as Python"
        )

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__module__ = __name__
    return fn


_DEVICE_FUNCTIONS = [
    "tile", "grid", "static_range", "jagged_tile", "zeros", "full", "arange", "rand", "randint",
    "load", "store", "atomic_add", "atomic_and", "atomic_or", "atomic_xor", "atomic_xchg",
    "atomic_max", "atomic_min", "atomic_cas", "dot", "reduce", "associative_scan", "cumsum",
    "cumprod", "subscript", "split", "join", "tile_index", "tile_begin", "tile_end",
    "tile_block_size", "tile_id", "tile_count", "device_print", "inline_asm_elementwise",
    "inline_triton", "barrier", "register_block_size", "register_tunable",
    "register_reduction_dim",
]

for _name in _DEVICE_FUNCTIONS:
    globals()[_name] = _device_only(_name)


def specialize(value: Any) -> Any:
    """Marks a host value (usually a size) as a compile-time constant; returns it."""
    return value


def cdiv(a: int, b: int) -> int:
    """Ceiling division of host integers."""
    return -(-a // b)


__all__ = ["constexpr", "Tile", "specialize", "cdiv", *_DEVICE_FUNCTIONS]
