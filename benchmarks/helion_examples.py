#!/usr/bin/env python3
"""deuteron vs Helion on Helion's own example programs, side by side in one run.

Each of Helion's examples (``examples/*.py`` of a Helion checkout, run through
its own ``main()``) runs twice, unchanged: once on deuteron (``import helion``
loads deuteron through the import alias) and once on Helion itself.  Every
``run_example(...)`` call an example makes is intercepted and handled by the same
code for both (benchmarks/_helion_example_child.py), so both are checked
against the example's baseline with the example's tolerances and timed with
the same ``do_bench`` (median, L2 flushed).

    python benchmarks/helion_examples.py --helion ../shared/helion --out /tmp/hx
    python benchmarks/helion_examples.py --only softmax,rms_norm --effort quick

Two phases keep the timings clean and the run short: *check* runs every
(implementation, example) pair in its own process, ``--jobs`` at a time (this
compiles every kernel and fills the compile caches; timings would be
disturbed, so none are taken), then *time* runs the examples that passed one
after the other, one process per implementation, with the GPU to itself.

Writes OUT/helion_examples.json (every record, per-example summaries, the
geometric means) and OUT/helion_examples.png (speedup per example over Helion
and over the example's baseline, usually torch eager / cuBLAS / SDPA), and
prints a table.  ``--effort none`` (default) compares untuned default configs:
``DEUTERON_AUTOTUNE_EFFORT`` and ``HELION_AUTOTUNE_EFFORT`` are set alike.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).resolve().parent / "_helion_example_child.py"
IMPLS = ("deuteron", "helion")

# Examples that need more than one Hopper GPU offers, or drive Helion's own
# tooling: the conformance runner's list.
sys.path.insert(0, str(ROOT / "scripts"))
from conformance import EXAMPLES_SET_APART as SET_APART  # noqa: E402


def child_env(impl: str, helion: Path, effort: str, concurrent: int = 1) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["DEUTERON_AUTOTUNE_EFFORT"] = effort
    env["HELION_AUTOTUNE_EFFORT"] = effort
    # Each tuning process starts one compile worker per CPU; with several examples
    # tuning at once that oversubscribes the machine and the first generation waits
    # on worker start-up, not on the kernel. The processes share the CPUs instead.
    share = str(max(2, (os.cpu_count() or 1) // max(1, concurrent)))
    for name in ("DEUTERON_AUTOTUNE_PRECOMPILE_JOBS", "HELION_AUTOTUNE_PRECOMPILE_JOBS"):
        env.setdefault(name, share)
    env["DEUTERON_EXAMPLES_DIR"] = str(helion / "examples")
    path = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if impl == "helion":
        path.insert(0, str(helion))  # `import helion` is Helion itself
    env["PYTHONPATH"] = os.pathsep.join(path)
    return env


def read_records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_child(impl: str, phase: str, examples: list[Path], records: Path, helion: Path, effort: str,
              timeout: float, log: Path, concurrent: int = 1) -> None:
    """Runs examples in one process; restarts after a crash or a timeout with the rest."""
    todo = list(examples)
    while todo:
        before = {r["example"] for r in read_records(records) if r["event"] == "end"}
        timed_out = False
        env = child_env(impl, helion, effort, concurrent)
        # deuteron's tuning log (every config's result and failure) beside the example's log
        env.setdefault("DEUTERON_AUTOTUNE_LOG", str(log.with_suffix(".tune.log")))
        with open(log, "a") as out:
            try:
                subprocess.run([sys.executable, str(CHILD), impl, phase, str(records), *map(str, todo)],
                               env=env, cwd=str(todo[0].parent), stdout=out,
                               stderr=subprocess.STDOUT, timeout=timeout * len(todo))
            except subprocess.TimeoutExpired:
                timed_out = True
        recs = read_records(records)
        ended = {r["example"] for r in recs if r["event"] == "end"} - before
        started = [r["example"] for r in recs if r["event"] == "start"]
        rest = [p for p in todo if p.stem not in ended]
        if rest:
            # The first unfinished one died (crash or timeout): record it, go on with the others.
            dead = rest[0].stem
            why = ("timed out" if timed_out else "process died (crash)") if dead in started \
                else "not started (timeout)"
            with open(records, "a") as f:
                f.write(json.dumps({"event": "end", "example": dead, "ok": False, "error": why}) + "\n")
            rest = rest[1:]
        todo = rest


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def summarize(check: dict[str, dict[str, dict]], timed: dict[str, list[dict]]) -> dict:
    examples: dict[str, dict] = {}
    names = sorted({e for impl in IMPLS for e in check[impl]})
    for ex in names:
        row: dict = {}
        for impl in IMPLS:
            end = check[impl].get(ex)
            row[impl] = {"ok": bool(end and end.get("ok")), "run": end is not None,
                         "error": (end or {}).get("error", "not run")}
        # Pair the time phase's calls of both implementations by (call index, kernel name).
        calls: dict[str, dict[int, dict]] = {impl: {r["call"]: r for r in timed[impl] if r["example"] == ex}
                                             for impl in IMPLS}
        vs_helion, vs_base, pairs = [], [], []
        for idx, d in sorted(calls["deuteron"].items()):
            h = calls["helion"].get(idx)
            base = min((d["times"][b] for b in d["baselines"] if b in d["times"]), default=None)
            for k in d["kernels"]:
                dk = d["times"].get(k)
                hk = h["times"].get(k) if h else None
                pair = {"call": idx, "kernel": k, "shapes": d.get("shapes"), "deuteron_ms": dk, "helion_ms": hk,
                        "baseline_ms": base}
                pairs.append(pair)
                if dk and hk:
                    vs_helion.append(hk / dk)
                if dk and base:
                    vs_base.append(base / dk)
        row["calls"] = pairs
        row["speedup_vs_helion"] = geomean(vs_helion)
        row["speedup_vs_baseline"] = geomean(vs_base)
        examples[ex] = row
    both = [r["speedup_vs_helion"] for r in examples.values() if r["speedup_vs_helion"]]
    base = [r["speedup_vs_baseline"] for r in examples.values() if r["speedup_vs_baseline"]]
    return {
        "examples": examples,
        "passed": {impl: sum(1 for r in examples.values() if r[impl]["ok"]) for impl in IMPLS},
        # Implementations with a record of any example (--impls may leave one out).
        "ran": [impl for impl in IMPLS if any(r[impl]["run"] for r in examples.values())],
        "run": len(examples),
        "geomean_vs_helion": geomean(both),
        "timed_both": len(both),
        "geomean_vs_baseline": geomean(base),
        "below_0.9x_helion": sorted(ex for ex, r in examples.items()
                                    if r["speedup_vs_helion"] and r["speedup_vs_helion"] < 0.9),
    }


def print_table(summary: dict) -> None:
    print(f"\n{'example':<34}{'deuteron':>10}{'helion':>8}{'vs helion':>11}{'vs baseline':>13}")
    for ex, r in summary["examples"].items():
        def mark(impl: str) -> str:
            return "-" if not r[impl]["run"] else "pass" if r[impl]["ok"] else "FAIL"
        sh = f"{r['speedup_vs_helion']:.2f}x" if r["speedup_vs_helion"] else "-"
        sb = f"{r['speedup_vs_baseline']:.2f}x" if r["speedup_vs_baseline"] else "-"
        print(f"{ex:<34}{mark('deuteron'):>10}{mark('helion'):>8}{sh:>11}{sb:>13}")
    gh, gb = summary["geomean_vs_helion"], summary["geomean_vs_baseline"]
    print("\npassed: " + ", ".join(f"{impl} {summary['passed'][impl]}" for impl in summary["ran"]) +
          f" of {summary['run']}")
    print(f"geometric mean speedup vs Helion over {summary['timed_both']} examples timed on both: "
          f"{gh:.3f}x" if gh else "no example timed on both")
    if gb:
        print(f"geometric mean speedup vs the examples' baselines: {gb:.3f}x")
    if summary["below_0.9x_helion"]:
        print("below 0.9x Helion:", ", ".join(summary["below_0.9x_helion"]))
    for ex, r in summary["examples"].items():
        if not r["deuteron"]["ok"]:
            print(f"deuteron FAIL {ex}: {r['deuteron']['error'][:300]}")


def plot(summary: dict, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    rows = [(ex, r["speedup_vs_helion"], r["speedup_vs_baseline"]) for ex, r in summary["examples"].items()
            if r["speedup_vs_helion"] or r["speedup_vs_baseline"]]
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(max(8, len(rows) * 0.45), 5))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r[1] or 0 for r in rows], width=0.4, label="vs Helion")
    ax.bar([x + 0.2 for x in xs], [r[2] or 0 for r in rows], width=0.4, label="vs the example's baseline")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(list(xs), [r[0] for r in rows], rotation=75, ha="right", fontsize=8)
    ax.set_ylabel("deuteron speedup (higher is better)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--helion", type=Path, default=ROOT.parent / "shared" / "helion",
                    help="a Helion checkout: its examples/ and its helion/ package")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "helion_examples")
    ap.add_argument("--only", help="comma-separated example names")
    ap.add_argument("--impls", default=",".join(IMPLS), help="deuteron,helion or one of them")
    ap.add_argument("--effort", default="none", choices=("none", "quick", "full"), help="autotuning effort, both")
    ap.add_argument("--jobs", type=int, default=8, help="check-phase processes at a time")
    ap.add_argument("--timeout", type=float, default=180, help="seconds per example and phase")
    ap.add_argument("--budget", type=float, default=0,
                    help="seconds for the whole run (0: none); the check phase gets 60%% of it, and what "
                         "does not fit is reported as not run")
    ap.add_argument("--work", type=Path, help="folder for the per-process records (default OUT/work)")
    ap.add_argument("--check-only", action="store_true",
                    help="check every example against its baseline, time nothing (the whole budget checks)")
    args = ap.parse_args(argv)
    helion = args.helion.resolve()
    impls = [i for i in args.impls.split(",") if i]
    args.out.mkdir(parents=True, exist_ok=True)
    paths = [p for p in sorted((helion / "examples").glob("*.py"))
             if not p.name.startswith("_") and p.stem not in SET_APART]
    if args.only:
        wanted = set(args.only.split(","))
        paths = [p for p in paths if p.stem in wanted]
    t0 = time.monotonic()
    work = args.work or args.out / "work"
    work.mkdir(parents=True, exist_ok=True)
    deadline = t0 + args.budget if args.budget else math.inf
    check_share = 1.0 if args.check_only else 0.6
    check_deadline = t0 + check_share * args.budget if args.budget else math.inf
    for f in work.glob("*"):
        f.unlink()

    # Phase 1: check, in parallel, one process per (implementation, example).
    def check_one(job: tuple[str, Path]) -> None:
        impl, p = job
        if time.monotonic() > check_deadline:
            return
        run_child(impl, "check", [p], work / f"check-{impl}-{p.stem}.jsonl", helion, args.effort, args.timeout,
                  work / f"check-{impl}-{p.stem}.log", concurrent=args.jobs)

    jobs = [(impl, p) for p in paths for impl in impls]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(check_one, jobs))
    check: dict[str, dict[str, dict]] = {impl: {} for impl in IMPLS}
    for impl, p in jobs:
        for r in read_records(work / f"check-{impl}-{p.stem}.jsonl"):
            if r["event"] == "end":
                check[impl][r["example"]] = r
    print(f"check phase: {time.monotonic() - t0:.0f} s", flush=True)

    # Phase 2: time the passing ones, one implementation at a time, the GPU to itself.
    timed: dict[str, list[dict]] = {impl: [] for impl in IMPLS}
    for impl in [] if args.check_only else impls:
        ok = [p for p in paths if check[impl].get(p.stem, {}).get("ok")]
        records = work / f"time-{impl}.jsonl"
        # Each implementation gets its share of what is left of the budget.
        share = (deadline - time.monotonic()) / (len(impls) - impls.index(impl))
        per_example = min(args.timeout, share / max(1, len(ok)))
        if per_example > 1:
            run_child(impl, "time", ok, records, helion, args.effort, per_example, work / f"time-{impl}.log")
        timed[impl] = [r for r in read_records(records) if r["event"] == "call"]
    print(f"time phase done: {time.monotonic() - t0:.0f} s", flush=True)

    summary = summarize(check, timed)
    summary["effort"] = args.effort
    summary["seconds"] = round(time.monotonic() - t0, 1)
    try:
        import torch
        import triton

        summary["versions"] = {"torch": torch.__version__, "triton": triton.__version__,
                               "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}
    except Exception:  # the versions are a courtesy
        pass
    (args.out / "helion_examples.json").write_text(json.dumps(summary, indent=1))
    print_table(summary)
    plot(summary, args.out / "helion_examples.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
