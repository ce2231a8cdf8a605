# RUN[triangular]: --function lower_sums --args x:float32[256,256] --dump=ir
# RUN[dynamic]: --function add2d --args x:float32[300,200],y:float32[300,200] --dynamic --dump=ir
# RUN[fixed-block]: --function blocked --args x:float32[512] --dump=ir
# Loop bounds computed on the device (hl.tile(0, tile_m.end)) are operands of
# the loop (`bounds(...)`) and mark its dim `dynamic`; with --dynamic sizes are
# symbols (x_size_0); block_size=32 fixes a tile's block (`block 32`).
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def lower_sums(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(0, tile_m.end):
            acc += x[tile_m, tile_n].sum(-1)
        out[tile_m] = acc
    return out


@deuteron.kernel()
def add2d(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(out.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n] + y[tile_m, tile_n]
    return out


@deuteron.kernel()
def blocked(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0), block_size=32):
        out[tile] = x[tile] * tile.block_size + tile.id
    return out
