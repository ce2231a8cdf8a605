"""``import helion`` as deuteron: an import hook for running Helion programs unchanged.

``install_helion_alias()`` puts a finder in front of ``sys.meta_path`` that
answers imports of ``helion`` and ``helion.<name>`` with deuteron's modules:

* ``helion`` -> ``deuteron``; ``helion._testing`` -> ``deuteron.testing``;
  ``helion._compat`` -> ``deuteron.compat``; any other ``helion.a.b`` ->
  ``deuteron.a.b`` when deuteron has that module (``language``, ``exc``,
  ``runtime``, ``runtime.config``, ``autotuner``, ...).  The alias *is* the
  deuteron module (``helion.language is deuteron.language``).
* A few private helpers of Helion's modules that programs call and that have a
  meaningful deuteron answer (``helion.runtime.settings._get_backend()`` is
  ``"triton"``) come from a small table (``_PRIVATE_HELPERS``).
* Modules of Helion's internals (its compiler, autotuner classes, back ends)
  have no deuteron counterpart.  By default importing one raises
  ``ModuleNotFoundError`` naming it.  With ``internals="placeholder"`` (used by
  the conformance runner, scripts/conformance.py) the import succeeds and
  yields a module whose every attribute is a placeholder: using one raises
  :class:`HelionInternalUsed`, a ``unittest.SkipTest``, so a test that reaches
  into Helion's internals is reported as skipped with that reason instead of
  breaking its whole file.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import unittest
from typing import Any, Sequence

ALIAS = "helion"

# Helion module -> deuteron module, where the names differ.
_RENAMED = {
    "helion": "deuteron",
    "helion._testing": "deuteron.testing",
    "helion._compat": "deuteron.compat",
}


def _helper(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


@functools.cache
def _supports_tensor_descriptor() -> bool:
    # functools.cache'd as Helion's is: tests clear it (cache_clear) around patches.
    return bool(_helper("deuteron.compat", "supports_tensor_descriptor")())


# Private helpers of Helion's modules that programs (Helion's tests, at module level)
# call and that have a meaningful deuteron answer: (helion module, name) -> value.
_PRIVATE_HELPERS: dict[tuple[str, str], Any] = {
    # The back end code is generated for.
    ("helion.runtime.settings", "_get_backend"): lambda: "triton",
    ("helion.runtime.settings", "_get_dot_precision"): lambda: "tf32",
    ("helion._utils", "_get_backend"): lambda: "triton",
    ("helion._compat", "_supports_tensor_descriptor"): _supports_tensor_descriptor,
}


def private_helper(module: str, name: str) -> Any:
    """The deuteron answer for Helion's private ``module.name`` (KeyError: none)."""
    return _PRIVATE_HELPERS[(module, name)]


class HelionInternalUsed(unittest.SkipTest):
    """A program used a part of Helion's internals, which deuteron does not have."""

    def __init__(self, name: str) -> None:
        super().__init__(f"helion-internal: {name}")
        self.name = name


class _Placeholder:
    """Stands for a name of Helion's internals; any use raises HelionInternalUsed."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _used(self, *args: Any, **kwargs: Any) -> Any:
        raise HelionInternalUsed(object.__getattribute__(self, "_name"))

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _Placeholder(f"{object.__getattribute__(self, '_name')}.{attr}")

    __call__ = __iter__ = __getitem__ = __enter__ = __len__ = _used
    __mro_entries__ = _used  # used as a base class

    def __repr__(self) -> str:
        return f"<placeholder for Helion's {object.__getattribute__(self, '_name')}>"


class _InternalModule(types.ModuleType):
    """A module of Helion's internals (placeholder mode): every name is a placeholder."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        helper = _PRIVATE_HELPERS.get((self.__name__, attr))
        if helper is not None:
            return helper
        return _Placeholder(f"{self.__name__}.{attr}")


class _AliasModule(types.ModuleType):
    """``helion.<name>`` standing for a deuteron module: reads of its names go to that module.

    Its own name stays ``helion...``, so that ``from helion import _testing`` and
    submodule imports come back through the alias finder.  ``__deuteron_module__``
    is the deuteron module (the compiler resolves kernels' globals through it)."""

    def __getattr__(self, attr: str) -> Any:
        target = self.__dict__["__deuteron_module__"]
        try:
            return getattr(target, attr)
        except AttributeError:
            pass
        helper = _PRIVATE_HELPERS.get((self.__name__, attr))
        if helper is not None:
            return helper
        finder = _finder
        if finder is not None and not (attr.startswith("__") and attr.endswith("__")):
            sub = f"{self.__name__}.{attr}"
            if finder._target(sub) is not None:
                return importlib.import_module(sub)
            if finder.internals == "placeholder" and attr.startswith("_"):
                return _Placeholder(sub)
        raise AttributeError(f"module {self.__name__!r} (deuteron's {target.__name__}) has no attribute {attr!r}")

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self.__dict__["__deuteron_module__"])) | set(self.__dict__))


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, internals: str) -> None:
        self.internals = internals

    @staticmethod
    def _target(fullname: str) -> str | None:
        """The deuteron module for a helion module name (None: one of Helion's internals)."""
        target = _RENAMED.get(fullname, "deuteron" + fullname[len(ALIAS):])
        try:
            found = importlib.util.find_spec(target)
        except (ImportError, ValueError):
            found = None
        return target if found is not None else None

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: Any = None) -> Any:
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        if self._target(fullname) is None and self.internals != "placeholder":
            raise ModuleNotFoundError(
                f"{fullname} is part of Helion's internals; deuteron has no equivalent "
                f"(see docs/language.md for the supported surface)", name=fullname)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        mapped = self._target(spec.name)
        if mapped is None:
            return _InternalModule(spec.name)
        module = _AliasModule(spec.name)
        module.__dict__["__deuteron_module__"] = importlib.import_module(mapped)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None  # the deuteron module ran when it was imported


_finder: _AliasFinder | None = None


def install_helion_alias(*, internals: str = "error") -> None:
    """Makes ``import helion...`` load deuteron (see the module docstring).

    ``internals``: ``"error"`` (default) or ``"placeholder"``.
    """
    global _finder
    if internals not in ("error", "placeholder"):
        raise ValueError("internals must be 'error' or 'placeholder'")
    uninstall_helion_alias()
    _finder = _AliasFinder(internals)
    sys.meta_path.insert(0, _finder)


def helion_alias_mode() -> str | None:
    """The ``internals`` mode of the installed alias, or None when none is installed.

    The autotuner's benchmark processes install the same alias, so that the kernel's
    globals and any function of a ``helion``-importing module unpickle there."""
    return _finder.internals if _finder is not None else None


def uninstall_helion_alias() -> None:
    """Removes the alias and forgets the ``helion`` modules it made."""
    global _finder
    if _finder is not None:
        sys.meta_path.remove(_finder)
        _finder = None
        for name in [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]:
            del sys.modules[name]
