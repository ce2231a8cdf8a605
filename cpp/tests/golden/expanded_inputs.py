# An expanded input (stride 0) still has its tile's extent: the load of a
# scalar-like tensor is unmasked and broadcast, and a sum over an expanded dim
# counts every row.
# RUN[scalar-triton]: --function mul --args x:float32[1000]{0},y:float32[1000] --config '{"block_sizes":[32]}'
# RUN[rows-triton]: --function col_sum --args x:float32[37,50]{0,1} --config '{"block_sizes":[16,4]}'
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def mul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty(y.shape, dtype=y.dtype, device=y.device)
    for tile in hl.tile(y.size(0)):
        out[tile] = x[tile] * y[tile]
    return out


@deuteron.kernel()
def col_sum(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([n], dtype=torch.float32, device=x.device)
    for tn in hl.tile(n):
        acc = hl.zeros([tn], dtype=torch.float32)
        for tm in hl.tile(m):
            acc += x[tm, tn].sum(0)
        out[tn] = acc
    return out
