"""The shared tuning cache's stores against a real redis-server and a shared directory.

Both stores get the same tests: hit, miss, better replaces worse (never the
other way), processes racing on one key round after round (the best result
of all of them stays, every read is a whole record), corrupt and foreign
entries (ignored with one warning, then replaced), and the store going away
(a short wait, one warning, then nothing is asked of it for a while).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import sys
import time
import warnings

import pytest

from deuteron import exc
from deuteron.autotune.cache import CacheWarning
from deuteron.autotune.shared_cache import SharedCache, _bounded
from deuteron.autotune.store_directory import DirectoryStore
from deuteron.autotune.store_url import open_store
from deuteron.autotune.tuning_key import TuningKey, digest
from deuteron.autotune.tuning_record import RecordError, dump_record, make_record, parse_record
from deuteron.autotune.tuning_store import Store, StoreUnavailable


def _key(n: int = 0, kernel: str = "k") -> TuningKey:
    return TuningKey({"kernel": kernel, "versions": {"deuteron": "test"}},
                     {"args": [{"kind": "tensor", "dtype": "float32", "sizes": [1024 * (n + 1)], "strides": [1],
                                "align": 16}]})


def _record(key: TuningKey, seconds: float, effort: str = "quick", block: int = 64, host: str = "h") -> dict:
    return make_record(key, key.family["kernel"], {"block_sizes": [block]}, seconds,
                       {"effort": effort, "strategy": "pattern", "configs_tried": 10, "host": host},
                       [({"block_sizes": [block]}, seconds)])


@pytest.fixture(params=["redis", "directory"])
def store_url(request, tmp_path):
    if request.param == "redis":
        return request.getfixturevalue("redis_url")
    return str(tmp_path / "shared")


def _quiet_cache(url: str, **kw) -> SharedCache:
    return SharedCache(url, **kw)


# ------------------------------------------------------------------ records


def test_records_are_checked_before_use():
    key = _key()
    rec = _record(key, 1e-3)
    assert parse_record(dump_record(rec)) == rec
    bad = [
        b"\x00\xff not json",
        dump_record(rec)[:50],
        b"[1, 2]",
        json.dumps(dict(rec, format="other/1")).encode(),
        json.dumps(dict(rec, key="0" * 64)).encode(),                   # a key it was not made for
        json.dumps(dict(rec, config={"num_warps": "many"})).encode(),
        json.dumps(dict(rec, seconds=-1)).encode(),
        json.dumps(dict(rec, seconds=True)).encode(),
        json.dumps(dict(rec, tuning=dict(rec["tuning"], effort="max"))).encode(),
        json.dumps(dict(rec, top=[{"config": {"block_sizes": "x"}, "seconds": 1}])).encode(),
        b"[" * 100000,                                                   # deep nesting
        b" " * (2 << 20),                                                # too large
    ]
    for data in bad:
        with pytest.raises(RecordError):
            parse_record(data)
    # The material is what the key is the hash of: changing it is detected.
    m = json.loads(json.dumps(rec))
    m["material"]["shape"]["args"][0]["sizes"] = [7]
    with pytest.raises(RecordError, match="hash"):
        parse_record(json.dumps(m))
    assert rec["key"] == digest(key.material) and rec["family"] == digest(key.family)


# ---------------------------------------------------------- hit, miss, better


def test_hit_miss_and_better_replaces_worse(store_url):
    cache = _quiet_cache(store_url)
    key, other = _key(0), _key(1)
    assert cache.lookup(key, "quick") is None                  # miss
    assert cache.publish(_record(key, 2e-3, block=32))
    found = cache.lookup(key, "quick")                         # hit
    assert found["config"] == {"block_sizes": [32]} and found["seconds"] == 2e-3
    assert cache.lookup(other, "quick") is None                # another shape: miss
    assert not cache.publish(_record(key, 3e-3, block=16))     # worse: kept out
    assert not cache.publish(_record(key, 2e-3, block=32))     # the same: nothing changes
    assert cache.publish(_record(key, 1e-3, block=128))        # better: replaces
    assert cache.lookup(key, "quick")["config"] == {"block_sizes": [128]}
    # A quick result does not answer a full request; a full one replaces it even when slower.
    assert cache.lookup(key, "full") is None
    assert cache.publish(_record(key, 1.5e-3, effort="full", block=256))
    assert cache.lookup(key, "full")["config"] == {"block_sizes": [256]}
    assert cache.lookup(key, "quick")["tuning"]["effort"] == "full"
    assert not cache.publish(_record(key, 1e-4, effort="quick", block=512))
    # The family lists the other shapes (warm starts).
    cache.publish(_record(other, 1e-3, block=1024))
    near = cache.neighbours(key)
    assert [r["key"] for _, r in near] == [other.key]
    if store_url.startswith("redis"):
        assert len(cache.store.get(key.family_key, key.key)) == 1
    else:
        assert len(os.listdir(os.path.join(store_url, "deuteron-tuning-v1", key.family_key, key.key))) == 1


def test_warm_starts_take_the_nearest_tuned_shapes_first(store_url):
    """neighbours(): other shapes of the family, nearest first (|log2| of the size ratios),
    the shape itself, other families and incomparable shapes left out."""
    cache = _quiet_cache(store_url)
    target = _key(7)                               # 8192 elements
    sizes = {0: 1024, 3: 4096, 15: 16384, 63: 65536}  # _key(n): 1024 * (n + 1) elements
    for n in sizes:
        cache.publish(_record(_key(n), 1e-3, block=64))
    cache.publish(_record(target, 1e-3))           # the shape itself: not its own neighbour
    cache.publish(_record(_key(3, kernel="other"), 1e-3))  # another family
    two_d = TuningKey(target.family, {"args": [{"kind": "tensor", "dtype": "float32", "sizes": [64, 128],
                                                "strides": [128, 1], "align": 16}]})
    cache.publish(_record(two_d, 1e-3))            # another rank: not comparable
    near = cache.neighbours(target, shapes=3)
    assert {r["key"] for _, r in near[:2]} == {_key(3).key, _key(15).key}  # a tie, broken by key
    assert near[2][1]["key"] == _key(0).key
    assert [d for d, _ in near] == [1.0, 1.0, 3.0]


# ------------------------------------------------------------------ racing


def _racer(urls: list[str], rounds: int, writes: int, seed: int, out_path: str, barrier) -> None:
    """One 'host': for each round, writes `writes` results with random times to that round's key,
    each to every store; records the best it wrote.  Waits at `barrier` so that the racers start
    together (once every process has imported deuteron, however long that takes on a loaded machine)."""
    caches = [SharedCache(url, write_seconds=120.0, read_seconds=120.0) for url in urls]
    rng = random.Random(seed)
    best = {}
    barrier.wait(timeout=240)
    for r in range(rounds):
        key = _key(r, kernel="race")
        for _ in range(writes):
            seconds = rng.uniform(1e-4, 1e-2)
            rec = _record(key, seconds, block=rng.choice([16, 32, 64, 128]), host=f"host{seed}")
            best[r] = min(best.get(r, 1.0), seconds)
            for cache in caches:
                assert cache.publish(rec) in (True, False)
                # Read back: never a broken record, never worse than what this host just wrote.
                got = cache.lookup(key, "quick")
                assert got is not None and got["seconds"] <= seconds, cache.url
    with open(out_path + ".tmp", "w") as f:
        json.dump(best, f)
    os.rename(out_path + ".tmp", out_path)


def _reader(urls: list[str], rounds: int, done: list[str], out_path: str, barrier) -> None:
    """Reads every round's key in every store until both racers are done."""
    caches = [SharedCache(url, read_seconds=120.0) for url in urls]
    reads = 0
    barrier.wait(timeout=240)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a half-written or damaged record would warn
        finished = False
        while not finished:  # one more pass after both are done: every key is there then
            finished = all(os.path.exists(p) for p in done)
            for r in range(rounds):
                for cache in caches:
                    got = cache.lookup(_key(r, kernel="race"), "quick")
                    if got is not None:
                        assert got["tuning"]["host"] in ("host1", "host2")
                        reads += 1
    with open(out_path, "w") as f:
        json.dump(reads, f)


