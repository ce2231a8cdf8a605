"""Reshapes inside tile loops that merge or split dims, compiled for the GPU:
merged tiles (partial blocks masked in sums and maxes), whole dims merged and
split (rope's [2, d // 2]), unflatten, against PyTorch, under several block
sizes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import deuteron

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_reshapes as R  # noqa: E402


def _run(kernel, args, block_sizes):
    """The kernel compiled for the GPU under `block_sizes`, run on `args`."""
    kernel.reset()
    bound = kernel.bind(args)
    cfg = deuteron.Config(block_sizes=block_sizes)
    assert "tl.reshape" in bound.to_triton_code(cfg)
    return bound.load(cfg, "triton")(*args)


@pytest.mark.parametrize("block_sizes", [[8, 16], [32, 64], [16, 16]])
def test_merge_roundtrip(block_sizes):
    x = torch.randn(100, 300, device="cuda")
    torch.testing.assert_close(_run(R.merge_roundtrip, (x,), block_sizes), x * 2 + 1)


@pytest.mark.parametrize("block_sizes", [[2, 4, 4], [4, 8, 16], [1, 32, 32]])
def test_merged_sum(block_sizes):
    x = torch.randn(33, 17, 29, device="cuda")
    torch.testing.assert_close(_run(R.merged_sum, (x,), block_sizes), x.sum(dim=(1, 2)), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("block_sizes", [[4, 8], [16, 64]])
def test_merged_max(block_sizes):
    y = -torch.rand(62, 45, device="cuda") - 1
    torch.testing.assert_close(_run(R.merged_max, (y,), block_sizes), y.view(31, 2, 45).amax(dim=(1, 2)))


@pytest.mark.parametrize("shape", [(64, 4, 8), (37, 3, 16)])
def test_flatten_whole(shape):
    x = torch.randn(*shape, device="cuda")
    torch.testing.assert_close(_run(R.flatten_whole, (x,), [16]), x.flatten(1) * 3)


@pytest.mark.parametrize("d", [64, 128])
def test_rope_rotate_half(d):
    x = torch.randn(45, d, device="cuda", dtype=torch.float16)
    lo, hi = x[:, : d // 2], x[:, d // 2 :]
    torch.testing.assert_close(_run(R.rotate_half, (x,), [8]), torch.cat([-hi, lo], dim=-1))


def test_unflatten_and_merged_arithmetic():
    x = torch.randn(50, 64, device="cuda")
    torch.testing.assert_close(_run(R.unflatten_pairs, (x,), [16]), x.view(50, 16, 4).sum(-1), rtol=1e-5, atol=1e-5)
    a, b = torch.randn(70, 90, device="cuda"), torch.randn(70, 90, device="cuda")
    torch.testing.assert_close(_run(R.merged_outer, (a, b), [16, 32]), a * b + torch.sigmoid(a))


@pytest.mark.parametrize("block_sizes", [[2], [64], [1024]])
def test_split_tile_block(block_sizes):
    x = torch.randn(4096, device="cuda")
    torch.testing.assert_close(_run(R.pair_sums, (x,), block_sizes), x.view(-1, 2).sum(-1))
    g = x.view(-1, 4)
    bs = [max(block_sizes[0], 4)]
    torch.testing.assert_close(_run(R.split_block_roundtrip, (x,), bs), (g * 2 + g.sum(-1, keepdim=True)).view(-1))


@pytest.mark.parametrize("block_sizes", [[2, 8], [1, 64]])
def test_rotary_embedding(block_sizes):
    x = torch.randn(2, 8, 300, 128, device="cuda", dtype=torch.bfloat16)
    cos, sin = torch.randn(300, 128, device="cuda"), torch.randn(300, 128, device="cuda")
    out = _run(R.rotary, (x, cos, sin), block_sizes)
    torch.testing.assert_close(out, R.rotary_reference(x, cos, sin), rtol=2e-2, atol=2e-2)
