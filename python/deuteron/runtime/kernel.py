"""Kernel and BoundKernel: the user-facing objects.

``@deuteron.kernel`` wraps a function in a :class:`Kernel`.  Calling it
computes a specialization key from the arguments (dtypes, sizes, strides, ...);
the first call with a new key *binds*: the C++ core parses and analyzes the
kernel for those argument types and derives its config space.  A
:class:`BoundKernel` then picks a config (fixed, default, or autotuned),
generates a Python module for it, loads it, and runs its host function.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from .. import exc
from .. import language as _language
from . import source as _source
from .config import Config
from .device import device_info, device_key
from .modules import load_module, write_module
from .settings import Settings

_core_module = None


def core():
    """The C++ extension, imported on first use (with a clear error if it is missing)."""
    global _core_module
    if _core_module is None:
        try:
            from .. import _core  # type: ignore[attr-defined]
        except ImportError as e:  # pragma: no cover - only without a build
            raise ImportError(
                "deuteron's C++ core (deuteron._core) is not built; install the package with "
                "`pip install .` (see README.md)"
            ) from e
        _core.set_error_types(exc.CompileError, exc.ConfigError, exc.InternalCompilerError)
        _core_module = _core
    return _core_module


def _is_constexpr_annotation(annotation: Any) -> bool:
    if annotation is _language.constexpr:
        return True
    if isinstance(annotation, str):
        return annotation.split(".")[-1] == "constexpr"
    return False


_is_compiling = torch.compiler.is_compiling


def _bucket(n: int) -> int:
    return n if n < 2 else 2


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


def _dynamic_key(t: torch.Tensor) -> tuple:
    # Sizes are bucketed, so whether the tensor needs int64 offsets is part of
    # the key: a small and a huge tensor never share int32 code.
    return (t.dtype, tuple(_bucket(s) for s in t.shape), tuple(s == 1 for s in t.stride()), t.is_cuda,
            _needs_int64(t))


class Kernel:
    """A deuteron kernel (see the module docstring).

    Attributes: ``fn`` (the Python function), ``settings``, ``configs`` (the
    configs given to the decorator, if any).
    """

    def __init__(self, fn: Callable[..., Any], *, config: Config | dict | None = None,
                 configs: Sequence[Config | dict] | None = None, key: Callable[..., Any] | None = None,
                 settings: Settings | None = None, **setting_kwargs: Any) -> None:
        if config is not None and configs is not None:
            raise TypeError("pass either config= or configs=, not both")
        self.fn = fn
        functools.update_wrapper(self, fn)
        self.settings = settings.replace(**setting_kwargs) if settings is not None else Settings(**setting_kwargs)
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
        self._defaults = [p.default for p in self._params]
        self._nparams = len(self._params)
        # Calls with exactly one positional value per parameter skip binding,
        # unless a parameter is keyword-only (then Python would reject them).
        self._fast_arity = self._nparams if all(
            p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in self._params) else -1
        self._key = self._make_key_function(exact=True)
        self._key_any = self._make_key_function(exact=False)
        self._autograd: tuple | None = None
        kernel = self

        def graph_call(*args: Any, **kwargs: Any) -> Any:
            return kernel._op_call(kernel._normalize_args(args, kwargs))

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

    # -------------------------------------------------------------- calling
    def _normalize_args(self, args: tuple, kwargs: dict) -> tuple:
        if not kwargs and len(args) == self._fast_arity:
            return args
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{self.fn.__name__}(): {e}") from None
        bound.apply_defaults()
        return tuple(bound.arguments[p.name] for p in self._params)

    def specialization_key(self, args: Sequence[Any]) -> tuple:
        """What makes two calls share compiled code (see docs/api.md)."""
        return self._key_any(*args)

    def _make_key_function(self, exact: bool) -> Callable[..., tuple]:
        # The key is computed on every call, so it is a generated function
        # with one expression per parameter (no loop, no per-call branching
        # on settings).  Static shapes: dtype, sizes, strides of each tensor;
        # dynamic: sizes bucketed to {0, 1, >=2} and which strides are 1.
        # exact=True (the hot path) only treats plain torch.Tensor as a
        # tensor: subclasses (fake / functional tensors of tracers,
        # Parameters) miss the cache and take the slow path, which sorts them out.
        names = [f"a{i}" for i in range(self._nparams)]
        is_tensor = "type({0}) is _T" if exact else "isinstance({0}, _T)"
        parts = []
        for name, is_const in zip(names, self._constexpr):
            test = is_tensor.format(name)
            if is_const:
                parts.append(f"(type({name}), {name})")
            elif self.settings.static_shapes:
                parts.append(f"(({name}.dtype, {name}.shape, {name}.stride(), {name}.is_cuda) "
                             f"if {test} else type({name}))")
            else:
                parts.append(f"(_dynamic({name}) if {test} else type({name}))")
        if self._key_fn is not None:
            parts.append(f"_user_key({', '.join(names)})")
        src = f"def _key({', '.join(names)}):\n    return ({', '.join(parts)},)\n"
        namespace: dict[str, Any] = {"_T": torch.Tensor, "_dynamic": _dynamic_key, "_user_key": self._key_fn}
        exec(compile(src, f"<deuteron key of {self.fn.__name__}>", "exec"), namespace)
        return namespace["_key"]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _is_compiling():
            return self._graph_call(*args, **kwargs)
        if kwargs or len(args) != self._fast_arity:
            args = self._normalize_args(args, kwargs)
        bound = self._bound.get(self._key(*args))
        if bound is not None:
            run = bound._run
            if run is not None and self._autograd is None:  # the hot path: a compiled config is in place
                return run(*args)
        return self._slow_call(args)

    def _slow_call(self, args: tuple) -> Any:
        from .. import torch_integration as ti

        if ti.needs_op(args) or ti.wants_autograd(self, args):
            return self._op_call(args)
        return self._bind_normalized(args)(*args)

    def _op_call(self, args: tuple) -> Any:
        """The call through the kernel's torch.library operator (tracing, autograd)."""
        from .. import torch_integration as ti

        bound = self._bind_normalized(args)
        return ti.op_for(bound, bound.config_for_tracing(args))(*args)

    def register_autograd(self, backward: Callable[..., Any], *, setup_context: Callable[..., Any] | None = None) -> None:
        """Makes the kernel differentiable: `backward(ctx, *grads)` as for torch.library.register_autograd.

        The backward may itself call deuteron kernels.  Calls whose inputs
        require grad then go through the kernel's torch.library operator.
        """
        self._autograd = (backward, setup_context)
        for bound in list(self._bound.values()):
            for fn in bound._compiled.values():
                op = fn._deuteron_module.__dict__.get("_deuteron_op")
                if op is not None:
                    op.register_autograd(backward, setup_context=setup_context)

    def bind(self, args: Sequence[Any], kwargs: dict | None = None) -> BoundKernel:
        """The BoundKernel for these argument types (created and cached on first use)."""
        return self._bind_normalized(self._normalize_args(tuple(args), kwargs or {}))

    def _bind_normalized(self, args: tuple) -> BoundKernel:
        key = self.specialization_key(args)
        with self._lock:
            bound = self._bound.get(key)
            if bound is None:
                bound = BoundKernel(self, args)
                self._bound[key] = bound
        return bound

    def _bind_wide(self, args: tuple) -> BoundKernel:
        """The int64-index specialization for these arguments: the int32 code's
        entry check found a tensor its host code allocates too large for it."""
        key = (*self.specialization_key(args), "int64")
        with self._lock:
            bound = self._bound.get(key)
            if bound is None:
                bound = BoundKernel(self, args, index_dtype=torch.int64)
                self._bound[key] = bound
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
            if isinstance(value, torch.Tensor):
                sizes, strides = list(value.shape), list(value.stride())
                if not self.settings.static_shapes:
                    # Sizes are only hints then: reading a traced symbolic size
                    # as an int would make torch.compile specialize on it.
                    sizes, strides = [_size_hint(x) for x in sizes], [_size_hint(x) for x in strides]
                specs.append({"name": p.name, "kind": "tensor", "dtype": str(value.dtype).removeprefix("torch."),
                              "sizes": sizes, "strides": strides, "device": value.device.type})
            elif is_const:
                if value is not None and not isinstance(value, (bool, int, float)):
                    raise exc.InputError(
                        f"{self.fn.__name__}(): argument {p.name!r} is annotated hl.constexpr, so it must be "
                        f"a bool, int, float or None; got {type(value).__name__}")
                specs.append({"name": p.name, "kind": "constexpr", "value": value})
            elif isinstance(value, bool):
                specs.append({"name": p.name, "kind": "bool"})
            elif isinstance(value, int):
                specs.append({"name": p.name, "kind": "int"})
            elif isinstance(value, float):
                specs.append({"name": p.name, "kind": "float"})
            elif value is None:
                specs.append({"name": p.name, "kind": "none"})
            else:
                specs.append({"name": p.name, "kind": "other"})
        return specs

    def __repr__(self) -> str:
        return f"<deuteron.Kernel {self.fn.__qualname__}>"

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        # Kernels defined in a class body behave like functions (not bound methods):
        # they are used as `Cls.kernel(...)`.
        return self


