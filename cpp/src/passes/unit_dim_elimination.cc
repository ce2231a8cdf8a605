// Unit-dim elimination: tile dims whose block size is 1 stop being axes.
//
// A loop like `for tile_b, tile_m in hl.tile([b, m])` with block_sizes
// [1, 128] makes every value carry a leading axis of size 1.  Triton compiles
// 3-D dots to Ampere-style mma.sync instead of Hopper's warp-group MMA, and
// rank-3 layouts cost conversions, so this pass rewrites the kernel to the
// rank it really has: the unit dim becomes a scalar index (tile.begin) in
// loads and stores, and disappears from every type.
//
// The subtle part is size-1 *broadcast* axes: in `causal[None, :, :]` the new
// axis exists only to line up with tile_b.  Each broadcast axis is therefore
// dropped too when everything it broadcasts against is a removed dim.  The
// decisions are made with a union-find over (value, axis) pairs: positional
// ops (expand_dims, permute, loop-carried values, ...) join axes that must
// agree, and broadcasting casts votes ("aligned with a removed dim" or not).
// Conflicting votes leave the kernel unchanged.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "deuteron/passes.h"

namespace deuteron::passes {

namespace {

using ir::OpKind;

struct AxisKey {
  const ir::Value* value;
  int axis;
  bool operator<(const AxisKey& o) const { return value != o.value ? value < o.value : axis < o.axis; }
};

class UnitDimEliminator {
 public:
  UnitDimEliminator(ir::DeviceKernel& k, std::set<int> unit) : k_(k), unit_(std::move(unit)) {}

  bool run() {
    if (unit_.empty()) return false;
    if (!eligible()) return false;
    ir::walk(k_.body, [&](const ir::Op& op) { constrain(op); });
    if (conflict_) return false;
    rewrite_region(k_.body);
    return true;
  }

 private:
  // ------------------------------------------------------------ analysis
  bool is_unit(int d) const { return d != ir::kBroadcast && unit_.count(d) > 0; }

  // Reductions over a unit dim and matmul M/N/K over one are left alone.
  bool eligible() {
    bool ok = true;
    ir::walk(k_.body, [&](const ir::Op& op) {
      if ((op.kind == OpKind::Reduce || op.kind == OpKind::Scan || op.kind == OpKind::CombineReduce ||
           op.kind == OpKind::Sort || op.kind == OpKind::Gather) &&
          is_unit(op.operands[0]->type.dims.at(op.attrs.axis)))
        ok = false;
      if (op.kind == OpKind::Dot)
        for (size_t i = 0; i < 2; ++i) {
          const auto& d = op.operands[i]->type.dims;
          if (is_unit(d[d.size() - 1]) || is_unit(d[d.size() - 2])) ok = false;
        }
      if (op.kind == OpKind::For && is_unit(op.attrs.dim)) ok = false;
      // tl.gather takes an input and index of one rank: both keep the gathered axis.
      if (op.kind == OpKind::Gather && is_unit(op.operands[1]->type.dims.at(op.attrs.axis))) ok = false;
      // A tile retyped onto its block's lanes keeps its axis (the lanes' dim stays).
      if (op.kind == OpKind::BlockLanes && (is_unit(op.operands[0]->type.dims.at(op.attrs.axis)) ||
                                            is_unit(op.result()->type.dims.at(op.attrs.axis))))
        ok = false;
    });
    return ok;
  }

  AxisKey find(AxisKey k) {
    auto it = parent_.find(k);
    if (it == parent_.end()) {
      parent_[k] = k;
      return k;
    }
    if (it->second.value == k.value && it->second.axis == k.axis) return k;
    AxisKey root = find(it->second);
    parent_[k] = root;
    return root;
  }

  void unite(AxisKey a, AxisKey b) {
    AxisKey ra = find(a), rb = find(b);
    if (ra.value == rb.value && ra.axis == rb.axis) return;
    parent_[ra] = rb;
    // merge votes
    auto va = votes_.find(ra);
    if (va != votes_.end()) {
      vote(rb, va->second);
      votes_.erase(ra);
    }
  }

