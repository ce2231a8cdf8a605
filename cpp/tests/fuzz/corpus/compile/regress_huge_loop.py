#ARGS x:float32[9223372036854775807]
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel
def k(x):
    for t in hl.tile(x.size(0)):
        x[t] = x[t] + 1
    for u in hl.tile((-2)**63, 9223372036854775807):
        x[u] = 1
    return x
