"""The default config's matmul output tiles by problem size: 128x128 (8 warps)
unless the output has fewer such tiles than a quarter of the SMs, then halved
(M first on ties) down to 32 a side, 4 warps at 64x64 and less
(ConfigSpec::default_config; docs/perf/jagged_defaults.md)."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from conftest import fresh


@deuteron.kernel(static_shapes=True)
def mixed_matmul(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    m, k = x.shape
    _, n = w.shape
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = hl.dot(x[tile_m, tile_k], w[tile_k, tile_n].to(x.dtype), acc=acc)
        out[tile_m, tile_n] = acc.to(x.dtype)
    return out


@pytest.mark.parametrize("m,k,n,tiles,warps", [
    (256, 256, 256, [32, 32], 4),
    (512, 512, 512, [64, 64], 4),
    (1024, 1024, 1024, [128, 128], 8),
    (4096, 1024, 1280, [128, 128], 8),
])
def test_output_tiles_by_size(mode, m, k, n, tiles, warps):
    x = torch.empty(m, k, dtype=torch.bfloat16)
    w = torch.empty(k, n, dtype=torch.int16)
    cfg = fresh(mixed_matmul).bind((x, w)).default_config()
    assert cfg["block_sizes"][:2] == tiles and cfg["block_sizes"][2] == 64
    assert cfg["num_warps"] == warps and cfg["num_stages"] == 3


def test_small_matmul_under_its_default_config(mode):
    torch.manual_seed(0)
    x = torch.randn(128, 96, dtype=torch.float16)  # (Triton's interpreter: no bf16)
    w = torch.randint(-8, 8, (96, 160), dtype=torch.int16)
    got = fresh(mixed_matmul)(x, w)
    torch.testing.assert_close(got.float(), (x.float() @ w.float()), atol=0.5, rtol=2e-2)
