"""Reading a kernel's source and the globals it refers to, for the C++ core."""

from __future__ import annotations

import ast
import builtins
import difflib
import functools
import inspect
import math
import textwrap
import types
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from .. import exc
from .. import language as _language


@dataclass(frozen=True)
class KernelSource:
    text: str          # the function's source, dedented; decorator lines blanked
    filename: str
    first_line: int    # absolute line number of text's first line
    name: str


def kernel_source(fn: Callable[..., Any]) -> KernelSource:
    """The source of ``fn`` as the compiler wants it.

    Decorator lines are replaced by blank lines: they are Python (they may hold
    lambdas or anything else) and are not part of the kernel, but keeping the
    line count keeps every reported line number right.
    """
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as e:
        raise TypeError(
            f"deuteron needs the source code of {fn.__qualname__!r} to compile it, but it is not "
            f"available ({e}); define kernels in a .py file"
        ) from None
    text = textwrap.dedent("".join(lines))
    filename = inspect.getsourcefile(fn) or inspect.getfile(fn)
    try:
        tree = ast.parse(text)
        def_line = tree.body[0].lineno  # 1-based within text, the `def` line
    except SyntaxError:
        tree, def_line = None, 1
    if tree is not None and isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        _check_decorator_order(fn, tree.body[0], text, filename, first)
    out = text.splitlines(keepends=True)
    for i in range(def_line - 1):
        out[i] = "\n"
    return KernelSource("".join(out), filename, first, fn.__name__)


def _decorator_root(node: ast.expr) -> str | None:
    """The name a decorator expression starts from: ``helion`` for ``@helion.kernel(...)``."""
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id
        else:
            return None


def _is_kernel_decorator(fn: Callable[..., Any], node: ast.expr) -> bool:
    """Whether a decorator is this package's kernel decorator: its root name is, in the
    function's globals, the deuteron package (``helion`` is an alias of it) or its
    ``kernel`` / ``jit`` function itself (``from helion import kernel``)."""
    root = _decorator_root(node)
    if root is None:
        return False
    value = getattr(fn, "__globals__", {}).get(root, getattr(builtins, root, None))
    package = __name__.split(".")[0]
    if isinstance(value, types.ModuleType):  # the package, or its `helion` alias (compat.helion_alias)
        return getattr(value, "__deuteron_module__", value).__name__ == package
    return getattr(value, "__module__", "") == package and getattr(value, "__name__", "") in ("kernel", "jit")


def _check_decorator_order(fn: Callable[..., Any], tree: ast.FunctionDef, text: str, filename: str,
                           first: int) -> None:
    """The kernel decorator must be the one nearest the ``def``: a decorator below it is
    applied first, and the kernel would compile the source text without it (what that
    decorator does to the function would be lost without a word).  Helion rejects this
    with DecoratorAfterHelionKernelDecorator; so does deuteron."""
    decorators = tree.decorator_list
    for i, node in enumerate(decorators[:-1]):
        if _is_kernel_decorator(fn, node):
            below = decorators[i + 1]
            line = first + below.lineno - 1
            src = text.splitlines()[below.lineno - 1] if below.lineno - 1 < len(text.splitlines()) else ""
            message = "Decorators after helion kernel decorator are not allowed."
            formatted = (f"{filename}:{line}:{below.col_offset + 1}: error: {message}\n{src}\n"
                         f"{' ' * below.col_offset}^\n"
                         "note: put @kernel last, directly above the def (other decorators go above it)")
            raise exc.DecoratorAfterHelionKernelDecorator(formatted, filename, line, below.col_offset + 1, message,
                                                          ["put @kernel last, directly above the def"])


_KNOWN_FUNCTION_MODULES: list[tuple[str, Any]] = []


def _function_modules() -> list[tuple[str, Any]]:
    if not _KNOWN_FUNCTION_MODULES:
        import torch.nn.functional as F
        import triton
        import triton.language as tl

        _KNOWN_FUNCTION_MODULES.extend(
            [("deuteron.language", _language), ("torch", torch), ("torch.nn.functional", F),
             ("torch.special", torch.special), ("math", math), ("triton", triton),
             ("triton.language", tl), ("builtins", builtins)]
        )
    return _KNOWN_FUNCTION_MODULES


def _qualname_of_function(value: Any) -> str | None:
    name = getattr(value, "__name__", None)
    if not name:
        return None
    for mod_name, mod in _function_modules():
        if getattr(mod, name, None) is value:
            return f"{mod_name}.{name}"
    return None


