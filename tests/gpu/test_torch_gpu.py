"""deuteron kernels inside PyTorch's compilers on the GPU: torch.compile with
Inductor (the kernels as triton_op), dynamic shapes, torch.export (strict and
non-strict), AOTInductor packages loaded from Python and from C++
(torch::inductor::AOTIModelPackageLoader), and autograd."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_ops as K  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_state():
    for k in (K.scale_add, K.row_softmax, K.add_into, K.mul, K.square, K.scale_dynamic):
        k.reset()
    torch._dynamo.reset()


def _inputs(n: int = 4096):
    g = torch.Generator(device="cuda").manual_seed(0)
    return (torch.randn(n, device="cuda", generator=g), torch.randn(n, device="cuda", generator=g))


def _expect(x, y):
    return torch.softmax((x * 2 + y).view(8, -1), -1).view(-1) + 1


def _deuteron_nodes(gm):
    return [n for n in gm.graph.nodes if n.op == "call_function" and "deuteron" in str(n.target)]


def test_compile_inductor_fullgraph_no_recompile():
    from torch._inductor.compile_fx import compile_fx

    graphs = []

    def backend(gm, example_inputs):
        graphs.append(gm)
        return compile_fx(gm, example_inputs)

    x, y = _inputs()
    model = torch.compile(K.Model(), fullgraph=True, backend=backend)
    torch.testing.assert_close(model(x, y), _expect(x, y))
    x2, y2 = _inputs()
    torch.testing.assert_close(model(x2 * 3, y2), _expect(x2 * 3, y2))
    assert len(graphs) == 1, "the second call must not recompile"
    assert len(_deuteron_nodes(graphs[0])) == 2, graphs[0].code


def test_compile_inductor_dynamic_shapes():
    class M(torch.nn.Module):
        def forward(self, x):
            return K.scale_dynamic(x, 3.0).sin()

    model = torch.compile(M(), fullgraph=True, dynamic=True)
    for n in (1000, 4096, 12345):
        x = torch.randn(n, device="cuda")
        torch.testing.assert_close(model(x), (x * 3).sin())


@pytest.mark.parametrize("strict", [False, True])
def test_export_runs_on_gpu(strict):
    x, y = _inputs()
    ep = torch.export.export(K.Model(), (x, y), strict=strict)
    assert len(_deuteron_nodes(ep.graph_module)) == 2
    torch.testing.assert_close(ep.module()(x, y), _expect(x, y))


def _aoti_package(tmp_path: Path) -> tuple[Path, tuple]:
    x, y = _inputs(64)
    ep = torch.export.export(K.Model(), (x, y), strict=False)
    path = torch._inductor.aoti_compile_and_package(ep, package_path=str(tmp_path / "model.pt2"))
    return Path(path), (x, y)


PY_LOADER = """
import sys, torch
runner = torch._inductor.aoti_load_package(sys.argv[1])
x = torch.arange(64, dtype=torch.float32, device="cuda") / 64.0
y = (torch.arange(64, dtype=torch.float32, device="cuda") * 0.5).sin()
for v in runner(x, y).cpu().tolist():
    print(repr(v))
"""


def _loader_inputs():
    x = torch.arange(64, dtype=torch.float32, device="cuda") / 64.0
    y = (torch.arange(64, dtype=torch.float32, device="cuda") * 0.5).sin()
    return x, y


class _PlainModel(torch.nn.Module):
    def forward(self, x, y):
        return x * 2 + y


_PLAIN_LOADER = """
import sys, torch
runner = torch._inductor.aoti_load_package(sys.argv[1])
x = torch.ones(64, device="cuda")
assert torch.equal(runner(x, x), x * 3)
"""


def _xfail_if_plain_torch_aoti_load_crashes(tmp_path: Path, returncode: int) -> None:
    """A failed load of our package counts against deuteron only if PyTorch can load a
    package of plain torch ops on this machine.  On the H200 (torch 2.11+cu130) every
    `aoti_load_package` in Python segfaulted (or, in a later run, hung), for a plain `x * 2 + y` too
    (benchmarks/aoti_probe.py), while the C++ loader ran the same packages."""
    x = torch.ones(64, device="cuda")
    ep = torch.export.export(_PlainModel(), (x, x), strict=False)
    plain = torch._inductor.aoti_compile_and_package(ep, package_path=str(tmp_path / "plain.pt2"))
    try:
        run = subprocess.run([sys.executable, "-c", _PLAIN_LOADER, plain], capture_output=True, text=True,
                             timeout=240)
    except subprocess.TimeoutExpired:  # seen on the H200 too: the load hangs instead of crashing
        pytest.xfail(f"aoti_load_package hangs for a plain PyTorch model on this machine (ours: exit "
                     f"{returncode}): a PyTorch problem, not deuteron's")
    if run.returncode != 0:
        pytest.xfail(f"aoti_load_package fails for a plain PyTorch model as well on this machine "
                     f"(exit {run.returncode}; ours: exit {returncode}): a PyTorch problem, not deuteron's")


def test_aoti_package_from_python(tmp_path):
    # Loaded as a deployment loads it: a fresh Python process that imports
    # torch only (no deuteron, no Triton).
    path, _ = _aoti_package(tmp_path)
    run = subprocess.run([sys.executable, "-c", PY_LOADER, str(path)], capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        _xfail_if_plain_torch_aoti_load_crashes(tmp_path, run.returncode)
    assert run.returncode == 0, run.stderr[-4000:]
    got = torch.tensor([float(v) for v in run.stdout.split()])
    x, y = _loader_inputs()
    torch.testing.assert_close(got, _expect(x, y).cpu())


IN_PROCESS = """
import sys, torch
sys.path.insert(0, sys.argv[1])
import kernels_ops as K
x, y = torch.randn(64, device="cuda"), torch.randn(64, device="cuda")
ep = torch.export.export(K.Model(), (x, y), strict=False)
path = torch._inductor.aoti_compile_and_package(ep, package_path=sys.argv[2])
runner = torch._inductor.aoti_load_package(path)
torch.testing.assert_close(runner(x, y), K.Model()(x, y))
print("ok")
"""


def test_aoti_package_loads_in_the_process_that_built_it(tmp_path):
    # In a subprocess: on the H200 (torch 2.11) this load segfaulted in
    # AOTIModelPackageLoader (as it did for plain PyTorch models), which must
    # fail this test, not end the session.
    tests = str(Path(__file__).resolve().parents[1])
    run = subprocess.run([sys.executable, "-X", "faulthandler", "-c", IN_PROCESS, tests, str(tmp_path / "m.pt2")],
                         capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        _xfail_if_plain_torch_aoti_load_crashes(tmp_path, run.returncode)
    assert run.returncode == 0 and "ok" in run.stdout, run.stderr[-4000:]


CPP_LOADER = r"""
#include <cstdio>
#include <torch/torch.h>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>

