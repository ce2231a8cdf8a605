# RUN[softmax]: --function row_softmax --args x:float16[32,100] --dump=ir
# RUN[var]: --function row_var --args x:bfloat16[32,100] --dump=ir
# Composite ops expand into IR computed in float32 and rounded once at the
# end, as eager PyTorch computes them: softmax (max, exp, sum, divide), var
# (mean, squared deviations, sum divided by n - 1).
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def row_softmax(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = torch.softmax(x[tile, :], dim=-1)
    return out


@deuteron.kernel()
def row_var(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = torch.var(x[tile, :], dim=-1)
    return out
