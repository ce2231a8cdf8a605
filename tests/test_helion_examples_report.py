"""benchmarks/helion_examples.py's summary and table (no GPU: synthetic records)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "helion_examples.py"


def _module():
    spec = importlib.util.spec_from_file_location("helion_examples", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _end(example, ok, error=""):
    return {"event": "end", "example": example, "ok": ok, "error": error}


def test_an_implementation_left_out_is_not_reported_as_failing(capsys):
    hx = _module()
    check = {"deuteron": {"se_block": _end("se_block", True), "softmax": _end("softmax", False, "boom")},
             "helion": {}}
    summary = hx.summarize(check, {"deuteron": [], "helion": []})
    assert summary["ran"] == ["deuteron"]
    hx.print_table(summary)
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith(("se_block", "softmax"))}
    assert rows["se_block"][:2] == ["pass", "-"] and rows["softmax"][:2] == ["FAIL", "-"]
    assert "passed: deuteron 1 of 2" in out and "helion" not in out.split("passed:")[1].splitlines()[0]
    assert "deuteron FAIL softmax: boom" in out


def test_both_implementations_with_a_helion_failure(capsys):
    hx = _module()
    check = {"deuteron": {"se_block": _end("se_block", True)}, "helion": {"se_block": _end("se_block", False, "smem")}}
    summary = hx.summarize(check, {"deuteron": [], "helion": []})
    hx.print_table(summary)
    out = capsys.readouterr().out
    assert [line.split()[1:3] for line in out.splitlines() if line.startswith("se_block")] == [["pass", "FAIL"]]
    assert "passed: deuteron 1, helion 0 of 1" in out
