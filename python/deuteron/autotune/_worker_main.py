"""Entry point of an autotuning worker process (see workers.py): runs jobs until stdin closes."""

from __future__ import annotations

import importlib
import json
import os
import pickle
import struct
import sys
import time
import traceback

# The same framing as workers.py (kept here so that a worker starts without importing deuteron or torch).
_HEADER = struct.Struct("<Q")


def write_message(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exact(stream, n: int):
    chunks = []
    while n > 0:
        b = stream.read(n)
        if not b:
            return None
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def read_message(stream):
    head = _read_exact(stream, _HEADER.size)
    if head is None:
        raise EOFError("pipe closed")
    (n,) = _HEADER.unpack(head)
    data = _read_exact(stream, n)
    if data is None:
        raise EOFError("pipe closed mid-message")
    return pickle.loads(data)


def _setup_path() -> None:
    # Started as a script (so that `deuteron` and torch are not imported before a job needs them):
    # its folder is not meant to be on the path.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    extra = os.environ.get("DEUTERON_WORKER_SYS_PATH")
    if not extra:
        return
    try:
        paths = json.loads(extra)
    except ValueError:
        return
    for p in reversed(paths):
        if p and p not in sys.path:
            sys.path.insert(0, p)


def _resolve(target: str):
    module, _, name = target.partition(":")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def main() -> None:
    # Messages go over the original stdout; anything the jobs print goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inp = sys.stdin.buffer
    _setup_path()
    # Heavy imports (torch, triton) before the first job, so that they do not count against its timeout.
    for name in filter(None, os.environ.get("DEUTERON_WORKER_PRELOAD", "").split(",")):
        try:
            importlib.import_module(name.strip())
        except Exception:  # noqa: BLE001 - the job that needs it reports the error
            pass
    write_message(out, ("ready",))

    while True:
        try:
            job_id, target, args, kwargs = read_message(inp)
        except EOFError:
            return
        start = time.monotonic()
        try:
            value = _resolve(target)(*args, **kwargs)
            msg = (job_id, True, value, time.monotonic() - start)
        except BaseException as e:  # noqa: BLE001 - every failure is reported to the parent
            msg = (job_id, False, (type(e).__name__, str(e)[:4000], traceback.format_exc()[-8000:]),
                   time.monotonic() - start)
        try:
            write_message(out, msg)
        except Exception as e:  # e.g. an unpicklable return value
            write_message(out, (job_id, False, ("PicklingError", str(e), ""), time.monotonic() - start))


if __name__ == "__main__":
    main()
