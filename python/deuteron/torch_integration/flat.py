"""Structured kernel arguments as torch.library operator parameters.

torch.library schemas know tensors, numbers, bools, dtypes-as-ScalarType and
strings, but not tuples, lists, NamedTuples, dataclasses or dicts of them, and
a kernel takes all of these.  A kernel whose arguments include such a value
(or a dtype or a string: the generated host code has no schema type for them)
gets an operator over the *leaves* of its arguments:

* each tensor, int, float and bool leaf is one operator parameter (ints and
  floats are runtime values: the specialization key holds only their type);
* each dtype, string and None leaf, and the containers' structure (types,
  lengths, field names, dict keys), is a constant of the operator: the
  specialization key holds them by value (runtime/kernel.py: _ValueKeys), and
  one operator belongs to one generated module, so every call that reaches
  this operator has the same constants.

:class:`Flattening` is made once per operator from a call's arguments; it
flattens a call's arguments into the operator's parameters and puts them back
together inside the operator, where the module's host code runs on them.
A tensor leaf of an argument the kernel writes (``mutates`` names top-level
arguments) is a mutated parameter: all tensor leaves of that argument are
listed, which may name some the kernel only reads (harmless: a declared
mutation that does not happen costs a copy, never a wrong answer).
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from typing import Any, Callable, Sequence

import torch

from .. import exc

# Node kinds of the structure tree.
_PARAM, _CONST, _SEQ, _RECORD, _DICT = range(5)


def _identifier(text: str) -> str:
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in text).strip("_") or "_"
    return "_" + out if out[0].isdigit() else out


class Flattening:
    """How one kernel's arguments map to its operator's parameters (see the module docstring)."""

    def __init__(self, names: Sequence[str], args: Sequence[Any], mutates: Sequence[str], kernel_name: str) -> None:
        self._kernel_name = kernel_name
        self.params: list[inspect.Parameter] = []
        self.mutated: list[str] = []
        taken: set[str] = set(names)  # top-level names keep theirs; element names must not clash
        self._trees = []
        for name, value in zip(names, args):
            self._writes = name in mutates
            self._trees.append(self._tree(value, name, name, taken, top=True))

    # -------------------------------------------------------------- building
    def _param(self, name: str, annotation: Any, taken: set[str], top: bool, is_tensor: bool) -> tuple:
        if not top:
            base = name = _identifier(name)
            k = 1
            while name in taken:
                name = f"{base}_{k}"
                k += 1
            taken.add(name)
        self.params.append(inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=annotation))
        if is_tensor and self._writes:
            self.mutated.append(name)
        return (_PARAM, len(self.params) - 1)

    def _tree(self, value: Any, where: str, name: str, taken: set[str], top: bool = False) -> tuple:
        if isinstance(value, torch.Tensor):
            return self._param(name, torch.Tensor, taken, top, True)
        if isinstance(value, (bool, torch.SymBool)):
            return self._param(name, bool, taken, top, False)
        if isinstance(value, (int, torch.SymInt)):
            return self._param(name, int, taken, top, False)
        if isinstance(value, (float, torch.SymFloat)):
            return self._param(name, float, taken, top, False)
        if value is None or isinstance(value, (torch.dtype, str)):
            return (_CONST, value)
        if isinstance(value, (tuple, list)):
            kids = tuple(self._tree(v, f"{where}[{i}]", f"{name}_{i}", taken) for i, v in enumerate(value))
            return (_SEQ, type(value), kids)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = tuple(f.name for f in dataclasses.fields(value))
            kids = tuple(self._tree(getattr(value, f), f"{where}.{f}", f"{name}_{f}", taken) for f in fields)
            # A template to copy: its constants are this operator's (the key holds them).
            return (_RECORD, value, fields, kids)
        if isinstance(value, dict):
            keys = tuple(value)
            kids = tuple(self._tree(value[k], f"{where}[{k!r}]", f"{name}_{k}", taken) for k in keys)
            return (_DICT, keys, kids)
        raise exc.InputError(
            f"{self._kernel_name}: the argument {where} is a {type(value).__name__}, which a torch.library "
            f"operator cannot take (needed by torch.compile / export / autograd)")

    # ----------------------------------------------------------------- calls
    def flatten(self, args: Sequence[Any]) -> tuple:
        """A call's arguments as the operator's parameters."""
        out: list[Any] = []

        def walk(node: tuple, value: Any) -> None:
            kind = node[0]
            if kind == _PARAM:
                out.append(value)
            elif kind == _SEQ:
                for n, v in zip(node[2], value):
                    walk(n, v)
            elif kind == _RECORD:
                for n, f in zip(node[3], node[2]):
                    walk(n, getattr(value, f))
            elif kind == _DICT:
                for n, k in zip(node[2], node[1]):
                    walk(n, value[k])

        for node, value in zip(self._trees, args):
            walk(node, value)
        return tuple(out)

    def unflatten(self, leaves: Sequence[Any]) -> tuple:
        """The kernel's arguments from the operator's parameters."""

        def build(node: tuple) -> Any:
            kind = node[0]
            if kind == _PARAM:
                return leaves[node[1]]
            if kind == _CONST:
                return node[1]
            if kind == _SEQ:
                cls, values = node[1], [build(n) for n in node[2]]
                if cls is tuple or cls is list:
                    return cls(values)
                return cls(*values) if hasattr(cls, "_fields") else cls(values)
            if kind == _RECORD:
                obj = copy.copy(node[1])
                for f, n in zip(node[2], node[3]):
                    object.__setattr__(obj, f, build(n))  # frozen dataclasses too
                return obj
            return {k: build(n) for k, n in zip(node[1], node[2])}

        return tuple(build(node) for node in self._trees)

    def wrap(self, fn: Callable[..., Any], return_annotation: Any) -> Callable[..., Any]:
        """``fn`` (taking the kernel's arguments) as a function of the operator's parameters,
        with the signature torch.library infers the schema from."""
        unflatten = self.unflatten

        def flat_fn(*leaves: Any) -> Any:
            return fn(*unflatten(leaves))

        flat_fn.__signature__ = inspect.Signature(self.params, return_annotation=return_annotation)  # type: ignore[attr-defined]
        flat_fn.__name__ = flat_fn.__qualname__ = getattr(fn, "__name__", "op_impl")
        flat_fn.__module__ = getattr(fn, "__module__", __name__)
        return flat_fn
