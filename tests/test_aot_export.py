"""Export to C++ (deuteron.aot, `deuteron export`) on a machine without a GPU.

Exports softmax, matmul and two kernels with scalar arguments for sm_90 (real cubins,
compiled by Triton without a GPU), checks the generated files, builds the generated
CMake package and examples/cpp against it (installed, find_package), and runs a C++
program against the fake libcuda of cpp/tests/fake_cuda, which records every launch:
kernel, grid, block, shared memory, and the bytes of every parameter.  The same package
with stand-in cubins is what the fake driver loads.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron.runtime.env import triton_interpret

pytestmark = pytest.mark.skipif(triton_interpret(),
                                reason="compiles real Triton kernels; run without TRITON_INTERPRET")

ROOT = Path(__file__).resolve().parents[1]
FAKE_CUDA = ROOT / "cpp" / "tests" / "fake_cuda"
HAVE_TOOLS = shutil.which("cmake") is not None and shutil.which("g++") is not None
needs_tools = pytest.mark.skipif(not HAVE_TOOLS, reason="needs cmake and g++")


@deuteron.kernel(autotune_effort="none")
def scale_rows(x: torch.Tensor, n_rows: int, alpha: float, shift: int) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile in hl.tile(n_rows):
        out[tile, :] = x[tile, :] * alpha + shift
    return out


@deuteron.kernel(autotune_effort="none")
def normalize_rows(x: torch.Tensor) -> torch.Tensor:
    n, m = x.size()
    partial = torch.empty([n], dtype=torch.float32, device=x.device)
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        partial[tile] = x[tile, :].to(torch.float32).sum(-1)
    hl.barrier()
    for tile in hl.tile(n):
        out[tile, :] = (x[tile, :].to(torch.float32) / partial[tile][:, None]).to(x.dtype)
    return out


def _examples():
    import matmul
    import rms_norm
    import softmax

    return softmax.softmax, matmul.matmul, rms_norm.rms_norm


def _entries():
    softmax, matmul, rms_norm = _examples()
    bf16 = torch.bfloat16
    small = torch.empty(16 * 1024 + 1, dtype=bf16)
    return [
        (softmax, (torch.empty(4096, 16384, dtype=bf16),)),          # [0] what examples/cpp/main.cc uses
        (softmax, (torch.empty(16, 1024, dtype=bf16),)),              # [1]
        (softmax, (small[1:].view(16, 1024),)),                       # [2] x 2 bytes off 16-byte alignment
        (matmul, (torch.empty(4096, 4096, dtype=bf16), torch.empty(4096, 4096, dtype=bf16))),
        (rms_norm, (torch.empty(64, 1000, dtype=bf16), torch.empty(1000, dtype=bf16), 1e-5)),
        (scale_rows, (torch.empty(64, 256), 32, 0.5, 3)),
        (normalize_rows, (torch.empty(64, 256),)),                    # two launches and a temporary buffer
    ]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(real package, fake-cubin package) of the same specializations."""
    from deuteron import aot

    tmp = tmp_path_factory.mktemp("aot")
    old = os.environ.get("DEUTERON_CACHE_DIR")
    os.environ["DEUTERON_CACHE_DIR"] = str(tmp / "cache")
    try:
        with pytest.warns(aot.ExportWarning, match="zeros_like"):
            specs, notes = aot.prepare(_entries(), arch=90)
    finally:
        if old is None:
            os.environ.pop("DEUTERON_CACHE_DIR", None)
        else:
            os.environ["DEUTERON_CACHE_DIR"] = old
    real = aot.write(specs, tmp / "real" / "example_kernels", name="example_kernels", notes=notes)
    fake = aot.write(specs, tmp / "fake" / "example_kernels", name="example_kernels", notes=notes, fake_cubins=True)
    return real, fake, tmp


