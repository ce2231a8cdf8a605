"""deuteron._core.NativeLauncher against a fake libcuda (no GPU needed).

The fake driver (cpp/tests/fake_cuda/fake_libcuda.cc) records every launch:
grid, block, shared memory and the bytes of each kernel parameter.  Its path
comes from DEUTERON_FAKE_LIBCUDA, or the test compiles it with the system C++
compiler.  Real torch CPU tensors stand in for GPU tensors: the launcher only
reads their data_ptr() and dtype.
"""

from __future__ import annotations

import ctypes
import gc
import os
import shutil
import struct
import subprocess
import weakref
from pathlib import Path

import pytest
import torch

from deuteron import _core

pytestmark = pytest.mark.skipif(not hasattr(_core, "NativeLauncher"), reason="_core built without NativeLauncher")

REPO = Path(__file__).resolve().parent.parent
FAKE_SOURCE = REPO / "cpp" / "tests" / "fake_cuda" / "fake_libcuda.cc"
FN = 0x1000  # the CUfunction handle the tests launch (the fake accepts any)
STREAM = 0x5151
MAX_PARAMS, MAX_ATTRS = 80, 8


class FakeLaunch(ctypes.Structure):
    _fields_ = [
        ("function", ctypes.c_uint64),
        ("stream", ctypes.c_uint64),
        ("grid", ctypes.c_uint32 * 3),
        ("block", ctypes.c_uint32 * 3),
        ("shared_bytes", ctypes.c_uint32),
        ("via_ex", ctypes.c_int32),
        ("num_attrs", ctypes.c_int32),
        ("attr_id", ctypes.c_int32 * MAX_ATTRS),
        ("attr_value", (ctypes.c_uint32 * 3) * MAX_ATTRS),
        ("num_params", ctypes.c_int32),
        ("param_size", ctypes.c_uint32 * MAX_PARAMS),
        ("param_value", ctypes.c_uint64 * MAX_PARAMS),
    ]


@pytest.fixture(scope="module")
def fake_path(tmp_path_factory) -> str:
    path = os.environ.get("DEUTERON_FAKE_LIBCUDA")
    if path:
        return path
    cxx = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        pytest.skip("no C++ compiler to build the fake libcuda (or set DEUTERON_FAKE_LIBCUDA)")
    out = tmp_path_factory.mktemp("fake_cuda") / "libdeuteron_fake_cuda.so"
    subprocess.run([cxx, "-std=c++20", "-O1", "-shared", "-fPIC", "-o", str(out), str(FAKE_SOURCE)], check=True)
    return str(out)


class Fake:
    """The fake driver's control functions (see fake_cuda_control.h)."""

    def __init__(self, path: str):
        lib = ctypes.CDLL(path)  # the same library the runtime dlopens, so the same state
        lib.fake_cuda_fail.argtypes = [ctypes.c_char_p, ctypes.c_int]
        lib.fake_cuda_register_function.argtypes = [ctypes.c_uint64, ctypes.c_int32, ctypes.POINTER(ctypes.c_uint32)]
        lib.fake_cuda_set_current_context.argtypes = [ctypes.c_uint64]
        lib.fake_cuda_current_context.restype = ctypes.c_uint64
        lib.fake_cuda_get_launch.argtypes = [ctypes.c_int32, ctypes.POINTER(FakeLaunch)]
        lib.fake_cuda_call_count.argtypes = [ctypes.c_char_p]
        lib.fake_cuda_func_attribute.argtypes = [ctypes.c_uint64, ctypes.c_int32]
        lib.fake_cuda_func_attribute.restype = ctypes.c_int64
        self.lib = lib

    def reset(self):
        self.lib.fake_cuda_reset()

    def register(self, function: int, sizes: list[int]):
        arr = (ctypes.c_uint32 * len(sizes))(*sizes)
        self.lib.fake_cuda_register_function(function, len(sizes), arr)

    def fail(self, entry_point: str, code: int):
        self.lib.fake_cuda_fail(entry_point.encode(), code)

    def launches(self) -> list[FakeLaunch]:
        out = []
        for i in range(self.lib.fake_cuda_launch_count()):
            rec = FakeLaunch()
            assert self.lib.fake_cuda_get_launch(i, ctypes.byref(rec)) == 0
            out.append(rec)
        return out

    def only_launch(self) -> FakeLaunch:
        launches = self.launches()
        assert len(launches) == 1
        return launches[0]

    def params(self, launch: FakeLaunch) -> list[int]:
        assert launch.num_params >= 0, "launch of an unregistered function"
        return [launch.param_value[i] for i in range(launch.num_params)]


