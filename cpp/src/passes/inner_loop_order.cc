// loop_orders for an inner loop written over several dims
// (`for tb, tc, td in hl.tile([b, c, d])` inside the grid's loop): the
// config's permutation says which dim's loop is outermost (its first entry)
// down to innermost (its last), as in Helion, where the identity nests them
// in the order written.
//
// Sema lowers such a loop to one For op per dim, perfectly nested in the
// order written, each carrying the loop's values through, with bounds
// computed before the outermost (ir::DeviceKernel::nests).  The dims are
// independent, so reordering the nest only changes which dim each For op
// iterates: the ops keep their places and carried values, and take the dim,
// and the device-computed bounds if any, of the loop that now sits there.
// Each dim keeps its own index, mask and tl.range knobs (the knobs follow the
// dim: analysis::KernelConfig::ranges).
#include <map>

#include "deuteron/diagnostic.h"
#include "deuteron/passes.h"

namespace deuteron::passes {

namespace {

// The For op that iterates each dim.
std::map<int, ir::Op*> loops_by_dim(ir::DeviceKernel& k) {
  std::map<int, ir::Op*> out;
  ir::walk_mut(k.body, [&](ir::Op& op) {
    if (op.kind == ir::OpKind::For) out[op.attrs.dim] = &op;
  });
  return out;
}

// The only For op in a loop's body besides its yield, or null.
ir::Op* nested_loop(ir::Op& loop) {
  ir::Region& body = *loop.regions[0];
  if (body.ops.size() != 2 || body.ops[0]->kind != ir::OpKind::For || body.ops[1]->kind != ir::OpKind::Yield)
    return nullptr;
  return body.ops[0].get();
}

}  // namespace

void order_inner_loops(ir::DeviceKernel& k, const std::map<int, std::vector<int>>& orders) {
  for (const auto& nest : k.nests) {
    auto it = orders.find(nest.front());
    if (it == orders.end()) continue;
    const std::vector<int>& perm = it->second;
    DEUTERON_CHECK(perm.size() == nest.size(), "inner_loop_order: a permutation of another rank");
    bool identity = true;
    for (size_t i = 0; i < perm.size(); ++i) identity = identity && perm[i] == static_cast<int>(i);
    if (identity) continue;
    std::map<int, ir::Op*> by_dim = loops_by_dim(k);
    // The nest as it is: outermost first.
    std::vector<ir::Op*> chain;
    ir::Op* loop = by_dim.at(nest.front());
    for (size_t i = 0; i < nest.size(); ++i) {
      DEUTERON_CHECK(loop && loop->attrs.dim == nest[i],
                     "inner_loop_order: the loops of a nest must be perfectly nested in the order written");
      chain.push_back(loop);
      loop = i + 1 < nest.size() ? nested_loop(*loop) : nullptr;
    }
    // Each dim's bound operands (begin, end) when the device computes them.
    std::map<int, std::vector<ir::Value*>> bounds;
    for (ir::Op* l : chain)
      if (l->attrs.dynamic_bounds) bounds[l->attrs.dim] = {l->operands[0], l->operands[1]};
    std::vector<std::vector<ir::Value*>> carried;
    for (ir::Op* l : chain) carried.emplace_back(l->operands.begin() + (l->attrs.dynamic_bounds ? 2 : 0), l->operands.end());
    for (size_t pos = 0; pos < chain.size(); ++pos) {
      ir::Op& l = *chain[pos];
      const int dim = nest[static_cast<size_t>(perm[pos])];
      l.attrs.dim = dim;
      l.attrs.dynamic_bounds = bounds.count(dim) > 0;
      l.operands = l.attrs.dynamic_bounds ? bounds[dim] : std::vector<ir::Value*>{};
      l.operands.insert(l.operands.end(), carried[pos].begin(), carried[pos].end());
      k.dim(dim).loop_id = l.id;
    }
  }
}

}  // namespace deuteron::passes
