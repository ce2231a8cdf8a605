"""Inner loops that became grid dims (passes/independent_loops_to_grid.cc), compiled for
the GPU: the kernels of tests/test_independent_loops_to_grid.py on CUDA tensors with
masked edges, and Helion-shaped kernels whose column loop moved into the grid."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_independent_loops_to_grid as T  # noqa: E402
import kernels_fit as K  # noqa: E402


@pytest.mark.parametrize("config", [
    None,
    {"block_sizes": [2, 16, 32], "loop_orders": [[1, 0]]},
    {"block_sizes": [2, 16, 32], "pid_type": "persistent_interleaved"},
])
def test_batched_columns(config):
    x = torch.randn(3, 300, 700, device="cuda")
    T.batched_columns.reset()
    fn = T.batched_columns if config is None else T.batched_columns.bind((x,)).compile_config(config)
    torch.testing.assert_close(fn(x), x * 2.0 - torch.arange(700.0, device="cuda"))


def test_scaled_columns_default():
    x, s = torch.randn(1000, 3000, device="cuda"), torch.randn(1000, device="cuda")
    T.scaled_columns.reset()
    torch.testing.assert_close(T.scaled_columns(x, s), x * s[:, None] + 1.0)


def test_whole_row_projection_default():
    torch.manual_seed(0)
    x = torch.randn(1000, 1024, device="cuda", dtype=torch.float16)
    a = (torch.randn(1024, 777, device="cuda") / 16).half()
    K.whole_row_projection.reset()
    torch.testing.assert_close(K.whole_row_projection(x, a), K.whole_row_projection_ref(x, a), rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("pid_type", ["flat", "persistent_blocked"])
def test_loops_from_a_host_number_and_past_their_end(pid_type):
    # Twice per start: the second launch goes through the native launcher, which
    # refuses a negative grid (hl.tile(start, n) past its end must launch none).
    x = torch.randn(300, 1000, device="cuda")
    for start in (0, 333, 1000, 1300):
        T.columns_from.reset()
        fn = T.columns_from.bind((x, start)).compile_config({"block_sizes": [32, 64], "pid_type": pid_type})
        expected = torch.zeros_like(x)
        expected[:, start:] = x[:, start:] * 2.0
        for _ in range(2):
            torch.testing.assert_close(fn(x, start), expected)
    for split in (0, 400, 1000):
        T.split_columns.reset()
        fn = T.split_columns.bind((x, split)).compile_config({"block_sizes": [32, 64, 64], "pid_type": pid_type})
        expected = torch.cat([x[:, :split] + 1.0, x[:, split:] * 2.0], dim=1)
        for _ in range(2):
            torch.testing.assert_close(fn(x, split), expected)
