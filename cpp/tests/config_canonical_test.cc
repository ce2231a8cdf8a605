// Normalization canonicalizes: a request the generated code would not follow
// normalizes to what runs (ConfigSpec::canonicalize), normalizing twice
// changes nothing, and the autotuner's search space produces only configs
// that normalize to themselves, one point per config.
#include <gtest/gtest.h>

#include <map>

#include "deuteron/config.h"
#include "deuteron/tune.h"
#include "spec_fixtures.h"

namespace deuteron {
namespace {

using namespace spec_fixtures;
using V = json::Value;

// The fixtures' matmul, its k loop given a static_ranges entry (as a short
// loop would have one).  The tl.range knobs' entries: [the grid loop, the k loop].
ConfigSpec matmul() {
  ConfigSpec s = matmul_spec();
  s.flatten_allowed = {false};
  s.inner_loops[0].extent = 4096;
  s.inner_loops[0].block_size_index = 2;
  s.inner_loops[0].static_range_entry = 0;
  s.static_range_entries = 1;
  return s;
}

// A 2-D pointwise kernel that may be flattened: 2 loads, 1 store.
ConfigSpec pointwise_2d() {
  ConfigSpec s = matmul_spec();
  s.block_sizes.pop_back();
  for (auto& b : s.block_sizes) b.used_in_dot = false;
  s.kernels[0].dots.clear();
  s.kernels[0].has_dot = s.kernels[0].has_inner_loop = s.has_dot = false;
  s.kernels[0].subtile_block_size_index = -1;
  s.inner_loops.clear();
  s.flatten_allowed = {true};
  s.number_loop_entries();
  return s;
}

// A kernel over a 1-D grid (the fixtures' row softmax).
ConfigSpec one_dim_grid() { return softmax_spec(); }

V normalize(const ConfigSpec& spec, const std::string& config, const DeviceInfo& device = DeviceInfo{}) {
  V out = spec.normalize(json::parse(config), device);
  EXPECT_EQ(spec.normalize(out, device), out) << "normalizing twice changed " << json::dump(out);
  return out;
}

TEST(ConfigCanonical, StaticRangeDropsTheRangeKnobs) {
  V c = normalize(matmul(), R"({"block_sizes":[64,64,64],"static_ranges":[true],"range_unroll_factors":[0,2],
                               "range_num_stages":[0,3],"range_multi_buffers":[null,true],"range_flattens":[null,false],
                               "range_warp_specializes":[null,true]})");
  EXPECT_EQ(c.at("static_ranges"), json::parse("[true]"));
  EXPECT_EQ(c.at("range_unroll_factors"), json::parse("[0,0]"));
  EXPECT_EQ(c.at("range_num_stages"), json::parse("[0,0]"));
  EXPECT_EQ(c.at("range_multi_buffers"), json::parse("[null,null]"));
  EXPECT_EQ(c.at("range_flattens"), json::parse("[null,null]"));
  EXPECT_EQ(c.at("range_warp_specializes"), json::parse("[null,null]"));
  // Without the static range the knobs are honoured.
  V d = normalize(matmul(), R"({"block_sizes":[64,64,64],"range_unroll_factors":[0,2],"range_num_stages":[0,3]})");
  EXPECT_EQ(d.at("range_unroll_factors"), json::parse("[0,2]"));
  EXPECT_EQ(d.at("range_num_stages"), json::parse("[0,3]"));
}

TEST(ConfigCanonical, TheGridLoopsKnobsActUnderAPersistentPidTypeOnly) {
  // Entry 0 is the grid loop's: the loop over tiles of a persistent pid_type.
  const char* knobs = R"("range_unroll_factors":[2,0],"range_num_stages":[3],"range_multi_buffers":[false],
                         "range_flattens":[true])";
  V flat = normalize(matmul(), std::string("{") + knobs + "}");
  EXPECT_EQ(flat.at("range_unroll_factors"), json::parse("[0,0]"));
  EXPECT_EQ(flat.at("range_num_stages"), json::parse("[0,0]"));
  EXPECT_EQ(flat.at("range_multi_buffers"), json::parse("[null,null]"));
  EXPECT_EQ(flat.at("range_flattens"), json::parse("[null,null]"));
  for (const char* pid : {"persistent_blocked", "persistent_interleaved"}) {
    V p = normalize(matmul(), std::string("{\"pid_type\":\"") + pid + "\"," + knobs + "}");
    EXPECT_EQ(p.at("range_unroll_factors"), json::parse("[2,0]"));
    EXPECT_EQ(p.at("range_num_stages"), json::parse("[3,0]"));
    EXPECT_EQ(p.at("range_multi_buffers"), json::parse("[false,null]"));
    EXPECT_EQ(p.at("range_flattens"), json::parse("[true,null]"));
  }
}

