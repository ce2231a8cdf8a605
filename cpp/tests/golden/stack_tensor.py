# RUN[ir]: --function weighted_rows --args ptrs:uint64[7],like:float16[9,11],w:float32[7] --dump=ir
# RUN[triton]: --function weighted_rows --args ptrs:uint64[7],like:float16[9,11],w:float32[7] --config '{"block_sizes":[8,16,4],"indexing":"tensor_descriptor"}'
# RUN[reference]: --function weighted_rows --args ptrs:uint64[7],like:float16[9,11],w:float32[7] --dump=reference
# RUN[store]: --function scatter_scaled --args x:float32[10],ptrs:uint64[3],like:float32[10],scale:float32[3] --config '{"block_sizes":[4]}'
# RUN[store-ir]: --function scatter_scaled --args x:float32[10],ptrs:uint64[3],like:float32[10],scale:float32[3] --dump=ir
#
# StackTensors (hl.stacktensor_like): loads and stores through a uint64 tensor
# of addresses, each naming a tensor with the example's dtype, sizes and
# strides.  The IR's access carries the pointers as a leading `stack` index;
# the Triton code casts them to pointers of the example's dtype and adds the
# example's offsets, the pointers' dims leading (masked like any other dim);
# the accesses through them stay pointers under a tensor_descriptor request
# (the header says why); the reference module reads each address's memory
# through deuteron.runtime.stack_tensors (load / store).
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel
def weighted_rows(ptrs: torch.Tensor, like: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    m, n = like.size()
    s = ptrs.size(0)
    out = torch.empty([m, n], dtype=torch.float32, device=like.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_s in hl.tile(s):
            stack = hl.stacktensor_like(like, ptrs[tile_s])
            acc = acc + (stack[tile_m, tile_n].to(torch.float32) * w[tile_s][:, None, None]).sum(0)
        out[tile_m, tile_n] = acc
    return out


@deuteron.kernel
def scatter_scaled(x: torch.Tensor, ptrs: torch.Tensor, like: torch.Tensor, scale: torch.Tensor) -> None:
    n = x.size(0)
    for tile in hl.tile(n):
        stack = hl.stacktensor_like(like, ptrs[:])
        stack[tile] = x[tile][None, :] * scale[:, None]