// Runs the AOTInductor package on inputs the Python side rebuilds the same way,
// and prints the output, one value per line.
int main(int argc, char** argv) {
  if (argc != 2) { std::fprintf(stderr, "usage: %s model.pt2\n", argv[0]); return 2; }
  torch::inductor::AOTIModelPackageLoader loader(argv[1]);
  auto opts = torch::dtype(torch::kFloat32).device(torch::kCUDA);
  torch::Tensor x = torch::arange(64, opts).div(64.0);
  torch::Tensor y = torch::arange(64, opts).mul(0.5).sin();
  std::vector<torch::Tensor> outs = loader.run({x, y});
  torch::Tensor o = outs.at(0).cpu().contiguous();
  for (int64_t i = 0; i < o.numel(); ++i) std::printf("%.9g\n", o.data_ptr<float>()[i]);
  return 0;
}
"""


def test_aoti_package_from_cpp(tmp_path):
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.fail("the C++ loader test needs g++ on the GPU machine")
    path, _ = _aoti_package(tmp_path)
    src = tmp_path / "load.cc"
    src.write_text(CPP_LOADER)
    tdir = Path(torch.__file__).parent
    abi = int(torch._C._GLIBCXX_USE_CXX11_ABI)
    exe = tmp_path / "load"
    cmd = [cxx, "-std=c++20", "-O1", str(src), "-o", str(exe), f"-D_GLIBCXX_USE_CXX11_ABI={abi}",
           f"-I{tdir / 'include'}", f"-I{tdir / 'include' / 'torch' / 'csrc' / 'api' / 'include'}",
           f"-I{sysconfig.get_paths()['include']}",
           f"-L{tdir / 'lib'}", f"-Wl,-rpath,{tdir / 'lib'}",
           "-Wl,--no-as-needed", "-ltorch", "-ltorch_cpu", "-ltorch_cuda", "-lc10", "-lc10_cuda"]
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-4000:]
    run = subprocess.run([str(exe), str(path)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "LD_LIBRARY_PATH": str(tdir / "lib")})
    assert run.returncode == 0, run.stderr[-4000:]
    got = torch.tensor([float(v) for v in run.stdout.split()])
    x, y = _loader_inputs()
    torch.testing.assert_close(got, _expect(x, y).cpu())


def test_autograd_with_a_deuteron_backward_on_gpu():
    x = torch.randn(1000, device="cuda", requires_grad=True)
    w = torch.arange(1000.0, device="cuda")
    (K.square(x) * w).sum().backward()
    torch.testing.assert_close(x.grad, 2 * x.detach() * w)


def test_compiled_training_step_uses_the_registered_backward():
    x = torch.randn(1000, device="cuda", requires_grad=True)
    f = torch.compile(lambda t: K.square(t).sum(), fullgraph=True)
    f(x).backward()
    torch.testing.assert_close(x.grad, 2 * x.detach())


def test_compile_inductor_kernels_returning_arguments_views_and_scalars():
    """triton_op on the GPU: the operator returns only fresh tensors, the traced
    call rebuilds what the kernel returns (tests/test_torch_outputs.py on the CPU)."""
    import kernels_outputs as O

    for k in (O.add_inplace, O.mutate_return_view, O.with_scalars, O.twice):
        k.reset()

    def f(x, y):
        x = x * 2.0
        r = O.add_inplace(x, y)
        a, b = O.mutate_return_view(x * 1.0, y)
        out, pi, n, _ = O.with_scalars(y * 1.0)
        c, d = O.twice(y * 1.0)
        return r + 1.0, a, b * 2.0, out * pi + n, c + d, x

    x, y = torch.randn(8, 16, device="cuda"), torch.randn(8, 16, device="cuda")
    expect = f(x.clone(), y.clone())
    actual = torch.compile(f, fullgraph=True)(x.clone(), y.clone())
    torch.testing.assert_close(actual, expect)
