"""An example program in Helion's style: a kernel, a check against PyTorch in main()."""

from __future__ import annotations

import torch

import helion
from helion._testing import DEVICE, run_example
import helion.language as hl


@helion.kernel()
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out


def main() -> None:
    x = torch.randn(1000, device=DEVICE)
    y = torch.randn(1000, device=DEVICE)
    run_example(add, torch.add, (x, y))


if __name__ == "__main__":
    main()
