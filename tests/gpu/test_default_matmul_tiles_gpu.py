"""Matmuls under their default configs on the GPU, across the sizes where the
default's output tiles shrink (tests/test_default_matmul_tiles.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_default_matmul_tiles import mixed_matmul  # noqa: E402


@pytest.mark.parametrize("m,k,n", [(256, 256, 256), (512, 512, 512), (16, 4096, 4096), (1024, 1024, 1024)])
def test_bf16_int16_matmul_default_config(m, k, n):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    torch.manual_seed(0)
    x = torch.randn(m, k, dtype=torch.bfloat16, device="cuda")
    w = torch.randint(-8, 8, (k, n), dtype=torch.int16, device="cuda")
    mixed_matmul.reset()
    got = mixed_matmul(x, w)
    ref = (x.float() @ w.float()).to(torch.bfloat16)
    torch.testing.assert_close(got.float(), ref.float(), atol=1.0, rtol=2e-2)
