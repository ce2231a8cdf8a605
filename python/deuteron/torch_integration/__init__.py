"""deuteron kernels as PyTorch operators: torch.compile, torch.export, AOTInductor, autograd.

Each compiled (specialization, config) of a kernel can be registered as a
torch.library operator named ``deuteron::<function>_<hash of the generated
module>``.  With the Triton back end it is a ``torch.library.triton_op`` whose
implementation launches through ``torch.library.wrap_triton`` (so
torch.compile / Inductor compile the kernels with the rest of the graph,
torch.export keeps one node per call, and AOTInductor packages the kernels);
in interpret mode it is a ``torch.library.custom_op`` running the reference
module, with a fake implementation that only allocates outputs.

Eager calls do not go through the operator (that would add the dispatcher's
overhead to every launch).  The operator is used when:
  * torch.compile / torch.export trace the program (``Kernel.__call__`` hands
    the call to a function allowed in the graph, which calls the operator
    while AOTAutograd traces it), or the arguments are fake / functional
    tensors (non-strict export);
  * the kernel has a backward registered and an input requires grad.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

import torch

from .. import exc

_lock = threading.RLock()


def _op_name(fn_name: str, module: Any) -> str:
    # The generated module's file is named by the hash of its source: the
    # operator name changes whenever the kernel or the config changes, so
    # Inductor's caches never see a stale kernel under a reused name.
    digest = module.__file__.rsplit("_", 1)[-1].split(".")[0]
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in fn_name)
    return f"deuteron::{safe}_{digest}"


def op_for(bound: Any, config: Any) -> Callable[..., Any]:
    """The torch.library operator of one compiled config of a bound kernel (registered once)."""
    host = bound.load(config)
    module = host.deuteron_module
    op = module.__dict__.get("_deuteron_op")
    if op is not None:
        return op
    with _lock:
        op = module.__dict__.get("_deuteron_op")
        if op is not None:
            return op
        meta = module._deuteron_meta
        if not meta.get("op_ok", False):
            raise exc.InputError(
                f"{bound.kernel.fn.__name__}: an argument is not a tensor, int, float, bool or None, so the "
                f"kernel cannot be a torch.library operator (needed by torch.compile / export / autograd)")
        name = _op_name(bound.kernel.fn.__name__, module)
        mutates = tuple(meta.get("mutates", ()))
        if meta["backend"] == "triton":
            op = torch.library.triton_op(name, module._deuteron_op_impl, mutates_args=mutates)
        else:
            op = torch.library.custom_op(name, module._deuteron_op_impl, mutates_args=mutates)
            op.register_fake(module._deuteron_fake_impl)
        autograd = bound.kernel.autograd
        if autograd is not None:
            backward, setup_context = autograd
            op.register_autograd(backward, setup_context=setup_context)
        module._deuteron_op = op
        return op


def update_autograd(host: Callable[..., Any], backward: Callable[..., Any],
                    setup_context: Callable[..., Any] | None) -> None:
    """Registers the backward on the operator of a loaded host function, if it has one yet
    (operators made later get it in :func:`op_for`)."""
    op = host.deuteron_module.__dict__.get("_deuteron_op")
    if op is not None:
        op.register_autograd(backward, setup_context=setup_context)


def is_tracing_value(value: Any) -> bool:
    """True for the tensors tracers pass around (fake, functional, proxies)."""
    if not isinstance(value, torch.Tensor) or type(value) is torch.Tensor:
        return False
    if isinstance(value, torch.nn.Parameter):
        return False
    name = type(value).__name__
    return name in ("FakeTensor", "FunctionalTensor", "FunctionalTensorWrapper") or "Proxy" in name


def needs_op(args: Sequence[Any]) -> bool:
    """Whether a call must go through the operator (see the module docstring)."""
    if torch.compiler.is_compiling():
        return True
    return any(is_tracing_value(a) for a in args)


def wants_autograd(kernel: Any, args: Sequence[Any]) -> bool:
    return (kernel.autograd is not None and torch.is_grad_enabled()
            and any(isinstance(a, torch.Tensor) and a.requires_grad for a in args))
