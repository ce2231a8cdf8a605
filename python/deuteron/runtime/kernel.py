"""Kernel and BoundKernel: the user-facing objects.

``@deuteron.kernel`` wraps a function in a :class:`Kernel`.  Calling it
computes a specialization key from the arguments (dtypes, sizes, strides, ...);
the first call with a new key *binds*: the C++ core parses and analyzes the
kernel for those argument types and derives its config space.  A
:class:`BoundKernel` then picks a config (fixed, default, or autotuned),
generates a Python module for it, loads it, and runs its host function.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import json
import re
import sys
import threading
import types
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import torch

from .. import exc
from .. import language as _language
from .. import torch_integration as _ti
from . import env
from . import repro as _repro
from . import source as _source
from .config import HELION_IGNORED_KEYS, REDUCTION_LOOP_FOR_ALL, Config, helion_other_backend_key
from .config_spec import ConfigSpec
from .core import core
from .device import device_info
from .launcher import out_of_resources
from .modules import load_host_function, write_module
from .settings import KernelSettings, Settings, triton_dot_precision
from .source_lines import add_kernel_line_note
from .standalone import OutputCodeOptions, standalone_module


def _is_constexpr_annotation(annotation: Any) -> bool:
    if annotation is _language.constexpr:
        return True
    if isinstance(annotation, str):
        return annotation.split(".")[-1] == "constexpr"
    return False


_is_compiling = torch.compiler.is_compiling


_SPECIALIZED_DIM = re.compile(r"^(\w+)\.(size|stride)\((\d+)\)$")


def _size_hint(s: Any) -> int:
    """An int for a size or stride; a symbolic one (tracing with dynamic shapes) gives
    its example value without adding a guard."""
    if isinstance(s, torch.SymInt):
        hint = s.node.hint
        return int(hint) if hint is not None else 8192  # unbacked: a typical size
    return int(s)


def _needs_int64(t: torch.Tensor) -> bool:
    """Whether generated code must index this tensor with int64 offsets: its
    largest offset, the masked lanes of a last partial block included (a dim
    of size s is indexed below 2s - 1), leaves int32.  The core decides the
    same way (sema/index_width.cc)."""
    shape, stride = t.shape, t.stride()
    if any(isinstance(s, torch.SymInt) for s in (*shape, *stride)):
        # Traced sizes: their example values, without a guard that would make
        # torch.compile specialize on them.
        shape, stride = [_size_hint(s) for s in shape], [_size_hint(s) for s in stride]
    if 0 in shape:
        return False
    return sum(max(2 * s - 2, 0) * st for s, st in zip(shape, stride)) > 2**31 - 1


def _dim_key(s: Any) -> Any:
    """A size in a dynamic-shape key: 0, 1 (compiled in: a size-1 dim broadcasts) or 2 for
    any larger size (an argument of the code); a traced symbolic one by its symbol and shape
    environment, as Helion keys it (no guard: fresh environments reuse symbol names; a
    tracer specializes sizes 0 and 1 itself)."""
    if isinstance(s, torch.SymInt):
        hint = s.node.hint
        if hint is not None and hint < 2:
            return int(s)  # compiled in as a constant (the core binds on hints): guard on it
        return (id(s.node.shape_env), s.node.expr)
    return s if s < 2 else 2


def _dynamic_key(t: torch.Tensor) -> tuple:
    # Sizes past 1 and strides are runtime values of the code (strides are not in
    # the key, as in Helion), so whether the tensor needs int64 offsets is part of
    # the key: a small and a huge tensor never share int32 code.  Also the key of an
    # explicit index_dtype=torch.int32, whose width is the setting's for every size:
    # binding a tensor too large for it then says so (_check_index_width) instead of
    # reusing int32 code that would overflow.
    return (t.dtype, tuple(map(_dim_key, t.shape)), t.is_cuda, _needs_int64(t))


def _dynamic_key_int64(t: torch.Tensor) -> tuple:
    # An explicit index_dtype=torch.int64: one code serves small and huge tensors.
    return (t.dtype, tuple(map(_dim_key, t.shape)), t.is_cuda)


def _is_unbacked(s: Any) -> bool:
    return isinstance(s, torch.SymInt) and s.node.hint is None


def _has_unbacked_sizes(t: torch.Tensor) -> bool:
    """A tracer's tensor with a size or stride that has no value (an unbacked SymInt)."""
    return type(t) is not torch.Tensor and any(map(_is_unbacked, (*t.shape, *t.stride())))


def _static_key(t: torch.Tensor) -> tuple:
    # int(): static shapes compile sizes and strides in, so a traced symbolic
    # one (torch.compile(dynamic=True)) is specialized: int() guards on its
    # value, and the graph is compiled again for other sizes.  (A SymInt
    # cannot be a dict key either: it is unhashable.)  A size with no value
    # (unbacked) cannot be compiled in: such a call binds with dynamic shapes
    # (Kernel._bind_normalized), keyed as they key it.
    if type(t) is not torch.Tensor and _has_unbacked_sizes(t):
        return ("unbacked", _dynamic_key(t))
    return (t.dtype, tuple(map(int, t.shape)), tuple(map(int, t.stride())), t.is_cuda)


def _same(value: Any) -> Any:
    return value


def _next_power_of_2(n: Any) -> int:
    """Triton's next_power_of_2 for a key (a traced size: its value, guarded on)."""
    n = int(n)
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


# What a key expression from the core may call besides Python's builtins.
_KEY_EXPRESSION_GLOBALS = {"triton": types.SimpleNamespace(next_power_of_2=_next_power_of_2)}


def _key_expression(text: str, params: Sequence[str]) -> Callable[..., Any]:
    """A function of the kernel's arguments computing ``text`` (a Python expression over the
    parameter names, from the core); None where an argument of another kind makes it fail
    (that call then binds with its own key)."""
    fn = eval(f"lambda {', '.join(params)}: {text}", dict(_KEY_EXPRESSION_GLOBALS))  # noqa: S307

    def key(*args: Any) -> Any:
        try:
            return fn(*args)
        except Exception:
            return None

    return key



def _config_summary(config: Config | None) -> str:
    """The keys of a config that decide its size on the GPU, as ``block_sizes=[..], ...``."""
    if config is None:
        return "None"
    data = config.to_dict()
    keys = ("block_sizes", "reduction_loops", "num_warps", "num_stages", "range_num_stages")
    return ", ".join(f"{k}={data[k]!r}" for k in keys if k in data and data[k] not in ([], None))


def _print_compile_warnings(warnings: Sequence[tuple[str, str]], ignored: Sequence[Any]) -> None:
    """The compiler's warnings, printed to stderr as Helion prints its own
    (``WARNING[Name]: message``), except those whose class ``ignore_warnings``
    names (a deuteron.exc class, or its name)."""
    for name, message in dict.fromkeys(warnings):
        cls = getattr(exc, name, None)
        if any((isinstance(i, type) and cls is not None and issubclass(cls, i))
               or (isinstance(i, str) and i.rsplit(".", 1)[-1] == name) for i in ignored):
            continue
        print(f"WARNING[{name}]: {message}", file=sys.stderr)


