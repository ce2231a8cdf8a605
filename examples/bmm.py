"""Batched matrix multiplication: a 3-D tile loop and torch.baddbmm."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl

try:
    from ._common import check, device, mode
except ImportError:
    from _common import check, device, mode


@deuteron.kernel()
def bmm(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    b, m, k = A.size()
    b, k, n = B.size()
    out = torch.empty([b, m, n], device=A.device, dtype=torch.promote_types(A.dtype, B.dtype))
    for tile_b, tile_m, tile_n in hl.tile([b, m, n]):
        acc = hl.zeros([tile_b, tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.baddbmm(acc, A[tile_b, tile_m, tile_k], B[tile_b, tile_k, tile_n])
        out[tile_b, tile_m, tile_n] = acc
    return out


def main() -> None:
    dev = device()
    print("bmm on", mode())
    for (b, m, k, n), dtype, tol in [((4, 64, 128, 32), torch.float32, 1e-4), ((3, 40, 64, 48), torch.float16, 2e-2)]:
        A = torch.randn(b, m, k, device=dev, dtype=dtype)
        B = torch.randn(b, k, n, device=dev, dtype=dtype)
        t = 2e-2 if dev == "cuda" and dtype == torch.float32 else tol
        check(f"bmm {(b, m, k, n)} {dtype}", bmm(A, B), torch.bmm(A.float(), B.float()).to(dtype),
              atol=t * k ** 0.5, rtol=t)


if __name__ == "__main__":
    main()
