"""Autotuning kernels whose runs change memory: arguments written in place, and tensors
reached through StackTensor addresses (hl.stacktensor_like).

What a kernel's runs change is copied before the reference run and put back
before each checked run and when tuning in the calling process ends
(autotune/saved_memory.py): every config is checked from the same inputs, and a
tuned in-place update reaches the caller once, whether the configs ran in a
benchmark process or in the calling one.  StackTensor kernels are benchmarked in
the calling process (their arguments hold its addresses).  Kernels run through
the reference backend (DEUTERON_INTERPRET=1); compiling and timing are replaced
by the fakes below, which run each config several times as a timing loop does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron import exc
from deuteron.autotune import TuneHooks, tune
from deuteron.runtime.modules import load_module

import kernels_stack as K
from kernels_stack import pointers


def no_compile(path, launches, target):
    return {"compiled": 0}


def repeated_measure(fn, options):
    """Five runs, as a timing loop makes; 512-wide blocks are the fastest."""
    for _ in range(5):
        fn()
    return 1e-3 if json.loads(options["config"])["block_sizes"][0] == 512 else 2e-3


def twice_for_512(fn, args, config_json):
    """A config whose stores through the stack are wrong: it applies the update twice."""
    if config_json != "reference" and json.loads(config_json)["block_sizes"][0] == 512:
        fn(*args)
    return fn(*args)


HOOKS = dict(compile_target="test_autotune_saved_memory:no_compile",
             measure_target="test_autotune_saved_memory:repeated_measure", jobs=1)
CONFIGS = [deuteron.Config(block_sizes=[s]) for s in (256, 512)]


@pytest.fixture(autouse=True)
def _eager(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")


def _bound(kernel, args):
    kernel.reset()
    b = kernel.bind(args)
    b.settings = b.settings.replace(autotune_cache=False, autotune_progress_bar=False)
    return b


def _meta(bound):
    return load_module(bound.write_module(bound.default_config_json(), bound.backend), bound.globals)._deuteron_meta


def test_the_module_names_the_pointer_tables_and_examples():
    tensors = [torch.randn(33) for _ in range(3)]
    args = (pointers(tensors), tensors[0], torch.randn(33))
    assert _meta(_bound(K.add_in_place, args))["stacks"] == [(0, 1, True)]
    assert _meta(_bound(K.stack_sum, args[:2]))["stacks"] == [(0, 1, False)]
    assert "stacks" not in _meta(_bound(K.copy_pointers, (args[0],)))


def test_a_tuned_in_place_update_reaches_the_stacked_tensors_once():
    torch.manual_seed(0)
    tensors = [torch.randn(2000) for _ in range(4)]
    before = [t.clone() for t in tensors]
    y = torch.randn(2000)
    args = (pointers(tensors), tensors[0], y)
    b = _bound(K.add_in_place, args)
    res = tune(b, args, CONFIGS, hooks=TuneHooks(**HOOKS), return_result=True)
    assert res.config["block_sizes"] == [512] and not res.failures
    for t, old in zip(tensors, before):  # tuning ran every config 6+ times; none of it stays
        assert torch.equal(t, old)
    b.compile_config(res.config)(*args)
    for t, old in zip(tensors, before):
        torch.testing.assert_close(t, old + y)


def test_wrong_stores_through_the_stack_fail_the_accuracy_check():
    tensors = [torch.randn(2000) for _ in range(3)]
    before = [t.clone() for t in tensors]
    args = (pointers(tensors), tensors[0], torch.randn(2000))
    b = _bound(K.add_in_place, args)
    hooks = TuneHooks(**HOOKS, runner_target="test_autotune_saved_memory:twice_for_512")
    res = tune(b, args, CONFIGS, hooks=hooks, return_result=True)
    assert res.config["block_sizes"] == [256]
    [failure] = res.failures
    assert failure.kind == "wrong answer" and "through StackTensor pointers" in failure.message
    for t, old in zip(tensors, before):
        assert torch.equal(t, old)


def test_a_read_only_stack_tunes_in_this_process():
    torch.manual_seed(1)
    tensors = [torch.randn(3000) for _ in range(5)]
    args = (pointers(tensors), tensors[0])
    b = _bound(K.stack_sum, args)
    res = tune(b, args, CONFIGS, hooks=TuneHooks(**HOOKS), return_result=True)
    assert res.config["block_sizes"] == [512] and not res.failures
    torch.testing.assert_close(b.compile_config(res.config)(*args), K.stack_sum_ref(tensors))


@deuteron.kernel(autotune_progress_bar=False, autotune_cache=False)
def add_through_a_row_example(ptrs: torch.Tensor, rows: torch.Tensor, y: torch.Tensor) -> None:
    """The example is a view made in host code (rows[0]), not an argument itself."""
    like = rows[0]
    for tile in hl.tile(like.size(0)):
        stack = hl.stacktensor_like(like, ptrs[:])
        stack[tile] += y[tile]


def test_stores_the_tuner_cannot_put_back_run_the_default_config_with_a_warning():
    rows = torch.randn(3, 100)
    before = rows.clone()
    y = torch.randn(100)
    args = (pointers(list(rows)), rows, y)
    b = _bound(add_through_a_row_example, args)
    assert _meta(b)["stacks"] == [(0, -1, True)]
    with pytest.warns(exc.AutotuneSkipped, match="not an argument of the kernel itself"):
        cfg = tune(b, args, CONFIGS, hooks=TuneHooks(**HOOKS))
    assert cfg is CONFIGS[0]
    assert torch.equal(rows, before)
    b.compile_config(cfg)(*args)
    torch.testing.assert_close(rows, before + y)


def test_no_memory_for_the_copies_runs_untuned_with_a_warning(monkeypatch):
    from deuteron.autotune import saved_memory

    def no_room(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(saved_memory.SavedMemory, "of", no_room)
    tensors = [torch.randn(100) for _ in range(3)]
    before = [t.clone() for t in tensors]
    args = (pointers(tensors), tensors[0], torch.randn(100))
    b = _bound(K.add_in_place, args)  # a stack: benchmarked in this process
    with pytest.warns(exc.AutotuneSkipped, match="no memory left for a copy"):
        assert tune(b, args, CONFIGS, hooks=TuneHooks(**HOOKS)) is CONFIGS[0]
    for t, old in zip(tensors, before):
        assert torch.equal(t, old)


# ------------------------------------------------------- arguments written in place


@deuteron.kernel(autotune_progress_bar=False, autotune_cache=False)
def add_rows_in_place(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """x += y in the tile loop, after host code doubled x in place; returns x * 3 too."""
    x.mul_(2)
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        x[tile] = x[tile] + y[tile]
        out[tile] = x[tile] * 3
    return out


@deuteron.kernel(autotune_progress_bar=False, autotune_cache=False)
def accumulate_pair(pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    """pair[0] += pair[1]: an element of a tuple argument written in place."""
    acc, inc = pair
    for tile in hl.tile(acc.size(0)):
        acc[tile] = acc[tile] + inc[tile]


@pytest.mark.parametrize("isolate", [None, False], ids=["benchmark_process", "this_process"])
def test_arguments_written_in_place_are_the_same_for_every_config_and_the_caller(isolate):
    torch.manual_seed(3)
    x, y = torch.randn(2000), torch.randn(2000)
    x0 = x.clone()
    b = _bound(add_rows_in_place, (x, y))
    assert _meta(b)["mutates"] == ["x"]
    res = tune(b, (x, y), CONFIGS, hooks=TuneHooks(**HOOKS, isolate=isolate), return_result=True)
    # Without the copies, every checked run after the first timing started from an x the timing
    # runs had updated: each config but the first failed the accuracy check.
    assert not res.failures and res.config["block_sizes"] == [512]
    assert torch.equal(x, x0)
    out = b.compile_config(res.config)(x, y)
    torch.testing.assert_close(x, 2 * x0 + y)
    torch.testing.assert_close(out, 3 * (2 * x0 + y))


@pytest.mark.parametrize("isolate", [None, False], ids=["benchmark_process", "this_process"])
def test_a_tuple_element_written_in_place(isolate):
    acc, inc = torch.randn(700), torch.randn(700)
    acc0 = acc.clone()
    b = _bound(accumulate_pair, ((acc, inc),))
    res = tune(b, ((acc, inc),), CONFIGS, hooks=TuneHooks(**HOOKS, isolate=isolate), return_result=True)
    assert not res.failures and torch.equal(acc, acc0)


def test_recording_launches_runs_host_code_on_copies_of_what_it_writes(monkeypatch):
    """On a GPU the tuner records each config's launches by running its host function with
    a recording launcher (precompile.capture_launches): host code's own in-place writes
    (x.mul_(2)) must land on a copy, made once, not on the caller's x once per config."""
    monkeypatch.delenv("DEUTERON_INTERPRET")  # the Triton module's host function
    from deuteron.autotune.driver import Tuner
    from deuteron.autotune.precompile import capture_launches

    x, y = torch.randn(300), torch.randn(300)
    x0 = x.clone()
    b = _bound(add_rows_in_place, (x, y))
    assert _meta(b)["host_mutates"] == ["x"] and "host_mutates" not in _meta(_bound(K.add_in_place, (
        pointers([x]), x, y)))
    tuner = Tuner(b, (x, y), TuneHooks())
    tuner.default_path = tuner.code_path(b.default_config_json())
    tuner.setup_payload()
    assert tuner.capture_args[0] is not x and tuner.capture_args[1] is y
    for config in CONFIGS:
        launches = capture_launches(Path(tuner.code_path(b.normalize_config_json(config.to_json()))), b.globals,
                                    tuner.capture_args)
        assert [name for name, _, _ in launches] == ["_add_rows_in_place_kernel"]
    assert torch.equal(x, x0)
    tuner.progress.close()


@deuteron.kernel(autotune_progress_bar=False, autotune_cache=False)
def sum_through_a_row_example(ptrs: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """A read-only stack whose example is a view made in host code: nothing to save."""
    like = rows[0]
    out = torch.empty_like(like)
    for tile in hl.tile(like.size(0)):
        out[tile] = hl.stacktensor_like(like, ptrs[:])[tile].sum(0)
    return out


def test_a_read_only_stack_needs_no_argument_to_name_its_example():
    rows = torch.randn(4, 300)
    args = (pointers(list(rows)), rows)
    b = _bound(sum_through_a_row_example, args)
    assert _meta(b)["stacks"] == [(0, -1, False)]
    res = tune(b, args, CONFIGS, hooks=TuneHooks(**HOOKS), return_result=True)
    assert res.config["block_sizes"] == [512] and not res.failures
    torch.testing.assert_close(b.compile_config(res.config)(*args), rows.sum(0))