TEST(ConfigCanonical, XyzOnAOneDimGridIsFlat) {
  EXPECT_EQ(normalize(one_dim_grid(), R"({"pid_type":"xyz"})").at("pid_type"), V("flat"));
  EXPECT_EQ(normalize(pointwise_2d(), R"({"pid_type":"xyz"})").at("pid_type"), V("xyz"));
  // A flattened grid is one index space: one program id axis either way.
  EXPECT_EQ(normalize(pointwise_2d(), R"({"pid_type":"xyz","flatten_loops":[true]})").at("pid_type"), V("flat"));
  // The other pid types are left alone.
  EXPECT_EQ(normalize(one_dim_grid(), R"({"pid_type":"persistent_blocked"})").at("pid_type"), V("persistent_blocked"));
}

TEST(ConfigCanonical, L2GroupingNeedsTwoDimsFromOneProgramId) {
  EXPECT_EQ(normalize(matmul(), R"({"l2_groupings":[8]})").at("l2_groupings"), json::parse("[8]"));
  EXPECT_EQ(normalize(matmul(), R"({"l2_groupings":[8],"pid_type":"xyz"})").at("l2_groupings"), json::parse("[1]"));
  // The default (8 with a dot) too: what runs is 1.
  EXPECT_EQ(normalize(matmul(), R"({"pid_type":"xyz"})").at("l2_groupings"), json::parse("[1]"));
  EXPECT_EQ(normalize(pointwise_2d(), R"({"l2_groupings":[4],"flatten_loops":[true]})").at("l2_groupings"),
            json::parse("[1]"));
  EXPECT_EQ(normalize(matmul(), R"({"l2_groupings":[4],"pid_type":"persistent_interleaved"})").at("l2_groupings"),
            json::parse("[4]"));
}

TEST(ConfigCanonical, FlattenedGridsAddressThroughPointers) {
  V c = normalize(pointwise_2d(), R"({"flatten_loops":[true],"indexing":"tensor_descriptor"})");
  EXPECT_EQ(c.at("indexing"), json::parse(R"(["pointer","pointer","pointer"])"));
  V d = normalize(pointwise_2d(), R"({"indexing":["block_ptr","tensor_descriptor","pointer"]})");
  EXPECT_EQ(d.at("indexing"), json::parse(R"(["block_ptr","tensor_descriptor","pointer"])"));
}

TEST(ConfigCanonical, TritonWithoutBlockPointersAddressesThroughPointers) {
  DeviceInfo triton39;
  triton39.triton_version = 309;
  V c = normalize(pointwise_2d(), R"({"indexing":["block_ptr","tensor_descriptor","block_ptr"]})", triton39);
  EXPECT_EQ(c.at("indexing"), json::parse(R"(["pointer","tensor_descriptor","pointer"])"));
  // Triton 3.8 still has them.
  DeviceInfo triton38;
  triton38.triton_version = 308;
  V d = normalize(pointwise_2d(), R"({"indexing":"block_ptr"})", triton38);
  EXPECT_EQ(d.at("indexing"), json::parse(R"(["block_ptr","block_ptr","block_ptr"])"));
}

TEST(ConfigCanonical, AnEvictionPolicyHlLoadGivesLeavesTheEntryNothingToChoose) {
  ConfigSpec s = one_dim_grid();
  s.num_loads = 2;
  s.loads_with_eviction_policy = {1};
  V c = normalize(s, R"({"load_eviction_policies":["first","last"]})");
  EXPECT_EQ(c.at("load_eviction_policies"), json::parse(R"(["first",""])"));
}