def test_generated_files(exported):
    real, fake, _ = exported
    out = real.out_dir
    for rel in ["include/example_kernels.h", "include/deuteron_aot/tensor.h", "src/example_kernels.cc",
                "CMakeLists.txt", "cmake/example_kernelsConfig.cmake.in", "manifest.json",
                "runtime/CMakeLists.txt", "runtime/include/deuteron_runtime/runtime.h", "runtime/src/kernel.cc"]:
        assert (out / rel).is_file(), rel
    header = real.header.read_text()
    assert ("Status softmax(const Tensor& x, const Tensor& out, CUstream stream, "
            "deuteron::runtime::ScratchBuffer* scratch = nullptr);") in header
    assert "Status matmul(const Tensor& x, const Tensor& y, const Tensor& out, CUstream stream" in header
    assert "Status rms_norm(const Tensor& x, const Tensor& weight, double eps, const Tensor& out, CUstream" in header
    assert ("Status scale_rows(const Tensor& x, int64_t n_rows, double alpha, int64_t shift, const Tensor& out, "
            "CUstream stream") in header
    assert "[2] x: bfloat16[16, 1024] strides [1024, 1]" in header
    assert "writes out with torch.zeros_like" in header  # host work the caller must do

    manifest = real.manifest
    assert [f["name"] for f in manifest["functions"]] == ["softmax", "matmul", "rms_norm", "scale_rows",
                                                         "normalize_rows"]
    norm = manifest["functions"][4]["specializations"][0]
    assert [(p["name"], p.get("role")) for p in norm["params"]] == [("x", "input"), ("out", "output"),
                                                                     ("partial", "buffer")]
    assert [[q.get("source") for q in launch["params"]] for launch in norm["launches"]] == [
        ["x", "partial"], ["x", "partial", "out"]]
    assert ("Status normalize_rows(const Tensor& x, const Tensor& out, const Tensor& partial, CUstream stream"
            in header)
    cubins = sorted((out / "cubins").iterdir())
    assert cubins and all(c.read_bytes()[:4] == b"\x7fELF" for c in cubins)
    assert (fake.out_dir / "cubins").is_dir()
    assert all(c.read_bytes().startswith(b"FAKECUBIN\n") for c in (fake.out_dir / "cubins").iterdir())
    # The cubins are embedded in the source.
    data = cubins[0].read_bytes()
    assert ",".join(str(b) for b in data[:24]) in real.source.read_text()

    softmax = manifest["functions"][0]["specializations"]
    assert [p["name"] for p in softmax[0]["params"]] == ["x", "out"]
    assert softmax[0]["params"][1]["role"] == "output" and softmax[0]["params"][1]["origin"] == "torch.empty_like"
    tensors = [p for p in softmax[2]["launches"][0]["params"] if p["kind"] == "tensor"]
    assert [(t["source"], t["aligned"]) for t in tensors] == [("x", False), ("out", True)]
    scale = manifest["functions"][3]["specializations"][0]
    modes = {p["name"]: p.get("mode") for p in scale["params"]}
    assert modes == {"x": None, "n_rows": "exact", "alpha": "runtime", "shift": "runtime", "out": None}
    rms = manifest["functions"][2]["specializations"][0]
    assert {p["name"]: p.get("mode") for p in rms["params"]}["eps"] == "runtime"


def test_deterministic(exported, tmp_path):
    """The same specializations give byte-identical files."""
    from deuteron import aot

    real, _, _ = exported
    again = aot.write(real.specializations, tmp_path / "example_kernels", name="example_kernels", notes=real.warnings)
    for rel in ["include/example_kernels.h", "src/example_kernels.cc", "manifest.json", "CMakeLists.txt"]:
        assert (again.out_dir / rel).read_bytes() == (real.out_dir / rel).read_bytes(), rel


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{r.stdout}\n{r.stderr}"
    return r


def _cmake_build(src: Path, build: Path, *defs: str) -> None:
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    _run(["cmake", "-S", str(src), "-B", str(build), *gen, "-DCMAKE_BUILD_TYPE=Release", *defs])
    _run(["cmake", "--build", str(build), "-j", str(os.cpu_count() or 2)])


