"""Every user error is a CompileError naming the file, the line and the column,
showing the source line with a caret, and saying what is supported instead."""

from __future__ import annotations

import inspect
import re

import pytest
import torch

import deuteron
import deuteron.language as hl
import kernels_bad as B
from conftest import fresh


def _marker(kernel):
    src, first = inspect.getsourcelines(kernel.fn)
    for i, line in enumerate(src):
        m = re.search(r"# ERROR: (.*)$", line)
        if m:
            return first + i, m.group(1).strip(), line
    raise AssertionError("no ERROR marker")


CASES = [name for name, obj in vars(B).items() if isinstance(obj, deuteron.Kernel)]
# Cases whose kernel takes a 16x8 matrix (the others a vector of 16).
MATRIX = ("mismatched_tiles", "bad_dim", "tuple_tile_out_of_range", "store_2d_into_1d", "if_branches_transpose")


@pytest.mark.parametrize("name", CASES)
def test_error_points_at_the_marked_line(name, monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    kernel = fresh(getattr(B, name))
    line, text, source_line = _marker(kernel)
    x = torch.randn(16, 8) if name in MATRIX else torch.randn(16)
    with pytest.raises(deuteron.exc.CompileError) as info:
        kernel(x)
    err = info.value
    assert err.filename.endswith("kernels_bad.py")
    assert err.line == line, f"error at line {err.line}, expected {line}:\n{err}"
    assert text in str(err), str(err)
    # The formatted message shows the source line and a caret under the column.
    formatted = str(err)
    assert f"kernels_bad.py:{line}:{err.col}: error:" in formatted
    assert source_line.rstrip("\n").split("# ERROR")[0].strip()[:20] in formatted
    caret_line = [l for l in formatted.splitlines() if "^" in l][0]
    src_line = [l for l in formatted.splitlines() if l.strip().startswith(f"{line} |")][0]
    assert caret_line.index("^") - caret_line.index("|") - 1 == err.col, formatted
    assert src_line.index("|") == caret_line.index("|")
    # Names the compiler invented (tile_0 for the first tile of `for tile in hl.tile([m, n])`) never show.
    assert not re.search(r"\btile_\d", formatted), formatted


def test_a_misspelled_function_suggests_the_closest_name(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    with pytest.raises(deuteron.exc.CompileError) as info:
        fresh(B.misspelled_torch_function)(torch.randn(16))
    assert "not supported" not in str(info.value)
    assert info.value.notes == ["did you mean 'torch.exp'?"]


def test_too_many_block_sizes_point_at_the_kernel_and_its_tile_loops(monkeypatch):
    import kernels_pointwise as K

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    src, first = inspect.getsourcelines(K.add.fn)
    def_line = first + next(i for i, l in enumerate(src) if l.lstrip().startswith("def "))
    loop_line = first + next(i for i, l in enumerate(src) if "hl.tile" in l)
    x = torch.randn(16, 8)
    bound = fresh(K.add).bind((x, x))
    with pytest.raises(deuteron.exc.ConfigError) as info:
        bound.normalize_config({"block_sizes": [16, 8, 4]})
    message = str(info.value)
    assert f"kernels_pointwise.py:{def_line}: kernel 'add'" in message, message
    assert "expected 2 entries, got 3" in message
    # `for tile in hl.tile(out.size())`: its tiles are tile[0] and tile[1] (never the internal tile_0).
    assert f"tile loop 'tile[0]' at line {loop_line}, tile loop 'tile[1]' at line {loop_line}" in message, message


def test_wrong_device_is_an_input_error_before_launch():
    kernel = fresh(B.undefined_name)
    with pytest.raises(deuteron.exc.InputError, match="CUDA tensors"):
        kernel(torch.randn(4))


@deuteron.kernel(autotune_effort="none")
def fill_counts(n: int, device: torch.device) -> torch.Tensor:
    out = torch.zeros([n], dtype=torch.int32, device=device)
    for tile in hl.tile(n, block_size=16):
        out[tile] = tile.count
    return out


def test_binding_needs_no_gpu_but_running_does(monkeypatch):
    # Binding compiles and shows code for CPU tensors (Helion's type-propagation
    # tests bind CPU tensors on a GPU machine); running them is an InputError.
    import kernels_pointwise as K

    for name in ("DEUTERON_INTERPRET", "TRITON_INTERPRET", "HELION_INTERPRET"):
        monkeypatch.delenv(name, raising=False)
    x = torch.randn(16, 8)
    bound = fresh(K.add).bind((x, x))
    assert "tl.load(" in bound.to_triton_code(bound.default_config())
    for run in (lambda: bound(x, x), lambda: bound.compile_config(bound.default_config())(x, x),
                lambda: bound.autotune((x, x))):
        with pytest.raises(deuteron.exc.InputError, match="run on CUDA tensors, got tensors on cpu"):
            run()
    # A kernel without tensor arguments runs where its torch.device argument says.
    with pytest.raises(deuteron.exc.InputError, match="got tensors on cpu"):
        fresh(fill_counts)(40, torch.device("cpu"))
    with pytest.raises(deuteron.exc.InputError, match="got no tensor or device arguments"):
        fresh(fill_counts).bind((40, None))(40, None)


def test_kernel_without_tensor_arguments_takes_its_device_argument(mode):
    out = fresh(fill_counts)(40, torch.device("cpu"))
    assert out.tolist() == [3] * 40


def test_config_errors_name_the_key(monkeypatch):
    import kernels_pointwise as K

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    x = torch.randn(100)
    bound = fresh(K.add).bind((x, x))
    with pytest.raises(deuteron.exc.ConfigError, match="block_sizes"):
        bound.normalize_config({"block_sizes": [100]})
    with pytest.raises(deuteron.exc.ConfigError, match="did you mean 'num_warps'"):
        bound.normalize_config(deuteron.Config(num_warp=4))
    with pytest.raises(deuteron.exc.ConfigError, match="expected 1 entry"):
        bound.normalize_config({"block_sizes": [64, 64]})
    with pytest.raises(deuteron.exc.ConfigError, match="pid_type"):
        bound.normalize_config({"pid_type": "diagonal"})


def test_errors_are_picklable():
    import pickle

    e = deuteron.exc.CompileError("f.py:1:2: error: x", "f.py", 1, 2, "x", ["note"])
    e2 = pickle.loads(pickle.dumps(e))
    assert (e2.filename, e2.line, e2.col, e2.notes) == ("f.py", 1, 2, ["note"])


def test_a_host_tensor_used_whole_on_the_device_is_host_tensor_direct_usage(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")

    @deuteron.kernel
    def whole(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.shape):
            out[tile] = x[tile] + s
        return out

    with pytest.raises(deuteron.exc.HostTensorDirectUsage, match="must be indexed"):
        whole(torch.randn(4, 4), torch.tensor(3.0))


def test_augmented_assignment_to_a_host_tensor_name_on_the_device(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")

    @deuteron.kernel
    def rebinding(g: torch.Tensor) -> torch.Tensor:
        m, n = g.shape
        block = torch.zeros(n, dtype=torch.float32, device=g.device)
        for tm in hl.tile(m):
            block += torch.sum(g[tm, :], dim=0)
        return block

    with pytest.raises(deuteron.exc.CannotModifyHostVariableOnDevice, match=r"block\[tile\] \+="):
        rebinding(torch.randn(8, 4))
