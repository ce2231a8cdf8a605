"""Naming the kernel's source line when a generated module raises.

The reference back end (interpret mode: the kernel body in PyTorch eager) writes
a line table into each module it generates: ``_deuteron_spans`` (each span of
the user's source that the module computes: file, line, column, end column, the
line's text) and ``_deuteron_source_lines`` (a line of the module -> its span).
When the kernel raises from inside that module (an index past a tensor's end:
PyTorch's IndexError), the exception keeps its type and message, and a note
(PEP 678, printed under it) says which line of the kernel raised it, with a
caret, so that the traceback does not end in generated code only.
"""

from __future__ import annotations

import types
from typing import Any

from .. import exc as _exc


def kernel_line_note(exc: BaseException, module: types.ModuleType, path: Any, kernel: str) -> str | None:
    """The note for ``exc`` raised while ``module`` (the file ``path``) ran, or None
    when the innermost frame of that file has no line in its table."""
    table = getattr(module, "_deuteron_source_lines", None)
    spans = getattr(module, "_deuteron_spans", None)
    if not table or not spans:
        return None
    filename = str(path)
    lineno = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    if lineno is None or lineno not in table:
        return None
    file, line, col, end_col, text = spans[table[lineno]]
    caret = " " * max(col - 1, 0) + "^" * max(end_col - col, 1)
    gutter = " " * len(str(line))
    return (f"{file}:{line}:{col}: raised by kernel '{kernel}' (interpret mode) here:\n"
            f" {line} | {text}\n {gutter} | {caret}")


def add_kernel_line_note(exc: BaseException, host: Any, kernel: str) -> None:
    """Adds kernel_line_note's note (once) to ``exc``, raised while the generated
    host function ``host`` ran (its ``deuteron_module`` and ``deuteron_path``), unless
    deuteron raised it itself (its errors carry their location already)."""
    module = getattr(host, "deuteron_module", None)
    if module is None or isinstance(exc, _exc.DeuteronError):
        return
    note = kernel_line_note(exc, module, host.deuteron_path, kernel)
    if note and note not in getattr(exc, "__notes__", ()):
        exc.add_note(note)
