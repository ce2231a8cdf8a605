#ARGS! x:float32[64]
import torch
import triton
import deuteron
import deuteron.language as hl


@deuteron.kernel
def k(x):
    n = x.size(0) * 2**62 * 4
    for t in hl.tile(x.size(0)):
        x[t] = x[t] + n
    return x
