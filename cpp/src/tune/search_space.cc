// SearchSpace: the discrete parameters of a ConfigSpec, points, sampling,
// neighbours, mutation, crossover, features, and the constraint model.
//
// Constraint model (an estimate, deliberately simple; a config it rejects is
// never compiled by the search, though the default config always is):
//   tile      = product of the kernel's grid block sizes
//             x each full (value-axis) extent, or its reduction-loop chunk when looped
//             x the block sizes of inner loops (product for a single-kernel
//               program, the largest one otherwise, since we cannot tell which
//               kernel an inner block size belongs to)
//   threads   = 32 * num_warps
//   kernels without a dot:  tile <= max_tile_elements and tile / threads <= max_elements_per_thread
//   kernels with a dot:     accumulators / threads <= max_acc_elements_per_thread and
//                           staged loads <= the device's shared memory, where
//                           accumulators = the sum of the result tiles of the dots of one inner
//                             loop (attention's scores and output both count), the largest loop
//                             (loops run one after another), and
//                           staged loads = the bytes of each operand loaded before the loops,
//                             plus, for the largest loop, the bytes of its loads (operands or
//                             not: Triton's pipeliner stages them all) times its pipeline
//                             depth (range_num_stages, else num_stages); operands computed in
//                             registers take none.
//                           Both come from estimate_dot_resources (config/resource_estimate.cc),
//                           which the default config fits too.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "deuteron/tune.h"

