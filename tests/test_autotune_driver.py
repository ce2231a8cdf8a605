"""The autotuning driver on the CPU: failure isolation, efforts, configs=[...], search.

Kernels run through the reference backend (DEUTERON_INTERPRET=1) in the real
worker processes; the compile step and the timing are replaced by the fakes
below (they run inside the workers, so they are module-level functions), which
inject compile errors, hangs, crashes, segfaults, CUDA-like errors and wrong
answers by block size.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from deuteron.autotune import TuneHooks, tune
from deuteron.runtime.core import core

# ------------------------------------------------------------------ fakes


def _config_of(path: str) -> dict:
    with open(path) as f:
        for line in f:
            if line.startswith("# config: "):
                return json.loads(line[len("# config: "):])
    raise AssertionError("no config line in " + path)


def fake_compile(path, launches, target):
    b = _config_of(path)["block_sizes"][0]
    if b == 2:
        raise RuntimeError("injected compile error")
    if b == 4:
        time.sleep(1000)  # a hung compiler: killed by the compile timeout
    return {"compiled": 0}


def fake_runner(fn, args, config_json):
    if config_json == "reference":
        return fn(*args)
    b = json.loads(config_json)["block_sizes"][0]
    if b == 8:
        os._exit(3)  # the benchmark process dies
    if b == 16:
        return fn(*args) + 1  # a wrong answer
    if b == 32:
        import ctypes

        ctypes.string_at(0)  # a segfault
    if b == 64:
        raise RuntimeError("CUDA error: an illegal memory access was encountered")
    return fn(*args)


_TIMES = {1024: 1e-3, 2048: 3e-3, 512: 2e-3}


def fake_measure(fn, options):
    fn()
    return _TIMES.get(json.loads(options["config"])["block_sizes"][0], 5e-3)


def synthetic_measure(fn, options):
    """A smooth objective over the search space (optimum: block sizes 16 x 64, 8 warps)."""
    cfg = json.loads(options["config"])
    bs = cfg["block_sizes"]
    f = (math.log2(bs[0]) - 4) ** 2 + (math.log2(bs[1]) - 6) ** 2 + 0.5 * (math.log2(cfg["num_warps"]) - 3) ** 2
    return 1e-3 * math.exp(0.1 * f)


def no_compile(path, launches, target):
    return {"compiled": 0}


def _compile_log_dir():
    # A fixed folder: compile workers may have started before the test (a reused pool).
    return os.path.join(tempfile.gettempdir(), f"deuteron-test-compile-log-{os.getuid()}")


def logged_compile(path, launches, target):
    """Records each compiled config in _compile_log_dir()."""
    with open(os.path.join(_compile_log_dir(), f"{os.getpid()}-{time.time()}"), "w") as f:
        f.write(json.dumps(_config_of(path)))
    return {"compiled": 0}


# ---------------------------------------------------------------- kernels


@deuteron.kernel(autotune_progress_bar=False, autotune_compile_timeout=6.0)
def double(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * 2
    return out


@deuteron.kernel(autotune_progress_bar=False)
def scale2d(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = x[tile_m, tile_n] * 3
    return out


@pytest.fixture(autouse=True)
def _eager(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    monkeypatch.setenv("DEUTERON_AUTOTUNE_RANDOM_SEED", "7")


def _bound(kernel, *args, **settings):
    kernel.reset()
    b = kernel.bind(args)
    b.settings = b.settings.replace(**{"autotune_cache": False, **settings})
    return b



# ------------------------------------------------------------------ tests


def test_every_kind_of_failure_is_dropped_and_reported():
    x = torch.randn(4096)
    b = _bound(double, x)
    configs = [deuteron.Config(block_sizes=[s]) for s in (2048, 2, 4, 8, 16, 32, 64, 1024, 512)]
    hooks = TuneHooks(compile_target="test_autotune_driver:fake_compile", runner_target="test_autotune_driver:fake_runner",
                      measure_target="test_autotune_driver:fake_measure", jobs=2)
    res = tune(b, (x,), configs, hooks=hooks, return_result=True)
    assert res.config["block_sizes"] == [1024], res.failures
    assert res.seconds == pytest.approx(1e-3)
    kinds = {json.loads(f.config)["block_sizes"][0]: f.kind for f in res.failures}
    assert kinds == {2: "compile error", 4: "compile timeout", 8: "crash", 16: "wrong answer", 32: "crash",
                     64: "cuda error"}
    assert res.evaluations == 9
    msgs = {json.loads(f.config)["block_sizes"][0]: f.message for f in res.failures}
    assert "injected compile error" in msgs[2]
    assert "max abs error" in msgs[16]


def test_a_failing_config_does_not_stall_the_search_and_all_failing_raises():
    x = torch.randn(4096)
    b = _bound(double, x)
    hooks = TuneHooks(compile_target="test_autotune_driver:fake_compile", runner_target="test_autotune_driver:fake_runner",
                      measure_target="test_autotune_driver:fake_measure", jobs=2)
    with pytest.raises(exc.AutotuneError, match="no config of double"):
        tune(b, (x,), [deuteron.Config(block_sizes=[2]), deuteron.Config(block_sizes=[16])], hooks=hooks)


def test_effort_none_uses_the_default_without_tuning(monkeypatch):
    x = torch.randn(256)
    b = _bound(double, x, autotune_effort="none")
    import deuteron.autotune.driver as driver

    monkeypatch.setattr(driver, "Tuner", None)  # any tuning would fail
    assert tune(b, (x,)) == b.default_config()


def test_a_single_config_is_used_as_is(monkeypatch):
    x = torch.randn(256)
    b = _bound(double, x)
    import deuteron.autotune.driver as driver

    monkeypatch.setattr(driver, "Tuner", None)
    cfg = deuteron.Config(block_sizes=[32])
    assert tune(b, (x,), [cfg]) is cfg


def test_configs_list_tunes_over_that_list_only(tmp_path):
    x = torch.randn(4096)
    b = _bound(double, x, autotune_log=str(tmp_path / "tune.log"))
    configs = [deuteron.Config(block_sizes=[s]) for s in (512, 2048)]
    hooks = TuneHooks(compile_target="test_autotune_driver:no_compile", measure_target="test_autotune_driver:fake_measure",
                      jobs=2)
    res = tune(b, (x,), configs, hooks=hooks, return_result=True)
    assert res.config["block_sizes"] == [512] and res.evaluations == 2
    log = (tmp_path / "tune.log").read_text()
    tried = [json.loads(line[line.index("{"):])["block_sizes"][0] for line in log.splitlines() if " ok " in line]
    assert sorted(tried) == [512, 2048]


@deuteron.kernel(autotune_progress_bar=False,
                 configs=[deuteron.Config(block_sizes=[512]), deuteron.Config(block_sizes=[2048])])
def double_listed(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * 2
    return out


def test_tracing_uses_the_tuned_config_from_the_disk_cache(tmp_path):
    from torch._subclasses.fake_tensor import FakeTensorMode

    from deuteron.autotune import cached_config

    x = torch.randn(4096)
    hooks = TuneHooks(compile_target="test_autotune_driver:no_compile", measure_target="test_autotune_driver:fake_measure",
                      jobs=2)
    b = _bound(double_listed, x, autotune_cache=True, cache_dir=str(tmp_path))
    assert cached_config(b, (x,)) is None  # nothing tuned yet
    assert tune(b, (x,), hooks=hooks)["block_sizes"] == [512]
    # A later trace (fake tensors, nothing can be timed) finds the tuned config.
    again = _bound(double_listed, x, autotune_cache=True, cache_dir=str(tmp_path))
    with FakeTensorMode() as mode:
        fake = mode.from_tensor(x)
        assert cached_config(again, (fake,))["block_sizes"] == [512]
    other = torch.randn(4096, dtype=torch.float16)  # another specialization: not cached
    b16 = _bound(double_listed, other, autotune_cache=True, cache_dir=str(tmp_path))
    assert cached_config(b16, (other,)) is None


def test_accuracy_against_a_baseline_function():
    x = torch.randn(4096)
    b = _bound(double, x, autotune_baseline_fn=lambda t: t * 2, autotune_baseline_atol=1e-6,
               autotune_baseline_rtol=1e-6)
    hooks = TuneHooks(compile_target="test_autotune_driver:no_compile", runner_target="test_autotune_driver:fake_runner",
                      measure_target="test_autotune_driver:fake_measure", jobs=1)
    res = tune(b, (x,), [deuteron.Config(block_sizes=[s]) for s in (16, 2048)], hooks=hooks, return_result=True)
    assert res.config["block_sizes"] == [2048]
    assert [f.kind for f in res.failures] == ["wrong answer"]


def test_progress_output_and_paste_ready_config(capsys):
    import io

    x = torch.randn(4096)
    b = _bound(double, x, autotune_progress_bar=True)
    out = io.StringIO()
    hooks = TuneHooks(compile_target="test_autotune_driver:no_compile", measure_target="test_autotune_driver:fake_measure",
                      jobs=1, stream=out)
    tune(b, (x,), [deuteron.Config(block_sizes=[s]) for s in (512, 1024)], hooks=hooks)
    text = out.getvalue()
    assert "[deuteron] double: gen 1" in text  # not a TTY: whole lines, no carriage returns
    assert "\r" not in text
    assert "tuned in" in text and "2 configs" in text
    assert "@deuteron.kernel(config=deuteron.Config(block_sizes=[1024]" in text
    # The printed config is valid code that gives the same config.
    code = text.split("use: ")[-1].strip()
    cfg = eval(code.removeprefix("@deuteron.kernel(config=").removesuffix(")"), {"deuteron": deuteron})
    assert b.normalize_config(cfg) == b.normalize_config(deuteron.Config(block_sizes=[1024]))


def test_progress_on_a_terminal_rewrites_one_line():
    import io

    from deuteron.autotune.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    t = [0.0]
    s = Tty()
    p = Progress("k", stream=s, clock=lambda: t[0])
    p.new_generation(1, 4)
    for i in range(3):
        t[0] += 1
        p.result("{}", 1e-3 * (3 - i))
    p.result("{}", None, "compile error")
    p.close("done")
    text = s.getvalue()
    assert text.count("\r") >= 3 and "4 configs, 1 failed" in text and "best 1.000 ms" in text
    assert text.endswith("done\n")


def test_search_through_the_binding_is_deterministic():
    x = torch.randn(128, 256)
    b = _bound(scale2d, x)
    c = core()
    spec = b.tune_spec_json()
    runs = []
    for _ in range(2):
        s = c.SearchSession(spec, dict(b.device_info), b.default_config_json(), "surrogate", 5, "quick", None)
        seq = []
        while not s.finished():
            batch = s.ask()
            if not batch:
                break
            for cfg in batch:
                seq.append(cfg)
                v = json.loads(cfg)
                s.tell(cfg, 1e-3 * (1 + abs(math.log2(v["block_sizes"][0]) - 3)))
        runs.append(seq)
    assert runs[0] == runs[1] and len(runs[0]) > 20
    assert runs[0][0] == b.normalize_config_json(b.default_config_json())
    for cfg in runs[0]:
        assert b.normalize_config_json(cfg) == cfg  # every config is valid and already normalized
    s = c.SearchSession(spec, dict(b.device_info), None, "random", 6, "quick", None)
    assert s.ask(3) and s.strategy == "random"
    with pytest.raises(ValueError, match="unknown autotuner"):
        c.SearchSession(spec, dict(b.device_info), None, "annealing", 6, "quick", None)


def test_quick_and_full_search_with_a_synthetic_objective(tmp_path):
    x = torch.randn(128, 256)
    hooks = TuneHooks(compile_target="test_autotune_driver:no_compile",
                      measure_target="test_autotune_driver:synthetic_measure", jobs=2, rebench_top=1)
    results = {}
    for effort in ("quick", "full"):
        b = _bound(scale2d, x, autotune_effort=effort, autotune_max_generations=4 if effort == "full" else None)
        results[effort] = tune(b, (x,), hooks=hooks, return_result=True)
    q, f = results["quick"], results["full"]
    assert q.evaluations <= 144
    assert f.evaluations > q.evaluations  # full: bigger generations
    assert q.seconds <= q.default_seconds and f.seconds <= f.default_seconds
    assert f.seconds < 1.05e-3  # close to the optimum (1 ms)
    # The same seed and timings give the same search.
    b = _bound(scale2d, x, autotune_effort="quick")
    again = tune(b, (x,), hooks=hooks, return_result=True)
    assert again.config == q.config and again.evaluations == q.evaluations


def test_budget_and_max_generations_stop_the_search():
    x = torch.randn(128, 256)
    hooks = TuneHooks(compile_target="test_autotune_driver:no_compile",
                      measure_target="test_autotune_driver:synthetic_measure", jobs=2, rebench_top=1)
    b = _bound(scale2d, x, autotune_effort="full", autotune_max_generations=1)
    res = tune(b, (x,), hooks=hooks, return_result=True)
    assert res.evaluations <= 48  # one generation of the full preset
    t = [0.0]

    def clock():
        t[0] += 0.5
        return t[0]

    b = _bound(scale2d, x, autotune_effort="full", autotune_budget_seconds=20.0)
    res = tune(b, (x,), hooks=TuneHooks(compile_target="test_autotune_driver:no_compile",
                                        measure_target="test_autotune_driver:synthetic_measure", jobs=2,
                                        clock=clock), return_result=True)
    assert res.evaluations < 100


def test_configs_with_the_same_code_compile_and_run_once(monkeypatch):
    # A 1-D access cannot use a tensor descriptor (TMA moves 2-D to 5-D boxes):
    # asked for one, the plan uses pointers, and the Triton module is the pointer
    # config's but for the lines naming the config.  It compiles once, and both
    # configs get its time.
    import shutil
    from pathlib import Path

    monkeypatch.delenv("DEUTERON_INTERPRET")  # Triton modules, run by Triton's interpreter
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    log = Path(_compile_log_dir())
    shutil.rmtree(log, ignore_errors=True)
    log.mkdir()
    x = torch.randn(4096)
    configs = [deuteron.Config(block_sizes=[1024], indexing=["pointer", "pointer"]),
               deuteron.Config(block_sizes=[1024], indexing=["tensor_descriptor", "pointer"]),
               deuteron.Config(block_sizes=[512])]
    b = _bound(double, x)
    res = tune(b, (x,), configs, hooks=TuneHooks(jobs=2, compile_target="test_autotune_driver:logged_compile",
                                                  measure_target="test_autotune_driver:fake_measure"),
               return_result=True)
    compiled = [json.loads(p.read_text()) for p in log.iterdir()]
    shutil.rmtree(log, ignore_errors=True)
    assert sorted(c["block_sizes"][0] for c in compiled) == [512, 1024], compiled
    assert res.evaluations == 3 and not res.failures
    assert res.config["block_sizes"] == [1024]
    times = {tuple(json.loads(c)["indexing"]): t for c, t in res.top if json.loads(c)["block_sizes"] == [1024]}
    assert len(times) == 2 and len(set(times.values())) == 1, res.top
