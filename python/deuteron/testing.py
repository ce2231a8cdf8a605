"""Helpers for testing and benchmarking kernels (the names Helion's ``helion._testing`` offers).

Programs written for Helion import these from ``helion._testing``; under deuteron
they live here, public::

    from deuteron.testing import DEVICE, run_example

    x = torch.randn(1024, device=DEVICE)
    run_example(my_kernel, torch.exp, (x,))          # checks against PyTorch, then times both

What they do:

* ``DEVICE`` is the GPU when there is one, else the CPU (kernels then need an
  interpret mode: ``DEUTERON_INTERPRET=1`` or ``TRITON_INTERPRET=1``).
* ``run_example`` / ``check_example`` compare a kernel with PyTorch and (on a GPU)
  time both; ``code_and_output`` returns the generated Triton code and the result
  for one config, given as ``Config`` keyword arguments (``block_sizes=[32]``, ...);
  keys of Helion's other back ends (``num_threads``, ``pallas_*``, ...) are left out.
* ``TestCase`` is a ``unittest.TestCase`` whose assertions on generated code
  text (``assertExpectedJournal``, ``assertIn(..., code)``) are about *Helion's*
  code: when such an assertion does not hold for deuteron's code, the test is
  reported as skipped with the reason ``code-text``, not failed, because the
  two compilers legitimately print different code.
* The ``skipIf*`` / ``skipUnless*`` / ``onlyBackends`` decorators answer for
  deuteron's single back end (Triton) and the device at hand.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import logging
import os
import sys
import types
import unittest
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple, Sequence

import torch

from .runtime import env as _env
from .runtime.config import Config, helion_other_backend_key

__all__ = [
    "DEVICE", "HALF_DTYPE", "LONG_INT_TYPE", "PROJECT_ROOT", "EXAMPLES_DIR", "BACKEND",
    "GeneratedCode", "CodeTextMismatch", "CosSimilarity",
    "code_and_output", "output_only", "run_example", "check_example", "import_path", "do_bench",
    "assert_close_with_mismatch_tolerance", "TestCase", "RefEagerTestBase", "RefEagerTestDisabled",
    "is_cuda", "get_test_dot_precision", "get_test_float32_matmul_precision",
    "skipIfFn", "xfailIfFn", "onlyBackends", "skipUnlessBackends", "matchesBackends",
    "skipIfNotCUDA", "skipIfCudaCapabilityLessThan", "skipIfSharedMemoryLessThan", "skipIfLowVRAM",
    "skipUnlessTensorDescriptor", "skipIfPyTorchBaseVerLessThan", "skipIfRefEager", "skipIfNormalMode",
]

# The one back end deuteron generates code for.
BACKEND = "triton"

DEVICE = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
HALF_DTYPE = torch.float16
LONG_INT_TYPE = torch.int64

# Where example programs live: $DEUTERON_EXAMPLES_DIR, else this checkout's examples/.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = Path(_env.examples_dir() or PROJECT_ROOT / "examples")


def is_cuda() -> bool:
    """Whether kernels run on an NVIDIA GPU here."""
    return DEVICE.type == "cuda" and torch.version.cuda is not None


def _get_backend() -> str:
    return BACKEND


def get_test_dot_precision() -> str:
    """The ``dot_precision`` setting tests run with (float32 dots as IEEE: exact comparisons hold)."""
    return "ieee"


def get_test_float32_matmul_precision() -> str:
    return "highest"


# ------------------------------------------------------------------ code text


class GeneratedCode(str):
    """Generated module text.  Assertions on it in ``TestCase`` that fail are code-text mismatches.

    A slice of it (a test splitting device code from host code) is generated code too."""

    def __getitem__(self, key: Any) -> str:
        part = super().__getitem__(key)
        return GeneratedCode(part) if isinstance(key, slice) else part


class CodeTextMismatch(unittest.SkipTest):
    """A test's expectation about Helion's generated code text that deuteron's code does not meet.

    A skip, not a failure: deuteron generates its own code; only results are compared."""

    def __init__(self, what: str) -> None:
        super().__init__(f"code-text: {what}")


# -------------------------------------------------------------------- running


def import_path(filename: str | os.PathLike[str]) -> types.ModuleType:
    """Imports a Python file as a module (once; later calls return the same module)."""
    path = Path(filename).resolve()
    name = f"deuteron_testing_import.{path.stem}_{abs(hash(str(path))):x}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


def _config_for(bound: Any, config_kwargs: dict[str, Any]) -> Config:
    # Keys of Helion's other back ends (num_threads, pallas_*, ...) are left out, as
    # Helion's helper leaves out the keys its current back end does not support.
    if config_kwargs:
        return Config(**{k: v for k, v in config_kwargs.items() if not helion_other_backend_key(k)})
    if len(bound.kernel.configs) == 1:
        return bound.kernel.configs[0]
    return bound.default_config()


def _synchronize(result: Any, args: Sequence[Any]) -> None:
    if any(isinstance(a, torch.Tensor) and a.is_cuda for a in args) or (
            isinstance(result, torch.Tensor) and result.is_cuda):
        torch.cuda.synchronize()


def code_and_output(fn: Any, args: Sequence[Any], **config: Any) -> tuple[GeneratedCode, Any]:
    """Runs ``fn`` on ``args`` with one config (``Config`` keywords; default: the kernel's
    own config or the heuristic default) and returns ``(generated code, result)``."""
    args = tuple(args)
    bound = fn.bind(args)
    cfg = _config_for(bound, config)
    code = GeneratedCode(bound.to_triton_code(cfg))
    result = bound.compile_config(cfg)(*args)
    _synchronize(result, args)
    return code, result


def output_only(fn: Any, args: Sequence[Any], **config: Any) -> Any:
    """Like ``code_and_output`` without returning the code."""
    args = tuple(args)
    bound = fn.bind(args)
    result = bound.compile_config(_config_for(bound, config))(*args)
    _synchronize(result, args)
    return result


def do_bench(fn: Callable[[], Any], **kwargs: Any) -> float:
    """Median time of ``fn()`` in milliseconds (Triton's ``do_bench`` on a GPU)."""
    import triton.testing

    kwargs = {k: v for k, v in kwargs.items() if k in ("warmup", "rep", "grad_to_none", "quantiles", "return_mode")}
    return float(triton.testing.do_bench(fn, **kwargs))


class CosSimilarity(NamedTuple):
    dim: int
    min_similarity: float


def assert_close_with_mismatch_tolerance(actual: Any, expected: Any, *, atol: float = 1e-4, rtol: float = 1e-4,
                                         max_mismatch_pct: float = 0.01, max_mismatched_abs_diff: float | None = None,
                                         max_abs_diff: float | None = None, max_rel_diff: float | None = None) -> None:
    """``torch.testing.assert_close``, but a fraction ``max_mismatch_pct`` of elements may miss the
    tolerance (bounded by ``max_mismatched_abs_diff``; ``max_abs_diff`` / ``max_rel_diff`` bound every element)."""
    try:
        torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol)
        return
    except AssertionError:
        if not (isinstance(actual, torch.Tensor) and isinstance(expected, torch.Tensor)):
            raise
    diff = (actual - expected).abs()
    bad = diff > atol + rtol * expected.abs()
    fraction = bad.float().mean().item() if diff.numel() else 0.0
    if fraction > max_mismatch_pct:
        raise AssertionError(f"{fraction:.4%} of the elements differ beyond atol={atol}, rtol={rtol} "
                             f"(at most {max_mismatch_pct:.4%} may)")
    if max_mismatched_abs_diff is not None and bool(bad.any()):
        worst = diff[bad].max().item()
        if worst > max_mismatched_abs_diff:
            raise AssertionError(f"a mismatched element differs by {worst} (at most {max_mismatched_abs_diff})")
    if max_abs_diff is not None and diff.numel() and diff.max().item() > max_abs_diff:
        raise AssertionError(f"an element differs by {diff.max().item()} (at most {max_abs_diff})")
    if max_rel_diff is not None and diff.numel():
        rel = (diff / expected.abs().clamp(min=1e-6)).max().item()
        if rel > max_rel_diff:
            raise AssertionError(f"an element differs by a factor {rel:.2f} of its value (at most {max_rel_diff})")


