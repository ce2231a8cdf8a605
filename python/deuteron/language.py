"""The deuteron kernel language (``import deuteron.language as hl``).

These functions are never executed as Python inside a kernel: deuteron's C++
compiler reads the kernel's source and compiles calls to them.  Calling one
outside a kernel raises :class:`deuteron.exc.NotInsideKernelError`, except for
the few that are meaningful in host code (``specialize``, ``cdiv``).
See docs/language.md for what each one means.
"""

from __future__ import annotations

from typing import Any, NamedTuple

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
    "inline_triton", "triton_kernel", "barrier", "register_block_size", "register_tunable",
    "register_reduction_dim", "stacktensor_like", "breakpoint",
]

# What each device function means (its docstring: help(hl.tile) and the docs'
# API pages); docs/language.md has the full rules.
_DOCS = {
    "tile": """Tile loop: ``for t in hl.tile(n)`` / ``hl.tile(begin, end)`` / ``hl.tile([m, n])``.

    Splits the range into tiles whose size is a tunable block size (``block_size=``
    fixes it); ``t`` indexes tensors (``x[t]``, ``x[t, :]``).  The outermost tile loops
    form the launch grid; inner ones are loops inside the kernel.
    Example: ``for tm, tn in hl.tile([m, n]): out[tm, tn] = x[tm, tn] + 1``""",
    "grid": """Index loop: ``for i in hl.grid(n)`` (``hl.grid(begin, end[, step])``, ``hl.grid([m, n])``).

    Like ``hl.tile`` with tiles of one element: ``i`` is a scalar index, so ``x[i, :]`` drops
    that dimension.  Example: ``for i in hl.grid(m): out[i] = x[i, :].sum()``""",
    "static_range": """``for k in hl.static_range(n)``: a loop fully unrolled at compile time (``n`` constant).""",
    "jagged_tile": """Tile loop over per-row lengths (jagged tensors): ``hl.jagged_tile(lengths)``.""",
    "zeros": """``hl.zeros(shape, dtype=torch.float32)``: a device tile of zeros.

    ``shape`` lists tiles or sizes, e.g. ``acc = hl.zeros([tm, tn])`` for a matmul accumulator.""",
    "full": """``hl.full(shape, value, dtype=torch.float32)``: a device tile filled with ``value``.""",
    "arange": """``hl.arange(n)`` (or ``hl.arange(begin, end)``): a 1-D device tile of consecutive int32 indices.""",
    "rand": """``hl.rand(shape, seed, offsets=None)``: uniform floats in [0, 1) from Philox.

    The same seed (and offsets) gives the same numbers for any config.
    Example: ``keep = hl.rand([t], seed) > p``""",
    "randint": """``hl.randint(shape, low, high, seed)``: uniform integers in [low, high) from Philox.""",
    "load": """``hl.load(x, [index...], extra_mask=None, eviction_policy=None)``: an explicit load.

    Like ``x[index...]`` with an extra mask (masked lanes read 0) and a cache hint
    (``"evict_first"``, ``"evict_last"``).""",
    "store": """``hl.store(x, [index...], value, extra_mask=None)``: an explicit store; masked lanes are not written.""",
    "atomic_add": """``hl.atomic_add(x, [index...], value, sem="relaxed")``: ``x[index] += value`` atomically; returns the old values.""",
    "atomic_and": """``hl.atomic_and(x, [index...], value, sem="relaxed")``: atomic bitwise and; returns the old values.""",
    "atomic_or": """``hl.atomic_or(x, [index...], value, sem="relaxed")``: atomic bitwise or; returns the old values.""",
    "atomic_xor": """``hl.atomic_xor(x, [index...], value, sem="relaxed")``: atomic bitwise xor; returns the old values.""",
    "atomic_xchg": """``hl.atomic_xchg(x, [index...], value, sem="relaxed")``: atomic exchange; returns the old values.""",
    "atomic_max": """``hl.atomic_max(x, [index...], value, sem="relaxed")``: atomic maximum; returns the old values.""",
    "atomic_min": """``hl.atomic_min(x, [index...], value, sem="relaxed")``: atomic minimum; returns the old values.""",
    "atomic_cas": """``hl.atomic_cas(x, [index...], expected, value, sem="relaxed")``: compare and swap; returns the old values.""",
    "dot": """``hl.dot(a, b, acc=None, out_dtype=None)``: matrix product of two tiles (``tl.dot``).

    With ``acc`` the product is added to it (the usual matmul inner loop:
    ``acc = hl.dot(x[tm, tk], y[tk, tn], acc=acc)``).""",
    "reduce": """``hl.reduce(combine_fn, x_or_tuple, dim=None, other=0, keep_dims=False)``: reduction with your combine function.

    ``combine_fn(a, b)`` must be associative (tuples of tensors reduce together);
    ``other`` fills masked lanes.  Example: ``hl.reduce(lambda a, b: a * b, x[t, :], dim=1)``""",
    "associative_scan": """``hl.associative_scan(combine_fn, x_or_tuple, dim, reverse=False)``: inclusive scan with your combine function.""",
    "cumsum": """``hl.cumsum(x, dim, reverse=False)``: inclusive cumulative sum along ``dim`` of a tile.""",
    "cumprod": """``hl.cumprod(x, dim, reverse=False)``: inclusive cumulative product along ``dim`` of a tile.""",
    "subscript": """``hl.subscript(x, [index...])``: indexes a device tile (``None`` adds a dimension, ``:`` keeps one).""",
    "split": """``a, b = hl.split(x)``: splits a tile whose last dimension is 2 into two tiles (``tl.split``).""",
    "join": """``hl.join(a, b)``: stacks two tiles of one shape along a new last dimension of size 2 (``tl.join``).""",
    "tile_index": """``hl.tile_index(t)`` (or ``t.index``): the element indices a tile covers, as a 1-D int32 tile.""",
    "tile_begin": """``hl.tile_begin(t)`` (or ``t.begin``): the first index of a tile.""",
    "tile_end": """``hl.tile_end(t)`` (or ``t.end``): one past the last index of a tile (clipped to the loop's end).""",
    "tile_block_size": """``hl.tile_block_size(t)`` (or ``t.block_size``): the tile's block size (a config value).""",
    "tile_id": """``hl.tile_id(t)`` (or ``t.id``): which tile of its loop this is (``begin // block_size``).""",
    "tile_count": """``hl.tile_count(t)`` (or ``t.count``): how many tiles its loop has.""",
    "device_print": """``hl.device_print(prefix, *values)``: prints the prefix and the values from the kernel (debugging; slow).""",
    "inline_asm_elementwise": """``hl.inline_asm_elementwise(asm, constraints, args, dtype, is_pure, pack)``: inline PTX applied elementwise.

    Becomes ``tl.inline_asm_elementwise``: ``args`` (device tiles) broadcast together, ``dtype``
    a torch dtype (one result) or a tuple of them (a tuple of results).  Triton code only: the
    PyTorch reference mode (``DEUTERON_INTERPRET=1``) rejects it, and Triton's interpreter
    cannot run assembly.""",
    "inline_triton": """``hl.inline_triton(triton_source, args, output_like)``: Triton code pasted into the kernel.

    ``triton_source`` is a ``str.format`` template (common indentation stripped): ``{0}``,
    ``{1}`` ... name the values of ``args`` given as a tuple or list, ``{name}`` those of a
    dict.  A device tile is its Triton value, a host tensor its pointer, a number its value.
    ``output_like`` is a device tile (one result), a tuple or list of them (that many results;
    the last statement of the snippet is the expression giving them), or ``None`` (statements
    only, kept for their side effects).  Runs as Triton only (GPU, or ``TRITON_INTERPRET=1``).
    Example: ``out[t] = hl.inline_triton("{0} + {1}", args=(x[t], y[t]), output_like=x[t])``""",
    "triton_kernel": """``hl.triton_kernel(fn_or_source, args, output_like)``: calls a ``@triton.jit`` function from device code.

    ``fn_or_source``: the function, its name (a global of the kernel's module) or the source
    of its ``def``.  The generated module defines it again, with the ``@triton.jit`` functions
    and ``tl.constexpr`` globals it uses.  ``args`` and ``output_like`` as in ``hl.inline_triton``
    (a dict passes keyword arguments).  Example:
    ``out[t] = hl.triton_kernel(add_pairs, args=(x[t], y[t]), output_like=x[t])``""",
    "barrier": """``hl.barrier()``: a grid-wide barrier between phases of a persistent kernel.""",
    "breakpoint": """``breakpoint()`` / ``hl.breakpoint()`` in a tile loop: stops in the debugger there, in an
    interpret mode only (``DEUTERON_INTERPRET=1`` or ``TRITON_INTERPRET=1``, where the kernel runs as
    Python); compiled, it is a ``BreakpointInDeviceLoopRequiresInterpret`` error.""",
    "register_block_size": """``hl.register_block_size(n)`` (host code): a tunable block size to pass to ``hl.tile(..., block_size=)``.""",
    "register_tunable": """``hl.register_tunable(name, fragment)`` (host code): a tunable value of your own in the search space.""",
    "register_reduction_dim": """``hl.register_reduction_dim(n)`` (host code): a size reduced over whole (its block size covers ``n``).""",
    "stacktensor_like": """``hl.stacktensor_like(tensor_like, dev_ptrs)``: a :class:`StackTensor` (inside a tile loop).

    ``dev_ptrs`` is a ``torch.uint64`` tensor of addresses loaded in the loop (``ptrs[:]``,
    ``ptrs[tile]``); each names a tensor with ``tensor_like``'s dtype, sizes and strides
    (``tensor_like`` is a host tensor: only its properties are used).  Indexing the result
    reads or writes all of them: ``stack[tile]`` has shape ``[*dev_ptrs.shape, tile]``.
    Example: ``out[:, tile] = hl.stacktensor_like(x0, ptrs[:])[tile]``""",
}

