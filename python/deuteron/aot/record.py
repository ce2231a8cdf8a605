"""Recording what a kernel's host function launches, for export to C++.

The generated host function of a specialization is plain Python: it allocates
outputs, computes grids and calls ``_launch(kernel, grid, *args, ...)`` once
per device loop.  Export keeps only the launches: the C++ caller does the
host work (allocations) itself and passes every tensor the launches touch.

:func:`record_specialization` runs the host function on example arguments
(CPU tensors are fine: nothing is launched) with a launcher that records
each launch, and works out where each kernel parameter comes from:

* a tensor parameter is a user input (or a view of one: same storage, a
  fixed byte offset from it), or memory the host code allocated, which
  becomes an extra C++ parameter named after the host variable that holds it
  (``out``; the returned tensors first);
* a scalar parameter is a constant of the specialization (sizes, strides,
  block sizes...), or one of the user's scalar arguments passed through.
  Which: the host function runs again with each scalar argument changed; a
  parameter that follows the change and nothing else moving means "passed
  through" (any value works at run time), anything else that moves means the
  specialization is only valid for the example's value.

Host operations other than allocations and views (``torch.zeros``, copies,
``.item()``...) are not exported; they are listed in ``host_ops`` so that the
generated header can tell the C++ caller what to do before calling.
"""

from __future__ import annotations

import json
import math
import os
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch
from torch.overrides import TorchFunctionMode

from ..exc import DeuteronError
from ..runtime import env
from ..runtime.aot import TRITON_TYPES
from ..runtime.config import Config
from ..runtime.kernel import BoundKernel
from ..runtime.modules import load_host_function


class ExportError(DeuteronError):
    """A kernel cannot be exported as asked (the message says why and what to do instead)."""


class ExportWarning(UserWarning):
    """Something the C++ caller must know about an exported kernel (host code that is not exported)."""


DTYPE_NAMES = {
    torch.bool: "bool", torch.uint8: "uint8", torch.int8: "int8", torch.int16: "int16", torch.int32: "int32",
    torch.int64: "int64", torch.float16: "float16", torch.bfloat16: "bfloat16", torch.float32: "float32",
    torch.float64: "float64", torch.float8_e4m3fn: "float8_e4m3fn", torch.float8_e5m2: "float8_e5m2",
}
DTYPES_BY_NAME = {v: k for k, v in DTYPE_NAMES.items()}

# Allocations whose memory the C++ caller provides instead.
_ALLOCATIONS = {"empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided"}
# Calls that read tensor data on the host: their results are baked into the export.
_DATA_READS = {"item", "tolist", "__bool__", "__int__", "__float__", "__index__", "cpu", "numpy", "__array__",
               "__format__", "__repr__"}
# In-place operators (`x += 1` on the host).
_IN_PLACE_OPERATORS = {"__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__", "__ipow__",
                       "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__", "__imatmul__", "__setitem__"}
# Calls that neither touch data nor make new memory, whatever they return.
_BENIGN = {"__get__", "size", "stride", "dim", "numel", "ndimension", "nelement", "data_ptr", "storage_offset",
           "element_size", "is_contiguous", "untyped_storage", "get_device", "__len__", "is_floating_point",
           "is_complex", "promote_types", "result_type", "can_cast", "__hash__", "__eq__", "__ne__"}


def dtype_name(dtype: torch.dtype) -> str:
    try:
        return DTYPE_NAMES[dtype]
    except KeyError:
        raise ExportError(f"tensors of dtype {dtype} cannot be exported to C++ "
                          f"(supported: {', '.join(DTYPE_NAMES.values())})") from None


# ------------------------------------------------------------------ results
@dataclass
class TensorParam:
    """A tensor argument of the exported C++ function, as this specialization expects it."""

    name: str
    role: str                    # "input" (a kernel argument), "output" (returned), "buffer" (other host memory)
    dtype: str
    sizes: tuple[int, ...]
    strides: tuple[int, ...]     # in elements
    arg_index: int | None = None  # position among the kernel's Python arguments (inputs)
    origin: str = "torch.empty"  # how host code made it (outputs, buffers)


@dataclass
class ScalarParam:
    """A scalar argument of the exported C++ function."""

    name: str
    kind: str          # "int", "float", "bool"
    arg_index: int
    value: Any         # the example's value
    mode: str          # "runtime": passed to kernels as given; "exact": only the example's value;
                       # "unused": no launch depends on it
    constexpr: bool = False


