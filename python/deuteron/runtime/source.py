"""Reading a kernel's source and the globals it refers to, for the C++ core."""

from __future__ import annotations

import ast
import builtins
import difflib
import functools
import inspect
import linecache
import math
import operator
import textwrap
import types
import weakref
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
                    attributes: Sequence[str] = (), path: str | None = None) -> list[dict[str, Any]]:
    """The spec(s) for one global: itself, plus the globals of a helper it is.

    ``attributes``: the names the code that uses the global mentions (its co_names),
    for a module's missing names (_missing_attributes).  ``path``: the Python
    expression that reaches the value in the generated host function (the name
    itself for the kernel's own globals, which the runtime puts into the module;
    ``fn.__closure__[0].cell_contents`` for a closure variable of a function
    argument ``fn``): a tensor is read through it on every call."""
    path = path if path is not None else name
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
    if value is _language.StackTensor:  # imported by name: the constructor hl.stacktensor_like spells
        return [{"name": name, "kind": "function", "qualname": "deuteron.language.StackTensor"}]
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
    if isinstance(value, torch.Tensor):
        # A tensor that device code reads without it being an argument (a module
        # global, a closure variable): an implicit input of the kernels, passed
        # at each launch through `path`; its shape is part of the specialization.
        return [{"name": name, "kind": "tensor", "dtype": str(value.dtype).removeprefix("torch."),
                 "sizes": list(value.shape), "strides": list(value.stride()), "device": value.device.type,
                 "host_expr": path}]
    if isinstance(value, type) and value.__module__ in ("deuteron.autotuner", "helion.autotuner"):
        return [{"name": name, "kind": "function", "qualname": f"deuteron.autotuner.{value.__name__}"}]
    is_kernel = bool(getattr(type(value), "__deuteron_kernel__", False))
    if is_kernel:
        # A kernel passed as a function of device values (a combine function of
        # hl.reduce / hl.associative_scan): its decorator is ignored there and its
        # function is inlined like any helper.  Called by the kernel, in host or
        # device code, it is a NestedKernelCallsNotSupported error (Helion's rule).
        value = value.fn
    if _is_triton_jit(value):
        # A @triton.jit function, called from device code by hl.triton_kernel: the
        # generated module defines it again, with what it reads (triton_jit_definitions).
        return [{"name": name, "kind": "triton_jit", "function": value.fn.__name__,
                 "definitions": triton_jit_definitions(value)}]
    if callable(value) and not isinstance(value, type):
        qual = _qualname_of_function(value)
        if qual is not None:
            return [{"name": name, "kind": "function", "qualname": qual}]
        # Only plain functions are inlined; other callables (a deuteron Kernel
        # among them: an object, not a function) are opaque.
        if inspect.isfunction(value):
            # A plain Python function: inlined into device code by the compiler.
            src = lambda_source(value) if value.__name__ == "<lambda>" else kernel_source(value)
            specs = [{"name": name, "kind": "helper", "source": src.text, "filename": src.filename,
                      "first_line": src.first_line, "kernel": is_kernel}]
            if id(value) not in seen_helpers:
                seen_helpers.add(id(value))
                specs.extend(referenced_globals(value, seen_helpers, path))
            return specs
    return [{"name": name, "kind": "opaque"}]


def _is_triton_jit(value: Any) -> bool:
    # By the class's name and module: source.py does not import Triton for kernels that use none.
    # (TRITON_INTERPRET=1 makes @triton.jit give an InterpretedFunction.)
    cls = type(value)
    return cls.__name__ in ("JITFunction", "InterpretedFunction") and cls.__module__.startswith("triton.")


def _jit_source(jit: Any) -> str:
    """The source of a @triton.jit function from its ``def`` on (decorators dropped)."""
    text = textwrap.dedent(getattr(jit, "src", None) or inspect.getsource(jit.fn))
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.startswith(("def ", "async def "))), 0)
    return "".join(lines[first:])


