"""Index tensors as PyTorch's advanced indexing reads them, in both CPU modes,
against PyTorch eager on the same index tensors: several index tensors (one
with two or more axes) broadcast together, placed where the first is when only
scalars separate them, else first; one dim on two axes (x[t.index, t.index],
x[t, t]: the block of x[i, j] for i, j in the tile, as Helion reads it); loads,
stores, atomics and masks of such indices; torch.gather in tile loops;
argmax/argmin without dim; a merged dim (a reshape of a stack) stored into a
slice of as many lanes.
"""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh

DTYPES = [torch.float32, torch.float16]


def run(kernel, args, block_sizes, **config):
    return fresh(kernel).bind(args).compile_config(deuteron.Config(block_sizes=block_sizes, **config))(*args)


# ------------------------------------------------ index tensors broadcast together


@deuteron.kernel
def rows_by_cols(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    m, n = rows.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tm, tn in hl.tile([m, n]):
        # [tm, tn] and [tn] broadcast to [tm, tn]; so do [tm, 1] and [1, tn].
        out[tm, tn] = x[rows[tm, tn], cols[tn]] + x[tm.index[:, None], tn.index[None, :]]
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("blocks", [[4, 8], [1, 8], [4, 1], [16, 16]])
def test_index_tensors_broadcast_together(mode, dtype, blocks):
    x = torch.randn(20, 30).to(dtype)
    rows, cols = torch.randint(0, 20, (13, 11)), torch.randint(0, 30, (11,))
    torch.testing.assert_close(run(rows_by_cols, (x, rows, cols), blocks), x[rows, cols] + x[:13, :11])


def test_index_tensors_broadcast_grid_is_not_offered_flattening(mode):
    # The grid's values hold tm and tn apart (tm.index[:, None], tn.index[None, :]),
    # so flatten_loops has no entry for it (config/loop_entries: a loop is flattened
    # only where every value holds all or none of its dims, side by side).
    x = torch.randn(20, 30)
    rows, cols = torch.randint(0, 20, (13, 11)), torch.randint(0, 30, (11,))
    bound = fresh(rows_by_cols).bind((x, rows, cols))
    assert bound.config_spec["flatten_loops"] == []
    with pytest.raises(deuteron.exc.ConfigError, match="flatten_loops"):
        run(rows_by_cols, (x, rows, cols), [4, 8], flatten_loops=[True])
    torch.testing.assert_close(run(rows_by_cols, (x, rows, cols), [4, 8]), x[rows, cols] + x[:13, :11])


@deuteron.kernel
def apart(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, n = a.size()
    out = torch.empty([m, n, x.size(1)], dtype=x.dtype, device=x.device)
    for tm, tn in hl.tile([m, n]):
        out[tm, tn, :] = x[a[tm, tn], :, b[tm, tn]]
    return out


@deuteron.kernel
def after_a_tile(x: torch.Tensor, a: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    n = a.size(0)
    out = torch.empty([x.size(0), n, n], dtype=x.dtype, device=x.device)
    for tb, tn in hl.tile([x.size(0), n]):
        out[tb, tn, :] = x[tb, a[tn][:, None], c[None, :]]
    return out


@deuteron.kernel
def scalar_between(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, n = a.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tm, tn in hl.tile([m, n]):
        out[tm, tn] = x[a[tm, tn], 2, b[tm, tn]]
    return out


@deuteron.kernel
def none_between(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, n = a.size()
    out = torch.empty([m, n, 1], dtype=x.dtype, device=x.device)
    for tm, tn in hl.tile([m, n]):
        out[tm, tn, :] = x[a[tm, tn], None, b[tm, tn]]
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_the_broadcast_shape_goes(mode, dtype):
    # PyTorch's rule: index tensors separated by a slice or None put their
    # shape first; a scalar between them does not separate them.
    x3 = torch.randn(7, 5, 9).to(dtype)
    a, b = torch.randint(0, 7, (10, 6)), torch.randint(0, 9, (10, 6))
    torch.testing.assert_close(run(apart, (x3, a, b), [4, 8]), x3[a, :, b])
    torch.testing.assert_close(run(scalar_between, (x3, a, b), [4, 8]), x3[a, 2, b])
    a5, c9 = torch.randint(0, 5, (6,)), torch.randint(0, 9, (6,))
    torch.testing.assert_close(run(after_a_tile, (x3, a5, c9), [2, 4]), x3[:, a5[:, None], c9[None, :]])
    x = torch.randn(20, 30).to(dtype)
    a2, b2 = torch.randint(0, 20, (10, 6)), torch.randint(0, 30, (10, 6))
    torch.testing.assert_close(run(none_between, (x, a2, b2), [4, 8]), x[a2, None, b2])


@deuteron.kernel
def whole_dim_pairs(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tb in hl.tile(x.size(0)):
        out[tb, :, :] = x[tb, hl.arange(8)[:, None], hl.arange(8)[None, :]].transpose(0, 1).transpose(0, 1)
    return out


def test_one_whole_dim_broadcast_on_two_axes(mode):
    # hl.arange(8)[:, None] and hl.arange(8)[None, :]: an [8, 8] block.
    x = torch.randn(6, 8, 8)
    torch.testing.assert_close(run(whole_dim_pairs, (x,), [4]), x)


@deuteron.kernel
def scatter_add(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    m, n = rows.size()
    for tm, tn in hl.tile([m, n]):
        hl.atomic_add(x, [rows[tm, tn], cols[tn][None, :]], v[tm, tn])
    return x


@deuteron.kernel
def masked_gather(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    m, n = rows.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tm, tn in hl.tile([m, n]):
        r = rows[tm, tn]
        out[tm, tn] = hl.load(x, [r, cols[tn][None, :]], extra_mask=r >= 0)
    return out


def test_broadcast_index_in_atomics_and_masked_loads(mode):
    rows, cols, v = torch.randint(0, 20, (13, 11)), torch.randint(0, 30, (11,)), torch.randn(13, 11)
    want = torch.zeros(20, 30)
    want.index_put_((rows, cols[None, :].expand(13, 11)), v, accumulate=True)
    torch.testing.assert_close(run(scatter_add, (torch.zeros(20, 30), rows, cols, v), [4, 8]), want)
    x = torch.randn(20, 30)
    rows = torch.randint(-3, 20, (13, 11))
    want = torch.where(rows >= 0, x[rows.clamp(min=0), cols[None, :]], 0.0)
    torch.testing.assert_close(run(masked_gather, (x, rows, cols), [4, 8]), want)


@deuteron.kernel(static_shapes=False)
def scatter_rows(dy: torch.Tensor, indices: torch.Tensor, width: int) -> torch.Tensor:
    dx = dy.new_zeros(dy.size(0), width)
    for tile_m in hl.tile(dy.size(0)):
        dx[tile_m.index[:, None], indices[tile_m, :]] = dy[tile_m, :]
    return dx


@pytest.mark.parametrize("dtype", DTYPES)
def test_broadcast_index_store_masks_the_partial_tile(mode, dtype):
    dy = torch.randn(5, 8).to(dtype)
    idx = torch.stack([torch.randperm(20)[:8] for _ in range(5)])
    want = torch.zeros(5, 20, dtype=dtype)
    want[torch.arange(5)[:, None], idx] = dy
    torch.testing.assert_close(run(scatter_rows, (dy, idx, 20), [2]), want)


@deuteron.kernel
def spmm(col: torch.Tensor, val: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, k = col.shape
    n = b.size(1)
    out = torch.empty((m, n), dtype=b.dtype, device=b.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            rows = b[col[tile_m, tile_k][:, :, None], tile_n.index[None, None, :]]
            acc = acc + (val[tile_m, tile_k][:, :, None] * rows).sum(dim=1)
        out[tile_m, tile_n] = acc.to(out.dtype)
    return out


@pytest.mark.parametrize("blocks", [[8, 8, 4], [1, 8, 4], [4, 1, 1]])
def test_gathered_rows_in_an_inner_loop(mode, blocks):
    col, val, b = torch.randint(0, 10, (13, 10)), torch.rand(13, 10), torch.rand(10, 9)
    want = (val[:, :, None] * b[col]).sum(1)
    torch.testing.assert_close(run(spmm, (col, val, b), blocks), want, rtol=1e-5, atol=1e-5)


@deuteron.kernel
def mismatched(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(a, dtype=x.dtype)
    for tm, tn in hl.tile(a.size()):
        out[tm, tn] = x[a[tm, tn], b[tn, tm]]
    return out


def test_index_tensors_that_do_not_broadcast_are_a_shape_error(mode):
    a = torch.zeros(8, 8, dtype=torch.int64)
    with pytest.raises(exc.ShapeMismatch, match="cannot be broadcast together"):
        run(mismatched, (torch.randn(8, 8), a, a), [4, 4])


# ------------------------------------------------ one dim on two axes


@deuteron.kernel
def diagonal_blocks(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for t in hl.tile(x.size(0)):
        out[t.index, t.index] = x[t, t] * 2
    return out


@deuteron.kernel(static_shapes=True)
def store_with_mixed_indices(tensor_idx: torch.Tensor, data: torch.Tensor, k: int) -> torch.Tensor:
    m, n = data.size()
    k = hl.specialize(k)
    out = torch.zeros([m, m, k], device=data.device, dtype=data.dtype)
    for tile_m in hl.tile(m):
        val = hl.load(data, [tile_m, hl.arange(k, dtype=torch.int32)])
        val_3d = val[:, None, :].expand(val.size(0), val.size(0), k)
        hl.store(out, [tensor_idx[tile_m], tile_m.index, hl.arange(k, dtype=torch.int32)], val_3d)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("block", [1, 4, 8])
def test_one_tile_on_two_axes_is_its_block(mode, dtype, block):
    x = torch.randn(20, 20).to(dtype)
    want = torch.zeros_like(x)
    for s in range(0, 20, block):
        want[s:s + block, s:s + block] = x[s:s + block, s:s + block] * 2
    torch.testing.assert_close(run(diagonal_blocks, (x,), [block]), want)
    data = torch.randn(10, 16).to(dtype)
    want = torch.zeros(10, 10, 16, dtype=dtype)
    for s in range(0, 10, block):
        want[s:s + block, s:s + block, :] = data[s:s + block, None, :]
    got = run(store_with_mixed_indices, (torch.arange(10, dtype=torch.int32), data, 16), [block])
    torch.testing.assert_close(got, want)


# ------------------------------------------------ torch.gather


@deuteron.kernel
def gather_cols(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    n, k = idx.size()
    out = torch.empty([n, k], dtype=x.dtype, device=x.device)
    for tile_n, tile_k in hl.tile([n, k]):
        out[tile_n, tile_k] = torch.gather(x[tile_n, :], 1, idx[tile_n, tile_k])
    return out


@deuteron.kernel
def gather_rows(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    k, m = idx.size()
    out = torch.empty([k, m], dtype=x.dtype, device=x.device)
    for tile_k, tile_m in hl.tile([k, m]):
        out[tile_k, tile_m] = x[:, tile_m].gather(0, idx[tile_k, tile_m]) * 2
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("blocks", [[4, 8], [1, 8], [8, 1]])
def test_gather_along_either_dim(mode, dtype, blocks):
    x = torch.randn(13, 32).to(dtype)
    idx = torch.randint(0, 32, (13, 7))
    torch.testing.assert_close(run(gather_cols, (x, idx), blocks), torch.gather(x, 1, idx))
    idx0 = torch.randint(0, 13, (7, 32))
    torch.testing.assert_close(run(gather_rows, (x, idx0), blocks), torch.gather(x, 0, idx0) * 2)


@deuteron.kernel
def gather_int32(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    out = torch.empty(idx.size(), dtype=x.dtype, device=x.device)
    for tile_n, tile_k in hl.tile(idx.size()):
        out[tile_n, tile_k] = torch.gather(x[tile_n, :], 1, idx[tile_n, tile_k])
    return out


@deuteron.kernel
def gather_other_tile(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    out = torch.empty(idx.size(), dtype=x.dtype, device=x.device)
    for tile_n, tile_k in hl.tile(idx.size()):
        out[tile_n, tile_k] = torch.gather(x[tile_k, :], 1, idx[tile_n, tile_k])
    return out


def test_gather_errors(mode):
    x = torch.randn(8, 8)
    with pytest.raises(exc.CompileError, match="Expected dtype int64 for index"):
        run(gather_int32, (x, torch.zeros(8, 8, dtype=torch.int32)), [4, 4])
    with pytest.raises(exc.CompileError, match=r"dimension 0 \(tile_n\) to be the input's \(tile_k\)"):
        run(gather_other_tile, (x, torch.zeros(8, 8, dtype=torch.int64)), [4, 4])


# ------------------------------------------------ argmax / argmin without dim


@deuteron.kernel
def block_arg_extremes(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    for tile_m, tile_n in hl.tile(x.size()):
        v = x[tile_m, tile_n]
        out[tile_m.id, tile_n.id, 0] = torch.argmax(v)
        out[tile_m.id, tile_n.id, 1] = v.argmin()
    return out


@deuteron.kernel
def arg_extremes_1d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([2], dtype=torch.int64, device=x.device)
    for tile_n in hl.tile(x.size(0)):
        out[0] = torch.argmin(x[tile_n])
        out[1] = torch.argmax(x[tile_n], keepdim=True)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("blocks", [[4, 8], [1, 8], [16, 16], [4, 1]])
def test_argmax_without_dim_is_over_the_flattened_block(mode, dtype, blocks):
    x = torch.randn(10, 13).to(dtype)
    x[3, 5] = x[3, 9] = float("nan")  # the first NaN wins
    x[7, 2] = x[7, 11] = 100.0  # ties: the first in row-major order
    x[8, 1] = x[9, 12] = -100.0
    bm, bn = blocks
    gm, gn = -(-10 // bm), -(-13 // bn)
    got = run(block_arg_extremes, (x, torch.zeros(gm, gn, 2, dtype=torch.int64)), blocks)
    for i in range(gm):
        for j in range(gn):
            blk = x[i * bm:(i + 1) * bm, j * bn:(j + 1) * bn]
            assert got[i, j, 0].item() == torch.argmax(blk).item(), (i, j)
            assert got[i, j, 1].item() == torch.argmin(blk).item(), (i, j)
    y = torch.randn(16).to(dtype)
    assert run(arg_extremes_1d, (y,), [16]).tolist() == [y.argmin().item(), y.argmax().item()]


# ------------------------------------------------ a merged dim into a slice of its lanes


@deuteron.kernel(static_shapes=True)
def interleave(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, n = a.shape
    out = torch.zeros(m * 2, n, dtype=a.dtype, device=a.device)
    for tile_m in hl.tile(m):
        for tile_n in hl.tile(n):
            pair = torch.stack([a[tile_m, tile_n], b[tile_m, tile_n]], dim=1)
            rows = pair.reshape(tile_m.block_size * 2, tile_n.block_size)
            out[tile_m.begin * 2:tile_m.begin * 2 + tile_m.block_size * 2, tile_n] = rows
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_stacked_rows_store_into_a_slice_of_twice_the_block(mode, dtype):
    a, b = torch.randn(64, 48).to(dtype), torch.randn(64, 48).to(dtype)
    want = torch.zeros(128, 48, dtype=dtype)
    want[0::2], want[1::2] = a, b
    torch.testing.assert_close(run(interleave, (a, b), [16, 16]), want)


# ------------------------------------------------ the Triton code compiles for Hopper


@pytest.mark.skipif(__import__("deuteron.runtime.env", fromlist=["x"]).triton_interpret(),
                    reason="compiles real Triton kernels; run without TRITON_INTERPRET")
def test_the_triton_code_compiles_for_sm90(monkeypatch):
    from deuteron.runtime.aot import compile_for_target

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")  # bind CPU tensors (the code is generated for an H100)
    i64 = torch.int64
    cases = [
        (rows_by_cols, (torch.randn(200, 300), torch.zeros(130, 110, dtype=i64), torch.zeros(110, dtype=i64)), [16, 32]),
        (apart, (torch.randn(70, 50, 90), torch.zeros(100, 60, dtype=i64), torch.zeros(100, 60, dtype=i64)), [16, 16]),
        (scatter_add, (torch.zeros(200, 300), torch.zeros(130, 110, dtype=i64), torch.zeros(110, dtype=i64),
                       torch.randn(130, 110)), [16, 32]),
        (spmm, (torch.zeros(130, 64, dtype=i64), torch.rand(130, 64), torch.rand(64, 96)), [16, 32, 16]),
        (diagonal_blocks, (torch.randn(100, 100),), [32]),
        (gather_cols, (torch.randn(130, 64, dtype=torch.float16), torch.zeros(130, 70, dtype=i64)), [16, 32]),
        (gather_rows, (torch.randn(130, 64), torch.zeros(70, 64, dtype=i64)), [16, 32]),
        (block_arg_extremes, (torch.randn(100, 130), torch.zeros(4, 3, 2, dtype=i64)), [32, 64]),
        (interleave, (torch.randn(256, 128), torch.randn(256, 128)), [32, 64]),
    ]
    for kernel, args, blocks in cases:
        bound = fresh(kernel).bind(args)
        for launch in compile_for_target(bound, deuteron.Config(block_sizes=blocks), args):
            assert launch.compiled.asm["cubin"], kernel.fn.__name__


def test_masked_gather_under_dynamic_shapes(mode):
    # The lanes a mask leaves out are clamped into the tensor before the read; the
    # tensor's size is a value of the code under dynamic shapes, not a name.
    k = deuteron.kernel(static_shapes=False)(masked_gather.fn)
    x, cols = torch.randn(20, 30), torch.randint(0, 30, (11,))
    rows = torch.randint(-3, 20, (13, 11))
    want = torch.where(rows >= 0, x[rows.clamp(min=0), cols[None, :]], 0.0)
    torch.testing.assert_close(run(k, (x, rows, cols), [4, 8]), want)
