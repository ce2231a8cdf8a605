"""``deuteron.Config``: one point of a kernel's configuration space.

A Config is an immutable mapping from config keys (block sizes, num_warps, ...)
to JSON values.  It checks types and legal values on construction, against the
C++ core's config key table (``_core.config_keys_json()``, written in
cpp/src/config/config_keys.cc: the only place a key is defined); whether a
Config fits a particular kernel (the right number of block sizes, ...) is
checked by the C++ core against the kernel's ConfigSpec.

Conventions:
  * ``None`` for a known key means "not set" (the key is left out), as in
    Helion: ``Config(num_warps=None) == Config()``.
  * Helion's singular spellings of list keys are normalized to one-entry lists
    (nested lists of the keys Helion flattens -- ``block_sizes``, ``l2_groupings``,
    ``flatten_loops``, ``reduction_loops``, ``static_ranges``, the ``range_*`` knobs --
    are flattened, as Helion flattens them): ``block_size=64`` ->
    ``block_sizes=[64]``, ``l2_grouping=4`` -> ``l2_groupings=[4]``,
    ``loop_order=[1, 0]`` -> ``loop_orders=[[1, 0]]``, ``l2_grouping=[2, 4]`` ->
    ``l2_groupings=[2, 4]``, ``flatten_loop``,
    ``range_unroll_factor``, ``range_warp_specialize``, ``range_num_stage``,
    ``range_multi_buffer``, ``range_flatten``, ``static_range`` likewise;
    ``use_yz_grid=True`` -> ``pid_type="xyz"``.  ``reduction_loop=X`` (``X`` may
    be ``None``: a persistent reduction) is kept as it is given: it stands for
    every reduction dimension of the kernel it is used with, as in Helion
    (``BoundKernel`` expands it).  Giving both spellings of one key is a
    ValueError.
  * Keys of Helion's other back ends (``num_threads``, ``pallas_*``, ``cute_*``,
    ``tcgen05_*``, ...) are kept; a kernel rejects them with a ConfigError naming
    the back end (``deuteron.testing.code_and_output`` strips them first, as
    Helion's test helper does).  Helion's Triton keys that deuteron has no knob
    for (``HELION_IGNORED_KEYS``: ``epilogue_subtile``, ``advanced_controls_file``)
    are kept too and ignored when the config is used: they tune speed only.
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

import json
import keyword
import math
import operator
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Callable, NoReturn

from ..exc import ConfigError
from .core import core
from .files import write_atomic

__all__ = [
    "Config",
    "CONFIG_KEYS",
    "PID_TYPES",
    "INDEXING_TYPES",
    "EVICTION_POLICIES",
]


def _load_table() -> dict[str, dict[str, Any]]:
    """The config key table of the C++ core (cpp/src/config/config_keys.cc)."""
    return {k["name"]: k for k in json.loads(core().config_keys_json())}


# Each key's entry kind, legal values, default, search domain and doc, by name.
_TABLE = _load_table()

# The config keys, in canonical order.
CONFIG_KEYS = tuple(_TABLE)
# Each key's table entry (read-only use: kind, choices, default, search values).
CONFIG_KEY_TABLE = _TABLE

PID_TYPES = tuple(_TABLE["pid_type"]["choices"])
INDEXING_TYPES = tuple(_TABLE["indexing"]["choices"])
EVICTION_POLICIES = tuple(_TABLE["load_eviction_policies"]["choices"])

# Singular (Helion's, or seed-era) spelling -> the config key.
_SEED_ERA = {
    "block_size": "block_sizes",
    "l2_grouping": "l2_groupings",
    "loop_order": "loop_orders",
    "flatten_loop": "flatten_loops",
    "range_unroll_factor": "range_unroll_factors",
    "range_warp_specialize": "range_warp_specializes",
    "range_num_stage": "range_num_stages",
    "range_multi_buffer": "range_multi_buffers",
    "range_flatten": "range_flattens",
    "static_range": "static_ranges",
    "use_yz_grid": "pid_type",
}
# Kept as given: one value for every reduction dimension (BoundKernel expands it).
REDUCTION_LOOP_FOR_ALL = "reduction_loop"

# Config keys of Helion's other back ends (CuTe, Pallas, AMD, TileIR): an error when
# a kernel is given one (deuteron generates Triton for NVIDIA GPUs).
HELION_OTHER_BACKEND_KEYS = frozenset({
    "num_threads", "cute_vector_widths", "pallas_loop_type", "pallas_load_buffer_count",
    "pallas_indirect_access_mode", "pallas_pre_broadcast", "pallas_worklist_grouping", "xcd_remap",
    "waves_per_eu", "matrix_instr_nonkdim", "num_ctas", "occupancy",
})
HELION_OTHER_BACKEND_PREFIXES = ("tcgen05_", "cute_", "pallas_")
# Helion's Triton config keys that deuteron has no knob for; they tune speed only, so a
# kernel ignores them (as Helion ignores common keys a back end does not support).
HELION_IGNORED_KEYS = frozenset({"epilogue_subtile", "advanced_controls_file"})


def helion_other_backend_key(key: str) -> bool:
    """Whether ``key`` is a config key of one of Helion's back ends other than Triton."""
    return key in HELION_OTHER_BACKEND_KEYS or key.startswith(HELION_OTHER_BACKEND_PREFIXES)


