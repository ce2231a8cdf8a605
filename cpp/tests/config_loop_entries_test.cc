// The per-loop keys have Helion's entries (config.h, ConfigSpec): Helion's
// bookkeeping of them (LoopEntryList, config/loop_entries.cc), and what the
// normalizer does with a list of another length: a shorter one is completed
// with defaults and nested lists are flattened, as Helion does; a longer one
// is an error that says what the entries are.
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
  s.number_loop_entries();
  return s;
}

TEST(LoopEntryList, ALoopReadsTheLastEntryOfItsBlockKey) {
  LoopEntryList l;
  l.add({0});
  l.add({1, 2});
  l.add({3});
  EXPECT_EQ(l.lookup(0), 0);
  EXPECT_EQ(l.lookup(2), 1);
  EXPECT_EQ(l.lookup(4), -1);
  l.remove_duplicates();
  EXPECT_EQ(l.size(), 3u);
}

TEST(LoopEntryList, LoopsSharingABlockSizeShareOneEntry) {
  // Two k loops over one hl.register_block_size: Helion keeps the later entry.
  LoopEntryList l;
  l.add({7});  // the grid loop
  l.add({2});  // first k loop
  l.add({2});  // second k loop
  l.remove_duplicates();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l.lookup(2), 1);
  EXPECT_EQ(l.lookup(7), 0);
}

TEST(LoopEntryList, EntriesOfDifferentRanksOnOneBlockSizeAreBothDropped) {
  LoopEntryList l;
  l.add({0, 1});
  l.add({5});
  l.add({0});
  l.remove_duplicates();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l.lookup(5), 0);
  EXPECT_EQ(l.lookup(0), -1);
}

TEST(LoopEntryList, DisableDropsEveryEntryHoldingTheKey) {
  LoopEntryList l;
  l.add({0, 1});
  l.add({2, 3});
  l.disable(1);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l.keys(0), (std::vector<int64_t>{2, 3}));
}

TEST(ConfigLoopEntries, TheRangeKnobsHaveAGridLoopEntryBeforeTheInnerLoops) {
  // The matmul's entries: [grid loop, k loop]; the grid's acts on a persistent loop over tiles.
  const ConfigSpec s = matmul_spec();
  EXPECT_EQ(s.entries(Per::RangeLoop), 2u);
  V c = normalize(s, R"({"block_sizes":[64,64,32],"pid_type":"persistent_blocked","range_unroll_factors":[2,4],
                         "range_num_stages":[3,2]})");
  EXPECT_EQ(c.at("range_unroll_factors"), json::parse("[2,4]"));
  EXPECT_EQ(c.at("range_num_stages"), json::parse("[3,2]"));
  // Each kernel's grid loop entry comes before its inner loops.
  V two = normalize(two_matmuls(), R"({"block_sizes":[64,64,32],"pid_type":"persistent_interleaved",
                                       "range_unroll_factors":[1,2,3,4]})");
  EXPECT_EQ(two.at("range_unroll_factors"), json::parse("[1,2,3,4]"));
}

TEST(ConfigLoopEntries, AShortListIsCompletedWithDefaults) {
  V c = normalize(matmul_spec(), R"({"block_sizes":[64,64,32],"range_warp_specializes":[],"range_flattens":[true],
                                     "loop_orders":[],"l2_groupings":[]})");
  EXPECT_EQ(c.at("range_warp_specializes"), json::parse("[null,null]"));
  EXPECT_EQ(c.at("loop_orders"), json::parse("[[0,1]]"));
  EXPECT_EQ(c.at("l2_groupings"), json::parse("[8]"));
  // A kernel that reads fewer eviction policies than it has loads (Helion's per-load lists too).
  V e = normalize(matmul_spec(), R"({"block_sizes":[64,64,32],"load_eviction_policies":["first"]})");
  EXPECT_EQ(e.at("load_eviction_policies"), json::parse(R"(["first",""])"));
  // block_sizes and indexing are not completed (Helion requires them whole).
  std::string err = error(matmul_spec(), R"({"block_sizes":[64,64]})");
  EXPECT_NE(err.find("Not enough values"), std::string::npos) << err;
  err = error(matmul_spec(), R"({"block_sizes":[64,64,32],"indexing":["pointer"]})");
  EXPECT_NE(err.find("'indexing'"), std::string::npos) << err;
}

