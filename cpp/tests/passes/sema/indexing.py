# RUN[shifted]: --function shifted_diff --args x:float32[1000] --dump=ir
# RUN[gather]: --function gather_rows --args x:float32[64,32],idx:int64[16] --dump=ir
# RUN[grid]: --function scaled_rows --args x:float32[8,300],scale:float32[8] --dump=ir
# Index forms: a computed index (tile.index - 1) is an integer tensor operand,
# with the user's extra mask; an integer tensor gathers (its axes join the
# result); a grid index (hl.grid) is a scalar; `:` is a full dim.
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def shifted_diff(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        prev = hl.load(x, [tile.index - 1], extra_mask=tile.index > 0)
        out[tile] = x[tile] - prev
    return out


@deuteron.kernel()
def gather_rows(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    out = torch.empty([idx.size(0), x.size(1)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(idx.size(0)):
        out[tile, :] = x[idx[tile], :]
    return out


@deuteron.kernel()
def scaled_rows(x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for row in hl.grid(x.size(0)):
        for tile in hl.tile(x.size(1)):
            out[row, tile] = x[row, tile] * scale[row]
    return out
