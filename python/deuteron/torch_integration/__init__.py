"""deuteron kernels as PyTorch operators: torch.compile, torch.export, AOTInductor, autograd.

Each compiled (specialization, config) of a kernel can be registered as a
torch.library operator named ``deuteron::<function>_<hash of the generated
module>``.  With the Triton back end it is a ``torch.library.triton_op`` whose
implementation launches through ``torch.library.wrap_triton`` (so
torch.compile / Inductor compile the kernels with the rest of the graph,
torch.export keeps one node per call, and AOTInductor packages the kernels);
in interpret mode (either) it is a ``torch.library.custom_op`` running the
module's host code, with a fake implementation that only allocates outputs.

An operator returns only the kernel's fresh tensors: a kernel's mutated
argument, a view of it, one tensor twice, scalars and nesting are put back
by :class:`KernelOp` (outputs.py says how).  A kernel without a registered
backward is opaque to autograd under tracing too, as its eager call is.

Eager calls do not go through the operator (that would add the dispatcher's
overhead to every launch).  The operator is used when:
  * torch.compile / torch.export trace the program (``Kernel.__call__`` hands
    the call to a function allowed in the graph, which calls the operator
    while AOTAutograd traces it), or the arguments are fake / functional
    tensors (non-strict export);
  * the kernel has a backward registered and an input requires grad.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any, Callable, Sequence

import torch

from .. import exc
from ..runtime import modules as _modules
from . import flat as _flat
from . import outputs as _outputs

_lock = threading.RLock()


def _fake_impl(module: Any) -> Callable[..., Any]:
    """The module's fake implementation (host code without launches), run so that the
    scalars host code reads from tensors (``t.item()``, a one-element tensor as a loop
    bound) make no pending unbacked symbols: under fake tensors each is a fresh unbacked
    SymInt that only the launches (absent here) use, never an output's shape (sema
    rejects data-dependent output shapes), so the tracer must not look for it among the
    outputs."""
    fake = module._deuteron_fake_impl

    def run(*args: Any, **kwargs: Any) -> Any:
        mode = torch._guards.detect_fake_mode(args)
        shape_env = getattr(mode, "shape_env", None)
        if shape_env is None:
            return fake(*args, **kwargs)
        with shape_env.ignore_fresh_unbacked_symbols():
            return fake(*args, **kwargs)

    run.__signature__ = inspect.signature(fake)  # type: ignore[attr-defined]
    run.__annotations__ = dict(fake.__annotations__)
    run.__name__ = run.__qualname__ = fake.__name__
    return run


def _op_name(fn_name: str, module: Any) -> str:
    # The generated module's file is named by the hash of its source: the
    # operator name changes whenever the kernel or the config changes, so
    # Inductor's caches never see a stale kernel under a reused name.
    digest = module.__file__.rsplit("_", 1)[-1].split(".")[0]
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in fn_name)
    return f"deuteron::{safe}_{digest}"


class KernelOp:
    """The operator of one generated module, and a kernel call through it.

    The operator returns only the kernel's fresh tensors (see outputs.py);
    calling this object returns what the kernel returns (mutated arguments,
    views of them, scalars, nesting), as the eager call does.
    """

    def __init__(self, op: Any, plan: _outputs.OutputPlan | None, module: Any,
                 flat: _flat.Flattening | None = None) -> None:
        self.op = op
        self.plan = plan
        self._module = module
        # Structured, dtype or string arguments: the operator takes their leaves (flat.py).
        self.flat = flat
        fake = _fake_impl(module)
        self._fake = fake if flat is None else flat.wrap(fake, None)

    def __call__(self, *args: Any) -> Any:
        if self.flat is not None:
            args = self.flat.flatten(args)
        out = self.op(*args)
        if self.plan is None:
            return out
        return self.plan.rebuild(args, out, self._fake)

    def register_autograd(self, backward: Callable[..., Any], setup_context: Callable[..., Any] | None) -> None:
        if self.flat is not None:
            raise exc.InputError(
                f"{self._module._deuteron_meta['entry']}: register_autograd needs a kernel whose arguments are "
                f"tensors, numbers, bools and None (its operator's inputs are then its arguments); pass the "
                f"tensors of tuple, list, dataclass or dict arguments, and dtypes and strings, otherwise")
        plan = self.plan
        if plan is None or plan.identity:
            self.op.register_autograd(backward, setup_context=setup_context)
            return
        # The user's functions see the kernel's result, not the operator's
        # (fresh tensors only): setup_context gets it rebuilt, backward gets
        # one gradient per leaf of it (None where the operator has no output).
        fake = self._fake

        def setup(ctx: Any, inputs: tuple, output: Any) -> None:
            if setup_context is not None:
                setup_context(ctx, inputs, plan.rebuild(inputs, output, fake))

        def backward_of_leaves(ctx: Any, *grads: Any) -> Any:
            per_leaf = [grads[leaf.index] if leaf.kind == _outputs.FRESH else None for leaf in plan.leaves]
            return backward(ctx, *per_leaf)

        self.op.register_autograd(backward_of_leaves, setup_context=setup)


def _plan(module: Any, fake: Callable[..., Any], args: Sequence[Any] | None,
          static_shapes: bool) -> _outputs.OutputPlan | None:
    """The output plan of a module (its fake implementation ``fake`` taking the
    operator's parameters ``args``), or None to return the kernel's result as it
    is (no example arguments, or host code that cannot run on meta tensors)."""
    if args is None:
        return None
    try:
        plan = _outputs.plan_outputs(fake, args)
    except Exception:  # noqa: BLE001 - host code that needs real tensors: keep the old schema
        return None
    if plan.static_only and not static_shapes:
        raise exc.InputError(
            f"{module._deuteron_meta['entry']}: with static_shapes=False a kernel traced by torch.compile / "
            f"export cannot return a view of one of its own outputs beside that output; return the tensor "
            f"and take the view outside the kernel")
    return plan


def op_for(bound: Any, config: Any, args: Sequence[Any] | None = None) -> KernelOp:
    """The torch.library operator of one compiled config of a bound kernel (registered once).

    ``args`` (the call's arguments, possibly fake) shape the example the
    output plan is made with (outputs.py)."""
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
                f"{bound.kernel.fn.__name__}: an argument is a function or an object of no kind kernels know, "
                f"so the kernel cannot be a torch.library operator (needed by torch.compile / export / autograd)")
        name = _op_name(bound.kernel.fn.__name__, module)
        mutates = tuple(meta.get("mutates", ()))
        impl = module._deuteron_op_impl
        fake = _fake_impl(module)
        flat = None
        if meta.get("op_flat", False):
            if args is None:
                raise exc.InputError(f"{bound.kernel.fn.__name__}: the operator of a kernel with structured "
                                     f"arguments is made from a call's arguments")
            names = list(inspect.signature(impl).parameters)
            flat = _flat.Flattening(names, args, mutates, bound.kernel.fn.__name__)
            ret = inspect.signature(impl).return_annotation
            ret = eval(ret, module.__dict__) if isinstance(ret, str) else ret  # noqa: S307 (postponed annotation)
            impl, fake = flat.wrap(impl, ret), flat.wrap(fake, ret)
            mutates = tuple(flat.mutated)
            args = flat.flatten(args)
        plan = _plan(module, fake, args, bound.settings.static_shapes)
        if plan is not None:
            impl = _outputs.op_function(impl, plan, module.__dict__)
            fake = _outputs.op_function(fake, plan, module.__dict__)
        if meta["backend"] == "triton" and not _modules.interprets_triton(module):
            op = torch.library.triton_op(name, impl, mutates_args=mutates)
        else:
            # Interpret modes: an opaque operator.  Under TRITON_INTERPRET the kernels
            # are interpreter functions, which wrap_triton does not trace (tracing
            # would run them on fake tensors); the impl launches them on real ones.
            op = torch.library.custom_op(name, impl, mutates_args=mutates)
        # triton_op registers the impl itself as the fake implementation: run on fake
        # tensors it would read t.item() of host code into an unbacked SymInt no output
        # holds (PendingUnbackedSymbolNotFound when Dynamo or export propagate fake
        # tensors through the call).  Both kinds take the module's fake implementation,
        # which only allocates the outputs.  (AOTAutograd still traces a triton_op's
        # impl into the graph, where the launches use the symbol.)
        op.register_fake(fake)
        kop = KernelOp(op, plan, module, flat)
        autograd = bound.kernel.autograd
        if autograd is not None:
            backward, setup_context = autograd
            kop.register_autograd(backward, setup_context)
        module._deuteron_op = kop
        return kop


def update_autograd(host: Callable[..., Any], backward: Callable[..., Any],
                    setup_context: Callable[..., Any] | None) -> None:
    """Registers the backward on the operator of a loaded host function, if it has one yet
    (operators made later get it in :func:`op_for`)."""
    op = host.deuteron_module.__dict__.get("_deuteron_op")
    if op is not None:
        op.register_autograd(backward, setup_context)


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


def call(kernel: Any, op: KernelOp, args: Sequence[Any]) -> Any:
    """A kernel call through its operator.  A kernel without a backward is opaque
    to autograd, as its eager call is (kernels write tensors autograd does not
    see): its results do not require grad, even where its inputs do, so tracing
    a model whose parameters require grad (AOTAutograd traces the backward
    then) needs no formula for it."""
    if kernel.autograd is None and torch.is_grad_enabled() and any(
            isinstance(a, torch.Tensor) and a.requires_grad for a in args):
        with torch.no_grad():
            return op(*args)
    return op(*args)


def wants_autograd(kernel: Any, args: Sequence[Any]) -> bool:
    return (kernel.autograd is not None and torch.is_grad_enabled()
            and any(isinstance(a, torch.Tensor) and a.requires_grad for a in args))
