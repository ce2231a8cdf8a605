"""Per-call overhead of the small softmax from Python, to compare with the C++ example.

Measured the same way as examples/cpp/main.cc: host time per call over batches of 200
calls with a synchronization between batches (the launch queue never fills, so the
GPU's speed does not enter).  Two Python paths:

* ``softmax(x)``: a complete kernel call (specialization lookup, the generated host
  function, allocating ``out``, the native launcher);
* the launch alone: the generated module's launch site (deuteron's NativeLauncher,
  after the first call), with ``out`` allocated once, as the C++ caller does.

Also times the full-size softmax and matmul (wall time over 20 synchronized calls).
"""

from __future__ import annotations

import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from matmul import matmul  # noqa: E402
from softmax import softmax  # noqa: E402


def host_us_per_call(call, batches: int = 20, batch: int = 200) -> float:
    for _ in range(batch):
        call()
    torch.cuda.synchronize()
    total = 0.0
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(batch):
            call()
        total += time.perf_counter() - t0
        torch.cuda.synchronize()
    return total / (batches * batch) * 1e6


def wall_ms_per_call(call, reps: int = 20) -> float:
    call()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        call()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / reps * 1e3


def main() -> None:
    if not torch.cuda.is_available():
        sys.exit("python_overhead.py needs a GPU")
    small = torch.randn(16, 1024, device="cuda", dtype=torch.bfloat16)
    us = host_us_per_call(lambda: softmax(small))
    print(f"per-call overhead, Python softmax(x) bfloat16[16, 1024]: {us:.2f} us (host time per call)")

    bound = softmax.bind((small,))
    module = bound.load(bound.config).deuteron_module if bound.config is not None else None
    launch = getattr(module, "_launch_0", None)
    if launch is not None and getattr(launch, "__name__", "") != "no_native_launcher":
        out = torch.empty_like(small)
        # The generated host function passes (grid, x, out, <block sizes>): record one call's.
        calls = []
        original = module._launch_0
        module._launch_0 = lambda g, *a: calls.append((g, a)) or original(g, *a)
        softmax(small)
        module._launch_0 = original
        if calls:
            grid, args = calls[0]
            args = (small, out) + tuple(args[2:])
            us = host_us_per_call(lambda: launch(grid, *args))
            print(f"per-call overhead, Python launch only (NativeLauncher, out preallocated): {us:.2f} us")

    x = torch.randn(4096, 16384, device="cuda", dtype=torch.bfloat16)
    ms = wall_ms_per_call(lambda: softmax(x))
    tbs = 2 * x.numel() * 2 / (ms * 1e-3) / 1e12
    print(f"Python softmax bfloat16[4096, 16384]: {ms:.3f} ms per call, {tbs:.2f} TB/s")
    a = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
    ms = wall_ms_per_call(lambda: matmul(a, b))
    print(f"Python matmul 4096^3 bfloat16: {ms:.3f} ms per call, {2 * 4096 ** 3 / (ms * 1e-3) / 1e12:.0f} TFLOP/s")


if __name__ == "__main__":
    main()
