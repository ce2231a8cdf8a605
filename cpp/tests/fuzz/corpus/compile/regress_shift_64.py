#ARGS x:float32[64]
import torch
import triton
import deuteron
import deuteron.language as hl


@deuteron.kernel
def k(x):
    pass
    for t in hl.tile(x.size(0)):
        x[t] = x[t] + (1 << 64)
    return x
