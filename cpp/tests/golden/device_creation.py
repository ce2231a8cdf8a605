# RUN[print]: --function debug_print --args x:float32[64,32] --config '{"block_sizes":[16,32]}'
# RUN[print-reference]: --function debug_print --args x:float32[64,32] --dump=reference
# RUN[aranges-ir]: --function tile_aranges --args x:float32[100] --dump=ir
# RUN[aranges]: --function tile_aranges --args x:float32[100] --config '{"block_sizes":[32]}'
# RUN[unrolled-ir]: --function unrolled --args x:float32[100] --dump=ir
#
# Device-side forms Helion programs use: print() in a tile loop (tl.device_print
# with the prefix as written; the reference module prints whole tensors), torch
# creation functions with tile sizes and torch.arange over a tile (the length is
# the tile's block size: tile.index shifted, no new dim), and comprehensions,
# unrolled when compiling into one multiply-add per element.

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def debug_print(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(x.size()):
        v = x[tile_m, tile_n]
        print("tile value: ", v, v * 2)
        out[tile_m, tile_n] = v
    return out


@deuteron.kernel()
def tile_aranges(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), 2], dtype=torch.int32, device=x.device)
    for tile in hl.tile(x.size(0)):
        lanes = torch.arange(tile.block_size, device=x.device)
        evens = torch.arange(tile.begin * 2, (tile.begin + tile.block_size) * 2, step=2, dtype=torch.int32)
        acc = torch.zeros([tile], dtype=torch.int32, device=x.device)
        out[tile, 0] = acc + lanes
        out[tile, 1] = evens
    return out


@deuteron.kernel()
def unrolled(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    scales = {k: k * 2 for k in range(1, 3)}
    for tile in hl.tile(x.size(0)):
        acc = torch.full([tile], 1.0)
        for s in [scales[k] + 1 for k in scales if k != 3]:
            acc = acc * x[tile] + s
        out[tile] = acc
    return out
