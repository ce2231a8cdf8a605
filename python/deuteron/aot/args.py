"""Example arguments from text, for the command line (`deuteron export ... --args SPEC`).

The format is deuteronc's: comma-separated ``name:dtype[size,size,...]`` for
tensors (row-major), plus ``name:int=V``, ``name:float=V``, ``name:bool=V``
and ``name:None`` for other arguments.  ``name:dtype[...]+K`` starts the
tensor K elements into its memory (to export a specialization for pointers
that are not 16-byte aligned).  Names must be the kernel's parameter names;
parameters left out take their Python defaults.
"""

from __future__ import annotations

import re
from typing import Any

import torch

from .record import DTYPES_BY_NAME, ExportError

_TENSOR = re.compile(r"^([A-Za-z_]\w*)\s*:\s*(\w+)\s*\[([^\]]*)\]\s*(?:\+\s*(\d+))?$")
_SCALAR = re.compile(r"^([A-Za-z_]\w*)\s*:\s*(int|float|bool)\s*=\s*(\S+)$")
_NONE = re.compile(r"^([A-Za-z_]\w*)\s*:\s*None$")


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def parse_args_spec(text: str, device: str = "cpu") -> dict[str, Any]:
    """{name: example value} for an --args text.  Tensors are uninitialized (export never reads them)."""
    out: dict[str, Any] = {}
    for part in _split_top(text):
        if m := _TENSOR.match(part):
            name, dtype_text, dims, offset = m.groups()
            dtype = DTYPES_BY_NAME.get(dtype_text)
            if dtype is None:
                raise ExportError(f"--args: unknown dtype {dtype_text!r} in {part!r} "
                                  f"(one of {', '.join(DTYPES_BY_NAME)})")
            try:
                sizes = [int(d) for d in dims.split(",") if d.strip()]
            except ValueError:
                raise ExportError(f"--args: sizes must be integers in {part!r}") from None
            k = int(offset or 0)
            numel = 1
            for s in sizes:
                numel *= s
            base = torch.empty(numel + k, dtype=dtype, device=device)
            out[name] = base[k:].view(sizes) if k else base.view(sizes)
        elif m := _SCALAR.match(part):
            name, kind, value = m.groups()
            try:
                if kind == "int":
                    out[name] = int(value, 0)
                elif kind == "float":
                    out[name] = float(value)
                else:
                    if value.lower() not in ("true", "false", "1", "0"):
                        raise ValueError(value)
                    out[name] = value.lower() in ("true", "1")
            except ValueError:
                raise ExportError(f"--args: bad {kind} value in {part!r}") from None
        elif m := _NONE.match(part):
            out[m.group(1)] = None
        else:
            raise ExportError(f"--args: cannot parse {part!r}; expected name:dtype[size,...], "
                              f"name:int=V, name:float=V, name:bool=V or name:None")
    return out
