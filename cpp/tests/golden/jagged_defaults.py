# RUN[rows-3d]: --function jagged_row_sums --args x:float32[700,96],offsets:int64[17] --dump=default-config
# RUN[rows-3d-code]: --function jagged_row_sums --args x:float32[700,96],offsets:int64[17]
# RUN[prefix-add]: --function jagged_prefix_add --args x:float32[9000],offsets:int64[129],y:float32[128,4000] --dump=default-config
# RUN[prefix-add-code]: --function jagged_prefix_add --args x:float32[9000],offsets:int64[129],y:float32[128,4000]
# RUN[csr-rows]: --function csr_row_sums --args values:float16[5000],offsets:int32[65] --dump=default-config
# RUN[online-softmax]: --function jagged_online_softmax --args x:float32[700,64],offsets:int64[17] --dump=default-config
#
# Default configs of loops whose ends are computed on the device
# (hl.jagged_tile, hl.tile(begin, end) over loaded offsets).  Their extents are
# unknown when compiling, so each such block is as large as the values it
# appears in allow within the per-program budget (ConfigSpec::default_config),
# rather than sized from the end's placeholder -- which made it 1: a loop of
# one element per iteration.

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def jagged_row_sums(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    # rows of a packed [total, m] tensor summed per segment: a [b, k, m] tile
    m = x.size(1)
    out = torch.zeros([offsets.size(0) - 1, m], dtype=x.dtype, device=x.device)
    x_flat = x.view(-1)
    for tile_b in hl.tile(offsets.size(0) - 1):
        first = offsets[tile_b]
        count = offsets[tile_b.index + 1] - first
        for tile_m in hl.tile(m):
            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(count):
                rows = first[:, None] + tile_k.index[None, :]
                flat = rows[:, :, None] * m + tile_m.index[None, None, :]
                acc += hl.load(x_flat, [flat]).sum(dim=1)
            out[tile_b, tile_m] = acc
    return out


@deuteron.kernel()
def jagged_prefix_add(x: torch.Tensor, offsets: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # a packed prefix of each row added to a dense matrix: a 2-D loop up to
    # the tile's longest row, then the rest of the row
    out = torch.empty_like(y)
    for tile_r in hl.tile(y.size(0)):
        first = offsets[tile_r]
        count = offsets[tile_r.index + 1] - first
        longest = count.amax()
        for tile_c in hl.tile(0, longest):
            packed = hl.load(x, [first[:, None] + tile_c.index[None, :]],
                             extra_mask=tile_c.index[None, :] < count[:, None])
            out[tile_r, tile_c] = y[tile_r, tile_c] + packed
        for tile_c in hl.tile(longest, y.size(1)):
            out[tile_r, tile_c] = y[tile_r, tile_c]
    return out


@deuteron.kernel()
def csr_row_sums(values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    # one row per program, its range read from the offsets: a 1-D loop
    out = torch.empty([offsets.size(0) - 1], dtype=torch.float32, device=values.device)
    for row in hl.grid(offsets.size(0) - 1):
        acc = hl.zeros([1], dtype=torch.float32)
        for tile_k in hl.tile(offsets[row], offsets[row + 1]):
            acc += values[tile_k].to(torch.float32).sum()
        out[row] = acc.sum()
    return out


@deuteron.kernel()
def jagged_online_softmax(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    # two jagged loops over one row range (a running max and sum, then the output)
    m = x.size(1)
    out = torch.empty_like(x)
    x_flat, out_flat = x.view(-1), out.view(-1)
    for tile_b in hl.tile(offsets.size(0) - 1):
        first = offsets[tile_b]
        count = offsets[tile_b.index + 1] - first
        for tile_m in hl.tile(m):
            best = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
            total = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(count):
                idx = (first[:, None] + tile_k.index[None, :])[:, :, None] * m + tile_m.index[None, None, :]
                v = hl.load(x_flat, [idx])
                new_best = torch.maximum(best, v.amax(dim=1))
                total = total * torch.exp(best - new_best) + torch.exp(v - new_best[:, None, :]).sum(dim=1)
                best = new_best
            for tile_k in hl.jagged_tile(count):
                idx = (first[:, None] + tile_k.index[None, :])[:, :, None] * m + tile_m.index[None, None, :]
                v = hl.load(x_flat, [idx])
                hl.store(out_flat, [idx], torch.exp(v - best[:, None, :]) / total[:, None, :])
    return out
