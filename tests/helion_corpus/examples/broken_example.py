"""An example whose kernel gives a wrong answer: the runner must count it as failed."""

from __future__ import annotations

import torch

import helion
from helion._testing import DEVICE, run_example
import helion.language as hl


@helion.kernel()
def not_quite_add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] - y[tile]
    return out


if __name__ == "__main__":
    x = torch.randn(100, device=DEVICE)
    run_example(not_quite_add, torch.add, (x, x + 1))