def test_two_hosts_racing_on_one_key_lose_nothing(redis_url, tmp_path):
    """Two processes ('hosts') write the same keys at once, on Redis and on a shared directory
    (both in the same processes: starting processes is the slow part of this test)."""
    urls = [redis_url, str(tmp_path / "shared")]
    rounds, writes = 12, 15
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    outs = [str(tmp_path / f"host{i}.json") for i in (1, 2)]
    racers = [ctx.Process(target=_racer, args=(urls, rounds, writes, i, outs[i - 1], barrier)) for i in (1, 2)]
    reader = ctx.Process(target=_reader, args=(urls, rounds, outs, str(tmp_path / "reads.json"), barrier))
    procs = racers + [reader]
    for p in procs:
        p.start()
    try:
        for p in racers:
            p.join(timeout=300)
            assert p.exitcode == 0
        reader.join(timeout=120)
        assert reader.exitcode == 0
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
    bests = [json.load(open(o)) for o in outs]
    for url in urls:
        cache = SharedCache(url)
        for r in range(rounds):
            stored = cache.lookup(_key(r, kernel="race"), "quick")
            expected = min(b[str(r)] for b in bests)
            assert stored is not None and stored["seconds"] == expected, f"{url}, round {r}: lost the best result"
    assert json.load(open(tmp_path / "reads.json")) >= rounds * len(urls)
    leftovers = [n for _, _, files in os.walk(urls[1]) for n in files if n.endswith(".tmp")]
    assert not leftovers


