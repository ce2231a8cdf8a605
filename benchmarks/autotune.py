"""Autotuning on the device: tune time and the speed of the tuned kernel vs the default config.

Tunes the examples/ kernels that exist (softmax, rms_norm, layer_norm, matmul,
attention) at the PERF.md shapes, with a fresh cache, and prints a table
(markdown) plus JSON with: tune time, configs tried and failed, best and
default times, speed-up, and throughput (GB/s or TFLOP/s).

    python benchmarks/autotune.py [--effort quick|full] [--strategy NAME] [--kernels softmax,matmul]
                                  [--small] [--json out.json] [--log-dir DIR]

``--strategy`` sets DEUTERON_AUTOTUNER (random, pattern, de, surrogate); run it
once per strategy to choose the default from measurements.  ``--small`` uses
small shapes (a quick check that the pipeline works).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
import traceback

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))


def _cases(small: bool):
    """(name, example module, kernel attribute, make_args, bytes or flops(args), unit, torch reference)."""
    bf = torch.bfloat16
    dev = "cuda"

    def rows(m, n):
        return lambda: (torch.randn(m, n, device=dev, dtype=bf),)

    def norm_args(m, n, bias=False):
        def make():
            x = torch.randn(m, n, device=dev, dtype=bf)
            w = torch.randn(n, device=dev, dtype=bf)
            return (x, w, torch.randn(n, device=dev, dtype=bf)) if bias else (x, w)
        return make

    def mm_args(n):
        return lambda: (torch.randn(n, n, device=dev, dtype=bf), torch.randn(n, n, device=dev, dtype=bf))

    def attn_args(b, h, s, d):
        return lambda: tuple(torch.randn(b, h, s, d, device=dev, dtype=bf) for _ in range(3))

    def io_bytes(args):
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        return 2 * tensors[0].numel() * tensors[0].element_size() + sum(
            a.numel() * a.element_size() for a in tensors[1:])

    m, n = (256, 1024) if small else (4096, 16384)
    ln = (256, 1024) if small else (4096, 4096)
    mm = 512 if small else 4096
    at = (1, 2, 256, 64) if small else (4, 16, 4096, 128)
    return [
        ("softmax", "softmax", "softmax", rows(m, n), io_bytes, "GB/s", lambda x: torch.softmax(x, dim=-1)),
        ("rms_norm", "rms_norm", "rms_norm", norm_args(m, n), io_bytes, "GB/s",
         lambda x, w, eps=1e-5: torch.nn.functional.rms_norm(x, (x.shape[-1],), w, eps)),
        ("layer_norm", "layer_norm", "layer_norm", norm_args(*ln, bias=True), io_bytes, "GB/s",
         lambda x, w, b, eps=1e-5: torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)),
        ("matmul", "matmul", "matmul", mm_args(mm), lambda a: 2 * a[0].shape[0] * a[0].shape[1] * a[1].shape[1],
         "TFLOP/s", torch.matmul),
        ("attention", "attention", "attention", attn_args(*at),
         lambda a: 4 * a[0].shape[0] * a[0].shape[1] * a[0].shape[2] ** 2 * a[0].shape[3], "TFLOP/s",
         lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v)),
        ("causal_attention", "attention", "causal_attention", attn_args(*at),
         lambda a: 2 * a[0].shape[0] * a[0].shape[1] * a[0].shape[2] ** 2 * a[0].shape[3], "TFLOP/s",
         lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)),
    ]


def _time(fn, args) -> float:
    import triton.testing

    return float(triton.testing.do_bench(lambda: fn(*args), warmup=25, rep=100, return_mode="median")) * 1e-3


def _in_launch_order(bound, config):
    """The tuned kernel with its grid launched in index order, where code
    generation reversed it (heavy blocks first, codegen/heavy_first.h); None
    when it did not.  Timed side by side to show what the order is worth."""
    import re
    import tempfile
    from pathlib import Path

    from deuteron.runtime.modules import load_host_function, write_module

    code = bound.generate(config, "triton")
    if "_heavy_first = " not in code:
        return None
    code = re.sub(r"^(\s*)(\w+)_heavy_first = .*$", r"\1\2_heavy_first = \2", code, flags=re.M)
    return load_host_function(write_module(code, Path(tempfile.mkdtemp()), "in_order"), bound.globals)


def run_case(case, effort: str, log_dir: str | None):
    name, module_name, attr, make_args, work, unit, torch_ref = case
    try:
        module = importlib.import_module(module_name)
        kernel = getattr(module, attr)
    except Exception as e:  # the example does not exist (yet)
        return {"kernel": name, "status": f"skipped: {type(e).__name__}: {e}"}
    from deuteron.autotune import tune

    args = make_args()
    args = kernel.normalize_args(args)  # default arguments (eps=...) filled in, as a call does
    kernel.reset()
    bound = kernel.bind(args)
    settings = {"autotune_effort": effort, "force_autotune": True}
    if log_dir:
        settings["autotune_log"] = os.path.join(log_dir, f"{name}.log")
    bound.settings = bound.settings.replace(**settings)
    row = {"kernel": name, "shape": [list(a.shape) for a in args if isinstance(a, torch.Tensor)], "effort": effort}
    try:
        t0 = time.perf_counter()
        res = tune(bound, args, return_result=True)
        row["tune_s"] = round(time.perf_counter() - t0, 2)
        row.update(configs=res.evaluations, failed=len(res.failures), strategy=res.strategy,
                   config=res.config.to_dict())
        kinds: dict[str, int] = {}
        for f in res.failures:
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
        row["failures"] = kinds
        row["timing"] = {k: round(v, 2) for k, v in res.timing.items()}
        best = _time(bound.compile_config(res.config), args)
        default = _time(bound.compile_config(bound.default_config()), args)
        row.update(best_ms=best * 1e3, default_ms=default * 1e3, speedup=default / best)
        in_order = _in_launch_order(bound, res.config)
        if in_order is not None:
            ref_out = bound.compile_config(res.config)(*args)
            torch.testing.assert_close(in_order(*args), ref_out)
            t = _time(in_order, args)
            row.update(in_order_ms=t * 1e3, heavy_first_gain=t / best)
        w = work(args)
        scale = 1e-9 if unit == "GB/s" else 1e-12
        row["best_" + unit] = w / best * scale
        if torch_ref is not None:
            t = _time(torch_ref, args)
            row["torch_ms"] = t * 1e3
            row["torch_" + unit] = w / t * scale
            if unit == "GB/s":  # matmul and attention compile to the same cuBLAS / flash kernels
                compiled = torch.compile(torch_ref)
                compiled(*args)
                t = _time(compiled, args)
                row["compile_ms"] = t * 1e3
                row["compile_" + unit] = w / t * scale
        out = bound.compile_config(res.config)(*args)
        if torch_ref is not None:
            ref = torch_ref(*args)
            row["max_abs_err"] = float((out.float() - ref.float()).abs().max())
        row["status"] = "ok"
    except Exception as e:  # noqa: BLE001 - report and go on to the next kernel
        row["status"] = f"error: {type(e).__name__}: {e}"
        row["traceback"] = traceback.format_exc()[-3000:]
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--effort", default="quick", choices=["quick", "full"])
    p.add_argument("--strategy", default=None)
    p.add_argument("--kernels", default="softmax,rms_norm,layer_norm,matmul,attention,causal_attention")
    p.add_argument("--small", action="store_true")
    p.add_argument("--json", default=None)
    p.add_argument("--log-dir", default=None)
    a = p.parse_args()
    if not torch.cuda.is_available():
        sys.exit("benchmarks/autotune.py needs a CUDA GPU")
    if a.strategy:
        os.environ["DEUTERON_AUTOTUNER"] = a.strategy
    os.environ.setdefault("DEUTERON_CACHE_DIR", tempfile.mkdtemp(prefix="deuteron-autotune-bench-"))
    if a.log_dir:
        os.makedirs(a.log_dir, exist_ok=True)
    wanted = set(a.kernels.split(","))
    rows = []
    for case in _cases(a.small):
        if case[0] in wanted:
            row = run_case(case, a.effort, a.log_dir)
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "traceback"}), flush=True)
            if "traceback" in row:
                print(row["traceback"], file=sys.stderr)
    print(f"\n{torch.cuda.get_device_name()}, effort={a.effort}, strategy={os.environ.get('DEUTERON_AUTOTUNER', 'default')}")
    print("| kernel | tune s | configs (failed) | best ms | default ms | default/tuned speed | throughput | "
          "torch eager | torch.compile | status |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        unit = "GB/s" if "best_GB/s" in r else "TFLOP/s"
        thr = r.get("best_" + unit)
        tor = r.get("torch_" + unit)
        tc = r.get("compile_" + unit)
        frac = 1 / r["speedup"] if r.get("speedup") else float("nan")
        print(f"| {r['kernel']} | {r.get('tune_s', '-')} | {r.get('configs', '-')} ({r.get('failed', '-')}) | "
              f"{r.get('best_ms', float('nan')):.4f} | {r.get('default_ms', float('nan')):.4f} | "
              f"{frac:.0%} | {thr if thr is None else round(thr, 1)} {unit} | "
              f"{tor if tor is None else round(tor, 1)} | {tc if tc is None else round(tc, 1)} | {r['status'][:60]} |")
    for r in rows:
        if r.get("heavy_first_gain"):
            print(f"{r['kernel']}: heavy blocks first {r['best_ms']:.4f} ms, in index order {r['in_order_ms']:.4f} ms "
                  f"({r['heavy_first_gain']:.3f}x)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1, default=str)


if __name__ == "__main__":
    main()
