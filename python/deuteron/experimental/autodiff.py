"""``deuteron.experimental.backward``: the input gradients of a kernel's call.

The C++ core differentiates the bound kernel's device loop
(cpp/src/autodiff, ``BoundKernelCore.backward_source``) and returns the
source of another kernel, ``backward_kernel(<the kernel's parameters>,
<one gradient per returned tensor>)``.  Here that source is written to a
real file under ``<cache dir>/autodiff`` (named by its hash, like generated
modules), loaded, wrapped as a deuteron kernel and called, so the backward
runs through the normal path (its own config space, autotuning, Triton
code).  The compiled backward is cached on the forward's BoundKernel
(``_backward_compiled_cache``), keyed by everything its text depends on.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import torch

from .. import exc
from ..runtime import modules
from ..runtime.kernel import BoundKernel, Kernel

_HEADER = '''\
# The backward of kernel {name!r} ({file}:{line}), written by deuteron.experimental.backward.
import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel(autotune_effort={effort!r}, dot_precision={dot_precision!r}, precision={precision!r})
'''

_lock = threading.Lock()


class _Backward:
    """A compiled backward: the kernel, its file's text, and how to call it."""

    def __init__(self, kernel: Kernel, source: str, path: Path) -> None:
        self.kernel = kernel
        self.source = source
        self.path = path


def _cache_key(args: tuple, autotune: bool, effort: str) -> tuple:
    """What the backward's text depends on besides the specialization: sizes (written
    into the text as numbers), scalar values (passed as arguments, but keyed as Helion
    keys them), and how it is tuned."""
    parts: list[Any] = [autotune, effort]
    for a in args:
        if isinstance(a, torch.Tensor):
            parts.append((tuple(a.shape), tuple(a.stride()), a.dtype, str(a.device)))
        else:
            try:
                hash(a)
                parts.append(a)
            except TypeError:
                parts.append(repr(a))
    return tuple(parts)


def _compile(bound: BoundKernel, effort: str) -> _Backward:
    try:
        text = bound._core.backward_source()
    except exc.AutodiffNotSupported:
        raise
    except exc.CompileError as e:
        # Every error of the transform is about what it cannot differentiate.
        raise exc.AutodiffNotSupported(str(e), e.filename, e.line, e.col, e.message, e.notes) from None
    fn = bound.kernel.fn
    code = fn.__code__
    # The backward computes as the forward does: its float32 dots with the forward's
    # dot_precision (tf32 unless set), its 16-bit arithmetic with its precision.
    settings = bound.settings
    source = _HEADER.format(name=fn.__name__, file=code.co_filename, line=code.co_firstlineno,
                            effort=effort, dot_precision=settings.dot_precision,
                            precision=settings.precision) + text
    directory = bound.settings.resolved_cache_dir() / "autodiff"
    path = modules.write_module(source, directory, f"{fn.__name__}_backward")
    module = modules.load_module(path, {})
    return _Backward(module.backward_kernel, source, path)


def backward(kernel: Kernel, grad_out: torch.Tensor | tuple[torch.Tensor, ...], *inputs: Any,
             return_code: bool = False, autotune: bool = False, autotune_effort: str | None = None) -> Any:
    """The gradients of the kernel's tensor arguments, given the gradients of what it returns.

    ``grad_out`` is one tensor, or a tuple with one per returned tensor (in the order of
    the kernel's ``return``); ``inputs`` are the arguments of the forward call (scalars
    too).  Returns the gradients (a tuple, or the tensor alone for one tensor argument);
    with ``return_code=True``, ``(gradients, backward_source, triton_code)``.  The
    kernel must have been called once with such arguments (AutodiffKernelNotCalled).
    What the transform cannot differentiate raises AutodiffNotSupported naming the op
    and its line.
    """
    if not kernel._bound:
        raise exc.AutodiffKernelNotCalled()
    args = kernel.normalize_args(tuple(inputs))
    bound = kernel.bind(args)
    grads = (grad_out,) if isinstance(grad_out, torch.Tensor) else tuple(grad_out)
    effort = autotune_effort if autotune_effort is not None else ("quick" if autotune else "none")
    key = _cache_key(args, autotune, effort)
    with _lock:
        cache: dict[tuple, _Backward] = bound.__dict__.setdefault("_backward_compiled_cache", {})
        compiled = cache.get(key)
        if compiled is None:
            compiled = cache[key] = _compile(bound, effort)
    nparams = len(kernel._params)
    expected = len(compiled.kernel._params) - nparams
    if 0 < len(grads) < expected:
        # Gradients for the first outputs only (attention's out, not its lse): the
        # others are zero, shaped like what the forward returns for these inputs.
        outs = kernel(*(a.clone() if isinstance(a, torch.Tensor) else a for a in args))
        outs = (outs,) if isinstance(outs, torch.Tensor) else tuple(outs)
        grads = (*grads, *(torch.zeros_like(o) for o in outs[len(grads):expected]))
    if len(grads) != expected:
        raise exc.AutodiffNotSupported(
            f"experimental.backward: kernel {kernel.fn.__name__!r} returns {expected} tensor(s), "
            f"got {len(grads)} gradient(s)")
    call_args = (*args, *grads)
    result = compiled.kernel(*call_args)
    if not return_code:
        return result
    bwd_bound = compiled.kernel.bind(call_args)
    triton_code = bwd_bound.to_triton_code(bwd_bound.config)
    return result, compiled.source, triton_code
