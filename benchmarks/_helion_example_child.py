"""Runs Helion example programs in this process for benchmarks/helion_examples.py.

    python _helion_example_child.py IMPL PHASE RECORDS EXAMPLE.py [EXAMPLE.py ...]

IMPL is ``deuteron`` (``import helion`` loads deuteron through the import alias)
or ``helion`` (Helion itself, found on PYTHONPATH).  Each example runs through
its own ``main()``; every ``run_example(...)`` call it makes is intercepted, so
that both implementations are checked and timed by the same code:

* PHASE ``check``: compare each kernel's outputs with the first baseline's
  (the tolerances the example passes), time nothing.  Fills the compile caches.
* PHASE ``time``: time every kernel and baseline with Triton's ``do_bench``
  (median, L2 flushed), check nothing (``check`` already did).

One JSON line per event is appended to RECORDS: ``start`` before an example,
``call`` for each ``run_example``, ``end`` with ``ok`` and the error's last line.
A crash (a CUDA fault ends the process) leaves a ``start`` without an ``end``.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
import traceback
from typing import Any

import torch

# The checks and the timer of deuteron's run_example serve both implementations
# (importing deuteron.testing installs no `helion` alias).
from deuteron.testing import _clone, _compare, _tensors, do_bench

IMPL, PHASE, RECORDS = sys.argv[1], sys.argv[2], sys.argv[3]
EXAMPLES = sys.argv[4:]


def emit(**record: Any) -> None:
    with open(RECORDS, "a") as f:
        f.write(json.dumps(record) + "\n")


class Recorder:
    def __init__(self, example: str) -> None:
        self.example = example
        self.calls = 0

    def __call__(self, kernel_fn: Any, baseline_fn: Any, args: Any, kernel_name: str = "helion",
                 baseline_name: str = "torch", rtol: float = 1e-2, atol: float = 1e-1,
                 max_mismatch_pct: float | None = None, max_mismatched_abs_diff: float | None = None,
                 bwd: bool = False, **_: Any) -> dict[str, float]:
        index = self.calls
        self.calls += 1
        kernels = kernel_fn if isinstance(kernel_fn, dict) else {kernel_name: kernel_fn}
        baselines = baseline_fn if isinstance(baseline_fn, dict) else {baseline_name: baseline_fn}
        if PHASE == "check":
            # deuteron.testing.run_example's own checks, for both implementations.
            expected = _tensors(next(iter(baselines.values()))(*_clone(args)))
            for name, fn in kernels.items():
                got = _tensors(fn(*_clone(args)))
                if len(got) != len(expected):
                    raise AssertionError(f"{name} returned {len(got)} values, the baseline {len(expected)}")
                for i, (g, e) in enumerate(zip(got, expected)):
                    _compare(g, e, atol=atol, rtol=rtol, max_mismatch_pct=max_mismatch_pct,
                             max_mismatched_abs_diff=max_mismatched_abs_diff, what=f"{name} output {i}")
            emit(event="call", example=self.example, call=index, checked=list(kernels))
            return {}
        times: dict[str, float] = {}
        cloned = _clone(args)
        for name, fn in {**kernels, **baselines}.items():
            times[name] = do_bench(lambda fn=fn: fn(*cloned), warmup=10, rep=50, return_mode="median")
        emit(event="call", example=self.example, call=index, kernels=list(kernels), baselines=list(baselines),
             times=times, shapes=[list(a.shape) for a in args if isinstance(a, torch.Tensor)],
             dtypes=[str(a.dtype) for a in args if isinstance(a, torch.Tensor)])
        return times


def main() -> None:
    if IMPL == "deuteron":
        import deuteron.compat

        deuteron.compat.install_helion_alias()
    import helion._testing as testing

    for path in EXAMPLES:
        name = os.path.splitext(os.path.basename(path))[0]
        emit(event="start", example=name)
        recorder = Recorder(name)
        testing.run_example = recorder
        start = time.monotonic()
        sys.argv = [path]
        sys.path.insert(0, os.path.dirname(path))
        try:
            runpy.run_path(path, run_name="__main__")
            ok, error = True, ""
        except BaseException as e:  # an example's failure is data; SystemExit(0) is success
            ok = isinstance(e, SystemExit) and e.code in (0, None)
            error = "" if ok else (traceback.format_exception_only(type(e), e)[-1].strip()[:500])
        finally:
            sys.path.pop(0)
        if ok and torch.cuda.is_available():
            torch.cuda.synchronize()
        emit(event="end", example=name, ok=ok, error=error, calls=recorder.calls,
             seconds=round(time.monotonic() - start, 2))


if __name__ == "__main__":
    main()