TEST(ConfigCanonical, WarpSpecializationTheTargetRulesOut) {
  const char* nan_stages =
      R"({"block_sizes":[64,64,64],"num_warps":4,"num_stages":3,"range_warp_specializes":[null,true]})";
  // Hopper: 4 warps and 3 stages compute NaNs (target.cc), so the loop runs without it.
  EXPECT_EQ(normalize(matmul(), nan_stages).at("range_warp_specializes"), json::parse("[null,null]"));
  EXPECT_EQ(normalize(matmul(), R"({"block_sizes":[64,64,64],"num_warps":8,"num_stages":3,
                                    "range_warp_specializes":[null,true]})")
                .at("range_warp_specializes"),
            json::parse("[null,true]"));
  // The loop's own stage count decides.
  EXPECT_EQ(normalize(matmul(), R"({"block_sizes":[64,64,64],"num_warps":4,"num_stages":3,"range_num_stages":[0,2],
                                    "range_warp_specializes":[null,true]})")
                .at("range_warp_specializes"),
            json::parse("[null,true]"));
  // Two loops in one kernel: Hopper's pass does not compile it.
  ConfigSpec two = matmul();
  two.inner_loops.push_back(two.inner_loops[0]);
  two.inner_loops[1].op_id = 9;
  two.number_loop_entries();
  V c = normalize(two, R"({"block_sizes":[64,64,64],"num_warps":8,"range_warp_specializes":[null,true,false]})");
  EXPECT_EQ(c.at("range_warp_specializes"), json::parse("[null,null,false]"));
  // The persistent loop over tiles around an inner loop is a second loop too.
  V p = normalize(matmul(), R"({"block_sizes":[64,64,64],"num_warps":8,"pid_type":"persistent_blocked",
                                "range_warp_specializes":[true,null]})");
  EXPECT_EQ(p.at("range_warp_specializes"), json::parse("[null,null]"));
  // Blackwell has none of these obstacles.
  DeviceInfo blackwell;
  blackwell.compute_capability = 100;
  EXPECT_EQ(normalize(matmul(), nan_stages, blackwell).at("range_warp_specializes"), json::parse("[null,true]"));
}

// Rejections name the key (the checks before canonicalization still run).
TEST(ConfigCanonical, RejectionsNameTheKey) {
  try {
    matmul().normalize(json::parse(R"({"flatten_loops":[true]})"), DeviceInfo{});
    FAIL() << "a matmul's grid cannot be flattened";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'flatten_loops'"), std::string::npos) << e.what();
  }
}

// Every config the search space produces normalizes to itself, and two
// points never stand for one config: the autotuner measures nothing twice.
void expect_space_is_canonical(const ConfigSpec& spec, const DeviceInfo& device) {
  tune::SearchSpace space(spec, device);
  tune::Rng rng(3);
  std::map<std::string, tune::Point> seen;
  tune::Point p = space.random_point(rng);
  for (int i = 0; i < 200; ++i) {
    tune::Point q = i % 2 ? space.mutate(p, rng, 2) : space.random_point(rng);
    V cfg;
    ASSERT_NO_THROW(cfg = space.decode(q));
    V again;
    ASSERT_NO_THROW(again = spec.normalize(cfg, device)) << json::dump(cfg);
    EXPECT_EQ(again, cfg);
    auto [it, fresh] = seen.emplace(json::dump(cfg), q);
    EXPECT_TRUE(fresh || it->second == q) << "two points normalize to " << json::dump(cfg);
    for (const auto& n : space.neighbors(q)) ASSERT_NO_THROW(spec.normalize(space.decode(n), device));
    p = q;
  }
}

TEST(ConfigCanonical, SearchSpaceSamplesNormalizeToThemselves) {
  expect_space_is_canonical(matmul(), DeviceInfo{});
  // A k loop of a fixed 64 steps: the space offers it as a static range.
  ConfigSpec fixed = matmul();
  fixed.inner_loops[0].fixed_block = 64;
  fixed.inner_loops[0].trip_count = 64;
  ConfigSpec no_static = matmul();
  no_static.inner_loops[0].static_range_entry = -1;
  no_static.static_range_entries = 0;
  expect_space_is_canonical(no_static, DeviceInfo{});
  expect_space_is_canonical(fixed, DeviceInfo{});
  expect_space_is_canonical(pointwise_2d(), DeviceInfo{});
  ConfigSpec evict = one_dim_grid();
  evict.loads_with_eviction_policy = {0};
  expect_space_is_canonical(evict, DeviceInfo{});
  DeviceInfo blackwell;
  blackwell.compute_capability = 100;
  expect_space_is_canonical(matmul(), blackwell);
  DeviceInfo triton39;
  triton39.triton_version = 309;
  expect_space_is_canonical(pointwise_2d(), triton39);
}

}  // namespace
}  // namespace deuteron
