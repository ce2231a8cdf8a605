"""On the GPU: hl.triton_kernel calling @triton.jit functions (with library
functions and helpers), and hl.barrier() phases whose later loop reads what
other programs of the earlier one stored."""

from __future__ import annotations

import pytest
import torch
import triton
import triton.language as tl

import deuteron
import deuteron.language as hl

pytestmark = pytest.mark.gpu

GAIN = tl.constexpr(2.0)


@triton.jit
def _twice(v):
    return v * GAIN


@triton.jit
def norm_mix(a, b):
    mixed = tl.where(a > b, a - b, _twice(b))
    return mixed * tl.rsqrt(tl.maximum(tl.sum(mixed * mixed), 1e-12))


@deuteron.kernel(config=deuteron.Config(block_sizes=[64]))
def call_norm_mix(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        xv = x[tile]
        out[tile] = hl.triton_kernel(norm_mix, args=(xv, y[tile]), output_like=xv)
    return out


def test_triton_kernel_on_gpu():
    x = torch.randn(4096, device="cuda")
    y = torch.randn(4096, device="cuda")
    out = call_norm_mix(x, y)
    mixed = torch.where(x > y, x - y, y * 2).view(-1, 64)
    expected = mixed * torch.rsqrt((mixed * mixed).sum(-1, keepdim=True).clamp_min(1e-12))
    torch.testing.assert_close(out, expected.view(-1), rtol=1e-4, atol=1e-5)


@deuteron.kernel
def reverse_after_barrier(x: torch.Tensor) -> torch.Tensor:
    tmp = torch.empty_like(x)
    out = torch.empty_like(x)
    for t in hl.tile(x.size(0)):
        tmp[t] = x[t] * 2
    hl.barrier()
    for t in hl.tile(x.size(0)):
        out[t] = tmp[x.size(0) - 1 - t.index] + 1
    return out


@pytest.mark.parametrize("pid_type", [None, "persistent_blocked", "persistent_interleaved"])
def test_barrier_phases_on_gpu(pid_type):
    x = torch.randn(1 << 20, device="cuda")
    cfg = deuteron.Config(block_sizes=[256, 512]) if pid_type is None else deuteron.Config(block_sizes=[256, 512],
                                                                                           pid_type=pid_type)
    run = reverse_after_barrier.bind((x,)).compile_config(cfg)
    torch.testing.assert_close(run(x), x.flip(0) * 2 + 1)
