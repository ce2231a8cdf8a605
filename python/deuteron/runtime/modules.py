"""Writing generated Python modules to disk and loading them.

Generated modules are real files (Triton's interpreter and tracebacks need
source files), named by the hash of their text, so identical code is written
once and shared by every process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import types
from pathlib import Path
from typing import Any


def write_module(source: str, directory: Path, stem: str) -> Path:
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}_{digest}.py"
    if not path.exists():
        # Atomic: write a temp file in the same directory, then rename.
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{stem}_", suffix=".py.tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(source)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    return path


def load_module(path: Path, globals_: dict[str, Any]) -> types.ModuleType:
    """Executes the file as a fresh module with the kernel's globals bound first."""
    name = f"deuteron_generated.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(globals_)
    # Registered so that Triton (and inspect) can find the source by module name.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
