# RUN[nested]: --function block_sums --args x:float32[4,64,512] --dump=ir
# Loops nest: each inner hl.tile is a `for` over its own dim inside the
# enclosing loop's body; a value assigned in a loop is carried by it (and by
# every loop around the assignment that it outlives).
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def block_sums(x: torch.Tensor) -> torch.Tensor:
    b, m, n = x.size()
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        total = hl.zeros([tile_m], dtype=torch.float32)
        for tile_b in hl.tile(b):
            part = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_n in hl.tile(n):
                part += x[tile_b, tile_m, tile_n].sum(-1)
            total += part.sum(0)
        out[tile_m] = total
    return out