namespace deuteron::tune {

// ----------------------------------------------------------------- Rng

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t Rng::below(uint64_t n) {
  if (n <= 1) return 0;
  // Reject the top partial bucket: every value in [0, n) is equally likely.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  uint64_t x;
  do {
    x = next();
  } while (x >= limit);
  return x % n;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }

Rng Rng::fork(uint64_t salt) {
  Rng r(next() ^ (salt * 0xD1B54A32D192ED03ull));
  r.next();
  return r;
}

std::string point_key(const Point& p) {
  std::string s;
  s.reserve(p.size() * 3);
  for (size_t i = 0; i < p.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(p[i]);
  }
  return s;
}

// --------------------------------------------------------- SpaceOptions

SpaceOptions SpaceOptions::from_json(const json::Value& v) {
  SpaceOptions o;
  if (v.is_null()) return o;
  if (!v.is_object()) throw std::invalid_argument("space options must be a JSON object");
  for (const auto& [k, x] : v.as_object()) {
    auto b = [&](bool& field) { field = x.as_bool(); };
    auto i = [&](auto& field) { field = static_cast<std::remove_reference_t<decltype(field)>>(x.as_int()); };
    if (k == "num_warps_min") i(o.num_warps_min);
    else if (k == "num_warps_max") i(o.num_warps_max);
    else if (k == "num_stages_max_dot") i(o.num_stages_max_dot);
    else if (k == "num_stages_max_loop") i(o.num_stages_max_loop);
    else if (k == "tune_loop_orders") b(o.tune_loop_orders);
    else if (k == "tune_flatten_loops") b(o.tune_flatten_loops);
    else if (k == "tune_l2_groupings") b(o.tune_l2_groupings);
    else if (k == "tune_reduction_loops") b(o.tune_reduction_loops);
    else if (k == "tune_static_ranges") b(o.tune_static_ranges);
    else if (k == "tune_range_knobs") b(o.tune_range_knobs);
    else if (k == "tune_range_flattens") b(o.tune_range_flattens);
    else if (k == "tune_warp_specialize") b(o.tune_warp_specialize);
    else if (k == "tune_pid_type") b(o.tune_pid_type);
    else if (k == "tune_subtiles") b(o.tune_subtiles);
    else if (k == "tune_indexing") b(o.tune_indexing);
    else if (k == "allow_tensor_descriptor") b(o.allow_tensor_descriptor);
    else if (k == "allow_block_ptr") b(o.allow_block_ptr);
    else if (k == "tune_eviction_policies") b(o.tune_eviction_policies);
    else if (k == "tune_tunables") b(o.tune_tunables);
    else if (k == "max_block_size") i(o.max_block_size);
    else if (k == "max_tile_elements") i(o.max_tile_elements);
    else if (k == "max_elements_per_thread") i(o.max_elements_per_thread);
    else if (k == "max_acc_elements_per_thread") i(o.max_acc_elements_per_thread);
    else throw std::invalid_argument("unknown search space option '" + k + "'");
  }
  return o;
}

// ---------------------------------------------------------- SearchSpace

namespace {

bool is_pow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

std::vector<json::Value> pow2_range(int64_t lo, int64_t hi) {
  std::vector<json::Value> out;
  if (lo < 1) lo = 1;
  if (!is_pow2(lo)) lo = next_power_of_2(lo);
  for (int64_t v = lo; v <= hi; v *= 2) out.push_back(json::Value(v));
  return out;
}

std::vector<json::Value> bools() { return {json::Value(false), json::Value(true)}; }

// The values the config table says the autotuner tries for `key`, those that
// pass `keep`.
template <typename Keep>
std::vector<json::Value> searched(const char* key, Keep keep) {
  std::vector<json::Value> out;
  for (const auto& v : config_key(key).search_values)
    if (keep(v)) out.push_back(v);
  return out;
}
std::vector<json::Value> searched(const char* key) {
  return searched(key, [](const json::Value&) { return true; });
}

// A comparable number for ordinal values (None sorts last: "no loop").
double ordinal_number(const json::Value& v) {
  if (v.is_null()) return 1e300;
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  if (v.is_number()) return v.as_double();
  return 0;
}

double log2_or_zero(double x) { return x > 0 ? std::log2(x) : 0.0; }

const json::Value* entry_of(const json::Value& cfg, const std::string& key, int index) {
  const json::Value* v = cfg.find(key);
  if (!v) return nullptr;
  if (index < 0) return v;
  if (!v->is_array() || static_cast<size_t>(index) >= v->size()) return nullptr;
  return &(*v)[static_cast<size_t>(index)];
}

std::vector<std::vector<int>> permutations(int n) {
  std::vector<int> p(n);
  std::iota(p.begin(), p.end(), 0);
  std::vector<std::vector<int>> out;
  do out.push_back(p);
  while (std::next_permutation(p.begin(), p.end()));
  return out;
}

}  // namespace

SearchSpace::SearchSpace(ConfigSpec spec, DeviceInfo device, SpaceOptions options)
    : spec_(std::move(spec)), device_(std::move(device)), options_(options) {
  default_config_ = spec_.default_config(device_);
  build();
}

SearchSpace::SearchSpace(ConfigSpec spec, DeviceInfo device, const json::Value& default_config, SpaceOptions options)
    : spec_(std::move(spec)), device_(std::move(device)), options_(options) {
  default_config_ = default_config.is_null() ? spec_.default_config(device_) : spec_.normalize(default_config, device_);
  build();
}

void SearchSpace::build() {
  const json::Value& dflt = default_config_;
  auto add = [&](Param p) -> int {
    // The default's value is always a choice.
    const json::Value* dv = entry_of(dflt, p.key, p.index);
    if (dv) {
      auto it = std::find(p.choices.begin(), p.choices.end(), *dv);
      if (it == p.choices.end()) {
        if (p.ordinal) {
          double x = ordinal_number(*dv);
          auto pos = std::find_if(p.choices.begin(), p.choices.end(),
                                  [&](const json::Value& c) { return ordinal_number(c) > x; });
          it = p.choices.insert(pos, *dv);
        } else {
          p.choices.push_back(*dv);
          it = p.choices.end() - 1;
        }
      }
      p.default_choice = static_cast<int>(it - p.choices.begin());
    }
    if (p.choices.size() < 2) return -1;
    params_.push_back(std::move(p));
    return static_cast<int>(params_.size()) - 1;
  };
  auto idx_name = [](const std::string& key, size_t i) { return key + "[" + std::to_string(i) + "]"; };

  // Block sizes.
  block_param_.assign(spec_.block_sizes.size(), -1);
  for (size_t i = 0; i < spec_.block_sizes.size(); ++i) {
    const BlockSizeSpec& b = spec_.block_sizes[i];
    int64_t hi = std::min<int64_t>(b.max, options_.max_block_size);
    int64_t extent = 0;
    for (const auto& e : b.extents) extent = std::max<int64_t>(extent, e.hint().value_or(0));
    if (extent > 0) hi = std::min<int64_t>(hi, next_power_of_2(extent));
    int64_t lo = std::max<int64_t>(b.min, 1);
    if (b.used_in_dot) {
      lo = std::max<int64_t>(lo, target::kMinDotDim);
      hi = std::min<int64_t>(hi, 256);
    }
    hi = std::min<int64_t>(hi, options_.max_tile_elements);
    Param p{idx_name(keys::kBlockSizes, i), keys::kBlockSizes, static_cast<int>(i), pow2_range(lo, std::max(lo, hi)), true, 0,
            Param::Role::BlockSize};
    block_param_[i] = add(std::move(p));
  }
  // Reduction loops: a looped chunk (power of two below the extent) or None (persistent).
  reduction_param_.assign(spec_.reduction_loops.size(), -1);
  if (options_.tune_reduction_loops) {
    for (size_t i = 0; i < spec_.reduction_loops.size(); ++i) {
      const SymInt& ext = spec_.reduction_loops[i].extent;
      std::vector<json::Value> choices;
      if (auto e = ext.as_constant()) {
        int64_t top = std::min<int64_t>(next_power_of_2(*e) / 2, 16384);
        int64_t lo = std::max<int64_t>(64, next_power_of_2(*e) / 256);
        for (int64_t v = lo; v <= top && v < *e; v *= 2) choices.push_back(json::Value(v));
        choices.push_back(json::Value());
      } else {
        choices = pow2_range(64, 16384);
      }
      Param p{idx_name(keys::kReductionLoops, i), keys::kReductionLoops, static_cast<int>(i), choices, true, 0,
              Param::Role::ReductionLoop};
      reduction_param_[i] = add(std::move(p));
    }
  }
  // Loop orders of loops over several dims (grids and inner nests), and
  // flattening where deuteron can run the loop as one.
  for (size_t i = 0; i < spec_.loop_order_sizes.size(); ++i) {
    if (options_.tune_loop_orders && spec_.loop_order_sizes[i] <= 4) {
      std::vector<json::Value> choices;
      for (const auto& perm : permutations(spec_.loop_order_sizes[i])) {
        json::Array a;
        for (int x : perm) a.push_back(json::Value(x));
        choices.push_back(json::Value(std::move(a)));
      }
      add(Param{idx_name(keys::kLoopOrders, i), keys::kLoopOrders, static_cast<int>(i), choices, false});
    }
  }
  // (ConfigSpec::flatten_allowed: pointwise grids and inner loops only.)
  for (size_t i = 0; i < spec_.flatten_allowed.size(); ++i)
    if (options_.tune_flatten_loops && spec_.flatten_allowed[i])
      add(Param{idx_name(keys::kFlattenLoops, i), keys::kFlattenLoops, static_cast<int>(i), searched(keys::kFlattenLoops), false});
  if (options_.tune_l2_groupings)
    for (size_t i = 0; i < spec_.l2_grouping_kernels.size(); ++i)
      add(Param{idx_name(keys::kL2Groupings, i), keys::kL2Groupings, static_cast<int>(i), searched(keys::kL2Groupings), true});
  // Inner loops short enough to unroll.
  if (options_.tune_static_ranges)
    for (int i = 0; i < spec_.static_range_entries; ++i)
      add(Param{idx_name(keys::kStaticRanges, static_cast<size_t>(i)), keys::kStaticRanges, i, searched(keys::kStaticRanges), false});
  // tl.range knobs: an entry per inner loop dim, and per kernel's grid loop
  // (the loop over tiles of a persistent pid_type: searched with pid_type).
  const target::WarpSpecializeOffer ws_offer = target::warp_specialize_offer(device_);
  const bool stage_entries = spec_.entries(Per::PipelinedLoop) > 0;
  for (int i = 0; i < spec_.range_entries; ++i) {
    const InnerLoopInfo* loop = spec_.range_entry_loop(i);
    const auto idx = static_cast<size_t>(i);
    if (!loop) {
      if (!options_.tune_pid_type || !options_.tune_range_knobs) continue;
      add(Param{idx_name(keys::kRangeUnrollFactors, idx), keys::kRangeUnrollFactors, i,
                searched(keys::kRangeUnrollFactors), true});
      if (stage_entries)
        add(Param{idx_name(keys::kRangeNumStages, idx), keys::kRangeNumStages, i, searched(keys::kRangeNumStages), true});
      continue;
    }
    const InnerLoopInfo& l = *loop;
    if (!l.contains_loads) continue;
    if (options_.tune_range_knobs) {
      add(Param{idx_name(keys::kRangeUnrollFactors, idx), keys::kRangeUnrollFactors, i,
                searched(keys::kRangeUnrollFactors), true});
      if (stage_entries)
        add(Param{idx_name(keys::kRangeNumStages, idx), keys::kRangeNumStages, i,
                  searched(keys::kRangeNumStages), true, 0, Param::Role::RangeNumStages});
      add(Param{idx_name(keys::kRangeMultiBuffers, idx), keys::kRangeMultiBuffers, i,
                searched(keys::kRangeMultiBuffers), false});
    }
    if (options_.tune_range_flattens)
      add(Param{idx_name(keys::kRangeFlattens, idx), keys::kRangeFlattens, i,
                searched(keys::kRangeFlattens), false});
    // Warp specialization where the target offers it (target.h).  Where a
    // config would not compile or would compute NaNs (4 warps and 3+ stages
    // on Hopper), code generation leaves it out (analysis::plan_loops), and
    // the accuracy check would drop any other wrong config.
    bool offered = ws_offer == target::WarpSpecializeOffer::DotLoops ||
                   (ws_offer == target::WarpSpecializeOffer::FlashAttentionLoops &&
                    spec_.flash_attention_loop(l.kernel) == l.op_id);
    if (options_.tune_warp_specialize && l.contains_dot && offered)
      add(Param{idx_name(keys::kRangeWarpSpecializes, idx), keys::kRangeWarpSpecializes, i,
                searched(keys::kRangeWarpSpecializes), false});
  }
  // Launch parameters.
  {
    auto within = [&](const json::Value& w) {
      return w.as_int() >= options_.num_warps_min && w.as_int() <= options_.num_warps_max;
    };
    Param p{keys::kNumWarps, keys::kNumWarps, -1, searched(keys::kNumWarps, within), true, 0, Param::Role::NumWarps};
    num_warps_param_ = add(std::move(p));
  }
  {
    bool loop_loads = false;
    for (const auto& l : spec_.inner_loops) loop_loads = loop_loads || l.contains_loads;
    int hi = spec_.has_dot ? options_.num_stages_max_dot : loop_loads ? options_.num_stages_max_loop : 1;
    std::vector<json::Value> choices = searched(keys::kNumStages, [&](const json::Value& s) { return s.as_int() <= hi; });
    num_stages_param_ = add(Param{keys::kNumStages, keys::kNumStages, -1, choices, true, 0, Param::Role::NumStages});
  }
  if (options_.tune_pid_type) {
    const bool xyz = spec_.max_grid_rank >= 2 && spec_.max_grid_rank <= 3;
    std::vector<json::Value> choices = searched(keys::kPidType, [&](const json::Value& p) {
      if (spec_.requires_persistent() && !pid_types::is_persistent(p.as_string())) return false;  // Helion's rule
      return xyz || p.as_string() != pid_types::kXyz;
    });
    pid_param_ = add(Param{keys::kPidType, keys::kPidType, -1, choices, false, 0, Param::Role::PidType});
    if (pid_param_ >= 0)
      sm_mult_param_ = add(Param{keys::kNumSmMultiplier, keys::kNumSmMultiplier, -1, searched(keys::kNumSmMultiplier),
                                 true, 0, Param::Role::NumSmMultiplier});
  }
  // Sub-tiles of the grid tile that feeds a dot's rows (grid_subtiling.cc).
  if (options_.tune_subtiles && device_.is_cuda && spec_.subtilable())
    subtiles_param_ = add(Param{keys::kSubtiles, keys::kSubtiles, -1, searched(keys::kSubtiles), true});
  // Memory.
  if (options_.tune_indexing) {
    std::vector<json::Value> choices = searched(keys::kIndexing, [&](const json::Value& m) {
      if (m.as_string() == indexing_modes::kTensorDescriptor)
        return options_.allow_tensor_descriptor && target::offers_tensor_descriptors(device_);
      if (m.as_string() == indexing_modes::kBlockPtr)
        return options_.allow_block_ptr && target::has_block_pointers(device_);
      return true;
    });
    for (int i = 0; i < spec_.num_loads + spec_.num_stores; ++i)
      add(Param{idx_name(keys::kIndexing, i), keys::kIndexing, i, choices, false});
  }
  if (options_.tune_eviction_policies)
    for (int i = 0; i < spec_.num_loads; ++i)
      add(Param{idx_name(keys::kLoadEvictionPolicies, i), keys::kLoadEvictionPolicies, i,
                searched(keys::kLoadEvictionPolicies), false});
  // User tunables.
  if (options_.tune_tunables) {
    for (const auto& t : spec_.tunables) {
      std::vector<json::Value> choices;
      bool ordinal = true;
      switch (t.kind) {
        case TunableSpec::Kind::PowerOfTwo:
          choices = pow2_range(std::max<int64_t>(t.low, 1), t.high);
          break;
        case TunableSpec::Kind::Integer: {
          int64_t n = t.high - t.low + 1;
          if (n <= 0) break;
          int64_t step = std::max<int64_t>(1, (n + 31) / 32);
          for (int64_t v = t.low; v <= t.high; v += step) choices.push_back(json::Value(v));
          if (choices.back().as_int() != t.high) choices.push_back(json::Value(t.high));
          break;
        }
        case TunableSpec::Kind::Boolean:
          choices = bools();
          ordinal = false;
          break;
        case TunableSpec::Kind::Enum:
          for (const auto& c : t.choices)
            if (auto v = python_literal_to_json(c)) choices.push_back(*v);
          ordinal = false;
          break;
      }
      if (choices.empty()) continue;
      add(Param{t.name, t.name, -1, choices, ordinal});
    }
  }
  default_point_.assign(params_.size(), 0);
  for (size_t i = 0; i < params_.size(); ++i) default_point_[i] = params_[i].default_choice;
}

double SearchSpace::log10_cardinality() const {
  double s = 0;
  for (const auto& p : params_) s += std::log10(static_cast<double>(p.choices.size()));
  return s;
}

json::Value SearchSpace::decode(const Point& p) const {
  if (p.size() != params_.size()) throw std::invalid_argument("point has the wrong number of parameters");
  json::Value cfg = default_config_;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Param& par = params_[i];
    const json::Value& v = par.choices.at(static_cast<size_t>(p[i]));
    if (par.index < 0) {
      cfg.set(par.key, v);
    } else {
      json::Value list = *cfg.find(par.key);
      list.as_array().at(static_cast<size_t>(par.index)) = v;
      cfg.set(par.key, std::move(list));
    }
  }
  return spec_.normalize(cfg, device_);
}

