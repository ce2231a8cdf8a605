// A normalized config resolved for one kernel: what the emitters need,
// looked up by dim, loop op, and memory op instead of by config list index.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "deuteron/config.h"
#include "deuteron/ir.h"
#include "deuteron/json.h"

namespace deuteron::codegen {

struct RangeKnobs {
  int unroll = 0;
  int num_stages = 0;
  std::optional<bool> multi_buffer;
  std::optional<bool> flatten;
  std::optional<bool> warp_specialize;
  bool static_range = false;
};

struct KernelPlan {
  int kernel = 0;
  std::vector<int64_t> block_sizes;               // config.block_sizes (global)
  std::vector<std::optional<int64_t>> reduction_loops;
  std::vector<int> loop_order;                    // permutation of grid dims; [0] varies fastest
  int l2_grouping = 1;
  bool flatten = false;
  std::string pid_type = pid_types::kFlat;
  int num_sm_multiplier = 1;
  int num_warps = 4;
  int num_stages = 1;
  std::optional<int> maxnreg;
  std::map<int, std::string> load_indexing;       // memory_op -> an indexing mode (indexing_modes::)
  std::map<int, std::string> store_indexing;
  std::map<int, std::string> load_eviction;       // memory_op -> a load_eviction_policies value
  std::map<int, std::string> load_cache;          // memory_op -> a load_cache_modifiers value
  std::map<int, std::string> store_cache;         // memory_op -> a store_cache_modifiers value
  std::map<int, RangeKnobs> ranges;               // For op id -> knobs
  int sm_count = 132;
  int compute_capability = 90;  // the target's (CPU code generation targets an H100)
  std::string dot_precision = "tf32";

  std::map<std::string, int64_t> tunables;        // hl.register_tunable values (bools as 0/1)

  // The block size of a Tile dim (config or fixed), 1 for Grid dims.
  int64_t block_of(const ir::Dim& d) const;
  // Symbols that stand for config values (`_block_size_<i>`, `_tunable_<name>`):
  // their value as Python text, or nullopt for a run-time symbol.
  std::optional<std::string> config_symbol(const std::string& name) const;
  static bool config_symbol_name(const std::string& name) {
    return name.rfind("_block_size_", 0) == 0 || name.rfind("_tunable_", 0) == 0;
  }
};

KernelPlan make_plan(const ConfigSpec& spec, const json::Value& config, int kernel, const DeviceInfo& device,
                     const std::string& dot_precision);

}  // namespace deuteron::codegen
