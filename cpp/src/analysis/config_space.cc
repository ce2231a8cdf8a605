// The config space of a program, derived from its kernels' IR: what each
// kernel offers to tune (grids to order and flatten, inner loops, loads and
// stores) and what the autotuner's constraint model and the default config
// need to know about it (KernelSummary).
#include <algorithm>
#include <functional>
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
    for (int d : dims)
      if (d != ir::kBroadcast && std::find(k.grid_dims.begin(), k.grid_dims.end(), d) == k.grid_dims.end())
        ok = false;
  };
  ir::walk(k.body, [&](const ir::Op& op) {
    switch (op.kind) {
      case ir::OpKind::Reduce:
      case ir::OpKind::Scan:
      case ir::OpKind::Sort:
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
                  op.kind == ir::OpKind::BroadcastTo || op.kind == ir::OpKind::BlockLanes;
    if (!layout || op.operands.empty()) break;
    v = op.operands[0];
  }
  return o;
}

}  // namespace

ConfigSpec derive_config_spec(const std::vector<const ir::DeviceKernel*>& kernels,
                              std::vector<BlockSizeSpec> block_sizes,
                              std::vector<ReductionLoopSpec> reduction_loops, std::vector<TunableSpec> tunables) {
  ConfigSpec spec;
  spec.block_sizes = std::move(block_sizes);
  spec.reduction_loops = std::move(reduction_loops);
  spec.tunables = std::move(tunables);
  for (size_t k = 0; k < kernels.size(); ++k) {
    const ir::DeviceKernel& kernel = *kernels[k];
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
    if (kernel.grid_dims.size() >= 2) {
      spec.loop_order_sizes.push_back(static_cast<int>(kernel.grid_dims.size()));
      spec.loop_order_kernels.push_back(static_cast<int>(k));
      spec.flatten_allowed.push_back(flattenable(kernel));
      // Grouping reorders program ids over any two grid dims, tiled or
      // hl.grid indices alike (Helion has an entry for every such grid).
      spec.l2_grouping_kernels.push_back(static_cast<int>(k));
    }
    spec.max_grid_rank = std::max<int>(spec.max_grid_rank, static_cast<int>(kernel.grid_dims.size()));
    spec.kernel_load_offset.push_back(spec.num_loads);
    spec.kernel_store_offset.push_back(spec.num_stores);
    spec.num_loads += kernel.num_loads;
    spec.num_stores += kernel.num_stores;
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
        if (op->kind == ir::OpKind::Load && !op->attrs.eviction_policy.empty())
          spec.loads_with_eviction_policy.push_back(spec.kernel_load_offset.back() + op->attrs.memory_op);
        if (op->kind == ir::OpKind::Reduce || op->kind == ir::OpKind::Scan || op->kind == ir::OpKind::CombineReduce ||
            op->kind == ir::OpKind::Sort) {
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
        for (const auto& r : op->results) record_unknown_extent_value(r->type);
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
  return spec;
}

}  // namespace deuteron::analysis
