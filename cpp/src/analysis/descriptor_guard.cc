// Descriptor loads Triton compiles to wrong code, moved to pointers.
//
// Triton 3.6 on Hopper miscompiles a tensor-descriptor load that comes after
// a dot in the body of a loop, in a kernel that loaded through a descriptor
// before that loop.  Measured on an H100 with Helion's attention example and
// a hand-written Triton mirror of it (q loaded before the loop, k and v in
// it): with q and v through TMA, 42-68% of the outputs were wrong, by up to
// 3.2, at every stage count, warp count and q block tried; q alone, k and v,
// q and k, or q and v with v loaded before the q.k dot were all right.  Such
// a load uses pointers, and the module's header says why.  A warp-specialized
// loop is compiled by another path (its loads become a producer partition)
// and was right, so its loads keep their descriptors.
#include "deuteron/analysis.h"

namespace deuteron::analysis {

namespace {

class DescriptorGuard {
 public:
  DescriptorGuard(const KernelConfig& config, KernelPlan& plan) : config_(config), plan_(plan) {}

  // `dot_in_loop`: null outside every loop, else whether the innermost loop's
  // body had a dot before the op being visited.
  void region(const ir::Region& r, bool* dot_in_loop) {
    for (const auto& op : r.ops) {
      if (op->kind == ir::OpKind::Dot && dot_in_loop) *dot_in_loop = true;
      if (op->kind == ir::OpKind::Load) load(*op, dot_in_loop);
      if (op->kind == ir::OpKind::For || op->kind == ir::OpKind::While) {
        bool dot = false;
        for (const auto& body : op->regions) region(*body, warp_specialized(*op) ? &untracked_ : &dot);
        if (dot && dot_in_loop) *dot_in_loop = true;  // an inner loop's dot precedes what follows it
      } else {
        for (const auto& inner : op->regions) region(*inner, dot_in_loop);
      }
    }
  }

 private:
  bool warp_specialized(const ir::Op& loop) const {
    auto it = plan_.loops.find(&loop);
    return it != plan_.loops.end() && it->second.warp_specialize.value_or(false);
  }

  void load(const ir::Op& op, const bool* dot_in_loop) {
    auto it = plan_.accesses.find(&op);
    if (it == plan_.accesses.end() || it->second.addressing != Addressing::TensorDescriptor) return;
    if (!dot_in_loop) {
      descriptor_load_before_ = true;
      return;
    }
    if (dot_in_loop == &untracked_ || !*dot_in_loop || !descriptor_load_before_) return;
    AccessPlan& a = it->second;
    AccessPlan pointer;  // what plan_accesses gives a pointer access: no axes, views or checks
    pointer.requested = a.requested;
    pointer.eviction_policy = a.eviction_policy;
    pointer.fallback = "a descriptor load after a dot in a loop, with a descriptor load before the loop: "
                       "Triton 3.6 computes wrong values on Hopper";
    a = std::move(pointer);
    changed = true;
    Resolution r{config_.indexing_key(op), a.requested, name(a.addressing), a.fallback};
    for (const auto& x : plan_.resolutions)
      if (x.text() == r.text()) return;
    plan_.resolutions.push_back(std::move(r));
  }

 public:
  bool changed = false;

 private:
  const KernelConfig& config_;
  KernelPlan& plan_;
  bool descriptor_load_before_ = false;  // a descriptor load outside every loop, seen so far
  bool untracked_ = false;               // the flag of warp-specialized loops' bodies, never read
};

}  // namespace

void guard_descriptor_loads(const ir::DeviceKernel& k, const KernelConfig& config, KernelPlan& plan) {
  DescriptorGuard guard(config, plan);
  guard.region(k.body, nullptr);
  if (guard.changed) plan_dot_zeroing(k, plan);  // a pointer load reads 0 past a device-computed bound
}

}  // namespace deuteron::analysis
