"""On the GPU: split-K matmul whose k block is computed on the host from the
split_k tunable (next_power_of_2(cdiv(k, split_k))), over several configs."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron.autotuner import PowerOfTwoFragment

pytestmark = pytest.mark.gpu


@deuteron.kernel(autotune_effort="none", static_shapes=True)
def matmul_split_k(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.zeros([m, n], dtype=torch.float32, device=x.device)
    split_k = hl.register_tunable("split_k", PowerOfTwoFragment(1, 256))
    k_block = deuteron.next_power_of_2(deuteron.cdiv(k, split_k))
    for tile_m, tile_n, outer_k in hl.tile([m, n, k], block_size=[None, None, k_block]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for inner_k in hl.tile(outer_k.begin, outer_k.end):
            acc = torch.addmm(acc, x[tile_m, inner_k], y[inner_k, tile_n])
        hl.atomic_add(out, [tile_m, tile_n], acc)
    return out


@pytest.mark.parametrize("split_k", [1, 4, 32])
def test_matmul_split_k_gpu(split_k):
    x = torch.randn(128, 4000, device="cuda", dtype=torch.float16)
    y = torch.randn(4000, 64, device="cuda", dtype=torch.float16)
    bound = matmul_split_k.bind((x, y))
    out = bound.compile_config(deuteron.Config(block_sizes=[64, 64, 64], split_k=split_k))(x, y)
    torch.testing.assert_close(out, (x.float() @ y.float()), rtol=2e-2, atol=2e-1)
