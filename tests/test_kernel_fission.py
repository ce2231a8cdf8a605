"""A device loop whose inner loops read each other's results runs as one launch per
inner loop where that lets the loops become programs of the grid
(passes/kernel_fission.cc): the results match PyTorch in both CPU modes (the
interpret mode runs the loop as written, TRITON_INTERPRET the launches), the Triton
code has one kernel per part with only the parameters it uses, and programs whose
parts share values, or would read memory too late, stay one launch.
"""

from __future__ import annotations

import re

import pytest
import torch

import deuteron
import deuteron.language as hl
from conftest import fresh


@deuteron.kernel(autotune_effort="none")
def two_products(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # Helion's squeeze_and_excitation_net forward, in float32.
    m, n = x.size()
    k = a.size(1)
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    c = torch.empty([m, k], dtype=x.dtype, device=x.device)
    d = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        for tile_k in hl.tile(k):
            c[tile_m, tile_k] = torch.relu(x[tile_m, :] @ a[:, tile_k])
        for tile_n in hl.tile(n):
            acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
            for tile_k in hl.tile(k):
                acc = torch.addmm(acc, c[tile_m, tile_k], b[tile_k, tile_n])
            d[tile_m, tile_n] = torch.sigmoid(acc)
            out[tile_m, tile_n] = x[tile_m, tile_n] * d[tile_m, tile_n]
    return out, c, d


def two_products_reference(x, a, b):
    c = torch.relu(x @ a)
    d = torch.sigmoid(c @ b)
    return x * d, c, d


@deuteron.kernel(autotune_effort="none", static_shapes=False)
def scale_then_shift(x: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # Two parts: the scaled rows, then their shift by the row's first scaled
    # element (another column block's store).
    m, n = x.size()
    y = torch.empty_like(x)
    z = torch.empty_like(x)
    for tile_m in hl.tile(m):
        scale = s[tile_m]
        for tile_n in hl.tile(n):
            y[tile_m, tile_n] = x[tile_m, tile_n] * scale[:, None]
        for tile_n in hl.tile(n):
            z[tile_m, tile_n] = y[tile_m, tile_n] - y[tile_m, 0][:, None]
    return y, z


@deuteron.kernel(autotune_effort="none")
def normalize_rows(x: torch.Tensor) -> torch.Tensor:
    # The second loop uses the sum the first carries out: one part.
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        total = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(n):
            total = total + x[tile_m, tile_n].sum(-1)
        for tile_n in hl.tile(n):
            out[tile_m, tile_n] = x[tile_m, tile_n] / total[:, None]
    return out


@deuteron.kernel(autotune_effort="none")
def read_before_write(c: torch.Tensor) -> torch.Tensor:
    # The first column of c, read before the first loop overwrites c: the second
    # loop must see the old values, so the program stays one launch.
    m, n = c.size()
    out = torch.empty_like(c)
    for tile_m in hl.tile(m):
        first = c[tile_m, 0]
        for tile_n in hl.tile(n):
            c[tile_m, tile_n] = c[tile_m, tile_n] * 2.0
        for tile_n in hl.tile(n):
            out[tile_m, tile_n] = c[tile_m, tile_n] + first[:, None]
    return out


@deuteron.kernel(autotune_effort="none")
def rows_then_nest(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # The second part is an inner loop over two dims (flatten_loops, loop_orders):
    # the first part, which has no such loop, must not carry its config entries.
    m, k = x.size()
    c = torch.empty_like(x)
    out = torch.empty_like(y)
    for tile_m in hl.tile(m):
        for tile_k in hl.tile(k):
            c[tile_m, tile_k] = x[tile_m, tile_k] * 2.0
        for tile_a, tile_b in hl.tile([k, k]):
            out[tile_m, tile_a, tile_b] = y[tile_m, tile_a, tile_b] + c[tile_m, 0][:, None, None]
    return c, out


def _kernels(code: str) -> list[str]:
    return re.findall(r"^@triton\.jit\ndef (_\w+_kernel\w*)\(", code, flags=re.M)


def _loops(code: str) -> int:
    return len(re.findall(r"for offset_\d+ in tl\.range", code))


def test_two_products_run_as_two_launches(mode):
    torch.manual_seed(0)
    x, a, b = torch.randn(96, 128), torch.randn(128, 64) / 8, torch.randn(64, 128) / 8
    cfg = {"block_sizes": [32, 32, 32, 32]}
    got = fresh(two_products).bind((x, a, b)).compile_config(cfg)(x, a, b)
    for g, r in zip(got, two_products_reference(x, a, b)):
        torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-4)
    code = two_products.bind((x, a, b)).to_triton_code(cfg)
    assert _kernels(code) == ["_two_products_kernel_part1", "_two_products_kernel_part2"]
    # Both column loops are programs; the one loop left is the second product's K loop.
    assert _loops(code) == 1
    # Each part takes only the tensors it uses (the first: x, a, c).
    assert "def _two_products_kernel_part1(x, a, c, " in code
    assert "in 2 launches, one after the other" in code


@pytest.mark.parametrize("config", [
    {"block_sizes": [16, 32, 32]},
    {"block_sizes": [16, 32, 32], "pid_type": "persistent_blocked"},
    {"block_sizes": [16, 32, 32], "pid_type": "persistent_interleaved", "num_sm_multiplier": 2},
], ids=["flat", "persistent", "interleaved"])
def test_parts_with_dynamic_shapes_and_the_configs_program_ids(mode, config):
    torch.manual_seed(1)
    x, s = torch.randn(50, 70), torch.randn(50)
    y, z = fresh(scale_then_shift).bind((x, s)).compile_config(config)(x, s)
    torch.testing.assert_close(y, x * s[:, None])
    torch.testing.assert_close(z, y - y[:, :1])
    code = scale_then_shift.bind((x, s)).to_triton_code(config)
    assert len(_kernels(code)) == 2 and _loops(code) == 0


def test_a_value_between_loops_keeps_one_launch(mode):
    x = torch.rand(40, 90) + 0.5
    cfg = {"block_sizes": [16, 32, 32]}
    got = fresh(normalize_rows).bind((x,)).compile_config(cfg)(x)
    torch.testing.assert_close(got, x / x.sum(-1, keepdim=True), rtol=1e-5, atol=1e-6)
    code = normalize_rows.bind((x,)).to_triton_code(cfg)
    assert _kernels(code) == ["_normalize_rows_kernel"]


def test_a_read_before_the_loops_keeps_one_launch(mode):
    c = torch.randn(40, 90)
    cfg = {"block_sizes": [16, 32, 32]}
    c_run = c.clone()
    got = fresh(read_before_write).bind((c_run,)).compile_config(cfg)(c_run)
    torch.testing.assert_close(got, 2.0 * c + c[:, :1])
    code = read_before_write.bind((c.clone(),)).to_triton_code(cfg)
    assert _kernels(code) == ["_read_before_write_kernel"]


def test_loops_given_range_knobs_keep_one_launch(mode):
    # A tl.range knob on both column loops asks for the loops: nothing would
    # become programs, so the split would only add a launch.
    torch.manual_seed(2)
    x, a, b = torch.randn(64, 64), torch.randn(64, 32) / 8, torch.randn(32, 64) / 8
    cfg = {"block_sizes": [32, 32, 32, 32], "range_num_stages": [0, 2, 2, 0]}
    got = fresh(two_products).bind((x, a, b)).compile_config(cfg)(x, a, b)
    for g, r in zip(got, two_products_reference(x, a, b)):
        torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-4)
    assert _kernels(two_products.bind((x, a, b)).to_triton_code(cfg)) == ["_two_products_kernel"]


@pytest.mark.parametrize("config", [
    {"block_sizes": [8, 8, 8, 8]},
    {"block_sizes": [8, 8, 8, 8], "flatten_loops": [True]},
    {"block_sizes": [8, 8, 8, 8], "loop_orders": [[1, 0]], "flatten_loops": [True]},
], ids=["nested", "flattened", "reordered-flattened"])
def test_a_part_with_an_inner_loop_over_two_dims(mode, config):
    x, y = torch.randn(20, 24), torch.randn(20, 24, 24)
    c, out = fresh(rows_then_nest).bind((x, y)).compile_config(config)(x, y)
    torch.testing.assert_close(c, 2 * x)
    torch.testing.assert_close(out, y + 2 * x[:, :1, None])
    assert len(_kernels(rows_then_nest.bind((x, y)).to_triton_code(config))) == 2
