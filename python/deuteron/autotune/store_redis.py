"""The shared tuning cache on Redis (``redis://host:port/db``; needs ``pip install deuteron[redis]``).

Keys (``prefix`` defaults to ``deuteron:tuning:v1``)::

    <prefix>:entry:<key>        a string: the record's JSON
    <prefix>:family:<family>    a set: the keys of the family's records (warm starts)

``put_if_better`` is optimistic: WATCH the entry, GET it, decide in Python
(tuning_record.better: one definition of "better" for every store), then
MULTI/SET/SADD/EXEC.  EXEC fails when any client wrote the entry after the
WATCH; the loop then reads the new value and decides again.  Every failed
EXEC means another writer's transaction went through, and a writer only
writes a result better than what it read, so the stored result only improves
and the loop ends; the best result written by anyone is what stays.

Short timeouts (connect 0.5 s, reads 1 s; ``?timeout=S`` changes both) and no
automatic retries: an unreachable server costs one timeout, then the caller
stops asking for a while (shared_cache.py).
"""

from __future__ import annotations

import time
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..exc import TuningCacheError
from .tuning_store import Better, Store, StoreUnavailable

__all__ = ["RedisStore"]

_OUR_PARAMETERS = ("prefix", "timeout")


def _redis_module() -> Any:
    try:
        import redis  # optional dependency: pip install deuteron[redis]
    except ImportError:
        raise TuningCacheError(
            "the tuning cache is a redis:// URL but the redis package is not installed; "
            "install it with: pip install 'deuteron[redis]' (or pip install redis)") from None
    return redis


class RedisStore(Store):
    def __init__(self, url: str, *, prefix: str | None = None, timeout: float | None = None,
                 transaction_seconds: float = 10.0) -> None:
        redis = _redis_module()
        self._redis = redis
        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query))
        self.prefix = prefix or params.get("prefix") or "deuteron:tuning:v1"
        try:
            t = float(timeout if timeout is not None else params.get("timeout", 0) or 0)
        except ValueError:
            raise TuningCacheError(f"tuning cache {url!r}: timeout must be a number of seconds") from None
        connect_timeout, read_timeout = (t, t) if t > 0 else (0.5, 1.0)
        rest = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in _OUR_PARAMETERS])
        self.url = url
        self._transaction_seconds = transaction_seconds
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
        try:
            self.client = redis.Redis.from_url(
                urlunsplit(parts._replace(query=rest)), socket_connect_timeout=connect_timeout,
                socket_timeout=read_timeout, retry_on_timeout=False, **self._no_retry(redis))
        except ValueError as e:
            raise TuningCacheError(f"tuning cache {url!r}: {e}") from None

    @staticmethod
    def _no_retry(redis: Any) -> dict[str, Any]:
        # redis-py >= 6 retries failed commands by default (with back-off): not for a cache.
        try:
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError:  # pragma: no cover - older clients do not retry
            return {}
        return {"retry": Retry(NoBackoff(), 0)}

    def _entry(self, key: str) -> str:
        return f"{self.prefix}:entry:{key}"

    def _family(self, family: str) -> str:
        return f"{self.prefix}:family:{family}"

    def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except self._errors as e:
            raise StoreUnavailable(f"{type(e).__name__}: {e}") from None

    def get(self, family: str, key: str) -> list[bytes]:
        try:
            value = self._call(self.client.get, self._entry(key))
        except self._redis.exceptions.ResponseError as e:  # e.g. another type of value under our key
            return [f"<not a string: {e}>".encode()]
        return [value] if value is not None else []

    def put_if_better(self, family: str, key: str, data: bytes, better: Better) -> bool:
        entry = self._entry(key)
        deadline = time.monotonic() + self._transaction_seconds
        try:
            with self.client.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch(entry)
                        try:
                            old = pipe.get(entry)
                        except self._redis.exceptions.ResponseError:
                            old = None  # not a string: SET replaces it
                        if not better(old):
                            pipe.unwatch()
                            return False
                        pipe.multi()
                        pipe.set(entry, data)
                        pipe.sadd(self._family(family), key)
                        pipe.execute()
                        return True
                    except self._redis.exceptions.WatchError:
                        if time.monotonic() > deadline:
                            raise StoreUnavailable("the entry kept changing for "
                                                   f"{self._transaction_seconds:g} s") from None
                        continue
        except self._errors as e:
            raise StoreUnavailable(f"{type(e).__name__}: {e}") from None

    def family(self, family: str, limit: int = 256) -> list[bytes]:
        try:
            keys = sorted(k.decode() if isinstance(k, bytes) else str(k)
                          for k in self._call(self.client.smembers, self._family(family)))[:limit]
        except self._redis.exceptions.ResponseError:
            return []
        if not keys:
            return []
        values = self._call(self.client.mget, [self._entry(k) for k in keys])
        return [v for v in values if isinstance(v, bytes)]

    def scan(self) -> Iterator[tuple[str, bytes]]:
        head = len(self._entry(""))
        batch: list[str] = []

        def flush() -> Iterator[tuple[str, bytes]]:
            values = self._call(self.client.mget, batch)
            for name, value in zip(batch, values):
                if isinstance(value, bytes):
                    yield name[head:], value
            batch.clear()

        try:
            for name in self.client.scan_iter(match=self._entry("*"), count=500):
                batch.append(name.decode() if isinstance(name, bytes) else str(name))
                if len(batch) >= 500:
                    yield from flush()
            if batch:
                yield from flush()
        except self._errors as e:
            raise StoreUnavailable(f"{type(e).__name__}: {e}") from None

    def delete(self, key: str, family: str | None = None) -> bool:
        n = self._call(self.client.delete, self._entry(key))
        if family:
            self._call(self.client.srem, self._family(family), key)
        return bool(n)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass
