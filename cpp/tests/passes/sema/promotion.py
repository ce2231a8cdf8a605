# RUN[f16]: --function scale --args x:float16[256],y:float16[256],k:int --dump=ir
# RUN[ints]: --function int_math --args a:int32[256],b:int64[256] --dump=ir
# Type promotion as PyTorch does it: 16-bit floats compute in float32 and round
# once per op (opmath); a Python int scalar does not widen a float16 tensor;
# int32 with int64 gives int64; // and % round toward minus infinity (Python),
# true division of integers gives float32; comparisons give bool.
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def scale(x: torch.Tensor, y: torch.Tensor, k: int) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * k + y[tile] * 0.5
    return out


@deuteron.kernel()
def int_math(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty([a.size(0)], dtype=torch.float32, device=a.device)
    for tile in hl.tile(a.size(0)):
        q = a[tile] // b[tile] + a[tile] % 3
        out[tile] = torch.where(q > 0, q / 2, -1.0)
    return out