TEST(ConfigLoopEntries, ALongerListSaysWhatTheEntriesAre) {
  std::string e = error(matmul_spec(), R"({"block_sizes":[64,64,32],"range_unroll_factors":[0,0,0]})");
  EXPECT_NE(e.find("config key 'range_unroll_factors': expected at most 2 entries, got 3"), std::string::npos) << e;
  EXPECT_NE(e.find("grid loop"), std::string::npos) << e;
  e = error(matmul_spec(), R"({"block_sizes":[64,64,32],"static_ranges":[false]})");
  EXPECT_NE(e.find("config key 'static_ranges': expected at most 0 entries, got 1"), std::string::npos) << e;
  e = error(softmax_spec(), R"({"loop_orders":[[1,0,2]]})");
  EXPECT_NE(e.find("config key 'loop_orders': expected at most 0 permutation(s)"), std::string::npos) << e;
}

TEST(ConfigLoopEntries, NestedListsAreFlattened) {
  // Helion's l2_grouping=[2, 4] (a singular key given a list) stands for l2_groupings=[2, 4].
  const ConfigSpec s = two_matmuls();
  EXPECT_EQ(normalize(s, R"({"block_sizes":[[64,64],[32]],"l2_groupings":[[2,4]]})").at("l2_groupings"),
            json::parse("[2,4]"));
  // loop_orders entries are lists themselves: not flattened.
  EXPECT_EQ(normalize(s, R"({"block_sizes":[64,64,32],"loop_orders":[[1,0]]})").at("loop_orders"),
            json::parse("[[1,0],[0,1]]"));
}

TEST(ConfigLoopEntries, NoRangeNumStagesWhereTheKernelReadsAndWritesAnArgument) {
  ConfigSpec s = matmul_spec();
  s.range_num_stages_off = true;
  EXPECT_EQ(s.entries(Per::PipelinedLoop), 0u);
  EXPECT_EQ(s.entries(Per::RangeLoop), 2u);
  V c = normalize(s, R"({"block_sizes":[64,64,32],"range_unroll_factors":[0,2]})");
  EXPECT_EQ(c.at("range_num_stages"), json::parse("[]"));
  std::string e = error(s, R"({"block_sizes":[64,64,32],"range_num_stages":[0,2]})");
  EXPECT_NE(e.find("reads and writes"), std::string::npos) << e;
}

TEST(ConfigLoopEntries, NumSmMultiplierNeedsAPersistentPidType) {
  const ConfigSpec s = softmax_spec();
  for (const char* pid : {"flat", "xyz"}) {
    std::string e = error(s, std::string(R"({"num_sm_multiplier":2,"pid_type":")") + pid + "\"}");
    EXPECT_NE(e.find("num_sm_multiplier=2 can only be used with persistent pid_type"), std::string::npos) << e;
    EXPECT_NE(e.find(std::string("got pid_type='") + pid + "'"), std::string::npos) << e;
  }
  EXPECT_EQ(normalize(s, R"({"num_sm_multiplier":1})").at("num_sm_multiplier"), V(1));
  EXPECT_EQ(normalize(s, R"({"num_sm_multiplier":4,"pid_type":"persistent_interleaved"})").at("num_sm_multiplier"), V(4));
}

TEST(ConfigLoopEntries, EveryGridOfTwoDimsHasItsOwnGrouping) {
  const ConfigSpec s = two_matmuls();
  EXPECT_EQ(normalize(s, R"({"block_sizes":[64,64,32],"l2_groupings":[1,4]})").at("l2_groupings"), json::parse("[1,4]"));
  std::string e = error(s, R"({"block_sizes":[64,64,32],"l2_groupings":[3]})");
  EXPECT_NE(e.find("'l2_groupings'"), std::string::npos) << e;
}

}  // namespace
}  // namespace deuteron
