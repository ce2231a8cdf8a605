"""Scalars and loop bounds read from tensors (`t.item()`, `hl.tile(num_elements)`,
`hl.tile(end[0])`), lists assigned by index in tile loops, `tile + n`, and the
errors Helion raises around them: in both CPU modes, against PyTorch."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh


@deuteron.kernel
def add_item(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    v = s.item()
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + v
    return out


@deuteron.kernel
def prefix_plus_one(x: torch.Tensor, num_elements: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile in hl.tile(num_elements, block_size=8):
        out[tile] = x[tile] + 1
    return out


@deuteron.kernel
def prefix_rows_by_item(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for i in hl.grid(rows.item()):
        out[i, :] = x[i, :] * 2
    return out


@deuteron.kernel
def row_sums_to_loaded_end(x: torch.Tensor, begin: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    out = x.new_empty([x.size(0)])
    for tile_m in hl.tile(x.size(0)):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(begin[0], end[0]):
            acc += x[tile_m, tile_n].sum(-1)
        out[tile_m] = acc
    return out


@deuteron.kernel
def row_sums_to_scalar_tensor(x: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    out = x.new_empty([x.size(0)])
    for tile_m in hl.tile(x.size(0)):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(end):  # a 0-d tensor: loaded in the kernel
            acc += x[tile_m, tile_n].sum(-1)
        out[tile_m] = acc
    return out


@deuteron.kernel
def next_minus_this(offsets: torch.Tensor) -> torch.Tensor:
    n = offsets.size(0) - 1
    out = offsets.new_empty([n])
    for tile in hl.tile(n):
        out[tile] = offsets[tile + 1] - offsets[tile]
    return out


@deuteron.kernel
def list_register_cache(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(a)
    for tile in hl.tile(a.size(0)):
        cached = [hl.zeros([tile], dtype=a.dtype)] * 2
        srcs = (a, b)
        total = hl.zeros([tile], dtype=torch.float32)
        for i in hl.static_range(2):
            v = srcs[i][tile]
            cached[i] = v
            total = total + v.float()
        mean = total / 2
        out[tile] = (cached[0] - cached[1]) * mean.to(a.dtype)
    return out


@pytest.mark.parametrize("value", [5.0, -1.5])
def test_item_of_a_float_tensor_is_a_runtime_scalar(mode, value):
    x = torch.randn(100)
    k = fresh(add_item)
    torch.testing.assert_close(k(x, torch.tensor(value)), x + value)
    # another value: the same compiled kernel (the value is an argument, not a key)
    torch.testing.assert_close(k(x, torch.tensor(value * 3)), x + value * 3)
    assert len(k._bound) == 1


def test_item_of_an_int_tensor_is_a_runtime_int(mode):
    x = torch.randn(100).to(torch.float16)
    torch.testing.assert_close(fresh(add_item)(x, torch.tensor(3)), x + 3)


@pytest.mark.parametrize("n", [0, 5, 64, 100, 128])
def test_top_level_bound_from_a_tensor(mode, n):
    x = torch.randn(128)
    expect = torch.zeros_like(x)
    expect[:n] = x[:n] + 1
    k = fresh(prefix_plus_one)
    torch.testing.assert_close(k(x, torch.tensor(n)), expect)


def test_one_kernel_serves_every_tensor_bound(mode):
    x = torch.randn(128)
    k = fresh(prefix_plus_one)
    for n in (3, 77):
        expect = torch.zeros_like(x)
        expect[:n] = x[:n] + 1
        torch.testing.assert_close(k(x, torch.tensor([n], dtype=torch.int32)), expect)
    assert len(k._bound) == 1


def test_grid_bound_from_item(mode):
    x = torch.randn(10, 6)
    expect = torch.zeros_like(x)
    expect[:7] = x[:7] * 2
    torch.testing.assert_close(fresh(prefix_rows_by_item)(x, torch.tensor(7)), expect)


@pytest.mark.parametrize("begin,end", [(0, 200), (100, 200), (37, 38), (50, 50)])
def test_inner_bounds_loaded_from_tensors(mode, begin, end):
    x = torch.randn(64, 256)
    got = fresh(row_sums_to_loaded_end)(x, torch.tensor([begin]), torch.tensor([end], dtype=torch.int32))
    torch.testing.assert_close(got, x[:, begin:end].sum(-1), atol=1e-4, rtol=1e-4)


def test_inner_bound_from_a_0d_tensor(mode):
    x = torch.randn(16, 100)
    got = fresh(row_sums_to_scalar_tensor)(x, torch.tensor(61))
    torch.testing.assert_close(got, x[:, :61].sum(-1), atol=1e-4, rtol=1e-4)


def test_a_bound_tensor_needs_one_element(mode):
    with pytest.raises(exc.CompileError, match="has 2 elements, not one"):
        fresh(prefix_plus_one)(torch.randn(8), torch.tensor([1, 2]))


def test_tile_plus_int_offsets_the_indices(mode):
    offsets = torch.tensor([0, 2, 3, 5, 7, 11, 11, 20])
    torch.testing.assert_close(fresh(next_minus_this)(offsets), offsets[1:] - offsets[:-1])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_list_element_assignment_in_a_tile_loop(mode, dtype):
    a = torch.randn(50, dtype=dtype)
    b = torch.randn(50, dtype=dtype)
    mean = ((a.float() + b.float()) / 2).to(dtype)
    torch.testing.assert_close(fresh(list_register_cache)(a, b), (a - b) * mean, atol=2e-3, rtol=2e-3)


def test_static_range_index_needs_uniform_tuple(mode):
    @deuteron.kernel
    def mixed(x: torch.Tensor) -> torch.Tensor:
        pair = (x, 1)
        for _t in hl.tile(x.size(0)):
            for i in hl.static_range(2):
                _ = pair[i]
        return x

    with pytest.raises(exc.TypeInferenceError, match="requires all elements to have the same type"):
        mixed(torch.ones(8))


def test_literal_index_of_a_mixed_tuple_is_fine(mode):
    @deuteron.kernel
    def literal(x: torch.Tensor) -> torch.Tensor:
        pair = (x, 3)
        out = torch.empty_like(x)
        for t in hl.tile(x.size(0)):
            out[t] = pair[0][t] * pair[1]
        return out

    x = torch.randn(8)
    torch.testing.assert_close(literal(x), x * 3)


@pytest.mark.parametrize("acc_dtype", [torch.float16, torch.float32])
def test_integer_dot_into_a_float_accumulator_is_an_error(mode, acc_dtype):
    @deuteron.kernel
    def int_dot(x: torch.Tensor, y: torch.Tensor, acc_dtype: torch.dtype) -> torch.Tensor:
        m, k = x.size()
        _, n = y.size()
        out = torch.empty([m, n], dtype=acc_dtype, device=x.device)
        for tm, tn in hl.tile([m, n]):
            acc = hl.zeros([tm, tn], dtype=acc_dtype)
            for tk in hl.tile(k):
                acc = hl.dot(x[tm, tk], y[tk, tn], acc=acc)
            out[tm, tn] = acc
        return out

    x = torch.randint(-10, 10, (32, 32), dtype=torch.int8)
    with pytest.raises(exc.TypeInferenceError, match="cannot accumulate into a") as e:
        int_dot(x, x, acc_dtype)
    assert isinstance(e.value, TypeError)  # what Helion's Triton raises


def test_a_device_loop_left_empty_is_an_error(mode):
    @deuteron.kernel
    def empty(x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros_like(x)
        for _t in hl.tile(x.size(0)):
            _a = 1
        return out

    with pytest.raises(exc.EmptyDeviceLoopAfterDCE, match="Device loop is empty after dead-code elimination"):
        empty(torch.randn(4))


def test_a_device_loop_whose_reads_go_unused_runs(mode):
    # Helion's rule: only a loop that never touches a tensor is an error; one
    # whose loads are all dead launches and does nothing (the kernel returns
    # host numbers here).
    @deuteron.kernel
    def scalars(x: torch.Tensor, a: int, b: int) -> tuple[int, int]:
        for tile in hl.tile(x.size()):
            _ = x[tile] + 1
        return a * 2, b * 3

    assert scalars(torch.randn(4, 8), 10, 20) == (20, 60)


def test_atomic_on_a_value_of_the_loop_is_an_error(mode):
    @deuteron.kernel
    def atomic_on_registers(x: torch.Tensor) -> torch.Tensor:
        for tile in hl.tile(x.size(0), block_size=32):
            acc = hl.zeros([tile], dtype=x.dtype)
            hl.atomic_add(acc, [tile], x[tile])
        return x

    with pytest.raises(exc.AtomicOnDeviceTensor, match=r"hl\.atomic_add\(\)"):
        atomic_on_registers(torch.ones(64))


@deuteron.kernel
def host_hl_zeros(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    result = hl.zeros([m, n])
    filled = hl.full([m], 2.5, torch.float32)
    for tile in hl.tile(m):
        result[tile, :] = x[tile, :] * filled[tile][:, None]
    return result


def test_hl_zeros_and_full_in_host_code_allocate(mode):
    x = torch.randn(9, 5)
    got = fresh(host_hl_zeros)(x)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, x * 2.5)


def test_a_grid_bounded_by_a_tensor_is_read_on_the_device(mode):
    # Helion's rule: the programs read the bound themselves (no .item(), no host
    # sync), so the launch is persistent: one program per SM covering the tiles.
    x, n = torch.randn(64), torch.tensor(37)
    bound = fresh(prefix_plus_one).bind((x, n))
    assert bound.config_spec.allowed_pid_types == ("persistent_blocked", "persistent_interleaved")
    assert bound.default_config()["pid_type"] == "persistent_blocked"
    with pytest.raises(exc.ConfigError, match="bounded by a tensor's value .* requires a persistent pid_type"):
        bound.normalize_config({"block_sizes": [], "pid_type": "flat"})
    code = bound.to_triton_code(bound.default_config())
    host = code.split("\ndef prefix_plus_one(")[1].split("\ndef ")[0]
    assert ".item()" not in host and "tl.load(num_elements_item_tensor)" in code
    for pid_type in ("persistent_blocked", "persistent_interleaved"):
        for value in (0, 1, 37, 64):
            run = bound.compile_config(deuteron.Config(pid_type=pid_type))
            expect = torch.zeros_like(x)
            expect[:value] = x[:value] + 1
            torch.testing.assert_close(run(x, torch.tensor(value)), expect)
    rows = fresh(prefix_rows_by_item)
    xr = torch.randn(10, 6)
    torch.testing.assert_close(rows(xr, torch.tensor(4)), torch.cat([xr[:4] * 2, torch.zeros(6, 6)]))
