# RUN[bmm-ir]: --function batched_rows --args a:float32[3,40,16],b:float32[3,16,24] --dump=ir
# RUN[bmm-triton]: --function batched_rows --args a:float32[3,40,16],b:float32[3,16,24] --config '{"block_sizes":[16]}'
# RUN[summed-ir]: --function batched_rows_summed --args a:float32[3,40,16],b:float32[3,16,24] --dump=ir
#
# The whole batch dim of a batched matmul (a[:, tile_m, :] @ b[:, :, :]) that
# every op treats lane by lane is a grid dim of block 1 (sema/batch_dims_to_grid.cc):
# one batch index per program, and the dots 2-D once the unit dim is gone.  A
# sum over the batch works across it: it stays whole.

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel(static_shapes=True)
def batched_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    bsz, m, _ = a.shape
    out = torch.empty([bsz, m, b.size(2)], dtype=a.dtype, device=a.device)
    for tile_m in hl.tile(m):
        out[:, tile_m, :] = torch.relu(torch.bmm(a[:, tile_m, :], b[:, :, :])).to(out.dtype)
    return out


@deuteron.kernel(static_shapes=True)
def batched_rows_summed(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    bsz, m, _ = a.shape
    out = torch.empty([m, b.size(2)], dtype=torch.float32, device=a.device)
    for tile_m in hl.tile(m):
        out[tile_m, :] = torch.bmm(a[:, tile_m, :], b[:, :, :]).sum(0)
    return out
