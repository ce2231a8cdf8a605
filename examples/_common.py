"""Shared helpers for the examples: pick a device and check results against PyTorch."""

from __future__ import annotations

import os

import torch

from deuteron.runtime.env import triton_interpret


def device() -> str:
    """'cuda' when a GPU is available; otherwise run the kernels in PyTorch eager on the CPU."""
    if torch.cuda.is_available():
        return "cuda"
    if not triton_interpret():
        os.environ.setdefault("DEUTERON_INTERPRET", "1")
    return "cpu"


def mode() -> str:
    if torch.cuda.is_available():
        return "GPU (" + torch.cuda.get_device_name() + ")"
    if triton_interpret():
        return "CPU (Triton interpreter running the generated Triton code)"
    return "CPU (interpret mode: the kernel body in PyTorch eager)"


def check(name: str, got: torch.Tensor, expected: torch.Tensor, atol: float = 1e-5, rtol: float = 1e-5) -> None:
    torch.testing.assert_close(got, expected, atol=atol, rtol=rtol)
    print(f"{name}: OK (max abs error {(got.float() - expected.float()).abs().max().item():.3g})")
