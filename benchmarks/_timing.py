"""Timing helpers shared by the benchmarks (medians, L2 flushed where it matters)."""

from __future__ import annotations

import time
from typing import Callable

import torch


def bench_ms(fn: Callable[[], object], *, warmup_ms: float = 25, rep_ms: float = 200, flush_l2: bool = True) -> float:
    """Median time of fn() in milliseconds, measured with CUDA events."""
    import triton.testing

    if flush_l2:
        return float(triton.testing.do_bench(fn, warmup=warmup_ms, rep=rep_ms, return_mode="median"))
    # Without L2 flushing (host-overhead style measurement of tiny kernels).
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(max(5, int(rep_ms))):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return times[len(times) // 2]


def host_us_per_call(fn: Callable[[], object], calls: int = 20000, repeats: int = 5) -> float:
    """Wall time per call in microseconds when calls are issued back to back (median of repeats)."""
    for _ in range(200):
        fn()
    torch.cuda.synchronize()
    results = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
        results.append((time.perf_counter() - t0) / calls * 1e6)
    results.sort()
    return results[len(results) // 2]
