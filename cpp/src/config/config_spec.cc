// Deriving the config space from a Program, defaults, and validation.
#include <algorithm>
#include <set>

#include "deuteron/config.h"
#include "deuteron/passes.h"

namespace deuteron {

namespace {

bool is_pow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

int64_t hint_or(const SymInt& s, int64_t dflt) { return s.hint().value_or(dflt); }

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

// A grid can be flattened into one linear index space when the kernel is
// pointwise over exactly its grid dims: every value's axes are grid tiles (or
// size-1), and nothing needs the 2-D block structure (no reductions, matmuls,
// permutes, reshapes, inner loops, tile attributes, whole dims).
bool flattenable(const ir::DeviceKernel& k) {
  if (k.grid_dims.size() < 2) return false;
  for (int d : k.grid_dims)
    if (k.dim(d).kind != ir::DimKind::Tile || k.dim(d).dynamic_bounds) return false;
  bool ok = true;
  auto grid_only = [&](const std::vector<int>& dims) {
    for (int d : dims)
      if (d != ir::kBroadcast && std::find(k.grid_dims.begin(), k.grid_dims.end(), d) == k.grid_dims.end())
        ok = false;
  };
  ir::walk(k.body, [&](const ir::Op& op) {
    switch (op.kind) {
      case ir::OpKind::Reduce:
      case ir::OpKind::Scan:
      case ir::OpKind::CombineReduce:
      case ir::OpKind::Dot:
      case ir::OpKind::Permute:
      case ir::OpKind::Reshape:
      case ir::OpKind::Squeeze:
      case ir::OpKind::For:
      case ir::OpKind::If:
      case ir::OpKind::TileBegin:
      case ir::OpKind::TileEnd:
      case ir::OpKind::TileBlockSize:
      case ir::OpKind::TileId:
      case ir::OpKind::TileCount:
      case ir::OpKind::Arange: ok = false; break;
      default: break;
    }
    for (const auto& r : op.results) grid_only(r->type.dims);
    for (const auto& ix : op.attrs.index)
      if (ix.kind == ir::IndexSpec::Kind::TileDim) grid_only({ix.dim});
  });
  return ok;
}

AxisSize axis_size(const ir::DeviceKernel& k, int dim) {
  AxisSize a;
  if (dim == ir::kBroadcast) return a;
  const ir::Dim& d = k.dim(dim);
  if (d.kind == ir::DimKind::Tile && d.fixed_block_size) a.extent = *d.fixed_block_size;
  else if (d.kind == ir::DimKind::Tile) a.block_size_index = d.block_size_index;
  else a.extent = next_power_of_2(hint_or(d.extent(), 1024));
  return a;
}

std::vector<AxisSize> axis_sizes(const ir::DeviceKernel& k, const ir::Type& t) {
  std::vector<AxisSize> out;
  for (int d : t.dims) out.push_back(axis_size(k, d));
  return out;
}

// Op id of the innermost For around `op`, or -1.
int enclosing_loop(const ir::Op& op) {
  for (const ir::Region* r = op.parent; r && r->parent; r = r->parent->parent)
    if (r->parent->kind == ir::OpKind::For) return r->parent->id;
  return -1;
}

// Where a dot operand comes from: through layout-only ops (casts, permutes,
// views) to a load, or computed.
DotSummary::Operand dot_operand(const ir::DeviceKernel& k, const ir::Value* v) {
  DotSummary::Operand o;
  o.axes = axis_sizes(k, v->type);
  o.element_bytes = byte_size(v->type.dtype);
  while (v->def) {
    const ir::Op& op = *v->def;
    if (op.kind == ir::OpKind::Load) {
      o.source = enclosing_loop(op) >= 0 ? DotSummary::Operand::Source::LoadedInLoop
                                         : DotSummary::Operand::Source::LoadedOnce;
      o.load = op.id;
      break;
    }
    bool layout = op.kind == ir::OpKind::Cast || op.kind == ir::OpKind::Permute || op.kind == ir::OpKind::Reshape ||
                  op.kind == ir::OpKind::ExpandDims || op.kind == ir::OpKind::Squeeze ||
                  op.kind == ir::OpKind::BroadcastTo;
    if (!layout || op.operands.empty()) break;
    v = op.operands[0];
  }
  return o;
}

}  // namespace

const std::vector<std::string>& ConfigSpec::known_keys() {
  static const std::vector<std::string> keys = {
      "block_sizes", "loop_orders", "flatten_loops", "l2_groupings", "reduction_loops", "static_ranges",
      "range_unroll_factors", "range_num_stages", "range_multi_buffers", "range_flattens",
      "range_warp_specializes", "num_warps", "num_stages", "pid_type", "num_sm_multiplier", "maxnreg",
      "subtiles", "indexing", "atomic_indexing", "load_eviction_policies", "load_cache_modifiers", "store_cache_modifiers"};
  return keys;
}

ConfigSpec derive_config_spec(const Program& program) {
  ConfigSpec spec;
  spec.block_sizes = program.block_sizes;
  spec.reduction_loops = program.reduction_loops;
  spec.tunables = program.tunables;
  for (size_t k = 0; k < program.kernels.size(); ++k) {
    const ir::DeviceKernel& kernel = *program.kernels[k];
    KernelSummary sum;
    int tile_dims = 0;
    for (int d : kernel.grid_dims) {
      const ir::Dim& dim = kernel.dim(d);
      sum.grid_block_sizes.push_back(dim.block_size_index);
      sum.grid_extents.push_back(hint_or(dim.extent(), 1024));
      if (dim.kind == ir::DimKind::Tile) ++tile_dims;
    }
    for (const auto& d : kernel.dims)
      if (d.kind == ir::DimKind::Full) sum.full_extents.push_back(hint_or(d.extent(), 1024));
    sum.max_element_bytes = 1;  // the summary's default (4) is for specs read without tensors
    for (const auto& t : kernel.tensors) sum.max_element_bytes = std::max(sum.max_element_bytes, byte_size(t.dtype));
    if (kernel.grid_dims.size() >= 2) {
      spec.loop_order_sizes.push_back(static_cast<int>(kernel.grid_dims.size()));
      spec.loop_order_kernels.push_back(static_cast<int>(k));
      spec.flatten_allowed.push_back(flattenable(kernel));
    }
    if (tile_dims >= 2) spec.l2_grouping_kernels.push_back(static_cast<int>(k));
    spec.max_grid_rank = std::max<int>(spec.max_grid_rank, static_cast<int>(kernel.grid_dims.size()));
    spec.kernel_load_offset.push_back(spec.num_loads);
    spec.kernel_store_offset.push_back(spec.num_stores);
    spec.num_loads += kernel.num_loads;
    spec.num_stores += kernel.num_stores;
    // Inner loops in pre-order.
    std::function<void(const ir::Region&)> scan = [&](const ir::Region& r) {
      for (const auto& op : r.ops) {
        if (op->kind == ir::OpKind::Dot) {
          sum.has_dot = true;
          spec.has_dot = true;
          DotSummary dot;
          dot.result = axis_sizes(kernel, op->result()->type);
          dot.loop = enclosing_loop(*op);
          dot.a = dot_operand(kernel, op->operands[0]);
          dot.b = dot_operand(kernel, op->operands[1]);
          sum.dots.push_back(std::move(dot));
        }
        if (op->kind == ir::OpKind::Reduce || op->kind == ir::OpKind::Scan || op->kind == ir::OpKind::CombineReduce) {
          sum.has_reduction = true;
          spec.has_reduction = true;
        }
        if (op->kind == ir::OpKind::For) {
          sum.has_inner_loop = true;
          InnerLoopInfo info;
          info.kernel = static_cast<int>(k);
          info.op_id = op->id;
          info.dim = op->attrs.dim;
          const ir::Dim& dim = kernel.dim(op->attrs.dim);
          info.is_tile = dim.kind == ir::DimKind::Tile;
          if (!dim.dynamic_bounds) info.extent = dim.extent().as_constant();
          info.fixed_block = dim.fixed_block_size;
          info.block_size_index = dim.block_size_index;
          if (info.extent) {
            if (!info.is_tile) info.trip_count = *info.extent;
            else if (dim.fixed_block_size) info.trip_count = (*info.extent + *dim.fixed_block_size - 1) / *dim.fixed_block_size;
          }
          ir::walk(*op->regions[0], [&](const ir::Op& inner) {
            if (inner.kind == ir::OpKind::Dot) info.contains_dot = true;
            if (inner.kind == ir::OpKind::Load) info.contains_loads = true;
          });
          spec.inner_loops.push_back(info);
        }
        for (const auto& sub : op->regions) scan(*sub);
      }
    };
    scan(kernel.body);
    if (auto d = passes::subtilable_dim(kernel)) {
      const ir::Dim& dim = kernel.dim(*d);
      if (dim.fixed_block_size) sum.subtile_fixed_block = *dim.fixed_block_size;
      else sum.subtile_block_size_index = dim.block_size_index;
    }
    spec.kernels.push_back(sum);
  }
  return spec;
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
    bs.push_back(json::Value(std::move(e)));
  }
  o.emplace_back("block_sizes", json::Value(std::move(bs)));
  json::Array rl;
  for (const auto& r : reduction_loops) {
    json::Object e;
    e.emplace_back("extent", json::Value(r.extent.str()));
    e.emplace_back("origin", json::Value(r.origin));
    rl.push_back(json::Value(std::move(e)));
  }
  o.emplace_back("reduction_loops", json::Value(std::move(rl)));
  json::Array lo;
  for (int n : loop_order_sizes) lo.push_back(json::Value(n));
  o.emplace_back("loop_orders", json::Value(std::move(lo)));
  o.emplace_back("l2_groupings", json::Value(static_cast<int64_t>(l2_grouping_kernels.size())));
  o.emplace_back("inner_loops", json::Value(static_cast<int64_t>(inner_loops.size())));
  o.emplace_back("num_loads", json::Value(num_loads));
  o.emplace_back("num_stores", json::Value(num_stores));
  json::Array tun;
  for (const auto& t : tunables) tun.push_back(json::Value(t.name));
  o.emplace_back("tunables", json::Value(std::move(tun)));
  // The values `subtiles` may take (grid_subtiling.cc).
  json::Array sub = {json::Value(1)};
  if (subtilable())
    for (int64_t n : {2, 4}) sub.push_back(json::Value(n));
  o.emplace_back("subtiles", json::Value(std::move(sub)));
  return json::Value(std::move(o));
}

