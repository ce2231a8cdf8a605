// flatten_loops on an inner loop written over several dims
// (`for tb, tc, td in hl.tile([b, c, d])`): the loop runs as one loop over
// the b * c * d elements, a block of the product of the dims' blocks at a
// time (Helion's FlattenedTileStrategy), each lane's b, c, d coordinates
// computed from its position in the flattened order (the loop order's last
// dim fastest, as in the nested loops).
//
// The emitter prints the nest's values with the nest's dims as one axis.
// That is sound where the loop's body is pointwise over those dims (no op
// mixes lanes: no reduction, dot, permute, reshape, scan, inner loop or
// tile attribute of theirs), carries nothing, and every value the body
// computes holds all of the dims side by side in the order written or none of
// them.  Values combine right-aligned (Triton broadcasts as PyTorch does), so
// the dims sit at one place counted from the right in every value that holds
// them: there, a value that holds none has size-1 axes, which become one.
#include <algorithm>
#include <functional>
#include <map>

#include "deuteron/analysis.h"

namespace deuteron::analysis {

namespace {

// The For op iterating each dim.
std::map<int, const ir::Op*> loops_by_dim(const ir::DeviceKernel& k) {
  std::map<int, const ir::Op*> out;
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind == ir::OpKind::For) out[op.attrs.dim] = &op;
  });
  return out;
}

// The only For op in a loop's body besides its yield, or null.
const ir::Op* nested_loop(const ir::Op& loop) {
  const ir::Region& body = *loop.regions[0];
  if (body.ops.size() != 2 || body.ops[0]->kind != ir::OpKind::For || body.ops[1]->kind != ir::OpKind::Yield)
    return nullptr;
  return body.ops[0].get();
}

bool in_nest(const std::vector<int>& nest, int d) { return std::find(nest.begin(), nest.end(), d) != nest.end(); }

// Where a value's axes hold the nest's dims, counted from the right: the
// number of axes after them; -1 when it holds none of them; -2 when it holds
// them otherwise than all side by side in the order written.
int position_from_right(const std::vector<int>& dims, const std::vector<int>& nest) {
  int held = 0;
  for (int d : dims) held += in_nest(nest, d);
  if (held == 0) return -1;
  if (held != static_cast<int>(nest.size())) return -2;
  auto first = std::find(dims.begin(), dims.end(), nest.front());
  if (dims.end() - first < static_cast<std::ptrdiff_t>(nest.size())) return -2;
  for (size_t i = 0; i < nest.size(); ++i)
    if (first[static_cast<std::ptrdiff_t>(i)] != nest[i]) return -2;
  return static_cast<int>(dims.end() - first) - static_cast<int>(nest.size());
}

}  // namespace

