"""``BoundKernel.config_spec``: a kernel's config space, as a mapping and as an object.

The C++ core describes the space as JSON (block sizes with their ranges and
origins, reduction loops, loop orders, counts of inner loops, loads and stores,
tunables).  :class:`ConfigSpec` is that dict, read-only (existing users index
it: ``spec["block_sizes"]``), with what Helion programs ask of their config
spec besides:

* ``spec.default_config()``: the kernel's default Config;
* ``spec.<config key>`` (``spec.block_sizes``, ``spec.range_num_stages``,
  ``spec.load_cache_modifiers``, ...): a :class:`KeyEntries`, one entry per
  value the key takes for this kernel (``len()``, ``.length``, iteration, truth);
  for ``block_sizes`` and ``reduction_loops`` the entries describe each block size
  or reduction (min, max, origin, ...), for the others they are the default values;
* ``spec.unsupported_config_keys(config)``: the keys of ``config`` that kernels here
  do not use (keys of Helion's other back ends, and Helion's Triton keys deuteron
  has no knob for), sorted; ``spec.supports_config_key(key)``;
* ``spec.user_defined_tunables``: ``{name: fragment}`` of the kernel's
  ``hl.register_tunable`` calls, each fragment as the kernel registered it
  (``PowerOfTwoFragment(16, 256, 16)``, ...).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Callable

from .. import autotuner
from ..exc import ConfigError
from .config import CONFIG_KEY_TABLE, CONFIG_KEYS, HELION_IGNORED_KEYS, PID_TYPES, Config, helion_other_backend_key

__all__ = ["ConfigSpec", "KeyEntries", "SpecEntry"]


class SpecEntry(dict):
    """One block size or reduction loop of the spec: the core's dict, whose
    fields are also attributes, under Helion's names too (``min_size``,
    ``max_size``; ``size_hint``, the largest extent it tiles on the example
    sizes, where the core knows it)."""

    _HELION_NAMES = {"min_size": "min", "max_size": "max"}

    def __getattr__(self, name: str) -> Any:
        key = self._HELION_NAMES.get(name, name)
        if key in self:
            return self[key]
        raise AttributeError(f"{name!r} is not known for this config spec entry (fields: {', '.join(self)})")


class KeyEntries(autotuner.ListOf, Sequence[Any]):
    """The entries one config key takes for a kernel (see the module docstring).

    ``inner``: for a key with one string per load or store, the fragment one entry
    is searched over (an EnumFragment), else None."""

    __slots__ = ("name", "_entries", "inner")

    def __init__(self, name: str, entries: Sequence[Any], inner: Any = None) -> None:
        self.name = name
        self._entries = tuple(entries)
        self.inner = inner

    @property
    def length(self) -> int:
        return len(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: Any) -> Any:
        return self._entries[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._entries)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, KeyEntries):
            return self.name == other.name and self._entries == other._entries
        if isinstance(other, (list, tuple)):
            return list(self._entries) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"KeyEntries({self.name!r}, {list(self._entries)!r})"


def _fragment(entry: Mapping[str, Any]) -> Any:
    """The tunable fragment (deuteron.autotuner) one tunable of the core's search space describes."""
    default = json.loads(entry["default_repr"]) if entry.get("default_repr") else None
    kind = entry["kind"]
    if kind == "power_of_two":
        return autotuner.PowerOfTwoFragment(entry["low"], entry["high"], default)
    if kind == "boolean":
        return autotuner.BooleanFragment(bool(default))
    if kind == "enum":
        return autotuner.EnumFragment(tuple(json.loads(c) for c in entry["choices"]), default)
    return autotuner.IntegerFragment(entry["low"], entry["high"], default)


class ConfigSpec(Mapping[str, Any]):
    """A kernel's config space (see the module docstring)."""

    __slots__ = ("_data", "_default", "_tunables", "_normalize")

    def __init__(self, data: Mapping[str, Any], default_config: Callable[[], Config],
                 tunables: Callable[[], Sequence[Mapping[str, Any]]] | None = None,
                 normalize: Callable[[Config], Config] | None = None) -> None:
        self._data = dict(data)
        self._default = default_config
        # The tunables of the core's search space (name, kind, range, choices, default), read on use.
        self._tunables = tunables
        # The kernel's config check (BoundKernel.normalize_config): ConfigError outside the space.
        self._normalize = normalize

    # ---------------------------------------------------------- the mapping
    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ConfigSpec):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ConfigSpec({self._data!r})"

    # -------------------------------------------------------- Helion's API
    def default_config(self) -> Config:
        """The kernel's default config (as ``BoundKernel.default_config()``)."""
        return self._default()

    def supports_config_key(self, key: str) -> bool:
        """Whether kernels here use config key ``key`` (user tunables are checked by the kernel)."""
        return not (helion_other_backend_key(key) or key in HELION_IGNORED_KEYS)

    def unsupported_config_keys(self, config: Mapping[str, Any]) -> list[str]:
        """The keys of ``config`` that kernels here do not use, sorted."""
        return sorted(k for k in config if not self.supports_config_key(k))

    @property
    def allowed_pid_types(self) -> tuple[str, ...]:
        """The ``pid_type`` values this kernel's configs may take (Helion's): every one,
        except where the kernel needs a persistent launch (``hl.barrier``, a top-level
        loop bounded by a tensor's value)."""
        if self._normalize is None:
            return PID_TYPES
        allowed = []
        for pid_type in PID_TYPES:
            try:
                self._normalize(self._default().merged(pid_type=pid_type))
            except ConfigError:
                continue
            allowed.append(pid_type)
        return tuple(allowed)

    @property
    def user_defined_tunables(self) -> dict[str, Any]:
        """``{name: fragment}`` of the kernel's ``hl.register_tunable`` calls (Helion's)."""
        entries = self._tunables() if self._tunables is not None else []
        return {e["name"]: _fragment(e) for e in entries}

    def __getattr__(self, name: str) -> KeyEntries:
        if name.startswith("_") or name not in CONFIG_KEYS:
            raise AttributeError(f"ConfigSpec has no attribute {name!r}")
        detailed = self._data.get(name)
        if name in ("block_sizes", "reduction_loops") and isinstance(detailed, list):
            return KeyEntries(name, [SpecEntry(e) if isinstance(e, dict) else e for e in detailed])
        value = self._default().get(name)
        entries = value if isinstance(value, list) else ([] if value is None else [value])
        key = CONFIG_KEY_TABLE[name]
        if key["per"] in ("load", "store") and key["kind"] == "string" and not key["one_value_for_all"]:
            # A tunable list as Helion's ListOf(EnumFragment): entries the autotuner
            # searches; a key it does not search (cache modifiers) has none, though a
            # config may still give its entries.
            inner = autotuner.EnumFragment(tuple(key["search_values"]), key["default"])
            return KeyEntries(name, entries if key["searched"] else [], inner)
        return KeyEntries(name, entries)