def triton_jit_definitions(jit: Any) -> str:
    """Module-level Triton source defining the @triton.jit function ``jit``: its own
    source after those of the globals it reads, each once: other @triton.jit functions
    (recursively), ``tl.constexpr`` values and numbers.  Modules (``tl``, ``triton``)
    are the generated module's own imports."""
    out: list[str] = []
    seen: set[str] = set()

    def names(code: types.CodeType) -> list[str]:
        found = list(code.co_names)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                found.extend(names(const))
        return found

    def define(name: str, value: Any) -> None:
        if name in seen:
            return
        seen.add(name)
        if _is_triton_jit(value):
            for used in names(value.fn.__code__):
                if used in value.fn.__globals__:
                    define(used, value.fn.__globals__[used])
            out.append("@triton.jit\n" + _jit_source(value))
        elif type(value).__name__ == "constexpr" and type(value).__module__.startswith("triton."):
            out.append(f"{name} = tl.constexpr({value.value!r})\n")
        elif isinstance(value, (bool, int, float)):
            out.append(f"{name} = {value!r}\n")

    define(jit.fn.__name__, jit)
    return "\n".join(out)


def referenced_globals(fn: Callable[..., Any], seen_helpers: set[int] | None = None,
                       path: str | None = None) -> list[dict[str, Any]]:
    """Specs of every global and closure variable that ``fn``'s code names.

    ``path``: the host expression of ``fn`` itself (see describe_global), or None
    for the kernel's function, whose globals are the generated module's."""
    seen_helpers = seen_helpers if seen_helpers is not None else {id(fn)}
    out: list[dict[str, Any]] = []
    for name, value in global_values(fn).items():
        out.extend(describe_global(name, value, seen_helpers, fn.__code__.co_names,
                                   None if path is None else _value_path(fn, name, path)))
    return out


def _value_path(fn: Callable[..., Any], name: str, path: str) -> str:
    """The host expression of the global or closure variable ``name`` of the function at ``path``."""
    code = fn.__code__
    if fn.__closure__ and name in code.co_freevars:
        return f"{path}.__closure__[{code.co_freevars.index(name)}].cell_contents"
    return f"{path}.__globals__[{name!r}]"


def global_values(fn: Callable[..., Any]) -> dict[str, Any]:
    """Name -> value of the globals and closure variables ``fn``'s own code names (for the
    core, through :func:`referenced_globals`, and for the generated host code).

    A string constant that names a global @triton.jit function counts as naming it:
    ``hl.triton_kernel("add_pairs", ...)`` calls the function by its name."""
    code = fn.__code__
    env = {name: fn.__globals__[name] for name in code.co_names if name in fn.__globals__}
    for const in code.co_consts:
        if isinstance(const, str) and const.isidentifier() and _is_triton_jit(fn.__globals__.get(const)):
            env[const] = fn.__globals__[const]
    if fn.__closure__:
        for name, cell in zip(code.co_freevars, fn.__closure__):
            try:
                env[name] = cell.cell_contents
            except ValueError:  # an empty cell
                continue
    return env


@functools.lru_cache(maxsize=64)
def _parsed_file(filename: str, text: str) -> ast.Module | None:
    try:
        return ast.parse(text, filename)
    except SyntaxError:
        return None


def _lambda_node(fn: types.FunctionType) -> tuple[ast.Lambda, list[str]] | None:
    """The ast.Lambda that made ``fn`` and its file's lines, or None where the
    source is not available.

    inspect.getsource gives a lambda's whole lines, which may hold other code and
    other lambdas.  The lambda is the one starting on the code's first line with
    the code's parameters whose body holds every source position of the code
    (co_positions, with columns), the innermost of those if lambdas nest."""
    code = fn.__code__
    try:
        filename = inspect.getsourcefile(fn) or code.co_filename
    except TypeError:
        return None
    lines = linecache.getlines(filename, fn.__globals__)
    if not lines:
        return None
    tree = _parsed_file(filename, "".join(lines))
    if tree is None:
        return None
    nargs = code.co_argcount + code.co_kwonlyargcount
    params = list(code.co_varnames[:nargs])
    # `*name` and `**name` follow the named parameters among the code's variables.
    star = code.co_varnames[nargs] if code.co_flags & inspect.CO_VARARGS else None
    nstar = nargs + (star is not None)
    double_star = code.co_varnames[nstar] if code.co_flags & inspect.CO_VARKEYWORDS else None
    # (RESUME and the implicit return have empty positions at column 0.)
    positions = [(l0, c0, l1, c1) for l0, l1, c0, c1 in code.co_positions()
                 if None not in (l0, l1, c0, c1) and (l0, c0) != (l1, c1)]
    found: list[ast.Lambda] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Lambda) or node.lineno != code.co_firstlineno:
            continue
        a = node.args
        if [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)] != params:
            continue
        if (a.vararg and a.vararg.arg) != star or (a.kwarg and a.kwarg.arg) != double_star:
            continue
        body = node.body
        start, end = (body.lineno, body.col_offset), (body.end_lineno, body.end_col_offset)
        if all(start <= (l0, c0) and (l1, c1) <= end for l0, c0, l1, c1 in positions):
            found.append(node)
    if not found:
        return None
    # Nested lambdas: the outer one's body holds the inner one's positions too.
    best = min(found, key=lambda n: (n.end_lineno - n.lineno, n.end_col_offset - n.col_offset))
    return best, lines


