"""The default config fits the GPU (docs/api.md, "How the default config is chosen").

* The core shrinks the default's block sizes and stages until its estimate of
  shared memory and accumulator registers fits (config/resource_estimate.cc):
  checked here on the shapes whose first defaults Triton refused on the H200.
* At launch, a default config Triton still refuses (OutOfResources) is replaced by
  smaller ones, a config the user gave is a ConfigOutOfResources, and the
  autotuner skips configs that fail so: Triton's compile step is mocked at the
  boundary deuteron calls (runtime/launcher.py's default_launcher).
"""

from __future__ import annotations

import json

import pytest
import torch

import deuteron
import deuteron.language as hl
import kernels_fit as K
from conftest import TRITON_MODE, fresh
from deuteron import exc
from deuteron.runtime import kernel as kernel_mod
from deuteron.runtime import launcher

H100_SHARED = 227 * 1024  # the CPU's stand-in target (shared_memory_per_block_optin of an H100/H200)


@pytest.fixture
def on_cpu(monkeypatch):
    """Binding on the CPU: the interpret mode (the config space is the GPU's, an H100's)."""
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")


def _default(kernel, args) -> dict:
    return json.loads(fresh(kernel).bind(args).default_config_json())


# ------------------------------------------------ the default config's estimate

def test_matmul_with_whole_rows_fits_shared_memory_and_registers(on_cpu):
    # Helion's matmul_layernorm at 128x256x400 bf16: the first default (128x64 tiles of x,
    # 64x512 of y, 3 stages) needed 245760 bytes, and 128x512 fp32 accumulators.
    x, y, s = torch.randn(128, 256).bfloat16(), torch.randn(256, 400).bfloat16(), torch.randn(400).bfloat16()
    cfg = _default(K.matmul_rownorm, (x, y, s))
    bm, bk = cfg["block_sizes"]
    stages, warps = cfg["num_stages"], cfg["num_warps"]
    assert stages * (bm * bk + bk * 512) * 2 <= H100_SHARED
    assert bm * 512 / (32 * warps) <= 192
    assert stages >= 2  # still pipelined


def test_loads_beside_the_dots_count(on_cpu):
    # Helion's gdn_fwd_h: w, k (256x64) and u (256 x block_v) are all staged by the
    # pipeliner; at block_v=128 and 3 stages Triton asked for 395272 bytes.
    k = torch.randn(2, 1024, 64).bfloat16()
    v = torch.randn(2, 1024, 128).bfloat16()
    decay = torch.rand(2, 4)
    cfg = _default(K.chunked_state, (k, v, decay, 256))
    (bv,) = cfg["block_sizes"]
    stages = cfg["num_stages"]
    staged = 256 * 64 * 2 + 256 * bv * 2  # the k chunk (both dots read it) and the v chunk beside them
    assert stages * staged <= H100_SHARED, cfg
    assert 3 * 256 * 64 * 2 + 3 * 256 * 128 * 2 > H100_SHARED  # the first default did not fit
    assert bv >= 16


def test_whole_contraction_dim_rolls_into_chunks(on_cpu):
    # Helion's squeeze_and_excitation_net at 1024^3 fp16: x[tile_m, :] @ a[:, tile_k] staged
    # 128x1024 and 1024x128 tiles 3 times (1605632 bytes).  The default rolls the
    # contraction (passes/contraction_rolling.cc) instead of shrinking the tiles.
    x, a = torch.randn(1024, 1024).half(), torch.randn(1024, 1024).half()
    cfg = _default(K.whole_row_projection, (x, a))
    bm, br = cfg["block_sizes"]
    (chunk,) = cfg["reduction_loops"]
    assert chunk is not None and chunk < 1024, cfg
    assert cfg["num_stages"] * (bm * chunk + chunk * br) * 2 <= H100_SHARED, cfg
    assert min(bm, br) >= 64, cfg
    assert cfg["num_stages"] >= 2, cfg


