"""`C[idx] = torch.where(mask, new, C[idx])` writes only the lanes where mask
holds (passes/masked_store_from_select.cc).

The form comes from gather/scatter kernels (Helion's moe_matmul_ogs) whose
masked-off lanes clamp their row index to a valid row: stored as written, the
clamped lanes write the stale old row over the new one at the same address and
the result depends on which lane the hardware lets win — it was a silent wrong
answer on the GPU and under TRITON_INTERPRET=1.  In both CPU modes, against
PyTorch, plus the generated code and the IR pass itself."""

from __future__ import annotations

import torch

import deuteron
import deuteron.language as hl
from conftest import fresh


@deuteron.kernel(config=deuteron.Config(block_sizes=[32, 16]))
def scatter_rows(x: torch.Tensor, rows: torch.Tensor, counts: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    # Group g owns rows[starts[g] : starts[g] + counts[g]] (here: groups of
    # `x.size(0) // groups` slots; slots past counts[g] clamp to the group's first row).
    groups = counts.size(0)
    per = rows.size(0) // groups
    for g in hl.grid(groups):
        n = counts[g]
        for tile_t, tile_n in hl.tile([per, x.size(1)]):
            valid = tile_t.index < n
            slot = g * per + torch.where(valid, tile_t.index, 0)
            r = rows[slot]
            old = out[r, tile_n]
            new = x[r, tile_n] * 2.0 + 1.0
            out[r, tile_n] = torch.where(valid[:, None], new, old)
    return out


@deuteron.kernel(config=deuteron.Config(block_sizes=[32, 16]))
def scatter_rows_inverted(x: torch.Tensor, rows: torch.Tensor, counts: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    groups = counts.size(0)
    per = rows.size(0) // groups
    for g in hl.grid(groups):
        n = counts[g]
        for tile_t, tile_n in hl.tile([per, x.size(1)]):
            invalid = tile_t.index >= n
            slot = g * per + torch.where(invalid, 0, tile_t.index)
            r = rows[slot]
            old = out[r, tile_n]
            out[r, tile_n] = torch.where(invalid[:, None], old, -x[r, tile_n])
    return out


def _inputs(groups=5, per=24, cols=40):
    torch.manual_seed(0)
    x = torch.randn(groups * per, cols)
    rows = torch.randperm(groups * per).to(torch.int32)
    counts = torch.tensor([7, 0, 24, 1, 13], dtype=torch.int32)[:groups]
    return x, rows, counts, per


def _expect(x, rows, counts, per, f):
    out = torch.full_like(x, 5.0)
    for g, n in enumerate(counts.tolist()):
        r = rows[g * per: g * per + n].long()
        out[r] = f(x[r])
    return out


def test_masked_off_lanes_that_share_a_row_do_not_write(mode):
    x, rows, counts, per = _inputs()
    got = fresh(scatter_rows)(x, rows, counts, torch.full_like(x, 5.0))
    torch.testing.assert_close(got, _expect(x, rows, counts, per, lambda v: v * 2.0 + 1.0))


def test_old_value_in_the_true_branch_masks_with_the_negation(mode):
    x, rows, counts, per = _inputs()
    got = fresh(scatter_rows_inverted)(x, rows, counts, torch.full_like(x, 5.0))
    torch.testing.assert_close(got, _expect(x, rows, counts, per, lambda v: -v))


def test_the_store_is_masked_and_the_old_value_is_not_read(mode):
    x, rows, counts, _ = _inputs()
    code = fresh(scatter_rows).bind((x, rows, counts, torch.full_like(x, 5.0))).generate(backend="triton")
    store = [line for line in code.splitlines() if "tl.store(out" in line]
    # It writes `new` itself under the tile masks and the program's condition.
    assert len(store) == 1 and ", new_" in store[0] and store[0].count(" & ") == 2, store
    assert "tl.load(out" not in code


@deuteron.kernel
def keep_where_written_between(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    for tile in hl.tile(x.size(0)):
        old = out[tile]
        out[tile] = x[tile]
        out[tile] = torch.where(x[tile] > 0, x[tile] * 3.0, old)
    return out


def test_a_store_between_the_load_and_the_select_keeps_the_select(mode):
    # The old value is from before the first store: the select must still write it back.
    x = torch.randn(100)
    out = torch.full_like(x, 7.0)
    got = fresh(keep_where_written_between)(x, out.clone())
    torch.testing.assert_close(got, torch.where(x > 0, x * 3.0, out))