std::optional<FlatNestShape> flat_nest_shape(const ir::DeviceKernel& k, const std::vector<int>& nest) {
  for (int d : nest) {
    const ir::Dim& dim = k.dim(d);
    if (dim.kind != ir::DimKind::Tile || dim.dynamic_bounds || dim.loop_id < 0 || dim.merged() ||
        !dim.begin.is_constant() || dim.begin.constant() != 0)
      return std::nullopt;
  }
  // (A kernel whose grid tile grid_subtiling may split copies the body per sub-tile.)
  if (subtilable_dim(k)) return std::nullopt;
  // The nest's loops, perfectly nested and carrying nothing.
  std::map<int, const ir::Op*> by_dim = loops_by_dim(k);
  const ir::Op* outer = nullptr;
  for (int d : nest) {
    auto it = by_dim.find(d);
    if (it == by_dim.end()) return std::nullopt;
    const ir::Op* parent = it->second->parent ? it->second->parent->parent : nullptr;
    if (!(parent && parent->kind == ir::OpKind::For && in_nest(nest, parent->attrs.dim))) outer = it->second;
  }
  FlatNestShape shape;
  shape.outer = outer;
  for (const ir::Op* l = outer; l; l = nested_loop(*l)) {
    if (!in_nest(nest, l->attrs.dim) || !l->operands.empty() || !l->results.empty()) return std::nullopt;
    shape.order.push_back(l->attrs.dim);
    shape.inner = l;
    if (shape.order.size() == nest.size()) break;
  }
  if (!outer || shape.order.size() != nest.size()) return std::nullopt;
  const ir::Region& body = *shape.inner->regions[0];
  // Pointwise ops only, and values holding the dims at one place.
  std::vector<const ir::Value*> defined;
  bool ok = true;
  for (const auto& op : body.ops) {
    switch (op->kind) {
      case ir::OpKind::Constant:
      case ir::OpKind::ScalarParam:
      case ir::OpKind::SymValue:
      case ir::OpKind::TileIndex:
      case ir::OpKind::Full:
      case ir::OpKind::Load:
      case ir::OpKind::Store:
      case ir::OpKind::AtomicRMW:
      case ir::OpKind::Unary:
      case ir::OpKind::Binary:
      case ir::OpKind::Where:
      case ir::OpKind::Cast:
      case ir::OpKind::ExpandDims:
      case ir::OpKind::BroadcastTo:
      case ir::OpKind::Yield: break;
      case ir::OpKind::TileBegin:
      case ir::OpKind::TileEnd:
      case ir::OpKind::TileBlockSize:
      case ir::OpKind::TileId:
      case ir::OpKind::TileCount:
      case ir::OpKind::TileMask:
        ok = ok && !in_nest(nest, op->attrs.dim);  // a flattened dim has no block of its own
        break;
      default: ok = false; break;
    }
    for (const auto& r : op->results) defined.push_back(r.get());
  }
  if (!ok) return std::nullopt;
  int right = -1;
  for (const ir::Value* v : defined) {
    const int p = position_from_right(v->type.dims, nest);
    if (p == -2 || (p >= 0 && right >= 0 && p != right)) return std::nullopt;
    if (p >= 0) right = p;
  }
  shape.right = std::max(right, 0);
  const size_t span = static_cast<size_t>(shape.right) + nest.size();
  auto collapsible = [&](const std::vector<int>& dims) {
    if (dims.size() < span) return true;
    const size_t first = dims.size() - span;
    bool all_broadcast = true;
    for (size_t i = 0; i < nest.size(); ++i) all_broadcast = all_broadcast && dims[first + i] == ir::kBroadcast;
    return all_broadcast || position_from_right(dims, nest) == shape.right;
  };
  // A value that holds other dims there keeps its axes (it holds none of the
  // nest's): only an expand_dims may take it on (`s[:, None, None]` passes
  // through [tile_a, 1] to [tile_a, 1, 1]).
  for (const ir::Value* v : defined) {
    if (collapsible(v->type.dims)) continue;
    for (const auto& op : body.ops)
      if (op->kind != ir::OpKind::ExpandDims && std::find(op->operands.begin(), op->operands.end(), v) != op->operands.end())
        return std::nullopt;
  }
  // Values from before the loop keep their shape: only those that do not
  // reach the dims' place (or that an expand_dims or broadcast reshapes).
  for (const auto& op : body.ops)
    for (const ir::Value* v : op->operands) {
      if (std::find(defined.begin(), defined.end(), v) != defined.end()) continue;
      if (v->type.dims.size() < span || op->kind == ir::OpKind::ExpandDims) continue;
      return std::nullopt;
    }
  return shape;
}

bool inner_nest_flattenable(const ir::DeviceKernel& k, const std::vector<int>& nest) {
  return flat_nest_shape(k, nest).has_value();
}

void plan_flat_nests(const ir::DeviceKernel& k, const KernelConfig& config, KernelPlan& plan) {
  for (const auto& nest : k.nests) {
    auto it = config.flattened_nests.find(nest.front());
    if (it == config.flattened_nests.end()) continue;
    std::optional<FlatNestShape> shape = flat_nest_shape(k, nest);
    // The normalizer offers flattening only for nests it can run so; the
    // lowering passes keep them so (unit_dim_elimination keeps their dims).
    DEUTERON_CHECK(shape.has_value(), "flatten_loops[" + std::to_string(it->second) + "]: the loop over d" +
                                          std::to_string(nest.front()) + ", ... is no longer flattenable");
    FlatNest f;
    f.shape = *shape;
    f.written = nest;
    f.flatten_index = it->second;
    for (int d : nest) {
      f.block *= config.block_of(k.dim(d));
      f.total = f.total * k.dim(d).extent();
    }
    const int index = static_cast<int>(plan.flat_nests.size());
    for (int d : nest) plan.flat_nest_of_dim[d] = index;
    plan.flat_nests.push_back(std::move(f));
  }
}

const FlatNest* KernelPlan::flat_nest_at(const ir::Op& loop) const {
  for (const auto& f : flat_nests)
    if (f.shape.outer == &loop) return &f;
  return nullptr;
}

}  // namespace deuteron::analysis
