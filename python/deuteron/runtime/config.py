"""``deuteron.Config``: one point of a kernel's configuration space.

A Config is an immutable mapping from config keys (block sizes, num_warps, ...)
to JSON values.  It checks types and obvious ranges on construction; whether a
Config fits a particular kernel (the right number of block sizes, ...) is
checked by the C++ core against the kernel's ConfigSpec.

Conventions:
  * ``None`` for a known key means "not set" (the key is left out), as in
    Helion: ``Config(num_warps=None) == Config()``.
  * Seed-era spellings are normalized: nested ``block_sizes`` are flattened,
    ``l2_grouping=4`` -> ``l2_groupings=[4]``, ``loop_order=[1, 0]`` ->
    ``loop_orders=[[1, 0]]``, ``reduction_loop=X`` -> ``reduction_loops=[X]``
    (``X`` may be ``None``: a persistent reduction), ``use_yz_grid=True`` ->
    ``pid_type="xyz"``.  Giving both spellings of one key is a ValueError.
  * Keys that are not config keys are user tunables (``hl.register_tunable``);
    their values must be JSON: int, float, bool, str, None or lists of those.
  * Lists and tuples are accepted and stored as lists; values handed out
    (``cfg["block_sizes"]``, ``cfg.block_sizes``) are copies.
  * The canonical JSON text (``to_json()``) lists config keys in the order of
    ``CONFIG_KEYS``, then user tunables sorted by name.  It is what ``==`` and
    ``hash()`` use, so ``1`` and ``1.0`` or ``True`` are different values.
    Compact JSON uses the separators "," and ":" -- byte-identical to the C++
    ``deuteron::json::dump`` of the same value.
"""

from __future__ import annotations

import contextlib
import json
import keyword
import math
import operator
import os
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any, Callable, NoReturn

from ..exc import ConfigError

__all__ = [
    "Config",
    "CONFIG_KEYS",
    "PID_TYPES",
    "INDEXING_TYPES",
    "EVICTION_POLICIES",
]

PID_TYPES = ("flat", "xyz", "persistent_blocked", "persistent_interleaved")
INDEXING_TYPES = ("pointer", "tensor_descriptor", "block_ptr")
EVICTION_POLICIES = ("", "first", "last")

# The config keys, in canonical order.
CONFIG_KEYS = (
    "block_sizes",
    "loop_orders",
    "flatten_loops",
    "l2_groupings",
    "reduction_loops",
    "static_ranges",
    "range_unroll_factors",
    "range_num_stages",
    "range_multi_buffers",
    "range_flattens",
    "range_warp_specializes",
    "num_warps",
    "num_stages",
    "pid_type",
    "num_sm_multiplier",
    "maxnreg",
    "subtiles",
    "indexing",
    "atomic_indexing",
    "load_eviction_policies",
    "load_cache_modifiers",
    "store_cache_modifiers",
)

# Old spelling -> new spelling.
_SEED_ERA = {
    "l2_grouping": "l2_groupings",
    "loop_order": "loop_orders",
    "reduction_loop": "reduction_loops",
    "use_yz_grid": "pid_type",
}


# ----------------------------------------------------------------- checks


def _fail(exc: type[Exception], key: str, value: Any, allowed: str, where: str = "") -> NoReturn:
    # Bad values are ConfigErrors (a ValueError), so callers can catch one type for every config problem.
    if exc is ValueError:
        exc = ConfigError
    raise exc(f"Config key {key!r}{where}: got {value!r}; allowed: {allowed}")


def _int(key: str, value: Any, allowed: str, where: str = "") -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        _fail(TypeError, key, value, allowed, where)
    return operator.index(value)


def _list(key: str, value: Any, allowed: str) -> list:
    if not isinstance(value, (list, tuple)):
        _fail(TypeError, key, value, allowed)
    return list(value)


def _is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _pow2_int(key: str, value: Any, allowed: str, where: str = "") -> int:
    n = _int(key, value, allowed, where)
    if not _is_pow2(n):
        _fail(ValueError, key, value, allowed, where)
    return n


def _ranged_int(lo: int, hi: int | None) -> Callable[[str, Any, str, str], int]:
    def check(key: str, value: Any, allowed: str, where: str = "") -> int:
        n = _int(key, value, allowed, where)
        if n < lo or (hi is not None and n > hi):
            _fail(ValueError, key, value, allowed, where)
        return n

    return check


def _bool(key: str, value: Any, allowed: str, where: str = "") -> bool:
    if not isinstance(value, bool):
        _fail(TypeError, key, value, allowed, where)
    return value


def _optional_bool(key: str, value: Any, allowed: str, where: str = "") -> bool | None:
    return None if value is None else _bool(key, value, allowed, where)


def _choice(choices: tuple[str, ...]) -> Callable[[str, Any, str, str], str]:
    def check(key: str, value: Any, allowed: str, where: str = "") -> str:
        if not isinstance(value, str):
            _fail(TypeError, key, value, allowed, where)
        if value not in choices:
            _fail(ValueError, key, value, allowed, where)
        return value

    return check


