"""Launching compiled Triton kernels from generated host code.

Generated modules call ``_launch(kernel, grid, *args, num_warps=, num_stages=)``.

:func:`default_launcher` goes through Triton's JIT entry point, which binds
the arguments, computes Triton's specialization and looks the compiled kernel
up on every call (~25 us on the H100 machine).  :func:`fast_launcher` does
that once per specialization and then launches through deuteron's C++
NativeLauncher (cpp/src/python/native_launcher.cc), which checks the
arguments against what the kernel was specialized on and calls
cuLaunchKernel directly (~5 us).

Triton is imported where it is used, not with this module: ``import deuteron``
must not import Triton, which decides when it is imported whether it
interprets (TRITON_INTERPRET may be set after ``import deuteron``).
"""

from __future__ import annotations

from typing import Any

import torch

from .core import core


def out_of_resources(e: BaseException | None) -> Any | None:
    """Triton's ``OutOfResources`` (shared memory, registers, threads: Triton raises it
    when it loads a compiled kernel the GPU cannot run) in ``e`` or the exceptions
    that caused it, else None.  Known by its name: Triton is not imported here."""
    seen: set[int] = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        t = type(e)
        if t.__name__ == "OutOfResources" and t.__module__.startswith("triton"):
            return e
        e = e.__cause__ or e.__context__
    return None


def no_native_launcher(grid: tuple, *args: Any) -> bool:
    """The initial launch-site launcher of generated modules: always defers to `_launch`."""
    return False


def default_launcher(kernel: Any, grid: tuple, *args: Any, num_warps: int = 4, num_stages: int = 1,
                     maxnreg: int | None = None, site: tuple | None = None) -> Any:
    if type(kernel).__name__ == "InterpretedFunction" and bool in map(type, args):
        args = _interpreter_bools(args)
    try:
        if maxnreg is not None:
            return kernel[grid](*args, num_warps=num_warps, num_stages=num_stages, maxnreg=maxnreg)
        return kernel[grid](*args, num_warps=num_warps, num_stages=num_stages)
    except Exception as e:
        _explain_interpreter_numpy_clash(e)
        raise


_bool_args_ok: bool | None = None


def _interpreter_bools(args: tuple) -> tuple:
    """``args`` with each bool as the int1 scalar Triton's interpreter makes of it.

    Triton's interpreter before 3.9 converts a bool kernel argument like an int: an
    int32 array typed int1, which it then rejects ("numpy data itemsize (32 bits)
    exceeds dtype primitive_bitwidth (1 bits)"); compiled Triton takes bools.  Where
    the interpreter converts bools itself, ``args`` are passed as they are."""
    global _bool_args_ok
    import numpy as np
    import triton.language as tl
    from triton.runtime import interpreter

    if _bool_args_ok is None:
        try:
            interpreter._implicit_cvt(True)
            _bool_args_ok = True
        except ValueError:
            _bool_args_ok = False
    if _bool_args_ok:
        return args
    return tuple(tl.tensor(interpreter.TensorHandle(np.array([a], dtype=np.bool_), tl.int1), tl.int1)
                 if type(a) is bool else a for a in args)


# Triton < 3.8's interpreter turns a scalar kernel argument used as a Python
# int (a `tl.range` bound) into int() of a 1-element array, which numpy 2.4
# made an error; Triton 3.8 squeezes the array first.
_NUMPY_SCALAR_CLASH = "only 0-dimensional arrays can be converted to Python scalars"


def _explain_interpreter_numpy_clash(e: Exception) -> None:
    if type(e).__name__ != "InterpreterError" or _NUMPY_SCALAR_CLASH not in str(e):
        return
    import numpy
    import triton

    raise RuntimeError(
        f"TRITON_INTERPRET=1: Triton {triton.__version__}'s interpreter cannot use a kernel's int argument as a "
        f"loop bound with numpy {numpy.__version__} (numpy 2.4 refuses int() of a 1-element array, which that "
        f"interpreter does); install numpy<2.4 or Triton>=3.8, or run the kernel in PyTorch eager with "
        f"DEUTERON_INTERPRET=1") from e


