"""Compiling generated Triton kernels ahead of time for a given GPU target.

Triton can compile for an NVIDIA target without a GPU (`triton.compile` with an
explicit GPUTarget), which deuteron uses to check on CPU-only machines that
generated code compiles for Hopper, and to export cubins.

The entry point mirrors a launch: :func:`compile_launcher` returns a function
with the signature of the generated modules' ``_launch`` that compiles instead
of launching and records the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from .config import Config
from .modules import load_host_function

# Triton's names of the tensor element types a kernel can take.
TRITON_TYPES = {
    torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16", torch.float64: "fp64",
    torch.int8: "i8", torch.int16: "i16", torch.int32: "i32", torch.int64: "i64", torch.uint8: "u8",
    torch.bool: "i1", torch.float8_e4m3fn: "fp8e4nv", torch.float8_e5m2: "fp8e5",
    torch.uint64: "u64",  # hl.stacktensor_like's device pointers
}


def triton_signature(jit_fn: Any, args: tuple) -> tuple[dict, dict, dict]:
    """(signature, constexprs, attrs) for ASTSource, from the launch's argument values."""
    signature: dict[str, str] = {}
    constexprs: dict[tuple, Any] = {}
    attrs: dict[tuple, list] = {}
    for i, (param, value) in enumerate(zip(jit_fn.params, args)):
        name = param.name
        if param.is_constexpr:
            signature[name] = "constexpr"
            constexprs[(i,)] = value
        elif isinstance(value, torch.Tensor):
            signature[name] = "*" + TRITON_TYPES[value.dtype]
            if value.data_ptr() % 16 == 0:
                attrs[(i,)] = [["tt.divisibility", 16]]
        elif isinstance(value, bool):
            signature[name] = "i1"
        elif isinstance(value, int):
            signature[name] = "i32" if -(2**31) <= value < 2**31 else "i64"
            if value % 16 == 0:
                attrs[(i,)] = [["tt.divisibility", 16]]
        elif isinstance(value, float):
            signature[name] = "fp32"
        elif value is None:
            signature[name] = "constexpr"
            constexprs[(i,)] = None
        else:
            raise TypeError(f"cannot compile a kernel argument of type {type(value).__name__} ({name})")
    return signature, constexprs, attrs


@dataclass
class CompiledLaunch:
    kernel_name: str
    compiled: Any  # triton CompiledKernel
    grid: tuple
    num_warps: int
    num_stages: int
    args: tuple = field(repr=False, default=())


def compile_launcher(target_arch: int = 90, warp_size: int = 32, results: list | None = None):
    """A stand-in for generated modules' `_launch` that compiles for sm_<arch> instead of launching."""
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource, compile

    out = results if results is not None else []

    def launch(kernel: Any, grid: tuple, *args: Any, num_warps: int = 4, num_stages: int = 1,
               maxnreg: int | None = None, site: tuple | None = None) -> None:
        fn = getattr(kernel, "fn", kernel)
        jit = kernel if hasattr(kernel, "params") else None
        if jit is None:  # an interpreted function wraps the JITFunction-like data
            raise RuntimeError("compile_launcher needs Triton's JIT functions (unset TRITON_INTERPRET)")
        signature, constexprs, attrs = triton_signature(jit, args)
        src = ASTSource(fn=jit, signature=signature, constexprs=constexprs, attrs=attrs)
        options = {"num_warps": num_warps, "num_stages": num_stages}
        if maxnreg is not None:
            options["maxnreg"] = maxnreg
        compiled = compile(src, target=GPUTarget("cuda", target_arch, warp_size), options=options)
        out.append(CompiledLaunch(fn.__name__, compiled, tuple(grid), num_warps, num_stages, args))

    launch.results = out  # type: ignore[attr-defined]
    return launch


def compile_for_target(bound: Any, config: Any, args: tuple, target_arch: int = 90) -> list[CompiledLaunch]:
    """Generates the Triton module of `bound` for `config` and compiles every kernel
    it launches (with `args`, which may be CPU tensors) for sm_<target_arch>."""
    cfg = config if isinstance(config, Config) else Config(**dict(config))
    results: list[CompiledLaunch] = []
    fn = load_host_function(bound.write_module(cfg, "triton"), bound.globals,
                            launch=compile_launcher(target_arch, results=results))
    fn.deuteron_module._check_tma_alignment = lambda *t: None
    with torch.no_grad():
        try:
            fn(*bound.kernel.normalize_args(tuple(args)))
        except Exception:
            if not results:
                raise
            # Host code after the launch may use the (unwritten) outputs; the
            # compilation is what matters here.
    return results