def test_a_small_grid_over_rows_alone_halves_its_row_block(on_cpu):
    # A dot kernel whose grid is hl.tile(m) alone (the N loop inside each program, as in
    # squeeze_and_excitation_net): 1024 rows in 128-row tiles are 8 programs on 132 SMs.
    # The default halves the row block while the grid has fewer programs than a quarter
    # of the SMs, down to 64 rows here (each program streams all of `a`).
    a = torch.randn(1024, 1024).half()
    small = _default(K.whole_row_projection, (torch.randn(1024, 1024).half(), a))
    assert small["block_sizes"][0] == 64, small
    large = _default(K.whole_row_projection, (torch.randn(8192, 1024).half(), a))
    assert large["block_sizes"][0] == 128, large


def test_whole_output_dim_of_a_dot_rolls_into_chunks(on_cpu):
    # Helion's se_block at 4096x1024 bf16: x_tile @ w[:, :] keeps w whole (2 MB) at any
    # tile_m, so the default rolls the product's columns, and with them (one entry: the
    # dims meet) its contraction: x[tile, chunk] and w[chunk, chunk] staged per step.
    x, w = torch.randn(4096, 1024).bfloat16(), torch.randn(1024, 1024).bfloat16()
    cfg = _default(K.gated_columns, (x, w))
    (bm,), (chunk,) = cfg["block_sizes"], cfg["reduction_loops"]
    assert chunk is not None and chunk < 1024, cfg
    assert cfg["num_stages"] * (bm * chunk + chunk * chunk) * 2 <= H100_SHARED, cfg
    assert bm >= 64, cfg  # a matmul's tile, not the smallest


