"""Row softmax, three ways: the one-line torch.softmax inside a tile, the
decomposed form, and a two-pass online softmax over column blocks."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl

try:
    from ._common import check, device, mode
except ImportError:
    from _common import check, device, mode


@deuteron.kernel()
def softmax(x: torch.Tensor) -> torch.Tensor:
    n, _m = x.size()
    out = torch.empty_like(x)
    for tile_n in hl.tile(n):
        out[tile_n, :] = torch.nn.functional.softmax(x[tile_n, :], dim=1)
    return out


@deuteron.kernel()
def softmax_decomposed(x: torch.Tensor) -> torch.Tensor:
    n, _m = x.size()
    out = torch.empty_like(x)
    for tile_n in hl.tile(n):
        values = x[tile_n, :]
        amax = torch.amax(values, dim=1, keepdim=True)
        exp = torch.exp(values - amax)
        sum_exp = torch.sum(exp, dim=1, keepdim=True)
        out[tile_n, :] = exp / sum_exp
    return out


@deuteron.kernel()
def softmax_two_pass(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    block_size_m = hl.register_block_size(m)
    block_size_n = hl.register_block_size(n)
    for tile_m in hl.tile(m, block_size=block_size_m):
        mi = hl.full([tile_m], float("-inf"), dtype=torch.float32)
        di = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(n, block_size=block_size_n):
            values = x[tile_m, tile_n]
            local_amax = torch.amax(values, dim=1)
            mi_next = torch.maximum(mi, local_amax)
            di = di * torch.exp(mi - mi_next) + torch.exp(values - mi_next[:, None]).sum(dim=1)
            mi = mi_next
        for tile_n in hl.tile(n, block_size=block_size_n):
            values = x[tile_m, tile_n]
            out[tile_m, tile_n] = torch.exp(values - mi[:, None]) / di[:, None]
    return out


def main() -> None:
    dev = device()
    print("softmax on", mode())
    for shape, dtype, tol in [((128, 1000), torch.float32, 1e-5), ((64, 512), torch.float16, 2e-3)]:
        x = torch.randn(shape, device=dev, dtype=dtype)
        expect = torch.softmax(x.float(), dim=1).to(dtype)
        for fn in (softmax, softmax_decomposed, softmax_two_pass):
            check(f"{fn.__name__} {shape} {dtype}", fn(x), expect, atol=tol, rtol=tol)


if __name__ == "__main__":
    main()
