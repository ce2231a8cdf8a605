"""Generated Triton code compiles for Hopper (sm_90) on a CPU-only machine.

Triton compiles for an explicit GPU target without a GPU, so these tests catch
code that Triton rejects (type errors, unsupported ops, register or shared
memory overflow at compile time) before a GPU ever sees it, and check that the
matrix kernels use Hopper's warp-group MMA (wgmma) and TMA when asked to.
"""

from __future__ import annotations

import pytest
import torch

import deuteron
from deuteron.runtime.aot import compile_for_target
from deuteron.runtime.env import triton_interpret

pytestmark = pytest.mark.skipif(triton_interpret(), reason="compiles real Triton kernels; run without TRITON_INTERPRET")

C = deuteron.Config


def _x(*shape, dtype=torch.bfloat16):
    return torch.randn(*shape, dtype=dtype)


def cases():
    import attention
    import cross_entropy
    import kernels_fit
    import layer_norm
    import matmul
    import rms_norm
    import softmax
    import sum as sums
    import welford

    return [
        ("softmax", softmax.softmax, (_x(256, 1024),), [None]),
        ("softmax_decomposed", softmax.softmax_decomposed, (_x(256, 4096),),
         [C(block_sizes=[1], reduction_loops=[1024], num_warps=8)]),
        ("softmax_two_pass", softmax.softmax_two_pass, (_x(256, 1024),), [None]),
        ("rms_norm", rms_norm.rms_norm, (_x(256, 4096), _x(4096)), [C(block_sizes=[2], reduction_loops=[512])]),
        ("layer_norm", layer_norm.layer_norm, (_x(256, 1000), _x(1000), _x(1000)),
         [C(block_sizes=[1], reduction_loops=[256])]),
        ("cross_entropy", cross_entropy.cross_entropy, (_x(128, 1000, dtype=torch.float32),
                                                        torch.randint(0, 1000, (128,))), [None]),
        ("long_sum", sums.long_sum, (_x(8, 100_000, dtype=torch.float32),), [None]),
        ("welford", welford.welford, (_x(1000, dtype=torch.float32), _x(1000, dtype=torch.float32),
                                      _x(64, 1000, dtype=torch.float32)), [None]),
        ("matmul", matmul.matmul, (_x(512, 512), _x(512, 512)), [None]),
        # w whole (2 MB) at any tile: the default rolls its columns (reduction_loops).
        ("gated_columns", kernels_fit.gated_columns, (_x(4096, 1024), _x(1024, 1024)), [None]),
        ("attention", attention.attention, (_x(1, 2, 256, 64), _x(1, 2, 256, 64), _x(1, 2, 256, 64)),
         [C(block_sizes=[1, 64, 64], num_warps=4, num_stages=2, indexing="tensor_descriptor")]),
        ("causal_attention", attention.causal_attention, (_x(1, 2, 256, 64), _x(1, 2, 256, 64),
                                                          _x(1, 2, 256, 64)), [None]),
        ("causal_attention_two_loops", attention.causal_attention_two_loops,
         (_x(1, 2, 256, 64), _x(1, 2, 256, 64), _x(1, 2, 256, 64)),
         [None, C(block_sizes=[1, 128, 128, 128], num_warps=4, num_stages=2, indexing="tensor_descriptor",
                  range_warp_specializes=[None, True, True])]),
    ]


@pytest.mark.parametrize("case", range(len(cases())))
def test_examples_compile_for_sm90(case, monkeypatch, tmp_path):
    name, kernel, args, configs = cases()[case]
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")  # bind CPU tensors (the code is generated for an H100 anyway)
    kernel.reset()
    bound = kernel.bind(args)
    for cfg in configs:
        cfg = cfg or bound.default_config()
        launches = compile_for_target(bound, cfg, args)
        assert launches, f"{name}: nothing was launched"
        for launch in launches:
            assert launch.compiled.asm["cubin"], name
            assert launch.compiled.metadata.shared <= 227 * 1024, f"{name}: too much shared memory"


def test_matmul_uses_wgmma_and_tma(monkeypatch):
    import matmul

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    matmul.matmul.reset()
    args = (_x(1024, 1024), _x(1024, 1024))
    bound = matmul.matmul.bind(args)
    (launch,) = compile_for_target(bound, C(block_sizes=[128, 128, 64], num_warps=8, num_stages=3,
                                            indexing="tensor_descriptor"), args)
    ttgir = launch.compiled.asm["ttgir"]
    assert "warp_group_dot" in ttgir, "Hopper matmuls must use wgmma"
    assert "async_tma_copy" in ttgir or "tma" in ttgir.lower()


def test_attention_dots_are_2d_warp_group_mma(monkeypatch):
    """With tile_b's block 1, unit-dim elimination makes the dots 2-D (wgmma, not mma.sync)."""
    import attention

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    attention.attention.reset()
    q = _x(1, 2, 256, 64)
    bound = attention.attention.bind((q, q, q))
    (launch,) = compile_for_target(bound, C(block_sizes=[1, 64, 64], num_warps=4, num_stages=2), (q, q, q))
    import re

    ttgir = launch.compiled.asm["ttgir"]
    assert len(re.findall(r"ttng\.warp_group_dot ", ttgir)) == 2, "both matmuls must use wgmma"
    assert "tt.dot " not in ttgir


