"""The autotuning driver: ``tune(bound, args, configs=None)``.

1. ``autotune_effort="none"`` (and no ``configs=``): the heuristic default config.
2. The disk cache (cache.py), then the shared tuning cache when one is set
   (``tuning_cache`` / DEUTERON_TUNING_CACHE; shared_cache.py): a hit returns
   at once, without tuning; a shared hit is copied into the disk cache.
3. Candidates come from the C++ search (``_core.SearchSession``: random,
   pattern, differential evolution or surrogate-guided; ``DEUTERON_AUTOTUNER``
   or the ``autotuner`` setting picks one) one generation at a time, or from
   ``configs=[...]`` (all at once).
4. Each candidate: code generation in this process (C++, milliseconds), a dry
   run of its host function that records its Triton launches, then
   compilation in a pool of worker processes (one per core, each job with
   ``autotune_compile_timeout``).  Compiled configs are benchmarked at once
   while the others still compile, in long-lived benchmark processes: one per
   GPU of the tuning GPU's model, each pinned to its GPU (devices.py).
   A new shape of a kernel whose other shapes are in the shared cache starts
   its search from their best configs (warm start).
5. Failures (code generation, compile error, compile timeout, crash, CUDA
   error, wrong answer vs the default config or ``autotune_baseline_fn``) are
   recorded, reported and told to the search as failures; never fatal.
6. The near-best configs are benchmarked again (interleaved rounds, longer
   runs, on one GPU); the fastest median wins, is cached (and published to the
   shared cache), and printed as code to paste.

Everything that touches the GPU, the compiler or the clock is injectable
(:class:`TuneHooks`) so that the CPU tests can drive the real machinery with
fake compile steps, fake timings, crashes and hangs.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import inspect
import json
import os
import re
import socket
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence, TextIO

import torch

from .. import exc
from ..runtime import env
from ..runtime.config import Config
from ..runtime.core import core
from ..runtime.device import device_key
from ..runtime.files import private_directory
from ..runtime.modules import load_module
from . import benchmark as _bench
from .cache import CacheWarning, TuneCache, versions
from .devices import BenchDevice, benchmark_devices
from .precompile import capture_launches
from .progress import Progress, fmt_seconds
from .saved_memory import stack_problem
from .shared_cache import SharedCache, shared_cache
from .tuning_key import TuningKey, tuning_key
from .tuning_record import RecordError, make_record
from .workers import JobResult, WorkerPool

__all__ = ["tune", "TuneHooks", "TuneResult", "Failure"]


@dataclass
class TuneHooks:
    """Injection points (tests, experiments).  Targets are "module:function" run in workers."""

    compile_target: str = "deuteron.autotune.precompile:precompile"
    measure_target: str | None = None  # (fn, options) -> seconds, in the benchmark process
    runner_target: str | None = None   # (fn, args, config_json) -> result, in the benchmark process
    prepare: Callable[[Any, str], dict] | None = None  # (tuner, config_json) -> compile payload
    clock: Callable[[], float] = time.monotonic
    isolate: bool | None = None        # benchmark in a subprocess (default: yes, unless impossible)
    stream: TextIO | None = None       # progress and the final report (default: stderr)
    jobs: int | None = None            # compile workers (default: settings.resolved_precompile_jobs())
    bench_timeout: float | None = None  # per benchmark job (default: compile timeout + 30 s)
    rebench_top: int | None = None


@dataclass
class Failure:
    config: str
    kind: str        # "codegen", "compile error", "compile timeout", "crash", "timeout", "cuda error", "wrong answer", ...
    message: str


@dataclass
class TuneResult:
    config: Config
    seconds: float
    default_seconds: float | None
    evaluations: int
    failures: list[Failure] = field(default_factory=list)
    elapsed: float = 0.0
    strategy: str = ""
    cached: bool = False
    # Where the time went (seconds): code generation and launch capture in this
    # process, compile jobs (summed over workers), benchmark jobs, the re-benchmark
    # phase, and the wall time until the last compile finished.
    timing: dict[str, float] = field(default_factory=dict)
    # Benchmark runs per device index (one benchmark worker per GPU; simulated on the CPU).
    runs_per_device: dict[int, int] = field(default_factory=dict)
    # The fastest configs (JSON) and their times, best first (for warm starts of other shapes).
    top: list[tuple[str, float]] = field(default_factory=list)
    # Configs of the nearest tuned shapes this search started from (warm start).
    warm_start: list[str] = field(default_factory=list)
    source: str = ""  # where a cached result came from: the local cache's file or the shared cache's URL


# --------------------------------------------------------------- pools

_POOLS: dict[tuple, WorkerPool] = {}


def _env_signature() -> tuple:
    return env.worker_signature() + (tuple(sys.path),)


def _worker_log(cache_dir: Path) -> str | None:
    """Where workers' own output goes (Triton's MLIR dumps of failing configs, crash messages):
    stderr when DEUTERON_AUTOTUNE_WORKER_OUTPUT=stderr, else ``<cache dir>/logs/autotune-workers-<pid>.log``.

    In the user's private cache directory, not the shared temp folder, where a name
    anyone can predict lets another user plant a link or read the output; it is
    removed when its pools close (_release_log)."""
    if env.autotune_worker_output_to_stderr():
        return None
    logs = private_directory(cache_dir / "logs", parents=1)
    return str(logs / f"autotune-workers-{os.getpid()}.log")


def _release_log(path: str | None) -> None:
    """Removes a worker log no open pool writes to any more."""
    if path and not any(p.stderr_path == path for p in _POOLS.values()):
        with contextlib.suppress(OSError):
            os.unlink(path)


def _pool(kind: str, size: int, clock: Callable[[], float], cache_dir: Path,
          targets: Sequence[str | None] = (),
          worker_env: tuple[dict[str, str], ...] = ()) -> tuple[WorkerPool, bool]:
    """A worker pool, reused across tuning runs of this process.

    Its workers import the modules of the job ``targets`` ("module:function") before
    they take a job, so that a slow import (a test module, a user's measure function)
    does not count against the first job's timeout; their output goes to a log in
    ``cache_dir`` (_worker_log)."""
    # Timeouts are wall-clock time, whatever clock the budget and progress use.
    preload = tuple(dict.fromkeys(["deuteron.runtime.modules", "triton"] +
                                  [t.partition(":")[0] for t in targets if t]))
    key = (kind, size, preload, _env_signature(), tuple(tuple(sorted(e.items())) for e in worker_env))
    pool = _POOLS.get(key)
    if pool is None:
        for k in [k for k in _POOLS if k[0] == kind]:
            old = _POOLS.pop(k)
            old.close()
            _release_log(old.stderr_path)
        # A pool outlives one tuning run and keeps the log of the cache directory it started with.
        pool = _POOLS[key] = WorkerPool(size, preload=preload, stderr_path=_worker_log(cache_dir),
                                        worker_env=worker_env)
    return pool, False


@atexit.register
def _close_pools() -> None:
    pools = list(_POOLS.values())
    _POOLS.clear()
    for pool in pools:
        try:
            pool.close()
        except Exception:  # pragma: no cover
            pass
        _release_log(pool.stderr_path)


# ------------------------------------------------------------- benchmark


class _Untunable(Exception):
    """Tuning this kernel on these arguments would change memory the tuner cannot put back."""


@dataclass
class _Lane:
    """One benchmark worker: the worker index in the bench pool and the device it is pinned to."""

    worker: int
    device: BenchDevice
    need_setup: bool = True
    setup_failures: int = 0
    inflight: tuple | None = None  # ("setup",) or ("run", item)
    job: int | None = None
    dead: bool = False


class _Benchmarker:
    """Runs configs in the benchmark processes, one per device (or in this process).

    Each lane (a worker pinned to one GPU, or a simulated device on the CPU) gets
    the setup once, then takes the next queued config whenever it is idle, so a
    generation's configs spread over every GPU as they finish compiling.  Items
    pinned to a lane (the re-benchmark rounds: comparable times need one GPU)
    wait for that lane.  A lane whose worker crashes is restarted and set up
    again; a lane whose setup fails 3 times (a broken GPU) is dropped, and the
    search goes on with the others."""

    def __init__(self, tuner: Tuner, setup: dict[str, Any], isolate: bool, timeout: float,
                 devices: list[BenchDevice]) -> None:
        self.tuner = tuner
        self.setup_payload = setup
        self.isolate = isolate
        self.timeout = timeout
        # (config, path, check, rep_ms, lane index or None)
        self.queue: list[tuple[str, str, bool, float | None, int | None]] = []
        self.state: _bench.BenchState | None = None
        self.need_setup = True
        self.own_pool = False
        self.any_setup_ok = False
        self.runs_per_device: dict[int, int] = {}
        self.lanes: list[_Lane] = []
        if isolate:
            hooks = tuner.hooks
            self.lanes = [_Lane(i, d) for i, d in enumerate(devices)]
            self.pool, self.own_pool = _pool("bench", len(devices), tuner.clock, tuner.settings.resolved_cache_dir(),
                                             ("deuteron.autotune.benchmark:setup", hooks.measure_target,
                                              hooks.runner_target), tuple(d.environment for d in devices))
            # Start the processes and their setup now, while the first configs compile.
            for lane in self.lanes:
                self._submit_setup(lane)

    @property
    def devices(self) -> int:
        return max(1, sum(1 for lane in self.lanes if not lane.dead))

    def enqueue(self, config: str, path: str, check: bool = True, rep_ms: float | None = None,
                pinned: bool = False) -> None:
        """Queues a config; ``pinned``: on the first live lane (re-benchmark rounds)."""
        lane = next((lane.worker for lane in self.lanes if not lane.dead), None) if pinned else None
        self.queue.append((config, path, check, rep_ms, lane))

    @property
    def busy(self) -> bool:
        return bool(self.queue) or any(lane.inflight is not None for lane in self.lanes)

    def _no_reference(self, why: str) -> None:
        if self.setup_payload.get("reference") is not None:
            self.tuner.progress.message(f"[deuteron] {self.tuner.name}: accuracy check disabled: {why}")
            self.setup_payload = dict(self.setup_payload, reference=None)

    def _local_setup(self) -> None:
        try:
            self.state = _bench.BenchState(self.setup_payload)
        except torch.OutOfMemoryError as e:
            raise _Untunable(f"the device has no memory left for a copy of what its runs change (the arguments "
                             f"it writes in place, the tensors it stores to through StackTensor pointers): "
                             f"{str(e).splitlines()[0][:200]}") from e
        except Exception as e:  # noqa: BLE001
            self._no_reference(f"the reference failed ({type(e).__name__}: {e})")
            self.state = _bench.BenchState(self.setup_payload)
        if self.state.reference_error and _out_of_memory(self.state.reference_error):
            raise exc.AutotuneError(f"{self.tuner.name}: no GPU memory for the reference output, so no config "
                                    f"could be checked: {self.state.reference_error}")
        if self.state.reference_error:
            self._no_reference(f"the reference failed ({self.state.reference_error})")
        self.need_setup = False

    def _submit_setup(self, lane: _Lane) -> None:
        payload = self.setup_payload
        if lane.device.torch_device is not None and payload.get("device"):
            payload = dict(payload, device=lane.device.torch_device)
        lane.job = self.pool.submit("deuteron.autotune.benchmark:setup", payload, timeout=self.timeout + 60,
                                    on_worker=lane.worker)
        lane.inflight = ("setup",)

    def _next_item(self, lane: _Lane) -> tuple | None:
        live = {x.worker for x in self.lanes if not x.dead}
        for k, item in enumerate(self.queue):
            if item[4] is None or item[4] == lane.worker or item[4] not in live:
                return self.queue.pop(k)
        return None

    def poll(self, timeout: float) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        if not self.isolate:
            if self.queue:
                if self.need_setup:
                    self._local_setup()
                config, path, check, rep_ms, _ = self.queue.pop(0)
                assert self.state is not None
                out.append((config, self.state.run_config(path, config, check, rep_ms)))
                self.runs_per_device[0] = self.runs_per_device.get(0, 0) + 1
            return out
        for lane in self.lanes:
            if lane.dead or lane.inflight is not None or not self.queue:
                continue
            if lane.need_setup:
                self._submit_setup(lane)
                continue
            item = self._next_item(lane)
            if item is None:
                continue
            config, path, check, rep_ms, _ = item
            lane.job = self.pool.submit("deuteron.autotune.benchmark:run_config", path, config, check, rep_ms,
                                        timeout=self.timeout, on_worker=lane.worker)
            lane.inflight = ("run", item)
        if not any(lane.inflight is not None for lane in self.lanes):
            return out
        for res in self.pool.poll(timeout):
            out.extend(self._handle(res))
        return out

    def _handle(self, res: JobResult) -> list[tuple[str, dict[str, Any]]]:
        lane = next((x for x in self.lanes if x.job == res.job_id and x.inflight is not None), None)
        if lane is None:
            return []  # a job of a lane that was restarted since
        inflight, lane.inflight, lane.job = lane.inflight, None, None
        assert inflight is not None
        if inflight[0] == "setup":
            return self._setup_done(lane, res)
        config, path, check, rep_ms, _ = inflight[1]
        self.tuner.timing["benchmark"] += res.seconds
        if res.ok:
            outcome = res.value
            if outcome.get("kind") == "need setup":
                lane.need_setup = True
                self.queue.insert(0, inflight[1])
                return []
            device = outcome.get("device")
            device = device if isinstance(device, int) else lane.device.index
            self.runs_per_device[device] = self.runs_per_device.get(device, 0) + 1
            if outcome.get("restart"):
                self.pool.restart(lane.worker)
                lane.need_setup = True
            return [(config, outcome)]
        # The worker was lost: it is replaced and needs its setup again.
        lane.need_setup = True
        kind = "benchmark timeout" if res.error_type == "TimeoutError" else (
            "crash" if res.error_type == "WorkerCrashed" else "error")
        where = f" (benchmark worker of device {lane.device.index})" if len(self.lanes) > 1 else ""
        return [(config, {"ok": False, "kind": kind, "message": f"{res.error_type}: {res.message}{where}"})]

    def _setup_done(self, lane: _Lane, res: JobResult) -> list[tuple[str, dict[str, Any]]]:
        if res.ok and _out_of_memory(res.value.get("reference_error") or ""):
            # The GPU had no room for the reference output: that says nothing
            # about the kernel, and tuning on without the accuracy check could
            # pick a wrong config.  Set up again; after 3 tries, benchmark here.
            res = JobResult(res.job_id, False, None, "OutOfMemoryError", res.value["reference_error"])
        elif res.ok:
            lane.need_setup = False
            self.any_setup_ok = True
            if res.value.get("reference_error"):
                self._no_reference(f"the reference failed ({res.value['reference_error']})")
            return []
        lane.setup_failures += 1
        # The reference is to blame only when every device's setup failed: one
        # broken device must not cost the others their accuracy check (nor get
        # through its own setup without the reference, and crash on a config).
        if not self.any_setup_ok and all(x.setup_failures > 0 or x.dead for x in self.lanes) \
                and not _out_of_memory(res.message or ""):
            self._no_reference(f"computing the reference output failed ({res.error_type}: {res.message})")
        if lane.setup_failures >= 3:
            lane.dead = True
            live = [x for x in self.lanes if not x.dead]
            if not live and _out_of_memory(res.message or ""):
                # Its copy of the arguments does not fit beside this process's
                # (large inputs): benchmark the configs here, on the arguments themselves.
                self.tuner.progress.message(
                    f"[deuteron] {self.tuner.name}: benchmarking in this process (a crashing config would end "
                    f"it): the benchmark process found no GPU memory for its copy of the arguments "
                    f"({res.error_type}: {(res.message or '').splitlines()[0][:200]})")
                self.setup_payload = self.tuner.in_process_payload(self.setup_payload)
                self.isolate = False
                self.need_setup = True
                return []
            if not live:
                raise exc.AutotuneError(
                    f"{self.tuner.name}: the benchmark process could not be started: "
                    f"{res.error_type}: {res.message}\n{res.traceback}")
            self.tuner.progress.message(
                f"[deuteron] {self.tuner.name}: benchmarking without device {lane.device.index}: its benchmark "
                f"worker failed to start 3 times ({res.error_type}: {res.message.splitlines()[0] if res.message else ''})")
        return []

    def close(self) -> None:
        if not self.isolate:
            if self.state is not None:
                self.state.restore()  # the caller's tensors as they were before tuning
            self.state = None
            return
        if self.own_pool or any(lane.inflight is not None for lane in self.lanes):
            # A job still running (budget stop): do not leave the shared processes busy.
            self.pool.close()
            return
        if not any(p is self.pool for p in _POOLS.values()) or not self.pool._workers:
            return  # already closed
        # Keep the processes for the next kernel, without this kernel's tensors.
        for lane in self.lanes:
            if not lane.dead:
                self.pool.submit("deuteron.autotune.benchmark:reset", timeout=30, on_worker=lane.worker)
        self.pool.wait_all(timeout=35)


_CONFIG_MENTIONS = re.compile(r"^# (config: .*|resolved .*|  .*)\n|'config': '[^']*'", re.MULTILINE)


def _code_key(text: str) -> str:
    """A generated module's text without what names its config (the header's config and
    resolution lines, the config in ``_deuteron_meta``): equal keys run the same code."""
    return hashlib.sha256(_CONFIG_MENTIONS.sub("", text).encode()).hexdigest()


def _out_of_memory(message: str) -> bool:
    return "out of memory" in message.lower()


# ----------------------------------------------------------------- tuner


def _device_is_cuda(args: Sequence[Any]) -> bool:
    return any(a.is_cuda for a in _bench.tensor_leaves(args))


class Tuner:
    def __init__(self, bound: Any, args: Sequence[Any], hooks: TuneHooks) -> None:
        self.bound = bound
        self.args = tuple(args)
        self.hooks = hooks
        self.settings = bound.settings
        self.clock = hooks.clock
        self.name = bound.kernel.fn.__name__
        self.cuda = _device_is_cuda(self.args)
        self.results: dict[str, float | None] = {}
        self.paths: dict[str, str] = {}
        self.failures: list[Failure] = []
        self.start = self.clock()
        effort = self.settings.autotune_effort if self.settings.autotune_effort != "none" else "quick"
        self.effort = effort
        self.progress = Progress(self.name, enabled=self.settings.autotune_progress_bar,
                                 stream=hooks.stream, log_path=self.settings.autotune_log, clock=self.clock,
                                 max_generations=None)
        self.backend = bound.backend
        info = bound.device_info or {}
        self.target = ("cuda", int(info.get("compute_capability", 90)), 32) if (
            self.cuda and info.get("is_cuda", True)) else None
        self._tell: Callable[[str, float | None], None] | None = None
        self._pending: set[str] = set()
        self._asked: list[str] = []
        self._told: set[str] = set()
        self._compile_times: list[float] = []
        self.compile_timeout = float(self.settings.autotune_compile_timeout)
        self.timing = {"prepare": 0.0, "compile": 0.0, "benchmark": 0.0, "rebenchmark": 0.0,
                       "last_compile_at": 0.0}
        # The arguments a config's launches are recorded with (prepare): these, but
        # copies of those that host code writes in place (setup_payload).
        self.capture_args: tuple = self.args
        self.seeds: list[str] = []  # warm start: configs (normalized JSON) to try in the first generation
        # Configs whose Triton module is the same (requests the plan resolves away:
        # a descriptor load Triton miscompiles, ...) compile and run once: code key ->
        # the first config, each config's key, and the later ones waiting for a result.
        self._code_first: dict[str, str] = {}
        self._code_keys: dict[str, str] = {}
        self._same_code: dict[str, list[str]] = {}

    # ------------------------------------------------------------- codegen
    def code_path(self, config_json: str) -> str:
        return str(self.bound.write_module(config_json, self.backend))

    def prepare(self, config_json: str) -> dict[str, Any]:
        """Code generation + launch capture for one config (main process)."""
        if self.hooks.prepare is not None:
            payload = self.hooks.prepare(self, config_json)
            payload.setdefault("path", self.code_path(config_json))
            payload.setdefault("launches", None)
            payload.setdefault("target", self.target)
            return payload
        path = self.code_path(config_json)
        launches = None
        if self.backend == "triton" and self.cuda and not env.triton_interpret():
            try:
                launches = capture_launches(Path(path), self.bound.globals, self.capture_args)
            except Exception as e:  # noqa: BLE001 - the benchmark process compiles it instead
                self.progress.log(f"no precompile for {config_json}: {type(e).__name__}: {e}")
        return {"path": path, "launches": launches, "target": self.target}

    # ------------------------------------------------------------ results
    def record(self, config: str, seconds: float | None, kind: str = "", message: str = "") -> None:
        if config in self.results:
            return
        self.results[config] = seconds
        if seconds is None:
            self.failures.append(Failure(config, kind, message))
        self.progress.result(config, seconds, f"[{kind}] {message}" if seconds is None else None)
        self._pending.discard(config)
        for twin in self._same_code.pop(config, []):
            self.record(twin, seconds, kind, message)

    def _twins(self) -> dict[str, list[str]]:
        """The first config of each code -> the later configs with the same code."""
        out: dict[str, list[str]] = {}
        for config, key in self._code_keys.items():
            first = self._code_first[key]
            if first != config:
                out.setdefault(first, []).append(config)
        return out

    def same_code_as(self, config: str, path: str) -> str | None:
        """The config evaluated before whose generated code is this one's, if any.

        Triton modules only: the reference back end's (interpret mode) leave out what
        only the GPU sees (warps, stages, indexing), and its tuning stands in for the GPU's."""
        if self.backend != "triton":
            return None
        try:
            key = self._code_keys[config] = _code_key(Path(path).read_text())
        except OSError:  # a test's prepare hook without a module
            return None
        first = self._code_first.setdefault(key, config)
        return None if first == config else first

    def out_of_budget(self) -> bool:
        budget = self.settings.autotune_budget_seconds
        return budget is not None and self.clock() - self.start >= budget

    def any_success(self) -> bool:
        return any(v is not None for v in self.results.values())

    # ------------------------------------------------------------ evaluate
    def evaluate(self, batch: list[str], stragglers: bool = True) -> None:
        """Compiles and benchmarks a generation.

        Returns when every config has a result, or (``stragglers``) when three quarters have
        one and the rest keep compiling for longer than the generation took so far (at least
        2 s): slow compiles of big tiles then finish in the background while the search moves
        on, and their results reach the search with the next generation.
        """
        fresh = [c for c in batch if c not in self.results and c not in self._pending]
        self._asked.extend(c for c in batch if c not in self._told and c not in self._asked)
        self._pending.update(fresh)
        for config in fresh:
            t0 = self.clock()
            try:
                payload = self.prepare(config)
            except Exception as e:  # noqa: BLE001
                self.record(config, None, "codegen", f"{type(e).__name__}: {e}")
                continue
            finally:
                self.timing["prepare"] += self.clock() - t0
            self.paths[config] = payload["path"]
            twin = self.same_code_as(config, payload["path"])
            if twin is not None:
                self.progress.log(f"same code as {twin}: {config}")
                if twin in self.results:
                    r = self.results[twin]
                    failure = next((f for f in self.failures if f.config == twin), None)
                    self.record(config, r, *(failure.kind, failure.message) if failure else ())
                else:
                    self._same_code.setdefault(twin, []).append(config)
                continue

            def done(res: JobResult, config: str = config) -> None:
                self.timing["compile"] += res.seconds
                self.timing["last_compile_at"] = self.clock() - self.start
                if res.ok:
                    self._compile_times.append(res.seconds)
                    self._adapt_compile_timeout()
                    self.bench.enqueue(config, self.paths[config])
                elif res.error_type == "TimeoutError":
                    self.record(config, None, "compile timeout", res.message)
                elif res.error_type == "WorkerCrashed":
                    self.record(config, None, "compile crash", self._with_worker_log(res.message))
                else:
                    self.record(config, None, "compile error", f"{res.error_type}: {res.message}")

            self.compile_pool.submit(self.hooks.compile_target, payload["path"], payload["launches"],
                                     payload["target"], timeout=self.compile_timeout, on_done=done)
        gen_start = self.clock()
        three_quarters_at: float | None = None
        in_batch = set(batch)
        while self._pending & in_batch:
            self.poll_once()
            done_count = sum(1 for c in batch if c in self.results)
            now = self.clock()
            if stragglers and three_quarters_at is None and done_count >= 0.75 * len(batch):
                three_quarters_at = now
            if (three_quarters_at is not None and not self.bench.busy and
                    now - three_quarters_at > max(2.0, three_quarters_at - gen_start)):
                self.progress.log(f"moving on with {len(self._pending & in_batch)} configs still compiling")
                break
            if self.stop_if_out_of_budget():
                break
        self.flush_tells()

    def _adapt_compile_timeout(self) -> None:
        """Once 8 configs have compiled, a compile that takes 8x their median (at least 15 s)
        is a straggler not worth waiting for (huge unrolled or spilling code): the timeout
        drops to that, for running jobs too; never above autotune_compile_timeout."""
        times = self._compile_times
        if len(times) < 8 or len(times) % 4:
            return
        limit = min(self.settings.autotune_compile_timeout, max(15.0, 8.0 * statistics.median(times)))
        if limit < self.compile_timeout:
            self.compile_timeout = limit
            self.compile_pool.tighten(limit)
            self.progress.log(f"compile timeout now {limit:.1f} s (median compile {statistics.median(times):.2f} s)")

    def poll_once(self) -> None:
        self.compile_pool.poll(0.01)
        for config, outcome in self.bench.poll(0.01):
            if outcome.get("ok"):
                self.record(config, outcome["seconds"])
            else:
                message = outcome.get("message", "")
                if outcome.get("kind") == "crash":
                    message = self._with_worker_log(message)
                self.record(config, None, outcome.get("kind", "error"), message)
        self.progress.update()

    def stop_if_out_of_budget(self) -> bool:
        """Once the budget is used up (and some config has succeeded): drops queued work, returns True."""
        if not (self.out_of_budget() and self.any_success()):
            return False
        self.compile_pool.cancel_queued()
        self.bench.queue.clear()
        self.progress.log(f"budget of {self.settings.autotune_budget_seconds} s used up")
        return True

    def drain(self) -> None:
        """Waits for configs still compiling or benchmarking (within the budget)."""
        while self._pending and (self.compile_pool.busy or self.bench.busy):
            self.poll_once()
            if self.stop_if_out_of_budget():
                break
        self.flush_tells()

    def flush_tells(self) -> None:
        # Results reach the search in the order it asked for them (not in the order compiles
        # happened to finish), so a search is reproducible from its seed and the timings.
        if self._tell is None:
            return
        for config in self._asked:
            if config in self.results and config not in self._told:
                self._told.add(config)
                self._tell(config, self.results[config])
        self._asked = [c for c in self._asked if c not in self._told]

    def _with_worker_log(self, message: str) -> str:
        tail = ""
        for pool in (self.compile_pool, getattr(self.bench, "pool", None)):
            if pool is not None and getattr(pool, "stderr_path", None):
                tail += pool.stderr_tail(1500)
        return message + (f"\nlast worker output:\n{tail}" if tail.strip() else "")

    # ------------------------------------------------------------- rebench
    def rebench(self) -> None:
        # One of each set of configs with the same code (their times are one measurement).
        twins = {t for ts in self._twins().values() for t in ts}
        ok = sorted((t, c) for c, t in self.results.items() if t is not None and c not in twins)
        if len(ok) < 2 or self.out_of_budget():
            return
        best = ok[0][0]
        top = self.hooks.rebench_top or (8 if self.effort == "full" else 4)
        near = [c for t, c in ok[:top] if t <= best * 1.15]
        if len(near) < 2:
            return
        self.progress.log(f"re-benchmarking {len(near)} near-best configs")
        t0 = self.clock()
        samples: dict[str, list[float]] = {c: [self.results[c]] for c in near}  # type: ignore[misc]
        for _ in range(3):  # interleaved rounds: drift affects every config alike
            for c in near:
                self.bench.enqueue(c, self.paths[c], False, 100.0, pinned=True)
        while self.bench.busy:
            for config, outcome in self.bench.poll(0.05):
                if outcome.get("ok"):
                    samples[config].append(outcome["seconds"])
            if self.out_of_budget() and self.settings.autotune_budget_seconds is not None and \
                    self.clock() - self.start > 1.2 * self.settings.autotune_budget_seconds:
                self.bench.queue.clear()
        twins_of = self._twins()
        for c, s in samples.items():
            self.results[c] = statistics.median(s)
            for twin in twins_of.get(c, ()):
                self.results[twin] = self.results[c]
        self.timing["rebenchmark"] = self.clock() - t0

    # ----------------------------------------------------------------- run
    def setup_payload(self) -> tuple[dict[str, Any], bool]:
        """The benchmark process's setup, and whether it can run in a subprocess."""
        s = self.settings
        options = {"cuda": self.cuda, "accuracy": s.autotune_accuracy_check, "atol": s.autotune_baseline_atol,
                   "rtol": s.autotune_baseline_rtol, "warmup_ms": 5.0,
                   "rep_ms": 40.0 if self.effort == "full" else 20.0}
        reference = None
        if s.autotune_accuracy_check:
            if s.autotune_baseline_fn is not None:
                a = _bench.clone_args(self.args)
                out = s.autotune_baseline_fn(*a)
                if self.cuda:
                    torch.cuda.synchronize()
                reference = ("values", _bench.pack_value(out if out is not None else
                                                         [x for x in a if hasattr(x, "shape")]))
            else:
                reference = ("module", self.default_path)
        # The generated host code's globals.
        names = None
        meta: dict[str, Any] = {}
        try:
            meta = load_module(Path(self.default_path), self.bound.globals)._deuteron_meta
            names = list(meta.get("globals", []))
        except Exception:  # noqa: BLE001
            names = None
        protect = self._protect(meta)
        spec, bad = _bench.globals_spec(self.bound.globals, names)
        device = None
        for a in self.args:
            if hasattr(a, "device") and hasattr(a, "shape"):
                device = str(a.device)
                break
        payload = {"args": [_bench.pack_value(a) for a in self.args], "globals": spec, "reference": reference,
                   "options": options, "measure": self.hooks.measure_target, "runner": self.hooks.runner_target,
                   "device": device, "packed": True, "protect": protect}
        isolate = self.hooks.isolate if self.hooks.isolate is not None else True
        if isolate and not bad:
            why = _bench.unsendable(payload)
            if why is not None:
                bad = [why]
        if protect["stacks"] and isolate:
            self.progress.message(
                f"[deuteron] {self.name}: benchmarking in this process (a crashing config would end it): "
                f"its arguments hold StackTensor addresses of this process's memory, which another process "
                f"cannot reach")
            isolate = False
        if bad and isolate:
            self.progress.message(
                f"[deuteron] {self.name}: benchmarking in this process (a crashing config would end it): "
                f"the generated code needs {', '.join(bad)}, which cannot be sent to a worker process")
            isolate = False
        if not isolate:
            payload = self.in_process_payload(payload)
        return payload, isolate

    def _protect(self, meta: dict[str, Any]) -> dict[str, list]:
        """What the benchmark side keeps as it was (saved_memory.py), from the default
        module's ``_deuteron_meta``: the positions of the arguments written in place, and
        the StackTensor tables and examples.  Also sets ``capture_args``: recording a
        config's launches runs its host code, so the arguments that code itself writes in
        place (x.mul_(2)) are recorded with a copy of their own, made once.  Raises
        _Untunable where the tensors stack stores reach cannot be told."""
        stacks = [tuple(e) for e in meta.get("stacks") or []]
        why = stack_problem(stacks)
        if why is not None:
            raise _Untunable(why)
        params = list(inspect.signature(self.bound.kernel.fn).parameters)[:len(self.args)]

        def positions(key: str) -> list[int]:
            return [params.index(n) for n in meta.get(key) or () if n in params]

        host_written = positions("host_mutates")
        if host_written:
            self.capture_args = tuple(_bench.clone_args((a,))[0] if i in host_written else a
                                      for i, a in enumerate(self.args))
        return {"args": positions("mutates"), "stacks": stacks}

    def in_process_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The setup for benchmarking in this process: the arguments and globals themselves."""
        reference = payload["reference"]
        return dict(payload, packed=False, args=list(self.args), globals_values=dict(self.bound.globals),
                    reference=reference if reference is None or reference[0] == "module" else
                    ("values", _bench.unpack_value(reference[1])))

    def run(self, candidates: list[Config] | None) -> TuneResult:
        default_json = self.bound.default_config_json()
        self.default_json = default_json
        self.default_path = self.code_path(default_json)
        payload, isolate = self.setup_payload()
        jobs = self.hooks.jobs or self.settings.resolved_precompile_jobs()
        self.compile_pool, own_compile = _pool("compile", jobs, self.clock, self.settings.resolved_cache_dir(),
                                             (self.hooks.compile_target,))
        if self.cuda and isolate:
            # The benchmark process copies the arguments onto the GPU: give it
            # the memory this process's allocator caches but does not use.
            torch.cuda.empty_cache()
        timeout = self.hooks.bench_timeout or (self.settings.autotune_compile_timeout + 30.0)
        devices = benchmark_devices(self.bound.device, self.cuda, self.settings.autotune_devices)
        self.bench = _Benchmarker(self, payload, isolate, timeout, devices)
        strategy = ""
        self.progress.log(f"set up in {self.clock() - self.start:.2f} s (default config, worker pools, "
                          f"benchmark inputs)")
        try:
            self.compile_pool.start()
            if candidates is not None:
                batch = []
                for c in candidates:
                    try:
                        batch.append(self.bound.normalize_config_json(c.to_json()))
                    except Exception as e:  # noqa: BLE001
                        self.failures.append(Failure(c.to_json(), "invalid config", str(e)))
                batch = list(dict.fromkeys(batch))
                self.progress.new_generation(1, len(batch))
                self.evaluate(batch, stragglers=False)
                strategy = "list"
            else:
                strategy = self.search()
            self.rebench()
        finally:
            if own_compile:
                self.compile_pool.close()
            else:
                self.compile_pool.cancel_queued()
                # Stragglers still compiling (or a budget stop): their workers are
                # replaced; the idle ones stay warm for the next kernel.
                n = self.compile_pool.cancel_running()
                if n:
                    self.progress.log(f"dropped {n} configs still compiling")
            self.bench.close()
        ok = {c: t for c, t in self.results.items() if t is not None}
        elapsed = self.clock() - self.start
        if not ok:
            self.progress.close()
            first = self.failures[0] if self.failures else None
            detail = f"; first failure [{first.kind}]: {first.message}" if first else ""
            raise exc.AutotuneError(f"no config of {self.name} compiled and ran correctly "
                                    f"({len(self.failures)} failed){detail}")
        best_json = min(ok, key=lambda c: ok[c])
        top = sorted(ok.items(), key=lambda kv: (kv[1], kv[0]))[:8]
        return TuneResult(Config.from_json(best_json), ok[best_json], ok.get(default_json), len(self.results),
                          list(self.failures), elapsed, strategy,
                          timing=dict(self.timing, jobs=float(jobs), devices=float(self.bench.devices)),
                          runs_per_device=dict(self.bench.runs_per_device), top=top,
                          warm_start=list(self.seeds))

    def search(self) -> str:
        c = core()
        s = self.settings
        if not hasattr(c, "SearchSession"):
            self.progress.message(f"[deuteron] {self.name}: this build has no search (deuteron._core.SearchSession);"
                                  f" using the default config")
            self.progress.new_generation(1, 1)
            self.evaluate([self.default_json], stragglers=False)
            return "none"
        spec = self.bound.tune_spec_json()
        strategy = s.autotuner or env.autotuner() or c.tune_default_strategy()
        session = c.SearchSession(spec, dict(self.bound.device_info or {}), self.default_json,
                                  strategy, int(s.autotune_random_seed), self.effort, s.autotune_max_generations,
                                  env.autotune_space_options())
        self.progress.max_generations = s.autotune_max_generations
        self.progress.log(f"strategy {session.strategy}, seed {s.autotune_random_seed}, effort {self.effort}, "
                          f"space 10^{session.log10_cardinality:.1f} configs")
        self._tell = session.tell
        if self.seeds:
            # Warm start: the first generation is the default config (the strategy's first ask,
            # cut to one) and the best configs of the nearest tuned shapes; from then on the
            # strategy works from the best of them (pattern: their neighbours).
            first = session.ask(1)
            batch = list(dict.fromkeys(first + self.seeds))
            self.progress.log(f"warm start from {len(self.seeds)} configs of the nearest tuned shapes")
            self.progress.new_generation(session.generation, len(batch))
            self.evaluate(batch)
            if self.results.get(self.default_json):
                self.progress.default = self.results[self.default_json]
        while not session.finished() and not self.out_of_budget():
            batch = session.ask()
            if not batch:
                break
            self.progress.new_generation(session.generation, len(batch))
            self.evaluate(batch)
            if self.progress.default is None and self.results.get(self.default_json):
                self.progress.default = self.results[self.default_json]
        self.drain()
        self._tell = None
        return session.strategy


# ------------------------------------------------------------------ output


def paste_ready(bound: Any, config: Config) -> str:
    """``@deuteron.kernel(config=deuteron.Config(...))`` with only the keys that differ from the defaults."""
    full = json.loads(bound.normalize_config_json(config.to_json()))
    bare = json.loads(bound.normalize_config_json("{}"))
    minimal = {k: v for k, v in full.items()
               if k == "block_sizes" or (v != bare.get(k) and v not in ([], None))}
    try:
        if json.loads(bound.normalize_config_json(Config(**minimal).to_json())) != full:
            minimal = full
    except Exception:  # noqa: BLE001
        minimal = full
    return f"@deuteron.kernel(config={Config(**minimal)!r})"


def _cache_material(bound: Any, args: Sequence[Any], candidates: list[Config], effort: str, strategy: str) -> dict:
    src = bound.kernel.source()
    s = bound.settings
    spec = bound.tune_spec_json()
    return {
        "kernel": bound.kernel.fn.__qualname__,
        "source": src.text,
        "specialization": repr(bound.kernel.specialization_key(tuple(args))),
        "config_spec": spec,
        "settings": {"static_shapes": s.static_shapes, "index_dtype": str(s.index_dtype),
                     "dot_precision": s.dot_precision, "precision": s.precision, "interpret": s.interpret,
                     "accuracy_check": s.autotune_accuracy_check},
        "configs": [c.to_json() for c in candidates],
        "effort": effort,
        "strategy": strategy,
        "device": device_key(getattr(bound, "device", None)),
        "versions": versions(),
    }


def _strategy(settings: Any, candidates: list[Config]) -> str:
    return "list" if candidates else (settings.autotuner or env.autotuner() or "default")


def _shared(settings: Any) -> SharedCache | None:
    """The shared tuning cache the settings name (None: none, or caching is off).
    An unusable URL raises TuningCacheError here, the first time it is used."""
    if not settings.autotune_cache or not settings.tuning_cache:
        return None
    return shared_cache(settings.tuning_cache)


def _shared_key(bound: Any, args: Sequence[Any], candidates: list[Config]) -> TuningKey | None:
    try:
        return tuning_key(bound, args, candidates)
    except Exception as e:  # noqa: BLE001 - the local cache still works
        warnings.warn(f"deuteron: shared tuning cache disabled for {bound.kernel.fn.__name__}: "
                      f"cannot compute its key ({type(e).__name__}: {e})", CacheWarning, stacklevel=3)
        return None


def _request_effort(settings: Any, candidates: list[Config]) -> str:
    return "list" if candidates else settings.autotune_effort


def _warm_start_seeds(bound: Any, shared: SharedCache, key: TuningKey, limit: int = 8) -> list[str]:
    """The best configs of the nearest tuned shapes of this kernel, as valid configs of this
    shape (normalized JSON): each neighbour's best first, then their runners-up."""
    lists = []
    for _, record in shared.neighbours(key):
        lists.append([record["config"]] + [item["config"] for item in record.get("top", [])])
    seeds: list[str] = []
    for position in range(max((len(x) for x in lists), default=0)):
        for configs in lists:
            if position >= len(configs) or len(seeds) >= limit:
                continue
            try:
                config_json = bound.normalize_config_json(Config.from_dict(configs[position]).to_json())
            except Exception:  # noqa: BLE001 - not a config of this shape's space
                continue
            if config_json not in seeds:
                seeds.append(config_json)
    return seeds