def lambda_source(fn: types.FunctionType) -> KernelSource:
    """The source of a lambda for the core: exactly the lambda's text, at its own
    line and column (so that errors point into the user's file), as a module
    holding one parenthesized expression: the text before the lambda on its first
    line is blanked and a '(' takes the place of the last blank, the text after
    it on its last line is cut and a ')' closes it."""
    found = _lambda_node(fn)
    if found is None:
        raise TypeError(
            f"deuteron needs the source code of the lambda at {fn.__code__.co_filename}:"
            f"{fn.__code__.co_firstlineno} to inline it, but it is not available; define it in a .py file")
    node, lines = found
    part = [line.encode() for line in lines[node.lineno - 1:node.end_lineno]]
    # ast's columns count UTF-8 bytes.
    part[-1] = part[-1][:node.end_col_offset]
    first = part[0][node.col_offset:]
    indent = b" " * (node.col_offset - 1) if node.col_offset >= 1 else b""
    part[0] = b"(" + indent + first
    text = b"".join(part).decode() + ")\n"
    filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    return KernelSource(text, filename, node.lineno, fn.__name__)


# ------------------------------------------------------- callable arguments

# The types of the values a kernel argument that is a function may have: these
# are compile-time values (the key holds their identity, see callable_key).
CALLABLE_TYPES = frozenset({types.FunctionType, types.BuiltinFunctionType, types.MethodWrapperType,
                            types.WrapperDescriptorType, types.MethodDescriptorType, types.BuiltinMethodType})


def python_call(cls: type) -> types.FunctionType | None:
    """The Python ``__call__`` of a class whose instances are callable objects (not
    functions, kernels or built-ins): the function deuteron inlines for a call of
    such an instance, with its first parameter bound to the instance."""
    call = getattr(cls, "__call__", None)
    if not isinstance(call, types.FunctionType) or getattr(cls, "__deuteron_kernel__", False):
        return None
    # torch.nn.Module's __call__ is its hook machinery, not code to inline.
    if call.__module__.split(".")[0] in ("torch", "deuteron", "triton"):
        return None
    return call


def _bound_callable(name: str, value: Any) -> tuple[Any, str, list[tuple[str, Any, str]], dict[str, Any]]:
    """What a call of ``value`` runs: (the function, its host expression, the leading
    parameters bound to values as (parameter, value, host expression), keyword
    values that replace defaults).  ``functools.partial(f, a, k=v)`` runs f with
    its first parameter bound to a and k defaulting to v; an object with a Python
    ``__call__`` runs that with ``self`` bound to the object."""
    if isinstance(value, functools.partial) and isinstance(value.func, types.FunctionType):
        fn = value.func
        params = fn.__code__.co_varnames[:fn.__code__.co_argcount]
        if len(value.args) > len(params):
            raise TypeError(f"functools.partial binds {len(value.args)} positional arguments, but "
                            f"{fn.__qualname__} takes {len(params)}")
        bound = [(params[i], a, f"{name}.args[{i}]") for i, a in enumerate(value.args)]
        keywords = {k: (v, f"{name}.keywords[{k!r}]") for k, v in value.keywords.items()}
        return fn, f"{name}.func", bound, keywords
    call = python_call(type(value))
    if call is not None:
        params = call.__code__.co_varnames[:call.__code__.co_argcount]
        if not params:
            raise TypeError(f"{type(value).__qualname__}.__call__ takes no self parameter")
        return call, f"type({name}).__call__", [(params[0], value, name)], {}
    return value, name, [], {}


