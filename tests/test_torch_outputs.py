"""Kernel results through torch.library operators: a kernel that returns its
(mutated) argument, a view of it, a preallocated ``out``, one tensor twice,
scalars, None or nested containers gives the same result in eager,
torch.compile(fullgraph=True) and torch.export, though its operator returns
only fresh tensors (torch_integration/outputs.py)."""

from __future__ import annotations

import math

import pytest
import torch

import kernels_outputs as K
from conftest import fresh


def _compiled(fn, dynamic=False):
    torch._dynamo.reset()
    return torch.compile(fn, fullgraph=True, backend="aot_eager", dynamic=dynamic)


def _same(actual, expected):
    torch.testing.assert_close(actual, expected)


def _f_add_inplace(x, y):
    x = x * 2.0
    r = K.add_inplace(x, y)
    return r + 1.0, x


def test_returned_mutated_argument(mode):
    fresh(K.add_inplace)
    x, y = torch.randn(8, 16), torch.randn(8, 16)
    expect = _f_add_inplace(x, y)
    torch.testing.assert_close(expect[0], x * 2 + y + 1)
    _same(_compiled(_f_add_inplace)(x, y), expect)


def test_preallocated_out_under_compile_and_export(mode):
    fresh(K.add_into_out)

    def f(x, y, out):
        r = K.add_into_out(x * 2.0, y, out)
        return r * 0.5

    x, y = torch.randn(8, 16), torch.randn(8, 16)
    out_eager, out_compiled = torch.zeros(8, 16), torch.zeros(8, 16)
    expect = f(x, y, out_eager)
    _same(_compiled(f)(x, y, out_compiled), expect)
    _same(out_compiled, out_eager)  # the compiled program writes `out` too

    class M(torch.nn.Module):
        def forward(self, x, y, out):
            return f(x, y, out)

    for strict in (False, True):
        out_export = torch.zeros(8, 16)
        ep = torch.export.export(M(), (x, y, torch.zeros(8, 16)), strict=strict)
        _same(ep.module()(x, y, out_export), expect)
        _same(out_export, out_eager)


def test_returned_view_of_mutated_argument(mode):
    fresh(K.mutate_permuted)

    def f(x, y):
        x = x * 2.0
        r = K.mutate_permuted(x, y)
        return r + 1.0, x

    x, y = torch.randn(2, 4, 8), torch.randn(2, 4, 8)
    expect = f(x, y)
    assert expect[0].shape == (8, 2, 4)
    _same(_compiled(f)(x, y), expect)


def test_argument_and_its_view_returned(mode):
    """Two results sharing the argument's storage (an operator may return neither)."""
    fresh(K.mutate_return_view)

    def f(x, y):
        x = x * 2.0
        a, b = K.mutate_return_view(x, y)
        return a + 1.0, b * 2.0

    x, y = torch.randn(4, 8), torch.randn(4, 8)
    expect = f(x, y)
    _same(_compiled(f)(x, y), expect)


def test_mutated_argument_and_fresh_output(mode):
    fresh(K.mutate_with_out)

    def f(x, y):
        x = x * 2.0
        a, out = K.mutate_with_out(x, y)
        return a * 3.0, out, x

    x, y = torch.randn(4, 8), torch.randn(4, 8)
    _same(_compiled(f)(x, y), f(x, y))


@pytest.mark.parametrize("kernel", ["twice", "with_flat_view"])
def test_fresh_tensor_returned_twice(mode, kernel):
    k = fresh(getattr(K, kernel))

    def f(x):
        a, b = k(x * 1.0)
        return a + 1.0, b * 3.0

    x = torch.randn(4, 8)
    expect = f(x)
    _same(_compiled(f)(x), expect)

    class M(torch.nn.Module):
        def forward(self, x):
            return f(x)

    _same(torch.export.export(M(), (x,), strict=False).module()(x), expect)


def test_scalars_and_none_in_the_result(mode):
    fresh(K.with_scalars)

    def f(x):
        out, pi, n, nothing = K.with_scalars(x * 1.0)
        assert nothing is None
        return out * pi + n

    x = torch.randn(4, 8)
    expect = f(x)
    torch.testing.assert_close(expect, x * 2 * math.pi + 4)
    _same(_compiled(f)(x), expect)


