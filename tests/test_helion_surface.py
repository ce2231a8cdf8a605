"""The public surface Helion programs touch: kernel.settings changed in place, Helion's
setting names, Config spellings, the config spec object, hl.constexpr(value), Helion's
exception classes (compile errors with a kind), and the helpers Helion programs import."""

from __future__ import annotations

import pickle

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from deuteron.runtime.settings import HELION_SETTINGS, KernelSettings, RefMode, Settings


@deuteron.kernel()
def add_one(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + 1
    return out


@deuteron.kernel()
def row_sums(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = x[tile_m, :].sum(-1)
    return out


@deuteron.kernel()
def add_value(x: torch.Tensor, v: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + v
    return out


@deuteron.kernel()
def pick_branch(x: torch.Tensor, flag: bool) -> torch.Tensor:
    take_if = hl.constexpr(flag)
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        if take_if:
            out[tile] = x[tile] + 1.0
        else:
            out[tile] = x[tile] + 2.0
    return out


@pytest.fixture
def interpret(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")


def fresh(kernel):
    return deuteron.kernel(kernel.fn)


# ---------------------------------------------------------------- settings


def test_kernel_settings_change_in_place_and_rebind(interpret):
    k = fresh(add_one)
    x = torch.randn(8)
    k(x)
    bound = k.bind((x,))
    assert bound.settings.static_shapes is True
    k.settings.static_shapes = False
    assert k.settings.static_shapes is False
    # The bound kernel made before keeps its settings; the kernel binds again.
    assert bound.settings.static_shapes is True
    assert k.bind((x,)) is not bound
    assert k.bind((x,)).settings.static_shapes is False
    torch.testing.assert_close(k(x), x + 1)
    # Dynamic shapes: sizes >= 2 share one specialization.
    assert k.bind((torch.randn(16),)) is k.bind((torch.randn(32),))


def test_kernel_settings_values_stay_immutable_and_unshared():
    a, b = fresh(add_one), fresh(add_one)
    shared = Settings(autotune_effort="none")
    a.settings = shared
    b.settings = shared
    a.settings.autotune_effort = "full"
    assert shared.autotune_effort == "none"
    assert b.settings.autotune_effort == "none"
    assert a.settings.autotune_effort == "full"
    snapshot = a.settings.snapshot()
    assert isinstance(snapshot, Settings) and not isinstance(snapshot, KernelSettings)
    with pytest.raises(AttributeError):
        snapshot.autotune_effort = "quick"


def test_deleting_a_kernel_setting_restores_its_default_and_patch_object_round_trips():
    from unittest import mock

    k = fresh(add_one)
    k.settings.autotune_effort = "quick"
    del k.settings.autotune_effort
    assert k.settings.snapshot().autotune_effort == Settings().autotune_effort  # the kernel uses the default
    assert not hasattr(k.settings, "autotune_effort")  # and it reads as missing until assigned
    k.settings.autotune_effort = "full"
    assert k.settings.autotune_effort == "full"
    with pytest.raises(AttributeError):
        del k.settings.no_such_setting
    # patch.object deletes the attribute on exit and assigns the old value back
    # when it then reads as missing, as for Helion's Settings (slots).
    with mock.patch.object(k.settings, "autotune_effort", "none"):
        assert k.settings.autotune_effort == "none"
    assert k.settings.autotune_effort == "full"
    with mock.patch.object(k.settings, "torch_compile_fusion", True):  # a Helion-only setting
        assert k.settings.torch_compile_fusion is True
    assert k.settings.torch_compile_fusion is False


def test_kernel_settings_assignment_checks_value_and_same_value_keeps_bindings(interpret):
    k = fresh(add_one)
    x = torch.randn(8)
    bound = k.bind((x,))
    with pytest.raises(ValueError, match="autotune_effort"):
        k.settings.autotune_effort = "extreme"
    with pytest.raises(TypeError, match="unknown setting"):
        k.settings.no_such_setting = 1
    k.settings.static_shapes = True  # unchanged: the specialization stays
    assert k.bind((x,)) is bound
    assert k.settings == Settings(**k.settings.to_dict())
    assert pickle.loads(pickle.dumps(k.settings)) == k.settings.snapshot()


def test_helion_setting_names():
    s = Settings(autotune_precompile=False, persistent_reserved_sms=3, fast_math=True,
                 autotune_config_overrides={"num_warps": 4})
    assert s.autotune_precompile is False and s.persistent_reserved_sms == 3
    assert Settings().autotune_precompile == HELION_SETTINGS["autotune_precompile"][1]
    assert s.replace(fast_math=False).fast_math is False
    assert s.to_dict()["persistent_reserved_sms"] == 3
    assert pickle.loads(pickle.dumps(s)) == s
    assert "autotune_precompile" in Settings.helion_names()


def test_helion_settings_deuteron_cannot_honor_are_errors():
    with pytest.raises(ValueError, match="autotuner_fn.*not supported"):
        Settings(autotuner_fn=lambda *a: None)
    with pytest.raises(ValueError, match="backend"):
        Settings(backend="pallas")
    assert Settings(backend="triton").backend == "triton"
    assert Settings(distributed=False).distributed is False


def test_ref_mode_is_interpret():
    assert Settings(ref_mode=RefMode.EAGER).interpret is True
    assert Settings(ref_mode=RefMode.OFF).ref_mode is RefMode.OFF
    assert Settings(interpret=True).ref_mode is RefMode.EAGER
    assert Settings(interpret=True).replace(ref_mode=RefMode.OFF).interpret is False
    with pytest.raises(ValueError, match="disagree"):
        Settings(interpret=False, ref_mode=RefMode.EAGER)
    assert deuteron.RefMode is RefMode


# ------------------------------------------------------------------ config


@pytest.mark.parametrize("singular, plural, value", [
    ("block_size", "block_sizes", 64), ("flatten_loop", "flatten_loops", True),
    ("range_unroll_factor", "range_unroll_factors", 2), ("range_warp_specialize", "range_warp_specializes", True),
    ("range_num_stage", "range_num_stages", 3), ("range_multi_buffer", "range_multi_buffers", False),
    ("range_flatten", "range_flattens", True), ("static_range", "static_ranges", True),
    ("l2_grouping", "l2_groupings", 4),
])
def test_singular_config_spellings_are_one_entry_lists(singular, plural, value):
    assert deuteron.Config(**{singular: value}) == deuteron.Config(**{plural: [value]})
    with pytest.raises(ValueError, match="give only one"):
        deuteron.Config(**{singular: value, plural: [value]})


def test_reduction_loop_applies_to_every_reduction_dim(interpret):
    cfg = deuteron.Config(block_sizes=[4], reduction_loop=16)
    assert cfg["reduction_loop"] == 16 and "reduction_loops" not in cfg
    x = torch.randn(8, 64)
    bound = fresh(row_sums).bind((x,))
    n = len(bound.config_spec["reduction_loops"])
    assert n == 1
    assert bound.normalize_config(cfg)["reduction_loops"] == [16] * n
    torch.testing.assert_close(bound.compile_config(cfg)(x), x.sum(-1))
    assert deuteron.Config(reduction_loop=None)["reduction_loop"] is None
    with pytest.raises(ValueError, match="give only one"):
        deuteron.Config(reduction_loop=16, reduction_loops=[16])
    assert cfg.merged(reduction_loops=[32]) == deuteron.Config(block_sizes=[4], reduction_loops=[32])


def test_other_backend_keys_are_errors_and_ignored_keys_are_dropped(interpret):
    from deuteron.testing import code_and_output

    x = torch.randn(64)
    bound = fresh(add_one).bind((x,))
    with pytest.raises(exc.ConfigError, match="num_threads.*another of Helion's back ends"):
        bound.normalize_config(deuteron.Config(block_sizes=[16], num_threads=[16]))
    with pytest.raises(exc.InvalidConfig, match="tcgen05_ab_stages"):
        bound.compile_config(deuteron.Config(block_sizes=[16], tcgen05_ab_stages=2))
    assert bound.normalize_config(deuteron.Config(block_sizes=[16], epilogue_subtile=2)) == \
        bound.normalize_config(deuteron.Config(block_sizes=[16]))
    # The test helper leaves other back ends' keys out, as Helion's does.
    _, out = code_and_output(fresh(add_one), (x,), block_sizes=[16], num_threads=[16], pallas_loop_type="unroll")
    torch.testing.assert_close(out, x + 1)


def test_config_spec_is_a_mapping_with_helions_methods(interpret):
    x = torch.randn(8, 64)
    bound = fresh(row_sums).bind((x,))
    spec = bound.config_spec
    assert spec["block_sizes"][0]["origin"]
    assert dict(spec) == spec and set(spec) >= {"block_sizes", "reduction_loops"}
    assert spec.default_config() == bound.default_config()
    assert len(spec.block_sizes) == 1 and spec.block_sizes.length == 1
    assert spec.block_sizes[0]["min"] >= 1
    assert len(spec.reduction_loops) == 1
    assert len(spec.load_eviction_policies) == 1  # one load
    assert len(spec.load_cache_modifiers) == 0  # searched nowhere here (Helion: only on AMD)
    assert not spec.flatten_loops  # a 1-D grid: nothing to flatten
    assert spec.unsupported_config_keys({"num_threads": [1], "block_sizes": [4], "epilogue_subtile": 2}) == \
        ["epilogue_subtile", "num_threads"]
    with pytest.raises(AttributeError):
        spec.not_a_key
    # Entries are attributes too, under Helion's names: the block size tiles the 8 rows.
    entry = spec.block_sizes[0]
    assert (entry.min_size, entry.max_size, entry.size_hint) == (entry["min"], entry["max"], 8)
    with pytest.raises(AttributeError, match="not_a_field"):
        entry.not_a_field


@deuteron.kernel
def registered_block(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    bs = hl.register_block_size(16, 128)
    for tile in hl.tile(x.size(0), block_size=bs):
        out[tile] = x[tile] * 2
    return out


def test_registered_block_size_spec_has_its_range_and_size_hint(interpret):
    entry = fresh(registered_block).bind((torch.randn(300),)).config_spec.block_sizes[0]
    assert (entry.min_size, entry.max_size, entry.size_hint) == (16, 128, 300)


# --------------------------------------------------------------- constexpr


def test_constexpr_wrapped_argument_is_specialized_by_value(interpret):
    k = fresh(add_value)
    x = torch.randn(32)
    torch.testing.assert_close(k(x, hl.constexpr(5.0)), x + 5.0)
    torch.testing.assert_close(k(x, hl.constexpr(2.0)), x + 2.0)
    assert k.bind((x, hl.constexpr(5.0))) is not k.bind((x, hl.constexpr(2.0)))
    assert k.bind((x, hl.constexpr(5.0))) is k.bind((x, hl.constexpr(5.0)))
    bound = k.bind((x, hl.constexpr(3.0)))
    torch.testing.assert_close(bound.compile_config(bound.default_config())(x, hl.constexpr(3.0)), x + 3.0)
    assert hl.constexpr(hl.constexpr(1)).value == 1


def test_constexpr_called_in_host_code_is_its_value(interpret):
    k = fresh(pick_branch)
    x = torch.zeros(64)
    torch.testing.assert_close(k(x, True), x + 1.0)
    torch.testing.assert_close(k(x, False), x + 2.0)


# ------------------------------------------------------------- host helpers


def test_host_helpers():
    assert deuteron.cdiv(10, 4) == 3 and deuteron.cdiv(8, 4) == 2
    assert [deuteron.next_power_of_2(n) for n in (0, 1, 2, 3, 64, 65)] == [1, 1, 2, 4, 64, 128]
    from deuteron.runtime import get_num_sm, set_triton_allocator

    assert get_num_sm(torch.device("cpu")) >= 1
    assert get_num_sm(torch.device("cpu"), reserved_sms=2) == get_num_sm(torch.device("cpu")) - 2
    set_triton_allocator()  # nothing to do without a GPU; never raises


def test_testing_ref_eager_base_assertions():
    import unittest

    from deuteron.testing import CodeTextMismatch, RefEagerTestBase, TestCase

    class T(RefEagerTestBase, TestCase):
        def runTest(self):  # noqa: N802
            pass

    t = T()
    t.assertTrueIfInNormalMode(True)
    with pytest.raises(AssertionError):
        t.assertTrueIfInNormalMode(False)
    t.assertNotEqualCode("a", "b")
    with pytest.raises(CodeTextMismatch):
        t.assertNotEqualCode("a", "a")
    assert issubclass(CodeTextMismatch, unittest.SkipTest)
    assert t.getUserDefinedTunable({"k": 3}, "k") == 3


# ------------------------------------------------------------------ errors


@deuteron.kernel()
def modifies_host_variable(x: torch.Tensor) -> torch.Tensor:
    result = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        result = x[tile] * 2
    return result  # ERROR


@deuteron.kernel()
def misses_keepdim(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m, _tile_n in hl.tile(out.shape):
        amax = torch.amax(x[tile_m, :], dim=1)
        out[tile_m, :] = torch.exp(x[tile_m, :] - amax)  # ERROR
    return out


def test_every_core_error_kind_has_a_class():
    from deuteron.runtime.core import core

    kinds = core().error_kinds()
    assert kinds[0] == "CompileError"
    assert set(kinds[1:]) == set(exc.error_kinds())
    for name in kinds[1:]:
        cls = getattr(exc, name)
        assert issubclass(cls, exc.CompileError) and exc.compile_error_class(name) is cls
    assert exc.compile_error_class("CompileError") is exc.CompileError
    assert exc.compile_error_class("SomethingNew") is exc.CompileError


def test_helions_names_for_deuterons_errors():
    assert exc.InvalidConfig is exc.ConfigError
    assert exc.NoConfigFound is exc.AutotuneError
    assert exc.InternalError is exc.InternalCompilerError
    assert issubclass(exc.TensorOperationInWrapper, exc.BaseWarning)
    assert Settings(ignore_warnings=[exc.TensorOperationInWrapper]).ignore_warnings == (exc.TensorOperationInWrapper,)


@pytest.mark.parametrize("kernel, cls, args", [
    (modifies_host_variable, exc.CannotModifyHostVariableOnDevice, (torch.randn(8),)),
    (misses_keepdim, exc.ShapeMismatch, (torch.randn(16, 32),)),
])
def test_compile_errors_of_a_kind_keep_their_location(interpret, kernel, cls, args):
    import inspect

    src, first = inspect.getsourcelines(kernel.fn)
    line = first + next(i for i, text in enumerate(src) if "# ERROR" in text)
    with pytest.raises(cls) as info:
        fresh(kernel)(*args)
    err = info.value
    assert isinstance(err, exc.CompileError)
    assert err.line == line and err.filename.endswith("test_helion_surface.py")
    assert f":{line}:{err.col}: error: " in str(err) and "^" in str(err)
    assert type(pickle.loads(pickle.dumps(err))) is cls


def test_helion_alias_answers_private_helpers():
    import subprocess
    import sys

    code = (
        "import deuteron.compat as c; c.install_helion_alias()\n"
        "from helion.runtime.settings import _get_backend\n"
        "import helion\n"
        "assert _get_backend() == 'triton'\n"
        "assert helion.exc.ShapeMismatch is __import__('deuteron').exc.ShapeMismatch\n"
        "assert helion.RefMode.EAGER and helion.next_power_of_2(5) == 8 and helion.cdiv(5, 2) == 3\n"
        "from helion.runtime import get_num_sm, set_triton_allocator\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


# ------------------------------------------------- messages Helion programs match


def test_too_many_arguments_names_the_counts(interpret):
    x = torch.randn(8)
    with pytest.raises(TypeError, match=r"Too many arguments passed to the kernel, expected: 1 got: 2\."):
        fresh(add_one)(x, x)
    with pytest.raises(TypeError, match=r"expected: 1 got: 3\."):
        fresh(add_one).bind((x, x, x))
    with pytest.raises(TypeError, match="missing"):
        fresh(add_value)(x)


def test_too_few_block_sizes_says_what_is_missing(interpret):
    x = torch.randn(8, 64)
    bound = fresh(add_one).bind((x,))
    with pytest.raises(exc.InvalidConfig, match=r"expected 2 block sizes, got 1 .*hl\.tile\(\) dimensions\?"):
        bound.normalize_config(deuteron.Config(block_sizes=[4]))
    with pytest.raises(exc.InvalidConfig, match="expected 2 entries, got 3"):
        bound.normalize_config(deuteron.Config(block_sizes=[4, 4, 4]))
