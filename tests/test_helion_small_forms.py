"""Small Helion forms and Helion's error wording: torch.tensor(v) of a number in a
tile loop, a zero-width scratch tile, a host tensor stored whole, len() of a
string argument, x.new_empty(m, n), x[n].item() on the host; the classes and
the words of the errors for split ops, too many indices, several ellipses, a
boolean-mask index and hl.tile(a, b) unpacked into two tiles."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh

DTYPES = [torch.float32, torch.float16]


# ------------------------------------------------------------------ features


@deuteron.kernel
def add_tensor_constant(x: torch.Tensor, val: hl.constexpr) -> torch.Tensor:
    out = x.new_empty(x.shape)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + torch.tensor(val, dtype=torch.float32)
    return out


@deuteron.kernel
def add_tensor_int(x: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * torch.tensor(n)  # an int64 0-d tensor: x keeps its dtype
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_tensor_of_a_number_in_a_tile_loop(mode, dtype):
    x = torch.arange(40).to(dtype)
    torch.testing.assert_close(fresh(add_tensor_constant)(x, 16), x + torch.tensor(16.0))
    torch.testing.assert_close(fresh(add_tensor_int)(x, 3), x * torch.tensor(3))
    xi = torch.ones(64, dtype=torch.int32)
    got = fresh(add_tensor_constant)(xi, 16)
    assert got.dtype == torch.int32
    torch.testing.assert_close(got, torch.full([64], 17, dtype=torch.int32))


@deuteron.kernel
def tensor_of_a_list(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + torch.tensor([1.0, 2.0])
    return out


def test_torch_tensor_of_a_list_in_a_tile_loop_is_an_error(mode):
    with pytest.raises(exc.CompileError, match=r"torch.tensor\(...\) inside tile loops takes a number, got a list"):
        fresh(tensor_of_a_list)(torch.randn(8))


@deuteron.kernel
def zero_width(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        scratch = hl.zeros([tile, 0], dtype=x.dtype)
        out[tile, :] = scratch
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_width_local_allocation(mode, dtype):
    x = torch.empty([4, 0], dtype=dtype)
    got = fresh(zero_width)(x)
    assert got.shape == (4, 0)


@deuteron.kernel
def store_host_tensor_whole(src: torch.Tensor, dst: torch.Tensor, val: torch.Tensor):
    for i in hl.grid(src.shape[0]):
        dst[i] = val
        src[i] = dst[i]
    return src, dst


@deuteron.kernel
def store_host_tensor_whole_3d(dst: torch.Tensor, val: torch.Tensor) -> torch.Tensor:
    for i in hl.grid(dst.shape[0]):
        dst[i] = val
    return dst


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_host_tensor_stored_whole(mode, dtype):
    val = torch.randn(4).to(dtype)
    src, dst = fresh(store_host_tensor_whole)(torch.zeros(6, 4, dtype=dtype), torch.zeros(6, 4, dtype=dtype), val)
    torch.testing.assert_close(src, val.expand(6, -1))
    torch.testing.assert_close(dst, val.expand(6, -1))
    val3 = torch.randn(3, 5).to(dtype)
    got = fresh(store_host_tensor_whole_3d)(torch.zeros(7, 3, 5, dtype=dtype), val3)
    torch.testing.assert_close(got, val3.expand(7, -1, -1))


@deuteron.kernel
def gated(t: torch.Tensor, s: str, n: int) -> torch.Tensor:
    # (n, not a bool: Triton's interpreter cannot take a Python bool kernel argument)
    out = torch.zeros_like(t)
    for tile in hl.tile(t.size()):
        if n > 0 and len(s) > 2:
            out[tile] = t[tile] + len(s)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_len_of_a_string_argument(mode, dtype):
    t = torch.randn(16, 2).to(dtype)
    torch.testing.assert_close(fresh(gated)(t, "foo", 1), t + 3)
    torch.testing.assert_close(fresh(gated)(t, "fo", 1), torch.zeros_like(t))
    torch.testing.assert_close(fresh(gated)(t, "héllo", 1), t + 5)  # code points, not bytes


@deuteron.kernel
def rows_by_offset(q: torch.Tensor) -> torch.Tensor:
    m, d = q.shape
    o = q.new_empty(m, d)  # sizes as varargs
    for tile in hl.tile(m):
        o[tile, :] = q[tile, :] * 2
    return o


@pytest.mark.parametrize("dtype", DTYPES)
def test_new_empty_with_varargs_sizes(mode, dtype):
    q = torch.randn(10, 6).to(dtype)
    torch.testing.assert_close(fresh(rows_by_offset)(q), q * 2)


@deuteron.kernel(static_shapes=False)
def jagged_iota(out_offsets: torch.Tensor) -> torch.Tensor:
    n = out_offsets.size(0) - 1
    out = torch.zeros(out_offsets[n].item(), device=out_offsets.device)
    for tile_n in hl.tile(n):
        s = out_offsets[tile_n]
        e = out_offsets[tile_n + 1]
        lens = e - s
        max_len = lens.amax()
        for tile_l in hl.tile(max_len):
            idx = tile_l.index[None, :] + s[:, None]
            mask = tile_l.index[None, :] < lens[:, None]
            hl.store(out, [idx], idx, extra_mask=mask)
    return out


def test_item_of_an_indexed_host_tensor_sizes_a_host_allocation(mode):
    # out_offsets[n].item() with n a size: the host code reads it before the statement.
    offsets = torch.tensor([0, 2, 3, 5, 7])
    for n in (1, 3, 4):
        got = fresh(jagged_iota)(offsets[: n + 1].clone())
        torch.testing.assert_close(got, torch.arange(int(offsets[n]), dtype=torch.float32))


# ------------------------------------------------------------------ errors


@deuteron.kernel
def chunk_in_loop(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        a, b = torch.chunk(x[tile, :], 2, dim=-1)
        out[tile, :] = torch.cat([b, a], dim=-1)
    return out


@deuteron.kernel
def unbind_method_in_loop(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        a, b = x[tile, :].unbind(-1)
        out[tile, 0] = a + b
    return out


def test_split_ops_name_hl_split(mode):
    with pytest.raises(exc.UnsupportedSplitOperation,
                       match=r"torch\.chunk is not supported in Helion device loops \(inside tile loops\); "
                             r"to split a last dimension of size 2 use hl\.split\(\)"):
        fresh(chunk_in_loop)(torch.randn(8, 4))
    with pytest.raises(exc.UnsupportedSplitOperation, match=r"tensor method \.unbind\(\) is not supported in Helion "
                                                            r"device loops.*hl\.split\(\)"):
        fresh(unbind_method_in_loop)(torch.randn(8, 2))


@deuteron.kernel
def too_many_indices(x: torch.Tensor) -> torch.Tensor:
    out = x.new_empty(x.size(0), x.size(0))
    for tile in hl.tile(x.size(0)):
        out = x[tile, tile]
    return out


@deuteron.kernel
def two_ellipses(x: torch.Tensor) -> torch.Tensor:
    for _ in hl.grid(1):
        x[..., ...] = 1.0
    return x


@deuteron.kernel
def ellipsis_and_too_many(x: torch.Tensor) -> torch.Tensor:
    for i in hl.grid(x.size(0)):
        for j in hl.grid(x.size(1)):
            for k in hl.grid(1):
                x[i, j, k, ...] = 1.0
    return x


def test_index_count_errors(mode):
    with pytest.raises(exc.RankMismatch, match=r"too many indices for 'x': Expected ndim=1, but got ndim=2\. "
                                               r"You have too many indices"):
        fresh(too_many_indices)(torch.randn(8))
    with pytest.raises(exc.TypeInferenceError, match=r"an index can only have a single ellipsis"):
        fresh(two_ellipses)(torch.zeros(4, 8))
    with pytest.raises(exc.TypeInferenceError, match=r"too many indices for tensor of dimension 2"):
        fresh(ellipsis_and_too_many)(torch.zeros(4, 8))


@deuteron.kernel
def mask_index(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(x.shape):
        masked = x[mask]
        out[tile_m, tile_n] = masked.sum()
    return out


def test_boolean_mask_index_is_a_data_dependent_shape(mode):
    mask = torch.tensor([[True, False], [False, True]])
    with pytest.raises(exc.DataDependentOutputShapeNotSupported,
                       match=r"boolean mask indexing 'x\[mask\]' produces a data-dependent output shape"):
        fresh(mask_index)(torch.randn(2, 2), mask)


@deuteron.kernel
def tile_begin_end_unpacked(x: torch.Tensor) -> torch.Tensor:
    m = hl.specialize(x.size(0))
    d = x.size(2)
    for _tile_m, _tile_d in hl.tile(m, d):
        pass
    return x


@deuteron.kernel
def tile_begin_past_end(x: torch.Tensor) -> torch.Tensor:
    start = hl.specialize(x.size(0))
    for tile in hl.tile(start, x.size(2)):
        x[tile, 0, 0] = 0
    return x


def test_tile_begin_end_unpacked_into_two_is_an_unpack_error(mode):
    # hl.tile(m, d) is one loop from m to d: two targets are the mix-up with hl.tile([m, d]),
    # reported before the empty range.
    with pytest.raises(exc.FailedToUnpackTile, match="the loop has 1 dims but 2 targets"):
        fresh(tile_begin_end_unpacked)(torch.randn(192, 4, 128))
    with pytest.raises(exc.InvalidTileRange, match="begin=192, end=128"):
        fresh(tile_begin_past_end)(torch.randn(192, 4, 128))


# ------------------------------------------------- generated names vs user names


@deuteron.kernel
def topk_named_indices(x: torch.Tensor, k: hl.constexpr):
    m, n = x.shape
    out_vals = torch.empty(m, k, dtype=x.dtype, device=x.device)
    out_indices = torch.empty(m, k, dtype=torch.int64, device=x.device)
    for tile_m in hl.tile(m):
        # `indices` was named like the generated lanes of a dim (indices_<dim>)
        vals, indices = torch.topk(x[tile_m, :], k, dim=-1, largest=True)
        out_vals[tile_m, :] = vals
        out_indices[tile_m, :] = indices
    return out_vals, out_indices


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_variable_named_like_generated_names(mode, dtype):
    x = torch.randn(4, 16).to(dtype)
    vals, idx = fresh(topk_named_indices)(x, 4)
    ref = torch.topk(x, 4, dim=-1)
    torch.testing.assert_close(vals, ref.values)
    torch.testing.assert_close(idx, ref.indices)


@deuteron.kernel
def gather_rows_with_slices(index_source: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
    m, n = index_source.shape
    x, y, z = data.shape
    out = torch.empty([m, n, y, z], dtype=data.dtype, device=data.device)
    for t0, t1 in hl.tile([m, n]):
        indices = index_source[t0, t1]
        offset = indices * 0  # a name like the generated offset_<dim>
        mask = data[indices + offset, :, :]
        out[t0, t1, :, :] = mask
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_loaded_index_with_trailing_slices(mode, dtype):
    index_source = torch.randint(0, 10, (4, 8))
    data = torch.randn(10, 4, 6).to(dtype)
    torch.testing.assert_close(fresh(gather_rows_with_slices)(index_source, data), data[index_source, :, :])


# ------------------------------------------- hl.specialize of a size or a stride


@deuteron.kernel(static_shapes=False)
def add_last_size(x: torch.Tensor) -> torch.Tensor:
    n = hl.specialize(x.size(-1))
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] * 2 + n
    return out


@deuteron.kernel(static_shapes=False)
def add_row_stride(x: torch.Tensor) -> torch.Tensor:
    stride = hl.specialize(x.stride(0))
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + stride
    return out


def _strided(rows, cols, stride, dtype):
    return torch.as_strided(torch.randn((rows - 1) * stride + cols).to(dtype), (rows, cols), (stride, 1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_specialized_size_and_stride_key_the_kernel(mode, dtype):
    k = deuteron.kernel(static_shapes=False)(add_last_size.fn)  # a kernel that never bound
    a, b = torch.randn(16, 64).to(dtype), torch.randn(16, 32).to(dtype)
    assert k.specialization_key((a,)) == k.specialization_key((b,))  # not known before binding
    torch.testing.assert_close(k(a), a * 2 + 64)
    torch.testing.assert_close(k(b), b * 2 + 32)
    assert k.bind((a,)) is not k.bind((b,))
    assert k.specialization_key((a,)) != k.specialization_key((b,))
    assert k.bind((a,)) is k.bind((torch.randn(5, 64).to(dtype),))  # other sizes are still dynamic
    s = fresh(add_row_stride)
    xa, xb = _strided(8, 8, 13, dtype), _strided(8, 8, 17, dtype)
    torch.testing.assert_close(s(xa), xa + 13)
    torch.testing.assert_close(s(xb), xb + 17)
    assert s.bind((xa,)) is not s.bind((xb,))


@deuteron.kernel(static_shapes=False)
def add_inner_stride(xs: list[torch.Tensor]) -> torch.Tensor:
    x = xs[0]
    stride = hl.specialize(x.stride(-1))
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + stride
    return out


@deuteron.kernel(static_shapes=False)
def add_unspecialized_stride(x: torch.Tensor) -> torch.Tensor:
    stride = x.stride(0)
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] + stride
    return out


def test_strides_key_only_where_specialized(mode):
    # Dynamic shapes: strides are runtime values (not in the key, as in Helion), unless the
    # kernel hl.specializes one, also of a tensor inside a list argument (keyed by the
    # expression that reaches it, xs[0].stride(1)).
    x = torch.randn(16, 8)
    k = fresh(add_unspecialized_stride)
    assert k.bind((x,)) is k.bind((x.t(),))
    torch.testing.assert_close(k(x), x + 8)
    torch.testing.assert_close(k(x.t()), x.t() + 1)
    s = fresh(add_inner_stride)
    torch.testing.assert_close(s([x]), x + 1)
    torch.testing.assert_close(s([x.t()]), x.t() + 8)
    assert s.bind(([x],)) is not s.bind(([x.t()],))
    assert s.bind(([x],)).specialized_args == ("xs[0].stride(1)",)


@deuteron.kernel(static_shapes=False)
def specialized_width_accumulator(x: torch.Tensor) -> torch.Tensor:
    d = hl.specialize(x.size(1))
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        acc = hl.zeros([tile, d])  # the same dim as x[tile, :]
        acc += x[tile, :] + 1
        out[tile, :] = acc
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_specialized_size_still_lines_up_with_the_tensor_dims(mode, dtype):
    k = fresh(specialized_width_accumulator)
    for shape in ((100, 48), (30, 48), (30, 20)):
        x = torch.randn(*shape).to(dtype)
        torch.testing.assert_close(k(x), (x.float() + 1).to(dtype))


@deuteron.kernel
def rank_changes_in_branches(a: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(a)
    for ti in hl.tile(a.size(0)):
        if ti.begin < 1:
            x = hl.full([ti], 0.0, dtype=a.dtype)
        else:
            x = hl.full([ti, ti], 0.0, dtype=a.dtype)  # ERROR: rank 1 != rank 2
        out[ti] = x.sum()
    return a


@deuteron.kernel
def tensor_condition_with_rank_change(a: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(a)
    for ti in hl.tile(a.size(0)):
        if ti.index < 1:
            x = hl.full([ti], 0.0, dtype=a.dtype)
        else:
            x = hl.full([ti, ti], 0.0, dtype=a.dtype)
        out[ti] = x.sum()
    return a


@deuteron.kernel
def tensor_condition(a: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(a)
    for ti in hl.tile(a.size(0)):
        x = a[ti]
        if ti.index < 1:
            x = x + 1
        out[ti] = x
    return out


def test_a_variable_of_different_ranks_on_two_paths_is_an_error(mode):
    # Broadcasting the [ti] value to [ti, ti] would make x.sum() count each element ti times.
    with pytest.raises(exc.ControlFlowTensorMismatch, match=r"variable 'x': rank 1 \[ti\] in the if branch != rank 2"):
        fresh(rank_changes_in_branches)(torch.randn(4))
    # A tensor condition: the rank mismatch is reported first, as Helion does ...
    with pytest.raises(exc.ControlFlowTensorMismatch):
        fresh(tensor_condition_with_rank_change)(torch.randn(4))
    # ... and otherwise the condition itself.
    with pytest.raises(exc.CompileError, match="the condition of an if inside a tile loop must be a scalar"):
        fresh(tensor_condition)(torch.randn(4))


@deuteron.kernel(autotune_effort="none")
def slice_builtin_indices(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    # slice(None) is how an index list writes `:` (Helion's epilogue-subtiling test)
    for tile_m in hl.tile(x.size(0)):
        hl.atomic_add(out, [tile_m, slice(None)], x[tile_m, :] * 2.0)
        out[tile_m, slice(0, 4)] = x[tile_m, slice(None, 4)] - 1
    return out


def test_slice_builtin_in_indices(mode):
    x = torch.randn(32, 16)
    out = fresh(slice_builtin_indices)(x, torch.zeros(32, 16))
    expect = 2 * x
    expect[:, :4] = x[:, :4] - 1
    torch.testing.assert_close(out, expect)


def test_slice_builtin_takes_one_to_three_arguments(mode):
    @deuteron.kernel(autotune_effort="none")
    def bad(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = x[slice()][tile]
        return out

    with pytest.raises(deuteron.exc.CompileError, match=r"slice\(\) takes 1 to 3 positional arguments"):
        bad(torch.randn(8))


@deuteron.kernel(autotune_effort="none")
def aten_ops(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # torch.ops.aten.<op>[.<overload>] is the torch function of that name
    out = torch.empty([x.size(0), y.size(1)], dtype=torch.float32, device=x.device)
    for tile_m, tile_n in hl.tile([x.size(0), y.size(1)]):
        acc = torch.ops.aten.mm.default(x[tile_m, :], y[:, tile_n])
        acc = torch.ops.aten.add.Tensor(acc, 1.0)
        out[tile_m, tile_n] = torch.ops.aten.relu(torch.ops.aten.view.default(acc, [tile_m, tile_n]))
    return out


def test_aten_operators_are_torch_functions(mode):
    x, y = torch.randn(32, 16), torch.randn(16, 24)
    torch.testing.assert_close(fresh(aten_ops)(x, y), torch.relu(x @ y + 1.0), atol=1e-4, rtol=1e-4)


def test_aten_rand_of_an_integer_dtype_is_an_error(mode):
    @deuteron.kernel(autotune_effort="none")
    def int_rand(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = torch.ops.aten.rand.default([tile.block_size], dtype=torch.int32, device=x.device).to(x.dtype)
        return out

    with pytest.raises(deuteron.exc.CompileError, match="implicit RNG only supports floating-point dtypes"):
        int_rand(torch.randn(16))
