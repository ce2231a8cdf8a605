# RUN[ir]: --function host_expressions --args x:float32[12,20],y:float32[20],n:int32[20] --dump=ir
# RUN[reference]: --function scaled_sum --args ts:(float32[37],float32[37]) --dump=reference
#
# Elementwise operators on host tensors make new tensors that tile loops read
# like arguments: the broadcast shape ([12, 20] - [1, 20]), torch.result_type's
# dtype (an int32 tensor / 2 is float32, a comparison is bool), and elements of
# a tuple built by a comprehension reached as `scaled[i]`.

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def host_expressions(x: torch.Tensor, y: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    diff = x - y[None, :]
    neg = -diff
    positive = x > 0
    half = n / 2
    out = torch.empty_like(x)
    for tm, tn in hl.tile(x.size()):
        out[tm, tn] = torch.where(positive[tm, tn], neg[tm, tn], diff[tm, tn]) + half[tn]
    return out


@deuteron.kernel()
def scaled_sum(ts: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    result = torch.zeros_like(ts[0])
    scaled = tuple(t * s for t, s in zip(ts, (0.5, 1.5)))
    for tile in hl.tile(result.size(0)):
        acc = hl.zeros([tile], dtype=torch.float32)
        for t in scaled:
            acc += t[tile]
        result[tile] = acc
    return result
