"""The shared tuning cache in a directory that many hosts share (NFS and the like).

Assumed of the file system: rename within a directory is atomic, and
exclusive creation (``O_EXCL``) works; nothing else (no locks: ``flock`` and
``fcntl`` are unreliable or off on many network mounts).  Layout::

    <root>/deuteron-tuning-v1/<family>/<key>/<sha256 of the record>.json

One file per result.  A writer writes its record to a temporary file in the
key's folder and renames it to its content hash (a reader never sees half a
file; two writers of the same record write the same file).  A reader lists
the key's folder and takes the best valid record there.

Better replaces worse without locks:

1. a writer that finds an equal or better record already there writes nothing;
2. otherwise it renames its file into place, then deletes the files that are
   strictly worse than its own (or not valid records at all).

No file is deleted but by a writer whose own, strictly better file is already
in place, so the best result anyone wrote is never deleted: whatever the
interleaving of writers on any number of hosts, it stays, and a reader always
finds it (a reader that finds a listed file gone lists again: the file that
made it go is there).  Worse files
that a racing writer did not see yet may stay until the next write; readers
ignore them.  Temporary files of writers that died are removed after an hour.
Caveat of NFS: clients cache directory listings for a few seconds, so a new
result may take that long to be seen on another host.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Iterator

from .tuning_store import Better, Store, StoreUnavailable

__all__ = ["DirectoryStore"]

LAYOUT = "deuteron-tuning-v1"
_STALE_TEMP_SECONDS = 3600.0


def _hex(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


class DirectoryStore(Store):
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = f"file://{self.root}" if self.root.is_absolute() else str(self.root)
        self.base = self.root / LAYOUT

    def _dir(self, family: str, key: str) -> Path:
        if not (_hex(family) and _hex(key)):
            raise ValueError("family and key must be SHA-256 hex digests")
        return self.base / family / key

    @staticmethod
    def _files(folder: Path) -> list[Path]:
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return []
        return sorted(folder / n for n in names if n.endswith(".json") and not n.startswith("."))

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            with open(path, "rb") as f:
                return f.read(1 << 21)
        except (FileNotFoundError, IsADirectoryError):
            return None  # deleted by a writer since the listing

    def get(self, family: str, key: str) -> list[bytes]:
        try:
            folder = self._dir(family, key)
            for _ in range(8):
                out, vanished = [], False
                for path in self._files(folder):
                    data = self._read(path)
                    if data is None:
                        vanished = True
                    else:
                        out.append(data)
                # A file deleted since the listing was deleted by a writer whose better file was
                # already in place: list again to see that one.
                if not vanished:
                    break
            return out
        except OSError as e:
            raise StoreUnavailable(f"{type(e).__name__}: {e}") from None

    def put_if_better(self, family: str, key: str, data: bytes, better: Better) -> bool:
        try:
            folder = self._dir(family, key)
            existing = [(p, self._read(p)) for p in self._files(folder)]
            if any(d is not None and not better(d) for _, d in existing):
                return False
            folder.mkdir(parents=True, exist_ok=True)
            name = hashlib.sha256(data).hexdigest() + ".json"
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.chmod(tmp, 0o644)
                os.rename(tmp, folder / name)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            # Only now, with ours in place: drop what is strictly worse (or not a record).
            for path in self._files(folder):
                if path.name == name:
                    continue
                d = self._read(path)
                if d is not None and better(d):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
            self._remove_stale_temps(folder)
            return True
        except OSError as e:
            raise StoreUnavailable(f"{type(e).__name__}: {e}") from None

    @staticmethod
    def _remove_stale_temps(folder: Path) -> None:
        now = time.time()
        with contextlib.suppress(OSError):
            for n in os.listdir(folder):
                if n.startswith(".") and n.endswith(".tmp"):
                    p = folder / n
                    with contextlib.suppress(OSError):
                        if now - p.stat().st_mtime > _STALE_TEMP_SECONDS:
                            os.unlink(p)

    def family(self, family: str, limit: int = 256) -> list[bytes]:
        if not _hex(family):
            return []
        folder = self.base / family
        try:
            keys = sorted(n for n in os.listdir(folder) if _hex(n))[:limit]
        except FileNotFoundError:
            return []
        except OSError as e:
            raise StoreUnavailable(f"{type(e).__name__}: {e}") from None
        out = []
        for key in keys:
            out.extend(self.get(family, key))
        return out

    def scan(self) -> Iterator[tuple[str, bytes]]:
        try:
            families = sorted(os.listdir(self.base))
        except FileNotFoundError:
            return
        except OSError as e:
            raise StoreUnavailable(f"{type(e).__name__}: {e}") from None
        for family in families:
            if not _hex(family):
                continue
            try:
                keys = sorted(os.listdir(self.base / family))
            except OSError:
                continue
            for key in keys:
                if _hex(key):
                    for data in self.get(family, key):
                        yield key, data

    def delete(self, key: str, family: str | None = None) -> bool:
        folders = [self._dir(family, key)] if family else [p / key for p in self.base.glob("*") if _hex(p.name)]
        found = False
        for folder in folders:
            for path in list(folder.glob("*")) if folder.is_dir() else []:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    found = True
            with contextlib.suppress(OSError):
                folder.rmdir()
        return found
