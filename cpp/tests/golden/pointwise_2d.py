# RUN[ir]: --function gelu_mul --args x:bfloat16[1000,2048],y:bfloat16[1000,2048] --dump=ir
# RUN[default]: --function gelu_mul --args x:bfloat16[1000,2048],y:bfloat16[1000,2048] --dump=default-config
# RUN[flat]: --function gelu_mul --args x:bfloat16[1000,2048],y:bfloat16[1000,2048] --config '{"block_sizes":[16,128],"loop_orders":[[1,0]]}'
# RUN[l2]: --function gelu_mul --args x:bfloat16[1000,2048],y:bfloat16[1000,2048] --config '{"block_sizes":[16,128],"l2_groupings":[4]}'
# RUN[xyz]: --function gelu_mul --args x:bfloat16[1000,2048],y:bfloat16[1000,2048] --config '{"block_sizes":[16,128],"pid_type":"xyz"}'
# RUN[persistent]: --function gelu_mul --args x:bfloat16[1000,2048],y:bfloat16[1000,2048] --config '{"block_sizes":[16,128],"pid_type":"persistent_interleaved"}'
# RUN[blocked]: --function gelu_mul --args x:bfloat16[1000,2048],y:bfloat16[1000,2048] --config '{"block_sizes":[16,128],"pid_type":"persistent_blocked","num_sm_multiplier":2}'
# RUN[transposed]: --function gelu_mul --args x:float32[64,32]{1,64},y:float32[64,32] --config '{"block_sizes":[16,32]}'
# RUN[transposed-tma]: --function gelu_mul --args x:float32[64,32]{1,64},y:float32[64,32] --config '{"block_sizes":[16,32],"indexing":"tensor_descriptor"}'
# RUN[bad-config]: --function gelu_mul --args x:bfloat16[1000,2048],y:bfloat16[1000,2048] --config '{"block_sizes":[16,100]}'
# RUN[bad-key]: --function gelu_mul --args x:bfloat16[1000,2048],y:bfloat16[1000,2048] --config '{"num_warp":4}'
import torch
import torch.nn.functional as F
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def gelu_mul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = F.gelu(x[tile_m, tile_n]) * y[tile_m, tile_n]
    return out
