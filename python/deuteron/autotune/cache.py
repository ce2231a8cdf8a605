"""The on-disk autotuning cache: ``<cache dir>/autotune/<kernel>-<hash>.json``.

The key is a SHA-256 over a JSON document of everything that can change the
best config: the kernel's source, the specialization key, the config space,
the settings that change generated code, the candidate list (``configs=``),
the effort and strategy, the GPU's name and the deuteron/torch/triton
versions.  The file holds that document too, so a hash collision or a file
written by another version is detected (stale) rather than trusted.

Entries are JSON (never pickle), written to a temporary file in the same
folder and renamed over the entry (atomic on POSIX): a reader sees the old or
the new file, never half of one, and when two processes tune the same kernel
at once the last rename wins with a complete, valid entry.  A corrupt or stale
entry is ignored with a warning (and tuning runs again).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

import torch

from ..runtime.files import private_directory, write_atomic
from ..version import __version__

FORMAT = "deuteron.autotune/1"


class CacheWarning(UserWarning):
    """A cache entry could not be used (it is ignored; tuning runs again)."""


def versions() -> dict[str, str]:
    import triton  # not at import: see runtime/launcher.py

    return {"deuteron": __version__, "torch": torch.__version__, "triton": triton.__version__}


def make_key(material: dict[str, Any]) -> str:
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _parse(data: bytes) -> dict[str, Any]:
    """The record in an entry's bytes; ValueError (or RecursionError) if it is not one.

    Checks the type of every field a reader uses, so that a well-formed JSON file
    holding the wrong things is rejected here rather than failing its user later.
    """
    record = json.loads(data.decode("utf-8"))
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError("not a deuteron autotune record")
    if not isinstance(record.get("key"), str):
        raise ValueError("its key is not a string")
    if not isinstance(record.get("config"), dict):
        raise ValueError("no config in the record")
    for field in ("seconds", "default_seconds"):
        if not _number_or_none(record.get(field)):
            raise ValueError(f"its {field} is not a number")
    return record


class TuneCache:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path(self, name: str, key: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)[:64] or "kernel"
        return self.directory / f"{safe}-{key[:32]}.json"

    def load(self, name: str, material: dict[str, Any]) -> dict[str, Any] | None:
        """The entry's record, or None (missing, corrupt or stale: warned).

        Whatever the file holds, the answer is a record or None with a warning,
        never an exception: a bad entry must not make every later run fail.
        """
        private_directory(self.directory, parents=1)
        key = make_key(material)
        path = self.path(name, key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            warnings.warn(f"deuteron: cannot read autotune cache entry {path}: {e}; tuning again", CacheWarning,
                          stacklevel=3)
            return None
        try:
            record = _parse(data)
        # RecursionError: JSON nested deeper than Python's stack (json.loads recurses).
        except (ValueError, RecursionError) as e:
            warnings.warn(f"deuteron: ignoring unreadable autotune cache entry {path} ({e}); tuning again",
                          CacheWarning, stacklevel=3)
            return None
        if record.get("key") != key or record.get("material") != json.loads(
                json.dumps(material, sort_keys=True, default=str)):
            warnings.warn(f"deuteron: ignoring stale autotune cache entry {path} (written for another kernel, "
                          f"space or version); tuning again", CacheWarning, stacklevel=3)
            return None
        return record

    def store(self, name: str, material: dict[str, Any], config: dict[str, Any], **info: Any) -> Path:
        key = make_key(material)
        path = self.path(name, key)
        record = {"format": FORMAT, "key": key, "kernel": name, "config": config,
                  "material": json.loads(json.dumps(material, sort_keys=True, default=str)),
                  "created": time.time(), **info}
        private_directory(self.directory, parents=1)
        write_atomic(path, json.dumps(record, indent=1, sort_keys=False, allow_nan=False) + "\n",
                     durable=True, mode=0o644)
        return path