def _attributes_read(value: Any, names: Sequence[str]) -> list[tuple[str, Any]]:
    """(name, value) of each of ``names`` that ``value`` has, as Python reads it now (a
    property runs); methods of the object are left out (no value device code can use),
    and so are names it lacks or whose property fails (code reading them fails there)."""
    out = []
    for n in dict.fromkeys(names):
        try:
            v = getattr(value, n)
        except Exception:  # noqa: BLE001 - not an attribute of it: a global the code names
            continue
        if not isinstance(v, types.MethodType):
            out.append((n, v))
    return out


def describe_object(name: str, value: Any, names: Sequence[str], seen_helpers: set[int],
                    path: str) -> list[dict[str, Any]]:
    """An object whose attributes code reads (``self`` of a callable object's
    ``__call__``): each of ``names`` the object has, as Python reads it once when
    binding (a property runs then), described like a global reached through
    ``path.attr``; then the globals those attributes' code reads."""
    attributes, scope = [], []
    for n, v in _attributes_read(value, names):
        specs = describe_global(n, v, seen_helpers, path=f"{path}.{n}")
        attributes.append(specs[0])
        scope.extend(specs[1:])
    return [{"name": name, "kind": "object", "qualname": type(value).__qualname__, "attributes": attributes},
            *scope]


def callable_arg_spec(name: str, value: Any) -> dict[str, Any]:
    """The spec of a function passed as the kernel argument ``name``: what it is (as
    a global would be described: a function deuteron knows, like torch.addmm, or a
    Python function or lambda to inline), the globals and closure variables its
    code names (its own scope: they never mix with the kernel's), and, for one
    that cannot be inlined, why (the core reports it where device code calls it).

    A ``functools.partial`` of a Python function and an object with a Python
    ``__call__`` are the function they run with leading parameters bound
    (``bound``: how many; their values in the scope as ``param=``)."""
    spec: dict[str, Any] = {"name": name, "kind": "callable"}
    try:
        fn, fn_path, bound, keywords = _bound_callable(name, value)
        specs = describe_global(name, fn, set(), path=fn_path)
    except TypeError as e:  # the source is not available, or a partial that cannot bind
        return {**spec, "error": str(e)}
    value_spec, scope = specs[0], specs[1:]
    if isinstance(fn, types.FunctionType):
        # Its defaults as Python computed them (`lambda a, c=c: ...` in a loop), under
        # names no Python variable has: `c=` for the parameter c.
        code = fn.__code__
        positional = code.co_varnames[:code.co_argcount]
        for i, default in enumerate(fn.__defaults__ or ()):
            param = positional[len(positional) - len(fn.__defaults__) + i]
            scope.extend(describe_global(param + "=", default, set(), path=f"{fn_path}.__defaults__[{i}]"))
        for param, default in (fn.__kwdefaults__ or {}).items():
            scope.extend(describe_global(param + "=", default, set(), path=f"{fn_path}.__kwdefaults__[{param!r}]"))
        for param, (default, path) in keywords.items():
            scope.extend(describe_global(param + "=", default, set(), path=path))
        for param, v, path in bound:
            if v is value:  # a callable object's self: the attributes its __call__ reads
                scope.extend(describe_object(param + "=", v, code.co_names, set(), path))
            else:
                scope.extend(describe_global(param + "=", v, set(), path=path))
    if value_spec["kind"] == "opaque":
        what = type(value).__name__
        if isinstance(value, (types.BuiltinFunctionType, types.BuiltinMethodType)):
            why = (f"{getattr(value, '__qualname__', value)!r} is a built-in function deuteron does not know "
                   f"(only torch, torch.nn.functional, math and deuteron.language functions are)")
        else:
            why = (f"a {what} is not a Python function or lambda, so deuteron cannot inline it "
                   f"(an object is inlined through a Python __call__, a functools.partial when it "
                   f"wraps a Python function)")
        return {**spec, "error": why}
    return {**spec, "value": value_spec, "globals": scope, "bound": len(bound)}


