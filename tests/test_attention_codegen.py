"""Flash attention's code shape on Hopper: batch dims folded into 2-D tensor
descriptors, loops with device-computed bounds proven mask-free, and warp
specialization emitted only where Triton 3.6 can compile it.  Each code check
runs the kernel too (in the current CPU mode) against PyTorch."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F

import deuteron
from conftest import fresh

C = deuteron.Config
TMA = dict(indexing="tensor_descriptor")


def _qkv(s, d=32, b=1, h=2, dtype=torch.float32):
    torch.manual_seed(0)
    return tuple(torch.randn(b, h, s, d, dtype=dtype) for _ in range(3))


def _run(mode, kernel, cfg, qkv, causal):
    bound = fresh(kernel).bind(qkv)
    code = bound.to_triton_code(cfg)
    out = bound.compile_config(cfg)(*qkv)
    ref = F.scaled_dot_product_attention(*qkv, is_causal=causal)
    torch.testing.assert_close(out, ref, atol=1e-4, rtol=1e-4)
    return code


def _descriptors(code):
    return re.findall(r"tl\.make_tensor_descriptor\((\w+), (\[[^\]]*\])", code)


def test_whole_blocks_fold_the_batch_dim_into_rows(mode):
    import attention

    code = _run(mode, attention.attention, C(block_sizes=[1, 32, 32], **TMA), _qkv(64), False)
    descs = _descriptors(code)
    # q, k and out (2 heads * 64 rows); v, loaded after the loop's first dot
    # with q's descriptor before the loop, goes through pointers (Triton 3.6
    # computes wrong values on Hopper otherwise), and the header says why.
    assert [t for t, _ in descs] == ["q_view", "k_view", "out"], descs
    assert all(shape == "[128, 32]" for _, shape in descs), descs
    assert "indexing[2]: tensor_descriptor -> pointer (a descriptor load after a dot in a loop" in code
    assert "offset_0 * 64 + " in code
    assert "tl.reshape(" not in code


def test_without_a_descriptor_before_the_loop_every_loop_load_keeps_its_descriptor(mode):
    import attention

    cfg = C(block_sizes=[1, 32, 32], indexing=["pointer", "tensor_descriptor", "tensor_descriptor",
                                               "tensor_descriptor"])
    code = _run(mode, attention.attention, cfg, _qkv(64), False)
    assert [t for t, _ in _descriptors(code)] == ["k_view", "v_view", "out"], code
    assert "a descriptor load after a dot" not in code


def test_partial_blocks_keep_the_batch_dim(mode):
    import attention

    # 48 rows in blocks of 32: a folded block would run into the next head's rows.
    code = _run(mode, attention.attention, C(block_sizes=[1, 32, 32], **TMA), _qkv(48), False)
    assert all(shape == "[2, 48, 32]" for _, shape in _descriptors(code)), code
    assert "leading dims folded" not in code


def test_causal_loop_to_the_diagonal_needs_no_mask_when_blocks_divide(mode):
    import attention

    code = _run(mode, attention.causal_attention, C(block_sizes=[1, 32, 16], **TMA), _qkv(64), True)
    assert "mask_" not in code, "0..tile_m.end in blocks of 16 that divide 32 has no partial block"
    assert all(shape == "[128, 32]" for _, shape in _descriptors(code))


def test_causal_loop_with_key_blocks_wider_than_query_blocks_is_masked(mode):
    import attention

    # tile_m.end is a multiple of 16, not of 32: the last key block may be partial.
    # q through pointers: k and v keep their descriptors (descriptor_guard.cc)
    cfg = C(block_sizes=[1, 16, 32], indexing=["pointer", "tensor_descriptor", "tensor_descriptor",
                                               "tensor_descriptor"])
    code = _run(mode, attention.causal_attention, cfg, _qkv(64), True)
    assert re.search(r"mask_\d+ = indices_\d+ < ", code)
    # k and v stay 3-D (a partial block must not read the next head), and
    # p @ v zeroes the lanes past the loop's bound of the loaded v as well.
    assert any(shape == "[2, 64, 32]" for _, shape in _descriptors(code))
    dot = [line for line in code.splitlines() if "acc=" in line and "tl.dot(" in line][0]
    assert dot.count("tl.where(") == 2, dot


def test_two_loop_causal_attention_stays_right_with_descriptors(mode):
    import attention

    _run(mode, attention.causal_attention_two_loops, C(block_sizes=[1, 32, 16, 16], **TMA), _qkv(64), True)


# The tl.range knobs' entries: [the grid loop (a persistent pid_type's loop over tiles), the key loop].
@pytest.mark.parametrize("cfg, reason", [
    # Whether every load is a 2-D descriptor only the lowered IR shows: the plan leaves it out.
    (C(block_sizes=[1, 32, 32], range_warp_specializes=[None, True]), "2-D tensor descriptors"),
    (C(block_sizes=[1, 32, 32], range_warp_specializes=[None, True], **TMA), None),
    # Triton 3.6 on the H200 returns NaNs for these: normalization makes the request None.
    (C(block_sizes=[1, 32, 32], num_warps=4, num_stages=3, range_warp_specializes=[None, True], **TMA),
     "normalized"),
    (C(block_sizes=[1, 32, 32], num_warps=4, num_stages=2, range_num_stages=[0, 4],
       range_warp_specializes=[None, True],
       **TMA), "normalized"),
    (C(block_sizes=[1, 32, 32], num_warps=8, num_stages=3, range_warp_specializes=[None, True], **TMA), None),
])
def test_warp_specialize_is_emitted_only_where_hopper_compiles_it(mode, cfg, reason):
    import attention

    code = _run(mode, attention.attention, cfg, _qkv(64), False)
    normalized = dict(fresh(attention.attention).bind(_qkv(64)).normalize_config(cfg))
    if reason is None:
        assert "warp_specialize=True" in code
        assert normalized["range_warp_specializes"] == [None, True]
    elif reason == "normalized":
        assert normalized["range_warp_specializes"] == [None, None]
        assert "warp_specialize=True" not in code
    else:
        assert normalized["range_warp_specializes"] == [None, True]
        assert "warp_specialize=True)" not in code
        assert "# warp_specialize=True left out:" in code and reason in code


def test_warp_specialize_is_left_out_of_kernels_with_two_loops(mode):
    import attention

    cfg = C(block_sizes=[1, 32, 32, 32], range_warp_specializes=[None, True, True], **TMA)
    code = _run(mode, attention.causal_attention_two_loops, cfg, _qkv(64), True)
    assert "warp_specialize=True" not in code
    # Hopper's pass compiles kernels of one loop only: the normalized config says None.
    normalized = dict(fresh(attention.causal_attention_two_loops).bind(_qkv(64)).normalize_config(cfg))
    assert normalized["range_warp_specializes"] == [None, None, None]


def test_hopper_default_for_16_bit_attention(mode):
    import attention

    q = _qkv(256, d=64, dtype=torch.float16)
    bound = fresh(attention.attention).bind(q)
    d = dict(bound.default_config())
    assert d["block_sizes"] == [1, 128, 128] and d["num_warps"] == 4 and d["num_stages"] == 2
    assert d["range_warp_specializes"] == [None, True] and d["loop_orders"] == [[1, 0]]
    assert set(d["indexing"]) == {"tensor_descriptor"}
    assert "warp_specialize=True" in bound.to_triton_code(bound.default_config())
    # fp32 inputs would not fit two 128x128 stages in shared memory: the general default.
    d32 = dict(fresh(attention.attention).bind(_qkv(256, d=64)).default_config())
    assert d32["range_warp_specializes"] == [None, None] and d32["num_warps"] == 8