def _missing_attributes(module: types.ModuleType, names: Sequence[str]) -> dict[str, str]:
    """Which of ``names`` (the attribute and global names a function's code uses) ``module``
    lacks, each with the closest name it has ("" if none is close): the compiler reports
    ``torch.expp`` as no such function, with a suggestion, instead of "not supported".

    Only names the code uses are looked up, so this costs nothing for a correct kernel.
    """
    missing = [n for n in names if not n.startswith("__") and not hasattr(module, n)]
    return {n: _closest_attribute(module, n) for n in missing}


@functools.lru_cache(maxsize=1024)
def _closest_attribute(module: types.ModuleType, name: str) -> str:
    # Cached: a kernel's other names (its arguments, hl, methods) are looked up in
    # every module it uses at every bind, and difflib over torch's names is not free.
    public = [n for n in dir(module) if not n.startswith("_")]
    return next(iter(difflib.get_close_matches(name, public, n=1, cutoff=0.75)), "")


def describe_global(name: str, value: Any, seen_helpers: set[int],
                    attributes: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The spec(s) for one global: itself, plus the globals of a helper it is.

    ``attributes``: the names the code that uses the global mentions (its co_names),
    for a module's missing names (_missing_attributes)."""
    if isinstance(value, types.ModuleType):
        # A module under another name (the `helion` alias, deuteron.compat) names the module it stands for.
        module = value.__dict__.get("__deuteron_module__", value)
        spec: dict[str, Any] = {"name": name, "kind": "module", "qualname": module.__name__}
        # Not for deuteron's own modules: under the `helion` alias a name deuteron lacks
        # may well exist in Helion, and the core says "not supported by deuteron" then.
        missing = {} if module.__name__.startswith("deuteron") else _missing_attributes(module, attributes)
        if missing:
            spec["missing"] = missing
        return [spec]
    if value is _language.constexpr:
        return [{"name": name, "kind": "function", "qualname": "deuteron.language.constexpr"}]
    if isinstance(value, torch.dtype):
        return [{"name": name, "kind": "dtype", "value": str(value).removeprefix("torch.")}]
    if isinstance(value, bool):
        return [{"name": name, "kind": "bool", "value": value}]
    if isinstance(value, int):
        return [{"name": name, "kind": "int", "value": value}]
    if isinstance(value, float):
        return [{"name": name, "kind": "float", "value": value}]
    if isinstance(value, str):
        return [{"name": name, "kind": "str", "value": value}]
    if value is None:
        return [{"name": name, "kind": "none"}]
    if isinstance(value, type) and value.__module__ in ("deuteron.autotuner", "helion.autotuner"):
        return [{"name": name, "kind": "function", "qualname": f"deuteron.autotuner.{value.__name__}"}]
    is_kernel = bool(getattr(type(value), "__deuteron_kernel__", False))
    if is_kernel:
        # A kernel passed as a function of device values (a combine function of
        # hl.reduce / hl.associative_scan): its decorator is ignored there and its
        # function is inlined like any helper.  Called by the kernel, in host or
        # device code, it is a NestedKernelCallsNotSupported error (Helion's rule).
        value = value.fn
    if callable(value) and not isinstance(value, type):
        qual = _qualname_of_function(value)
        if qual is not None:
            return [{"name": name, "kind": "function", "qualname": qual}]
        # Only plain functions are inlined; other callables (a deuteron Kernel
        # among them: an object, not a function) are opaque.
        if inspect.isfunction(value):
            # A plain Python function: inlined into device code by the compiler.
            src = kernel_source(value)
            specs = [{"name": name, "kind": "helper", "source": src.text, "filename": src.filename,
                      "first_line": src.first_line, "kernel": is_kernel}]
            if id(value) not in seen_helpers:
                seen_helpers.add(id(value))
                specs.extend(referenced_globals(value, seen_helpers))
            return specs
    return [{"name": name, "kind": "opaque"}]


def referenced_globals(fn: Callable[..., Any], seen_helpers: set[int] | None = None) -> list[dict[str, Any]]:
    """Specs of every global and closure variable that ``fn``'s code names."""
    seen_helpers = seen_helpers if seen_helpers is not None else {id(fn)}
    out: list[dict[str, Any]] = []
    for name, value in global_values(fn).items():
        out.extend(describe_global(name, value, seen_helpers, fn.__code__.co_names))
    return out


def global_values(fn: Callable[..., Any]) -> dict[str, Any]:
    """Name -> value of the globals and closure variables ``fn``'s own code names (for the
    core, through :func:`referenced_globals`, and for the generated host code)."""
    code = fn.__code__
    env = {name: fn.__globals__[name] for name in code.co_names if name in fn.__globals__}
    if fn.__closure__:
        for name, cell in zip(code.co_freevars, fn.__closure__):
            try:
                env[name] = cell.cell_contents
            except ValueError:  # an empty cell
                continue
    return env
