# RUN[softmax]: --function softmax --args x:float16[256,1000] --dump=config-spec
# RUN[two-dims]: --function two_sums --args x:float32[64,100],y:float32[64,3000] --dump=config-spec
# RUN[inner-loop]: --function looped_sum --args x:float32[64,5000] --dump=config-spec
# A full dim that a reduction runs over gets a reduction_loops entry (one per
# distinct extent); reducing in an inner tile loop instead gives that loop a
# block size and no reduction_loops entry.
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def softmax(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = torch.softmax(x[tile, :], dim=-1)
    return out


@deuteron.kernel()
def two_sums(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=torch.float32, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile, :].sum(-1) + y[tile, :].sum(-1)
    return out


@deuteron.kernel()
def looped_sum(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(n):
            acc += x[tile_m, tile_n].sum(-1)
        out[tile_m] = acc
    return out
