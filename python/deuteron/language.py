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
    """The argument's value is specialized into the compiled kernel.

    Two spellings: an annotation (``def k(x, n: hl.constexpr)``), or a wrapped
    argument value (``k(x, hl.constexpr(5.0))``), which makes that one call's value a
    compile-time constant whatever the parameter's annotation.  The kernel receives
    the value itself.  Inside a kernel's host code, ``hl.constexpr(v)`` is ``v``
    (a value known when compiling).
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        if isinstance(value, constexpr):
            value = value.value
        self.value = value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, constexpr):
            return type(self.value) is type(other.value) and self.value == other.value
        return NotImplemented

    def __hash__(self) -> int:
        return hash((type(self.value), self.value))

    def __repr__(self) -> str:
        return f"hl.constexpr({self.value!r})"


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
