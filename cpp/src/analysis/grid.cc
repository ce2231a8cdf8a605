// How a kernel's grid maps to program ids: flattened or not, one program id
// axis per grid dim (pid_type 'xyz') or one in all, L2 grouping, and which
// dims launch their heaviest blocks first.
#include "deuteron/analysis.h"

namespace deuteron::analysis {

bool flattens_grid(const ir::DeviceKernel& k, const KernelConfig& config) {
  return config.flatten && k.grid_dims.size() >= 2;
}

void plan_grid(const ir::DeviceKernel& k, const KernelConfig& config, KernelPlan& plan) {
  const size_t rank = k.grid_dims.size();
  plan.flat = flattens_grid(k, config);
  const std::string in_kernel = " in " + k.name;
  const std::string flat_why = std::string(keys::kFlattenLoops) + "[" + std::to_string(config.flatten_index) +
                               "] makes the grid one index space";
  if (config.pid_type == pid_types::kXyz) {
    // The normalizer rejects 'xyz' for grids of more than 3 dims.
    plan.xyz = rank >= 2 && rank <= 3 && !plan.flat;
    if (!plan.xyz)
      plan.resolutions.push_back({keys::kPidType, pid_types::kXyz, std::string(pid_types::kFlat) + in_kernel,
                                  plan.flat ? flat_why : "its grid has one dim"});
  }
  // Grouping needs two grid dims taken apart from one program id.
  plan.l2_grouping = config.l2_grouping;
  if (config.l2_grouping > 1 && (plan.xyz || plan.flat)) {
    plan.l2_grouping = 1;
    plan.resolutions.push_back(
        {std::string(keys::kL2Groupings) + "[" + std::to_string(config.l2_grouping_index) + "]",
         std::to_string(config.l2_grouping), "1",
         plan.flat ? flat_why : "pid_type 'xyz' gives each grid dim its own program id"});
  }
  plan.heavy_first_dims = heavy_last_grid_dims(k);
  // grid_subtiling splits a kernel's block where a grid tile feeds a dot's
  // rows; the normalizer accepts `subtiles` when some kernel has one.
  bool split = false;
  for (const auto& d : k.dims) split |= d.subtile_of >= 0;
  if (config.subtiles > 1 && !split) {
    std::optional<int> d = subtilable_dim(k);
    std::string why = "it has no grid tile that feeds the rows of a dot";
    if (d) {
      const int64_t block = config.block_of(k.dim(*d));
      why = "the block of " + std::to_string(block) + " rows does not split into " + std::to_string(config.subtiles) +
            " sub-tiles of at least " + std::to_string(target::kMinDotDim) + " rows";
    }
    plan.resolutions.push_back({keys::kSubtiles, std::to_string(config.subtiles), "1" + in_kernel, why});
  }
}

}  // namespace deuteron::analysis
