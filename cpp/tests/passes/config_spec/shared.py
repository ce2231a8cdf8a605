# RUN[register]: --function two_loops --args x:float32[1000],y:float32[2000] --dump=config-spec
# RUN[tunable]: --function tuned --args x:float32[4096] --dump=config-spec
# RUN[tunable-default]: --function tuned --args x:float32[4096] --dump=default-config
# hl.register_block_size gives two loops one shared block size; two device
# loops are two kernels whose loads and stores are numbered in one list;
# hl.register_tunable adds named keys (and their defaults to the default config).
import torch
import deuteron
import deuteron.language as hl
from deuteron.autotuner import BooleanFragment, IntegerFragment


@deuteron.kernel()
def two_loops(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out_x = torch.empty_like(x)
    out_y = torch.empty_like(y)
    block = hl.register_block_size(1024)
    for tile in hl.tile(x.size(0), block_size=block):
        out_x[tile] = x[tile] + 1
    for tile in hl.tile(y.size(0), block_size=block):
        out_y[tile] = y[tile] * 2
    return out_x


@deuteron.kernel()
def tuned(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    factor = hl.register_tunable("factor", IntegerFragment(1, 4, 2))
    negate = hl.register_tunable("negate", BooleanFragment())
    for tile in hl.tile(x.size(0)):
        v = x[tile] * factor
        if negate:
            v = -v
        out[tile] = v
    return out
