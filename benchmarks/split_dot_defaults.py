#!/usr/bin/env python3
"""Which default config suits the dot kernels that kernel fission splits a program into?

A device loop whose inner loops read each other's results through memory runs as one
launch per loop (cpp/src/passes/kernel_fission.cc).  The default config is still chosen
for the program as written (cpp/src/config/config_spec.cc): its small-grid rule sees a
grid over M alone, and its shared-memory fit drops a pipeline stage for a whole-K load
before rolling that load into chunks.  This times Helion's two examples fission changes,
squeeze_and_excitation_net's and se_block's forward (fp16, m x 1024 inputs), at their
default config and at every tile_m x num_stages x num_warps of a small grid beside it,
with PyTorch eager and torch.compile in the same run, and prints one line per kernel and
shape with the best variant.

    python benchmarks/split_dot_defaults.py --helion ../shared/helion [--rows 1024,4096]

Needs a GPU.  Writes nothing; the numbers go in docs/perf/small_grid_dot_defaults.md.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import itertools
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import bench_ms  # noqa: E402


def load_example(helion: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, helion / "examples" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--helion", type=Path, required=True, help="a Helion checkout (its examples/)")
    ap.add_argument("--rows", default="1024,4096", help="comma-separated m")
    ap.add_argument("--tile-m", default="64,128")
    ap.add_argument("--stages", default="2,3,4")
    ap.add_argument("--warps", default="4,8")
    args = ap.parse_args()
    import deuteron
    import deuteron.compat

    deuteron.compat.install_helion_alias()
    sq = load_example(args.helion, "squeeze_and_excitation_net")
    se = load_example(args.helion, "se_block")
    us = lambda fn: bench_ms(fn, rep_ms=100) * 1000  # noqa: E731
    ints = lambda text: [int(v) for v in text.split(",")]  # noqa: E731
    torch.manual_seed(0)
    for m in ints(args.rows):
        x = torch.randn(m, 1024, device="cuda", dtype=torch.float16)
        a = torch.randn(1024, 1024, device="cuda", dtype=torch.float16) / 32
        b = torch.randn(1024, 1024, device="cuda", dtype=torch.float16) / 32
        cases = (("squeeze_and_excitation_net_fwd", sq.squeeze_and_excitation_net_fwd.fn, (x, a, b),
                  lambda x, a, b: x * torch.sigmoid(torch.relu(x @ a) @ b)),
                 ("se_block_fwd", se.se_block_fwd.fn, (x, a), lambda x, w: 2.0 * x * torch.sigmoid(x @ w)))
        for name, fn, inputs, ref in cases:
            compiled = torch.compile(ref)
            compiled(*inputs)
            default_kernel = deuteron.kernel(fn, static_shapes=True, autotune_effort="none")
            default = dict(default_kernel.bind(inputs).default_config())
            default_kernel(*inputs)
            line = [f"{name} m={m}: eager {us(lambda: ref(*inputs)):.1f} us, torch.compile "
                    f"{us(lambda: compiled(*inputs)):.1f}, default (tile_m {default['block_sizes'][0]}, "
                    f"{default['num_stages']} stages, {default['num_warps']} warps) "
                    f"{us(lambda: default_kernel(*inputs)):.1f}"]
            best = None
            for tile_m, stages, warps in itertools.product(ints(args.tile_m), ints(args.stages), ints(args.warps)):
                c = copy.deepcopy(default)
                c["block_sizes"] = [tile_m] + list(c["block_sizes"][1:])
                c["num_stages"], c["num_warps"] = stages, warps
                label = f"m{tile_m}/s{stages}/w{warps}"
                try:
                    k = deuteron.kernel(fn, static_shapes=True, config=deuteron.Config(**c))
                    k(*inputs)
                    t = us(lambda: k(*inputs))
                except Exception as e:  # noqa: BLE001 - a variant that does not fit is reported
                    line.append(f"{label} {type(e).__name__}")
                    continue
                line.append(f"{label} {t:.1f}")
                if best is None or t < best[0]:
                    best = (t, label)
            print("; ".join(line) + (f" | best {best[1]} {best[0]:.1f} us" if best else ""), flush=True)


if __name__ == "__main__":
    main()