@dataclass
class LaunchParam:
    """Where one (non-constexpr) kernel parameter's value comes from."""

    type: str                   # Triton's type: "*bf16", "i32", "i64", "fp32", "i1"
    kind: str                   # "tensor", "scalar" (a C++ scalar argument), "const"
    source: str | None = None   # the C++ argument's name (tensor, scalar)
    offset: int = 0             # bytes from the argument's data pointer (tensor)
    aligned: bool = False       # the compiled kernel assumes a 16-byte aligned pointer (tensor)
    index: int = 0              # position among the Triton function's parameters (constexprs included)
    value: Any = None           # the value (const)


@dataclass
class RecordedLaunch:
    jit: Any = field(repr=False)  # the @triton.jit function
    kernel_name: str
    grid: tuple[int, int, int]
    num_warps: int
    num_stages: int
    maxnreg: int | None
    args: tuple = field(repr=False)  # the example's argument values (for compiling)
    params: list[LaunchParam] = field(default_factory=list)  # non-constexpr parameters, in order
    compiled: Any = field(default=None, repr=False)  # Triton CompiledKernel, set by compile_launches


@dataclass
class Specialization:
    """One exported specialization of one kernel function."""

    function: str                     # the C++ function's name
    kernel: Any = field(repr=False)   # deuteron Kernel
    config: Config
    params: list[TensorParam | ScalarParam]  # the C++ arguments, in order (before the stream)
    launches: list[RecordedLaunch]
    host_ops: list[str]               # host work not exported (for the C++ caller)
    source: str                       # "file.py:line"

    def tensor(self, name: str) -> TensorParam:
        for p in self.params:
            if isinstance(p, TensorParam) and p.name == name:
                return p
        raise KeyError(name)


# ------------------------------------------------------------------ helpers
def _flatten(value: Any) -> list[Any]:
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _flatten(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flatten(v)]
    return [value]


def _storage_key(t: torch.Tensor) -> int:
    return t.untyped_storage().data_ptr()


def _storage_range(t: torch.Tensor) -> tuple[int, int]:
    s = t.untyped_storage()
    return s.data_ptr(), s.data_ptr() + s.nbytes()


class _HostOpLog(TorchFunctionMode):
    """Watches the host function's torch calls: allocations, and host work that export leaves out."""

    def __init__(self) -> None:
        super().__init__()
        self.allocated: dict[int, str] = {}   # storage -> how it was made ("torch.empty_like", ...)
        self.effects: list[tuple[str, list[torch.Tensor]]] = []  # (description, tensors written)
        self.data_reads: list[str] = []

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        name = getattr(func, "__name__", "") or ""
        if name in _BENIGN:
            return result
        qual = f"torch.{name}" if getattr(func, "__module__", None) == "torch" else f"Tensor.{name}"
        if name in _DATA_READS:
            self.data_reads.append(qual)
            return result
        inputs = [a for a in _flatten(list(args) + list(kwargs.values())) if isinstance(a, torch.Tensor)]
        outputs = [r for r in _flatten(result) if isinstance(r, torch.Tensor)]
        if name in _ALLOCATIONS:
            for r in outputs:
                self.allocated.setdefault(_storage_key(r), qual)
            return result
        in_place = name in _IN_PLACE_OPERATORS or (name.endswith("_") and not name.startswith("__"))
        if in_place:
            self.effects.append((qual, inputs[:1]))
            return result
        written = [t for t in _flatten(kwargs.get("out")) if isinstance(t, torch.Tensor)]
        if written:  # torch.add(a, b, out=c)
            self.effects.append((qual, written))
            return result
        input_storages = {_storage_key(t) for t in inputs if t.untyped_storage().nbytes()}
        fresh = [r for r in outputs if _storage_key(r) not in input_storages]
        if fresh:  # new memory filled by host code (torch.zeros, a copy, arithmetic ...)
            for r in fresh:
                self.allocated.setdefault(_storage_key(r), qual)
            self.effects.append((qual, fresh))
        return result