  void vote(AxisKey k, bool drop) {
    AxisKey r = find(k);
    auto it = votes_.find(r);
    if (it == votes_.end())
      votes_[r] = drop;
    else if (it->second != drop)
      conflict_ = true;
  }

  // Operand `o` broadcasts (right-aligned) against a value with dims `target`
  // whose axes are owned by `target_value` (nullptr when they are index dims).
  void align(const ir::Value* o, const std::vector<int>& target, const ir::Value* target_value) {
    const auto& od = o->type.dims;
    int shift = static_cast<int>(target.size()) - static_cast<int>(od.size());
    for (int i = 0; i < static_cast<int>(od.size()); ++i) {
      if (od[i] != ir::kBroadcast) continue;
      int p = i + shift;
      if (p < 0) continue;
      int t = target[p];
      if (t == ir::kBroadcast) {
        if (target_value) unite({o, i}, {target_value, p});
      } else {
        vote({o, i}, is_unit(t));
      }
    }
  }

  // The index tensors of a broadcast index have the access's axes: a size-1
  // axis of one goes where the access's axis goes (kept where the access's
  // axis is itself size 1, like a NewAxis).
  void broadcast_index_axes(const ir::Op& op, const std::vector<int>& dims) {
    if (!op.attrs.broadcast_index) return;
    for (const auto& ix : op.attrs.index) {
      if (ix.kind != ir::IndexSpec::Kind::Tensor) continue;
      const ir::Value* v = op.operands.at(ix.operand);
      for (int i = 0; i < v->type.rank() && i < static_cast<int>(dims.size()); ++i)
        if (v->type.dims[i] == ir::kBroadcast) vote({v, i}, dims[i] != ir::kBroadcast && is_unit(dims[i]));
    }
  }

  // A load's or store's extra mask (hl.load's extra_mask=, the bounds mask of a
  // slice with device-computed bounds) broadcasts against the access: its
  // size-1 axis lined up with a removed dim goes too, or the access would
  // keep that rank (a 3-D load feeding a 2-D dot).
  void extra_mask_axes(const ir::Op& op, const std::vector<int>& dims) {
    if (op.attrs.extra_mask < 0) return;
    align(op.operands.at(op.attrs.extra_mask), dims, nullptr);
  }

  void same_axes(const ir::Value* a, const ir::Value* b) {
    for (int i = 0; i < a->type.rank() && i < b->type.rank(); ++i)
      if (a->type.dims[i] == ir::kBroadcast && b->type.dims[i] == ir::kBroadcast) unite({a, i}, {b, i});
  }

  // A StackTensor's pointers lead the access's axes (access_dims): their
  // size-1 axes stay, as the access's do.
  void stack_axes(const ir::Op& op) {
    if (const ir::Value* p = ir::stack_pointers(op))
      for (int i = 0; i < p->type.rank(); ++i)
        if (p->type.dims[i] == ir::kBroadcast) vote({p, i}, false);
  }