for _name in _DEVICE_FUNCTIONS:
    globals()[_name] = _device_only(_name)
    globals()[_name].__doc__ = _DOCS.get(_name, f"``hl.{_name}``: see docs/language.md.")


class StackTensor(NamedTuple):
    """Tensors of one dtype, shape and strides at different addresses, read and written together.

    Made inside a tile loop by ``hl.stacktensor_like(tensor_like, dev_ptrs)`` (or
    ``hl.StackTensor(tensor_like, dev_ptrs)``); its shape is ``dev_ptrs.shape +
    tensor_like.shape``.  ``stack[index]`` indexes every tensor the same way and stacks
    the results along the pointers' dims; ``stack[index] = value`` writes slice ``j`` of
    ``value`` into tensor ``j``.  See docs/language.md, "StackTensor".
    """

    tensor_like: Any
    """A host tensor with the dtype, sizes and strides of each stacked tensor."""
    dev_ptrs: Any
    """A ``torch.uint64`` tensor of the stacked tensors' addresses (``t.data_ptr()``)."""

    @property
    def dtype(self) -> Any:
        return self.tensor_like.dtype

    @property
    def device(self) -> Any:
        return self.tensor_like.device

    @property
    def shape(self) -> Any:
        return self.dev_ptrs.shape + self.tensor_like.shape

    def __getitem__(self, index: Any) -> Any:  # type: ignore[override]
        raise NotInsideKernelError("a StackTensor can only be indexed inside a deuteron kernel's tile loop")

    def __setitem__(self, index: Any, value: Any) -> None:
        raise NotInsideKernelError("a StackTensor can only be assigned to inside a deuteron kernel's tile loop")

    def new_empty(self, *args: Any, **kwargs: Any) -> Any:
        return self.tensor_like.new_empty(*args, **kwargs)


def specialize(value: Any) -> Any:
    """Marks a host value (usually a size) as a compile-time constant; returns it."""
    return value


def cdiv(a: int, b: int) -> int:
    """Ceiling division of host integers."""
    return -(-a // b)


__all__ = ["constexpr", "Tile", "StackTensor", "specialize", "cdiv", *_DEVICE_FUNCTIONS]
