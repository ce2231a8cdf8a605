// Reduction rolling: placeholder until looped reductions land; persistent
// reductions need no change.
#include "deuteron/passes.h"

namespace deuteron::passes {

void roll_reductions(ir::DeviceKernel& kernel, const std::vector<std::optional<int64_t>>& reduction_loops) {
  (void)kernel;
  (void)reduction_loops;
}

}  // namespace deuteron::passes