@contextmanager
def _capture_locals(code: Any) -> Iterator[dict[str, Any]]:
    """The local variables of the (outermost) call of `code` when it returns."""
    captured: dict[str, Any] = {}
    previous = sys.getprofile()

    def profiler(frame: Any, event: str, arg: Any) -> None:
        if event == "return" and frame.f_code is code and not captured:
            captured.update(frame.f_locals)

    sys.setprofile(profiler)
    try:
        yield captured
    finally:
        sys.setprofile(previous)


def _recording_launcher(out: list[RecordedLaunch]) -> Any:
    def launch(kernel: Any, grid: tuple, *args: Any, num_warps: int = 4, num_stages: int = 1,
               maxnreg: int | None = None, site: tuple | None = None) -> None:
        if not hasattr(kernel, "params"):
            raise ExportError("export needs Triton's JIT functions: unset TRITON_INTERPRET")
        g = tuple(int(v) for v in grid)
        if not 1 <= len(g) <= 3:
            raise ExportError(f"a launch grid must have 1 to 3 dimensions, not {len(g)}")
        g = g + (1,) * (3 - len(g))
        fn = getattr(kernel, "fn", kernel)
        out.append(RecordedLaunch(kernel, fn.__name__, g, int(num_warps), int(num_stages), maxnreg, tuple(args)))

    return launch


@dataclass
class _Run:
    launches: list[RecordedLaunch]
    result: Any
    locals: dict[str, Any]
    log: _HostOpLog
    error: BaseException | None


def _run_host(bound: Any, path: Path, args: tuple) -> _Run:
    """Runs the host function of the module at ``path`` (loaded afresh) on ``args``, recording its launches."""
    launches: list[RecordedLaunch] = []
    fn = load_host_function(path, bound.globals, launch=_recording_launcher(launches))
    log = _HostOpLog()
    result = None
    error: BaseException | None = None
    with torch.no_grad(), _capture_locals(fn.__code__) as frame_locals, log:
        try:
            result = fn(*args)
        except ExportError:
            raise
        except Exception as e:  # host code after the launches may need real data
            error = e
    return _Run(launches, result, dict(frame_locals), log, error)


def _perturbed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 17 if value < 2**31 - 100 else value - 17
    if isinstance(value, float):
        return value * 1.75 + 0.3125 if math.isfinite(value) else 0.5
    return value


