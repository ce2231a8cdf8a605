# RUN[inline-ir]: --function inline_add --args x:float32[100],y:float32[100] --dump=ir
# RUN[inline]: --function inline_add --args x:float32[100],y:float32[100] --config '{"block_sizes":[32]}'
# RUN[multi]: --function inline_pair --args x:float32[64],y:float32[64] --config '{"block_sizes":[32]}'
# RUN[statements]: --function inline_lock --args lock:int32[4],n:int --config '{"block_sizes":[4]}'
# RUN[asm]: --function asm_shift --args x:int32[128],y:int32[128] --config '{"block_sizes":[64]}'
# RUN[reference]: --function inline_add --args x:float32[100],y:float32[100] --dump=reference
# RUN[bad-key]: --function bad_key --args x:float32[8]
# RUN[bad-output]: --function bad_output --args x:float32[8]
#
# Helion's escape hatches: hl.inline_triton pastes Triton text into the kernel
# with its placeholders bound to the values' names (a host tensor is its
# pointer), its last statement assigned to the results; hl.inline_asm_elementwise
# is tl.inline_asm_elementwise.  The reference module cannot run Triton text: an
# error at the call (the runtime runs such kernels under Triton's interpreter).

import torch
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def inline_add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        x_val = x[tile]
        out[tile] = hl.inline_triton(
            """
            tmp = {lhs} + {rhs}
            tmp * 2
            """,
            args={"lhs": x_val, "rhs": y[tile]},
            output_like=x_val,
        )
    return out


@deuteron.kernel()
def inline_pair(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        a = x[tile]
        s, d = hl.inline_triton(
            "({0} + {1},\n {0} - {1})",
            args=[a, y[tile]],
            output_like=(a, a),
        )
        out[tile] = s * d
    return out


@deuteron.kernel()
def inline_lock(lock: torch.Tensor, n: int) -> torch.Tensor:
    for tile in hl.tile(lock.shape):
        hl.inline_triton(
            """
            while tl.atomic_cas({0} + {1}, 0, 1) == 1:
                pass
            """,
            args=(lock, n),
            output_like=None,
        )
    return lock


@deuteron.kernel()
def asm_shift(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = hl.inline_asm_elementwise(
            "shf.l.wrap.b32 $0, $1, $2, 17;", "=r,r,r", [x[tile], y[tile]],
            dtype=torch.int32, is_pure=True, pack=1,
        )
    return out


@deuteron.kernel()
def bad_key(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = hl.inline_triton("{bad}", args={"good": x[tile]}, output_like=x[tile])
    return out


@deuteron.kernel()
def bad_output(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        out[tile] = hl.inline_triton("{0}", args=(x[tile],), output_like="not a tensor")
    return out