def _publish(shared: SharedCache, key: TuningKey, name: str, result: TuneResult, effort: str) -> None:
    tuning: dict[str, Any] = {
        "effort": effort, "strategy": result.strategy, "configs_tried": result.evaluations,
        "failed": len(result.failures), "tuning_seconds": round(result.elapsed, 3),
        "devices": int(result.timing.get("devices", 1)), "warm_start": bool(result.warm_start),
        "host": socket.gethostname()[:256], "created": round(time.time(), 3)}
    if result.default_seconds:
        tuning["default_seconds"] = result.default_seconds
    try:
        record = make_record(key, name, result.config.to_dict(), result.seconds, tuning,
                             [(json.loads(c), t) for c, t in result.top])
    except RecordError as e:  # pragma: no cover - a bug: what we write must read back
        warnings.warn(f"deuteron: not publishing {name} to the shared tuning cache: {e}", CacheWarning, stacklevel=3)
        return
    shared.publish(record)


def _describe_record(record: dict[str, Any]) -> str:
    t = record["tuning"]
    parts = [f"effort {t['effort']}"]
    if t.get("host"):
        parts.insert(0, f"on {t['host']}")
    if t.get("configs_tried") is not None:
        parts.append(f"{int(t['configs_tried'])} configs")
    if t.get("tuning_seconds") is not None:
        parts.append(f"{t['tuning_seconds']:.1f} s")
    return f"tuned {', '.join(parts)}; best {fmt_seconds(float(record['seconds']))}"


