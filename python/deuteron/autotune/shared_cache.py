"""The shared tuning cache as the autotuner uses it: a store (tuning_store.py) made safe to lean on.

* Lookups take the best *valid* record of a key: each candidate is parsed and
  checked (tuning_record.parse_record), must be the record of the key asked
  for, and its config must pass the caller's check (the kernel's space).  A
  record that fails is ignored with one warning (once per record per process).
* A store that cannot be reached, or answers too slowly, never stalls tuning:
  every call runs with a deadline (Redis has its own socket timeouts; a hung
  network file system needs the thread), then the store is left alone for
  ``retry_after`` seconds, with one warning, and the local cache carries on.
* Only a setup error (``TuningCacheError``: unknown URL, redis not installed)
  is raised, once, when the cache is first used.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import warnings
from typing import Any, Callable, TypeVar

from ..runtime.config import Config
from .cache import CacheWarning
from .store_url import open_store
from .tuning_key import TuningKey, shape_distance
from .tuning_record import RecordError, better, dump_record, parse_record, rank, satisfies
from .tuning_store import Store, StoreUnavailable

__all__ = ["SharedCache", "shared_cache", "forget_shared_caches"]

T = TypeVar("T")


def _bounded(fn: Callable[[], T], seconds: float) -> T:
    """``fn()``, or StoreUnavailable when it has not returned within ``seconds`` (it is then
    left running in a daemon thread: a blocked read of a hung mount cannot be interrupted)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            box["error"] = e

    t = threading.Thread(target=run, name="deuteron-tuning-cache", daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        raise StoreUnavailable(f"no answer within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


class SharedCache:
    def __init__(self, url: str, store: Store | None = None, *, retry_after: float = 30.0,
                 read_seconds: float = 3.0, write_seconds: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        # When to ask a store that failed again (injectable: tests step it instead of sleeping).
        self.clock = clock
        self.store = store if store is not None else open_store(url)
        self.retry_after = retry_after
        self.read_seconds = read_seconds
        self.write_seconds = write_seconds
        self._down_until = 0.0
        self._warned_down = False
        self._warned_records: set[str] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------ health
    @property
    def available(self) -> bool:
        return self.clock() >= self._down_until

    def _call(self, fn: Callable[[], T], seconds: float) -> T | None:
        if not self.available:
            return None
        try:
            value = _bounded(fn, seconds)
        except StoreUnavailable as e:
            with self._lock:
                self._down_until = self.clock() + self.retry_after
                first = not self._warned_down
                self._warned_down = True
            if first:
                warnings.warn(f"deuteron: the shared tuning cache {self.url} is unreachable ({e}); using the local "
                              f"cache alone (trying the store again every {self.retry_after:g} s)", CacheWarning,
                              stacklevel=4)
            return None
        with self._lock:
            self._warned_down = False
        return value

    def _bad(self, data: bytes, why: str) -> None:
        tag = hashlib.sha256(data).hexdigest()
        with self._lock:
            if tag in self._warned_records:
                return
            self._warned_records.add(tag)
        warnings.warn(f"deuteron: ignoring an entry of the shared tuning cache {self.url}: {why}", CacheWarning,
                      stacklevel=4)

    # ----------------------------------------------------------- records
    def _valid(self, data: bytes, key: str | None, check: Callable[[Config], Any] | None) -> dict[str, Any] | None:
        try:
            record = parse_record(data)
        except RecordError as e:
            self._bad(data, str(e))
            return None
        if key is not None and record["key"] != key:
            self._bad(data, "it is the record of another key (foreign)")
            return None
        if check is not None:
            try:
                record["checked_config"] = check(Config.from_dict(record["config"]))
            except Exception as e:  # noqa: BLE001 - a config outside the kernel's space
                self._bad(data, f"its config does not fit the kernel ({type(e).__name__}: {e})")
                return None
        return record

    def lookup(self, key: TuningKey, effort: str,
               check: Callable[[Config], Any] | None = None) -> dict[str, Any] | None:
        """The best valid record of ``key`` that answers a request of ``effort``, or None.
        ``check(config)`` (e.g. BoundKernel.normalize_config) must accept its config; what it
        returns is the record's ``checked_config``."""
        found = self._call(lambda: self.store.get(key.family_key, key.key), self.read_seconds)
        best = None
        for data in found or []:
            record = self._valid(data, key.key, check)
            if record is not None and satisfies(record, "quick") and better(record, best):
                best = record
        if best is None or not satisfies(best, effort):
            return None
        return best

    def publish(self, record: dict[str, Any]) -> bool:
        """Stores ``record`` (from tuning_record.make_record) unless the store has one at least as good."""
        data = dump_record(record)

        def is_better(existing: bytes | None) -> bool:
            if existing is None:
                return True
            try:
                old = parse_record(existing)
            except RecordError:
                return True  # a damaged entry is replaced
            return old["key"] != record["key"] or better(record, old)

        stored = self._call(lambda: self.store.put_if_better(record["family"], record["key"], data, is_better),
                            self.write_seconds)
        return bool(stored)

    def neighbours(self, key: TuningKey, shapes: int = 3) -> list[tuple[float, dict[str, Any]]]:
        """Records of other shapes of ``key``'s family, nearest first (at most ``shapes``)."""
        found = self._call(lambda: self.store.family(key.family_key), self.read_seconds)
        best_of: dict[str, dict[str, Any]] = {}
        for data in found or []:
            try:
                record = parse_record(data)
            except RecordError:
                continue  # warm starts are a hint: no warning for what a lookup would report
            if record["family"] != key.family_key or record["key"] == key.key:
                continue
            old = best_of.get(record["key"])
            if old is None or rank(record) > rank(old):
                best_of[record["key"]] = record
        scored = [(shape_distance(key.shape, r["material"]["shape"]), r) for r in best_of.values()]
        scored = [(d, r) for d, r in scored if math.isfinite(d)]
        scored.sort(key=lambda dr: (dr[0], dr[1]["key"]))
        return scored[:shapes]


_CACHES: dict[str, SharedCache] = {}
_CACHES_LOCK = threading.Lock()


def shared_cache(url: str | None) -> SharedCache | None:
    """The shared cache of ``url`` (one per URL per process); None when ``url`` is None or empty."""
    if not url or not url.strip():
        return None
    with _CACHES_LOCK:
        cache = _CACHES.get(url)
        if cache is None:
            cache = _CACHES[url] = SharedCache(url)
        return cache


def forget_shared_caches() -> None:
    """Closes and forgets every shared cache of this process (tests; a changed store)."""
    with _CACHES_LOCK:
        for cache in _CACHES.values():
            try:
                cache.store.close()
            except Exception:  # noqa: BLE001
                pass
        _CACHES.clear()