Point SearchSpace::encode(const json::Value& config) const {
  Point p = default_point_;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Param& par = params_[i];
    const json::Value* v = entry_of(config, par.key, par.index);
    if (!v) continue;
    auto it = std::find(par.choices.begin(), par.choices.end(), *v);
    if (it != par.choices.end()) {
      p[i] = static_cast<int>(it - par.choices.begin());
    } else if (par.ordinal && v->is_number()) {
      double x = log2_or_zero(v->as_double());
      double best = 1e300;
      for (size_t c = 0; c < par.choices.size(); ++c) {
        if (!par.choices[c].is_number()) continue;
        double d = std::abs(log2_or_zero(par.choices[c].as_double()) - x);
        if (d < best) { best = d; p[i] = static_cast<int>(c); }
      }
    }
  }
  canonicalize(p);
  return p;
}

void SearchSpace::canonicalize(Point& p) const {
  // Sub-tiles under 16 rows are not a config (ConfigSpec::normalize).
  if (subtiles_param_ >= 0) {
    int64_t n = params_[subtiles_param_].choices[p[subtiles_param_]].as_int();
    for (const auto& k : spec_.kernels) {
      if (n <= 1 || !k.subtilable()) continue;
      int64_t block = k.subtile_block([&](int i) -> int64_t {
        int par = block_param_[static_cast<size_t>(i)];
        const json::Value* dflt = entry_of(default_config_, keys::kBlockSizes, i);
        return par >= 0 ? params_[par].choices[p[par]].as_int() : dflt ? dflt->as_int() : 1;
      });
      if (block / n < target::kMinDotDim) {
        p[subtiles_param_] = params_[subtiles_param_].default_choice;
        break;
      }
    }
  }
  if (pid_param_ >= 0 && sm_mult_param_ >= 0) {
    const std::string& pid = params_[pid_param_].choices[p[pid_param_]].as_string();
    if (!pid_types::is_persistent(pid)) p[sm_mult_param_] = params_[sm_mult_param_].default_choice;
  }
  // What normalization rewrites to what runs (ConfigSpec::canonicalize: the
  // tl.range knobs of a static range, 'xyz' where no grid has 2 or 3 dims,
  // ...), the point takes too: points that compile to the same code are one
  // point, measured once.
  const json::Value normalized = decode(p);
  for (size_t i = 0; i < params_.size(); ++i) {
    const Param& par = params_[i];
    const json::Value* v = entry_of(normalized, par.key, par.index);
    if (!v || *v == par.choices[p[i]]) continue;
    auto it = std::find(par.choices.begin(), par.choices.end(), *v);
    if (it != par.choices.end()) p[i] = static_cast<int>(it - par.choices.begin());
  }
}

