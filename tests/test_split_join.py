"""hl.split / hl.join inside tile loops, in both CPU modes: split takes the two
lanes of a last axis of size 2 exactly (NaN and -0.0 included, ints and
halves), join stacks two values of one dtype along a new last axis of 2,
broadcasting a scalar; mismatched dtypes and a last axis other than 2 are errors.
"""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel(config=deuteron.Config(block_sizes=[32]))
def swap_lanes(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        lo, hi = hl.split(x[tile, :])
        out[tile, :] = hl.join(hi, lo)
    return out


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32])
def test_split_join_roundtrip(mode, dtype):
    x = (torch.randn(70, 2) * 100).to(dtype)
    if dtype.is_floating_point:
        x[3, 0] = -0.0
        x[5, 1] = float("nan")
    out = fresh(swap_lanes)(x)
    expect = torch.stack((x[:, 1], x[:, 0]), dim=-1)
    torch.testing.assert_close(out, expect, equal_nan=True, rtol=0, atol=0)
    if dtype.is_floating_point:
        assert torch.signbit(out[3, 1])


@deuteron.kernel(config=deuteron.Config(block_sizes=[32]))
def join_scalar(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), 2], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = hl.join(x[tile], hl.load(y, [0])) + hl.join(x[tile], 1.0) * 0
    return out


def test_join_broadcasts_a_scalar(mode):
    x, y = torch.randn(50), torch.randn(1)
    torch.testing.assert_close(fresh(join_scalar)(x, y), torch.stack((x, y.expand(50)), dim=-1))


@deuteron.kernel
def join_mixed(x: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), 2], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = hl.join(x[tile], i[tile])
    return out


@deuteron.kernel
def split_three(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        a, b = hl.split(x[tile, :])
        out[tile] = a + b
    return out


def test_split_and_join_errors(mode):
    with pytest.raises(exc.CompileError, match="same dtype"):
        fresh(join_mixed)(torch.randn(8), torch.ones(8, dtype=torch.int32))
    with pytest.raises(exc.CompileError, match="last dimension of size 2"):
        fresh(split_three)(torch.randn(8, 3))