DRIVER = r"""
// Calls the exported functions against the fake libcuda and prints each case as JSON.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "example_kernels.h"
#include "fake_cuda_control.h"

namespace ek = example_kernels;
using deuteron::aot::DType;
using deuteron::aot::Tensor;

static int32_t (*launch_count)();
static int32_t (*get_launch)(int32_t, FakeLaunch*);
static void (*fail)(const char*, int);

static std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if (c == '\n') o += "\\n";
    else o += c;
  }
  return o + "\"";
}

static void report(const char* name, int before, const deuteron::runtime::Status& s) {
  std::printf("{\"case\": \"%s\", \"code\": %d, \"message\": %s, \"launches\": [", name, static_cast<int>(s.code),
              json_string(s.message).c_str());
  int n = launch_count();
  for (int i = before; i < n; ++i) {
    FakeLaunch l;
    get_launch(i, &l);
    std::printf("%s{\"function\": %llu, \"stream\": %llu, \"grid\": [%u, %u, %u], \"block\": [%u, %u, %u], "
                "\"shared\": %u, \"sizes\": [", i > before ? ", " : "", (unsigned long long)l.function,
                (unsigned long long)l.stream, l.grid[0], l.grid[1], l.grid[2], l.block[0], l.block[1], l.block[2],
                l.shared_bytes);
    for (int p = 0; p < l.num_params; ++p) std::printf("%s%u", p ? ", " : "", l.param_size[p]);
    std::printf("], \"values\": [");
    for (int p = 0; p < l.num_params; ++p) std::printf("%s%llu", p ? ", " : "", (unsigned long long)l.param_value[p]);
    std::printf("]}");
  }
  std::printf("]}\n");
}

#define CASE(name, call)             \
  do {                               \
    int before_ = launch_count();    \
    report(name, before_, call);     \
  } while (0)

int main() {
  void* fake = dlopen(std::getenv("DEUTERON_LIBCUDA"), RTLD_NOW | RTLD_LOCAL);
  if (!fake) return 2;
  launch_count = (int32_t(*)())dlsym(fake, "fake_cuda_launch_count");
  get_launch = (int32_t(*)(int32_t, FakeLaunch*))dlsym(fake, "fake_cuda_get_launch");
  fail = (void (*)(const char*, int))dlsym(fake, "fake_cuda_fail");
  auto stream = reinterpret_cast<deuteron::aot::CUstream>(0x5000);
  const auto bf16 = DType::kBFloat16;
  Tensor big_x = Tensor::contiguous(0x1000000, bf16, {4096, 16384});
  Tensor big_out = Tensor::contiguous(0x9000000, bf16, {4096, 16384});
  Tensor x = Tensor::contiguous(0x100000, bf16, {16, 1024});
  Tensor out = Tensor::contiguous(0x200000, bf16, {16, 1024});
  CASE("load_all", ek::load_all());
  CASE("softmax_big", ek::softmax(big_x, big_out, stream));
  CASE("softmax_small", ek::softmax(x, out, stream));
  CASE("softmax_small_unaligned", ek::softmax(Tensor::contiguous(0x100002, bf16, {16, 1024}), out, stream));
  CASE("softmax_out_unaligned", ek::softmax(x, Tensor::contiguous(0x200002, bf16, {16, 1024}), stream));
  CASE("softmax_unexported", ek::softmax(Tensor::contiguous(0x100000, bf16, {100, 100}),
                                         Tensor::contiguous(0x200000, bf16, {100, 100}), stream));
  CASE("softmax_dtype", ek::softmax(Tensor::contiguous(0x100000, DType::kFloat32, {16, 1024}),
                                    Tensor::contiguous(0x200000, DType::kFloat32, {16, 1024}), stream));
  CASE("softmax_strided", ek::softmax(Tensor::strided(0x100000, bf16, {16, 1024}, {1, 16}), out, stream));
  CASE("softmax_null", ek::softmax(Tensor::contiguous(0, bf16, {16, 1024}), out, stream));
  CASE("softmax_odd_pointer", ek::softmax(Tensor::contiguous(0x100001, bf16, {16, 1024}), out, stream));
  CASE("matmul", ek::matmul(Tensor::contiguous(0x1000000, bf16, {4096, 4096}),
                            Tensor::contiguous(0x3000000, bf16, {4096, 4096}),
                            Tensor::contiguous(0x5000000, bf16, {4096, 4096}), stream));
  CASE("rms_norm", ek::rms_norm(Tensor::contiguous(0x100000, bf16, {64, 1000}),
                                Tensor::contiguous(0x300000, bf16, {1000}), 1e-3,
                                Tensor::contiguous(0x400000, bf16, {64, 1000}), stream));
  Tensor fx = Tensor::contiguous(0x100000, DType::kFloat32, {64, 256});
  Tensor fout = Tensor::contiguous(0x200000, DType::kFloat32, {64, 256});
  CASE("scale_rows", ek::scale_rows(fx, 32, 2.5, -7, fout, stream));
  CASE("scale_rows_other_n_rows", ek::scale_rows(fx, 16, 2.5, -7, fout, stream));
  CASE("normalize_rows", ek::normalize_rows(fx, fout, Tensor::contiguous(0x300000, DType::kFloat32, {64}), stream));
  CASE("scale_rows_shift_too_big", ek::scale_rows(fx, 32, 2.5, int64_t{1} << 40, fout, stream));
  fail("cuLaunchKernel", 1);
  CASE("launch_failure", ek::softmax(x, out, stream));
  return 0;
}
"""


