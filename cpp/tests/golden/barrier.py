# RUN[phases]: --function two_phases --args x:float32[100] --config '{"block_sizes":[32,64],"pid_type":"persistent_blocked"}'
# RUN[in-loop]: --function barrier_in_loop --args x:float32[8]
#
# hl.barrier() between top-level loops: each loop is its own launch, in
# program order, so the barrier generates nothing (its host call is None) and
# the second launch reads what every program of the first stored.  Inside a
# tile loop it is a BarrierOnlyAllowedAtTopLevel error.

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def two_phases(x: torch.Tensor) -> torch.Tensor:
    tmp = torch.empty_like(x)
    out = torch.empty_like(x)
    for t in hl.tile(x.size(0)):
        tmp[t] = x[t] * 2
    hl.barrier()
    for t in hl.tile(x.size(0)):
        out[t] = tmp[t] + 1
    return out


@deuteron.kernel()
def barrier_in_loop(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for t in hl.tile(x.size(0)):
        hl.barrier()
        out[t] = x[t]
    return out
