# RUN[dependency]: --function out_twice --args x:float32[64],y:float32[64]
# RUN[argument-dependency]: --function through_an_argument --args x:float32[64],y:float32[64]
# RUN[between]: --function sum_between --args x:float32[64],y:float32[64]
# RUN[barrier-default]: --function with_barrier --args x:float32[64],y:float32[64] --dump=default-config
# RUN[barrier-flat]: --function with_barrier --args x:float32[64],y:float32[64] --config '{"pid_type":"flat"}'
# RUN[bad-sem]: --function bad_sem --args x:float32[64],y:float32[64]
#
# Helion's rules for a kernel's top-level loops (sema/loop_phases.cc): Helion
# runs the loops between barriers as one launch, so a loop may not read or
# write a tensor an earlier loop of its phase wrote (LoopDependencyError; an
# argument counts through its views), and no statement but hl.barrier() may
# stand between top-level loops (TopLevelStatementBetweenLoops).  With a
# barrier between loops the pid_type must be persistent: the default is
# persistent_blocked, another is BarrierRequiresPersistent.  An atomic's sem
# that is none of Triton's is InvalidMemorySemantic.

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def out_twice(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile]
    for tile in hl.tile(y.size()):
        out[tile] += y[tile]
    return out


@deuteron.kernel()
def through_an_argument(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    xv = x.view(8, 8)
    for tile in hl.tile(8):
        xv[tile, :] = xv[tile, :] * 2
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + y[tile]
    return out


@deuteron.kernel()
def sum_between(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    for tile in hl.tile(x.size()):
        x[tile] += x[tile]
    x.sum()
    for tile in hl.tile(y.size()):
        y[tile] += y[tile]
    return x + y


@deuteron.kernel()
def with_barrier(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile]
    hl.barrier()
    for tile in hl.tile(y.size()):
        out[tile] += y[tile]
    return out


@deuteron.kernel()
def bad_sem(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    for i in hl.tile(x.size(0)):
        hl.atomic_add(x, [i], y[i], sem="ERROR")
    return x
