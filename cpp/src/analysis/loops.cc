// What each inner loop prints as: tl.static_range or tl.range, and whether
// its warp_specialize request is one the target compiles (target.h).
#include "deuteron/analysis.h"

namespace deuteron::analysis {

namespace {

std::string knob_key(const char* key, const RangeKnobs& kn) { return std::string(key) + "[" + std::to_string(kn.index) + "]"; }

std::string bool_text(bool b) { return b ? "True" : "False"; }

// Whether every load and store in the loop is a 2-D tensor descriptor (and
// it has no atomics).
bool all_2d_descriptors(const ir::Op& loop, const KernelPlan& plan) {
  bool all = true;
  ir::walk(*loop.regions[0], [&](const ir::Op& o) {
    if (o.kind == ir::OpKind::AtomicRMW) all = false;
    if (o.kind != ir::OpKind::Load && o.kind != ir::OpKind::Store) return;
    const AccessPlan& a = plan.access(o);
    if (a.addressing != Addressing::TensorDescriptor || a.view_sizes.size() != 2) all = false;
  });
  return all;
}

}  // namespace

void plan_loops(const ir::DeviceKernel& k, const KernelConfig& config, const DeviceInfo& device, KernelPlan& plan) {
  int loops = 0;
  ir::walk(k.body, [&](const ir::Op& op) { loops += op.kind == ir::OpKind::For; });
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind != ir::OpKind::For) return;
    LoopPlan lp;
    auto it = config.ranges.find(op.id);
    // Loops that lowering made (reduction_rolling's) have no config entries.
    if (it == config.ranges.end()) {
      plan.loops[&op] = lp;
      return;
    }
    const RangeKnobs& kn = it->second;
    if (kn.static_range) {
      // tl.static_range unrolls the loop when compiling: tl.range's knobs
      // have nothing to act on.
      lp.static_range = true;
      auto unused = [&](const char* key, const std::string& value) {
        plan.resolutions.push_back({knob_key(key, kn), value, "unused",
                                    std::string(keys::kStaticRanges) + "[" + std::to_string(kn.index) +
                                        "] unrolls the loop when compiling"});
      };
      if (kn.unroll > 0) unused(keys::kRangeUnrollFactors, std::to_string(kn.unroll));
      if (kn.num_stages > 0) unused(keys::kRangeNumStages, std::to_string(kn.num_stages));
      if (kn.multi_buffer) unused(keys::kRangeMultiBuffers, bool_text(*kn.multi_buffer));
      if (kn.flatten) unused(keys::kRangeFlattens, bool_text(*kn.flatten));
      if (kn.warp_specialize) unused(keys::kRangeWarpSpecializes, bool_text(*kn.warp_specialize));
      plan.loops[&op] = lp;
      return;
    }
    lp.warp_specialize = kn.warp_specialize;
    if (kn.warp_specialize && *kn.warp_specialize) {
      target::WarpSpecializedLoop facts;
      facts.loops_in_kernel = loops;
      facts.all_2d_descriptors = all_2d_descriptors(op, plan);
      facts.num_warps = config.num_warps;
      facts.num_stages = kn.num_stages > 0 ? kn.num_stages : config.num_stages;
      lp.warp_specialize_left_out = target::warp_specialize_obstacle(device, facts);
      if (!lp.warp_specialize_left_out.empty()) {
        lp.warp_specialize.reset();
        plan.resolutions.push_back(
            {knob_key(keys::kRangeWarpSpecializes, kn), "True", "left out", lp.warp_specialize_left_out});
      }
    }
    plan.loops[&op] = lp;
  });
}

}  // namespace deuteron::analysis