@pytest.fixture(scope="module")
def built(exported):
    """Builds: the real package (installed) + examples/cpp against it; the fake package (build
    tree) + examples/cpp and the driver against it; the fake libcuda."""
    if not HAVE_TOOLS:
        pytest.skip("needs cmake and g++")
    real, fake, tmp = exported
    # Real cubins: configure, build, install; the example finds the installed package.
    _cmake_build(real.out_dir, tmp / "real-build")
    _run(["cmake", "--install", str(tmp / "real-build"), "--prefix", str(tmp / "prefix")])
    _cmake_build(ROOT / "examples" / "cpp", tmp / "example-real", f"-DCMAKE_PREFIX_PATH={tmp / 'prefix'}")
    # Stand-in cubins: the example and the driver use the build tree (example_kernels_DIR).
    _cmake_build(fake.out_dir, tmp / "fake-build")
    _cmake_build(ROOT / "examples" / "cpp", tmp / "example-fake", f"-Dexample_kernels_DIR={tmp / 'fake-build'}")
    (tmp / "driver.cc").write_text(DRIVER)
    _run(["g++", "-std=c++20", "-O1", "-o", str(tmp / "driver"), str(tmp / "driver.cc"),
          f"-I{fake.out_dir / 'include'}", f"-I{fake.out_dir / 'runtime' / 'include'}", f"-I{FAKE_CUDA}",
          str(tmp / "fake-build" / "libexample_kernels.a"),
          str(tmp / "fake-build" / "deuteron_runtime" / "libdeuteron_runtime.a"), "-ldl"])
    _run(["g++", "-std=c++20", "-O1", "-shared", "-fPIC", "-o", str(tmp / "libfake_cuda.so"),
          str(FAKE_CUDA / "fake_libcuda.cc"), f"-I{FAKE_CUDA}"])
    return tmp


@pytest.mark.slow
@needs_tools
def test_package_builds_and_example_links(built):
    prefix = built / "prefix"
    assert (prefix / "lib" / "cmake" / "example_kernels" / "example_kernelsConfig.cmake").is_file()
    assert (prefix / "lib" / "cmake" / "deuteron_runtime" / "deuteron_runtimeConfig.cmake").is_file()
    assert (prefix / "include" / "example_kernels.h").is_file()
    assert (built / "example-real" / "aot_example").is_file()


@pytest.mark.slow
@needs_tools
def test_example_runs_against_fake_driver(built):
    env = dict(os.environ, DEUTERON_LIBCUDA=str(built / "libfake_cuda.so"))
    r = _run([str(built / "example-fake" / "aot_example"), "--no-check"], env=env, timeout=120)
    assert "all checks passed" in r.stdout
    # The example's error cases were reported with their codes.
    assert "softmax [1000, 1000] -> unsupported" in r.stdout
    assert "softmax null x -> invalid argument" in r.stdout