def test_scalar_result_with_dynamic_shapes(mode):
    k = fresh(K.with_scalars)
    k.settings.static_shapes = False
    try:
        def f(x):
            out, pi, n, _ = k(x * 1.0)
            return out * pi + n

        compiled = _compiled(f, dynamic=True)
        for rows in (4, 6):
            x = torch.randn(rows, 8)
            torch.testing.assert_close(compiled(x), x * 2 * math.pi + rows)
    finally:
        k.settings.static_shapes = True


def test_one_element_tuple_and_nesting(mode):
    fresh(K.one_tuple)
    fresh(K.nested)

    def f(x):
        (a,) = K.one_tuple(x * 1.0)
        b, (c, d) = K.nested(x * 1.0)
        return a, b, c, d

    x = torch.randn(4, 8)
    expect = f(x)
    _same(expect, (x * 2, x + 1, x - 1, x))
    _same(_compiled(f)(x), expect)
    assert isinstance(K.one_tuple(x), tuple)


def test_kernel_without_backward_in_a_module_that_needs_grad(mode):
    """A kernel without register_autograd is opaque to autograd in every mode (its
    results do not require grad), so a module whose parameters require grad
    compiles: AOTAutograd traces its backward and finds no kernel in it."""
    fresh(K.add)

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.randn(4, 8))
            self.bias = torch.nn.Parameter(torch.randn(4, 8))

        def forward(self, x):
            return torch.relu(K.add(x * self.weight, self.bias)) + 1.0

    m, x = M(), torch.randn(4, 8)
    expect = m(x)
    assert not expect.requires_grad
    actual = _compiled(m)(x)
    _same(actual, expect)
    assert not actual.requires_grad


def test_backward_sees_the_kernels_result(mode):
    """register_autograd's functions get the kernel's result (scalar included) and one
    gradient per leaf of it, though the operator returns only the tensor."""
    fresh(K.double_pair)
    x = torch.randn(4, 8, requires_grad=True)
    out, half = K.double_pair(x)
    assert half == 0.5
    out.sum().backward()
    torch.testing.assert_close(x.grad, torch.full((4, 8), 2.0))


def test_dynamic_shapes_after_an_eager_call(mode):
    """The specialization key of traced tensors (symbolic strides) finds the eager
    call's specialization without comparing a SymBool with a bool."""
    k = fresh(K.add)
    k.settings.static_shapes = False
    try:
        def f(x, y):
            return torch.relu(k(x * 2.0, y)) + 1.0

        x, y = torch.randn(4, 8), torch.randn(4, 8)
        expect = f(x, y)
        compiled = _compiled(f, dynamic=True)
        _same(compiled(x, y), expect)
        x, y = torch.randn(6, 10), torch.randn(6, 10)
        _same(compiled(x, y), f(x, y))
    finally:
        k.settings.static_shapes = True


def test_the_result_plan_is_not_part_of_the_traced_program(mode):
    """The meta run that sorts a kernel's results runs outside the tracer."""
    from torch.fx.experimental.proxy_tensor import make_fx

    fresh(K.add_inplace)
    gm = make_fx(lambda x, y: K.add_inplace(x, y) * 2.0, tracing_mode="fake")(
        torch.randn(4, 8), torch.randn(4, 8))
    assert "meta" not in gm.code, gm.code
    assert sum("deuteron" in str(n.target) for n in gm.graph.nodes) == 1, gm.code


def test_torch_compile_fusion_is_refused_under_torch_compile(mode):
    """deuteron never fuses kernels into torch.compile graphs; asking for it raises, as
    Helion does where PyTorch cannot fuse (eager calls are unaffected)."""
    k = fresh(K.add)
    k.settings.torch_compile_fusion = True
    try:
        x = torch.randn(4, 8)
        torch.testing.assert_close(k(x, x), x + x)
        with pytest.raises(RuntimeError, match="torch_compile_fusion=True requires PyTorch nightly build"):
            _compiled(lambda a: k(a, a) + 1.0)(x)
    finally:
        k.settings.torch_compile_fusion = False
    _same(_compiled(lambda a: k(a, a) + 1.0)(x), x + x + 1.0)
