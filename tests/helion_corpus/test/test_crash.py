"""A Helion-style test file one of whose tests kills the test process (as an
out-of-bounds pointer can in Triton's interpreter): the runner must report it as
not finished and still run the tests after it."""

from __future__ import annotations

import ctypes
import os

import torch

import helion
from helion._testing import DEVICE, TestCase, code_and_output
import helion.language as hl


@helion.kernel()
def scale(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] * 2
    return out


class TestCrash(TestCase):
    def test_a_before(self) -> None:
        x = torch.randn(100, device=DEVICE)
        torch.testing.assert_close(code_and_output(scale, (x,))[1], x * 2)

    def test_b_crashes(self) -> None:
        os.environ.setdefault("PYTHONFAULTHANDLER", "")  # no faulthandler noise
        ctypes.string_at(0)  # reads address 0: SIGSEGV

    def test_c_after(self) -> None:
        x = torch.randn(50, device=DEVICE)
        torch.testing.assert_close(code_and_output(scale, (x,))[1], x * 2)

    def test_d_after_fails(self) -> None:
        x = torch.randn(50, device=DEVICE)
        torch.testing.assert_close(code_and_output(scale, (x,))[1], x * 3)

    def test_e_subtests(self) -> None:
        # Each subtest reports on its own: the runner counts every report.
        for n in (10, 20):
            with self.subTest(n=n):
                x = torch.randn(n, device=DEVICE)
                torch.testing.assert_close(code_and_output(scale, (x,))[1], x * 2)
