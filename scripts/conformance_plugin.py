"""pytest plugin of scripts/conformance.py: runs Helion's test files against deuteron.

Loaded with ``-p conformance_plugin``.  It installs the ``helion`` import alias
(internals as placeholders, see deuteron.compat.helion_alias) before pytest
imports any test file, and appends one JSON line per test outcome to the file
named by $DEUTERON_CONFORMANCE_OUT:

    {"test": node id, "outcome": "passed"|"failed"|"skipped", "reason": text,
     "origin": "deuteron"|"test"}   (failures only)

"origin" says whether the exception passed through deuteron's code (its package
or a module it generated) or came from the test's own code alone (its PyTorch
reference, a Triton kernel it launches, torch.accelerator calls).  The runner
classifies the reasons (code-text, helion-internal, back end, needs a GPU, ...).
Lines are written as tests finish, so a crash or a timeout loses nothing
already run; a "collected" line comes first with every test's id.
"""

from __future__ import annotations

import json
import os
import signal
from typing import Any

import pytest

import deuteron.compat

deuteron.compat.install_helion_alias(internals="placeholder")

_OUT = os.environ.get("DEUTERON_CONFORMANCE_OUT")
# Seconds one test may run before it fails as timed out (0: no limit), so that
# one slow or hanging test costs only itself, not the rest of its file.
_TEST_TIMEOUT = float(os.environ.get("DEUTERON_CONFORMANCE_TEST_TIMEOUT", "0") or 0)


# Where deuteron writes the modules it generates (the runner sets it).
_CACHE = os.environ.get("DEUTERON_CACHE_DIR", "")


class TestTimedOut(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise TestTimedOut(f"did not finish: the test timed out after {_TEST_TIMEOUT:.0f} s")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: Any) -> Any:
    if _TEST_TIMEOUT <= 0 or not hasattr(signal, "setitimer"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, _TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _through_deuteron(excinfo: Any) -> bool:
    """Whether any frame of the exception's traceback is deuteron's: its package or a generated module."""
    if excinfo is None:
        return False
    for entry in excinfo.traceback:
        path = str(entry.path)
        if _CACHE and path.startswith(_CACHE):
            return True
        if f"{os.sep}deuteron{os.sep}" in path or f"{os.sep}deuteron-" in path or path.startswith("<deuteron"):
            return True
    return False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    report.deuteron_origin = _through_deuteron(call.excinfo)


def _write(record: dict[str, Any]) -> None:
    if _OUT:
        with open(_OUT, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def pytest_collection_finish(session: Any) -> None:
    # After -k / -m deselection: only the tests that will run.
    _write({"collected": [item.nodeid for item in session.items]})


def pytest_collectreport(report: Any) -> None:
    # A test file that cannot even be imported: one record for the whole file.
    if report.failed:
        _write({"test": report.nodeid, "outcome": "error", "reason": _failure_reason(report)})
    elif report.skipped:
        _write({"test": report.nodeid, "outcome": "skipped", "reason": _skip_reason(report)})


def _skip_reason(report: Any) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _failure_reason(report: Any) -> str:
    """The failure's last line (the exception's type and message), as pytest summarizes it."""
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message[:2000]
    lines = str(report.longrepr).strip().splitlines()
    return (lines[-1] if lines else "")[:2000]


def pytest_runtest_logreport(report: Any) -> None:
    if report.when == "call" or (report.when == "setup" and not report.passed) or (
            report.when == "teardown" and report.failed):
        if report.passed:
            if report.when == "call":
                _write({"test": report.nodeid, "outcome": "passed", "reason": ""})
        elif report.skipped:
            reason = _skip_reason(report)
            if hasattr(report, "wasxfail"):
                reason = f"xfail: {report.wasxfail}"
            _write({"test": report.nodeid, "outcome": "skipped", "reason": reason})
        else:
            origin = "deuteron" if getattr(report, "deuteron_origin", True) else "test"
            _write({"test": report.nodeid, "outcome": "failed", "reason": _failure_reason(report), "origin": origin})
