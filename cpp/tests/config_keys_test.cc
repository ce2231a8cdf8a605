// The config key table: every key is documented and its own default and
// search domain are legal; the constants name table keys; the normalizer and
// the search space handle exactly the table's keys; the rules that the C++
// and Python layers once disagreed on.
#include <gtest/gtest.h>

#include <set>

#include "deuteron/config.h"
#include "deuteron/config_keys.h"
#include "deuteron/diagnostic.h"
#include "deuteron/tune.h"

namespace deuteron {
namespace {

TEST(ConfigKeys, EveryKeyHasANameADocAndAllowedValuesInWords) {
  std::set<std::string> names;
  for (const auto& k : config_keys()) {
    EXPECT_TRUE(names.insert(k.name).second) << "duplicate key " << k.name;
    EXPECT_STRNE(k.doc, "") << k.name;
    EXPECT_FALSE(k.allowed_text().empty()) << k.name;
    if (k.nullable) EXPECT_STRNE(k.null_means, "") << k.name << ": say what None means";
    if (k.kind == ItemKind::String) EXPECT_FALSE(k.choices.empty()) << k.name;
  }
  EXPECT_EQ(names.size(), 22u);
}

TEST(ConfigKeys, DefaultsAreLegal) {
  for (const auto& k : config_keys()) {
    if (k.kind == ItemKind::Permutation) {
      EXPECT_STRNE(k.default_note, "") << k.name << ": a permutation's default depends on the grid";
      continue;
    }
    EXPECT_TRUE(k.accepts(k.default_value)) << k.name << " default " << json::dump(k.default_value);
  }
}

TEST(ConfigKeys, SearchValuesAreLegal) {
  for (const auto& k : config_keys()) {
    for (const auto& v : k.search_values) EXPECT_TRUE(k.accepts(v)) << k.name << " searches " << json::dump(v);
    std::set<std::string> seen;
    for (const auto& v : k.search_values) EXPECT_TRUE(seen.insert(json::dump(v)).second) << k.name;
  }
  EXPECT_FALSE(config_key(keys::kMaxnreg).searched());
  EXPECT_TRUE(config_key(keys::kBlockSizes).searched());  // a domain derived from the kernel
  EXPECT_TRUE(config_key(keys::kBlockSizes).search_values.empty());
}

TEST(ConfigKeys, ConstantsNameTableKeysInCanonicalOrder) {
  const char* order[] = {keys::kBlockSizes, keys::kLoopOrders, keys::kFlattenLoops, keys::kL2Groupings,
                         keys::kReductionLoops, keys::kStaticRanges, keys::kRangeUnrollFactors,
                         keys::kRangeNumStages, keys::kRangeMultiBuffers, keys::kRangeFlattens,
                         keys::kRangeWarpSpecializes, keys::kNumWarps, keys::kNumStages, keys::kPidType,
                         keys::kNumSmMultiplier, keys::kMaxnreg, keys::kSubtiles, keys::kIndexing,
                         keys::kAtomicIndexing, keys::kLoadEvictionPolicies, keys::kLoadCacheModifiers,
                         keys::kStoreCacheModifiers};
  ASSERT_EQ(std::size(order), config_keys().size());
  for (size_t i = 0; i < config_keys().size(); ++i) EXPECT_STREQ(config_keys()[i].name, order[i]);
  EXPECT_EQ(find_config_key("num_warp"), nullptr);
  EXPECT_THROW(config_key("num_warp"), InternalError);
}

TEST(ConfigKeys, EnumeratedValuesComeFromTheConstants) {
  const auto& pid = config_key(keys::kPidType);
  for (const char* p : {pid_types::kFlat, pid_types::kXyz, pid_types::kPersistentBlocked,
                        pid_types::kPersistentInterleaved})
    EXPECT_TRUE(pid.accepts(json::Value(p))) << p;
  EXPECT_EQ(pid.choices.size(), 4u);
  EXPECT_TRUE(pid_types::is_persistent(pid_types::kPersistentBlocked));
  EXPECT_FALSE(pid_types::is_persistent(pid_types::kXyz));
  EXPECT_EQ(config_key(keys::kIndexing).choices,
            (std::vector<json::Value>{indexing_modes::kPointer, indexing_modes::kTensorDescriptor,
                                      indexing_modes::kBlockPtr}));
  EXPECT_EQ(config_key(keys::kLoadEvictionPolicies).allowed_text(), "one of , first, last");
}

// The values Python's Config once accepted and the normalizer did not.
TEST(ConfigKeys, RulesThatPythonAndCppShare) {
  const auto& maxnreg = config_key(keys::kMaxnreg);
  EXPECT_TRUE(maxnreg.accepts(json::Value()));
  EXPECT_TRUE(maxnreg.accepts(json::Value(64)));
  EXPECT_TRUE(maxnreg.accepts(json::Value(256)));
  EXPECT_FALSE(maxnreg.accepts(json::Value(33)));
  EXPECT_FALSE(maxnreg.accepts(json::Value(24)));
  EXPECT_FALSE(maxnreg.accepts(json::Value(264)));
  const auto& mult = config_key(keys::kNumSmMultiplier);
  EXPECT_TRUE(mult.accepts(json::Value(128)));
  EXPECT_FALSE(mult.accepts(json::Value(3)));
  EXPECT_FALSE(mult.accepts(json::Value(256)));
  EXPECT_FALSE(config_key(keys::kL2Groupings).accepts(json::Value(3)));
  EXPECT_FALSE(config_key(keys::kSubtiles).accepts(json::Value(3)));
  EXPECT_FALSE(config_key(keys::kLoadCacheModifiers).accepts(json::Value(".wb")));
  EXPECT_TRUE(config_key(keys::kStoreCacheModifiers).accepts(json::Value(".wb")));
  EXPECT_FALSE(config_key(keys::kNumWarps).accepts(json::Value(true)));
  EXPECT_TRUE(config_key(keys::kLoopOrders).accepts(json::Value(json::Array{1, 2, 0})));
  EXPECT_FALSE(config_key(keys::kLoopOrders).accepts(json::Value(json::Array{1, 1})));
}

// One kernel with something for every list key to have entries for.
ConfigSpec busy_spec() {
  ConfigSpec s;
  BlockSizeSpec b;
  b.min = 16;
  b.max = 1024;
  b.origin = "tile";
  s.block_sizes = {b, b};
  ReductionLoopSpec r;
  r.extent = SymInt(int64_t{4096});
  s.reduction_loops = {r};
  KernelSummary k;
  k.grid_block_sizes = {0, 1};
  k.grid_extents = {1024, 1024};
  s.kernels = {k};
  s.loop_order_sizes = {2};
  s.loop_order_kernels = {0};
  s.flatten_allowed = {true};
  s.l2_grouping_kernels = {0};
  InnerLoopInfo loop;
  loop.contains_loads = true;
  s.inner_loops = {loop};
  s.num_loads = 2;
  s.num_stores = 1;
  s.max_grid_rank = 2;
  s.kernel_load_offset = {0};
  s.kernel_store_offset = {0};
  s.number_loop_entries();  // tl.range knobs: [grid loop, inner loop]
  return s;
}

TEST(ConfigKeys, TheNormalizerFillsEveryKeyWithTheTableDefault) {
  ConfigSpec spec = busy_spec();
  json::Value cfg = spec.normalize(json::Value(json::Object{}), DeviceInfo{});
  std::set<std::string> got;
  for (const auto& [k, v] : cfg.as_object()) got.insert(k);
  std::set<std::string> want;
  for (const auto& k : config_keys()) want.insert(k.name);
  EXPECT_EQ(got, want);
  for (const auto& k : config_keys()) {
    const json::Value& v = cfg.at(k.name);
    if (!k.is_list()) {
      EXPECT_EQ(v, k.default_value) << k.name;
      continue;
    }
    ASSERT_TRUE(v.is_array()) << k.name;
    EXPECT_EQ(v.size(), spec.entries(k.per)) << k.name;
    for (const auto& e : v.as_array()) EXPECT_TRUE(k.accepts(e)) << k.name << " entry " << json::dump(e);
  }
  EXPECT_EQ(cfg.at(keys::kIndexing).size(), 3u);
  EXPECT_EQ(cfg.at(keys::kRangeUnrollFactors).size(), 2u);
}

TEST(ConfigKeys, OneValueStandsForAListOnlyWhereTheTableSaysSo) {
  ConfigSpec spec = busy_spec();
  json::Value cfg = spec.normalize(json::parse(R"({"indexing": "tensor_descriptor"})"), DeviceInfo{});
  EXPECT_EQ(json::dump(cfg.at(keys::kIndexing)), R"(["tensor_descriptor","tensor_descriptor","tensor_descriptor"])");
  EXPECT_THROW(spec.normalize(json::parse(R"({"atomic_indexing": "bad"})"), DeviceInfo{}), ConfigError);
  try {
    spec.normalize(json::parse(R"({"range_unroll_factors": 2})"), DeviceInfo{});
    FAIL() << "a single value for a list key";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "config key 'range_unroll_factors': expected a list of 2 entries, got 2");
  }
}

TEST(ConfigKeys, NormalizerMessagesUseTheTablesWords) {
  ConfigSpec spec = busy_spec();
  auto message = [&](const char* cfg) -> std::string {
    try {
      spec.normalize(json::parse(cfg), DeviceInfo{});
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(message(R"({"maxnreg": 33})"), "config key 'maxnreg': use None or a multiple of 8 from 32 to 256");
  EXPECT_EQ(message(R"({"num_sm_multiplier": 3})"),
            "config key 'num_sm_multiplier': 3 is not allowed; use a power of two from 1 to 128");
  EXPECT_EQ(message(R"({"pid_type": "grid"})"),
            "config key 'pid_type': \"grid\" is not allowed; use one of flat, xyz, persistent_blocked, "
            "persistent_interleaved");
  EXPECT_EQ(message(R"({"l2_groupings": [3]})"),
            "config key 'l2_groupings': entries must be powers of two from 1 to 64, got 3");
  EXPECT_EQ(message(R"({"range_flattens": [1]})"), "config key 'range_flattens': entries must be None, True or False");
  EXPECT_EQ(message(R"({"load_cache_modifiers": ["", ".wb"]})"),
            "config key 'load_cache_modifiers': entry 1 is \".wb\"; use one of , .ca, .cg, .cv");
  EXPECT_EQ(message(R"({"subtiles": 3})"), "config key 'subtiles': 3 is not allowed; use 1 (off), 2 or 4");
  EXPECT_EQ(message(R"({"reduction_loops": [24]})"), "config key 'reduction_loops': entry 0 is 24; use None or a power of two");
}

TEST(ConfigKeys, TheSearchSpaceSearchesOnlyTableKeysWithinTheirDomains) {
  tune::SearchSpace space(busy_spec(), DeviceInfo{});
  std::set<std::string> keys_searched;
  for (const auto& p : space.params()) {
    const ConfigKey* k = find_config_key(p.key);
    ASSERT_NE(k, nullptr) << p.key;
    keys_searched.insert(p.key);
    for (const auto& c : p.choices) EXPECT_TRUE(k->accepts(c)) << p.name << " " << json::dump(c);
    if (!k->search_values.empty())
      for (const auto& c : p.choices)
        EXPECT_NE(std::find(k->search_values.begin(), k->search_values.end(), c), k->search_values.end())
            << p.name << " tries " << json::dump(c) << ", which the table does not list";
  }
  for (const auto& k : keys_searched) EXPECT_TRUE(config_key(k).searched()) << k;
  EXPECT_TRUE(keys_searched.count(keys::kPidType));
  EXPECT_TRUE(keys_searched.count(keys::kLoadEvictionPolicies));
}

TEST(ConfigKeys, JsonFormListsEveryKeyInOrder) {
  json::Value table = config_keys_json();
  ASSERT_EQ(table.size(), config_keys().size());
  for (size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(table[i].at("name").as_string(), config_keys()[i].name);
    EXPECT_EQ(table[i].at("searched").as_bool(), config_keys()[i].searched());
  }
  const json::Value& maxnreg = table[15];
  EXPECT_EQ(maxnreg.at("name").as_string(), "maxnreg");
  EXPECT_EQ(maxnreg.at("min").as_int(), 32);
  EXPECT_EQ(maxnreg.at("max").as_int(), 256);
  EXPECT_EQ(maxnreg.at("multiple_of").as_int(), 8);
  EXPECT_TRUE(maxnreg.at("nullable").as_bool());
  EXPECT_TRUE(table[4].at("max").is_null());  // reduction_loops: no upper bound
  EXPECT_EQ(table[0].at("per").as_string(), "block size");
}

}  // namespace
}  // namespace deuteron
