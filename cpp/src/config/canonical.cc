// Canonicalization: the last step of normalization.  A request that the
// generated code would not follow, and that the config space alone shows it
// would not, is rewritten to what runs.  Two configs that compile to the same
// code then normalize to the same config, so the autotuner does not measure
// one kernel twice, and the normalized config (what the cache stores and the
// generated file's header shows) says what ran.
//
// What only the lowered IR shows (an access whose shape TMA cannot move, a
// loop whose loads are not all 2-D descriptors) is still decided by the
// analyses and recorded in the generated file's header ("resolved for ...").
#include <string>

#include "deuteron/config.h"
#include "deuteron/target.h"

namespace deuteron {

namespace {

void set_entry(json::Value& config, const char* key, size_t i, json::Value v) {
  json::Value list = config.at(key);
  list.as_array().at(i) = std::move(v);
  config.set(key, std::move(list));
}

const json::Value& entry(const json::Value& config, const char* key, size_t i) { return config.at(key)[i]; }

void reset_entry(json::Value& config, const char* key, size_t i) {
  set_entry(config, key, i, config_key(key).default_value);
}

// Whether kernel k's grid is flattened into one index space.
bool flattened(const ConfigSpec& spec, const json::Value& config, int k) {
  for (size_t i = 0; i < spec.loop_order_kernels.size(); ++i)
    if (spec.loop_order_kernels[i] == k && entry(config, keys::kFlattenLoops, i).as_bool()) return true;
  return false;
}

// tl.static_range unrolls the loop when compiling: tl.range's knobs have
// nothing to act on.
void static_range_knobs(const ConfigSpec& spec, json::Value& config) {
  for (size_t i = 0; i < spec.inner_loops.size(); ++i) {
    if (!entry(config, keys::kStaticRanges, i).as_bool()) continue;
    for (const char* knob : {keys::kRangeUnrollFactors, keys::kRangeNumStages, keys::kRangeMultiBuffers,
                             keys::kRangeFlattens, keys::kRangeWarpSpecializes})
      reset_entry(config, knob, i);
  }
}

// 'xyz' gives each grid dim a program id axis of its own; a grid of one dim
// (or one flattened into one index space) has one axis either way.  Only
// when no kernel has 2 or 3 dims left is 'xyz' the same as 'flat'.
void xyz_pid_type(const ConfigSpec& spec, json::Value& config) {
  if (config.at(keys::kPidType).as_string() != pid_types::kXyz) return;
  for (size_t i = 0; i < spec.loop_order_kernels.size(); ++i)
    if (spec.loop_order_sizes[i] <= 3 && !entry(config, keys::kFlattenLoops, i).as_bool()) return;
  config.set(keys::kPidType, json::Value(pid_types::kFlat));
}

// L2 grouping takes two grid dims apart from one program id: with 'xyz'
// (each dim its own id) or a flattened grid there are none to take apart.
void l2_grouping_entries(const ConfigSpec& spec, json::Value& config) {
  const bool xyz = config.at(keys::kPidType).as_string() == pid_types::kXyz;
  for (size_t i = 0; i < spec.l2_grouping_kernels.size(); ++i)
    if (xyz || flattened(spec, config, spec.l2_grouping_kernels[i])) set_entry(config, keys::kL2Groupings, i, json::Value(1));
}

// A flattened grid is one index space: block pointers and tensor
// descriptors need the block's position per dim, so its loads and stores
// address memory through pointers.
void flat_grid_indexing(const ConfigSpec& spec, json::Value& config) {
  const size_t kernels = spec.kernel_load_offset.size();
  for (size_t k = 0; k < kernels; ++k) {
    if (!flattened(spec, config, static_cast<int>(k))) continue;
    const int load_end = k + 1 < kernels ? spec.kernel_load_offset[k + 1] : spec.num_loads;
    const int store_end = k + 1 < spec.kernel_store_offset.size() ? spec.kernel_store_offset[k + 1] : spec.num_stores;
    for (int i = spec.kernel_load_offset[k]; i < load_end; ++i)
      set_entry(config, keys::kIndexing, static_cast<size_t>(i), json::Value(indexing_modes::kPointer));
    for (int i = spec.kernel_store_offset[k]; i < store_end; ++i)
      set_entry(config, keys::kIndexing, static_cast<size_t>(spec.num_loads + i), json::Value(indexing_modes::kPointer));
  }
}

// Triton without block pointers (target::has_block_pointers): 'block_ptr'
// entries address memory through pointers, which is what the code does.
void missing_block_pointers(const DeviceInfo& device, json::Value& config) {
  if (target::has_block_pointers(device)) return;
  const json::Value& modes = config.at(keys::kIndexing);
  for (size_t i = 0; i < modes.as_array().size(); ++i)
    if (modes[i].is_string() && modes[i].as_string() == indexing_modes::kBlockPtr)
      set_entry(config, keys::kIndexing, i, json::Value(indexing_modes::kPointer));
}

// The policy hl.load gives wins over the config's entry, which then has
// nothing to choose.
void given_eviction_policies(const ConfigSpec& spec, json::Value& config) {
  for (int i : spec.loads_with_eviction_policy) reset_entry(config, keys::kLoadEvictionPolicies, static_cast<size_t>(i));
}

// warp_specialize=True where the target rules it out for a reason the config
// space shows (the kernel's loop count, its warps and stages): the loop is
// compiled without the argument, i.e. as None asks.  Whether the loop's
// loads are all 2-D descriptors is known only after lowering
// (analysis/loops.cc).
void ruled_out_warp_specializes(const ConfigSpec& spec, const DeviceInfo& device, json::Value& config) {
  for (size_t i = 0; i < spec.inner_loops.size(); ++i) {
    const json::Value& ws = entry(config, keys::kRangeWarpSpecializes, i);
    if (!ws.is_bool() || !ws.as_bool()) continue;
    target::WarpSpecializedLoop loop;
    loop.loops_in_kernel = 0;
    for (const auto& l : spec.inner_loops) loop.loops_in_kernel += l.kernel == spec.inner_loops[i].kernel;
    loop.num_warps = static_cast<int>(config.at(keys::kNumWarps).as_int());
    const int64_t stages = entry(config, keys::kRangeNumStages, i).as_int();
    loop.num_stages = static_cast<int>(stages > 0 ? stages : config.at(keys::kNumStages).as_int());
    if (!target::warp_specialize_obstacle(device, loop).empty()) reset_entry(config, keys::kRangeWarpSpecializes, i);
  }
}

}  // namespace

void ConfigSpec::canonicalize(json::Value& config, const DeviceInfo& device) const {
  static_range_knobs(*this, config);
  xyz_pid_type(*this, config);
  l2_grouping_entries(*this, config);
  flat_grid_indexing(*this, config);
  missing_block_pointers(device, config);
  given_eviction_policies(*this, config);
  ruled_out_warp_specializes(*this, device, config);
}

}  // namespace deuteron
