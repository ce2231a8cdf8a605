"""torch.compile / torch.export of kernels that write an argument through a
host view of it, or that take structured, dtype or string arguments, or that
have static shapes under torch.compile(dynamic=True).

A write through ``y = x.view(-1)`` is a write to ``x``: the kernel's
torch.library operator must list ``x`` as mutated, or AOTAutograd's
functionalization drops or reorders the write (a silent wrong answer).
These run in interpret mode on the CPU."""

from __future__ import annotations

import pytest
import torch

import kernels_views as V
from deuteron import torch_integration as ti


@pytest.fixture(autouse=True)
def _interpret(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")  # the operator runs the reference module on the CPU
    torch._dynamo.reset()


def _op(kernel, *args):
    """The torch.library operator a traced call of `kernel` with `args` uses."""
    bound = kernel.bind(args)
    return ti.op_for(bound, bound.config_for_tracing(args), args)


def _written(kop):
    schema = kop.op._opoverload._schema
    return {a.name for a in schema.arguments if a.alias_info is not None and a.alias_info.is_write}


def _mutating_program(kernel):
    # The kernel's write is only seen through x afterwards: an operator that
    # does not declare it mutates x is dropped or reordered by functionalization.
    def f(x):
        x = x * 2
        kernel(x)
        return x + 1
    return f


VIEW_KERNELS = [
    (V.via_view, (64,)),
    (V.via_view_of_size, (64,)),
    (V.via_reshape, (8, 8)),
    (V.via_flatten, (4, 16)),
    (V.via_permute, (8, 12)),
    (V.via_chain, (8, 12)),
    (V.via_getitem, (3, 16)),
    (V.via_contiguous, (40,)),
]


def _check_write_through_view(kernel, shape, backend):
    kernel.reset()
    f = _mutating_program(kernel)
    x = torch.randn(*shape)
    expect = f(x.clone())
    assert not torch.equal(expect, x * 2 + 1)  # the kernel wrote something
    got = torch.compile(f, fullgraph=True, backend=backend)(x.clone())
    torch.testing.assert_close(got, expect)
    assert _written(_op(kernel, x)) == {"x"}


@pytest.mark.parametrize("kernel,shape", VIEW_KERNELS, ids=[k.fn.__name__ for k, _ in VIEW_KERNELS])
def test_write_through_a_view_under_compile(kernel, shape):
    _check_write_through_view(kernel, shape, "aot_eager")


def test_write_through_a_view_under_inductor():
    _check_write_through_view(V.via_permute, (8, 12), "inductor")


def test_reading_through_a_view_is_no_mutation():
    V.reads_view.reset()
    x = torch.randn(4, 8)
    assert _written(_op(V.reads_view, x)) == set()
    got = torch.compile(lambda x: V.reads_view(x) * 2, fullgraph=True, backend="aot_eager")(x)
    torch.testing.assert_close(got, (x.view(-1) + 1) * 2)


@pytest.mark.parametrize("kernel", [V.via_reshape, V.via_flatten], ids=["reshape", "flatten"])
def test_write_through_reshape_of_a_non_contiguous_argument(kernel):
    """reshape copies a non-contiguous tensor: eager does not change x, and
    neither may the compiled program (the declared mutation writes x's own values back)."""
    kernel.reset()
    f = _mutating_program(kernel)
    x = torch.randn(8, 6).t()
    expect = f(x.clone())
    torch.testing.assert_close(expect, x * 2 + 1)
    torch.testing.assert_close(torch.compile(f, fullgraph=True, backend="aot_eager")(x.clone()), expect)


def test_export_records_a_write_through_a_view():
    V.via_permute.reset()

    class M(torch.nn.Module):
        def forward(self, x):
            x = x * 2
            V.via_permute(x)
            return x + 1

    x = torch.randn(8, 12)
    ep = torch.export.export(M(), (x,), strict=False)
    torch.testing.assert_close(ep.module()(x.clone()), M()(x.clone()))


# ------------------------------------------ structured / dtype / string arguments

@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_tuple_argument_under_compile_fullgraph(backend):
    V.pair_sum.reset()
    a, b = torch.randn(40), torch.randn(40)
    f = torch.compile(lambda a, b: V.pair_sum((a, b), 3) + 1, fullgraph=True, backend=backend)
    torch.testing.assert_close(f(a, b), a + b * 3 + 1)


def test_namedtuple_dtype_and_string_arguments_under_compile():
    V.scaled.reset()
    x = torch.randn(33)
    f = torch.compile(lambda x: V.scaled(V.Scaled(x, 0.5), torch.float64, "square"), fullgraph=True,
                      backend="aot_eager")
    out = f(x)
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, (x * x * 0.5).double())
    g = torch.compile(lambda x: V.scaled(V.Scaled(x, 2.0), torch.float32, "plain"), fullgraph=True,
                      backend="aot_eager")
    torch.testing.assert_close(g(x), x * 2.0)