  void constrain(const ir::Op& op) {
    const ir::Value* res = op.results.empty() ? nullptr : op.result();
    switch (op.kind) {
      case OpKind::Unary:
      case OpKind::BlockLanes:
      case OpKind::Cast: same_axes(op.operands[0], res); break;
      case OpKind::Binary:
      case OpKind::Where:
        for (const ir::Value* o : op.operands) align(o, res->type.dims, res);
        break;
      case OpKind::BroadcastTo: align(op.operands[0], res->type.dims, res); break;
      case OpKind::Random:
        for (const auto& r : op.results) same_axes(op.operands[1], r.get());
        break;
      case OpKind::ExpandDims: {
        const auto& in = op.operands[0]->type.dims;
        for (int i = 0, j = 0; i < res->type.rank(); ++i) {
          if (i == op.attrs.axis) continue;
          if (in[j] == ir::kBroadcast) unite({op.operands[0], j}, {res, i});
          ++j;
        }
        break;
      }
      case OpKind::Squeeze: {
        const auto& in = op.operands[0]->type.dims;
        for (int i = 0, j = 0; i < static_cast<int>(in.size()); ++i) {
          if (i == op.attrs.axis) continue;
          if (in[i] == ir::kBroadcast) unite({op.operands[0], i}, {res, j});
          ++j;
        }
        break;
      }
      case OpKind::Permute:
        for (int j = 0; j < res->type.rank(); ++j)
          if (res->type.dims[j] == ir::kBroadcast) unite({res, j}, {op.operands[0], op.attrs.perm[j]});
        break;
      case OpKind::Reshape:
        // Size-1 axes move around; keep them all.
        for (int i = 0; i < res->type.rank(); ++i)
          if (res->type.dims[i] == ir::kBroadcast) vote({res, i}, false);
        for (int i = 0; i < op.operands[0]->type.rank(); ++i)
          if (op.operands[0]->type.dims[i] == ir::kBroadcast) vote({op.operands[0], i}, false);
        break;
      case OpKind::Reduce: {
        const auto& in = op.operands[0]->type.dims;
        for (int i = 0, j = 0; i < static_cast<int>(in.size()); ++i) {
          if (i == op.attrs.axis) {
            if (op.attrs.keepdim) ++j;
            continue;
          }
          if (in[i] == ir::kBroadcast) unite({op.operands[0], i}, {res, j});
          ++j;
        }
        break;
      }
      case OpKind::Gather:
        // Positional: the index's axes are the result's, and so are the
        // input's but the gathered one.
        same_axes(op.operands[1], res);
        for (int i = 0; i < res->type.rank(); ++i)
          if (i != op.attrs.axis && op.operands[0]->type.dims[i] == ir::kBroadcast) unite({op.operands[0], i}, {res, i});
        if (op.operands[0]->type.dims[op.attrs.axis] == ir::kBroadcast) vote({op.operands[0], op.attrs.axis}, false);
        if (res->type.dims[op.attrs.axis] == ir::kBroadcast) vote({res, op.attrs.axis}, false);
        break;
      case OpKind::Sort:
        // The size-1 axes are the operand's (the sorted axis, last, is a whole dim).
        same_axes(op.operands[0], op.result(0));
        same_axes(op.operands[0], op.result(1));
        break;
      case OpKind::Scan:
        // One shape for all operands and results.
        for (size_t i = 0; i < op.operands.size(); ++i) {
          same_axes(op.operands[0], op.operands[i]);
          same_axes(op.operands[i], op.result(i));
        }
        break;
      case OpKind::CombineReduce: {
        const auto& in = op.operands[0]->type.dims;
        for (size_t k = 0; k < op.operands.size(); ++k) {
          same_axes(op.operands[0], op.operands[k]);
          for (int i = 0, j = 0; i < static_cast<int>(in.size()); ++i) {
            if (i == op.attrs.axis) {
              if (op.attrs.keepdim) ++j;
              continue;
            }
            if (in[i] == ir::kBroadcast) unite({op.operands[k], i}, {op.result(k), j});
            ++j;
          }
        }
        break;
      }
      case OpKind::Dot:
        if (res->type.rank() == 3) {
          for (size_t i = 0; i < 2; ++i)
            if (op.operands[i]->type.dims[0] == ir::kBroadcast) {
              if (res->type.dims[0] == ir::kBroadcast)
                unite({op.operands[i], 0}, {res, 0});
              else
                vote({op.operands[i], 0}, is_unit(res->type.dims[0]));
            }
        }
        if (op.operands.size() > 2) same_axes(op.operands[2], res);
        break;
      case OpKind::Store:
      case OpKind::AtomicRMW: {
        auto dims = ir::access_dims(op);
        align(op.operands.at(op.attrs.value_operand), dims, nullptr);
        extra_mask_axes(op, dims);
        broadcast_index_axes(op, dims);
        // NewAxis entries of the index: kept (they are positions in the tensor's view).
        if (op.kind == OpKind::AtomicRMW) same_axes(op.operands.at(op.attrs.value_operand), res);
        stack_axes(op);
        break;
      }
      case OpKind::Load:
        for (int i = 0; i < res->type.rank(); ++i)
          if (res->type.dims[i] == ir::kBroadcast) vote({res, i}, false);
        extra_mask_axes(op, res->type.dims);
        broadcast_index_axes(op, res->type.dims);
        stack_axes(op);
        break;
      case OpKind::For:
      case OpKind::While: {
        size_t first = op.attrs.dynamic_bounds ? 2 : 0;
        const ir::Region& body = *op.regions[0];
        const ir::Op& y = *body.ops.back();
        for (size_t i = 0; i < op.results.size(); ++i) {
          same_axes(op.operands[first + i], op.result(i));
          same_axes(body.args[i].get(), op.result(i));
          same_axes(y.operands[i], op.result(i));
        }
        break;
      }
      case OpKind::If:
        for (const auto& r : op.regions) {
          const ir::Op& y = *r->ops.back();
          for (size_t i = 0; i < op.results.size(); ++i) same_axes(y.operands[i], op.result(i));
        }
        break;
      default: break;
    }
  }