@pytest.fixture
def fake(fake_path):
    _core._reload_cuda_driver_for_testing(fake_path)
    f = Fake(fake_path)
    f.reset()
    yield f
    f.reset()
    try:  # back to the machine's own driver (on a CPU machine: the "not found" error)
        _core._reload_cuda_driver_for_testing(None)
    except RuntimeError:
        pass


PARAM_BYTES = {"i1": 1, "u1": 1, "i8": 1, "u8": 1, "i16": 2, "u16": 2, "fp16": 2, "bf16": 2, "i32": 4, "u32": 4,
               "fp32": 4, "i64": 8, "u64": 8, "fp64": 8, "none": 8}


def make(fake: Fake, kinds: list[str], sample: list, *, device: int = 0, current_device: int = 0,
         streams: list | None = None, **kw):
    """A launcher for FN with these kinds; registers FN's parameter layout with the fake."""
    sizes = [8 if k.startswith("*") or k == "ptr" else PARAM_BYTES[k] for k in kinds if k != "constexpr"]
    fake.register(FN, sizes + [8, 8])

    def get_stream(dev):
        if streams is not None:
            streams.append(dev)
        return STREAM

    kw.setdefault("num_warps", 4)
    return _core.NativeLauncher(FN, kinds, sample, device=device, get_device=lambda: current_device,
                                get_stream=get_stream, name="k", **kw)


def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


# ---------------------------------------------------------------- marshalling

def test_marshals_tensors_ints_floats_bools_and_none(fake):
    x, y = torch.randn(64), torch.randn(64)
    kinds = ["*fp32", "*fp32", "i32", "i64", "fp32", "fp64", "u1", "constexpr", "none"]
    args = [x, y, 1000, 2**40, 0.5, 1.25, True, 128, None]
    launcher = make(fake, kinds, args)
    assert launcher.num_kernel_params == 8
    assert launcher((4,), *args) is True
    launch = fake.only_launch()
    assert launch.function == FN
    assert launch.stream == STREAM
    assert list(launch.grid) == [4, 1, 1]
    assert list(launch.block) == [128, 1, 1]
    assert launch.shared_bytes == 0 and launch.via_ex == 0
    assert fake.params(launch) == [x.data_ptr(), y.data_ptr(), 1000, 2**40, f32_bits(0.5), f64_bits(1.25), 1, 0,
                                   0, 0]  # the constexpr is skipped; the last two are the hidden scratch pointers


def test_narrow_ints_and_half_floats_are_packed_like_triton(fake):
    kinds = ["i8", "i16", "u8", "u16", "u32", "u64", "fp16", "bf16", "i1"]
    args = [-3, -3, 200, 60000, 2**32 - 16, 2**63 + 16, 1.5, 1.5, False]
    launcher = make(fake, kinds, args)
    assert launcher((1,), *args)
    assert fake.params(fake.only_launch()) == [0xFD, 0xFFFD, 200, 60000, 2**32 - 16, 2**63 + 16, 0x3E00, 0x3FC0, 0,
                                               0, 0]


def test_values_change_between_calls(fake):
    x = torch.randn(64)
    launcher = make(fake, ["*fp32", "i32", "fp32"], [x, 32, 1.0])
    z = torch.randn(128)
    assert launcher((2,), z, 48, -2.0)
    assert fake.params(fake.only_launch())[:3] == [z.data_ptr(), 48, f32_bits(-2.0)]


def test_stream_is_asked_for_the_launcher_device(fake):
    streams = []
    launcher = make(fake, ["i32"], [7], device=1, current_device=1, streams=streams)
    assert launcher((1,), 7)
    assert streams == [1]


def test_grids(fake):
    launcher = make(fake, ["i32"], [7])
    assert launcher((2, 3), 7) and launcher([2, 3, 4], 7)
    assert [list(l.grid) for l in fake.launches()] == [[2, 3, 1], [2, 3, 4]]
    assert launcher((0,), 7) and launcher((5, 0, 1), 7)  # empty grids launch nothing
    assert len(fake.launches()) == 2
    assert launcher(lambda meta: (1,), 7) is False  # callable grids take Triton's path
    with pytest.raises(ValueError, match="1 to 3 dimensions"):
        launcher((1, 1, 1, 1), 7)
    with pytest.raises(ValueError, match="outside"):
        launcher((-1,), 7)


