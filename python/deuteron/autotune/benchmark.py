"""Running and timing configs: the benchmark process's side.

The benchmark runs in one long-lived worker process (see workers.py) so that a
config that crashes the process or corrupts the CUDA context (illegal address,
misaligned access, ...) only costs a restart.  The parent sends ``setup`` once
per worker (the arguments, the globals the generated host code needs, how to
get the reference outputs, options), then ``run_config`` per config.

Timing: on CUDA, ``triton.testing.do_bench`` (it clears a 256 MB buffer before
every timed run, so L2 is flushed, and we ask for the median); on the CPU
(tests, interpreters) the median of a few wall-clock runs.  Accuracy: each
config first runs once on fresh copies of the arguments and its outputs (the
return value, or the tensor arguments when it returns nothing) are compared
with the reference (the default config, or ``autotune_baseline_fn``) with
``atol``/``rtol``.  Every run starts from the torch generator state the state
had at setup (and leaves the generator as it found it), so kernels drawing
``torch.rand_like`` & co. draw the same numbers for the reference and each
config, and tuning in-process does not move the caller's generator.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import importlib
import importlib.machinery
import io
import math
import pickle
import statistics
import sys
import time
import types
from pathlib import Path
from typing import Any, Callable

import torch

from ..compat.helion_alias import helion_alias_mode
from ..runtime import env
from ..runtime.launcher import out_of_resources
from ..runtime.modules import load_host_function
from .saved_memory import SavedMemory
from .worker_protocol import resolve

# ---------------------------------------------------------------- packing


def pack_value(v: Any) -> Any:
    """Arguments/outputs in a form that crosses a pipe (tensors via CPU, strides kept)."""
    if isinstance(v, torch.Tensor):
        # The storage span the tensor covers travels, so that strides (an expanded
        # tensor's 0s included) come back as they were; as uint8 bytes, since torch's
        # pickling of float8 storages fails on the loading side (torch 2.11-2.13).
        span = 0 if v.numel() == 0 else 1 + sum((n - 1) * st for n, st in zip(v.shape, v.stride()))
        region = v.detach().as_strided((span,), (1,), v.storage_offset())
        data = region.to("cpu", copy=True).contiguous().view(torch.uint8)
        return {"__tensor__": True, "data": data, "dtype": v.dtype, "span": span,
                "size": tuple(v.shape), "stride": tuple(v.stride()), "device": str(v.device),
                "requires_grad": v.requires_grad}
    if isinstance(v, tuple) and hasattr(type(v), "_fields"):
        # A NamedTuple: the worker rebuilds one of the same name and fields (it
        # may not be able to import the class); the host code reads fields or indexes.
        return {"__namedtuple__": type(v).__name__, "fields": list(type(v)._fields),
                "items": [pack_value(x) for x in v]}
    if isinstance(v, (list, tuple)):
        items = [pack_value(x) for x in v]
        return items if isinstance(v, list) else {"__tuple__": items}
    if isinstance(v, dict):
        return {"__dict__": {k: pack_value(x) for k, x in v.items()}}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        # A dataclass argument: its fields, read as attributes by the host code.
        return {"__record__": {f.name: pack_value(getattr(v, f.name)) for f in dataclasses.fields(v)}}
    return v


def unpack_value(v: Any, device: str | None = None) -> Any:
    if isinstance(v, dict) and v.get("__tensor__"):
        dev = device or v["device"]
        buf = torch.empty(v["span"], dtype=v["dtype"], device=dev)
        if v["span"]:
            buf.copy_(v["data"].view(v["dtype"]))
        return buf.as_strided(v["size"], v["stride"])
    if isinstance(v, dict) and "__namedtuple__" in v:
        cls = collections.namedtuple(v["__namedtuple__"], v["fields"])  # noqa: PYI024
        return cls(*(unpack_value(x, device) for x in v["items"]))
    if isinstance(v, dict) and "__record__" in v:
        return types.SimpleNamespace(**{k: unpack_value(x, device) for k, x in v["__record__"].items()})
    if isinstance(v, dict) and "__tuple__" in v:
        return tuple(unpack_value(x, device) for x in v["__tuple__"])
    if isinstance(v, dict) and "__dict__" in v:
        return {k: unpack_value(x, device) for k, x in v["__dict__"].items()}
    if isinstance(v, list):
        return [unpack_value(x, device) for x in v]
    return v


def tensor_leaves(args: Any) -> list[torch.Tensor]:
    """The tensors of arguments: themselves, or the elements (recursively) of
    tuple, list, NamedTuple, dataclass and dict arguments."""
    if isinstance(args, torch.Tensor):
        return [args]
    if isinstance(args, (tuple, list)):
        return [t for a in args for t in tensor_leaves(a)]
    if isinstance(args, dict):
        return [t for a in args.values() for t in tensor_leaves(a)]
    if dataclasses.is_dataclass(args) and not isinstance(args, type):
        return [t for f in dataclasses.fields(args) for t in tensor_leaves(getattr(args, f.name))]
    return []


def _clone_value(a: Any) -> Any:
    if isinstance(a, torch.Tensor):
        c = torch.empty_strided(a.shape, a.stride(), dtype=a.dtype, device=a.device)
        c.copy_(a)
        return c
    if type(a) in (tuple, list):
        return type(a)(_clone_value(x) for x in a)
    if isinstance(a, tuple) and hasattr(type(a), "_fields"):  # a NamedTuple
        return type(a)(*(_clone_value(x) for x in a))
    if type(a) is dict:
        return {k: _clone_value(v) for k, v in a.items()}
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return dataclasses.replace(a, **{f.name: _clone_value(getattr(a, f.name))
                                         for f in dataclasses.fields(a) if f.init})
    return a


def clone_args(args: tuple) -> tuple:
    """Copies of the tensor arguments, also those inside structured arguments."""
    return tuple(_clone_value(a) for a in args)


def globals_spec(values: dict[str, Any], names: list[str] | None = None) -> tuple[dict[str, tuple], list[str]]:
    """How to rebuild the generated host code's globals in another process.

    Returns (spec, names that cannot be sent).  Modules go by name; other values
    by pickle, except objects defined in ``__main__`` (a fresh interpreter has
    no such module)."""
    spec: dict[str, tuple] = {}
    bad: list[str] = []
    for name in names if names is not None else list(values):
        if name not in values:
            continue
        v = values[name]
        if isinstance(v, types.ModuleType):
            # A module of the ``helion`` import alias stands for a deuteron module: it
            # goes by the deuteron name, which imports in any worker, also one a pool
            # started before the alias was installed (only new workers install it).
            spec[name] = ("module", v.__dict__.get("__deuteron_module__", v).__name__)
            continue
        if getattr(v, "__module__", None) == "__main__" and not isinstance(v, (int, float, bool, str)):
            bad.append(name)
            continue
        try:
            spec[name] = ("pickle", pickle.dumps(v))
        except Exception:
            bad.append(name)
    return spec, bad


def unsendable(payload: Any) -> str | None:
    """What of ``payload`` a worker process could not rebuild, or None: a value that
    does not pickle (a local lambda passed to the kernel), or one pickled by reference
    to a module a fresh interpreter cannot import (``__main__``'s, or an example
    module loaded from its file without being on sys.path)."""
    modules: set[str] = set()

    class _Probe(pickle.Pickler):
        def persistent_id(self, obj: Any) -> Any:
            # Tensors' bytes do not matter here (their classes are torch's).
            return "tensor" if isinstance(obj, torch.Tensor) else None

        def reducer_override(self, obj: Any) -> Any:
            # Classes and functions pickle by reference: their module must import there.
            if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
                modules.add(getattr(obj, "__module__", None) or "")
            return NotImplemented

    try:
        _Probe(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL).dump(payload)
    except Exception as e:  # noqa: BLE001 - any pickling failure means: not sendable
        return f"a value that does not pickle ({type(e).__name__}: {e})"
    for module in sorted(modules):
        if module == "__main__" or not _importable(module):
            return f"a value of module {module!r}, which a worker process cannot import"
    return None


def _importable(module: str) -> bool:
    """Whether a fresh interpreter with this sys.path imports ``module`` (its top-level
    package; what this process imported from a file by its path does not count)."""
    top = module.split(".")[0]
    if top in sys.builtin_module_names:
        return True
    if top == "helion" and helion_alias_mode() is not None:
        return True  # the workers install the alias too
    try:
        return (importlib.machinery.PathFinder.find_spec(top, sys.path) is not None
                or importlib.machinery.FrozenImporter.find_spec(top) is not None)
    except (ImportError, ValueError):
        return False


def rebuild_globals(spec: dict[str, tuple]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (kind, payload) in spec.items():
        out[name] = importlib.import_module(payload) if kind == "module" else pickle.loads(payload)
    return out


# -------------------------------------------------------------- comparing


def _flatten(v: Any) -> list[Any]:
    if isinstance(v, (list, tuple)):
        return [x for item in v for x in _flatten(item)]
    if isinstance(v, dict):
        return [x for k in sorted(v) for x in _flatten(v[k])]
    return [v]


def compare(got: Any, expected: Any, atol: float, rtol: float) -> str | None:
    """None when close enough, else a one-line description of the first mismatch."""
    g, e = _flatten(got), _flatten(expected)
    if len(g) != len(e):
        return f"returned {len(g)} values, the reference {len(e)}"
    for i, (a, b) in enumerate(zip(g, e)):
        if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
            if a.shape != b.shape:
                return f"output {i}: shape {tuple(a.shape)} vs {tuple(b.shape)}"
            if a.dtype != b.dtype:
                return f"output {i}: dtype {a.dtype} vs {b.dtype}"
            if a.dtype == torch.bool or not (a.is_floating_point() or a.is_complex()):
                if not torch.equal(a, b.to(a.device)):
                    return f"output {i}: integer values differ"
                continue
            # On the tensors' device (a GPU compares 100M elements in a millisecond).
            b = b.to(a.device)
            wide = torch.float64 if a.dtype == torch.float64 else torch.float32
            af, bf = a.detach().to(wide), b.detach().to(wide)
            close = torch.isclose(af, bf, rtol=rtol, atol=atol, equal_nan=True)
            if not bool(close.all()):
                diff = (af - bf).abs()
                diff = torch.where(torch.isnan(diff), torch.full_like(diff, math.inf), diff)
                return (f"output {i}: max abs error {diff.max().item():.3g} "
                        f"(atol={atol:g}, rtol={rtol:g})")
        elif isinstance(a, float) and isinstance(b, float):
            if not math.isclose(a, b, rel_tol=rtol, abs_tol=atol) and not (math.isnan(a) and math.isnan(b)):
                return f"output {i}: {a!r} vs {b!r}"
        elif a != b and not (isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor)):
            return f"output {i}: {a!r} vs {b!r}"
    return None


def _observed(result: Any, args: tuple) -> Any:
    """What a run produced: its return value, or its tensor arguments when it returns None."""
    if result is None:
        return tensor_leaves(args)
    return result


def _sync(args: tuple) -> None:
    if torch.cuda.is_available() and any(a.is_cuda for a in tensor_leaves(args)):
        torch.cuda.synchronize()


# ---------------------------------------------------------------- timing


def measure(fn: Callable[[], Any], options: dict[str, Any]) -> float:
    """Seconds per call of ``fn`` (median).  ``options``: cuda, warmup_ms, rep_ms."""
    if options.get("cuda"):
        import triton.testing

        ms = triton.testing.do_bench(fn, warmup=options.get("warmup_ms", 5), rep=options.get("rep_ms", 25),
                                     return_mode="median")
        return float(ms) * 1e-3
    fn()
    times = []
    budget = options.get("rep_ms", 25) * 1e-3
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget and len(times) < 50):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


_CUDA_FATAL = ("illegal memory access", "misaligned address", "unspecified launch failure", "illegal instruction",
               "an illegal", "device-side assert", "CUDA error", "cudaError", "CUDA_ERROR", "AcceleratorError")


def is_fatal_cuda_error(e: BaseException) -> bool:
    text = f"{type(e).__name__}: {e}"
    return any(s in text for s in _CUDA_FATAL)


# ------------------------------------------------------------ bench state


class BenchState:
    """Everything the benchmark side holds between configs (one per worker)."""

    def __init__(self, setup: dict[str, Any]) -> None:
        self.options = dict(setup.get("options", {}))
        device = setup.get("device")
        self.args = tuple(unpack_value(a, device) for a in setup["args"]) if setup.get("packed", True) \
            else tuple(setup["args"])
        self.globals = rebuild_globals(setup.get("globals", {})) if setup.get("packed", True) \
            else dict(setup.get("globals_values", {}))
        self.measure = resolve(setup["measure"]) if setup.get("measure") else measure
        self.runner = resolve(setup["runner"]) if setup.get("runner") else None
        self.modules: dict[str, Any] = {}
        self.rng_devices = [torch.cuda.current_device()] if self.options.get("cuda") else []
        self.rng_state = torch.random.get_rng_state()
        self.cuda_rng_state = torch.cuda.get_rng_state() if self.rng_devices else None
        self.reference: Any = None
        self.reference_error: str | None = None
        # What the kernel's runs change (saved_memory.py): the arguments it writes
        # in place and the tensors its StackTensor stores reach, put back before
        # each checked run; what the default config stored through a stack is
        # part of the reference.
        self.saved: SavedMemory | None = None
        protect = setup.get("protect") or {}
        if protect.get("args") or protect.get("stacks"):
            written = [t for i in protect.get("args", ()) for t in tensor_leaves(self.args[i])]
            self.saved = SavedMemory.of(written, self.args, protect.get("stacks", ()))
        self.stack_reference: list[Any] | None = None
        ref = setup.get("reference")
        if ref is not None and self.options.get("accuracy", True):
            kind, value = ref
            try:
                if kind == "values":
                    self.reference = unpack_value(value, device) if setup.get("packed", True) else value
                else:  # ("module", path): run that config
                    fn = self.entry(value)
                    self.restore()
                    a = clone_args(self.args)
                    with self.same_rng():
                        out = self.run(fn, a, "reference")
                        _sync(a)
                    self.reference = _observed(out, a)
                    if self.saved is not None:
                        self.stack_reference = self.saved.observe_stacks()
            except Exception as e:  # noqa: BLE001
                if is_fatal_cuda_error(e):
                    raise
                self.reference_error = f"{type(e).__name__}: {e}"

    def restore(self) -> None:
        """The arguments and stacked tensors as they were when this state was set up."""
        if self.saved is not None:
            self.saved.restore()

    def entry(self, path: str) -> Callable[..., Any]:
        fn = self.modules.get(path)
        if fn is None:
            # In DEUTERON_INTERPRET mode a Triton module is one BoundKernel.backend chose
            # for Triton source of the user's: Triton's interpreter runs it there too.
            fn = self.modules[path] = load_host_function(Path(path), self.globals,
                                                         interpret_triton=env.deuteron_interpret())
        return fn

    @contextlib.contextmanager
    def same_rng(self):
        """Runs from the generator state of setup; restores the state found on entry."""
        with torch.random.fork_rng(devices=self.rng_devices):
            torch.random.set_rng_state(self.rng_state)
            if self.cuda_rng_state is not None:
                torch.cuda.set_rng_state(self.cuda_rng_state)
            yield

    def run(self, fn: Callable[..., Any], args: tuple, config_json: str) -> Any:
        if self.runner is not None:
            return self.runner(fn, args, config_json)
        return fn(*args)

    def run_config(self, path: str, config_json: str, check: bool = True,
                   rep_ms: float | None = None) -> dict[str, Any]:
        try:
            fn = self.entry(path)
            if check and self.options.get("accuracy", True) and self.reference is not None:
                self.restore()  # before the copies: a timing run may have changed the arguments
                a = clone_args(self.args)
                with self.same_rng():
                    out = self.run(fn, a, config_json)
                    _sync(a)
                tolerances = (self.options.get("atol", 1e-2), self.options.get("rtol", 1e-2))
                problem = compare(_observed(out, a), self.reference, *tolerances)
                if problem is None and self.stack_reference is not None:
                    problem = compare(self.saved.observe_stacks(), self.stack_reference, *tolerances)
                    problem = problem and f"in the tensors it stores to through StackTensor pointers: {problem}"
                if problem is not None:
                    return {"ok": False, "kind": "wrong answer", "message": problem}
            opts = dict(self.options, config=config_json)
            if rep_ms is not None:
                opts["rep_ms"] = rep_ms
            args = self.args
            with self.same_rng():
                seconds = float(self.measure(lambda: self.run(fn, args, config_json), opts))
                _sync(args)
            if not (seconds > 0 and math.isfinite(seconds)):
                return {"ok": False, "kind": "error", "message": f"bad timing {seconds!r}"}
            return {"ok": True, "seconds": seconds}
        except Exception as e:  # noqa: BLE001 - reported, never fatal to the search
            fatal = is_fatal_cuda_error(e)
            if out_of_resources(e) is not None:  # the config does not fit the GPU: skipped
                return {"ok": False, "kind": "out of resources", "message": f"{type(e).__name__}: {str(e)[:2000]}"}
            return {"ok": False, "kind": "cuda error" if fatal else "error",
                    "message": f"{type(e).__name__}: {str(e)[:2000]}", "restart": fatal}


# -------------------------------------------------- jobs run in the worker

_STATE: BenchState | None = None


def setup(payload: dict[str, Any]) -> dict[str, Any]:
    global _STATE
    _STATE = None
    _STATE = BenchState(payload)
    return {"reference": _STATE.reference is not None, "reference_error": _STATE.reference_error}


def run_config(path: str, config_json: str, check: bool = True, rep_ms: float | None = None) -> dict[str, Any]:
    if _STATE is None:
        return {"ok": False, "kind": "need setup", "message": "the benchmark worker has no state"}
    # Which device ran it, as this worker was told (autotune/devices.py): the parent counts runs per device.
    return dict(_STATE.run_config(path, config_json, check, rep_ms), device=env.autotune_device_index())


def reset() -> bool:
    """Drops the state (the arguments' copies on the GPU) between tuning runs."""
    global _STATE
    _STATE = None
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
    return True
