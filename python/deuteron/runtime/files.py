"""Writing a file so that readers never see it half written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str, *, durable: bool = False, mode: int | None = None) -> None:
    """Writes ``text`` to ``path`` through a temporary file in the same folder and a rename.

    Other processes (autotuning workers, a second Python process sharing the
    cache) see either the old file or the whole new one.  ``durable`` also
    syncs the data to disk before the rename (the autotune cache, which
    outlives a crash); ``mode`` sets the file's permissions (the temporary
    file is created 0600).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
