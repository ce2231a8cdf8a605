"""Functions passed to kernels (module-level defs, closures, lambdas, torch
functions), tensors device code reads without their being arguments (module
globals, closure variables), and lambdas written in kernels: on the CPU in both
interpret modes (conftest.py), checked against PyTorch."""

from __future__ import annotations

import functools
import operator
from typing import NamedTuple

import pytest
import torch

import deuteron
import deuteron.language as hl
import kernels_callables as K
from conftest import fresh


def close(a, b, tol=1e-5):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


def test_module_level_function(mode):
    x = torch.randn(100)
    close(fresh(K.apply)(x, K.double), x * 2)


def test_lambda_argument_and_its_key(mode):
    x = torch.randn(100)
    k = fresh(K.apply)
    close(k(x, lambda a: a + 1), x + 1)
    # Another lambda (other code) compiles anew; the same code with other closure values too.
    close(k(x, lambda a: torch.sin(a) * 3), torch.sin(x) * 3)
    fns = [(lambda a, c=c: a * c) for c in (2.0, 5.0)]
    close(k(x, fns[0]), x * 2)
    close(k(x, fns[1]), x * 5)
    assert len(k._bound) == 4


def test_lambdas_on_one_line(mode):
    x = torch.randn(70)
    pair = (lambda a: a - 1, lambda a: a * a)
    close(fresh(K.apply)(x, pair[1]), x * x)
    close(K.apply(x, pair[0]), x - 1)


def test_nested_def_closing_over_host_values(mode):
    x = torch.randn(100)
    offset, factor = 4, 0.5

    def affine(v):
        return v * factor + offset

    close(fresh(K.apply)(x, affine), x * 0.5 + 4)
    factor = 3.0  # a closure cell's new value is another specialization
    close(K.apply(x, affine), x * 3.0 + 4)


def test_closure_over_a_tensor_is_an_implicit_input(mode):
    x = torch.randn(64)
    bias = torch.randn(64)

    def add_bias(v, tile):
        return v + bias[tile]

    k = fresh(K.apply_tile)
    close(k(x, add_bias), x + bias)
    # The tensor is read at each call, not when compiling.
    bias = torch.randn(64)
    close(k(x, add_bias), x + bias)
    assert len(k._bound) == 1


def test_nested_closures_and_globals_of_other_functions(mode):
    x = torch.randn(64)
    t = torch.randn(64)
    n = 42
    plus_global = K.plus_global  # reads a global tensor of its own module

    def inner(v, tile):
        return v + t[tile]

    def outer(v, tile):
        return inner(v, tile) + n + plus_global(v, tile)

    close(fresh(K.apply_tile)(x, outer), x + t + 42 + x + K.GLOBAL_BIAS)


def _adder(x):
    def fn(v, tile):
        return v + x[tile]
    return fn


def test_closure_tensor_named_like_a_kernel_argument(mode):
    # The closure's `x` is another tensor than the kernel's argument `x`.
    x, other = torch.randn(64), torch.randn(64)
    close(fresh(K.apply_tile)(x, _adder(other)), x + other)


@pytest.mark.parametrize("fn", [torch.sin, torch.nn.functional.relu, torch.abs])
def test_torch_function_argument(mode, fn):
    x = torch.randn(90)
    close(fresh(K.apply)(x, fn), fn(x))


def test_mm_func_addmm_and_dot_lambda(mode):
    x, y = torch.randn(32, 48), torch.randn(48, 40)
    close(fresh(K.mm)(x, y, torch.addmm), x @ y, 1e-4)
    close(K.mm(x, y, lambda acc, a, b: hl.dot(a, b, acc=acc)), x @ y, 1e-4)
    close(K.mm(x, y, lambda acc, a, b: acc + torch.matmul(a, b)), x @ y, 1e-4)


def test_default_lambda_and_epilogue_over_a_closure(mode):
    x, y = torch.randn(32, 16), torch.randn(16, 48)
    bias = torch.randn(48)
    k = fresh(K.matmul_epilogue)
    close(k(x, y), x @ y, 1e-4)
    close(k(x, y, lambda acc, tile: torch.relu(acc + bias[tile[1]])), torch.relu(x @ y + bias), 1e-4)


def test_global_tensor_is_an_implicit_input(mode):
    x = torch.randn(64)
    close(fresh(K.add_global)(x), x + K.GLOBAL_BIAS * K.SCALE)


def test_lambda_written_in_the_kernel(mode):
    x = torch.randn(100)
    close(fresh(K.inner_lambda)(x, 0.25), x * 2 + 0.25)


def test_function_called_on_the_host(mode):
    @deuteron.kernel(config=deuteron.Config(block_sizes=[32]))
    def alloc_then_sin(a, alloc):
        out = alloc(a)
        for tile in hl.tile(a.size()):
            out[tile] = a[tile].sin()
        return out

    x = torch.randn(50)
    close(alloc_then_sin(x, lambda t: torch.empty_like(t)), x.sin())


