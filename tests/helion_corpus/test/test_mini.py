"""Helion-style tests: one of each outcome the conformance runner counts."""

from __future__ import annotations

import torch

import helion
from helion._compiler.some_internal_pass import SomeInternalPass
from helion._testing import DEVICE, TestCase, code_and_output, skipIfNotCUDA, skipUnlessPallas
import helion.language as hl


@helion.kernel()
def scale(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] * 2
    return out


class TestMini(TestCase):
    def test_passes(self) -> None:
        x = torch.randn(100, device=DEVICE)
        code, out = code_and_output(scale, (x,), block_sizes=[32])
        torch.testing.assert_close(out, x * 2)

    def test_fails(self) -> None:
        x = torch.randn(100, device=DEVICE)
        _, out = code_and_output(scale, (x,))
        torch.testing.assert_close(out, x * 3)

    def test_code_text(self) -> None:
        code, _ = code_and_output(scale, (torch.randn(8, device=DEVICE),))
        self.assertIn("helion_only_spelling", code)

    def test_journal(self) -> None:
        code, _ = code_and_output(scale, (torch.randn(8, device=DEVICE),))
        self.assertExpectedJournal(code)

    def test_internal(self) -> None:
        SomeInternalPass().run()

    @skipUnlessPallas("tpu")
    def test_other_backend(self) -> None:
        pass

    @skipIfNotCUDA()
    def test_needs_gpu(self) -> None:
        x = torch.randn(100, device=DEVICE)
        torch.testing.assert_close(scale(x), x * 2)

    def test_own_reference_needs_gpu(self) -> None:
        # The kernel runs; the test's own reference then needs an accelerator
        # (on a CPU-only machine): skipped off the GPU, not deuteron's failure.
        x = torch.randn(100, device=DEVICE)
        _, out = code_and_output(scale, (x,))
        torch.accelerator.synchronize()
        torch.testing.assert_close(out, x * 2)

    def test_kernel_error_is_deuteron_failure(self) -> None:
        # An exception raised by deuteron (here: a wrong argument count) is a failure.
        code_and_output(scale, (torch.randn(100, device=DEVICE), 1.0))