int SearchSpace::param_value_int(const Point& p, int param, int64_t dflt) const {
  if (param < 0) return static_cast<int>(dflt);
  const json::Value& v = params_[param].choices[p[param]];
  return v.is_number() ? static_cast<int>(v.as_int()) : static_cast<int>(dflt);
}

std::vector<SearchSpace::KernelEstimate> SearchSpace::estimate(const Point& p) const {
  auto dflt_int = [&](const std::string& key, int index, int64_t fallback) -> int64_t {
    const json::Value* v = entry_of(default_config_, key, index);
    return v && v->is_number() ? v->as_int() : fallback;
  };
  auto block = [&](size_t i) -> int64_t {
    int par = block_param_[i];
    if (par >= 0) return params_[par].choices[p[par]].as_int();
    return dflt_int(keys::kBlockSizes, static_cast<int>(i), 1);
  };
  // Reduction loops: (extent rounded up, chunk or 0 when persistent).
  std::vector<std::pair<int64_t, int64_t>> red;
  for (size_t i = 0; i < spec_.reduction_loops.size(); ++i) {
    int64_t ext = next_power_of_2(spec_.reduction_loops[i].extent.hint().value_or(1024));
    int64_t chunk = 0;
    const json::Value* v = reduction_param_[i] >= 0 ? &params_[reduction_param_[i]].choices[p[reduction_param_[i]]]
                                                    : entry_of(default_config_, keys::kReductionLoops, static_cast<int>(i));
    if (v && v->is_number()) chunk = v->as_int();
    red.emplace_back(ext, chunk);
  }
  std::vector<bool> in_grid(spec_.block_sizes.size(), false);
  for (const auto& k : spec_.kernels)
    for (int b : k.grid_block_sizes)
      if (b >= 0 && static_cast<size_t>(b) < in_grid.size()) in_grid[b] = true;
  double inner_prod = 1, inner_max = 1, dot_k = 0;
  for (size_t i = 0; i < spec_.block_sizes.size(); ++i) {
    if (in_grid[i]) continue;
    double v = static_cast<double>(block(i));
    if (spec_.block_sizes[i].used_in_dot) {
      dot_k = std::max(dot_k, v);
      continue;
    }
    inner_prod *= v;
    inner_max = std::max(inner_max, v);
  }
  const double inner = spec_.kernels.size() <= 1 ? inner_prod : inner_max;
  const double warps = param_value_int(p, num_warps_param_, dflt_int(keys::kNumWarps, -1, 4));
  const double stages = param_value_int(p, num_stages_param_, dflt_int(keys::kNumStages, -1, 1));
  // Pipeline depth of each kernel's dot loops: a loop's range_num_stages
  // (0 = num_stages) overrides num_stages for the operands it loads.
  std::vector<double> dot_stages(spec_.kernels.size(), 0.0);  // 0: no dot loop with its own depth
  for (size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].role != Param::Role::RangeNumStages) continue;
    const InnerLoopInfo* loop = spec_.range_entry_loop(params_[i].index);
    if (!loop) continue;
    const InnerLoopInfo& l = *loop;
    const double v = static_cast<double>(param_value_int(p, static_cast<int>(i), 0));
    if (l.contains_dot && l.kernel >= 0 && static_cast<size_t>(l.kernel) < dot_stages.size())
      dot_stages[l.kernel] = std::max(dot_stages[l.kernel], v > 0 ? v : stages);
  }
  for (double& d : dot_stages)
    if (d == 0) d = stages;
  std::vector<KernelEstimate> out;
  for (size_t ki = 0; ki < spec_.kernels.size(); ++ki) {
    const KernelSummary& k = spec_.kernels[ki];
    KernelEstimate e;
    e.threads = 32.0 * warps;
    double grid = 1;
    std::vector<double> sizes;
    std::vector<int> seen;
    for (int b : k.grid_block_sizes) {
      if (b < 0 || std::find(seen.begin(), seen.end(), b) != seen.end()) continue;
      seen.push_back(b);
      double v = static_cast<double>(block(static_cast<size_t>(b)));
      grid *= v;
      sizes.push_back(v);
    }
    double full = 1;
    std::vector<bool> used(red.size(), false);
    for (int64_t f : k.full_extents) {
      int64_t f2 = next_power_of_2(std::max<int64_t>(f, 1));
      double factor = static_cast<double>(f2);
      for (size_t r = 0; r < red.size(); ++r)
        if (!used[r] && red[r].first == f2) {
          used[r] = true;
          if (red[r].second > 0) factor = static_cast<double>(std::min(red[r].second, f2));
          break;
        }
      full *= factor;
    }
    e.tile_elements = grid * full * inner;
    if (k.has_dot && !k.dots.empty()) {
      // The same estimate the default config fits to (config/resource_estimate.cc).
      DotResources r = estimate_dot_resources(
          k, [&](int i) { return block(static_cast<size_t>(i)); }, dot_stages[ki],
          [&](int i) { return static_cast<size_t>(i) < red.size() ? red[i].second : int64_t{0}; });
      e.acc_elements = r.acc_elements;
      e.shared_bytes = r.shared_bytes;
    } else if (k.has_dot) {
      // A spec read from a summary has no dot shapes: the grid tile is the
      // accumulator, the two largest grid blocks are M and N.
      std::sort(sizes.rbegin(), sizes.rend());
      double m = sizes.size() > 0 ? sizes[0] : 1, n = sizes.size() > 1 ? sizes[1] : 1;
      double kk = dot_k > 0 ? dot_k : 32;
      e.acc_elements = grid;
      e.shared_bytes = stages * kk * (m + n) * k.max_element_bytes;
    }
    out.push_back(e);
  }
  return out;
}

