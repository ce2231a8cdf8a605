# Arguments that are not a tensor or a number.  A dtype argument is a
# compile-time constant (the accumulator and the output are float16 here); a
# host `if` on a dtype test folds.  Elements of a tuple, NamedTuple, dataclass
# or dict argument are kernel parameters passed as Python expressions over the
# argument (`ts[0]`, `p.x`, `d['b']`); an int element is a host symbol read at
# entry, a float element a scalar parameter.  A string argument is a constant
# too: the branch on it is decided when compiling.
# RUN[dtype-ir]: --function acc_in --args x:float32[64],acc_dtype:dtype=float16 --dump=ir
# RUN[host-if-ir]: --function host_choice --args x:int8[64] --dump=ir
# RUN[tuple-triton]: --function weighted_sum --args ts:(float32[64],float32[64]),ws:(float,float),n:(int,int) --config '{"block_sizes":[32]}'
# RUN[records-ir]: --function records --args p:Params{x:float32[64],alpha:float,k:int},d:{a:float16[64],b:float16[64]} --dump=ir
# RUN[bad-field]: --function bad_field --args p:Params{x:float32[64]}
# RUN[str-ir]: --function by_mode --args x:float32[64],mode:str=mul --dump=ir
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def acc_in(x: torch.Tensor, acc_dtype: torch.dtype) -> torch.Tensor:
    out = torch.empty(x.shape, dtype=acc_dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        acc = hl.zeros([tile], dtype=acc_dtype)
        out[tile] = acc + x[tile].to(acc_dtype)
    return out


@deuteron.kernel()
def host_choice(x: torch.Tensor) -> torch.Tensor:
    if x.dtype == torch.int8:
        acc_dtype = torch.int32
    else:
        acc_dtype = torch.float32
    out = torch.empty(x.shape, dtype=acc_dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile].to(acc_dtype) * 2
    return out


@deuteron.kernel()
def weighted_sum(ts: tuple[torch.Tensor, ...], ws: tuple[float, ...], n: tuple[int, int]) -> torch.Tensor:
    out = torch.zeros_like(ts[0])
    for tile in hl.tile(out.size(0)):
        acc = hl.zeros([tile], dtype=torch.float32)
        for i, (t, w) in enumerate(zip(ts, ws, strict=True)):
            acc += t[tile] * w + i
        out[tile] = acc * n[1] + len(ts)
    return out


@deuteron.kernel()
def records(p, d: dict[str, torch.Tensor]) -> torch.Tensor:
    out = torch.empty_like(p.x)
    for tile in hl.tile(p.x.size(0)):
        out[tile] = p.x[tile] * p.alpha + p.k + d["a"][tile] * d["b"][tile]
    return out


@deuteron.kernel()
def bad_field(p) -> torch.Tensor:
    out = torch.empty_like(p.x)
    for tile in hl.tile(p.x.size(0)):
        out[tile] = p.y[tile]
    return out


@deuteron.kernel()
def by_mode(x: torch.Tensor, mode: str) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        if mode == "add":
            out[tile] = x[tile] + 1.0
        else:
            out[tile] = x[tile] * 2.0
    return out
