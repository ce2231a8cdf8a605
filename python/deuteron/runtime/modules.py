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

import contextlib
import hashlib
import importlib.util
import sys
import threading
import types
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

from . import env
from .files import private_directory, write_atomic
from .launcher import default_launcher, ensure_allocator, fast_launcher


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


def interprets_triton(module: types.ModuleType) -> bool:
    """Whether a generated Triton module's kernels run under Triton's interpreter: with
    TRITON_INTERPRET, or loaded so (a kernel holding Triton source of the user's runs
    that way in DEUTERON_INTERPRET mode, since PyTorch cannot run Triton text)."""
    return env.triton_interpret() or getattr(module, "_deuteron_interprets_triton", False)


@contextlib.contextmanager
def _triton_interpreting() -> Iterator[None]:
    """``@triton.jit`` makes interpreter functions while this is open (Triton reads the
    TRITON_INTERPRET knob when it decorates, so the module keeps them after)."""
    from triton import knobs

    with knobs.runtime.scope():
        knobs.runtime.interpret = True
        yield


_MISSING = object()  # an attribute a module or class did not have

# triton.language's own @triton.jit functions (tl.sum, tl.sigmoid, tl.rand, ...) as
# interpreter functions, made once each (keyed by id: hashing a JITFunction reads its globals).
_interpreted_library: dict[int, Any] = {}
_library_lock = threading.RLock()


@contextlib.contextmanager
def _triton_library_interpreted() -> Iterator[None]:
    """While open, triton.language runs as it does when Triton was imported with
    TRITON_INTERPRET=1: its @triton.jit functions are interpreter functions (Triton
    makes them when it is imported, as compiled-only functions without the variable)
    and the knob is on.  Restored after, so the process compiles Triton as before."""
    import triton.language as tl
    from triton import knobs
    from triton.runtime.interpreter import InterpretedFunction
    from triton.runtime.jit import JITFunction

    with _library_lock:
        owners: list[Any] = [m for n, m in list(sys.modules.items())
                             if m is not None and (n == "triton.language" or n.startswith("triton.language."))]
        owners.append(tl.core.tensor)  # the tensor methods (x.sum(), ...) Triton sets from them
        owners.append(tl.core.tensor_descriptor_base)
        # Everything the launch may change, as it was: Triton's interpreter patches
        # triton.language for a launch and restores it, but a library function called
        # from a kernel (tl.sum) patches the modules its own code names (standard's
        # `core`) and never restores them, so a later compile in this process would
        # build IR with the interpreter's semantics (Triton 3.6).
        before = [(owner, dict(vars(owner))) for owner in owners]
        for owner in owners:
            for name, value in list(vars(owner).items()):
                if isinstance(value, JITFunction):
                    wrapped = _interpreted_library.get(id(value))
                    if wrapped is None:
                        wrapped = _interpreted_library[id(value)] = InterpretedFunction(value.fn)
                    setattr(owner, name, wrapped)
        try:
            with knobs.runtime.scope():
                knobs.runtime.interpret = True
                yield
        finally:
            for owner, attrs in before:
                for name in [n for n, v in vars(owner).items()
                             if n not in attrs and not isinstance(v, types.ModuleType)]:
                    delattr(owner, name)  # (a submodule imported meanwhile stays an attribute)
                for name, value in attrs.items():
                    if vars(owner).get(name, _MISSING) is not value:
                        setattr(owner, name, value)


def interpreting_launcher(kernel: Any, grid: tuple, *args: Any, **options: Any) -> Any:
    """The launcher of a module loaded with ``interpret_triton``: Triton's library is
    swapped for the launch where Triton was imported without TRITON_INTERPRET (where it
    was imported with it, there is nothing to swap)."""
    with _triton_library_interpreted():
        return default_launcher(kernel, grid, *args, **options)


def load_module(path: Path, globals_: dict[str, Any], interpret_triton: bool = False) -> types.ModuleType:
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
    if interpret_triton:
        with _triton_interpreting():
            exec(compile(data, str(path), "exec"), module.__dict__)
        meta = getattr(module, "_deuteron_meta", {})
        module._deuteron_interprets_triton = meta.get("backend") == "triton"  # type: ignore[attr-defined]
    else:
        exec(compile(data, str(path), "exec"), module.__dict__)
    return module


def load_host_function(path: Path, globals_: dict[str, Any],
                       launch: Callable[..., Any] | None = None,
                       interpret_triton: bool = False) -> Callable[..., Any]:
    """The host function of the generated module at ``path``, in a freshly loaded module.

    ``launch`` replaces the module's ``_launch(kernel, grid, *args, num_warps=,
    num_stages=, maxnreg=, site=)``; by default a Triton module launches
    through the native launcher (unless TRITON_INTERPRET is set) and a
    reference module keeps its own.  ``interpret_triton`` runs a Triton module's
    kernels under Triton's interpreter (as TRITON_INTERPRET does; a reference
    module is unaffected).  The function carries
    ``deuteron_module`` (the module) and ``deuteron_path`` (its file).
    """
    module = load_module(path, globals_, interpret_triton)
    meta = module._deuteron_meta
    if launch is not None:
        module._launch = launch
    elif meta["backend"] == "triton" and not interprets_triton(module):
        ensure_allocator()  # device-side tensor descriptors need scratch memory
        module._launch = fast_launcher
    elif getattr(module, "_deuteron_interprets_triton", False):
        module._launch = interpreting_launcher
    fn = getattr(module, meta["entry"])
    fn.deuteron_module = module  # type: ignore[attr-defined]
    fn.deuteron_path = path  # type: ignore[attr-defined]
    return fn
