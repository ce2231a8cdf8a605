"""Int arguments where a compile-time value is needed -- `hl.specialize(n)` and
`block_size=n` -- compile in the call's value, and the kernel keys on it (a
call with another value binds anew), as in Helion.  Both CPU modes, against
PyTorch (tests/kernels_int_specialize.py); errors stay clear."""

from __future__ import annotations

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh

import kernels_int_specialize as K


def close(a, b, tol=1e-4):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_specialized_chunk_size_is_a_block_size(mode, dtype):
    torch.manual_seed(0)
    x = torch.randn(6, 64).to(dtype)
    k = fresh(K.chunk_sums)
    tol = 1e-4 if dtype == torch.float32 else 2e-2
    close(k(x, 16), K.chunk_sums_ref(x, 16), tol)
    # Another value: a new specialization, with that block size.
    close(k(x, 8), K.chunk_sums_ref(x, 8), tol)
    close(k(x, 16), K.chunk_sums_ref(x, 16), tol)
    assert len(k._bound) == 2


def test_specialize_records_the_argument(mode):
    x = torch.randn(4, 32)
    k = fresh(K.chunk_sums)
    bound = k.bind((x, 8))
    assert bound.specialized_args == ("chunk_size",)
    assert k.specialization_key((x, 8)) != k.specialization_key((x, 16))


def test_int_argument_as_block_size(mode):
    torch.manual_seed(1)
    x = torch.randn(1024)
    k = fresh(K.sin_blocks)
    close(k(x, 32), torch.sin(x))
    close(k(x, 64), torch.sin(x))
    assert len(k._bound) == 2
    code = k.bind((x, 64)).to_triton_code(deuteron.Config(block_sizes=[]))
    assert "64" in code


def test_specialized_expression_of_an_argument(mode):
    torch.manual_seed(2)
    x = torch.randn(100)
    k = fresh(K.doubled_in_pairs)
    close(k(x, 8), x * 2)
    close(k(x, 4), x * 2)
    assert k.bind((x, 4)).specialized_args == ("half",)


def test_unspecialized_int_argument_keys_by_type(mode):
    @deuteron.kernel
    def add_n(x: torch.Tensor, n: int) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = x[tile] + n
        return out

    x = torch.randn(16)
    assert add_n.bind((x, 1)).specialized_args == ()
    assert add_n.specialization_key((x, 1)) == add_n.specialization_key((x, 2))


def test_runtime_int_still_errors_where_a_constant_is_needed(mode):
    # A size with dynamic shapes is no argument's value: the error names the position.
    @deuteron.kernel(static_shapes=False)
    def bad(x: torch.Tensor, n: int) -> torch.Tensor:
        out = torch.empty_like(x)
        m = x.size(0)
        for tile in hl.tile(m, block_size=hl.specialize(n) + m):
            out[tile] = x[tile]
        return out

    with pytest.raises(exc.CompileError) as e:
        bad.bind((torch.randn(16), 4))
    assert "block_size" in str(e.value) and "^" in str(e.value)
