"""Whole-dim slices over dims of run-time size (static_shapes=False), on the GPU
(compiled Triton) against PyTorch (tests/kernels_dynamic_full.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_dynamic_full as K  # noqa: E402

SHAPES = [(5, 3), (128, 1000), (7, 4097), (64, 20000)]


@pytest.mark.parametrize("name", ["scale_rows", "row_sums", "softmax_rows"])
def test_whole_dim_of_runtime_size(name):
    kernel, ref = getattr(K, name), getattr(K, name + "_ref")
    kernel.reset()
    torch.manual_seed(0)
    for m, n in SHAPES:
        x = torch.randn(m, n, device="cuda")
        torch.testing.assert_close(kernel(x).cpu(), ref(x.cpu()), atol=1e-3, rtol=1e-3)