def partial_key(value: Any, depth: int = 0) -> Any:
    """The specialization key of a functools.partial argument: its function's key and
    those of the values it binds."""
    return (functools.partial, callable_key(value.func, depth),
            tuple(_key_of_value(a, depth) for a in value.args),
            tuple((k, _key_of_value(v, depth)) for k, v in value.keywords.items()))


def object_call_key(value: Any, depth: int = 0) -> Any:
    """The specialization key of a callable object: its class, its ``__call__``'s key,
    and the key of each attribute that code reads (a property as it evaluates now)."""
    call = python_call(type(value))
    parts: list[Any] = [type(value), callable_key(call, depth)]
    parts.extend((n, _key_of_value(v, depth)) for n, v in _attributes_read(value, call.__code__.co_names))
    return tuple(parts)


def _key_of_value(value: Any, depth: int) -> Any:
    """What of a value a function's code reads that compiled code depends on."""
    if isinstance(value, torch.Tensor):
        return (value.dtype, tuple(value.shape), value.stride(), value.device.type)
    if isinstance(value, (bool, int, float, str, type(None), torch.dtype)):
        return (type(value), value)
    if type(value) in CALLABLE_TYPES:
        return callable_key(value, depth + 1)
    if depth < 8 and isinstance(value, functools.partial):
        return partial_key(value, depth + 1)
    if depth < 8 and python_call(type(value)) is not None:
        return object_call_key(value, depth + 1)
    if isinstance(value, types.ModuleType):
        return value
    return type(value)


def callable_key(fn: Any, depth: int = 0) -> Any:
    """The specialization key of a function argument: its code and the values it
    reads that are compiled in (closure variables, defaults, and the shapes of the
    tensors among its globals), recursively for the functions among them."""
    if not isinstance(fn, types.FunctionType):
        return fn  # a built-in: itself
    if depth > 8:
        return fn.__code__
    code = fn.__code__
    parts: list[Any] = [code]
    if fn.__defaults__:
        parts.append(tuple(_key_of_value(v, depth) for v in fn.__defaults__))
    if fn.__closure__:
        for cell in fn.__closure__:
            try:
                parts.append(_key_of_value(cell.cell_contents, depth))
            except ValueError:  # an empty cell
                parts.append(None)
    g = fn.__globals__
    for n in code.co_names:
        v = g.get(n)
        if isinstance(v, torch.Tensor) or type(v) in CALLABLE_TYPES:
            parts.append((n, _key_of_value(v, depth)))
    return tuple(parts)


# ------------------------------------------------- torch.fx GraphModule arguments

# operator-module functions fx graphs call, as the Python operator they stand for:
# written as operators, they need no global (the core reads them as it reads `a + b`).
_FX_BINARY = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**",
              "matmul": "@", "and_": "&", "or_": "|", "xor": "^", "lshift": "<<", "rshift": ">>",
              "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
_FX_UNARY = {"neg": "-", "pos": "+", "invert": "~", "not_": "not "}

# GraphModule -> its unsupported-op check done (the graph of a GraphModule is fixed
# once it is traced; `recompile()` after editing it changes `code`, the key).
_GRAPH_MODULES_CHECKED: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def is_graph_module(value: Any) -> bool:
    return isinstance(value, torch.fx.GraphModule)


def is_graph_module_type(cls: type) -> bool:
    return issubclass(cls, torch.fx.GraphModule)


def graph_module_key(gm: Any) -> Any:
    """The specialization key of a GraphModule argument: the Python code of its graph
    (two modules tracing the same computation share compiled code).  Raises
    GraphModuleUnsupportedOps for a graph that reads the module's state."""
    code = gm.code
    if _GRAPH_MODULES_CHECKED.get(gm) is not code:
        bad = sorted({n.op for n in gm.graph.nodes if n.op in ("call_module", "get_attr")})
        if bad:
            raise exc.GraphModuleUnsupportedOps(", ".join(bad))
        _GRAPH_MODULES_CHECKED[gm] = code
    return ("GraphModule", code)


