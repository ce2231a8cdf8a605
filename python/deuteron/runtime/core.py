"""The C++ core (the ``deuteron._core`` extension), imported on first use.

Imported lazily so that a missing build gives one clear message at the first
kernel bind instead of an ImportError at ``import deuteron``; the error types
the core raises are set once, on that first import.
"""

from __future__ import annotations

from types import ModuleType

from .. import exc

_core_module: ModuleType | None = None


def core() -> ModuleType:
    """The C++ extension (with a clear error if it is missing)."""
    global _core_module
    if _core_module is None:
        try:
            from .. import _core  # type: ignore[attr-defined]
        except ImportError as e:  # pragma: no cover - only without a build
            raise ImportError(
                "deuteron's C++ core (deuteron._core) is not built; install the package with "
                "`pip install .` (see README.md)"
            ) from e
        _core.set_error_types(exc.compile_error_class, exc.config_error_class, exc.InternalCompilerError)
        _core_module = _core
    return _core_module
