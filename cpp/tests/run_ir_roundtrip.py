#!/usr/bin/env python3
"""The IR text round trip, on every golden kernel and every example.

For each kernel (every RUN line of the golden and pass tests that compiles a
.py file, and every kernel of examples/ with the configs below), deuteronc
dumps the IR after each lowering stage.  Each dump must

  * read back unchanged: `--run-pass=verify` prints exactly its input, and
  * lead to the next stage's dump: `--run-pass=<next stage>` with the config's
    values as pass options prints what the pipeline printed (up to the numbers
    of new loops), so a pass run on IR text behaves as it does inside the
    compiler.

    run_ir_roundtrip.py DEUTERONC REPO_ROOT [filter]
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys

STAGES = ["sema", "inner_loop_order", "fp32_intermediates", "reduction_rolling", "contraction_rolling", "kernel_fission", "independent_loops_to_grid", "unit_dim_elimination", "grid_subtiling", "dead_code_elimination"]
RUN = re.compile(r"^#\s*RUN\[(?P<name>[\w.-]+)\]:\s*(?P<args>.*)$")

F16 = "float16"
QKV = ",".join(f"{n}:float16[2,2,256,64]" for n in ("q_in", "k_in", "v_in"))
# (example file, function, --args, configs); None = the default config.
EXAMPLES = [
    ("add.py", "add", "x:float32[1000],y:float32[1000]", [None]),
    ("attention.py", "attention_bmm", QKV, [None, {"block_sizes": [1, 64, 64], "subtiles": 2}]),
    ("attention.py", "attention", QKV, [None, {"block_sizes": [1, 128, 64], "subtiles": 2}]),
    ("attention.py", "causal_attention", QKV, [None, {"block_sizes": [1, 128, 64], "subtiles": 2}]),
    ("attention.py", "causal_attention_two_loops", QKV, [{"block_sizes": [1, 128, 64, 64]}]),
    ("bmm.py", "bmm", f"A:{F16}[4,128,64],B:{F16}[4,64,128]", [None, {"block_sizes": [1, 64, 64, 32]}]),
    ("cross_entropy.py", "cross_entropy", "logits:float32[128,1000],labels:int64[128]",
     [None, {"block_sizes": [1], "reduction_loops": [256]}]),
    ("demo.py", "scaled_gelu", "x:float32[128,256],scale:float", [None]),
    ("exp.py", "exp", "x:float32[1000]", [None]),
    ("gelu_mul.py", "gelu_mul", "x:bfloat16[128,256],y:bfloat16[128,256]", [None]),
    ("layer_norm.py", "layer_norm", f"x:{F16}[256,1000],weight:{F16}[1000],bias:{F16}[1000],eps:float",
     [None, {"block_sizes": [1], "reduction_loops": [256]}]),
    ("layer_norm.py", "layer_norm_functional", f"x:{F16}[256,1000],weight:{F16}[1000],bias:{F16}[1000]",
     [None, {"block_sizes": [2], "reduction_loops": [128]}]),
    ("matmul.py", "matmul", f"x:{F16}[512,256],y:{F16}[256,512]", [None, {"block_sizes": [128, 64, 32], "subtiles": 2}]),
    ("matmul.py", "matmul_bias_relu", f"x:{F16}[512,256],y:{F16}[256,512],bias:{F16}[512]",
     [None, {"block_sizes": [128, 128, 64], "subtiles": 2}]),
    ("rms_norm.py", "rms_norm", f"x:{F16}[256,4096],weight:{F16}[4096],eps:float",
     [None, {"block_sizes": [2], "reduction_loops": [512]}]),
    ("softmax.py", "softmax", f"x:{F16}[256,1000]", [None, {"block_sizes": [1], "reduction_loops": [128]}]),
    ("softmax.py", "softmax_decomposed", f"x:{F16}[256,4096]", [None, {"block_sizes": [1], "reduction_loops": [1024]}]),
    ("softmax.py", "softmax_two_pass", f"x:{F16}[256,1000]", [None]),
    ("sum.py", "row_sum", "x:float32[64,1000]", [None, {"block_sizes": [4], "reduction_loops": [64]}]),
    ("sum.py", "long_sum", "x:float32[8,100000]", [None]),
    ("sum.py", "long_sum_manual", "x:float32[8,100000]", [None]),
    ("welford.py", "welford", "weight:float32[1000],bias:float32[1000],x:float32[64,1000],eps:float", [None]),
]


def deuteronc(exe: str, args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([exe, *args], input=stdin, capture_output=True, text=True, timeout=120)


def pass_options(config: dict, spec: dict) -> list[str]:
    opts = []
    # Each inner nest's loop_orders entry, by its first dim (one kernel's dims:
    # the examples' nests are in their first kernel).
    orders = [f"d{n['first_dim']}:" + ".".join(str(x) for x in config["loop_orders"][n["loop_orders"]])
              for n in spec.get("nests", []) if n["loop_orders"] >= 0]
    if orders:
        opts.append("--nest-orders=" + ",".join(orders))
    if config.get("block_sizes"):
        opts.append("--block-sizes=" + ",".join(str(b) for b in config["block_sizes"]))
    if config.get("reduction_loops"):
        opts.append("--reduction-loops=" + ",".join("none" if r is None else str(r) for r in config["reduction_loops"]))
    opts.append(f"--subtiles={config.get('subtiles', 1)}")
    return opts


def check_kernel(exe: str, file: str, args: list[str], label: str) -> list[str] | None:
    """Failures for one kernel file + options (no --dump); None when it does not compile."""
    cfg = deuteronc(exe, [file, *args, "--dump=config"])
    if cfg.returncode != 0:
        return None  # the run tests an error (a bad config, an unsupported kernel)
    spec = deuteronc(exe, [file, *args, "--dump=config-spec"])
    options = pass_options(json.loads(cfg.stdout), json.loads(spec.stdout) if spec.returncode == 0 else {})
    dumps = []
    for stage in STAGES:
        p = deuteronc(exe, [file, *args, f"--dump=ir-after={stage}"])
        if p.returncode != 0:
            return [f"{label}: --dump=ir-after={stage} failed:\n{p.stderr}"]
        dumps.append(p.stdout)
    failures = []
    for i, (stage, text) in enumerate(zip(STAGES, dumps)):
        back = deuteronc(exe, ["--run-pass=verify", "-"], text)
        if back.returncode != 0 or back.stdout != text:
            failures.append(f"{label}: the IR after {stage} does not read back\n{back.stderr}{diff(text, back.stdout)}")
            continue
        if i + 1 < len(STAGES):
            # precision="strict" skips fp32_intermediates: that stage is sema's IR as it is.
            strict = STAGES[i + 1] == "fp32_intermediates" and "--precision=strict" in args
            nxt = deuteronc(exe, [f"--run-pass={'verify' if strict else STAGES[i + 1]}", *options, "-"], text)
            if nxt.returncode != 0 or canonical_loops(nxt.stdout) != canonical_loops(dumps[i + 1]):
                failures.append(f"{label}: --run-pass={STAGES[i + 1]} {' '.join(options)} on the IR after {stage} "
                                f"differs from the pipeline's\n{nxt.stderr}{diff(dumps[i + 1], nxt.stdout)}")
    return failures


# Loops a pass creates are numbered after every op the pipeline ever created
# (dead ones included), but after the ops of the text in --run-pass: compare
# loop numbers by order of appearance.
LOOP_ID = re.compile(r"(for d\d+ #|loop #)(\d+)")


def canonical_loops(text: str) -> str:
    ids: dict[str, int] = {}
    return LOOP_ID.sub(lambda m: m[1] + "L" + str(ids.setdefault(m[2], len(ids))), text)


def diff(want: str, got: str) -> str:
    import difflib
    return "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), "pipeline", "run-pass"))


def cases(root: str):
    """(file, args, label) for every kernel to check."""
    seen = set()
    for sub in ("cpp/tests/golden", "cpp/tests/passes"):
        for dirpath, dirs, files in os.walk(os.path.join(root, sub)):
            dirs.sort()
            for fname in sorted(files):
                if not fname.endswith(".py"):
                    continue
                path = os.path.join(dirpath, fname)
                with open(path) as f:
                    for line in f:
                        m = RUN.match(line.strip())
                        if not m:
                            continue
                        args = [a for a in shlex.split(m["args"]) if not a.startswith("--dump")]
                        key = (path, tuple(args))
                        if key in seen:
                            continue
                        seen.add(key)
                        yield path, args, f"{os.path.relpath(path, root)}[{m['name']}]"
    for fname, function, arg_spec, configs in EXAMPLES:
        for config in configs:
            args = ["--function", function, "--args", arg_spec]
            if config is not None:
                args += ["--config", json.dumps(config)]
            label = f"examples/{fname} {function}" + (f" {json.dumps(config)}" if config else "")
            yield os.path.join(root, "examples", fname), args, label


def main() -> int:
    exe, root = sys.argv[1], os.path.abspath(sys.argv[2])
    flt = sys.argv[3] if len(sys.argv) > 3 else ""
    count = failed = skipped = 0
    for path, args, label in cases(root):
        if flt not in label:
            continue
        failures = check_kernel(exe, path, args, label)
        if failures is None:
            skipped += 1
            continue
        count += 1
        failed += bool(failures)
        for f in failures:
            print("FAIL " + f)
    print(f"{count - failed}/{count} kernels round-trip through IR text"
          f" ({skipped} runs that test a compile error skipped)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