class _ValueKeys(dict):
    """For a type of argument that is not a plain tensor: the function giving
    the specialization key of such a value, made on first use and kept.

    Most types key by the type alone (ints, floats and bools are runtime
    values); a dtype, a string and an ``hl.constexpr(...)`` by the value
    (all are compiled in); tuples, lists, NamedTuples, dataclasses and dicts by their
    type and each element's key, a tensor element like a tensor argument.
    The generated key function asks this table only for types other than
    int, float, bool and None (_KEYED_BY_TYPE), so those stay cheap on the hot
    path."""

    def __init__(self, tensor_key: Callable[[torch.Tensor], Any]) -> None:
        super().__init__()
        self._tensor_key = tensor_key

    def element(self, value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            key = self._tensor_key(value)
            # A subclass (a tracer's fake tensor) never shares a plain tensor's code.
            return key if type(value) is torch.Tensor else (type(value), key)
        return self[type(value)](value)

    def __missing__(self, cls: type) -> Callable[[Any], Any]:
        element = self.element
        fn: Callable[[Any], Any]
        if cls is _language.constexpr or cls is torch.dtype or cls is str:
            fn = _same
        elif cls in _source.CALLABLE_TYPES:
            fn = _source.callable_key  # its code and the values it reads that are compiled in
        elif cls is functools.partial:
            fn = _source.partial_key  # its function's key and the values it binds
        elif _source.python_call(cls) is not None:
            fn = _source.object_call_key  # its __call__ and the attributes that reads
        elif _source.is_graph_module_type(cls):
            fn = _source.graph_module_key  # its graph's code (every GraphModule has a class of its own)
        elif issubclass(cls, (tuple, list)):  # NamedTuples; tracers' immutable_list too
            def fn(value: Any) -> Any:
                return (cls, tuple(map(element, value)))
        elif dataclasses.is_dataclass(cls):
            names = tuple(f.name for f in dataclasses.fields(cls))

            def fn(value: Any) -> Any:
                return (cls, tuple(element(getattr(value, n)) for n in names))
        elif issubclass(cls, dict):  # tracers pass an immutable_dict subclass
            def fn(value: Any) -> Any:
                return (cls, tuple((k, element(v)) for k, v in value.items()))
        else:
            fn = type
        self[cls] = fn
        return fn


# The common runtime scalars: the generated key tests these first (a set lookup
# is cheaper than _ValueKeys' lookup and call).
_KEYED_BY_TYPE = frozenset({int, float, bool, type(None)})

# One table per way of keying a tensor (static shapes; dynamic with the index width;
# dynamic with an explicit index_dtype=torch.int64), shared by all kernels.
_VALUE_KEYS = {key: _ValueKeys(key) for key in (_static_key, _dynamic_key, _dynamic_key_int64)}


class Kernel:
    """A deuteron kernel (see the module docstring).

    Attributes: ``fn`` (the Python function), ``settings`` (changeable in place:
    ``kernel.settings.static_shapes = False``; see :class:`KernelSettings`),
    ``configs`` (the configs given to the decorator, if any).
    """

    # Lets runtime/source.py recognise a kernel without importing this module (layering).
    __deuteron_kernel__ = True

    def __init__(self, fn: Callable[..., Any], *, config: Config | dict | None = None,
                 configs: Sequence[Config | dict] | None = None, key: Callable[..., Any] | None = None,
                 settings: Settings | None = None, **setting_kwargs: Any) -> None:
        if config is not None and configs is not None:
            raise TypeError("pass either config= or configs=, not both")
        self.fn = fn
        functools.update_wrapper(self, fn)
        # A kernel for another of Helion's back ends (backend="pallas", "cute", ...): defining
        # it is fine (a module may hold kernels for several back ends); binding it is an error.
        self._other_backend: str | None = None
        if setting_kwargs.get("backend", "triton") != "triton":
            self._other_backend = str(setting_kwargs["backend"])
            setting_kwargs = {k: v for k, v in setting_kwargs.items() if k != "backend"}
        self._settings = settings.replace(**setting_kwargs) if settings is not None else Settings(**setting_kwargs)
        self._unset_settings: set[str] = set()  # see KernelSettings.__delattr__
        cfgs = [config] if config is not None else list(configs or [])
        self.configs: list[Config] = [c if isinstance(c, Config) else Config(**c) for c in cfgs]
        self._key_fn = key
        self._signature = inspect.signature(fn)
        self._params = list(self._signature.parameters.values())
        for p in self._params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise exc.CompileError(
                    f"{fn.__code__.co_filename}:{fn.__code__.co_firstlineno}: error: kernels cannot take "
                    f"*{p.name} or **{p.name}; list every argument",
                    fn.__code__.co_filename, fn.__code__.co_firstlineno, 0,
                    f"kernels cannot take *{p.name} or **{p.name}")
        self._constexpr = [_is_constexpr_annotation(p.annotation) for p in self._params]
        # Int parameters the compiled code needs the value of (hl.specialize(n), block_size=n):
        # found when binding (the core reports them), keyed by value from then on.
        self._specialized_ints: frozenset[int] = frozenset()
        # Sizes and strides of tensor parameters compiled in by hl.specialize(x.size(d)) /
        # hl.specialize(x.stride(d)) with dynamic shapes: (position, "size" | "stride", d),
        # keyed by value from then on (static shapes key on every size and stride anyway).
        self._specialized_dims: frozenset[tuple[int, str, int]] = frozenset()
        # Other values the compiled code depends on, as Python expressions over the parameters
        # (a whole dim of runtime size held in one block: "triton.next_power_of_2(max((x.size(1)), 1))"),
        # keyed by value from then on.
        self._key_exprs: tuple[str, ...] = ()
        self._defaults = [p.default for p in self._params]
        self._nparams = len(self._params)
        # Calls with exactly one positional value per parameter skip binding,
        # unless a parameter is keyword-only (then Python would reject them).
        self._fast_arity = self._nparams if all(
            p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in self._params) else -1
        self._make_key_functions()
        self._autograd: tuple | None = None
        kernel = self

        def graph_call(*args: Any, **kwargs: Any) -> Any:
            if kernel._settings.torch_compile_fusion:
                # Helion raises this where PyTorch cannot fuse its kernels into the
                # graph (deuteron's compat.supports_torch_compile_fusion() is False):
                # running the kernel unfused would quietly ignore what was asked.
                raise RuntimeError(
                    f"{kernel.fn.__name__}: torch_compile_fusion=True requires PyTorch nightly build in "
                    f"Helion; deuteron never fuses kernels with the graph's other ops (a kernel is an "
                    f"opaque torch.library operator to torch.compile): disable torch_compile_fusion")
            return kernel._op_call(kernel.normalize_args(args, kwargs))

        # The name graphs print for the call (and that tests look for).
        graph_call.__name__ = graph_call.__qualname__ = f"deuteron_{fn.__name__}"
        graph_call.__module__ = "deuteron"

        # torch.compile / torch.export (strict) put this call in the graph
        # without tracing into it; AOTAutograd then traces it with fake
        # tensors, where it calls the kernel's torch.library operator.
        self._graph_call = torch.compiler.allow_in_graph(graph_call)
        self._bound: dict[Any, BoundKernel] = {}
        self._lock = threading.RLock()
        self._source: _source.KernelSource | None = None

    @property
    def __globals__(self) -> dict[str, Any]:
        # The function's: tools that take a kernel for the function it decorates read
        # its annotations through them (torch.library.custom_op's schema inference).
        return self.fn.__globals__

    # ------------------------------------------------------------ settings
    @property
    def settings(self) -> KernelSettings:
        """The kernel's settings: read them, or change one in place (``kernel.settings.x = v``:
        the kernel then binds again on its next call)."""
        return KernelSettings(lambda: self._settings, self._change_settings, self._unset_settings)

    @settings.setter
    def settings(self, value: Settings | KernelSettings) -> None:
        if isinstance(value, KernelSettings):
            value = value.snapshot()
        if not isinstance(value, Settings):
            raise TypeError(f"kernel.settings must be a deuteron.Settings, got {type(value).__name__}")
        self._unset_settings.clear()
        if value != self._settings:
            self._change_settings(value)

    def _change_settings(self, settings: Settings) -> None:
        # Settings decide how a kernel binds (static shapes, index dtype, interpret
        # mode, ...), how its key is computed and how it picks a config: every
        # specialization made with the old ones is dropped.
        with self._lock:
            self._settings = settings
            self._make_key_functions()
            self._bound.clear()

    # ----------------------------------------------------------- signature
    @property
    def parameters(self) -> tuple[inspect.Parameter, ...]:
        """The kernel function's parameters, in order."""
        return tuple(self._params)

    @property
    def constexpr_flags(self) -> tuple[bool, ...]:
        """For each parameter: whether it is annotated ``hl.constexpr`` (its value is compiled in)."""
        return tuple(self._constexpr)

    @property
    def autograd(self) -> tuple[Callable[..., Any], Callable[..., Any] | None] | None:
        """(backward, setup_context) from :meth:`register_autograd`, or None."""
        return self._autograd

    # -------------------------------------------------------------- calling
    def normalize_args(self, args: tuple, kwargs: dict | None = None) -> tuple:
        """One value per parameter, in order: keyword arguments placed, defaults filled in
        (what a call passes to the generated host function)."""
        if not kwargs and len(args) == self._fast_arity:
            return args
        npositional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in self._params)
        if len(args) > npositional:
            # Helion's wording: Helion programs match it.
            raise TypeError(f"{self.fn.__name__}(): Too many arguments passed to the kernel, "
                            f"expected: {npositional} got: {len(args)}.")
        try:
            bound = self._signature.bind(*args, **(kwargs or {}))
        except TypeError as e:
            raise TypeError(f"{self.fn.__name__}(): {e}") from None
        bound.apply_defaults()
        return tuple(bound.arguments[p.name] for p in self._params)

    def specialization_key(self, args: Sequence[Any]) -> tuple:
        """What makes two calls share compiled code (see docs/api.md)."""
        return self._key_any(*args)

    def _make_key_functions(self) -> None:
        self._key = self._make_key_function(exact=True)
        self._key_any = self._make_key_function(exact=False)

    def _make_key_function(self, exact: bool) -> Callable[..., tuple]:
        # The key is computed on every call, so it is a generated function
        # with one expression per parameter (no loop, no per-call branching
        # on settings).  Static shapes: dtype, sizes, strides of each tensor;
        # dynamic: sizes bucketed to {0, 1, >=2} and which strides are 1.
        # exact=True (the hot path) only treats plain torch.Tensor as a
        # tensor: subclasses (fake / functional tensors of tracers,
        # Parameters) miss the cache and take the slow path, which sorts them out.
        names = [f"a{i}" for i in range(self._nparams)]
        # Other values key through _ValueKeys: by type, or by value for a dtype and a value
        # wrapped in hl.constexpr(...) (like an annotated one), or element by element.
        is_tensor = "type({0}) is _T" if exact else "isinstance({0}, _T)"
        other = "(type({0}) if type({0}) in _plain else _okey[type({0})]({0}))"
        parts = []
        for i, (name, is_const) in enumerate(zip(names, self._constexpr)):
            test = is_tensor.format(name)
            if is_const:
                parts.append(f"(type({name}), {name})")
            elif i in self._specialized_ints:  # an int keys by value; any other value as usual
                parts.append(f"((int, {name}) if type({name}) is int else {other.format(name)})")
            elif self._settings.static_shapes and exact:
                parts.append(f"(({name}.dtype, {name}.shape, {name}.stride(), {name}.is_cuda) "
                             f"if {test} else {other.format(name)})")
            elif self._settings.static_shapes:  # tracers' tensors: sizes may be symbolic
                parts.append(f"(_static({name}) if {test} else {other.format(name)})")
            else:
                parts.append(f"(_dynamic({name}) if {test} else {other.format(name)})")
        for pos, kind, d in sorted(self._specialized_dims):
            name = names[pos]
            value = f"{name}.shape[{d}]" if kind == "size" else f"{name}.stride({d})"
            # int(): a traced size is specialized on, as hl.specialize asks.
            parts.append(f"(int({value}) if {is_tensor.format(name)} and {name}.dim() > {d} else None)")
        exprs = {}
        for i, text in enumerate(self._key_exprs):
            exprs[f"_expr{i}"] = _key_expression(text, [p.name for p in self._params])
            parts.append(f"_expr{i}({', '.join(names)})")
        if self._key_fn is not None:
            parts.append(f"_user_key({', '.join(names)})")
        src = f"def _key({', '.join(names)}):\n    return ({', '.join(parts)},)\n"
        dynamic = _dynamic_key_int64 if self._settings.index_dtype == torch.int64 else _dynamic_key
        tensor_key = _static_key if self._settings.static_shapes else dynamic
        namespace: dict[str, Any] = {"_T": torch.Tensor, "_dynamic": dynamic, "_static": _static_key,
                                     "_user_key": self._key_fn,
                                     "_okey": _VALUE_KEYS[tensor_key],
                                     "_plain": _KEYED_BY_TYPE, **exprs}
        exec(compile(src, f"<deuteron key of {self.fn.__name__}>", "exec"), namespace)
        return namespace["_key"]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _is_compiling():
            return self._graph_call(*args, **kwargs)
        if kwargs or len(args) != self._fast_arity:
            args = self.normalize_args(args, kwargs)
        bound = self._bound.get(self._key(*args))
        if bound is not None:
            run = bound._run
            if run is not None and self._autograd is None:  # the hot path: a compiled config is in place
                try:
                    return run(*args)
                except Exception as e:
                    bound._note_source_line(e)
                    raise
        return self._slow_call(args)

    def _slow_call(self, args: tuple) -> Any:
        if _ti.needs_op(args) or _ti.wants_autograd(self, args):
            return self._op_call(args)
        # A call on the wrong device says so before compiling (bind() alone needs no GPU).
        self._check_backend()
        problem = _device_problem(self.fn.__name__, self.settings.interpret, _tensor_device(args), args)
        if problem is not None:
            raise exc.InputError(problem)
        return self._bind_normalized(args)(*args)

    def _op_call(self, args: tuple) -> Any:
        """The call through the kernel's torch.library operator (tracing, autograd)."""
        bound = self._bind_normalized(args)
        return _ti.call(self, _ti.op_for(bound, bound.config_for_tracing(args), args), args)

    def register_autograd(self, backward: Callable[..., Any], *, setup_context: Callable[..., Any] | None = None) -> None:
        """Makes the kernel differentiable: `backward(ctx, *grads)` as for torch.library.register_autograd.

        The backward may itself call deuteron kernels.  Calls whose inputs
        require grad then go through the kernel's torch.library operator.
        """
        self._autograd = (backward, setup_context)
        for bound in list(self._bound.values()):
            for fn in bound._loaded.values():
                _ti.update_autograd(fn, backward, setup_context)

    def bind(self, args: Sequence[Any], kwargs: dict | None = None) -> BoundKernel:
        """The BoundKernel for these argument types (created and cached on first use)."""
        return self._bind_normalized(self.normalize_args(tuple(args), kwargs))

    def _check_backend(self) -> None:
        if self._other_backend is not None:
            raise exc.InputError(
                f"{self.fn.__name__}: the kernel is for Helion's {self._other_backend!r} back end "
                f"(backend={self._other_backend!r}); deuteron generates Triton code only")

    def _bind_normalized(self, args: tuple) -> BoundKernel:
        self._check_backend()
        key = self.specialization_key(args)
        with self._lock:
            bound = self._bound.get(key)
            if bound is None:
                settings = None
                if self._settings.static_shapes and any(
                        isinstance(t, torch.Tensor) and _has_unbacked_sizes(t) for t in _tensors(args)):
                    # A traced size with no value cannot be compiled in (static shapes): this
                    # specialization takes its sizes at run time, as with static_shapes=False.
                    settings = self.settings.snapshot().replace(static_shapes=False)
                bound = BoundKernel(self, args, settings=settings)
                self._bound[self._key_after_binding(bound, args, key)] = bound
        return bound

    def _key_after_binding(self, bound: BoundKernel, args: tuple, key: tuple, *suffix: Any) -> tuple:
        """``key``, or -- when ``bound``'s code compiled in the value of an int parameter not yet
        keyed by value (hl.specialize(n), block_size=n) -- the key with that parameter's value,
        after making every later key hold it (Helion specializes on such arguments too)."""
        positions = {i for i, p in enumerate(self._params) if p.name in bound.specialized_args}
        dims = set()
        for entry in bound.specialized_args:  # "x.size(1)", "x.stride(0)": hl.specialize of a tensor's
            m = _SPECIALIZED_DIM.match(entry)
            if m:
                pos = next((i for i, p in enumerate(self._params) if p.name == m.group(1)), None)
                if pos is not None:
                    dims.add((pos, m.group(2), int(m.group(3))))
        names = {p.name for p in self._params}
        exprs = tuple(e for e in bound.specialized_args
                      if e not in names and not _SPECIALIZED_DIM.match(e) and e not in self._key_exprs)
        if positions <= self._specialized_ints and dims <= self._specialized_dims and not exprs:
            return key
        self._specialized_ints = self._specialized_ints | positions
        self._specialized_dims = self._specialized_dims | dims
        self._key_exprs = self._key_exprs + exprs
        self._make_key_functions()
        return (*self.specialization_key(args), *suffix)

    def _bind_wide(self, args: tuple) -> BoundKernel:
        """The int64-index specialization for these arguments: the int32 code's
        entry check found a tensor its host code allocates too large for it."""
        self._check_backend()
        if self.settings.index_dtype == torch.int32:
            raise exc.InputTensorNumelExceedsIndexType(
                f"{self.fn.__name__}(): Kernel index_dtype is torch.int32, but a tensor it allocates is too large "
                f"for it to index; use @deuteron.kernel(index_dtype=torch.int64), or leave index_dtype unset")
        key = (*self.specialization_key(args), "int64")
        with self._lock:
            bound = self._bound.get(key)
            if bound is None:
                bound = BoundKernel(self, args, settings=self.settings.snapshot().replace(index_dtype=torch.int64))
                self._bound[self._key_after_binding(bound, args, key, "int64")] = bound
        return bound

    def reset(self) -> None:
        """Forgets every specialization (the next call binds and compiles again)."""
        with self._lock:
            self._bound.clear()

    # ------------------------------------------------------------- details
    def source(self) -> _source.KernelSource:
        if self._source is None:
            self._source = _source.kernel_source(self.fn)
        return self._source

    def arg_specs(self, args: Sequence[Any]) -> list[dict[str, Any]]:
        specs = []
        for p, value, is_const in zip(self._params, args, self._constexpr):
            if isinstance(value, _language.constexpr):
                value, is_const = value.value, True
            if is_const and not isinstance(value, torch.Tensor):
                if value is not None and not isinstance(value, (bool, int, float)):
                    raise exc.InputError(
                        f"{self.fn.__name__}(): argument {p.name!r} is annotated hl.constexpr, so it must be "
                        f"a bool, int, float or None; got {type(value).__name__}")
                specs.append({"name": p.name, "kind": "constexpr", "value": value})
                continue
            if _source.python_call(type(value)) is not None:
                # An object with a Python __call__ (a NamedTuple epilogue, say): a function.
                specs.append(_source.callable_arg_spec(p.name, value))
                continue
            spec = self._value_spec(p.name, value, p.name)
            if spec is not None and spec["kind"] == "int" and -(1 << 63) <= value < (1 << 63):
                # For hl.specialize(n) and block_size=n only: they compile it in and say so
                # (BoundKernel.specialized_args); the code is otherwise the same for every value.
                spec["value"] = int(value)
            if spec is None and _source.is_graph_module(value):
                # A torch.fx GraphModule: its graph, as a function inlined where device code calls it.
                spec = _source.graph_module_arg_spec(p.name, value)
            if spec is None and callable(value) and not isinstance(value, type):
                # A function passed in: a compile-time value, inlined where device code calls it.
                spec = _source.callable_arg_spec(p.name, value)
            if spec is None:
                spec = {"name": p.name, "kind": "other"}
            specs.append(spec)
        return specs

    def _value_spec(self, name: str, value: Any, where: str) -> dict[str, Any] | None:
        """The spec of an argument or of an element of one (``where`` names it in
        errors: ``pair[1]``, ``p.x``); None for a value of no kind the core knows."""
        if isinstance(value, torch.Tensor):
            sizes, strides = list(value.shape), list(value.stride())
            if self._settings.static_shapes and not _has_unbacked_sizes(value):
                # Compiled in: a traced symbolic size is specialized (int() guards), as in the key.
                sizes, strides = [int(x) for x in sizes], [int(x) for x in strides]
            else:
                # Sizes are only hints then: reading a traced symbolic size
                # as an int would make torch.compile specialize on it.
                sizes, strides = [_size_hint(x) for x in sizes], [_size_hint(x) for x in strides]
            return {"name": name, "kind": "tensor", "dtype": str(value.dtype).removeprefix("torch."),
                    "sizes": sizes, "strides": strides, "device": value.device.type}
        if isinstance(value, bool):
            return {"name": name, "kind": "bool"}
        if isinstance(value, int):
            return {"name": name, "kind": "int"}
        if isinstance(value, float):
            return {"name": name, "kind": "float"}
        if value is None:
            return {"name": name, "kind": "none"}
        if isinstance(value, torch.dtype):
            return {"name": name, "kind": "dtype", "dtype": str(value).removeprefix("torch.")}
        if type(value) is str:
            return {"name": name, "kind": "str", "value": value}
        cls = type(value)
        if isinstance(value, (tuple, list)):
            # A NamedTuple has fields; a tracer's immutable_list is a list.
            fields = list(cls._fields) if isinstance(value, tuple) and hasattr(cls, "_fields") else None
            items = [self._element_spec(str(i) if fields is None else fields[i], v,
                                        f"{where}[{i}]" if fields is None else f"{where}.{fields[i]}")
                     for i, v in enumerate(value)]
            kind = "namedtuple" if fields is not None else "tuple" if isinstance(value, tuple) else "list"
            return {"name": name, "kind": kind, "type": cls.__name__, "elements": items}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            items = [self._element_spec(f.name, getattr(value, f.name), f"{where}.{f.name}")
                     for f in dataclasses.fields(value)]
            return {"name": name, "kind": "dataclass", "type": cls.__name__, "elements": items}
        if isinstance(value, dict):
            for k in value:
                if not isinstance(k, str):
                    raise exc.InputError(
                        f"{self.fn.__name__}(): argument {where!r} is a dict with the key {k!r}; a dict "
                        f"argument's keys must be strings")
            items = [self._element_spec(k, v, f"{where}[{k!r}]") for k, v in value.items()]
            return {"name": name, "kind": "dict", "type": "dict", "elements": items}
        return None

    def _element_spec(self, name: str, value: Any, where: str) -> dict[str, Any]:
        spec = self._value_spec(name, value, where)
        if spec is None:
            raise exc.InputError(
                f"{self.fn.__name__}(): argument {where!r} is a {type(value).__name__}; an element of a "
                f"tuple, list, NamedTuple, dataclass or dict argument must be a tensor, int, float, bool, "
                f"None, str, torch.dtype or another such container")
        return spec

    def __repr__(self) -> str:
        return f"<deuteron.Kernel {self.fn.__qualname__}>"

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        # Kernels defined in a class body behave like functions (not bound methods):
        # they are used as `Cls.kernel(...)`.
        return self


