# RUN[matmul]: --function matmul --args x:float16[512,256],y:float16[256,512] --dump=config-spec
# RUN[reduced-rows]: --function rowsum_of_product --args x:float16[256,128],y:float16[128,64] --dump=config-spec
# Dot operands' dims are marked used_in_dot (minimum block 16); the grid's
# loop order and L2 grouping are tunable; sub-tiles are offered when the dot's
# rows are a grid dim that can be split, and not when they are an inner
# loop's dim reduced away.
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
def rowsum_of_product(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.empty([n], dtype=torch.float32, device=x.device)
    for tile_n in hl.tile(n):
        acc = hl.zeros([tile_n], dtype=torch.float32)
        for tile_m in hl.tile(m):
            acc += hl.dot(x[tile_m, :], y[:, tile_n]).sum(0)
        out[tile_n] = acc
    return out
