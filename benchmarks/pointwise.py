"""Pointwise kernels on the GPU: bandwidth against a device-to-device copy,
and host overhead per call against eager PyTorch, measured side by side.

    python benchmarks/pointwise.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import deuteron  # noqa: E402
import deuteron.language as hl  # noqa: E402
from _timing import bench_ms, host_us_per_call  # noqa: E402
from add import add  # noqa: E402
from exp import exp  # noqa: E402
from gelu_mul import gelu_mul  # noqa: E402


@deuteron.kernel(config=deuteron.Config(block_sizes=[1024], num_warps=4))
def add_simple(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default=None)
    ap.add_argument("--configs", action="store_true", help="also sweep a few configs of add")
    args = ap.parse_args()
    rows = []
    n = 1 << 28
    x = torch.randn(n, device="cuda")
    y = torch.randn(n, device="cuda")
    out = torch.empty_like(x)
    torch.testing.assert_close(add(x, y), x + y)
    t_copy = bench_ms(lambda: out.copy_(x))
    t_add = bench_ms(lambda: add(x, y))
    t_eager = bench_ms(lambda: torch.add(x, y, out=out))
    copy_bw = 2 * 4 * n / t_copy / 1e9
    add_bw = 3 * 4 * n / t_add / 1e9
    eager_bw = 3 * 4 * n / t_eager / 1e9
    rows.append({"kernel": "add 2^28 fp32", "deuteron_TBps": add_bw, "eager_TBps": eager_bw,
                 "copy_TBps": copy_bw, "ratio_vs_copy": add_bw / copy_bw,
                 "config": repr(add.bind((x, y)).config)})
    if args.configs:
        bound = add.bind((x, y))
        for bs in (512, 1024, 2048, 4096, 8192):
            for w in (4, 8, 16):
                cfg = deuteron.Config(block_sizes=[bs], num_warps=w)
                fn = bound.compile_config(cfg)
                t = bench_ms(lambda: fn(x, y))
                rows.append({"kernel": f"add 2^28 fp32 block={bs} warps={w}", "deuteron_TBps": 3 * 4 * n / t / 1e9,
                             "ratio_vs_copy": (3 * 4 * n / t / 1e9) / copy_bw})

    # bf16 exp and gelu*y over 4096 x 16384
    xb = torch.randn(4096, 16384, device="cuda", dtype=torch.bfloat16)
    yb = torch.randn(4096, 16384, device="cuda", dtype=torch.bfloat16)
    torch.testing.assert_close(exp(xb), torch.exp(xb), atol=1e-2, rtol=1e-2)
    torch.testing.assert_close(gelu_mul(xb, yb), torch.nn.functional.gelu(xb) * yb, atol=2e-2, rtol=2e-2)
    nbytes = xb.numel() * 2
    compiled = torch.compile(lambda a, b: torch.nn.functional.gelu(a) * b)
    compiled(xb, yb)
    for name, fn_d, fn_e, fn_c, moved in [
        ("exp 4096x16384 bf16", lambda: exp(xb), lambda: torch.exp(xb), torch.compile(torch.exp), 2 * nbytes),
        ("gelu*y 4096x16384 bf16", lambda: gelu_mul(xb, yb), lambda: torch.nn.functional.gelu(xb) * yb,
         compiled, 3 * nbytes),
    ]:
        td = bench_ms(fn_d)
        te = bench_ms(fn_e)
        if name.startswith("exp"):
            fn_c(xb)
            tc = bench_ms(lambda: fn_c(xb))
        else:
            tc = bench_ms(lambda: fn_c(xb, yb))
        rows.append({"kernel": name, "deuteron_TBps": moved / td / 1e9 / 1e3 * 1e3,
                     "eager_TBps": moved / te / 1e9, "compile_TBps": moved / tc / 1e9,
                     "ratio_vs_copy": (moved / td / 1e9) / copy_bw})

    # Host overhead: add on 1024 elements, back-to-back calls.
    xs = torch.randn(1024, device="cuda")
    ys = torch.randn(1024, device="cuda")
    add(xs, ys)
    torch.testing.assert_close(add_simple(xs, ys), xs + ys)
    us_e = host_us_per_call(lambda: xs + ys)
    us_d = host_us_per_call(lambda: add_simple(xs, ys))
    us_b = host_us_per_call(lambda: add(xs, ys))
    rows.append({"kernel": "host overhead add 1024 fp32", "deuteron_us": us_d, "eager_us": us_e,
                 "ratio_vs_eager": us_d / us_e})
    rows.append({"kernel": "host overhead add+broadcast_tensors 1024", "deuteron_us": us_b, "eager_us": us_e,
                 "ratio_vs_eager": us_b / us_e})
    # What the host function costs without any launch (Python + allocation).
    bound = add_simple.bind((xs, ys))
    module = bound.load(bound.config).deuteron_module
    real_launch = module._launch_0
    module._launch_0 = lambda *a: True
    us_nolaunch = host_us_per_call(lambda: add_simple(xs, ys))
    module._launch_0 = real_launch
    rows.append({"kernel": "  of which host code without launch", "deuteron_us": us_nolaunch, "eager_us": us_e,
                 "ratio_vs_eager": us_nolaunch / us_e})

    print(f"\n{'kernel':42s} {'deuteron':>10s} {'eager':>10s} {'compile':>10s} {'vs copy/eager':>14s}")
    for r in rows:
        if "deuteron_us" in r:
            print(f"{r['kernel']:42s} {r['deuteron_us']:8.2f}us {r['eager_us']:8.2f}us {'':>10s} {r['ratio_vs_eager']:13.2f}x")
        else:
            print(f"{r['kernel']:42s} {r['deuteron_TBps']:7.3f}TB/s {r.get('eager_TBps', 0):7.3f}TB/s "
                  f"{r.get('compile_TBps', 0):7.3f}TB/s {r['ratio_vs_copy']:13.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