  bool dropped(const ir::Value* v, int axis) {
    int d = v->type.dims[axis];
    if (d != ir::kBroadcast) return is_unit(d);
    AxisKey r = find({v, axis});
    auto it = votes_.find(r);
    return it != votes_.end() && it->second;
  }

  // ------------------------------------------------------------ rewrite
  // New dims of a value: computed from the original types before any change.
  std::vector<int> new_dims(const ir::Value* v) {
    auto it = new_dims_.find(v);
    if (it != new_dims_.end()) return it->second;
    std::vector<int> out;
    for (int i = 0; i < v->type.rank(); ++i)
      if (!dropped(v, i)) out.push_back(v->type.dims[i]);
    new_dims_[v] = out;
    return out;
  }

  int new_axis(const ir::Value* v, int axis) {
    int n = 0;
    for (int i = 0; i < axis; ++i) n += dropped(v, i) ? 0 : 1;
    return n;
  }

  void rewrite_region(ir::Region& r) {
    // Compute all new types first (decisions read the original types).
    ir::walk_mut(r, [&](ir::Op& op) {
      for (auto& res : op.results) new_dims(res.get());
      for (auto& sub : op.regions)
        for (auto& a : sub->args) new_dims(a.get());
    });
    for (auto& a : r.args) new_dims(a.get());
    rewrite_ops(r);
  }

