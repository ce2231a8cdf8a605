"""Which Triton code shape of flash attention is fastest on this GPU?

A hand-written flash-attention forward (the same online softmax that
examples/attention.py spells) in several code shapes, timed side by side with
SDPA and deuteron's generated kernel: loads through pointers, device-side
tensor descriptors over the collapsed [batch*heads*seq, head_dim] tensor or
over the 3-D view (reshaped after the load, as deuteron emits them),
host-side descriptors, warp specialization, and the program order.  It tells
code generation which shape to emit; it is a development probe, not a test.

    python benchmarks/attention_ceiling.py [--causal] [--quick] [--only TEXT] [--budget S]
        [--lazy] [--pipelined] [--small-blocks] [--check-ws]

--lazy adds the lazy-rescale variant of each shape, --pipelined a kernel that
issues the next block's scores before this block's softmax, --small-blocks
replaces the shapes with ones that fit two programs per SM, and --check-ws
only checks which warp-specialized shapes Triton computes right (results of
2026-12-03 in docs/autotuning.md).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time

import torch
import torch.nn.functional as F
import triton
import triton.language as tl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import bench_ms  # noqa: E402

# Globals read inside @triton.jit must be constexpr.
POINTER, DESC_2D, DESC_3D = tl.constexpr(0), tl.constexpr(1), tl.constexpr(2)


@triton.jit
def _probe_kernel(q, k, v, o, qk_scale, HEADS: tl.constexpr, SEQ: tl.constexpr, D: tl.constexpr,
                  BM: tl.constexpr, BN: tl.constexpr, LOAD: tl.constexpr, WS: tl.constexpr,
                  HEAD_MAJOR: tl.constexpr, CAUSAL: tl.constexpr, HEAVY_FIRST: tl.constexpr,
                  LAZY: tl.constexpr):
    if HEAD_MAJOR:  # consecutive programs: query blocks of one head (its K/V stay in L2)
        pid_m = tl.program_id(0)
        pid_h = tl.program_id(1)
    else:
        pid_h = tl.program_id(0)
        pid_m = tl.program_id(1)
    if CAUSAL and HEAVY_FIRST:  # heavy query blocks first
        pid_m = SEQ // BM - 1 - pid_m
    rows = pid_m * BM + tl.arange(0, BM)
    dcol = tl.arange(0, D)
    base = pid_h * SEQ * D
    if LOAD == DESC_2D:
        qd = tl.make_tensor_descriptor(q, [HEADS * SEQ, D], [D, 1], [BM, D])
        kd = tl.make_tensor_descriptor(k, [HEADS * SEQ, D], [D, 1], [BN, D])
        vd = tl.make_tensor_descriptor(v, [HEADS * SEQ, D], [D, 1], [BN, D])
        od = tl.make_tensor_descriptor(o, [HEADS * SEQ, D], [D, 1], [BM, D])
        qt = qd.load([pid_h * SEQ + pid_m * BM, 0])
    elif LOAD == DESC_3D:
        qd = tl.make_tensor_descriptor(q, [HEADS, SEQ, D], [SEQ * D, D, 1], [1, BM, D])
        kd = tl.make_tensor_descriptor(k, [HEADS, SEQ, D], [SEQ * D, D, 1], [1, BN, D])
        vd = tl.make_tensor_descriptor(v, [HEADS, SEQ, D], [SEQ * D, D, 1], [1, BN, D])
        od = tl.make_tensor_descriptor(o, [HEADS, SEQ, D], [SEQ * D, D, 1], [1, BM, D])
        qt = tl.reshape(qd.load([pid_h, pid_m * BM, 0]), (BM, D))
    else:
        qt = tl.load(q + base + rows[:, None] * D + dcol[None, :])
    m_i = tl.full((BM,), float("-inf"), tl.float32)
    l_i = tl.full((BM,), 1.0, tl.float32)
    acc = tl.zeros((BM, D), tl.float32)
    hi = (pid_m + 1) * BM if CAUSAL else SEQ
    for start in tl.range(0, hi, BN, warp_specialize=WS):
        cols = start + tl.arange(0, BN)
        if LOAD == DESC_2D:
            kt = kd.load([pid_h * SEQ + start, 0]).T
            vt = vd.load([pid_h * SEQ + start, 0])
        elif LOAD == DESC_3D:
            kt = tl.permute(tl.reshape(kd.load([pid_h, start, 0]), (BN, D)), [1, 0])
            vt = tl.reshape(vd.load([pid_h, start, 0]), (BN, D))
        else:
            kt = tl.load(k + base + dcol[:, None] + cols[None, :] * D)
            vt = tl.load(v + base + cols[:, None] * D + dcol[None, :])
        qk = tl.dot(qt, kt)
        if CAUSAL:
            qk = tl.where(rows[:, None] >= cols[None, :], qk * qk_scale, float("-inf"))
            m_ij = tl.maximum(m_i, tl.max(qk, 1))
        else:
            m_ij = tl.maximum(m_i, tl.max(qk, 1) * qk_scale)
        if LAZY:
            # Rescale only when some row's maximum grew by more than 2^8: the
            # stale maximum keeps p <= 256, exact in float32 and bfloat16.
            if tl.max(m_ij - m_i, 0) > 8.0:
                alpha = tl.exp2(m_i - m_ij)
                acc = acc * alpha[:, None]
                l_i = l_i * alpha
                m_i = m_ij
            if CAUSAL:
                p = tl.exp2(qk - m_i[:, None])
            else:
                p = tl.exp2(qk * qk_scale - m_i[:, None])
            l_i = l_i + tl.sum(p, 1)
            acc = tl.dot(p.to(vt.dtype), vt, acc)
        else:
            if CAUSAL:
                p = tl.exp2(qk - m_ij[:, None])
            else:
                p = tl.exp2(qk * qk_scale - m_ij[:, None])
            alpha = tl.exp2(m_i - m_ij)
            l_i = l_i * alpha + tl.sum(p, 1)
            acc = tl.dot(p.to(vt.dtype), vt, acc * alpha[:, None])
            m_i = m_ij
    out = (acc / l_i[:, None]).to(o.dtype.element_ty)
    if LOAD == DESC_2D:
        od.store([pid_h * SEQ + pid_m * BM, 0], out)
    elif LOAD == DESC_3D:
        od.store([pid_h, pid_m * BM, 0], tl.reshape(out, (1, BM, D)))
    else:
        tl.store(o + base + rows[:, None] * D + dcol[None, :], out)


@triton.jit
def _pipelined_kernel(q, k, v, o, qk_scale, HEADS: tl.constexpr, SEQ: tl.constexpr, D: tl.constexpr,
                      BM: tl.constexpr, BN: tl.constexpr):
    """Non-causal, 2-D descriptors, the scores of key block j+1 issued before the
    softmax of block j (FA3's intra-warpgroup overlap, spelled in the source)."""
    pid_m = tl.program_id(0)
    pid_h = tl.program_id(1)
    qd = tl.make_tensor_descriptor(q, [HEADS * SEQ, D], [D, 1], [BM, D])
    kd = tl.make_tensor_descriptor(k, [HEADS * SEQ, D], [D, 1], [BN, D])
    vd = tl.make_tensor_descriptor(v, [HEADS * SEQ, D], [D, 1], [BN, D])
    od = tl.make_tensor_descriptor(o, [HEADS * SEQ, D], [D, 1], [BM, D])
    row0 = pid_h * SEQ
    qt = qd.load([row0 + pid_m * BM, 0])
    m_i = tl.full((BM,), float("-inf"), tl.float32)
    l_i = tl.full((BM,), 1.0, tl.float32)
    acc = tl.zeros((BM, D), tl.float32)
    qk = tl.dot(qt, kd.load([row0, 0]).T)
    for start in tl.range(BN, SEQ, BN):
        qk_next = tl.dot(qt, kd.load([row0 + start, 0]).T)
        m_ij = tl.maximum(m_i, tl.max(qk, 1) * qk_scale)
        p = tl.exp2(qk * qk_scale - m_ij[:, None])
        alpha = tl.exp2(m_i - m_ij)
        l_i = l_i * alpha + tl.sum(p, 1)
        vt = vd.load([row0 + start - BN, 0])
        acc = tl.dot(p.to(vt.dtype), vt, acc * alpha[:, None])
        m_i = m_ij
        qk = qk_next
    m_ij = tl.maximum(m_i, tl.max(qk, 1) * qk_scale)
    p = tl.exp2(qk * qk_scale - m_ij[:, None])
    alpha = tl.exp2(m_i - m_ij)
    l_i = l_i * alpha + tl.sum(p, 1)
    vt = vd.load([row0 + SEQ - BN, 0])
    acc = tl.dot(p.to(vt.dtype), vt, acc * alpha[:, None])
    od.store([row0 + pid_m * BM, 0], (acc / l_i[:, None]).to(o.dtype.element_ty))


def pipelined(q, k, v, *, bm, bn, warps, stages):
    b, h, s, d = q.shape
    o = torch.empty_like(q)
    scale = d ** -0.5 * 1.44269504

    def fn():
        _pipelined_kernel[(s // bm, b * h)](q, k, v, o, scale, b * h, s, d, bm, bn, num_warps=warps, num_stages=stages)
        return o
    return fn


@triton.jit
def _softmax_step(qk, qk_scale, m_i, l_i, acc, vt):
    m_ij = tl.maximum(m_i, tl.max(qk, 1) * qk_scale)
    p = tl.exp2(qk * qk_scale - m_ij[:, None])
    alpha = tl.exp2(m_i - m_ij)
    l_i = l_i * alpha + tl.sum(p, 1)
    acc = tl.dot(p.to(vt.dtype), vt, acc * alpha[:, None])
    return m_ij, l_i, acc


@triton.jit
def _subtiled_kernel(q, k, v, o, qk_scale, HEADS: tl.constexpr, SEQ: tl.constexpr, D: tl.constexpr,
                     HALF: tl.constexpr, BN: tl.constexpr, WS: tl.constexpr):
    """Non-causal, 2-D descriptors, two query sub-tiles of HALF rows per program
    sharing each key/value block: the second half's scores can run on the
    tensor cores while the first half's softmax runs (the subtiling of the
    Blackwell tutorial kernels, tried here on Hopper)."""
    pid_m = tl.program_id(0)
    pid_h = tl.program_id(1)
    qd = tl.make_tensor_descriptor(q, [HEADS * SEQ, D], [D, 1], [HALF, D])
    kd = tl.make_tensor_descriptor(k, [HEADS * SEQ, D], [D, 1], [BN, D])
    vd = tl.make_tensor_descriptor(v, [HEADS * SEQ, D], [D, 1], [BN, D])
    od = tl.make_tensor_descriptor(o, [HEADS * SEQ, D], [D, 1], [HALF, D])
    row0 = pid_h * SEQ
    r = row0 + pid_m * 2 * HALF
    q0 = qd.load([r, 0])
    q1 = qd.load([r + HALF, 0])
    m0 = tl.full((HALF,), float("-inf"), tl.float32)
    m1 = tl.full((HALF,), float("-inf"), tl.float32)
    l0 = tl.full((HALF,), 1.0, tl.float32)
    l1 = tl.full((HALF,), 1.0, tl.float32)
    a0 = tl.zeros((HALF, D), tl.float32)
    a1 = tl.zeros((HALF, D), tl.float32)
    for start in tl.range(0, SEQ, BN, warp_specialize=WS):
        kt = kd.load([row0 + start, 0]).T
        vt = vd.load([row0 + start, 0])
        qk0 = tl.dot(q0, kt)
        qk1 = tl.dot(q1, kt)
        m0, l0, a0 = _softmax_step(qk0, qk_scale, m0, l0, a0, vt)
        m1, l1, a1 = _softmax_step(qk1, qk_scale, m1, l1, a1, vt)
    od.store([r, 0], (a0 / l0[:, None]).to(o.dtype.element_ty))
    od.store([r + HALF, 0], (a1 / l1[:, None]).to(o.dtype.element_ty))


def subtiled(q, k, v, *, half, bn, warps, stages, ws):
    b, h, s, d = q.shape
    o = torch.empty_like(q)
    scale = d ** -0.5 * 1.44269504

    def fn():
        _subtiled_kernel[(s // (2 * half), b * h)](q, k, v, o, scale, b * h, s, d, half, bn, ws, num_warps=warps,
                                                   num_stages=stages)
        return o
    return fn


def probe(q, k, v, *, bm, bn, warps, stages, load, ws, head_major, causal, heavy_first=True, lazy=False):
    b, h, s, d = q.shape
    o = torch.empty_like(q)
    grid = (s // bm, b * h) if head_major else (b * h, s // bm)
    scale = d ** -0.5 * 1.44269504

    def fn():
        _probe_kernel[grid](q, k, v, o, scale, b * h, s, d, bm, bn, load, ws, head_major, causal, heavy_first, lazy,
                            num_warps=warps, num_stages=stages)
        return o
    return fn


def _why_failed(e: Exception) -> str:
    """The last line of a compile error (Triton's are long), or the exception's repr."""
    return str(e).strip().splitlines()[-1][:200] if str(e).strip() else repr(e)


def _check(fn, ref) -> str:
    """"ok", or why fn's output is not SDPA's."""
    err = (fn().float() - ref.float()).abs().max().item()
    return "ok" if err < 2e-2 else f"WRONG {err:.3g}"


def _measure(name, make_fn, ref, sdpa, tf, rows) -> None:
    """Checks one variant against SDPA, then times it; a variant that does not
    compile or is wrong is reported, not fatal."""
    try:
        fn = make_fn()
        verdict = _check(fn, ref)
        if verdict != "ok":
            print(f"{name}: {verdict}", flush=True)
            return
        r = tf(bench_ms(fn, warmup_ms=10, rep_ms=100))
        rows.append((r, name))
        print(f"{name}: {r:.0f} TFLOP/s ({r / sdpa:.2f}x SDPA)", flush=True)
    except Exception as e:  # noqa: BLE001
        print(f"{name}: FAILED {_why_failed(e)}", flush=True)


def check_warp_specialized() -> None:
    """Correctness only: which warp-specialized shapes does Triton compile right?"""
    torch.manual_seed(0)
    bad = []
    for d, causal, bm, bn, w, st in itertools.product((128, 64), (False, True), (64, 128), (32, 64, 128), (4, 8),
                                                      (1, 2, 3, 4)):
        q, k, v = (torch.randn(1, 2, 2048, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        ref = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        name = f"d{d} causal={int(causal)} bm{bm} bn{bn} w{w} s{st} desc2d ws=1"
        try:
            verdict = _check(probe(q, k, v, bm=bm, bn=bn, warps=w, stages=st, load=1, ws=True, head_major=True,
                                   causal=causal), ref)
        except Exception as e:  # noqa: BLE001
            verdict = f"FAILED {_why_failed(e)}"
        if verdict != "ok":
            bad.append(name)
        print(f"{name}: {verdict}", flush=True)
    print("wrong or failed:", *bad, sep="\n  ")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--causal", action="store_true")
    ap.add_argument("--quick", action="store_true", help="fewer variants")
    ap.add_argument("--only", default="", help="run the variants whose name contains this")
    ap.add_argument("--lazy", action="store_true", help="also the lazy-rescale variant of each shape")
    ap.add_argument("--pipelined", action="store_true", help="also the scores-one-block-ahead kernel")
    ap.add_argument("--subtiled", action="store_true", help="also two query sub-tiles per program")
    ap.add_argument("--small-blocks", action="store_true", help="the shapes that fit two programs per SM")
    ap.add_argument("--check-ws", action="store_true", help="only check which warp-specialized shapes are right")
    ap.add_argument("--budget", type=float, default=1e9, help="stop trying variants after this many seconds")
    a = ap.parse_args()
    triton.set_allocator(lambda size, align, stream: torch.empty(size, dtype=torch.int8, device="cuda"))
    if a.check_ws:
        check_warp_specialized()
        return
    torch.manual_seed(0)
    b, h, s, d = 4, 16, 4096, 128
    q, k, v = (torch.randn(b, h, s, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    flops = 4.0 * b * h * s * s * d / (2 if a.causal else 1)
    tf = lambda ms: flops / (ms * 1e-3) / 1e12
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=a.causal)
    sdpa = tf(bench_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=a.causal)))
    print(f"SDPA {sdpa:.0f} TFLOP/s", flush=True)
    shapes = [(128, 128, 8, 3), (128, 64, 8, 3), (256, 64, 8, 3), (128, 128, 8, 2), (128, 64, 4, 3), (128, 128, 4, 2)]
    if a.small_blocks:  # shapes whose shared memory and registers let two programs share an SM
        shapes = [(64, 64, 4, 2), (64, 64, 4, 3), (64, 128, 4, 2), (128, 64, 4, 2), (64, 64, 4, 4),
                  (128, 32, 4, 3), (64, 128, 4, 1), (128, 64, 8, 2)]
    loads = [0, 1, 2]
    rows = []
    t0 = time.perf_counter()
    for (bm, bn, w, st), load, ws, hm, hf, lazy in itertools.product(
            shapes, loads, (False, True), (True, False), (True, False) if a.causal else (True,),
            (False, True) if a.lazy else (False,)):
        if a.quick and (hm is False or load == 2):
            continue
        if time.perf_counter() - t0 > a.budget:
            print("budget spent, stopping", flush=True)
            break
        name = f"bm{bm} bn{bn} w{w} s{st} {['ptr', 'desc2d', 'desc3d'][load]} ws={int(ws)} head_major={int(hm)}"
        if a.causal:
            name += f" heavy_first={int(hf)}"
        if lazy:
            name += " lazy"
        if a.only and a.only not in name:
            continue
        _measure(name, lambda: probe(q, k, v, bm=bm, bn=bn, warps=w, stages=st, load=load, ws=ws, head_major=hm,
                                     causal=a.causal, heavy_first=hf, lazy=lazy), ref, sdpa, tf, rows)
    if a.pipelined and not a.causal:
        for bm, bn, w, st in [(128, 128, 8, 2), (128, 128, 8, 3), (128, 64, 8, 3), (128, 64, 4, 3), (256, 64, 8, 2),
                              (128, 128, 4, 2)]:
            _measure(f"pipelined bm{bm} bn{bn} w{w} s{st}",
                     lambda: pipelined(q, k, v, bm=bm, bn=bn, warps=w, stages=st), ref, sdpa, tf, rows)
    if a.subtiled and not a.causal:
        for (half, bn, w, st), ws in itertools.product(
                [(64, 128, 4, 2), (64, 64, 4, 2), (64, 64, 4, 3), (64, 128, 8, 2), (128, 64, 8, 2), (128, 128, 8, 2),
                 (64, 64, 8, 3), (128, 64, 8, 3)], (False, True)):
            _measure(f"subtiled 2x{half} bn{bn} w{w} s{st} ws={int(ws)}",
                     lambda: subtiled(q, k, v, half=half, bn=bn, warps=w, stages=st, ws=ws), ref, sdpa, tf, rows)
    rows.sort(reverse=True)
    print("best:")
    for r, name in rows[:8]:
        print(f"  {r:.0f} TFLOP/s ({r / sdpa:.2f}x SDPA)  {name}")


if __name__ == "__main__":
    main()
