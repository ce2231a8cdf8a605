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


def test_whole_dim_held_in_one_block_of_runtime_size():
    # In an inner loop the dim is one masked block of next_power_of_2(size) lanes.
    kernel = K.rows_summed_in_inner_loop
    kernel.reset()
    torch.manual_seed(1)
    for m, n in [(5, 3), (128, 1000), (7, 33), (64, 4097)]:
        x = torch.randn(m, n, device="cuda")
        torch.testing.assert_close(kernel(x).cpu(), K.rows_summed_in_inner_loop_ref(x.cpu()), atol=1e-2, rtol=1e-3)
    x = torch.randn(6, 48, device="cuda")
    for got, want in zip(K.norms_by_grid_branch(x), K.norms_by_grid_branch_ref(x.cpu())):
        torch.testing.assert_close(got.cpu(), want, atol=1e-4, rtol=1e-4)


def test_one_dynamic_specialization_serves_every_layout():
    # Strides are runtime values of dynamic-shape code (not in the key, as in Helion):
    # Triton compiles a contiguous and a strided variant under the one specialization.
    kernel = K.scale_rows
    kernel.reset()
    base = torch.randn(300, 200, device="cuda")
    for x in (base, base.t(), base[::2, ::3], base[:, :1].expand(300, 50)):
        torch.testing.assert_close(kernel(x), K.scale_rows_ref(x))
    assert len(kernel._bound) == 1
