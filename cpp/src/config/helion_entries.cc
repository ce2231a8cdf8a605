// Helion's spelling of the per-loop list keys, mapped onto deuteron's.
//
// Helion counts some list keys' entries differently (helion/language/loops.py
// adds them as it meets each loop):
//   * the tl.range knobs (range_unroll_factors, range_num_stages,
//     range_multi_buffers, range_flattens, range_warp_specializes) have one
//     entry for each kernel's grid loop, ahead of that kernel's device loops.
//     The entry only acts when a persistent pid_type turns the grid into a
//     loop; deuteron's persistent loop takes its knobs from num_stages, so the
//     entry must be the default there.  (static_ranges has no grid entry.)
//   * a knob has no entries at all where Triton's tl.range lacks its argument
//     (range_warp_specializes before Blackwell): Helion fills the defaults.
//   (l2_groupings needs no rewrite: like Helion, deuteron has an entry for
//   every grid of 2+ dims, hl.grid indices included.)
// A list of Helion's length is rewritten to deuteron's before normalizing;
// deuteron's own configs (deuteron's lengths) pass through unchanged.
#include <string>

#include "deuteron/config.h"

namespace deuteron {

namespace {

[[noreturn]] void fail(const char* key, const std::string& msg) {
  throw ConfigError(std::string("config key '") + key + "': " + msg);
}

// The knobs with an entry for the grid loop of each kernel in Helion's form.
void drop_grid_loop_entries(const ConfigSpec& spec, const char* name, bool persistent, json::Value& config) {
  const json::Value* v = config.find(name);
  const size_t kernels = spec.kernels.size();
  if (!v || !v->is_array()) return;
  const json::Value dflt = config_key(name).default_value;
  if (v->size() == 0) {
    config.set(name, json::Value(json::Array(spec.inner_loops.size(), dflt)));
    return;
  }
  if (kernels == 0 || v->size() != spec.inner_loops.size() + kernels) return;
  json::Array out;
  size_t next = 0;  // the next entry of Helion's list
  for (size_t k = 0; k < kernels; ++k) {
    const json::Value& grid = (*v)[next];
    if (grid != dflt && persistent)
      fail(name, "entry " + std::to_string(next) + " is " + json::dump(grid) + ", Helion's entry for the grid loop of kernel " +
                     std::to_string(k) + "; deuteron's persistent grid loop takes no tl.range knobs (it pipelines with " +
                     "num_stages), so use " + json::dump(dflt));
    // Without a persistent pid_type the grid is not a loop: the entry acts on nothing.
    ++next;
    for (const auto& l : spec.inner_loops)
      if (l.kernel == static_cast<int>(k)) out.push_back((*v)[next++]);
  }
  config.set(name, json::Value(std::move(out)));
}

}  // namespace

json::Value ConfigSpec::from_helion_entries(const json::Value& config) const {
  if (!config.is_object()) return config;
  json::Value out = config;
  const json::Value* pid = config.find(keys::kPidType);
  const bool persistent = pid && pid->is_string() && pid_types::is_persistent(pid->as_string());
  for (const char* name : {keys::kRangeUnrollFactors, keys::kRangeNumStages,
                           keys::kRangeMultiBuffers, keys::kRangeFlattens, keys::kRangeWarpSpecializes})
    drop_grid_loop_entries(*this, name, persistent, out);
  return out;
}

}  // namespace deuteron