# ------------------------------------------------------------------ mapping
class _Mapper:
    """Maps the tensors and values of one run's launches onto the C++ arguments."""

    def __init__(self, kernel: Any, args: tuple, run: _Run) -> None:
        self.kernel = kernel
        self.args = args
        self.run = run
        self.params: list[TensorParam | ScalarParam] = []
        self.inputs: list[tuple[torch.Tensor, TensorParam]] = []  # user tensors
        self.buffers: dict[int, tuple[torch.Tensor, TensorParam]] = {}  # storage -> canonical view, param
        self.scalar_params: list[ScalarParam] = []
        names = [p.name for p in kernel.parameters]
        for i, (name, value, is_const) in enumerate(zip(names, args, kernel.constexpr_flags)):
            if isinstance(value, torch.Tensor):
                tp = TensorParam(name, "input", dtype_name(value.dtype), tuple(value.shape), tuple(value.stride()),
                                 arg_index=i, origin="argument")
                self.inputs.append((value, tp))
                self.params.append(tp)
            elif isinstance(value, (bool, int, float)):
                kind = "bool" if isinstance(value, bool) else "int" if isinstance(value, int) else "float"
                sp = ScalarParam(name, kind, i, value, "exact" if is_const else "unused", constexpr=is_const)
                self.scalar_params.append(sp)
                self.params.append(sp)
            elif value is None:
                continue  # no C++ argument
            else:
                raise ExportError(f"{kernel.fn.__name__}(): argument {name!r} is a {type(value).__name__}; "
                                  f"exported kernels take tensors, ints, floats, bools and None")
        for i, (a, ta) in enumerate(self.inputs):
            for b, tb in self.inputs[i + 1:]:
                if a.untyped_storage().nbytes() and _storage_key(a) == _storage_key(b):
                    raise ExportError(
                        f"{kernel.fn.__name__}(): the example arguments {ta.name!r} and {tb.name!r} share memory, "
                        f"so their launches cannot be told apart; pass distinct tensors")
        self._collect_buffers()

    # Host memory that launches use and that is not a user input becomes a C++ argument.
    def _input_for(self, t: torch.Tensor) -> tuple[torch.Tensor, TensorParam] | None:
        for value, tp in self.inputs:
            if value is t:
                return value, tp
        ptr = t.data_ptr()
        for value, tp in self.inputs:
            lo, hi = _storage_range(value)
            if value.untyped_storage().nbytes() and lo <= ptr < hi and _storage_key(value) == _storage_key(t):
                return value, tp
        return None

    def _collect_buffers(self) -> None:
        run = self.run
        used: dict[int, list[torch.Tensor]] = {}
        for launch in run.launches:
            for v in launch.args:
                if isinstance(v, torch.Tensor) and self._input_for(v) is None:
                    used.setdefault(_storage_key(v), []).append(v)
        returned = [r for r in _flatten(run.result) if isinstance(r, torch.Tensor)]
        taken = {p.name for p in self.params}
        order: list[tuple[int, str, torch.Tensor]] = []  # storage, role, canonical view
        for r in returned:
            key = _storage_key(r)
            if key in used and all(key != k for k, _, _ in order):
                order.append((key, "output", r))
        for key, views in used.items():
            if all(key != k for k, _, _ in order):
                order.append((key, "buffer", None))
        local_names = {}
        for lname, lvalue in run.locals.items():
            if isinstance(lvalue, torch.Tensor) and not lname.startswith("_"):
                local_names.setdefault(_storage_key(lvalue), []).append((lname, lvalue))
        for n, (key, role, view) in enumerate(order):
            candidates = local_names.get(key, [])
            name = None
            if view is not None:
                name = next((ln for ln, lv in candidates if lv is view), None)
            if view is None and candidates:
                # The local that covers the most of the storage (the allocation itself, not a view).
                name, view = max(candidates, key=lambda c: (c[1].numel(), -c[1].storage_offset()))
            if view is None:  # nothing names it: a flat view of the whole allocation
                first = used[key][0]
                elems = first.untyped_storage().nbytes() // first.element_size()
                view = torch.empty(0, dtype=first.dtype).set_(first.untyped_storage(), 0, (elems,), (1,))
            if name is None:
                name = "out" if role == "output" else "buffer"
            name = _unique(_c_identifier(name), taken)
            taken.add(name)
            origin = self.run.log.allocated.get(key, "host code")
            tp = TensorParam(name, role, dtype_name(view.dtype), tuple(view.shape), tuple(view.stride()),
                             origin=origin)
            self.buffers[key] = (view, tp)
            self.params.append(tp)

    def tensor_source(self, t: torch.Tensor) -> tuple[TensorParam, int]:
        found = self._input_for(t)
        if found is None:
            found = self.buffers[_storage_key(t)]
        base, tp = found
        return tp, t.data_ptr() - base.data_ptr()



def _describe(run: _Run, inputs: list[tuple[torch.Tensor, TensorParam]]) -> list[tuple]:
    """A description of a run's launches that does not depend on addresses, to compare
    runs (the scalar probes): tensors are named by the input they view, or by the order
    in which host-allocated memory first appears, plus their byte offset."""
    storages: dict[int, int] = {}

    def tensor_id(t: torch.Tensor) -> tuple:
        for value, tp in inputs:
            if value is t or (_storage_key(value) == _storage_key(t) and value.untyped_storage().nbytes()):
                return (tp.name, t.data_ptr() - value.data_ptr())
        key = _storage_key(t)
        return (f"#{storages.setdefault(key, len(storages))}", t.data_ptr() - key)

    out: list[tuple] = []
    for launch in run.launches:
        desc = []
        for param, v in zip(launch.jit.params, launch.args):
            if isinstance(v, torch.Tensor):
                desc.append(("tensor",) + tensor_id(v) + (str(v.dtype), tuple(v.shape), tuple(v.stride())))
            else:
                desc.append(("value", bool(param.is_constexpr), type(v).__name__, v))
        out.append((launch.kernel_name, launch.grid, launch.num_warps, launch.num_stages, tuple(desc)))
    returned = tuple((str(r.dtype), tuple(r.shape), tuple(r.stride()))
                     for r in _flatten(run.result) if isinstance(r, torch.Tensor))
    return out + [("returned", returned)]


