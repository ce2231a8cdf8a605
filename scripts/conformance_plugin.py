"""pytest plugin of scripts/conformance.py: runs Helion's test files against deuteron.

Loaded with ``-p conformance_plugin``.  It installs the ``helion`` import alias
(internals as placeholders, see deuteron.compat.helion_alias) before pytest
imports any test file, and appends one JSON line per test outcome to the file
named by $DEUTERON_CONFORMANCE_OUT:

    {"test": node id, "outcome": "passed"|"failed"|"skipped", "reason": text}

The runner classifies the reasons (code-text, helion-internal, back end, ...).
Lines are written as tests finish, so a crash or a timeout loses nothing
already run; a "collected" line comes first with every test's id.
"""

from __future__ import annotations

import json
import os
from typing import Any

import deuteron.compat

deuteron.compat.install_helion_alias(internals="placeholder")

_OUT = os.environ.get("DEUTERON_CONFORMANCE_OUT")


def _write(record: dict[str, Any]) -> None:
    if _OUT:
        with open(_OUT, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    _write({"collected": [item.nodeid for item in items]})


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
            _write({"test": report.nodeid, "outcome": "failed", "reason": _failure_reason(report)})
