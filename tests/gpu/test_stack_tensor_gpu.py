"""StackTensors on the GPU (compiled Triton, and the reference mode reading
device memory through __cuda_array_interface__), against PyTorch
(tests/kernels_stack.py), under several configs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import deuteron

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_stack as K  # noqa: E402
from kernels_stack import pointers  # noqa: E402


def close(a, b, tol=1e-4):
    torch.testing.assert_close(a.cpu(), b.cpu(), atol=tol, rtol=tol)


def run(kernel, args, **config):
    kernel.reset()
    if not config:
        return kernel(*args)
    return kernel.bind(args).compile_config(deuteron.Config(**config))(*args)


@pytest.mark.parametrize("config", [{}, {"block_sizes": [128]}, {"block_sizes": [64], "reduction_loops": [4]},
                                    {"block_sizes": [256], "indexing": "tensor_descriptor"}])
def test_stack_sum(config):
    torch.manual_seed(0)
    tensors = [torch.randn(1000, device="cuda") for _ in range(11)]
    close(run(K.stack_sum, (pointers(tensors), tensors[0]), **config), K.stack_sum_ref(tensors))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("block_sizes", [None, [32, 64, 4], [16, 128, 8], [64, 32, 1]])
def test_weighted_rows(dtype, block_sizes):
    torch.manual_seed(1)
    tensors = [torch.randn(300, 260, device="cuda").to(dtype) for _ in range(13)]
    w = torch.randn(13, device="cuda")
    config = {} if block_sizes is None else {"block_sizes": block_sizes}
    got = run(K.weighted_rows, (pointers(tensors), tensors[0], w), **config)
    close(got, K.weighted_rows_ref(tensors, w), tol=1e-2 if dtype == torch.bfloat16 else 1e-4)


@pytest.mark.parametrize("block_sizes", [None, [256]])
def test_scatter_and_masked_copy(block_sizes):
    torch.manual_seed(2)
    x = torch.randn(777, device="cuda")
    scale = torch.randn(5, device="cuda")
    tensors = [torch.full((777,), float("nan"), device="cuda") for _ in range(5)]
    config = {} if block_sizes is None else {"block_sizes": block_sizes}
    run(K.scatter_scaled, (x, pointers(tensors), tensors[0], scale), **config)
    for j, t in enumerate(tensors):
        close(t, x * scale[j])
    dst = [torch.zeros(777, device="cuda") for _ in range(5)]
    run(K.masked_copy_between_stacks, (pointers(tensors), pointers(dst), tensors[0], 500), **config)
    for s, d in zip(tensors, dst):
        want = torch.zeros(777, device="cuda")
        want[:500] = s[:500] + 1
        close(d, want)


def test_strided_offset_and_2d_pointer_tables():
    torch.manual_seed(3)
    tensors = [torch.randn(70, 50, device="cuda").t() for _ in range(3)]
    close(run(K.transposed_stack_copy, (pointers(tensors), tensors[0])), torch.stack(tensors))
    buf = torch.randn(6, 64, device="cuda")
    rows = [buf[i] for i in (4, 0, 5, 1, 3, 2)]
    close(run(K.stack_sum, (pointers(rows), rows[0])), K.stack_sum_ref(rows))
    vecs = [torch.randn(100, device="cuda") for _ in range(15)]
    got = run(K.grid_of_pointers, (pointers(vecs).reshape(3, 5), vecs[0]), block_sizes=[2])
    want = torch.stack(vecs).reshape(3, 5, 100) * torch.arange(1, 6, device="cuda", dtype=torch.float32)[None, :, None]
    close(got, want)


def test_copy_pointers_and_in_place_add():
    ptrs = torch.tensor([0, 2**63 - 1, 2**64 - 1], dtype=torch.uint64, device="cuda")
    assert run(K.copy_pointers, (ptrs,)).cpu().tolist() == ptrs.cpu().tolist()
    tensors = [torch.randn(333, device="cuda") for _ in range(4)]
    before = [t.clone() for t in tensors]
    y = torch.randn(333, device="cuda")
    run(K.add_in_place, (pointers(tensors), tensors[0], y))
    for b, t in zip(before, tensors):
        close(t, b + y)


def test_reference_mode_reads_device_memory(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    torch.manual_seed(4)
    tensors = [torch.randn(9, 11, device="cuda") for _ in range(7)]
    w = torch.randn(7, device="cuda")
    close(run(K.weighted_rows, (pointers(tensors), tensors[0], w)), K.weighted_rows_ref(tensors, w))
    x = torch.randn(10, device="cuda")
    out = [torch.zeros(10, device="cuda") for _ in range(3)]
    run(K.scatter_scaled, (x, pointers(out), out[0], torch.ones(3, device="cuda")))
    for t in out:
        close(t, x)
