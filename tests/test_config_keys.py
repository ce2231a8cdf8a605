"""Every config key changes the generated code, and the result stays right.

Each case takes a kernel, a base config and a variant that differs in one key;
it checks that the Triton code differs the expected way, then runs both (in
the current CPU mode) and compares with PyTorch.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import deuteron
import deuteron.language as hl
import kernels_pointwise as K
from conftest import fresh
from deuteron.runtime import device as _device

C = deuteron.Config
HAS_BLOCK_PTR = _device.triton_version() < 309


def _matmul():
    import matmul

    x, y = torch.randn(64, 64), torch.randn(64, 48)
    return matmul.matmul, (x, y), lambda: x @ y, 1e-4


def _matmul_transposed_rhs():
    import matmul

    x, yt = torch.randn(64, 64), torch.randn(48, 64)
    return matmul.matmul, (x, yt.t()), lambda: x @ yt.t(), 1e-4


@deuteron.kernel(autotune_effort="none")
def _row_blocks_plus_one(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_r in hl.tile(x.size(0)):
        # 6 columns: short enough to unroll
        for tile_c in hl.tile(x.size(1)):
            out[tile_r, tile_c] = x[tile_r, tile_c] + 1
    return out


def _short_inner_loop():
    x = torch.randn(24, 6)
    return _row_blocks_plus_one, (x,), lambda: x + 1, 1e-6


def _softmax():
    import softmax

    x = torch.randn(16, 200)
    return softmax.softmax, (x,), lambda: torch.softmax(x, -1), 1e-5


def _gelu_mul():
    import gelu_mul

    x, y = torch.randn(40, 96), torch.randn(40, 96)
    return gelu_mul.gelu_mul, (x, y), lambda: F.gelu(x) * y, 1e-5


def _tile_ops():
    x = torch.randn(37, 45)
    ramp = torch.arange(37).float()[:, None] * 1000 + torch.arange(45)[None, :]
    return K.tile_ops, (x,), lambda: x + ramp + 8, 1e-5


def _add():
    x, y = torch.randn(1000), torch.randn(1000)
    return K.add, (x, y), lambda: x + y, 1e-6


MM = dict(block_sizes=[16, 16, 16])
CASES = [
    # key, kernel factory, base config, variant, text only in the variant's code
    ("block_sizes", _add, C(block_sizes=[64]), C(block_sizes=[256]), "_add_kernel, (4,)"),
    ("loop_orders", _gelu_mul, C(block_sizes=[8, 32]), C(block_sizes=[8, 32], loop_orders=[[1, 0]]), "pid_0 = pid % 3"),
    ("flatten_loops", _gelu_mul, C(block_sizes=[8, 32]), C(block_sizes=[8, 32], flatten_loops=[True]), "lin = "),
    ("l2_groupings", _matmul, C(**MM, l2_groupings=[1]), C(**MM, l2_groupings=[2]), "group_id"),
    ("reduction_loops", _softmax, C(block_sizes=[4]), C(block_sizes=[4], reduction_loops=[64]), "tl.range(0, 200, 64)"),
    ("static_ranges", _short_inner_loop, C(block_sizes=[8, 2]), C(block_sizes=[8, 2], static_ranges=[True]),
     "tl.static_range"),
    # The tl.range knobs' entries: [the grid loop, the k loop].
    ("range_unroll_factors", _matmul, C(**MM), C(**MM, range_unroll_factors=[0, 2]), "loop_unroll_factor=2"),
    ("range_num_stages", _matmul, C(**MM), C(**MM, range_num_stages=[0, 2]), "num_stages=2)"),
    ("range_multi_buffers", _matmul, C(**MM), C(**MM, range_multi_buffers=[None, False]),
     "disallow_acc_multi_buffer=True"),
    ("range_flattens", _matmul, C(**MM), C(**MM, range_flattens=[None, True]), "flatten=True"),
    # (With tensor descriptors: on Hopper, Triton 3.6 warp-specializes no other loads.)
    ("range_warp_specializes", _matmul, C(**MM, indexing="tensor_descriptor"),
     C(**MM, indexing="tensor_descriptor", range_warp_specializes=[None, True]), "warp_specialize=True"),
    # The grid loop's entry acts on the loop over tiles of a persistent pid_type.
    ("range_unroll_factors, persistent grid loop", _tile_ops, C(pid_type="persistent_blocked"),
     C(pid_type="persistent_blocked", range_unroll_factors=[2]), "loop_unroll_factor=2"),
    ("range_flattens, persistent grid loop", _tile_ops, C(pid_type="persistent_interleaved"),
     C(pid_type="persistent_interleaved", range_flattens=[True]), "flatten=True"),
    ("subtiles", _matmul, C(block_sizes=[32, 16, 16]), C(block_sizes=[32, 16, 16], subtiles=2), "offset_0 + 16"),
    ("num_warps", _add, C(block_sizes=[64]), C(block_sizes=[64], num_warps=8), "num_warps=8"),
    ("num_stages", _matmul, C(**MM), C(**MM, num_stages=3), "num_stages=3, site"),
    ("pid_type xyz", _tile_ops, C(), C(pid_type="xyz"), "tl.program_id(1)"),
    ("pid_type persistent_blocked", _tile_ops, C(), C(pid_type="persistent_blocked"), "pids_per_program"),
    ("pid_type persistent_interleaved", _tile_ops, C(), C(pid_type="persistent_interleaved"),
     "for virtual_pid in tl.range(_deuteron_bound(tl.program_id(0)), _deuteron_bound(total_pids)"),
    ("num_sm_multiplier", _tile_ops, C(pid_type="persistent_interleaved"),
     C(pid_type="persistent_interleaved", num_sm_multiplier=2), "min(264,"),
    ("indexing tensor_descriptor", _matmul, C(**MM), C(**MM, indexing="tensor_descriptor"), "make_tensor_descriptor"),
    # A transposed operand (last stride not 1): the descriptor takes the tensor's
    # memory order and the loaded block is permuted back.
    ("indexing tensor_descriptor, transposed view", _matmul_transposed_rhs, C(**MM), C(**MM, indexing="tensor_descriptor"),
     "dims in memory order"),
    # Triton 3.9 removed block pointers: there the request normalizes to pointers (None: same code).
    ("indexing block_ptr", _matmul, C(**MM), C(**MM, indexing="block_ptr"), "make_block_ptr" if HAS_BLOCK_PTR else None),
    ("load_eviction_policies", _add, C(block_sizes=[64]), C(block_sizes=[64], load_eviction_policies=["first", "last"]),
     'eviction_policy="evict_first"'),
    ("load_cache_modifiers", _add, C(block_sizes=[64]), C(block_sizes=[64], load_cache_modifiers=[".cg", ""]),
     'cache_modifier=".cg"'),
    ("store_cache_modifiers", _add, C(block_sizes=[64]), C(block_sizes=[64], store_cache_modifiers=[".cs"]),
     'cache_modifier=".cs"'),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_config_key_changes_code_and_keeps_results(mode, case):
    key, factory, base, variant, marker = case
    kernel, args, expected, tol = factory()
    bound = fresh(kernel).bind(args)
    base_code, var_code = bound.to_triton_code(base), bound.to_triton_code(variant)
    if marker is None:  # this Triton cannot follow the request: the code is the base's
        assert base_code == var_code
        return
    assert base_code != var_code, f"{key} did not change the generated code"
    assert marker in var_code and marker not in base_code, f"{key}: expected {marker!r} only in the variant"
    want = expected()
    for cfg in (base, variant):
        # eager mode runs the reference module, triton mode the generated Triton code
        torch.testing.assert_close(bound.compile_config(cfg)(*args), want, atol=tol, rtol=tol)


def test_block_ptr_addresses_through_pointers_on_triton_without_block_pointers(mode, monkeypatch):
    # Triton 3.9 removed tl.make_block_ptr (it raises NotImplementedError):
    # the request is normalized to what runs, and the autotuner never offers it.
    monkeypatch.setattr(_device, "triton_version", lambda: 309)
    kernel, args, expected, tol = _matmul()
    bound = fresh(kernel).bind(args)
    assert bound.device_info["triton_version"] == 309
    cfg = C(**MM, indexing="block_ptr")
    assert set(bound.normalize_config(cfg)["indexing"]) == {"pointer"}
    assert "make_block_ptr" not in bound.to_triton_code(cfg)
    torch.testing.assert_close(bound.compile_config(cfg)(*args), expected(), atol=tol, rtol=tol)


def test_maxnreg_is_a_launch_option():
    x = torch.randn(100)
    with pytest.MonkeyPatch.context() as m:
        m.setenv("DEUTERON_INTERPRET", "1")
        bound = fresh(K.add).bind((x, x))
    code = bound.to_triton_code(C(block_sizes=[64], maxnreg=128))
    assert "maxnreg=128" in code and "maxnreg=128" not in bound.to_triton_code(C(block_sizes=[64]))


def test_flatten_is_rejected_where_it_would_change_meaning():
    with pytest.MonkeyPatch.context() as m:
        m.setenv("DEUTERON_INTERPRET", "1")
        bound = fresh(_matmul()[0]).bind(_matmul()[1])
    with pytest.raises(deuteron.exc.ConfigError, match="flatten_loops"):
        bound.normalize_config(C(flatten_loops=[True]))


def test_default_config_of_every_example_is_valid():
    import attention
    import layer_norm
    import rms_norm

    cases = [(attention.attention, (torch.randn(1, 2, 64, 32),) * 3),
             (layer_norm.layer_norm, (torch.randn(8, 100), torch.randn(100), torch.randn(100))),
             (rms_norm.rms_norm, (torch.randn(8, 100), torch.randn(100)))]
    with pytest.MonkeyPatch.context() as m:
        m.setenv("DEUTERON_INTERPRET", "1")
        for kernel, args in cases:
            bound = fresh(kernel).bind(args)
            d = bound.default_config()
            assert bound.normalize_config(d) == d



def test_tune_spec_describes_each_dot_for_the_search_constraints():
    # The autotuner's constraint model reads each dot's tiles from the spec
    # (cpp/src/tune/search_space.cc): attention has two dots per key loop, q
    # loaded once, k and v in the loop, p computed in registers; causal
    # attention in two loops has them one after the other.
    import json

    import attention

    q = torch.randn(1, 2, 64, 32)
    with pytest.MonkeyPatch.context() as m:
        m.setenv("DEUTERON_INTERPRET", "1")
        spec = json.loads(fresh(attention.attention).bind((q, q, q)).tune_spec_json())
        causal = json.loads(fresh(attention.causal_attention_two_loops).bind((q, q, q)).tune_spec_json())
    dots = spec["kernels"][0]["dots"]
    assert [(d["a"]["source"], d["b"]["source"]) for d in dots] == [
        ("loaded_once", "loaded_in_loop"), ("registers", "loaded_in_loop")]
    # scores [b, m, n] then output [b, m, head_dim]: block sizes 0, 1, 2 and the whole head dim
    assert [d["result"] for d in dots] == [[[0, 1], [1, 1], [2, 1]], [[0, 1], [1, 1], [-1, 32]]]
    assert len({d["loop"] for d in dots}) == 1 and dots[0]["loop"] >= 0
    cdots = causal["kernels"][0]["dots"]
    assert len(cdots) == 4 and len({d["loop"] for d in cdots}) == 2
    # q is one load shared by both loops' first dots
    assert cdots[0]["a"]["load"] == cdots[2]["a"]["load"] >= 0
