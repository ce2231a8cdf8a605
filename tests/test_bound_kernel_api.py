"""BoundKernel's public pipeline (generate -> write_module -> load), the functions the
autotuner, export and AOT build on (load_host_function, capture_launches), Kernel's
public signature helpers, the autotuner hook, the environment module, the worker
protocol and atomic writes."""

from __future__ import annotations

import io
import json
import os
import stat

import pytest
import torch

import deuteron
import deuteron.language as hl
import kernels_pointwise as K
from conftest import fresh
from deuteron.autotune import worker_protocol
from deuteron.autotune.precompile import capture_launches
from deuteron.runtime import env
from deuteron.runtime import kernel as kernel_module
from deuteron.runtime.files import write_atomic
from deuteron.runtime.launcher import fast_launcher
from deuteron.runtime.modules import load_host_function

CFG = deuteron.Config(block_sizes=[64])


@pytest.fixture
def bound(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    x = torch.randn(100)
    return fresh(K.promote).bind((x, x))


def test_generate_gives_each_back_end_and_takes_any_config_form(bound):
    triton_code = bound.generate(CFG, "triton")
    reference_code = bound.generate(CFG, "reference")
    assert "@triton.jit" in triton_code and "@triton.jit" not in reference_code
    assert triton_code == bound.to_triton_code(CFG) and reference_code == bound.to_reference_code(CFG)
    assert bound.backend == "reference"  # interpret mode
    assert bound.generate(CFG) == reference_code
    assert bound.generate(CFG.to_json(), "triton") == triton_code
    assert bound.generate({"block_sizes": [64]}, "triton") == triton_code
    assert bound.generate(None, "triton") == bound.generate(bound.default_config(), "triton")
    assert bound.generate(deuteron.Config(block_sizes=[32]), "triton") != triton_code


def test_write_module_writes_once_under_module_dir(bound, tmp_path):
    bound.settings = bound.settings.replace(cache_dir=str(tmp_path))
    assert bound.module_dir == tmp_path / "generated"
    path = bound.write_module(CFG, "triton")
    assert path.parent == bound.module_dir and path.name.startswith("promote_") and path.suffix == ".py"
    assert path.read_text() == bound.generate(CFG, "triton")
    assert bound.write_module(CFG, "triton") == path
    assert bound.write_module(CFG, "reference") != path
    assert [p.name for p in bound.module_dir.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_load_runs_the_config_and_is_cached(bound):
    x, y = torch.randn(100), torch.randn(100)
    fn = bound.load(CFG)
    torch.testing.assert_close(fn(x, y), (x * 3 + y / 2) * K.SCALE)
    assert bound.load(CFG) is fn and bound.load(CFG.to_json()) is fn
    assert fn.deuteron_module._deuteron_meta["backend"] == "reference"
    assert fn.deuteron_path == bound.write_module(CFG)
    assert bound.load(CFG, "triton") is not fn


def test_set_config_runs_what_load_gives(bound):
    bound.set_config(CFG)
    assert bound.config == CFG and bound._run is bound.load(CFG)


def test_load_prints_the_module_once_with_print_output_code(bound, capsys):
    bound.settings = bound.settings.replace(print_output_code=True)
    bound.load(CFG)
    bound.load(CFG)
    err = capsys.readouterr().err
    assert err.count("def promote(") == 1


def test_load_host_function_takes_a_stand_in_launcher(bound):
    """The export / AOT / autotuner path: the Triton module of a CPU-bound kernel, run with
    a launcher that records instead of launching, in a module of its own."""
    x, y = torch.randn(100), torch.randn(100)
    launches = []

    def record(kernel, grid, *args, num_warps=4, num_stages=1, maxnreg=None, site=None):
        launches.append((kernel.fn.__name__, tuple(grid), num_warps))

    path = bound.write_module(CFG, "triton")
    fn = load_host_function(path, bound.globals, launch=record)
    fn(x, y)
    assert len(launches) == 1 and launches[0][1] == (2,)  # 100 elements in blocks of 64
    assert fn.deuteron_path == path and fn.deuteron_module._launch is record
    # A second load is a fresh module: the stand-in does not leak into it.
    assert load_host_function(path, bound.globals).deuteron_module is not fn.deuteron_module


def test_load_host_function_launches_natively_unless_interpreting(bound, monkeypatch):
    path = bound.write_module(CFG, "triton")
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert load_host_function(path, bound.globals).deuteron_module._launch is not fast_launcher
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    assert load_host_function(path, bound.globals).deuteron_module._launch is fast_launcher
    reference = bound.write_module(CFG, "reference")
    assert getattr(load_host_function(reference, bound.globals).deuteron_module, "_launch", None) is None


def test_capture_launches_describes_each_launch(bound):
    x, y = torch.randn(100), torch.randn(100, dtype=torch.float64)
    b = fresh(K.promote).bind((x, y))
    calls = capture_launches(b.write_module(CFG, "triton"), b.globals, (x, y))
    assert len(calls) == 1
    name, descs, opts = calls[0]
    assert ("dtype", "float32") in descs and ("dtype", "float64") in descs
    assert set(opts) >= {"num_warps", "num_stages"}


def test_json_level_config_methods_agree_with_the_config_level(bound):
    default_json = bound.default_config_json()
    assert deuteron.Config.from_json(default_json) == bound.default_config()
    assert bound.normalize_config_json(default_json) == default_json
    assert deuteron.Config.from_json(bound.normalize_config_json(CFG.to_json())) == bound.normalize_config(CFG)
    with pytest.raises(deuteron.exc.ConfigError):
        bound.normalize_config_json(json.dumps({"block_sizes": [3]}))
    spec = json.loads(bound.tune_spec_json())
    assert spec and isinstance(spec, dict)


def test_globals_and_device_info(bound):
    assert bound.globals["SCALE"] == K.SCALE and bound.globals["torch"] is torch
    assert isinstance(bound.device_info, dict) and bound.device_info


def test_kernel_signature_helpers():
    @deuteron.kernel(autotune_effort="none")
    def scaled(x: torch.Tensor, n: hl.constexpr, scale: float = 2.0, *, shift: float = 0.0) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = x[tile] * scale + shift + n
        return out

    x = torch.randn(4)
    assert [p.name for p in scaled.parameters] == ["x", "n", "scale", "shift"]
    assert scaled.constexpr_flags == (False, True, False, False)
    assert scaled.normalize_args((x, 1)) == (x, 1, 2.0, 0.0)
    assert scaled.normalize_args((x, 1), {"shift": 1.5}) == (x, 1, 2.0, 1.5)
    with pytest.raises(TypeError, match="scaled"):
        scaled.normalize_args((x,))
    assert scaled.autograd is None
    scaled.register_autograd(lambda ctx, g: (g, None, None, None))
    assert scaled.autograd is not None


def test_autotune_goes_through_the_installed_autotuner(bound):
    calls = []

    class FakeTuner:
        def tune(self, b, args, **kwargs):
            calls.append(("tune", b, kwargs))
            return CFG

        def cached_config(self, b, args):
            calls.append(("cached", b))
            return None

    previous = kernel_module.install_autotuner(FakeTuner())
    try:
        assert previous is deuteron.autotune  # what `import deuteron` installs
        assert bound.autotune((torch.randn(100), torch.randn(100)), configs=[CFG]) == CFG
        assert calls == [("tune", bound, {"configs": [CFG]})]
    finally:
        kernel_module.install_autotuner(previous)


def test_env_functions_read_the_environment_when_called(monkeypatch):
    for value, on in (("1", True), ("0", False), ("", False), ("true", True)):
        monkeypatch.setenv("TRITON_INTERPRET", value)
        assert env.triton_interpret() is on
    for value, on in (("1", True), ("yes", True), ("off", False), ("No", False), ("0", False)):
        monkeypatch.setenv("DEUTERON_INTERPRET", value)
        assert env.deuteron_interpret() is on
        monkeypatch.setenv("DEUTERON_PRINT_OUTPUT_CODE", value)
        assert env.print_output_code() is on
    monkeypatch.delenv("DEUTERON_PRINT_OUTPUT_CODE")
    assert env.print_output_code() is False
    monkeypatch.setenv("DEUTERON_AUTOTUNE_RANDOM_SEED", "7")
    assert env.setting_variable("autotune_random_seed") == "DEUTERON_AUTOTUNE_RANDOM_SEED"
    assert env.setting_text("autotune_random_seed") == "7"
    monkeypatch.setenv("DEUTERON_AUTOTUNE_WORKER_OUTPUT", "stderr")
    assert env.autotune_worker_output_to_stderr()
    monkeypatch.setenv("TRITON_FOO", "x")
    assert ("TRITON_FOO", "x") in env.worker_signature()
    assert env.environment()["TRITON_FOO"] == "x"


def test_worker_protocol_round_trip_and_eof():
    stream = io.BytesIO()
    worker_protocol.write_message(stream, worker_protocol.READY)
    worker_protocol.write_message(stream, (3, "os.path:join", ("a", "b"), {}))
    data = stream.getvalue()
    stream = io.BytesIO(data)
    assert worker_protocol.read_message(stream) == ("ready",)
    job_id, target, args, kwargs = worker_protocol.read_message(stream)
    assert worker_protocol.resolve(target)(*args, **kwargs) == os.path.join("a", "b")
    with pytest.raises(EOFError, match="closed"):
        worker_protocol.read_message(stream)
    truncated = io.BytesIO(data[:-1])
    assert worker_protocol.read_message(truncated) == ("ready",)
    with pytest.raises(EOFError, match="mid-message"):
        worker_protocol.read_message(truncated)


def test_worker_environment_carries_the_import_path_and_preloads(monkeypatch):
    base = {"A": "1"}
    e = worker_protocol.with_preload(worker_protocol.worker_environment(base, ["/x", "", 3]), ["torch", "triton"])
    assert base == {"A": "1"} and e["A"] == "1"
    monkeypatch.setenv(worker_protocol.SYS_PATH_VARIABLE, e[worker_protocol.SYS_PATH_VARIABLE])
    monkeypatch.setenv(worker_protocol.PRELOAD_VARIABLE, e[worker_protocol.PRELOAD_VARIABLE])
    assert worker_protocol.parent_sys_path() == ["/x"]
    assert worker_protocol.preload_modules() == ["torch", "triton"]


def test_write_atomic(tmp_path):
    path = tmp_path / "f.json"
    write_atomic(path, "one")
    write_atomic(path, "two", durable=True, mode=0o644)
    assert path.read_text() == "two" and stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]
    with pytest.raises(TypeError):
        write_atomic(path, None)  # type: ignore[arg-type]
    assert path.read_text() == "two" and sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]