def _unwrapping(fn: Callable[..., Any], positions: tuple[int, ...]) -> Callable[..., Any]:
    """``fn`` called with the values of the hl.constexpr(...) arguments at ``positions``."""
    if not positions:
        return fn

    def run(*args: Any) -> Any:
        args = list(args)
        for i in positions:
            if isinstance(args[i], _language.constexpr):
                args[i] = args[i].value
        return fn(*args)

    return run


def _tensors(value: Any) -> Any:
    """The tensors of an argument: itself, or the elements (recursively) of a
    tuple, list, NamedTuple, dataclass or dict argument."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _tensors(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _tensors(getattr(value, f.name))


def _tensor_device(args: Sequence[Any]) -> torch.device | None:
    """The device of the tensor arguments; with none, of the first torch.device
    argument (a kernel that only allocates: ``fn(n, device)``)."""
    device = None
    for a in (t for arg in args for t in _tensors(arg)):
        if isinstance(a, torch.Tensor):
            if device is None:
                device = a.device
            elif a.device != device:
                raise exc.InputError(
                    f"kernel arguments are on different devices ({device} and {a.device}); "
                    f"move them to one device first")
    if device is None:
        device = next((a for a in args if isinstance(a, torch.device)), None)
        if device is not None and device.type == "cuda" and device.index is None and torch.cuda.is_available():
            device = torch.device("cuda", torch.cuda.current_device())
    return device


def _device_problem(name: str, interpret: bool, device: torch.device | None, args: Sequence[Any]) -> str | None:
    """Why a kernel cannot run on these arguments' device (None: it can)."""
    if interpret or env.deuteron_interpret() or env.triton_interpret():
        return None
    if any(_ti.is_tracing_value(a) for a in args):
        return None  # tracing (export, compile) never runs the kernels here
    if device is None or device.type != "cuda":
        where = "no tensor or device arguments" if device is None else f"tensors on {device}"
        return (f"{name}(): deuteron kernels run on CUDA tensors, got {where}; "
                f"set DEUTERON_INTERPRET=1 to run the kernel in PyTorch eager on any device, or "
                f"TRITON_INTERPRET=1 to run the generated Triton code on the CPU")
    return None


