"""Which results of a kernel its torch.library operator returns, and how a call's result is rebuilt.

A torch.library operator may only return fresh tensors: none of its outputs
may alias an input or another output (torch checks this, and torch.compile /
export rely on it).  Kernels return more than that: the input they mutated
(``return x``), a view of it (``x.permute(2, 0, 1)``, ``x[:2, :4]``), a
preallocated ``out`` argument, one tensor twice, Python scalars
(``return out, math.pi``), ``None``, nested tuples and lists.

:func:`plan_outputs` runs the module's fake implementation (host code without
launches) once on meta tensors shaped like the call's arguments, and sorts
each leaf of the result (``torch.utils._pytree`` leaves) into:

* ``fresh``: a tensor that aliases no argument and no earlier leaf: the
  operator returns it;
* ``arg``: an argument itself (``return x``): the call returns that argument;
* ``same``: an earlier leaf itself (``return out, out``);
* ``out_view``: a view of an earlier fresh leaf: rebuilt from that leaf's
  view geometry (static shapes only);
* ``none``: None (the host code's result has the same structure on every
  call, so a None on meta tensors is None on every call);
* ``host``: a view of an argument, or anything else not a tensor (a scalar):
  what the fake implementation gives when run again on the call's own
  arguments after the operator (host code computes views and scalars from the
  arguments, never from data the kernels write).

Host code is the same on every call of one generated module, so the plan is
made once per module.  The operator returns the fresh leaves (one tensor, a
tuple of them, or None); :class:`OutputPlan` puts the result back together.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
import torch.utils._pytree as pytree
from torch.utils._python_dispatch import _disable_current_modes

# Leaf kinds (see the module docstring).
FRESH, ARG, SAME, OUT_VIEW, HOST, NONE = "fresh", "arg", "same", "out_view", "host", "none"


@dataclass(frozen=True)
class Leaf:
    kind: str
    index: int = -1  # FRESH: position among the op's outputs; ARG: argument; SAME/OUT_VIEW: earlier leaf
    view: tuple | None = None  # OUT_VIEW: (sizes, strides, storage offset relative to the leaf's)


@dataclass(frozen=True)
class OutputPlan:
    leaves: tuple[Leaf, ...]
    spec: Any  # the pytree spec of the kernel's result
    nfresh: int

    @property
    def identity(self) -> bool:
        """Whether the operator's result is the kernel's (one tensor, or a flat tuple of tensors)."""
        if not all(leaf.kind == FRESH for leaf in self.leaves):
            return False
        if self.spec.is_leaf():  # one tensor, not in a container
            return True
        # A one-element tuple is not: torch's schemas have no one-element tuple return.
        return self.spec.type is tuple and len(self.leaves) > 1 and all(c.is_leaf() for c in self.spec.children())

    @property
    def needs_host(self) -> bool:
        return any(leaf.kind == HOST for leaf in self.leaves)

    @property
    def static_only(self) -> bool:
        """Whether rebuilding needs concrete sizes (views of fresh outputs)."""
        return any(leaf.kind == OUT_VIEW for leaf in self.leaves)

    def return_annotation(self) -> Any:
        if self.nfresh == 0:
            return None
        if self.nfresh == 1:
            return torch.Tensor
        return typing.Tuple[(torch.Tensor,) * self.nfresh]  # noqa: UP006 (torch's schema parser)

    def op_outputs(self, result: Any) -> Any:
        """The fresh leaves of the kernel's ``result``, as the operator returns them."""
        if self.identity:
            return result
        leaves = pytree.tree_leaves(result)
        fresh = [leaves[i] for i, leaf in enumerate(self.leaves) if leaf.kind == FRESH]
        # A tensor the host code hands out twice (an op output may not alias
        # another) is a SAME leaf, so every fresh one is distinct.
        if self.nfresh == 0:
            return None
        return fresh[0] if self.nfresh == 1 else tuple(fresh)

    def as_tuple(self, outputs: Any) -> tuple:
        if self.nfresh == 0:
            return ()
        return (outputs,) if self.nfresh == 1 else tuple(outputs)

    def rebuild(self, args: Sequence[Any], outputs: Any, host: Callable[..., Any]) -> Any:
        """The kernel's result from the operator's ``outputs``; ``host`` is the
        fake implementation, run again on ``args`` when a leaf needs it."""
        if self.identity:
            return outputs
        fresh = self.as_tuple(outputs)
        again = pytree.tree_leaves(host(*args)) if self.needs_host else None
        values: list[Any] = []
        for i, leaf in enumerate(self.leaves):
            if leaf.kind == FRESH:
                values.append(fresh[leaf.index])
            elif leaf.kind == ARG:
                values.append(args[leaf.index])
            elif leaf.kind == SAME:
                values.append(values[leaf.index])
            elif leaf.kind == NONE:
                # Not made again: host code that writes an argument in place
                # (x.mul_(2)) must not run twice.
                values.append(None)
            elif leaf.kind == OUT_VIEW:
                base = values[leaf.index]
                sizes, strides, offset = leaf.view
                values.append(base.as_strided(sizes, strides, base.storage_offset() + offset))
            else:
                values.append(again[i])
        return pytree.tree_unflatten(values, self.spec)


