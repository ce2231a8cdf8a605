"""Shared by the GPU tests (marker ``gpu``): each needs a CUDA GPU and is skipped
without one (a plain ``pytest tests`` on a CPU machine collects them, then skips)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _needs_cuda():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
