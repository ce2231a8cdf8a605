// The config space as JSON, the default config, and validation
// (normalization).  (Deriving a kernel's space from its IR is an analysis:
// analysis/config_space.cc.)
#include <algorithm>
#include <functional>
#include <set>

#include "deuteron/config.h"
#include "deuteron/diagnostic.h"

namespace deuteron {

namespace {

bool is_pow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

std::string list_str(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

// Levenshtein distance for "did you mean" suggestions.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

size_t ConfigSpec::entries(Per per) const {
  switch (per) {
    case Per::One: return 1;
    case Per::BlockSize: return block_sizes.size();
    case Per::ReductionLoop: return reduction_loops.size();
    case Per::MultiDimLoop: return loop_order_sizes.size();
    case Per::FlattenableLoop: return flatten_allowed.size();
    case Per::TiledGrid: return l2_grouping_kernels.size();
    case Per::RangeLoop: return static_cast<size_t>(range_entries);
    case Per::PipelinedLoop: return range_num_stages_off ? 0 : static_cast<size_t>(range_entries);
    case Per::StaticRangeLoop: return static_cast<size_t>(static_range_entries);
    case Per::LoadOrStore: return static_cast<size_t>(num_loads + num_stores);
    case Per::Load: return static_cast<size_t>(num_loads);
    case Per::Store: return static_cast<size_t>(num_stores);
    case Per::AtomicOp: return 0;  // atomics always use pointers
  }
  return 0;
}

// ----------------------------------------------------------------- to_json

json::Value ConfigSpec::to_json() const {
  json::Object o;
  json::Array bs;
  for (const auto& b : block_sizes) {
    json::Object e;
    e.emplace_back("min", json::Value(b.min));
    e.emplace_back("max", json::Value(b.max));
    e.emplace_back("origin", json::Value(b.origin));
    e.emplace_back("used_in_dot", json::Value(b.used_in_dot));
    // The largest extent it tiles, on the example sizes (Helion's size_hint).
    std::optional<int64_t> hint;
    for (const auto& x : b.extents)
      if (auto h = x.hint()) hint = std::max(hint.value_or(*h), *h);
    if (hint) e.emplace_back("size_hint", json::Value(*hint));
    bs.push_back(json::Value(std::move(e)));
  }
  o.emplace_back(keys::kBlockSizes, json::Value(std::move(bs)));
  json::Array rl;
  for (const auto& r : reduction_loops) {
    json::Object e;
    e.emplace_back("extent", json::Value(r.extent.str()));
    e.emplace_back("origin", json::Value(r.origin));
    rl.push_back(json::Value(std::move(e)));
  }
  o.emplace_back(keys::kReductionLoops, json::Value(std::move(rl)));
  json::Array lo;
  for (int n : loop_order_sizes) lo.push_back(json::Value(n));
  o.emplace_back(keys::kLoopOrders, json::Value(std::move(lo)));
  json::Array fl;
  for (bool b : flatten_allowed) fl.push_back(json::Value(b));
  o.emplace_back(keys::kFlattenLoops, json::Value(std::move(fl)));
  o.emplace_back(keys::kL2Groupings, json::Value(static_cast<int64_t>(l2_grouping_kernels.size())));
  o.emplace_back(spec_summary::kInnerLoops, json::Value(static_cast<int64_t>(inner_loops.size())));
  o.emplace_back(spec_summary::kRangeLoops, json::Value(static_cast<int64_t>(range_entries)));
  o.emplace_back(keys::kRangeNumStages, json::Value(static_cast<int64_t>(entries(Per::PipelinedLoop))));
  o.emplace_back(keys::kStaticRanges, json::Value(static_cast<int64_t>(static_range_entries)));
  // Inner loops over several dims: which loop_orders / flatten_loops entry
  // each reads (-1: none), by its kernel and first dim in the kernel's IR.
  json::Array nests;
  for (const auto& m : multi_dim_loops) {
    if (m.grid) continue;
    json::Object e;
    e.emplace_back("kernel", json::Value(m.kernel));
    e.emplace_back("first_dim", json::Value(m.first_dim));
    e.emplace_back(keys::kLoopOrders, json::Value(m.loop_order_entry));
    e.emplace_back(keys::kFlattenLoops, json::Value(m.flatten_entry));
    nests.push_back(json::Value(std::move(e)));
  }
  o.emplace_back(spec_summary::kNests, json::Value(std::move(nests)));
  o.emplace_back(spec_summary::kNumLoads, json::Value(num_loads));
  o.emplace_back(spec_summary::kNumStores, json::Value(num_stores));
  json::Array tun;
  for (const auto& t : tunables) tun.push_back(json::Value(t.name));
  o.emplace_back(spec_summary::kTunables, json::Value(std::move(tun)));
  // The values `subtiles` may take (grid_subtiling.cc): only its default
  // (off) in a kernel with nothing to split.
  const ConfigKey& subtiles = config_key(keys::kSubtiles);
  json::Array sub = {subtiles.default_value};
  if (subtilable())
    for (const auto& n : subtiles.choices)
      if (n != subtiles.default_value) sub.push_back(n);
  o.emplace_back(keys::kSubtiles, json::Value(std::move(sub)));
  return json::Value(std::move(o));
}

// ------------------------------------------------------------ defaults

// The op id of kernel k's key loop when k is a flash attention (one inner
// loop, in it a dot of loaded operands whose result feeds, through registers,
// a second dot with a loaded operand), or -1.  Hopper runs such kernels
// fastest warp-specialized (target::prefers_warp_specialized_attention).
int ConfigSpec::flash_attention_loop(int k) const {
  int loops = 0, loop = -1;
  for (const auto& l : inner_loops)
    if (l.kernel == k) { ++loops; loop = l.op_id; }
  if (loops != 1) return -1;
  const auto& dots = kernels.at(k).dots;
  bool scores = false, values = false;
  for (const auto& d : dots) {
    if (d.loop != loop) continue;
    using Src = DotSummary::Operand::Source;
    if (d.a.source != Src::Registers && d.b.source == Src::LoadedInLoop) scores = true;
    if (d.a.source == Src::Registers && d.b.source == Src::LoadedInLoop) values = scores;
  }
  return scores && values ? loop : -1;
}

namespace {

void add_blocks(const std::vector<AxisSize>& axes, std::set<int>& out) {
  for (const auto& a : axes)
    if (a.block_size_index >= 0) out.insert(a.block_size_index);
}

void add_rolls(const std::vector<AxisSize>& axes, std::set<int>& out) {
  for (const auto& a : axes)
    if (a.reduction_loop_index >= 0) out.insert(a.reduction_loop_index);
}

// Shrinks the default's block sizes and pipeline depth until every kernel
// with dots fits the GPU by estimate_dot_resources: its accumulators within
// kMaxAccElementsPerThread per thread, its staged loads within the device's
// shared memory (the limit torch reports, shared_memory_per_block_optin; the
// CPU's stand-in is an H100's 227 KB).  The matmul defaults (128x128 or
// 128x256 tiles, 3 stages) fit as they are; what does not is a whole dim in
// a tile (x[tile_m, :] with 1024 columns), a wide tile next to a dot, or
// extra loads in the dot's loop.  Moves, cheapest for speed first: fewer
// stages down to 2; rolling a whole dim of the over-full term into chunks
// of 128 (reduction_loops: x_tile @ w[:, :] with w's columns chunk by chunk,
// when even the smallest blocks leave w whole and too large); halving the
// largest block or chunk the term depends on down to 32; 1 stage; halving
// down to the block's minimum (a chunk's: 16).  Returns whether something
// changed.  `chunks[i]`: reduction_loops[i], 0 for persistent.
// `warp_specialized[k]`: kernel k defaults to the warp-specialized flash
// attention, whose 4 warps are one consumer group of several (its
// accumulators spread over more threads than num_warps says); its register
// use is the measured configuration's, so only its shared memory is checked.
bool fit_dot_kernels(const ConfigSpec& spec, std::vector<int64_t>& bs, std::vector<int64_t>& chunks, int& stages,
                     int warps, const DeviceInfo& device, const std::vector<bool>& warp_specialized) {
  const double limit = static_cast<double>(device.max_shared_memory);
  const double threads = 32.0 * warps;
  auto block = [&](int i) { return bs.at(static_cast<size_t>(i)); };
  auto chunk = [&](int i) { return chunks.at(static_cast<size_t>(i)); };
  auto extent = [&](int i) { return next_power_of_2(spec.reduction_loops[i].extent.hint().value_or(1024)); };
  // Rolls the first of `rolls` still whole (and longer than a chunk of 128).
  auto roll = [&](const std::set<int>& rolls) {
    for (int i : rolls)
      if (chunks[i] == 0 && extent(i) > 128) {
        chunks[i] = 128;
        return true;
      }
    return false;
  };
  // Halves the largest block of `blocks` above max(floor, its minimum), or
  // the largest chunk of `rolls` above max(floor, 16) when that is larger.
  auto halve_any = [&](const std::set<int>& blocks, const std::set<int>& rolls, int64_t floor) {
    int best = -1, best_roll = -1;
    for (int i : blocks) {
      const int64_t lo = std::max(floor, spec.block_sizes[i].min);
      if (bs[i] > lo && (best < 0 || bs[i] > bs[best])) best = i;
    }
    for (int i : rolls)
      if (chunks[i] > std::max<int64_t>(floor, 16) && (best_roll < 0 || chunks[i] > chunks[best_roll])) best_roll = i;
    if (best_roll >= 0 && (best < 0 || chunks[best_roll] > bs[best])) {
      chunks[best_roll] /= 2;
      return true;
    }
    if (best < 0) return false;
    bs[best] = std::max(std::max<int64_t>(1, spec.block_sizes[best].min), bs[best] / 2);
    return true;
  };
  bool any = false;
  for (int step = 0; step < 64; ++step) {
    bool changed = false;
    for (size_t ki = 0; ki < spec.kernels.size(); ++ki) {
      const KernelSummary& k = spec.kernels[ki];
      if (k.dots.empty()) continue;
      const DotResources r = estimate_dot_resources(k, block, stages, chunk);
      const bool regs = !warp_specialized[ki] && r.acc_elements / threads > static_cast<double>(kMaxAccElementsPerThread);
      const bool smem = r.shared_bytes > limit;
      if (!regs && !smem) continue;
      std::set<int> acc_blocks, staged_blocks, acc_rolls, staged_rolls;
      using Source = DotSummary::Operand::Source;
      for (const auto& d : k.dots) {
        // (A rolled dot's loop is not a For of the summary: take every dot's.)
        if (d.loop == r.acc_loop || is_rolled_loop_key(r.acc_loop)) add_blocks(d.result, acc_blocks);
        add_rolls(d.result, acc_rolls);
        for (const DotSummary::Operand* o : {&d.a, &d.b}) {
          add_rolls(o->axes, staged_rolls);
          if ((o->source == Source::LoadedInLoop && d.loop == r.shared_loop) || o->source == Source::LoadedOnce ||
              is_rolled_loop_key(r.shared_loop))
            add_blocks(o->axes, staged_blocks);
        }
      }
      for (const auto& l : k.pipelined_loads)
        if (l.loop == r.shared_loop) add_blocks(l.axes, staged_blocks);
      if (regs) {
        changed = roll(acc_rolls) || halve_any(acc_blocks, acc_rolls, 32) || halve_any(acc_blocks, acc_rolls, 0);
      } else if (stages > 2) {
        --stages;
        changed = true;
      } else {
        changed = roll(staged_rolls) || halve_any(staged_blocks, staged_rolls, 32) ||
                  (stages > 1 ? (stages = 1, true) : false) || halve_any(staged_blocks, staged_rolls, 0);
      }
      if (changed) break;
    }
    if (!changed) break;
    any = true;
  }
  return any;
}

}  // namespace

json::Value ConfigSpec::default_config(const DeviceInfo& device) const {
  std::vector<int64_t> bs(block_sizes.size(), 0);
  int num_warps = 4, num_stages = 1;
  auto extent_of = [&](size_t i) {
    int64_t e = 1;
    for (const auto& x : block_sizes[i].extents) e = std::max(e, x.hint().value_or(1024));
    return e;
  };
  // Matmul-like kernels: 128x128 output tiles and a 64-wide contraction,
  // 8 warps, 3 pipeline stages (what Triton matmuls on Hopper like).
  // A block size that spans a dot's result (M, N, or attention's key block,
  // which is the N of q @ k^T and the K of p @ v) gets 128; one that is only
  // ever contracted gets 64.
  std::vector<bool> in_dot_result(block_sizes.size(), false);
  for (const auto& s : kernels)
    for (const auto& d : s.dots)
      for (const auto& a : d.result)
        if (a.block_size_index >= 0 && static_cast<size_t>(a.block_size_index) < in_dot_result.size())
          in_dot_result[a.block_size_index] = true;
  for (size_t i = 0; i < block_sizes.size(); ++i)
    if (block_sizes[i].used_in_dot)
      bs[i] = in_dot_result[i] || !block_sizes[i].is_reduction_like ? 128 : 64;
  // Flash attention on Hopper (see flash_attention_loop): 128x128 blocks,
  // 4 warps per consumer group, 2 stages, 2-D tensor descriptors, the key
  // loop warp-specialized, query blocks of one head on consecutive programs.
  std::vector<int> flash_loops(kernels.size(), -1);
  for (size_t k = 0; k < kernels.size(); ++k)
    if (target::prefers_warp_specialized_attention(device, kernels[k].max_element_bytes))
      flash_loops[k] = flash_attention_loop(static_cast<int>(k));
  bool flash = std::any_of(flash_loops.begin(), flash_loops.end(), [](int l) { return l >= 0; });
  // Everything else: a few thousand elements per program.  Inner loops and
  // whole dims come first; the grid's tiles share what is left, the last
  // (usually contiguous) dim first.
  for (size_t k = 0; k < kernels.size(); ++k) {
    const KernelSummary& s = kernels[k];
    if (s.has_dot && flash_loops[k] >= 0) {
      num_warps = std::max(num_warps, 4);
      num_stages = std::max(num_stages, 2);
      for (int idx : s.grid_block_sizes)
        if (idx >= 0 && !block_sizes[idx].used_in_dot) bs[idx] = 1;
      continue;
    }
    if (s.has_dot) {
      int warps = 8;
      num_stages = std::max(num_stages, 3);
      // Batch-like grid tiles of a dot kernel (attention's batch*heads) take
      // one index per program: every extra one multiplies the accumulators.
      for (int idx : s.grid_block_sizes)
        if (idx >= 0 && !block_sizes[idx].used_in_dot) bs[idx] = 1;
      // Large 16-bit matmuls on Hopper: 128x256 output tiles
      // (target::prefers_wide_matmul_tiles).
      std::vector<size_t> mn;
      for (size_t g = 0; g < s.grid_block_sizes.size(); ++g) {
        int idx = s.grid_block_sizes[g];
        if (idx >= 0 && block_sizes[idx].used_in_dot && !block_sizes[idx].is_reduction_like) mn.push_back(g);
      }
      if (target::prefers_wide_matmul_tiles(device, s.max_element_bytes) && mn.size() == 2 &&
          s.grid_extents[mn[0]] >= 2048 && s.grid_extents[mn[1]] >= 2048)
        bs[s.grid_block_sizes[mn[1]]] = 256;
      // Small grids (a 256x256 matmul: four 128x128 tiles on 132 SMs; or a
      // grid over M alone, x[tile_m, :] @ w with the N loop inside each
      // program): with fewer programs than a quarter of the SMs, the few busy
      // SMs each stream their operands alone while the rest idle.  Halve the
      // largest output block of the grid (the first on ties) until the grid
      // has that many programs, down to 32 a side, or 64 for a grid over M
      // alone (each program streams all of the other operand: halving M
      // doubles that traffic; quick tuning of squeeze_and_excitation_net at
      // 1024^3 picked 64 rows, 2.56x the 128-row default); output tiles of
      // 64x64 and less take 4 warps.
      if (!mn.empty()) {
        // (A block as the final clamp to its range leaves it.)
        auto eff = [&](int idx) {
          return std::clamp<int64_t>(std::max<int64_t>(bs[idx], 1), block_sizes[idx].min,
                                     std::max(block_sizes[idx].min, block_sizes[idx].max));
        };
        auto programs = [&] {
          int64_t p = 1;
          for (size_t g = 0; g < s.grid_block_sizes.size(); ++g) {
            int idx = s.grid_block_sizes[g];
            int64_t b = idx >= 0 ? eff(idx) : 1;
            p *= (std::max<int64_t>(s.grid_extents[g], 1) + b - 1) / b;
          }
          return p;
        };
        bool shrunk = false;
        const int64_t floor = mn.size() == 1 ? 64 : 32;
        while (programs() < device.sm_count / 4) {
          int pick = -1;
          for (size_t g : mn) {
            int idx = s.grid_block_sizes[g];
            if (pick < 0 || eff(idx) > eff(pick)) pick = idx;
          }
          if (eff(pick) / 2 < std::max<int64_t>(floor, block_sizes[pick].min)) break;
          bs[pick] = eff(pick) / 2;
          shrunk = true;
        }
        // The output tile: the grid's blocks times the other blocks of the
        // dots' results (a grid over M alone: the inner N loop's block).
        if (shrunk) {
          int64_t tile = 1;
          for (const auto& d : s.dots) {
            int64_t t = 1;
            for (const auto& a : d.result) t *= a.block_size_index >= 0 ? eff(a.block_size_index) : std::max<int64_t>(a.extent, 1);
            tile = std::max(tile, t);
          }
          if (tile <= 64 * 64) warps = 4;
        }
      }
      num_warps = std::max(num_warps, warps);
      continue;
    }
    // About 2048 elements per program whatever the dtype: measured on the
    // H200, these defaults ran softmax, rms_norm and layer_norm on bf16 at
    // 97-102% of the tuned kernels.
    const int64_t target = 2048;
    int64_t full = 1;
    for (int64_t e : s.full_extents) full = std::max(full, next_power_of_2(e));
    int64_t inner = 1;
    for (size_t i = 0; i < block_sizes.size(); ++i) {
      bool in_grid = std::find(s.grid_block_sizes.begin(), s.grid_block_sizes.end(), static_cast<int>(i)) !=
                     s.grid_block_sizes.end();
      if (in_grid || bs[i] != 0) continue;
      // Block sizes of inner loops (they are not in this kernel's grid).
      int64_t b = std::min<int64_t>(next_power_of_2(extent_of(i)), target);
      inner = std::max(inner, b);
      // One of unknown extent (a jagged loop) counts with extent_of's guess
      // here, so that the grid's tiles leave it room; its block is what the
      // values it appears in leave (below).
      if (!block_sizes[i].extent_unknown()) bs[i] = b;
    }
    int64_t budget = std::max<int64_t>(1, target / std::min<int64_t>(full * inner, target));
    int64_t per_program = full * inner;
    for (size_t i = s.grid_block_sizes.size(); i-- > 0;) {
      int idx = s.grid_block_sizes[i];
      if (idx < 0) continue;
      if (bs[idx] == 0) bs[idx] = std::max<int64_t>(1, std::min(next_power_of_2(s.grid_extents[i]), budget));
      budget = std::max<int64_t>(1, budget / bs[idx]);
      per_program *= bs[idx];
    }
    int w = per_program >= 16384 ? 16 : per_program >= 4096 ? 8 : 4;
    num_warps = std::max(num_warps, w);
  }
  // Blocks of unknown extent (jagged loops, whose ends are computed on the
  // device) not sized above: as large as every value they appear in allows
  // within the per-program budget, the blocks already chosen taken as they
  // are and the unknown ones of one value sharing what is left alike.  (Their
  // extents have no hint: sized like a known one they would get the hint's
  // fallback, which is either 1 -- a loop of one element per iteration -- or
  // a block that multiplies with the other axes past what registers hold.)
  {
    const int64_t target = 2048;
    std::vector<int64_t> cap(block_sizes.size(), 0);
    auto unsized = [&](int idx) { return idx >= 0 && bs[idx] == 0 && block_sizes[idx].extent_unknown(); };
    for (const auto& s : kernels)
      for (const auto& shape : s.unknown_extent_values) {
        int64_t known = 1;
        int n = 0;
        for (const auto& a : shape) {
          if (unsized(a.block_size_index)) ++n;
          else known *= a.block_size_index >= 0 ? std::max<int64_t>(bs[a.block_size_index], 1) : std::max<int64_t>(a.extent, 1);
        }
        if (n == 0) continue;
        int64_t share = std::max<int64_t>(1, target / std::min(known, target));
        int64_t per = 1;  // the largest power of 2 whose n-th power fits the share
        for (;;) {
          int64_t p = per * 2, prod = 1;
          for (int j = 0; j < n && prod <= share; ++j) prod *= p;
          if (prod > share) break;
          per = p;
        }
        for (const auto& a : shape)
          if (unsized(a.block_size_index)) {
            int64_t& c = cap[a.block_size_index];
            c = c == 0 ? per : std::min(c, per);
          }
      }
    for (size_t i = 0; i < block_sizes.size(); ++i)
      if (cap[i] > 0) bs[i] = cap[i];
  }
  for (size_t i = 0; i < block_sizes.size(); ++i) {
    const BlockSizeSpec& b = block_sizes[i];
    if (bs[i] == 0) bs[i] = std::min<int64_t>(next_power_of_2(extent_of(i)), 1024);
    bs[i] = std::clamp<int64_t>(bs[i], b.min, std::max(b.min, b.max));
  }
  std::vector<bool> warp_specialized(kernels.size());
  for (size_t k = 0; k < kernels.size(); ++k) warp_specialized[k] = kernels[k].has_dot && flash_loops[k] >= 0;
  // Rows that fit in registers stay persistent; longer ones loop in chunks
  // (and whole dims of dots that do not fit the GPU, fit_dot_kernels).
  std::vector<int64_t> chunks;
  for (const auto& r : reduction_loops) {
    int64_t e = r.extent.hint().value_or(1 << 20);
    chunks.push_back(e > 16384 || !r.extent.is_constant() ? 4096 : 0);
  }
  fit_dot_kernels(*this, bs, chunks, num_stages, num_warps, device, warp_specialized);
  json::Object o;
  json::Array bsa;
  for (int64_t v : bs) bsa.push_back(json::Value(v));
  o.emplace_back(keys::kBlockSizes, json::Value(std::move(bsa)));
  json::Array rl;
  for (int64_t c : chunks) rl.push_back(c > 0 ? json::Value(c) : json::Value());
  o.emplace_back(keys::kReductionLoops, json::Value(std::move(rl)));
  o.emplace_back(keys::kNumWarps, json::Value(num_warps));
  o.emplace_back(keys::kNumStages, json::Value(num_stages));
  if (requires_persistent()) o.emplace_back(keys::kPidType, json::Value(pid_types::kPersistentBlocked));
  if (flash) {
    json::Array ws(static_cast<size_t>(range_entries), json::Value());
    for (const auto& l : inner_loops)
      if (l.range_entry >= 0 && flash_loops.at(l.kernel) == l.op_id) ws[static_cast<size_t>(l.range_entry)] = json::Value(true);
    json::Array orders;
    for (size_t i = 0; i < loop_order_sizes.size(); ++i) {
      // The query-block dim (the grid's last) varies fastest: a head's K and V stay in L2.
      json::Array order;
      bool swap = false;
      for (const auto& m : multi_dim_loops)
        if (m.grid && m.loop_order_entry == static_cast<int>(i) && flash_loops.at(m.kernel) >= 0 && m.rank == 2) swap = true;
      for (int d = 0; d < loop_order_sizes[i]; ++d) order.push_back(json::Value(int64_t{swap ? 1 - d : d}));
      orders.push_back(json::Value(std::move(order)));
    }
    json::Array l2;
    for (int kern : l2_grouping_kernels) l2.push_back(json::Value(int64_t{flash_loops.at(kern) >= 0 ? 1 : 8}));
    o.emplace_back(keys::kRangeWarpSpecializes, json::Value(std::move(ws)));
    o.emplace_back(keys::kLoopOrders, json::Value(std::move(orders)));
    o.emplace_back(keys::kL2Groupings, json::Value(std::move(l2)));
    o.emplace_back(keys::kIndexing, json::Value(indexing_modes::kTensorDescriptor));
  }
  return normalize(json::Value(std::move(o)), device);
}

// ------------------------------------------------------------ validation

namespace {

void flatten_into(const json::Value& v, json::Array& out) {
  if (!v.is_array()) {
    out.push_back(v);
    return;
  }
  for (const auto& x : v.as_array()) flatten_into(x, out);
}

// The keys that Helion flattens (ConfigKey::flattens_nested): a nested list
// stands for its elements in order (l2_grouping=[2, 4] for l2_groupings=[2, 4]).
json::Value flatten_nested_lists(const json::Value& config) {
  json::Value out = config;
  for (const auto& key : config_keys()) {
    if (!key.flattens_nested) continue;
    const json::Value* v = config.find(key.name);
    if (!v || !v->is_array()) continue;
    json::Array flat;
    flatten_into(*v, flat);
    out.set(key.name, json::Value(std::move(flat)));
  }
  return out;
}

class Normalizer {
 public:
  Normalizer(const ConfigSpec& spec, const json::Value& in) : spec_(spec), in_(in) {}

  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw ConfigError("config key '" + key + "': " + msg);
  }

  const json::Value* get(const std::string& key) const {
    const json::Value* v = in_.find(key);
    return (v && !v->is_null()) ? v : nullptr;
  }

  // The entries of a list key: the given list (or, where the table allows
  // it, one value for every entry), each checked, or the defaults.
  json::Value entries(const ConfigKey& key, const std::function<json::Value(size_t)>& dflt,
                      const std::function<void(size_t, const json::Value&)>& check) {
    const size_t n = spec_.entries(key.per);
    const json::Value* v = get(key.name);
    json::Array out;
    if (!v) {
      for (size_t i = 0; i < n; ++i) out.push_back(dflt(i));
      return json::Value(std::move(out));
    }
    if (!v->is_array()) {
      if (!key.one_value_for_all)
        fail(key.name, "expected a list of " + count(n) + ", got " + json::dump(*v));
      check(0, *v);  // even when the list is empty
      for (size_t i = 0; i < n; ++i) out.push_back(*v);
      return json::Value(std::move(out));
    }
    if (v->size() < n && key.fills_missing) {
      // Helion completes a short list with the defaults of the entries it
      // leaves out.
      for (size_t i = 0; i < n; ++i) {
        if (i < v->size()) {
          check(i, (*v)[i]);
          out.push_back((*v)[i]);
        } else {
          out.push_back(dflt(i));
        }
      }
      return json::Value(std::move(out));
    }
    if (v->size() < n && key.name == keys::kBlockSizes)
      // The usual cause is a tile loop left out of the config; Helion programs match this wording.
      fail(key.name, "Not enough values for config: expected " + std::to_string(n) + " block sizes, got " +
                         std::to_string(v->size()) + " (" + json::dump(*v) +
                         "). Did you forget to specify block sizes for all your hl.tile() dimensions?" +
                         block_size_owners());
    if (v->size() != n)
      fail(key.name, "expected " + (key.fills_missing ? "at most " : std::string()) + count(n) + ", got " +
                         std::to_string(v->size()) + " (" + json::dump(*v) + ")" +
                         (key.per == Per::BlockSize ? block_size_owners() : entries_note(key.per)));
    for (size_t i = 0; i < n; ++i) {
      check(i, (*v)[i]);
      out.push_back((*v)[i]);
    }
    return json::Value(std::move(out));
  }
  json::Value entries(const ConfigKey& key, const std::function<void(size_t, const json::Value&)>& check) {
    return entries(key, [&](size_t) { return key.default_value; }, check);
  }

  // What a per-loop key's entries are, for a list of the wrong length.
  static std::string entries_note(Per per) {
    switch (per) {
      case Per::MultiDimLoop:
        return "; there is one per loop over 2+ dims (the grid's, then inner loops), in the order the source writes them";
      case Per::FlattenableLoop:
        return "; there is one per hl.tile loop over 2+ dims starting at 0 whose dims every value holds all or none "
               "of, side by side and in order";
      case Per::TiledGrid: return "; there is one per grid of 2+ dims";
      case Per::RangeLoop:
        return "; there is one per kernel's grid loop (it acts under a persistent pid_type), then one per dim of each "
               "inner loop, in the order the source writes them";
      case Per::PipelinedLoop:
        return "; there is one per kernel's grid loop, then one per dim of each inner loop, and none at all when the "
               "kernel reads and writes one of its arguments";
      case Per::StaticRangeLoop:
        return "; there is one per inner loop dim whose bounds are known when compiling and that takes at most 8 steps";
      default: return "";
    }
  }

  static std::string count(size_t n) { return std::to_string(n) + " entr" + (n == 1 ? "y" : "ies"); }

  // What owns each block size (tile loops, hl.register_block_size), for a
  // block_sizes list of the wrong length: the user sees which loops count.
  std::string block_size_owners() const {
    if (spec_.block_sizes.empty()) return "; this kernel has no tile loop that takes a block size";
    std::string out = "; the block sizes belong to, in order: ";
    for (size_t i = 0; i < spec_.block_sizes.size(); ++i) {
      const BlockSizeSpec& b = spec_.block_sizes[i];
      out += (i ? ", " : "") + (b.where.empty() ? b.origin : b.where);
    }
    return out;
  }

  int64_t as_int(const std::string& key, const json::Value& v) const {
    if (!v.is_int() && !(v.is_double() && v.as_double() == static_cast<double>(static_cast<int64_t>(v.as_double()))))
      fail(key, "expected an int, got " + json::dump(v));
    return v.as_int();
  }

  // Keys other than config keys and the kernel's tunables, with a
  // suggestion when one is close.
  void reject_unknown_keys() const {
    for (const auto& [k, v] : in_.as_object()) {
      if (find_config_key(k)) continue;
      bool tunable = false;
      for (const auto& t : spec_.tunables) tunable = tunable || t.name == k;
      if (tunable) continue;
      std::string best;
      size_t best_d = 4;
      for (const auto& c : config_keys()) {
        size_t d = edit_distance(k, c.name);
        if (d < best_d) { best_d = d; best = c.name; }
      }
      fail(k, "not a config key of this kernel" + (best.empty() ? std::string() : "; did you mean '" + best + "'?"));
    }
  }

  // The keys in decision order: block sizes first, since static ranges and
  // sub-tiles depend on them; then the rest in table order.
  json::Value run(const DeviceInfo& device) {
    reject_unknown_keys();
    json::Object out;
    out.reserve(config_keys().size() + spec_.tunables.size());
    const json::Value block_sizes = normalize_block_sizes();
    out.emplace_back(keys::kBlockSizes, block_sizes);
    out.emplace_back(keys::kReductionLoops, normalize_reduction_loops());
    out.emplace_back(keys::kLoopOrders, normalize_loop_orders());
    {
      const ConfigKey& key = config_key(keys::kFlattenLoops);
      out.emplace_back(key.name, entries(key, [&](size_t i, const json::Value& e) {
        if (!key.accepts(e)) fail(key.name, "entries must be " + key.allowed_text());
        if (e.as_bool() && !(i < spec_.flatten_allowed.size() && spec_.flatten_allowed[i]))
          fail(key.name, "entry " + std::to_string(i) + " is True, but deuteron cannot run that loop as one: it "
                         "flattens a grid of a kernel that is pointwise over its grid tiles, and an inner loop whose "
                         "body is pointwise over its dims and carries no values");
      }));
    }
    {
      const ConfigKey& key = config_key(keys::kL2Groupings);
      out.emplace_back(key.name, entries(key, [&](size_t) { return spec_.has_dot ? json::Value(8) : key.default_value; },
                                         [&](size_t, const json::Value& e) {
                                           as_int(key.name, e);
                                           if (!key.accepts(e))
                                             fail(key.name, "entries must be " + key.allowed_text() + ", got " + json::dump(e));
                                         }));
    }
    {
      // Entries exist only for loops short enough to unroll whatever the
      // block sizes (ir::Dim::static_range_ok).
      const ConfigKey& key = config_key(keys::kStaticRanges);
      out.emplace_back(key.name, entries(key, [&](size_t, const json::Value& e) {
        if (!key.accepts(e)) fail(key.name, "entries must be " + key.allowed_text());
      }));
    }
    // tl.range knobs: checked by the table alone.
    for (const char* name : {keys::kRangeUnrollFactors, keys::kRangeNumStages, keys::kRangeMultiBuffers,
                             keys::kRangeFlattens, keys::kRangeWarpSpecializes}) {
      const ConfigKey& key = config_key(name);
      out.emplace_back(key.name, entries(key, [&](size_t, const json::Value& e) {
        if (key.kind == ItemKind::Int) as_int(key.name, e);
        if (!key.accepts(e)) fail(key.name, "entries must be " + key.allowed_text());
      }));
    }
    out.emplace_back(keys::kNumWarps, scalar_int(config_key(keys::kNumWarps)));
    out.emplace_back(keys::kNumStages, scalar_int(config_key(keys::kNumStages)));
    {
      const ConfigKey& key = config_key(keys::kPidType);
      const json::Value* v = get(key.name);
      json::Value p = v ? *v : spec_.requires_persistent() ? json::Value(pid_types::kPersistentBlocked) : key.default_value;
      if (!key.accepts(p)) fail(key.name, json::dump(p) + " is not allowed; use " + key.allowed_text());
      if (p.as_string() == pid_types::kXyz && spec_.max_grid_rank > 3)
        fail(key.name, "'xyz' supports grids of up to 3 dims; this kernel has " + std::to_string(spec_.max_grid_rank));
      // Helion's rule: its phases are one persistent kernel with a grid-wide barrier.
      if (spec_.barrier_phases && !pid_types::is_persistent(p.as_string()))
        throw ConfigError(std::string("config key '") + key.name + "': hl.barrier() requires pid_type to be persistent (got '" +
                              p.as_string() + "'); use 'persistent_blocked' or 'persistent_interleaved' (Helion "
                              "runs the loops a barrier separates as one persistent kernel)",
                          "BarrierRequiresPersistent");
      // Helion's rule too: the programs read a data-dependent bound themselves.
      if (spec_.data_dependent_grid && !pid_types::is_persistent(p.as_string()))
        fail(key.name, "a top-level loop bounded by a tensor's value (read on the device, so the launch cannot "
                       "size its grid by it) requires a persistent pid_type (got '" + p.as_string() +
                       "'); use 'persistent_blocked' or 'persistent_interleaved'");
      out.emplace_back(key.name, p);
    }
    {
      // Only persistent programs have a count to multiply; Helion rejects a
      // multiplier with another pid_type in these words.
      const ConfigKey& key = config_key(keys::kNumSmMultiplier);
      json::Value m = scalar_int(key);
      const std::string& pid = out.back().second.as_string();
      if (m != key.default_value && !pid_types::is_persistent(pid))
        fail(key.name, "num_sm_multiplier=" + json::dump(m) + " can only be used with persistent pid_type ('" +
                           pid_types::kPersistentBlocked + "' or '" + pid_types::kPersistentInterleaved +
                           "'), got pid_type='" + pid + "'");
      out.emplace_back(key.name, m);
    }
    {
      const ConfigKey& key = config_key(keys::kMaxnreg);
      const json::Value* v = get(key.name);
      if (v) as_int(key.name, *v);
      if (v && !key.accepts(*v)) fail(key.name, "use " + key.allowed_text());
      out.emplace_back(key.name, v ? json::Value(v->as_int()) : key.default_value);
    }
    out.emplace_back(keys::kSubtiles, normalize_subtiles(block_sizes));
    for (const char* name : {keys::kIndexing, keys::kAtomicIndexing, keys::kLoadEvictionPolicies,
                             keys::kLoadCacheModifiers, keys::kStoreCacheModifiers}) {
      const ConfigKey& key = config_key(name);
      out.emplace_back(key.name, entries(key, [&](size_t i, const json::Value& e) {
        if (!key.accepts(e))
          fail(key.name, "entry " + std::to_string(i) + " is " + json::dump(e) + "; use " + key.allowed_text());
      }));
    }
    for (const auto& key : config_keys()) {
      bool present = false;
      for (const auto& [k, v] : out) present = present || k == key.name;
      DEUTERON_CHECK(present, std::string("the normalizer does not handle config key '") + key.name + "'");
    }
    normalize_tunables(out);
    (void)device;
    return json::Value(std::move(out));
  }

 private:
  json::Value normalize_block_sizes() {
    const ConfigKey& key = config_key(keys::kBlockSizes);
    const auto& specs = spec_.block_sizes;
    return entries(key, [&](size_t i) {
      return json::Value(std::clamp<int64_t>(key.default_value.as_int(), specs[i].min, std::max(specs[i].min, specs[i].max)));
    }, [&](size_t i, const json::Value& v) {
      int64_t b = as_int(key.name, v);
      if (!is_pow2(b)) fail(key.name, "entry " + std::to_string(i) + " is " + std::to_string(b) + "; block sizes must be powers of two");
      // A matmul dim's search minimum (16) is not a limit: smaller blocks
      // compute the product without tl.dot.
      int64_t least = specs[i].used_in_dot ? std::min(specs[i].min, specs[i].min_allowed) : specs[i].min;
      if (b < least)
        fail(key.name, "entry " + std::to_string(i) + " (" + specs[i].origin + ") is " + std::to_string(b) +
                           "; it must be at least " + std::to_string(least));
      if (b > key.max) fail(key.name, "entry " + std::to_string(i) + " is too large (max 2**20)");
      if (b > specs[i].max_allowed)
        fail(key.name, "entry " + std::to_string(i) + " (" + specs[i].origin + ") is " + std::to_string(b) +
                           "; it must be at most " + std::to_string(specs[i].max_allowed) +
                           (specs[i].max_allowed_why.empty() ? "" : ": " + specs[i].max_allowed_why));
    });
  }

  // None (persistent) or a power of two below the extent.
  json::Value normalize_reduction_loops() {
    const ConfigKey& key = config_key(keys::kReductionLoops);
    const json::Value* v = get(key.name);
    const size_t n = spec_.entries(key.per);
    // One value (reduction_loops=32, as Helion accepts) stands for every
    // reduction loop; a shorter list is completed with the default (None).
    const bool one_for_all = v && !v->is_array() && key.one_value_for_all;
    if (v && !one_for_all && (!v->is_array() || v->size() > n))
      fail(key.name, "expected a list of at most " + std::to_string(n) + " entries (" + key.allowed_text() + "), got " +
                         json::dump(*v));
    json::Array rl;
    for (size_t i = 0; i < n; ++i) {
      const json::Value& e = one_for_all ? *v : v && i < v->size() ? (*v)[i] : key.default_value;
      if (e.is_null()) {
        if (!spec_.reduction_loops[i].extent.is_constant())
          rl.push_back(json::Value(int64_t{4096}));  // a symbolic extent cannot be held in registers
        else
          rl.push_back(json::Value());
        continue;
      }
      int64_t b = as_int(key.name, e);
      if (!key.accepts(e)) fail(key.name, "entry " + std::to_string(i) + " is " + std::to_string(b) + "; use " + key.allowed_text());
      auto ext = spec_.reduction_loops[i].extent.as_constant();
      if (ext && b >= *ext)
        rl.push_back(json::Value());  // a loop as wide as the dim is the persistent form
      else
        rl.push_back(json::Value(b));
    }
    return json::Value(std::move(rl));
  }

  // Permutations of each multi-dimensional grid's dims.
  json::Value normalize_loop_orders() {
    const ConfigKey& key = config_key(keys::kLoopOrders);
    const json::Value* v = get(key.name);
    const size_t n = spec_.entries(key.per);
    if (v && (!v->is_array() || v->size() > n))
      fail(key.name, "expected at most " + std::to_string(n) + " permutation(s), got " + json::dump(*v) +
                         entries_note(key.per));
    json::Array lo;
    for (size_t i = 0; i < n; ++i) {
      int r = spec_.loop_order_sizes[i];
      json::Array perm;
      if (v && i < v->size()) {
        const json::Value& p = (*v)[i];
        if (!p.is_array() || static_cast<int>(p.size()) != r)
          fail(key.name, "entry " + std::to_string(i) + " must be a permutation of " + std::to_string(r) + " dims");
        for (size_t j = 0; j < p.size(); ++j) perm.push_back(json::Value(as_int(key.name, p[j])));
        if (!key.accepts(json::Value(perm)))
          fail(key.name, "entry " + std::to_string(i) + " (" + json::dump(p) + ") is not a permutation of 0.." + std::to_string(r - 1));
      } else {
        for (int j = 0; j < r; ++j) perm.push_back(json::Value(j));
      }
      lo.push_back(json::Value(std::move(perm)));
    }
    return json::Value(std::move(lo));
  }

  json::Value scalar_int(const ConfigKey& key) {
    const json::Value* v = get(key.name);
    int64_t x = v ? as_int(key.name, *v) : key.default_value.as_int();
    if (!key.accepts(json::Value(x))) fail(key.name, std::to_string(x) + " is not allowed; use " + key.allowed_text());
    return json::Value(x);
  }

  // Sub-tiles of the grid tile that feeds a dot's rows (grid_subtiling.cc).
  json::Value normalize_subtiles(const json::Value& blocks) {
    const ConfigKey& key = config_key(keys::kSubtiles);
    json::Value n = scalar_int(key);
    if (n == key.default_value) return n;
    if (!spec_.subtilable())
      fail(key.name, "this kernel has no grid tile that feeds the rows of a dot (and stays a tile throughout), "
                     "so it has nothing to split; use " + json::dump(key.default_value));
    const int64_t parts = n.as_int();
    for (const auto& k : spec_.kernels) {
      if (!k.subtilable()) continue;
      int64_t block = k.subtile_block([&](int i) { return blocks[static_cast<size_t>(i)].as_int(); });
      if (block / parts < target::kMinDotDim)
        fail(key.name, std::to_string(parts) + " sub-tiles of a " + std::to_string(block) + "-row block are under " +
                           std::to_string(target::kMinDotDim) + " rows, the smallest a dot takes; use a block of at least " +
                           std::to_string(target::kMinDotDim * parts) + " or fewer sub-tiles");
    }
    return n;
  }

  void normalize_tunables(json::Object& out) {
    for (const auto& t : spec_.tunables) {
      const json::Value* v = in_.find(t.name);
      json::Value val = v ? *v : json::parse(t.default_repr);
      switch (t.kind) {
        case TunableSpec::Kind::Boolean:
          if (!val.is_bool()) fail(t.name, "expected True or False, got " + json::dump(val));
          break;
        case TunableSpec::Kind::PowerOfTwo:
        case TunableSpec::Kind::Integer: {
          int64_t x = as_int(t.name, val);
          if (x < t.low || x > t.high || (t.kind == TunableSpec::Kind::PowerOfTwo && !is_pow2(x)))
            fail(t.name, std::to_string(x) + " is outside the tunable's range: " +
                             (t.kind == TunableSpec::Kind::PowerOfTwo ? "powers of two " : "integers ") + "from " +
                             std::to_string(t.low) + " to " + std::to_string(t.high));
          break;
        }
        case TunableSpec::Kind::Enum:
          if (std::find(t.choices.begin(), t.choices.end(), json::dump(val)) == t.choices.end())
            fail(t.name, json::dump(val) + " is not one of the tunable's choices " + list_str(t.choices));
          break;
      }
      out.emplace_back(t.name, val);
    }
  }

  const ConfigSpec& spec_;
  const json::Value& in_;
};

}  // namespace

json::Value ConfigSpec::normalize(const json::Value& config, const DeviceInfo& device) const {
  if (!config.is_object()) throw ConfigError("a config must be a JSON object, got " + json::dump(config));
  json::Value out = Normalizer(*this, flatten_nested_lists(config)).run(device);
  canonicalize(out, device);
  return out;
}

}  // namespace deuteron