def _c_identifier(name: str) -> str:
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "arg"
    if out[0].isdigit():
        out = "_" + out
    return out + "_" if out in _CPP_KEYWORDS else out


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    i = 1
    while f"{name}{i}" in taken:
        i += 1
    return f"{name}{i}"


_CPP_KEYWORDS = {
    "alignas", "alignof", "and", "asm", "auto", "bool", "break", "case", "catch", "char", "class", "const",
    "constexpr", "continue", "default", "delete", "do", "double", "else", "enum", "explicit", "export", "extern",
    "false", "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new",
    "noexcept", "not", "nullptr", "operator", "or", "private", "protected", "public", "register", "return",
    "short", "signed", "sizeof", "static", "struct", "switch", "template", "this", "throw", "true", "try",
    "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual", "void", "volatile", "while", "xor",
    # names the generated code uses next to the user's arguments
    "stream", "scratch", "Tensor", "Status", "CUstream", "CUdeviceptr",
}


# ------------------------------------------------------------------ entry
def _bind(kernel: Any, args: tuple) -> BoundKernel:
    """A BoundKernel for the example arguments, not cached in the kernel.

    CPU tensors bind in interpret mode (the Triton code generated for them is
    the H100's, see runtime/device.py)."""
    on_cpu = not any(isinstance(a, torch.Tensor) and a.is_cuda for a in args)
    return BoundKernel(kernel, args, settings=kernel.settings.replace(interpret=True) if on_cpu else None)


def resolve_config(kernel: Any, bound: Any, args: tuple, config: Any) -> Config:
    """The config to export: the given one, "autotune" (tuned on the GPU, or the tuning cache's),
    the decorator's single config=, else the default config."""
    if isinstance(config, str):
        if config == "default":
            return bound.default_config()
        if config == "autotune":
            if not any(isinstance(a, torch.Tensor) and a.is_cuda for a in args):
                raise ExportError(f"{kernel.fn.__name__}: config='autotune' needs CUDA example tensors "
                                  f"(tuning runs the kernel); pass a Config, or export on a GPU machine")
            return bound.normalize_config(bound.autotune(args))
        config = json.loads(config)
    if config is None:
        if len(kernel.configs) == 1:
            return bound.normalize_config(kernel.configs[0])
        return bound.default_config()
    return bound.normalize_config(config if isinstance(config, Config) else Config(**dict(config)))


