#!/usr/bin/env python3
"""Conformance: Helion's own test files and examples, run unchanged on deuteron.

deuteron promises that a Helion program runs after changing its import lines.
This runner holds it to that on Helion's corpus (``../shared/helion`` beside the
checkout, or ``--helion DIR``): every file runs unchanged through an import
alias (``import helion`` loads deuteron: deuteron.compat.helion_alias).

    python scripts/conformance.py                       # tests, interpret mode (CPU)
    python scripts/conformance.py --mode triton-interpret
    python scripts/conformance.py --mode gpu --examples # on a machine with a GPU
    python scripts/conformance.py --files test_loops.py test_views.py -v
    python scripts/conformance.py --check-floor          # CI: fail if fewer pass than before

Each test ends in one of:
  passed / failed / skipped (the test's own conditions: needs a GPU, ...) /
  n/a: code-text (an assertion about Helion's generated code text),
  n/a: helion-internal (uses Helion's internal classes: its compiler, autotuner, printer),
  n/a: back end (written for another of Helion's back ends or platforms).
The pass rate is passed / (passed + failed).  Test files that are about other
back ends or Helion's internals as a whole are listed apart and not run.

Output: a per-file table, the most common failure causes, and a JSON report
(--json).  The floor (scripts/conformance_floor.json) holds the fewest passing
tests per file and mode that CI accepts; --update-floor raises it to today's counts.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR_FILE = ROOT / "scripts" / "conformance_floor.json"
MODES = {
    # mode: environment for the child processes
    "interpret": {"DEUTERON_INTERPRET": "1"},
    "triton-interpret": {"TRITON_INTERPRET": "1"},
    "gpu": {},
}

# Helion's test files about its language: the conformance corpus.
LANGUAGE_TESTS = [
    "associative_scan", "atomic_ops", "autodiff", "barrier", "bound_kernel", "breakpoint", "broadcasting",
    "cache_modifier", "closures", "constexpr", "control_flow", "custom_op", "dot", "dot_scaled",
    "epilogue_subtiling", "errors", "eviction_policy", "examples", "graph_module", "grid", "indexing",
    "inline_asm_elementwise", "inline_triton", "int64_indexing", "jagged_tile", "loop_dependencies", "loops",
    "masking", "matmul", "misc", "persistent_kernels", "print", "quantized_ops", "random", "reduce",
    "reductions", "register_tunable", "rng", "specialize", "stack_tensor", "tensor_descriptor",
    "torch_compile", "triton_kernel", "type_propagation", "unroll_tuples", "views", "zero_size",
]
# The rest, with why they are not part of it.
SET_APART = [
    (re.compile(r"test_(cute_.*|pallas.*|metal.*|tileir|amd_cdna|deep_ab_staging|pretuned_.*pallas.*)\.py"),
     "another of Helion's back ends or platforms"),
    (re.compile(r"test_(distributed|examples_dist|remote_copy)\.py"), "multi-GPU (distributed) programs"),
    (re.compile(r"test_.*\.py"), "Helion-internal APIs (its autotuner, caches, printer, dispatch, settings internals)"),
]

# Examples that need hardware or libraries beyond one Hopper GPU.
EXAMPLES_SET_APART = {
    "blackwell_attention": "needs a Blackwell GPU",
    "nvfp4_gemm": "needs a Blackwell GPU (fp4)",
    "nvfp4_gemv": "needs a Blackwell GPU (fp4)",
    "aot_example": "drives Helion's AOT autotuning workflow",
    "aot_compile_example": "drives Helion's AOT autotuning workflow",
}


def set_apart_reason(filename: str) -> str:
    """Why a test file that is not in LANGUAGE_TESTS is not run."""
    return next(why for rx, why in SET_APART if rx.fullmatch(filename))


def classify_skip(reason: str) -> str:
    if reason.startswith("code-text:"):
        return "n/a: code-text"
    if reason.startswith("helion-internal:"):
        return "n/a: helion-internal"
    if reason.startswith(("back end:", "platform:")) or "reference-eager" in reason:
        return "n/a: back end"
    return "skipped"


_PRIVATE_ATTR = re.compile(r"AttributeError: .*(module 'deuteron[.\w]*'|object|\b[A-Z]\w*) has no attribute '_\w+'")


# Failures that say the test itself needs what this machine lacks, or that it
# checks something other than deuteron's behaviour.  Each rule: the failure text,
# the modes it applies to (None: every mode), whether the exception must come
# from the test's own code alone (no deuteron frame on its way: a GPU-only call
# deuteron made would be deuteron's failure), the category, and why.
_RECLASSIFY = [
    # A test written for another of Helion's back ends: deuteron's errors for what
    # belongs to one (a `backend` setting or HELION_BACKEND naming it, a kernel
    # decorated for it, its config keys or output options) all say this.
    (re.compile(r"deuteron generates Triton code\b"), None, False,
     "n/a: back end", "back end: written for another of Helion's back ends"),
    # Helion's torch.compile tests compare, after checking the results, how many
    # Triton kernels Inductor generates for the plain-PyTorch reference function.
    # On the CPU Inductor generates C++ for it, so that count is 0 whatever
    # deuteron does: the assertion needs a GPU, like Helion's own GPU-only tests.
    (re.compile(r"Ref baseline: expected \d+ triton kernel\(s\), got 0\b"), ("interpret", "triton-interpret"), False,
     "skipped", "needs a GPU: counts Inductor's Triton kernels for the PyTorch reference"),
    # The test calls torch.accelerator / torch.cuda itself (synchronize, seeds on
    # the current accelerator, device properties): it cannot run without a GPU.
    (re.compile(r"Cannot access accelerator device when none is available"
                r"|prims::inductor_seeds\(\) Expected a value of type 'Device' for argument 'device' but instead found type 'NoneType'"
                r"|Torch not compiled with CUDA enabled"),
     ("interpret", "triton-interpret"), True, "skipped", "needs a GPU: the test calls torch.accelerator/torch.cuda itself"),
    # The runner sets the interpret mode's variable for every test, so deuteron
    # refusing CPU tensors means the test turned it off (test_print runs each
    # kernel once without TRITON_INTERPRET): that run needs a GPU.
    (re.compile(r"deuteron kernels run on CUDA tensors, got tensors on cpu"), ("interpret", "triton-interpret"), False,
     "skipped", "needs a GPU: the test turns the interpret mode off"),
    # The test's own PyTorch reference uses an operator with no CPU kernel
    # (torch.bmm(..., out_dtype=...)).
    (re.compile(r"Could not run 'aten::[\w.]+' with arguments from the 'CPU' backend"), ("interpret", "triton-interpret"),
     True, "skipped", "needs a GPU: the test's own PyTorch reference has no CPU kernel"),
    # The test launches a @triton.jit reference kernel of its own: that needs a
    # GPU or Triton's interpreter (the triton-interpret mode runs it).
    (re.compile(r"\b0 active drivers \(\[\]\)"), ("interpret",), True,
     "skipped", "needs a GPU or TRITON_INTERPRET: the test launches a Triton kernel of its own"),
    # An assertion on the generated code's text, made by a helper of the test
    # module rather than assertIn/assertExpectedJournal (which the plugin sees).
    (re.compile(r"Philox round constants not found in generated code"), None, False,
     "n/a: code-text", "code-text: looks for Helion's inlined Philox constants in the generated code"),
    # test_persistent_kernels' grid-size test parses Helion's `_launcher(kernel, grid, ...)` calls.
    (re.compile(r"Could not find grid size in \w+ code"), None, False,
     "n/a: code-text", "code-text: parses Helion's `_launcher(...)` call in the generated code"),
    # test_loops' derived-tile-edge test looks for Helion's variable `symnode_0 = ` in the code.
    (re.compile(r"no rendered bound in:"), None, False,
     "n/a: code-text", "code-text: looks for Helion's `symnode_0 = ` line in the generated code"),
    # bound.env is Helion's CompileEnvironment (its compiler's state).
    (re.compile(r"'BoundKernel' object has no attribute 'env'"), None, False,
     "n/a: helion-internal", "helion-internal: bound.env (Helion's CompileEnvironment)"),
]


def reclassify(reason: str, mode: str, origin: str = "test") -> tuple[str, str] | None:
    """(category, why) for a failure that is not deuteron's, else None."""
    for rx, modes, test_only, category, why in _RECLASSIFY:
        if (modes is None or mode in modes) and (not test_only or origin == "test") and rx.search(reason):
            return category, why
    return None


