"""``Settings``: how a kernel is compiled, autotuned and run (not what it computes).

Every setting comes from, in order of precedence:
  1. an explicit keyword argument (``@deuteron.kernel(print_output_code=True)``),
  2. the environment variable ``DEUTERON_<NAME>`` (``DEUTERON_PRINT_OUTPUT_CODE=1``),
     read when the Settings object is made,
  3. the default.

Environment values are parsed by the setting's type: booleans accept
1/0/true/false/yes/no (any case); optional settings accept ``none``; an empty
variable counts as unset; ``DEUTERON_INDEX_DTYPE`` is ``int32``/``int64``/``none``;
``DEUTERON_IGNORE_WARNINGS`` is a comma-separated list of warning class names.
``autotune_baseline_fn`` (a callable) cannot come from the environment.
A bad value is a ValueError naming the variable.

``autotune_random_seed``: ``DEUTERON_AUTOTUNE_RANDOM_SEED`` when set, else a
seed drawn once per process (from the OS's random source) and shared by every
Settings made in that process, so one run is self-consistent while separate
runs explore differently.  Set it (or the variable) to reproduce a search.
Seeds are ints in [0, 2**32).

Settings objects are immutable (a value can be shared between kernels, bound
kernels and autotuning workers); ``replace(**kw)`` makes a changed copy.  A
kernel's settings are changed in place through ``kernel.settings.x = v``
(:class:`KernelSettings`), which gives the kernel a changed copy and makes it
bind again.

Helion's setting names are accepted too (programs written for Helion pass
them): see ``HELION_SETTINGS``.  ``ref_mode=RefMode.EAGER`` is ``interpret=True``;
``backend`` accepts ``"triton"`` only (given or not: ``DEUTERON_BACKEND`` / Helion's
``HELION_BACKEND`` naming another back end is a ValueError); the settings of Helion's autotuner and
back ends that deuteron has no use for are accepted and ignored (listed in
docs/api.md); those whose meaning deuteron cannot honor (a custom autotuner,
benchmark or accuracy function, another back end) accept only their default
and raise an error naming the setting otherwise.
"""

from __future__ import annotations

import difflib
import enum
import math
import os
import pathlib
import secrets
import threading
from collections.abc import Callable, Iterable
from typing import Any

import torch

from . import env as _env
from .env import setting_variable as env_var

__all__ = ["Settings", "KernelSettings", "RefMode", "HELION_SETTINGS", "process_random_seed"]

_SEED_LIMIT = 2**32
_process_seed: int | None = None
_process_seed_lock = threading.Lock()


def process_random_seed() -> int:
    """The autotuning seed drawn once for this process."""
    global _process_seed
    with _process_seed_lock:
        if _process_seed is None:
            _process_seed = secrets.randbelow(_SEED_LIMIT)
        return _process_seed


# ------------------------------------------------------------ value kinds
#
# Each kind has a check for Python values (raises TypeError/ValueError naming
# the setting) and a parser for environment text (raises ValueError).


class _Invalid(ValueError):
    pass


def _type_error(name: str, value: Any, allowed: str) -> TypeError:
    return TypeError(f"setting {name!r}: got {value!r} ({type(value).__name__}); expected {allowed}")


def _value_error(name: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"setting {name!r}: got {value!r}; allowed: {allowed}")


class _Kind:
    allowed = ""
    from_env = True

    def check(self, name: str, value: Any) -> Any:
        raise NotImplementedError

    def parse(self, text: str) -> Any:
        raise NotImplementedError


