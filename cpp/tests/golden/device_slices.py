# RUN[slices-ir]: --function column_slices --args x:float32[37,7] --dump=ir
# RUN[slices]: --function column_slices --args x:float32[37,7] --config '{"block_sizes":[16]}'
# RUN[unit-ir]: --function unit_slices --args src:float32[12],dst:float32[12] --dump=ir
# RUN[rank-ir]: --function mixed_rank_add --args a:float32[10,6,3],b:float32[10,5],c:float32[10] --dump=ir
# RUN[bitcast]: --function bits_plus_one --args x:bfloat16[100] --config '{"block_sizes":[64]}'
# RUN[doubled-ir]: --function doubled --args x:float32[64] --dump=ir
# RUN[doubled]: --function doubled --args x:float32[64] --config '{"block_sizes":[16]}'
# RUN[stepped]: --function stepped --args src:float32[50],dst:float32[50]
# RUN[topk-names]: --function topk_rows --args x:float32[8,16]
# RUN[topk-names-reference]: --function topk_rows --args x:float32[8,16] --dump=reference
#
# A slice with a step (dst[1::3]) is an integer index 1 + 3 * arange(17): a
# gather / scatter of those elements.  A user's variable named like a generated
# per-dim name (`indices` from torch.topk beside indices_<dim>) gets a trailing
# '_' (indices__5), in the Triton code and the reference module alike.
#
# Device-side views and indexing Helion programs use: slices with bounds of a
# tensor dim (a whole dim of the slice's length indexed from its start: the
# access's `+ offset`; length 1 is a size-1 axis, the start a scalar index and
# a device start needs no more), an operand of lower rank broadcast by tile
# identity (b[tile0, 0:k] beside [tile0, tile1, k] gains a size-1 axis in the
# middle: expand_dims 1), Tensor.view(dtype) as a bitcast (`bitcast=True`), and
# a length of several blocks (tile.block_size * 2): a whole dim whose extent is
# a config value (`2 * _block_size_0`, 32 lanes under block size 16).

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def column_slices(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([x.size(0), 4], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile, 0:3] = x[tile, 2:5] + x[tile, -3:]
        out[tile, 3:] = x[tile, 0:1] * 2
    return out


@deuteron.kernel()
def unit_slices(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    for i in hl.grid(src.size(0) - 1):
        dst[i : i + 1] = 1.0
        src[i] = dst[i : i + 1]
    return src


@deuteron.kernel()
def mixed_rank_add(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    k = a.size(2)
    out = torch.empty_like(a)
    for tile0, tile1 in hl.tile([a.size(0), a.size(1)]):
        out[tile0, tile1, 0:k] = a[tile0, tile1, 0:k] + b[tile0, 0:k] * c[tile0]
    return out


@deuteron.kernel()
def bits_plus_one(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        bits = x[tile].view(dtype=torch.int16) + 1
        out[tile] = bits.view(torch.bfloat16)
    return out


@deuteron.kernel()
def doubled(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([x.size(0) * 2], dtype=torch.int32, device=x.device)
    for tile in hl.tile(x.size(0)):
        start = tile.begin * 2
        out[start : start + tile.block_size * 2] = hl.arange(start, start + tile.block_size * 2).to(torch.int32)
    return out


@deuteron.kernel()
def stepped(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    for _ in hl.grid(1):
        dst[1::3] = 2.0
        src[::2] = dst[::2]
    return src


@deuteron.kernel()
def topk_rows(x: torch.Tensor):
    out_vals = torch.empty([x.size(0), 4], dtype=x.dtype, device=x.device)
    out_indices = torch.empty([x.size(0), 4], dtype=torch.int64, device=x.device)
    for tile in hl.tile(x.size(0)):
        vals, indices = torch.topk(x[tile, :], 4, dim=-1)
        out_vals[tile, :] = vals
        out_indices[tile, :] = indices
    return out_vals, out_indices
