"""hl.jagged_tile on the GPU (compiled Triton), against PyTorch: reductions,
stores, 2-D parents, nested jagged tiles and a matmul contracting a jagged
tile (tests/kernels_jagged.py), under several configs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import deuteron

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_jagged as K  # noqa: E402


def close(a, b, tol=1e-4):
    torch.testing.assert_close(a.cpu(), b.cpu(), atol=tol, rtol=tol)


def run(kernel, args, block_sizes):
    kernel.reset()
    if block_sizes is None:
        return kernel(*args)
    return kernel.bind(args).compile_config(deuteron.Config(block_sizes=block_sizes))(*args)


@pytest.mark.parametrize("block_sizes", [None, [1, 16], [32, 4], [64, 64]])
def test_padded_row_max(block_sizes):
    torch.manual_seed(0)
    lengths = torch.randint(1, 300, (1000,), device="cuda")
    x = torch.randn(1000, 300, device="cuda")
    close(run(K.padded_row_max, (x, lengths), block_sizes), K.padded_row_max_ref(x.cpu(), lengths.cpu()))


@pytest.mark.parametrize("block_sizes", [None, [16, 8], [1, 128]])
def test_packed_scale(block_sizes):
    torch.manual_seed(1)
    counts = torch.randint(0, 40, (257,))
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]).cuda()
    values = torch.randn(int(offsets[-1]) + 5, device="cuda")
    scale = torch.randn(257, device="cuda")
    got = run(K.packed_scale, (values, offsets, scale), block_sizes)
    close(got, K.packed_scale_ref(values.cpu(), offsets.cpu(), scale.cpu()))


@pytest.mark.parametrize("block_sizes", [None, [1, 1, 4], [4, 8, 16]])
def test_grid_of_ragged_means(block_sizes):
    torch.manual_seed(2)
    lengths = torch.randint(0, 50, (30, 7), device="cuda", dtype=torch.int32)
    x = torch.randn(30, 7, 50, device="cuda", dtype=torch.float16)
    got = run(K.grid_of_ragged_means, (x, lengths), block_sizes)
    close(got, K.grid_of_ragged_means_ref(x.cpu(), lengths.cpu()), tol=2e-3)


def test_nested_ragged_sums():
    torch.manual_seed(3)
    x = torch.randn(40, 33, 65, device="cuda")
    rows = torch.randint(0, 34, (40,), device="cuda")
    cols = torch.randint(0, 66, (40,), device="cuda", dtype=torch.int32)
    got = run(K.nested_ragged_sums, (x, rows, cols), None)
    close(got, K.nested_ragged_sums_ref(x.cpu(), rows.cpu(), cols.cpu()), tol=1e-3)


@pytest.mark.parametrize("block_sizes", [None, [1, 16, 16, 16], [2, 32, 32, 32]])
def test_ragged_batched_matmul(block_sizes):
    torch.manual_seed(4)
    a = torch.randn(6, 64, 128, device="cuda")
    w = torch.randn(6, 128, 48, device="cuda")
    lengths = torch.tensor([128, 5, 77, 0, 16, 100], device="cuda")
    got = run(K.ragged_batched_matmul, (a, w, lengths), block_sizes)
    close(got, K.ragged_batched_matmul_ref(a.cpu(), w.cpu(), lengths.cpu()), tol=5e-2)


@pytest.mark.parametrize("block_sizes", [None, [1, 2048, 2048], [16, 16, 16]])
def test_packed_prefix_add(block_sizes):
    # None: the default config, whose jagged loop's block is sized from the
    # values it appears in (docs/perf/jagged_defaults.md)
    torch.manual_seed(5)
    lengths = torch.randint(1, 5001, (256,))
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)]).cuda()
    x = torch.randn(int(offsets[-1]), device="cuda")
    y = torch.randn(256, 5000, device="cuda")
    got = run(K.packed_prefix_add, (x, offsets, y), block_sizes)
    close(got, K.packed_prefix_add_ref(x.cpu(), offsets.cpu(), y.cpu()))
