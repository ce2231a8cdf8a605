"""Kernels inside PyTorch: torch.fx GraphModules passed to kernels (inlined like a
function argument), torch.library.custom_op around a kernel, ``compile_config(...)(...,
_launcher=)`` (Helion's), fake tensors with sizes that have no value (unbacked SymInts),
``to_code`` modules that run without deuteron, and host code reading ``t.item()`` under
torch.compile / torch.export.  On the CPU in both interpret modes (conftest.py)."""

from __future__ import annotations

import operator
import os

import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.fx.experimental.symbolic_shapes import ShapeEnv

import deuteron
import deuteron.language as hl
import kernels_callables as K
from conftest import fresh


def close(a, b, tol=1e-5):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


# ------------------------------------------------------------------ GraphModules

def test_graph_module_argument(mode):
    x = torch.randn(100)
    gm = torch.fx.symbolic_trace(lambda v: torch.cos(torch.relu(v * 2) + 1))
    close(fresh(K.apply)(x, gm), torch.cos(torch.relu(x * 2) + 1))


def test_graph_module_methods_operators_and_kwargs(mode):
    def f(v):
        a = v.abs().sqrt()
        b = -(a - 0.5) ** 2
        return torch.where(b > -0.25, torch.clamp(b, min=-1.0), a.to(torch.float32) / 3)

    gm = torch.fx.symbolic_trace(f)
    x = torch.randn(77)
    close(fresh(K.apply)(x, gm), f(x))


def test_graph_modules_key_by_their_graph(mode):
    x = torch.randn(64)
    k = fresh(K.apply)
    sin1 = torch.fx.symbolic_trace(lambda v: torch.sin(v))
    sin2 = torch.fx.symbolic_trace(lambda v: torch.sin(v))
    cos = torch.fx.symbolic_trace(lambda v: torch.cos(v))
    close(k(x, sin1), torch.sin(x))
    close(k(x, cos), torch.cos(x))
    close(k(x, sin2), torch.sin(x))  # the same graph: the same compiled code
    assert len(k._bound) == 2


def test_graph_module_with_module_state_is_rejected():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(8, 8)
            self.scale = torch.nn.Parameter(torch.ones(8))

        def forward(self, v):
            return self.lin(v) * self.scale

    gm = torch.fx.symbolic_trace(M())
    with pytest.raises(deuteron.exc.GraphModuleUnsupportedOps, match="call_module, get_attr"):
        fresh(K.apply)(torch.randn(8), gm)


def test_graph_module_calling_an_unknown_function_is_a_compile_error(mode):
    gm = torch.fx.GraphModule(torch.nn.Module(), torch.fx.Graph())
    g = gm.graph
    v = g.placeholder("v")
    g.output(g.call_function(operator.concat, (v, v)))
    gm.recompile()
    with pytest.raises(deuteron.exc.CompileError, match="the GraphModule calls concat"):
        fresh(K.apply)(torch.randn(8), gm)


def test_graph_module_source():
    from deuteron.runtime.source import graph_module_function

    gm = torch.fx.symbolic_trace(lambda v: torch.sin(v + 1)[None, ...])
    text, env = graph_module_function(gm, "f")
    assert text.splitlines()[0] == "def f(v):"
    assert "(v + 1)" in text and "[(None, ..., )]" in text
    assert env["_fx_fn0"] is torch.sin


# --------------------------------------------------- PyTorch's machinery around kernels

@torch.library.custom_op("deuteron_test::sub_one", mutates_args=())
@deuteron.kernel(config=deuteron.Config(block_sizes=[8, 8]))
def sub_one(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] - 1.0
    return out


@sub_one.register_fake
def _(x):
    return torch.empty_like(x)


def test_kernel_as_a_custom_op(mode):
    x = torch.randn(16, 24)
    close(torch.ops.deuteron_test.sub_one(x), x - 1)
    close(sub_one(x), x - 1)


@deuteron.kernel(config=deuteron.Config(block_sizes=[8, 8]))
def add2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + y[tile]
    return out


def test_compile_config_with_a_launcher(mode):
    x, y = torch.randn(16, 24), torch.randn(16, 24)
    bound = fresh(add2).bind((x, y))
    run = bound.compile_config(bound.default_config())
    calls = []
    out = run(x, y, _launcher=lambda *a, **kw: calls.append((a, kw)))
    assert out.shape == x.shape
    if bound.backend == "triton":
        # Each launch went to the launcher (the kernel, its grid, its arguments), none ran.
        assert len(calls) == 1 and callable(calls[0][0][0]) and "num_warps" in calls[0][1]

        def launch(kernel, grid, *args, num_warps, num_stages):
            return kernel[grid](*args, num_warps=num_warps, num_stages=num_stages)

        close(run(x, y, _launcher=launch), x + y)
    else:
        assert calls == [] and torch.equal(out, x + y)  # the reference back end has no launches
    close(run(x, y), x + y)


