#ARGS x:float32[64]
import torch
import triton
import deuteron
import deuteron.language as hl


@deuteron.kernel
def k(x):
    k = [0] * 10**9
    for t in hl.tile(x.size(0)):
        x[t] = x[t] + 1
    return x
