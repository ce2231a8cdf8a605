# RUN[elementwise]: --function scale_rows --args x:float32[64,1000] --dynamic
# RUN[softmax]: --function softmax_rows --args x:float32[64,1000] --dynamic
# RUN[softmax-chunk]: --function softmax_rows --args x:float32[64,1000] --dynamic --config '{"block_sizes":[4],"reduction_loops":[256]}'
# RUN[inner-loop]: --function rows_summed_in_inner_loop --args x:float32[64,96] --dynamic
# RUN[data-size-error]: --function first_n_summed_in_inner_loop --args x:float32[64,96],n:int64[] --dynamic
#
# A whole dim ':' whose size is only known at run time (--dynamic) has no
# constant block to hold it persistently: it is rolled into a loop over chunks
# of reduction_loops[i] lanes (4096 by default), whether it is only stored
# (elementwise) or reduced over (softmax).  Where it cannot be chunked (a
# value used in an inner loop) it is one masked block of next_power_of_2 of
# the bound call's size (96: 128 lanes, `mask_2 = indices_2 < x_size_1`), and
# the kernel is keyed on that power of two (a call needing more lanes binds
# again).  A size that is no function of the arguments (read from a tensor's
# data) cannot be keyed on: that is a compile error.

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def scale_rows(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tm in hl.tile(x.size(0)):
        out[tm, :] = x[tm, :] * 2.0
    return out


@deuteron.kernel()
def softmax_rows(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tm in hl.tile(x.size(0)):
        row = x[tm, :]
        m = torch.amax(row, dim=-1, keepdim=True)
        e = torch.exp(row - m)
        out[tm, :] = e / e.sum(-1, keepdim=True)
    return out


@deuteron.kernel()
def rows_summed_in_inner_loop(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=torch.float32, device=x.device)
    for tm in hl.tile(x.size(0)):
        acc = hl.zeros([tm], dtype=torch.float32)
        for _ in hl.grid(2):
            acc = acc + x[tm, :].sum(-1)
        out[tm] = acc
    return out


@deuteron.kernel()
def first_n_summed_in_inner_loop(x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    m = n.item()
    out = torch.empty([x.size(0)], dtype=torch.float32, device=x.device)
    for tm in hl.tile(x.size(0)):
        acc = hl.zeros([tm], dtype=torch.float32)
        for _ in hl.grid(2):
            acc = acc + x[tm, :m].sum(-1)
        out[tm] = acc
    return out