def _unbacked_fakes(shape):
    shape_env = ShapeEnv()
    mode = FakeTensorMode(shape_env=shape_env)
    with mode:
        sizes = []
        for _ in shape:
            s = shape_env.create_unbacked_symint()
            torch._check(s >= 2)
            torch._check(s <= 4096)
            sizes.append(s)
        x = torch.empty(sizes)
        y = torch.empty(sizes)
    return x, y, mode


@pytest.mark.parametrize("static_shapes", [True, False])
def test_unbacked_sizes_bind_with_dynamic_shapes(mode, static_shapes):
    k = deuteron.kernel(add2.fn, static_shapes=static_shapes)
    x, y, fake_mode = _unbacked_fakes((4, 8))
    with fake_mode:
        bound = k.bind((x, y))
        # Sizes with no value cannot be compiled in: static_shapes=True binds them dynamically.
        assert bound.settings.static_shapes is False
        out = bound.compile_config(bound.default_config())(x, y, _launcher=lambda *a, **kw: None)
        assert out.shape == x.shape and out.dtype == x.dtype


# ------------------------------------------------------ to_code: standalone modules

_RUN_WITHOUT_DEUTERON = """
import sys
sys.modules["deuteron"] = None  # any import of deuteron (or helion) fails loudly
sys.modules["helion"] = None
import importlib.util
import torch
spec = importlib.util.spec_from_file_location("standalone", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
x, y = torch.randn(40, 24), torch.randn(40, 24)
torch.testing.assert_close(getattr(mod, sys.argv[2])(x, y), x + y * SCALE)
print("STANDALONE_OK")
"""

