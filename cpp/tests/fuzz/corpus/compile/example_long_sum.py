#ARGS x:float32[4,10000]
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel(config=deuteron.Config(block_sizes=[1], reduction_loops=[4096], num_warps=8))
def long_sum(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = x[tile_m, :].sum(-1)
    return out
