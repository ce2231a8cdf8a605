// The default config fits the GPU: estimate_dot_resources against what
// Triton 3.6 asked for on the H200, and ConfigSpec::default_config shrinking
// block sizes and stages until the estimate fits (config/resource_estimate.cc,
// config/config_spec.cc).
#include <gtest/gtest.h>

#include "deuteron/config.h"
#include "spec_fixtures.h"

namespace deuteron {
namespace {

using namespace spec_fixtures;

PipelinedLoad piped(int loop, int load, std::vector<AxisSize> axes, int bytes) {
  PipelinedLoad l;
  l.loop = loop;
  l.load = load;
  l.axes = std::move(axes);
  l.element_bytes = bytes;
  return l;
}

DotSummary::Operand loaded(std::vector<AxisSize> axes, int load, int bytes = 2) {
  DotSummary::Operand o = operand(std::move(axes), kInLoop);
  o.load = load;
  o.element_bytes = bytes;
  return o;
}

DotSummary in_loop(DotSummary d, int loop) {
  d.loop = loop;
  return d;
}

// The default config's block sizes, stages and warps, and the estimate under them.
struct Fitted {
  std::vector<int64_t> blocks;
  int stages = 0, warps = 0;
  std::vector<DotResources> kernels;
};

Fitted fitted(const ConfigSpec& spec, const DeviceInfo& device) {
  json::Value cfg = spec.default_config(device);
  Fitted f;
  for (const auto& b : cfg.at(keys::kBlockSizes).as_array()) f.blocks.push_back(b.as_int());
  f.stages = static_cast<int>(cfg.at(keys::kNumStages).as_int());
  f.warps = static_cast<int>(cfg.at(keys::kNumWarps).as_int());
  for (const auto& k : spec.kernels)
    f.kernels.push_back(estimate_dot_resources(k, [&](int i) { return f.blocks.at(i); }, f.stages));
  return f;
}

void expect_fits(const Fitted& f, const DeviceInfo& device) {
  for (const auto& r : f.kernels) {
    EXPECT_LE(r.shared_bytes, static_cast<double>(device.max_shared_memory));
    EXPECT_LE(r.acc_elements / (32.0 * f.warps), static_cast<double>(kMaxAccElementsPerThread));
  }
}

// gdn_fwd_h (bf16, chunk 256, head dim 64, block_v over 128): in the chunk
// loop, b_w @ c_h and p_k.T @ b_v with b_w, p_k and the elementwise u loaded
// there (c_h and b_v are computed in registers).
ConfigSpec gdn_spec() {
  ConfigSpec s = matmul_spec();
  s.block_sizes = {block(16, 128, 128, true, false, "block_v")};
  KernelSummary& k = s.kernels[0];
  k.grid_block_sizes = {-1, -1, 0};
  k.grid_extents = {8, 80, 128};
  k.full_extents = {64};
  k.dots = {in_loop(dot({whole(256), bs(0)}, loaded({whole(256), whole(64)}, 10),
                        operand({whole(64), bs(0)}, Source::Registers)), 7),
            in_loop(dot({whole(64), bs(0)}, loaded({whole(64), whole(256)}, 20),
                        operand({whole(256), bs(0)}, Source::Registers)), 7)};
  k.pipelined_loads = {piped(7, 10, {whole(256), whole(64)}, 2), piped(7, 11, {whole(256), bs(0)}, 2),
                       piped(7, 12, {whole(256)}, 4), piped(7, 20, {whole(256), whole(64)}, 2)};
  s.loop_order_sizes = {3};
  return s;
}

// matmul_layernorm (bf16, m 128, k 256, n 400): acc[tile_m, 512] += x[tile_m, tile_k] @ y[tile_k, :].
ConfigSpec matmul_layernorm_spec() {
  ConfigSpec s = matmul_spec();
  s.block_sizes = {block(16, 128, 128, true, false, "tile_m"), block(16, 256, 256, true, true, "tile_k")};
  KernelSummary& k = s.kernels[0];
  k.grid_block_sizes = {0};
  k.grid_extents = {128};
  k.full_extents = {400};
  k.dots = {in_loop(dot({bs(0), whole(512)}, loaded({bs(0), bs(1)}, 1), loaded({bs(1), whole(512)}, 2)), 7)};
  k.pipelined_loads = {piped(7, 1, {bs(0), bs(1)}, 2), piped(7, 2, {bs(1), whole(512)}, 2)};
  s.loop_order_sizes.clear();
  s.loop_order_kernels.clear();
  s.l2_grouping_kernels.clear();
  return s;
}

// squeeze_and_excitation_net's forward (fp16, 1024^3): x[tile_m, :] @ a[:, tile_k]
// in one loop (the whole 1024 dim is the contraction), then c @ b over tiles.
ConfigSpec squeeze_excitation_spec() {
  ConfigSpec s = matmul_spec();
  s.block_sizes = {block(16, 1024, 1024, true, false, "tile_m"), block(16, 1024, 1024, true, false, "tile_k"),
                   block(16, 1024, 1024, true, false, "tile_n"), block(16, 1024, 1024, true, true, "tile_k2")};
  KernelSummary& k = s.kernels[0];
  k.grid_block_sizes = {0};
  k.grid_extents = {1024};
  k.full_extents = {1024};
  k.dots = {in_loop(dot({bs(0), bs(1)}, loaded({bs(0), whole(1024)}, 4), loaded({whole(1024), bs(1)}, 5)), 3),
            in_loop(dot({bs(0), bs(2)}, loaded({bs(0), bs(3)}, 9), loaded({bs(3), bs(2)}, 10)), 8)};
  k.pipelined_loads = {piped(3, 4, {bs(0), whole(1024)}, 2), piped(3, 5, {whole(1024), bs(1)}, 2),
                       piped(8, 9, {bs(0), bs(3)}, 2), piped(8, 10, {bs(3), bs(2)}, 2)};
  InnerLoopInfo first = s.inner_loops[0], second = s.inner_loops[0], third = s.inner_loops[0];
  first.op_id = 3;
  second.op_id = 6;
  second.contains_dot = true;
  third.op_id = 8;
  s.inner_loops = {first, second, third};
  s.loop_order_sizes.clear();
  s.loop_order_kernels.clear();
  s.l2_grouping_kernels.clear();
  return s;
}

// se_block's forward (bf16, m 4096, n 1024): sigmoid(x[tile_m, :] @ w[:, :]),
// both loaded once, w whole (2 MB) at any tile_m; the output columns (w's
// second axis, the result's) roll with reduction_loops[0], the contraction
// (x's columns, w's rows) stays whole.
AxisSize rollable(int64_t extent, int entry) {
  AxisSize a = whole(extent);
  a.reduction_loop_index = entry;
  return a;
}

ConfigSpec se_block_spec() {
  ConfigSpec s = matmul_spec();
  s.block_sizes = {block(16, 4096, 4096, true, false, "tile_m")};
  ReductionLoopSpec r;
  r.extent = SymInt(1024);
  s.reduction_loops = {r};
  KernelSummary& k = s.kernels[0];
  k.grid_block_sizes = {0};
  k.grid_extents = {4096};
  k.full_extents = {1024};
  DotSummary::Operand xs = operand({bs(0), whole(1024)}, Source::LoadedOnce), ws = operand({whole(1024), rollable(1024, 0)}, Source::LoadedOnce);
  xs.load = 1;
  ws.load = 2;
  k.dots = {dot({bs(0), rollable(1024, 0)}, xs, ws)};
  k.pipelined_loads.clear();
  s.inner_loops.clear();
  s.loop_order_sizes.clear();
  s.loop_order_kernels.clear();
  s.l2_grouping_kernels.clear();
  return s;
}

TEST(ResourceEstimate, MatchesWhatTritonAskedForOnTheH200) {
  auto block_of = [](std::vector<int64_t> v) { return [v](int i) { return v.at(i); }; };
  // Reported by Triton with num_stages=3: 245760 (matmul_layernorm), 395272
  // (gdn_fwd_h), 1605632 (squeeze_and_excitation_net).
  DotResources mln = estimate_dot_resources(matmul_layernorm_spec().kernels[0], block_of({128, 64}), 3);
  EXPECT_EQ(mln.shared_bytes, 245760);
  EXPECT_EQ(mln.acc_elements, 128 * 512);
  DotResources gdn = estimate_dot_resources(gdn_spec().kernels[0], block_of({128}), 3);
  EXPECT_EQ(gdn.shared_bytes, 3 * (256 * 64 * 2 + 256 * 128 * 2 + 256 * 4 + 256 * 64 * 2));
  EXPECT_NEAR(gdn.shared_bytes, 395272, 0.01 * 395272);
  DotResources se = estimate_dot_resources(squeeze_excitation_spec().kernels[0], block_of({128, 128, 128, 64}), 3);
  EXPECT_EQ(se.shared_bytes, 3 * 2 * 128 * 1024 * 2);
  EXPECT_EQ(se.shared_loop, 3);
  EXPECT_NEAR(se.shared_bytes, 1605632, 0.03 * 1605632);
}

TEST(ResourceEstimate, ALoadFeedingTwoDotsIsOneBuffer) {
  KernelSummary k;
  k.has_dot = true;
  k.dots = {in_loop(dot({bs(0), bs(1)}, loaded({bs(0), bs(2)}, 1), loaded({bs(2), bs(1)}, 2)), 5),
            in_loop(dot({bs(0), bs(1)}, loaded({bs(0), bs(2)}, 1), loaded({bs(2), bs(1)}, 3)), 5)};
  DotResources r = estimate_dot_resources(k, [](int) { return int64_t{64}; }, 2);
  EXPECT_EQ(r.shared_bytes, 2 * 3 * 64 * 64 * 2);
  EXPECT_EQ(r.acc_elements, 2 * 64 * 64);
}

TEST(DefaultConfigFit, GdnShrinksStagesThenTheValueBlock) {
  Fitted f = fitted(gdn_spec(), h100());
  expect_fits(f, h100());
  EXPECT_EQ(f.stages, 2);
  EXPECT_EQ(f.blocks, (std::vector<int64_t>{64}));
}

TEST(DefaultConfigFit, MatmulLayernormFitsRegistersAndSharedMemory) {
  Fitted f = fitted(matmul_layernorm_spec(), h100());
  expect_fits(f, h100());
  // The 128 x 512 fp32 accumulator is 256 per thread at 8 warps: tile_m halves.
  EXPECT_EQ(f.blocks[0], 64);
  EXPECT_GE(f.stages, 2);
}

TEST(DefaultConfigFit, WholeContractionDimShrinksTheTilesAroundIt) {
  Fitted f = fitted(squeeze_excitation_spec(), h100());
  expect_fits(f, h100());
  // 1024-long rows of x and columns of a: only narrow tiles fit.
  EXPECT_LE(f.blocks[0] * 1024 * 2 + 1024 * f.blocks[1] * 2, 232448);
  EXPECT_GE(f.blocks[0], 16);
  EXPECT_GE(f.blocks[1], 16);
}

TEST(ResourceEstimate, ARolledAxisIsAChunkLoadedInTheRolledLoop) {
  const ConfigSpec spec = se_block_spec();
  const KernelSummary& k = spec.kernels[0];
  auto tile_m = [](int) { return int64_t{32}; };
  DotResources whole_w = estimate_dot_resources(k, tile_m, 2);
  EXPECT_EQ(whole_w.shared_bytes, 32 * 1024 * 2 + 1024 * 1024 * 2);
  // Chunks of 32 columns: w[:, chunk] staged twice, x's row once (131072 bytes
  // is what Triton 3.6 asks for with these blocks, compiled for sm90).
  DotResources rolled = estimate_dot_resources(k, tile_m, 2, [](int) { return int64_t{32}; });
  EXPECT_EQ(rolled.shared_bytes, 32 * 1024 * 2 + 2 * 1024 * 32 * 2);
  EXPECT_EQ(rolled.acc_elements, 32 * 32);
}

TEST(DefaultConfigFit, AWholeOutputDimThatCannotFitRollsIntoChunks) {
  ConfigSpec spec = se_block_spec();
  json::Value cfg = spec.default_config(h100());
  const int64_t tile_m = cfg.at(keys::kBlockSizes).as_array().at(0).as_int();
  const json::Value& chunk = cfg.at(keys::kReductionLoops).as_array().at(0);
  ASSERT_TRUE(chunk.is_number());
  const int stages = static_cast<int>(cfg.at(keys::kNumStages).as_int());
  DotResources r = estimate_dot_resources(spec.kernels[0], [&](int) { return tile_m; }, stages,
                                          [&](int) { return chunk.as_int(); });
  EXPECT_LE(r.shared_bytes, static_cast<double>(h100().max_shared_memory));
  // Rolling comes before the smallest tiles: tile_m keeps at least 32 rows.
  EXPECT_GE(tile_m, 32);
  EXPECT_LT(chunk.as_int(), 1024);
}

TEST(DefaultConfigFit, MatmulDefaultsAreKept) {
  Fitted f = fitted(matmul_spec(), h100());
  EXPECT_EQ(f.blocks, (std::vector<int64_t>{128, 256, 64}));
  EXPECT_EQ(f.stages, 3);
  EXPECT_EQ(f.warps, 8);
  Fitted a = fitted(attention_spec(), h100());
  expect_fits(a, h100());
  EXPECT_EQ(a.blocks, (std::vector<int64_t>{1, 128, 128}));
}

TEST(DefaultConfigFit, WarpSpecializedAttentionKeepsItsMeasuredBlocks) {
  // The Hopper flash attention default (128x128, 4 warps per consumer group,
  // 2 stages): its scores and output are 256 fp32 values per thread of one
  // group, as measured fastest; only its shared memory (160 KB) is checked.
  ConfigSpec spec = attention_spec();
  for (auto& d : spec.kernels[0].dots) d.loop = 9;
  ASSERT_EQ(spec.flash_attention_loop(0), 9);
  Fitted f = fitted(spec, h100());
  EXPECT_EQ(f.blocks, (std::vector<int64_t>{1, 128, 128}));
  EXPECT_EQ(f.stages, 2);
  EXPECT_EQ(f.warps, 4);
  EXPECT_EQ(f.kernels[0].shared_bytes, (128 * 128 + 2 * 2 * 128 * 128) * 2);
}

TEST(DefaultConfigFit, TheDevicesLimitDecides) {
  // A Hopper-like GPU that reports 99 KB per block: the 128x256 bf16
  // matmul's 3 stages (144 KB) become 2 (96 KB).
  DeviceInfo small = h100();
  small.max_shared_memory = 99 * 1024;
  Fitted f = fitted(matmul_spec(), small);
  expect_fits(f, small);
  EXPECT_EQ(f.stages, 2);
  Fitted g = fitted(gdn_spec(), small);
  expect_fits(g, small);
}

}  // namespace
}  // namespace deuteron
