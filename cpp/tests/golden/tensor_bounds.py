# Loop bounds and scalars read from tensors.  A one-element tensor bounding
# the outer loop is read by the kernel (`tl.load(num_elements_item_tensor)`):
# no host sync; the launch is persistent (one program per SM) and the
# programs cover the value's tiles.  `s.item()` of a float tensor is a scalar
# argument the host function reads.
# Inside a tile loop the bounds are loads (`begin[0]`, `end[0]`, a 0-d tensor
# as a whole), the inner loop's bounds computed on the device.  `tile + 1`
# offsets the tile's indices.  A list made in the loop and assigned by index
# in an unrolled loop holds the last value given to each element.
# RUN[outer-triton]: --function prefix --args x:float32[128],num_elements:int64[] --config '{"block_sizes":[32]}'
# RUN[item-ir]: --function add_item --args x:float32[100],s:float32[] --dump=ir
# RUN[inner-ir]: --function row_sums --args x:float32[64,256],begin:int64[1],end:int32[1] --dump=ir
# RUN[inner-triton]: --function row_sums --args x:float32[64,256],begin:int64[1],end:int32[1] --config '{"block_sizes":[16,32]}'
# RUN[offset-ir]: --function next_minus_this --args offsets:int64[8] --dump=ir
# RUN[list-ir]: --function list_cache --args a:float32[64],b:float32[64] --dump=ir
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def prefix(x: torch.Tensor, num_elements: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile in hl.tile(num_elements):
        out[tile] = x[tile] + 1
    return out


@deuteron.kernel()
def add_item(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    v = s.item()
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + v
    return out


@deuteron.kernel()
def row_sums(x: torch.Tensor, begin: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    out = x.new_empty([x.size(0)])
    for tile_m in hl.tile(x.size(0)):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(begin[0], end[0]):
            acc += x[tile_m, tile_n].sum(-1)
        out[tile_m] = acc
    return out


@deuteron.kernel()
def next_minus_this(offsets: torch.Tensor) -> torch.Tensor:
    n = offsets.size(0) - 1
    out = offsets.new_empty([n])
    for tile in hl.tile(n):
        out[tile] = offsets[tile + 1] - offsets[tile]
    return out


@deuteron.kernel()
def list_cache(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(a)
    for tile in hl.tile(a.size(0)):
        cached = [hl.zeros([tile], dtype=a.dtype)] * 2
        srcs = (a, b)
        for i in hl.static_range(2):
            cached[i] = srcs[i][tile] * 2
        out[tile] = cached[0] - cached[1]
    return out
