"""Tile block sizes computed on the host from tunables (Helion's split-K form):
`k_block = next_power_of_2(cdiv(k, split_k))` fixes a block per config."""

from __future__ import annotations

import pytest
import torch

import deuteron
import kernels_split_k as K
from conftest import fresh


@pytest.mark.parametrize("split_k", [1, 2, 4, 16, 256])
def test_matmul_split_k_each_config(mode, split_k):
    x = torch.randn(32, 200)
    y = torch.randn(200, 16)
    bound = fresh(K.matmul_split_k).bind((x, y))
    assert bound.config_spec["tunables"] == ["split_k"]
    # Two tunable block sizes (m, n); k's block comes from split_k.
    cfg = deuteron.Config(block_sizes=[16, 16, 32], split_k=split_k)
    out = bound.compile_config(cfg)(x, y)
    torch.testing.assert_close(out, x @ y, rtol=1e-4, atol=1e-4)


def test_matmul_split_k_default_config(mode):
    x = torch.randn(16, 96)
    y = torch.randn(96, 8)
    torch.testing.assert_close(fresh(K.matmul_split_k)(x, y), x @ y, rtol=1e-4, atol=1e-4)


def test_block_follows_the_tunable_in_codegen(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    x = torch.randn(32, 200)
    y = torch.randn(200, 16)
    bound = fresh(K.matmul_split_k).bind((x, y))
    codes = {s: bound.to_triton_code(deuteron.Config(block_sizes=[16, 16, 32], split_k=s)) for s in (1, 4, 64)}
    assert len(set(codes.values())) == 3  # 256, 64 and 4 are compiled in
    # k=200: split_k=1 -> 256, 4 -> cdiv 50 -> 64, 64 -> cdiv 4 -> 4, as constants in the kernel.
    assert "tl.arange(0, 256)" in codes[1] and "tl.arange(0, 64)" in codes[4] and "tl.arange(0, 4)" in codes[64]


@pytest.mark.parametrize("chunks", [1, 4, 64])
def test_block_size_from_tunable_in_tile_arithmetic(mode, chunks):
    x = torch.randn(100)
    bound = fresh(K.chunked_scale).bind((x,))
    out = bound.compile_config(deuteron.Config(chunks=chunks))(x)
    block = deuteron.next_power_of_2(-(-100 // chunks))
    torch.testing.assert_close(out, x * 2 + block)


def test_block_that_is_no_power_of_two_names_the_config(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    x = torch.randn(10)
    bound = fresh(K.odd_block).bind((x,))
    with pytest.raises(deuteron.exc.CompileError, match=r"power of two, got 6 from 3 \* split with split=2"):
        bound.to_triton_code(deuteron.Config(split=2))
