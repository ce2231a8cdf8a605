// Memory-op numbering.  Sema numbers each load and store as it meets them;
// dead-code elimination then removes loads whose values nothing uses
// (`torch.zeros_like(x[tile, 0])` reads only x's type).  A config's
// per-load and per-store lists (indexing, load_eviction_policies, ...) count
// the live ones, as Helion's do: the numbers are closed up here, in the order
// sema gave them.  Loads that share a number (one access cloned by a pass)
// keep sharing it.
#include <map>

#include "deuteron/passes.h"

namespace deuteron::passes {

void number_memory_ops(ir::DeviceKernel& kernel) {
  std::map<int, int> loads, stores;  // old number -> new
  ir::walk(kernel.body, [&](const ir::Op& op) {
    if (op.kind == ir::OpKind::Load) loads.emplace(op.attrs.memory_op, 0);
    if (op.kind == ir::OpKind::Store) stores.emplace(op.attrs.memory_op, 0);
  });
  int next = 0;
  for (auto& [old, now] : loads) now = next++;
  kernel.num_loads = next;
  next = 0;
  for (auto& [old, now] : stores) now = next++;
  kernel.num_stores = next;
  ir::walk_mut(kernel.body, [&](ir::Op& op) {
    if (op.kind == ir::OpKind::Load) op.attrs.memory_op = loads.at(op.attrs.memory_op);
    if (op.kind == ir::OpKind::Store) op.attrs.memory_op = stores.at(op.attrs.memory_op);
  });
}

}  // namespace deuteron::passes
