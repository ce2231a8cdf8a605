"""Kernels inside PyTorch on the GPU: GraphModule arguments, host code reading
t.item() under torch.compile (Inductor: the kernel is a triton_op) and export,
compile_config(_launcher=), and to_code modules that run without deuteron."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import deuteron
import deuteron.language as hl

pytestmark = pytest.mark.gpu


@pytest.fixture(autouse=True)
def _fresh_state():
    torch._dynamo.reset()


@deuteron.kernel(config=deuteron.Config(block_sizes=[128]))
def apply(x: torch.Tensor, fn) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = fn(x[tile])
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[128]))
def first_n_doubled(x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    m = n.item()
    out = torch.zeros_like(x)
    for tile in hl.tile(m):
        out[tile] = x[tile] * 2
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[32, 32]), static_shapes=False)
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + y[tile]
    return out


def test_graph_module_argument():
    x = torch.randn(5000, device="cuda")
    gm = torch.fx.symbolic_trace(lambda v: torch.cos(torch.relu(v * 2) + 1))
    torch.testing.assert_close(apply(x, gm), torch.cos(torch.relu(x * 2) + 1))


def test_item_under_torch_compile_and_export():
    x = torch.randn(4096, device="cuda")
    f = torch.compile(lambda a, b: first_n_doubled(a, b) + 1, fullgraph=True)
    for n in (1000, 77):
        torch.testing.assert_close(f(x, torch.tensor(n, device="cuda")),
                                   first_n_doubled(x, torch.tensor(n, device="cuda")) + 1)

    class M(torch.nn.Module):
        def forward(self, a, b):
            return first_n_doubled(a, b) + 1

    ep = torch.export.export(M(), (x, torch.tensor(100, device="cuda")), strict=False)
    n = torch.tensor(300, device="cuda")
    torch.testing.assert_close(ep.module()(x, n), first_n_doubled(x, n) + 1)


def test_compile_config_with_a_launcher():
    x, y = torch.randn(100, 70, device="cuda"), torch.randn(100, 70, device="cuda")
    bound = add.bind((x, y))
    run = bound.compile_config()
    seen = []

    def launch(kernel, grid, *args, num_warps, num_stages):
        seen.append(grid)
        return kernel[grid](*args, num_warps=num_warps, num_stages=num_stages)

    torch.testing.assert_close(run(x, y, _launcher=launch), x + y)
    assert len(seen) == 1


SCRIPT = """
import sys
sys.modules["deuteron"] = None
import importlib.util, torch
spec = importlib.util.spec_from_file_location("standalone", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
for shape in ((128, 128), (300, 70)):
    x, y = torch.randn(shape, device="cuda"), torch.randn(shape, device="cuda")
    torch.testing.assert_close(mod.add(x, y), x + y)
print("STANDALONE_OK")
"""


@pytest.mark.parametrize("indexing", ["pointer", "tensor_descriptor"])
@pytest.mark.parametrize("pid_type", ["flat", "persistent_blocked"])
def test_to_code_runs_without_deuteron(tmp_path, indexing, pid_type):
    if indexing == "tensor_descriptor" and torch.cuda.get_device_capability() < (9, 0):
        pytest.skip("tensor descriptors need sm_90")
    x = torch.randn(128, 128, device="cuda")
    cfg = deuteron.Config(block_sizes=[32, 32], indexing=indexing, pid_type=pid_type)
    code = add.bind((x, x)).to_code(cfg, options=deuteron.OutputCodeOptions(allow_helion_deps=False))
    path = tmp_path / "standalone.py"
    path.write_text(code)
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True)
    assert "STANDALONE_OK" in r.stdout, r.stderr


@deuteron.kernel(static_shapes=False)
def scale_if(t: torch.Tensor, b: bool, f: float, s: str) -> torch.Tensor:
    out = torch.empty_like(t)
    for tile in hl.tile(t.size()):
        if b and len(s) > 2:
            out[tile] = t[tile] * f
        else:
            out[tile] = t[tile]
    return out


def test_repro_caller_runs_on_the_gpu(tmp_path):
    # to_triton_code(emit_repro_caller=True): the module as a script calling the kernel on
    # CUDA inputs like the bound ones (no interpreter: the inputs are on the GPU).
    t = torch.randn(64, 48, device="cuda").t()
    bound = scale_if.bind((t, True, 1.5, "abc"))
    code = bound.to_triton_code(bound.default_config(), emit_repro_caller=True)
    assert "TRITON_INTERPRET" not in code and "device='cuda:0'" in code
    path = tmp_path / "repro.py"
    path.write_text(code)
    check = ("import runpy, sys, torch\n"
             "out = runpy.run_path(sys.argv[1])['call']()\n"
             "assert out.is_cuda and out.shape == (48, 64)\n"
             "print('REPRO_OK')\n")
    r = subprocess.run([sys.executable, "-c", check, str(path)], capture_output=True, text=True)
    assert "REPRO_OK" in r.stdout, r.stderr
