"""Batched matmuls over a whole batch dim (`a[:, tile_m, :]`, `q[tile_q, :, :].transpose(0, 1)`):
the batch becomes a grid dim of block 1 when every op treats it lane by lane
(sema/batch_dims_to_grid.cc), and stays whole when something works across it."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import deuteron
import deuteron.language as hl


@deuteron.kernel(static_shapes=True)
def batched_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # a: [B, M, K], b: [B, K, N]: every batch's rows tile_m times its whole b
    bsz, m, _ = a.shape
    out = torch.empty([bsz, m, b.size(2)], dtype=a.dtype, device=a.device)
    for tile_m in hl.tile(m):
        out[:, tile_m, :] = torch.relu(torch.bmm(a[:, tile_m, :], b[:, :, :])).to(out.dtype)
    return out


def batched_rows_ref(a, b):
    return torch.relu(torch.bmm(a.float(), b.float())).to(a.dtype)


@deuteron.kernel(static_shapes=True)
def batched_rows_summed(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # the sum over the batch works across it: the batch stays whole
    bsz, m, _ = a.shape
    out = torch.empty([m, b.size(2)], dtype=torch.float32, device=a.device)
    for tile_m in hl.tile(m):
        out[tile_m, :] = torch.bmm(a[:, tile_m, :], b[:, :, :]).sum(0)
    return out


def batched_rows_summed_ref(a, b):
    return torch.bmm(a.float(), b.float()).sum(0)


@deuteron.kernel(static_shapes=True)
def jagged_heads_attention(alpha: float, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                           offsets: torch.Tensor) -> torch.Tensor:
    # Helion's jagged_hstu_attn_2 form: all heads of a sequence's query tile in one
    # [H, tile_q, D] block, causal SiLU attention per sequence
    heads = hl.specialize(q.size(1))
    dim = hl.specialize(q.size(2))
    out = torch.empty_like(v)
    for seq in hl.grid(offsets.size(0) - 1):
        start = offsets[seq]
        end = offsets[seq + 1]
        for tile_q in hl.tile(start, end):
            q_blk = q[tile_q, :, :].transpose(0, 1)
            acc = hl.zeros([heads, tile_q, dim], dtype=torch.float32)
            for tile_kv in hl.tile(start, end):
                k_blk = k[tile_kv, :, :].transpose(0, 1)
                v_blk = v[tile_kv, :, :].transpose(0, 1)
                scores = F.silu(torch.bmm(q_blk, k_blk.transpose(-2, -1)) * alpha)
                causal = tile_q.index.unsqueeze(1) >= tile_kv.index.unsqueeze(0)
                scores = torch.where(causal[None, :, :], scores, 0.0)
                acc = acc + torch.bmm(scores.to(v.dtype), v_blk)
            out[tile_q, :, :] = acc.transpose(0, 1).to(out.dtype)
    return out


def jagged_heads_attention_ref(alpha, q, k, v, offsets):
    out = torch.empty_like(v)
    for i in range(offsets.numel() - 1):
        s, e = int(offsets[i]), int(offsets[i + 1])
        qq, kk, vv = (t[s:e].float().transpose(0, 1) for t in (q, k, v))
        scores = F.silu(qq @ kk.transpose(-2, -1) * alpha)
        causal = torch.arange(e - s)[:, None] >= torch.arange(e - s)[None, :]
        scores = torch.where(causal[None], scores, 0.0)
        out[s:e] = (scores.to(v.dtype).float() @ vv).transpose(0, 1).to(v.dtype)
    return out