def classify_failure(reason: str, mode: str = "gpu", origin: str = "test") -> str:
    # A test patching or reading a private name of Helion's modules uses its internals.
    if _PRIVATE_ATTR.search(reason) or "helion-internal:" in reason:
        return "n/a: helion-internal"
    found = reclassify(reason, mode, origin)
    return found[0] if found else "failed"


_NUMBERS = re.compile(r"\b\d+(\.\d+)?(e[-+]?\d+)?\b|0x[0-9a-fA-F]+")


def failure_cause(reason: str) -> str:
    """A short, size-free form of a failure, so that equal causes group together."""
    lines = [ln for ln in reason.strip().splitlines() if ln.strip()]
    # deuteron's compile errors: "file:line:col: error: message" then the source; keep the message.
    for ln in lines:
        m = re.search(r":\d+:\d+: error: (.*)", ln)
        if m:
            return "CompileError: " + _NUMBERS.sub("N", m.group(1))[:140]
    head = lines[0] if lines else "(no message)"
    return _NUMBERS.sub("N", head)[:160]


@dataclass
class FileResult:
    name: str
    collected: int = 0
    outcomes: collections.Counter = field(default_factory=collections.Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (test, reason)
    skips: list[tuple[str, str, str]] = field(default_factory=list)  # (test, category, reason)
    note: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {"file": self.name, "collected": self.collected, "outcomes": dict(self.outcomes),
                "failures": [{"test": t, "reason": r} for t, r in self.failures],
                "skips": [{"test": t, "category": c, "reason": r} for t, c, r in self.skips],
                "note": self.note, "seconds": round(self.seconds, 1)}


def child_env(mode: str, helion: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("DEUTERON_INTERPRET", "TRITON_INTERPRET"):
        env.pop(var, None)
    env.update(MODES[mode])
    env["DEUTERON_EXAMPLES_DIR"] = str(helion / "examples")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "scripts"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("DEUTERON_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"deuteron-conformance-{os.getuid()}"))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run_pytest_round(path: Path, mode: str, helion: Path, timeout: float, keyword: str | None,
                      test_timeout: float, deselect: list[str]) -> tuple[list[dict], str, str]:
    """One pytest process over ``path`` less ``deselect``: (its records, a note when it
    crashed or timed out, the tail of its output)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.jsonl"
        ini = Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\n")  # not Helion's settings (its plugins, timeouts)
        env = child_env(mode, helion)
        env["DEUTERON_CONFORMANCE_OUT"] = str(out)
        env["DEUTERON_CONFORMANCE_TEST_TIMEOUT"] = str(test_timeout)
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "conformance_plugin", "-p", "no:cacheprovider",
               "-c", str(ini), "--rootdir", str(helion), "-o", "python_files=test_*.py", str(path)]
        if keyword:
            cmd += ["-k", keyword]
        for test in deselect:
            cmd += ["--deselect", test]
        note = ""
        try:
            proc = subprocess.run(cmd, env=env, cwd=str(helion), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=timeout, text=True, errors="replace")
            tail = proc.stdout[-3000:]
            if proc.returncode not in (0, 1, 5):
                note = f"pytest exited with {proc.returncode}"
        except subprocess.TimeoutExpired as e:
            note = f"timed out after {timeout:.0f} s"
            tail = (e.stdout or "")[-3000:] if isinstance(e.stdout, str) else ""
        records = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    return records, note, tail


# How many times a file's tests resume after a crash or a timeout, each time
# without the tests already reported and the one that was running.
MAX_RESUMES = 12


def run_test_file(path: Path, mode: str, helion: Path, timeout: float, keyword: str | None,
                  test_timeout: float = 0) -> FileResult:
    """Runs one test file.  A test that crashes the process (a segfault in Triton's
    interpreter on an out-of-bounds pointer, say) or a file that runs past its time
    does not take the rest of the file with it: the test that was running is
    reported as not finished, and the file resumes without it and without the
    tests already reported."""
    result = FileResult(path.name)
    start = time.monotonic()
    collected: list[str] = []
    seen: set[str] = set()
    notes: list[str] = []
    deselect: list[str] = []
    exhausted = False
    for _round in range(MAX_RESUMES + 1):
        records, note, tail = _run_pytest_round(path, mode, helion, timeout, keyword, test_timeout, deselect)
        # A test with subtests reports once per subtest, each counted; only a test
        # an earlier round reported is not counted again.
        earlier = set(seen)
        for rec in records:
            if "collected" in rec:
                collected = collected or rec["collected"]
                continue
            test, outcome, reason = rec["test"], rec["outcome"], rec["reason"]
            if test in earlier:
                continue
            if outcome == "passed":
                cat = "passed"
            elif outcome == "skipped":
                cat = classify_skip(reason)
            else:
                cat = classify_failure(reason, mode, rec.get("origin", "deuteron"))
            if outcome == "error" and test.endswith(".py"):
                result.note = result.note or "cannot be imported"
            seen.add(test)
            result.outcomes[cat] += 1
            if cat == "failed":
                result.failures.append((test, reason))
            elif cat != "passed":
                found = reclassify(reason, mode, rec.get("origin", "deuteron")) if outcome != "skipped" else None
                result.skips.append((test, cat, f"{found[1]} ({reason.splitlines()[0][:120]})" if found else reason))
        missing = [t for t in collected if t not in seen]
        if not missing or not note:
            if note:  # every test reported, yet the process failed (as before resumes)
                notes.append(note)
            break
        # The first test that never reported was running when the process died.
        culprit = missing[0]
        last = tail.strip().splitlines()[-1][:200] if tail.strip() else ""
        notes.append(f"{note} in {culprit.rsplit('::', 1)[-1]}")
        seen.add(culprit)
        result.outcomes["failed"] += 1
        result.failures.append((culprit, f"did not finish: {note}" + (f" ({last})" if last else "")))
        deselect = sorted(seen)
    else:
        exhausted = True
    if notes:
        result.note = "; ".join(notes[:2]) + (f"; +{len(notes) - 2} more" if len(notes) > 2 else "")
    result.seconds = time.monotonic() - start
    result.collected = len(collected)
    missing = [t for t in collected if t not in seen]
    if missing:
        # Tests that never reported: the resumes ran out, or the process ended
        # without them and without a failure status.
        why = f"not run: {MAX_RESUMES} resumes used" if exhausted else "the test process died (crash)"
        result.note = result.note or why
        result.outcomes["failed"] += len(missing)
        result.failures.extend((t, f"did not finish: {why}") for t in missing)
    if not collected and not seen:
        result.note = result.note or "no tests collected"
    return result


def run_example(path: Path, mode: str, helion: Path, timeout: float) -> FileResult:
    result = FileResult(path.stem)
    result.collected = 1
    if path.stem in EXAMPLES_SET_APART:
        result.outcomes["n/a: back end"] += 1
        result.note = EXAMPLES_SET_APART[path.stem]
        return result
    code = ("import deuteron.compat, runpy, sys; deuteron.compat.install_helion_alias(); "
            f"sys.argv = [{str(path)!r}]; runpy.run_path({str(path)!r}, run_name='__main__')")
    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-c", code], env=child_env(mode, helion), cwd=str(path.parent),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, text=True,
                              errors="replace")
        ok = proc.returncode == 0
        tail = proc.stdout.strip().splitlines()
        reason = "" if ok else (tail[-1] if tail else f"exit code {proc.returncode}")
    except subprocess.TimeoutExpired:
        ok, reason = False, f"timed out after {timeout:.0f} s"
    result.seconds = time.monotonic() - start
    if ok:
        result.outcomes["passed"] += 1
    else:
        result.outcomes["failed"] += 1
        result.failures.append((path.stem, reason[:2000]))
    return result


CATEGORIES = ["passed", "failed", "skipped", "n/a: code-text", "n/a: helion-internal", "n/a: back end"]


def print_table(title: str, results: list[FileResult], top: int) -> dict:
    print(f"\n## {title}\n")
    header = f"{'file':<34}{'tests':>6}{'pass':>6}{'fail':>6}{'skip':>6}{'n/a':>6}{'s':>7}  note"
    print(header)
    print("-" * len(header))
    totals = collections.Counter()
    for r in results:
        na = sum(v for k, v in r.outcomes.items() if k.startswith("n/a"))
        print(f"{r.name:<34}{r.collected:>6}{r.outcomes['passed']:>6}{r.outcomes['failed']:>6}"
              f"{r.outcomes['skipped']:>6}{na:>6}{r.seconds:>7.0f}  {r.note}")
        totals.update(r.outcomes)
        totals["collected"] += r.collected
    applicable = totals["passed"] + totals["failed"]
    rate = totals["passed"] / applicable if applicable else 0.0
    print("-" * len(header))
    print(f"{'total':<34}{totals['collected']:>6}{totals['passed']:>6}{totals['failed']:>6}{totals['skipped']:>6}"
          f"{sum(v for k, v in totals.items() if k.startswith('n/a')):>6}")
    print(f"\npassed {totals['passed']} of {applicable} applicable ({rate:.1%}); "
          + ", ".join(f"{k} {totals[k]}" for k in CATEGORIES[2:] if totals[k]))
    causes = collections.Counter(failure_cause(reason) for r in results for _, reason in r.failures)
    if causes:
        print(f"\ntop failure causes ({len(causes)} distinct):")
        for cause, n in causes.most_common(top):
            print(f"{n:>5}  {cause}")
    return {"totals": dict(totals), "applicable": applicable, "pass_rate": rate,
            "causes": causes.most_common()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--helion", type=Path, default=ROOT.parent / "shared" / "helion",
                    help="Helion's corpus (default: ../shared/helion beside the checkout)")
    ap.add_argument("--mode", choices=sorted(MODES), default="interpret")
    ap.add_argument("--tests", action="store_true", help="run the test files (default when --examples is absent)")
    ap.add_argument("--examples", action="store_true", help="run the examples through their main()")
    ap.add_argument("--files", nargs="*", help="only these test files / examples (names or stems)")
    ap.add_argument("-k", dest="keyword", help="pytest -k expression for the test files")
    ap.add_argument("--jobs", type=int, default=2, help="files run at once")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per test file or example")
    ap.add_argument("--test-timeout", type=float, default=120,
                    help="seconds one test may run before it fails as timed out (0: no limit)")
    ap.add_argument("--top", type=int, default=25, help="failure causes to list")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every failing test with its reason")
    ap.add_argument("--json", type=Path, help="write the full report here")
    ap.add_argument("--check-floor", action="store_true", help="exit 1 if fewer tests pass than the floor")
    ap.add_argument("--update-floor", action="store_true", help="raise the floor to this run's counts")
    ap.add_argument("--floor", type=Path, default=FLOOR_FILE, help="the floor file (default %(default)s)")
    args = ap.parse_args(argv)

    helion = args.helion.resolve()
    if not (helion / "test").is_dir():
        print(f"conformance: Helion's corpus is not at {helion} (pass --helion DIR); nothing to run")
        return 0
    run_tests = args.tests or not args.examples
    wanted = {Path(f).stem for f in args.files} if args.files else None
    report: dict = {"mode": args.mode, "helion": str(helion)}

    if run_tests:
        files, apart = [], []
        for path in sorted((helion / "test").glob("test_*.py")):
            if wanted is not None:  # files asked for by name run whatever their kind
                if path.stem in wanted or path.stem.removeprefix("test_") in wanted:
                    files.append(path)
            elif path.stem.removeprefix("test_") in LANGUAGE_TESTS:
                files.append(path)
            else:
                apart.append((path.name, set_apart_reason(path.name)))
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            results = list(pool.map(lambda p: run_test_file(p, args.mode, helion, args.timeout, args.keyword, args.test_timeout), files))
        summary = print_table(f"Helion's language tests, mode {args.mode}", results, args.top)
        if args.verbose:
            for r in results:
                for test, reason in r.failures:
                    print(f"FAIL {test}: {reason.strip().splitlines()[0] if reason.strip() else ''}")
        print(f"\nset apart ({len(apart)} files): " + "; ".join(
            f"{why}: {n}" for why, n in collections.Counter(why for _, why in apart).items()))
        report["tests"] = {"summary": summary, "files": [r.to_json() for r in results],
                           "set_apart": [{"file": f, "why": w} for f, w in apart]}

    if args.examples:
        paths = [p for p in sorted((helion / "examples").glob("*.py")) if not p.name.startswith("_")]
        if wanted is not None:
            paths = [p for p in paths if p.stem in wanted]
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            results = list(pool.map(lambda p: run_example(p, args.mode, helion, args.timeout), paths))
        summary = print_table(f"Helion's examples, mode {args.mode}", results, args.top)
        for r in results:
            for _, reason in r.failures:
                print(f"FAIL example {r.name}: {reason.strip()[:200]}")
        report["examples"] = {"summary": summary, "files": [r.to_json() for r in results]}

    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return check_floor(report, args) if (args.check_floor or args.update_floor) else 0


def check_floor(report: dict, args: argparse.Namespace) -> int:
    """Per file and mode: fewer passing tests than the floor fails; --update-floor raises it.

    The floor is kept per file (key ``tests/<mode>/<file>``), so that CI can hold a
    subset (``--files``) to it and a run of everything checks every file.
    """
    floor = json.loads(args.floor.read_text()) if args.floor.exists() else {}
    status = 0
    if args.keyword:
        print("conformance: -k runs part of a file; the floor is not checked")
        return 0
    for part in ("tests", "examples"):
        for f in report.get(part, {}).get("files", []):
            key = f"{part}/{args.mode}/{f['file']}"
            passed = f["outcomes"].get("passed", 0)
            least = floor.get(key, 0)
            if args.update_floor and passed > least:
                floor[key] = passed
                print(f"floor {key}: {least} -> {passed}")
            elif passed < least:
                print(f"conformance: {key}: {passed} tests pass, fewer than the floor of {least}")
                for failure in f["failures"][:20]:
                    print(f"  FAIL {failure['test']}: {failure['reason'].strip()[:300]}")
                status = 1
            elif not args.update_floor:
                print(f"conformance: {key}: {passed} pass (floor {least})")
    if args.update_floor:
        args.floor.write_text(json.dumps(floor, indent=1, sort_keys=True) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
