"""Generated modules that run without deuteron: ``BoundKernel.to_code(options=
OutputCodeOptions(allow_helion_deps=False))`` (Helion's API).

A generated module needs deuteron for three things: its launch functions (the
``from deuteron.runtime.launcher import ...`` lines; the runtime swaps in its
native launcher), the values of the kernel's globals (the runtime puts them into
the module before running it), and, for implicit random seeds, deuteron's Philox
helpers.  A standalone module defines the launch functions itself (launching
through Triton's own entry point), assigns each global it reads that has a
literal form (numbers, strings, dtypes) or imports it (modules), and is
otherwise the same text.  What cannot be written so is an InputError naming it.
"""

from __future__ import annotations

import builtins
import inspect
import math
import symtable
import types
from dataclasses import dataclass
from typing import Any

import torch

from .. import exc
from . import launcher as _launcher


@dataclass(frozen=True)
class OutputCodeOptions:
    """Options of :meth:`BoundKernel.to_code` (Helion's).

    ``allow_helion_deps=False``: a module that imports neither deuteron nor
    helion (torch and Triton only).  ``jax_fn`` belongs to Helion's Pallas back
    end: deuteron generates Triton code, so ``jax_fn=True`` is an InputError."""

    allow_helion_deps: bool = True
    jax_fn: bool = False


_IMPORTS = {
    "from deuteron.runtime.launcher import default_launcher as _launch",
    "from deuteron.runtime.launcher import check_tma_alignment as _check_tma_alignment",
    "from deuteron.runtime.launcher import no_native_launcher as _no_native_launcher",
}

_LAUNCH = '''

# Launching without deuteron: through Triton's own entry point.
def _launch(kernel, grid, *args, num_warps=4, num_stages=1, maxnreg=None, site=None):
    if maxnreg is not None:
        return kernel[grid](*args, num_warps=num_warps, num_stages=num_stages, maxnreg=maxnreg)
    return kernel[grid](*args, num_warps=num_warps, num_stages=num_stages)


def _no_native_launcher(grid, *args):
    return False

'''

_ALLOCATOR = '''
# Device-side tensor descriptors need scratch memory from Triton's allocator.
def _deuteron_alloc(size, alignment, stream):
    return torch.empty(size, dtype=torch.int8, device="cuda")


if hasattr(triton, "set_allocator"):
    triton.set_allocator(_deuteron_alloc)

'''


def _free_names(text: str, filename: str) -> list[str]:
    """The globals the module's code reads that the module itself does not define."""
    top = symtable.symtable(text, filename, "exec")
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    found: list[str] = []

    def visit(table: symtable.SymbolTable) -> None:
        for s in table.get_symbols():
            name = s.get_name()
            reads_global = s.is_referenced() and (table is top or s.is_global())
            if reads_global and name not in defined and name not in found and not hasattr(builtins, name):
                found.append(name)
        for child in table.get_children():
            visit(child)

    visit(top)
    return found


def _definition(name: str, value: Any, kernel_name: str) -> str:
    if isinstance(value, types.ModuleType):
        module = value.__dict__.get("__deuteron_module__", value)
        if module.__name__.split(".")[0] in ("deuteron", "helion"):
            raise exc.InputError(
                f"{kernel_name}: the generated host code uses {name!r} ({module.__name__}), so it cannot run "
                f"without deuteron (OutputCodeOptions(allow_helion_deps=False))")
        return f"import {module.__name__} as {name}" if module.__name__ != name else f"import {name}"
    if isinstance(value, torch.dtype):
        return f"{name} = {value}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{name} = float({str(value)!r})"
    if value is None or isinstance(value, (bool, int, float, str)):
        return f"{name} = {value!r}"
    raise exc.InputError(
        f"{kernel_name}: the generated host code reads the global {name!r} (a {type(value).__name__}), which a "
        f"module without deuteron cannot define (numbers, strings, dtypes and modules can be); "
        f"OutputCodeOptions(allow_helion_deps=False) cannot be used for this kernel")


def standalone_module(text: str, globals_: dict[str, Any], kernel_name: str) -> str:
    """``text`` (a generated module) rewritten to run without deuteron (see the module docstring)."""
    if "from deuteron.runtime import philox" in text:
        raise exc.InputError(
            f"{kernel_name}: random numbers drawn with an implicit seed use deuteron's Philox helpers at run "
            f"time, so the module cannot run without deuteron (pass a seed: hl.rand(..., seed) / "
            f"OutputCodeOptions(allow_helion_deps=True))")
    lines = text.splitlines()
    body = [line for line in lines if line not in _IMPORTS]
    # After the last import line at the top: the launch functions, and the globals' definitions.
    at = max((i for i, line in enumerate(body[:40]) if line.startswith(("import ", "from "))), default=0) + 1
    extra = []
    if any(line in _IMPORTS for line in lines):
        extra.append(_LAUNCH)
        if "_check_tma_alignment(" in text:
            extra.append(inspect.getsource(_launcher.check_tma_alignment).replace(
                "def check_tma_alignment(*tensors: torch.Tensor) -> None:", "def _check_tma_alignment(*tensors):")
                + "\n")
        if "make_tensor_descriptor" in text:
            extra.append(_ALLOCATOR)
    defs = [_definition(n, globals_[n], kernel_name) for n in _free_names("\n".join(body), "<generated>")
            if n in globals_]
    if defs:
        extra.append("\n" + "\n".join(defs) + "\n")
    return "\n".join(body[:at]) + "\n" + "".join(extra) + "\n".join(body[at:]) + "\n"
