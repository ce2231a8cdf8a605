# RUN[ir]: --function matmul_split_k --args x:float32[64,1000],y:float32[1000,32] --dump=ir
# RUN[split4]: --function matmul_split_k --args x:float32[64,1000],y:float32[1000,32] --config '{"block_sizes":[32,32,32],"split_k":4}'
# RUN[split64]: --function matmul_split_k --args x:float32[64,1000],y:float32[1000,32] --config '{"block_sizes":[32,32,32],"split_k":64}'
# RUN[reference]: --function matmul_split_k --args x:float32[64,1000],y:float32[1000,32] --config '{"split_k":8}' --dump=reference
#
# A tile block computed on the host from a tunable (Helion's split-K form):
# next_power_of_2(cdiv(k, split_k)) stays symbolic in sema (config_block in
# the IR) and each config fixes it: split_k=4 tiles k=1000 by 256, split_k=64
# by 16.  A value that is no power of two under a config is an error at the
# tile loop naming the tunables' values (tests/test_split_k.py).

import torch
import deuteron
import deuteron.language as hl
from deuteron.autotuner import IntegerFragment, PowerOfTwoFragment


@deuteron.kernel(static_shapes=True)
def matmul_split_k(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.zeros([m, n], dtype=x.dtype, device=x.device)
    split_k = hl.register_tunable("split_k", PowerOfTwoFragment(1, 256))
    k_block = deuteron.next_power_of_2(deuteron.cdiv(k, split_k))
    for tile_m, tile_n, outer_k in hl.tile([m, n, k], block_size=[None, None, k_block]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for inner_k in hl.tile(outer_k.begin, outer_k.end):
            acc = torch.addmm(acc, x[tile_m, inner_k], y[inner_k, tile_n])
        hl.atomic_add(out, [tile_m, tile_n], acc)
    return out


@deuteron.kernel(static_shapes=True)
def odd_block(x: torch.Tensor) -> torch.Tensor:
    split = hl.register_tunable("split", IntegerFragment(1, 4, 1))
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0), block_size=split * 3):
        out[tile] = x[tile]
    return out
