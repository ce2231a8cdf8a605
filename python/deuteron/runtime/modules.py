"""Generated Python modules: writing them to disk, loading them, attaching a launcher.

Generated modules are real files (Triton's interpreter and tracebacks need
source files), named by the hash of their text, so identical code is written
once and shared by every process.

:func:`load_host_function` is the one way a generated module becomes a
callable: load the file with the kernel's globals, set the module's
``_launch`` (the native launcher, or a stand-in that compiles or records
instead of launching), and return its host function.  BoundKernel.load uses
it for the kernel's own calls; the autotuner's benchmark process, export and
ahead-of-time compilation use it with the paths BoundKernel.write_module gives.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import types
import warnings
from pathlib import Path
from typing import Any, Callable

from . import env
from .files import private_directory, write_atomic
from .launcher import ensure_allocator, fast_launcher


class TamperedModuleError(RuntimeError):
    """A generated module's file no longer holds the text deuteron wrote (its name is its hash)."""


_DIGEST_CHARS = 20


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:_DIGEST_CHARS]


def write_module(source: str, directory: Path, stem: str) -> Path:
    """Writes ``source`` as ``<directory>/<stem>_<hash>.py`` (once: the name is its content).

    ``directory`` is made private first (runtime/files.py: private_directory; its
    parent is the cache directory).  A file of that name holding other text (edited,
    truncated, planted) is replaced, with a warning: comparing the text costs one
    read, much less than generating it did.
    """
    data = source.encode()
    private_directory(directory, parents=1)
    path = directory / f"{stem}_{_digest(data)}.py"
    try:
        existing = path.read_bytes()
    except FileNotFoundError:
        existing = None
    if existing != data:
        if existing is not None:
            warnings.warn(f"deuteron: generated module {path} was modified after it was written; "
                          f"writing it again", stacklevel=2)
        write_atomic(path, source)
    return path


def load_module(path: Path, globals_: dict[str, Any]) -> types.ModuleType:
    """Executes the file as a fresh module with the kernel's globals bound first.

    The file's text must match the hash in its name (write_module names it so);
    the text checked is the text executed, read once.  Raises TamperedModuleError
    otherwise, since anything else in the cache directory is not deuteron's code.
    """
    data = path.read_bytes()
    stem, _, digest = path.stem.rpartition("_")
    if not stem or digest != _digest(data):
        raise TamperedModuleError(
            f"deuteron: refusing to load {path}: its contents do not match the hash in its name, so it is "
            f"not the module deuteron generated (modified after it was written); delete it and run again")
    name = f"deuteron_generated.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(globals_)
    # Registered so that Triton (and inspect) can find the source by module name.
    sys.modules[name] = module
    exec(compile(data, str(path), "exec"), module.__dict__)
    return module


def load_host_function(path: Path, globals_: dict[str, Any],
                       launch: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """The host function of the generated module at ``path``, in a freshly loaded module.

    ``launch`` replaces the module's ``_launch(kernel, grid, *args, num_warps=,
    num_stages=, maxnreg=, site=)``; by default a Triton module launches
    through the native launcher (unless TRITON_INTERPRET is set) and a
    reference module keeps its own.  The function carries
    ``deuteron_module`` (the module) and ``deuteron_path`` (its file).
    """
    module = load_module(path, globals_)
    meta = module._deuteron_meta
    if launch is not None:
        module._launch = launch
    elif meta["backend"] == "triton" and not env.triton_interpret():
        ensure_allocator()  # device-side tensor descriptors need scratch memory
        module._launch = fast_launcher
    fn = getattr(module, meta["entry"])
    fn.deuteron_module = module  # type: ignore[attr-defined]
    fn.deuteron_path = path  # type: ignore[attr-defined]
    return fn
