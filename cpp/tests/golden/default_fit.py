# The default config fits the GPU (config/resource_estimate.cc): each default
# shrinks until its staged loads fit 227 KB of shared memory and its
# accumulators 192 fp32 values per thread.
# RUN[rownorm-default]: --function matmul_rownorm --args x:bfloat16[128,256],y:bfloat16[256,400],scale:bfloat16[400] --dump=default-config
# RUN[rownorm]: --function matmul_rownorm --args x:bfloat16[128,256],y:bfloat16[256,400],scale:bfloat16[400]
# RUN[chunked-default]: --function chunked_state --args k:bfloat16[8,4096,64],v:bfloat16[8,4096,128],decay:float32[8,16],chunk:constexpr=256 --dump=default-config
# RUN[whole-row-default]: --function whole_row_projection --args x:float16[1024,1024],a:float16[1024,1024] --dump=default-config
# RUN[whole-row]: --function whole_row_projection --args x:float16[1024,1024],a:float16[1024,1024]
# RUN[gated-columns-default]: --function gated_columns --args x:bfloat16[4096,1024],w:bfloat16[1024,1024] --dump=default-config
# RUN[gated-columns]: --function gated_columns --args x:bfloat16[4096,1024],w:bfloat16[1024,1024]

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel(static_shapes=True, autotune_effort="none")
def matmul_rownorm(x: torch.Tensor, y: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """(x @ y) normalized over each row, times `scale`: the accumulator holds whole rows."""
    m, k = x.size()
    n = hl.specialize(y.size(1))
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m, n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, :])
        mean = acc.sum(dim=-1, keepdim=True) / n
        centered = acc - mean
        norm = torch.rsqrt((centered * centered).sum(dim=-1, keepdim=True) / n + 1e-5)
        out[tile_m, :] = (centered * norm * scale[:].to(torch.float32)).to(out.dtype)
    return out


    acc = x.float() @ y.float()
    centered = acc - acc.mean(dim=-1, keepdim=True)
    out = centered * torch.rsqrt((centered * centered).mean(dim=-1, keepdim=True) + 1e-5) * scale.float()
    return out.to(x.dtype)


@deuteron.kernel(autotune_effort="none")
def chunked_state(k: torch.Tensor, v: torch.Tensor, decay: torch.Tensor, chunk: int) -> torch.Tensor:
    """A decaying state carried over chunks of the sequence: state = state * decay[c] + k_c^T v_c,
    stored before each chunk.  k: [b, s, d], v: [b, s, e], decay: [b, s // chunk]."""
    batch, seqlen, dk = k.shape
    dk = hl.specialize(dk)
    chunk = hl.specialize(chunk)
    dv = v.size(2)
    nchunks = seqlen // chunk
    states = torch.empty([batch, nchunks, dk, dv], dtype=k.dtype, device=k.device)
    block_v = hl.register_block_size(dv)
    for tile_b, tile_v in hl.tile([batch, dv], block_size=[1, block_v]):
        state = hl.zeros([dk, tile_v], dtype=torch.float32)
        for t in hl.tile(seqlen, block_size=chunk):
            states[tile_b.id, t.id, :, tile_v] = state.to(k.dtype)
            kc = k[tile_b.id, t, :]
            vc = v[tile_b.id, t, tile_v].to(torch.float32)
            # What the state already predicts is taken out of v (a dot of a loaded
            # tile with the state, and an elementwise load beside it).
            vc = vc - hl.dot(kc, state.to(k.dtype), out_dtype=torch.float32)
            state = state * decay[tile_b.id, t.id].to(torch.float32)
            state = hl.dot(kc.T, vc.to(k.dtype), acc=state)
    return states


    batch, seqlen, dk = k.shape
    dv = v.size(2)
    nchunks = seqlen // chunk
    states = torch.empty([batch, nchunks, dk, dv], dtype=k.dtype, device=k.device)
    state = torch.zeros([batch, dk, dv], dtype=torch.float32, device=k.device)
    for c in range(nchunks):
        states[:, c] = state.to(k.dtype)
        kc = k[:, c * chunk:(c + 1) * chunk].float()
        vc = v[:, c * chunk:(c + 1) * chunk].float()
        vc = vc - kc.to(k.dtype).float() @ state.to(k.dtype).float()
        state = state * decay[:, c, None, None].float()
        state = state + kc.transpose(1, 2) @ vc.to(k.dtype).float()
    return states


@deuteron.kernel(static_shapes=True, autotune_effort="none")
def whole_row_projection(x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """relu(x @ a) with the whole row of x in one tile: the contraction is a whole dim."""
    m, n = x.size()
    r = a.size(1)
    h = torch.empty([m, r], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        for tile_r in hl.tile(r):
            h[tile_m, tile_r] = torch.relu(x[tile_m, :] @ a[:, tile_r])
    return h


    return torch.relu(x.float() @ a.float()).to(x.dtype)


@deuteron.kernel(static_shapes=True, autotune_effort="none")
def gated_columns(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """2 * x * sigmoid(x @ w) with w whole (Helion's se_block): w is 2 MB at any
    tile_m, so the default rolls the product's columns (reduction_loops) and
    reads x's whole row once per tile."""
    m, n = x.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        x_tile = x[tile_m, :]
        sig = torch.sigmoid(x_tile @ w[:, :])
        out[tile_m, :] = (2.0 * x_tile.to(torch.float32) * sig).to(x.dtype)
    return out
