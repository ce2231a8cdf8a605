# RUN[merged-ir]: --function merged_sum --args x:float32[3,5,7] --dump=ir
# RUN[merged]: --function merged_sum --args x:float32[3,5,7] --config '{"block_sizes":[2,4,4]}'
# RUN[merged-reference]: --function merged_sum --args x:float32[3,5,7] --config '{"block_sizes":[2,4,4]}' --dump=reference
# RUN[rope-ir]: --function rotate_half --args x:float32[16,64] --dump=ir
# RUN[rope]: --function rotate_half --args x:float32[16,64] --config '{"block_sizes":[4]}'
# RUN[split-tile]: --function split_tile --args x:float32[96]
# RUN[pair-sums]: --function split_tile_pairs --args x:float32[256] --config '{"block_sizes":[16]}'
# RUN[pair-sums-spec]: --function split_tile_pairs --args x:float32[256] --dump=config-spec
#
# Reshapes that merge and split dims inside tile loops (sema/reshapes.cc): a
# merge of two tiles is a merged full dim (`merges d1 * d2`, its block the
# product of theirs) whose mask in a reduction is the factors' masks, and'ed
# and flattened; a whole dim of constant length splits into [2, 32] and the
# pieces merge back into the same whole dim (rope); a tile's block over a
# power-of-two extent splits as [block // 2, 2] (the block's minimum becomes
# 2) and hl.arange(0, block // 2) is the first piece; over any other extent
# cutting a tile's block is an error naming the reshape.

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def merged_sum(x: torch.Tensor) -> torch.Tensor:
    out = x.new_empty([x.size(0)])
    for tile0 in hl.tile(x.size(0)):
        acc = hl.zeros([tile0], dtype=x.dtype)
        for tile1, tile2 in hl.tile([x.size(1), x.size(2)]):
            acc += x[tile0, tile1, tile2].reshape(tile0, -1).sum(-1)
        out[tile0] = acc
    return out


@deuteron.kernel()
def rotate_half(x: torch.Tensor) -> torch.Tensor:
    n, d = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        pair = x[tile, :].reshape([tile, 2, d // 2]).permute(0, 2, 1)
        lo, hi = hl.split(pair)
        out[tile, :] = hl.join(-hi, lo).permute(0, 2, 1).reshape([tile, d])
    return out


@deuteron.kernel()
def split_tile(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile].view(tile.block_size // 2, 2).reshape(tile)
    return out


@deuteron.kernel()
def split_tile_pairs(x: torch.Tensor) -> torch.Tensor:
    out = x.new_empty(x.size(0) // 2)
    for tile in hl.tile(x.size(0)):
        a, b = hl.split(x[tile].view(tile.block_size // 2, 2))
        out[tile.begin // 2 + hl.arange(0, tile.block_size // 2)] = a + b
    return out
