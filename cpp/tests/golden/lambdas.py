# Lambdas written in a kernel are inlined where they are called: one written in
# host code and called in the loop sees the kernel's names there (`k`), one
# written in the loop too; a lambda is a combine function of hl.reduce.
# RUN[inline-triton]: --function shifted --args x:float32[256],k:float --config '{"block_sizes":[64]}'
# RUN[inline-ir]: --function shifted --args x:float32[256],k:float --dump=ir
# RUN[combine-triton]: --function row_max --args x:float32[32,64] --config '{"block_sizes":[8]}'
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def shifted(x: torch.Tensor, k: float) -> torch.Tensor:
    out = torch.empty_like(x)
    twice = lambda v, s=2: v * s
    for tile in hl.tile(x.size(0)):
        shift = lambda v: v + k
        out[tile] = shift(twice(x[tile]))
    return out


@deuteron.kernel()
def row_max(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = hl.reduce(lambda a, b: torch.maximum(a, b), x[tile_m, :], dim=1)
    return out
