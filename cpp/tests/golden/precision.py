# RUN[fast]: --function softmax_bf16 --args x:bfloat16[64,128] --config '{"block_sizes":[1]}'
# RUN[strict]: --function softmax_bf16 --args x:bfloat16[64,128] --config '{"block_sizes":[1]}' --precision=strict
# RUN[fast-reference]: --function softmax_bf16 --args x:bfloat16[64,128] --config '{"block_sizes":[1]}' --dump=reference
# RUN[strict-reference]: --function softmax_bf16 --args x:bfloat16[64,128] --config '{"block_sizes":[1]}' --precision=strict --dump=reference
# RUN[observable]: --function observable --args x:float16[64,32],y:float16[32,32] --config '{"block_sizes":[16,32,16]}'
# RUN[observable-strict]: --function observable --args x:float16[64,32],y:float16[32,32] --config '{"block_sizes":[16,32,16]}' --precision=strict
# RUN[bad-precision]: --function softmax_bf16 --args x:bfloat16[64,128] --precision=exact
# The precision setting (docs/language.md, "Precision").  fast: bf16 values stay
# in float32 from the load to the store (one rounding, at the store) and `/`
# is Triton's; strict: every op rounds to bf16 and divides with tl.div_rn.
# `observable` shows where fast mode still rounds: a cast the program writes
# (.float() of an fp16 value), a dot's operands, a carried fp16 accumulator,
# and the store.
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def softmax_bf16(x: torch.Tensor) -> torch.Tensor:
    n, _m = x.size()
    out = torch.empty_like(x)
    for tile_n in hl.tile(n):
        values = x[tile_n, :]
        amax = torch.amax(values, dim=1, keepdim=True)
        exp = torch.exp(values - amax)
        sum_exp = torch.sum(exp, dim=1, keepdim=True)
        out[tile_n, :] = exp / sum_exp
    return out


@deuteron.kernel()
def observable(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _k, n = y.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float16)
        for tile_k in hl.tile(k):
            a = x[tile_m, tile_k] * 2.0
            seen = a.float()
            scale = seen.amax(dim=1, keepdim=True).to(torch.float16)
            acc = acc + torch.matmul(torch.relu(a), y[tile_k, tile_n]) * scale
        out[tile_m, tile_n] = torch.sigmoid(acc) + 1.0
    return out
