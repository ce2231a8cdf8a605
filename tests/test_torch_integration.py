"""deuteron kernels as PyTorch operators: export (strict and non-strict),
torch.compile with fullgraph, autograd through register_autograd."""

from __future__ import annotations

import pytest
import torch

import kernels_ops as K


def _reset():
    for k in (K.scale_add, K.row_softmax, K.add_into, K.mul, K.square):
        k.reset()


def _deuteron_nodes(gm):
    return [n for n in gm.graph.nodes if n.op == "call_function" and "deuteron" in str(n.target)]


@pytest.mark.parametrize("strict", [False, True])
def test_export_keeps_one_node_per_kernel(strict):
    """Export traces with fake tensors: the kernels are never run, so this needs no GPU."""
    _reset()
    x, y = torch.randn(64), torch.randn(64)
    ep = torch.export.export(K.Model(), (x, y), strict=strict)
    nodes = _deuteron_nodes(ep.graph_module)
    assert len(nodes) == 2, ep.graph_module.code
    names = sorted(str(n.target) for n in nodes)
    assert names[0].startswith("deuteron.row_softmax_") and names[1].startswith("deuteron.scale_add_")
    out = [n for n in ep.graph_module.graph.nodes if n.op == "output"][0]
    assert tuple(out.args[0][0].meta["val"].shape) == (64,)


def test_export_records_mutated_arguments():
    _reset()

    class M(torch.nn.Module):
        def forward(self, out, x):
            K.add_into(out, x)
            return out * 1

    ep = torch.export.export(M(), (torch.zeros(32), torch.randn(32)), strict=False)
    (node,) = _deuteron_nodes(ep.graph_module)
    schema = node.target._schema
    assert schema.arguments[0].alias_info is not None and schema.arguments[0].alias_info.is_write


def test_compile_fullgraph_matches_eager_and_does_not_recompile(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")  # the operator runs the reference module on the CPU
    _reset()
    model = K.Model()
    x, y = torch.randn(64), torch.randn(64)
    expect = model(x, y)
    torch.testing.assert_close(expect, torch.softmax((x * 2 + y).view(8, -1), -1).view(-1) + 1)

    graphs = []

    def backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    compiled = torch.compile(model, fullgraph=True, backend=backend)
    torch.testing.assert_close(compiled(x, y), expect)
    torch.testing.assert_close(compiled(torch.randn(64), torch.randn(64)).shape, expect.shape)
    assert len(graphs) == 1, "a second call with the same shapes must not recompile"
    # Dynamo's graph holds one call per kernel, named for it.
    calls = [str(n.target) for n in _deuteron_nodes(graphs[0])]
    assert len(calls) == 2 and any("deuteron_scale_add" in c for c in calls), graphs[0].code


def test_compile_with_aot_autograd_backend(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    _reset()
    x, y = torch.randn(64), torch.randn(64)
    compiled = torch.compile(K.Model(), fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(x, y), K.Model()(x, y))


def test_register_autograd_with_a_deuteron_backward(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    _reset()
    x = torch.randn(100, requires_grad=True)
    y = K.square(x)
    torch.testing.assert_close(y, x.detach() ** 2)
    (y * torch.arange(100.0)).sum().backward()
    torch.testing.assert_close(x.grad, 2 * x.detach() * torch.arange(100.0))
    # Without grad the call takes the plain path and still works.
    with torch.no_grad():
        torch.testing.assert_close(K.square(x), x.detach() ** 2)


class _ScaleDynamic(torch.nn.Module):
    def forward(self, x):
        return K.scale_dynamic(x, 3.0) + 1


def test_compile_with_dynamic_shapes_does_not_specialize(monkeypatch):
    """static_shapes=False: sizes marked dynamic stay symbolic (one graph for all sizes)."""
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    K.scale_dynamic.reset()
    graphs = []

    def backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    compiled = torch.compile(_ScaleDynamic(), fullgraph=True, backend=backend)
    for n in (64, 100, 257):
        x = torch.randn(n)
        torch._dynamo.mark_dynamic(x, 0)
        torch.testing.assert_close(compiled(x), x * 3 + 1)
    assert len(graphs) == 1
    assert "SymInt" in graphs[0].code, graphs[0].code  # the size is a graph input, not a constant


@pytest.mark.parametrize("strict", [False, True])
def test_export_with_a_dynamic_dim(monkeypatch, strict):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    K.scale_dynamic.reset()
    ep = torch.export.export(_ScaleDynamic(), (torch.randn(64),),
                             dynamic_shapes={"x": {0: torch.export.Dim("n")}}, strict=strict)
    assert len(_deuteron_nodes(ep.graph_module)) == 1
    for n in (50, 300):  # sizes other than the example's run through the same program
        x = torch.randn(n)
        torch.testing.assert_close(ep.module()(x), x * 3 + 1)