// ------------------------------------------------------------ defaults

// The op id of kernel k's key loop when k is a flash attention (one inner
// loop, in it a dot of loaded operands whose result feeds, through registers,
// a second dot with a loaded operand), or -1.  On the H200 such kernels ran
// fastest as Triton 3.6 compiles them with warp specialization: a
// hand-written bf16 B4 H16 S4096 D128 forward reached 586 TFLOP/s (0.86x
// SDPA) with 128x128 blocks, 4 warps, 2 stages and 2-D descriptors, against
// 553 for the best configuration without it (benchmarks/attention_ceiling.py).
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
    if (device.compute_capability / 10 == 9 && kernels[k].max_element_bytes <= 2)
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
      num_warps = std::max(num_warps, 8);
      num_stages = std::max(num_stages, 3);
      // Batch-like grid tiles of a dot kernel (attention's batch*heads) take
      // one index per program: every extra one multiplies the accumulators.
      for (int idx : s.grid_block_sizes)
        if (idx >= 0 && !block_sizes[idx].used_in_dot) bs[idx] = 1;
      // Large 16-bit matmuls on Hopper: 128x256 output tiles.  On the H200
      // (4096^3 bf16) they ran at 747 TFLOP/s against 692 for 128x128 and 743
      // for cuBLAS; with 3 stages they use 144 KB of shared memory.
      std::vector<size_t> mn;
      for (size_t g = 0; g < s.grid_block_sizes.size(); ++g) {
        int idx = s.grid_block_sizes[g];
        if (idx >= 0 && block_sizes[idx].used_in_dot && !block_sizes[idx].is_reduction_like) mn.push_back(g);
      }
      if (device.is_cuda && device.compute_capability >= 90 && s.max_element_bytes <= 2 && mn.size() == 2 &&
          s.grid_extents[mn[0]] >= 2048 && s.grid_extents[mn[1]] >= 2048)
        bs[s.grid_block_sizes[mn[1]]] = 256;
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
      bs[i] = std::min<int64_t>(next_power_of_2(extent_of(i)), target);
      inner = std::max(inner, bs[i]);
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
  for (size_t i = 0; i < block_sizes.size(); ++i) {
    const BlockSizeSpec& b = block_sizes[i];
    if (bs[i] == 0) bs[i] = std::min<int64_t>(next_power_of_2(extent_of(i)), 1024);
    bs[i] = std::clamp<int64_t>(bs[i], b.min, std::max(b.min, b.max));
  }
  json::Object o;
  json::Array bsa;
  for (int64_t v : bs) bsa.push_back(json::Value(v));
  o.emplace_back("block_sizes", json::Value(std::move(bsa)));
  // Rows that fit in registers stay persistent; longer ones loop in chunks.
  json::Array rl;
  for (const auto& r : reduction_loops) {
    int64_t e = r.extent.hint().value_or(1 << 20);
    rl.push_back(e > 16384 || !r.extent.is_constant() ? json::Value(int64_t{4096}) : json::Value());
  }
  o.emplace_back("reduction_loops", json::Value(std::move(rl)));
  o.emplace_back("num_warps", json::Value(num_warps));
  o.emplace_back("num_stages", json::Value(num_stages));
  if (flash) {
    json::Array ws, orders, l2;
    for (const auto& l : inner_loops)
      ws.push_back(flash_loops.at(l.kernel) == l.op_id ? json::Value(true) : json::Value());
    for (size_t i = 0; i < loop_order_sizes.size(); ++i) {
      // The query-block dim (the grid's last) varies fastest: a head's K and V stay in L2.
      json::Array order;
      bool swap = flash_loops.at(loop_order_kernels[i]) >= 0 && loop_order_sizes[i] == 2;
      for (int d = 0; d < loop_order_sizes[i]; ++d) order.push_back(json::Value(int64_t{swap ? 1 - d : d}));
      orders.push_back(json::Value(std::move(order)));
    }
    for (int kern : l2_grouping_kernels) l2.push_back(json::Value(int64_t{flash_loops.at(kern) >= 0 ? 1 : 8}));
    o.emplace_back("range_warp_specializes", json::Value(std::move(ws)));
    o.emplace_back("loop_orders", json::Value(std::move(orders)));
    o.emplace_back("l2_groupings", json::Value(std::move(l2)));
    o.emplace_back("indexing", json::Value("tensor_descriptor"));
  }
  return normalize(json::Value(std::move(o)), device);
}

