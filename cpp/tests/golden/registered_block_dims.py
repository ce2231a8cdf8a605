# RUN[before-loop-ir]: --function row_sum --args x:float32[37,100] --dump=ir
# RUN[before-loop]: --function row_sum --args x:float32[37,100] --config '{"block_sizes":[32,16]}'
# RUN[computed-reference]: --function shifted_sum --args x:float32[37,100] --config '{"block_sizes":[32,16]}' --dump=reference
# RUN[computed]: --function shifted_sum --args x:float32[37,100] --config '{"block_sizes":[32,16]}'
# RUN[untiled-ir]: --function untiled_blocks --args a:float32[40,27],b:float32[27,36] --dump=ir
# RUN[untiled-space]: --function untiled_blocks --args a:float32[40,27],b:float32[27,36] --dump=config-spec
# RUN[fixed-store]: --function fixed_rows --args x:float32[40,30] --config '{"block_sizes":[16]}'
# RUN[other-block]: --function other_block --args x:float32[8,16]
#
# A registered block size is a dim from registration on: before the loop that
# tiles with it (row_sum, shifted_sum) hl.zeros([tile_m, block_n]) is the
# whole dim of the block's lanes, which the loop's tiles join (block_lanes:
# lanes past a partial tile's end are 0; a masked load already reads 0 there,
# so only a computed value gets a tl.where).  Untiled (untiled_blocks),
# hl.arange and hl.zeros of the block share that dim, and the config space
# keeps the block size.  A whole dim of 16 stores into a tile of a fixed
# block of 16 (fixed_rows).  A tile of another block size never joins the
# lanes (other_block: a shape error).

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def row_sum(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    block_n = hl.register_block_size(n)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m, block_n], dtype=x.dtype)
        for tile_n in hl.tile(n, block_size=block_n):
            acc += x[tile_m, tile_n]
        out[tile_m] = acc.sum(-1)
    return out


@deuteron.kernel()
def shifted_sum(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    block_n = hl.register_block_size(n)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m, block_n], dtype=x.dtype)
        for tile_n in hl.tile(n, block_size=block_n):
            acc = acc + (x[tile_m, tile_n] + 1.0)
        out[tile_m] = acc.sum(-1)
    return out


@deuteron.kernel()
def untiled_blocks(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, k = a.shape
    _, n = b.shape
    block_m = hl.register_block_size(16, 64)
    block_n = hl.register_block_size(16, 64)
    out = torch.zeros([m, n], dtype=torch.float32, device=a.device)
    for i, j in hl.grid([m, n]):
        if i * block_m < m:
            if j * block_n < n:
                rows = i * block_m + hl.arange(block_m)
                cols = j * block_n + hl.arange(block_n)
                acc = hl.zeros([block_m, block_n], dtype=torch.float32)
                for tile_k in hl.tile(k):
                    a_blk = hl.load(a, [rows, tile_k.index], extra_mask=(rows < m)[:, None])
                    b_blk = hl.load(b, [tile_k.index, cols], extra_mask=(cols < n)[None, :])
                    acc = torch.addmm(acc, a_blk, b_blk)
                hl.store(out, [rows, cols], acc, extra_mask=(rows < m)[:, None] & (cols < n)[None, :])
    return out


@deuteron.kernel()
def fixed_rows(x: torch.Tensor) -> torch.Tensor:
    bt, v = x.shape
    out = torch.zeros([bt], dtype=torch.float32, device=x.device)
    block_v = hl.register_block_size(v)
    for tile_bt in hl.tile(bt, block_size=16):
        rows = hl.zeros([16, block_v], dtype=torch.float32)
        for tile_v in hl.tile(v, block_size=block_v):
            rows = rows + x[tile_bt, tile_v]
        out[tile_bt] = rows.sum(-1)
    return out


@deuteron.kernel()
def other_block(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    block_a = hl.register_block_size(n)
    block_b = hl.register_block_size(n)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m, block_a])
        for tile_n in hl.tile(n, block_size=block_b):
            acc += x[tile_m, tile_n]
        out[tile_m] = acc.sum(-1)
    return out
