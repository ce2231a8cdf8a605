# Index tensors as PyTorch's advanced indexing reads them: several index
# tensors, one of them with two or more axes, broadcast together into one
# shape (the `broadcast` index: every index an index tensor of the access's
# rank), placed where the first is when only scalars separate them, else
# first; one dim on two axes (the block of x[i, j] for i, j in the tile);
# torch.gather in a tile loop (a `gather` op, tl.gather / torch.gather);
# argmax without dim (over the flattened value); a merged dim stored into a
# slice of as many lanes.
# RUN[rows-cols-ir]: --function rows_cols --args x:float32[64,48],rows:int64[32,16] --dump=ir
# RUN[rows-cols-triton]: --function rows_cols --args x:float32[64,48],rows:int64[32,16] --config '{"block_sizes":[8,16]}'
# RUN[rows-cols-reference]: --function rows_cols --args x:float32[64,48],rows:int64[32,16] --config '{"block_sizes":[8,16]}' --dump=reference
# RUN[apart-ir]: --function apart --args x:float32[8,5,9],a:int64[10,6],b:int64[10,6] --dump=ir
# RUN[diagonal-blocks-triton]: --function diagonal_blocks --args x:float32[20,20] --config '{"block_sizes":[8]}'
# RUN[gather-ir]: --function gather_cols --args x:float32[16,32],idx:int64[16,8] --dump=ir
# RUN[gather-triton]: --function gather_cols --args x:float32[16,32],idx:int64[16,8] --config '{"block_sizes":[4,8]}'
# RUN[gather-reference]: --function gather_cols --args x:float32[16,32],idx:int64[16,8] --config '{"block_sizes":[4,8]}' --dump=reference
# RUN[argmax-ir]: --function block_argmax --args x:float32[16,32] --dump=ir
# RUN[stack-merged-triton]: --function interleave --args a:float32[64,128],b:float32[64,128] --config '{"block_sizes":[16,32]}'
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def rows_cols(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    m, n = rows.shape
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        # [tile_m, tile_n] and [1, tile_n] broadcast to [tile_m, tile_n].
        out[tile_m, tile_n] = x[rows[tile_m, tile_n], tile_n.index[None, :]]
    return out


@deuteron.kernel()
def apart(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, n = a.shape
    out = torch.empty([m, n, x.size(1)], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        # Index tensors apart (a slice between): their shape first, then the slice's.
        out[tile_m, tile_n, :] = x[a[tile_m, tile_n], :, b[tile_m, tile_n]]
    return out


@deuteron.kernel()
def diagonal_blocks(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile.index, tile.index] = x[tile, tile] * 2
    return out


@deuteron.kernel()
def gather_cols(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    n, k = idx.shape
    out = torch.empty([n, k], dtype=x.dtype, device=x.device)
    for tile_n, tile_k in hl.tile([n, k]):
        out[tile_n, tile_k] = torch.gather(x[tile_n, :], 1, idx[tile_n, tile_k])
    return out


@deuteron.kernel()
def block_argmax(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty([m], dtype=torch.int64, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = torch.argmax(x[tile_m, :], dim=1)
        out[tile_m.begin] = torch.argmax(x[tile_m, :])
    return out


@deuteron.kernel()
def interleave(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, n = a.shape
    out = torch.zeros(m * 2, n, dtype=a.dtype, device=a.device)
    for tile_m, tile_n in hl.tile([m, n]):
        pair = torch.stack([a[tile_m, tile_n], b[tile_m, tile_n]], dim=1)
        rows = pair.reshape(tile_m.block_size * 2, tile_n.block_size)
        out[tile_m.begin * 2:tile_m.begin * 2 + tile_m.block_size * 2, tile_n] = rows
    return out
