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
//     known on the host, from 0 (a Tile dim, not a nest of several dims);
//   * every store in it indexes the loop's dim (each iteration writes its own
//     elements) and it has no other effect (atomics, prints, asserts, inline
//     Triton);
//   * the kernel loads no memory that the loop stores (ir::memory_of: views
//     of one argument are one memory);
//   * everything else in the program is cheap to repeat in every program:
//     reads, index arithmetic and elementwise work (no other loop, dot,
//     reduction or store), as for reduction rolling's chunks that become
//     programs (reduction_rolling.cc).
// Done only where the launch may grow: not in a persistent-only kernel, a
// flattened grid or one with a program id axis per grid dim (the caller
// says); and not for a loop the config gives tl.range knobs (static_ranges,
// range_unroll_factors, ...: `kept`, by the loop's dim), so that every config
// key still means what it says: a knob asks for the loop, the defaults let it
// become programs.
// The reference module (interpret mode) runs the loop as written.
#include <set>

#include "deuteron/passes.h"

namespace deuteron::passes {

namespace {

using ir::OpKind;

bool cheap_to_repeat(OpKind kind) {
  switch (kind) {
    case OpKind::Constant: case OpKind::ScalarParam: case OpKind::SymValue: case OpKind::TileIndex:
    case OpKind::TileBegin: case OpKind::TileEnd: case OpKind::TileBlockSize: case OpKind::TileId:
    case OpKind::TileCount: case OpKind::TileMask: case OpKind::Full: case OpKind::Arange: case OpKind::Load:
    case OpKind::Unary: case OpKind::Binary: case OpKind::Where: case OpKind::Cast: case OpKind::ExpandDims:
    case OpKind::Squeeze: case OpKind::BroadcastTo: case OpKind::Permute: case OpKind::Reshape:
    case OpKind::BlockLanes: return true;
    default: return false;
  }
}

bool in_a_nest(const ir::DeviceKernel& k, int dim) {
  for (const auto& nest : k.nests)
    for (int d : nest)
      if (d == dim) return true;
  return false;
}

bool stores_index(const ir::Op& store, int dim) {
  for (const auto& ix : store.attrs.index)
    if (ix.kind == ir::IndexSpec::Kind::TileDim && ix.dim == dim) return true;
  return false;
}

// Whether top-level op `loop` is a loop whose iterations are independent
// (see the file comment).
bool independent(const ir::DeviceKernel& k, const ir::Op& loop, const std::set<int>& kept) {
  if (loop.kind != OpKind::For || !loop.operands.empty() || !loop.results.empty()) return false;
  if (kept.count(loop.attrs.dim)) return false;
  if (loop.attrs.dynamic_bounds || loop.regions.size() != 1) return false;
  const ir::Dim& dim = k.dim(loop.attrs.dim);
  if (dim.kind != ir::DimKind::Tile || dim.dynamic_bounds || !dim.begin.same_as(SymInt(0))) return false;
  if (in_a_nest(k, dim.id)) return false;
  bool ok = true;
  std::set<int> stored;
  ir::walk(*loop.regions[0], [&](const ir::Op& op) {
    switch (op.kind) {
      case OpKind::Store:
        if (!stores_index(op, dim.id)) ok = false;
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
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind == OpKind::Load && stored.count(ir::memory_of(k, op.attrs.tensor))) ok = false;
  });
  if (!ok) return false;
  for (const auto& op : k.body.ops)
    if (op.get() != &loop && !cheap_to_repeat(op->kind)) return false;
  return true;
}

// Splices the loop's body into the kernel body where the loop was and makes
// its dim a grid dim.
void to_grid(ir::DeviceKernel& k, size_t at) {
  ir::Op& loop = *k.body.ops[at];
  const int dim = loop.attrs.dim;
  std::vector<std::unique_ptr<ir::Op>> body;
  for (auto& op : loop.regions.front()->ops) {
    if (op->kind == OpKind::Yield) continue;
    op->parent = &k.body;
    body.push_back(std::move(op));
  }
  k.body.ops.erase(k.body.ops.begin() + static_cast<std::ptrdiff_t>(at));
  k.body.ops.insert(k.body.ops.begin() + static_cast<std::ptrdiff_t>(at), std::make_move_iterator(body.begin()),
                    std::make_move_iterator(body.end()));
  k.dim(dim).loop_id = -1;
  k.grid_dims.push_back(dim);
}

}  // namespace

void independent_loops_to_grid(ir::DeviceKernel& kernel, const std::set<int>& kept) {
  // A loop promoted leaves its body at the top: a loop inside may qualify next.
  for (bool changed = true; changed;) {
    changed = false;
    eliminate_dead_code(kernel);
    for (size_t i = 0; i < kernel.body.ops.size(); ++i) {
      if (!independent(kernel, *kernel.body.ops[i], kept)) continue;
      to_grid(kernel, i);
      changed = true;
      break;
    }
  }
}

}  // namespace deuteron::passes