def test_plain_matmul_default_is_unchanged(on_cpu):
    @deuteron.kernel(autotune_effort="none")
    def mm(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        m, k = x.size()
        n = y.size(1)
        out = torch.empty([m, n], dtype=x.dtype, device=x.device)
        for tm, tn in hl.tile([m, n]):
            acc = hl.zeros([tm, tn], dtype=torch.float32)
            for tk in hl.tile(k):
                acc = torch.addmm(acc, x[tm, tk], y[tk, tn])
            out[tm, tn] = acc.to(out.dtype)
        return out

    x = torch.randn(4096, 4096).bfloat16()
    cfg = _default(mm, (x, x))
    # (128x256 tiles are for a CUDA Hopper GPU; the CPU's stand-in takes 128x128.)
    assert cfg["block_sizes"] == [128, 128, 64] and cfg["num_stages"] == 3 and cfg["num_warps"] == 8


# ------------------------------------- the kernels run right with their defaults

def test_matmul_rownorm_default_runs(mode):
    x, y, s = torch.randn(64, 64), torch.randn(64, 200), torch.randn(200)
    torch.testing.assert_close(fresh(K.matmul_rownorm)(x, y, s), K.matmul_rownorm_ref(x, y, s), rtol=1e-3, atol=1e-3)


def test_chunked_state_default_runs(mode):
    k, v, decay = torch.randn(2, 64, 16) / 4, torch.randn(2, 64, 32) / 4, torch.rand(2, 4)
    torch.testing.assert_close(fresh(K.chunked_state)(k, v, decay, 16), K.chunked_state_ref(k, v, decay, 16),
                               rtol=1e-3, atol=1e-3)


def test_gated_columns_default_runs(mode):
    # A small shape: w fits whole, nothing rolls by default (the rolled form: test_whole_dims.py).
    x, w = torch.randn(40, 64).half(), (torch.randn(64, 64) / 8).half()
    out, s = fresh(K.gated_columns)(x, w)
    eo, es = K.gated_columns_ref(x, w)
    torch.testing.assert_close(s, es, rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(out, eo, rtol=2e-2, atol=2e-2)


def test_whole_row_projection_default_runs(mode):
    x, a = torch.randn(64, 128), torch.randn(128, 32)
    torch.testing.assert_close(fresh(K.whole_row_projection)(x, a), K.whole_row_projection_ref(x, a),
                               rtol=1e-3, atol=1e-3)


# --------------------------------------------------- the safety net at launch
#
# These tests take the Triton path on the CPU: the device check is skipped and
# Triton's launch (where it compiles and loads a kernel) is replaced by a fake
# that raises Triton's own OutOfResources for configs above a fake limit.

needs_plain_mode = pytest.mark.skipif(TRITON_MODE, reason="mocks Triton's compile step; Triton interprets here")


def _oor(required: int, limit: int, name: str = "shared memory") -> Exception:
    from triton.runtime.errors import OutOfResources

    return OutOfResources(required, limit, name)


class FakeTriton:
    """Records launches; refuses those whose staged tiles exceed `limit` bytes."""

    def __init__(self, limit: int, only: str = "") -> None:
        self.limit = limit
        self.only = only  # refuse only kernels whose source holds this text
        self.launches: list[tuple[str, int, tuple]] = []

    def __call__(self, kernel, grid, *args, num_warps=4, num_stages=1, maxnreg=None, site=None):
        name = getattr(kernel, "__name__", "?")
        if self.only and self.only not in getattr(kernel, "src", ""):
            self.launches.append((name, num_stages, ()))
            return None
        bm, bn, bk = args[-3:]  # a matmul's block sizes, its last (constexpr) arguments
        self.launches.append((name, num_stages, (bm, bn, bk)))
        need = num_stages * (bm * bk + bk * bn) * 4
        if need > self.limit:
            raise _oor(need, self.limit)
        return None  # launched (nothing runs: no GPU here)


@pytest.fixture
def fake_gpu(monkeypatch):
    monkeypatch.delenv("DEUTERON_INTERPRET", raising=False)
    monkeypatch.setattr(kernel_mod, "_device_problem", lambda *a: None)

    def install(fake: FakeTriton) -> FakeTriton:
        monkeypatch.setattr(launcher, "default_launcher", fake)
        return fake

    return install


def _matmul(**kwargs):
    @deuteron.kernel(autotune_effort="none", **kwargs)
    def mm(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        m, k = x.size()
        n = y.size(1)
        out = torch.empty([m, n], dtype=torch.float32, device=x.device)
        for tm, tn in hl.tile([m, n]):
            acc = hl.zeros([tm, tn], dtype=torch.float32)
            for tk in hl.tile(k):
                acc = torch.addmm(acc, x[tm, tk], y[tk, tn])
            out[tm, tn] = acc
        return out

    return mm


@needs_plain_mode
def test_default_config_shrinks_until_triton_accepts_it(fake_gpu, capfd):
    fake = fake_gpu(FakeTriton(limit=40000))
    mm = _matmul()
    x = torch.randn(1024, 1024)  # 64 output tiles of 128x128: not a "small matmul" (autotuning.md)
    bound = mm.bind((x, x))
    assert json.loads(bound.default_config_json())["num_stages"] == 3
    mm(x, x)
    # 3, 2, 1 stages of 128x128 output tiles with k=64, then tile_m and tile_n halved.
    assert [(s, b) for _, s, b in fake.launches] == [
        (3, (128, 128, 64)), (2, (128, 128, 64)), (1, (128, 128, 64)), (1, (64, 128, 64)), (1, (64, 64, 64))]
    assert bound.config.to_dict()["block_sizes"] == [64, 64, 64]
    assert bound.config.to_dict()["num_stages"] == 1
    err = capfd.readouterr().err
    assert err.count("WARNING[DefaultConfigShrunk]") == 1
    assert "required 196608, hardware limit 40000" in err and "block_sizes=[64, 64, 64]" in err
    # Later calls run the chosen config directly.
    mm(x, x)
    assert fake.launches[-1][1:] == (1, (64, 64, 64))
    assert capfd.readouterr().err == ""


@needs_plain_mode
def test_default_config_shrink_warning_can_be_ignored(fake_gpu, capfd):
    fake_gpu(FakeTriton(limit=100000))
    mm = _matmul(ignore_warnings=[exc.DefaultConfigShrunk])
    x = torch.randn(256, 256)
    mm(x, x)
    assert "DefaultConfigShrunk" not in capfd.readouterr().err


@needs_plain_mode
def test_user_config_that_does_not_fit_is_a_deuteron_error(fake_gpu):
    fake = fake_gpu(FakeTriton(limit=40000))
    mm = _matmul(config=deuteron.Config(block_sizes=[128, 128, 64], num_stages=3))
    x = torch.randn(512, 512)
    with pytest.raises(exc.ConfigOutOfResources) as info:
        mm(x, x)
    e = info.value
    assert len(fake.launches) == 1  # not retried with another config
    assert (e.resource, e.required, e.limit) == ("shared memory", 196608, 40000)
    assert "block_sizes=[128, 128, 64]" in str(e) and "num_stages=3" in str(e) and "hardware limit 40000" in str(e)
    assert "kernel 'mm'" in str(e)
    assert json.loads(e.config)["block_sizes"] == [128, 128, 64]
    # The next call says it again (nothing half-set is left behind).
    with pytest.raises(exc.ConfigOutOfResources):
        mm(x, x)


@needs_plain_mode
def test_compile_config_that_does_not_fit_is_a_deuteron_error(fake_gpu):
    fake = fake_gpu(FakeTriton(limit=40000))
    x = torch.randn(512, 512)
    run = _matmul().bind((x, x)).compile_config(deuteron.Config(block_sizes=[64, 128, 64], num_stages=2))
    with pytest.raises(exc.ConfigOutOfResources, match=r"block_sizes=\[64, 128, 64\].*num_stages=2"):
        run(x, x)
    assert len(fake.launches) == 1
    run = _matmul().bind((x, x)).compile_config(deuteron.Config(block_sizes=[32, 32, 32], num_stages=2))
    run(x, x)  # fits: runs


@needs_plain_mode
def test_default_config_that_cannot_shrink_enough_is_a_deuteron_error(fake_gpu):
    fake = fake_gpu(FakeTriton(limit=100))
    mm = _matmul()
    x = torch.randn(64, 64)
    with pytest.raises(exc.ConfigOutOfResources, match="the default config .and the smaller ones"):
        mm(x, x)
    assert 1 < len(fake.launches) <= kernel_mod.BoundKernel.MAX_SHRINKS + 1


@needs_plain_mode
def test_no_retry_after_a_launch_wrote_an_argument(fake_gpu):
    # The first loop updates x in place and launches; the second's kernel does not fit.
    # Running the call again would add 1 twice: the error says so instead.
    @deuteron.kernel(autotune_effort="none")
    def bump_then_mm(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        m, k = x.size()
        n = y.size(1)
        out = torch.empty([m, n], dtype=torch.float32, device=x.device)
        for t in hl.tile(x.size(0)):
            x[t, :] = x[t, :] + 1
        hl.barrier()
        for tm, tn in hl.tile([m, n]):
            acc = hl.zeros([tm, tn], dtype=torch.float32)
            for tk in hl.tile(k):
                acc = torch.addmm(acc, x[tm, tk], y[tk, tn])
            out[tm, tn] = acc
        return out

    fake = fake_gpu(FakeTriton(limit=40000, only="tl.dot"))
    x = torch.randn(256, 256)
    with pytest.raises(exc.ConfigOutOfResources, match="not retried with a smaller config"):
        bump_then_mm(x, x)
    assert len(fake.launches) == 2


def test_out_of_resources_is_found_through_the_cause_chain():
    inner = _oor(300000, 232448)
    try:
        try:
            raise inner
        except Exception as e:
            raise RuntimeError("launch failed") from e
    except RuntimeError as outer:
        assert launcher.out_of_resources(outer) is inner
    assert launcher.out_of_resources(RuntimeError("x")) is None
    assert launcher.out_of_resources(None) is None


def test_autotuner_skips_configs_that_do_not_fit():
    # The benchmark worker's run of a config whose kernel Triton refuses: a failure the
    # search records and goes past ("out of resources"), never fatal to the worker.
    from deuteron.autotune import benchmark

    state = object.__new__(benchmark.BenchState)

    def refuse(*args):
        raise _oor(300000, 232448)

    state.modules = {"cfg.py": refuse}
    state.options = {"accuracy": False}
    state.reference = None
    state.runner = None
    state.args = ()
    state.rng_devices = []
    state.rng_state = torch.random.get_rng_state()
    state.cuda_rng_state = None
    state.measure = lambda fn, opts: fn()
    out = state.run_config("cfg.py", "{}")
    assert out["ok"] is False and out["kind"] == "out of resources"
    assert "232448" in out["message"] and not out.get("restart")