bool SearchSpace::feasible(const Point& p) const {
  for (const auto& e : estimate(p)) {
    if (e.threads > device_.max_threads_per_block) return false;
    if (e.tile_elements > static_cast<double>(options_.max_tile_elements)) return false;
    if (e.acc_elements > 0) {
      if (e.acc_elements / e.threads > static_cast<double>(options_.max_acc_elements_per_thread)) return false;
      if (e.shared_bytes > static_cast<double>(device_.max_shared_memory)) return false;
    } else if (e.tile_elements / e.threads > static_cast<double>(options_.max_elements_per_thread)) {
      return false;
    }
  }
  return true;
}

void SearchSpace::repair(Point& p, Rng& rng) const {
  for (int step = 0; step < 64 && !feasible(p); ++step) {
    // Moves that make a program smaller or give it more threads.
    std::vector<std::pair<int, int>> moves;  // (param, delta)
    for (size_t i = 0; i < params_.size(); ++i) {
      const Param& par = params_[i];
      bool shrink = par.role == Param::Role::BlockSize || par.role == Param::Role::ReductionLoop ||
                    ((par.role == Param::Role::NumStages || par.role == Param::Role::RangeNumStages) && spec_.has_dot);
      if (shrink && p[i] > 0) moves.emplace_back(static_cast<int>(i), -1);
      if (par.role == Param::Role::NumWarps && p[i] + 1 < static_cast<int>(par.choices.size()))
        moves.emplace_back(static_cast<int>(i), +1);
    }
    if (moves.empty()) break;
    auto [i, d] = moves[rng.below(moves.size())];
    p[i] += d;
  }
  canonicalize(p);
}

