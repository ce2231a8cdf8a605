// The plan the Triton emitter prints: the analyses of a lowered kernel under
// one config and target, in the order each needs the one before.
#include "deuteron/analysis.h"

namespace deuteron::analysis {

std::string Resolution::text() const { return key + ": " + asked + " -> " + got + " (" + why + ")"; }

KernelPlan plan_kernel(const ir::DeviceKernel& k, const KernelConfig& config, const DeviceInfo& device) {
  KernelPlan plan;
  plan_grid(k, config, plan);              // flat, xyz, L2 grouping, heavy-first dims
  plan_flat_nests(k, config, plan);        // inner nests run as one loop
  plan_masks(k, config, plan);             // needs the grid's and the nests' flattening
  plan_accesses(k, config, plan);          // needs the masks (descriptor folding, boundary checks)
  plan_loops(k, config, device, plan);     // needs the accesses (warp specialization)
  guard_descriptor_loads(k, config, plan); // needs the loops (warp-specialized ones keep descriptors)
  return plan;
}

}  // namespace deuteron::analysis
