// How each load and store addresses memory.
//
// The config's `indexing` entry is a request: pointers always work; tensor
// descriptors (TMA) and block pointers move a whole block with one block per
// tensor dim, so every index must be a dim (tile, `:`, grid index) in the
// tensor's own order, without shifts or masks of its own, or a scalar (a
// block of 1 there, e.g. a tile dim removed by unit-dim elimination; the
// value is reshaped to its rank), and a descriptor must also meet the
// target's tensor-map rules.  An access that cannot use what its entry asks
// for uses pointers, and the plan says why (a resolution the generated
// module's header records).
#include <algorithm>

#include "deuteron/analysis.h"

namespace deuteron::analysis {

namespace {

std::vector<size_t> identity_order(size_t n) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  return order;
}

template <typename T>
std::vector<T> permuted(const std::vector<T>& v, const std::vector<size_t>& order) {
  std::vector<T> out;
  for (size_t o : order) out.push_back(v[o]);
  return out;
}

// The access's axes when it is block-shaped, else why not.
std::string block_axes(const ir::DeviceKernel& k, const KernelConfig& config, const ir::Op& op,
                       std::vector<BlockAxis>& axes) {
  if (op.attrs.extra_mask >= 0) return "the access has a mask of its own";
  for (const auto& ix : op.attrs.index) {
    BlockAxis a;
    switch (ix.kind) {
      case ir::IndexSpec::Kind::TileDim:
        if (!(ix.offset.is_constant() && ix.offset.constant() == 0)) return "the access shifts its index";
        a.dim = ix.dim;
        a.block = config.block_of(k.dim(ix.dim));
        break;
      case ir::IndexSpec::Kind::Scalar: a.operand = ix.operand; break;
      case ir::IndexSpec::Kind::Tensor: return "the access gathers through an index tensor";
      case ir::IndexSpec::Kind::NewAxis: return "the access inserts a size-1 axis";
      case ir::IndexSpec::Kind::Stack: return "the access goes through a StackTensor's device pointers";
    }
    axes.push_back(a);
  }
  for (const auto& a : axes)
    if (a.dim >= 0) return "";
  return "every index of the access is a scalar";
}

std::string tma_obstacle_in(const ir::TensorParam& t, const std::vector<BlockAxis>& axes,
                            const std::vector<size_t>& order) {
  std::vector<int64_t> boxes;
  for (const auto& a : permuted(axes, order)) boxes.push_back(a.block);
  return target::tma_obstacle(t.dtype, permuted(t.strides, order), boxes);
}

// The dim order for a tensor descriptor of this access, or an empty vector
// (and why) when TMA cannot express it.  The tensor's own order is
// preferred; else its contiguous dim is moved last (the block is then
// loaded in memory order and permuted in registers, which Triton folds into
// the consumer: a transposed dot operand is read straight from shared memory).
std::vector<size_t> tma_order(const ir::TensorParam& t, const std::vector<BlockAxis>& axes, std::string& why) {
  std::vector<size_t> order = identity_order(axes.size());
  why = tma_obstacle_in(t, axes, order);
  if (why.empty()) return order;
  for (size_t c = 0; c + 1 < axes.size(); ++c) {
    auto st = t.strides[c].as_constant();
    if (!st || *st != 1) continue;
    std::vector<size_t> moved;
    for (size_t i = 0; i < axes.size(); ++i)
      if (i != c) moved.push_back(i);
    moved.push_back(c);
    why = tma_obstacle_in(t, axes, moved);
    if (why.empty()) return moved;
  }
  return {};
}

// A descriptor's view: leading dims indexed by a scalar (a batch index: a
// block of 1) folded into the first tiled dim where memory allows.  [1, BN, D]
// boxes over [B, N, D] become [BN, D] boxes over [B*N, D]: no reshape after
// the load, and the form Triton 3.6 can warp-specialize on Hopper.
void tma_view(const ir::TensorParam& t, const KernelPlan& plan, AccessPlan& a) {
  const std::vector<BlockAxis> axes = permuted(a.axes, a.order);
  a.view_sizes = permuted(t.sizes, a.order);
  a.view_strides = permuted(t.strides, a.order);
  size_t f = 0;
  while (f < axes.size() && axes[f].dim < 0) ++f;
  // At least two dims must remain (TMA's rule), and no block may be
  // partial: past the tensor's rows of one batch index TMA would read the
  // next batch's rows instead of the zeros that its bounds check gives.
  if (f == 0 || f + 1 >= axes.size() || plan.needs_mask(axes[f].dim)) return;
  for (size_t i = 0; i < f; ++i)
    if (!a.view_strides[i].same_as(a.view_sizes[i + 1] * a.view_strides[i + 1])) return;
  SymInt rows = a.view_sizes[0];
  for (size_t i = 1; i <= f; ++i) rows = rows * a.view_sizes[i];
  if (rows.hint().value_or(int64_t{1} << 40) >= target::kTmaMaxCoordinate) return;
  a.folded = f;
  std::vector<SymInt> sizes = {rows}, strides = {a.view_strides[f]};
  for (size_t i = f + 1; i < axes.size(); ++i) {
    sizes.push_back(a.view_sizes[i]);
    strides.push_back(a.view_strides[i]);
  }
  a.view_sizes = std::move(sizes);
  a.view_strides = std::move(strides);
}

AccessPlan plan_access(const ir::DeviceKernel& k, const KernelConfig& config, const KernelPlan& plan,
                       const ir::Op& op) {
  AccessPlan a;
  const auto& modes = op.kind == ir::OpKind::Load ? config.load_indexing : config.store_indexing;
  auto mode = modes.find(op.attrs.memory_op);
  a.requested = mode == modes.end() ? indexing_modes::kPointer : mode->second;
  if (op.kind == ir::OpKind::Load) {
    a.eviction_policy = op.attrs.eviction_policy;
    auto ev = config.load_eviction.find(op.attrs.memory_op);
    if (a.eviction_policy.empty() && ev != config.load_eviction.end() && !ev->second.empty())
      a.eviction_policy = "evict_" + ev->second;
  }
  if (a.requested == indexing_modes::kPointer) return a;
  if (plan.flat) {
    a.fallback = std::string(keys::kFlattenLoops) + "[" + std::to_string(config.flatten_index) +
                 "] makes the grid one index space";
    return a;
  }
  // An access in a flattened inner loop: its lanes' coordinates are no block.
  for (const auto& f : plan.flat_nests) {
    if (op.parent != f.shape.inner->regions[0].get()) continue;
    a.fallback = std::string(keys::kFlattenLoops) + "[" + std::to_string(f.flatten_index) +
                 "] makes the loop one index space";
    return a;
  }
  std::vector<BlockAxis> axes;
  a.fallback = block_axes(k, config, op, axes);
  if (!a.fallback.empty()) return a;
  const ir::TensorParam& t = k.tensors.at(op.attrs.tensor);
  // Triton's block pointers and descriptors of bool tensors do not compile
  // ("error encountered during parsing" on an H100: Helion's extra_mask test).
  if (t.dtype == DType::Bool) {
    a.fallback = "a bool tensor: Triton's tensor descriptors and block pointers take numeric elements";
    return a;
  }
  // Tensor descriptors and tl.make_block_ptr take 32-bit offsets only (Triton
  // rejects int64 ones); int64 indexing is for offsets past that.
  if (k.index_dtype == DType::Int64) {
    a.fallback = "index_dtype=torch.int64: Triton's tensor descriptors and block pointers take 32-bit offsets only";
    return a;
  }
  if (a.requested == indexing_modes::kTensorDescriptor) {
    a.order = tma_order(t, axes, a.fallback);
    if (a.order.empty()) return a;
    a.axes = std::move(axes);
    a.addressing = Addressing::TensorDescriptor;
    tma_view(t, plan, a);
    return a;
  }
  a.addressing = Addressing::BlockPointer;
  a.axes = std::move(axes);
  a.order = identity_order(a.axes.size());
  // tl.make_block_ptr's order: dims from the smallest stride to the largest.
  a.block_ptr_order = identity_order(a.axes.size());
  std::stable_sort(a.block_ptr_order.begin(), a.block_ptr_order.end(), [&](size_t x, size_t y) {
    return t.strides[x].hint().value_or(1) < t.strides[y].hint().value_or(1);
  });
  for (size_t i = 0; i < a.axes.size(); ++i)
    if (a.axes[i].dim >= 0 && plan.needs_mask(a.axes[i].dim)) a.boundary_check.push_back(i);
  return a;
}

void add_resolution(KernelPlan& plan, Resolution r) {
  for (const auto& x : plan.resolutions)
    if (x.text() == r.text()) return;
  plan.resolutions.push_back(std::move(r));
}

}  // namespace

