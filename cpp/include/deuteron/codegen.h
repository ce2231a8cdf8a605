// Code generation: a bound, lowered kernel + a normalized config -> a Python
// module.  Two back ends share the host wrapper:
//   triton     @triton.jit kernels + a host function that launches them
//   reference  the same kernels as PyTorch eager loops over tiles (the
//              interpret mode, and accuracy baselines)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "deuteron/analysis.h"
#include "deuteron/config.h"
#include "deuteron/ir.h"
#include "deuteron/json.h"
#include "deuteron/sema.h"
#include "deuteron/target.h"

namespace deuteron {

struct CodegenInput {
  const Program* program = nullptr;
  // The kernels after lowering for this config, in launch order: each
  // one's source_loop is the program's device loop it lowers (several
  // kernels of one loop where kernel fission split it).
  std::vector<const ir::DeviceKernel*> kernels;
  const ConfigSpec* spec = nullptr;
  json::Value config;  // normalized
  DeviceInfo device;
  // Per kernel: the config as the kernel sees it, and (for the Triton back
  // end) the plan the analyses made of it, which the emitter only prints.
  std::vector<analysis::KernelConfig> kernel_configs;
  std::vector<analysis::KernelPlan> plans;
};

// The module defines the host function under the kernel's own name, plus
// `_deuteron_meta` (a dict: config, kernel names, launch info).  A Triton
// module's header records the target and every config request the plans
// resolved otherwise than asked.
std::string generate_triton_module(const CodegenInput& in);
std::string generate_reference_module(const CodegenInput& in);

}  // namespace deuteron
