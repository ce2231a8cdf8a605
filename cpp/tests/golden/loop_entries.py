# RUN[spec-3d]: --function device_loop_3d --args x:float32[4,6,5,3] --dump=config-spec
# RUN[order-3d]: --function device_loop_3d --args x:float32[4,6,5,3] --config '{"block_sizes":[2,4,2,1],"loop_orders":[[2,0,1]],"range_unroll_factors":[0,2,3,4]}'
# RUN[order-3d-ir]: --function device_loop_3d --args x:float32[4,6,5,3] --config '{"block_sizes":[2,4,2,1],"loop_orders":[[2,0,1]]}' --dump=ir-after=inner_loop_order
# RUN[flat-3d]: --function device_loop_3d --args x:float32[4,6,5,3] --config '{"block_sizes":[2,16,2,1],"loop_orders":[[2,0,1]],"flatten_loops":[true]}'
# RUN[flat-broadcast]: --function scale_rows --args x:float32[6,7,5],s:float32[6] --config '{"block_sizes":[2,4,4],"flatten_loops":[true],"indexing":"tensor_descriptor"}'
# RUN[persistent-knobs]: --function add_one --args x:float32[64,96] --config '{"block_sizes":[32,16],"pid_type":"persistent_blocked","range_unroll_factors":[2],"range_num_stages":[3],"range_multi_buffers":[true],"range_flattens":[false]}'
# RUN[static-2d]: --function nested_2d --args x:float32[8,32,4] --config '{"block_sizes":[4,16,1],"static_ranges":[true],"range_unroll_factors":[0,2]}'
# RUN[spec-inplace]: --function inplace --args x:float32[16,16] --dump=config-spec
#
# The per-loop keys have Helion's entries with Helion's meaning
# (ConfigSpec in config.h): loop_orders and flatten_loops entries for an
# inner loop over several dims too (its loops nested in the order given, the
# first outermost, or flattened into one loop whose lanes are the dims'
# coordinates, the order's last dim fastest); a tl.range knob entry for each
# kernel's grid loop, acting on a persistent pid_type's loop over tiles, before
# one per inner loop dim, each following its dim wherever the loop is nested;
# static_ranges entries only for short inner loop dims; no range_num_stages
# for a kernel that reads and writes an argument.

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def device_loop_3d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    a, b, c, d = x.shape
    for tile_a in hl.tile(a):
        for tile_b, tile_c, tile_d in hl.tile([b, c, d]):
            out[tile_a, tile_b, tile_c, tile_d] = torch.sin(x[tile_a, tile_b, tile_c, tile_d])
    return out


@deuteron.kernel()
def scale_rows(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    a, b, c = x.shape
    for tile_a in hl.tile(a):
        row = s[tile_a]
        for tile_b, tile_c in hl.tile([b, c]):
            out[tile_a, tile_b, tile_c] = x[tile_a, tile_b, tile_c] * row[:, None, None] + 1.0
    return out


@deuteron.kernel()
def add_one(x: torch.Tensor) -> torch.Tensor:
    out = x.new_empty(x.size())
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + 1
    return out


@deuteron.kernel()
def nested_2d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    m, n = x.size(1), x.size(2)
    for tile_outer in hl.tile(x.size(0)):
        for tile_m, tile_n in hl.tile([m, n]):
            out[tile_outer, tile_m, tile_n] = x[tile_outer, tile_m, tile_n] + 1
    return out


@deuteron.kernel()
def inplace(x: torch.Tensor) -> torch.Tensor:
    for tile_outer in hl.tile(x.size(0)):
        for tile_inner in hl.tile(x.size(1)):
            x[tile_outer, tile_inner] = x[tile_outer, tile_inner] + 1
    return x
