"""Row sums: a persistent reduction, a long row reduced by a looped reduction
(config reduction_loops), and a manual loop over column blocks."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl

try:
    from ._common import check, device, mode
except ImportError:
    from _common import check, device, mode


@deuteron.kernel()
def row_sum(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = x[tile_m, :].sum(-1)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[1], reduction_loops=[4096], num_warps=8))
def long_sum(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = x[tile_m, :].sum(-1)
    return out


@deuteron.kernel()
def long_sum_manual(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(n):
            acc += x[tile_m, tile_n].to(torch.float32).sum(-1)
        out[tile_m] = acc.to(x.dtype)
    return out


def main() -> None:
    dev = device()
    print("sum on", mode())
    x = torch.randn(64, 1000, device=dev)
    check("row_sum", row_sum(x), x.sum(-1), atol=1e-4, rtol=1e-4)
    y = torch.randn(8, 100_000, device=dev)
    check("long_sum", long_sum(y), y.sum(-1), atol=1e-3, rtol=1e-4)
    check("long_sum_manual", long_sum_manual(y), y.sum(-1), atol=1e-3, rtol=1e-4)


if __name__ == "__main__":
    main()
