# RUN[row-max-ir]: --function padded_row_max --args x:float32[11,13],lengths:int64[11] --dump=ir
# RUN[row-max]: --function padded_row_max --args x:float32[11,13],lengths:int64[11] --config '{"block_sizes":[8,4]}'
# RUN[nested]: --function nested_ragged_sums --args x:float32[5,6,7],rows:int64[5],cols:int32[5] --config '{"block_sizes":[4,8,2]}'
#
# hl.jagged_tile(ends): an inner tile loop up to the largest of the per-lane
# ends (a max over the parent tiles, their masked lanes padded with its
# identity), whose lanes past each row's own end are masked: the mask
# `index < ends[:, None]` is built at the top of the loop body, joins the
# masks of the loads and stores that produce the jagged dim, and makes those
# lanes the identity of a reduction over it (-inf for amax, 0 for sum: the
# loaded 0 plus 0.5 is not).  Nested jagged tiles of one parent each add their
# own mask, laid out on the access's dims ([b, k, 1] & [b, 1, m]).

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def padded_row_max(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    b = x.size(0)
    out = torch.empty([b], dtype=x.dtype, device=x.device)
    for tile_b in hl.tile(b):
        ends = lengths[tile_b]
        best = hl.full([tile_b], float("-inf"), dtype=x.dtype)
        for tile_k in hl.jagged_tile(ends):
            best = torch.maximum(best, x[tile_b, tile_k].amax(dim=1))
        out[tile_b] = best
    return out


@deuteron.kernel()
def nested_ragged_sums(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    b = x.size(0)
    out = torch.full([b, x.size(2)], -1.0, dtype=x.dtype, device=x.device)
    for tile_b in hl.tile(b):
        r = rows[tile_b]
        c = cols[tile_b]
        for tile_m in hl.jagged_tile(c):
            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(r):
                acc += (x[tile_b, tile_k, tile_m] + 0.5).sum(dim=1)
            out[tile_b, tile_m] = acc.to(x.dtype)
    return out