def graph_module_function(gm: Any, name: str) -> tuple[str, dict[str, Any]]:
    """A GraphModule's graph as the source of a plain Python function, and the globals it
    names: one statement per node, in the graph's order (a function deuteron inlines
    like any other).  Functions of the operator module are written as the operators;
    other callees and constants of no literal form are globals (``_fx_fn0``, ``_fx_c0``)."""
    graph_module_key(gm)  # rejects call_module / get_attr
    env: dict[str, Any] = {}
    values: dict[int, str] = {}

    def global_name(prefix: str, value: Any) -> str:
        key = id(value)
        if key not in values:
            values[key] = f"_fx_{prefix}{len(values)}"
            env[values[key]] = value
        return values[key]

    def fmt(a: Any) -> str:
        if isinstance(a, torch.fx.Node):
            return a.name
        if isinstance(a, tuple):
            return "(" + "".join(fmt(x) + ", " for x in a) + ")"
        if isinstance(a, list):
            return "[" + ", ".join(fmt(x) for x in a) + "]"
        if isinstance(a, slice):
            return f"slice({fmt(a.start)}, {fmt(a.stop)}, {fmt(a.step)})"
        if a is Ellipsis:
            return "..."
        if isinstance(a, float) and not math.isfinite(a):
            return global_name("c", a)
        if a is None or isinstance(a, (bool, int, float, str)):
            return repr(a)
        if isinstance(a, torch.dtype):
            return "torch." + str(a).removeprefix("torch.")
        return global_name("c", a)

    def call_args(args: Sequence[Any], kwargs: dict[str, Any]) -> str:
        return ", ".join([fmt(a) for a in args] + [f"{k}={fmt(v)}" for k, v in kwargs.items()])

    params: list[str] = []
    body: list[str] = []
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            params.append(node.name if not node.args else f"{node.name}={fmt(node.args[0])}")
            continue
        if node.op == "output":
            body.append(f"return {fmt(node.args[0])}")
            continue
        target, args, kwargs = node.target, node.args, node.kwargs
        if node.op == "call_method":
            expr = f"{fmt(args[0])}.{target}({call_args(args[1:], kwargs)})"
        elif getattr(target, "__module__", None) in ("_operator", "operator") and not kwargs:
            op_name = target.__name__
            if op_name in _FX_BINARY and len(args) == 2:
                expr = f"({fmt(args[0])} {_FX_BINARY[op_name]} {fmt(args[1])})"
            elif op_name in _FX_UNARY and len(args) == 1:
                expr = f"({_FX_UNARY[op_name]}{fmt(args[0])})"
            elif target is operator.getitem:
                expr = f"{fmt(args[0])}[{fmt(args[1])}]"
            else:
                expr = f"{global_name('fn', target)}({call_args(args, kwargs)})"
        elif target is getattr and len(args) == 2 and isinstance(args[1], str) and not kwargs:
            expr = f"{fmt(args[0])}.{args[1]}"
        else:
            expr = f"{global_name('fn', target)}({call_args(args, kwargs)})"
        body.append(f"{node.name} = {expr}")
    if "torch." in "\n".join(body):  # dtypes
        env["torch"] = torch
    text = f"def {name}({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body)
    return text, env


def graph_module_arg_spec(name: str, gm: Any) -> dict[str, Any]:
    """The spec of a GraphModule passed as the kernel argument ``name``: a function
    (graph_module_function) inlined where device code calls it, as a Python function
    argument is.  Errors in it point into its generated text (its graph's code)."""
    text, env = graph_module_function(gm, f"{name}_graph")
    filename = f"<GraphModule {name}: {type(gm).__name__}>"
    spec: dict[str, Any] = {"name": name, "kind": "callable"}
    value = {"name": name, "kind": "helper", "source": text, "filename": filename, "first_line": 1,
             "kernel": False}
    scope: list[dict[str, Any]] = []
    for gname, gvalue in env.items():
        scope.extend(describe_global(gname, gvalue, set(), path=gname))
    if any(s["kind"] == "opaque" for s in scope):
        # The core reports it where device code calls it, naming the callee.
        bad = [n.target for n in gm.graph.nodes if n.op == "call_function"
               and any(s["kind"] == "opaque" and env.get(s["name"]) is n.target for s in scope)]
        what = ", ".join(sorted({getattr(t, "__qualname__", repr(t)) for t in bad})) or "a constant"
        return {**spec, "error": f"the GraphModule calls {what}, which deuteron cannot inline in device code "
                                 f"(only torch, torch.nn.functional, math and deuteron.language functions)"}
    return {**spec, "value": value, "globals": scope}
