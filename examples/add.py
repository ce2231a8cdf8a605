"""Elementwise addition with broadcasting: the smallest deuteron kernel."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl

try:
    from ._common import check, device, mode
except ImportError:
    from _common import check, device, mode


@deuteron.kernel()
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x, y = torch.broadcast_tensors(x, y)
    out = torch.empty(x.shape, dtype=torch.promote_types(x.dtype, y.dtype), device=x.device)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out


def main() -> None:
    dev = device()
    print("add on", mode())
    for shape, dtype in [((1000,), torch.float32), ((64, 200), torch.float16), ((3, 129, 65), torch.float32)]:
        x = torch.randn(shape, device=dev, dtype=dtype)
        y = torch.randn(shape[-1:], device=dev, dtype=dtype)
        check(f"add {tuple(shape)} {dtype}", add(x, y), x + y)


if __name__ == "__main__":
    main()
