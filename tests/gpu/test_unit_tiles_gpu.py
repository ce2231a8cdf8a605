"""Tiles of one lane broadcasting against other tiles, on the GPU (compiled
Triton) against PyTorch (tests/kernels_unit_tiles.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import deuteron

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_unit_tiles as K  # noqa: E402


@pytest.mark.parametrize("block_sizes", [None, [16, 32], [1, 128]])
def test_horner(block_sizes):
    torch.manual_seed(0)
    x = torch.rand(300, 257, device="cuda") - 0.5
    coef = torch.randn(7, 257, device="cuda")
    K.horner.reset()
    args = (x, coef)
    got = K.horner(*args) if block_sizes is None else K.horner.bind(args).compile_config(
        deuteron.Config(block_sizes=block_sizes))(*args)
    torch.testing.assert_close(got.cpu(), K.horner_ref(x.cpu(), coef.cpu()), atol=1e-4, rtol=1e-4)


def test_weighted_rows():
    torch.manual_seed(1)
    x = torch.randn(129, 65, device="cuda")
    w = torch.randn(6, 65, device="cuda")
    K.weighted_rows.reset()
    torch.testing.assert_close(K.weighted_rows(x, w).cpu(), K.weighted_rows_ref(x.cpu(), w.cpu()), atol=1e-4, rtol=1e-4)
