"""A result in the shared tuning cache: its JSON form, its checks, and which of two is better.

A record is JSON (never pickle), at most :data:`MAX_BYTES`::

    {"format": "deuteron.tuning/1", "key": <sha256>, "family": <sha256>, "kernel": "softmax",
     "material": {"family": {...}, "shape": {...}},        # tuning_key.py: what it is valid for
     "config": {...}, "seconds": 1.2e-4,                   # the winner and its median time
     "tuning": {"effort": "quick", "strategy": "pattern", "configs_tried": 88, "failed": 3,
                "tuning_seconds": 12.3, "default_seconds": 1.3e-4, "devices": 4,
                "warm_start": false, "host": "gpu-017", "created": 1764000000.0},
     "top": [{"config": {...}, "seconds": ...}, ...]}      # the best few, for warm starts

Everything read from a store is untrusted: :func:`parse_record` checks the
format, every field's type and range, that ``key`` and ``family`` are the
hashes of ``material`` (so a record cannot claim a key it was not made for),
and every config against the config key table (``deuteron.Config``); the
caller then checks the config against the kernel's space
(``BoundKernel.normalize_config``).

Better: more effort wins (``full`` over ``quick``; a ``configs=`` list counts
as ``full``: every candidate was tried), then the lower time.  A result never
replaces an equal or better one, so writing the same result twice changes
nothing.  A request is satisfied by a record of at least its effort.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Mapping

from ..runtime.config import Config
from .tuning_key import digest

__all__ = ["FORMAT", "MAX_BYTES", "RecordError", "parse_record", "dump_record", "make_record", "better",
           "rank", "satisfies"]

FORMAT = "deuteron.tuning/1"
MAX_BYTES = 1 << 20
MAX_TOP = 16
_EFFORTS = {"quick": 1, "full": 2, "list": 2}
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


class RecordError(ValueError):
    """Not a usable record (malformed, truncated, foreign, or with an invalid config)."""


def _number(record: Mapping[str, Any], name: str, *, positive: bool = False, optional: bool = False) -> None:
    v = record.get(name)
    if v is None and optional:
        return
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 or \
            (positive and v <= 0):
        raise RecordError(f"{name!r} is not a {'positive ' if positive else ''}finite number: {v!r}")


def _text(record: Mapping[str, Any], name: str, limit: int = 256, optional: bool = False) -> None:
    v = record.get(name)
    if v is None and optional:
        return
    if not isinstance(v, str) or len(v) > limit:
        raise RecordError(f"{name!r} is not a string of at most {limit} characters")


def _config(value: Any, where: str) -> Config:
    if not isinstance(value, dict):
        raise RecordError(f"{where} is not a JSON object")
    try:
        return Config.from_dict(value)
    except (TypeError, ValueError) as e:  # ConfigError is a ValueError
        raise RecordError(f"{where} is not a valid config: {e}") from None


def parse_record(data: bytes | str) -> dict[str, Any]:
    """The record in ``data``, checked (see the module docstring); RecordError otherwise."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        raise RecordError(f"not bytes: {type(data).__name__}")
    if len(data) > MAX_BYTES:
        raise RecordError(f"{len(data)} bytes, more than the limit of {MAX_BYTES}")
    try:
        record = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise RecordError(f"not JSON ({type(e).__name__}: {str(e)[:100]})") from None
    if not isinstance(record, dict):
        raise RecordError(f"not a JSON object but {type(record).__name__}")
    if record.get("format") != FORMAT:
        raise RecordError(f"format {str(record.get('format'))[:60]!r}, not {FORMAT!r}")
    for name in ("key", "family"):
        if not isinstance(record.get(name), str) or not _HEX64.match(record[name]):
            raise RecordError(f"{name!r} is not a SHA-256 hex digest")
    material = record.get("material")
    if not isinstance(material, dict) or not isinstance(material.get("family"), dict) or \
            not isinstance(material.get("shape"), dict) or set(material) != {"family", "shape"}:
        raise RecordError("'material' is not {'family': {...}, 'shape': {...}}")
    if digest(material) != record["key"] or digest(material["family"]) != record["family"]:
        raise RecordError("its key is not the hash of its material (damaged, or made for another key)")
    _text(record, "kernel")
    _config(record.get("config"), "'config'")
    _number(record, "seconds", positive=True)
    tuning = record.get("tuning")
    if not isinstance(tuning, dict):
        raise RecordError("'tuning' is not a JSON object")
    if tuning.get("effort") not in _EFFORTS:
        raise RecordError(f"unknown effort {str(tuning.get('effort'))[:30]!r}")
    _text(tuning, "strategy", 64, optional=True)
    for name in ("configs_tried", "failed", "tuning_seconds", "devices", "created"):
        _number(tuning, name, optional=True)
    _number(tuning, "default_seconds", positive=True, optional=True)
    _text(tuning, "host", optional=True)
    top = record.get("top", [])
    if not isinstance(top, list) or len(top) > MAX_TOP:
        raise RecordError(f"'top' is not a list of at most {MAX_TOP} results")
    for i, item in enumerate(top):
        if not isinstance(item, dict):
            raise RecordError(f"'top'[{i}] is not a JSON object")
        _config(item.get("config"), f"'top'[{i}].config")
        _number(item, "seconds", positive=True)
    return record


def dump_record(record: Mapping[str, Any]) -> bytes:
    return (json.dumps(record, sort_keys=True, allow_nan=False, indent=1) + "\n").encode("utf-8")


def make_record(key: Any, kernel: str, config: Mapping[str, Any], seconds: float, tuning: Mapping[str, Any],
                top: list[tuple[Mapping[str, Any], float]]) -> dict[str, Any]:
    """A record for ``key`` (a tuning_key.TuningKey); checked by parse_record before it is returned."""
    record = {"format": FORMAT, "key": key.key, "family": key.family_key, "kernel": kernel,
              "material": json.loads(json.dumps(key.material, default=str)), "config": dict(config),
              "seconds": float(seconds), "tuning": dict(tuning),
              "top": [{"config": dict(c), "seconds": float(t)} for c, t in top[:MAX_TOP]]}
    return parse_record(dump_record(record))


def rank(record: Mapping[str, Any]) -> tuple[int, float]:
    """Larger is better: (effort, -seconds)."""
    return (_EFFORTS[record["tuning"]["effort"]], -float(record["seconds"]))


def better(new: Mapping[str, Any], old: Mapping[str, Any] | None) -> bool:
    """Whether ``new`` should replace ``old`` (None: nothing usable there)."""
    return old is None or rank(new) > rank(old)


def satisfies(record: Mapping[str, Any], effort: str) -> bool:
    """Whether ``record`` answers a request tuned with ``effort`` (no need to tune again)."""
    return _EFFORTS[record["tuning"]["effort"]] >= _EFFORTS.get(effort, 1)
