"""A dot over a whole contraction dim rolls into a loop over chunks of it
(passes/contraction_rolling.cc), as a matmul's K loop: the dim's
reduction_loops entry gives the chunk.  In both CPU modes, against PyTorch,
for chunks that divide the dim and chunks that do not (masked lanes), with
an elementwise prologue recomputed chunk by chunk and with an accumulator
operand; a dot whose operand reads a tensor the kernel writes stays whole."""

from __future__ import annotations

import json
import re

import pytest
import torch

import kernels_contractions as K
from conftest import fresh


@pytest.fixture
def on_cpu(monkeypatch):
    """Binding on the CPU: the interpret mode (the config space is the GPU's, an H100's)."""
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")


def _k_loop(code: str) -> bool:
    """Whether the code accumulates a tl.dot over a loop (acc= on the dot)."""
    return re.search(r"tl\.dot\([^\n]*acc=", code) is not None


@pytest.mark.parametrize("n", [256, 200])
@pytest.mark.parametrize("chunk", [None, 32, 64])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_prologue_contraction_matches_pytorch(mode, n, chunk, dtype):
    torch.manual_seed(0)
    g = torch.randn(48, n, dtype=dtype)
    x = torch.rand(48, n, dtype=dtype)
    a = (torch.randn(n, 40) / 8).to(dtype)
    config = {"block_sizes": [16, 16], "reduction_loops": [chunk]}
    got = fresh(K.gated_projection).bind((g, x, a)).compile_config(config)(g, x, a)
    tol = 1e-4 if dtype == torch.float32 else 2e-2
    torch.testing.assert_close(got, K.gated_projection_ref(g, x, a), rtol=tol, atol=tol)


def test_the_contraction_gets_an_entry_and_rolls_in_the_code(on_cpu):
    g, x, a = torch.randn(32, 200), torch.rand(32, 200), torch.randn(200, 24)
    bound = fresh(K.gated_projection).bind((g, x, a))
    assert len(bound.config_spec.reduction_loops) == 1
    rolled = bound.to_triton_code({"block_sizes": [16, 16], "reduction_loops": [64]})
    assert _k_loop(rolled)
    assert "tl.range(0, 200, 64)" in rolled
    whole = bound.to_triton_code({"block_sizes": [16, 16], "reduction_loops": [None]})
    assert not _k_loop(whole)


@pytest.mark.parametrize("chunk", [None, 64, 128])
def test_accumulator_operand_starts_the_chunks(mode, chunk):
    torch.manual_seed(1)
    x = (torch.randn(64, 320) / 4).half()
    w = (torch.randn(320, 48) / 4).half()
    config = {"block_sizes": [32, 16], "reduction_loops": [chunk]}
    got = fresh(K.addmm_steps).bind((x, w, 3)).compile_config(config)(x, w, 3)
    torch.testing.assert_close(got, K.addmm_steps_ref(x, w, 3), rtol=2e-2, atol=2e-2)


def test_an_operand_the_kernel_writes_keeps_the_contraction_whole(mode):
    torch.manual_seed(2)
    y = torch.randn(40, 96)
    w = torch.randn(96, 96) / 8
    expect_out = y @ w
    expect_y = y * 2
    bound = fresh(K.scaled_in_place).bind((y, w))
    got = bound(y, w)
    torch.testing.assert_close(got, expect_out, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(y, expect_y)


def test_reduction_and_contraction_of_one_dim(mode):
    torch.manual_seed(3)
    x = torch.rand(24, 160) + 0.5
    a = torch.randn(160, 40)
    sums, out = fresh(K.row_sum_and_projection)(x, a)
    es, eo = K.row_sum_and_projection_ref(x, a)
    torch.testing.assert_close(sums, es, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(out, eo, rtol=1e-4, atol=1e-4)


def test_default_rolls_a_contraction_that_does_not_fit(on_cpu):
    # 1024-long fp16 rows at 128x128 tiles: 3 stages of both whole operands need 1.5 MB.
    g, x, a = (torch.randn(1024, 1024).half() for _ in range(3))
    cfg = json.loads(fresh(K.gated_projection).bind((g, x, a)).default_config_json())
    (chunk,) = cfg["reduction_loops"]
    bm, bk = cfg["block_sizes"]
    assert chunk is not None and chunk < 1024, cfg
    assert cfg["num_stages"] * (bm * chunk + chunk * bk) * 2 <= 227 * 1024, cfg
    assert min(bm, bk) >= 64, cfg  # the tiles stay a matmul's, not shrunk to fit whole rows


def test_a_view_of_a_written_argument_keeps_the_contraction_whole(mode):
    torch.manual_seed(4)
    y = torch.randn(40, 2 * 160)
    w = torch.randn(160, 16) / 8
    left = y[:, :160].clone()
    bound = fresh(K.projection_into_view).bind((y, w))
    code = bound.to_triton_code({"block_sizes": [16], "reduction_loops": [32]})
    assert not _k_loop(code)
    got = bound(y, w)
    torch.testing.assert_close(got, left @ w, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(y[:, 160:], left * 2)


@pytest.mark.parametrize("extra", [{"subtiles": 2}, {"pid_type": "persistent_blocked"},
                                   {"pid_type": "persistent_interleaved"}, {"pid_type": "xyz"},
                                   {"num_stages": 1}, {"indexing": "tensor_descriptor"}])
def test_rolled_contraction_with_other_config_keys(mode, extra):
    # The K loop inside programs the launch shape, sub-tiles and descriptors rearrange.
    # (208 columns: a masked last chunk, and row strides that Triton 3.5's interpreter,
    # which checks descriptor strides in elements, accepts.)
    torch.manual_seed(5)
    g, x, a = torch.randn(96, 208), torch.rand(96, 208), torch.randn(208, 48) / 8
    config = {"block_sizes": [32, 16], "reduction_loops": [64], **extra}
    got = fresh(K.gated_projection).bind((g, x, a)).compile_config(config)(g, x, a)
    torch.testing.assert_close(got, K.gated_projection_ref(g, x, a), rtol=1e-4, atol=1e-4)