# ------------------------------------------------- signature mismatches: no launch

def test_misaligned_pointer_returns_false_without_launching(fake):
    x = torch.randn(64)
    launcher = make(fake, ["*fp32", "i32"], [x, 64])
    assert launcher((1,), x[1:], 64) is False  # 4 bytes off a 16-byte boundary
    assert fake.launches() == []
    assert launcher((1,), x[4:], 64) is True  # 16 bytes off: aligned again
    unaligned = make(fake, ["*fp32", "i32"], [x[1:], 64])
    assert unaligned((1,), x, 64) is False
    assert unaligned((1,), x[3:], 64) is True


def test_int_specialization_changes_return_false(fake):
    launcher = make(fake, ["i32"], [32])
    assert launcher((1,), 48)
    for other in (33, 1, 2**31, -2**31 - 16, 2**63, 2**64, True, 32.0, None, torch.zeros(1)):
        assert launcher((1,), other) is False, other
    assert len(fake.launches()) == 1


def test_constexpr_values_are_checked(fake):
    launcher = make(fake, ["i32", "constexpr", "constexpr", "constexpr"], [5, 128, None, "tf32"])
    assert launcher((1,), 5, 128, None, "tf32")
    assert launcher((1,), 5, 256, None, "tf32") is False
    assert launcher((1,), 5, 128, torch.zeros(4), "tf32") is False
    assert launcher((1,), 5, 128, None, "ieee") is False
    assert launcher((1,), 5, True, None, "tf32") is False  # True == 1 in Python, not for the kernel
    assert len(fake.launches()) == 1


def test_dtype_change_returns_false(fake):
    launcher = make(fake, ["*fp32"], [torch.randn(8)])
    assert launcher((1,), torch.randn(8, dtype=torch.float16)) is False
    assert launcher((1,), torch.randn(8)) is True


def test_wrong_types_and_counts_return_false(fake):
    launcher = make(fake, ["*fp32", "fp32", "u1"], [torch.randn(8), 1.0, False])
    t = torch.randn(8)
    assert launcher((1,), t, 1, False) is False  # an int where Triton saw a float
    assert launcher((1,), t, 1.0, 0) is False  # an int where Triton saw a bool
    assert launcher((1,), None, 1.0, False) is False
    assert launcher((1,), 1234, 1.0, False) is False
    assert launcher((1,), object(), 1.0, False) is False  # no data_ptr()
    assert launcher((1,), t, 1.0) is False
    assert launcher((1,), t, 1.0, False, 3) is False
    assert fake.launches() == []


def test_other_current_device_returns_false(fake):
    launcher = make(fake, ["i32"], [7], device=0, current_device=1)
    assert launcher((1,), 7) is False
    assert fake.launches() == []


def test_matches_and_signature(fake):
    x = torch.randn(8)
    launcher = make(fake, ["*fp32", "i32", "constexpr", "fp32"], [x, 32, 64, 1.0])
    assert launcher.matches(x, 16, 64, 2.0)
    assert not launcher.matches(x, 17, 64, 2.0)
    assert launcher.signature == "ptr(aligned16, torch.float32), int(i32, %16==0), constexpr(64), float"
    assert fake.launches() == []


def test_signature_agrees_with_tritons_specialization(fake):
    """A launcher built from value a accepts value b exactly when Triton specializes a and b alike."""
    libtriton = pytest.importorskip("triton._C.libtriton")
    from triton.backends.nvidia.compiler import CUDABackend

    def spec(v):
        return libtriton.native_specialize_impl(CUDABackend, v, False, True, True)

    base = torch.randn(64)
    values = [0, 1, 2, 16, 17, -16, -5, 2**31 - 16, 2**31, -2**31, -2**31 - 1, 2**62, 2**63, 2**64 - 16, True, False,
              0.5, 1.0, base, base[1:], base[4:], base.half(), base.half()[1:], base.double()]
    for a in values:
        kind = spec(a)[0]
        launcher = make(fake, [kind], [a])
        for b in values:
            assert launcher.matches(b) == (spec(a) == spec(b)), (a, b, spec(a), spec(b))


