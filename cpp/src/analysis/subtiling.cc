// Sub-tiling legality: which grid tile dim passes/grid_subtiling.cc may
// split into sub-tiles.  Every value with the dim is computed once per
// sub-tile, so the split is legal when no op turns a value with the dim into
// one without it (a reduction over the dim, a dot contracting it, a reshape,
// an if yielding it).
#include <algorithm>

#include "deuteron/analysis.h"

namespace deuteron::analysis {

namespace {

using ir::OpKind;

std::vector<int> real_dims(const ir::Type& t) {
  std::vector<int> out;
  for (int x : t.dims)
    if (x != ir::kBroadcast) out.push_back(x);
  return out;
}

bool legal(const ir::DeviceKernel& k, int d) {
  bool ok = true;
  auto twice = [&](const std::vector<int>& dims) { return std::count(dims.begin(), dims.end(), d) > 1; };
  ir::walk(k.body, [&](const ir::Op& op) {
    if (!ok || !ir::touches_dim(op, d)) return;
    // The dim on two axes (x[t.index, t.index]) pairs every lane with every
    // other: sub-tiles would pair each only with its own.
    for (const auto& r : op.results) ok = ok && !twice(r->type.dims);
    for (const ir::Value* v : op.operands) ok = ok && !twice(v->type.dims);
    if (op.kind == OpKind::Store || op.kind == OpKind::AtomicRMW) ok = ok && !twice(ir::access_dims(op));
    if (!ok) return;
    switch (op.kind) {
      case OpKind::For:
        // Its bounds are scalars (shared by the sub-tiles); only its
        // loop-carried values can have the dim.
        if (op.attrs.dim == d) ok = false;
        return;
      case OpKind::Yield:
      case OpKind::Store:
      case OpKind::Assert:
      case OpKind::Print:
      case OpKind::Breakpoint: return;
      case OpKind::Reshape:
        // Only one that adds or drops size-1 axes keeps the dim whole.
        if (real_dims(op.operands[0]->type) != real_dims(op.result()->type)) ok = false;
        return;
      // Its yields and results keep one type per branch or iteration: no sub-tiles of them.
      case OpKind::If:
      case OpKind::While: ok = false; return;
      // Triton text may mix the lanes of its block (tl.sum, tl.reshape): it sees the whole block.
      case OpKind::InlineTriton: ok = false; return;
      case OpKind::Gather:
        // A gather along the dim reads any of its lanes.
        if (op.operands[0]->type.dims.at(op.attrs.axis) == d) ok = false;
        for (const auto& r : op.results)
          if (!ir::has_dim(r->type, d)) ok = false;
        return;
      case OpKind::Scan:
      case OpKind::Sort:
        // A scan or sort along the dim runs across the sub-tiles.
        if (op.operands[0]->type.dims.at(op.attrs.axis) == d) ok = false;
        return;
      default:
        for (const auto& r : op.results)
          if (!ir::has_dim(r->type, d)) ok = false;
    }
  });
  return ok;
}

}  // namespace

std::optional<int> subtilable_dim(const ir::DeviceKernel& k) {
  std::optional<int> found;
  ir::walk(k.body, [&](const ir::Op& op) {
    if (found || op.kind != OpKind::Dot) return;
    const auto& a = op.operands.at(0)->type.dims;
    if (a.size() < 2) return;
    int m = a[a.size() - 2];
    if (m < 0 || std::find(k.grid_dims.begin(), k.grid_dims.end(), m) == k.grid_dims.end()) return;
    if (k.dim(m).kind != ir::DimKind::Tile) return;
    if (legal(k, m)) found = m;
  });
  return found;
}

}  // namespace deuteron::analysis