class Doubler:
    def __call__(self, v):
        return v * 2


class Affine:
    """A callable object whose __call__ reads a number and a tensor off self."""

    def __init__(self, scale, shift):
        self.scale, self.shift = scale, shift

    def __call__(self, v):
        return v * self.scale + self.shift[0]


class BiasEpilogue(NamedTuple):
    """Helion's test_matmul_bias_epilogue_wrapper: a NamedTuple whose __call__ runs
    a closure a property makes."""
    bias: torch.Tensor

    @property
    def fn(self):
        bias = self.bias

        def epilogue(acc, tile):
            return acc + bias[tile[1]]

        return epilogue

    def __call__(self, acc, tile):
        return self.fn(acc, tile)


def scaled(v, factor, offset=0.0):
    return v * factor + offset


def test_callable_objects_are_inlined_with_self_bound(mode):
    x = torch.randn(100)
    k = fresh(K.apply)
    close(k(x, Doubler()), x * 2)
    shift = torch.randn(1)
    close(k(x, Affine(3.0, shift)), x * 3.0 + shift)
    # self's attributes are compiled in like closure values: another scale is another specialization.
    close(k(x, Affine(-1.5, shift)), x * -1.5 + shift)
    assert len(k._bound) == 3


def test_named_tuple_epilogue_with_a_property_closure(mode):
    x, y, bias = torch.randn(32, 16), torch.randn(16, 48), torch.randn(48)
    k = fresh(K.matmul_epilogue)
    close(k(x, y, BiasEpilogue(bias)), x @ y + bias, 1e-4)
    other = torch.randn(48)  # the tensor is read through the object at each call
    close(k(x, y, BiasEpilogue(other)), x @ y + other, 1e-4)
    assert len(k._bound) == 1


def test_functools_partial(mode):
    x = torch.randn(100)
    k = fresh(K.apply)
    close(k(x, functools.partial(scaled, factor=2.0)), x * 2.0)
    close(k(x, functools.partial(scaled, factor=2.0, offset=1.0)), x * 2.0 + 1.0)
    close(k(x, functools.partial(scaled, factor=5.0)), x * 5.0)
    close(k(x, functools.partial(lambda c, v: v - c, 0.5)), x - 0.5)  # a positional argument bound
    assert len(k._bound) == 4


@pytest.mark.parametrize("fn,why", [
    (functools.partial(operator.mul, 2.0), "a partial is not a Python function or lambda"),
    (operator.neg, "'neg' is a built-in function deuteron does not know"),
])
def test_callables_that_cannot_be_inlined(mode, fn, why):
    x = torch.randn(10)
    with pytest.raises(deuteron.exc.CompileError) as e:
        fresh(K.apply)(x, fn)
    assert "the function passed as the argument 'fn' cannot be inlined" in str(e.value)
    assert why in str(e.value)
    assert "out[tile] = fn(x[tile])" in str(e.value)


def test_lambda_without_source(mode):
    fn = eval("lambda v: v + 1")
    with pytest.raises(deuteron.exc.CompileError) as e:
        fresh(K.apply)(torch.randn(10), fn)
    assert "argument 'fn' cannot be inlined" in str(e.value)
    assert "source code of the lambda" in str(e.value)


def test_errors_in_a_lambda_point_into_it(mode):
    with pytest.raises(deuteron.exc.CompileError) as e:
        fresh(K.apply)(torch.randn(10), lambda v: v + undefined_name)  # noqa: F821
    text = str(e.value)
    assert "name 'undefined_name' is not defined" in text
    assert "test_callables.py" in text
    line = [ln for ln in text.splitlines() if "undefined_name)" in ln][0]
    caret = text.splitlines()[text.splitlines().index(line) + 1]
    assert line[caret.index("^"):].startswith("undefined_name")


def test_lambda_as_a_combine_function(mode):
    x = torch.randn(32, 64)
    close(fresh(K.row_max)(x), x.amax(dim=1))