Point SearchSpace::random_point(Rng& rng) const {
  Point p(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) p[i] = static_cast<int>(rng.below(params_[i].choices.size()));
  canonicalize(p);
  if (!feasible(p)) repair(p, rng);
  return p;
}

std::vector<Point> SearchSpace::neighbors(const Point& p) const {
  std::vector<Point> out;
  std::set<std::string> keys = {point_key(p)};
  auto push = [&](Point q) {
    canonicalize(q);
    if (!feasible(q)) return;
    if (keys.insert(point_key(q)).second) out.push_back(std::move(q));
  };
  for (size_t i = 0; i < params_.size(); ++i) {
    const Param& par = params_[i];
    const int n = static_cast<int>(par.choices.size());
    if (par.ordinal) {
      for (int d : {-1, +1}) {
        int v = p[i] + d;
        if (v < 0 || v >= n) continue;
        Point q = p;
        q[i] = v;
        push(q);
        // A block size step often needs a warp step to stay balanced.
        if (par.role == Param::Role::BlockSize && num_warps_param_ >= 0) {
          int w = p[num_warps_param_] + d;
          if (w >= 0 && w < static_cast<int>(params_[num_warps_param_].choices.size())) {
            Point r = q;
            r[num_warps_param_] = w;
            push(std::move(r));
          }
        }
      }
    } else {
      for (int v = 0; v < n; ++v) {
        if (v == p[i]) continue;
        Point q = p;
        q[i] = v;
        push(std::move(q));
      }
    }
  }
  return out;
}

