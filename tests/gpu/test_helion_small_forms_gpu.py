"""Helion's small forms compiled on the GPU against PyTorch: slices with a step,
torch.tensor(number), a host tensor stored whole, topk into a variable named
`indices`, a loaded index with trailing slices, a specialized size and stride
(kernels of tests/test_helion_small_forms.py and tests/test_slices_broadcast.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_helion_small_forms as K  # noqa: E402
import test_slices_broadcast as S  # noqa: E402
from conftest import fresh  # noqa: E402


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_strided_slices(dtype):
    n = 1000
    bufs = [torch.zeros(n, dtype=dtype, device="cuda") for _ in range(4)]
    src1, dst1, src2, dst2 = fresh(S.stepped_1d)(*bufs)
    e1 = torch.zeros(n, dtype=dtype, device="cuda")
    e1[::2] = 1.0
    e2 = torch.zeros(n, dtype=dtype, device="cuda")
    e2[1::3] = 2.0
    for got, want in ((src1, e1), (dst1, e1), (src2, e2), (dst2, e2)):
        torch.testing.assert_close(got, want)
    x = torch.randn(300, 4, dtype=dtype, device="cuda")
    torch.testing.assert_close(fresh(S.stepped)(x), x[:, 0:4:2])


def test_tensor_constant_and_whole_host_tensor_store():
    x = torch.ones(1000, dtype=torch.int32, device="cuda")
    torch.testing.assert_close(fresh(K.add_tensor_constant)(x, 16), torch.full_like(x, 17))
    val = torch.randn(3, 5, device="cuda")
    got = fresh(K.store_host_tensor_whole_3d)(torch.zeros(64, 3, 5, device="cuda"), val)
    torch.testing.assert_close(got, val.expand(64, -1, -1))


def test_generated_names_do_not_capture_user_variables():
    x = torch.randn(256, 16, device="cuda")
    vals, idx = fresh(K.topk_named_indices)(x, 4)
    ref = torch.topk(x, 4, dim=-1)
    torch.testing.assert_close(vals, ref.values)
    torch.testing.assert_close(idx, ref.indices)
    index_source = torch.randint(0, 10, (64, 32), device="cuda")
    data = torch.randn(10, 4, 6, device="cuda")
    torch.testing.assert_close(fresh(K.gather_rows_with_slices)(index_source, data), data[index_source, :, :])


def test_specialized_size_keys_the_kernel():
    k = fresh(K.add_last_size)
    a, b = torch.randn(128, 64, device="cuda"), torch.randn(128, 32, device="cuda")
    torch.testing.assert_close(k(a), a * 2 + 64)
    torch.testing.assert_close(k(b), b * 2 + 32)
    assert k.bind((a,)) is not k.bind((b,))


def test_kernel_without_tensor_arguments_runs_on_its_device_argument():
    import test_errors as E

    out = fresh(E.fill_counts)(40, torch.device("cuda"))
    assert out.device.type == "cuda" and out.tolist() == [3] * 40
    # Binding CPU tensors needs no GPU; running them says where they are.
    x = torch.randn(8)
    bound = fresh(E.fill_counts).bind((8, torch.device("cpu")))
    assert "tl.store(" in bound.to_triton_code(bound.default_config())