def test_kernel_closing_over_values_of_its_function(mode):
    bias = torch.randn(48)
    scale = 1.5

    @deuteron.kernel(config=deuteron.Config(block_sizes=[16]))
    def scaled(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = x[tile] * scale + bias[tile]
        return out

    x = torch.randn(48)
    close(scaled(x), x * 1.5 + bias)


def test_function_argument_as_a_combine_function(mode):
    x = torch.randn(16, 32)
    close(fresh(K.reduce_with)(x, lambda a, b: a + b), x.sum(dim=1), 1e-4)
    close(K.reduce_with(x, torch.maximum), x.amax(dim=1))


def test_a_lambda_used_as_a_number_is_an_error_naming_it(mode):
    @deuteron.kernel
    def k(x: torch.Tensor) -> torch.Tensor:
        f = lambda a: a * 2  # noqa: E731
        out = torch.empty_like(x)
        for t in hl.tile(x.size(0)):
            out[t] = x[t] * f
        return out

    with pytest.raises(deuteron.exc.CompileError, match="got a lambda"):
        k(torch.randn(8))


# ------------------------------------------------ *args and **kwargs of inlined functions

def _score_ref(x, fn):
    rows = torch.arange(x.size(0))[:, None].float()
    cols = torch.arange(x.size(1))[None, :].float()
    return fn(x, 0, 1, rows, cols)


def test_lambda_with_star_args(mode):
    # Helion's flex_attention example: `lambda score, *_: torch.tanh(score)`.
    x = torch.randn(40, 24)
    k = fresh(K.score_mod_rows)
    close(k(x, lambda score, *_: torch.tanh(score)), torch.tanh(x))
    # The extra positional arguments are a tuple: indexed, counted, unpacked.
    fn = lambda s, *rest: s + rest[3] * len(rest)  # noqa: E731
    close(k(x, fn), _score_ref(x, fn))
    fn = lambda s, b, *rest: s * (b + 1) + rest[-2]  # noqa: E731
    close(k(x, fn), _score_ref(x, fn))


def test_several_star_args_lambdas_on_one_line(mode):
    x = torch.randn(20, 20)
    k = fresh(K.score_mod_rows)
    mods = (lambda s, *_: s * 2, lambda s, *a: s - a[2], lambda s, b, h, *_: s + h)
    for fn in mods:
        close(k(x, fn), _score_ref(x, fn))


def test_helper_with_star_args(mode):
    x = torch.randn(33, 17)
    close(fresh(K.score_mod_rows)(x, K.gather_rest), _score_ref(x, K.gather_rest))


def test_star_args_and_kwargs_with_keyword_only_parameters(mode):
    x = torch.randn(50)
    expect = x * 0.5 + 3.0 + 1.0
    close(fresh(K.with_keywords)(x, K.keywords_gathered), expect)
    close(fresh(K.with_keywords)(x, lambda v, *a, **kw: v * kw["scale"] + a[1] + kw["shift"]), expect)
    close(fresh(K.with_keywords)(x, lambda v, *_, scale, **__: v * scale), x * 0.5)


def test_keyword_unpacking_getattr_and_fstrings_in_helpers(mode):
    # f(**kw) expands a dict known when compiling; getattr(obj, "name") with a name known
    # then is obj.name; an f-string of names of known strings is its text.
    x = torch.randn(40)
    close(fresh(K.make_with)(x, K.forwarding_factory), x)
    close(fresh(K.make_with)(x, K.ones_factory), x + 2.0)
    close(fresh(K.make_with)(x, lambda x, t, n="full", **kw: getattr(torch, n)([t], 3.0, device=x.device, **kw)),
          x + 3.0)


def test_keyword_unpacking_errors(mode):
    with pytest.raises(deuteron.exc.CompileError, match="got multiple values for keyword argument 'dtype'"):
        fresh(K.make_with)(torch.randn(8), lambda x, t, **kw: torch.zeros([t], dtype=torch.float32, **kw))
    with pytest.raises(deuteron.exc.CompileError, match=r"argument after \*\* must be a dict known when compiling"):
        fresh(K.make_with)(torch.randn(8), lambda x, t, **kw: torch.zeros([t], **kw["dtype"]))
    with pytest.raises(deuteron.exc.CompileError, match="attribute name known when compiling"):
        fresh(K.make_with)(torch.randn(8), lambda x, t, **kw: getattr(torch, t)([t]))


def test_lambda_in_a_file_run_as_main(mode, tmp_path):
    # Helion's examples run as scripts (python example.py, runpy): the lambda's
    # source is read from the file the module was run from.
    script = tmp_path / "score_mod_script.py"
    script.write_text(
        "import torch\n"
        "import kernels_callables as K\n"
        "x = torch.randn(24, 8)\n"
        "a, b = (lambda score, *_: torch.tanh(score)), (lambda score, *_: score * 3)\n"
        "RESULT = (K.score_mod_rows(x, a), K.score_mod_rows(x, b), x)\n")
    import runpy

    fresh(K.score_mod_rows)
    ns = runpy.run_path(str(script), run_name="__main__")
    got_a, got_b, x = ns["RESULT"]
    close(got_a, torch.tanh(x))
    close(got_b, x * 3)


def test_star_args_of_a_kernel_or_combine_function_are_errors(mode):
    with pytest.raises(deuteron.exc.CompileError, match=r"kernels cannot take \*rest"):
        @deuteron.kernel
        def k(x: torch.Tensor, *rest) -> torch.Tensor:
            out = torch.empty_like(x)
            for t in hl.tile(x.size(0)):
                out[t] = x[t]
            return out

        k(torch.randn(8))
    with pytest.raises(deuteron.exc.CompileError, match=r"a combine function takes its operands as named parameters, not \*ab"):
        fresh(K.reduce_with)(torch.randn(8, 8), lambda *ab: ab[0] + ab[1])
