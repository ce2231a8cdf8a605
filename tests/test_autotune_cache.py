"""The autotuning disk cache: hit, miss, corrupt, stale, keys, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron.autotune import TuneHooks, tune
from deuteron.autotune.cache import CacheWarning, TuneCache, make_key


@deuteron.kernel(autotune_progress_bar=False)
def triple(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * 3
    return out


CONFIGS = [deuteron.Config(block_sizes=[s]) for s in (256, 1024)]
HOOKS = TuneHooks(compile_target="test_autotune_driver:no_compile", measure_target="test_autotune_driver:fake_measure",
                  jobs=1)


_CACHE_DIR: list[str] = []


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    monkeypatch.setenv("DEUTERON_CACHE_DIR", str(tmp_path / "cache"))
    _CACHE_DIR[:] = [str(tmp_path / "cache")]


def _bound(x, **settings):
    triple.reset()
    b = triple.bind((x,))
    # Settings were read when the module was imported: point this one at the test's cache.
    b.settings = b.settings.replace(cache_dir=_CACHE_DIR[0], **settings)
    return b


class _Counting:
    """Counts tuning runs (wraps driver.Tuner.run)."""

    def __init__(self, monkeypatch):
        import deuteron.autotune.driver as driver

        self.calls = 0
        original = driver.Tuner.run

        def run(tuner, candidates):
            self.calls += 1
            return original(tuner, candidates)

        monkeypatch.setattr(driver.Tuner, "run", run)


def _entries(tmp_path):
    d = tmp_path / "cache" / "autotune"
    return sorted(d.glob("*.json")) if d.exists() else []


def test_miss_then_hit_does_not_tune(monkeypatch, tmp_path, capsys):
    counter = _Counting(monkeypatch)
    x = torch.randn(4096)
    first = tune(_bound(x), (x,), CONFIGS, hooks=HOOKS)
    assert counter.calls == 1 and first["block_sizes"] == [1024]
    (entry,) = _entries(tmp_path)
    record = json.loads(entry.read_text())
    assert record["format"] == "deuteron.autotune/1" and record["config"]["block_sizes"] == [1024]
    assert record["material"]["versions"]["torch"] == torch.__version__
    second = tune(_bound(x), (x,), CONFIGS, hooks=HOOKS)
    assert counter.calls == 1 and second == first
    # A different specialization (shape) or candidate list is another entry.
    y = torch.randn(2048)
    tune(_bound(y), (y,), CONFIGS, hooks=HOOKS)
    tune(_bound(x), (x,), CONFIGS[:1] + [deuteron.Config(block_sizes=[512])], hooks=HOOKS)
    assert counter.calls == 3 and len(_entries(tmp_path)) == 3


def test_force_autotune_and_cache_off(monkeypatch, tmp_path):
    counter = _Counting(monkeypatch)
    x = torch.randn(4096)
    tune(_bound(x), (x,), CONFIGS, hooks=HOOKS)
    tune(_bound(x, force_autotune=True), (x,), CONFIGS, hooks=HOOKS)
    assert counter.calls == 2
    tune(_bound(x, autotune_cache=False), (x,), CONFIGS, hooks=HOOKS)
    assert counter.calls == 3 and len(_entries(tmp_path)) == 1


@pytest.mark.parametrize("damage", ["garbage", "truncated", "not_a_record", "stale", "bad_config", "deep",
                                    "wrong_types", "bad_seconds"])
def test_corrupt_or_stale_entries_are_ignored_with_a_warning(monkeypatch, tmp_path, damage):
    counter = _Counting(monkeypatch)
    x = torch.randn(4096)
    tune(_bound(x), (x,), CONFIGS, hooks=HOOKS)
    (entry,) = _entries(tmp_path)
    text = entry.read_text()
    record = json.loads(text)
    if damage == "garbage":
        entry.write_bytes(b"\x00\xff not json")
    elif damage == "truncated":
        entry.write_text(text[: len(text) // 2])
    elif damage == "not_a_record":
        entry.write_text("[1, 2, 3]")
    elif damage == "deep":
        # Deeper than Python's stack: json.loads raises RecursionError, not ValueError.
        entry.write_text('{"format": "deuteron.autotune/1", "config": ' + "[" * 100_000 + "]" * 100_000 + "}")
    elif damage == "wrong_types":
        record["config"] = {"block_sizes": "1024"}
        record["key"] = ["not", "a", "string"]
        entry.write_text(json.dumps(record))
    elif damage == "bad_seconds":
        record["seconds"] = "fast"  # tune(return_result=True) turns it into a float
        entry.write_text(json.dumps(record))
    elif damage == "stale":
        record["material"]["versions"]["triton"] = "0.0.1"
        entry.write_text(json.dumps(record))
    else:
        record["config"] = {"block_sizes": [3]}  # not a power of two
        entry.write_text(json.dumps(record))
    with pytest.warns((CacheWarning, UserWarning)):
        cfg = tune(_bound(x), (x,), CONFIGS, hooks=HOOKS)
    assert counter.calls == 2 and cfg["block_sizes"] == [1024]
    # The entry was rewritten and is good again.
    assert json.loads(entry.read_text())["config"]["block_sizes"] == [1024]


def _writer(directory: str, n: int, seed: int) -> None:
    cache = TuneCache(directory)
    material = {"kernel": "k", "x": 1}
    for i in range(n):
        cache.store("k", material, {"block_sizes": [seed * 1000 + i]}, seconds=1e-3)


def test_concurrent_writers_never_leave_a_broken_entry(tmp_path):
    directory = str(tmp_path / "shared")
    cache = TuneCache(directory)
    material = {"kernel": "k", "x": 1}
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(directory, 60, s)) for s in range(4)]
    for p in procs:
        p.start()
    reads = 0
    while any(p.is_alive() for p in procs):
        rec = cache.load("k", material)  # must never warn or fail mid-write
        if rec is not None:
            assert isinstance(rec["config"]["block_sizes"][0], int)
            reads += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    rec = cache.load("k", material)
    assert rec is not None and rec["key"] == make_key(material)
    assert not [f for f in os.listdir(os.path.join(directory)) if f.endswith(".tmp")]  # no temp files left


def test_two_processes_tuning_the_same_kernel(tmp_path):
    """Both finish; the entry is a complete record from one of them."""
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "tune_one.py"
    script.write_text(textwrap.dedent("""
        import torch, deuteron, sys
        import deuteron.language as hl
        from deuteron.autotune import TuneHooks, tune
        sys.path.insert(0, %r)

        @deuteron.kernel(autotune_progress_bar=False)
        def quad(x: torch.Tensor) -> torch.Tensor:
            out = torch.empty_like(x)
            for tile in hl.tile(x.size(0)):
                out[tile] = x[tile] * 4
            return out

        x = torch.randn(4096)
        cfgs = [deuteron.Config(block_sizes=[s]) for s in (256, 1024)]
        hooks = TuneHooks(compile_target="test_autotune_driver:no_compile",
                          measure_target="test_autotune_driver:fake_measure", jobs=1)
        print("RESULT", tune(quad.bind((x,)), (x,), cfgs, hooks=hooks)["block_sizes"])
    """ % os.path.dirname(__file__)))
    env = dict(os.environ, DEUTERON_INTERPRET="1", DEUTERON_CACHE_DIR=str(tmp_path / "c"),
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    procs = [subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
        assert "RESULT [1024]" in out
    entries = list((tmp_path / "c" / "autotune").glob("*.json"))
    assert len(entries) == 1 and json.loads(entries[0].read_text())["config"]["block_sizes"] == [1024]
