// Which loops with device-computed bounds still run over whole blocks (see
// analysis.h).
#include "deuteron/analysis.h"

namespace deuteron::analysis {

bool provably_multiple_of(const ir::DeviceKernel& k, const ir::Value* v, int64_t m,
                          const std::function<int64_t(int)>& block_of) {
  if (m <= 1) return true;
  const ir::Op* op = v->def;
  if (!op || !v->type.is_scalar()) return false;  // a loop-carried value: unknown
  auto operand = [&](size_t i) { return provably_multiple_of(k, op->operands.at(i), m, block_of); };
  switch (op->kind) {
    case ir::OpKind::Constant:
      return op->attrs.literal.kind == ir::Literal::Kind::Int && op->attrs.literal.i % m == 0;
    case ir::OpKind::SymValue:
      return op->attrs.sym.provably_multiple_of(m);
    case ir::OpKind::TileBegin:
    case ir::OpKind::TileEnd: {
      // begin = dim.begin + i * block; end = min(begin + block, dim.end).
      const ir::Dim& d = k.dim(op->attrs.dim);
      if (d.dynamic_bounds || d.kind == ir::DimKind::Full) return false;
      if (block_of(d.id) % m != 0 || !d.begin.provably_multiple_of(m)) return false;
      return op->kind == ir::OpKind::TileBegin || d.end.provably_multiple_of(m);
    }
    case ir::OpKind::Cast:
      return !op->attrs.bitcast && operand(0);
    case ir::OpKind::Binary:
      switch (op->attrs.binary) {
        case ir::BinaryFn::Add:
        case ir::BinaryFn::Sub:
        case ir::BinaryFn::Maximum:
        case ir::BinaryFn::Minimum: return operand(0) && operand(1);
        case ir::BinaryFn::Mul: return operand(0) || operand(1);
        default: return false;
      }
    default: return false;
  }
}

namespace {

void visit(const ir::DeviceKernel& k, const ir::Region& r, const std::function<int64_t(int)>& block_of,
           std::set<int>& out) {
  for (const auto& op : r.ops) {
    if (op->kind == ir::OpKind::For && op->attrs.dynamic_bounds) {
      int64_t b = block_of(op->attrs.dim);
      if (provably_multiple_of(k, op->operands.at(0), b, block_of) &&
          provably_multiple_of(k, op->operands.at(1), b, block_of))
        out.insert(op->attrs.dim);
    }
    for (const auto& sub : op->regions) visit(k, *sub, block_of, out);
  }
}

}  // namespace

std::set<int> whole_block_dims(const ir::DeviceKernel& k, const std::function<int64_t(int)>& block_of) {
  std::set<int> out;
  visit(k, k.body, block_of, out);
  return out;
}

}  // namespace deuteron::analysis
