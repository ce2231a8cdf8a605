"""Where the shared tuning cache keeps its records: a store, named by a URL.

    redis://[:password@]host[:port][/db][?prefix=deuteron&timeout=0.5]   (store_redis.py)
    rediss://...                                                        (the same over TLS)
    file:///shared/tuning  or  /shared/tuning                           (store_directory.py)

A store moves bytes; it does not judge them (tuning_record.py does).  Its one
subtle operation is :meth:`Store.put_if_better`: many processes on many hosts
may write one key at once, and the best result must be what stays, whatever
the interleaving.  Redis does it with WATCH/MULTI (a transaction that fails
when the key changed since it was read, then retried); a shared directory
with one file per result, renamed into place, and deletions only of results
worse than the writer's own (see each file for why nothing is lost).  An
object store (S3, GCS) fits the same interface: conditional writes on the
object's ETag (If-Match) play WATCH's part; none is built yet.

Stores raise :class:`StoreUnavailable` when they cannot be reached (the
caller then carries on without them) and ``deuteron.exc.TuningCacheError``
when the URL cannot work at all (unknown scheme, the redis package missing).
``open_store`` (store_url.py) picks the store for a URL.
"""

from __future__ import annotations

from typing import Callable, Iterator

__all__ = ["Store", "StoreUnavailable", "Better"]

# better(existing bytes or None) -> whether the new record should replace it.
Better = Callable[[bytes | None], bool]


class StoreUnavailable(Exception):
    """The store could not be reached or did not answer in time."""


class Store:
    """Records by key, grouped by family (for warm starts)."""

    url: str

    def get(self, family: str, key: str) -> list[bytes]:
        """The records stored under ``key`` (usually one; a shared directory may briefly hold
        several, and the caller takes the best valid one)."""
        raise NotImplementedError

    def put_if_better(self, family: str, key: str, data: bytes, better: Better) -> bool:
        """Stores ``data`` under ``key`` unless what is there is at least as good
        (``better(existing)`` is False); True when it was stored.  Atomic against
        concurrent writers: the best of all written results stays."""
        raise NotImplementedError

    def family(self, family: str, limit: int = 256) -> list[bytes]:
        """Records of one family (any shape), at most ``limit``."""
        raise NotImplementedError

    def scan(self) -> Iterator[tuple[str, bytes]]:
        """Every (key, record) in the store."""
        raise NotImplementedError

    def delete(self, key: str, family: str | None = None) -> bool:
        """Removes the record of ``key``; True when there was one."""
        raise NotImplementedError

    def close(self) -> None:
        pass
