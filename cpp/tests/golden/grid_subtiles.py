# RUN[ir]: --function matmul --args x:float16[256,128],y:float16[128,256] --config '{"block_sizes":[128,64,32],"subtiles":2}' --dump=ir-after=grid_subtiling
# RUN[triton]: --function matmul --args x:float16[256,128],y:float16[128,256] --config '{"block_sizes":[128,64,32],"subtiles":2}'
# RUN[too-small]: --function matmul --args x:float16[256,128],y:float16[128,256] --config '{"block_sizes":[16,64,32],"subtiles":2}'
# RUN[no-dot]: --function scale --args x:float32[1024] --config '{"subtiles":2}'
# The `subtiles` key: each program computes its block of tile_m as two
# sub-tiles that share the loads of y (grid_subtiling.cc).
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.empty([m, n], dtype=torch.float32, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out


@deuteron.kernel()
def scale(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * 2
    return out
