"""Every example checks itself against PyTorch on the GPU."""

from __future__ import annotations

import importlib
import os
import sys

import pytest

pytestmark = pytest.mark.gpu

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
sys.path.insert(0, EXAMPLES)

NAMES = sorted(f[:-3] for f in os.listdir(EXAMPLES) if f.endswith(".py") and not f.startswith("_"))


@pytest.mark.parametrize("name", NAMES)
def test_example(name: str) -> None:
    module = importlib.import_module(name)
    module.main()