# ---------------------------------------------------------- damaged entries


def _put_raw(url: str, key: TuningKey, data: bytes) -> None:
    store = open_store(url)
    if isinstance(store, DirectoryStore):
        folder = store.base / key.family_key / key.key
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ("f" * 64 + ".json")).write_bytes(data)
    else:
        store.client.set(f"{store.prefix}:entry:{key.key}", data)
        store.client.sadd(f"{store.prefix}:family:{key.family_key}", key.key)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign", "bad_config"])
def test_corrupt_and_foreign_entries_are_ignored_with_one_warning(store_url, damage):
    key = _key(3)
    good = dump_record(_record(key, 1e-3))
    if damage == "garbage":
        data = b"\x00\xff\xfe garbage"
    elif damage == "truncated":
        data = good[: len(good) // 2]
    elif damage == "foreign":
        data = dump_record(_record(_key(4), 1e-6))  # a valid record, of another key
    else:
        rec = json.loads(good)
        rec["config"] = {"block_sizes": [64], "num_warps": "many"}  # not a value of that key
        data = json.dumps(rec).encode()
    _put_raw(store_url, key, data)
    _ignored_once_then_replaced(store_url, key)


def test_a_redis_value_of_another_type_is_ignored_then_replaced(redis_url):
    key = _key(3)
    store = open_store(redis_url)
    store.client.lpush(f"{store.prefix}:entry:{key.key}", b"x")
    _ignored_once_then_replaced(redis_url, key)


def _ignored_once_then_replaced(store_url, key):
    cache = _quiet_cache(store_url)
    with pytest.warns(CacheWarning, match="ignoring an entry"):
        assert cache.lookup(key, "quick") is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.lookup(key, "quick") is None  # the same entry again: no second warning
        # Tuning again writes a good record over it.
        assert cache.publish(_record(key, 2e-3))
        assert cache.lookup(key, "quick")["seconds"] == 2e-3


def test_a_config_outside_the_kernels_space_is_ignored():
    """The caller's check (BoundKernel.normalize_config in the driver) rejects it, with one warning."""

    class Memory(Store):
        url = "memory://"

        def __init__(self):
            self.data = {}

        def get(self, family, key):
            return [self.data[key]] if key in self.data else []

        def put_if_better(self, family, key, data, better):
            if better(self.data.get(key)):
                self.data[key] = data
                return True
            return False

    key = _key()
    cache = SharedCache("memory://", store=Memory())
    # A key the config table allows (a tunable's name) that this kernel does not have.
    cache.publish(make_record(key, "k", {"block_sizes": [64], "my_tunable": 2}, 1e-3, {"effort": "quick"}, []))

    def check(config):
        raise exc.ConfigError("config key 'my_tunable' is not a key of this kernel")

    with pytest.warns(CacheWarning, match="does not fit the kernel"):
        assert cache.lookup(key, "quick", check=check) is None
    assert cache.lookup(key, "quick", check=lambda c: c)["checked_config"]["my_tunable"] == 2


# ------------------------------------------------------------- unreachable


class _Counted(Store):
    """A store that counts the calls that reach it (to see that a store marked down is left alone)."""

    def __init__(self, inner: Store) -> None:
        self.inner, self.url, self.calls = inner, inner.url, 0

    def __getattribute__(self, name):
        if name in ("get", "put_if_better", "family", "scan", "delete"):
            object.__getattribute__(self, "__dict__")["calls"] += 1
            return getattr(object.__getattribute__(self, "inner"), name)
        return object.__getattribute__(self, name)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_redis_going_down_mid_run(tmp_path):
    from redis_server import RedisServer

    server = RedisServer(tmp_path / "redis")
    clock = _Clock()
    try:
        store = _Counted(open_store(server.url))
        cache = SharedCache(server.url, store=store, retry_after=30.0, clock=clock)
        key = _key(5)
        assert cache.publish(_record(key, 1e-3))
        assert cache.lookup(key, "quick") is not None
        server.stop()
        t0 = time.monotonic()
        with pytest.warns(CacheWarning, match="unreachable"):
            assert cache.lookup(key, "quick") is None
        # A refused connection fails at once; the bound only catches a client that retries or hangs.
        assert time.monotonic() - t0 < 15.0
        # Left alone until retry_after has passed: no call reaches the store, no second warning,
        # writes are dropped.
        calls = store.calls
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(20):
                clock.now += 1.0
                assert cache.lookup(key, "quick") is None
                assert cache.publish(_record(key, 5e-4)) is False
                assert cache.neighbours(key) == []
        assert store.calls == calls
        # Still down when retried: one more call, still no second warning until it works again.
        clock.now += 30.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert cache.lookup(key, "quick") is None
        assert store.calls == calls + 1 and not cache.available
        # Back (an empty server): used again once retry_after has passed.
        server.start()
        clock.now += 30.0
        assert cache.available
        assert cache.lookup(key, "quick") is None
        assert cache.publish(_record(key, 7e-4))
        assert cache.lookup(key, "quick")["seconds"] == 7e-4
    finally:
        server.stop()


def test_an_unreachable_host_costs_one_short_timeout():
    # A port nothing listens on (the test servers bind 127.0.0.1 on free ports).
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cache = SharedCache(f"redis://127.0.0.1:{port}/0")
    t0 = time.monotonic()
    with pytest.warns(CacheWarning, match="unreachable"):
        assert cache.lookup(_key(), "quick") is None
    # Refused at once; a generous bound (a loaded machine) that a retrying or hanging client exceeds.
    assert time.monotonic() - t0 < 15.0


def test_a_hung_store_is_abandoned_after_its_deadline():
    class Hung(Store):
        url = "hung://"

        def get(self, family, key):
            time.sleep(30)

    cache = SharedCache("hung://", store=Hung(), read_seconds=0.3)
    t0 = time.monotonic()
    with pytest.warns(CacheWarning, match="no answer within 0.3 s"):
        assert cache.lookup(_key(), "quick") is None
    assert time.monotonic() - t0 < 15.0  # not the 30 s the store hangs
    with pytest.raises(StoreUnavailable):
        _bounded(lambda: time.sleep(5), 0.1)
    assert _bounded(lambda: 42, 1.0) == 42


def test_a_directory_that_cannot_be_written_is_unavailable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = SharedCache(str(blocker / "sub"))
    with pytest.warns(CacheWarning, match="unreachable"):
        assert cache.publish(_record(_key(), 1e-3)) is False


# -------------------------------------------------------------------- URLs


def test_store_urls(tmp_path, redis_url):
    assert isinstance(open_store(str(tmp_path)), DirectoryStore)
    assert isinstance(open_store(f"file://{tmp_path}"), DirectoryStore)
    assert open_store(redis_url + "?prefix=team-a&timeout=0.2").prefix == "team-a"
    with pytest.raises(exc.TuningCacheError, match="unknown kind of store"):
        open_store("s3://bucket/tuning")
    with pytest.raises(exc.TuningCacheError, match="path on this host"):
        open_store("file://otherhost/x")


def test_without_the_redis_package_a_redis_url_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)  # as if not installed: `import redis` fails
    with pytest.raises(exc.TuningCacheError, match=r"pip install 'deuteron\[redis\]'"):
        open_store("redis://127.0.0.1:1/0")
