"""Exceptions raised by deuteron.

Every error about a user's kernel is a :class:`CompileError` whose message
names the kernel's file and line, shows the source line with a caret under
the offending code, and says what is supported instead.
"""

from __future__ import annotations


class DeuteronError(Exception):
    """Base class of every deuteron error."""


class CompileError(DeuteronError):
    """A problem in the user's kernel, found while compiling it.

    Attributes: ``filename``, ``line``, ``col`` (1-based), ``message`` (one
    sentence), ``notes`` (what is supported instead), and the formatted text
    (``str(err)``) with the source line and a caret.
    """

    def __init__(self, formatted: str, filename: str = "", line: int = 0, col: int = 0,
                 message: str = "", notes: list[str] | None = None) -> None:
        super().__init__(formatted)
        self.formatted = formatted
        self.filename = filename
        self.line = line
        self.col = col
        self.message = message or formatted
        self.notes = list(notes or [])

    def __reduce__(self):  # picklable across processes (autotune workers)
        return (type(self), (self.formatted, self.filename, self.line, self.col, self.message, self.notes))


class ConfigError(DeuteronError, ValueError):
    """A Config outside the kernel's config space (names the key and the allowed values)."""


class InternalCompilerError(DeuteronError):
    """A bug in deuteron itself (please report it with the kernel that triggered it)."""

    def __init__(self, message: str) -> None:
        super().__init__(
            f"{message}\nThis is a bug in deuteron, not in your kernel; please report it with the kernel source."
        )


class InputError(DeuteronError, TypeError):
    """The arguments of a kernel call are unusable (wrong device, unsupported type, ...)."""


class NotInsideKernelError(DeuteronError):
    """A deuteron.language function was called outside a kernel."""


class AutotuneError(DeuteronError):
    """Autotuning found no config that compiles and runs correctly."""


class TuningCacheError(DeuteronError):
    """The shared tuning cache is set up wrongly (an unknown URL scheme, the redis package missing).

    A store that is set up right but unreachable is not an error: tuning goes on with
    the local cache alone (see docs/autotuning.md)."""