def _string(key: str, value: Any, allowed: str, where: str = "") -> str:
    if not isinstance(value, str):
        _fail(TypeError, key, value, allowed, where)
    return value


def _choices_text(choices: tuple[str, ...]) -> str:
    return ", ".join(repr(c) for c in choices)


def _list_of(item_check: Callable[..., Any], item_allowed: str) -> Callable[[str, Any], list]:
    allowed = f"a list of {item_allowed}"

    def check(key: str, value: Any) -> list:
        items = _list(key, value, allowed)
        return [item_check(key, v, item_allowed, f" entry [{i}]") for i, v in enumerate(items)]

    return check


def _scalar(item_check: Callable[..., Any], allowed: str) -> Callable[[str, Any], Any]:
    return lambda key, value: item_check(key, value, allowed)


_POW2 = "positive powers of two (1, 2, 4, ..., 64, 128, ...)"


def _check_block_sizes(key: str, value: Any) -> list[int]:
    allowed = f"a list of {_POW2}"
    flat: list[Any] = []
    for item in _list(key, value, allowed):
        # Seed-era nested form: [[64, 128], [16]] -> [64, 128, 16].
        if isinstance(item, (list, tuple)):
            flat.extend(item)
        else:
            flat.append(item)
    return [_pow2_int(key, v, _POW2, f" entry [{i}]") for i, v in enumerate(flat)]


def _check_loop_orders(key: str, value: Any) -> list[list[int]]:
    perm = "a permutation of 0..n-1 as a list of ints, like [1, 0]"
    orders = []
    for i, order in enumerate(_list(key, value, f"a list of {perm}")):
        where = f" entry [{i}]"
        if not isinstance(order, (list, tuple)):
            _fail(TypeError, key, order, perm, where)
        ints = [_int(key, v, perm, where) for v in order]
        if sorted(ints) != list(range(len(ints))):
            _fail(ValueError, key, list(order), f"a permutation of 0..{len(ints) - 1}", where)
        orders.append(ints)
    return orders


def _check_indexing(key: str, value: Any) -> str | list[str]:
    item = _choice(INDEXING_TYPES)
    text = _choices_text(INDEXING_TYPES)
    if isinstance(value, str):
        return item(key, value, f"one of {text}, or a list of those")
    return _list_of(item, f"one of {text}")(key, value)


def _optional_pow2(key: str, value: Any, allowed: str, where: str = "") -> int | None:
    return None if value is None else _pow2_int(key, value, allowed, where)


def _num_warps(key: str, value: Any, allowed: str, where: str = "") -> int:
    n = _pow2_int(key, value, allowed, where)
    if n > 32:
        _fail(ValueError, key, value, allowed, where)
    return n


_BOOL3 = "None, False or True"

_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "block_sizes": _check_block_sizes,
    "loop_orders": _check_loop_orders,
    "flatten_loops": _list_of(_bool, "True or False"),
    "l2_groupings": _list_of(_ranged_int(1, 64), "ints 1..64"),
    "reduction_loops": _list_of(_optional_pow2, f"None (persistent) or {_POW2}"),
    "static_ranges": _list_of(_bool, "True or False"),
    "range_unroll_factors": _list_of(_ranged_int(0, 4), "ints 0..4"),
    "range_num_stages": _list_of(_ranged_int(0, 4), "ints 0..4"),
    "range_multi_buffers": _list_of(_optional_bool, _BOOL3),
    "range_flattens": _list_of(_optional_bool, _BOOL3),
    "range_warp_specializes": _list_of(_optional_bool, _BOOL3),
    "num_warps": _scalar(_num_warps, "a power of two 1..32 (1, 2, 4, 8, 16, 32)"),
    "num_stages": _scalar(_ranged_int(1, 8), "an int 1..8"),
    "pid_type": _scalar(_choice(PID_TYPES), f"one of {_choices_text(PID_TYPES)}"),
    "num_sm_multiplier": _scalar(_ranged_int(1, None), "a positive int"),
    "maxnreg": _scalar(_ranged_int(1, None), "a positive int (or None for no limit)"),
    "subtiles": _scalar(_ranged_int(1, 4), "1 (off), 2 or 4"),
    "indexing": _check_indexing,
    "atomic_indexing": _check_indexing,
    "load_eviction_policies": _list_of(
        _choice(EVICTION_POLICIES), f"one of {_choices_text(EVICTION_POLICIES)}"
    ),
    "load_cache_modifiers": _list_of(_string, "strings"),
    "store_cache_modifiers": _list_of(_string, "strings"),
}
assert tuple(_CHECKS) == CONFIG_KEYS

_JSON_ALLOWED = "int, float, bool, str, None, or (nested) lists of those"


