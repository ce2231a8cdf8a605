// The autotuner's search space: every config it produces is valid, sampling
// is deterministic, encode/decode round-trip, the constraint model holds, and
// the JSON form of a ConfigSpec is lossless.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "deuteron/compiler.h"
#include "deuteron/tune.h"
#include "spec_fixtures.h"

namespace deuteron::tune {
namespace {

using namespace spec_fixtures;


// Sets the named parameters of a point to the given values.
void set_params(const SearchSpace& space, Point& p, const std::vector<std::pair<std::string, json::Value>>& values) {
  for (const auto& [name, v] : values)
    for (size_t i = 0; i < space.size(); ++i)
      if (space.params()[i].name == name) {
        const auto& ch = space.params()[i].choices;
        p[i] = static_cast<int>(std::find(ch.begin(), ch.end(), v) - ch.begin());
        ASSERT_LT(p[i], static_cast<int>(ch.size())) << name << " " << json::dump(v);
      }
}

TEST(TuneRng, DeterministicAndBounded) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next(), b.next());
  EXPECT_NE(Rng(42).next(), c.next());
  // Known first value of SplitMix64 from seed 0 (the reference implementation's output).
  EXPECT_EQ(Rng(0).next(), 0xE220A8397B1DCDAFull);
  Rng r(7);
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 50000; ++i) {
    uint64_t v = r.below(5);
    ASSERT_LT(v, 5u);
    ++counts[v];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 600);
  for (int i = 0; i < 1000; ++i) {
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(TuneSearchSpace, MatmulParameters) {
  SearchSpace space(matmul_spec(), h100());
  std::set<std::string> names;
  for (const auto& p : space.params()) names.insert(p.name);
  for (const char* n : {"block_sizes[0]", "block_sizes[1]", "block_sizes[2]", "loop_orders[0]", "l2_groupings[0]",
                        "num_warps", "num_stages", "pid_type", "indexing[0]", "indexing[2]",
                        "load_eviction_policies[1]", "range_num_stages[1]",
                        // the grid loop's entry: the loop over tiles of a persistent pid_type
                        "range_num_stages[0]", "range_unroll_factors[0]"})
    EXPECT_TRUE(names.count(n)) << n;
  // Searched on Blackwell only (no gain on Hopper, see search_space.cc).
  EXPECT_FALSE(names.count("range_warp_specializes[1]"));
  DeviceInfo blackwell = h100();
  blackwell.compute_capability = 100;
  bool found = false;
  SearchSpace on_blackwell(matmul_spec(), blackwell);
  for (const auto& p : on_blackwell.params()) found = found || p.name == "range_warp_specializes[1]";
  EXPECT_TRUE(found);
  for (const auto& p : space.params()) {
    if (p.name == "num_warps") {
      EXPECT_EQ(p.choices.front(), json::Value(2));
      EXPECT_EQ(p.choices.back(), json::Value(16));
    }
    if (p.name.rfind("block_sizes", 0) == 0) {
      EXPECT_EQ(p.choices.front(), json::Value(16));  // min of a dot block
      EXPECT_EQ(p.choices.back(), json::Value(256));
    }
    if (p.key == "indexing")
      for (const auto& c : p.choices) EXPECT_NE(c, json::Value("block_ptr"));
  }
  // The default point decodes to the default config.
  EXPECT_EQ(space.decode(space.default_point()), space.default_config());
}

TEST(TuneSearchSpace, BlockPointersOnlyWhereTritonHasThem) {
  SpaceOptions allow;
  allow.allow_block_ptr = true;
  auto offers_block_ptr = [&](const DeviceInfo& d) {
    for (const auto& p : SearchSpace(matmul_spec(), d, allow).params())
      if (p.key == "indexing")
        for (const auto& c : p.choices)
          if (c == json::Value("block_ptr")) return true;
    return false;
  };
  EXPECT_TRUE(offers_block_ptr(h100()));
  DeviceInfo triton39 = h100();
  triton39.triton_version = 309;  // Triton 3.9 removed tl.make_block_ptr
  EXPECT_FALSE(offers_block_ptr(triton39));
}

TEST(TuneSearchSpace, SubtilesNeedSixteenRowsPerSubtile) {
  SearchSpace space(matmul_spec(), h100());
  Point p = space.default_point();
  set_params(space, p, {{"block_sizes[0]", json::Value(16)}, {"subtiles", json::Value(2)}});
  space.canonicalize(p);
  EXPECT_EQ(space.decode(p).at("subtiles"), json::Value(1));
  set_params(space, p, {{"block_sizes[0]", json::Value(64)}, {"subtiles", json::Value(2)}});
  space.canonicalize(p);
  EXPECT_EQ(space.decode(p).at("subtiles"), json::Value(2));
  // Off the GPU there is nothing to gain: the key is not searched.
  DeviceInfo cpu;
  cpu.is_cuda = false;
  for (const auto& par : SearchSpace(matmul_spec(), cpu).params()) EXPECT_NE(par.name, "subtiles");
}

TEST(TuneSearchSpace, SoftmaxParametersAndCpuDevice) {
  DeviceInfo cpu;
  cpu.is_cuda = false;
  SearchSpace space(softmax_spec(), cpu);
  const Param* red = nullptr;
  for (const auto& p : space.params()) {
    if (p.name == "reduction_loops[0]") red = &p;
    if (p.key == "indexing") ADD_FAILURE() << "no tensor descriptors without CUDA, so indexing has one choice";
    if (p.name == "num_stages") ADD_FAILURE() << "num_stages does not matter without loops or dots";
  }
  ASSERT_NE(red, nullptr);
  EXPECT_TRUE(red->choices.back().is_null());  // persistent reduction
  EXPECT_EQ(red->choices.front(), json::Value(int64_t{64}));
  EXPECT_EQ(red->choices[red->choices.size() - 2], json::Value(int64_t{8192}));
  bool enum_tunable = false;
  for (const auto& p : space.params())
    if (p.name == "unroll") {
      enum_tunable = true;
      EXPECT_EQ(p.choices.size(), 3u);
      EXPECT_EQ(p.choices[p.default_choice], json::Value(int64_t{5}));
    }
  EXPECT_TRUE(enum_tunable);
}

void expect_all_valid(const SearchSpace& space, uint64_t seed, int rounds) {
  Rng rng(seed);
  Point p = space.default_point();
  Point other = space.random_point(rng);
  for (int i = 0; i < rounds; ++i) {
    Point q;
    switch (i % 4) {
      case 0: q = space.mutate(p, rng, 1 + i % 3); break;
      case 1: q = space.random_point(rng); break;
      case 2: q = space.crossover(p, other, rng); break;
      default: {
        auto nb = space.neighbors(p);
        ASSERT_FALSE(nb.empty());
        q = nb[rng.below(nb.size())];
      }
    }
    ASSERT_EQ(q.size(), space.size());
    for (size_t j = 0; j < q.size(); ++j) {
      ASSERT_GE(q[j], 0);
      ASSERT_LT(q[j], static_cast<int>(space.params()[j].choices.size()));
    }
    json::Value cfg;
    ASSERT_NO_THROW(cfg = space.decode(q)) << point_key(q);
    // decode() already normalizes; a second normalize is the identity.
    ASSERT_EQ(space.spec().normalize(cfg, space.device()), cfg);
    // Encoding the config gives back the (canonical) point.
    Point back = space.encode(cfg);
    Point canon = q;
    space.canonicalize(canon);
    ASSERT_EQ(back, canon) << json::dump(cfg);
    other = p;
    p = q;
  }
}

TEST(TuneSearchSpace, ThousandsOfMutationsStayValid) {
  expect_all_valid(SearchSpace(matmul_spec(), h100()), 1, 3000);
  DeviceInfo cpu;
  cpu.is_cuda = false;
  expect_all_valid(SearchSpace(softmax_spec(), cpu), 2, 3000);
}

TEST(TuneSearchSpace, RandomPointsAreFeasibleAndDeterministic) {
  SearchSpace space(matmul_spec(), h100());
  Rng a(5), b(5);
  for (int i = 0; i < 500; ++i) {
    Point p = space.random_point(a);
    EXPECT_EQ(p, space.random_point(b));
    EXPECT_TRUE(space.feasible(p)) << json::dump(space.decode(p));
    for (const auto& e : space.estimate(p)) {
      EXPECT_LE(e.acc_elements / e.threads, 192);
      EXPECT_LE(e.shared_bytes, 227 * 1024);
    }
  }
}

TEST(TuneSearchSpace, ConstraintModel) {
  SearchSpace space(softmax_spec(), h100());
  Point p = space.default_point();
  auto set = [&](const std::string& name, const json::Value& v) {
    for (size_t i = 0; i < space.size(); ++i)
      if (space.params()[i].name == name) {
        const auto& ch = space.params()[i].choices;
        p[i] = static_cast<int>(std::find(ch.begin(), ch.end(), v) - ch.begin());
        ASSERT_LT(p[i], static_cast<int>(ch.size())) << name << " " << json::dump(v);
      }
  };
  // 64 rows x 16384 persistent = 2^20 elements over 64 threads: too many per thread.
  set("block_sizes[0]", json::Value(64));
  set("reduction_loops[0]", json::Value());
  set("num_warps", json::Value(2));
  EXPECT_FALSE(space.feasible(p));
  // Looping the reduction in chunks of 256 makes it fit.
  set("reduction_loops[0]", json::Value(256));
  EXPECT_TRUE(space.feasible(p));
  // One row, persistent, 8 warps: 64 elements per thread.
  set("block_sizes[0]", json::Value(1));
  set("reduction_loops[0]", json::Value());
  set("num_warps", json::Value(8));
  EXPECT_TRUE(space.feasible(p));
  auto est = space.estimate(p);
  ASSERT_EQ(est.size(), 1u);
  EXPECT_DOUBLE_EQ(est[0].tile_elements, 16384);
  EXPECT_DOUBLE_EQ(est[0].threads, 256);
}

TEST(TuneSearchSpace, AttentionConstraintsCountBothDotsAndPipelinedOperands) {
  SearchSpace space(attention_spec(), h100());
  Point p = space.default_point();
  using V = json::Value;
  // 128 x 128 blocks, 8 warps, 3 stages: scores and output 128 x 128 fp32 each
  // (128 per thread); q once plus 3 stages of k and v = 224 KB of shared memory.
  set_params(space, p, {{"block_sizes[0]", V(1)}, {"block_sizes[1]", V(128)}, {"block_sizes[2]", V(128)},
                        {"num_warps", V(8)}, {"num_stages", V(3)}});
  ASSERT_TRUE(space.feasible(p));
  auto e = space.estimate(p).at(0);
  EXPECT_EQ(e.acc_elements, 2 * 128 * 128);
  EXPECT_EQ(e.shared_bytes, (128 * 128 + 3 * 2 * 128 * 128) * 2);
  // A fourth stage does not fit, whether it comes from num_stages or from the
  // key loop's own range_num_stages.
  set_params(space, p, {{"num_stages", V(4)}});
  EXPECT_FALSE(space.feasible(p));
  set_params(space, p, {{"num_stages", V(1)}, {"range_num_stages[1]", V(4)}});
  EXPECT_FALSE(space.feasible(p));
  set_params(space, p, {{"range_num_stages[1]", V(3)}});
  EXPECT_TRUE(space.feasible(p));
  set_params(space, p, {{"range_num_stages[1]", V(0)}});
  // Two heads per program double every tile: the grid tile alone (256) says
  // nothing about the 128-wide head dim the accumulator also spans.
  set_params(space, p, {{"num_stages", V(1)}, {"block_sizes[0]", V(2)}});
  EXPECT_FALSE(space.feasible(p));
  // 64 x 64 blocks with 4 warps fit easily.
  set_params(space, p, {{"block_sizes[0]", V(1)}, {"block_sizes[1]", V(64)}, {"block_sizes[2]", V(64)},
                        {"num_warps", V(4)}, {"num_stages", V(3)}});
  EXPECT_TRUE(space.feasible(p));
  // Whatever the search draws respects both limits.
  Rng rng(3);
  for (int i = 0; i < 300; ++i) {
    Point q = space.random_point(rng);
    ASSERT_TRUE(space.feasible(q));
    for (const auto& est : space.estimate(q)) {
      EXPECT_LE(est.acc_elements / est.threads, 192);
      EXPECT_LE(est.shared_bytes, 227 * 1024);
    }
  }
}

TEST(TuneSearchSpace, DotsOfSequentialLoopsAreNotLiveTogether) {
  // Causal attention: the unmasked key loop, then the diagonal block's loop,
  // each with its own block size and the same q (one buffer).
  ConfigSpec spec = attention_spec();
  spec.block_sizes.push_back(spec.block_sizes[2]);
  KernelSummary& k = spec.kernels[0];
  for (auto& d : k.dots) {
    d.loop = 9;
    if (d.a.source == Source::LoadedOnce) d.a.load = 3;
  }
  for (DotSummary d : std::vector<DotSummary>(k.dots)) {
    d.loop = 31;
    for (auto* axes : {&d.result, &d.a.axes, &d.b.axes})
      for (auto& a : *axes)
        if (a.block_size_index == 2) a.block_size_index = 3;
    k.dots.push_back(d);
  }
  InnerLoopInfo second = spec.inner_loops[0];
  second.op_id = 31;
  second.block_size_index = 3;
  spec.inner_loops.push_back(second);
  SearchSpace space(spec, h100());
  Point p = space.default_point();
  using V = json::Value;
  set_params(space, p, {{"block_sizes[0]", V(1)}, {"block_sizes[1]", V(128)}, {"block_sizes[2]", V(128)},
                        {"block_sizes[3]", V(64)}, {"num_warps", V(8)}, {"num_stages", V(3)}});
  ASSERT_TRUE(space.feasible(p));
  auto e = space.estimate(p).at(0);
  EXPECT_EQ(e.acc_elements, 2 * 128 * 128);                          // the larger loop
  EXPECT_EQ(e.shared_bytes, (128 * 128 + 3 * 2 * 128 * 128) * 2);    // q once + the larger loop's k, v
}

TEST(TuneSearchSpace, CanonicalizeDropsIrrelevantKnobs) {
  SearchSpace space(matmul_spec(), h100());
  int pid = -1, mult = -1;
  for (size_t i = 0; i < space.size(); ++i) {
    if (space.params()[i].name == "pid_type") pid = static_cast<int>(i);
    if (space.params()[i].name == "num_sm_multiplier") mult = static_cast<int>(i);
  }
  ASSERT_GE(pid, 0);
  ASSERT_GE(mult, 0);
  Point p = space.default_point();
  p[mult] = 2;  // a multiplier with the flat pid type means nothing
  space.canonicalize(p);
  EXPECT_EQ(p[mult], space.params()[mult].default_choice);
  p[pid] = 2;  // persistent_blocked
  p[mult] = 2;
  space.canonicalize(p);
  EXPECT_EQ(p[mult], 2);
  EXPECT_EQ(space.decode(p).at("num_sm_multiplier"), json::Value(4));
}

TEST(TuneSearchSpace, FeaturesHaveFixedWidth) {
  SearchSpace space(matmul_spec(), h100());
  Rng rng(3);
  for (int i = 0; i < 100; ++i) {
    auto f = space.features(space.random_point(rng));
    ASSERT_EQ(f.size(), space.num_features());
    for (double x : f) ASSERT_TRUE(std::isfinite(x));
  }
}

TEST(TuneSearchSpace, OptionsTurnKnobsOff) {
  SpaceOptions o = SpaceOptions::from_json(json::parse(
      R"({"tune_pid_type": false, "tune_indexing": false, "tune_eviction_policies": false, "num_warps_max": 8})"));
  SearchSpace space(matmul_spec(), h100(), o);
  for (const auto& p : space.params()) {
    EXPECT_NE(p.key, "pid_type");
    EXPECT_NE(p.key, "indexing");
    EXPECT_NE(p.key, "load_eviction_policies");
    if (p.key == "num_warps") EXPECT_EQ(p.choices.back(), json::Value(8));
  }
  EXPECT_THROW(SpaceOptions::from_json(json::parse(R"({"tune_everything": true})")), std::invalid_argument);
}

TEST(TuneSpecSerialization, LosslessRoundTrip) {
  for (const ConfigSpec& spec : {matmul_spec(), softmax_spec(), attention_spec()}) {
    json::Value j = spec_to_json(spec);
    ConfigSpec back = spec_from_json(json::parse(json::dump(j)));
    EXPECT_EQ(json::dump(spec_to_json(back)), json::dump(j));
    SearchSpace a(spec, h100()), b(back, h100());
    EXPECT_EQ(json::dump(a.describe()), json::dump(b.describe()));
    EXPECT_EQ(a.default_config(), b.default_config());
  }
  DeviceInfo d;
  d.name = "X";
  d.sm_count = 7;
  d.is_cuda = false;
  DeviceInfo e = device_from_json(device_to_json(d));
  EXPECT_EQ(e.name, "X");
  EXPECT_EQ(e.sm_count, 7);
  EXPECT_FALSE(e.is_cuda);
}

TEST(TuneSpecSerialization, ReadsTheUserSummary) {
  // ConfigSpec::to_json's summary is enough to search (with fewer facts).
  ConfigSpec spec = matmul_spec();
  ConfigSpec guessed = spec_from_json(spec.to_json());
  EXPECT_EQ(guessed.block_sizes.size(), 3u);
  EXPECT_EQ(guessed.loop_order_sizes, std::vector<int>{2});
  EXPECT_EQ(guessed.num_loads, 2);
  SearchSpace space(guessed, h100(), spec.default_config(h100()));
  expect_all_valid(space, 9, 300);
}

TEST(TuneSpecSerialization, PythonLiterals) {
  EXPECT_EQ(*python_literal_to_json("True"), json::Value(true));
  EXPECT_EQ(*python_literal_to_json("None"), json::Value());
  EXPECT_EQ(*python_literal_to_json("'a\"b'"), json::Value("a\"b"));
  EXPECT_EQ(*python_literal_to_json("(1, 2)"), json::parse("[1,2]"));
  EXPECT_EQ(*python_literal_to_json("'True'"), json::Value("True"));
  EXPECT_FALSE(python_literal_to_json("torch.float32").has_value());
}

// A real kernel through the whole compiler: its space produces configs the code generator accepts.
TEST(TuneSearchSpace, RealKernelConfigsGenerateCode) {
  auto file = std::make_shared<SourceFile>();
  file->filename = "gelu_mul.py";
  file->first_line = 1;
  file->text =
      "def gelu_mul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:\n"
      "    m, n = x.size()\n"
      "    out = torch.empty([m, n], dtype=x.dtype, device=x.device)\n"
      "    for tile_m, tile_n in hl.tile([m, n]):\n"
      "        out[tile_m, tile_n] = torch.sigmoid(x[tile_m, tile_n]) * y[tile_m, tile_n]\n"
      "    return out\n";
  BindRequest req;
  req.file = file;
  req.function_name = "gelu_mul";
  for (const char* name : {"x", "y"}) {
    ArgSpec a;
    a.name = name;
    a.kind = ArgSpec::Kind::Tensor;
    a.dtype = DType::BFloat16;
    a.sizes = {1000, 2048};
    a.strides = {2048, 1};
    req.args.push_back(a);
  }
  for (const char* mod : {"torch", "hl"}) {
    GlobalSpec g;
    g.name = mod;
    g.kind = GlobalSpec::Kind::Module;
    g.qualname = std::string(mod) == "hl" ? "deuteron.language" : "torch";
    req.globals.push_back(g);
  }
  std::unique_ptr<BoundKernel> bound;
  try {
    bound = BoundKernel::bind(req);
  } catch (const std::exception& e) {
    GTEST_SKIP() << "the front end does not bind this kernel yet: " << e.what();
  }
  ConfigSpec via_json = spec_from_json(json::parse(json::dump(spec_to_json(bound->spec()))));
  SearchSpace space(via_json, bound->device());
  Rng rng(11);
  Point p = space.default_point();
  for (int i = 0; i < 60; ++i) {
    json::Value cfg = space.decode(p);
    ASSERT_NO_THROW(bound->normalize(cfg)) << json::dump(cfg);
    std::string code;
    ASSERT_NO_THROW(code = bound->triton_code(bound->normalize(cfg))) << json::dump(cfg);
    EXPECT_FALSE(code.empty());
    p = space.mutate(p, rng, 2);
  }
}

TEST(ConfigSpecDefaults, LargeHalfPrecisionMatmulsGetWideTilesOnHopper) {
  auto bs = [](const ConfigSpec& s, const DeviceInfo& d) { return json::dump(s.default_config(d).at("block_sizes")); };
  EXPECT_EQ(bs(matmul_spec(), h100()), "[128,256,64]");
  ConfigSpec small = matmul_spec();
  small.kernels[0].grid_extents = {1024, 4096};
  EXPECT_EQ(bs(small, h100()), "[128,128,64]");
  ConfigSpec fp32 = matmul_spec();
  fp32.kernels[0].max_element_bytes = 4;  // 128x256 fp32 tiles would not fit 3 stages in shared memory
  EXPECT_EQ(bs(fp32, h100()), "[128,128,64]");
  DeviceInfo ampere = h100();
  ampere.compute_capability = 80;
  EXPECT_EQ(bs(matmul_spec(), ampere), "[128,128,64]");
}

TEST(ConfigSpecDefaults, AttentionTakesOneHeadAndSquareBlocks) {
  // The key block is the N of q @ k^T (128) even though it is contracted in
  // p @ v; batch*heads is not a dot axis and takes one index per program.
  json::Value cfg = attention_spec().default_config(h100());
  EXPECT_EQ(json::dump(cfg.at("block_sizes")), "[1,128,128]");
  EXPECT_EQ(cfg.at("num_warps").as_int(), 8);
  EXPECT_EQ(cfg.at("num_stages").as_int(), 3);
  SearchSpace space(attention_spec(), h100());
  EXPECT_TRUE(space.feasible(space.default_point()));
}

}  // namespace
}  // namespace deuteron::tune