def test_attention_loads_the_transposed_keys_through_tma(monkeypatch):
    """k_view is a transposed view: its descriptor is built in memory order, so all
    three operands (q, k, v) arrive by TMA rather than by pointer loads (in a
    warp-specialized loop: otherwise v, after the loop's first dot, goes
    through pointers; analysis/descriptor_guard.cc)."""
    import attention

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    attention.attention.reset()
    q = _x(1, 2, 256, 64)
    bound = attention.attention.bind((q, q, q))
    cfg = C(block_sizes=[1, 64, 64], num_warps=8, num_stages=2, indexing="tensor_descriptor",
            range_warp_specializes=[None, True])
    code = bound.to_triton_code(cfg)
    assert code.count("tl.make_tensor_descriptor(") == 4, code  # q, k, v and out
    (launch,) = compile_for_target(bound, cfg, (q, q, q))
    ttgir = launch.compiled.asm["ttgir"]
    assert ttgir.count("async_tma_copy_global_to_local") >= 3, "q, k and v must be TMA loads"


@pytest.mark.parametrize("name", ["attention", "causal_attention"])
def test_attention_default_is_warp_specialized_on_hopper(name, monkeypatch):
    """The Hopper default for 16-bit attention (ConfigSpec::flash_attention_loop)
    compiles, with the key loop split into producer and consumer warps."""
    import attention

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    kernel = getattr(attention, name)
    kernel.reset()
    q = _x(1, 2, 256, 128)
    bound = kernel.bind((q, q, q))
    (launch,) = compile_for_target(bound, bound.default_config(), (q, q, q))
    ttgir = launch.compiled.asm["ttgir"]
    assert "ttg.warp_specialize" in ttgir
    assert ttgir.count("async_tma_copy_global_to_local") >= 3


def _loop_entry_cases():
    import kernels_loops as L

    f32 = torch.float32
    return [
        # The grid loop's tl.range knobs on a persistent loop over tiles.
        (L.add_one, (_x(640, 968, dtype=f32),),
         [C(block_sizes=[32, 16], pid_type=p, range_unroll_factors=[2], range_num_stages=[3], range_multi_buffers=[m],
            range_flattens=[fl]) for p in ("persistent_blocked", "persistent_interleaved")
          for (m, fl) in ((True, False), (False, True))]),
        # An inner loop over three dims, reordered, and flattened into one loop.
        (L.device_loop_3d, (_x(16, 24, 20, 12, dtype=f32),),
         [C(block_sizes=[2, 8, 4, 1], loop_orders=[[2, 0, 1]], range_unroll_factors=[0, 2, 0, 2]),
          C(block_sizes=[2, 64, 2, 1], loop_orders=[[1, 0, 2]], flatten_loops=[True], range_num_stages=[0, 2])]),
        (L.scale_rows, (_x(64, 33, 17, dtype=f32), _x(64, dtype=f32)),
         [C(block_sizes=[4, 16, 8], flatten_loops=[True], indexing="tensor_descriptor")]),
        (L.nested_2d, (_x(64, 32, 4, dtype=f32),), [C(block_sizes=[16, 16, 1], static_ranges=[True])]),
        # Helion's test_unroll_with_pipelining: block pointers, a persistent grid, both loops unrolled and pipelined.
        (L.matmul, (_x(256, 256), _x(256, 256)),
         [C(block_sizes=[64, 16, 16], indexing="block_ptr", loop_orders=[[1, 0]], pid_type="persistent_blocked",
            range_num_stages=[4, 2], range_unroll_factors=[4, 4])]),
    ]


@pytest.mark.parametrize("case", range(len(_loop_entry_cases())))
def test_loop_entry_knobs_compile_for_sm90(case, monkeypatch):
    kernel, args, configs = _loop_entry_cases()[case]
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    kernel.reset()
    bound = kernel.bind(args)
    for cfg in configs:
        (launch,) = compile_for_target(bound, cfg, args)
        assert launch.compiled.asm["cubin"]

def while_cases():
    import kernels_while as K

    groups = torch.tensor([0, 2, 1, 0], dtype=torch.int32)
    return [
        ("count_up", K.count_up, (torch.randn(1000), 3)),
        ("zero_dim_counter", K.zero_dim_counter, (torch.zeros(300),)),
        ("halve_rows", K.halve_rows, (torch.randn(8, 200),)),
        ("nested", K.nested, (torch.randn(64, 32), 30.0)),
        ("repeated_row_sums", K.repeated_row_sums, (torch.randn(64, 300), 2)),
        ("lock_add", K.lock_add, (torch.randn(4, 64), groups, torch.zeros(3, dtype=torch.int32), torch.zeros(3, 64))),
        ("lock_tiles", K.lock_tiles, (torch.zeros(64, dtype=torch.int32),)),
        ("overwritten_unread", K.overwritten_unread, (torch.randn(300),)),
    ]


@pytest.mark.parametrize("case", range(len(while_cases())))
def test_while_loops_compile_for_sm90(case, monkeypatch):
    """A while loop is an scf.while whose condition Triton takes as an i1 scalar."""
    name, kernel, args = while_cases()[case]
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    kernel.reset()
    bound = kernel.bind(args)
    (launch,) = compile_for_target(bound, bound.default_config(), args)
    assert "scf.while" in launch.compiled.asm["ttir"], name
