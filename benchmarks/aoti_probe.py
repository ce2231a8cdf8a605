"""Does `torch._inductor.aoti_load_package` work on this machine at all?

A diagnostic for the AOTInductor Python load (see docs/api.md): packages three
models and loads each in a fresh Python process that imports torch only.

  plain       x * 2 + y in PyTorch ops (no Triton kernel of the user's)
  triton_op   the same through a hand-written Triton kernel registered with
              torch.library.triton_op (no deuteron)
  deuteron    deuteron's scale_add kernel (tests/kernels_ops.py)

    python benchmarks/aoti_probe.py OUT_DIR

Prints one line per model: "ok", or the loader's exit status and the tail of
its stderr.  Then the plain package once more through each way PyTorch's Python
side can load it (`plain/<way>: ...`), to tell a problem of one loader option
from one of the Python binding itself.
"""

from __future__ import annotations

import os
import subprocess
import sys

import torch
import triton
import triton.language as tl

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

LOADER = """
import sys, torch
runner = {load}
x = torch.arange(64, dtype=torch.float32, device="cuda")
y = torch.ones(64, dtype=torch.float32, device="cuda")
out = {call}
out = out[0] if isinstance(out, (list, tuple)) else out
assert torch.allclose(out, x * 2 + y), out
print("ok")
"""


@triton.jit
def _axpy_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) * 2 + tl.load(y_ptr + offs, mask=mask), mask=mask)


@torch.library.triton_op("aoti_probe::axpy", mutates_args=())
def axpy(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    n = x.numel()
    torch.library.wrap_triton(_axpy_kernel)[(triton.cdiv(n, 32),)](x, y, out, n, BLOCK=32)
    return out


class Plain(torch.nn.Module):
    def forward(self, x, y):
        return x * 2 + y


class TritonOp(torch.nn.Module):
    def forward(self, x, y):
        return axpy(x, y)


class Deuteron(torch.nn.Module):
    def forward(self, x, y):
        import kernels_ops as K

        return K.scale_add(x, y, 2.0)


def main() -> None:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "/tmp/aoti_probe"
    os.makedirs(out_dir, exist_ok=True)
    x = torch.arange(64, dtype=torch.float32, device="cuda")
    y = torch.ones(64, dtype=torch.float32, device="cuda")
    for name, model in (("plain", Plain()), ("triton_op", TritonOp()), ("deuteron", Deuteron())):
        try:
            ep = torch.export.export(model, (x, y), strict=False)
            path = torch._inductor.aoti_compile_and_package(ep, package_path=os.path.join(out_dir, f"{name}.pt2"))
        except Exception as e:  # noqa: BLE001
            print(f"{name}: packaging failed: {e!r}"[:400], flush=True)
            continue
        print(f"{name}: {_load(path, 'torch._inductor.aoti_load_package(sys.argv[1])')}", flush=True)
        if name != "plain":
            continue
        for way, load, call in LOAD_WAYS:
            print(f"plain/{way}: {_load(path, load, call)}", flush=True)


# Other ways to load the plain package from Python: loader options, and the
# pybind class that aoti_load_package wraps (the same C++ class that a C++
# program uses through torch::inductor::AOTIModelPackageLoader).
# Each: (name, expression that loads sys.argv[1] as `runner`, expression that runs it).
LOAD_WAYS = [
    ("single_threaded", "torch._inductor.aoti_load_package(sys.argv[1], run_single_threaded=True)", "runner(x, y)"),
    ("device_index_0", "torch._inductor.aoti_load_package(sys.argv[1], device_index=0)", "runner(x, y)"),
    ("raw_loader", "torch._C._aoti.AOTIModelPackageLoader(sys.argv[1], 'model', False, 1, 0)", "runner.run([x, y])"),
]


def _load(path: str, load: str, call: str = "runner(x, y)") -> str:
    """Loads and runs the package in a fresh Python process; "ok" or why not."""
    try:
        run = subprocess.run([sys.executable, "-X", "faulthandler", "-c", LOADER.format(load=load, call=call), path],
                             capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired:
        return "hung (no result in 240 s)"
    return "ok" if run.returncode == 0 else f"exit {run.returncode}: {run.stderr[-600:]}"


if __name__ == "__main__":
    main()