def _tensors(result: Any) -> list[Any]:
    if isinstance(result, (tuple, list)):
        return [r.clone() if isinstance(r, torch.Tensor) else r for r in result]
    return [result.clone() if isinstance(result, torch.Tensor) else result]


def _clone(args: Sequence[Any]) -> tuple:
    def one(a: Any) -> Any:
        if isinstance(a, torch.Tensor):
            c = a.detach().clone()
            c.requires_grad_(a.requires_grad)
            return c
        return a

    return tuple(one(a) for a in args)


def _compare(got: Any, expected: Any, *, atol: float, rtol: float, max_mismatch_pct: float | None,
             max_mismatched_abs_diff: float | None, what: str) -> None:
    if expected is None:
        return
    if not (isinstance(got, torch.Tensor) and isinstance(expected, torch.Tensor)):
        if got != expected:
            raise AssertionError(f"{what}: got {got!r}, expected {expected!r}")
        return
    g, e = got.to(torch.float32), expected.to(torch.float32)
    if max_mismatch_pct is not None:
        assert_close_with_mismatch_tolerance(g, e, atol=atol, rtol=rtol, max_mismatch_pct=max_mismatch_pct,
                                             max_mismatched_abs_diff=max_mismatched_abs_diff)
    else:
        torch.testing.assert_close(g, e, atol=atol, rtol=rtol, msg=lambda m: f"{what}: {m}")


