# RUN[broadcast]: --function outer_sum --args a:float32[128],b:float32[96] --dump=ir
# RUN[transpose]: --function transpose_add --args x:float32[64,32],y:float32[32,64] --dump=ir
# Broadcasting makes size-1 axes explicit (expand_dims, `None` in an index,
# broadcast_to).  A transposed host view is a tensor with swapped strides
# (yt); transposing a device value is a permute.
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def outer_sum(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = a.new_empty([a.size(0), b.size(0)])
    for ti, tj in hl.tile([a.size(0), b.size(0)]):
        col = a[ti][:, None]
        out[ti, tj] = col + b[None, tj] + col.expand(ti, tj) * 0
    return out


@deuteron.kernel()
def transpose_add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    yt = y.t()
    for tile_m, tile_n in hl.tile(x.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n] + yt[tile_m, tile_n] + y[tile_n, tile_m].permute(1, 0)
    return out
