# RUN[bmm-out-dtype]: --function bmm_out_dtype --args a:float16[4,64,32],b:float16[4,32,48] --config '{"block_sizes":[2,16,16]}'
# RUN[bcast-ir]: --function matmul_bcast --args a:float16[4,64,32],w:float16[32,48] --dump=ir
# RUN[bcast]: --function matmul_bcast --args a:float16[4,64,32],w:float16[32,48] --config '{"block_sizes":[2,16,16,16]}'
# RUN[matvec]: --function matvec --args x:float16[64,32],v:float16[32] --config '{"block_sizes":[16]}'
# RUN[small-k]: --function transposed_rhs --args x:float32[4,8],w:float32[6,8] --config '{"block_sizes":[1,1,8]}'
# RUN[small-mn]: --function transposed_rhs --args x:float32[4,16],w:float32[6,16] --config '{"block_sizes":[1,2,16]}'
#
# Matmul forms of Helion programs: torch.bmm's positional out_dtype (the
# `.dtype` overload Helion's attention examples use) is tl.dot's out_dtype;
# baddbmm's beta/alpha take the product in float32 and combine after; a 2-D
# operand with a 3-D one gets a size-1 batch axis widened to the batch
# (expand_dims 0, broadcast_to: tl.dot needs one batch on both sides); a
# matrix-vector product is a multiply and a float32 sum, not tl.dot.  A
# config may give matmul dims blocks under 16: tl.dot pads small M and N, a K
# under 16 (Triton's minimum) is a broadcast multiply and a sum over K.

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def bmm_out_dtype(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    B, M, K = a.shape
    N = b.size(2)
    out = torch.empty([B, M, N], dtype=torch.float32, device=a.device)
    for tb, tm, tn in hl.tile([B, M, N]):
        out[tb, tm, tn] = torch.bmm(a[tb, tm, :], b[tb, :, tn], torch.float32)
    return out


@deuteron.kernel()
def matmul_bcast(a: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    B, M, K = a.shape
    N = w.size(1)
    out = torch.empty([B, M, N], dtype=torch.float32, device=a.device)
    for tb, tm, tn in hl.tile([B, M, N]):
        acc = hl.full([tb, tm, tn], 1.0, dtype=torch.float32)
        for tk in hl.tile(K):
            acc = torch.baddbmm(acc, a[tb, tm, tk], w[tk, tn], beta=0.5, alpha=2.0)
        out[tb, tm, tn] = acc
    return out


@deuteron.kernel()
def matvec(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tm in hl.tile(x.size(0)):
        out[tm] = x[tm, :] @ v[:]
    return out


@deuteron.kernel()
def transposed_rhs(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    n = w.size(0)
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tm, tn, tk in hl.tile([m, n, k]):
        out[tm, tn] = torch.mm(x[tm, tk], w[tn, tk].T)
    return out