Point SearchSpace::mutate(const Point& p, Rng& rng, int changes) const {
  if (params_.empty()) return p;
  for (int attempt = 0; attempt < 16; ++attempt) {
    Point q = p;
    for (int c = 0; c < std::max(1, changes); ++c) {
      size_t i = rng.below(params_.size());
      const Param& par = params_[i];
      const int n = static_cast<int>(par.choices.size());
      if (par.ordinal) {
        int step = rng.chance(0.25) ? 2 : 1;
        int v = q[i] + (rng.chance(0.5) ? step : -step);
        q[i] = std::clamp(v, 0, n - 1);
      } else {
        int v = static_cast<int>(rng.below(static_cast<uint64_t>(n - 1)));
        q[i] = v >= q[i] ? v + 1 : v;
      }
    }
    canonicalize(q);
    if (!feasible(q)) repair(q, rng);
    if (q != p) return q;
  }
  return random_point(rng);
}

Point SearchSpace::crossover(const Point& a, const Point& b, Rng& rng) const {
  Point q(a.size());
  for (size_t i = 0; i < a.size(); ++i) q[i] = rng.chance(0.5) ? a[i] : b[i];
  canonicalize(q);
  if (!feasible(q)) repair(q, rng);
  return q;
}

size_t SearchSpace::num_features() const {
  size_t n = 0;
  for (const auto& par : params_) n += (par.ordinal || par.choices.size() == 2) ? 1 : par.choices.size();
  return n + 3 * spec_.kernels.size();
}