# ----------------------------------------------------------------- checks
#
# What a key accepts comes from the table; a Config checks what it can
# without a kernel (the C++ normalizer checks the rest: list lengths, block
# size minimums, ...).  Wrong types are TypeErrors, wrong values ConfigErrors.


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


def _choices_text(choices: tuple[str, ...]) -> str:
    return ", ".join(repr(c) for c in choices)


def _or_text(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


_PERMUTATION = "a permutation of 0..n-1 as a list of ints, like [1, 0]"


def _allowed_text(spec: dict[str, Any], plural: bool) -> str:
    """The legal values of one entry (or the one value) of a key, in words."""
    kind = spec["kind"]
    if kind == "bool":
        text = "True or False"
        return "None, False or True" if spec["nullable"] else text
    if kind == "string":
        return f"one of {_choices_text(tuple(spec['choices']))}"
    if kind == "permutation":
        return _PERMUTATION
    lo, hi = spec["min"], spec["max"]
    span = f" {lo}..{hi}" if hi is not None else ""
    if spec["choices"]:
        text = _or_text([str(c) for c in spec["choices"]])
    elif spec["power_of_two"]:
        text = ("powers of two" if plural else "a power of two") + span
        if hi is not None and hi // max(lo, 1) <= 128:
            values = [lo]
            while values[-1] * 2 <= hi:
                values.append(values[-1] * 2)
            text += f" ({', '.join(map(str, values))})"
    elif spec["multiple_of"] > 1:
        text = ("multiples of " if plural else "a multiple of ") + f"{spec['multiple_of']} in{span}"
    else:
        text = ("ints" if plural else "an int") + span
    return f"None ({spec['null_means']}) or {text}" if spec["nullable"] else text


def _entry_check(spec: dict[str, Any]) -> Callable[[str, Any, str, str], Any]:
    """A check of one entry (or the one value) of a key: returns it, normalized."""
    kind = spec["kind"]
    nullable = spec["nullable"]

    def check(key: str, value: Any, allowed: str, where: str = "") -> Any:
        if value is None and nullable:
            return None
        if kind == "bool":
            if not isinstance(value, bool):
                _fail(TypeError, key, value, allowed, where)
            return value
        if kind == "string":
            if not isinstance(value, str):
                _fail(TypeError, key, value, allowed, where)
            if value not in spec["choices"]:
                _fail(ValueError, key, value, allowed, where)
            return value
        if kind == "permutation":
            if not isinstance(value, (list, tuple)):
                _fail(TypeError, key, value, allowed, where)
            ints = [_int(key, v, allowed, where) for v in value]
            if sorted(ints) != list(range(len(ints))):
                _fail(ValueError, key, list(value), f"a permutation of 0..{len(ints) - 1}", where)
            return ints
        n = _int(key, value, allowed, where)
        hi = spec["max"]
        if (
            n < spec["min"]
            or (hi is not None and n > hi)
            or (spec["power_of_two"] and not _is_pow2(n))
            or n % spec["multiple_of"] != 0
            or (spec["choices"] and n not in spec["choices"])
        ):
            _fail(ValueError, key, value, allowed, where)
        return n

    return check


def _key_check(spec: dict[str, Any]) -> Callable[[str, Any], Any]:
    """The check of a whole key's value (a list for list keys)."""
    entry = _entry_check(spec)
    if spec["per"] == "one":
        allowed = _allowed_text(spec, plural=False)
        return lambda key, value: entry(key, value, allowed)
    item_allowed = _allowed_text(spec, plural=True)
    list_allowed = f"a list of {item_allowed}"
    one_allowed = f"{_allowed_text(spec, plural=False)}, or a list of those"
    nested = spec["flattens_nested"]

    def flat(items: list) -> list:
        out = []
        for item in items:
            out.extend(flat(list(item)) if isinstance(item, (list, tuple)) else [item])
        return out

    def check(key: str, value: Any) -> Any:
        if spec["one_value_for_all"] and not isinstance(value, (list, tuple)):
            return entry(key, value, one_allowed)
        items = _list(key, value, list_allowed)
        if nested:
            # Nested lists stand for their elements, as in Helion: l2_grouping=[2, 4]
            # (l2_groupings=[[2, 4]]) -> [2, 4]; block_sizes=[[64, 128], [16]] -> [64, 128, 16].
            items = flat(items)
        return [entry(key, v, item_allowed, f" entry [{i}]") for i, v in enumerate(items)]

    return check


_CHECKS: dict[str, Callable[[str, Any], Any]] = {name: _key_check(spec) for name, spec in _TABLE.items()}

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
                f"Config got both {old!r} (singular spelling) and {new!r}; give only one"
            )
        value = given.pop(old)
        if old == "use_yz_grid":
            if value is not None and not isinstance(value, bool):
                _fail(TypeError, old, value, "True or False")
            if value:
                given[new] = "xyz"
        elif value is not None:
            given[new] = [value]
    reduction_loop = REDUCTION_LOOP_FOR_ALL in given
    if reduction_loop and "reduction_loops" in given:
        raise ValueError("Config got both 'reduction_loop' (singular spelling) and 'reduction_loops'; give only one")

    data: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        value = given.get(key)
        if value is not None:
            data[key] = _CHECKS[key](key, value)
    for key in sorted(k for k in given if k not in _CHECKS):
        if key == REDUCTION_LOOP_FOR_ALL:
            # None is meaningful here: a persistent reduction.
            data[key] = _CHECKS["reduction_loops"]("reduction_loop", [given[key]])[0]
        else:
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


class _ReadOnlyDict(dict):
    """``Config.config``: a dict whose changes raise (rather than change a copy unseen)."""

    def _immutable(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("Config is immutable, and so is cfg.config; use cfg.merged(key=value) "
                        "(None removes a key) to make a changed copy")

    __setitem__ = __delitem__ = __ior__ = _immutable  # type: ignore[assignment]
    pop = popitem = clear = update = setdefault = _immutable  # type: ignore[assignment]


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

    @property
    def config(self) -> dict[str, Any]:
        """The keys and values as a dict, under the name of Helion's ``Config.config``
        attribute (Helion programs read it: ``config.config.items()``).  A read-only
        copy: a Config does not change; ``merged(...)`` makes a changed one."""
        return _ReadOnlyDict(self.to_dict())

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
        path = Path(os.path.abspath(path))
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
        write_atomic(path, self.to_json(indent=2) + "\n", durable=True, mode=mode)

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
        if REDUCTION_LOOP_FOR_ALL in overrides:
            data.pop("reduction_loops", None)
        if "reduction_loops" in overrides:
            data.pop(REDUCTION_LOOP_FOR_ALL, None)
        data.update(overrides)
        return type(self)(**data)
