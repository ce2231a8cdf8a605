// Search strategies on synthetic objectives: determinism, convergence, failure
// regions, presets, and the JSON session the Python driver uses.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <set>

#include "deuteron/tune.h"

namespace deuteron::tune {
namespace {

BlockSizeSpec dot_block(bool reduction_like, const char* origin) {
  BlockSizeSpec b;
  b.min = 16;
  b.max = 4096;
  b.extents = {SymInt(4096)};
  b.used_in_dot = true;
  b.is_reduction_like = reduction_like;
  b.origin = origin;
  return b;
}

ConfigSpec matmul_spec() {
  ConfigSpec s;
  s.block_sizes = {dot_block(false, "tile_m"), dot_block(false, "tile_n"), dot_block(true, "tile_k")};
  KernelSummary k;
  k.grid_block_sizes = {0, 1};
  k.grid_extents = {4096, 4096};
  k.max_element_bytes = 2;
  k.has_dot = true;
  k.has_inner_loop = true;
  s.kernels = {k};
  s.loop_order_sizes = {2};
  s.loop_order_kernels = {0};
  s.l2_grouping_kernels = {0};
  InnerLoopInfo loop;
  loop.contains_dot = true;
  loop.contains_loads = true;
  s.inner_loops = {loop};
  s.num_loads = 2;
  s.num_stores = 1;
  s.has_dot = true;
  s.max_grid_rank = 2;
  s.kernel_load_offset = {0};
  s.kernel_store_offset = {0};
  return s;
}

double log2v(const json::Value& v) { return std::log2(static_cast<double>(v.as_int())); }

// A smooth function of log2 block sizes, warps and stages with its optimum at
// 128 x 256 x 64, 8 warps, 4 stages, tensor descriptors for the loads and a
// persistent pid type (away from the default config), plus a region that fails
// (256 x 256 tiles: "out of resources") and a knob that fails with one value
// (warp specialization on: "compile error").
std::optional<double> objective(const json::Value& cfg) {
  const auto& bs = cfg.at("block_sizes");
  const double m = log2v(bs[0]), n = log2v(bs[1]), k = log2v(bs[2]);
  if (m >= 8 && n >= 8) return std::nullopt;
  const auto& ws = cfg.at("range_warp_specializes");
  if (ws.size() && ws[0].is_bool() && ws[0].as_bool()) return std::nullopt;
  double f = (m - 7) * (m - 7) + (n - 8) * (n - 8) + 0.7 * (k - 6) * (k - 6);
  f += 0.5 * std::pow(log2v(cfg.at("num_warps")) - 3, 2);
  f += 0.3 * std::pow(static_cast<double>(cfg.at("num_stages").as_int()) - 4, 2);
  if (cfg.at("indexing")[0].as_string() != "tensor_descriptor") f += 0.4;
  if (cfg.at("indexing")[1].as_string() != "tensor_descriptor") f += 0.4;
  if (cfg.at("l2_groupings")[0].as_int() < 4) f += 0.3;
  if (cfg.at("pid_type").as_string() == "persistent_interleaved") f -= 0.2;
  return 1e-3 * std::exp(0.1 * f);
}
constexpr double kOptimum = 1e-3 * 0.98019867330675525;  // exp(-0.02)

struct Outcome {
  double best = 0;
  int evaluations = 0;
  int generations = 0;
  std::vector<std::string> asked;
};

Outcome run(const std::string& strategy, const std::string& effort, uint64_t seed, int max_generations = -1) {
  SearchSession session(matmul_spec(), DeviceInfo{}, json::Value(), strategy, seed, effort,
                        max_generations > 0 ? std::optional<int>(max_generations) : std::nullopt);
  Outcome o;
  while (!session.finished()) {
    auto batch = session.ask();
    if (batch.empty()) break;
    for (const auto& cfg : batch) {
      o.asked.push_back(json::dump(cfg));
      session.tell(cfg, objective(cfg));
    }
  }
  auto b = session.best();
  o.best = b ? b->second : 1e9;
  o.evaluations = session.evaluations();
  o.generations = session.generation();
  return o;
}

TEST(TuneStrategies, SameSeedSameSequence) {
  for (const auto& name : strategy_names()) {
    Outcome a = run(name, "quick", 123), b = run(name, "quick", 123), c = run(name, "quick", 124);
    EXPECT_EQ(a.asked, b.asked) << name;
    EXPECT_EQ(a.best, b.best) << name;
    EXPECT_NE(a.asked, c.asked) << name;
  }
}

TEST(TuneStrategies, NeverAskTwiceAndStartWithTheDefault) {
  SearchSpace space(matmul_spec(), DeviceInfo{});
  const std::string dflt = json::dump(space.default_config());
  for (const auto& name : strategy_names()) {
    Outcome o = run(name, "full", 5);
    ASSERT_FALSE(o.asked.empty());
    EXPECT_EQ(o.asked[0], dflt) << name;
    std::set<std::string> unique(o.asked.begin(), o.asked.end());
    EXPECT_EQ(unique.size(), o.asked.size()) << name;
  }
}

TEST(TuneStrategies, PresetsBoundTheSearch) {
  for (const auto& name : strategy_names()) {
    Outcome q = run(name, "quick", 1);
    EXPECT_LE(q.evaluations, EffortPreset::named("quick").max_evaluations) << name;
    EXPECT_LE(q.generations, EffortPreset::named("quick").max_generations) << name;
    Outcome g = run(name, "full", 1, 2);
    EXPECT_LE(g.generations, 2) << name;
  }
  EXPECT_THROW(EffortPreset::named("none"), std::invalid_argument);
  EXPECT_THROW(make_strategy("annealing", SearchSpace(matmul_spec(), DeviceInfo{}), 0, EffortPreset::named("quick")),
               std::invalid_argument);
}

// Every strategy beats the default config; the model-guided ones get close to the optimum.
TEST(TuneStrategies, ConvergeOnSyntheticObjective) {
  SearchSpace space(matmul_spec(), DeviceInfo{});
  const double dflt = objective(space.default_config()).value();
  std::printf("default config: %.4f ms (optimum %.4f ms)\n", dflt * 1e3, kOptimum * 1e3);
  for (const auto& effort : {"quick", "full"}) {
    for (const auto& name : strategy_names()) {
      std::vector<double> ratios;
      double evals = 0;
      for (uint64_t seed = 1; seed <= 8; ++seed) {
        Outcome o = run(name, effort, seed);
        ratios.push_back(o.best / kOptimum);
        evals += o.evaluations;
      }
      std::sort(ratios.begin(), ratios.end());
      const double median = (ratios[3] + ratios[4]) / 2;
      std::printf("%-6s %-10s median best/optimum %.4f  worst %.4f  mean evaluations %.0f\n", effort, name.c_str(),
                  median, ratios.back(), evals / 8);
      EXPECT_LE(ratios.back() * kOptimum, dflt) << name;
      if (name != "random") EXPECT_LT(median * kOptimum, dflt) << name;
      if (name != "random") EXPECT_LT(median, std::string(effort) == "full" ? 1.05 : 1.10) << effort << " " << name;
    }
  }
}

TEST(TuneStrategies, FailuresAreNotBest) {
  for (const auto& name : strategy_names()) {
    SearchSession session(matmul_spec(), DeviceInfo{}, json::Value(), name, 9, "quick", std::nullopt);
    while (!session.finished()) {
      auto batch = session.ask();
      if (batch.empty()) break;
      for (const auto& cfg : batch) session.tell(cfg, objective(cfg));
    }
    auto b = session.best();
    ASSERT_TRUE(b.has_value());
    EXPECT_TRUE(objective(b->first).has_value());
  }
}

TEST(TuneStrategies, AllFailuresFinishWithoutBest) {
  SearchSession session(matmul_spec(), DeviceInfo{}, json::Value(), "surrogate", 3, "quick", std::nullopt);
  int asked = 0;
  while (!session.finished()) {
    auto batch = session.ask();
    if (batch.empty()) break;
    for (const auto& cfg : batch) {
      session.tell(cfg, std::nullopt);
      ++asked;
    }
  }
  EXPECT_FALSE(session.best().has_value());
  EXPECT_GT(asked, 0);
  EXPECT_LE(asked, EffortPreset::named("quick").max_evaluations);
}

TEST(TuneStrategies, TellAcceptsConfigsFromElsewhere) {
  SearchSession session(matmul_spec(), DeviceInfo{}, json::Value(), "pattern", 3, "quick", std::nullopt);
  // A partial user config is normalized and encoded.
  json::Value user = json::parse(R"({"block_sizes": [128, 128, 64], "num_warps": 8, "num_stages": 3})");
  session.tell(user, 1e-4);
  auto b = session.best();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->first.at("block_sizes"), json::parse("[128,128,64]"));
  EXPECT_EQ(b->second, 1e-4);
  // ... and it is never asked again.
  for (int g = 0; g < 3; ++g)
    for (const auto& cfg : session.ask()) EXPECT_NE(cfg, b->first);
}

TEST(TuneStrategies, PatienceStopsAFlatSearch) {
  SearchSession session(matmul_spec(), DeviceInfo{}, json::Value(), "random", 3, "full", std::nullopt);
  int generations = 0;
  while (!session.finished()) {
    auto batch = session.ask();
    if (batch.empty()) break;
    ++generations;
    for (const auto& cfg : batch) session.tell(cfg, 1e-3);  // every config equally fast
  }
  EXPECT_LE(generations, EffortPreset::named("full").patience + 2);
}

}  // namespace
}  // namespace deuteron::tune
