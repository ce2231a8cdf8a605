"""Entry point of an autotuning worker process (see workers.py): runs jobs until stdin closes.

Started as a script, so that nothing of deuteron (nor torch) is imported before
the parent's import path is in place; worker_protocol.py, which the pool uses
too, is therefore loaded from its file here rather than imported as part of
the package.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pickle
import sys
import time
import traceback

_HERE = os.path.dirname(os.path.abspath(__file__))


def _load_protocol():
    spec = importlib.util.spec_from_file_location("_deuteron_worker_protocol",
                                                  os.path.join(_HERE, "worker_protocol.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


protocol = _load_protocol()


def _setup_path() -> None:
    # This script's folder is on the path only because it was started as a script.
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
    for p in reversed(protocol.parent_sys_path()):
        if p not in sys.path:
            sys.path.insert(0, p)


def main() -> None:
    # Messages go over the original stdout; anything the jobs print goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inp = sys.stdin.buffer
    _setup_path()
    alias = protocol.helion_alias_mode()
    if alias is not None:
        # Before the first message: its arguments may unpickle only through the alias.
        protocol.resolve(protocol.HELION_ALIAS_INSTALLER)(internals=alias)
    # Heavy imports (torch, triton) before the first job, so that they do not count against its timeout.
    for name in protocol.preload_modules():
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the job that needs it reports the error
            pass
    protocol.write_message(out, protocol.READY)

    while True:
        try:
            job_id, target, payload = protocol.read_message(inp)
        except EOFError:
            return
        start = time.monotonic()
        try:
            args, kwargs = pickle.loads(payload)  # inside the job: a failure is the job's error
            value = protocol.resolve(target)(*args, **kwargs)
            msg = (job_id, True, value, time.monotonic() - start)
        except BaseException as e:  # noqa: BLE001 - every failure is reported to the parent
            msg = (job_id, False, (type(e).__name__, str(e)[:4000], traceback.format_exc()[-8000:]),
                   time.monotonic() - start)
        try:
            protocol.write_message(out, msg)
        except Exception as e:  # e.g. an unpicklable return value
            protocol.write_message(out, (job_id, False, ("PicklingError", str(e), ""), time.monotonic() - start))


if __name__ == "__main__":
    main()
