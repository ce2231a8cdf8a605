"""A whole batch dim of batched matmuls becomes a grid dim of block 1 when every op
treats it lane by lane (tests/kernels_batch_grid.py), in both CPU modes against
PyTorch; the generated code has one batch index per program and 2-D dots."""

from __future__ import annotations

import pytest
import torch

from conftest import fresh

import kernels_batch_grid as K


@pytest.mark.parametrize("block", [8, 32])
def test_whole_batch_of_bmm_is_a_grid_dim(mode, block):
    torch.manual_seed(0)
    a, b = torch.randn(3, 40, 16), torch.randn(3, 16, 24)
    bound = fresh(K.batched_rows).bind((a, b))
    assert len(bound.config_spec["block_sizes"]) == 1  # no config key of its own
    got = bound.compile_config({"block_sizes": [block]})(a, b)
    torch.testing.assert_close(got, K.batched_rows_ref(a, b), rtol=1e-4, atol=1e-4)
    if mode == "triton":
        code = bound.to_triton_code({"block_sizes": [block]})
        # One batch index per program, its matmul 2-D.
        assert "tl.program_id(0)" in code and "num_blocks_b = 3" in code, code
        assert "tl.dot(" in code and "(1, _BLOCK_SIZE_0" not in code, code


def test_a_sum_over_the_batch_keeps_it_whole(mode):
    torch.manual_seed(1)
    a, b = torch.randn(3, 40, 16), torch.randn(3, 16, 24)
    bound = fresh(K.batched_rows_summed).bind((a, b))
    got = bound.compile_config({"block_sizes": [16]})(a, b)
    torch.testing.assert_close(got, K.batched_rows_summed_ref(a, b), rtol=1e-4, atol=1e-4)
    if mode == "triton":
        assert "num_blocks_b" not in bound.to_triton_code({"block_sizes": [16]})


@pytest.mark.parametrize("blocks", [[16, 16], [32, 16]])
def test_jagged_heads_attention(mode, blocks):
    torch.manual_seed(2)
    lengths = torch.tensor([20, 33, 7])
    offsets = torch.zeros(4, dtype=torch.int64)
    offsets[1:] = torch.cumsum(lengths, 0)
    q, k, v = (torch.randn(int(offsets[-1]), 4, 16) for _ in range(3))
    args = (0.25, q, k, v, offsets)
    got = fresh(K.jagged_heads_attention).bind(args).compile_config({"block_sizes": blocks})(*args)
    torch.testing.assert_close(got, K.jagged_heads_attention_ref(*args), rtol=1e-4, atol=1e-4)
