"""Compiling candidate configs ahead of benchmarking.

In the main process, :func:`capture_launches` runs a config's generated host
function with a launcher that records each Triton launch (kernel name,
argument dtypes/values, num_warps, num_stages) instead of launching.  In a
compile worker, :func:`precompile` imports the generated module and calls
each kernel's ``warmup`` with those arguments: Triton compiles it and writes
its on-disk cache, so the launch in the benchmark process only loads the
binary.  Tensors are described by dtype (Triton's ``MockTensor``: a 16-byte
aligned pointer, as PyTorch's allocations are).

The worker tells Triton the target GPU (``target`` = (backend, arch,
warp_size)) instead of asking the driver, so compile workers never create a
CUDA context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..runtime import env
from ..runtime.modules import load_host_function, load_module


class CaptureUnsupported(Exception):
    """The launches of this config cannot be described for a compile worker."""


def _describe(value: Any) -> tuple:
    if isinstance(value, torch.Tensor):
        return ("dtype", str(value.dtype).removeprefix("torch."))
    if value is None or isinstance(value, (bool, int, float, str)):
        return ("value", value)
    if isinstance(value, torch.dtype):
        return ("dtype", str(value).removeprefix("torch."))
    raise CaptureUnsupported(f"cannot describe a kernel argument of type {type(value).__name__}")


def _kernel_name(kernel: Any) -> str:
    name = getattr(kernel, "__name__", None)
    if not name and hasattr(kernel, "fn"):
        name = kernel.fn.__name__
    if not name:
        raise CaptureUnsupported(f"unnamed kernel {kernel!r}")
    return name


def capture_launches(path: Path, globals_: dict[str, Any], args: tuple) -> list[tuple[str, list[tuple], dict]]:
    """Runs the host function of the generated module at ``path`` with a recording
    launcher (nothing runs on the GPU)."""
    calls: list[tuple[str, list[tuple], dict]] = []

    def record(kernel: Any, grid: tuple, *kargs: Any, num_warps: int = 4, num_stages: int = 1,
               maxnreg: int | None = None, site: tuple | None = None) -> None:
        opts: dict[str, Any] = {"num_warps": num_warps, "num_stages": num_stages}
        if maxnreg is not None:
            opts["maxnreg"] = maxnreg
        calls.append((_kernel_name(kernel), [_describe(a) for a in kargs], opts))

    # A freshly loaded module: its launch sites (`_launch_<i>`) have not been
    # given a native launcher, so every launch reaches `record`.
    load_host_function(path, globals_, launch=record)(*args)
    return calls


def _patch_target(target: tuple[str, int, int]) -> None:
    from triton.backends.compiler import GPUTarget
    from triton.runtime import driver

    drv = driver.active
    gpu_target = GPUTarget(*target)
    drv.get_current_target = lambda: gpu_target
    drv.get_current_device = lambda: 0
    drv.get_current_stream = lambda device=None: 0


def precompile(path: str, launches: list[tuple[str, list[tuple], dict]] | None,
               target: tuple[str, int, int] | None = None) -> dict[str, Any]:
    """Compile job (runs in a worker): import the module, warm up each captured launch."""
    module = load_module(Path(path), {})
    if not launches or env.triton_interpret() or module._deuteron_meta.get("backend") != "triton":
        return {"compiled": 0}
    if target is not None:
        _patch_target(tuple(target))
    n = 0
    seen = set()
    for name, descs, opts in launches:
        key = (name, tuple(descs), tuple(sorted(opts.items())))
        if key in seen:
            continue
        seen.add(key)
        kernel = getattr(module, name)
        kargs = [getattr(torch, v) if kind == "dtype" else v for kind, v in descs]
        kernel.warmup(*kargs, grid=(1,), **opts)
        n += 1
    return {"compiled": n}
