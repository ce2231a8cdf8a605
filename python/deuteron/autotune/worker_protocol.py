"""What a WorkerPool (workers.py) and a worker process (_worker_main.py) say to each other.

Both ends use this module.  It needs only the standard library: a worker
loads it from its file before it can import deuteron (whose import path it
learns from :data:`SYS_PATH_VARIABLE`), so it must not import deuteron,
torch or triton.

Messages are pickled objects, each preceded by its length (8 bytes, little
endian), over the worker's stdin (jobs) and its original stdout (results):

* worker -> pool, once, after the preloads: :data:`READY`;
* pool -> worker: ``(job_id, "module:function", args, kwargs)``;
* worker -> pool: ``(job_id, True, value, seconds)``, or for a failed job
  ``(job_id, False, (exception type name, message, traceback), seconds)``.

EOF on the worker's stdin asks it to exit; EOF on its stdout means it ended.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import struct
from typing import Any, BinaryIO, Callable, Iterable

READY = ("ready",)

# Set by the pool in the worker's environment.
SYS_PATH_VARIABLE = "DEUTERON_WORKER_SYS_PATH"  # the parent's sys.path, JSON
PRELOAD_VARIABLE = "DEUTERON_WORKER_PRELOAD"    # modules to import before READY, comma-separated
HELION_ALIAS_VARIABLE = "DEUTERON_WORKER_HELION_ALIAS"  # the parent's `helion` alias mode, when installed
HELION_ALIAS_INSTALLER = "deuteron.compat.helion_alias:install_helion_alias"  # what a worker calls with it

_HEADER = struct.Struct("<Q")


def write_message(stream: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_message(stream: BinaryIO) -> Any:
    """The next message; EOFError when the stream ends (between or inside messages)."""
    head = _read_exact(stream, _HEADER.size)
    if head is None:
        raise EOFError("worker pipe closed")
    (n,) = _HEADER.unpack(head)
    data = _read_exact(stream, n)
    if data is None:
        raise EOFError("worker pipe closed mid-message")
    return pickle.loads(data)


def _read_exact(stream: BinaryIO, n: int) -> bytes | None:
    chunks = []
    while n > 0:
        b = stream.read(n)
        if not b:
            return None
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def resolve(target: str) -> Callable[..., Any]:
    """The function a job names: ``"package.module:function"`` (or ``module:Class.method``)."""
    module, _, name = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def worker_environment(base: dict[str, str], sys_path: Iterable[Any]) -> dict[str, str]:
    """``base`` (the parent's environment) plus the parent's import path (tests, scripts'
    folders, an uninstalled checkout), for a worker."""
    env = dict(base)
    env[SYS_PATH_VARIABLE] = json.dumps([p for p in sys_path if isinstance(p, str)])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def with_preload(env: dict[str, str], modules: Iterable[str]) -> dict[str, str]:
    """``env`` telling a worker to import ``modules`` before its first job (outside any job's timeout)."""
    return dict(env, **{PRELOAD_VARIABLE: ",".join(modules)})


def parent_sys_path() -> list[str]:
    """In a worker: the parent's import path ([] when not given or unreadable)."""
    text = os.environ.get(SYS_PATH_VARIABLE)
    if not text:
        return []
    try:
        paths = json.loads(text)
    except ValueError:
        return []
    return [p for p in paths if p]


def helion_alias_mode() -> str | None:
    """In a worker: the ``internals`` mode of the parent's ``helion`` import alias, or None.

    A program run through the alias sends the workers functions and values of its own
    modules, which import ``helion``: unpickling them needs the alias, before the first job."""
    return os.environ.get(HELION_ALIAS_VARIABLE) or None


def preload_modules() -> list[str]:
    """In a worker: the modules to import before the first job."""
    return [name.strip() for name in os.environ.get(PRELOAD_VARIABLE, "").split(",") if name.strip()]