SCALE = 3


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 8]), static_shapes=False)
def add_scaled(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + y[tile] * SCALE
    return out


def test_to_code_without_deuteron_runs_alone(mode, tmp_path):
    import subprocess
    import sys

    x, y = torch.randn(8, 8), torch.randn(8, 8)
    bound = fresh(add_scaled).bind((x, y))
    code = bound.to_code(options=deuteron.OutputCodeOptions(allow_helion_deps=False))
    assert "import deuteron" not in code and "from deuteron" not in code
    assert bound.to_code() == bound.generate(add_scaled.configs[0])  # the decorator's config
    path = tmp_path / "standalone.py"
    path.write_text(code)
    script = _RUN_WITHOUT_DEUTERON.replace("SCALE", str(SCALE))
    # Other shapes than the bound one (static_shapes=False).
    r = subprocess.run([sys.executable, "-c", script, str(path), "add_scaled"], capture_output=True, text=True)
    assert "STANDALONE_OK" in r.stdout, r.stderr


@deuteron.kernel(static_shapes=False)
def repro_me(t: torch.Tensor, i: int, s: str, b: bool, f: float, dt: torch.dtype,
             zero_dim_t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out = torch.full_like(t, SCALE, dtype=dt)
    for tile in hl.tile(t.size()):
        if b and len(s) > 2:
            out[tile] = (t[tile] + i + f * SCALE).to(dt)
        else:
            out[tile] = t[tile].to(dt)
    return out, zero_dim_t


@pytest.mark.parametrize("backend", ["triton", "reference"])
def test_to_code_repro_caller_runs_alone(mode, tmp_path, backend):
    # emit_repro_caller=True (Helion's): the module is a script calling the host function on
    # inputs of the bound sizes, strides and dtypes, with the globals its host code reads defined.
    import subprocess
    import sys

    t = torch.randn(16, 3).t()  # strided
    bound = fresh(repro_me).bind((t, 2, "foo", True, 1.5, torch.float64, t.sum()))
    cfg = bound.default_config()
    code = bound.generate(cfg, backend)
    repro = (bound.to_triton_code(cfg, emit_repro_caller=True) if backend == "triton"
             else bound.to_code(cfg, emit_repro_caller=True) if bound.backend == "reference"
             else None)
    if repro is None:
        pytest.skip("to_code gives the reference module in interpret mode only")
    assert repro.startswith(code.split("\n", 1)[0]) and "def call():" in repro
    assert "rand_strided((3, 16), (1, 3), dtype=torch.float32" in repro
    assert "SCALE = 3" in repro  # the module global the host code reads
    path = tmp_path / "repro.py"
    path.write_text(repro)
    env = {k: v for k, v in os.environ.items() if k not in ("DEUTERON_INTERPRET", "TRITON_INTERPRET")}
    r = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    check = ("import runpy, sys, torch\n"
             "out, z = runpy.run_path(sys.argv[1])['call']()\n"
             "assert out.shape == (3, 16) and out.dtype == torch.float64 and z.dim() == 0\n"
             "print('REPRO_OK')\n")
    r = subprocess.run([sys.executable, "-c", check, str(path)], capture_output=True, text=True, env=env)
    assert "REPRO_OK" in r.stdout, r.stderr


def test_to_code_repro_caller_of_unwritable_arguments_parses(mode):
    import ast

    bound = fresh(K.apply).bind((torch.ones(4), lambda a: a * 2))
    code = bound.to_triton_code(bound.default_config(), emit_repro_caller=True)
    ast.parse(code)
    assert '"UNSUPPORTED TYPE - REPLACE"' in code


def test_to_code_options_errors(mode):
    x = torch.randn(8, 8)
    bound = fresh(add_scaled).bind((x, x))
    with pytest.raises(deuteron.exc.InputError, match="Pallas"):
        bound.to_code(options=deuteron.OutputCodeOptions(jax_fn=True))


def test_kernel_for_another_backend_is_defined_but_not_bound():
    k = deuteron.kernel(add2.fn, backend="pallas")
    with pytest.raises(deuteron.exc.InputError, match="'pallas' back end"):
        k(torch.randn(4, 4), torch.randn(4, 4))


# ---------------------------------- torch.compile / export: scalars read from tensors

@deuteron.kernel(config=deuteron.Config(block_sizes=[16]))
def first_n_doubled(x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    m = n.item()
    out = torch.zeros_like(x)
    for tile in hl.tile(m):
        out[tile] = x[tile] * 2
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16]))
def scaled_by_item(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * s.item()
    return out


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_item_in_host_code_under_torch_compile(mode, backend):
    # The fake implementation reads n.item() too: an unbacked SymInt no output holds.
    torch._dynamo.reset()
    x = torch.randn(64)
    fresh(first_n_doubled), fresh(scaled_by_item)
    f = torch.compile(lambda a, b: first_n_doubled(a, b) + 1, fullgraph=True, backend=backend)
    for n in (20, 5):
        close(f(x, torch.tensor(n)), first_n_doubled(x, torch.tensor(n)) + 1)
    g = torch.compile(lambda a, b: scaled_by_item(a, b) - 1, fullgraph=True, backend=backend)
    close(g(x, torch.tensor(3.0)), x * 3 - 1)


@pytest.fixture
def as_triton_op(monkeypatch):
    """Makes the operators of Triton modules torch.library.triton_ops, as on the GPU,
    though the kernels run under Triton's interpreter.  torch.compile(backend="eager")
    and export propagate fake tensors through the call and run it on real tensors.
    wrap_triton takes no interpreter function: here a launch on fake tensors does
    nothing (what wrap_triton's traced launch does to them) and one on real tensors
    runs the kernel."""
    import deuteron.torch_integration as ti

    class Launch:
        def __init__(self, kernel):
            self.kernel = kernel

        def __getitem__(self, grid):
            def launch(*args, **kwargs):
                if any(isinstance(a, torch.Tensor) and type(a) is not torch.Tensor for a in args):
                    return None
                return self.kernel[grid](*args, **kwargs)

            return launch

    monkeypatch.setattr(ti._modules, "interprets_triton", lambda module: False)
    monkeypatch.setattr(torch.library, "wrap_triton", Launch)


@pytest.mark.parametrize("strict", [False, True])
def test_item_in_host_code_of_a_triton_op(mode, as_triton_op, strict):
    # The GPU's operator kind: a triton_op, whose fake implementation must not read
    # n.item() into an unbacked SymInt (PendingUnbackedSymbolNotFound in Dynamo).
    torch._dynamo.reset()
    x = torch.randn(64)
    fresh(first_n_doubled), fresh(scaled_by_item)
    f = torch.compile(lambda a, b: first_n_doubled(a, b) + 1, fullgraph=True, backend="eager")
    for n in (20, 5):
        close(f(x, torch.tensor(n)), first_n_doubled(x, torch.tensor(n)) + 1)
    g = torch.compile(lambda a, b: scaled_by_item(a, b) - 1, fullgraph=True, backend="eager")
    close(g(x, torch.tensor(3.0)), x * 3 - 1)

    class M(torch.nn.Module):
        def forward(self, a, b):
            return first_n_doubled(a, b) + 1

    ep = torch.export.export(M(), (x, torch.tensor(20)), strict=strict)
    close(ep.module()(x, torch.tensor(7)), fresh(first_n_doubled)(x, torch.tensor(7)) + 1)


@pytest.mark.parametrize("strict", [False, True])
def test_item_in_host_code_under_export(mode, strict):
    class M(torch.nn.Module):
        def forward(self, a, b):
            return first_n_doubled(a, b) + 1

    x = torch.randn(64)
    ep = torch.export.export(M(), (x, torch.tensor(20)), strict=strict)
    close(ep.module()(x, torch.tensor(7)), fresh(first_n_doubled)(x, torch.tensor(7)) + 1)
