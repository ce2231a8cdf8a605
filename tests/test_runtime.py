"""The Python runtime: binding, specialization cache, generated modules, settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

import deuteron
import deuteron.language as hl
import kernels_pointwise as K
from conftest import fresh


@pytest.fixture(autouse=True)
def _eager(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")


def test_second_call_with_same_key_does_not_rebind(monkeypatch):
    k = fresh(K.add)
    x, y = torch.randn(64), torch.randn(64)
    k(x, y)
    calls = []
    original = deuteron.runtime.kernel.BoundKernel.__init__

    def counting(self, *a, **kw):
        calls.append(1)
        original(self, *a, **kw)

    monkeypatch.setattr(deuteron.runtime.kernel.BoundKernel, "__init__", counting)
    k(torch.randn(64), torch.randn(64))
    assert calls == []
    k(torch.randn(65), torch.randn(65))  # new size: a new specialization
    assert calls == [1]
    k(torch.randn(64, dtype=torch.float64), torch.randn(64, dtype=torch.float64))  # new dtype
    assert calls == [1, 1]


def test_specialization_key_static_and_dynamic():
    x = torch.randn(8, 4)
    assert K.add.specialization_key((x, x)) != K.add.specialization_key((x.t(), x.t()))  # strides
    kd = K.add_dynamic
    a = kd.specialization_key((torch.randn(8, 4), torch.randn(8, 4)))
    b = kd.specialization_key((torch.randn(100, 50), torch.randn(100, 50)))
    c = kd.specialization_key((torch.randn(1, 50), torch.randn(1, 50)))
    d = kd.specialization_key((torch.randn(50, 8).t(), torch.randn(8, 50)[:, ::1]))
    assert a == b == d and a != c  # sizes bucket to {0, 1, >=2}; strides are runtime values (as in Helion)


def test_dynamic_code_serves_any_strides(mode):
    # With dynamic shapes the code takes sizes past 1 and every stride as arguments, so the
    # specialization bound on the first call is right for any layout of those sizes.
    kd = fresh(K.add_dynamic)
    for x in (torch.randn(6, 5), torch.randn(5, 6).t(), torch.randn(6, 1).expand(6, 5),
              torch.randn(12, 10)[::2, ::2], torch.randn(7, 9)):
        torch.testing.assert_close(kd(x, x), x + x)
    assert len(kd._bound) == 1
    for x in (torch.randn(1, 5), torch.randn(0, 5), torch.randn(1, 1)):  # sizes 0 and 1: their own
        torch.testing.assert_close(kd(x, x), x + x)
    assert len(kd._bound) == 4


def test_constexpr_values_are_part_of_the_key():
    x = torch.randn(8)
    assert K.powers.specialization_key((x, 2)) != K.powers.specialization_key((x, 3))
    assert K.shifted.specialization_key((x, 2)) == K.shifted.specialization_key((x, 3))  # plain int: type only


def test_kwargs_and_defaults_bind_like_python():
    @deuteron.kernel(autotune_effort="none")
    def scaled(x: torch.Tensor, scale: float = 2.0, *, shift: float = 0.0) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = x[tile] * scale + shift
        return out

    x = torch.randn(50)
    torch.testing.assert_close(scaled(x), x * 2)
    torch.testing.assert_close(scaled(x, shift=1.0), x * 2 + 1)
    torch.testing.assert_close(scaled(scale=3.0, x=x), x * 3)
    with pytest.raises(TypeError, match="scaled"):
        scaled(x, 1.0, 2.0)


def test_generated_modules_are_files_in_the_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DEUTERON_CACHE_DIR", str(tmp_path))
    k = deuteron.Kernel(K.add.fn, settings=deuteron.Settings(autotune_effort="none"))
    x = torch.randn(10)
    k(x, x)
    files = list((tmp_path / "generated").glob("add_*.py"))
    assert files, "the generated module should be written under DEUTERON_CACHE_DIR/generated"
    assert "def add(" in files[0].read_text()


def test_to_triton_code_is_deterministic_and_readable():
    x = torch.randn(300, 40)
    b = fresh(K.tile_ops).bind((x,))
    a, c = b.to_triton_code(b.default_config()), b.to_triton_code(b.default_config())
    assert a == c
    assert "@triton.jit" in a and "def _tile_ops_kernel(" in a
    assert "# line" in a and "tile_m.index" in a  # comments map back to the user's source


def test_to_code_without_config_needs_an_implicit_one():
    # As in Helion: with no config given, to_code / to_triton_code use the config calls use
    # without autotuning (the one in use, the decorator's only config, or the default with
    # autotune_effort="none"); a kernel whose calls would autotune has none: RuntimeError.
    x = torch.randn(300, 40)
    b = deuteron.kernel(autotune_effort="quick")(K.tile_ops.fn).bind((x,))
    with pytest.raises(RuntimeError, match="no config provided and no implicit config available"):
        b.to_triton_code()
    with pytest.raises(RuntimeError, match="no config provided and no implicit config available"):
        b.to_code()
    untuned = fresh(K.tile_ops).bind((x,))  # autotune_effort="none"
    assert untuned.to_triton_code() == untuned.to_triton_code(untuned.default_config())
    fixed = deuteron.kernel(config=b.default_config())(K.tile_ops.fn).bind((x,))
    assert fixed.to_triton_code() == b.to_triton_code(b.default_config())
    forced = deuteron.kernel(autotune_effort="quick", force_autotune=True, config=b.default_config())
    with pytest.raises(RuntimeError, match="no implicit config"):
        forced(K.tile_ops.fn).bind((x,)).to_triton_code()


def test_print_output_code(capsys, monkeypatch):
    monkeypatch.setenv("DEUTERON_PRINT_OUTPUT_CODE", "1")
    x = torch.randn(10)
    fresh(K.add)(x, x)
    assert "def add(" in capsys.readouterr().err


def test_compile_config_and_fixed_config():
    x = torch.randn(1000)
    b = fresh(K.add).bind((x, x))
    for bs in (16, 256, 1024):
        fn = b.compile_config(deuteron.Config(block_sizes=[bs]))
        torch.testing.assert_close(fn(x, x), x + x)

    @deuteron.kernel(config=deuteron.Config(block_sizes=[32], num_warps=2))
    def copy(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = x[tile]
        return out

    copy(x)
    assert copy.bind((x,)).config == deuteron.Config(block_sizes=[32], num_warps=2)


def test_seed_era_config_spellings_are_accepted():
    x = torch.randn(32, 64)
    b = fresh(K.tile_ops).bind((x,))
    assert b.normalize_config(deuteron.Config(block_sizes=[[], []], l2_grouping=2)).l2_groupings == [2]
    cfg = deuteron.Config(block_sizes=[[], []], l2_grouping=2, use_yz_grid=True)
    n = b.normalize_config(cfg)
    # 'xyz' gives each grid dim its own program id: no grouping is left to do, and
    # normalization says so.
    assert n.l2_groupings == [1] and n.pid_type == "xyz"


def test_config_spec_and_default_config():
    x = torch.randn(4096, 4096)
    b = fresh(K.outer).bind((x[0], x[1]))
    spec = b.config_spec
    assert len(spec["block_sizes"]) == 2 and spec["loop_orders"] == [2]
    d = b.default_config()
    assert len(d.block_sizes) == 2 and d.num_warps in (4, 8, 16)
    assert b.normalize_config(d) == d


def test_language_functions_outside_a_kernel_raise():
    with pytest.raises(deuteron.exc.NotInsideKernelError, match="hl.zeros"):
        hl.zeros([4])
    assert hl.specialize(5) == 5 and hl.cdiv(10, 3) == 4


def test_dump_ir_and_ast():
    x = torch.randn(10)
    b = fresh(K.add).bind((x, x))
    assert "kernel _add_kernel" in b.dump_ir()
    assert "FunctionDef" in b.dump_ast()
    assert "kernel _add_kernel" in b.dump_ir(stage="dead_code_elimination")
    with pytest.raises(ValueError, match="stages are"):
        b.dump_ir(stage="nope")


def test_interpret_mode_runs_on_cpu_tensors_and_cuda_is_required_otherwise(monkeypatch):
    monkeypatch.delenv("DEUTERON_INTERPRET")
    x = torch.randn(10)
    with pytest.raises(deuteron.exc.InputError, match="DEUTERON_INTERPRET=1"):
        fresh(K.add)(x, x)
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    torch.testing.assert_close(fresh(K.add)(x, x), x + x)


def test_kernel_can_be_used_without_parentheses():
    @deuteron.jit
    def neg(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = -x[tile]
        return out

    assert isinstance(neg, deuteron.Kernel)
    x = torch.randn(5)
    torch.testing.assert_close(neg(x), -x)
