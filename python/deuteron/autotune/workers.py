"""Worker processes for the autotuner: fresh interpreters, killable one by one.

Each worker is ``python deuteron/autotune/_worker_main.py`` started with
:mod:`subprocess` (not :mod:`multiprocessing`).  A fresh interpreter never
re-imports the user's ``__main__`` module, so tuning works from a script that
has no ``if __name__ == "__main__":`` guard (multiprocessing's spawn and
forkserver start methods re-run such a script's top level in every child,
which would start tuning again there, recursively; fork copies a process that
may hold CUDA and Triton state and threads).

The messages (length-prefixed pickles over two pipes) are defined in
worker_protocol.py, which both ends use.  The worker's own stdout/stderr are the parent's stderr (for prints and Triton
messages), so they never corrupt the message stream.

:class:`WorkerPool` runs jobs on N workers with a per-job timeout: a job that
runs past it has its worker killed (SIGKILL) and replaced; a worker that dies
(segfault, ``os._exit``) fails its job as ``WorkerCrashed`` and is replaced.
Workers may differ in their environment (``worker_env``: one benchmark worker
per GPU, each pinned to its device) and a job may be pinned to one worker
(``submit(..., on_worker=i)``: a benchmark runs where its setup ran); a
replaced worker keeps its index and environment.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..runtime import env as _env
from ..runtime.files import open_log, read_tail
from ..compat.helion_alias import helion_alias_mode
from .worker_protocol import (HELION_ALIAS_VARIABLE, READY, read_message, with_preload, worker_environment,
                              write_message)

_WORKER_MAIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_worker_main.py")


@dataclass
class JobResult:
    job_id: int
    ok: bool
    value: Any = None           # the function's return value when ok
    error_type: str = ""        # "TimeoutError", "WorkerCrashed", or the exception's class name
    message: str = ""
    traceback: str = ""
    seconds: float = 0.0        # wall time of the job
    worker: int = -1

    @property
    def fatal(self) -> bool:
        """The worker was lost (timeout or crash)."""
        return self.error_type in ("TimeoutError", "WorkerCrashed")


def _worker_env() -> dict[str, str]:
    env = worker_environment(_env.environment(), sys.path)
    mode = helion_alias_mode()
    if mode is not None:
        env[HELION_ALIAS_VARIABLE] = mode
    return env


class Worker:
    """One worker process; results arrive on a shared queue as (worker, message | EOFError)."""

    def __init__(self, index: int, events: queue.Queue, env: dict[str, str] | None = None,
                 stderr: Any = None) -> None:
        self.index = index
        self._events = events
        self.proc = subprocess.Popen(
            [sys.executable, "-u", _WORKER_MAIN],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            env=env if env is not None else _worker_env(), close_fds=True,
        )
        self.job: int | None = None
        self.ready = False  # set by its "ready" message (after its preloads)
        self.started = 0.0
        self.deadline = float("inf")
        self.dead = False
        self._reader = threading.Thread(target=self._read_loop, name=f"deuteron-worker-{index}", daemon=True)
        self._reader.start()

    def _read_loop(self) -> None:
        assert self.proc.stdout is not None
        try:
            while True:
                msg = read_message(self.proc.stdout)
                self._events.put((self, msg))
        except Exception as e:  # EOF: the process ended (or was killed)
            self._events.put((self, EOFError(str(e))))

    def send(self, job_id: int, target: str, args: tuple, kwargs: dict, timeout: float | None, now: float) -> None:
        assert self.proc.stdin is not None
        self.job = job_id
        self.started = now
        self.deadline = now + timeout if timeout else float("inf")
        try:
            # The arguments travel as bytes of their own, which the worker unpickles inside
            # the job: a value it cannot rebuild (a function of a module it cannot import)
            # fails that job with the error instead of ending the worker.
            payload = pickle.dumps((args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # noqa: BLE001 - an unpicklable argument (a local lambda) fails this job
            self._events.put((self, (job_id, False, (type(e).__name__, f"cannot send the job's arguments to a "
                                                     f"worker process: {e}", traceback.format_exc()[-4000:]), 0.0)))
            return
        try:
            write_message(self.proc.stdin, (job_id, target, payload))
        except (BrokenPipeError, OSError):
            pass  # the process is gone: its EOF fails the job as WorkerCrashed

    def kill(self) -> None:
        self.dead = True
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        for s in (self.proc.stdin, self.proc.stdout):
            try:
                if s is not None:
                    s.close()
            except OSError:
                pass

    def request_exit(self) -> None:
        """EOF on the worker's stdin: it exits after its current job."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass


@dataclass
class _Pending:
    job_id: int
    target: str
    args: tuple
    kwargs: dict
    timeout: float | None
    on_done: Callable[[JobResult], None] | None = None
    worker: int | None = None  # pinned to this worker index


@dataclass
class WorkerPool:
    """N workers, a FIFO of jobs, per-job timeouts, crash/timeout replacement.

    ``submit`` queues a job; ``poll(timeout)`` waits for events and returns the
    finished JobResults (also passed to each job's ``on_done``).  The clock is
    injectable for tests.
    """

    size: int
    clock: Callable[[], float] = time.monotonic
    env: dict[str, str] | None = None
    preload: tuple[str, ...] = ()
    stderr_path: str | None = None  # the workers' own output (None: this process's stderr)
    worker_env: tuple[dict[str, str], ...] = ()  # per worker index: variables added to `env`
    _events: queue.Queue = field(default_factory=queue.Queue)
    _workers: list[Worker] = field(default_factory=list)
    _queue: list[_Pending] = field(default_factory=list)
    _running: dict[int, _Pending] = field(default_factory=dict)
    _next_id: int = 0
    restarts: int = 0

    def __post_init__(self) -> None:
        self.size = max(1, int(self.size))
        if self.env is None:
            self.env = _worker_env()
        if self.preload:
            self.env = with_preload(self.env, self.preload)

    def _spawn(self, index: int) -> Worker:
        env = self.env
        if index < len(self.worker_env):
            env = dict(env or {}, **self.worker_env[index])
        if self.stderr_path is None:
            return Worker(index, self._events, env)
        with open_log(Path(self.stderr_path)) as f:  # the child keeps its own descriptor
            return Worker(index, self._events, env, stderr=f)

    def stderr_tail(self, n: int) -> str:
        """The last `n` characters the workers wrote (when they write to a file)."""
        return read_tail(Path(self.stderr_path), n) if self.stderr_path else ""

    def start(self) -> None:
        while len(self._workers) < self.size:
            self._workers.append(self._spawn(len(self._workers)))

    def submit(self, target: str, *args: Any, timeout: float | None = None,
               on_done: Callable[[JobResult], None] | None = None, on_worker: int | None = None,
               **kwargs: Any) -> int:
        """Queues a job (``on_worker``: only that worker may run it); returns its id."""
        if on_worker is not None and not 0 <= on_worker < self.size:
            raise ValueError(f"no worker {on_worker} in a pool of {self.size}")
        job_id = self._next_id
        self._next_id += 1
        self._queue.append(_Pending(job_id, target, args, kwargs, timeout, on_done, on_worker))
        self._dispatch()
        return job_id

    def tighten(self, limit: float) -> None:
        """Lowers the timeout of running and queued jobs to `limit` seconds (from their start)."""
        for w in self._workers:
            if w.job is not None:
                w.deadline = min(w.deadline, w.started + limit)
                job = self._running.get(w.job)
                if job is not None and (job.timeout is None or job.timeout > limit):
                    job.timeout = limit
        for job in self._queue:
            if job.timeout is None or job.timeout > limit:
                job.timeout = limit

    def cancel_queued(self) -> int:
        """Drops jobs that have not started; returns how many."""
        n = len(self._queue)
        self._queue.clear()
        return n

    @property
    def busy(self) -> int:
        return len(self._running) + len(self._queue)

    def _dispatch(self) -> None:
        if not self._workers:
            self.start()
        for i, w in enumerate(self._workers):
            if not self._queue:
                return
            if w.dead:
                w = self._workers[i] = self._spawn(i)
            if w.job is None and w.ready:
                k = next((k for k, job in enumerate(self._queue) if job.worker in (None, i)), None)
                if k is None:
                    continue
                job = self._queue.pop(k)
                self._running[job.job_id] = job
                w.send(job.job_id, job.target, job.args, job.kwargs, job.timeout, self.clock())

    def _finish(self, w: Worker, result: JobResult, out: list[JobResult]) -> None:
        job = self._running.pop(result.job_id, None)
        w.job = None
        result.worker = w.index
        out.append(result)
        if job is not None and job.on_done is not None:
            job.on_done(result)

    def _replace(self, w: Worker) -> None:
        w.kill()
        self.restarts += 1
        self._workers[w.index] = self._spawn(w.index)

    def poll(self, timeout: float = 0.1) -> list[JobResult]:
        out: list[JobResult] = []
        deadline = time.monotonic() + timeout
        while True:
            wait = max(0.0, deadline - time.monotonic())
            # Wake up in time for the nearest job deadline.
            now = self.clock()
            for w in self._workers:
                if w.job is not None and w.deadline != float("inf"):
                    wait = min(wait, max(0.0, w.deadline - now))
            try:
                w, msg = self._events.get(timeout=wait)
            except queue.Empty:
                w, msg = None, None
            if w is not None and self._workers[w.index] is w:
                if msg == READY:
                    w.ready = True
                elif isinstance(msg, EOFError):
                    if w.job is not None and not w.dead:
                        job_id = w.job
                        code = w.proc.poll()
                        try:
                            code = w.proc.wait(timeout=1) if code is None else code
                        except subprocess.TimeoutExpired:
                            pass
                        self._finish(w, JobResult(job_id, False, error_type="WorkerCrashed",
                                                  message=f"the worker process died (exit code {code})",
                                                  seconds=self.clock() - w.started), out)
                    if not w.dead:
                        self._replace(w)
                else:
                    job_id, ok, value, seconds = msg
                    if ok:
                        res = JobResult(job_id, True, value=value, seconds=seconds)
                    else:
                        etype, message, tb = value
                        res = JobResult(job_id, False, error_type=etype, message=message, traceback=tb,
                                        seconds=seconds)
                    self._finish(w, res, out)
            # Timeouts.
            now = self.clock()
            for w in list(self._workers):
                if w.job is not None and now >= w.deadline:
                    job_id = w.job
                    job = self._running.get(job_id)
                    limit = job.timeout if job else 0
                    self._finish(w, JobResult(job_id, False, error_type="TimeoutError",
                                              message=f"did not finish within {limit:g} s; the worker was killed",
                                              seconds=now - w.started), out)
                    self._replace(w)
            self._dispatch()
            if out or time.monotonic() >= deadline:
                return out

    def wait_all(self, timeout: float | None = None) -> list[JobResult]:
        """Polls until every submitted job has a result (or `timeout` passes)."""
        out: list[JobResult] = []
        end = None if timeout is None else time.monotonic() + timeout
        while self.busy:
            if end is not None and time.monotonic() >= end:
                break
            out.extend(self.poll(0.05))
        return out

    def restart(self, index: int) -> None:
        """Replaces worker ``index`` with a fresh process (a CUDA context that may be corrupted);
        a job it was running is dropped without a result."""
        if index < len(self._workers):
            w = self._workers[index]
            if w.job is not None:
                self._running.pop(w.job, None)
                w.job = None
            self._replace(w)

    def cancel_running(self) -> int:
        """Kills the workers that are running a job (their jobs are dropped, with no
        result) and starts fresh ones in their place; idle workers stay warm.
        Returns how many were running."""
        busy = [w for w in self._workers if w.job is not None]
        for w in busy:
            self._running.pop(w.job, None)
            w.job = None
            self._replace(w)
        return len(busy)

    def close(self) -> None:
        self._queue.clear()
        idle = []
        for w in self._workers:
            if w.job is not None:
                w.kill()
            else:
                idle.append(w)
        # EOF to every idle worker first, then one shared wait: closing them one
        # after another would wait for each in turn.
        for w in idle:
            w.request_exit()
        deadline = time.monotonic() + 2.0
        for w in idle:
            try:
                w.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            w.kill()
        self._workers.clear()
        self._running.clear()

    def __enter__(self) -> WorkerPool:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