def run_example(kernel_fn: Any, baseline_fn: Any, args: Sequence[Any], kernel_name: str = "deuteron",
                baseline_name: str = "torch", rtol: float = 1e-2, atol: float = 1e-1,
                max_mismatch_pct: float | None = None, max_mismatched_abs_diff: float | None = None,
                bwd: bool = False, trace_path: str | None = None, process_group_name: str | None = None,
                interleaved: bool = True) -> dict[str, float]:
    """Checks one or more kernels against the first baseline, then times them all (GPU only).

    ``kernel_fn`` / ``baseline_fn`` are callables or dicts ``{name: callable}``.  With
    ``bwd=True`` the gradients of the arguments that require grad are compared too.
    Returns ``{name: milliseconds}`` (empty on the CPU, where timing means nothing).
    """
    kernels = kernel_fn if isinstance(kernel_fn, dict) else {kernel_name: kernel_fn}
    baselines = baseline_fn if isinstance(baseline_fn, dict) else {baseline_name: baseline_fn}
    first_name, first = next(iter(baselines.items()))
    expected = _tensors(first(*_clone(args)))
    everything = {**kernels, **baselines}
    for name, fn in everything.items():
        if name == first_name:
            continue
        print(f"Testing {name} correctness...", file=sys.stderr)
        got = _tensors(fn(*_clone(args)))
        if len(got) != len(expected):
            raise AssertionError(f"{name} returned {len(got)} values, {first_name} {len(expected)}")
        for i, (g, e) in enumerate(zip(got, expected)):
            _compare(g, e, atol=atol, rtol=rtol, max_mismatch_pct=max_mismatch_pct,
                     max_mismatched_abs_diff=max_mismatched_abs_diff, what=f"{name} output {i}")
    if bwd:
        _check_backward(kernels, first_name, first, args, atol=atol, rtol=rtol)
    if not is_cuda():
        print("timing skipped: no GPU", file=sys.stderr)
        return {}
    cloned = _clone(args)
    times = {name: do_bench(functools.partial(fn, *cloned)) for name, fn in everything.items()}
    best = min(times[n] for n in baselines)
    print(f"\n{'implementation':<24}{'time (ms)':>12}{'speedup':>12}", file=sys.stderr)
    for name, t in times.items():
        print(f"{name:<24}{t:>12.4f}{best / t:>11.2f}x", file=sys.stderr)
    return times


