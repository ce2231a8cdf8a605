"""Index width at the int32 boundary: every tensor a device loop touches
(arguments, and outputs host code allocates) decides it, and it is part of the
specialization key.  Meta tensors stand in for the large ones: only binding
and code generation see them, nothing is allocated."""

from __future__ import annotations

import json

import pytest
import torch

import deuteron

import kernels_index_width as K
from conftest import TRITON_MODE, fresh

INT32_MAX = 2**31 - 1


def meta(*shape, dtype=torch.int8):
    return torch.empty(shape, dtype=dtype, device="meta")


@pytest.fixture(autouse=True)
def _interpret(monkeypatch):
    # Binding for tensors off CUDA is allowed in an interpret mode (the tests
    # that run kernels set theirs through the `mode` fixture).
    if not TRITON_MODE:
        monkeypatch.setenv("DEUTERON_INTERPRET", "1")


def uses_int64(bound) -> bool:
    return "tl.int64" in bound.generate(backend="triton")


def test_output_larger_than_every_argument_gets_int64():
    # The case: two vectors (65536 and 32769 elements) whose outer
    # product has 32769 * 65536 > 2**31 elements.
    big = fresh(K.outer).bind((meta(32769), meta(65536)))
    assert uses_int64(big)
    assert not uses_int64(fresh(K.outer).bind((meta(1024), meta(1024))))


@pytest.mark.parametrize("n,wide", [(2**30, False), (2**30 + 1, True)])
def test_boundary_of_padded_offsets(n, wide):
    # A dim of n elements is indexed below 2n - 1 (masked lanes of the last
    # block included): int32 holds 2n - 2 up to n = 2**30 exactly.
    out_rows = fresh(K.outer).bind((meta(n), meta(1)))
    assert uses_int64(out_rows) == wide


def test_dynamic_shapes_key_separates_small_and_huge_tensors():
    k = fresh(K.copy_dynamic)
    small, huge = meta(1024, dtype=torch.float32), meta(2**31 + 8, dtype=torch.float32)
    assert k.specialization_key((small,)) != k.specialization_key((huge,))
    b_small, b_huge = k.bind((small,)), k.bind((huge,))
    assert b_small is not b_huge
    assert not uses_int64(b_small) and uses_int64(b_huge)
    # Both bucket sizes alike: only the width tells them apart.
    assert k.specialization_key((meta(2**31 - 9, dtype=torch.float32),)) == k.specialization_key((huge,))
    assert k.specialization_key((meta(4096, dtype=torch.float32),)) == k.specialization_key((small,))


def test_explicit_int64_shares_one_code_between_small_and_huge_tensors():
    # index_dtype=torch.int64 is right for every size: the width is not keyed
    # (Helion's test_dynamic_shape_specialization_key_tracks_large_tensors).
    k = fresh(K.copy_dynamic)
    k.settings = k.settings.replace(index_dtype=torch.int64)
    small, huge = meta(1024, dtype=torch.float32), meta(2**31 + 8, dtype=torch.float32)
    assert k.specialization_key((small,)) == k.specialization_key((huge,))
    assert k.bind((small,)) is k.bind((huge,)) and uses_int64(k.bind((small,)))


def test_dynamic_output_is_checked_on_entry_and_runs_the_int64_code(monkeypatch):
    # The arguments are small in both calls; only the output they imply is not.
    k = fresh(K.outer_dynamic)
    bound = k.bind((meta(64), meta(64)))
    code = bound.generate(backend="triton")
    assert "tl.int64" not in code
    assert "> 2147483647" in code and "return _deuteron_wide(x, y)" in code
    calls = []

    class Wide:
        def load(self, config, backend):
            return lambda *args: calls.append((config, backend, args)) or "int64 code"

    monkeypatch.setattr(type(k), "_bind_wide", lambda self, args: Wide())
    host = bound.load(backend="triton")
    x, y = meta(32769), meta(65536)
    assert host(x, y) == "int64 code"
    assert len(calls) == 1
    config, backend, args = calls[0]
    # The default config (keys left at None may be left out of the text).
    given = {k: v for k, v in json.loads(config).items() if v is not None}
    default = {k: v for k, v in json.loads(bound.normalize_config_json(bound.default_config_json())).items()
               if v is not None}
    assert given == default
    assert backend == "triton" and len(args) == 2 and args[0] is x and args[1] is y


def test_int64_specialization_of_a_dynamic_kernel():
    k = fresh(K.outer_dynamic)
    args = (meta(32769), meta(65536))
    wide = k._bind_wide(args)
    assert uses_int64(wide) and "_deuteron_wide" not in wide.generate(backend="triton")
    assert k._bind_wide(args) is wide


def test_int_argument_sizes_are_guarded():
    # n is not in the key: the int32 code checks it on every call.
    code = fresh(K.fill_n).bind((meta(4), 10)).generate(backend="triton")
    assert "2 * n - 2" in code.replace("(n)", "n") and "_deuteron_wide(x, n)" in code


@pytest.mark.kernels
def test_guarded_int32_code_runs_small_inputs(mode):
    x = torch.randint(-5, 5, (37,), dtype=torch.int8)
    y = torch.randint(-5, 5, (19,), dtype=torch.int8)
    out = fresh(K.outer_dynamic)(x, y)
    torch.testing.assert_close(out, x[:, None] * y[None, :])
    out = fresh(K.fill_n)(x, 70)
    torch.testing.assert_close(out, torch.full((70,), int(x[0]), dtype=torch.int8))


def test_dynamic_like_allocation_of_a_transposed_input_stays_int32_with_a_check():
    # Its strides are known only after the allocation, but a fresh allocation's
    # offsets stay below 2 * numel - 1: int32 code checked on entry, not int64 always.
    k = fresh(K.add_like_dynamic)
    small = meta(300, 200, dtype=torch.float32).t()
    code = k.bind((small,)).generate(backend="triton")
    assert "tl.int64" not in code
    assert "> 2147483647" in code and "_deuteron_wide(x)" in code
    huge = meta(65536, 32768, dtype=torch.float32).t()
    assert uses_int64(k.bind((huge,)))


def test_int64_indices_take_pointers_where_block_ptr_is_asked(mode):
    # tl.make_block_ptr takes 32-bit offsets only: with index_dtype=torch.int64 a
    # block_ptr access falls back to pointer indexing (Helion's rule), and runs.
    import deuteron
    import deuteron.language as hl

    @deuteron.kernel(index_dtype=torch.int64)
    def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tm, tn in hl.tile(x.size()):
            out[tm, tn] = x[tm, tn] + y[tm, tn]
        return out

    x, y = torch.randn(64, 48), torch.randn(64, 48)
    bound = add.bind((x, y))
    config = deuteron.Config(block_sizes=[16, 16], indexing="block_ptr")
    assert "tl.make_block_ptr" not in bound.to_triton_code(config)
    torch.testing.assert_close(bound.compile_config(config)(x, y), x + y)


@pytest.mark.parametrize("kernel", ["copy_int32", "copy_int32_dynamic"])
def test_explicit_int32_refuses_a_tensor_too_large_for_it(kernel):
    # Helion's InputTensorNumelExceedsIndexType: an error naming the setting, not
    # int32 offsets that wrap around (dynamic shapes too: a small tensor bound
    # first does not lend its int32 code to a huge one).
    k = fresh(getattr(K, kernel))
    assert not uses_int64(k.bind((meta(1024),)))
    with pytest.raises(deuteron.exc.InputTensorNumelExceedsIndexType, match=r"index_dtype is torch\.int32"):
        k.bind((meta(2**30 + 1),))
