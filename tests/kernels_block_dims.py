"""Kernels that use a registered block size (hl.register_block_size) as a
tensor size before the tile loop that tiles with it, or with no such loop at
all, with their PyTorch references (tests/test_registered_block_dims.py on
the CPU, tests/gpu/test_registered_block_dims_gpu.py on the GPU)."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl


@deuteron.kernel
def lane_accumulated_row_sum(x: torch.Tensor) -> torch.Tensor:
    # An accumulator over the block's lanes, made before the loop that tiles
    # with the block size; its lanes are summed once at the end.
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    block_n = hl.register_block_size(n)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m, block_n], dtype=torch.float32)
        for tile_n in hl.tile(n, block_size=block_n):
            acc += x[tile_m, tile_n]
        out[tile_m] = acc.sum(-1).to(x.dtype)
    return out


def lane_accumulated_row_sum_ref(x: torch.Tensor) -> torch.Tensor:
    return x.float().sum(-1).to(x.dtype)


@deuteron.kernel
def lane_accumulated_shifted_sum(x: torch.Tensor, shift: float) -> torch.Tensor:
    # What joins the lanes is computed (not loaded): the lanes past the end of
    # a partial last tile must still count 0, not `shift`.
    m, n = x.size()
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    block_n = hl.register_block_size(n)
    for tile_m in hl.tile(m):
        acc = x.new_zeros([tile_m, block_n], dtype=torch.float32)
        for tile_n in hl.tile(n, block_size=block_n):
            acc = acc + (x[tile_m, tile_n] * 2 + shift)
        out[tile_m] = acc.sum(dim=1)
    return out


def lane_accumulated_shifted_sum_ref(x: torch.Tensor, shift: float) -> torch.Tensor:
    return (x.float() * 2 + shift).sum(-1)


@deuteron.kernel
def lane_accumulated_window_sum(x: torch.Tensor, begin: int, end: int) -> torch.Tensor:
    # A tile loop over [begin, end) with the registered block size.
    m = x.size(0)
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    block = hl.register_block_size(256)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m, block])
        for tile_n in hl.tile(begin, end, block_size=block):
            acc += torch.exp(x[tile_m, tile_n])
        out[tile_m] = acc.sum(-1)
    return out


def lane_accumulated_window_sum_ref(x: torch.Tensor, begin: int, end: int) -> torch.Tensor:
    return torch.exp(x[:, begin:end].float()).sum(-1)


@deuteron.kernel
def two_block_loss(y_pred: torch.Tensor, y_true: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # The form of Helion's kl_div example: both block sizes registered; inside
    # the loops hl.zeros([block_m, block_n]) is the loops' tiles, outside the
    # inner loop [tile_bt, block_n] is a lane accumulator.
    bt, v = y_pred.shape
    loss = torch.zeros([bt], dtype=torch.float32, device=y_pred.device)
    per_elem = torch.zeros_like(y_pred)
    block_n = hl.register_block_size(v)
    block_m = hl.register_block_size(bt)
    for tile_bt in hl.tile(bt, block_size=block_m):
        loss_sum = hl.zeros([tile_bt, block_n], dtype=torch.float32)
        for tile_v in hl.tile(v, block_size=block_n):
            term = hl.zeros([block_m, block_n], dtype=torch.float32)
            t = y_true[tile_bt, tile_v]
            term += t * (torch.log(torch.clamp(t, min=1e-6)) - y_pred[tile_bt, tile_v])
            per_elem[tile_bt, tile_v] = term
            loss_sum += term
        loss[tile_bt] = loss_sum.sum(dim=-1)
    return loss, per_elem


def two_block_loss_ref(y_pred: torch.Tensor, y_true: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    term = y_true * (torch.log(torch.clamp(y_true, min=1e-6)) - y_pred)
    return term.sum(-1), term


@deuteron.kernel
def untiled_block_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # The form of Helion's grouped_gemm: block sizes registered and never
    # tiled; hl.arange and hl.zeros of them share their dims.
    m, k = a.shape
    _, n = b.shape
    block_m = hl.register_block_size(16, 64)
    block_n = hl.register_block_size(16, 64)
    out = torch.zeros([m, n], dtype=torch.float32, device=a.device)
    for i, j in hl.grid([m, n]):
        if i * block_m < m:
            if j * block_n < n:
                rows = i * block_m + hl.arange(block_m)
                cols = j * block_n + hl.arange(block_n)
                rows_ok = rows < m
                cols_ok = cols < n
                acc = hl.zeros([block_m, block_n], dtype=torch.float32)
                for tile_k in hl.tile(k):
                    a_blk = hl.load(a, [rows, tile_k.index], extra_mask=rows_ok[:, None])
                    b_blk = hl.load(b, [tile_k.index, cols], extra_mask=cols_ok[None, :])
                    acc = torch.addmm(acc, a_blk, b_blk)
                hl.store(out, [rows, cols], acc, extra_mask=rows_ok[:, None] & cols_ok[None, :])
    return out


def untiled_block_matmul_ref(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a.float() @ b.float()


@deuteron.kernel
def lanes_after_the_loop(x: torch.Tensor) -> torch.Tensor:
    # The block size used after the loop that tiled with it: the lanes again,
    # never the finished loop's tile.
    m, n = x.size()
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    block_n = hl.register_block_size(n)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m, block_n])
        for tile_n in hl.tile(n, block_size=block_n):
            acc += x[tile_m, tile_n]
        bias = hl.full([tile_m, block_n], 0.5)
        out[tile_m] = (acc + bias).sum(-1)
    return out


def lanes_after_the_loop_ref(x: torch.Tensor, block_n: int) -> torch.Tensor:
    return x.float().sum(-1) + 0.5 * block_n


@deuteron.kernel
def fixed_block_rows(x: torch.Tensor) -> torch.Tensor:
    # The form of Helion's test_register_block_size_codegen_size_hint: a
    # whole dim of 16 lanes (hl.zeros([16, ...])) against a tile of a fixed
    # block of 16, and stored into that tile (its live lanes).
    bt, v = x.shape
    out = torch.zeros([bt], dtype=torch.float32, device=x.device)
    block_v = hl.register_block_size(v)
    for tile_bt in hl.tile(bt, block_size=16):
        rows = hl.zeros([16, block_v], dtype=torch.float32)
        for tile_v in hl.tile(v, block_size=block_v):
            rows = rows + x[tile_bt, tile_v] * 3
        out[tile_bt] = rows.sum(-1)
    return out


def fixed_block_rows_ref(x: torch.Tensor) -> torch.Tensor:
    return (x.float() * 3).sum(-1)


@deuteron.kernel
def lane_rows_matmul_colsum(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # A matmul accumulator over a registered block's lanes (M) that tiles of
    # a loop over that block feed: rows past the last tile's end add 0.
    m, k = a.shape
    _, n = b.shape
    block_m = hl.register_block_size(16, 64)
    out = torch.zeros([n], dtype=torch.float32, device=a.device)
    for tile_n in hl.tile(n):
        acc = hl.zeros([block_m, tile_n], dtype=torch.float32)
        for tile_m in hl.tile(m, block_size=block_m):
            acc = torch.addmm(acc, a[tile_m, :], b[:, tile_n])
        out[tile_n] = acc.sum(0)
    return out


def lane_rows_matmul_colsum_ref(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a.float() @ b.float()).sum(0)


@deuteron.kernel
def untiled_block_matmul_inner_grid(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # untiled_block_matmul with the column blocks an inner hl.grid loop (the
    # nesting of Helion's grouped_gemm): its index is cast on the device.
    m, k = a.shape
    _, n = b.shape
    block_m = hl.register_block_size(16, 64)
    block_n = hl.register_block_size(16, 64)
    out = torch.zeros([m, n], dtype=torch.float32, device=a.device)
    for i in hl.grid(m):
        if i * block_m < m:
            for j in hl.grid(n):
                if j * block_n < n:
                    rows = i * block_m + hl.arange(block_m)
                    cols = j * block_n + hl.arange(block_n)
                    acc = hl.zeros([block_m, block_n], dtype=torch.float32)
                    for tile_k in hl.tile(k):
                        a_blk = hl.load(a, [rows, tile_k.index], extra_mask=(rows < m)[:, None])
                        b_blk = hl.load(b, [tile_k.index, cols], extra_mask=(cols < n)[None, :])
                        acc = torch.addmm(acc, a_blk, b_blk)
                    hl.store(out, [rows, cols], acc, extra_mask=(rows < m)[:, None] & (cols < n)[None, :])
    return out
