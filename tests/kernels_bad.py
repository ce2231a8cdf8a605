"""Kernels with mistakes.  Each marks the line its error must point at with
`# ERROR: <text the message must contain>`; test_errors.py checks both."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel(autotune_effort="none")
def mismatched_tiles(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.empty_like(x)
    for tm, tn in hl.tile([m, n]):
        a = x[tm, tn]
        out[tm, tn] = a + x[tm, 0][None, :]  # ERROR: cannot be broadcast together
    return out


@deuteron.kernel(autotune_effort="none")
def undefined_name(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * scale_factor  # ERROR: name 'scale_factor' is not defined
    return out


@deuteron.kernel(autotune_effort="none")
def too_many_indices(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile, 0]  # ERROR: too many indices for 'x'
    return out


@deuteron.kernel(autotune_effort="none")
def break_in_loop(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
        break  # ERROR: break is not supported inside tile loops
    return out


@deuteron.kernel(autotune_effort="none")
def lambda_inside(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        f = lambda v: v + 1
        out[tile] = f(x[tile], 2)  # ERROR: <lambda>() takes at most 1 positional arguments but 2 were given
    return out


@deuteron.kernel(autotune_effort="none")
def host_tensor_arith(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x + 1  # ERROR: must be indexed to get a tile of it
    return out


@deuteron.kernel(autotune_effort="none")
def tile_arith(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * tile  # ERROR: a tile cannot be an operand
    return out


@deuteron.kernel(autotune_effort="none")
def nested_device_loop_in_host_if(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    if x.size(0) > 0:
        for tile in hl.tile(x.size(0)):  # ERROR: tile loops must be at the top level
            out[tile] = x[tile]
    return out


@deuteron.kernel(autotune_effort="none")
def no_device_loop(x: torch.Tensor) -> torch.Tensor:  # ERROR: has no device loop
    return x * 2


@deuteron.kernel(autotune_effort="none")
def used_after_loop(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        acc = hl.zeros([tile], dtype=torch.float32)
        for k in hl.tile(4):
            partial = x[tile] * 2
        out[tile] = acc + partial  # ERROR: 'partial' is assigned inside the loop
    return out


@deuteron.kernel(autotune_effort="none")
def bad_unsupported_fn(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = torch.fft.fft(x[tile])  # ERROR: is not supported inside tile loops
    return out


@deuteron.kernel(autotune_effort="none")
def bad_dim(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile, :].sum(dim=2)  # ERROR: dimension 2 is out of range
    return out


@deuteron.kernel(autotune_effort="none")
def bad_keyword(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = torch.exp(x[tile], scale=2)  # ERROR: unexpected keyword argument 'scale'
    return out


@deuteron.kernel(autotune_effort="none")
def tile_too_long(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([10], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]  # ERROR: has size 10
    return out


@deuteron.kernel(autotune_effort="none")
def while_loop(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        while True:  # ERROR: while loops are not supported inside tile loops
            pass
    return out


@deuteron.kernel(autotune_effort="none")
def tensor_condition(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile]
        if v > 0:  # ERROR: must be a scalar
            v = -v
        out[tile] = v
    return out


@deuteron.kernel(autotune_effort="none")
def tile_after_loop(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    out[tile] = 0  # ERROR: 'tile' only exists inside its loop
    return out


@deuteron.kernel(autotune_effort="none")
def tile_after_loop_in_host_if(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    if x.size(0) > 4:
        out[tile.index] = 0  # ERROR: 'tile' only exists inside its loop
    return out


@deuteron.kernel(autotune_effort="none")
def misspelled_torch_function(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = torch.expp(x[tile])  # ERROR: no such function: 'torch.expp'
    return out


@deuteron.kernel(autotune_effort="none")
def tuple_tile_out_of_range(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile([x.size(0), x.size(1)]):
        out[tile] = x[tile[1], tile[0]]  # ERROR: 'tile[0]' runs up to 16
    return out


@deuteron.kernel(autotune_effort="none")
def store_2d_into_1d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile, :]  # ERROR: reduce the value's dimension 1 (8) first (e.g. .sum(dim=1))
    return out


@deuteron.kernel(autotune_effort="none")
def reshape_infer_next_to_zero(x: torch.Tensor) -> torch.Tensor:
    y = x.reshape([-1, 0])  # ERROR: cannot infer the size of dimension 0 (-1): the other sizes multiply to 0
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    return out


@deuteron.kernel(autotune_effort="none", static_shapes=True)
def reshape_infer_not_dividing(x: torch.Tensor) -> torch.Tensor:
    y = x.view(-1, 5)  # ERROR: shape is invalid for a tensor of 16 elements
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    return out


@deuteron.kernel(autotune_effort="none", static_shapes=True)
def reshape_wrong_element_count(x: torch.Tensor) -> torch.Tensor:
    y = x.reshape(4, 5)  # ERROR: shape multiplies to 20 elements, but the tensor has 16
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    return out


@deuteron.kernel(autotune_effort="none")
def if_branches_transpose(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tm, tn in hl.tile(x.size()):
        if x[tm.begin, tn.begin] > 0:  # ERROR: tensor mismatch in control flow for variable 'acc'
            acc = hl.zeros([tm, tn])
        else:
            acc = hl.zeros([tn, tm])
        out[tm, tn] = x[tm, tn] + acc.sum()
    return out
