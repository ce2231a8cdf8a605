"""The repro caller of ``BoundKernel.to_code(..., emit_repro_caller=True)`` (Helion's option).

A generated module is normally loaded by the runtime, which puts the values of
the kernel's globals into it and calls its host function.  With a repro caller
the module is a script: ``python module.py`` defines the globals the host code
reads, builds inputs like the ones the kernel was bound to (tensors of the same
sizes, strides, dtype and device from ``torch._dynamo.testing.rand_strided``:
random floats, zero integers; scalars, strings and dtypes as they were) and
calls the host function once, in ``call()``.

What has no literal form (a function passed as an argument, an opaque object)
is written as the string ``"UNSUPPORTED TYPE - REPLACE"``, as Helion writes it:
the script still parses, and says what to fill in.  A Triton module bound to
tensors that are not on a GPU runs under Triton's interpreter: the script sets
TRITON_INTERPRET before anything imports Triton (Triton reads it then).
"""

from __future__ import annotations

import math
import types
from collections.abc import Sequence
from typing import Any

import torch

from .. import language as _language
from .standalone import _free_names

__all__ = ["ReproArguments", "repro_module"]

UNSUPPORTED = '"UNSUPPORTED TYPE - REPLACE"'


def _int(s: Any) -> int:
    """A size or stride; a traced symbolic one gives its example value (an unbacked one 1)."""
    if isinstance(s, torch.SymInt):
        hint = s.node.hint
        return int(hint) if hint is not None else 1
    return int(s)


def argument_text(value: Any) -> str:
    """A Python expression that builds a value like ``value`` in the repro script."""
    if isinstance(value, _language.constexpr):
        value = value.value  # the host function takes the value itself
    if isinstance(value, torch.Tensor):
        size = tuple(_int(s) for s in value.shape)
        stride = tuple(_int(s) for s in value.stride())
        return f"rand_strided({size!r}, {stride!r}, dtype={value.dtype}, device={str(value.device)!r})"
    if value is None or isinstance(value, (bool, str)):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, torch.SymInt):
        return repr(_int(value))
    if isinstance(value, torch.SymFloat):
        hint = value.node.hint
        return repr(float(hint)) if hint is not None else "1.1"
    if isinstance(value, torch.SymBool):
        hint = value.node.hint
        return repr(bool(hint)) if hint is not None else "False"
    if isinstance(value, torch.dtype):
        return str(value)
    if type(value) is tuple:
        items = [argument_text(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if type(value) is list:
        return "[" + ", ".join(argument_text(v) for v in value) + "]"
    if type(value) is dict and all(isinstance(k, (str, int)) for k in value):
        return "{" + ", ".join(f"{k!r}: {argument_text(v)}" for k, v in value.items()) + "}"
    return UNSUPPORTED


class ReproArguments:
    """The arguments a kernel was bound to, as the repro script writes them (kept as
    text: a BoundKernel must not hold the tensors of its first call alive)."""

    __slots__ = ("names", "texts")

    def __init__(self, names: Sequence[str], args: Sequence[Any]) -> None:
        self.names = tuple(names)
        texts = []
        for value in args:
            try:
                texts.append(argument_text(value))
            except Exception:  # a tracer's value without an example: the user fills it in
                texts.append(UNSUPPORTED)
        self.texts = tuple(texts)


def _global_definition(name: str, value: Any) -> str:
    """A module-level statement defining global ``name`` as the runtime would bind it."""
    if isinstance(value, types.ModuleType):
        module = value.__dict__.get("__deuteron_module__", value)  # the helion alias's modules
        return f"import {module.__name__} as {name}" if module.__name__ != name else f"import {name}"
    if isinstance(value, torch.Tensor):
        return f"{name} = {argument_text(value)}"
    text = argument_text(value)
    if text != UNSUPPORTED:
        return f"{name} = {text}"
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", "")
    if module and module != "__main__" and qualname and "<" not in qualname:
        head, _, _ = qualname.partition(".")
        if head == qualname:
            return f"from {module} import {qualname} as {name}" if qualname != name else f"from {module} import {name}"
    return f"{name} = {UNSUPPORTED}  # a {type(value).__name__}: define it as the kernel's module does"


_INTERPRET = (
    "# The kernel was bound to tensors that are not on a GPU: Triton's interpreter runs it\n"
    "# (Triton reads TRITON_INTERPRET when it is imported).\n"
    "import os\n"
    "os.environ.setdefault(\"TRITON_INTERPRET\", \"1\")\n"
)


def repro_module(text: str, entry: str, arguments: ReproArguments, globals_: dict[str, Any],
                 interpret_triton: bool) -> str:
    """``text`` (a generated module whose host function is ``entry``) with a repro caller."""
    lines = text.splitlines()
    if interpret_triton:
        # After the header comments, before the first import.
        at = next((i for i, line in enumerate(lines) if line and not line.startswith("#")), len(lines))
        lines[at:at] = _INTERPRET.splitlines() + [""]
    defs = [_global_definition(n, globals_[n]) for n in _free_names(text, "<generated>") if n in globals_]
    out = "\n".join(lines).rstrip("\n") + "\n"
    out += "\n\n# Repro caller: the host function called once on inputs like those the kernel was bound to.\n"
    if defs:
        out += "\n".join(defs) + "\n"
    body = ["    from torch._dynamo.testing import rand_strided", ""]
    if {*arguments.names} & {"torch", "float", "rand_strided", entry}:
        # A parameter named like what the inputs' expressions use: no local names.
        body.append(f"    return {entry}(")
        body += [f"        {t},  # {n}" for n, t in zip(arguments.names, arguments.texts)]
        body.append("    )")
    else:
        body += [f"    {n} = {t}" for n, t in zip(arguments.names, arguments.texts)]
        body.append(f"    return {entry}({', '.join(arguments.names)})")
    out += "\n\ndef call():\n" + "\n".join(body) + "\n"
    out += "\n\nif __name__ == \"__main__\":\n    call()\n"
    return out
