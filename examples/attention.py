"""Flash-attention forward (online softmax over key blocks), non-causal and causal.

`attention_bmm` is the kernel written with torch.bmm / torch.baddbmm (Helion's
example, unchanged): torch.bmm of bf16 tiles returns bf16, so the scores are
rounded to bf16 as in eager PyTorch.  `attention` and the causal kernels use
hl.dot, whose result stays float32 (the usual flash-attention numerics, and
faster: no round trip through bf16)."""

from __future__ import annotations

import math

import torch

import deuteron
import deuteron.language as hl

try:
    from ._common import check, device, mode
except ImportError:
    from _common import check, device, mode


@deuteron.kernel()
def attention_bmm(q_in: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    m_dim = q_in.size(-2)
    n_dim = k_in.size(-2)
    assert n_dim == v_in.size(-2)
    head_dim = hl.specialize(q_in.size(-1))
    assert head_dim == k_in.size(-1) == v_in.size(-1)
    q_view = q_in.reshape([-1, m_dim, head_dim])
    v_view = v_in.reshape([-1, n_dim, head_dim])
    k_view = k_in.reshape([-1, n_dim, head_dim]).transpose(1, 2)
    out = torch.empty_like(q_view)
    sm_scale = 1.0 / math.sqrt(head_dim)
    qk_scale = sm_scale * 1.44269504  # 1/log(2)
    for tile_b, tile_m in hl.tile([q_view.size(0), m_dim]):
        m_i = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
        l_i = torch.full_like(m_i, 1.0)
        acc = hl.zeros([tile_b, tile_m, head_dim], dtype=torch.float32)
        q = q_view[tile_b, tile_m, :]
        for tile_n in hl.tile(v_view.size(1)):
            k = k_view[tile_b, :, tile_n]
            qk = torch.bmm(q, k)
            m_ij = torch.maximum(m_i, torch.amax(qk, -1) * qk_scale)
            qk = qk * qk_scale - m_ij[:, :, None]
            p = torch.exp2(qk)
            l_ij = torch.sum(p, -1)
            alpha = torch.exp2(m_i - m_ij)
            l_i = l_i * alpha + l_ij
            acc = acc * alpha[:, :, None]
            v = v_view[tile_b, tile_n, :]
            p = p.to(v.dtype)
            acc = torch.baddbmm(acc, p, v)
            m_i = m_ij
        m_i += torch.log2(l_i)
        acc = acc / l_i[:, :, None]
        out[tile_b, tile_m, :] = acc.to(out.dtype)
    return out.view(q_in.size())


@deuteron.kernel()
def attention(q_in: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    m_dim = q_in.size(-2)
    n_dim = k_in.size(-2)
    head_dim = hl.specialize(q_in.size(-1))
    q_view = q_in.reshape([-1, m_dim, head_dim])
    v_view = v_in.reshape([-1, n_dim, head_dim])
    k_view = k_in.reshape([-1, n_dim, head_dim]).transpose(1, 2)
    out = torch.empty_like(q_view)
    qk_scale = 1.0 / math.sqrt(head_dim) * 1.44269504  # softmax in base 2
    for tile_b, tile_m in hl.tile([q_view.size(0), m_dim]):
        m_i = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
        l_i = hl.full([tile_b, tile_m], 1.0, dtype=torch.float32)
        acc = hl.zeros([tile_b, tile_m, head_dim], dtype=torch.float32)
        q = q_view[tile_b, tile_m, :]
        for tile_n in hl.tile(n_dim):
            qk = hl.dot(q, k_view[tile_b, :, tile_n])
            m_ij = torch.maximum(m_i, torch.amax(qk, -1) * qk_scale)
            p = torch.exp2(qk * qk_scale - m_ij[:, :, None])
            alpha = torch.exp2(m_i - m_ij)
            l_i = l_i * alpha + torch.sum(p, -1)
            v = v_view[tile_b, tile_n, :]
            acc = hl.dot(p.to(v.dtype), v, acc=acc * alpha[:, :, None])
            m_i = m_ij
        out[tile_b, tile_m, :] = (acc / l_i[:, :, None]).to(out.dtype)
    return out.view(q_in.size())


def _online_softmax_step(qk, v, m_i, l_i, acc):
    """One key block of flash attention: scores `qk` (already scaled, base 2)."""
    m_ij = torch.maximum(m_i, torch.amax(qk, -1))
    p = torch.exp2(qk - m_ij[:, :, None])
    alpha = torch.exp2(m_i - m_ij)
    l_i = l_i * alpha + torch.sum(p, -1)
    acc = hl.dot(p.to(v.dtype), v, acc=acc * alpha[:, :, None])
    return m_ij, l_i, acc


@deuteron.kernel()
def causal_attention(q_in: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    m_dim = q_in.size(-2)
    n_dim = k_in.size(-2)
    head_dim = hl.specialize(q_in.size(-1))
    q_view = q_in.reshape([-1, m_dim, head_dim])
    v_view = v_in.reshape([-1, n_dim, head_dim])
    k_view = k_in.reshape([-1, n_dim, head_dim]).transpose(1, 2)
    out = torch.empty_like(q_view)
    qk_scale = 1.0 / math.sqrt(head_dim) * 1.44269504
    for tile_b, tile_m in hl.tile([q_view.size(0), m_dim]):
        m_i = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
        l_i = torch.full_like(m_i, 1.0)
        acc = hl.zeros([tile_b, tile_m, head_dim], dtype=torch.float32)
        q = q_view[tile_b, tile_m, :]
        # Every key up to the end of the query block, masked per query.  One
        # loop (not one before the diagonal and one on it, as in
        # causal_attention_two_loops) because Triton 3.6 warp-specializes
        # only kernels with a single loop on Hopper.
        for tile_n in hl.tile(0, tile_m.end):
            qk = hl.dot(q, k_view[tile_b, :, tile_n])
            causal = tile_m.index[:, None] >= tile_n.index[None, :]
            qk = torch.where(causal[None, :, :], qk * qk_scale, float("-inf"))
            m_i, l_i, acc = _online_softmax_step(qk, v_view[tile_b, tile_n, :], m_i, l_i, acc)
        acc = acc / l_i[:, :, None]
        out[tile_b, tile_m, :] = acc.to(out.dtype)
    return out.view(q_in.size())


@deuteron.kernel()
def causal_attention_two_loops(q_in: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    m_dim = q_in.size(-2)
    n_dim = k_in.size(-2)
    head_dim = hl.specialize(q_in.size(-1))
    q_view = q_in.reshape([-1, m_dim, head_dim])
    v_view = v_in.reshape([-1, n_dim, head_dim])
    k_view = k_in.reshape([-1, n_dim, head_dim]).transpose(1, 2)
    out = torch.empty_like(q_view)
    qk_scale = 1.0 / math.sqrt(head_dim) * 1.44269504
    for tile_b, tile_m in hl.tile([q_view.size(0), m_dim]):
        m_i = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
        l_i = torch.full_like(m_i, 1.0)
        acc = hl.zeros([tile_b, tile_m, head_dim], dtype=torch.float32)
        q = q_view[tile_b, tile_m, :]
        # Two loops: no mask work off the diagonal, but two loops in one kernel
        # cannot be warp-specialized by Triton 3.6 on Hopper.
        # Keys before the query block: every score is visible, no mask.
        for tile_n in hl.tile(0, tile_m.begin):
            qk = hl.dot(q, k_view[tile_b, :, tile_n]) * qk_scale
            m_i, l_i, acc = _online_softmax_step(qk, v_view[tile_b, tile_n, :], m_i, l_i, acc)
        # Keys of the query block itself: the causal mask.
        for tile_n in hl.tile(tile_m.begin, tile_m.end):
            qk = hl.dot(q, k_view[tile_b, :, tile_n])
            causal = tile_m.index[:, None] >= tile_n.index[None, :]
            qk = torch.where(causal[None, :, :], qk * qk_scale, float("-inf"))
            m_i, l_i, acc = _online_softmax_step(qk, v_view[tile_b, tile_n, :], m_i, l_i, acc)
        acc = acc / l_i[:, :, None]
        out[tile_b, tile_m, :] = acc.to(out.dtype)
    return out.view(q_in.size())


def reference(q, k, v, causal=False):
    return torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=causal).to(q.dtype)


def main() -> None:
    dev = device()
    print("attention on", mode())
    for (b, h, s, d), dtype, tol in [((1, 2, 128, 64), torch.float32, 1e-4), ((2, 2, 96, 64), torch.float16, 1e-2)]:
        q, k, v = (torch.randn(b, h, s, d, device=dev, dtype=dtype) for _ in range(3))
        t = 2e-2 if dev == "cuda" and dtype == torch.float32 else tol
        check(f"attention {(b, h, s, d)} {dtype}", attention(q, k, v), reference(q, k, v), atol=t, rtol=t)
        check(f"attention_bmm {(b, h, s, d)} {dtype}", attention_bmm(q, k, v), reference(q, k, v), atol=t, rtol=t)
        for causal in (causal_attention, causal_attention_two_loops):
            check(f"{causal.__name__} {(b, h, s, d)} {dtype}", causal(q, k, v), reference(q, k, v, True),
                  atol=t, rtol=t)


if __name__ == "__main__":
    main()
