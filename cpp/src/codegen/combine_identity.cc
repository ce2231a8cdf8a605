#include "combine_identity.h"

#include <cmath>

namespace deuteron::codegen {

namespace {

const ir::Value* strip_casts(const ir::Value* v) {
  while (v->def && v->def->kind == ir::OpKind::Cast && !v->def->attrs.bitcast) v = v->def->operands[0];
  return v;
}

std::optional<ir::Literal> identity_of(ir::BinaryFn f, DType t) {
  bool fl = is_floating(t);
  bool b = t == DType::Bool;
  int bits = bit_width(t);
  auto int_min = [&]() { return is_signed(t) ? -(int64_t{1} << (bits - 1)) : int64_t{0}; };
  auto int_max = [&]() {
    return is_signed(t) ? (int64_t{1} << (bits - 1)) - 1 : bits >= 63 ? INT64_MAX : (int64_t{1} << bits) - 1;
  };
  switch (f) {
    case ir::BinaryFn::Add:
    case ir::BinaryFn::BitOr:
    case ir::BinaryFn::BitXor:
    case ir::BinaryFn::LogicalOr:
      if (b) return ir::Literal::from_bool(false);
      return fl ? ir::Literal::from_float(0.0) : ir::Literal::from_int(0);
    case ir::BinaryFn::Mul:
      if (b) return ir::Literal::from_bool(true);
      return fl ? ir::Literal::from_float(1.0) : ir::Literal::from_int(1);
    case ir::BinaryFn::Maximum:
      if (b) return ir::Literal::from_bool(false);
      return fl ? ir::Literal::from_float(-INFINITY) : ir::Literal::from_int(int_min());
    case ir::BinaryFn::Minimum:
      if (b) return ir::Literal::from_bool(true);
      return fl ? ir::Literal::from_float(INFINITY) : ir::Literal::from_int(int_max());
    case ir::BinaryFn::BitAnd:
    case ir::BinaryFn::LogicalAnd:
      if (b) return ir::Literal::from_bool(true);
      if (fl) return std::nullopt;
      return ir::Literal::from_int(is_signed(t) ? -1 : int_max());
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<std::vector<ir::Literal>> combine_identity(const ir::Op& op) {
  if (!ir::has_combine_region(op)) return std::nullopt;
  const ir::Region& r = *op.regions[0];
  size_t n = op.operands.size();
  const ir::Op& y = *r.ops.back();
  std::vector<ir::Literal> out;
  for (size_t i = 0; i < n; ++i) {
    const ir::Value* v = strip_casts(y.operands.at(i));
    if (!v->def || v->def->kind != ir::OpKind::Binary) return std::nullopt;
    const ir::Value* a = strip_casts(v->def->operands[0]);
    const ir::Value* b = strip_casts(v->def->operands[1]);
    const ir::Value* lhs = r.args[i].get();
    const ir::Value* rhs = r.args[n + i].get();
    // Every fn matched here is commutative.
    if (!((a == lhs && b == rhs) || (a == rhs && b == lhs))) return std::nullopt;
    auto id = identity_of(v->def->attrs.binary, op.operands[i]->type.dtype);
    if (!id) return std::nullopt;
    out.push_back(*id);
  }
  return out;
}

}  // namespace deuteron::codegen
