"""Grid dims whose blocks get heavier with their position (an inner loop to
`tile_m.end`, as in causal attention) launch in reverse, heaviest first.  The
order changes only which program does which block: every pid type and
grouping still gives the same result as PyTorch, ragged sizes included."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel()
def lower_row_sums(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(0, tile_m.end):
            keep = tile_m.index[:, None] >= tile_n.index[None, :]
            acc += torch.where(keep, x[tile_m, tile_n], 0.0).sum(-1)
        out[tile_m] = acc
    return out


@deuteron.kernel()
def banded_row_sums(x: torch.Tensor) -> torch.Tensor:
    """Each row block sums only its own diagonal block: the same work everywhere."""
    m, n = x.shape
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(tile_m.begin, tile_m.end):
            acc += x[tile_m, tile_n].sum(-1)
        out[tile_m] = acc
    return out


@pytest.mark.parametrize(
    "cfg",
    [
        dict(block_sizes=[16, 8]),
        dict(block_sizes=[16, 8], pid_type="xyz"),
        dict(block_sizes=[32, 16], pid_type="persistent_blocked"),
        dict(block_sizes=[16, 16], pid_type="persistent_interleaved"),
    ],
    ids=["flat", "xyz", "persistent_blocked", "persistent_interleaved"],
)
def test_triangular_rows_launch_heaviest_first_and_stay_right(mode, cfg):
    x = torch.randn(100, 100)
    cfg = deuteron.Config(**cfg)
    bound = lower_row_sums.bind((x,))
    code = bound.to_triton_code(cfg)
    assert "heavy blocks first" in code
    assert "_heavy_first = " in code
    torch.testing.assert_close(bound.compile_config(cfg)(x), torch.tril(x).sum(-1))


def test_blocks_of_equal_work_keep_their_order(mode):
    x = torch.randn(96, 96)
    cfg = deuteron.Config(block_sizes=[32, 16])
    bound = banded_row_sums.bind((x,))
    assert "_heavy_first = " not in bound.to_triton_code(cfg)
    ref = torch.stack([x[i : i + 32, i : i + 32].sum(-1) for i in range(0, 96, 32)]).reshape(-1)
    torch.testing.assert_close(bound.compile_config(cfg)(x), ref)


def test_causal_attention_launches_the_last_query_blocks_first(mode):
    import attention

    qkv = tuple(torch.randn(1, 2, 48, 16) for _ in range(3))
    cfg = deuteron.Config(block_sizes=[1, 16, 16])
    code = attention.causal_attention.bind(qkv).to_triton_code(cfg)
    assert "pid_1_heavy_first = 2 - pid_1" in code  # 3 query blocks of 16
    assert "_heavy_first = " not in attention.attention.bind(qkv).to_triton_code(cfg)
