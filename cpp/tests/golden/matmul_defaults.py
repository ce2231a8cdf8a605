# RUN[small]: --function mixed_matmul --args x:bfloat16[256,256],w:int16[256,256] --dump=default-config
# RUN[small-code]: --function mixed_matmul --args x:bfloat16[256,256],w:int16[256,256]
# RUN[mid]: --function mixed_matmul --args x:bfloat16[512,512],w:int16[512,512] --dump=default-config
# RUN[skinny]: --function mixed_matmul --args x:bfloat16[16,4096],w:int16[4096,4096] --dump=default-config
# RUN[square-1024]: --function mixed_matmul --args x:bfloat16[1024,1024],w:int16[1024,1024] --dump=default-config
# RUN[large]: --function mixed_matmul --args x:bfloat16[65536,1024],w:int16[1024,1280] --dump=default-config
# RUN[bmm-small]: --function batched --args a:float16[2,128,64],b:float16[2,64,128] --dump=default-config
#
# Default output tiles of matmuls by size.  128x128 tiles (8 warps, 3 stages)
# unless the output has fewer of them than a quarter of the SMs (33 on the
# H100 the compiler targets by default): then the larger of the M and N
# blocks halves (M on ties) until it has, down to 32 a side, and tiles of
# 64x64 and less take 4 warps.  1024x1024 (64 tiles) keeps 128x128.

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel(static_shapes=True)
def mixed_matmul(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    m, k = x.shape
    _, n = w.shape
    out = torch.empty([m, n], dtype=torch.bfloat16, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = hl.dot(x[tile_m, tile_k], w[tile_k, tile_n].to(torch.bfloat16), acc=acc)
        out[tile_m, tile_n] = acc.to(torch.bfloat16)
    return out


@deuteron.kernel()
def batched(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty([a.size(0), a.size(1), b.size(2)], dtype=a.dtype, device=a.device)
    for tile_b, tile_m, tile_n in hl.tile([a.size(0), a.size(1), b.size(2)]):
        acc = hl.zeros([tile_b, tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(a.size(2)):
            acc = torch.baddbmm(acc, a[tile_b, tile_m, tile_k], b[tile_b, tile_k, tile_n])
        out[tile_b, tile_m, tile_n] = acc.to(a.dtype)
    return out
