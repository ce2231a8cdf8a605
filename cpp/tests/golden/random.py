# RUN[ir]: --function dropout --args p:float,x:float32[1000,300],seed:int --dump=ir
# RUN[triton]: --function dropout --args p:float,x:float32[1000,300],seed:int --config '{"block_sizes":[16,128]}'
# RUN[reference]: --function dropout --args p:float,x:float32[1000,300],seed:int --config '{"block_sizes":[16,128]}' --dump=reference
# RUN[whole-dim-ir]: --function noise_rows --args x:float32[64,6],seed:int --dump=ir
# RUN[randint-triton]: --function dice --args x:int32[100],seed:int --config '{"block_sizes":[32]}'
# RUN[rand4x-triton]: --function three_masks --args x:float32[256],seed:int --config '{"block_sizes":[64]}'
# RUN[implicit-ir]: --function jitter --args x:float16[128,64] --dump=ir
# RUN[implicit-triton]: --function jitter --args x:float16[128,64] --config '{"block_sizes":[32,64]}'
# RUN[implicit-reference]: --function jitter --args x:float16[128,64] --config '{"block_sizes":[32,64]}' --dump=reference
# RUN[bad-dtype]: --function int_noise --args x:float32[64]
# RUN[bad-seed]: --function float_seed --args x:float32[64]
# RUN[bad-bounds]: --function empty_range --args x:float32[64]
# RUN[bad-host]: --function on_host --args x:float32[64]
# RUN[bad-dynamic-tile]: --function triangle --args x:float32[64],seed:int
# RUN[bad-randint]: --function torch_randint --args x:float32[64]
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def dropout(p: float, x: torch.Tensor, seed: int) -> torch.Tensor:
    out = torch.empty_like(x)
    m, n = x.shape
    for tile_m, tile_n in hl.tile([m, n]):
        keep = hl.rand([tile_m, tile_n], seed=seed) > p
        out[tile_m, tile_n] = torch.where(keep, x[tile_m, tile_n] / (1 - p), 0.0)
    return out


@deuteron.kernel()
def noise_rows(x: torch.Tensor, seed: int) -> torch.Tensor:
    m, k = x.shape
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        out[tile_m, :] = x[tile_m, :] + hl.rand([tile_m, k], seed=seed)
    return out


@deuteron.kernel()
def dice(x: torch.Tensor, seed: int) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + hl.randint([tile], 1, 7, seed)
    return out


@deuteron.kernel()
def three_masks(x: torch.Tensor, seed: int) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        r0, r1, r2, _ = hl.rand4x(seed, tile.index.to(torch.int64))
        out[tile] = x[tile] * ((r0 > 0.1) & (r1 > 0.2) & (r2 > 0.3))
    return out


@deuteron.kernel()
def jitter(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    m, n = x.shape
    for tile_m, tile_n in hl.tile([m, n]):
        t = x[tile_m, tile_n]
        out[tile_m, tile_n] = t + torch.rand_like(t) * 0.01 + torch.randn(tile_m, tile_n, dtype=torch.float16)
    return out


@deuteron.kernel()
def int_noise(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = torch.rand_like(x[tile], dtype=torch.int32)
    return out


@deuteron.kernel()
def float_seed(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.rand([tile], seed=0.5)
    return out


@deuteron.kernel()
def empty_range(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x, dtype=torch.int32)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.randint([tile], 3, 3, 42)
    return out


@deuteron.kernel()
def on_host(x: torch.Tensor) -> torch.Tensor:
    noise = hl.rand([x.size(0)], seed=1)
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    return out


@deuteron.kernel()
def triangle(x: torch.Tensor, seed: int) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile_m in hl.tile(x.size(0)):
        for tile_k in hl.tile(0, tile_m.end):
            out[tile_k] = hl.rand([tile_k], seed)
    return out


@deuteron.kernel()
def torch_randint(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = torch.randint(0, 5, (tile,))
    return out
