# RUN[cumsum-ir]: --function row_cumsum --args x:float16[100,37] --dump=ir
# RUN[cumsum-triton]: --function row_cumsum --args x:float16[100,37] --config '{"block_sizes":[8]}'
# RUN[cumsum-reference]: --function row_cumsum --args x:float16[100,37] --config '{"block_sizes":[8]}' --dump=reference
# RUN[scan-ir]: --function segmented --args v:float32[64,16],ids:int32[64] --dump=ir
# RUN[scan-triton]: --function segmented --args v:float32[64,16],ids:int32[64] --config '{"block_sizes":[16]}'
# RUN[reverse-max-triton]: --function suffix_max --args x:float32[64,100] --config '{"block_sizes":[4]}'
# RUN[reduce-ir]: --function row_argmax --args x:float32[64,100] --dump=ir
# RUN[reduce-triton]: --function row_argmax --args x:float32[64,100] --config '{"block_sizes":[4]}'
# RUN[reduce-reference]: --function row_argmax --args x:float32[64,100] --config '{"block_sizes":[4]}' --dump=reference
# RUN[reduce-other-triton]: --function row_prod --args x:float32[64,100] --config '{"block_sizes":[4]}'
# RUN[scan-spec]: --function row_cumsum_amax --args x:float32[8,4,2048] --dump=config-spec
# Scans (cumsum, hl.associative_scan) and reductions by a user combine
# function (hl.reduce): the IR's scan / combine_reduce ops with their combine
# regions, Triton's tl.cumsum / tl.associative_scan / tl.reduce with the
# combine function as a @triton.jit helper, and the reference back end.
import torch
import deuteron
import deuteron.language as hl


def segment_add(lv, ls, rv, rs):
    return torch.where(ls == rs, lv + rv, rv), rs


def maximum(a, b):
    return torch.maximum(a, b)


def argmax_pair(left, right):
    lv, li = left
    rv, ri = right
    take = (rv > lv) | ((rv == lv) & (ri < li))
    return torch.where(take, rv, lv), torch.where(take, ri, li)


def mul(a, b):
    return a * b


@deuteron.kernel()
def row_cumsum(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = torch.cumsum(x[tile, :], dim=1) + hl.cumsum(x[tile, :], dim=1, reverse=True)
    return out


@deuteron.kernel()
def segmented(v: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(v)
    for tile in hl.tile(v.size(0)):
        vals = v[tile, :]
        segs = ids[tile].unsqueeze(1).expand_as(vals)
        total, _ = hl.associative_scan(segment_add, (vals, segs), dim=0)
        out[tile, :] = total
    return out


@deuteron.kernel()
def suffix_max(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = hl.associative_scan(maximum, x[tile, :], dim=1, reverse=True)
    return out


@deuteron.kernel()
def row_argmax(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=torch.int64, device=x.device)
    for tile in hl.tile(x.size(0)):
        v = x[tile, :]
        i = hl.arange(x.size(1)).to(torch.int64)[None, :].expand_as(v)
        _, idx = hl.reduce(argmax_pair, (v, i), dim=1)
        out[tile] = idx
    return out


@deuteron.kernel()
def row_prod(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), 1], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = hl.reduce(mul, x[tile, :], dim=1, other=1.0, keep_dims=True)
    return out


@deuteron.kernel()
def row_cumsum_amax(x: torch.Tensor) -> torch.Tensor:
    m, _, n = x.shape
    out = torch.empty([m, n], dtype=torch.float32, device=x.device)
    for tile in hl.tile(m):
        out[tile, :] = torch.cumsum(x[tile, :, :], dim=1).amax(1)
    return out
