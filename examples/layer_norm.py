"""Layer normalization of rows (torch.var_mean inside a tile), with weight and bias."""

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
def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        acc = x[tile_m, :].to(torch.float32)
        var, mean = torch.var_mean(acc, dim=-1, keepdim=True, correction=0)
        normalized = (acc - mean) * torch.rsqrt(var + eps)
        acc = normalized * weight[:].to(torch.float32) + bias[:].to(torch.float32)
        out[tile_m, :] = acc.to(x.dtype)
    return out


@deuteron.kernel()
def layer_norm_functional(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        out[tile_m, :] = F.layer_norm(x[tile_m, :], [n], weight[:], bias[:], eps=1e-5)
    return out


def main() -> None:
    dev = device()
    print("layer_norm on", mode())
    for (m, n), dtype, tol in [((64, 1000), torch.float32, 1e-4), ((128, 1024), torch.float16, 3e-3)]:
        x = torch.randn(m, n, device=dev, dtype=dtype)
        w = torch.randn(n, device=dev, dtype=dtype)
        b = torch.randn(n, device=dev, dtype=dtype)
        expect = F.layer_norm(x.float(), [n], w.float(), b.float(), 1e-5).to(dtype)
        check(f"layer_norm {(m, n)} {dtype}", layer_norm(x, w, b), expect, atol=tol, rtol=tol)
        check(f"layer_norm_functional {(m, n)} {dtype}", layer_norm_functional(x, w, b), expect, atol=tol, rtol=tol)


if __name__ == "__main__":
    main()