def _check_backward(kernels: dict[str, Any], baseline_name: str, baseline: Callable[..., Any], args: Sequence[Any],
                    *, atol: float, rtol: float) -> None:
    leaves = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    if not leaves:
        raise AssertionError("bwd=True, but no argument requires grad")
    out = baseline(*args)
    grad_out = torch.randn_like(out)
    out.backward(grad_out)
    expected = [None if t.grad is None else t.grad.clone() for t in leaves]
    for t in leaves:
        t.grad = None
    for name, fn in kernels.items():
        fn(*args).backward(grad_out)
        for i, (t, e) in enumerate(zip(leaves, expected)):
            if (t.grad is None) != (e is None):
                raise AssertionError(f"{name}: gradient of argument {i} exists in one implementation only")
            if e is not None:
                torch.testing.assert_close(t.grad.float(), e.float(), atol=atol, rtol=rtol)
            t.grad = None


def check_example(name: str, args: Sequence[Any], expected: Any, fn_name: str | None = None,
                  skip_accuracy: bool = False, static_shapes: bool | None = None, atol: float = 1e-1,
                  rtol: float = 1e-2, max_mismatch_pct: float | None = None,
                  max_mismatched_abs_diff: float | None = None, emit_code: bool = True,
                  cos_sim: CosSimilarity | tuple[int, float] | None = None, **config: Any) -> GeneratedCode:
    """Runs ``EXAMPLES_DIR/<name>.py``'s kernel ``fn_name`` (default ``name``) on ``args`` with one
    config and compares the result with ``expected``; returns the generated code."""
    kernel = getattr(import_path(EXAMPLES_DIR / f"{name}.py"), fn_name or name)
    if static_shapes is not None:
        kernel.settings.static_shapes = static_shapes
    if emit_code:
        code, result = code_and_output(kernel, args, **config)
    else:
        code, result = GeneratedCode(""), output_only(kernel, args, **config)
    if skip_accuracy:
        return code
    got_list = _tensors(result)
    exp_list = expected if isinstance(expected, (tuple, list)) else [expected]
    if len(got_list) != len(exp_list):
        raise AssertionError(f"{name}: {len(got_list)} results, {len(exp_list)} expected")
    for i, (g, e) in enumerate(zip(got_list, exp_list)):
        if cos_sim is not None and isinstance(g, torch.Tensor):
            dim, least = cos_sim
            sim = torch.nn.functional.cosine_similarity(g.float(), e.float(), dim=dim).mean().item()
            if sim < least:
                raise AssertionError(f"{name} output {i}: cosine similarity {sim} < {least}")
        _compare(g, e, atol=atol, rtol=rtol, max_mismatch_pct=max_mismatch_pct,
                 max_mismatched_abs_diff=max_mismatched_abs_diff, what=f"{name} output {i}")
    return code


# ------------------------------------------------------------------ TestCase


# Text only a generated module holds: its header line and its host part's metadata.
_MODULE_MARKS = ("# Generated by deuteron ", "\n_deuteron_meta = {")


def _mentions_code(*values: Any) -> bool:
    """Whether an assertion is about generated code: a GeneratedCode, or a piece of
    a module's text (``to_triton_code``'s, split into device and host parts)."""
    return any(isinstance(v, GeneratedCode) or (isinstance(v, str) and any(m in v for m in _MODULE_MARKS))
               for v in values)


def _code_text_check(name: str) -> Callable[..., Any]:
    base = getattr(unittest.TestCase, name)

    @functools.wraps(base)
    def check(self: unittest.TestCase, first: Any, second: Any, *rest: Any, **kwargs: Any) -> Any:
        try:
            return base(self, first, second, *rest, **kwargs)
        except AssertionError:
            if _mentions_code(first, second):
                raise CodeTextMismatch(f"{name} on generated code") from None
            raise

    return check


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]


class _OutputCapture:
    def __init__(self) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()


