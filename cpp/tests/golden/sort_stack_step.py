# RUN[sort-ir]: --function sort_rows --args x:float32[8,20] --dump=ir
# RUN[sort-triton]: --function sort_rows --args x:float32[8,20] --config '{"block_sizes":[4]}'
# RUN[topk-triton]: --function smallest3 --args x:float16[8,20] --config '{"block_sizes":[4]}'
# RUN[stack-ir]: --function stack3 --args a:float32[9,17],b:float32[9,17],c:float32[9,17] --dump=ir
# RUN[step-ir]: --function every_other --args x:float32[33] --dump=ir
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def sort_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    m, n = x.shape
    vals = torch.empty_like(x)
    idx = torch.empty(m, n, dtype=torch.int64, device=x.device)
    for tile_m in hl.tile(m):
        v, i = torch.sort(x[tile_m, :], descending=True)
        vals[tile_m, :] = v
        idx[tile_m, :] = i
    return vals, idx


@deuteron.kernel()
def smallest3(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    m, n = x.shape
    vals = torch.empty(m, 3, dtype=x.dtype, device=x.device)
    idx = torch.empty(m, 3, dtype=torch.int64, device=x.device)
    for tile_m in hl.tile(m):
        v, i = torch.topk(x[tile_m, :], 3, largest=False)
        vals[tile_m, :] = v
        idx[tile_m, :] = i
    return vals, idx


@deuteron.kernel()
def stack3(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    m, n = a.shape
    out = torch.empty(m, 3, n, dtype=a.dtype, device=a.device)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, :, tile_n] = torch.stack([a[tile_m, tile_n], b[tile_m, tile_n], c[tile_m, tile_n]], dim=1)
    return out


@deuteron.kernel()
def every_other(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for i in hl.grid(1, x.size(0), 2):
        out[i] = x[i] * 2
    return out
