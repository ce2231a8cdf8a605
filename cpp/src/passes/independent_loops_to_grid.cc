// An inner tile loop whose iterations are independent becomes a dim of the
// grid: each program runs one iteration, as a matmul tiles its output
// columns across programs instead of looping over them.
//
//   for tile_m in hl.tile(m):
//       for tile_r in hl.tile(r):
//           h[tile_m, tile_r] = torch.relu(x[tile_m, :] @ a[:, tile_r])
//
// runs m / block_m programs, each looping over every column block: at 1024
// rows and 64-row tiles, 16 programs on 132 SMs (measured on the H100: 71 us,
// where cuBLAS takes 13 us for the same product; docs/perf/small_grid_dot_defaults.md).
// With the column loop in the grid it runs (m / block_m) * (r / block_r).
//
// Independent means that no order of the iterations can be told apart:
//   * the loop carries nothing (no operands, no results) and its bounds are
//     known on the host (a Tile dim, not a nest of several dims; a grid dim
//     may start elsewhere than 0, as `hl.tile(begin, end)` does);
//   * every store in it indexes the loop's dim (each iteration writes its own
//     elements) and it has no other effect (atomics, prints, asserts, inline
//     Triton);
//   * the kernel loads no memory that the loop stores (ir::memory_of: views
//     of one argument are one memory), except where every access to that
//     memory is in the loop, through one tensor, at the same tile indices,
//     the loop's dim among them: each iteration then reads only elements it
//     writes itself (`d[tm, tn] = ...; out[tm, tn] = x[tm, tn] * d[tm, tn]`);
//   * everything else in the program is cheap to repeat in every program:
//     reads, index arithmetic and elementwise work (no other loop, dot,
//     reduction or store), as for reduction rolling's chunks that become
//     programs (reduction_rolling.cc; both use loop_programs.h).
// Done only where the launch may grow: not in a persistent-only kernel, a
// flattened grid or one with a program id axis per grid dim (the caller
// says); and not for a loop the config gives tl.range knobs (static_ranges,
// range_unroll_factors, ...: `kept`, by the loop's dim), so that every config
// key still means what it says: a knob asks for the loop, the defaults let it
// become programs.
// The reference module (interpret mode) runs the loop as written.
#include <set>

#include "deuteron/passes.h"
#include "loop_programs.h"

namespace deuteron::passes {

namespace {

using ir::OpKind;

bool in_a_nest(const ir::DeviceKernel& k, int dim) {
  for (const auto& nest : k.nests)
    for (int d : nest)
      if (d == dim) return true;
  return false;
}

// Whether a load's or store's index has `dim`'s own indices (a TileDim of it:
// unlike ir::indexes_dim, not an index tensor over `dim`, whose values may
// repeat across iterations).
bool tile_indexes_dim(const ir::Op& access, int dim) {
  for (const auto& ix : access.attrs.index)
    if (ix.kind == ir::IndexSpec::Kind::TileDim && ix.dim == dim) return true;
  return false;
}

bool same_tile_index(const ir::Op& a, const ir::Op& b) {
  if (a.attrs.tensor != b.attrs.tensor || a.attrs.broadcast_index || b.attrs.broadcast_index ||
      a.attrs.index.size() != b.attrs.index.size())
    return false;
  for (size_t i = 0; i < a.attrs.index.size(); ++i) {
    const ir::IndexSpec &x = a.attrs.index[i], &y = b.attrs.index[i];
    if (x.kind != ir::IndexSpec::Kind::TileDim || y.kind != ir::IndexSpec::Kind::TileDim || x.dim != y.dim ||
        !x.offset.same_as(y.offset))
      return false;
  }
  return true;
}

// Whether every access to memory `mem` in the kernel is a load or store in
// `loop`, all at one tensor's same tile indices (so those of `dim` among them):
// an iteration reads back only what it wrote itself or what no iteration writes.
bool accessed_only_in_place(const ir::DeviceKernel& k, const ir::Op& loop, int mem, int dim) {
  auto touches = [&](const ir::Op& op) {
    return (op.kind == OpKind::Load || op.kind == OpKind::Store || op.kind == OpKind::AtomicRMW) &&
           ir::memory_of(k, op.attrs.tensor) == mem;
  };
  const ir::Op* first = nullptr;
  bool ok = true;
  int all = 0;
  ir::walk(k.body, [&](const ir::Op& op) {
    if (!touches(op)) return;
    ++all;
    if (op.kind == OpKind::AtomicRMW || !tile_indexes_dim(op, dim)) ok = false;
    if (!first) first = &op;
    else if (!same_tile_index(*first, op)) ok = false;
  });
  if (!ok) return false;
  // ...and all of them inside the loop.
  int inside = 0;
  ir::walk(*loop.regions[0], [&](const ir::Op& op) { inside += touches(op); });
  return inside == all;
}

}  // namespace

bool independent_iterations(const ir::DeviceKernel& k, const ir::Op& loop, const std::set<int>& kept) {
  if (loop.kind != OpKind::For || !loop.operands.empty() || !loop.results.empty()) return false;
  if (kept.count(loop.attrs.dim)) return false;
  if (loop.attrs.dynamic_bounds || loop.regions.size() != 1) return false;
  const ir::Dim& dim = k.dim(loop.attrs.dim);
  if (dim.kind != ir::DimKind::Tile || dim.dynamic_bounds) return false;
  if (in_a_nest(k, dim.id)) return false;
  bool ok = true;
  std::set<int> stored;
  ir::walk(*loop.regions[0], [&](const ir::Op& op) {
    switch (op.kind) {
      case OpKind::Store:
        if (!tile_indexes_dim(op, dim.id)) ok = false;
        stored.insert(ir::memory_of(k, op.attrs.tensor));
        break;
      case OpKind::AtomicRMW: case OpKind::Assert: case OpKind::Print: case OpKind::Breakpoint:
      case OpKind::InlineTriton:
        ok = false;
        break;
      default: break;
    }
  });
  if (!ok || stored.empty()) return false;
  std::set<int> read_back;
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind == OpKind::Load && stored.count(ir::memory_of(k, op.attrs.tensor)))
      read_back.insert(ir::memory_of(k, op.attrs.tensor));
  });
  for (int mem : read_back)
    if (!accessed_only_in_place(k, loop, mem, dim.id)) return false;
  return rest_cheap_to_repeat(k, loop);
}

void independent_loops_to_grid(ir::DeviceKernel& kernel, const std::set<int>& kept) {
  // A loop promoted leaves its body at the top: a loop inside may qualify next.
  for (bool changed = true; changed;) {
    changed = false;
    eliminate_dead_code(kernel);
    for (size_t i = 0; i < kernel.body.ops.size(); ++i) {
      if (!independent_iterations(kernel, *kernel.body.ops[i], kept)) continue;
      loop_to_grid_dim(kernel, *kernel.body.ops[i]);
      changed = true;
      break;
    }
  }
}

}  // namespace deuteron::passes
