# experimental.backward's transform (cpp/src/autodiff): the backward kernel's
# source.  layer_norm: forward values recomputed on demand, the reductions'
# gradients broadcast back along the row, w read by every program (its gradient
# added atomically), a returned view's gradient reshaped to the stored tensor;
# scaled_softmax: amax's gradient shared by tied lanes, a scalar argument;
# in_place: a value stored and loaded back (forwarded); matmul: a weight read
# whole by every program (dW = X^T @ dY added atomically); matmul_k_loop: the
# K loop recomputed for tanh's input, then run again with the result's
# gradient (dA, dB added atomically); running_max: a carried value that does
# not only accumulate, the loop evaluated as one iteration over its whole dim
# (whole_loops.cc); online_softmax: two loops over one size, the first
# carrying a running max and sum, both evaluated whole; attention: online
# softmax with dots over a key dim of 100 (padded and masked by the
# backward's compiler); running_max_from_one: a loop not over a whole dim is
# refused, naming the loop, its line and why.
# RUN[layer-norm]: --function layer_norm --args x:float32[64,32],w:float32[32] --dump=backward
# RUN[softmax]: --function scaled_softmax --args x:float32[16,8],scale:float --dump=backward
# RUN[in-place]: --function in_place --args x:float32[100] --dump=backward
# RUN[matmul]: --function matmul --args a:float32[16,24],b:float32[24,16] --dump=backward
# RUN[matmul-k-loop]: --function matmul_k_loop --args a:float32[32,64],b:float32[64,16] --dump=backward
# RUN[running-max]: --function running_max --args x:float32[8,16] --dump=backward
# RUN[online-softmax]: --function online_softmax --args x:float32[64,48] --dump=backward
# RUN[attention]: --function attention --args q:float32[2,100,16],k:float32[2,100,16],v:float32[2,100,16] --dump=backward
# RUN[running-max-from-one]: --function running_max_from_one --args x:float32[8,16] --dump=backward
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def layer_norm(x: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    m, n = x.size()
    out = torch.empty_like(x)
    rstd = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        acc = x[tile_m, :]
        mean = torch.sum(acc, dim=-1) / n
        centered = acc - mean[:, None]
        var = torch.sum(centered * centered, dim=-1) / n
        r = torch.rsqrt(var + 1e-5)
        out[tile_m, :] = centered * r[:, None] * w[None, :]
        rstd[tile_m] = r
    return out, rstd.reshape(-1, 1)


@deuteron.kernel()
def scaled_softmax(x: torch.Tensor, scale: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile, :] * scale
        e = torch.exp(v - torch.amax(v, 1, keepdim=True))
        out[tile, :] = e / torch.sum(e, 1, keepdim=True)
    return out


@deuteron.kernel()
def in_place(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        x[tile] = torch.sin(x[tile])
        out[tile] = x[tile] * x[tile]
    return out


@deuteron.kernel()
def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty([a.size(0), b.size(1)], dtype=a.dtype, device=a.device)
    for tile_m in hl.tile(a.size(0)):
        out[tile_m, :] = hl.dot(a[tile_m, :], b[:, :])
    return out


@deuteron.kernel()
def matmul_k_loop(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, k = a.size()
    out = torch.empty([m, b.size(1)], dtype=torch.float32, device=a.device)
    for tile_m, tile_n in hl.tile([m, b.size(1)]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, a[tile_m, tile_k], b[tile_k, tile_n])
        out[tile_m, tile_n] = torch.tanh(acc)
    return out


@deuteron.kernel()
def running_max(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(x.size(0)):
        acc = hl.full([tile_m], float("-inf"), dtype=torch.float32)
        for tile_n in hl.tile(x.size(1)):
            acc = torch.maximum(acc, x[tile_m, tile_n].amax(-1))
        out[tile_m] = acc
    return out


@deuteron.kernel()
def online_softmax(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        mi = hl.full([tile_m], float("-inf"), dtype=torch.float32)
        di = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(n):
            values = x[tile_m, tile_n]
            mi_next = torch.maximum(mi, torch.amax(values, dim=1))
            di = di * torch.exp(mi - mi_next) + torch.exp(values - mi_next[:, None]).sum(dim=1)
            mi = mi_next
        for tile_n in hl.tile(n):
            out[tile_m, tile_n] = torch.exp(x[tile_m, tile_n] - mi[:, None]) / di[:, None]
    return out


@deuteron.kernel()
def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    b, m, d = q.size()
    out = torch.empty_like(q)
    for tile_b, tile_m in hl.tile([b, m]):
        m_i = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
        l_i = hl.zeros([tile_b, tile_m], dtype=torch.float32)
        acc = hl.zeros([tile_b, tile_m, d], dtype=torch.float32)
        q_tile = q[tile_b, tile_m, :]
        for tile_n in hl.tile(k.size(1)):
            qk = torch.bmm(q_tile, k[tile_b, tile_n, :].transpose(1, 2)) * 0.25
            m_ij = torch.maximum(m_i, torch.amax(qk, -1))
            p = torch.exp(qk - m_ij[:, :, None])
            alpha = torch.exp(m_i - m_ij)
            l_i = l_i * alpha + torch.sum(p, -1)
            acc = torch.baddbmm(acc * alpha[:, :, None], p, v[tile_b, tile_n, :])
            m_i = m_ij
        out[tile_b, tile_m, :] = acc / l_i[:, :, None]
    return out


@deuteron.kernel()
def running_max_from_one(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(x.size(0)):
        acc = hl.full([tile_m], float("-inf"), dtype=torch.float32)
        for tile_n in hl.tile(1, x.size(1)):
            acc = torch.maximum(acc, x[tile_m, tile_n].amax(-1))
        out[tile_m] = acc
    return out
