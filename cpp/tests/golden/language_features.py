# RUN[tile-attrs]: --function tile_attrs --args x:float32[100,64],out:float32[100,64]
# RUN[grid]: --function row_scale --args x:float32[8,300],scale:float32[8]
# RUN[ranges]: --function ranged --args x:float32[1024],out:float32[1024],n:int --config '{"block_sizes":[64]}'
# RUN[constexpr]: --function powers --args x:float16[512],k:constexpr=3
# RUN[scalars]: --function axpy --args x:float32[4096],y:float32[4096],alpha:float --config '{"block_sizes":[512]}'
# RUN[views]: --function outer --args a:float32[128],b:float32[96] --config '{"block_sizes":[32,32]}'
# RUN[views-ir]: --function outer --args a:float32[128],b:float32[96] --dump=ir
# RUN[if]: --function clip_rows --args x:float32[64,128],limit:float --config '{"block_sizes":[16]}'
# RUN[helper]: --function silu_twice --args x:float32[256]
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def tile_attrs(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    for tile_m, tile_n in hl.tile([100, 64], block_size=[32, 64]):
        ramp = tile_m.index.to(torch.float32)[:, None] + tile_n.begin + tile_m.block_size
        out[tile_m, tile_n] = x[tile_m, tile_n] * 2 + ramp + tile_m.id
    return out


@deuteron.kernel()
def row_scale(x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty_like(x)
    for row in hl.grid(m):
        for tile in hl.tile(n):
            out[row, tile] = x[row, tile] * scale[row]
    return out


@deuteron.kernel()
def ranged(x: torch.Tensor, out: torch.Tensor, n: int) -> torch.Tensor:
    for tile in hl.tile(16, n):
        out[tile] = x[tile] - x[tile.begin]
    return out


@deuteron.kernel()
def powers(x: torch.Tensor, k: hl.constexpr) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        acc = x[tile]
        for _ in hl.static_range(k - 1):
            acc = acc * x[tile]
        out[tile] = acc
    return out


@deuteron.kernel()
def axpy(x: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.numel()):
        out[tile] = alpha * x[tile] + y[tile]
    return out


@deuteron.kernel()
def outer(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = a.new_empty([a.size(0), b.size(0)])
    for ti, tj in hl.tile([a.size(0), b.size(0)]):
        out[ti, tj] = a[ti][:, None] * b[None, tj]
    return out


def _silu(v):
    return v * torch.sigmoid(v)


@deuteron.kernel()
def silu_twice(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = _silu(_silu(x[tile]))
    return out


@deuteron.kernel()
def clip_rows(x: torch.Tensor, limit: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        row = x[tile, :]
        total = row.sum()
        if total > limit:
            row = row * (limit / total)
        out[tile, :] = row
    return out
