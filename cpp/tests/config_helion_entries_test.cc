// Helion's entry counts of the per-loop keys normalize to deuteron's
// (helion_entries.cc): a tl.range knob entry for each grid loop, no entries
// for a knob Triton lacks, an l2_groupings entry for each grid of 2+ dims.
#include <gtest/gtest.h>

#include "deuteron/config.h"
#include "spec_fixtures.h"

namespace deuteron {
namespace {

using namespace spec_fixtures;
using V = json::Value;

V normalize(const ConfigSpec& spec, const std::string& config) {
  return spec.normalize(json::parse(config), DeviceInfo{});
}

// The ConfigError's message for `config`, or "" when it normalizes.
std::string error(const ConfigSpec& spec, const std::string& config) {
  try {
    normalize(spec, config);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// The fixtures' matmul twice: two kernels, each with its k loop.
ConfigSpec two_matmuls() {
  ConfigSpec s = matmul_spec();
  s.kernels.push_back(s.kernels[0]);
  InnerLoopInfo second = s.inner_loops[0];
  second.kernel = 1;
  second.op_id = 9;
  s.inner_loops.push_back(second);
  s.loop_order_sizes = {2, 2};
  s.loop_order_kernels = {0, 1};
  s.l2_grouping_kernels = {0, 1};
  s.flatten_allowed = {false, false};
  s.kernel_load_offset = {0, 2};
  s.kernel_store_offset = {0, 1};
  s.num_loads = 4;
  s.num_stores = 2;
  return s;
}

// A pointwise kernel over a 3-D hl.grid: one loop_orders entry and one l2_groupings entry.
ConfigSpec grid_3d() {
  ConfigSpec s = matmul_spec();
  s.block_sizes.clear();
  KernelSummary& k = s.kernels[0];
  k.grid_block_sizes = {-1, -1, -1};
  k.grid_extents = {16, 32, 64};
  k.dots.clear();
  k.has_dot = k.has_inner_loop = s.has_dot = false;
  k.subtile_block_size_index = -1;
  s.inner_loops.clear();
  s.loop_order_sizes = {3};
  s.flatten_allowed = {false};
  s.l2_grouping_kernels = {0};
  s.max_grid_rank = 3;
  return s;
}

TEST(ConfigHelionEntries, GridLoopEntriesOfTheRangeKnobsAreDropped) {
  const ConfigSpec s = matmul_spec();
  V helion = normalize(s, R"({"block_sizes":[64,64,32],"range_unroll_factors":[0,2],"range_num_stages":[0,3],
                              "range_multi_buffers":[null,false],"range_flattens":[null,true]})");
  V own = normalize(s, R"({"block_sizes":[64,64,32],"range_unroll_factors":[2],"range_num_stages":[3],
                           "range_multi_buffers":[false],"range_flattens":[true]})");
  EXPECT_EQ(helion, own);
  EXPECT_EQ(helion.at("range_unroll_factors"), json::parse("[2]"));
  EXPECT_EQ(helion.at("range_num_stages"), json::parse("[3]"));
}

TEST(ConfigHelionEntries, EachKernelsGridEntryComesBeforeItsLoops) {
  V c = normalize(two_matmuls(), R"({"block_sizes":[64,64,32],"range_unroll_factors":[0,2,0,3]})");
  EXPECT_EQ(c.at("range_unroll_factors"), json::parse("[2,3]"));
}

TEST(ConfigHelionEntries, GridEntryActsOnNothingWithoutAPersistentGrid) {
  // Helion reads the grid loop's entry only when pid_type makes the grid a loop.
  V c = normalize(matmul_spec(), R"({"block_sizes":[64,64,32],"range_num_stages":[4,2]})");
  EXPECT_EQ(c.at("range_num_stages"), json::parse("[2]"));
}

TEST(ConfigHelionEntries, PersistentGridEntryMustBeTheDefault) {
  const ConfigSpec s = matmul_spec();
  std::string e = error(s, R"({"block_sizes":[64,64,32],"pid_type":"persistent_blocked","range_num_stages":[4,2]})");
  EXPECT_NE(e.find("config key 'range_num_stages': entry 0 is 4"), std::string::npos) << e;
  EXPECT_NE(e.find("grid loop of kernel 0"), std::string::npos) << e;
  V c = normalize(s, R"({"block_sizes":[64,64,32],"pid_type":"persistent_blocked","range_num_stages":[0,2]})");
  EXPECT_EQ(c.at("range_num_stages"), json::parse("[2]"));
}

TEST(ConfigHelionEntries, EmptyKnobListMeansEveryDefault) {
  // Helion has no range_warp_specializes entries where tl.range lacks the argument.
  V c = normalize(matmul_spec(), R"({"block_sizes":[64,64,32],"range_warp_specializes":[],"range_flattens":[]})");
  EXPECT_EQ(c.at("range_warp_specializes"), json::parse("[null]"));
  EXPECT_EQ(c.at("range_flattens"), json::parse("[null]"));
}

TEST(ConfigHelionEntries, OtherLengthsAreStillRejected) {
  std::string e = error(matmul_spec(), R"({"block_sizes":[64,64,32],"range_unroll_factors":[0,0,0]})");
  EXPECT_NE(e.find("config key 'range_unroll_factors': expected 1 entry, got 3"), std::string::npos) << e;
  // static_ranges has no grid entry in Helion either.
  e = error(matmul_spec(), R"({"block_sizes":[64,64,32],"static_ranges":[false,false]})");
  EXPECT_NE(e.find("config key 'static_ranges': expected 1 entry, got 2"), std::string::npos) << e;
}

TEST(ConfigHelionEntries, HlGridTakesAnL2Grouping) {
  // Grouping reorders program ids over any two grid dims: hl.grid indices too.
  const ConfigSpec s = grid_3d();
  EXPECT_EQ(normalize(s, "{}").at("l2_groupings"), json::parse("[1]"));
  EXPECT_EQ(normalize(s, R"({"l2_groupings":[4]})").at("l2_groupings"), json::parse("[4]"));
  std::string e = error(s, R"({"l2_groupings":[3]})");
  EXPECT_NE(e.find("'l2_groupings'"), std::string::npos) << e;
}

TEST(ConfigHelionEntries, EveryGridOfTwoDimsHasItsOwnGrouping) {
  const ConfigSpec s = two_matmuls();
  EXPECT_EQ(normalize(s, R"({"block_sizes":[64,64,32],"l2_groupings":[1,4]})").at("l2_groupings"), json::parse("[1,4]"));
  std::string e = error(s, R"({"block_sizes":[64,64,32],"l2_groupings":[4]})");
  EXPECT_NE(e.find("'l2_groupings'"), std::string::npos) << e;
}

TEST(ConfigHelionEntries, DeviceLoopOrdersAreRejectedByName) {
  // Helion's entries for hl.tile([b, c, d]) inside a 1-D grid: deuteron has none.
  const ConfigSpec s = softmax_spec();
  std::string e = error(s, R"({"loop_orders":[[1,0,2]]})");
  EXPECT_NE(e.find("config key 'loop_orders': expected 0 permutation(s)"), std::string::npos) << e;
  EXPECT_NE(e.find("device loop"), std::string::npos) << e;
  e = error(s, R"({"flatten_loops":[true]})");
  EXPECT_NE(e.find("config key 'flatten_loops': expected 0 entries, got 1"), std::string::npos) << e;
  EXPECT_NE(e.find("device loop"), std::string::npos) << e;
}

}  // namespace
}  // namespace deuteron
