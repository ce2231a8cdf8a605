"""The autotuner's worker processes: jobs, errors, timeouts, crashes, replacement."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from deuteron.autotune.workers import WorkerPool


def add(a, b):
    return a + b


def fail(message):
    raise ValueError(message)


def crash(code):
    os._exit(code)


def segfault():
    import ctypes

    ctypes.string_at(0)


def pid():
    return os.getpid()


@pytest.fixture
def pool():
    p = WorkerPool(2)
    p.start()
    yield p
    p.close()


def _by_id(results):
    return {r.job_id: r for r in results}


def test_jobs_run_and_errors_are_reported(pool):
    a = pool.submit("test_autotune_workers:add", 2, 3)
    b = pool.submit("test_autotune_workers:fail", "boom")
    c = pool.submit("os.path:join", "x", "y")
    res = _by_id(pool.wait_all(timeout=120))
    assert res[a].ok and res[a].value == 5
    assert not res[b].ok and res[b].error_type == "ValueError" and "boom" in res[b].message
    assert "Traceback" in res[b].traceback
    assert res[c].ok and res[c].value == os.path.join("x", "y")
    assert pool.restarts == 0  # an exception does not cost the worker


def test_arguments_a_worker_cannot_rebuild_fail_the_job_not_the_worker(pool, tmp_path):
    import importlib.util

    (tmp_path / "by_path_mod.py").write_text("def f(x):\n    return x\n")
    spec = importlib.util.spec_from_file_location("by_path_mod", tmp_path / "by_path_mod.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["by_path_mod"] = mod
    spec.loader.exec_module(mod)
    try:
        a = pool.submit("test_autotune_workers:add", mod.f, 1)  # the worker cannot import by_path_mod
        b = pool.submit("test_autotune_workers:add", lambda: 0, 1)  # does not pickle at all
        c = pool.submit("test_autotune_workers:add", 1, 1)
        res = _by_id(pool.wait_all(timeout=120))
    finally:
        del sys.modules["by_path_mod"]
    assert not res[a].ok and res[a].error_type == "ModuleNotFoundError" and "by_path_mod" in res[a].message
    assert not res[b].ok and "cannot send the job's arguments" in res[b].message
    assert res[c].ok and res[c].value == 2
    assert pool.restarts == 0


def test_timeout_kills_and_replaces_the_worker(pool):
    slow = pool.submit("time:sleep", 1000, timeout=1.0)
    quick = pool.submit("test_autotune_workers:add", 1, 1)
    start = time.monotonic()
    res = _by_id(pool.wait_all(timeout=120))
    assert time.monotonic() - start < 60
    assert not res[slow].ok and res[slow].error_type == "TimeoutError" and res[slow].fatal
    assert res[quick].ok and res[quick].value == 2
    assert pool.restarts == 1
    # The pool still works after the replacement.
    again = pool.submit("test_autotune_workers:add", 2, 2)
    assert _by_id(pool.wait_all(120))[again].value == 4


def test_crash_and_segfault_are_isolated(pool):
    a = pool.submit("test_autotune_workers:crash", 7)
    b = pool.submit("test_autotune_workers:segfault")
    c = pool.submit("test_autotune_workers:add", 20, 22)
    res = _by_id(pool.wait_all(timeout=120))
    assert res[a].error_type == "WorkerCrashed" and "7" in res[a].message
    assert res[b].error_type == "WorkerCrashed"
    assert res[c].ok and res[c].value == 42
    assert pool.restarts == 2


def test_workers_are_fresh_interpreters(pool):
    a = pool.submit("test_autotune_workers:pid")
    res = _by_id(pool.wait_all(120))
    assert res[a].value != os.getpid()


def _run_script(script, *args):
    """Runs a Python script in its own folder (interpret mode, no tuning cache); it must succeed."""
    env = dict(os.environ, DEUTERON_INTERPRET="1", DEUTERON_AUTOTUNE_CACHE="0",
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=script.parent)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_tuning_from_a_script_without_main_guard(tmp_path):
    """A script with no `if __name__ == "__main__":` must tune once, not recursively."""
    script = tmp_path / "no_guard.py"
    script.write_text(textwrap.dedent("""
        import os, sys
        import torch
        import deuteron
        import deuteron.language as hl
        from deuteron.autotune import TuneHooks, tune

        @deuteron.kernel(configs=[deuteron.Config(block_sizes=[8]), deuteron.Config(block_sizes=[16])])
        def double(x: torch.Tensor) -> torch.Tensor:
            out = torch.empty_like(x)
            for tile in hl.tile(x.size(0)):
                out[tile] = x[tile] * 2
            return out

        x = torch.randn(64)
        bound = double.bind((x,))
        cfg = tune(bound, (x,), hooks=TuneHooks(jobs=2))
        print("RESULT", cfg["block_sizes"], flush=True)
    """))
    proc = _run_script(script)
    assert proc.stdout.count("RESULT") == 1, proc.stdout


def test_tighten_lowers_the_timeout_of_running_jobs(pool):
    slow = pool.submit("time:sleep", 1000, timeout=600)
    pool.poll(0.5)
    pool.tighten(1.0)  # what the driver does once typical compile times are known
    start = time.monotonic()
    res = _by_id(pool.wait_all(timeout=120))
    assert res[slow].error_type == "TimeoutError" and time.monotonic() - start < 30


def test_cancel_running_replaces_only_the_busy_workers(pool):
    # One worker sleeps (a straggler compile), the other is idle.
    slow = pool.submit("time:sleep", 1000, timeout=600)
    deadline = time.monotonic() + 60
    while not pool._running and time.monotonic() < deadline:
        pool.poll(0.1)
    assert slow in pool._running
    busy = [w for w in pool._workers if w.job is not None]
    idle = [w for w in pool._workers if w.job is None]
    assert len(busy) == 1 and len(idle) == 1
    idle_pid, busy_proc = idle[0].proc.pid, busy[0].proc
    assert pool.cancel_running() == 1
    assert pool.busy == 0 and pool.restarts == 1
    assert busy_proc.poll() is not None  # the straggler was killed
    assert idle_pid in [w.proc.pid for w in pool._workers]  # the idle one stays warm
    # The dropped job never reports; the pool keeps working.
    j = pool.submit("test_autotune_workers:add", 3, 4)
    res = _by_id(pool.wait_all(120))
    assert set(res) == {j} and res[j].value == 7


def test_close_ends_idle_workers_together():
    p = WorkerPool(4)
    p.start()
    jobs = [p.submit("test_autotune_workers:add", i, i) for i in range(4)]
    assert len(p.wait_all(120)) == len(jobs)
    procs = [w.proc for w in p._workers]
    start = time.monotonic()
    p.close()
    assert time.monotonic() - start < 4  # one shared 2 s grace period, not one per worker
    assert all(proc.poll() is not None for proc in procs)


def test_tuning_under_the_helion_alias(tmp_path):
    """A Helion program run through the `helion` alias tunes in worker processes: the
    generated code's `hl` is the alias module, and a function passed to the kernel lives
    in a module that imports `helion`; the workers import both."""
    (tmp_path / "score_mods.py").write_text(textwrap.dedent("""
        import helion.language as hl  # the worker can only unpickle `scale` with the alias

        def scale(v):
            return v * 3
    """))
    script = tmp_path / "helion_program.py"
    script.write_text(textwrap.dedent("""
        import deuteron.compat
        deuteron.compat.install_helion_alias()
        import torch
        import helion
        import helion.language as hl
        from deuteron.autotune import TuneHooks, tune
        from score_mods import scale

        @helion.kernel(configs=[helion.Config(block_sizes=[8]), helion.Config(block_sizes=[16])])
        def apply(x: torch.Tensor, fn) -> torch.Tensor:
            out = torch.empty_like(x)
            for tile in hl.tile(x.size(0)):
                out[tile] = fn(x[tile])
            return out

        if __name__ == "__main__":
            x = torch.randn(64)
            bound = apply.bind((x, scale))
            cfg = tune(bound, (x, scale), hooks=TuneHooks(jobs=2))
            torch.testing.assert_close(bound(x, scale), x * 3)
            print("RESULT", cfg["block_sizes"], flush=True)
    """))
    proc = _run_script(script)
    assert "RESULT" in proc.stdout, proc.stdout
    assert "ModuleNotFoundError" not in proc.stdout + proc.stderr


def test_tuning_with_arguments_a_worker_cannot_rebuild(tmp_path):
    """A local lambda passed to the kernel (flex_attention's score_mod written in main())
    cannot be sent to a worker process, nor a function of a module loaded from its file:
    the benchmarks run in this process instead (and say so), rather than failing."""
    (tmp_path / "mods" ).mkdir()
    (tmp_path / "mods" / "scale_mod.py").write_text("def scale(v):\n    return v * 3\n")
    script = tmp_path / "local_lambda.py"
    script.write_text(textwrap.dedent("""
        import importlib.util, sys
        import torch
        import deuteron
        import deuteron.language as hl
        from deuteron.autotune import TuneHooks, tune

        @deuteron.kernel(configs=[deuteron.Config(block_sizes=[8]), deuteron.Config(block_sizes=[16])])
        def apply(x: torch.Tensor, fn) -> torch.Tensor:
            out = torch.empty_like(x)
            for tile in hl.tile(x.size(0)):
                out[tile] = fn(x[tile])
            return out

        def main():
            x = torch.randn(64)
            spec = importlib.util.spec_from_file_location("scale_mod", sys.argv[1])
            mod = importlib.util.module_from_spec(spec)
            sys.modules["scale_mod"] = mod
            spec.loader.exec_module(mod)
            for fn, expect in ((lambda v: v * 2, x * 2), (mod.scale, x * 3)):
                apply.reset()
                bound = apply.bind((x, fn))
                cfg = tune(bound, (x, fn), hooks=TuneHooks(jobs=2))
                torch.testing.assert_close(bound(x, fn), expect)
                print("RESULT", cfg["block_sizes"], flush=True)

        if __name__ == "__main__":
            main()
    """))
    proc = _run_script(script, str(tmp_path / "mods" / "scale_mod.py"))
    assert proc.stdout.count("RESULT") == 2, proc.stdout
    out = proc.stdout + proc.stderr
    assert "benchmarking in this process" in out and "which a worker process cannot import" in out, out[-3000:]
