"""Random numbers on the GPU: the compiled Triton kernels draw the bits that
deuteron.runtime.philox (the reference back end) computes, for explicit seeds
and for torch.rand_like's seeds from the CUDA generator."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import deuteron
from deuteron.runtime import philox

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_random as K  # noqa: E402


def _run(kernel, args, **config):
    kernel.reset()
    bound = kernel.bind(args)
    return bound.compile_config(deuteron.Config(**config))(*args)


def _linear(shape):
    return torch.arange(torch.Size(shape).numel(), device="cuda").reshape(shape)


def _bits_equal(a, b):
    return torch.equal(a.contiguous().view(torch.int32), b.contiguous().view(torch.int32))


@pytest.mark.parametrize("blocks", [[16, 32], [64, 128], [1, 256]])
def test_rand_matches_reference_bits(blocks):
    x = torch.empty(333, 517, device="cuda")
    out = _run(K.rand_2d, (x, 1234), block_sizes=blocks)
    assert _bits_equal(out, philox.rand(1234, _linear(x.shape)))


def test_randint_and_rand4x_match_reference():
    x = torch.empty(97, 131, device="cuda")
    assert torch.equal(_run(K.randint_2d, (x, 77), block_sizes=[32, 32]),
                       philox.randint(77, _linear(x.shape), -5, 17))
    v = torch.empty(1000, device="cuda")
    out = _run(K.rand4x_masks, (v, 5), block_sizes=[128])
    for got, want in zip(out, philox.rand4x(5, torch.arange(1000, device="cuda"))):
        assert _bits_equal(got, want)


def test_rand_like_seeds_from_the_cuda_generator():
    x = torch.ones(200, 300, device="cuda")
    from torch._inductor import inductor_prims

    torch.manual_seed(11)
    s0, s1 = inductor_prims.seeds(2, torch.device("cuda")).tolist()  # as Helion's tests compute them
    torch.manual_seed(11)
    a, b = _run(K.rand_like_twice, (x,), block_sizes=[32, 64])
    assert _bits_equal(a, philox.rand(s0, _linear(x.shape)))
    assert _bits_equal(b, philox.rand(s1, _linear(x.shape)))
    c, _ = _run(K.rand_like_twice, (x,), block_sizes=[32, 64])
    assert not torch.equal(a, c)


def test_randn_like_close_to_reference():
    x = torch.ones(256, 256, device="cuda")
    torch.manual_seed(3)
    (s0,) = philox.seeds(1, "cuda").tolist()
    torch.manual_seed(3)
    out = _run(K.randn_like_2d, (x,), block_sizes=[64, 64])
    # GPU log/cos/sqrt are approximations: close, not bit-identical.
    torch.testing.assert_close(out, philox.randn(s0, _linear(x.shape)), rtol=0, atol=1e-5)


def test_low_mem_dropout_on_device():
    x = torch.randn(1 << 20, device="cuda")
    out = _run(K.dropout_fwd, (0.3, x, 99), block_sizes=[1024])
    grad = _run(K.dropout_bwd, (0.3, torch.ones_like(x), 99), block_sizes=[4096])
    assert torch.equal(out != 0, grad != 0)
    keep = philox.rand(99, torch.arange(x.numel(), device="cuda")) > 0.3
    torch.testing.assert_close(out, torch.where(keep, x / 0.7, 0.0))
