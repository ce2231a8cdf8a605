# RUN[loop]: --function running_max --args x:float32[64,512] --dump=ir
# RUN[if]: --function clamp_rows --args x:float32[64,128],limit:float --dump=ir
# Values assigned in an inner loop become loop-carried (iter operands, body
# arguments, a yield, the loop's results); values assigned in both branches
# of an `if` on a device value become the if's results.
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def running_max(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        best = hl.full([tile_m], float("-inf"), dtype=torch.float32)
        count = hl.zeros([tile_m], dtype=torch.int32)
        for tile_n in hl.tile(n):
            chunk = x[tile_m, tile_n]
            best = torch.maximum(best, chunk.amax(-1))
            count = count + (chunk > 0).sum(-1).to(torch.int32)
        out[tile_m] = best + count
    return out


@deuteron.kernel()
def clamp_rows(x: torch.Tensor, limit: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        row = x[tile, :]
        total = row.sum()
        if total > limit:
            row = row * (limit / total)
        else:
            row = row + 1
        out[tile, :] = row
    return out
