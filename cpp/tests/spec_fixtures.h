// Config spaces of kernels the autotuner's and the normalizer's tests share:
// a matmul, a row softmax, a flash attention, as the IR analyses would
// summarize them.
#pragma once

#include <utility>
#include <vector>

#include "deuteron/config.h"

namespace deuteron::spec_fixtures {

inline BlockSizeSpec block(int64_t min, int64_t max, int64_t extent, bool dot, bool reduction_like, const char* origin) {
  BlockSizeSpec b;
  b.min = min;
  b.max = max;
  b.extents = {SymInt(extent)};
  b.used_in_dot = dot;
  b.is_reduction_like = reduction_like;
  b.origin = origin;
  return b;
}

using Source = DotSummary::Operand::Source;
constexpr Source kInLoop = Source::LoadedInLoop;
inline AxisSize bs(int index) { return AxisSize{index, 1}; }
inline AxisSize whole(int64_t extent) { return AxisSize{-1, extent}; }
inline DotSummary::Operand operand(std::vector<AxisSize> axes, Source source) {
  DotSummary::Operand o;
  o.axes = std::move(axes);
  o.source = source;
  return o;
}
inline DotSummary dot(std::vector<AxisSize> result, DotSummary::Operand a, DotSummary::Operand b) {
  DotSummary d;
  d.result = std::move(result);
  d.a = std::move(a);
  d.b = std::move(b);
  return d;
}

// A 4096^3 bf16 matmul: grid (m, n), an inner k loop with a dot.  (A test
// that changes a fixture's loops numbers their entries again:
// ConfigSpec::number_loop_entries.)
inline ConfigSpec matmul_spec() {
  ConfigSpec s;
  s.block_sizes = {block(16, 4096, 4096, true, false, "tile_m"), block(16, 4096, 4096, true, false, "tile_n"),
                   block(16, 4096, 4096, true, true, "tile_k")};
  KernelSummary k;
  k.grid_block_sizes = {0, 1};
  k.grid_extents = {4096, 4096};
  k.max_element_bytes = 2;
  k.has_dot = true;
  k.has_inner_loop = true;
  k.dots = {dot({bs(0), bs(1)}, operand({bs(0), bs(2)}, kInLoop), operand({bs(2), bs(1)}, kInLoop))};
  k.subtile_block_size_index = 0;  // tile_m feeds the dot's rows
  s.kernels = {k};
  s.loop_order_sizes = {2};
  s.loop_order_kernels = {0};
  s.l2_grouping_kernels = {0};
  InnerLoopInfo loop;
  loop.kernel = 0;
  loop.op_id = 7;
  loop.dim = 2;
  loop.contains_dot = true;
  loop.contains_loads = true;
  s.inner_loops = {loop};
  s.num_loads = 2;
  s.num_stores = 1;
  s.has_dot = true;
  s.max_grid_rank = 2;
  s.kernel_load_offset = {0};
  s.kernel_store_offset = {0};
  s.number_loop_entries();  // range knobs: [grid loop, k loop]
  return s;
}

// Row softmax over 4096 x 16384 bf16: one block size for rows, a reduction over the row.
inline ConfigSpec softmax_spec() {
  ConfigSpec s;
  s.block_sizes = {block(1, 4096, 4096, false, false, "tile_m")};
  ReductionLoopSpec r;
  r.extent = SymInt(16384);
  r.origin = "x[tile_m, :]";
  s.reduction_loops = {r};
  KernelSummary k;
  k.grid_block_sizes = {0};
  k.grid_extents = {4096};
  k.full_extents = {16384};
  k.max_element_bytes = 2;
  k.has_reduction = true;
  s.kernels = {k};
  s.num_loads = 1;
  s.num_stores = 1;
  s.has_reduction = true;
  s.kernel_load_offset = {0};
  s.kernel_store_offset = {0};
  TunableSpec t;
  t.name = "unroll";
  t.kind = TunableSpec::Kind::Enum;
  t.choices = {"3", "5", "7"};  // JSON text, as sema records EnumFragment choices
  t.default_repr = "5";
  s.tunables = {t};
  s.number_loop_entries();
  return s;
}

// Flash attention, B*H = 64, S = 4096, D = 128 bf16: grid (b, m), inner loop n;
// scores = q @ k^T (q loaded once, k per step), out += p @ v (p in registers).
inline ConfigSpec attention_spec() {
  // The matmul's structure (a 2-D grid, one inner loop with loads and dots),
  // with attention's block sizes, head dim and two dots.
  ConfigSpec s = matmul_spec();
  s.block_sizes = {block(1, 64, 64, false, false, "tile_b"), block(16, 4096, 4096, true, false, "tile_m"),
                   block(16, 4096, 4096, true, true, "tile_n")};
  KernelSummary& k = s.kernels[0];
  k.grid_extents = {64, 4096};
  k.full_extents = {128};
  k.has_reduction = true;
  k.dots = {dot({bs(0), bs(1), bs(2)}, operand({bs(0), bs(1), whole(128)}, Source::LoadedOnce),
                operand({bs(0), whole(128), bs(2)}, kInLoop)),
            dot({bs(0), bs(1), whole(128)}, operand({bs(0), bs(1), bs(2)}, Source::Registers),
                operand({bs(0), bs(2), whole(128)}, kInLoop))};
  s.inner_loops[0].op_id = 9;
  s.num_loads = 3;
  s.has_reduction = true;
  return s;
}

inline DeviceInfo h100() { return DeviceInfo{}; }

}  // namespace deuteron::spec_fixtures
