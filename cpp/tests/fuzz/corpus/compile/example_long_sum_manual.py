#ARGS x:float32[4,10000]
import torch
import deuteron
import deuteron.language as hl


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
