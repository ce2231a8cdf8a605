# RUN[ast]: --function add --args x:float32[1000],y:float32[1000] --dump=ast
# RUN[ir]: --function add --args x:float32[1000],y:float32[1000] --dump=ir
# RUN[triton]: --function add --args x:float32[1000],y:float32[1000]
# RUN[reference]: --function add --args x:float32[1000],y:float32[1000] --dump=reference
# RUN[config]: --function add --args x:float32[1000],y:float32[1000] --dump=config --config '{"block_sizes":[256],"num_warps":2}'
# RUN[dynamic]: --function add --args x:float16[4096,512],y:float16[512] --dynamic
# RUN[broadcast-triton]: --function add --args x:float16[64,512],y:float16[512] --config '{"block_sizes":[8,256]}'
import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Elementwise x + y with broadcasting."""
    x, y = torch.broadcast_tensors(x, y)
    out = torch.empty(x.shape, dtype=torch.promote_types(x.dtype, y.dtype), device=x.device)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out


# RUN[resolved]: --function add --args x:float32[1000],y:float32[1000] --config '{"block_sizes":[256],"pid_type":"xyz","indexing":"tensor_descriptor"}'
# (resolved: a one-dim grid has one program id either way, so normalization makes 'xyz' 'flat'
# (the config line says so); TMA moves boxes of two or more dims, which the lowered IR shows:
# the generated header lists those requests and what was done instead.)
