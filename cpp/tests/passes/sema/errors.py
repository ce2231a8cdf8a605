# RUN[shape]: --function bad_shapes --args x:float32[64,32],y:float32[32] --dump=ir
# RUN[float-index]: --function float_index --args x:float32[64] --dump=ir
# RUN[tile-after-loop]: --function tile_after_loop --args x:float32[64] --dump=ir
# RUN[tile-after-loop-in-if]: --function tile_after_loop_in_if --args x:float32[64] --dump=ir
# RUN[tuple-tile-names]: --function tuple_tile_names --args x:float32[64,32] --dump=ir
# RUN[store-2d-into-1d]: --function store_2d_into_1d --args x:float32[64,32] --dump=ir
# RUN[too-many-block-sizes]: --function tuple_tile_ok --args x:float32[64,32] --config '{"block_sizes":[16,16,16]}'
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


@deuteron.kernel()
def tile_after_loop(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    out[tile] = 0
    return out


@deuteron.kernel()
def tile_after_loop_in_if(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    if x.size(0) > 4:
        n = 1
        out[n] = tile.index
    return out


@deuteron.kernel()
def tuple_tile_names(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + x[tile[1], tile[0]]
    return out


@deuteron.kernel()
def store_2d_into_1d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile, :]
    return out


@deuteron.kernel()
def tuple_tile_ok(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] * 2
    return out
