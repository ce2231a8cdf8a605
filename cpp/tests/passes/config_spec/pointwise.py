# RUN[2d]: --function add2d --args x:float32[1000,300],y:float32[1000,300] --dump=config-spec
# RUN[fixed]: --function fixed_block --args x:float32[4096] --dump=config-spec
# RUN[1d-dynamic]: --function add1d --args x:float32[100000] --dynamic --dump=config-spec
# A block size per tile dim of the grid, bounded by the next power of two of
# its extent (1024 and 512 for [1000, 300]); none for a fixed block_size; a
# symbolic extent is bounded by the size the kernel was bound with (100000 ->
# 131072).  A 2-D grid has loop orders and L2 grouping; no reduction loops,
# no dots, so no sub-tiles.
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def add2d(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(out.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n] + y[tile_m, tile_n]
    return out


@deuteron.kernel()
def fixed_block(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0), block_size=128):
        out[tile] = x[tile] * 2
    return out


@deuteron.kernel()
def add1d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + 1
    return out
