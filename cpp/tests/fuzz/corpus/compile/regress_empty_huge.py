#ARGS x:float32[64]
import torch
import triton
import deuteron
import deuteron.language as hl


@deuteron.kernel
def k(x):
    y = torch.empty([2**40, 2**40, 2**40], device=x.device)
    for t in hl.tile(x.size(0)):
        x[t] = x[t] + 1
    return x
