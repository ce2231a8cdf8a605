# RUN[shape]: --function bad_shapes --args x:float32[64,32],y:float32[32] --dump=ir
# RUN[float-index]: --function float_index --args x:float32[64] --dump=ir
# Sema's errors point at the user's line and column.
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def bad_shapes(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(x.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n] + y[tile_m]
    return out


@deuteron.kernel()
def float_index(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile.index * 0.5]
    return out