// ------------------------------------------------------------ validation

namespace {

class Normalizer {
 public:
  // block_sizes[i] of the config being built.
  static int64_t out_block_size(const json::Object& out, int i) {
    for (const auto& [k, v] : out)
      if (k == "block_sizes") return v.as_array().at(i).as_int();
    return 0;
  }

  Normalizer(const ConfigSpec& spec, const json::Value& in) : spec_(spec), in_(in) {}

  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw ConfigError("config key '" + key + "': " + msg);
  }

  const json::Value* get(const std::string& key) const {
    const json::Value* v = in_.find(key);
    return (v && !v->is_null()) ? v : nullptr;
  }

  json::Value int_list(const std::string& key, size_t n, const std::function<json::Value(size_t)>& dflt,
                       const std::function<void(size_t, const json::Value&)>& check) {
    const json::Value* v = get(key);
    json::Array out;
    if (!v) {
      for (size_t i = 0; i < n; ++i) out.push_back(dflt(i));
      return json::Value(std::move(out));
    }
    if (!v->is_array()) {
      // A single value applies to every entry (as Helion allows for some keys).
      for (size_t i = 0; i < n; ++i) {
        check(i, *v);
        out.push_back(*v);
      }
      return json::Value(std::move(out));
    }
    if (v->size() != n)
      fail(key, "expected " + std::to_string(n) + " entr" + (n == 1 ? "y" : "ies") + ", got " +
                    std::to_string(v->size()) + " (" + json::dump(*v) + ")");
    for (size_t i = 0; i < n; ++i) {
      check(i, (*v)[i]);
      out.push_back((*v)[i]);
    }
    return json::Value(std::move(out));
  }

