"""The README's demo: compile and run a fused pointwise kernel, show the code it generated."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl

try:
    from ._common import device, mode
except ImportError:
    from _common import device, mode


@deuteron.kernel(autotune_effort="none")
def scaled_gelu(x: torch.Tensor, scale: float) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = torch.nn.functional.gelu(x[tile_m, tile_n]) * scale
    return out


def main() -> None:
    dev = device()
    print(f"deuteron {deuteron.__version__} demo, running on {mode()}")
    x = torch.randn(1000, 1000, device=dev)
    out = scaled_gelu(x, 0.5)
    torch.testing.assert_close(out, torch.nn.functional.gelu(x) * 0.5)
    print("scaled_gelu matches PyTorch:", tuple(out.shape), out.dtype)
    code = scaled_gelu.bind((x, 0.5)).to_triton_code()
    kernel = code[code.index("@triton.jit\ndef _scaled_gelu_kernel"):]
    print("\nThe Triton kernel deuteron generated:\n")
    print(kernel[: kernel.index("\n\n\n")])


if __name__ == "__main__":
    main()
