#ARGS x:float16[32,256],weight:float16[256],bias:float16[256]
import torch
import torch.nn.functional as F
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def layer_norm_functional(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        out[tile_m, :] = F.layer_norm(x[tile_m, :], [n], weight[:], bias[:], eps=1e-5)
    return out