class TestCase(unittest.TestCase):
    """``unittest.TestCase`` for kernel tests (see the module docstring on code-text assertions)."""

    maxDiff = 16384

    def assertExpectedJournal(self, value: str) -> None:  # noqa: N802 - Helion's spelling
        """Helion compares its generated code with a recorded copy; deuteron's code differs by design."""
        raise CodeTextMismatch("expected-journal comparison of Helion's generated code")

    assertIn = _code_text_check("assertIn")  # noqa: N815
    assertNotIn = _code_text_check("assertNotIn")  # noqa: N815
    assertRegex = _code_text_check("assertRegex")  # noqa: N815
    assertNotRegex = _code_text_check("assertNotRegex")  # noqa: N815
    assertEqual = _code_text_check("assertEqual")  # noqa: N815
    assertNotEqual = _code_text_check("assertNotEqual")  # noqa: N815
    assertMultiLineEqual = _code_text_check("assertMultiLineEqual")  # noqa: N815

    @contextlib.contextmanager
    def capture_logs(self) -> Iterator[_LogCapture]:
        handler = _LogCapture()
        root = logging.getLogger()
        root.addHandler(handler)
        try:
            yield handler
        finally:
            root.removeHandler(handler)

    @contextlib.contextmanager
    def capture_output(self) -> Iterator[_OutputCapture]:
        capture = _OutputCapture()
        with contextlib.redirect_stdout(capture.stdout), contextlib.redirect_stderr(capture.stderr):
            yield capture


class RefEagerTestBase:
    """Mixin of Helion's tests for its reference-eager mode.  Its assertions that Helion
    skips in that mode are plain assertions here (deuteron's interpret modes generate code);
    the ones about generated code are code-text assertions (see the module docstring)."""

    def assertTrueIfInNormalMode(self, condition: bool, msg: str | None = None) -> None:  # noqa: N802
        self.assertTrue(condition, msg)  # type: ignore[attr-defined]

    def assertEqualCode(self, first: str, second: str, msg: str | None = None) -> None:  # noqa: N802
        if first != second:
            raise CodeTextMismatch("assertEqualCode on generated code")

    def assertNotEqualCode(self, first: str, second: str, msg: str | None = None) -> None:  # noqa: N802
        if first == second:
            raise CodeTextMismatch("assertNotEqualCode on generated code")

    def getUserDefinedTunable(self, user_defined_tunables: dict[str, Any], key: str) -> Any:  # noqa: N802
        return user_defined_tunables.get(key)


class RefEagerTestDisabled:
    """Mixin of Helion's tests skipped in its reference-eager mode (deuteron has none of that kind)."""


# ---------------------------------------------------------------- decorators


def skipIfFn(cond: Callable[[], bool], reason: str) -> Callable[[Any], Any]:  # noqa: N802
    """Skips a test (or every test of a class) when ``cond()`` is true at run time."""
    if not isinstance(reason, str):
        raise TypeError("skipIfFn needs a reason string (use the decorator with parentheses)")

    def decorate(item: Any) -> Any:
        if isinstance(item, type):
            set_up = item.setUp

            @functools.wraps(set_up)
            def guarded_set_up(self: Any, *a: Any, **k: Any) -> Any:
                if cond():
                    self.skipTest(reason)
                return set_up(self, *a, **k)

            item.setUp = guarded_set_up
            return item

        @functools.wraps(item)
        def guarded(*a: Any, **k: Any) -> Any:
            if cond():
                raise unittest.SkipTest(reason)
            return item(*a, **k)

        return guarded

    return decorate


def xfailIfFn(cond: Callable[[], bool], reason: str) -> Callable[[Any], Any]:  # noqa: N802
    """Marks a test (or a class's tests) as an expected failure when ``cond()`` is true."""

    def decorate(item: Any) -> Any:
        if not cond():
            return item
        if isinstance(item, type):
            for name, value in list(vars(item).items()):
                if name.startswith("test") and callable(value):
                    setattr(item, name, unittest.expectedFailure(value))
            return item
        return unittest.expectedFailure(item)

    return decorate


def _never(reason: str = "") -> Callable[[Any], Any]:
    return lambda item: item


