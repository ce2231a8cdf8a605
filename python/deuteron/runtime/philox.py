"""Philox-4x32-10 in PyTorch: the numbers of Triton's ``tl.rand`` family, bit for bit.

The reference back end (``DEUTERON_INTERPRET=1``) runs kernel bodies in
PyTorch eager; its random numbers must be the ones the generated Triton code
draws, so that a kernel gives the same result in both modes for the same seed.
These functions reproduce Triton 3.6's ``triton/language/random.py``:

* the counter is (offset low 32 bits, offset high 32 bits, 0, 0), the high
  half only for 64-bit offsets; the key is the seed's low and high 32 bits;
* ten Philox rounds (multipliers 0xD2511F53 and 0xCD9E8D57, key increments
  0x9E3779B9 and 0xBB67AE85);
* a uint32 ``x`` becomes a float in [0, 1) as ``(x as int32, -x-1 if < 0) *
  4.6566127342e-10`` in float32; normals are Box-Muller of the first two
  uniforms (``u1`` clamped to 1e-7).

uint32 arithmetic is emulated in int64 with masking; 32x32-bit products are
split into 16-bit halves so that nothing overflows.  Every function is
vectorized over ``offsets``; ``seed`` is a Python int or an integer tensor
with one element.
"""

from __future__ import annotations

import torch

__all__ = ["philox", "randint4x", "rand", "rand4x", "randn", "randint", "seeds"]

_MASK32 = 0xFFFFFFFF
_ROUNDS = 10
_KEY_A = 0x9E3779B9
_KEY_B = 0xBB67AE85
_ROUND_A = 0xD2511F53
_ROUND_B = 0xCD9E8D57
_UNIFORM_SCALE = 4.6566127342e-10  # the largest scale with (2**31 - 1) * scale < 1 in float32
_BOX_MULLER_MIN = 1.0e-7
_TWO_PI = 6.283185307179586


def _mulhilo(a: int, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """High and low 32 bits of the 64-bit product of the constant ``a`` and uint32 values ``b``."""
    lo_part = (a & 0xFFFF) * b  # < 2**48
    hi_part = (a >> 16) * b  # < 2**48
    lo = (lo_part + ((hi_part & 0xFFFF) << 16)) & _MASK32
    hi = (hi_part + (lo_part >> 16)) >> 16
    return hi, lo


def _key(seed: int | torch.Tensor, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(seed, torch.Tensor):
        if seed.numel() != 1:
            raise ValueError(f"the seed must have one element, got a tensor of shape {tuple(seed.shape)}")
        if seed.dtype.is_floating_point or seed.dtype == torch.bool:
            raise TypeError(f"the seed must be an integer, got {seed.dtype}")
        s = seed.reshape([]).to(device=device, dtype=torch.int64)
    else:
        value = int(seed)
        if value >= 1 << 63:  # a uint64 seed: the same bits as int64
            value -= 1 << 64
        s = torch.tensor(value, dtype=torch.int64, device=device)
    # Triton widens the seed to uint64 (sign-extending int32): its two halves.
    return s & _MASK32, (s >> 32) & _MASK32


def philox(seed: int | torch.Tensor, offsets: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The four uint32 outputs of Philox-4x32-10 per offset, as int64 tensors in [0, 2**32)."""
    offsets = torch.as_tensor(offsets)
    if offsets.dtype.is_floating_point or offsets.dtype == torch.bool:
        raise TypeError(f"offsets must be integers, got {offsets.dtype}")
    wide = offsets.to(torch.int64)
    c0 = wide & _MASK32
    c1 = (wide >> 32) & _MASK32 if offsets.element_size() > 4 else torch.zeros_like(c0)
    c2 = torch.zeros_like(c0)
    c3 = torch.zeros_like(c0)
    k0, k1 = _key(seed, offsets.device)
    for _ in range(_ROUNDS):
        hi_b, lo_b = _mulhilo(_ROUND_B, c2)
        hi_a, lo_a = _mulhilo(_ROUND_A, c0)
        c0, c1, c2, c3 = hi_b ^ c1 ^ k0, lo_b, hi_a ^ c3 ^ k1, lo_a
        k0 = (k0 + _KEY_A) & _MASK32
        k1 = (k1 + _KEY_B) & _MASK32
    return c0, c1, c2, c3


def _as_int32(x: torch.Tensor) -> torch.Tensor:
    """uint32 values (in int64) reinterpreted as int32."""
    return torch.where(x >= 1 << 31, x - (1 << 32), x)


def _uniform(x: torch.Tensor) -> torch.Tensor:
    s = _as_int32(x)
    magnitude = torch.where(s < 0, -s - 1, s)  # in [0, 2**31 - 1]
    scale = torch.tensor(_UNIFORM_SCALE, dtype=torch.float32, device=x.device)
    return magnitude.to(torch.float32) * scale


def randint4x(seed: int | torch.Tensor, offsets: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``tl.randint4x``: four int32 tensors (the uint32 bits of the Philox outputs)."""
    return tuple(_as_int32(c).to(torch.int32) for c in philox(seed, offsets))


def rand(seed: int | torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """``tl.rand``: float32 uniform in [0, 1), one per offset."""
    return _uniform(philox(seed, offsets)[0])


def rand4x(seed: int | torch.Tensor, offsets: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``tl.rand4x``: four float32 uniforms in [0, 1) per offset."""
    return tuple(_uniform(c) for c in philox(seed, offsets))


def randn(seed: int | torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """``tl.randn``: float32 standard normal, one per offset (Box-Muller of two uniforms)."""
    c0, c1, _, _ = philox(seed, offsets)
    u1 = torch.clamp_min(_uniform(c0), _BOX_MULLER_MIN)
    theta = _uniform(c1) * torch.tensor(_TWO_PI, dtype=torch.float32, device=c0.device)
    radius = torch.sqrt(torch.log(u1) * -2.0)
    return radius * torch.cos(theta)


def randint(seed: int | torch.Tensor, offsets: torch.Tensor, low: int | torch.Tensor,
            high: int | torch.Tensor) -> torch.Tensor:
    """``hl.randint``: int32 in [low, high): |the first draw as int32| mod (high - low), plus low.

    The magnitude is taken in int64, so that -2**31 maps into the range too.
    """
    s = _as_int32(philox(seed, offsets)[0])
    low = torch.as_tensor(low, dtype=torch.int64, device=s.device)
    high = torch.as_tensor(high, dtype=torch.int64, device=s.device)
    return (low + torch.remainder(torch.abs(s), high - low)).to(torch.int32)


def seeds(count: int, device: torch.device | str) -> torch.Tensor:
    """The seeds of a kernel call's implicit random call sites (torch.rand_like, ...) in device code.

    The same numbers, and the same use of torch's generator, as Helion's
    ``torch._inductor.inductor_prims.seeds(count, device)``: that prim runs its
    meta function on the real device before the draw it returns, so it takes
    two draws of ``torch.randint(2**63 - 1, [count])`` and keeps the second.
    Written out here so that generated modules do not import Inductor (seconds
    of import time, and ~20x the host time per call); tests/test_random.py
    checks that both still agree.
    """
    torch.randint(2**63 - 1, [count], device=device)
    return torch.randint(2**63 - 1, [count], device=device)
