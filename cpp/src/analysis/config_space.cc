// The config space of a program, derived from its kernels' IR: what each
// kernel offers to tune (grids to order and flatten, inner loops, loads and
// stores) and what the autotuner's constraint model and the default config
// need to know about it (KernelSummary).
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "deuteron/analysis.h"

namespace deuteron::analysis {

namespace {

int64_t hint_or(const SymInt& s, int64_t dflt) { return s.hint().value_or(dflt); }

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
    for (size_t i = 0; i < dims.size(); ++i) {
      const int d = dims[i];
      if (d == ir::kBroadcast) continue;
      if (std::find(k.grid_dims.begin(), k.grid_dims.end(), d) == k.grid_dims.end()) ok = false;
      // One dim on two axes (x[t.index, t.index]) is two indices per flat lane.
      if (std::find(dims.begin() + i + 1, dims.end(), d) != dims.end()) ok = false;
    }
  };
  ir::walk(k.body, [&](const ir::Op& op) {
    switch (op.kind) {
      case ir::OpKind::Reduce:
      case ir::OpKind::Scan:
      case ir::OpKind::Sort:
      case ir::OpKind::Gather:
      case ir::OpKind::CombineReduce:
      case ir::OpKind::Dot:
      case ir::OpKind::Permute:
      case ir::OpKind::Reshape:
      case ir::OpKind::Squeeze:
      case ir::OpKind::For:
      case ir::OpKind::If:
      case ir::OpKind::While:
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
  // A block computed from tunables is at most the whole extent's power of 2:
  // sizing heuristics take that bound.
  else if (d.kind == ir::DimKind::Tile && d.config_block_size) a.extent = next_power_of_2(hint_or(d.extent(), 1024));
  else if (d.kind == ir::DimKind::Tile) a.block_size_index = d.block_size_index;
  else {
    a.extent = next_power_of_2(hint_or(d.extent(), 1024));
    a.reduction_loop_index = d.reduction_index;
  }
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
                  op.kind == ir::OpKind::BroadcastTo || op.kind == ir::OpKind::BlockLanes;
    if (!layout || op.operands.empty()) break;
    v = op.operands[0];
  }
  return o;
}

// The loops of the program as Helion's _add_config_choices meets them (in
// source order), with their block keys: a dim's block size, or a key of its
// own for a dim without one (a fixed block, an hl.grid index).
class LoopEntryBuilder {
 public:
  explicit LoopEntryBuilder(ConfigSpec& spec) : spec_(spec) {}

  int64_t key(const ir::DeviceKernel& k, int kernel, int dim) {
    const ir::Dim& d = k.dim(dim);
    if (d.kind == ir::DimKind::Tile && d.block_size_index >= 0) return d.block_size_index;
    auto [it, fresh] = own_keys_.emplace(std::make_pair(kernel, dim), kOwnKeys + static_cast<int64_t>(own_keys_.size()));
    (void)fresh;
    return it->second;
  }

  // A loop written over the dims `dims` (in written order): a kernel's grid
  // (is_grid) or an inner nest.
  void multi_dim_loop(const ir::DeviceKernel& k, int kernel, bool is_grid, const std::vector<int>& dims) {
    std::vector<int64_t> keys;
    for (int d : dims) keys.push_back(key(k, kernel, d));
    MultiDimLoop m;
    m.kernel = kernel;
    m.grid = is_grid;
    m.first_dim = is_grid ? -1 : dims.front();
    m.rank = static_cast<int>(dims.size());
    if (is_grid) {
      m.flattenable = flattenable(k);
    } else if (std::optional<FlatNestShape> shape = flat_nest_shape(k, dims)) {
      m.flattenable = true;
      for (const auto& op : shape->inner->regions[0]->ops) {
        if (op->kind == ir::OpKind::Load) m.loads.push_back(op->attrs.memory_op);
        if (op->kind == ir::OpKind::Store) m.stores.push_back(op->attrs.memory_op);
      }
    }
    orders_.add(keys);
    // Helion offers flattening for hl.tile loops whose every begin is 0.
    bool zero_begins = true;
    for (int d : dims) {
      const ir::Dim& dim = k.dim(d);
      zero_begins = zero_begins && dim.kind == ir::DimKind::Tile && !dim.dynamic_bounds && dim.begin.is_constant() &&
                    dim.begin.constant() == 0;
    }
    if (zero_begins) flattens_.add(keys);
    if (is_grid) l2_.add(keys);
    loops_.push_back(m);
    loop_keys_.push_back(keys);
  }
  void grid_loop(const ir::DeviceKernel& k, int kernel) {
    std::vector<int64_t> keys;
    for (int d : k.grid_dims) keys.push_back(key(k, kernel, d));
    if (keys.empty()) keys.push_back(kOwnKeys - 1 - kernel);  // a grid of no dims
    grid_keys_.push_back(keys.front());
    ranges_.add(std::move(keys));
  }
  void inner_loop(const ir::DeviceKernel& k, int kernel, const ir::Dim& dim) {
    const int64_t key_ = key(k, kernel, dim.id);
    if (dim.static_range_ok) statics_.add({key_});
    ranges_.add({key_});
    inner_keys_.push_back(key_);
  }
  // Helion drops the flatten entries whose dims some value holds only
  // partly, or not side by side in order (FlattenedTileStrategy.
  // update_allow_flattened): `shape` is one value's axes as block keys (-1:
  // an axis no loop's key names).
  void value_shape(const std::vector<int64_t>& shape) { shapes_.push_back(shape); }

  void finish(bool range_num_stages_off) {
    for (const auto& shape : shapes_) {
      std::map<int64_t, size_t> pos;
      for (size_t i = 0; i < shape.size(); ++i)
        if (shape[i] >= 0) pos[shape[i]] = i;
      for (size_t e = 0; e < flattens_.size();) {
        const std::vector<int64_t> keys = flattens_.keys(e);
        size_t held = 0;
        for (int64_t x : keys) held += pos.count(x);
        bool ok = held == 0 || held == keys.size();
        for (size_t i = 0; ok && held && i + 1 < keys.size(); ++i) ok = pos[keys[i]] + 1 == pos[keys[i + 1]];
        if (ok) {
          ++e;
        } else {
          flattens_.disable(keys.front());
          e = 0;  // entries moved: check this shape again from the start
        }
      }
    }
    for (LoopEntryList* l : {&orders_, &flattens_, &l2_, &ranges_, &statics_}) l->remove_duplicates();

    for (size_t i = 0; i < loops_.size(); ++i) {
      MultiDimLoop& m = loops_[i];
      const int64_t first = loop_keys_[i].front();
      m.loop_order_entry = orders_.lookup(first);
      m.flatten_entry = flattens_.lookup(first);
      if (m.grid) spec_.kernels.at(static_cast<size_t>(m.kernel)).l2_grouping_entry = l2_.lookup(first);
    }
    spec_.loop_order_sizes.assign(orders_.size(), 0);
    spec_.loop_order_kernels.assign(orders_.size(), -1);
    for (size_t e = 0; e < orders_.size(); ++e) spec_.loop_order_sizes[e] = static_cast<int>(orders_.keys(e).size());
    spec_.flatten_allowed.assign(flattens_.size(), true);
    for (const auto& m : loops_) {
      if (m.loop_order_entry >= 0 && spec_.loop_order_kernels[m.loop_order_entry] < 0)
        spec_.loop_order_kernels[m.loop_order_entry] = m.kernel;
      if (m.flatten_entry >= 0 && !m.flattenable) spec_.flatten_allowed[m.flatten_entry] = false;
    }
    spec_.l2_grouping_kernels.assign(l2_.size(), -1);
    for (size_t k = 0; k < spec_.kernels.size(); ++k) {
      const int e = spec_.kernels[k].l2_grouping_entry;
      if (e >= 0 && spec_.l2_grouping_kernels[e] < 0) spec_.l2_grouping_kernels[e] = static_cast<int>(k);
    }
    spec_.multi_dim_loops = std::move(loops_);

    spec_.range_entries = static_cast<int>(ranges_.size());
    spec_.range_num_stages_off = range_num_stages_off;
    spec_.static_range_entries = static_cast<int>(statics_.size());
    for (size_t k = 0; k < spec_.kernels.size(); ++k) spec_.kernels[k].grid_range_entry = ranges_.lookup(grid_keys_[k]);
    for (size_t i = 0; i < spec_.inner_loops.size(); ++i) {
      spec_.inner_loops[i].range_entry = ranges_.lookup(inner_keys_[i]);
      spec_.inner_loops[i].static_range_entry = statics_.lookup(inner_keys_[i]);
    }
  }

 private:
  static constexpr int64_t kOwnKeys = int64_t{1} << 40;
  ConfigSpec& spec_;
  std::map<std::pair<int, int>, int64_t> own_keys_;
  LoopEntryList orders_, flattens_, l2_, ranges_, statics_;
  std::vector<MultiDimLoop> loops_;
  std::vector<std::vector<int64_t>> loop_keys_;
  std::vector<int64_t> grid_keys_, inner_keys_;
  std::vector<std::vector<int64_t>> shapes_;
};

}  // namespace

ConfigSpec derive_config_spec(const std::vector<const ir::DeviceKernel*>& kernels,
                              std::vector<BlockSizeSpec> block_sizes,
                              std::vector<ReductionLoopSpec> reduction_loops, std::vector<TunableSpec> tunables,
                              bool reads_and_writes_an_argument,
                              const std::vector<std::vector<std::vector<int>>>& expression_shapes) {
  ConfigSpec spec;
  spec.block_sizes = std::move(block_sizes);
  spec.reduction_loops = std::move(reduction_loops);
  spec.tunables = std::move(tunables);
  LoopEntryBuilder entries(spec);
  for (size_t k = 0; k < kernels.size(); ++k) {
    const ir::DeviceKernel& kernel = *kernels[k];
    const int ki = static_cast<int>(k);
    if (kernel.grid_dims.size() >= 2) entries.multi_dim_loop(kernel, ki, /*is_grid=*/true, kernel.grid_dims);
    entries.grid_loop(kernel, ki);
    // Which nest (ir::DeviceKernel::nests) an inner loop's dim starts.
    std::map<int, const std::vector<int>*> nest_of;
    for (const auto& n : kernel.nests) nest_of[n.front()] = &n;
    KernelSummary sum;
    for (int d : kernel.grid_dims) {
      const ir::Dim& dim = kernel.dim(d);
      sum.grid_block_sizes.push_back(dim.block_size_index);
      sum.grid_extents.push_back(hint_or(dim.extent(), 1024));
    }
    for (const auto& d : kernel.dims)
      if (d.kind == ir::DimKind::Full) sum.full_extents.push_back(hint_or(d.extent(), 1024));
    sum.max_element_bytes = 1;  // the summary's default (4) is for specs read without tensors
    for (const auto& t : kernel.tensors) sum.max_element_bytes = std::max(sum.max_element_bytes, byte_size(t.dtype));
    spec.max_grid_rank = std::max<int>(spec.max_grid_rank, static_cast<int>(kernel.grid_dims.size()));
    spec.kernel_load_offset.push_back(spec.num_loads);
    spec.kernel_store_offset.push_back(spec.num_stores);
    spec.num_loads += kernel.num_loads;
    spec.num_stores += kernel.num_stores;
    // Helion's kernel_tensor_sizes: the tensors the source's expressions
    // compute (not the values sema makes along the way, like hl.rand's
    // implicit offsets).
    auto record_shape = [&](const std::vector<int>& dims) {
      if (dims.empty()) return;
      std::vector<int64_t> shape;
      for (int d : dims)
        shape.push_back(d == ir::kBroadcast || d < 0 || d >= static_cast<int>(kernel.dims.size()) ||
                                kernel.dim(d).kind == ir::DimKind::Full
                            ? -1
                            : entries.key(kernel, ki, d));
      entries.value_shape(shape);
    };
    const bool expressions = k < expression_shapes.size();
    if (expressions)
      for (const auto& dims : expression_shapes[k]) record_shape(dims);
    auto record_unknown_extent_value = [&](const ir::Type& t) {
      std::vector<AxisSize> axes = axis_sizes(kernel, t);
      bool unknown = false;
      for (const auto& a : axes)
        if (a.block_size_index >= 0 && spec.block_sizes.at(a.block_size_index).extent_unknown()) unknown = true;
      if (!unknown) return;
      auto same = [&](const std::vector<AxisSize>& o) {
        if (o.size() != axes.size()) return false;
        for (size_t i = 0; i < o.size(); ++i)
          if (o[i].block_size_index != axes[i].block_size_index || o[i].extent != axes[i].extent) return false;
        return true;
      };
      if (std::none_of(sum.unknown_extent_values.begin(), sum.unknown_extent_values.end(), same))
        sum.unknown_extent_values.push_back(std::move(axes));
    };
    // The whole dims of each reduction_loops entry (a rolled contraction's).
    const std::map<int, std::set<int>> entries_by_index = ir::dims_by_reduction_entry(kernel);
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
          // A contraction over a rolled dim comes chunk by chunk where its
          // operands can be cut (passes/contraction_rolling.cc); otherwise it
          // stays whole when its dim rolls (ir::operand_chunks).
          const int kdim = op->operands[0]->type.dims.back();
          const int entry = kdim == ir::kBroadcast ? -1 : kernel.dim(kdim).reduction_index;
          if (entry < 0 || !ir::contraction_chunks(kernel, *op, entries_by_index.at(entry))) {
            if (!dot.a.axes.empty()) dot.a.axes.back().reduction_loop_index = -1;
            if (dot.b.axes.size() >= 2) dot.b.axes[dot.b.axes.size() - 2].reduction_loop_index = -1;
          }
          sum.dots.push_back(std::move(dot));
        }
        if (op->kind == ir::OpKind::Load && !op->attrs.eviction_policy.empty())
          spec.loads_with_eviction_policy.push_back(spec.kernel_load_offset.back() + op->attrs.memory_op);
        if (op->kind == ir::OpKind::Reduce || op->kind == ir::OpKind::Scan || op->kind == ir::OpKind::CombineReduce ||
            op->kind == ir::OpKind::Sort) {
          sum.has_reduction = true;
          spec.has_reduction = true;
        }
        if (op->kind == ir::OpKind::For) {
          sum.has_inner_loop = true;
          auto nest = nest_of.find(op->attrs.dim);
          if (nest != nest_of.end()) entries.multi_dim_loop(kernel, ki, /*is_grid=*/false, *nest->second);
          entries.inner_loop(kernel, ki, kernel.dim(op->attrs.dim));
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
        for (const auto& r : op->results) {
          record_unknown_extent_value(r->type);
          if (!expressions) record_shape(r->type.dims);
        }
        for (const auto& sub : op->regions) scan(*sub);
      }
    };
    scan(kernel.body);
    // Every load of a loop that runs a dot is staged by Triton's pipeliner
    // (config/resource_estimate.cc counts its buffers).
    std::set<int> dot_loops;
    for (const auto& d : sum.dots)
      if (d.loop >= 0) dot_loops.insert(d.loop);
    if (!dot_loops.empty())
      ir::walk(kernel.body, [&](const ir::Op& op) {
        if (op.kind != ir::OpKind::Load || op.results.empty()) return;
        const int loop = enclosing_loop(op);
        const ir::Type& t = op.result()->type;
        if (!dot_loops.count(loop) || t.dims.empty()) return;
        PipelinedLoad l;
        l.loop = loop;
        l.load = op.id;
        l.axes = axis_sizes(kernel, t);
        l.element_bytes = static_cast<int>(byte_size(t.dtype));
        sum.pipelined_loads.push_back(std::move(l));
      });
    if (auto d = subtilable_dim(kernel)) {
      const ir::Dim& dim = kernel.dim(*d);
      if (dim.fixed_block_size) sum.subtile_fixed_block = *dim.fixed_block_size;
      else sum.subtile_block_size_index = dim.block_size_index;
    }
    spec.kernels.push_back(sum);
  }
  entries.finish(reads_and_writes_an_argument);
  return spec;
}

}  // namespace deuteron::analysis
