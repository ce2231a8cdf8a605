"""A fused pointwise kernel on 2-D tiles: gelu(x) * y in one pass over memory."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import deuteron
import deuteron.language as hl

try:
    from ._common import check, device, mode
except ImportError:
    from _common import check, device, mode


@deuteron.kernel()
def gelu_mul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = F.gelu(x[tile_m, tile_n]) * y[tile_m, tile_n]
    return out


def main() -> None:
    dev = device()
    print("gelu_mul on", mode())
    for (m, n), dtype, tol in [((128, 256), torch.float32, 1e-5), ((100, 37), torch.float16, 2e-3)]:
        x = torch.randn(m, n, device=dev, dtype=dtype)
        y = torch.randn(m, n, device=dev, dtype=dtype)
        check(f"gelu_mul {(m, n)} {dtype}", gelu_mul(x, y), F.gelu(x) * y, atol=tol, rtol=tol)


if __name__ == "__main__":
    main()
