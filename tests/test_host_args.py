"""Kernel arguments that are not a tensor or a number, as Helion accepts them:
torch.dtype arguments (compile-time constants, keyed by value), and tuples,
lists, NamedTuples, dataclasses and dicts of tensors, numbers and dtypes
(keyed element by element); host `if`s on conditions known when compiling.
Both CPU modes, against the same computation in PyTorch."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from conftest import fresh

CFG = deuteron.Config(block_sizes=[16])


# ------------------------------------------------------------------ dtypes

@deuteron.kernel(config=CFG)
def cast_to(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    out = torch.empty(x.shape, dtype=dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        acc = hl.zeros([tile], dtype=dtype)
        out[tile] = acc + x[tile].to(dtype)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]))
def matmul_acc(x: torch.Tensor, y: torch.Tensor, acc_dtype: torch.dtype) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.empty([m, n], dtype=acc_dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=acc_dtype)
        for tile_k in hl.tile(k):
            acc += torch.matmul(x[tile_m, tile_k], y[tile_k, tile_n]).to(acc_dtype)
        out[tile_m, tile_n] = acc
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]))
def matmul_host_choice(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    if x.dtype == torch.int8:
        acc_dtype = torch.int32
    else:
        acc_dtype = torch.float32
    out = torch.empty([m, n], dtype=acc_dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=acc_dtype)
        for tile_k in hl.tile(k):
            acc = hl.dot(x[tile_m, tile_k], y[tile_k, tile_n], acc=acc)
        out[tile_m, tile_n] = acc
    return out


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64, torch.int32])
def test_dtype_argument(mode, dtype):
    x = torch.randn(40) * 10
    out = fresh(cast_to)(x, dtype)
    assert out.dtype == dtype
    torch.testing.assert_close(out, x.to(dtype))


def test_dtype_argument_keys_by_value(mode):
    k = fresh(cast_to)
    x = torch.randn(40)
    a, b = k(x, torch.float16), k(x, torch.float64)
    assert (a.dtype, b.dtype) == (torch.float16, torch.float64)
    assert k.specialization_key((x, torch.float16)) != k.specialization_key((x, torch.float64))
    assert len(k._bound) == 2
    k(x, torch.float16)
    assert len(k._bound) == 2  # the hot path finds the first specialization again


def test_dtype_argument_in_matmul(mode):
    x, y = torch.randn(32, 24), torch.randn(24, 40)
    out = fresh(matmul_acc)(x, y, torch.float64)
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, (x @ y).double(), rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("dtype", [torch.int8, torch.float32])
def test_host_if_on_a_dtype_folds(mode, dtype):
    if dtype == torch.int8:
        x, y = torch.randint(-5, 5, (32, 16), dtype=dtype), torch.randint(-5, 5, (16, 32), dtype=dtype)
        expected = (x.int() @ y.int())
    else:
        x, y = torch.randn(32, 16), torch.randn(16, 32)
        expected = x @ y
    out = fresh(matmul_host_choice)(x, y)
    assert out.dtype == (torch.int32 if dtype == torch.int8 else torch.float32)
    torch.testing.assert_close(out, expected, rtol=1e-2, atol=1e-2)


# ----------------------------------------------------- tuples and lists

@deuteron.kernel(config=CFG)
def tuple_sum(tensors: tuple[torch.Tensor, ...]) -> torch.Tensor:
    out = torch.zeros_like(tensors[0])
    for tile in hl.tile(out.size(0)):
        acc = hl.zeros([tile], dtype=torch.float32)
        for t in tensors:
            acc += t[tile]
        out[tile] = acc
    return out


@deuteron.kernel(config=CFG)
def weighted(tensors: list[torch.Tensor], weights: tuple[float, ...], scale: tuple[int, int]) -> torch.Tensor:
    out = torch.empty_like(tensors[-1])
    for tile in hl.tile(out.size(0)):
        acc = hl.zeros([tile], dtype=torch.float32)
        for i, (t, w) in enumerate(zip(tensors, weights, strict=True), start=1):
            acc += t[tile] * w * i
        out[tile] = acc * scale[0] + len(tensors) * scale[1]
    return out


@deuteron.kernel(config=CFG)
def nested_pairs(pairs: tuple[tuple[torch.Tensor, torch.Tensor], ...]) -> torch.Tensor:
    first, _ = pairs[0]
    out = torch.zeros_like(first)
    for tile in hl.tile(out.size(0)):
        acc = hl.zeros([tile], dtype=torch.float32)
        for a, b in pairs:
            acc += a[tile] * b[tile]
        out[tile] = acc
    return out


@deuteron.kernel(config=CFG)
def sized_by_tuple(x: torch.Tensor, n: tuple[int, ...]) -> torch.Tensor:
    out = torch.zeros([n[0]], dtype=x.dtype, device=x.device)
    for tile in hl.tile(n[0]):
        out[tile] = x[tile] + n[1]
    return out


def test_tuple_of_tensors(mode):
    xs = tuple(torch.randn(40) for _ in range(3))
    torch.testing.assert_close(fresh(tuple_sum)(xs), xs[0] + xs[1] + xs[2])


def test_tuple_key_covers_every_element(mode):
    k = fresh(tuple_sum)
    a, b = torch.randn(40), torch.randn(40)
    torch.testing.assert_close(k((a, b)), a + b)
    torch.testing.assert_close(k((a, b, a)), a + b + a)  # one more element: another specialization
    torch.testing.assert_close(k([a, b]), a + b)  # a list is keyed apart from a tuple
    assert len(k._bound) == 3
    h = a.half()
    torch.testing.assert_close(k((a, h)), a + h.float())  # an element's dtype is in the key
    assert len(k._bound) == 4
    k((torch.randn(40), torch.randn(40)))
    assert len(k._bound) == 4  # equal types share code


def test_list_zip_enumerate_and_int_elements(mode):
    ts = [torch.randn(33), torch.randn(33)]
    out = fresh(weighted)(ts, (0.5, 2.0), (3, 7))
    torch.testing.assert_close(out, (ts[0] * 0.5 + ts[1] * 2.0 * 2) * 3 + 2 * 7)
    # float and int elements are runtime values: new ones reuse the code
    out = weighted(ts, (1.0, -1.0), (1, 0))
    torch.testing.assert_close(out, ts[0] - ts[1] * 2)
    assert len(weighted._bound) == 1


def test_nested_tuples(mode):
    a, b, c, d = (torch.randn(20) for _ in range(4))
    torch.testing.assert_close(fresh(nested_pairs)(((a, b), (c, d))), a * b + c * d)


def test_tuple_of_ints_as_sizes(mode):
    x = torch.randn(50)
    torch.testing.assert_close(fresh(sized_by_tuple)(x, (30, 4)), x[:30] + 4)


def test_zip_strict_length_mismatch_is_a_compile_error(mode):
    @deuteron.kernel(config=CFG)
    def bad(ts: tuple[torch.Tensor, ...], ws: tuple[float, ...]) -> torch.Tensor:
        out = torch.zeros_like(ts[0])
        for tile in hl.tile(out.size(0)):
            acc = hl.zeros([tile], dtype=torch.float32)
            for t, w in zip(ts, ws, strict=True):
                acc += t[tile] * w
            out[tile] = acc
        return out

    with pytest.raises(exc.CompileError, match=r"zip\(strict=True\): argument 2 has length 1"):
        bad.bind(((torch.randn(8), torch.randn(8)), (1.0,)))


# ---------------------------------------- NamedTuples, dataclasses, dicts

class Pair(NamedTuple):
    x: torch.Tensor
    scale: float


@dataclasses.dataclass
class Params:
    x: torch.Tensor
    y: torch.Tensor
    alpha: float
    out_dtype: torch.dtype


@deuteron.kernel(config=CFG)
def from_namedtuple(p: Pair) -> torch.Tensor:
    out = torch.empty_like(p.x)
    for tile in hl.tile(p.x.size(0)):
        out[tile] = p.x[tile] * p.scale + p[0][tile]
    return out


@deuteron.kernel(config=CFG)
def from_dataclass(p: Params) -> torch.Tensor:
    out = torch.empty(p.x.shape, dtype=p.out_dtype, device=p.x.device)
    for tile in hl.tile(p.x.size(0)):
        out[tile] = (p.x[tile] + p.alpha * p.y[tile]).to(p.out_dtype)
    return out


@deuteron.kernel(config=CFG)
def from_dict(d: dict[str, torch.Tensor]) -> torch.Tensor:
    out = torch.zeros_like(d["a"])
    for tile in hl.tile(out.size(0)):
        acc = hl.zeros([tile], dtype=torch.float32)
        for name in d:
            acc += d[name][tile]
        out[tile] = acc * len(d) + d.get("missing", 0.0)
    return out


def test_namedtuple_argument(mode):
    x = torch.randn(30)
    torch.testing.assert_close(fresh(from_namedtuple)(Pair(x, 3.0)), x * 3.0 + x)


def test_dataclass_argument(mode):
    x, y = torch.randn(30), torch.randn(30)
    k = fresh(from_dataclass)
    torch.testing.assert_close(k(Params(x, y, 0.5, torch.float32)), x + 0.5 * y)
    out = k(Params(x, y, 2.0, torch.float64))  # a field's dtype value is in the key
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, (x + 2.0 * y).double())
    assert len(k._bound) == 2


def test_dict_argument(mode):
    a, b = torch.randn(25), torch.randn(25)
    torch.testing.assert_close(fresh(from_dict)({"a": a, "b": b}), (a + b) * 2)
    torch.testing.assert_close(from_dict({"a": a}), a)
    assert len(from_dict._bound) == 2


# ------------------------------------------------------------------ errors

def test_unsupported_element_names_the_argument(mode):
    with pytest.raises(exc.InputError, match=r"argument 'tensors\[1\]' is a set"):
        fresh(tuple_sum).bind(((torch.randn(8), {1}),))
    with pytest.raises(exc.InputError, match=r"argument 'p.x' is a function"):
        fresh(from_dataclass).bind((Params(lambda v: v, torch.randn(8), 1.0, torch.float32),))


def test_missing_field_is_a_compile_error(mode):
    @deuteron.kernel(config=CFG)
    def no_field(p: Params) -> torch.Tensor:
        out = torch.empty_like(p.x)
        for tile in hl.tile(p.x.size(0)):
            out[tile] = p.z[tile]
        return out

    with pytest.raises(exc.CompileError, match="the dataclass Params has no field 'z'"):
        no_field.bind((Params(torch.randn(8), torch.randn(8), 1.0, torch.float32),))


def test_unknown_host_values_keep_their_error(mode):
    @deuteron.kernel(config=CFG)
    def opaque(x: torch.Tensor, n: object) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(n):
            out[tile] = x[tile]
        return out

    with pytest.raises(exc.CompileError, match="got a value computed by host code"):
        opaque.bind((torch.randn(8), object()))


# ----------------------------------------------------------- host code

@deuteron.kernel(config=CFG)
def rebound(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    a = x
    pair = (a, y)
    a = z  # pair[0] is still x
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = pair[0][tile] * 100 + pair[1][tile] * 10 + a[tile]
    return out


def test_tuple_elements_follow_the_tuple_not_their_old_names(mode):
    x, y, z = torch.randn(20), torch.randn(20), torch.randn(20)
    torch.testing.assert_close(fresh(rebound)(x, y, z), x * 100 + y * 10 + z)


def test_host_if_on_a_runtime_value_does_not_fold(mode):
    # The branch runs in Python: `n` is the int it bound, read after the `if`
    # (one compiled kernel serves both values of the flag).
    @deuteron.kernel(config=CFG)
    def runtime_if(x: torch.Tensor, flag: bool) -> torch.Tensor:
        if flag:
            n = 8
        else:
            n = 16
        out = torch.zeros_like(x)
        for tile in hl.tile(n):
            out[tile] = x[tile]
        return out

    x = torch.randn(16)
    k = fresh(runtime_if)
    torch.testing.assert_close(k(x, True), torch.cat([x[:8], torch.zeros(8)]))
    torch.testing.assert_close(k(x, False), x)


def test_host_if_binding_different_kinds_stays_unmodeled(mode):
    @deuteron.kernel(config=CFG)
    def mixed_if(x: torch.Tensor, flag: bool) -> torch.Tensor:
        if flag:
            n = 8
        else:
            n = x  # a tensor in one branch, an int in the other
        out = torch.empty_like(x)
        for tile in hl.tile(n):
            out[tile] = x[tile]
        return out

    with pytest.raises((exc.CompileError, TypeError)):
        fresh(mixed_if)(torch.randn(16), True)


def test_autotuner_copies_and_ships_structured_arguments():
    from deuteron.autotune.benchmark import clone_args, pack_value, tensor_leaves, unpack_value

    x, y = torch.randn(4), torch.randn(3)
    args = (Pair(x, 2.0), Params(x, y, 0.5, torch.float16), {"a": (y,)}, [x])
    assert len(tensor_leaves(args)) == 5
    copies = clone_args(args)
    assert type(copies[0]) is Pair and type(copies[1]) is Params
    assert all(c is not t and torch.equal(c, t) for c, t in zip(tensor_leaves(copies), tensor_leaves(args)))
    # A benchmark process rebuilds what the host code reads: fields, indices, keys.
    pair, params, d, lst = (unpack_value(pack_value(a)) for a in args)
    assert torch.equal(pair.x, x) and pair[1] == 2.0
    assert torch.equal(params.y, y) and params.out_dtype == torch.float16
    assert torch.equal(d["a"][0], y) and torch.equal(lst[0], x)


@pytest.mark.parametrize("dtype", [torch.float8_e4m3fn, torch.float8_e5m2, torch.bool, torch.bfloat16,
                                   torch.complex64, torch.int64])
def test_tensors_of_every_dtype_cross_the_pipe_to_a_benchmark_process(dtype):
    # torch's own pickling of float8 tensors fails when loaded (fp8_matmul's tuning
    # died in its benchmark process), so tensors travel as bytes with their dtype.
    import pickle

    from deuteron.autotune.benchmark import pack_value, unpack_value

    base = (torch.randn(3, 5) * 3).to(dtype)
    # an expanded tensor (stride 0, fp8_matmul's scale) keeps its strides too
    for t in (base, base.t(), base[1:, ::2], base[:0], base[0, 0], base[:1].expand(4, 3, 5)):
        back = unpack_value(pickle.loads(pickle.dumps(pack_value(t))))
        assert back.dtype == t.dtype and back.shape == t.shape and back.stride() == t.stride()
        assert torch.equal(back.view(torch.uint8), t.view(torch.uint8)) if t.element_size() == 1 \
            else torch.equal(back, t)

# ----------------------------------------------------------------- strings

@deuteron.kernel(config=CFG)
def by_mode(x: torch.Tensor, mode: str) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        if mode == "add":
            out[tile] = x[tile] + 1.0
        elif mode == "mul":
            out[tile] = x[tile] * 2.0
        else:
            out[tile] = x[tile]
    return out


def test_string_argument_is_a_constant_keyed_by_value(mode):
    x = torch.randn(30)
    k = fresh(by_mode)
    torch.testing.assert_close(k(x, "add"), x + 1.0)
    torch.testing.assert_close(k(x, "mul"), x * 2.0)
    torch.testing.assert_close(k(x, "other"), x)
    assert len(k._bound) == 3


# ------------------------------------------------------------------ bools

@deuteron.kernel(config=CFG)
def add_if(x: torch.Tensor, flag: bool, scale: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        if flag:
            out[tile] = x[tile] * scale
        else:
            out[tile] = torch.where(x[tile] > 0, x[tile], -x[tile]) if not flag else x[tile]
    return out


def test_bool_argument_reaches_the_device(mode):
    # A bool is a runtime value of the kernel (one compiled kernel for both values).
    # Triton's interpreter before 3.9 could not take one (it made an int32 array typed
    # int1): the launcher passes it as the int1 scalar newer interpreters make.
    x = torch.randn(40)
    torch.testing.assert_close(fresh(add_if)(x, True, 2.0), x * 2.0)
    torch.testing.assert_close(add_if(x, False, 2.0), x.abs())