std::vector<double> SearchSpace::features(const Point& p) const {
  std::vector<double> f;
  f.reserve(num_features());
  for (size_t i = 0; i < params_.size(); ++i) {
    const Param& par = params_[i];
    const size_t n = par.choices.size();
    if (par.ordinal) {
      f.push_back(static_cast<double>(p[i]) / static_cast<double>(n - 1));
    } else if (n == 2) {
      f.push_back(static_cast<double>(p[i]));
    } else {
      for (size_t c = 0; c < n; ++c) f.push_back(static_cast<int>(c) == p[i] ? 1.0 : 0.0);
    }
  }
  for (const auto& e : estimate(p)) {
    f.push_back(log2_or_zero(e.tile_elements) / 20.0);
    f.push_back(log2_or_zero(e.tile_elements / e.threads) / 10.0);
    f.push_back(log2_or_zero(e.shared_bytes + 1) / 20.0);
  }
  return f;
}

json::Value SearchSpace::describe() const {
  json::Array a;
  for (const auto& par : params_) {
    json::Object o;
    o.emplace_back("name", json::Value(par.name));
    o.emplace_back("choices", json::Value(json::Array(par.choices.begin(), par.choices.end())));
    o.emplace_back("ordinal", json::Value(par.ordinal));
    o.emplace_back("default", par.choices[par.default_choice]);
    a.push_back(json::Value(std::move(o)));
  }
  return json::Value(std::move(a));
}

}  // namespace deuteron::tune