  void rewrite_ops(ir::Region& r) {
    std::vector<std::unique_ptr<ir::Op>> out;
    ir::Builder b(k_);
    for (auto& op_ptr : r.ops) {
      ir::Op& op = *op_ptr;
      // Axis attributes refer to the original operand types: fix them first.
      switch (op.kind) {
        case OpKind::Reduce:
        case OpKind::Scan:
        case OpKind::Sort:
        case OpKind::Gather:
        case OpKind::CombineReduce:
        case OpKind::BlockLanes: op.attrs.axis = new_axis(op.operands[0], op.attrs.axis); break;
        case OpKind::ExpandDims: {
          bool gone = dropped(op.result(), op.attrs.axis);
          op.attrs.axis = new_axis(op.result(), op.attrs.axis);
          if (gone) forward_.insert(&op);
          break;
        }
        case OpKind::Squeeze: {
          bool gone = dropped(op.operands[0], op.attrs.axis);
          op.attrs.axis = new_axis(op.operands[0], op.attrs.axis);
          if (gone) forward_.insert(&op);
          break;
        }
        case OpKind::Permute: {
          std::vector<int> perm;
          for (int j = 0; j < static_cast<int>(op.attrs.perm.size()); ++j)
            if (!dropped(op.result(), j)) perm.push_back(new_axis(op.operands[0], op.attrs.perm[j]));
          op.attrs.perm = perm;
          break;
        }
        default: break;
      }
      // Unit tile indices become scalars: tile.index of a unit tile is its begin.
      if ((op.kind == OpKind::TileIndex) && is_unit(op.attrs.dim)) op.kind = OpKind::TileBegin;
      if (op.kind == OpKind::TileMask && is_unit(op.attrs.dim)) {
        op.kind = OpKind::Constant;
        op.attrs.literal = ir::Literal::from_bool(true);
      }
      // Loads/stores: unit dims become scalar indices (tile.begin), created just before.
      if (op.kind == OpKind::Load || op.kind == OpKind::Store || op.kind == OpKind::AtomicRMW) {
        std::vector<ir::IndexSpec> specs;
        for (auto ix : op.attrs.index) {
          if (ix.kind == ir::IndexSpec::Kind::TileDim && is_unit(ix.dim)) {
            auto begin = std::make_unique<ir::Op>();
            begin->id = k_.next_op_id++;
            begin->kind = OpKind::TileBegin;
            begin->attrs.dim = ix.dim;
            begin->span = op.span;
            begin->parent = &r;
            auto v = std::make_unique<ir::Value>();
            v->id = k_.next_value_id++;
            v->type = ir::Type{k_.index_dtype, {}};
            v->def = begin.get();
            begin->results.push_back(std::move(v));
            ix.kind = ir::IndexSpec::Kind::Scalar;
            ix.operand = static_cast<int>(op.operands.size());
            op.operands.push_back(begin->result());
            new_dims_[begin->result()] = {};
            out.push_back(std::move(begin));
          }
          specs.push_back(ix);
        }
        op.attrs.index = specs;
      }
      for (auto& sub : op.regions) rewrite_ops(*sub);
      out.push_back(std::move(op_ptr));
    }
    r.ops = std::move(out);
    // Apply the new types.
    for (auto& op : r.ops) {
      for (auto& res : op->results) res->type.dims = new_dims_.at(res.get());
      for (auto& sub : op->regions)
        for (auto& a : sub->args) a->type.dims = new_dims_.at(a.get());
    }
    // A broadcast index whose every axis went is a plain index of scalars.
    for (auto& op : r.ops) {
      if (!op->attrs.broadcast_index) continue;
      bool scalars = true;
      for (const auto& ix : op->attrs.index)
        if (ix.kind == ir::IndexSpec::Kind::Tensor) scalars &= new_dims_.at(op->operands.at(ix.operand)).empty();
      if (!scalars) continue;
      for (auto& ix : op->attrs.index) ix.kind = ir::IndexSpec::Kind::Scalar;
      op->attrs.broadcast_index = false;
    }
    // ExpandDims/Squeeze of a dropped axis are now identities: bypass them
    // (they stay behind as same-shape reshapes until dead-code elimination).
    for (auto& op : r.ops)
      if (forward_.count(op.get())) op->kind = OpKind::Reshape;
    for (auto& op : r.ops) {
      for (auto& o : op->operands)
        while (o->def && forward_.count(o->def)) o = o->def->operands[0];
    }
    for (auto& op : r.ops)
      for (auto& sub : op->regions)
        ir::walk_mut(*sub, [&](ir::Op& inner) {
          for (auto& o : inner.operands)
            while (o->def && forward_.count(o->def)) o = o->def->operands[0];
        });
  }

  ir::DeviceKernel& k_;
  std::set<int> unit_;
  std::map<AxisKey, AxisKey> parent_;
  std::map<AxisKey, bool> votes_;
  bool conflict_ = false;
  std::map<const ir::Value*, std::vector<int>> new_dims_;
  std::set<const ir::Op*> forward_;
};

}  // namespace

void eliminate_unit_dims(ir::DeviceKernel& kernel, const std::vector<int64_t>& block_sizes,
                         const std::set<int>& keep) {
  std::set<int> unit;
  for (const auto& d : kernel.dims) {
    if (d.kind != ir::DimKind::Tile || d.dynamic_bounds || keep.count(d.id)) continue;
    int64_t b = d.fixed_block_size ? *d.fixed_block_size
                                   : (d.block_size_index >= 0 && d.block_size_index < static_cast<int>(block_sizes.size())
                                          ? block_sizes[d.block_size_index]
                                          : 0);
    if (b == 1) unit.insert(d.id);
  }
  UnitDimEliminator(kernel, unit).run();
}

}  // namespace deuteron::passes
