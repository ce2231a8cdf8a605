"""Int arguments compiled in where a compile-time value is needed (hl.specialize(n),
block_size=n), on the GPU (compiled Triton) against PyTorch
(tests/kernels_int_specialize.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_int_specialize as K  # noqa: E402


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_chunk_sums(dtype):
    torch.manual_seed(0)
    x = torch.randn(8, 256, device="cuda").to(dtype)
    K.chunk_sums.reset()
    tol = 1e-4 if dtype == torch.float32 else 2e-2
    for chunk in (64, 16, 64):
        torch.testing.assert_close(K.chunk_sums(x, chunk), K.chunk_sums_ref(x, chunk), atol=tol, rtol=tol)


def test_sin_blocks():
    x = torch.randn(1024, device="cuda")
    K.sin_blocks.reset()
    for block in (32, 128):
        torch.testing.assert_close(K.sin_blocks(x, block), torch.sin(x))


def test_doubled_in_pairs():
    x = torch.randn(1000, device="cuda")
    K.doubled_in_pairs.reset()
    for half in (8, 64):
        torch.testing.assert_close(K.doubled_in_pairs(x, half), x * 2)