def _always(why: str) -> Callable[..., Callable[[Any], Any]]:
    def make(reason: str = "", *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        return unittest.skip(f"{why}: {reason}" if reason else why)

    return make


def matchesBackends(backends: Sequence[str]) -> bool:  # noqa: N802
    return BACKEND in backends


def onlyBackends(backends: Sequence[str]) -> Callable[[Any], Any]:  # noqa: N802
    """Runs a test class only when deuteron's back end is among ``backends``."""
    if matchesBackends(backends):
        return lambda item: item
    return unittest.skip(f"back end: only for {', '.join(backends)}")


def skipUnlessBackends(backends: Sequence[str]) -> Callable[[Any], Any]:  # noqa: N802
    return onlyBackends(backends)


def skipIfNotCUDA() -> Callable[[Any], Any]:  # noqa: N802
    return skipIfFn(lambda: not is_cuda(), "needs a CUDA GPU")


def skipIfCudaCapabilityLessThan(min_capability: tuple[int, int], *,  # noqa: N802
                                 reason: str | None = None) -> Callable[[Any], Any]:
    def too_old() -> bool:
        return is_cuda() and torch.cuda.get_device_capability() < tuple(min_capability)

    return skipIfFn(too_old, reason or f"needs compute capability {min_capability[0]}.{min_capability[1]}")


def skipIfSharedMemoryLessThan(required: int, *, reason: str | None = None) -> Callable[[Any], Any]:  # noqa: N802
    def too_small() -> bool:
        if not is_cuda():
            return False
        props = torch.cuda.get_device_properties(torch.cuda.current_device())
        return int(getattr(props, "shared_memory_per_block_optin", props.shared_memory_per_block)) < required

    return skipIfFn(too_small, reason or f"needs {required} bytes of shared memory per block")


def skipIfLowVRAM(reason: str = "needs a GPU with much memory", *,  # noqa: N802
                  required_bytes: int | None = None) -> Callable[[Any], Any]:
    need = required_bytes if required_bytes is not None else 30 * 1024**3

    def low() -> bool:
        return is_cuda() and torch.cuda.mem_get_info()[0] < need

    return skipIfFn(low, reason)


def skipUnlessTensorDescriptor(reason: str = "") -> Callable[[Any], Any]:  # noqa: N802
    """Tests of tensor descriptors (TMA) run where the hardware has them: CUDA 9.0+."""
    return skipIfFn(lambda: not (is_cuda() and torch.cuda.get_device_capability() >= (9, 0)),
                    reason or "needs tensor descriptors (an sm_90+ GPU)")


def skipIfPyTorchBaseVerLessThan(min_version: str) -> Callable[[Any], Any]:  # noqa: N802
    have = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2] if p.isdigit())
    want = tuple(int(p) for p in min_version.split(".")[:2])
    return unittest.skipIf(have < want, f"needs PyTorch {min_version}")


# Helion runs its tests in a reference-eager mode too (the Python source run as
# eager PyTorch, no code generated); deuteron's interpret modes generate code
# from the IR, so tests that Helion skips in that mode run here.
skipIfRefEager = _never  # noqa: N816
skipIfNormalMode = _always("runs only in Helion's reference-eager mode")  # noqa: N816
# Other platforms and back ends than deuteron's.
skipIfRocm = skipIfXPU = skipIfMTIA = skipIfMetal = skipIfA10G = _never  # noqa: N816
skipIfTileIR = skipIfCute = skipIfPallas = skipIfPallasInterpret = skipIfNotTriton = _never  # noqa: N816
xfailIfPallas = xfailIfPallasTpu = xfailIfPallasInterpret = xfailIfCute = _never  # noqa: N816
skipUnlessPallas = _always("back end: Pallas only")  # noqa: N816
skipUnlessCuteAvailable = _always("back end: CuTe only")  # noqa: N816
skipUnlessTileIR = _always("back end: TileIR only")  # noqa: N816
skipUnlessAMDCDNA = skipUnlessMultiXCD = _always("platform: AMD only")  # noqa: N816
skipUnlessMTIA = _always("platform: MTIA only")  # noqa: N816
skipUnlessTf32Supported = _never  # noqa: N816
