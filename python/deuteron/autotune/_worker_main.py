"""Entry point of an autotuning worker process (see workers.py): runs jobs until stdin closes."""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback


def _setup_path() -> None:
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
    from deuteron.autotune.workers import read_message, write_message

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
