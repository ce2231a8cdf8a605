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
def test_example(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The examples' kernels take no config, so on a GPU they would autotune (minutes
    # for the file; benchmarks/helion_examples.py --effort quick is where tuning is
    # checked): their default configs here, unless the environment asks otherwise.
    # (Settings are read when a kernel is decorated: before the import.)
    if "DEUTERON_AUTOTUNE_EFFORT" not in os.environ:
        monkeypatch.setenv("DEUTERON_AUTOTUNE_EFFORT", "none")
    module = importlib.import_module(name)
    module.main()