# ---------------------------------------------------------- kernel properties

def test_shared_memory_above_48kb_sets_the_function_attribute(fake):
    launcher = make(fake, ["i32"], [7], shared=100_000, num_warps=8)
    assert launcher((1,), 7) and launcher((1,), 7)
    assert fake.lib.fake_cuda_func_attribute(FN, 8) == 100_000  # MAX_DYNAMIC_SHARED_SIZE_BYTES
    assert fake.lib.fake_cuda_call_count(b"cuFuncSetAttribute") == 1
    assert fake.launches()[0].shared_bytes == 100_000
    assert list(fake.launches()[0].block) == [256, 1, 1]


def test_clusters_launch_with_cluster_attributes(fake):
    launcher = make(fake, ["i32"], [7], num_ctas=2)
    assert launcher((3,), 7)
    launch = fake.only_launch()
    assert launch.via_ex == 1 and launch.grid[0] == 6
    assert launch.num_attrs == 2 and launch.attr_id[0] == 4 and list(launch.attr_value[0]) == [2, 1, 1]


def test_global_scratch_comes_from_the_allocator(fake):
    calls = []

    def alloc(size, align, stream):
        calls.append((size, align, stream))
        mem = torch.empty(size, dtype=torch.uint8)
        calls.append(mem)
        return mem

    launcher = make(fake, ["i32"], [7], global_scratch_size=64, global_scratch_align=16, scratch_allocator=alloc)
    assert launcher((3, 2), 7)
    assert calls[0] == (3 * 2 * 64, 16, STREAM)
    assert fake.params(fake.only_launch()) == [7, calls[1].data_ptr(), 0]


def test_no_current_context_uses_the_devices_primary_context(fake):
    fake.lib.fake_cuda_set_current_context(0)
    launcher = make(fake, ["i32"], [7], device=1, current_device=1)
    assert launcher((1,), 7)
    assert fake.lib.fake_cuda_current_context() == 0xC0C0 + 1


def test_driver_errors_raise_runtime_error(fake):
    launcher = make(fake, ["i32"], [7])
    fake.fail("cuLaunchKernel", 700)
    with pytest.raises(RuntimeError, match=r"cuLaunchKernel launching kernel 'k'.*CUDA_ERROR_ILLEGAL_ADDRESS"):
        launcher((1,), 7)


def test_construction_errors(fake):
    with pytest.raises(ValueError, match="profiler scratch"):
        make(fake, ["i32"], [7], profile_scratch_size=64)
    with pytest.raises(ValueError, match="scratch_allocator"):
        make(fake, ["i32"], [7], global_scratch_size=64)
    with pytest.raises(ValueError, match="tensordesc"):
        _core.NativeLauncher(FN, ["tensordesc<fp32[16, 16]>"], [None], device=0, get_device=lambda: 0,
                             get_stream=lambda d: 0, num_warps=4)
    with pytest.raises(ValueError, match="does not fit parameter kind 'i32'"):
        make(fake, ["i32"], [1.5])
    with pytest.raises(ValueError, match="2 parameter kinds for 1 sample arguments"):
        _core.NativeLauncher(FN, ["i32", "i32"], [1], device=0, get_device=lambda: 0, get_stream=lambda d: 0,
                             num_warps=4)


def test_missing_driver_fails_construction(fake):
    with pytest.raises(RuntimeError, match="could not load the CUDA driver library '/nonexistent/libcuda.so.1'"):
        _core._reload_cuda_driver_for_testing("/nonexistent/libcuda.so.1")
    with pytest.raises(RuntimeError, match="could not load the CUDA driver library"):
        _core.NativeLauncher(FN, ["i32"], [7], device=0, get_device=lambda: 0, get_stream=lambda d: 0, num_warps=4)


def test_reference_cycles_through_a_launcher_are_collected(fake):
    class Sentinel:
        pass

    sentinel = Sentinel()
    holder = [sentinel]
    launcher = make(fake, ["i32"], [7], global_scratch_size=8, scratch_allocator=lambda *a: holder)
    holder.append(launcher)  # launcher -> allocator closure -> holder -> launcher
    alive = weakref.ref(sentinel)
    del sentinel, holder, launcher
    gc.collect()
    assert alive() is None
