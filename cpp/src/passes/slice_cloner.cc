// See slice_cloner.h.
#include "slice_cloner.h"

namespace deuteron::passes {

using ir::OpKind;

ir::Type SliceCloner::subst(ir::Type t, const std::set<int>& s) const {
  for (int& d : t.dims)
    if (s.count(d)) d = chunk_;
  return t;
}

ir::Value* SliceCloner::clone_value(ir::Builder& b, const ir::Value* v, const std::set<int>& want) {
  std::set<int> s = ir::dims_in(v->type, want);
  if (s.empty() || !v->def) return const_cast<ir::Value*>(v);  // a leaf from outside
  auto it = map_.find({v, s});
  if (it != map_.end()) return it->second;
  auto sets = ir::operand_chunks(*v->def, s);
  DEUTERON_CHECK(sets.has_value(), "chunking a whole dim: an op that cannot be chunked passed ir::can_roll");
  ir::Op* op = clone_op(b, *v->def, s, *sets);
  return op->result(v->index);
}

ir::Op* SliceCloner::clone_op(ir::Builder& b, const ir::Op& src, const std::set<int>& s,
                              const std::vector<std::set<int>>& sets) {
  std::vector<ir::Value*> operands;
  for (size_t i = 0; i < src.operands.size(); ++i) operands.push_back(clone_value(b, src.operands[i], sets[i]));
  std::vector<ir::Type> types;
  for (const auto& r : src.results) types.push_back(subst(r->type, s));
  ir::Attrs attrs = src.attrs;
  OpKind kind = src.kind;
  for (auto& ix : attrs.index)
    if (ix.kind == ir::IndexSpec::Kind::TileDim && s.count(ix.dim)) ix.dim = chunk_;
  if ((kind == OpKind::Arange || kind == OpKind::TileIndex || kind == OpKind::TileMask) && s.count(attrs.dim)) {
    if (kind == OpKind::Arange) kind = OpKind::TileIndex;  // the chunk's indices
    attrs.dim = chunk_;
  }
  ir::Op* op = b.create(kind, operands, types, src.span, attrs);
  // Combine functions of scans and reductions along other axes (closed
  // regions of scalars: nothing in them changes).
  for (const auto& r : src.regions) ir::clone_region_into(k_, *r, op);
  for (size_t i = 0; i < src.results.size(); ++i) {
    op->results[i]->name_hint = src.results[i]->name_hint;
    map_[{src.results[i].get(), ir::dims_in(src.results[i]->type, s)}] = op->result(i);
  }
  return op;
}

}  // namespace deuteron::passes