def _json_value(key: str, value: Any) -> Any:
    """A user tunable's value, checked to be JSON and copied."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(
                f"Config key {key!r}: got {value!r}; allowed: finite numbers (JSON has no NaN/inf)"
            )
        return float(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(key, v) for v in value]
    raise TypeError(
        f"Config key {key!r}: value {value!r} of type {type(value).__name__} is not "
        f"JSON-serializable; allowed: {_JSON_ALLOWED}"
    )


def _normalize(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Checks and normalizes keyword arguments into canonical order."""
    given = dict(kwargs)
    for key in given:
        if not isinstance(key, str):
            raise TypeError(f"Config keys must be strings, got {key!r}")
    for old, new in _SEED_ERA.items():
        if old not in given:
            continue
        if new in given:
            raise ValueError(
                f"Config got both {old!r} (old spelling) and {new!r}; give only {new!r}"
            )
        value = given.pop(old)
        if old == "use_yz_grid":
            if value is not None and not isinstance(value, bool):
                _fail(TypeError, old, value, "True or False")
            if value:
                given[new] = "xyz"
        elif old == "reduction_loop":
            given[new] = [value]  # None is meaningful here: a persistent reduction
        elif value is not None:
            given[new] = [value]

    data: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        value = given.get(key)
        if value is not None:
            data[key] = _CHECKS[key](key, value)
    for key in sorted(k for k in given if k not in _CHECKS):
        data[key] = _json_value(key, given[key])
    return data


def _copy(value: Any) -> Any:
    return [_copy(v) for v in value] if isinstance(value, list) else value


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r} in config JSON")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _rebuild(cls: type[Config], data: dict[str, Any]) -> Config:
    return cls.from_dict(data)


# ----------------------------------------------------------------- Config


class Config(Mapping[str, Any]):
    """An immutable kernel configuration; see the module docstring."""

    __slots__ = ("_data", "_json")

    _data: dict[str, Any]
    _json: str

    def __init__(self, /, **kwargs: Any) -> None:
        data = _normalize(kwargs)
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_json", self._dumps(data, None))

    @staticmethod
    def _dumps(data: dict[str, Any], indent: int | None) -> str:
        return json.dumps(
            data,
            indent=indent,
            separators=(",", ":") if indent is None else (",", ": "),
            ensure_ascii=False,
            allow_nan=False,
        )

    # ------------------------------------------------------- mapping

    def __getitem__(self, key: str) -> Any:
        return _copy(self._data[key])

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_"):
            try:
                return _copy(self._data[name])
            except KeyError:
                pass
            keys = ", ".join(self._data) or "none"
            raise AttributeError(f"Config has no key {name!r} (its keys: {keys})")
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Config is immutable; use cfg.merged(...) to make a changed copy")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Config is immutable; use cfg.merged(...) to make a changed copy")

    # ----------------------------------------------------- identity

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Config):
            return self._json == other._json
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Config):
            return self._json != other._json
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._json)

    def __repr__(self) -> str:
        parts = []
        odd = {}
        for key, value in self._data.items():
            if key.isidentifier() and not keyword.iskeyword(key):
                parts.append(f"{key}={value!r}")
            else:
                odd[key] = value
        if odd:
            parts.append(f"**{odd!r}")
        return f"deuteron.Config({', '.join(parts)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.to_dict()))

    def __copy__(self) -> Config:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Config:
        return self

    # ----------------------------------------------- serialization

    def to_dict(self) -> dict[str, Any]:
        """A plain dict copy, keys in canonical order."""
        return {k: _copy(v) for k, v in self._data.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        if not isinstance(data, Mapping):
            raise TypeError(f"Config.from_dict expects a mapping, got {type(data).__name__}")
        for key in data:
            if not isinstance(key, str):
                raise TypeError(f"Config keys must be strings, got {key!r}")
        return cls(**data)

    def to_json(self, indent: int | None = None) -> str:
        """Canonical JSON: compact by default, else indented by ``indent``."""
        if indent is None:
            return self._json
        return self._dumps(self._data, indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> Config:
        data = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
        if not isinstance(data, dict):
            raise ValueError(f"config JSON must be an object, got {type(data).__name__}")
        return cls.from_dict(data)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes indented JSON atomically: a temp file in the same directory,
        then os.replace.  A new file gets mode 0o644; an existing file keeps its
        mode."""
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
        fd, tmp = tempfile.mkstemp(
            prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(self.to_json(indent=2) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Config:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            return cls.from_json(text)
        except TypeError as e:
            raise TypeError(f"{os.fspath(path)}: {e}") from e
        except ValueError as e:
            raise ValueError(f"{os.fspath(path)}: {e}") from e

    # ------------------------------------------------------ editing

    def merged(self, **overrides: Any) -> Config:
        """A copy with ``overrides`` applied.  ``None`` for a config key
        removes it; seed-era spellings replace the key they stand for."""
        data = self.to_dict()
        for old, new in _SEED_ERA.items():
            if old in overrides and new not in overrides:
                data.pop(new, None)
        data.update(overrides)
        return type(self)(**data)
