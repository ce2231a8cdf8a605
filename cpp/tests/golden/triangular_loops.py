# RUN[lower]: --function lower_row_sums --args x:float32[1000,1000] --config '{"block_sizes":[64,32]}'
# RUN[lower-dynamic]: --function lower_row_sums --args x:float32[1000,1000] --dynamic --config '{"block_sizes":[64,32]}'
# RUN[upper]: --function upper_row_sums --args x:float32[1000,1000] --config '{"block_sizes":[64,32]}'
# Loops whose bounds come from the outer tile: lower_row_sums' blocks get
# heavier with tile_m (launched in reverse, heavy blocks first);
# upper_row_sums' get lighter (launched in order).
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def lower_row_sums(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(0, tile_m.end):
            keep = tile_m.index[:, None] >= tile_n.index[None, :]
            acc += torch.where(keep, x[tile_m, tile_n], 0.0).sum(-1)
        out[tile_m] = acc
    return out


@deuteron.kernel()
def upper_row_sums(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(tile_m.begin, n):
            keep = tile_m.index[:, None] <= tile_n.index[None, :]
            acc += torch.where(keep, x[tile_m, tile_n], 0.0).sum(-1)
        out[tile_m] = acc
    return out
