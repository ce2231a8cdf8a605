# RUN[square-ir]: --function se_block --args x:float32[64,128],w:float32[128,128] --dump=ir
# RUN[square-triton]: --function se_block --args x:float32[64,128],w:float32[128,128]
# RUN[square-rolled]: --function se_block --args x:float32[64,128],w:float32[128,128] --config '{"reduction_loops":[32]}'
# RUN[padded-ir]: --function padded_acc --args x:float32[64,500] --dump=ir
# RUN[padded-triton]: --function padded_acc --args x:float32[64,500]
# RUN[padded-reference]: --function padded_acc --args x:float32[64,500] --dump=reference
# RUN[unrelated-error]: --function add_rows --args x:float32[8,300],y:float32[8,400]
# RUN[dynamic-unified]: --function add_rows --args x:float32[8,300],y:float32[8,300] --dynamic
#
# Whole dims (`:`) are identified by their size (Helion's rule).  Two `:` of
# one size on one tensor (w[:, :] of a square w) are two axes that both meet
# x's dim of that size: the product contracts x's dim with w's first and its
# result (over w's second) stores through s[tile, :] and multiplies x.  A `:`
# The two `:` of 128 roll together (one reduction_loops entry): with chunks
# of 32 the product's columns, the stores through s and out and x's columns
# come chunk by chunk, while x's whole row (the contraction) is read once.
# A `:` of 500 elements meets hl.zeros of next_power_of_2(500) = 512 lanes, keeping
# the 500 live lanes (the store and the row sum mask the rest).  Unrelated
# sizes (300, 400) still clash; with dynamic shapes two sizes equal in the
# example become one dim and the host code checks them equal on each call.

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def se_block(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    s = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        x_tile = x[tile_m, :]
        s[tile_m, :] = torch.sigmoid(x_tile @ w[:, :])
        out[tile_m, :] = 2.0 * x_tile * s[tile_m, :]
    return out


@deuteron.kernel()
def padded_acc(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    sums = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        acc = hl.zeros([tile, deuteron.next_power_of_2(x.size(1))])
        acc += x[tile, :] + 1
        sums[tile] = acc.sum(-1)
        out[tile, :] = acc
    return out


@deuteron.kernel()
def add_rows(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for t in hl.tile(x.size(0)):
        out[t, :] = x[t, :] + y[t, :]
    return out
