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


def slow_measure(fn, options):
    """A benchmark that takes 0.25 s of wall time (a GPU busy for that long)."""
    fn()
    time.sleep(0.25)
    return _seconds(options["config"])


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


def broken_device_2(fn, args, config_json):
    """Device 2 cannot even compute the reference (a broken GPU): its worker dies in setup."""
    if env.autotune_device_index() == 2:
        os._exit(11)
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


def test_configs_spread_over_every_device_and_results_come_back():
    x = torch.randn(8192)
    res = tune(_bound(x, autotune_devices=3), (x,), CONFIGS,
               hooks=_hooks(measure_target="test_autotune_devices:device_measure"), return_result=True)
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
        res = tune(_bound(x, autotune_devices=2), (x,), CONFIGS,
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
    x = torch.randn(8192)
    b = _bound(x, autotune_devices=3, autotune_progress_bar=True)
    res = tune(b, (x,), CONFIGS, hooks=_hooks(measure_target="test_autotune_devices:device_measure",
                                              runner_target="test_autotune_devices:broken_device_2"),
               return_result=True)
    assert res.config["block_sizes"] == [256] and not res.failures
    assert 2 not in res.runs_per_device and set(res.runs_per_device) == {0, 1}
    assert "benchmarking without device 2" in capsys.readouterr().err


def test_more_devices_cut_the_benchmark_time():
    """The speedup model's benchmark side: with benchmark-bound generations (0.25 s per
    config, compiles instant), N workers take about 1/N of the time."""
    x = torch.randn(8192)
    configs = CONFIGS[:8]
    hooks = _hooks(measure_target="test_autotune_devices:slow_measure", rebench_top=1)
    elapsed = {}
    for n in (1, 4):
        tune(_bound(x, autotune_devices=n), (x,), configs[:2], hooks=hooks)  # starts the workers
        t0 = time.monotonic()
        res = tune(_bound(x, autotune_devices=n), (x,), configs, hooks=hooks, return_result=True)
        elapsed[n] = time.monotonic() - t0
        assert res.config["block_sizes"] == [256]
    # 8 configs x 0.25 s: about 2 s on one device, 0.5 s on four (plus the setup per worker).
    assert elapsed[4] < 0.6 * elapsed[1], elapsed


# ---------------------------------------------------------- the pool itself


def where():
    return os.environ.get("LANE"), os.getpid()


def test_pool_workers_get_their_own_environment_and_pinned_jobs():
    pool = WorkerPool(3, worker_env=({"LANE": "a"}, {"LANE": "b"}, {"LANE": "c"}))
    try:
        jobs = {pool.submit("test_autotune_devices:where", on_worker=i % 3): i % 3 for i in range(9)}
        results = pool.wait_all(timeout=120)
        assert len(results) == 9
        for r in results:
            assert r.ok and r.worker == jobs[r.job_id] and r.value[0] == "abc"[r.worker]
        # A restarted worker keeps its index and environment.
        before = [r.value[1] for r in results if r.worker == 1][0]
        pool.restart(1)
        pool.submit("test_autotune_devices:where", on_worker=1)
        (r,) = pool.wait_all(timeout=120)
        assert r.value[0] == "b" and r.value[1] != before
        with pytest.raises(ValueError):
            pool.submit("test_autotune_devices:where", on_worker=3)
    finally:
        pool.close()
