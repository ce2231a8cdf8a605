"""Elementwise exp (math in float32, rounded once to the input's dtype)."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl

try:
    from ._common import check, device, mode
except ImportError:
    from _common import check, device, mode


@deuteron.kernel()
def exp(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = torch.exp(x[tile])
    return out


def main() -> None:
    dev = device()
    print("exp on", mode())
    for shape, dtype, tol in [((4096,), torch.float32, 1e-5), ((333, 77), torch.float16, 1e-3)]:
        x = torch.randn(shape, device=dev, dtype=dtype)
        check(f"exp {tuple(shape)} {dtype}", exp(x), torch.exp(x), atol=tol, rtol=tol)


if __name__ == "__main__":
    main()
