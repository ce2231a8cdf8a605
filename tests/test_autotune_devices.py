"""Tuning over every GPU of a host, on the CPU with simulated devices (``autotune_devices=N``).

Each benchmark worker claims its device index (DEUTERON_AUTOTUNE_DEVICE_INDEX,
set in its environment by the pool); the fakes below run inside those workers.
Checked: configs spread over every worker and their results reach the search;
a worker killed mid-config costs that config only; a device whose worker
cannot start is dropped and the others finish the search; N workers cut the
benchmark time of a generation about N-fold.  tests/gpu/test_tuning_cache_gpu.py
runs the same on real GPUs.
"""

from __future__ import annotations

import json
import os
import tempfile
import time

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron.autotune import TuneHooks, tune
from deuteron.autotune.devices import benchmark_devices
from deuteron.autotune.workers import WorkerPool
from deuteron.runtime import env


@deuteron.kernel(autotune_progress_bar=False)
def sevenfold(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * 7
    return out


BLOCKS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
CONFIGS = [deuteron.Config(block_sizes=[b]) for b in BLOCKS]


def _seconds(config_json):
    b = json.loads(config_json)["block_sizes"][0]
    return 1e-3 * (1 + abs(b.bit_length() - 9))  # best: 256


def device_measure(fn, options):
    fn()
    return _seconds(options["config"])


def _intervals_dir(parent_pid):
    return os.path.join(tempfile.gettempdir(), f"deuteron-test-device-intervals-{parent_pid}")


def slow_measure(fn, options):
    """A benchmark that takes 0.25 s of wall time (a GPU busy for that long); records when it
    ran, for the test (the parent of the benchmark workers) to count overlapping benchmarks."""
    fn()
    start = time.time()
    time.sleep(0.25)
    folder = _intervals_dir(os.getppid())
    if os.path.isdir(folder):
        with open(os.path.join(folder, f"{os.getpid()}-{start}"), "w") as f:
            json.dump([start, time.time()], f)
    return _seconds(options["config"])


def _gate_dir(parent_pid):
    return os.path.join(tempfile.gettempdir(), f"deuteron-test-device-gate-{parent_pid}")


def gate_measure(fn, options):
    """Holds every benchmark worker's first config until `want` workers have one (warm-up: all
    the workers are started and set up before the timed run, however slow starting them is)."""
    fn()
    folder = _gate_dir(os.getppid())
    want = int(open(os.path.join(folder, "want")).read())
    open(os.path.join(folder, f"worker-{os.getpid()}"), "w").close()
    deadline = time.monotonic() + 240
    while sum(n.startswith("worker-") for n in os.listdir(folder)) < want and time.monotonic() < deadline:
        time.sleep(0.02)
    return _seconds(options["config"])


def _most_at_once(intervals):
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def _crash_flag():
    # Shared by the test (the parent of the benchmark workers) and its workers.
    return os.path.join(tempfile.gettempdir(), f"deuteron-test-device-crash-{os.getppid()}")


def crash_on_device_1(fn, args, config_json):
    """Device 1's worker dies in the first config it runs (but the best one): a lost GPU process."""
    if config_json != "reference" and env.autotune_device_index() == 1 and \
            json.loads(config_json)["block_sizes"][0] != 256:
        try:
            os.close(os.open(_crash_flag(), os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return fn(*args)
        os._exit(9)
    return fn(*args)


def _broken_dir(parent_pid):
    return os.path.join(tempfile.gettempdir(), f"deuteron-test-device-broken-{parent_pid}")


def broken_device_2(fn, args, config_json):
    """Device 2 cannot even compute the reference (a broken GPU): its worker dies in setup, each
    time it is started.  The other devices hold their first config until it has died 3 times
    (so that the search is still running when device 2 is dropped, however slow starting a
    worker is here)."""
    folder = _broken_dir(os.getppid())
    if env.autotune_device_index() == 2:
        open(os.path.join(folder, f"died-{os.getpid()}"), "w").close()
        os._exit(11)
    if config_json != "reference":
        deadline = time.monotonic() + 240
        while len(os.listdir(folder)) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    return fn(*args)


def _oom_dir():
    # One folder for the test and its workers (and this process, benchmarking in-process).
    return os.path.join(tempfile.gettempdir(), f"deuteron-test-device-oom-{os.getuid()}")


def oom_reference(fn, args, config_json):
    """The reference output finds no GPU memory (other processes hold it): the first
    `times` tries (a file in the test's folder), then it fits."""
    if config_json == "reference":
        folder = _oom_dir()
        tries = len([n for n in os.listdir(folder) if n.startswith("try-")])
        if tries < int(open(os.path.join(folder, "times")).read()):
            open(os.path.join(folder, f"try-{tries}"), "w").close()
            raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB.")
    return fn(*args)


def no_compile(path, launches, target):
    return {"compiled": 0}


@pytest.fixture(autouse=True)
def _eager(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")


def _bound(x, **settings):
    sevenfold.reset()
    b = sevenfold.bind((x,))
    b.settings = b.settings.replace(autotune_cache=False, **settings)
    return b


def _hooks(**kw):
    return TuneHooks(compile_target="test_autotune_devices:no_compile", jobs=2, **kw)


def test_simulated_devices_on_the_cpu():
    devices = benchmark_devices(None, False, 3)
    assert [d.index for d in devices] == [0, 1, 2]
    assert [d.environment[env.AUTOTUNE_DEVICE_INDEX] for d in devices] == ["0", "1", "2"]
    assert benchmark_devices(None, False, None)[0].index == 0 and len(benchmark_devices(None, False, None)) == 1


class _Gate:
    """gate_measure's folder for this test process: every worker's first config waits for `want` workers."""

    def __init__(self, want: int) -> None:
        self.want, self.folder = want, _gate_dir(os.getpid())

    def __enter__(self):
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)
        os.makedirs(self.folder)
        with open(os.path.join(self.folder, "want"), "w") as f:
            f.write(str(self.want))
        return self

    def __exit__(self, *exc_info):
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


def test_configs_spread_over_every_device_and_results_come_back():
    # gate_measure: no device finishes the search alone while the others' workers still start.
    x = torch.randn(8192)
    with _Gate(3):
        res = tune(_bound(x, autotune_devices=3), (x,), CONFIGS,
                   hooks=_hooks(measure_target="test_autotune_devices:gate_measure"), return_result=True)
    assert res.config["block_sizes"] == [256] and res.evaluations == len(BLOCKS) and not res.failures
    assert set(res.runs_per_device) == {0, 1, 2}, res.runs_per_device
    assert all(n >= 1 for n in res.runs_per_device.values())
    assert sum(res.runs_per_device.values()) >= len(BLOCKS)
    assert res.timing["devices"] == 3


def test_a_killed_worker_costs_one_config_and_the_search_goes_on():
    x = torch.randn(8192)
    flag = os.path.join(tempfile.gettempdir(), f"deuteron-test-device-crash-{os.getpid()}")
    if os.path.exists(flag):
        os.unlink(flag)
    try:
        res = tune(_bound(x, autotune_devices=3), (x,), CONFIGS,
                   hooks=_hooks(measure_target="test_autotune_devices:device_measure",
                                runner_target="test_autotune_devices:crash_on_device_1"), return_result=True)
    finally:
        crashed = os.path.exists(flag)
        if crashed:
            os.unlink(flag)
    assert crashed, "device 1 never got a config"
    assert res.config["block_sizes"] == [256] and res.evaluations == len(BLOCKS)
    (failure,) = res.failures
    assert failure.kind == "crash" and "device 1" in failure.message


def test_a_device_whose_worker_cannot_start_is_dropped(capsys):
    import shutil

    x = torch.randn(8192)
    folder = _broken_dir(os.getpid())
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    try:
        b = _bound(x, autotune_devices=3, autotune_progress_bar=True)
        res = tune(b, (x,), CONFIGS, hooks=_hooks(measure_target="test_autotune_devices:device_measure",
                                                  runner_target="test_autotune_devices:broken_device_2"),
                   return_result=True)
        died = len(os.listdir(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert died == 3  # three starts, then dropped
    assert res.config["block_sizes"] == [256] and not res.failures
    assert 2 not in res.runs_per_device and set(res.runs_per_device) == {0, 1}
    assert "benchmarking without device 2" in capsys.readouterr().err


def test_more_devices_cut_the_benchmark_time():
    """The speedup model's benchmark side: with benchmark-bound generations (0.25 s per
    config, compiles instant), N workers benchmark N configs at once.  Checked by the
    benchmarks' own intervals (how many ran at the same moment, and the benchmark time
    summed over workers against the span from the first start to the last end), not by
    wall times, which a loaded machine stretches.  One worker runs one at a time by
    construction (the pool gives a worker one job at a time)."""
    import shutil

    n = 3  # the pool size of the tests above: their workers are reused
    x = torch.randn(8192)
    configs = CONFIGS[:8]
    folder = _intervals_dir(os.getpid())
    shutil.rmtree(folder, ignore_errors=True)
    with _Gate(n):  # every worker started and set up before the timed run
        warm = tune(_bound(x, autotune_devices=n), (x,), configs,
                    hooks=_hooks(measure_target="test_autotune_devices:gate_measure", rebench_top=1),
                    return_result=True)
    assert set(warm.runs_per_device) == set(range(n)), warm.runs_per_device
    try:
        os.makedirs(folder)
        res = tune(_bound(x, autotune_devices=n), (x,), configs,
                   hooks=_hooks(measure_target="test_autotune_devices:slow_measure", rebench_top=1),
                   return_result=True)
        intervals = [json.load(open(os.path.join(folder, f))) for f in os.listdir(folder)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert res.config["block_sizes"] == [256]
    assert len(intervals) >= len(configs)
    assert _most_at_once(intervals) >= 2, intervals       # several at once (n when nothing lags)
    busy = sum(b - a for a, b in intervals)
    span = max(b for _, b in intervals) - min(a for a, _ in intervals)
    # The re-benchmark rounds run on one GPU (3 x 0.25 s); the 8 configs over 3: ideal 2.75 s / 1.5 s.
    assert busy / span > 1.3, (busy, span)


# ---------------------------------------------------------- the pool itself


def where():
    return os.environ.get("LANE"), os.getpid()


def test_pool_workers_get_their_own_environment_and_pinned_jobs():
    pool = WorkerPool(2, worker_env=({"LANE": "a"}, {"LANE": "b"}))
    try:
        jobs = {pool.submit("test_autotune_devices:where", on_worker=i % 2): i % 2 for i in range(6)}
        results = pool.wait_all(timeout=240)
        assert len(results) == 6
        for r in results:
            assert r.ok and r.worker == jobs[r.job_id] and r.value[0] == "abc"[r.worker]
        # A restarted worker keeps its index and environment.
        before = [r.value[1] for r in results if r.worker == 1][0]
        pool.restart(1)
        pool.submit("test_autotune_devices:where", on_worker=1)
        (r,) = pool.wait_all(timeout=240)
        assert r.value[0] == "b" and r.value[1] != before
        with pytest.raises(ValueError):
            pool.submit("test_autotune_devices:where", on_worker=2)
    finally:
        pool.close()


@pytest.mark.parametrize("times", [1, 3, 4])
def test_a_reference_out_of_gpu_memory_is_retried_never_skipped(times, capsys):
    # Tuning on without the accuracy check could pick a wrong config (swiglu's
    # tuning did, beside examples that held the GPU's memory): the benchmark
    # process sets up again; after 3 tries the configs run in this process, on
    # the arguments themselves (no copy); if even that finds no memory, the
    # tuning stops with the reason.
    import shutil

    x = torch.randn(8192)
    folder = _oom_dir()
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    open(os.path.join(folder, "times"), "w").write(str(times))
    try:
        b = _bound(x, autotune_devices=1, autotune_progress_bar=True)
        hooks = _hooks(measure_target="test_autotune_devices:device_measure",
                       runner_target="test_autotune_devices:oom_reference")
        if times < 4:
            res = tune(b, (x,), CONFIGS, hooks=hooks, return_result=True)
            assert res.config["block_sizes"] == [256] and not res.failures
            err = capsys.readouterr().err
            assert "accuracy check disabled" not in err
            assert ("benchmarking in this process" in err) == (times == 3)
        else:
            with pytest.raises(deuteron.exc.AutotuneError, match="no GPU memory for the reference output"):
                tune(b, (x,), CONFIGS, hooks=hooks, return_result=True)
        tries = len([n for n in os.listdir(folder) if n.startswith("try-")])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert tries == times
