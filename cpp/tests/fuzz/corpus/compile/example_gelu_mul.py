#ARGS x:float16[64,128],y:float16[64,128]
import torch
import torch.nn.functional as F
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def gelu_mul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = F.gelu(x[tile_m, tile_n]) * y[tile_m, tile_n]
    return out