def test_dataclass_argument_under_non_strict_export():
    """Dynamo cannot hand a dataclass to a function allowed in the graph (torch.compile
    breaks the graph there); non-strict export traces the call itself."""
    V.axpy.reset()

    class M(torch.nn.Module):
        def forward(self, x, y):
            return V.axpy(V.AxpyArgs(x, y, 2.0, torch.float64)) - 1

    x, y = torch.randn(20), torch.randn(20)
    ep = torch.export.export(M(), (x, y), strict=False)
    nodes = [n for n in ep.graph_module.graph.nodes if n.op == "call_function" and "deuteron" in str(n.target)]
    assert len(nodes) == 1, ep.graph_module.code
    out = ep.module()(x, y)
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, (2.0 * x + y).double() - 1)


def test_dict_argument_written_under_compile():
    V.dict_into.reset()

    def f(out, x):
        out = out * 1
        V.dict_into({"out": out, "x": x})
        return out + 0

    out, x = torch.randn(24), torch.randn(24)
    expect = f(out, x)
    torch.testing.assert_close(torch.compile(f, fullgraph=True, backend="aot_eager")(out, x), expect)
    names = _written(_op(V.dict_into, {"out": out, "x": x}))
    assert "d_out" in names


@pytest.mark.parametrize("strict", [False, True])
def test_export_with_structured_arguments(strict):
    V.pair_sum.reset()
    V.scaled.reset()

    class M(torch.nn.Module):
        def forward(self, a, b):
            s = V.pair_sum((a, b), 2)
            return V.scaled(V.Scaled(s, 3.0), torch.float32, "plain")

    a, b = torch.randn(16), torch.randn(16)
    ep = torch.export.export(M(), (a, b), strict=strict)
    nodes = [n for n in ep.graph_module.graph.nodes if n.op == "call_function" and "deuteron" in str(n.target)]
    assert len(nodes) == 2, ep.graph_module.code
    torch.testing.assert_close(ep.module()(a, b), (a + b * 2) * 3.0)


# ------------------------------------------ static shapes under dynamic=True

def test_static_shapes_kernel_under_compile_dynamic():
    """static_shapes=True compiles sizes in: a symbolic size is specialized (guarded), not a crash."""
    V.static_add.reset()
    f = torch.compile(lambda x, y: V.static_add(x, y) * 2, dynamic=True, fullgraph=True, backend="aot_eager")
    for shape in ((4, 8), (6, 10), (4, 8)):
        x, y = torch.randn(*shape), torch.randn(*shape)
        torch.testing.assert_close(f(x, y), (x + y) * 2)
    assert len(V.static_add._bound) == 2


@pytest.mark.parametrize("kernel", [V.host_in_place, V.host_in_place_view], ids=["method_and_setitem", "method_on_view"])
def test_host_code_writing_an_argument_under_compile(kernel):
    kernel.reset()

    def f(x):
        x = x * 1
        out = torch.empty(x.numel())
        kernel(x, out)
        return x.sum() + out

    x = torch.randn(16)
    expect = f(x.clone())
    torch.testing.assert_close(torch.compile(f, fullgraph=True, backend="aot_eager")(x.clone()), expect)
    assert _written(_op(kernel, x, torch.empty(16))) == {"x", "out"}


def test_reshape_with_dynamic_shapes_views_or_copies_at_run_time():
    k = V.via_reshape_dynamic
    k.reset()
    x = torch.randn(6, 4)
    expect = x * 2
    k(x)  # a view: x is written
    torch.testing.assert_close(x, expect)
    x = torch.randn(6, 4).t()
    expect = x.clone()
    k(x)  # a copy: x is not
    torch.testing.assert_close(x, expect)
    f = _mutating_program(k)
    for x in (torch.randn(5, 7), torch.randn(7, 5).t()):
        torch.testing.assert_close(torch.compile(f, fullgraph=True, backend="aot_eager")(x.clone()), f(x.clone()))
    assert _written(_op(k, x)) == {"x"}
