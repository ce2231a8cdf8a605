// A normalized config resolved for one kernel.
#include "deuteron/analysis.h"

namespace deuteron::analysis {

int64_t KernelConfig::block_of(const ir::Dim& d) const {
  if (d.kind == ir::DimKind::Grid) return 1;
  if (d.fixed_block_size) return *d.fixed_block_size;
  if (d.kind == ir::DimKind::Full) {
    auto e = extent_of(d);
    DEUTERON_CHECK(e.has_value(), "persistent full dim with a symbolic extent");
    return next_power_of_2(std::max<int64_t>(*e, 1));
  }
  DEUTERON_CHECK(d.block_size_index >= 0 && d.block_size_index < static_cast<int>(block_sizes.size()),
                 "tile dim without a block size");
  return block_sizes[d.block_size_index];
}

std::optional<int64_t> KernelConfig::extent_of(const ir::Dim& d) const {
  SymInt e = d.extent();
  if (auto c = e.as_constant()) return c;
  std::map<std::string, int64_t> env;
  for (const auto& n : e.symbols()) {
    auto v = config_symbol(n);
    if (!v) return std::nullopt;
    env[n] = std::stoll(*v);
  }
  return e.evaluate(env);
}

std::optional<std::string> KernelConfig::config_symbol(const std::string& name) const {
  if (name.rfind("_block_size_", 0) == 0) return std::to_string(block_sizes.at(std::stoi(name.substr(12))));
  if (name.rfind("_tunable_", 0) == 0) return std::to_string(tunables.at(name.substr(9)));
  return std::nullopt;
}

std::string KernelConfig::indexing_key(const ir::Op& op) const {
  int index = op.kind == ir::OpKind::Load ? first_load + op.attrs.memory_op
                                          : num_loads + first_store + op.attrs.memory_op;
  return std::string(keys::kIndexing) + "[" + std::to_string(index) + "]";
}

KernelConfig kernel_config(const ConfigSpec& spec, const json::Value& config, int kernel, const DeviceInfo& device,
                           const std::string& dot_precision, Precision precision) {
  KernelConfig p;
  p.kernel = kernel;
  p.sm_count = device.sm_count;
  p.dot_precision = dot_precision;
  p.ieee_division = precision == Precision::Strict;
  for (const auto& v : config.at(keys::kBlockSizes).as_array()) p.block_sizes.push_back(v.as_int());
  for (const auto& v : config.at(keys::kReductionLoops).as_array())
    p.reduction_loops.push_back(v.is_null() ? std::nullopt : std::optional<int64_t>(v.as_int()));
  const auto& orders = config.at(keys::kLoopOrders).as_array();
  const auto& flattens = config.at(keys::kFlattenLoops).as_array();
  for (const auto& m : spec.multi_dim_loops) {
    if (m.kernel != kernel) continue;
    std::vector<int> order;
    if (m.loop_order_entry >= 0)
      for (const auto& x : orders.at(static_cast<size_t>(m.loop_order_entry)).as_array())
        order.push_back(static_cast<int>(x.as_int()));
    const bool flat = m.flatten_entry >= 0 && flattens.at(static_cast<size_t>(m.flatten_entry)).as_bool();
    if (m.grid) {
      p.loop_order = order;
      p.loop_order_index = m.loop_order_entry;
      p.flatten = flat;
      p.flatten_index = m.flatten_entry;
    } else {
      if (!order.empty()) p.nest_orders[m.first_dim] = order;
      if (flat) p.flattened_nests[m.first_dim] = m.flatten_entry;
    }
  }
  const auto& groups = config.at(keys::kL2Groupings).as_array();
  if (const int e = spec.kernels.at(static_cast<size_t>(kernel)).l2_grouping_entry; e >= 0) {
    p.l2_grouping = static_cast<int>(groups.at(static_cast<size_t>(e)).as_int());
    p.l2_grouping_index = e;
  }
  for (const auto& t : spec.tunables) {
    const json::Value& v = config.at(t.name);
    p.tunables[t.name] = v.is_bool() ? (v.as_bool() ? 1 : 0) : v.as_int();
  }
  p.pid_type = config.at(keys::kPidType).as_string();
  p.num_sm_multiplier = static_cast<int>(config.at(keys::kNumSmMultiplier).as_int());
  p.num_warps = static_cast<int>(config.at(keys::kNumWarps).as_int());
  p.num_stages = static_cast<int>(config.at(keys::kNumStages).as_int());
  if (!config.at(keys::kMaxnreg).is_null()) p.maxnreg = static_cast<int>(config.at(keys::kMaxnreg).as_int());
  p.subtiles = static_cast<int>(config.at(keys::kSubtiles).as_int());

  const auto& indexing = config.at(keys::kIndexing).as_array();
  const auto& eviction = config.at(keys::kLoadEvictionPolicies).as_array();
  const int load0 = spec.kernel_load_offset.at(kernel), store0 = spec.kernel_store_offset.at(kernel);
  const int next_load0 = kernel + 1 < static_cast<int>(spec.kernel_load_offset.size())
                             ? spec.kernel_load_offset[kernel + 1]
                             : spec.num_loads;
  const int next_store0 = kernel + 1 < static_cast<int>(spec.kernel_store_offset.size())
                              ? spec.kernel_store_offset[kernel + 1]
                              : spec.num_stores;
  p.first_load = load0;
  p.first_store = store0;
  p.num_loads = spec.num_loads;
  const auto& load_cache = config.at(keys::kLoadCacheModifiers).as_array();
  const auto& store_cache = config.at(keys::kStoreCacheModifiers).as_array();
  for (int i = load0; i < next_load0; ++i) {
    p.load_indexing[i - load0] = indexing.at(i).as_string();
    p.load_eviction[i - load0] = eviction.at(i).as_string();
    p.load_cache[i - load0] = load_cache.at(i).as_string();
  }
  for (int i = store0; i < next_store0; ++i) {
    p.store_indexing[i - store0] = indexing.at(spec.num_loads + i).as_string();
    p.store_cache[i - store0] = store_cache.at(i).as_string();
  }

  // A tl.range knob's entry, or its default where the key has none
  // (range_num_stages of a kernel that reads and writes an argument).
  auto knob = [&](const char* key, int i) -> json::Value {
    const auto& list = config.at(key).as_array();
    return static_cast<size_t>(i) < list.size() ? list[static_cast<size_t>(i)] : config_key(key).default_value;
  };
  auto knobs = [&](int entry, int static_entry) {
    RangeKnobs k;
    k.index = entry;
    k.static_index = static_entry;
    if (entry >= 0) {
      k.unroll = static_cast<int>(knob(keys::kRangeUnrollFactors, entry).as_int());
      k.num_stages = static_cast<int>(knob(keys::kRangeNumStages, entry).as_int());
      auto opt = [&](const char* key) -> std::optional<bool> {
        const json::Value v = knob(key, entry);
        return v.is_null() ? std::nullopt : std::optional<bool>(v.as_bool());
      };
      k.multi_buffer = opt(keys::kRangeMultiBuffers);
      k.flatten = opt(keys::kRangeFlattens);
      k.warp_specialize = opt(keys::kRangeWarpSpecializes);
    }
    if (static_entry >= 0) k.static_range = knob(keys::kStaticRanges, static_entry).as_bool();
    return k;
  };
  for (const auto& l : spec.inner_loops)
    if (l.kernel == kernel) p.ranges[l.dim] = knobs(l.range_entry, l.static_range_entry);
  p.grid_range = knobs(spec.kernels.at(static_cast<size_t>(kernel)).grid_range_entry, -1);
  return p;
}

}  // namespace deuteron::analysis