# ------------------------------------------------------------ the autotuner
#
# The runtime sits below the autotuner (deuteron.autotune uses BoundKernel's
# public methods) and never imports it: deuteron/__init__.py plugs it in here.


class Autotuner(Protocol):
    """What BoundKernel asks of the autotuner (deuteron.autotune provides both)."""

    def tune(self, bound: BoundKernel, args: Sequence[Any], **kwargs: Any) -> Config: ...

    def cached_config(self, bound: BoundKernel, args: Sequence[Any]) -> Config | None: ...


_autotuner: Autotuner | None = None


def install_autotuner(autotuner: Autotuner) -> Autotuner | None:
    """Makes ``autotuner`` the one BoundKernel.autotune uses; returns the previous one."""
    global _autotuner
    previous, _autotuner = _autotuner, autotuner
    return previous


def _installed_autotuner() -> Autotuner:
    if _autotuner is None:
        raise RuntimeError("no autotuner is installed (deuteron/__init__.py installs deuteron.autotune)")
    return _autotuner


ConfigLike = Config | dict | str | None
"""A config as BoundKernel's methods take it: a Config, a dict of keys, its JSON text,
or None for the default config."""


class BoundKernel:
    """A kernel specialized for one set of argument types.

    ``config_spec`` describes the tunable space; ``default_config()`` is the
    heuristic config; ``autotune(args)`` searches for the best config.  A
    config becomes code in three public steps (the autotuner, export and
    ahead-of-time compilation use them too): ``generate`` (the module's
    text), ``write_module`` (its file under ``module_dir``) and ``load``
    (the loaded host function, launching natively, cached per config).

    Attributes: ``kernel``, ``settings`` (the kernel's, with the environment's
    interpret and print switches applied), ``device``, ``device_info`` (the
    GPU the code is generated for, as the core sees it), ``globals`` (the
    values of the globals and closure variables the kernel names: the
    generated host code runs with them), ``config`` (the config in use, after
    the first call).
    """

    def __init__(self, kernel: Kernel, args: Sequence[Any], *, settings: Settings | None = None) -> None:
        """``settings`` replaces the kernel's (export binds CPU examples in interpret mode);
        the environment's switches apply to either."""
        self.kernel = kernel
        # The environment's switches are read when binding, so they can be set after import.
        self.settings = settings if settings is not None else kernel.settings.snapshot()
        if env.helion_interpret() and env.triton_interpret():
            raise exc.IncompatibleInterpretModes()
        if not self.settings.interpret and env.deuteron_interpret():
            self.settings = self.settings.replace(interpret=True)
        if not self.settings.print_output_code and env.print_output_code():
            self.settings = self.settings.replace(print_output_code=True)
        self._check_index_width(args)
        self.device = _tensor_device(args)
        # Binding for code or inspection needs no GPU; running does (_require_device).
        self._device_error = self._device_problem(self.device, args)
        src = kernel.source()
        info = device_info(self.device)
        self.device_info: dict[str, Any] = info
        index_dtype = self.settings.index_dtype
        if index_dtype is not None:
            index_dtype = str(index_dtype).removeprefix("torch.")
        self._core = core().bind(
            src.text, src.filename, src.first_line, src.name, kernel.arg_specs(args),
            _source.referenced_globals(kernel.fn), static_shapes=self.settings.static_shapes,
            index_dtype=index_dtype, dot_precision=triton_dot_precision(self.settings.dot_precision),
            precision=self.settings.precision, device=info,
            interpret=self.settings.interpret or env.triton_interpret())
        _print_compile_warnings(self._core.warnings(), self.settings.ignore_warnings)
        # Int parameters whose value this code compiled in (see Kernel._key_after_binding).
        self.specialized_args: tuple[str, ...] = tuple(self._core.specialized_args())
        def_line = src.first_line + next((i for i, line in enumerate(src.text.splitlines())
                                          if line.lstrip().startswith(("def ", "async def "))), 0)
        # ConfigErrors start here: a config is written far from its kernel (a decorator,
        # a tuning cache, a test), and its block sizes count this kernel's tile loops.
        self._config_error_prefix = f"{src.filename}:{def_line}: kernel '{src.name}': "
        self.globals: dict[str, Any] = _source.global_values(kernel.fn)
        # The arguments of this first call, as a repro caller writes them (runtime/repro.py).
        self._repro_args = _repro.ReproArguments([p.name for p in kernel.parameters], args)
        # Arguments given as hl.constexpr(value): the host function gets the value.
        self._constexpr_positions = tuple(i for i, a in enumerate(args) if isinstance(a, _language.constexpr))
        self._loaded: dict[str, Callable[..., Any]] = {}  # backend:config JSON -> host function
        self._run: Callable[..., Any] | None = None
        self._host: Callable[..., Any] | None = None  # the host function of the config in use
        self.config: Config | None = None
        self._lock = threading.RLock()

    def _check_index_width(self, args: Sequence[Any]) -> None:
        """An explicit index_dtype=torch.int32 cannot index a tensor of 2**31 or more
        elements: an error naming the setting, not offsets that wrap around."""
        if self.settings.index_dtype != torch.int32:
            return
        for t in (t for arg in args for t in _tensors(arg)):
            if isinstance(t, torch.Tensor) and _needs_int64(t):
                raise exc.InputTensorNumelExceedsIndexType(
                    f"{self.kernel.fn.__name__}(): Kernel index_dtype is {self.settings.index_dtype}, but an input "
                    f"tensor of shape {tuple(t.shape)} is too large for it to index; use "
                    f"@deuteron.kernel(index_dtype=torch.int64), or leave index_dtype unset (deuteron then picks "
                    f"int64 for such tensors)")

    def _device_problem(self, device: torch.device | None, args: Sequence[Any] = ()) -> str | None:
        """Why this specialization cannot run its kernels (None: it can)."""
        return _device_problem(self.kernel.fn.__name__, self.settings.interpret, device, args)

    def _require_device(self) -> None:
        if self._device_error is not None:
            raise exc.InputError(self._device_error)

    # --------------------------------------------------------------- space
    @property
    def config_spec(self) -> ConfigSpec:
        """The config space: a read-only mapping of the core's description, with Helion's
        ConfigSpec methods (``default_config()``, ``spec.block_sizes``, ...)."""
        return ConfigSpec(json.loads(self._core.config_spec()), self.default_config,
                          lambda: json.loads(self._core.tune_spec())["tunables"], self.normalize_config)

    def default_config(self) -> Config:
        return Config.from_json(self._core.default_config())

    @contextlib.contextmanager
    def _config_errors(self) -> Any:
        """Re-raises the core's ConfigErrors starting at the kernel's definition."""
        try:
            yield
        except exc.ConfigError as e:
            if str(e).startswith(self._config_error_prefix):
                raise
            raise type(e)(self._config_error_prefix + str(e)) from None

    def normalize_config(self, config: Config | dict) -> Config:
        """The config with every key filled in; raises ConfigError if it is outside the space."""
        cfg = config if isinstance(config, Config) else Config(**config)
        with self._config_errors():
            return Config.from_json(self._core.normalize(self.fit_config(cfg).to_json()))

    def fit_config(self, config: Config) -> Config:
        """``config`` with Helion's spellings resolved for this kernel, as Helion resolves them:
        ``reduction_loop=X`` applies to every reduction dimension; Helion's Triton keys that
        deuteron has no knob for (``epilogue_subtile``, ...) are dropped (they tune speed
        only); a key of another of Helion's back ends is a ConfigError."""
        odd = [k for k in config if k == REDUCTION_LOOP_FOR_ALL or k in HELION_IGNORED_KEYS
               or helion_other_backend_key(k)]
        if not odd:
            return config
        for key in odd:
            if helion_other_backend_key(key):
                raise exc.ConfigError(
                    f"config key {key!r} belongs to another of Helion's back ends (CuTe, Pallas, AMD or "
                    f"TileIR); deuteron generates Triton code and has no such key")
        data = config.to_dict()
        for key in odd:
            value = data.pop(key)
            if key == REDUCTION_LOOP_FOR_ALL:
                count = len(json.loads(self._core.config_spec())["reduction_loops"])
                data["reduction_loops"] = [value] * max(count, 1)
        return Config(**data)

    # The same as JSON text, as the core gives it: the autotuner names configs by
    # this text (equal text, equal config) and hands the space to the C++ search.
    def default_config_json(self) -> str:
        """The default config as the core writes it (normalized)."""
        return self._core.default_config()

    def normalize_config_json(self, config_json: str) -> str:
        """``config_json`` normalized by the core; raises ConfigError if it is outside the space."""
        with self._config_errors():
            return self._core.normalize(config_json)

    def tune_spec_json(self) -> str:
        """The config space for the C++ search (``deuteron._core.SearchSession``), as JSON."""
        return self._core.tune_spec()

    # ------------------------------------------------------------- codegen
    @property
    def backend(self) -> str:
        """The back end calls use: "reference" (PyTorch eager) in interpret mode, else "triton".

        A kernel holding Triton source of the user's (hl.inline_triton, hl.triton_kernel)
        has no PyTorch form: in interpret mode it runs as "triton" under Triton's
        interpreter (on the CPU, as with TRITON_INTERPRET=1)."""
        if not self.settings.interpret or self._core.runs_triton_source():
            return "triton"
        return "reference"

    @property
    def module_dir(self) -> Path:
        """Where generated modules are written: ``<cache dir>/generated``."""
        return self.settings.resolved_cache_dir() / "generated"

    def generate(self, config: ConfigLike = None, backend: str | None = None) -> str:
        """The generated Python module for ``config``: Triton kernels and host function
        (``backend="triton"``) or the PyTorch-eager program (``"reference"``);
        ``backend`` defaults to :attr:`backend`."""
        config_json = self._config_json(config)
        with self._config_errors():
            if (backend or self.backend) == "reference":
                return self._core.reference_code(config_json)
            return self._core.triton_code(config_json)

    def write_module(self, config: ConfigLike = None, backend: str | None = None) -> Path:
        """The generated module's file under :attr:`module_dir` (written once: named by its hash)."""
        return self._write(self.generate(config, backend))

    def load(self, config: ConfigLike = None, backend: str | None = None) -> Callable[..., Any]:
        """The host function of the generated module for ``config`` (arguments as
        :meth:`Kernel.normalize_args` gives them), launching through the native
        launcher (runtime/modules.py: load_host_function).

        Generated, written, loaded and cached on first use per (backend, config);
        printed to stderr then with ``print_output_code``.  The function carries
        ``deuteron_module`` and ``deuteron_path``.  Code that needs the module with
        another launcher (compile, record) loads ``write_module``'s file itself
        with ``load_host_function``, so that the module this cache holds keeps its own.
        """
        backend = backend or self.backend
        config_json = self._config_json(config)
        key = backend + ":" + config_json
        fn = self._loaded.get(key)
        if fn is not None:
            return fn
        code = self.generate(config_json, backend)
        if self.settings.print_output_code:
            print(code, file=sys.stderr)
        fn = load_host_function(self._write(code), self.globals,
                                interpret_triton=self.settings.interpret and backend == "triton")
        if hasattr(fn.deuteron_module, "_deuteron_wide"):
            fn.deuteron_module._deuteron_wide = self._wide_runner(config_json, backend)
        self._loaded[key] = fn
        return fn

    def _wide_runner(self, config_json: str, backend: str) -> Callable[..., Any]:
        """What int32 code calls when a tensor its host code allocates needs
        int64 offsets (checked on entry, before any launch): the same config
        in the int64 specialization."""
        def run(*args: Any) -> Any:
            return self.kernel._bind_wide(args).load(config_json, backend)(*args)

        return run

    def _implicit_config(self, config: ConfigLike) -> ConfigLike:
        """``config``, or where it is None the config calls use without autotuning, as
        Helion picks it: the one in use, else with ``autotune_effort="none"`` the default
        (unless ``force_autotune`` and the decorator gave configs), else with
        ``force_autotune`` none, else the decorator's only config.  None of these: a
        RuntimeError (the config would come from autotuning: pass one)."""
        if config is not None:
            return config
        if self.config is not None:
            return self.config
        configs = self.kernel.configs
        if self.settings.autotune_effort == "none" and (not configs or self.settings.force_autotune):
            return self.default_config()
        if not self.settings.force_autotune and len(configs) == 1:
            return configs[0]
        raise RuntimeError(
            f"{self.kernel.fn.__name__}: no config provided and no implicit config available (calls would "
            f"autotune): pass one, e.g. bound.to_code(bound.default_config()), or call the kernel first")

    def to_code(self, config: ConfigLike = None, *, options: OutputCodeOptions | None = None,
                emit_repro_caller: bool = False, output_origin_lines: bool | None = None) -> str:
        """The generated module calls run (:attr:`backend`'s) for ``config`` (None: see
        :meth:`_implicit_config`), as Python source.  With
        ``options=OutputCodeOptions(allow_helion_deps=False)`` the module runs without
        deuteron (standalone.py: it launches through Triton's own entry point).
        ``emit_repro_caller=True`` makes it a script that calls the host function once on
        inputs like those the kernel was bound to (repro.py).  ``output_origin_lines`` is
        Helion's; deuteron's modules always have their ``# line N`` comments."""
        if options is not None and options.jax_fn:
            raise exc.InputError(
                f"{self.kernel.fn.__name__}: OutputCodeOptions(jax_fn=True) is for Helion's Pallas back end; "
                f"deuteron generates Triton code")
        return self._code(self._implicit_config(config), self.backend, options, emit_repro_caller)

    def to_triton_code(self, config: ConfigLike = None, *, emit_repro_caller: bool = False,
                       output_origin_lines: bool | None = None) -> str:
        """The Triton module for ``config`` (None: as for :meth:`to_code`), with a repro
        caller as for :meth:`to_code`."""
        return self._code(self._implicit_config(config), "triton", None, emit_repro_caller)

    def _code(self, config: ConfigLike, backend: str, options: OutputCodeOptions | None,
              emit_repro_caller: bool) -> str:
        text = self.generate(config, backend)
        if options is not None and not options.allow_helion_deps:
            text = standalone_module(text, self.globals, self.kernel.fn.__name__)
        if emit_repro_caller:
            # A Triton module's kernels need a GPU, or Triton's interpreter.
            on_gpu = self.device is not None and self.device.type == "cuda"
            text = _repro.repro_module(text, self.kernel.fn.__name__, self._repro_args, self.globals,
                                       interpret_triton=backend == "triton" and not on_gpu)
        return text

    def to_reference_code(self, config: ConfigLike = None) -> str:
        return self.generate(config, "reference")

    def compile_config(self, config: ConfigLike = None, *, backend: str | None = None) -> Callable[..., Any]:
        """A callable running this specialization with one config (arguments as for the kernel).

        It also takes ``_launcher=`` (Helion's): a function called in place of each
        launch as ``_launcher(kernel, grid, *args, num_warps=, num_stages=)``, whose
        result the launch is (``lambda *a, **kw: None`` runs the host code alone: the
        outputs' shapes, with fake tensors too).  The reference back end (interpret
        mode) has no launches: its host code runs the kernels' PyTorch code on the
        tensors given, or allocates the outputs alone when they are fake tensors."""
        fn = self.load(config, backend)
        call = _unwrapping(fn, self._constexpr_positions)
        normalize = self.kernel.normalize_args
        positions = self._constexpr_positions
        custom: list[Callable[..., Any]] = []  # the host function launching through `_launcher`, once loaded
        launcher: list[Callable[..., Any]] = []  # the call's `_launcher`

        def custom_launch(kernel: Any, grid: tuple, *args: Any, num_warps: int = 4, num_stages: int = 1,
                          maxnreg: int | None = None, site: tuple | None = None) -> Any:
            return launcher[-1](kernel, grid, *args, num_warps=num_warps, num_stages=num_stages)

        def with_launcher(launch: Callable[..., Any], args: tuple) -> Any:
            module = fn.deuteron_module
            if module._deuteron_meta["backend"] != "triton":
                # No launches: the eager code on real tensors, the fake implementation on tracers'.
                host = module._deuteron_fake_impl if any(_ti.is_tracing_value(a) for a in args) else fn
                return _unwrapping(host, positions)(*args)
            if not custom:
                custom.append(_unwrapping(load_host_function(fn.deuteron_path, self.globals, custom_launch),
                                          positions))
            launcher.append(launch)
            try:
                return custom[0](*args)
            finally:
                launcher.pop()

        def run(*args: Any, _launcher: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
            if _launcher is not None:
                return with_launcher(_launcher, normalize(args, kwargs))
            self._require_device()  # launching needs CUDA tensors (a _launcher of one's own does not)
            try:
                return call(*normalize(args, kwargs))
            except Exception as e:
                oor = out_of_resources(e)
                if oor is None:
                    add_kernel_line_note(e, fn, self.kernel.fn.__name__)
                    raise
                # The config was asked for by name: said plainly, not retried.
                raise self._resources_error(oor, self._as_config(config) if not isinstance(config, str)
                                            else Config.from_json(config), False) from e

        run.deuteron_module = fn.deuteron_module  # type: ignore[attr-defined]
        run.deuteron_path = fn.deuteron_path  # type: ignore[attr-defined]
        run.host_function = fn  # type: ignore[attr-defined]
        return run

    def _write(self, code: str) -> Path:
        return write_module(code, self.module_dir, self.kernel.fn.__name__)

    def _config_json(self, config: ConfigLike) -> str:
        if isinstance(config, str):
            return config
        return self.fit_config(self._as_config(config)).to_json()

    def _as_config(self, config: Config | dict | None) -> Config:
        if config is None:
            return self.default_config()
        return config if isinstance(config, Config) else Config(**config)

    # ---------------------------------------------------------------- runs
    def _choose_config(self, args: Sequence[Any]) -> Config:
        return self._choose(args)[0]

    def _choose(self, args: Sequence[Any]) -> tuple[Config, bool]:
        """The config of the first call, and whether it is the heuristic default
        (which a smaller config replaces if it does not fit the GPU)."""
        configs = self.kernel.configs
        if len(configs) == 1:
            return configs[0], False
        if self.settings.interpret or env.triton_interpret():
            return (configs[0], False) if configs else (self.default_config(), True)
        if not configs and self.settings.autotune_effort == "none":
            return self.default_config(), True
        return self.autotune(args), False

    def config_for_tracing(self, args: Sequence[Any] | None = None) -> Config:
        """The config used when torch.compile / export trace a call (nothing can be timed then).

        In order: the config this specialization already runs with, the decorator's
        only config, a tuned config from the autotune cache on disk (from an eager
        run of the same kernel and shapes), else the heuristic default.
        """
        if self.config is not None:
            return self.config
        if len(self.kernel.configs) == 1:
            return self.kernel.configs[0]
        if args is not None and not (self.settings.interpret or env.triton_interpret()):
            cfg = _installed_autotuner().cached_config(self, args)
            if cfg is not None:
                return cfg
        if self.kernel.configs:
            return self.kernel.configs[0]
        return self.default_config()

    def autotune(self, args: Sequence[Any], **kwargs: Any) -> Config:
        """Searches the config space (or the decorator's configs) for the fastest correct config."""
        self._require_device()
        return _installed_autotuner().tune(self, args, **kwargs)

    def set_config(self, config: Config | dict) -> None:
        """Uses this config for every later call of this specialization."""
        cfg = self._as_config(config)
        self._host = self.load(cfg)
        self._run = _unwrapping(self._host, self._constexpr_positions)
        self.config = cfg

    def __call__(self, *args: Any) -> Any:
        run = self._run
        if run is None:
            with self._lock:
                if self._run is None:
                    self._require_device()
                    config, is_default = self._choose(args)
                    self.set_config(config)
                    return self._first_call(args, shrink=is_default)
                run = self._run
        try:
            return run(*args)
        except Exception as e:
            self._note_source_line(e)
            raise

    def _note_source_line(self, e: BaseException) -> None:
        """Adds to an exception the kernel's own code raised (interpret mode: PyTorch's
        IndexError for an index past a tensor's end) a note naming the kernel's source
        line (runtime/source_lines.py)."""
        add_kernel_line_note(e, getattr(self, "_host", None), self.kernel.fn.__name__)

    # How many smaller configs the first call with the default config tries when
    # Triton finds that the default does not fit the GPU.
    MAX_SHRINKS = 8

    def _first_call(self, args: Sequence[Any], shrink: bool) -> Any:
        """The first call with the config just set, where Triton compiles and loads its
        kernels.  When Triton finds a kernel needs more of the GPU than it has
        (OutOfResources: shared memory, registers, threads), the heuristic default
        (``shrink``) is replaced by a smaller config (fewer stages, then the largest
        block halved), at most MAX_SHRINKS times, and the call runs again, if
        running again repeats nothing: no kernel had launched yet, or the kernel
        writes no argument in place.  The config chosen is printed once
        (``WARNING[DefaultConfigShrunk]``).  A config the user gave, one that cannot
        shrink, or one that does not fit after the retries is a ConfigOutOfResources
        naming the config and the limit."""
        first: Any = None  # the default config's OutOfResources
        for attempt in range(self.MAX_SHRINKS + 1):
            launched = [0]
            try:
                with self._counting_launches(launched):
                    out = self._run(*args)
            except Exception as e:
                oor = out_of_resources(e)
                if oor is None:
                    self._note_source_line(e)
                    raise
                first = first if first is not None else oor
                smaller = None
                if shrink and attempt < self.MAX_SHRINKS and (launched[0] == 0 or not self._mutates()):
                    smaller = self._smaller_config(self.config)
                if smaller is None:
                    config = self.config
                    self._run = self._host = self.config = None  # the next call tries (and says) it again
                    why = ("" if not shrink or attempt > 0 or launched[0] == 0 else
                           " (not retried with a smaller config: a kernel of this call had already run and "
                           "the kernel writes an argument in place)")
                    raise self._resources_error(oor, config, shrink and attempt > 0, why) from e
                self.set_config(smaller)
                continue
            if first is not None:
                _print_compile_warnings([(
                    "DefaultConfigShrunk",
                    f"{self._config_error_prefix}the default config needs more {getattr(first, 'name', 'resources')} "
                    f"than the GPU has (required {getattr(first, 'required', '?')}, hardware limit "
                    f"{getattr(first, 'limit', '?')}); running with "
                    f"{_config_summary(self.config)}")], self.settings.ignore_warnings)
            return out
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def _counting_launches(self, launched: list[int]) -> Any:
        """Counts the launches of the host function in use that went through (on a
        first call, every launch reaches the module's ``_launch``)."""
        module = getattr(getattr(self, "_host", None), "deuteron_module", None)
        original = getattr(module, "_launch", None)
        if original is None:
            yield
            return

        def counting(*a: Any, **kw: Any) -> Any:
            out = original(*a, **kw)
            launched[0] += 1
            return out

        module._launch = counting
        try:
            yield
        finally:
            module._launch = original

    def _mutates(self) -> bool:
        """Whether the generated host function writes an argument in place."""
        module = getattr(getattr(self, "_host", None), "deuteron_module", None)
        return bool(getattr(module, "_deuteron_meta", {}).get("mutates", True))

    def _smaller_config(self, config: Config | None) -> Config | None:
        """The next config to try when ``config`` does not fit the GPU: one pipeline
        stage fewer while any loop has more than one, else the largest block size
        halved (not below its minimum); None when nothing is left to shrink."""
        old = self.normalize_config(config if config is not None else self.default_config())
        data = old.to_dict()
        stages = [data.get("num_stages", 1)] + [v for v in data.get("range_num_stages", []) if v]
        if max(stages) > 1:
            data["num_stages"] = max(1, data.get("num_stages", 1) - 1)
            data["range_num_stages"] = [max(1, v - 1) if v else v for v in data.get("range_num_stages", [])]
        else:
            blocks = list(data.get("block_sizes", []))
            mins = [max(1, b.get("min", 1)) for b in json.loads(self._core.config_spec())["block_sizes"]]
            shrinkable = [i for i, b in enumerate(blocks) if i < len(mins) and b // 2 >= mins[i]]
            if not shrinkable:
                return None
            i = max(shrinkable, key=lambda j: blocks[j])
            blocks[i] //= 2
            data["block_sizes"] = blocks
        new = self.normalize_config(Config(**data))
        return None if new.to_json() == old.to_json() else new

    def _resources_error(self, oor: Any, config: Config | None, shrunk: bool,
                         why: str = "") -> exc.ConfigOutOfResources:
        name = getattr(oor, "name", "resources")
        required = getattr(oor, "required", 0)
        limit = getattr(oor, "limit", 0)
        cfg = config.to_json() if config is not None else ""
        what = ("the default config (and the smaller ones deuteron tried, down to" if shrunk else "the config (")
        return exc.ConfigOutOfResources(
            f"{self._config_error_prefix}{what} {_config_summary(config)}) needs more {name} than the GPU has: "
            f"required {required}, hardware limit {limit}{why}. Give smaller block_sizes or fewer num_stages, "
            f"or autotune (the autotuner skips configs that do not fit).\nconfig: {cfg}",
            config=cfg, resource=str(name), required=int(required or 0), limit=int(limit or 0))

    def run_ref(self, *args: Any) -> Any:
        """Runs this specialization once in PyTorch eager (the reference back end, as
        ``DEUTERON_INTERPRET=1`` runs kernels), with the config in use, else the
        default; Helion's ``BoundKernel.run_ref``.  Random numbers are the generated
        Triton code's, bit for bit, for the same torch seed."""
        return self.compile_config(self.config, backend="reference")(*args)

    # ---------------------------------------------------------------- debug
    def dump_ast(self) -> str:
        return self._core.dump_ast()

    def dump_ir(self, config: Config | dict | None = None, stage: str | None = None) -> str:
        if stage is None:
            return self._core.dump_ir()
        return self._core.dump_ir_after(self._as_config(config).to_json(), stage)
