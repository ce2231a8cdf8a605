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

const char* const kRangeKnobs[] = {keys::kRangeUnrollFactors, keys::kRangeNumStages, keys::kRangeMultiBuffers,
                                    keys::kRangeFlattens, keys::kRangeWarpSpecializes};

// Resets tl.range knob entry i of every knob (range_num_stages may have none).
void reset_range_entry(const ConfigSpec& spec, json::Value& config, int i) {
  for (const char* knob : kRangeKnobs)
    if (static_cast<size_t>(i) < spec.entries(config_key(knob).per)) reset_entry(config, knob, static_cast<size_t>(i));
}

// Whether multi-dim loop m is flattened into one loop.
bool flattened(const json::Value& config, const MultiDimLoop& m) {
  return m.flatten_entry >= 0 && entry(config, keys::kFlattenLoops, static_cast<size_t>(m.flatten_entry)).as_bool();
}

// Whether kernel k's grid is flattened into one index space.
bool flattened(const ConfigSpec& spec, const json::Value& config, int k) {
  for (const auto& m : spec.multi_dim_loops)
    if (m.grid && m.kernel == k && flattened(config, m)) return true;
  return false;
}

// tl.static_range unrolls the loop when compiling: tl.range's knobs have
// nothing to act on (Helion resets them the same way).
void static_range_knobs(const ConfigSpec& spec, json::Value& config) {
  for (const auto& l : spec.inner_loops) {
    if (l.static_range_entry < 0 || l.range_entry < 0) continue;
    if (!entry(config, keys::kStaticRanges, static_cast<size_t>(l.static_range_entry)).as_bool()) continue;
    reset_range_entry(spec, config, l.range_entry);
  }
}

// A kernel's grid loop entry of the tl.range knobs acts on the loop over
// tiles of a persistent pid_type; the other pid types launch a program per
// tile and have no such loop (Helion ignores the entry there).
void grid_loop_knobs(const ConfigSpec& spec, json::Value& config) {
  if (pid_types::is_persistent(config.at(keys::kPidType).as_string())) return;
  for (const auto& k : spec.kernels)
    if (k.grid_range_entry >= 0 && !spec.range_entry_loop(k.grid_range_entry))
      reset_range_entry(spec, config, k.grid_range_entry);
}

// 'xyz' gives each grid dim a program id axis of its own; a grid of one dim
// (or one flattened into one index space) has one axis either way.  Only
// when no kernel has 2 or 3 dims left is 'xyz' the same as 'flat'.
void xyz_pid_type(const ConfigSpec& spec, json::Value& config) {
  if (config.at(keys::kPidType).as_string() != pid_types::kXyz) return;
  for (const auto& m : spec.multi_dim_loops)
    if (m.grid && m.rank <= 3 && !flattened(config, m)) return;
  config.set(keys::kPidType, json::Value(pid_types::kFlat));
}

// L2 grouping takes two grid dims apart from one program id: with 'xyz'
// (each dim its own id) or a flattened grid there are none to take apart.
void l2_grouping_entries(const ConfigSpec& spec, json::Value& config) {
  const bool xyz = config.at(keys::kPidType).as_string() == pid_types::kXyz;
  for (size_t k = 0; k < spec.kernels.size(); ++k) {
    const int e = spec.kernels[k].l2_grouping_entry;
    if (e >= 0 && (xyz || flattened(spec, config, static_cast<int>(k))))
      set_entry(config, keys::kL2Groupings, static_cast<size_t>(e), json::Value(1));
  }
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

// A flattened inner loop is one index space too: its loads and stores
// address memory through pointers.
void flat_nest_indexing(const ConfigSpec& spec, json::Value& config) {
  for (const auto& m : spec.multi_dim_loops) {
    if (m.grid || !flattened(config, m)) continue;
    const size_t k = static_cast<size_t>(m.kernel);
    for (int i : m.loads)
      set_entry(config, keys::kIndexing, static_cast<size_t>(spec.kernel_load_offset.at(k) + i),
                json::Value(indexing_modes::kPointer));
    for (int i : m.stores)
      set_entry(config, keys::kIndexing, static_cast<size_t>(spec.num_loads + spec.kernel_store_offset.at(k) + i),
                json::Value(indexing_modes::kPointer));
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
  const bool persistent = pid_types::is_persistent(config.at(keys::kPidType).as_string());
  const bool stage_entries = spec.entries(Per::PipelinedLoop) > 0;
  for (int i = 0; i < spec.range_entries; ++i) {
    const json::Value& ws = entry(config, keys::kRangeWarpSpecializes, static_cast<size_t>(i));
    if (!ws.is_bool() || !ws.as_bool()) continue;
    const int kernel = spec.range_entry_kernel(i);
    target::WarpSpecializedLoop loop;
    // The loops the target's rules count (analysis/loops.cc): the kernel's
    // inner loops, and for its grid loop (the loop over tiles of a
    // persistent pid_type) that one too.
    const bool grid_only = !spec.range_entry_loop(i);
    loop.loops_in_kernel = grid_only && persistent ? 1 : 0;
    for (const auto& l : spec.inner_loops) loop.loops_in_kernel += l.kernel == kernel;
    loop.num_warps = static_cast<int>(config.at(keys::kNumWarps).as_int());
    const int64_t stages = stage_entries ? entry(config, keys::kRangeNumStages, static_cast<size_t>(i)).as_int() : 0;
    loop.num_stages = static_cast<int>(stages > 0 ? stages : config.at(keys::kNumStages).as_int());
    if (!target::warp_specialize_obstacle(device, loop).empty())
      reset_entry(config, keys::kRangeWarpSpecializes, static_cast<size_t>(i));
  }
}

}  // namespace

void ConfigSpec::canonicalize(json::Value& config, const DeviceInfo& device) const {
  static_range_knobs(*this, config);
  grid_loop_knobs(*this, config);
  xyz_pid_type(*this, config);
  l2_grouping_entries(*this, config);
  flat_grid_indexing(*this, config);
  flat_nest_indexing(*this, config);
  missing_block_pointers(device, config);
  given_eviction_policies(*this, config);
  ruled_out_warp_specializes(*this, device, config);
}

}  // namespace deuteron
