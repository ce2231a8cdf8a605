// Masked stores from selects of the old value.
//
// A program that updates part of a tile writes
//
//     old = C[idx, tile_n]
//     C[idx, tile_n] = torch.where(mask, new, old)
//
// meaning "write `new` where mask holds, leave C alone elsewhere".  Stored as
// written, every lane writes: the unmasked ones write back what they read.
// That is only the same when no two lanes address one element.  When they do
// (an index tensor whose masked-off lanes point at a valid row, as in MoE
// gather/scatter kernels that clamp invalid token offsets to 0), one store
// writes `new` and `old` to the same address and the GPU keeps either: a
// silent wrong answer that depends on the block size and the warp layout.
//
// This pass turns such a store into `store C[idx, tile_n], new, mask=mask`
// (`where(mask, old, new)`: mask=~mask), which writes exactly the lanes the
// program meant, and reads nothing (the load dies when nothing else uses it).
//
// It applies when the load and the store index the same tensor with the same
// index (the same specs and the same index values) and the same extra mask,
// sit in the same region with the load first, and nothing between them may
// write memory; the select's other branch has the select's type and its
// condition lines up with it axis by axis.
#include <algorithm>

#include "deuteron/passes.h"

namespace deuteron::passes {

namespace {

using ir::OpKind;

bool writes_memory(const ir::Op& op) {
  if (op.kind == OpKind::Store || op.kind == OpKind::AtomicRMW || op.kind == OpKind::InlineTriton) return true;
  for (const auto& r : op.regions)
    for (const auto& inner : r->ops)
      if (writes_memory(*inner)) return true;
  return false;
}

const ir::Value* extra_mask(const ir::Op& op) {
  return op.attrs.extra_mask >= 0 ? op.operands.at(op.attrs.extra_mask) : nullptr;
}

// Whether load `l` reads exactly the elements store `s` writes.
bool same_access(const ir::Op& l, const ir::Op& s) {
  if (l.attrs.tensor != s.attrs.tensor || l.attrs.index.size() != s.attrs.index.size() ||
      l.attrs.broadcast_index != s.attrs.broadcast_index)
    return false;
  if (extra_mask(l) != extra_mask(s)) return false;
  for (size_t i = 0; i < l.attrs.index.size(); ++i) {
    const ir::IndexSpec& a = l.attrs.index[i];
    const ir::IndexSpec& b = s.attrs.index[i];
    if (a.kind != b.kind) return false;
    switch (a.kind) {
      case ir::IndexSpec::Kind::TileDim:
        if (a.dim != b.dim || !a.offset.same_as(b.offset)) return false;
        break;
      case ir::IndexSpec::Kind::Scalar:
      case ir::IndexSpec::Kind::Tensor:
      case ir::IndexSpec::Kind::Stack:
        if (l.operands.at(a.operand) != s.operands.at(b.operand)) return false;
        break;
      case ir::IndexSpec::Kind::NewAxis: break;
    }
  }
  return true;
}

// Whether `cond` broadcasts to `t` without moving axes (same rank; each axis
// t's or size 1).
bool lines_up(const ir::Type& cond, const ir::Type& t) {
  if (cond.dtype != DType::Bool || cond.rank() != t.rank()) return false;
  for (int i = 0; i < t.rank(); ++i)
    if (cond.dims[i] != ir::kBroadcast && cond.dims[i] != t.dims[i]) return false;
  return true;
}

class Rewriter {
 public:
  explicit Rewriter(ir::DeviceKernel& k) : b_(k) {}

  void run(ir::Region& r) {
    for (size_t i = 0; i < r.ops.size(); ++i) {
      ir::Op& op = *r.ops[i];
      for (auto& sub : op.regions) run(*sub);
      if (op.kind == OpKind::Store) i += rewrite(r, i);
    }
  }

 private:
  // Rewrites the store at r.ops[at] when it qualifies; returns how many ops
  // were inserted before it.
  size_t rewrite(ir::Region& r, size_t at) {
    ir::Op& store = *r.ops[at];
    ir::Value* value = store.operands.at(store.attrs.value_operand);
    const ir::Op* sel = value->def;
    if (!sel || sel->kind != OpKind::Where) return 0;
    ir::Value* cond = sel->operands.at(0);
    int old_branch = -1;
    for (int branch : {1, 2}) {
      const ir::Op* l = sel->operands.at(branch)->def;
      if (l && l->kind == OpKind::Load && l->parent == &r && same_access(*l, store) && nothing_writes_between(r, *l, at))
        old_branch = branch;
    }
    if (old_branch < 0) return 0;
    ir::Value* fresh = sel->operands.at(old_branch == 1 ? 2 : 1);
    if (fresh->type != value->type || !lines_up(cond->type, value->type)) return 0;
    const ir::Value* existing = extra_mask(store);
    if (existing && !lines_up(existing->type, value->type)) return 0;

    // The new ops go right before the store.
    std::vector<std::unique_ptr<ir::Op>> made;
    auto make = [&](OpKind kind, std::vector<ir::Value*> operands, ir::Attrs attrs) {
      b_.set_region(&r);
      ir::Type t{DType::Bool, broadcast(operands)};
      ir::Op* op = b_.create(kind, std::move(operands), {t}, store.span, std::move(attrs));
      made.push_back(std::move(r.ops.back()));
      r.ops.pop_back();
      return op->result();
    };
    ir::Value* mask = cond;
    if (old_branch == 1) {  // where(mask, old, new): the new lanes are ~mask
      ir::Attrs a;
      a.unary = ir::UnaryFn::Not;
      mask = make(OpKind::Unary, {mask}, a);
    }
    if (existing) {
      ir::Attrs a;
      a.binary = ir::BinaryFn::LogicalAnd;
      mask = make(OpKind::Binary, {store.operands.at(store.attrs.extra_mask), mask}, a);
      store.operands.at(store.attrs.extra_mask) = mask;
    } else {
      store.attrs.extra_mask = static_cast<int>(store.operands.size());
      store.operands.push_back(mask);
    }
    store.operands.at(store.attrs.value_operand) = fresh;
    size_t n = made.size();
    r.ops.insert(r.ops.begin() + static_cast<std::ptrdiff_t>(at), std::make_move_iterator(made.begin()),
                 std::make_move_iterator(made.end()));
    return n;
  }

  static std::vector<int> broadcast(const std::vector<ir::Value*>& operands) {
    std::vector<int> dims = operands.front()->type.dims;
    for (const ir::Value* v : operands)
      for (size_t i = 0; i < dims.size(); ++i)
        if (dims[i] == ir::kBroadcast) dims[i] = v->type.dims.at(i);
    return dims;
  }

  static bool nothing_writes_between(const ir::Region& r, const ir::Op& load, size_t store_at) {
    size_t from = 0;
    while (from < store_at && r.ops[from].get() != &load) ++from;
    if (from == store_at) return false;  // the load is not before the store
    for (size_t i = from + 1; i < store_at; ++i)
      if (writes_memory(*r.ops[i])) return false;
    return true;
  }

  ir::Builder b_;
};

}  // namespace

void mask_stores_of_selects(ir::DeviceKernel& kernel) { Rewriter(kernel).run(kernel.body); }

}  // namespace deuteron::passes
