"""Kernel fission on the GPU (passes/kernel_fission.cc): Helion's
squeeze_and_excitation_net forward in float16 as two launches, with the default
config and under torch.compile(fullgraph=True), and a program of two dependent column
loops with dynamic shapes and persistent program ids."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import deuteron

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_kernel_fission import scale_then_shift, two_products, two_products_reference

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("m", [1024, 1000])
def test_two_products_default_config(m):
    torch.manual_seed(0)
    x = torch.randn(m, 1024, device="cuda", dtype=torch.float16)
    a = torch.randn(1024, 512, device="cuda", dtype=torch.float16) / 32
    b = torch.randn(512, 1024, device="cuda", dtype=torch.float16) / 16
    bound = two_products.bind((x, a, b))
    code = bound.to_triton_code(bound.default_config())
    assert "_two_products_kernel_part2" in code
    got = two_products(x, a, b)
    for g, r in zip(got, two_products_reference(x.float(), a.float(), b.float())):
        torch.testing.assert_close(g.float(), r, rtol=2e-2, atol=2e-2)


def test_two_products_under_torch_compile():
    torch.manual_seed(1)
    x = torch.randn(256, 256, device="cuda", dtype=torch.float16)
    a = torch.randn(256, 128, device="cuda", dtype=torch.float16) / 16
    b = torch.randn(128, 256, device="cuda", dtype=torch.float16) / 16
    fn = torch.compile(lambda x, a, b: two_products(x, a, b)[0] + 1.0, fullgraph=True)
    ref = two_products_reference(x.float(), a.float(), b.float())[0] + 1.0
    torch.testing.assert_close(fn(x, a, b).float(), ref, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("pid_type", ["flat", "persistent_blocked", "persistent_interleaved"])
def test_dependent_column_loops(pid_type):
    torch.manual_seed(2)
    x, s = torch.randn(300, 700, device="cuda"), torch.randn(300, device="cuda")
    k = deuteron.kernel(scale_then_shift.fn, static_shapes=False,
                        config=deuteron.Config(block_sizes=[32, 64, 64], pid_type=pid_type))
    y, z = k(x, s)
    torch.testing.assert_close(y, x * s[:, None])
    torch.testing.assert_close(z, y - y[:, :1])