def _hint(value: Any) -> Any:
    """A traced size, int or float as its example value (without a guard)."""
    if isinstance(value, (torch.SymInt, torch.SymFloat, torch.SymBool)):
        hint = value.node.hint
        if hint is None:  # unbacked: a typical size
            return 8192 if isinstance(value, torch.SymInt) else 1.0
        return hint
    return value


def _meta_like(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        sizes = [int(_hint(s)) for s in value.shape]
        strides = [int(_hint(s)) for s in value.stride()]
        return torch.empty_strided(sizes, strides, dtype=value.dtype, device="meta")
    return _hint(value)


def _same_storage(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch._C._is_alias_of(a, b)


def plan_outputs(fake_impl: Callable[..., Any], args: Sequence[Any]) -> OutputPlan:
    """The plan of a module's results (see the module docstring).  Raises what the
    host code raises on meta tensors (the caller then keeps the result as it is)."""
    # Outside every tracer and fake mode: this run is not part of the traced program.
    with _disable_current_modes(), torch.no_grad():
        metas = [_meta_like(a) for a in args]
        result = fake_impl(*metas)
    values, spec = pytree.tree_flatten(result)
    leaves: list[Leaf] = []
    nfresh = 0
    for i, v in enumerate(values):
        if v is None:
            leaves.append(Leaf(NONE))
            continue
        if not isinstance(v, torch.Tensor):
            leaves.append(Leaf(HOST))
            continue
        leaf = None
        for k, m in enumerate(metas):
            if isinstance(m, torch.Tensor) and v is m:
                leaf = Leaf(ARG, k)
                break
        if leaf is None and any(isinstance(m, torch.Tensor) and _same_storage(v, m) for m in metas):
            leaf = Leaf(HOST)  # a view of an argument: the host code makes it again
        if leaf is None:
            for j in range(i):
                w = values[j]
                if not isinstance(w, torch.Tensor) or leaves[j].kind != FRESH:
                    continue
                if v is w:
                    leaf = Leaf(SAME, j)
                    break
                if _same_storage(v, w):
                    view = (tuple(v.shape), tuple(v.stride()), v.storage_offset() - w.storage_offset())
                    leaf = Leaf(OUT_VIEW, j, view)
                    break
        if leaf is None:
            leaf = Leaf(FRESH, nfresh)
            nfresh += 1
        leaves.append(leaf)
    return OutputPlan(tuple(leaves), spec, nfresh)


def op_function(impl: Callable[..., Any], plan: OutputPlan, namespace: dict[str, Any]) -> Callable[..., Any]:
    """``impl`` (the module's operator implementation) returning only the fresh
    leaves, with the signature torch.library infers the operator's schema from."""
    sig = inspect.signature(impl)

    def resolve(annotation: Any) -> Any:
        # Generated modules may postpone annotations (strings); the schema needs types.
        return eval(annotation, namespace) if isinstance(annotation, str) else annotation  # noqa: S307

    params = [p.replace(annotation=resolve(p.annotation)) for p in sig.parameters.values()]
    if plan.identity:
        ret = resolve(sig.return_annotation)
    else:
        ret = plan.return_annotation()

    def op_impl(*args: Any) -> Any:
        return plan.op_outputs(impl(*args))

    op_impl.__signature__ = sig.replace(parameters=params, return_annotation=ret)  # type: ignore[attr-defined]
    op_impl.__name__ = op_impl.__qualname__ = getattr(impl, "__name__", "op_impl")
    op_impl.__module__ = getattr(impl, "__module__", __name__)
    return op_impl