class _Bool(_Kind):
    allowed = "True or False"
    _TRUE = ("1", "true", "yes")
    _FALSE = ("0", "false", "no")

    def check(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise _type_error(name, value, self.allowed)
        return value

    def parse(self, text: str) -> bool:
        t = text.strip().lower()
        if t in self._TRUE:
            return True
        if t in self._FALSE:
            return False
        raise _Invalid("expected a boolean: 1/0/true/false/yes/no")


class _Int(_Kind):
    def __init__(self, lo: int, hi: int | None = None) -> None:
        self.lo, self.hi = lo, hi
        self.allowed = f"an int >= {lo}" if hi is None else f"an int in [{lo}, {hi}]"

    def check(self, name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(name, value, self.allowed)
        if value < self.lo or (self.hi is not None and value > self.hi):
            raise _value_error(name, value, self.allowed)
        return value

    def parse(self, text: str) -> int:
        try:
            return int(text.strip())
        except ValueError:
            raise _Invalid(f"expected {self.allowed}") from None


class _Float(_Kind):
    def __init__(self, positive: bool) -> None:
        self.positive = positive
        self.allowed = "a number > 0" if positive else "a number >= 0"

    def check(self, name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(name, value, self.allowed)
        v = float(value)
        if not math.isfinite(v) or v < 0 or (self.positive and v == 0):
            raise _value_error(name, value, self.allowed)
        return v

    def parse(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            raise _Invalid(f"expected {self.allowed}") from None


class _Choice(_Kind):
    def __init__(self, *choices: str) -> None:
        self.choices = choices
        self.allowed = ", ".join(repr(c) for c in choices)

    def check(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise _type_error(name, value, f"one of {self.allowed}")
        if value not in self.choices:
            raise _value_error(name, value, self.allowed)
        return value

    def parse(self, text: str) -> str:
        return text.strip().lower()


class _Text(_Kind):
    allowed = "a non-empty string"

    def check(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise _type_error(name, value, self.allowed)
        if not value.strip():
            raise _value_error(name, value, self.allowed)
        return value

    def parse(self, text: str) -> str:
        return text.strip()


class _Path(_Kind):
    allowed = "a path (str or os.PathLike)"

    def check(self, name: str, value: Any) -> str:
        if not isinstance(value, (str, os.PathLike)):
            raise _type_error(name, value, self.allowed)
        path = os.fspath(value)
        if not isinstance(path, str) or not path:
            raise _value_error(name, value, "a non-empty str path")
        return path

    def parse(self, text: str) -> str:
        return text


class _Callable(_Kind):
    allowed = "a callable"
    from_env = False

    def check(self, name: str, value: Any) -> Callable[..., Any]:
        if not callable(value):
            raise _type_error(name, value, self.allowed)
        return value


class _IndexDtype(_Kind):
    allowed = "None, torch.int32 or torch.int64"
    _NAMES = {"int32": torch.int32, "int64": torch.int64}

    def check(self, name: str, value: Any) -> torch.dtype:
        if isinstance(value, str):
            key = value.strip().lower().removeprefix("torch.")
            if key in self._NAMES:
                return self._NAMES[key]
            raise _value_error(name, value, self.allowed)
        if not isinstance(value, torch.dtype):
            raise _type_error(name, value, self.allowed)
        if value not in (torch.int32, torch.int64):
            raise _value_error(name, value, self.allowed)
        return value

    def parse(self, text: str) -> str:
        return text  # check() understands "int32", "torch.int64", ...


class _Warnings(_Kind):
    allowed = "a list/tuple of warning classes or class names"

    def check(self, name: str, value: Any) -> tuple[Any, ...]:
        if isinstance(value, (str, type)):
            value = (value,)
        if not isinstance(value, Iterable):
            raise _type_error(name, value, self.allowed)
        items = tuple(value)
        for item in items:
            if not isinstance(item, (str, type)):
                raise _type_error(name, item, f"{self.allowed} (bad entry)")
        return items

    def parse(self, text: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in text.split(",") if part.strip())


class _Optional(_Kind):
    def __init__(self, inner: _Kind) -> None:
        self.inner = inner
        self.allowed = f"None or {inner.allowed}"
        self.from_env = inner.from_env

    def check(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        try:
            return self.inner.check(name, value)
        except TypeError:
            raise _type_error(name, value, self.allowed) from None

    def parse(self, text: str) -> Any:
        if text.strip().lower() in ("none", "auto"):
            return None
        return self.inner.parse(text)


_SEED = object()  # default marker: use process_random_seed()

# name -> (kind, default), in documentation order.
_FIELDS: dict[str, tuple[_Kind, Any]] = {
    "static_shapes": (_Bool(), True),
    "autotune_effort": (_Choice("none", "quick", "full"), "quick"),
    "autotune_random_seed": (_Int(0, _SEED_LIMIT - 1), _SEED),
    "autotune_compile_timeout": (_Float(positive=True), 60.0),
    "autotune_precompile_jobs": (_Optional(_Int(1)), None),
    "autotune_accuracy_check": (_Bool(), True),
    "autotune_baseline_fn": (_Optional(_Callable()), None),
    "autotune_baseline_atol": (_Float(positive=False), 1e-2),
    "autotune_baseline_rtol": (_Float(positive=False), 1e-2),
    "autotune_max_generations": (_Optional(_Int(1)), None),
    "autotune_budget_seconds": (_Optional(_Float(positive=True)), None),
    "autotune_progress_bar": (_Bool(), True),
    "autotune_log": (_Optional(_Path()), None),
    "autotune_cache": (_Bool(), True),
    "force_autotune": (_Bool(), False),
    # The shared tuning cache (autotune/tuning_store.py): redis://host:port/db, file:///path or a path.
    "tuning_cache": (_Optional(_Text()), None),
    # Benchmark workers, one per GPU of the tuning GPU's model (None: all; on the CPU: simulated).
    "autotune_devices": (_Optional(_Int(1)), None),
    "print_output_code": (_Bool(), False),
    # Triton's input_precision of float32 dots; Helion's "default" / "high" /
    # "highest" (torch's names) are tf32 / tf32x3 / ieee (triton_dot_precision).
    "dot_precision": (_Choice("tf32", "tf32x3", "ieee", "default", "high", "highest"), "tf32"),
    # How 16-bit and 8-bit floats are computed between ops (docs/language.md, "Precision").
    "precision": (_Choice("fast", "strict"), "fast"),
    "index_dtype": (_Optional(_IndexDtype()), None),
    "ignore_warnings": (_Warnings(), ()),
    "interpret": (_Bool(), False),
    "autotuner": (_Optional(_Text()), None),
    "cache_dir": (_Optional(_Path()), None),
}


_DOT_PRECISION_NAMES = {"default": "tf32", "high": "tf32x3", "highest": "ieee"}


def triton_dot_precision(value: str) -> str:
    """The tl.dot input_precision a ``dot_precision`` setting stands for."""
    return _DOT_PRECISION_NAMES.get(value, value)


class RefMode(enum.Enum):
    """Helion's ``ref_mode`` setting: ``EAGER`` runs the kernel body in PyTorch eager
    (deuteron's ``interpret=True``), ``OFF`` generates Triton code."""

    OFF = "off"
    EAGER = "eager"


# Helion's setting names that deuteron accepts besides its own (``_FIELDS``).
#   "ignored":     accepted and stored (reads give the value back); no effect.  They
#                  steer parts of Helion's autotuner, logging or code printing that
#                  deuteron does differently, and never change what a kernel computes.
#   "default-only": deuteron cannot do what a non-default value asks; only the
#                  default is accepted, anything else is an error naming the setting.
# name -> (how, default, why), "why" being the sentence the docs and errors use.
HELION_SETTINGS: dict[str, tuple[str, Any, str]] = {
    "fast_math": ("ignored", False, "see the setting 'precision' (its default computes as torch.compile does)"),
    "persistent_reserved_sms": ("ignored", 0, "persistent kernels use every SM"),
    "autotune_force_persistent": ("ignored", False, "the autotuner searches every pid_type"),
    "autotune_log_level": ("ignored", 20, "deuteron's autotuner logs through autotune_log and the progress bar"),
    "autotune_log_details": ("ignored", False, "see autotune_log"),
    "autotune_benchmark_subprocess": ("ignored", True, "deuteron benchmarks in its own worker processes"),
    "autotune_benchmark_timeout": ("ignored", 30, "see autotune_compile_timeout"),
    "autotune_precompile": ("ignored", "fork", "deuteron precompiles in worker processes (autotune_precompile_jobs)"),
    "autotune_best_of_k": ("ignored", 1, "one search per autotune"),
    "autotune_rebenchmark_threshold": ("ignored", None, "deuteron's benchmark decides when to measure again"),
    "autotune_suspicious_rebenchmark_ratio": ("ignored", None, "see autotune_rebenchmark_threshold"),
    "autotune_search_acf": ("ignored", [], "no PTXAS advanced controls files"),
    "autotune_ignore_errors": ("ignored", False, "failing configs are always skipped"),
    "autotune_adaptive_timeout": ("ignored", True, "see autotune_compile_timeout"),
    "print_repro": ("ignored", False, "use print_output_code"),
    "output_origin_lines": ("ignored", True, "generated code always has '# line N' comments"),
    "autotune_config_overrides": ("ignored", {}, "the search space is the kernel's config space"),
    "autotune_seed_configs": ("ignored", None, "the search starts from the default config"),
    "disable_autotuner_heuristics": ("ignored", False, "see autotune_seed_configs"),
    "allow_warp_specialize": ("ignored", True, "the config key range_warp_specializes decides"),
    "debug_dtype_asserts": ("ignored", False, "no dtype asserts in generated code"),
    "autotune_best_available_max_configs": ("ignored", 20, "see autotune_cache"),
    "autotune_best_available_max_cache_scan": ("ignored", 500, "see autotune_cache"),
    "autotune_initial_population_strategy": ("ignored", None, "see autotune_seed_configs"),
    "torch_compile_fusion": ("ignored", False, "kernels are opaque torch.library operators to torch.compile, "
                             "never fused: torch.compile raises RuntimeError for a kernel with it True, as "
                             "Helion does where PyTorch cannot fuse"),
    "autotune_with_torch_compile_fusion": ("ignored", False, "see torch_compile_fusion"),
    "triton_do_not_specialize": ("ignored", False, "Triton specializes as it does by default"),
    "autotune_log_search_space": ("ignored", False, "see autotune_log"),
    "autotune_log_search_space_verbose": ("ignored", False, "see autotune_log"),
    "autotune_log_search_space_path": ("ignored", None, "see autotune_log"),
    "distributed": ("default-only", False, "deuteron has no distributed kernels"),
    "autotuner_fn": ("default-only", None, "deuteron's autotuner is chosen with the setting 'autotuner'"),
    "autotune_benchmark_fn": ("default-only", None, "deuteron times configs with its own benchmark"),
    "autotune_baseline_accuracy_check_fn": ("default-only", None,
                                            "use autotune_baseline_atol / autotune_baseline_rtol"),
    "autotune_config_filter": ("default-only", None, "the search space is the kernel's config space"),
    "pallas_collective_id": ("default-only", None, "deuteron has no Pallas back end"),
    "pallas_interpret": ("default-only", False, "deuteron has no Pallas back end"),
    "pallas_topk_recall_target": ("default-only", 0.99, "deuteron has no Pallas back end"),
}
# Helion's spellings that are deuteron settings under another name (handled in Settings).
_HELION_RENAMED = ("ref_mode", "backend")


def _helion_value(name: str, value: Any) -> Any:
    """A Helion-only setting's value, checked (an error for what deuteron cannot honor)."""
    how, default, why = HELION_SETTINGS[name]
    if how == "default-only" and value is not None and value != default:
        raise ValueError(f"setting {name!r} is not supported by deuteron ({why}); "
                         f"only its default {default!r} is accepted, got {value!r}")
    return value


def _translate_helion(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Helion's spellings of deuteron settings (ref_mode, backend) as deuteron's."""
    if "backend" in kwargs:
        backend = kwargs.pop("backend")
        if backend != "triton":
            raise ValueError(f"setting 'backend': deuteron generates Triton code only; got {backend!r}")
    else:
        # Helion reads its back end from HELION_BACKEND when the setting is not given; a
        # program run under another back end's environment must not silently get Triton.
        var, text = _env.backend_source()
        if text.strip() and text.strip().lower() != "triton":
            raise ValueError(f"environment variable {var}={text!r} names the back end {text.strip()!r}; "
                             f"deuteron generates Triton code only (unset it or set it to 'triton')")
    if "ref_mode" in kwargs:
        mode = kwargs.pop("ref_mode")
        if isinstance(mode, str):
            mode = RefMode(mode.lower())
        if not isinstance(mode, RefMode):
            raise _type_error("ref_mode", mode, "RefMode.OFF or RefMode.EAGER")
        if "interpret" in kwargs and kwargs["interpret"] != (mode is RefMode.EAGER):
            raise ValueError("settings 'ref_mode' and 'interpret' disagree; give one of them")
        kwargs["interpret"] = mode is RefMode.EAGER
    return kwargs


def _from_env(name: str, kind: _Kind, text: str) -> Any:
    var = _env.setting_source(name)[0]
    try:
        return kind.check(name, kind.parse(text))
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"environment variable {var}={text!r} is invalid for setting {name!r}: {e}"
        ) from None


class Settings:
    """Compile/autotune/run settings; see the module docstring."""

    __slots__ = (*_FIELDS, "_helion")

    # Typed attributes (for readers and type checkers).
    static_shapes: bool
    autotune_effort: str
    autotune_random_seed: int
    autotune_compile_timeout: float
    autotune_precompile_jobs: int | None
    autotune_accuracy_check: bool
    autotune_baseline_fn: Callable[..., Any] | None
    autotune_baseline_atol: float
    autotune_baseline_rtol: float
    autotune_max_generations: int | None
    autotune_budget_seconds: float | None
    autotune_progress_bar: bool
    autotune_log: str | None
    autotune_cache: bool
    force_autotune: bool
    tuning_cache: str | None
    autotune_devices: int | None
    print_output_code: bool
    dot_precision: str
    precision: str
    index_dtype: torch.dtype | None
    ignore_warnings: tuple[Any, ...]
    interpret: bool
    autotuner: str | None
    cache_dir: str | None

    def __init__(self, /, **kwargs: Any) -> None:
        kwargs = _translate_helion(dict(kwargs))
        helion = {}
        for key in list(kwargs):
            if key in HELION_SETTINGS:
                helion[key] = _helion_value(key, kwargs.pop(key))
            elif key not in _FIELDS:
                raise TypeError(_unknown_message(key))
        object.__setattr__(self, "_helion", helion)
        for name, (kind, default) in _FIELDS.items():
            if name in kwargs:
                value = kind.check(name, kwargs[name])
            else:
                text = _env.setting_text(name) if kind.from_env else ""
                if text.strip():
                    value = _from_env(name, kind, text)
                elif default is _SEED:
                    value = process_random_seed()
                else:
                    value = default
            object.__setattr__(self, name, value)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """All setting names, in documentation order."""
        return tuple(_FIELDS)

    @classmethod
    def helion_names(cls) -> tuple[str, ...]:
        """Helion's setting names accepted besides deuteron's (see ``HELION_SETTINGS``)."""
        return (*_HELION_RENAMED, *HELION_SETTINGS)

    def to_dict(self) -> dict[str, Any]:
        """Every deuteron setting, then the Helion-only settings that were given."""
        return {**{name: getattr(self, name) for name in _FIELDS}, **self._helion}

    def replace(self, **kwargs: Any) -> Settings:
        """A copy with ``kwargs`` changed (unchanged settings keep their values,
        whatever the environment says now)."""
        for key in kwargs:
            if key not in _FIELDS and key not in HELION_SETTINGS and key not in _HELION_RENAMED:
                raise TypeError(_unknown_message(key))
        current = self.to_dict()
        if "ref_mode" in kwargs and "interpret" not in kwargs:
            current.pop("interpret")
        return type(self)(**{**current, **kwargs})

    @property
    def ref_mode(self) -> RefMode:
        """Helion's spelling of ``interpret``."""
        return RefMode.EAGER if self.interpret else RefMode.OFF

    @property
    def backend(self) -> str:
        """The back end deuteron generates code for (Helion's setting; always "triton")."""
        return "triton"

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not slots: Helion-only settings.
        if name == "_helion":
            raise AttributeError(name)
        if name in HELION_SETTINGS:
            return self._helion.get(name, HELION_SETTINGS[name][1])
        raise AttributeError(f"{type(self).__name__!r} has no setting {name!r}")

    def resolved_cache_dir(self) -> pathlib.Path:
        """The cache directory: the setting, else $DEUTERON_CACHE_DIR, else
        $XDG_CACHE_HOME/deuteron (if absolute), else ~/.cache/deuteron."""
        if self.cache_dir:
            return pathlib.Path(self.cache_dir).expanduser()
        env = _env.cache_dir()
        if env:
            return pathlib.Path(env).expanduser()
        xdg = _env.xdg_cache_home()
        if xdg and os.path.isabs(xdg):
            return pathlib.Path(xdg) / "deuteron"
        return pathlib.Path.home() / ".cache" / "deuteron"

    def resolved_precompile_jobs(self) -> int:
        """autotune_precompile_jobs, or os.cpu_count() when None."""
        if self.autotune_precompile_jobs is not None:
            return self.autotune_precompile_jobs
        return os.cpu_count() or 1

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Settings are immutable; use settings.replace(...) to make a changed copy")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Settings are immutable")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Settings):
            return self.to_dict() == other.to_dict()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"Settings({body})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.to_dict()))


class KernelSettings:
    """A kernel's settings, changeable in place (``kernel.settings.static_shapes = False``),
    as Helion programs change them.

    Reads give the kernel's current :class:`Settings` values; an assignment checks the
    value, gives the kernel a changed copy (the Settings values themselves stay
    immutable, so a bound kernel or an autotuning worker that holds one is never
    changed under it) and calls the kernel's ``on_change`` with it: the kernel then
    forgets its specializations, so the next call binds with the new settings.
    Assigning the value a setting already has changes nothing.
    """

    __slots__ = ("_current", "_on_change", "_unset")

    def __init__(self, current: Callable[[], Settings], on_change: Callable[[Settings], None],
                 unset: set[str] | None = None) -> None:
        object.__setattr__(self, "_current", current)
        object.__setattr__(self, "_on_change", on_change)
        # Names deleted (``del kernel.settings.x``) and not assigned since: the
        # kernel's set, shared by every view of its settings.
        object.__setattr__(self, "_unset", unset if unset is not None else set())

    def snapshot(self) -> Settings:
        """The kernel's settings now, as an immutable Settings value."""
        return self._current()

    def update(self, **kwargs: Any) -> None:
        """Changes several settings at once (one rebind)."""
        current = self._current()
        new = current.replace(**kwargs)
        self._unset.difference_update(kwargs)
        if new != current:
            self._on_change(new)

    def __getattr__(self, name: str) -> Any:
        if name in self._unset:
            raise AttributeError(f"setting {name!r} was deleted; the kernel uses its default until it is assigned")
        return getattr(self._current(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        self.update(**{name: value})

    def __delattr__(self, name: str) -> None:
        """``del kernel.settings.x``: the kernel goes back to the default value of ``x``
        (the environment's, else the built-in one), and ``x`` reads as missing until
        it is assigned, as a deleted slot of a Helion Settings object does (so
        ``unittest.mock.patch.object(kernel.settings, "x", v)`` restores the old value)."""
        if name in self._unset:
            raise AttributeError(name)
        default = getattr(Settings(), name)  # AttributeError for a name that is no setting
        self.update(**{name: default})
        self._unset.add(name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, KernelSettings):
            other = other.snapshot()
        return self._current() == other

    __hash__ = None  # type: ignore[assignment]

    def __dir__(self) -> list[str]:
        return sorted({*Settings.names(), *Settings.helion_names(), "snapshot", "update", "replace", "to_dict"})

    def __repr__(self) -> str:
        return repr(self._current())

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (Settings, self._current().to_dict()))


def _rebuild(cls: type[Settings], values: dict[str, Any]) -> Settings:
    return cls(**values)


def _unknown_message(key: str) -> str:
    close = difflib.get_close_matches(key, list(_FIELDS), n=1)
    if close:
        return f"unknown setting {key!r}; did you mean {close[0]!r}?"
    return f"unknown setting {key!r}; valid settings: {', '.join(_FIELDS)}"
