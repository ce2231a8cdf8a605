"""Dots over a whole contraction dim rolled into chunks (passes/contraction_rolling.cc),
compiled for the GPU and checked against PyTorch (tests/kernels_contractions.py):
chunks that divide the dim and chunks that do not, the default config (which
rolls 1024-long fp16 contractions), an accumulator operand, and an operand the
kernel writes (the contraction stays whole)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_contractions as K  # noqa: E402


@pytest.mark.parametrize("n", [1024, 1000])
@pytest.mark.parametrize("config", [None, {"block_sizes": [64, 64], "reduction_loops": [64]},
                                    {"block_sizes": [128, 128], "reduction_loops": [128], "num_stages": 2}])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_prologue_contraction(n, config, dtype):
    torch.manual_seed(0)
    g = torch.randn(1000, n, device="cuda", dtype=dtype)
    x = torch.rand(1000, n, device="cuda", dtype=dtype)
    a = (torch.randn(n, 384, device="cuda") / 16).to(dtype)
    K.gated_projection.reset()
    fn = K.gated_projection if config is None else K.gated_projection.bind((g, x, a)).compile_config(config)
    torch.testing.assert_close(fn(g, x, a), K.gated_projection_ref(g, x, a), rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("chunk", [None, 64, 256])
def test_accumulator_operand(chunk):
    torch.manual_seed(1)
    x = (torch.randn(512, 768, device="cuda") / 4).half()
    w = (torch.randn(768, 256, device="cuda") / 4).half()
    K.addmm_steps.reset()
    # The whole contraction (768, padded to 1024) with 64x64 tiles stages 256 KB, over the
    # 227 KB of shared memory (measured: Triton asked for 262144 bytes): 32x32 for it.
    blocks = [32, 32] if chunk is None else [64, 64]
    fn = K.addmm_steps.bind((x, w, 2)).compile_config({"block_sizes": blocks, "reduction_loops": [chunk]})
    torch.testing.assert_close(fn(x, w, 2), K.addmm_steps_ref(x, w, 2), rtol=2e-2, atol=5e-2)


def test_written_operand_stays_whole():
    torch.manual_seed(2)
    y = torch.randn(256, 128, device="cuda")
    w = torch.randn(128, 128, device="cuda") / 8
    expect_out, expect_y = y @ w, y * 2
    K.scaled_in_place.reset()
    torch.testing.assert_close(K.scaled_in_place(y, w), expect_out, rtol=1e-2, atol=1e-2)
    torch.testing.assert_close(y, expect_y)