const char* name(Addressing a) {
  switch (a) {
    case Addressing::Pointer: return indexing_modes::kPointer;
    case Addressing::TensorDescriptor: return indexing_modes::kTensorDescriptor;
    case Addressing::BlockPointer: return indexing_modes::kBlockPtr;
  }
  return "";
}

void plan_accesses(const ir::DeviceKernel& k, const KernelConfig& config, KernelPlan& plan) {
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind != ir::OpKind::Load && op.kind != ir::OpKind::Store) return;
    AccessPlan a = plan_access(k, config, plan, op);
    if (!a.fallback.empty())
      add_resolution(plan, {config.indexing_key(op), a.requested, name(a.addressing), a.fallback});
    if (op.kind == ir::OpKind::Load && !op.attrs.eviction_policy.empty()) {
      // The policy hl.load gives wins over the config's entry.
      auto ev = config.load_eviction.find(op.attrs.memory_op);
      if (ev != config.load_eviction.end() && !ev->second.empty() && "evict_" + ev->second != op.attrs.eviction_policy)
        add_resolution(plan, {std::string(keys::kLoadEvictionPolicies) + "[" +
                                  std::to_string(config.first_load + op.attrs.memory_op) + "]",
                              ev->second, op.attrs.eviction_policy,
                              "hl.load gives eviction_policy='" + op.attrs.eviction_policy + "'"});
    }
    plan.accesses[&op] = std::move(a);
  });
  plan_dot_zeroing(k, plan);
}

void plan_dot_zeroing(const ir::DeviceKernel& k, KernelPlan& plan) {
  // A masked contraction dim: a dot zeroes the lanes past its end in operands
  // that are not plain loads (loads read 0 there).  Block loads (TMA, block
  // pointers) zero only what lies outside the tensor, not what lies past a
  // loop bound computed on the device.
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind != ir::OpKind::Dot) return;
    int kdim = op.operands[0]->type.dims.back();
    if (kdim == ir::kBroadcast || !plan.needs_mask(kdim)) {
      plan.dot_zeroing[&op] = {false, false};
      return;
    }
    auto reads_zero = [&](const ir::Value* v) {
      if (!v->def || v->def->kind != ir::OpKind::Load) return false;
      bool block_load = plan.access(*v->def).addressing != Addressing::Pointer;
      return !(k.dim(kdim).dynamic_bounds && block_load);
    };
    plan.dot_zeroing[&op] = {!reads_zero(op.operands[0]), !reads_zero(op.operands[1])};
  });
}

}  // namespace deuteron::analysis
