"""Helion programs unchanged: the `helion` import alias, deuteron.testing, and the conformance runner."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import unittest
from pathlib import Path

import pytest
import torch

import deuteron
import deuteron.compat as compat
import deuteron.testing as dt
from deuteron.compat.helion_alias import HelionInternalUsed

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parent / "helion_corpus"
sys.path.insert(0, str(ROOT / "scripts"))
import conformance  # noqa: E402


@pytest.fixture
def alias():
    compat.install_helion_alias()
    yield
    compat.uninstall_helion_alias()


@pytest.fixture
def alias_placeholders():
    compat.install_helion_alias(internals="placeholder")
    yield
    compat.uninstall_helion_alias()


# ------------------------------------------------------------------ the alias


def test_alias_names_deuteron_modules(alias):
    import helion
    import helion.language as hl
    from helion import exc
    from helion._testing import DEVICE, run_example
    from helion.runtime.config import Config

    assert helion.kernel is deuteron.kernel and helion.Config is deuteron.Config
    assert hl.tile is deuteron.language.tile
    assert exc.CompileError is deuteron.exc.CompileError
    assert DEVICE is dt.DEVICE and run_example is dt.run_example
    assert Config is deuteron.Config
    assert helion.__deuteron_module__ is deuteron


def test_alias_refuses_helion_internals_by_default(alias):
    with pytest.raises(ModuleNotFoundError, match="helion._compiler is part of Helion's internals"):
        importlib.import_module("helion._compiler.tile_strategy")
    import helion

    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        helion.not_a_name  # noqa: B018


def test_alias_placeholders_raise_on_use(alias_placeholders):
    from helion._compiler.tile_strategy import TileStrategy
    from helion.runtime.kernel import _private_helper

    with pytest.raises(HelionInternalUsed, match="helion._compiler.tile_strategy.TileStrategy"):
        TileStrategy()
    with pytest.raises(HelionInternalUsed):
        _private_helper(1)
    with pytest.raises(HelionInternalUsed):
        class Derived(TileStrategy):  # noqa: F841 - used as a base class
            pass
    assert issubclass(HelionInternalUsed, unittest.SkipTest)


def test_uninstall_forgets_the_alias(alias):
    import helion  # noqa: F401

    compat.uninstall_helion_alias()
    assert "helion" not in sys.modules
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("helion")
    compat.install_helion_alias()  # the fixture uninstalls again


def test_kernel_written_for_helion_runs(alias, monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    module = dt.import_path(CORPUS / "examples" / "add_example.py")
    x, y = torch.randn(1000), torch.randn(1000)
    torch.testing.assert_close(module.add(x, y), x + y)
    module.main()  # run_example: checks against torch.add, no timing on the CPU


def test_compat_platform_queries():
    assert compat.is_hip() is False and compat.use_tileir_tunables() is False
    assert compat.requires_torch_version("2.0") and not compat.requires_torch_version("99.0")
    assert compat.min_dot_size() == (16, 16, 16)
    assert compat.device_num_sm() > 0
    assert compat.get_tensor_descriptor_fn_name() == "tl.make_tensor_descriptor"


# ------------------------------------------------------------ deuteron.testing


def test_code_and_output_takes_config_keywords(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    import kernels_pointwise as K

    K.add.reset()
    x = torch.randn(300)
    code, out = dt.code_and_output(K.add, (x, x), block_sizes=[64])
    assert isinstance(code, dt.GeneratedCode) and "@triton.jit" in code
    assert "64" in code
    torch.testing.assert_close(out, x + x)


def _run_case(case: type, name: str) -> unittest.TestResult:
    result = unittest.TestResult()
    case(name).run(result)
    return result


def test_testcase_reports_code_text_mismatches_as_skips():
    class Case(dt.TestCase):
        def test_in_code(self):
            self.assertIn("some helion spelling", dt.GeneratedCode("tl.load(x)"))

        def test_journal(self):
            self.assertExpectedJournal("code")

        def test_plain_assert(self):
            self.assertIn("a", "bcd")

        def test_code_text_holds(self):
            self.assertIn("tl.load", dt.GeneratedCode("tl.load(x)"))

    for name in ("test_in_code", "test_journal"):
        result = _run_case(Case, name)
        assert len(result.skipped) == 1 and result.skipped[0][1].startswith("code-text:"), name
    assert len(_run_case(Case, "test_plain_assert").failures) == 1
    assert _run_case(Case, "test_code_text_holds").wasSuccessful()


def test_run_example_catches_a_wrong_kernel():
    with pytest.raises(AssertionError):
        dt.run_example(lambda x: x + 1, lambda x: x, (torch.zeros(4),), atol=0, rtol=0)
    assert dt.run_example({"a": lambda x: x * 1}, lambda x: x, (torch.ones(4),)) == {}


def test_mismatch_tolerance():
    a, b = torch.zeros(1000), torch.zeros(1000)
    a[0] = 5.0
    dt.assert_close_with_mismatch_tolerance(a, b, max_mismatch_pct=0.01)
    with pytest.raises(AssertionError, match="differs by"):
        dt.assert_close_with_mismatch_tolerance(a, b, max_mismatch_pct=0.01, max_mismatched_abs_diff=1.0)
    a[:20] = 5.0
    with pytest.raises(AssertionError, match="of the elements differ"):
        dt.assert_close_with_mismatch_tolerance(a, b, max_mismatch_pct=0.01)


def test_skip_decorators_answer_for_deuteron():
    assert dt.matchesBackends(["triton", "cute"]) and not dt.matchesBackends(["pallas"])

    @dt.onlyBackends(["pallas"])
    class PallasOnly(unittest.TestCase):
        def test_x(self):
            pass

    result = _run_case(PallasOnly, "test_x")
    assert result.skipped and result.skipped[0][1].startswith("back end:")

    class Runs(unittest.TestCase):
        @dt.skipIfRefEager("helion's ref mode")
        @dt.skipIfRocm("rocm")
        def test_x(self):
            pass

        @dt.skipIfFn(lambda: True, "always")
        def test_y(self):
            pass

    assert _run_case(Runs, "test_x").wasSuccessful()
    assert _run_case(Runs, "test_y").skipped


# ------------------------------------------------------------ the runner


def test_runner_classifies_outcomes():
    assert conformance.classify_skip("code-text: assertIn") == "n/a: code-text"
    assert conformance.classify_skip("helion-internal: helion._compiler.x") == "n/a: helion-internal"
    assert conformance.classify_skip("back end: only for pallas") == "n/a: back end"
    assert conformance.classify_skip("needs a CUDA GPU") == "skipped"
    assert conformance.classify_failure(
        "AttributeError: module 'deuteron.runtime.kernel' has no attribute '_tensor_key'") == "n/a: helion-internal"
    assert conformance.classify_failure("AssertionError: Tensor-likes are not close!") == "failed"
    # deuteron's errors for another of Helion's back ends (HELION_BACKEND=pallas, backend="cute", ...).
    assert conformance.classify_failure(
        "ValueError: environment variable HELION_BACKEND='pallas' names the back end 'pallas'; "
        "deuteron generates Triton code only (unset it or set it to 'triton')") == "n/a: back end"
    assert conformance.classify_failure(
        "deuteron.exc.InputError: k: the kernel is for Helion's 'cute' back end (backend='cute'); "
        "deuteron generates Triton code only") == "n/a: back end"
    # Inductor's Triton kernel count for the plain-PyTorch reference is 0 on the CPU (it emits C++).
    count = "AssertionError: 0 != 1 : Ref baseline: expected 1 triton kernel(s), got 0"
    assert conformance.classify_failure(count, "interpret") == "skipped"
    assert conformance.classify_failure(count, "gpu") == "failed"
    assert conformance.classify_failure(count.replace("got 0", "got 2"), "interpret") == "failed"
    # Tests that call the accelerator themselves need a GPU; in gpu mode the same text is a failure.
    accel = "RuntimeError: Cannot access accelerator device when none is available."
    assert conformance.classify_failure(accel, "interpret") == "skipped"
    assert conformance.classify_failure(accel, "triton-interpret") == "skipped"
    assert conformance.classify_failure(accel, "gpu") == "failed"
    # ... but not when the exception passed through deuteron: then deuteron made the GPU-only call.
    assert conformance.classify_failure(accel, "interpret", origin="deuteron") == "failed"
    bmm = "NotImplementedError: Could not run 'aten::bmm.dtype' with arguments from the 'CPU' backend."
    assert conformance.classify_failure(bmm, "interpret") == "skipped"
    assert conformance.classify_failure(bmm, "interpret", origin="deuteron") == "failed"
    # A Triton kernel the test launches itself runs under TRITON_INTERPRET, not in the eager mode.
    drivers = "RuntimeError: 0 active drivers ([]). There should only be one."
    assert conformance.classify_failure(drivers, "interpret") == "skipped"
    off = "deuteron.exc.InputError: k(): deuteron kernels run on CUDA tensors, got tensors on cpu; set ..."
    assert conformance.classify_failure(off, "triton-interpret", origin="deuteron") == "skipped"
    assert conformance.classify_failure(off, "gpu", origin="deuteron") == "failed"

    assert conformance.classify_failure(drivers, "triton-interpret") == "failed"
    assert conformance.classify_failure(
        "AssertionError: False is not true : Philox round constants not found in generated code") == "n/a: code-text"
    assert conformance.classify_failure("AssertionError: [] is not true : no rendered bound in:\n# Generated") \
        == "n/a: code-text"
    assert conformance.classify_failure("AssertionError: unexpectedly None : Could not find grid size in flat code") \
        == "n/a: code-text"
    assert conformance.classify_failure("AttributeError: 'BoundKernel' object has no attribute 'env'") \
        == "n/a: helion-internal"
    assert conformance.classify_failure("AttributeError: ConfigSpec has no attribute '_flat_fields'") \
        == "n/a: helion-internal"
    # deuteron's own errors stay failures whatever they say.
    assert conformance.classify_failure("deuteron.exc.CompileError: x.py:1:2: error: 'torch.gather' is not supported",
                                        "interpret") == "failed"
    assert conformance.failure_cause("/a/b.py:12:5: error: 'torch.stack' is not supported inside tile loops") \
        == "CompileError: 'torch.stack' is not supported inside tile loops"
    assert conformance.failure_cause("ValueError: got 128, expected 64") == "ValueError: got N, expected N"
    assert conformance.set_apart_reason("test_cute_layout.py").startswith("another of Helion's back ends")
    assert conformance.set_apart_reason("test_autotuner.py").startswith("Helion-internal")


def _run_runner(tmp_path: Path, *args: str) -> tuple[int, dict, str]:
    report = tmp_path / "report.json"
    env = dict(os.environ, DEUTERON_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "conformance.py"), "--helion", str(CORPUS),
                           "--jobs", "1", "--json", str(report), *args],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    return proc.returncode, json.loads(report.read_text()) if report.exists() else {}, proc.stdout


def test_runner_counts_each_outcome(tmp_path):
    rc, report, out = _run_runner(tmp_path, "--files", "test_mini.py")
    assert rc == 0, out
    (mini,) = report["tests"]["files"]
    assert mini["collected"] == 9
    assert mini["outcomes"] == {"passed": 1, "failed": 2, "n/a: code-text": 2, "n/a: helion-internal": 1,
                                "n/a: back end": 1, "skipped": 2}, out
    failures = {f["test"].split("::")[-1]: f["reason"] for f in mini["failures"]}
    assert "Tensor-likes are not close" in failures["test_fails"]
    assert "test_kernel_error_is_deuteron_failure" in failures
    skips = {s["test"].split("::")[-1]: s["reason"] for s in mini["skips"]}
    assert skips["test_own_reference_needs_gpu"].startswith("needs a GPU: the test calls torch.accelerator"), skips


def test_runner_resumes_a_file_after_a_crash(tmp_path):
    # test_b kills the process (SIGSEGV): it is reported as not finished, and the
    # file resumes without it, so test_c and test_d still run and count.
    rc, report, out = _run_runner(tmp_path, "--files", "test_crash.py")
    assert rc == 0, out
    (crash,) = report["tests"]["files"]
    assert crash["collected"] == 5
    # test_e_subtests reports three passes (two subtests and the test): each counts,
    # as in a file that never crashed (a resume must not fold them into one).
    assert crash["outcomes"] == {"passed": 5, "failed": 2}, out
    failures = {f["test"].split("::")[-1]: f["reason"] for f in crash["failures"]}
    assert failures["test_b_crashes"].startswith("did not finish: pytest exited with -11"), failures
    assert "Tensor-likes are not close" in failures["test_d_after_fails"]
    assert "in test_b_crashes" in crash["note"], crash["note"]


def test_runner_runs_examples(tmp_path):
    rc, report, out = _run_runner(tmp_path, "--examples")
    assert rc == 0, out
    outcomes = {f["file"]: f["outcomes"] for f in report["examples"]["files"]}
    assert outcomes == {"add_example": {"passed": 1}, "broken_example": {"failed": 1}}, out


def test_runner_without_corpus_says_so(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "conformance.py"), "--helion",
                           str(tmp_path / "nowhere")], stdout=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 0 and "is not at" in proc.stdout


def test_runner_holds_each_file_to_its_floor(tmp_path):
    floor = tmp_path / "floor.json"
    rc, _, out = _run_runner(tmp_path, "--files", "test_mini.py", "--update-floor", "--floor", str(floor))
    assert rc == 0, out
    assert json.loads(floor.read_text()) == {"tests/interpret/test_mini.py": 1}
    rc, _, out = _run_runner(tmp_path, "--files", "test_mini.py", "--check-floor", "--floor", str(floor))
    assert rc == 0 and "1 pass (floor 1)" in out, out
    # One more passing test than today is required: the check fails and names what failed.
    floor.write_text(json.dumps({"tests/interpret/test_mini.py": 2}))
    rc, _, out = _run_runner(tmp_path, "--files", "test_mini.py", "--check-floor", "--floor", str(floor))
    assert rc == 1 and "fewer than the floor of 2" in out and "FAIL" in out, out


def _two_loads_kernel():
    import deuteron.language as hl

    @deuteron.kernel
    def two_loads(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = hl.load(x, [tile]) + hl.load(y, [tile])
        return out

    return two_loads


def test_per_load_keys_are_list_of_fragments(monkeypatch):
    # Helion's tests read config_spec.load_eviction_policies as ListOf(EnumFragment);
    # cache modifiers, which the autotuner does not search here, have no entries.
    from deuteron.autotuner import EnumFragment, ListOf

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    x = torch.randn(128)
    spec = _two_loads_kernel().bind((x, x)).config_spec
    fragment = spec.load_eviction_policies
    assert isinstance(fragment, ListOf) and fragment.length == 2
    assert isinstance(fragment.inner, EnumFragment) and set(fragment.inner.choices) == {"", "first", "last"}
    assert spec.load_cache_modifiers.length == 0 and spec.store_cache_modifiers.length == 0
    assert spec.load_cache_modifiers.inner is not None
    assert spec.block_sizes.inner is None


def test_private_tensor_descriptor_query_is_a_cached_function(alias):
    from helion import _compat

    assert _compat._supports_tensor_descriptor() == compat.supports_tensor_descriptor()
    _compat._supports_tensor_descriptor.cache_clear()  # Helion's tests clear it around patches


def test_allowed_pid_types(monkeypatch):
    import deuteron.language as hl

    @deuteron.kernel(autotune_effort="none")
    def two_phase(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = x[tile] + 1
        hl.barrier()
        for tile in hl.tile(x.size(0)):
            out[tile] = out[tile] * 2
        return out

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    x = torch.randn(64)
    assert _two_loads_kernel().bind((x, x)).config_spec.allowed_pid_types == (
        "flat", "xyz", "persistent_blocked", "persistent_interleaved")
    # hl.barrier needs a persistent launch (BarrierRequiresPersistent otherwise)
    assert two_phase.bind((x,)).config_spec.allowed_pid_types == ("persistent_blocked", "persistent_interleaved")