def record_specialization(kernel: Any, args: Sequence[Any], config: Any = None, function: str | None = None,
                          probe_scalars: bool = True) -> Specialization:
    """Runs the host function of `kernel` for `args` and `config` with a recording
    launcher (nothing is compiled or launched) and maps every launch parameter
    onto the exported C++ function's arguments."""
    if env.triton_interpret():
        raise ExportError("export compiles real Triton kernels: unset TRITON_INTERPRET")
    args = kernel.normalize_args(tuple(args))
    for a in args:
        if isinstance(a, torch.Tensor) and a.device.type not in ("cpu", "cuda"):
            raise ExportError(f"{kernel.fn.__name__}: example tensors must be CPU or CUDA tensors, not {a.device}")
    bound = _bind(kernel, args)
    cfg = resolve_config(kernel, bound, args, config)
    path = bound.write_module(cfg, "triton")

    def run_with(values: tuple) -> _Run:
        return _run_host(bound, path, values)

    run = run_with(args)
    name = kernel.fn.__name__
    if not run.launches:
        if run.error is not None:
            raise ExportError(f"{name}: its host code failed before any launch: "
                              f"{type(run.error).__name__}: {run.error}") from run.error
        raise ExportError(f"{name}: its host code launches no kernel for these arguments; nothing to export")
    if run.error is not None:
        warnings.warn(f"{name}: host code after the launches failed on the example arguments "
                      f"({type(run.error).__name__}: {run.error}); the launches were recorded", ExportWarning,
                      stacklevel=3)
    mapper = _Mapper(kernel, args, run)
    base = _describe(run, mapper.inputs)

    # Which scalar arguments reach kernels unchanged (see the module docstring)?
    runtime_positions: dict[tuple[int, int], ScalarParam] = {}
    for sp in mapper.scalar_params:
        if sp.constexpr:
            continue
        if not probe_scalars:
            sp.mode = "exact"
            continue
        new_value = _perturbed(sp.value)
        changed = list(args)
        changed[sp.arg_index] = new_value
        try:
            probe = run_with(tuple(changed))
            probe_desc = _describe(probe, [(changed[tp.arg_index], tp) for _v, tp in mapper.inputs])
        except Exception:
            probe_desc = None
        if probe_desc is None or len(probe_desc) != len(base):
            sp.mode = "exact"
            continue
        positions = []
        structural = False
        for li, (a, b) in enumerate(zip(base, probe_desc)):
            if a == b:
                continue
            if a[0] == "returned" or a[:4] != b[:4] or len(a[4]) != len(b[4]):
                structural = True
                break
            for pi, (da, db) in enumerate(zip(a[4], b[4])):
                if da == db:
                    continue
                if (da[0] == "value" and db[0] == "value" and not da[1] and da[3] == sp.value and db[3] == new_value
                        and type(da[3]) is type(sp.value) and type(db[3]) is type(new_value)):
                    positions.append((li, pi))
                else:
                    structural = True
                    break
            if structural:
                break
        if structural:
            sp.mode = "exact"
        elif positions:
            sp.mode = "runtime"
            for pos in positions:
                runtime_positions[pos] = sp
        else:
            sp.mode = "unused"

    # Launch parameters.
    for li, launch in enumerate(run.launches):
        for pi, (param, v) in enumerate(zip(launch.jit.params, launch.args)):
            if param.is_constexpr or v is None:
                continue
            if isinstance(v, torch.Tensor):
                tp, off = mapper.tensor_source(v)
                launch.params.append(LaunchParam("*" + _triton_type(v.dtype), "tensor", tp.name, off,
                                                 aligned=v.data_ptr() % 16 == 0, index=pi))
                continue
            ttype = _scalar_type(v)
            sp = runtime_positions.get((li, pi))
            if sp is not None:
                launch.params.append(LaunchParam(ttype, "scalar", sp.name, index=pi))
            else:
                launch.params.append(LaunchParam(ttype, "const", value=v, index=pi))
        if len(launch.args) != len(launch.jit.params):
            raise ExportError(f"{name}: launch of {launch.kernel_name} passes {len(launch.args)} arguments for "
                              f"{len(launch.jit.params)} parameters")

    host_ops = _host_ops(run, mapper)
    for op in host_ops:
        warnings.warn(f"{name}: {op}", ExportWarning, stacklevel=3)
    src = kernel.source()
    return Specialization(function=function or name, kernel=kernel, config=cfg, params=mapper.params,
                          launches=run.launches, host_ops=host_ops,
                          source=f"{os.path.basename(src.filename)}:{src.first_line}")


def _host_ops(run: _Run, mapper: _Mapper) -> list[str]:
    notes: list[str] = []
    by_storage = {key: tp for key, (_view, tp) in mapper.buffers.items()}
    for value, tp in mapper.inputs:
        by_storage.setdefault(_storage_key(value), tp)
    for desc, tensors in run.log.effects:
        touched = sorted({by_storage[_storage_key(t)].name for t in tensors if _storage_key(t) in by_storage})
        if touched:
            notes.append(f"host code writes {', '.join(touched)} with {desc}, which is not exported: the C++ "
                         f"caller must do the same (the function only launches the kernels)")
        else:
            returned = {_storage_key(r) for r in _flatten(run.result) if isinstance(r, torch.Tensor)}
            if any(_storage_key(t) in returned for t in tensors):
                notes.append(f"host code computes a returned tensor with {desc}, which is not exported (the "
                             f"function only launches the kernels)")
    if run.log.data_reads:
        notes.append(f"host code reads tensor data ({', '.join(sorted(set(run.log.data_reads)))}); the values of "
                     f"the example arguments are baked into the export")
    return notes


def _triton_type(dtype: torch.dtype) -> str:
    try:
        return TRITON_TYPES[dtype]
    except KeyError:
        raise ExportError(f"tensors of dtype {dtype} cannot be passed to exported kernels") from None


def _scalar_type(value: Any) -> str:
    if isinstance(value, bool):
        return "i1"
    if isinstance(value, int):
        return "i32" if -(2**31) <= value < 2**31 else "i64"
    if isinstance(value, float):
        return "fp32"
    raise ExportError(f"a kernel argument of type {type(value).__name__} cannot be exported")
