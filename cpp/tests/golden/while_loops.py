# RUN[count-ir]: --function count_up --args x:float32[100],n:int --dump=ir
# RUN[count]: --function count_up --args x:float32[100],n:int --config '{"block_sizes":[32]}'
# RUN[count-reference]: --function count_up --args x:float32[100],n:int --config '{"block_sizes":[32]}' --dump=reference
# RUN[halve]: --function halve_rows --args x:float32[8,64]
# RUN[lock]: --function lock_rows --args x:float32[64,32],lock:int32[64] --config '{"block_sizes":[1,32]}'
# RUN[lock-spec]: --function lock_rows --args x:float32[64,32],lock:int32[64] --dump=config-spec
# RUN[lock-wide]: --function lock_rows --args x:float32[64,32],lock:int32[64] --config '{"block_sizes":[4,32]}'
# RUN[wide-condition]: --function wide_condition --args x:float32[64]
# RUN[never-ends]: --function never_ends --args x:float32[64]
# RUN[breakpoint]: --function stop_here --args x:float32[64] --interpret --config '{"block_sizes":[64]}'
# RUN[breakpoint-compiled]: --function stop_here --args x:float32[64]
#
# `while cond:` in a tile loop is a `while` op carrying its condition (an i1
# scalar, computed before the loop and again at the end of the body) and the
# names the body assigns that exist before it, typed like a for loop's
# carried values.  The condition is one value: a device scalar (a comparison
# of scalars, a reduction, an atomic on a scalar index) or a tensor over tiles
# of one lane, whose block sizes the config space then limits to 1 (a config
# giving more is an error naming the loop).  A condition over several lanes,
# or known to stay true, is a compile error.  breakpoint() in a tile loop
# needs an interpret mode (--interpret; DEUTERON_INTERPRET or TRITON_INTERPRET).

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def count_up(x: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        acc = torch.zeros_like(x[tile])
        steps = 0
        while steps < n:
            acc = acc + x[tile]
            steps += 1
        out[tile] = acc
    return out


@deuteron.kernel()
def halve_rows(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for i in hl.grid(x.size(0)):
        row = x[i, :]
        while row.abs().max() > 1.0:
            row = row * 0.5
        out[i, :] = row
    return out


@deuteron.kernel()
def lock_rows(x: torch.Tensor, lock: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([lock.size(0), x.size(1)], dtype=x.dtype, device=x.device)
    for tm, tn in hl.tile([x.size(0), x.size(1)]):
        while hl.atomic_cas(lock, [tm], 0, 1, sem="acquire") == 1:
            pass
        out[tm, tn] = out[tm, tn] + x[tm, tn]
        hl.atomic_xchg(lock, [tm], 0, sem="release")
    return out


@deuteron.kernel()
def wide_condition(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0), block_size=16):
        v = x[tile]
        while v > 1.0:
            v = v * 0.5
        out[tile] = v
    return out


@deuteron.kernel()
def never_ends(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile]
        while True:
            v = v * 0.5
        out[tile] = v
    return out


@deuteron.kernel()
def stop_here(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        breakpoint()
        out[tile] = x[tile]
    return out