  int64_t as_int(const std::string& key, const json::Value& v) const {
    if (!v.is_int() && !(v.is_double() && v.as_double() == static_cast<double>(static_cast<int64_t>(v.as_double()))))
      fail(key, "expected an int, got " + json::dump(v));
    return v.as_int();
  }

  json::Value run(const DeviceInfo& device) {
    // Unknown keys.
    std::set<std::string> tunable_names;
    for (const auto& t : spec_.tunables) tunable_names.insert(t.name);
    const auto& known = ConfigSpec::known_keys();
    for (const auto& [k, v] : in_.as_object()) {
      if (std::find(known.begin(), known.end(), k) != known.end() || tunable_names.count(k)) continue;
      std::string best;
      size_t best_d = 4;
      for (const auto& c : known) {
        size_t d = edit_distance(k, c);
        if (d < best_d) { best_d = d; best = c; }
      }
      fail(k, "not a config key of this kernel" + (best.empty() ? std::string() : "; did you mean '" + best + "'?"));
    }
    json::Object out;
    const size_t nbs = spec_.block_sizes.size();
    out.emplace_back("block_sizes", int_list("block_sizes", nbs, [&](size_t i) {
      return json::Value(std::clamp<int64_t>(64, spec_.block_sizes[i].min, std::max(spec_.block_sizes[i].min, spec_.block_sizes[i].max)));
    }, [&](size_t i, const json::Value& v) {
      int64_t b = as_int("block_sizes", v);
      if (!is_pow2(b)) fail("block_sizes", "entry " + std::to_string(i) + " is " + std::to_string(b) + "; block sizes must be powers of two");
      if (b < spec_.block_sizes[i].min)
        fail("block_sizes", "entry " + std::to_string(i) + " (" + spec_.block_sizes[i].origin + ") is " + std::to_string(b) +
                                "; it must be at least " + std::to_string(spec_.block_sizes[i].min) +
                                (spec_.block_sizes[i].used_in_dot ? " because it feeds a matmul" : ""));
      if (b > (int64_t{1} << 20)) fail("block_sizes", "entry " + std::to_string(i) + " is too large (max 2**20)");
    }));
    // Reduction loops: None (persistent) or a power of two below the extent.
    {
      const json::Value* v = get("reduction_loops");
      json::Array rl;
      size_t n = spec_.reduction_loops.size();
      if (v && (!v->is_array() || v->size() != n))
        fail("reduction_loops", "expected a list of " + std::to_string(n) + " entries (None or a power of two), got " + json::dump(*v));
      for (size_t i = 0; i < n; ++i) {
        const json::Value& e = v ? (*v)[i] : json::Value();
        if (e.is_null()) {
          if (!spec_.reduction_loops[i].extent.is_constant())
            rl.push_back(json::Value(int64_t{4096}));  // a symbolic extent cannot be held in registers
          else
            rl.push_back(json::Value());
          continue;
        }
        int64_t b = as_int("reduction_loops", e);
        if (!is_pow2(b)) fail("reduction_loops", "entry " + std::to_string(i) + " is " + std::to_string(b) + "; use None or a power of two");
        auto ext = spec_.reduction_loops[i].extent.as_constant();
        if (ext && b >= *ext)
          rl.push_back(json::Value());  // a loop as wide as the dim is the persistent form
        else
          rl.push_back(json::Value(b));
      }
      out.emplace_back("reduction_loops", json::Value(std::move(rl)));
    }
    // Loop orders: permutations; flatten_loops: bools.
    {
      const json::Value* v = get("loop_orders");
      size_t n = spec_.loop_order_sizes.size();
      if (v && (!v->is_array() || v->size() != n))
        fail("loop_orders", "expected " + std::to_string(n) + " permutation(s), got " + json::dump(*v));
      json::Array lo;
      for (size_t i = 0; i < n; ++i) {
        int r = spec_.loop_order_sizes[i];
        json::Array perm;
        if (v) {
          const json::Value& p = (*v)[i];
          if (!p.is_array() || static_cast<int>(p.size()) != r)
            fail("loop_orders", "entry " + std::to_string(i) + " must be a permutation of " + std::to_string(r) + " dims");
          std::vector<bool> seen(r, false);
          for (size_t j = 0; j < p.size(); ++j) {
            int64_t x = as_int("loop_orders", p[j]);
            if (x < 0 || x >= r || seen[x])
              fail("loop_orders", "entry " + std::to_string(i) + " (" + json::dump(p) + ") is not a permutation of 0.." + std::to_string(r - 1));
            seen[x] = true;
            perm.push_back(json::Value(x));
          }
        } else {
          for (int j = 0; j < r; ++j) perm.push_back(json::Value(j));
        }
        lo.push_back(json::Value(std::move(perm)));
      }
      out.emplace_back("loop_orders", json::Value(std::move(lo)));
      out.emplace_back("flatten_loops", int_list("flatten_loops", n, [](size_t) { return json::Value(false); },
                                                 [&](size_t i, const json::Value& e) {
                                                   if (!e.is_bool()) fail("flatten_loops", "entries must be True or False");
                                                   if (e.as_bool() && !(i < spec_.flatten_allowed.size() && spec_.flatten_allowed[i]))
                                                     fail("flatten_loops", "loop " + std::to_string(i) +
                                                                               " cannot be flattened: only pointwise kernels over their grid tiles can");
                                                 }));
    }
    out.emplace_back("l2_groupings", int_list("l2_groupings", spec_.l2_grouping_kernels.size(),
                                              [&](size_t) { return json::Value(spec_.has_dot ? 8 : 1); },
                                              [&](size_t, const json::Value& e) {
                                                int64_t g = as_int("l2_groupings", e);
                                                if (!is_pow2(g) || g > 64) fail("l2_groupings", "entries must be powers of two from 1 to 64, got " + json::dump(e));
                                              }));
    const size_t nl = spec_.inner_loops.size();
    auto opt_bool = [&](const std::string& key) {
      return int_list(key, nl, [](size_t) { return json::Value(); }, [&](size_t, const json::Value& e) {
        if (!e.is_null() && !e.is_bool()) fail(key, "entries must be None, True or False");
      });
    };
    // A static range needs a trip count known when compiling (it depends on
    // the block size chosen above).
    auto trip_count = [&](const InnerLoopInfo& l) -> std::optional<int64_t> {
      if (!l.extent) return std::nullopt;
      if (!l.is_tile) return *l.extent;
      int64_t b = l.fixed_block ? *l.fixed_block
                                : l.block_size_index >= 0 ? out_block_size(out, l.block_size_index) : 0;
      if (b <= 0) return std::nullopt;
      return (*l.extent + b - 1) / b;
    };
    out.emplace_back("static_ranges", int_list("static_ranges", nl, [](size_t) { return json::Value(false); },
                                               [&](size_t i, const json::Value& e) {
                                                 if (!e.is_bool()) fail("static_ranges", "entries must be True or False");
                                                 if (!e.as_bool()) return;
                                                 auto trips = trip_count(spec_.inner_loops[i]);
                                                 if (!trips)
                                                   fail("static_ranges", "loop " + std::to_string(i) + " has no trip count known at compile time, so it cannot be a static range");
                                                 if (*trips > 64)
                                                   fail("static_ranges", "loop " + std::to_string(i) + " runs " + std::to_string(*trips) + " times; static ranges unroll at most 64");
                                               }));
    out.emplace_back("range_unroll_factors", int_list("range_unroll_factors", nl, [](size_t) { return json::Value(0); },
                                                      [&](size_t, const json::Value& e) {
                                                        int64_t u = as_int("range_unroll_factors", e);
                                                        if (u < 0 || u > 4) fail("range_unroll_factors", "entries must be 0..4 (0 = no unrolling)");
                                                      }));
    out.emplace_back("range_num_stages", int_list("range_num_stages", nl, [](size_t) { return json::Value(0); },
                                                  [&](size_t, const json::Value& e) {
                                                    int64_t u = as_int("range_num_stages", e);
                                                    if (u < 0 || u > 4) fail("range_num_stages", "entries must be 0..4 (0 = the kernel's num_stages)");
                                                  }));
    out.emplace_back("range_multi_buffers", opt_bool("range_multi_buffers"));
    out.emplace_back("range_flattens", opt_bool("range_flattens"));
    out.emplace_back("range_warp_specializes", opt_bool("range_warp_specializes"));

    auto scalar_int = [&](const std::string& key, int64_t dflt, const std::function<bool(int64_t)>& ok,
                          const std::string& allowed) {
      const json::Value* v = get(key);
      int64_t x = v ? as_int(key, *v) : dflt;
      if (!ok(x)) fail(key, std::to_string(x) + " is not allowed; " + allowed);
      out.emplace_back(key, json::Value(x));
    };
    scalar_int("num_warps", 4, [](int64_t x) { return is_pow2(x) && x <= 32; }, "use a power of two from 1 to 32");
    scalar_int("num_stages", 1, [](int64_t x) { return x >= 1 && x <= 8; }, "use 1 to 8");
    {
      const json::Value* v = get("pid_type");
      std::string p = v ? (v->is_string() ? v->as_string() : "") : "flat";
      static const std::vector<std::string> kTypes = {"flat", "xyz", "persistent_blocked", "persistent_interleaved"};
      if (std::find(kTypes.begin(), kTypes.end(), p) == kTypes.end())
        fail("pid_type", (v ? json::dump(*v) : std::string("?")) + " is not allowed; use one of " + list_str(kTypes));
      if (p == "xyz" && spec_.max_grid_rank > 3)
        fail("pid_type", "'xyz' supports grids of up to 3 dims; this kernel has " + std::to_string(spec_.max_grid_rank));
      out.emplace_back("pid_type", json::Value(p));
    }
    scalar_int("num_sm_multiplier", 1, [](int64_t x) { return is_pow2(x) && x <= 128; }, "use a power of two from 1 to 128");
    {
      const json::Value* v = get("maxnreg");
      if (v) {
        int64_t r = as_int("maxnreg", *v);
        if (r < 32 || r > 256 || r % 8 != 0) fail("maxnreg", "use None or a multiple of 8 from 32 to 256");
        out.emplace_back("maxnreg", json::Value(r));
      } else {
        out.emplace_back("maxnreg", json::Value());
      }
    }
    {
      // Sub-tiles of the grid tile that feeds a dot's rows (grid_subtiling.cc).
      const json::Value* v = get("subtiles");
      int64_t n = v ? as_int("subtiles", *v) : 1;
      if (n != 1 && n != 2 && n != 4) fail("subtiles", std::to_string(n) + " is not allowed; use 1 (off), 2 or 4");
      if (n > 1) {
        if (!spec_.subtilable())
          fail("subtiles", "this kernel has no grid tile that feeds the rows of a dot (and stays a tile throughout), "
                           "so it has nothing to split; use 1");
        const json::Value& blocks = out.front().second;  // block_sizes, normalized above
        for (const auto& k : spec_.kernels) {
          if (!k.subtilable()) continue;
          int64_t block = k.subtile_block([&](int i) { return blocks[static_cast<size_t>(i)].as_int(); });
          if (block / n < kMinSubtileRows)
            fail("subtiles", std::to_string(n) + " sub-tiles of a " + std::to_string(block) + "-row block are under " +
                                 std::to_string(kMinSubtileRows) + " rows, the smallest a dot takes; use a block of at least " +
                                 std::to_string(kMinSubtileRows * n) + " or fewer sub-tiles");
        }
      }
      out.emplace_back("subtiles", json::Value(n));
    }
    auto string_list = [&](const std::string& key, size_t n, const std::string& dflt,
                           const std::vector<std::string>& allowed) {
      out.emplace_back(key, int_list(key, n, [&](size_t) { return json::Value(dflt); },
                                     [&](size_t i, const json::Value& e) {
                                       if (!e.is_string() ||
                                           std::find(allowed.begin(), allowed.end(), e.as_string()) == allowed.end())
                                         fail(key, "entry " + std::to_string(i) + " is " + json::dump(e) +
                                                       "; use one of " + list_str(allowed));
                                     }));
    };
    const std::vector<std::string> kIndexing = {"pointer", "tensor_descriptor", "block_ptr"};
    string_list("indexing", static_cast<size_t>(spec_.num_loads + spec_.num_stores), "pointer", kIndexing);
    string_list("atomic_indexing", 0, "pointer", kIndexing);
    string_list("load_eviction_policies", static_cast<size_t>(spec_.num_loads), "", {"", "first", "last"});
    string_list("load_cache_modifiers", static_cast<size_t>(spec_.num_loads), "", {"", ".ca", ".cg", ".cv"});
    string_list("store_cache_modifiers", static_cast<size_t>(spec_.num_stores), "", {"", ".wb", ".cg", ".cs", ".wt"});
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
    (void)device;
    return json::Value(std::move(out));
  }

 private:
  const ConfigSpec& spec_;
  const json::Value& in_;
};

}  // namespace

json::Value ConfigSpec::normalize(const json::Value& config, const DeviceInfo& device) const {
  if (!config.is_object()) throw ConfigError("a config must be a JSON object, got " + json::dump(config));
  return Normalizer(*this, config).run(device);
}

}  // namespace deuteron
