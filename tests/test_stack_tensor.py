"""StackTensors (hl.stacktensor_like) in both CPU modes against PyTorch
(tests/kernels_stack.py): loads and stores through uint64 addresses, masks on
the pointers' dim and the user's, strided and offset tensors, and the errors
for the forms that are not supported."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from deuteron.language import StackTensor, stacktensor_like
from deuteron.runtime.env import triton_interpret
from conftest import fresh

import kernels_stack as K
from kernels_stack import pointers


def close(a, b, tol=1e-5):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


def run(kernel, args, block_sizes=None, **config):
    kernel = fresh(kernel)
    if block_sizes is None and not config:
        return kernel(*args)
    if block_sizes is not None:
        config["block_sizes"] = block_sizes
    return kernel.bind(args).compile_config(config)(*args)


@pytest.mark.parametrize("config", [{}, {"block_sizes": [4]}, {"block_sizes": [8], "reduction_loops": [2]}])
def test_sum_over_the_stack(mode, config):
    torch.manual_seed(0)
    tensors = [torch.randn(13) for _ in range(5)]
    close(run(K.stack_sum, (pointers(tensors), tensors[0]), **config), K.stack_sum_ref(tensors))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("block_sizes", [None, [4, 8, 2], [8, 4, 4], [1, 16, 8], [4, 8, 1]])
def test_stack_walked_in_tiles_of_pointers(mode, dtype, block_sizes):
    torch.manual_seed(1)
    tensors = [torch.randn(9, 11).to(dtype) for _ in range(7)]
    w = torch.randn(7)
    got = run(K.weighted_rows, (pointers(tensors), tensors[0], w), block_sizes)
    close(got, K.weighted_rows_ref(tensors, w), tol=1e-3 if dtype == torch.float16 else 1e-5)


@pytest.mark.parametrize("block_sizes", [None, [4], [16]])
def test_store_one_row_per_tensor(mode, block_sizes):
    torch.manual_seed(2)
    x = torch.randn(10)
    scale = torch.randn(3)
    tensors = [torch.full((10,), float("nan")) for _ in range(3)]
    run(K.scatter_scaled, (x, pointers(tensors), tensors[0], scale), block_sizes)
    for j, t in enumerate(tensors):
        close(t, x * scale[j])


@pytest.mark.parametrize("dtype", [torch.float32, torch.int32])
def test_load_and_store_under_a_mask(mode, dtype):
    src = [torch.arange(12, dtype=dtype) * (j + 1) for j in range(4)]
    dst = [torch.full((12,), -7, dtype=dtype) for _ in range(4)]
    run(K.masked_copy_between_stacks, (pointers(src), pointers(dst), src[0], 5), [4])
    for s, d in zip(src, dst):
        want = torch.full((12,), -7, dtype=dtype)
        want[:5] = s[:5] + 1
        assert torch.equal(d, want)


@pytest.mark.parametrize("block_sizes", [None, [2, 4]])
def test_stacked_tensors_with_the_examples_strides(mode, block_sizes):
    torch.manual_seed(3)
    tensors = [torch.randn(6, 5).t() for _ in range(3)]  # [5, 6] with strides (1, 5)
    got = run(K.transposed_stack_copy, (pointers(tensors), tensors[0]), block_sizes)
    close(got, torch.stack(tensors))


def test_pointers_into_one_buffer(mode):
    # Addresses are only numbers: here six rows of one buffer, in another order.
    buf = torch.randn(6, 8)
    rows = [buf[i] for i in (4, 0, 5, 1, 3, 2)]
    close(run(K.stack_sum, (pointers(rows), rows[0])), K.stack_sum_ref(rows))


def test_one_pointer_per_program(mode):
    torch.manual_seed(4)
    tensors = [torch.randn(6) for _ in range(5)]
    close(run(K.one_pointer_each, (pointers(tensors), tensors[0])), torch.stack(tensors) * 2)


def test_augmented_assignment_through_a_stack(mode):
    torch.manual_seed(5)
    tensors = [torch.randn(9) for _ in range(3)]
    before = [t.clone() for t in tensors]
    y = torch.randn(9)
    run(K.add_in_place, (pointers(tensors), tensors[0], y), [4])
    for b, t in zip(before, tensors):
        close(t, b + y)


@pytest.mark.parametrize("block_sizes", [None, [2], [1]])
def test_a_table_of_pointers_with_a_tiled_dim(mode, block_sizes):
    torch.manual_seed(6)
    tensors = [torch.randn(7) for _ in range(15)]
    table = pointers(tensors).reshape(3, 5)
    got = run(K.grid_of_pointers, (table, tensors[0]), block_sizes)
    want = torch.stack(tensors).reshape(3, 5, 7) * torch.arange(1, 6, dtype=torch.float32)[None, :, None]
    close(got, want)


def test_uint64_tensors_are_copied_exactly(mode):
    ptrs = torch.tensor([0, 1, 2**63 - 1, 2**64 - 1, 12345678901234567890], dtype=torch.uint64)
    got = run(K.copy_pointers, (ptrs,))
    assert got.dtype == torch.uint64
    assert got.tolist() == ptrs.tolist()


def test_stack_tensor_constructor_spelling(mode):
    @deuteron.kernel
    def via_class(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        out = torch.empty([ptrs.size(0), like.size(0)], dtype=like.dtype, device=like.device)
        for tile in hl.tile(like.size(0)):
            stack = hl.StackTensor(like, ptrs[:])
            assert stack.shape[1] == like.size(0)
            out[:, tile] = stack[tile].to(stack.dtype)
        return out

    tensors = [torch.randn(5) for _ in range(3)]
    close(via_class(pointers(tensors), tensors[0]), torch.stack(tensors))


@deuteron.kernel
def imported_by_name(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    out = torch.empty([ptrs.size(0), like.size(0)], dtype=like.dtype, device=like.device)
    for tile in hl.tile(like.size(0)):
        out[:, tile] = stacktensor_like(like, ptrs[:])[tile] + StackTensor(like, ptrs[:])[tile]
    return out


def test_names_imported_from_the_language_module(mode):
    tensors = [torch.randn(7) for _ in range(3)]
    close(fresh(imported_by_name)(pointers(tensors), tensors[0]), torch.stack(tensors) * 2)


def test_the_host_class():
    tensors = [torch.randn(5) for _ in range(3)]
    st = hl.StackTensor(tensors[0], pointers(tensors))
    assert st.shape == (3, 5) and st.dtype == torch.float32 and st.device == tensors[0].device
    with pytest.raises(exc.NotInsideKernelError):
        st[0]
    with pytest.raises(exc.NotInsideKernelError):
        hl.stacktensor_like(tensors[0], pointers(tensors))


@pytest.mark.skipif(triton_interpret(), reason="compiles real Triton kernels; run without TRITON_INTERPRET")
def test_triton_code_casts_the_addresses_to_pointers_and_compiles_for_sm90(monkeypatch):
    from deuteron.runtime.aot import compile_for_target

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    tensors = [torch.randn(9, 11, dtype=torch.float16) for _ in range(5)]
    args = (pointers(tensors), tensors[0], torch.randn(5))
    bound = fresh(K.weighted_rows).bind(args)
    cfg = deuteron.Config(block_sizes=[8, 16, 4], indexing="tensor_descriptor")
    code = bound.to_triton_code(cfg)
    assert ".to(tl.pointer_type(tl.float16))" in code
    # The pointers' loads may use TMA; the accesses through them cannot, and the header says so.
    assert "goes through a StackTensor's device pointers" in code
    compile_for_target(bound, cfg, args)
    scatter = fresh(K.scatter_scaled)
    sargs = (torch.randn(10), pointers(tensors), torch.randn(10, dtype=torch.float16), torch.randn(5))
    compile_for_target(scatter.bind(sargs), deuteron.Config(block_sizes=[16]), sargs)


# ------------------------------------------------------------------ errors


@deuteron.kernel
def made_in_host_code(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    stack = hl.stacktensor_like(like, ptrs)
    out = torch.empty_like(like)
    for tile in hl.tile(like.size(0)):
        out[tile] = like[tile]
    return out


@deuteron.kernel
def host_pointers(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    out = torch.empty([ptrs.size(0), like.size(0)], dtype=like.dtype, device=like.device)
    for tile in hl.tile(like.size(0)):
        out[:, tile] = hl.stacktensor_like(like, ptrs)[tile]
    return out


@deuteron.kernel
def example_on_device(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    out = torch.empty([ptrs.size(0), like.size(0)], dtype=like.dtype, device=like.device)
    for tile in hl.tile(like.size(0)):
        out[:, tile] = hl.stacktensor_like(like[tile], ptrs[:])[tile]
    return out


@deuteron.kernel
def pointer_arithmetic(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    out = torch.empty([ptrs.size(0), like.size(0)], dtype=like.dtype, device=like.device)
    for tile in hl.tile(like.size(0)):
        out[:, tile] = hl.stacktensor_like(like, ptrs[:] + 4)[tile]
    return out


@deuteron.kernel
def atomic_on_a_stack(ptrs: torch.Tensor, like: torch.Tensor) -> None:
    for tile in hl.tile(like.size(0)):
        hl.atomic_add(hl.stacktensor_like(like, ptrs[:]), [tile], 1.0)


@deuteron.kernel
def same_tile_twice(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(like)
    for tile in hl.tile(like.size(0)):
        out[tile] = hl.stacktensor_like(like, ptrs[tile])[tile].sum(0)
    return out


@deuteron.kernel
def stack_as_a_value(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    out = torch.empty([ptrs.size(0), like.size(0)], dtype=like.dtype, device=like.device)
    for tile in hl.tile(like.size(0)):
        out[:, tile] = hl.stacktensor_like(like, ptrs[:]) + 1
    return out


@deuteron.kernel
def unknown_attribute(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    out = torch.empty([ptrs.size(0), like.size(0)], dtype=like.dtype, device=like.device)
    for tile in hl.tile(like.size(0)):
        out[:, tile] = hl.stacktensor_like(like, ptrs[:]).stride(0)
    return out


def _args(dtype=torch.uint64):
    like = torch.randn(8)
    return torch.zeros(3, dtype=dtype), like


@pytest.mark.parametrize(
    "kernel, args, error, message",
    [
        (made_in_host_code, _args(), exc.StackTensorcOnHost, "inside the `hl.tile` or `hl.grid` loop"),
        (host_pointers, _args(), exc.StackTensorDevPtrOnHost, "dev_ptr tensor defined on device"),
        (host_pointers, _args(torch.int64), exc.StackTensorDevPtrOnHost, "dev_ptr tensor defined on device"),
        (example_on_device, _args(), exc.StackTensorExampleOnDevice, "example host tensor"),
        (pointer_arithmetic, _args(), exc.CompileError, "'add' on uint64 values is not supported"),
        (atomic_on_a_stack, _args(), exc.CompileError, "on a StackTensor is not supported"),
        (same_tile_twice, (torch.zeros(8, dtype=torch.uint64), torch.randn(8)), exc.CompileError,
         "dimension of its device pointers too"),
        (stack_as_a_value, _args(), exc.CompileError, "a StackTensor must be indexed"),
        (unknown_attribute, _args(), exc.CompileError, "a StackTensor has no attribute 'stride'"),
    ],
)
def test_errors(mode, kernel, args, error, message):
    with pytest.raises(error, match=message) as info:
        fresh(kernel)(*args)
    assert "test_stack_tensor.py:" in str(info.value)


def test_pointers_of_another_dtype(mode):
    @deuteron.kernel
    def int_pointers(ptrs: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        out = torch.empty([ptrs.size(0), like.size(0)], dtype=like.dtype, device=like.device)
        for tile in hl.tile(like.size(0)):
            out[:, tile] = hl.stacktensor_like(like, ptrs[:])[tile]
        return out

    with pytest.raises(exc.StackTensorDevPtrDtype, match="dtype torch.uint64, got torch.int64"):
        int_pointers(*_args(torch.int64))


def test_null_pointer_in_the_reference_mode(monkeypatch):
    # Triton would fault on it; the reference mode says what happened.
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    like = torch.randn(4)
    with pytest.raises(ValueError, match="pointer is null"):
        fresh(K.stack_sum)(torch.zeros(2, dtype=torch.uint64), like)
