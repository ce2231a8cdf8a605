"""Kernels with `while` loops inside tile loops, and their PyTorch references
(tests/test_while_loops.py runs them on the CPU in both modes, tests/gpu/test_while_gpu.py
on the GPU)."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel
def count_up(x: torch.Tensor, n: int) -> torch.Tensor:
    # A carried tile and a carried counter (a Python int: typed by what the body makes of it).
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        acc = torch.zeros_like(x[tile])
        steps = 0
        while steps < n:
            acc = acc + x[tile]
            steps += 1
        out[tile] = acc
    return out


def count_up_ref(x: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.zeros_like(x)
    for _ in range(n):
        out = out + x
    return out


@deuteron.kernel
def zero_dim_counter(x: torch.Tensor) -> torch.Tensor:
    # Helion's form: the counter is a 0-dim tensor made in the loop.
    out = torch.empty_like(x)
    for tile in hl.tile(x.shape):
        acc = torch.zeros_like(x[tile])
        steps = torch.zeros([], device=x.device, dtype=torch.int32)
        while steps < 4:
            acc = acc + 1
            steps = steps + 1
        out[tile] = acc
    return out


@deuteron.kernel
def halve_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # The condition is a reduction of a carried row; the count widens from int to tensor.
    m, n = x.shape
    out = torch.empty_like(x)
    halvings = torch.empty([m], dtype=torch.int32, device=x.device)
    for i in hl.grid(m):
        row = x[i, :]
        k = 0
        while row.abs().amax() > 1.0:
            row = row * 0.5
            k = k + 1
        out[i, :] = row
        halvings[i] = k
    return out, halvings


def halve_rows_ref(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out = x.clone()
    ks = torch.zeros(x.size(0), dtype=torch.int32)
    for i in range(x.size(0)):
        while out[i].abs().amax() > 1.0:
            out[i] = out[i] * 0.5
            ks[i] += 1
    return out, ks


@deuteron.kernel
def nested(x: torch.Tensor, limit: float) -> torch.Tensor:
    # A while in a while and an if (on a sum over the tile) in its body.
    m, n = x.shape
    out = torch.empty_like(x)
    for tm in hl.tile(m):
        acc = hl.zeros([tm, n], dtype=torch.float32)
        rounds = 0
        while rounds < 3:
            inner = 0
            while inner < rounds + 1:
                acc = acc + x[tm, :]
                inner += 1
            if acc.abs().sum() > limit:
                acc = acc * 0.5
            rounds += 1
        out[tm, :] = acc
    return out


def nested_ref(x: torch.Tensor, limit: float, block: int) -> torch.Tensor:
    out = torch.empty_like(x)
    for b in range(0, x.size(0), block):
        acc = torch.zeros_like(x[b:b + block])
        for rounds in range(3):
            for _ in range(rounds + 1):
                acc = acc + x[b:b + block]
            if acc.abs().sum() > limit:
                acc = acc * 0.5
        out[b:b + block] = acc
    return out


@deuteron.kernel
def repeated_row_sums(x: torch.Tensor, reps: int) -> torch.Tensor:
    # An inner tile loop inside the while body, its carried sum carried by the while too.
    m, n = x.shape
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tm in hl.tile(m):
        total = hl.zeros([tm], dtype=torch.float32)
        passes = 0
        while passes < reps:
            for tn in hl.tile(n):
                total = total + x[tm, tn].sum(-1)
            passes += 1
        out[tm] = total
    return out


@deuteron.kernel
def lock_add(x: torch.Tensor, groups: torch.Tensor, lock: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    # Row i of x is added to out[groups[i]] under a spin lock per output row:
    # the condition is an atomic on a scalar index.
    m = x.size(0)
    for i in hl.grid(m):
        g = groups[i]
        while hl.atomic_cas(lock, [g], 0, 1, sem="acquire") == 1:
            pass
        out[g, :] = out[g, :] + x[i, :]
        hl.atomic_xchg(lock, [g], 0, sem="release")
    return out


def lock_add_ref(x: torch.Tensor, groups: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    ref = out.clone()
    ref.index_add_(0, groups.long(), x)
    return ref


@deuteron.kernel
def lock_tiles(grad_x_lock: torch.Tensor) -> torch.Tensor:
    # Helion's spin lock over tiles: the condition is over a tile, one value only
    # with blocks of one lane (the config space then offers only 1).
    for idx in hl.tile(grad_x_lock.size(0)):
        while hl.atomic_cas(grad_x_lock, [idx], 0, 1) == 1:
            pass
        hl.atomic_cas(grad_x_lock, [idx], 1, 0)
    return grad_x_lock


@deuteron.kernel
def never_runs(x: torch.Tensor) -> torch.Tensor:
    # A condition false when compiling: the body is never lowered.
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile]
        while False:
            v = v + 1
        out[tile] = v
    return out


@deuteron.kernel
def overwritten_unread(x: torch.Tensor) -> torch.Tensor:
    # `scratch` is carried (assigned in the body, defined before) but neither read
    # in the body nor after the loop: Triton drops it from the loop's results.
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        scratch = x[tile]
        v = x[tile]
        k = 0
        while k < 3:
            scratch = v * 3
            v = v * 0.5
            k += 1
        out[tile] = v
    return out
