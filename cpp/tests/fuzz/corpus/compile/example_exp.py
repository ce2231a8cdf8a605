#ARGS x:float32[1000]
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def exp(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = torch.exp(x[tile])
    return out
