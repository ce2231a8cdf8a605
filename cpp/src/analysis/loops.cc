// What each loop prints as: tl.static_range or tl.range with the config's
// knobs, and whether its warp_specialize request is one the target compiles
// (target.h).  The loops are the inner loops and, under a persistent
// pid_type, the loop over tiles, which takes the kernel's grid loop entry of
// the knobs (as in Helion).
#include "deuteron/analysis.h"

namespace deuteron::analysis {

namespace {

std::string knob_key(const char* key, const RangeKnobs& kn) { return std::string(key) + "[" + std::to_string(kn.index) + "]"; }

std::string bool_text(bool b) { return b ? "True" : "False"; }

// Whether every load and store in the region is a 2-D tensor descriptor
// (and it has no atomics).
bool all_2d_descriptors(const ir::Region& body, const KernelPlan& plan) {
  bool all = true;
  ir::walk(body, [&](const ir::Op& o) {
    if (o.kind == ir::OpKind::AtomicRMW) all = false;
    if (o.kind != ir::OpKind::Load && o.kind != ir::OpKind::Store) return;
    const AccessPlan& a = plan.access(o);
    if (a.addressing != Addressing::TensorDescriptor || a.view_sizes.size() != 2) all = false;
  });
  return all;
}

}  // namespace

void plan_loops(const ir::DeviceKernel& k, const KernelConfig& config, const DeviceInfo& device, KernelPlan& plan) {
  const bool persistent = pid_types::is_persistent(config.pid_type);
  int inner_loops = 0;
  ir::walk(k.body, [&](const ir::Op& op) { inner_loops += op.kind == ir::OpKind::For; });
  // The knobs of one loop, `body` being what it runs and `loops` the loops
  // the target's rules count (an inner loop: the kernel's inner loops, as
  // measured; the loop over tiles: those and itself).
  auto plan_knobs = [&](const RangeKnobs& kn, const ir::Region& body, int loops, LoopPlan& lp) {
    if (kn.static_range) {
      // tl.static_range unrolls the loop when compiling: tl.range's knobs
      // have nothing to act on.
      lp.static_range = true;
      auto unused = [&](const char* key, const std::string& value) {
        plan.resolutions.push_back({knob_key(key, kn), value, "unused",
                                    std::string(keys::kStaticRanges) + "[" + std::to_string(kn.static_index) +
                                        "] unrolls the loop when compiling"});
      };
      if (kn.unroll > 0) unused(keys::kRangeUnrollFactors, std::to_string(kn.unroll));
      if (kn.num_stages > 0) unused(keys::kRangeNumStages, std::to_string(kn.num_stages));
      if (kn.multi_buffer) unused(keys::kRangeMultiBuffers, bool_text(*kn.multi_buffer));
      if (kn.flatten) unused(keys::kRangeFlattens, bool_text(*kn.flatten));
      if (kn.warp_specialize) unused(keys::kRangeWarpSpecializes, bool_text(*kn.warp_specialize));
      return;
    }
    lp.num_stages = kn.num_stages;
    lp.unroll = kn.unroll;
    lp.multi_buffer = kn.multi_buffer;
    lp.flatten = kn.flatten;
    lp.warp_specialize = kn.warp_specialize;
    if (kn.warp_specialize && *kn.warp_specialize) {
      target::WarpSpecializedLoop facts;
      facts.loops_in_kernel = loops;
      facts.all_2d_descriptors = all_2d_descriptors(body, plan);
      facts.num_warps = config.num_warps;
      facts.num_stages = kn.num_stages > 0 ? kn.num_stages : config.num_stages;
      lp.warp_specialize_left_out = target::warp_specialize_obstacle(device, facts);
      if (!lp.warp_specialize_left_out.empty()) {
        lp.warp_specialize.reset();
        plan.resolutions.push_back(
            {knob_key(keys::kRangeWarpSpecializes, kn), "True", "left out", lp.warp_specialize_left_out});
      }
    }
  };
  if (persistent) {
    plan_knobs(config.grid_range, k.body, inner_loops + 1, plan.grid_loop);
    // Without a range_num_stages of its own, the loop over tiles pipelines
    // with the kernel's num_stages: the next tile's loads are issued while
    // this one computes.
    if (plan.grid_loop.num_stages == 0 && config.num_stages > 1) plan.grid_loop.num_stages = config.num_stages;
  }
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind != ir::OpKind::For) return;
    LoopPlan lp;
    int dim = op.attrs.dim;
    // A flattened nest is one loop, printed at its outermost For: it takes the
    // knobs of its first dim as written and is a static range only where
    // every dim's entry asks (as in Helion).
    const FlatNest* flat = plan.flat_nest_at(op);
    if (flat) dim = flat->written.front();
    // Loops that lowering made (reduction_rolling's) have no config entries.
    auto it = config.ranges.find(dim);
    if (it != config.ranges.end()) {
      RangeKnobs kn = it->second;
      if (flat)
        for (int d : flat->written) {
          auto other = config.ranges.find(d);
          kn.static_range = kn.static_range && other != config.ranges.end() && other->second.static_range;
        }
      plan_knobs(kn, *op.regions[0], inner_loops, lp);
    }
    plan.loops[&op] = lp;
  });
}

}  // namespace deuteron::analysis
