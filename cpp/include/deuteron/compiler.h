// The whole compiler, readable top to bottom: bind (parse + sema + config
// space) once per specialization, then lower + generate once per config.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deuteron/codegen.h"
#include "deuteron/config.h"
#include "deuteron/ir.h"
#include "deuteron/json.h"
#include "deuteron/sema.h"

namespace deuteron {

// IR after each lowering stage, for --dump=ir-after=<pass> and debugging.
struct LoweringLog {
  bool enabled = false;
  std::vector<std::pair<std::string, std::string>> stages;  // (stage name, IR text of every kernel)
};

class BoundKernel {
 public:
  // Parses `request.file`, analyzes the function, derives the config space.
  // Throws CompileError for problems in the user's kernel.
  static std::unique_ptr<BoundKernel> bind(const BindRequest& request, DeviceInfo device = {});

  const Program& program() const { return *program_; }
  const ConfigSpec& spec() const { return spec_; }
  const DeviceInfo& device() const { return device_; }

  // Throws ConfigError.
  json::Value normalize(const json::Value& config) const { return spec_.normalize(config, device_); }
  json::Value default_config() const { return spec_.default_config(device_); }

  // The kernels lowered for one (normalized) config.  The reference back end
  // runs whole dimensions at once, so it skips the passes that only change
  // how the GPU schedules work (reduction rolling).
  enum class Target { Triton, Reference };
  std::vector<std::unique_ptr<ir::DeviceKernel>> lower(const json::Value& config, LoweringLog* log = nullptr,
                                                       Target target = Target::Triton) const;

  std::string triton_code(const json::Value& config) const;
  std::string reference_code(const json::Value& config) const;

  // The AST and the IR straight out of sema.
  std::string dump_ast() const;
  std::string dump_ir() const;

 private:
  void resolve_config_blocks(ir::DeviceKernel& k, int kernel, const json::Value& config) const;
  std::unique_ptr<Program> program_;
  ConfigSpec spec_;
  DeviceInfo device_;
};

}  // namespace deuteron
