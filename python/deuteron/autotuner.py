"""Tunable fragments for hl.register_tunable (Helion's `helion.autotuner` names).

    from deuteron.autotuner import PowerOfTwoFragment
    block = hl.register_tunable("block", PowerOfTwoFragment(16, 256, 64))

The compiler reads these calls from the kernel's source; the classes exist so
that the names resolve and so that code outside kernels can build them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PowerOfTwoFragment:
    low: int
    high: int
    default_val: int | None = None


@dataclass(frozen=True)
class IntegerFragment:
    low: int
    high: int
    default_val: int | None = None


@dataclass(frozen=True)
class EnumFragment:
    choices: tuple = field(default_factory=tuple)
    default_val: int | None = None


@dataclass(frozen=True)
class BooleanFragment:
    default_val: bool = False


class ListOf:
    """A list of entries tuned each on its own (one per load, per store, ...): ``inner``
    is one entry's fragment, ``length`` how many the search space has.  A kernel's
    ``config_spec.load_eviction_policies`` and the like are ListOfs."""

    inner: object = None

    @property
    def length(self) -> int:
        raise NotImplementedError


__all__ = ["PowerOfTwoFragment", "IntegerFragment", "EnumFragment", "BooleanFragment", "ListOf"]
