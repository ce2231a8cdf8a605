"""The shared tuning cache through the autotuner, on the CPU (DEUTERON_INTERPRET=1, simulated timings).

* keys: the same kernel and arguments give the same key in another process;
  the source, a helper's source, the shape, dtype, strides, alignment and
  versions each change it;
* hit and miss through ``tune``, with the local cache in front;
* a kernel tuned in one process is found by a second process with an empty
  local cache, through the store, and runs with no search (the CPU version of
  tests/gpu/test_tuning_cache_gpu.py);
* damaged entries, the store going down, the version key changing;
* warm starts from the nearest tuned shape;
* the ``deuteron cache`` command.
"""

from __future__ import annotations

import importlib.util
import io
import json
import math
import os
import subprocess
import sys
import textwrap
import warnings

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron.autotune import TuneHooks, tune
from deuteron.autotune import tuning_key as tk
from deuteron.autotune.cache import CacheWarning
from deuteron.autotune.cache_cli import main as cache_main
from deuteron.autotune.shared_cache import forget_shared_caches, shared_cache
from deuteron.autotune.tuning_key import tuning_key

HERE = os.path.dirname(os.path.abspath(__file__))


def _scale(v):
    return v * 5


@deuteron.kernel(autotune_progress_bar=False)
def fivefold(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = _scale(x[tile])
    return out


@deuteron.kernel(autotune_progress_bar=False)
def scale2d(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = x[tile_m, tile_n] * 3
    return out


CONFIGS = [deuteron.Config(block_sizes=[s]) for s in (256, 1024)]
HOOKS = TuneHooks(compile_target="test_autotune_driver:no_compile", measure_target="test_autotune_driver:fake_measure",
                  jobs=1)


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    monkeypatch.setenv("DEUTERON_AUTOTUNE_RANDOM_SEED", "7")
    forget_shared_caches()
    yield
    forget_shared_caches()


def _bound(kernel, x, local, **settings):
    kernel.reset()
    b = kernel.bind((x,))
    b.settings = b.settings.replace(cache_dir=str(local), **settings)
    return b


class _Counting:
    def __init__(self, monkeypatch):
        import deuteron.autotune.driver as driver

        self.calls = 0
        original = driver.Tuner.run

        def run(tuner, candidates):
            self.calls += 1
            return original(tuner, candidates)

        monkeypatch.setattr(driver.Tuner, "run", run)


# -------------------------------------------------------------------- keys

def test_the_key_says_what_the_result_is_valid_for(tmp_path):
    """(That another process computes the same key: test_tuned_in_one_process_found_by_another...)"""
    x = torch.zeros(4096)
    b = _bound(fivefold, x, tmp_path)
    key = tuning_key(b, (x,), [])
    fam = key.family
    assert set(fam["versions"]) == {"deuteron", "triton", "torch", "driver"}
    assert fam["device"] == {"model": "cpu"} and len(fam["source"]) == 64
    assert "filename" not in json.dumps(fam) and HERE not in json.dumps(key.material)  # nothing host-specific

    def key_of(t):
        return tuning_key(_bound(fivefold, t, tmp_path), (t,), [])

    others = {
        "shape": key_of(torch.zeros(2048)),
        "dtype": key_of(torch.zeros(4096, dtype=torch.float16)),
        "strides": key_of(torch.zeros(8192)[::2]),
        "alignment": key_of(torch.zeros(4097)[1:]),
    }
    for what, k in others.items():
        assert k.key != key.key, what
        assert k.family_key == key.family_key, what  # the same family: warm starts can use it
    assert others["alignment"].shape["args"][0]["align"] == 4
    assert tuning_key(b, (x,), CONFIGS).family_key != key.family_key  # a configs= list is another family


def test_a_helpers_source_is_part_of_the_key(tmp_path, monkeypatch):
    x = torch.zeros(4096)
    before = tuning_key(_bound(fivefold, x, tmp_path), (x,), [])
    # The kernel calls a helper whose source changed (another version of the module it lives in).
    path = tmp_path / "helper_v2.py"
    path.write_text("def _scale(v):\n    return v * 6\n")
    spec = importlib.util.spec_from_file_location("helper_v2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys.modules[__name__], "_scale", module._scale)
    after = tuning_key(_bound(fivefold, x, tmp_path), (x,), [])
    assert after.family["callees"] != before.family["callees"] and after.key != before.key
    assert after.family["source"] == before.family["source"]  # the kernel's own source did not change


# --------------------------------------------------------------- hit, miss


def test_a_hit_in_the_shared_cache_skips_tuning_and_fills_the_local_cache(redis_url, tmp_path, monkeypatch):
    counter = _Counting(monkeypatch)
    x = torch.randn(4096)
    first = tune(_bound(fivefold, x, tmp_path / "host-a", tuning_cache=redis_url), (x,), CONFIGS, hooks=HOOKS)
    assert counter.calls == 1 and first["block_sizes"] == [1024]
    # Another "host": its own, empty local cache.
    out = io.StringIO()
    b = _bound(fivefold, x, tmp_path / "host-b", tuning_cache=redis_url, autotune_progress_bar=True)
    res = tune(b, (x,), CONFIGS, hooks=TuneHooks(compile_target=HOOKS.compile_target,
                                                 measure_target=HOOKS.measure_target, jobs=1, stream=out),
               return_result=True)
    assert counter.calls == 1 and res.cached and res.config == first and res.source == redis_url
    assert "using the tuned config from the shared cache" in out.getvalue()
    assert list((tmp_path / "host-b" / "autotune").glob("*.json"))  # the local cache in front, for next time
    # Miss: another shape tunes, and its result is published too.
    y = torch.randn(2048)
    tune(_bound(fivefold, y, tmp_path / "host-b", tuning_cache=redis_url), (y,), CONFIGS, hooks=HOOKS)
    assert counter.calls == 2
    lines = _cli(["list", "--store", redis_url])
    assert lines[-1] == "2 entries" and all("fivefold" in line for line in lines[:-1])


def test_autotune_cache_off_does_not_use_the_shared_cache(redis_url, tmp_path, monkeypatch):
    counter = _Counting(monkeypatch)
    x = torch.randn(4096)
    for _ in range(2):
        tune(_bound(fivefold, x, tmp_path, tuning_cache=redis_url, autotune_cache=False), (x,), CONFIGS, hooks=HOOKS)
    assert counter.calls == 2 and _cli(["list", "--store", redis_url]) == ["0 entries"]


USE_SCRIPT = textwrap.dedent("""
    import json, sys, torch
    sys.path.insert(0, %(here)r)
    import test_tuning_cache_flow as t
    import deuteron.autotune.driver as driver
    from deuteron.autotune.tuning_key import tuning_key

    class NoSearch:
        def __init__(self, *a, **k):
            raise AssertionError("a search ran")
    driver.Tuner = NoSearch
    x = torch.arange(4096, dtype=torch.float32)
    b = t.fivefold.bind((x,))
    b.settings = b.settings.replace(tuning_cache=%(url)r, autotune_progress_bar=True)
    key = tuning_key(b, (x,), [])
    cfg = b.autotune((x,))
    b.set_config(cfg)
    assert torch.equal(b(x), x * 5), "wrong output"
    print("RESULT", json.dumps({"config": cfg.to_dict(), "key": key.key, "family": key.family_key}))
""")


def test_tuned_in_one_process_found_by_another_with_an_empty_local_cache(redis_url, tmp_path):
    """Tuned here (a pattern search of the whole space, simulated timings); a second process,
    with an empty local cache and no way to search, finds it through Redis, computes the same
    key, and runs with it.  (The directory store's version: test_cache_command_show_export_import.)"""
    x = torch.arange(4096, dtype=torch.float32)
    b = _bound(fivefold, x, tmp_path / "local-a", tuning_cache=redis_url)
    hooks = TuneHooks(compile_target="test_autotune_driver:no_compile",
                      measure_target="test_tuning_cache_flow:shape_measure", jobs=1, rebench_top=1)
    tuned = tune(b, (x,), hooks=hooks, return_result=True)
    assert tuned.evaluations > 1 and not tuned.cached
    key = tuning_key(b, (x,), [])
    env = dict(os.environ, DEUTERON_INTERPRET="1", DEUTERON_CACHE_DIR=str(tmp_path / "local-b"),
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    env.pop("DEUTERON_TUNING_CACHE", None)
    out = subprocess.run([sys.executable, "-c", USE_SCRIPT % {"here": HERE, "url": redis_url}],
                         capture_output=True, text=True, env=env, timeout=600, cwd=str(tmp_path))
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")][-1]
    found = json.loads(line[len("RESULT "):])
    assert [found["key"], found["family"]] == [key.key, key.family_key]  # the same key in another process
    assert found["config"] == tuned.config.to_dict()
    assert "using the tuned config from the shared cache" in out.stderr


def shape_measure(fn, options):
    """Simulated timings with one best config: block size 256, 8 warps."""
    cfg = json.loads(options["config"])
    fn()
    return 1e-3 * math.exp(0.2 * (math.log2(cfg["block_sizes"][0]) - 8) ** 2
                           + 0.05 * abs(math.log2(cfg["num_warps"]) - 3))


# --------------------------------------------------- damaged, down, versions


def test_a_damaged_shared_entry_is_ignored_once_and_replaced(redis_url, tmp_path, monkeypatch):
    counter = _Counting(monkeypatch)
    x = torch.randn(4096)
    b = _bound(fivefold, x, tmp_path / "a", tuning_cache=redis_url)
    tune(b, (x,), CONFIGS, hooks=HOOKS)
    key = tuning_key(b, (x,), CONFIGS)
    store = shared_cache(redis_url).store
    store.client.set(f"{store.prefix}:entry:{key.key}", b'{"format": "deuteron.tuning/1", "key": "tru')
    with pytest.warns(CacheWarning, match="ignoring an entry of the shared tuning cache"):
        tune(_bound(fivefold, x, tmp_path / "b", tuning_cache=redis_url), (x,), CONFIGS, hooks=HOOKS)
    assert counter.calls == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = tune(_bound(fivefold, x, tmp_path / "c", tuning_cache=redis_url), (x,), CONFIGS, hooks=HOOKS)
    assert counter.calls == 2 and cfg["block_sizes"] == [1024]  # repaired by the second tuning


def test_the_store_going_down_mid_run_leaves_the_local_cache(tmp_path, monkeypatch):
    from redis_server import RedisServer

    counter = _Counting(monkeypatch)
    server = RedisServer(tmp_path / "redis")
    try:
        x, y = torch.randn(4096), torch.randn(2048)
        tune(_bound(fivefold, x, tmp_path / "a", tuning_cache=server.url), (x,), CONFIGS, hooks=HOOKS)
        server.stop()
        with pytest.warns(CacheWarning, match="unreachable"):
            cfg = tune(_bound(fivefold, y, tmp_path / "a", tuning_cache=server.url), (y,), CONFIGS, hooks=HOOKS)
        assert counter.calls == 2 and cfg["block_sizes"] == [1024]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # The local cache still answers, and no call waits on the store.
            again = tune(_bound(fivefold, y, tmp_path / "a", tuning_cache=server.url), (y,), CONFIGS, hooks=HOOKS)
        assert counter.calls == 2 and again == cfg
    finally:
        server.stop()


def test_a_new_version_misses_and_prune_removes_the_old_entries(redis_url, tmp_path, monkeypatch):
    counter = _Counting(monkeypatch)
    x = torch.randn(4096)
    tune(_bound(fivefold, x, tmp_path / "a", tuning_cache=redis_url), (x,), CONFIGS, hooks=HOOKS)
    real = tk.versions()
    monkeypatch.setattr(tk, "versions", lambda: dict(real, triton="99.0.0"))
    tune(_bound(fivefold, x, tmp_path / "b", tuning_cache=redis_url), (x,), CONFIGS, hooks=HOOKS)
    assert counter.calls == 2  # the old entry is not valid for the new version
    assert _cli(["list", "--store", redis_url])[-1] == "2 entries"
    lines = _cli(["prune", "--store", redis_url, "--version", "triton=99.0.0", "--dry-run"])
    assert lines[-1].endswith("would remove 1 of 2 entries")
    lines = _cli(["prune", "--store", redis_url])  # entries not made by the installed versions
    assert lines[-1].endswith("removed 1 of 2 entries") and "99.0.0" in lines[0]
    assert _cli(["list", "--store", redis_url])[-1] == "1 entries"


# -------------------------------------------------------------- warm starts


def test_a_new_shape_starts_from_the_nearest_tuned_shapes(tmp_path, monkeypatch):
    url = str(tmp_path / "shared")
    hooks = TuneHooks(compile_target="test_autotune_driver:no_compile",
                      measure_target="test_autotune_driver:synthetic_measure", jobs=1, rebench_top=1)
    x = torch.randn(128, 256)
    cold = tune(_bound(scale2d, x, tmp_path / "a", tuning_cache=url), (x,), hooks=hooks, return_result=True)
    assert not cold.warm_start
    # The same shape again from scratch (no shared cache): the cold search's cost.
    y = torch.randn(256, 256)
    fresh_run = tune(_bound(scale2d, y, tmp_path / "b"), (y,), hooks=hooks, return_result=True)
    warm = tune(_bound(scale2d, y, tmp_path / "c", tuning_cache=url), (y,), hooks=hooks, return_result=True)
    best_cold = scale2d.bind((y,)).normalize_config_json(cold.config.to_json())
    assert warm.warm_start and warm.warm_start[0] == best_cold
    assert warm.seconds <= fresh_run.seconds * 1.001
    assert warm.evaluations < fresh_run.evaluations
    # Its record says so.
    record = shared_cache(url).lookup(tuning_key(scale2d.bind((y,)), (y,), []), "quick")
    assert record["tuning"]["warm_start"] is True and len(record["top"]) > 1


# --------------------------------------------------------------------- CLI


def _cli(argv):
    out = io.StringIO()
    rc = cache_main(argv, out=out)
    assert rc == 0, out.getvalue()
    return out.getvalue().strip().splitlines()


def test_cache_command_show_export_import(redis_url, tmp_path, capsys):
    x = torch.randn(4096)
    tune(_bound(fivefold, x, tmp_path / "a", tuning_cache=redis_url), (x,), CONFIGS, hooks=HOOKS)
    (line,) = _cli(["list", "--store", redis_url])[:-1]
    assert "fivefold" in line and "float32[4096]" in line and " list " in line
    key = line.split()[0]
    shown = json.loads("\n".join(_cli(["show", key, "--store", redis_url])))
    assert shown["config"]["block_sizes"] == [1024] and shown["tuning"]["effort"] == "list"
    bundle = tmp_path / "tuned.json"
    _cli(["export", "-o", str(bundle), "--store", redis_url])
    doc = json.loads(bundle.read_text())
    assert doc["format"] == "deuteron.tuning-export/1" and len(doc["entries"]) == 1
    # An application's deployment: import into its own store (a directory here).
    app = tmp_path / "app-tuning"
    assert _cli(["import", str(bundle), "--store", str(app)])[-1].startswith("deuteron cache import: 1 stored")
    assert _cli(["import", str(bundle), "--store", str(app)])[-1].startswith("deuteron cache import: 0 stored, 1 kept")
    # ... where a fresh process finds it without tuning.
    import deuteron.autotune.driver as driver

    monkeypatch_tuner = pytest.MonkeyPatch()
    monkeypatch_tuner.setattr(driver, "Tuner", None)
    try:
        cfg = tune(_bound(fivefold, x, tmp_path / "fresh", tuning_cache=str(app)), (x,), CONFIGS, hooks=HOOKS)
    finally:
        monkeypatch_tuner.undo()
    assert cfg["block_sizes"] == [1024]
    # A tampered export is rejected entry by entry.
    doc["entries"][0]["config"]["block_sizes"] = [1 << 40, "x"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    out = io.StringIO()
    assert cache_main(["import", str(bad), "--store", str(tmp_path / "other")], out=out) == 1
    assert "rejected" in capsys.readouterr().err
    # Errors are messages, not tracebacks.
    assert cache_main(["show", "ffff", "--store", redis_url], out=io.StringIO()) == 2
    assert cache_main(["list", "--store", "s3://bucket"], out=io.StringIO()) == 2
    assert "unknown kind of store" in capsys.readouterr().err


def test_the_deuteron_command_runs_cache(tmp_path):
    env = dict(os.environ, DEUTERON_TUNING_CACHE=str(tmp_path / "empty"))
    out = subprocess.run([sys.executable, "-m", "deuteron.cli", "cache", "list"], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0 entries"


def test_the_cache_command_without_a_store_says_so(monkeypatch, capsys):
    monkeypatch.delenv("DEUTERON_TUNING_CACHE", raising=False)
    assert cache_main(["list"], out=io.StringIO()) == 2
    assert "no shared tuning cache" in capsys.readouterr().err
