# RUN[horner-ir]: --function horner --args x:float32[37,20],coef:float32[5,20] --dump=ir
# RUN[horner]: --function horner --args x:float32[37,20],coef:float32[5,20] --config '{"block_sizes":[8,16]}'
#
# A tile of one lane (hl.tile(0, k, block_size=1)) is sized 1, as in Helion:
# coef[row, tile_c] of shape [row, tile_c] meets acc of [tile_b, tile_c] on
# the same axis, and its row axis becomes a size-1 axis (a keepdim max over
# its one lane) so that it broadcasts.

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def horner(x: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
    b, c = x.shape
    k = coef.size(0)
    out = torch.empty_like(x)
    for tile_b, tile_c in hl.tile([b, c]):
        xv = x[tile_b, tile_c]
        acc = hl.zeros([tile_b, tile_c], dtype=torch.float32)
        for row in hl.tile(0, k, block_size=1):
            acc = acc * xv + coef[row, tile_c]
        out[tile_b, tile_c] = acc.to(x.dtype)
    return out
