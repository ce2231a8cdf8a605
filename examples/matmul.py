"""Matrix multiplication with an fp32 accumulator, and with a fused epilogue
(bias + activation + cast) in the same kernel."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl

try:
    from ._common import check, device, mode
except ImportError:
    from _common import check, device, mode


@deuteron.kernel()
def matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    k2, n = y.size()
    assert k == k2, f"size mismatch {k} != {k2}"
    out = torch.empty([m, n], dtype=torch.promote_types(x.dtype, y.dtype), device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out


@deuteron.kernel()
def matmul_bias_relu(x: torch.Tensor, y: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = hl.dot(x[tile_m, tile_k], y[tile_k, tile_n], acc=acc)
        out[tile_m, tile_n] = torch.relu(acc + bias[tile_n]).to(x.dtype)
    return out


def main() -> None:
    dev = device()
    print("matmul on", mode())
    for (m, k, n), dtype, tol in [((128, 256, 64), torch.float32, 1e-4), ((100, 96, 72), torch.float16, 2e-2)]:
        x = torch.randn(m, k, device=dev, dtype=dtype)
        y = torch.randn(k, n, device=dev, dtype=dtype)
        b = torch.randn(n, device=dev, dtype=dtype)
        expect = (x.float() @ y.float()).to(dtype)
        # TF32 on GPUs for float32 inputs: compare loosely there.
        t = 2e-2 if dev == "cuda" and dtype == torch.float32 else tol
        check(f"matmul {(m, k, n)} {dtype}", matmul(x, y), expect, atol=t * k ** 0.5, rtol=t)
        check(f"matmul_bias_relu {(m, k, n)} {dtype}", matmul_bias_relu(x, y, b),
              torch.relu(x.float() @ y.float() + b.float()).to(dtype), atol=t * k ** 0.5, rtol=t)


if __name__ == "__main__":
    main()
