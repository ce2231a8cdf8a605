"""``deuteron cache`` on both stores with records made here (no tuning: quick).

list (text and --json, invalid entries shown), show (by a key prefix; an
ambiguous or unknown prefix is an error), export (all, one kernel, stdout),
import (checked entry by entry, better-replaces-worse), prune (by the
installed versions, by --version, invalid entries, --dry-run).
tests/test_tuning_cache_flow.py runs the same commands on results of real
tuning runs.
"""

from __future__ import annotations

import io
import json

import pytest

from deuteron.autotune.cache import versions
from deuteron.autotune.cache_cli import EXPORT_FORMAT, main as cache_main
from deuteron.autotune.store_directory import DirectoryStore
from deuteron.autotune.store_url import open_store
from deuteron.autotune.tuning_key import TuningKey
from deuteron.autotune.tuning_record import make_record


def _key(kernel: str, size: int, vers: dict[str, str]) -> TuningKey:
    return TuningKey({"kernel": kernel, "device": {"model": "NVIDIA H200"}, "versions": dict(vers, driver="12.8")},
                     {"args": [{"kind": "tensor", "dtype": "float16", "sizes": [size, 512], "strides": [512, 1],
                                "align": 16}, {"kind": "constexpr", "value": 2}]})


def _record(kernel: str, size: int, seconds: float, vers: dict[str, str] | None = None, effort: str = "quick"):
    key = _key(kernel, size, vers or versions())
    return make_record(key, kernel, {"block_sizes": [64, 32], "num_warps": 4}, seconds,
                       {"effort": effort, "strategy": "pattern", "configs_tried": 40, "host": "ci-1"},
                       [({"block_sizes": [64, 32], "num_warps": 4}, seconds)])


def _cli(argv, rc=0):
    out = io.StringIO()
    assert cache_main(argv, out=out) == rc, out.getvalue()
    return out.getvalue()


@pytest.fixture(params=["redis", "directory"])
def filled(request, tmp_path):
    """A store with 3 valid records (2 kernels, one of an old triton) and one invalid entry."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else str(tmp_path / "shared")
    old = dict(versions(), triton="0.0.1-old")
    records = [_record("softmax", 1024, 2e-4), _record("softmax", 4096, 6e-4), _record("rms_norm", 1024, 1e-4, old)]
    store = open_store(url)
    for r in records:
        data = json.dumps(r).encode()
        assert store.put_if_better(r["family"], r["key"], data, lambda existing: True)
    bad_key = "ab" * 32
    if isinstance(store, DirectoryStore):
        folder = store.base / ("cd" * 32) / bad_key
        folder.mkdir(parents=True)
        (folder / ("e" * 64 + ".json")).write_bytes(b'{"format": "deuteron.tuning/1", "ke')
    else:
        store.client.set(f"{store.prefix}:entry:{bad_key}", b"\x00 not json")
    store.close()
    return url, records, bad_key


def test_list_and_show(filled):
    url, records, bad_key = filled
    lines = _cli(["list", "--store", url]).strip().splitlines()
    assert lines[-1] == "3 entries, 1 invalid"
    assert sum("softmax" in line for line in lines) == 2 and sum("rms_norm" in line for line in lines) == 1
    assert any(line.startswith(bad_key[:16]) and "not a valid record" in line for line in lines)
    assert any("float16[1024,512] 2" in line and "NVIDIA H200" in line and "0.2 ms" in line for line in lines)
    listed = json.loads(_cli(["list", "--json", "--store", url]))
    assert sorted(e["key"] for e in listed) == sorted(r["key"] for r in records)
    assert all(set(e) >= {"kernel", "args", "device", "tuning", "seconds", "config", "versions"} for e in listed)
    shown = json.loads(_cli(["show", records[1]["key"][:20], "--store", url]))
    assert shown == records[1]
    assert cache_main(["show", "", "--store", url], out=io.StringIO()) == 2          # every key: ambiguous
    assert cache_main(["show", bad_key, "--store", url], out=io.StringIO()) == 2     # not a valid entry
    assert cache_main(["show", "--store", url], out=io.StringIO()) == 2              # no KEY


def test_export_and_import_keep_the_better_result(filled, tmp_path):
    url, records, _ = filled
    doc = json.loads(_cli(["export", "--kernel", "softmax", "--store", url]))  # to stdout
    assert doc["format"] == EXPORT_FORMAT
    assert sorted(e["key"] for e in doc["entries"]) == sorted(r["key"] for r in records[:2])
    target = tmp_path / "app"
    # The application's store already has a better result for one key and a worse one for the other.
    store = open_store(str(target))
    better_there = _record("softmax", 1024, 1e-4)
    worse_there = _record("softmax", 4096, 9e-4)
    for r in (better_there, worse_there):
        store.put_if_better(r["family"], r["key"], json.dumps(r).encode(), lambda existing: True)
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(doc))
    assert "1 stored, 1 kept" in _cli(["import", str(bundle), "--store", str(target)])
    now = {r["key"]: r for r in json.loads(_cli(["list", "--json", "--store", str(target)]))}
    assert now[better_there["key"]]["seconds"] == 1e-4  # kept: better than the import
    assert now[worse_there["key"]]["seconds"] == 6e-4   # replaced by the import
    # Not an export, or an entry that fails the checks: errors, and nothing stored from it.
    (tmp_path / "other.json").write_text('{"entries": []}')
    assert cache_main(["import", str(tmp_path / "other.json"), "--store", str(target)], out=io.StringIO()) == 2
    doc["entries"][0]["seconds"] = -1.0
    bundle.write_text(json.dumps({"format": EXPORT_FORMAT, "entries": doc["entries"][:1]}))
    assert cache_main(["import", str(bundle), "--store", str(tmp_path / "empty")], out=io.StringIO()) == 1
    assert "0 entries" in _cli(["list", "--store", str(tmp_path / "empty")])


def test_prune_by_version_and_invalid_entries(filled):
    url, records, bad_key = filled
    dry = _cli(["prune", "--dry-run", "--store", url]).strip().splitlines()
    assert dry[-1] == "deuteron cache prune: would remove 2 of 4 entries"
    assert _cli(["list", "--store", url]).strip().splitlines()[-1] == "3 entries, 1 invalid"  # nothing removed
    # By the installed versions: the old triton's entry and the invalid one go, the current results stay.
    out = _cli(["prune", "--store", url]).strip().splitlines()
    assert out[-1] == "deuteron cache prune: removed 2 of 4 entries"
    assert any("rms_norm" in line for line in out) and any(bad_key[:16] in line for line in out)
    listed = json.loads(_cli(["list", "--json", "--store", url]))
    assert sorted(e["key"] for e in listed) == sorted(r["key"] for r in records[:2])
    # --version NAME=VER: the entries made by that version (here: the installed one, all of them).
    out = _cli(["prune", "--dry-run", "--version", f"triton={versions()['triton']}", "--store", url])
    assert out.strip().splitlines()[-1] == "deuteron cache prune: would remove 2 of 2 entries"
    assert "0 entries" not in _cli(["list", "--store", url])
    assert cache_main(["prune", "--version", "triton", "--store", url], out=io.StringIO()) == 2
