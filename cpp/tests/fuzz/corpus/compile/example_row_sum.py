#ARGS x:float32[32,100]
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def row_sum(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = x[tile_m, :].sum(-1)
    return out
