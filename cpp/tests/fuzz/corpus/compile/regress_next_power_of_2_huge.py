#ARGS x:float32[64]
import torch
import triton
import deuteron
import deuteron.language as hl


@deuteron.kernel
def k(x):
    k = triton.next_power_of_2(2**62 + 1)
    j = triton.next_power_of_2(9223372036854775807)
    for t in hl.tile(x.size(0)):
        x[t] = x[t] + 1
    return x