def _tensor_device(args: Sequence[Any]) -> torch.device | None:
    device = None
    for a in args:
        if isinstance(a, torch.Tensor):
            if device is None:
                device = a.device
            elif a.device != device:
                raise exc.InputError(
                    f"kernel arguments are on different devices ({device} and {a.device}); "
                    f"move them to one device first")
    return device


def _interpret_triton() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def _truthy_env(name: str) -> bool:
    return os.environ.get(name, "0").strip().lower() not in ("", "0", "false", "no", "off")


class BoundKernel:
    """A kernel specialized for one set of argument types.

    ``config_spec`` describes the tunable space; ``default_config()`` is the
    heuristic config; ``to_triton_code(config)`` shows the generated module;
    ``compile_config(config)`` returns a callable for one config;
    ``autotune(args)`` searches for the best config.
    """

    def __init__(self, kernel: Kernel, args: Sequence[Any], index_dtype: torch.dtype | None = None) -> None:
        self.kernel = kernel
        # The interpret mode is read when binding, so it can be switched on after import.
        self.settings = kernel.settings
        if index_dtype is not None:
            self.settings = self.settings.replace(index_dtype=index_dtype)
        if not self.settings.interpret and _truthy_env("DEUTERON_INTERPRET"):
            self.settings = self.settings.replace(interpret=True)
        if not self.settings.print_output_code and _truthy_env("DEUTERON_PRINT_OUTPUT_CODE"):
            self.settings = self.settings.replace(print_output_code=True)
        self.device = _tensor_device(args)
        self._check_device(self.device, args)
        src = kernel.source()
        info = device_info(self.device)
        self._device_info = info
        index_dtype = self.settings.index_dtype
        if index_dtype is not None:
            index_dtype = str(index_dtype).removeprefix("torch.")
        self._core = core().bind(
            src.text, src.filename, src.first_line, src.name, kernel.arg_specs(args),
            _source.referenced_globals(kernel.fn), static_shapes=self.settings.static_shapes,
            index_dtype=index_dtype, dot_precision=self.settings.dot_precision, device=info)
        self._globals = _source.global_values(kernel.fn)
        self._compiled: dict[str, Callable[..., Any]] = {}
        self._run: Callable[..., Any] | None = None
        self.config: Config | None = None
        self._lock = threading.RLock()

    def _check_device(self, device: torch.device | None, args: Sequence[Any] = ()) -> None:
        if self.settings.interpret or _interpret_triton():
            return
        from .. import torch_integration as ti

        if any(ti.is_tracing_value(a) for a in args):
            return  # tracing (export, compile) never runs the kernels here
        if device is None or device.type != "cuda":
            where = "no tensor arguments" if device is None else f"tensors on {device}"
            raise exc.InputError(
                f"{self.kernel.fn.__name__}(): deuteron kernels run on CUDA tensors, got {where}; "
                f"set DEUTERON_INTERPRET=1 to run the kernel in PyTorch eager on any device, or "
                f"TRITON_INTERPRET=1 to run the generated Triton code on the CPU")

    # --------------------------------------------------------------- space
    @property
    def config_spec(self) -> dict[str, Any]:
        import json

        return json.loads(self._core.config_spec())

    def default_config(self) -> Config:
        return Config.from_json(self._core.default_config())

    def normalize_config(self, config: Config | dict) -> Config:
        """The config with every key filled in; raises ConfigError if it is outside the space."""
        cfg = config if isinstance(config, Config) else Config(**config)
        return Config.from_json(self._core.normalize(cfg.to_json()))

    # ------------------------------------------------------------- codegen
    def to_triton_code(self, config: Config | dict | None = None) -> str:
        cfg = self._as_config(config)
        return self._core.triton_code(cfg.to_json())

    def to_reference_code(self, config: Config | dict | None = None) -> str:
        cfg = self._as_config(config)
        return self._core.reference_code(cfg.to_json())

    def _as_config(self, config: Config | dict | None) -> Config:
        if config is None:
            return self.default_config()
        return config if isinstance(config, Config) else Config(**config)

    def _module_dir(self) -> Path:
        return self.settings.resolved_cache_dir() / "generated"

    def compile_config(self, config: Config | dict | None = None, *, backend: str | None = None) -> Callable[..., Any]:
        """A callable running this specialization with one config (arguments as for the kernel)."""
        fn = self._host_function(config, backend)
        normalize = self.kernel._normalize_args

        def run(*args: Any, **kwargs: Any) -> Any:
            return fn(*normalize(args, kwargs))

        run._deuteron_module = fn._deuteron_module  # type: ignore[attr-defined]
        run._deuteron_path = fn._deuteron_path  # type: ignore[attr-defined]
        run.host_function = fn  # type: ignore[attr-defined]
        return run

    def _host_function(self, config: Config | dict | None = None, backend: str | None = None) -> Callable[..., Any]:
        """The generated module's host function for one config (written, loaded; cached)."""
        cfg = self._as_config(config)
        if backend is None:
            backend = "reference" if self.settings.interpret else "triton"
        key = backend + ":" + cfg.to_json()
        fn = self._compiled.get(key)
        if fn is not None:
            return fn
        code = self._core.reference_code(cfg.to_json()) if backend == "reference" else self._core.triton_code(cfg.to_json())
        if self.settings.print_output_code:
            print(code, file=sys.stderr)
        path = write_module(code, self._module_dir(), self.kernel.fn.__name__)
        module = load_module(path, self._globals)
        if backend == "triton" and not _interpret_triton():
            from .launcher import ensure_allocator, fast_launcher

            ensure_allocator()
            module._launch = fast_launcher
        if hasattr(module, "_deuteron_wide"):
            module._deuteron_wide = self._wide_runner(cfg, backend)
        fn = getattr(module, module._deuteron_meta["entry"])
        fn._deuteron_module = module  # type: ignore[attr-defined]
        fn._deuteron_path = path  # type: ignore[attr-defined]
        self._compiled[key] = fn
        return fn

    def _wide_runner(self, config: Config, backend: str) -> Callable[..., Any]:
        """What int32 code calls when a tensor its host code allocates needs
        int64 offsets (checked on entry, before any launch): the same config
        in the int64 specialization."""
        def run(*args: Any) -> Any:
            return self.kernel._bind_wide(args)._host_function(config, backend)(*args)

        return run

    # ---------------------------------------------------------------- runs
    def _choose_config(self, args: Sequence[Any]) -> Config:
        configs = self.kernel.configs
        if len(configs) == 1:
            return configs[0]
        if self.settings.interpret or _interpret_triton():
            return configs[0] if configs else self.default_config()
        if not configs and self.settings.autotune_effort == "none":
            return self.default_config()
        return self.autotune(args)

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
        if args is not None and not (self.settings.interpret or _interpret_triton()):
            from ..autotune import cached_config

            cfg = cached_config(self, args)
            if cfg is not None:
                return cfg
        if self.kernel.configs:
            return self.kernel.configs[0]
        return self.default_config()

    def autotune(self, args: Sequence[Any], **kwargs: Any) -> Config:
        """Searches the config space (or the decorator's configs) for the fastest correct config."""
        from ..autotune import tune

        return tune(self, args, **kwargs)

    def set_config(self, config: Config | dict) -> None:
        """Uses this config for every later call of this specialization."""
        cfg = self._as_config(config)
        self._run = self._host_function(cfg)
        self.config = cfg

    def __call__(self, *args: Any) -> Any:
        run = self._run
        if run is None:
            with self._lock:
                if self._run is None:
                    self.set_config(self._choose_config(args))
                run = self._run
        return run(*args)

    # ---------------------------------------------------------------- debug
    def dump_ast(self) -> str:
        return self._core.dump_ast()

    def dump_ir(self, config: Config | dict | None = None, stage: str | None = None) -> str:
        if stage is None:
            return self._core.dump_ir()
        return self._core.dump_ir_after(self._as_config(config).to_json(), stage)