def cached_config(bound: Any, args: Sequence[Any]) -> Config | None:
    """The tuned config the autotune cache holds for these arguments, or None (never tunes).

    Used while torch.compile / torch.export trace a call: the arguments are fake
    tensors then, so nothing can be timed, but an earlier eager run's result applies.
    """
    settings = bound.settings
    if not settings.autotune_cache or settings.force_autotune:
        return None
    args = bound.kernel.normalize_args(tuple(args))
    candidates = [c if isinstance(c, Config) else Config(**c) for c in bound.kernel.configs]
    try:
        material = _cache_material(bound, args, candidates, settings.autotune_effort, _strategy(settings, candidates))
        record = TuneCache(settings.resolved_cache_dir() / "autotune").load(bound.kernel.fn.__name__, material)
        if record is not None:
            return bound.normalize_config(Config.from_dict(record["config"]))
    except Exception:  # noqa: BLE001 - a missing or unusable entry means the default
        pass
    shared = _shared(settings)
    key = _shared_key(bound, args, candidates) if shared is not None else None
    if shared is None or key is None:
        return None
    found = shared.lookup(key, _request_effort(settings, candidates), check=bound.normalize_config)
    return found["checked_config"] if found is not None else None


def tune(bound: Any, args: Sequence[Any], configs: Sequence[Config | dict] | None = None, *,
         hooks: TuneHooks | None = None, return_result: bool = False) -> Any:
    """The best config of ``bound`` for ``args`` (see the module docstring)."""
    hooks = hooks or TuneHooks()
    settings = bound.settings
    args = bound.kernel.normalize_args(tuple(args))  # default arguments filled in, as a call does
    candidates = [c if isinstance(c, Config) else Config(**c) for c in
                  (configs if configs is not None else bound.kernel.configs)]
    if len(candidates) == 1:
        return candidates[0] if not return_result else TuneResult(candidates[0], 0.0, None, 0)
    if not candidates and settings.autotune_effort == "none":
        cfg = bound.default_config()
        return cfg if not return_result else TuneResult(cfg, 0.0, None, 0)
    name = bound.kernel.fn.__name__
    effort = settings.autotune_effort
    strategy = _strategy(settings, candidates)
    cache = TuneCache(settings.resolved_cache_dir() / "autotune") if settings.autotune_cache else None
    material = None
    stream = hooks.stream if hooks.stream is not None else sys.stderr
    if cache is not None:
        try:
            material = _cache_material(bound, args, candidates, effort, strategy)
        except Exception as e:  # noqa: BLE001
            warnings.warn(f"deuteron: autotune cache disabled for {name}: {e}", stacklevel=2)
            cache = None
    shared = _shared(settings)
    if cache is not None and material is not None and not settings.force_autotune:
        record = cache.load(name, material)
        if record is not None:
            try:
                cfg = bound.normalize_config(Config.from_dict(record["config"]))
            except Exception as e:  # noqa: BLE001
                warnings.warn(f"deuteron: ignoring autotune cache entry for {name}: its config is invalid ({e})",
                              stacklevel=2)
            else:
                if settings.autotune_progress_bar:
                    print(f"[deuteron] {name}: using the tuned config from {cache.path(name, record['key'])}",
                          file=stream)
                if return_result:
                    return TuneResult(cfg, float(record.get("seconds") or 0.0), record.get("default_seconds"),
                                      0, cached=True, source=str(cache.path(name, record["key"])))
                return cfg
    shared_key = _shared_key(bound, args, candidates) if shared is not None else None
    if shared is not None and shared_key is not None and not settings.force_autotune:
        found = shared.lookup(shared_key, _request_effort(settings, candidates), check=bound.normalize_config)
        if found is not None:
            cfg = found["checked_config"]
            if settings.autotune_progress_bar:
                print(f"[deuteron] {name}: using the tuned config from the shared cache {shared.url} "
                      f"({_describe_record(found)})", file=stream)
            if cache is not None and material is not None:
                try:  # the local cache in front: the next process on this host does not ask the store
                    cache.store(name, material, cfg.to_dict(), seconds=found["seconds"],
                                default_seconds=found["tuning"].get("default_seconds"),
                                evaluations=0, failures=0, strategy=found["tuning"].get("strategy", ""),
                                elapsed=0.0, shared_cache=shared.url, shared_key=found["key"])
                except OSError as e:
                    warnings.warn(f"deuteron: could not write the autotune cache: {e}", stacklevel=2)
            if return_result:
                return TuneResult(cfg, float(found["seconds"]), found["tuning"].get("default_seconds"), 0,
                                  cached=True, source=shared.url)
            return cfg
    tuner = Tuner(bound, args, hooks)
    if shared is not None and shared_key is not None and not candidates:
        tuner.seeds = _warm_start_seeds(bound, shared, shared_key)
    try:
        result = tuner.run(candidates or None)
    except _Untunable as e:
        tuner.progress.close()
        cfg = candidates[0] if candidates else bound.default_config()
        warnings.warn(f"deuteron: {name} is not autotuned, {e}: it runs "
                      f"{'its first config' if candidates else 'the default config'}; pass config=... "
                      f"(or autotune_effort='none') to choose one", exc.AutotuneSkipped, stacklevel=2)
        return cfg if not return_result else TuneResult(cfg, 0.0, None, 0)
    except BaseException:
        tuner.progress.close()
        raise
    kinds: dict[str, int] = {}
    for f in result.failures:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    failed = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    speedup = ""
    if result.default_seconds:
        speedup = f", {result.default_seconds / result.seconds:.2f}x the default config ({fmt_seconds(result.default_seconds)})"
    summary = (f"[deuteron] {name}: tuned in {result.elapsed:.1f} s: {result.evaluations} configs"
               f"{f', {len(result.failures)} failed ({failed})' if result.failures else ''}; "
               f"best {fmt_seconds(result.seconds)}{speedup}")
    for f in result.failures:
        tuner.progress.log(f"failed [{f.kind}] {f.message.splitlines()[0] if f.message else ''} :: {f.config}")
    t = result.timing
    if t:
        tuner.progress.log(f"time: code generation + launch capture {t['prepare']:.1f} s; compile "
                           f"{t['compile']:.1f} s over {int(t.get('jobs', 1))} workers, last one done at "
                           f"{t['last_compile_at']:.1f} s; benchmark {t['benchmark']:.1f} s on {int(t.get('devices', 1))} "
                           f"device(s); "
                           f"re-benchmark {t['rebenchmark']:.1f} s")
    tuner.progress.close(summary)
    print(f"[deuteron] {name}: to skip tuning, use: {paste_ready(bound, result.config)}", file=stream)
    if cache is not None and material is not None:
        try:
            cache.store(name, material, result.config.to_dict(), seconds=result.seconds,
                        default_seconds=result.default_seconds, evaluations=result.evaluations,
                        failures=len(result.failures), strategy=result.strategy, elapsed=result.elapsed)
        except OSError as e:
            warnings.warn(f"deuteron: could not write the autotune cache: {e}", stacklevel=2)
    if shared is not None and shared_key is not None:
        _publish(shared, shared_key, name, result, _request_effort(settings, candidates))
    return result if return_result else result.config
