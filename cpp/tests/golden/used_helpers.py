# RUN[int-div-mod]: --function int_div_mod --args x:int32[64] --config '{"block_sizes":[64]}'
# RUN[prod]: --function row_prod --args x:float32[8,16] --config '{"block_sizes":[1]}'
# RUN[none]: --function plain --args x:float32[64] --config '{"block_sizes":[64]}'
# The module carries only the helpers its kernels call: Python's // and % on
# integers (_deuteron_floordiv, _deuteron_mod), the product combine of a prod
# reduction (_deuteron_mul_combine); a kernel that needs none has none.
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def int_div_mod(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for t in hl.tile(x.size(0)):
        out[t] = x[t] // 3 + x[t] % 5
    return out


@deuteron.kernel()
def row_prod(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for t in hl.tile(x.size(0)):
        out[t] = x[t, :].prod(-1)
    return out


@deuteron.kernel()
def plain(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for t in hl.tile(x.size(0)):
        out[t] = x[t] * 2
    return out