def _cases(built) -> dict[str, dict]:
    env = dict(os.environ, DEUTERON_LIBCUDA=str(built / "libfake_cuda.so"))
    r = _run([str(built / "driver")], env=env, timeout=60)
    return {c["case"]: c for c in map(json.loads, r.stdout.splitlines())}


OK, INVALID, UNSUPPORTED, DRIVER_ERROR = 0, 3, 4, 2


@pytest.mark.slow
@needs_tools
def test_launches_recorded_by_fake_driver(built, exported):
    real, _, _ = exported
    manifest = real.manifest
    kernels = manifest["kernels"]
    cases = _cases(built)
    assert cases["load_all"]["code"] == OK, cases["load_all"]["message"]

    def spec(fn: int, i: int) -> dict:
        return manifest["functions"][fn]["specializations"][i]

    def check_launch(case: str, fn: int, i: int, values: list[int]) -> dict:
        c = cases[case]
        assert c["code"] == OK, c["message"]
        (launch,) = c["launches"]
        expect = spec(fn, i)["launches"][0]
        k = kernels[expect["kernel"]]
        assert launch["grid"] == expect["grid"]
        assert launch["block"] == [32 * k["num_warps"], 1, 1]
        assert launch["shared"] == k["shared"]
        assert launch["stream"] == 0x5000
        # The kernel's parameters, then Triton's two hidden scratch pointers (null: none needed).
        assert launch["values"] == values + [0, 0]
        return launch

    big = check_launch("softmax_big", 0, 0, [0x1000000, 0x9000000])
    assert big["sizes"] == [8, 8, 8, 8]
    small = check_launch("softmax_small", 0, 1, [0x100000, 0x200000])
    unaligned = check_launch("softmax_small_unaligned", 0, 2, [0x100002, 0x200000])
    assert len({big["function"], small["function"], unaligned["function"]}) == 3
    check_launch("matmul", 1, 0, [0x1000000, 0x3000000, 0x5000000])
    def f32_bits(v: float) -> int:
        return struct.unpack("<I", struct.pack("<f", v))[0]

    rms = check_launch("rms_norm", 2, 0, [0x100000, 0x300000, 0x400000, f32_bits(1e-3)])
    assert rms["sizes"] == [8, 8, 8, 4, 8, 8]
    scale = check_launch("scale_rows", 3, 0, [0x100000, 0x200000, 32, (-7) & 0xFFFFFFFF, f32_bits(2.5)])
    assert scale["sizes"] == [8, 8, 4, 4, 4, 8, 8]

    two = cases["normalize_rows"]
    assert two["code"] == OK, two["message"]
    assert [launch["values"] for launch in two["launches"]] == [[0x100000, 0x300000, 0, 0],
                                                                [0x100000, 0x300000, 0x200000, 0, 0]]
    assert [launch["grid"] for launch in two["launches"]] == [
        launch["grid"] for launch in spec(4, 0)["launches"]]

    def check_error(case: str, code: int, *texts: str) -> None:
        c = cases[case]
        assert c["code"] == code, (case, c)
        assert c["launches"] == [], case
        for t in texts:
            assert t in c["message"], (case, t, c["message"])

    check_error("softmax_out_unaligned", UNSUPPORTED, "softmax: no exported specialization accepts",
                "out: bfloat16[16, 1024] strides [1024, 1] at 0x200002",
                "compiled for 16-byte aligned pointers (x, out)")
    check_error("softmax_unexported", UNSUPPORTED, "x: bfloat16[100, 100] strides [100, 1]", "exported:",
                "[0] x: bfloat16[4096, 16384] strides [16384, 1]; out: bfloat16[4096, 16384] strides [16384, 1]",
                "[1] x: bfloat16[16, 1024]")
    check_error("softmax_dtype", UNSUPPORTED, "x: float32[16, 1024]")
    check_error("softmax_strided", UNSUPPORTED, "strides [1, 16]")
    check_error("softmax_null", INVALID, "argument 'x'", "null data pointer")
    check_error("softmax_odd_pointer", INVALID, "not aligned to its element size (2 bytes)")
    check_error("scale_rows_other_n_rows", UNSUPPORTED, "n_rows = 16", "n_rows = 32")
    check_error("scale_rows_shift_too_big", UNSUPPORTED, "shift = 1099511627776", "int32 range")
    c = cases["launch_failure"]
    assert c["code"] == DRIVER_ERROR
    assert c["message"].startswith("softmax: cuLaunchKernel launching kernel '_softmax_kernel'")
    assert "CUDA_ERROR_INVALID_VALUE" in c["message"]


