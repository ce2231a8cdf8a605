"""The autotuning driver (first version: benchmarks the candidate configs it is given,
or the heuristic default when none are given)."""

from __future__ import annotations

import sys
from typing import Any, Sequence

import torch

from .. import exc
from ..runtime.config import Config


def _bench(fn, args, reps: int = 20) -> float:
    import triton.testing

    return float(triton.testing.do_bench(lambda: fn(*args), warmup=5, rep=reps, return_mode="median"))


def tune(bound: Any, args: Sequence[Any], configs: Sequence[Config] | None = None) -> Config:
    candidates = list(configs if configs is not None else bound.kernel.configs)
    if not candidates:
        candidates = [bound.default_config()]
    if len(candidates) == 1:
        return candidates[0]
    best, best_t = None, float("inf")
    failures = []
    for cfg in candidates:
        try:
            fn = bound.compile_config(cfg)
            fn(*args)
            torch.cuda.synchronize()
            t = _bench(fn, args)
        except Exception as e:  # a config that fails is dropped, not fatal
            failures.append((cfg, e))
            continue
        if t < best_t:
            best, best_t = cfg, t
    if best is None:
        raise exc.AutotuneError(f"no config of {bound.kernel.fn.__name__} ran: {failures[0][1]!r}")
    print(f"[deuteron] {bound.kernel.fn.__name__}: best of {len(candidates)} configs "
          f"({best_t * 1000:.1f} us): @deuteron.kernel(config={best!r})", file=sys.stderr)
    return best
