"""``open_store(url)``: the store a tuning cache URL names (see tuning_store.py for the URLs)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from ..exc import TuningCacheError
from .store_directory import DirectoryStore
from .store_redis import RedisStore
from .tuning_store import Store

__all__ = ["open_store"]


def open_store(url: str) -> Store:
    """The store a URL names (the URL forms are listed in tuning_store.py)."""
    text = url.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("redis", "rediss", "unix"):
        return RedisStore(text)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise TuningCacheError(f"tuning cache {url!r}: a file:// URL names a path on this host "
                                   f"(file:///path), not {parts.netloc!r}")
        return DirectoryStore(parts.path)
    if not scheme and (os.path.isabs(text) or text.startswith(("~", "."))):
        return DirectoryStore(os.path.expanduser(text))
    raise TuningCacheError(
        f"tuning cache {url!r}: unknown kind of store; use redis://host:port/db, file:///path "
        f"or an absolute path (DEUTERON_TUNING_CACHE / the tuning_cache setting)")
