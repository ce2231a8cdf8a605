#!/usr/bin/env python3
"""Golden tests: run deuteronc on each input file under a directory (and its
subdirectories) and compare with the checked-in expectation.

Inputs are kernel files (.py) and IR text (.ir, for `--run-pass`).  Each names
its runs in header comments:

    # RUN[ir]: --function add --args x:float32[1000],y:float32[1000] --dump=ir
    # RUN[triton]: --function add --args x:float32[1000],y:float32[1000]
    # RUN[rolled]: --run-pass=reduction_rolling --reduction-loops=16

and run NAME's expected output (stdout, then stderr and the exit code when
non-zero) lives beside the input in <file stem>.<NAME>.expected.

    run_golden.py DEUTERONC DIR [--update] [filter]
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import subprocess
import sys

RUN = re.compile(r"^#\s*RUN\[(?P<name>[\w.-]+)\]:\s*(?P<args>.*)$")


def run_one(deuteronc: str, path: str, args: str) -> str:
    proc = subprocess.run([deuteronc, path, *shlex.split(args)], capture_output=True, text=True, timeout=60)
    out = proc.stdout
    if proc.returncode != 0:
        out += f"--- stderr ---\n{proc.stderr}--- exit code {proc.returncode} ---\n"
    # Paths differ between machines: keep only the file name.
    return out.replace(os.path.dirname(os.path.abspath(path)) + os.sep, "")


def main() -> int:
    argv = [a for a in sys.argv[1:] if not a.startswith("--")]
    update = "--update" in sys.argv
    deuteronc, golden = argv[0], os.path.abspath(argv[1])
    flt = argv[2] if len(argv) > 2 else ""
    failures = 0
    count = 0
    inputs = []
    for root, dirs, files in os.walk(golden):
        dirs.sort()
        for fname in sorted(files):
            if fname.endswith((".py", ".ir")):
                inputs.append(os.path.relpath(os.path.join(root, fname), golden))
    for fname in inputs:
        if flt not in fname:
            continue
        path = os.path.join(golden, fname)
        with open(path) as f:
            runs = [m.groupdict() for line in f if (m := RUN.match(line.strip()))]
        if not runs:
            print(f"warning: {fname} has no RUN lines")
        for r in runs:
            count += 1
            got = run_one(deuteronc, path, r["args"])
            exp_path = os.path.join(golden, f"{os.path.splitext(fname)[0]}.{r['name']}.expected")
            if update:
                with open(exp_path, "w") as f:
                    f.write(got)
                continue
            if not os.path.exists(exp_path):
                print(f"FAIL {fname}[{r['name']}]: missing {exp_path} (run with --update)")
                failures += 1
                continue
            with open(exp_path) as f:
                want = f.read()
            if got != want:
                failures += 1
                print(f"FAIL {fname}[{r['name']}]")
                sys.stdout.writelines(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                                           "expected", "got"))
    print(f"{count - failures}/{count} golden runs passed" + (" (updated)" if update else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