def test_cli_export_and_version(tmp_path, monkeypatch, capsys):
    from deuteron import cli

    monkeypatch.setenv("DEUTERON_CACHE_DIR", str(tmp_path / "cache"))
    assert cli.main(["version"]) == 0
    assert capsys.readouterr().out.startswith(f"deuteron {deuteron.__version__}")
    out = tmp_path / "add_kernels"
    rc = cli.main(["export", str(ROOT / "examples" / "add.py") + ":add", "--args", "x:float32[1024],y:float32[1024]",
                   "--config", '{"block_sizes": [256], "num_warps": 2}', "--args", "x:float16[64],y:float16[64]",
                   "--as", "add_vectors", "-o", str(out)])
    assert rc == 0, capsys.readouterr().err
    header = (out / "include" / "add_kernels.h").read_text()
    assert "namespace add_kernels {" in header
    assert "Status add_vectors(const Tensor& x, const Tensor& y, const Tensor& out, CUstream stream" in header
    manifest = json.loads((out / "manifest.json").read_text())
    first, second = manifest["functions"][0]["specializations"]
    assert first["config"]["block_sizes"] == [256] and first["config"]["num_warps"] == 2
    assert first["launches"][0]["grid"] == [4, 1, 1]
    assert second["params"][0]["dtype"] == "float16"
    # Usage errors: exit status 2 and a message.
    assert cli.main(["export", str(ROOT / "examples" / "add.py") + ":add", "-o", str(out)]) == 2
    assert "--args" in capsys.readouterr().err
    assert cli.main(["export", str(ROOT / "examples" / "add.py") + ":add", "--args", "z:float32[4]",
                     "-o", str(out)]) == 2
    assert "no parameter named z" in capsys.readouterr().err
    assert cli.main(["frobnicate"]) == 2
    capsys.readouterr()
    assert cli.main(["export", "--help"]) == 0
    assert "--package NAME" in capsys.readouterr().out


def test_python_m_entry_point(tmp_path):
    env = dict(os.environ, DEUTERON_CACHE_DIR=str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, "-m", "deuteron.aot", "--help"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "deuteron export KERNEL --args SPEC" in r.stdout


@pytest.mark.filterwarnings("ignore::deuteron.aot.ExportWarning")
def test_unsupported_exports(monkeypatch, tmp_path):
    from deuteron import aot

    monkeypatch.setenv("DEUTERON_CACHE_DIR", str(tmp_path / "cache"))
    softmax, _, _ = _examples()
    with pytest.raises(aot.ExportError, match="needs CUDA example tensors"):
        aot.prepare([(softmax, (torch.empty(16, 64),), "autotune")])
    with pytest.raises(aot.ExportError, match="not usable as a C\\+\\+ identifier"):
        aot.export([(softmax, (torch.empty(16, 64),))], tmp_path / "x", name="my-kernels")
    x = torch.empty(16, 64)
    with pytest.raises(aot.ExportError, match="share memory"):
        square = torch.empty(64, 64)
        aot.prepare([(_examples()[1], (square, square))])
    with pytest.raises(aot.ExportError, match="different C\\+\\+ arguments"):
        aot.prepare([(softmax, (x,)), aot.Export(scale_rows, (x, 16, 1.0, 0), name="softmax")])
