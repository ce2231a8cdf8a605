// Emits one DeviceKernel as a @triton.jit function, and describes how the
// host wrapper launches it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "../python_writer.h"
#include "deuteron/analysis.h"
#include "deuteron/sema.h"

namespace deuteron::codegen {

struct LaunchArg {
  std::string host_expr;  // what the host wrapper passes
  bool constexpr_ = false;
};

struct KernelLaunch {
  std::string kernel_name;
  std::vector<LaunchArg> args;   // in kernel parameter order
  std::string grid;              // Python tuple expression, e.g. "(4096,)"
  int num_warps = 4;
  int num_stages = 1;
  std::optional<int> maxnreg;
  // Tensors read or written through tensor descriptors: the host checks
  // their 16-byte alignment before the launch.
  std::vector<std::string> tma_tensors;
};

// The module-level @triton.jit functions made from user combine functions
// (tl.associative_scan / tl.reduce take them by name), shared by the kernels
// of one module: each distinct function is written once, named after the
// user's ("add_combine_fn_0").
struct CombineHelpers {
  PythonWriter w;                               // their definitions, in order
  std::map<std::string, std::string> by_text;   // parameters + body -> name
  std::map<std::string, int> count;             // user name -> helpers so named
};

// Writes the @triton.jit function into `w`; returns how to launch it.  It
// prints what `plan` decided (masks, addressing, loop knobs, program ids)
// and decides nothing of its own.  The libdevice math helpers it calls are
// added to `used_math`, the NaN-aware float reductions (max, min, argmax,
// argmin) to `used_reductions`, the combine functions it needs to `combine`.
KernelLaunch emit_triton_kernel(PythonWriter& w, const Program& program, const ir::DeviceKernel& kernel,
                                const analysis::KernelConfig& config, const analysis::KernelPlan& plan,
                                std::set<std::string>* used_math, std::set<std::string>* used_reductions,
                                CombineHelpers* combine);

// Defines _deuteron_<fn> for each used math function: libdevice on GPUs, a
// composite of tl primitives under Triton's interpreter.
void emit_math_helpers(PythonWriter& w, const std::set<std::string>& used);

// Defines _deuteron_<max|min|argmax|argmin> for each used name: float
// reductions that propagate NaN as PyTorch does (reduction_helpers.cc).
void emit_reduction_helpers(PythonWriter& w, const std::set<std::string>& used);

// The lines of an InlineTriton op (inline_triton.cc): its template with `{i}`
// replaced by operand(i), `{tN}` by tensor(N), in the kernel's indentation.
// With results, the template's last statement is their expression, assigned
// to `results` (one name, or a tuple of names).
std::vector<std::string> inline_triton_lines(const std::string& tmpl, const std::vector<std::string>& operands,
                                             const std::vector<std::string>& tensors,
                                             const std::vector<std::string>& results);

}  // namespace deuteron::codegen
