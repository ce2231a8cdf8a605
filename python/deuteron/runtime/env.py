"""The environment variables deuteron reads: one function each, read when called.

Every read of ``os.environ`` in deuteron goes through this module (a test
checks it; the one exception is autotune/worker_protocol.py, which a worker
process runs before it can import deuteron).  Each function says what its
variable means and how its text is parsed, so that a switch means the same
thing wherever it is consulted.  Nothing here caches: a variable set after
``import deuteron`` takes effect at the next read (binding a kernel, tuning).

The ``DEUTERON_<NAME>`` variables of Settings fields are read through
:func:`setting_text` when a Settings object is made (runtime/settings.py parses
them by the field's type).
"""

from __future__ import annotations

import os

__all__ = [
    "AUTOTUNE_DEVICE_INDEX", "autotune_device_index", "autotune_space_options", "autotune_worker_output_to_stderr",
    "autotuner", "backend_source", "cache_dir", "cuda_visible_devices", "deuteron_interpret", "environment", "examples_dir",
    "helion_interpret",
    "print_output_code", "runtime_source_dir", "setting_text", "setting_variable", "triton_interpret",
    "worker_signature", "xdg_cache_home",
]


def _flag(name: str) -> bool:
    """A deuteron on/off switch: unset, empty, 0, false, no, off (any case) are off; anything else is on."""
    return os.environ.get(name, "0").strip().lower() not in ("", "0", "false", "no", "off")


def triton_interpret() -> bool:
    """TRITON_INTERPRET: Triton's interpreter runs the generated Triton code (numpy, on the CPU).

    On unless unset, empty or "0" (what deuteron has always taken it to mean).
    """
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def deuteron_interpret() -> bool:
    """DEUTERON_INTERPRET: kernels run as PyTorch eager code (the reference back end) on any device.

    Helion's name for its mode of that kind, HELION_INTERPRET (:func:`helion_interpret`), switches
    it on too.  Read when a kernel is bound, so it can be switched on after import.
    """
    return _flag("DEUTERON_INTERPRET") or helion_interpret()


def helion_interpret() -> bool:
    """HELION_INTERPRET: Helion's switch of its PyTorch-eager mode (its ``ref_mode``), which is
    DEUTERON_INTERPRET here; as in Helion, it may not be set together with TRITON_INTERPRET
    (binding a kernel raises ``IncompatibleInterpretModes``)."""
    return _flag("HELION_INTERPRET")


def print_output_code() -> bool:
    """DEUTERON_PRINT_OUTPUT_CODE: each generated module loaded to run is printed to stderr."""
    return _flag("DEUTERON_PRINT_OUTPUT_CODE")


def cache_dir() -> str:
    """DEUTERON_CACHE_DIR: where generated modules and the autotune cache go ("" when unset)."""
    return os.environ.get("DEUTERON_CACHE_DIR", "")


def examples_dir() -> str:
    """DEUTERON_EXAMPLES_DIR: where deuteron.testing finds example programs (check_example,
    EXAMPLES_DIR); "" when unset (this checkout's examples/)."""
    return os.environ.get("DEUTERON_EXAMPLES_DIR", "")


def xdg_cache_home() -> str:
    """XDG_CACHE_HOME: the cache folder's parent when DEUTERON_CACHE_DIR is unset ("" when unset)."""
    return os.environ.get("XDG_CACHE_HOME", "")


def setting_variable(name: str) -> str:
    """The environment variable of Settings field ``name``."""
    return f"DEUTERON_{name.upper()}"


# Settings that another tool's variable also sets, read when DEUTERON_<NAME> is
# unset: TRITON_F32_DEFAULT is Triton's default input precision of float32
# dots, which Helion reads for its dot_precision as well.
_OTHER_SETTING_VARIABLES = {"dot_precision": "TRITON_F32_DEFAULT"}


def setting_source(name: str) -> tuple[str, str]:
    """(variable, text) of Settings field ``name``: DEUTERON_<NAME>, else the other
    tool's variable that sets it (``_OTHER_SETTING_VARIABLES``); text "" when unset."""
    var = setting_variable(name)
    text = os.environ.get(var, "")
    other = _OTHER_SETTING_VARIABLES.get(name)
    if not text.strip() and other and os.environ.get(other, "").strip():
        return other, os.environ[other]
    return var, text


# Helion's back-end variable: deuteron has one back end (Triton), so a value naming
# another is an error when Settings are made (runtime/settings.py).
_BACKEND_VARIABLES = ("DEUTERON_BACKEND", "HELION_BACKEND")


def backend_source() -> tuple[str, str]:
    """(variable, text) of the back end the environment asks for: DEUTERON_BACKEND, else
    Helion's HELION_BACKEND; ("", "") when neither is set (or both are empty)."""
    for var in _BACKEND_VARIABLES:
        text = os.environ.get(var, "")
        if text.strip():
            return var, text
    return "", ""


def setting_text(name: str) -> str:
    """The text of Settings field ``name``'s variable (see setting_source), "" when unset."""
    return setting_source(name)[1]


def autotuner() -> str:
    """DEUTERON_AUTOTUNER: the search strategy when the ``autotuner`` setting is None ("" when unset)."""
    return os.environ.get("DEUTERON_AUTOTUNER", "")


def autotune_space_options() -> str:
    """DEUTERON_AUTOTUNE_SPACE_OPTIONS: options of the C++ search space (see docs/autotuning.md)."""
    return os.environ.get("DEUTERON_AUTOTUNE_SPACE_OPTIONS", "")


def autotune_worker_output_to_stderr() -> bool:
    """DEUTERON_AUTOTUNE_WORKER_OUTPUT=stderr: autotuning workers write to stderr instead of a log file."""
    return os.environ.get("DEUTERON_AUTOTUNE_WORKER_OUTPUT", "") == "stderr"


# Set by the autotuner in a benchmark worker's environment (autotune/devices.py).
AUTOTUNE_DEVICE_INDEX = "DEUTERON_AUTOTUNE_DEVICE_INDEX"


def autotune_device_index() -> int | None:
    """DEUTERON_AUTOTUNE_DEVICE_INDEX: in a benchmark worker, the GPU it is pinned to (its index among
    this host's GPUs; on the CPU, a simulated device); None elsewhere or when unreadable."""
    text = os.environ.get(AUTOTUNE_DEVICE_INDEX, "").strip()
    try:
        return int(text) if text else None
    except ValueError:
        return None


def cuda_visible_devices() -> list[str] | None:
    """CUDA_VISIBLE_DEVICES as a list of entries (indices or UUIDs); None when unset (every GPU visible)."""
    text = os.environ.get("CUDA_VISIBLE_DEVICES")
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def runtime_source_dir() -> str:
    """DEUTERON_RUNTIME_SOURCE: the C++ runtime's sources for `deuteron export` ("" when unset)."""
    return os.environ.get("DEUTERON_RUNTIME_SOURCE", "")


def worker_signature() -> tuple[tuple[str, str], ...]:
    """The variables that change what an autotuning worker process does (Triton's, CUDA's,
    DEUTERON_INTERPRET, HELION_INTERPRET), sorted: a worker started under other values is not reused."""
    keys = sorted(k for k in os.environ
                  if k.startswith(("TRITON_", "CUDA_")) or k in ("DEUTERON_INTERPRET", "HELION_INTERPRET"))
    return tuple((k, os.environ[k]) for k in keys)


def environment() -> dict[str, str]:
    """A copy of this process's environment, for a child process."""
    return dict(os.environ)
