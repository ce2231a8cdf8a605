"""Deuteron's attention kernels with given configs, timed side by side with SDPA.

    python benchmarks/attention_configs.py [--causal] [--shape 4,16,4096,128]

Each config is checked against SDPA before it is timed; a config that fails
is reported and skipped.  Prints one line per config and the default's.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
from _timing import bench_ms  # noqa: E402

TMA = dict(indexing="tensor_descriptor")
CONFIGS = [
    dict(block_sizes=[1, 128, 128], num_warps=4, num_stages=2, range_warp_specializes=[None, True], **TMA),
    dict(block_sizes=[1, 256, 64], num_warps=8, num_stages=3, **TMA),
    dict(block_sizes=[1, 256, 64], num_warps=8, num_stages=3, subtiles=2, **TMA),
    dict(block_sizes=[1, 256, 64], num_warps=8, num_stages=3, subtiles=2, range_warp_specializes=[None, True], **TMA),
    dict(block_sizes=[1, 128, 64], num_warps=4, num_stages=2, subtiles=2, **TMA),
    dict(block_sizes=[1, 256, 128], num_warps=8, num_stages=2, subtiles=2, **TMA),
    dict(block_sizes=[1, 256, 64], num_warps=8, num_stages=4, subtiles=2, **TMA),
    dict(block_sizes=[1, 256, 64], num_warps=8, num_stages=3, subtiles=2, pid_type="persistent_interleaved",
         num_sm_multiplier=2, **TMA),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--causal", action="store_true")
    ap.add_argument("--shape", default="4,16,4096,128")
    a = ap.parse_args()
    import attention
    import deuteron

    b, h, s, d = (int(x) for x in a.shape.split(","))
    torch.manual_seed(0)
    q, k, v = (torch.randn(b, h, s, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    kernel = attention.causal_attention if a.causal else attention.attention
    flops = 4.0 * b * h * s * s * d / (2 if a.causal else 1)
    tf = lambda ms: flops / (ms * 1e-3) / 1e12
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=a.causal)
    sdpa = tf(bench_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=a.causal)))
    print(f"{'causal ' if a.causal else ''}attention {a.shape} bf16: SDPA {sdpa:.0f} TFLOP/s", flush=True)
    bound = kernel.bind((q, k, v))
    default = bound.default_config()
    configs = [(f"default {default.to_dict()}", default)] + [(str(c), deuteron.Config(**c)) for c in CONFIGS]
    for name, cfg in configs:
        try:
            fn = bound.compile_config(cfg)
            err = (fn(q, k, v).float() - ref.float()).abs().max().item()
            if not err < 2e-2:
                print(f"  WRONG ({err:.3g}): {name}", flush=True)
                continue
            r = tf(bench_ms(lambda: fn(q, k, v)))
            print(f"  {r:5.0f} TFLOP/s ({r / sdpa:.2f}x SDPA)  {name}", flush=True)
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"  FAILED {type(e).__name__}: {str(e).strip().splitlines()[-1][:160]}: {name}", flush=True)


if __name__ == "__main__":
    main()