def check_tma_alignment(*tensors: torch.Tensor) -> None:
    """Tensor descriptors (TMA) need 16-byte aligned base addresses."""
    for t in tensors:
        if t.data_ptr() % 16:
            raise ValueError(
                f"a tensor of shape {tuple(t.shape)} starts at an address that is not 16-byte aligned "
                f"(storage offset {t.storage_offset()}), which the config's indexing='tensor_descriptor' "
                f"needs; pass a contiguous copy (.clone()) or use indexing='pointer'")


_allocator_set = False


def ensure_allocator() -> None:
    """Device-side tensor descriptors need scratch memory from Triton's allocator."""
    global _allocator_set
    if _allocator_set:
        return
    _allocator_set = True

    import triton

    def alloc(size: int, alignment: int, stream: int | None) -> torch.Tensor:
        return torch.empty(size, dtype=torch.int8, device="cuda")

    if hasattr(triton, "set_allocator"):
        triton.set_allocator(alloc)


def _hooks_active() -> bool:
    try:  # Triton >= 3.3
        from triton import knobs
    except ImportError:  # pragma: no cover
        return False
    rt = knobs.runtime
    if rt is None:
        return False
    for hook in (rt.launch_enter_hook, rt.launch_exit_hook):
        # Triton 3.6 keeps HookChain objects that are empty unless someone registered a hook.
        if hook is not None and getattr(hook, "calls", True):
            return True
    return False


def _native_launcher(compiled: Any, args: tuple) -> Any | None:
    """A deuteron._core.NativeLauncher for this compiled kernel, or None when it cannot serve it."""
    import triton

    md = compiled.metadata
    try:
        return core().NativeLauncher(
            compiled.function, list(compiled.src.signature.values()), args,
            device=torch.cuda.current_device(), get_device=_current_device,
            get_stream=_raw_stream, num_warps=md.num_warps, num_ctas=md.num_ctas, shared=md.shared,
            global_scratch_size=md.global_scratch_size, global_scratch_align=md.global_scratch_align,
            profile_scratch_size=getattr(md, "profile_scratch_size", 0),
            launch_cooperative_grid=getattr(md, "launch_cooperative_grid", False),
            launch_pdl=getattr(md, "launch_pdl", False), name=md.name,
            scratch_allocator=lambda n, a, s: triton.runtime._allocation._allocator.get()(n, a, s))
    except (ValueError, RuntimeError, AttributeError, TypeError):
        return None  # Triton's own launch path keeps working


# The C functions behind torch.cuda.current_device / current_stream: a
# launcher exists only after a launch, so CUDA is initialized and the Python
# wrappers' lazy-init checks (~1 us per call) are not needed.
_current_device = getattr(torch._C, "_cuda_getDevice", torch.cuda.current_device)

try:
    _raw_stream = torch._C._cuda_getCurrentRawStream
except AttributeError:  # pragma: no cover
    def _raw_stream(idx: int) -> int:
        return torch.cuda.current_stream(idx).cuda_stream


def fast_launcher(kernel: Any, grid: tuple, *args: Any, num_warps: int = 4, num_stages: int = 1,
                  maxnreg: int | None = None, site: tuple | None = None) -> None:
    """Launches through a native launcher when one matches these arguments.

    A NativeLauncher checks everything Triton specializes on (pointer
    alignment, dtypes, int classes, constexpr values, the device) and returns
    False without launching when the call needs another compiled kernel; then
    Triton's JIT compiles (or finds) it, and a launcher for it is added.
    `site` = (module globals, name) is the generated code's launch-site
    variable: the launcher that served this call is stored there, so the next
    call reaches C++ directly.
    """
    launchers = kernel.__dict__.get("_deuteron_native")
    if launchers:
        for launcher in launchers:
            if launcher(grid, *args):
                if site is not None:
                    site[0][site[1]] = launcher
                return
    compiled = default_launcher(kernel, grid, *args, num_warps=num_warps, num_stages=num_stages, maxnreg=maxnreg)
    if hasattr(compiled, "result"):  # an async compile future
        compiled = compiled.result()
    if compiled is None or not hasattr(compiled, "function") or _hooks_active():
        return
    launcher = _native_launcher(compiled, args)
    if launcher is not None:
        kernel.__dict__.setdefault("_deuteron_native", []).append(launcher)
        if site is not None:
            site[0][site[1]] = launcher
