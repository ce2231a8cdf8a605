"""The `subtiles` key: each program computes its block of the grid tile that
feeds a dot's rows as sub-tiles sharing the other operand's loads (flash
attention's two 128-row halves per 256-row block).  Results stay PyTorch's
for every attention form, with partial blocks and descriptors; configs that
cannot be split are refused with the key named."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F

import deuteron
from conftest import fresh

C = deuteron.Config


def _qkv(s=80, d=32, b=2, h=2):
    torch.manual_seed(0)
    return tuple(torch.randn(b, h, s, d) for _ in range(3))


def _kernels():
    import attention

    return {
        "attention": (attention.attention, 3, False),
        "attention_bmm": (attention.attention_bmm, 3, False),
        "causal_attention": (attention.causal_attention, 3, True),
        "causal_attention_two_loops": (attention.causal_attention_two_loops, 4, True),
    }


@pytest.mark.parametrize("name", ["attention", "attention_bmm", "causal_attention", "causal_attention_two_loops"])
@pytest.mark.parametrize("indexing", ["pointer", "tensor_descriptor"])
def test_attention_split_in_two_row_subtiles_matches_sdpa(mode, name, indexing):
    kernel, nblocks, causal = _kernels()[name]
    qkv = _qkv()  # 80 rows in blocks of 64: the second block's halves are partly and wholly past the end
    cfg = C(block_sizes=[1, 64] + [16] * (nblocks - 2), subtiles=2, indexing=indexing)
    bound = fresh(kernel).bind(qkv)
    code = bound.to_triton_code(cfg)
    # Two sub-tiles of 32 rows at offsets 0 and 32 of tile_m's block, each with its own dot.
    assert re.search(r"offset_\d+ = offset_1 \+ 0\n", code) and re.search(r"offset_\d+ = offset_1 \+ 32\n", code)
    assert len(re.findall(r"tl\.dot\(", code)) == 2 * len(re.findall(r"tl\.dot\(", bound.to_triton_code(C(
        block_sizes=[1, 64] + [16] * (nblocks - 2), indexing=indexing))))
    out = bound.compile_config(cfg)(*qkv)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(*qkv, is_causal=causal), atol=1e-4, rtol=1e-4)


def test_key_and_value_loads_are_shared_by_the_subtiles(mode):
    import attention

    qkv = _qkv(s=64)
    code = fresh(attention.attention).bind(qkv).to_triton_code(C(block_sizes=[1, 64, 16], subtiles=2))
    loop = code[code.index("for offset_3"):]
    assert loop.count("tl.load(k_view") == 1 and loop.count("tl.load(v_view") == 1, loop
    assert code.count("tl.load(q_view") == 2


def test_four_subtiles_of_a_matmul_block(mode):
    import matmul

    x, y = torch.randn(128, 64), torch.randn(64, 48)
    bound = fresh(matmul.matmul).bind((x, y))
    cfg = C(block_sizes=[64, 16, 16], subtiles=4)
    assert bound.to_triton_code(cfg).count("tl.store(") == 4
    torch.testing.assert_close(bound.compile_config(cfg)(x, y), x @ y, atol=1e-4, rtol=1e-4)


def test_subtiles_are_refused_where_they_cannot_apply(mode):
    import matmul
    import softmax

    bound = fresh(matmul.matmul).bind((torch.randn(64, 64), torch.randn(64, 64)))
    with pytest.raises(deuteron.exc.ConfigError, match="subtiles.*under 16 rows.*at least 32"):
        bound.to_triton_code(C(block_sizes=[16, 16, 16], subtiles=2))
    # (deuteron.Config refuses it already, from the same table as the C++ normalizer.)
    with pytest.raises(deuteron.exc.ConfigError, match="subtiles.*got 3.*1, 2 or 4"):
        bound.to_triton_code(C(block_sizes=[64, 16, 16], subtiles=3))
    sm = fresh(softmax.softmax).bind((torch.randn(8, 64),))
    with pytest.raises(deuteron.exc.ConfigError, match="subtiles.*nothing to split"):
        sm.to_triton_code(C(block_sizes=[4], subtiles=2))


def test_config_spec_lists_the_subtiles_a_kernel_allows(mode):
    import attention
    import softmax

    assert fresh(attention.attention).bind(_qkv()).config_spec["subtiles"] == [1, 2, 4]
    assert fresh(softmax.softmax).bind((torch.randn(8, 64),)).config_spec["subtiles"] == [1]
