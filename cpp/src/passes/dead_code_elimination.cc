// Dead-code elimination.  Sema leaves unused values behind (conversions made
// for a loop's first typing attempt, attribute reads, discarded results);
// they would only clutter the generated code.
#include <set>

#include "deuteron/passes.h"

namespace deuteron::passes {

namespace {

bool has_side_effects(const ir::Op& op) {
  switch (op.kind) {
    case ir::OpKind::Store:
    case ir::OpKind::AtomicRMW:
    case ir::OpKind::Assert:
    case ir::OpKind::Print:
    case ir::OpKind::Breakpoint:
    case ir::OpKind::InlineTriton:
    case ir::OpKind::Yield: return true;
    default: break;
  }
  for (const auto& r : op.regions)
    for (const auto& inner : r->ops)
      if (inner->kind != ir::OpKind::Yield && has_side_effects(*inner)) return true;
  return false;
}

void collect_uses(const ir::Region& r, std::set<const ir::Value*>& used) {
  for (const auto& op : r.ops) {
    for (const ir::Value* v : op->operands) used.insert(v);
    for (const auto& sub : op->regions) collect_uses(*sub, used);
  }
}

// One sweep; returns true when something was removed.
bool sweep(ir::Region& r, const std::set<const ir::Value*>& used) {
  bool changed = false;
  for (auto& op : r.ops)
    for (auto& sub : op->regions) changed |= sweep(*sub, used);
  std::vector<std::unique_ptr<ir::Op>> kept;
  for (auto& op : r.ops) {
    bool live = has_side_effects(*op);
    for (const auto& res : op->results) live |= used.count(res.get()) > 0;
    if (live) {
      kept.push_back(std::move(op));
    } else {
      changed = true;
    }
  }
  r.ops = std::move(kept);
  return changed;
}

}  // namespace

void eliminate_dead_code(ir::DeviceKernel& kernel) {
  // Loop-carried values stay (a For's result count is its contract); only
  // whole ops die.  Iterate to a fixed point: removing a use can free more.
  for (;;) {
    std::set<const ir::Value*> used;
    collect_uses(kernel.body, used);
    if (!sweep(kernel.body, used)) break;
  }
}

}  // namespace deuteron::passes
