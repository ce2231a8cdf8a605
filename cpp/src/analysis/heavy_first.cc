// Which grid dims to launch in reverse so that the heaviest blocks start
// first (see analysis.h).
#include <map>

#include "deuteron/analysis.h"

namespace deuteron::analysis {

namespace {

// Monotonicity of a sum (or min/max) of two values: same direction or
// independent combine; opposite directions are unknown.
std::optional<int> combine(std::optional<int> a, std::optional<int> b) {
  if (!a || !b) return std::nullopt;
  if (*a == 0) return b;
  if (*b == 0 || *a == *b) return a;
  return std::nullopt;
}

std::optional<int> negate(std::optional<int> a) {
  if (!a) return a;
  return -*a;
}

bool positive_constant(const ir::Value* v) {
  const ir::Op* op = v->def;
  if (!op || op->kind != ir::OpKind::Constant) return false;
  const ir::Literal& l = op->attrs.literal;
  return (l.kind == ir::Literal::Kind::Int && l.i > 0) || (l.kind == ir::Literal::Kind::Float && l.f > 0);
}

// `v` is dim d's tile.begin or tile.end (through value-preserving casts).
bool is_block_bound_of(const ir::Value* v, int d) {
  const ir::Op* op = v->def;
  while (op && op->kind == ir::OpKind::Cast && !op->attrs.bitcast) op = op->operands.at(0)->def;
  return op && (op->kind == ir::OpKind::TileBegin || op->kind == ir::OpKind::TileEnd) && op->attrs.dim == d;
}

}  // namespace

std::optional<int> monotonicity_in_grid_dim(const ir::DeviceKernel& k, const ir::Value* v, int d) {
  const ir::Op* op = v->def;
  if (!op || !v->type.is_scalar()) return std::nullopt;  // loop-carried or a vector: unknown
  auto operand = [&](size_t i) { return monotonicity_in_grid_dim(k, op->operands.at(i), d); };
  switch (op->kind) {
    case ir::OpKind::Constant:
    case ir::OpKind::ScalarParam:
    case ir::OpKind::SymValue:
    case ir::OpKind::TileBlockSize:
    case ir::OpKind::TileCount: return 0;
    case ir::OpKind::TileBegin:
    case ir::OpKind::TileEnd:
    case ir::OpKind::TileId: {
      if (op->attrs.dim == d) return 1;
      // Another grid dim's position does not move with d; an inner loop's
      // does, in ways this analysis does not follow.
      const ir::Dim& other = k.dim(op->attrs.dim);
      if (other.loop_id < 0) return 0;
      return std::nullopt;
    }
    case ir::OpKind::Cast: return op->attrs.bitcast ? std::nullopt : operand(0);
    case ir::OpKind::Binary:
      switch (op->attrs.binary) {
        case ir::BinaryFn::Add:
        case ir::BinaryFn::Maximum:
        case ir::BinaryFn::Minimum: return combine(operand(0), operand(1));
        case ir::BinaryFn::Sub: return combine(operand(0), negate(operand(1)));
        case ir::BinaryFn::Mul:
        case ir::BinaryFn::FloorDiv: {
          std::optional<int> a = operand(0), b = operand(1);
          if (a && b && *a == 0 && *b == 0) return 0;
          if (positive_constant(op->operands.at(1))) return a;
          if (op->attrs.binary == ir::BinaryFn::Mul && positive_constant(op->operands.at(0))) return b;
          return std::nullopt;
        }
        default: {
          std::optional<int> a = operand(0), b = operand(1);
          if (a && b && *a == 0 && *b == 0) return 0;
          return std::nullopt;
        }
      }
    default: return std::nullopt;
  }
}

namespace {

void visit(const ir::DeviceKernel& k, const ir::Region& r, std::map<int, std::optional<int>>& growth) {
  for (const auto& op : r.ops) {
    if (op->kind == ir::OpKind::For && op->attrs.dynamic_bounds) {
      const ir::Value* begin = op->operands.at(0);
      const ir::Value* end = op->operands.at(1);
      for (auto& [d, g] : growth) {
        // Over one block of d (`hl.tile(tile_m.begin, tile_m.end)`, the
        // diagonal of causal attention): at most a block, whatever d's
        // position.
        if (is_block_bound_of(begin, d) && is_block_bound_of(end, d)) continue;
        // Otherwise the trip count ~ end - begin.
        g = combine(g, combine(monotonicity_in_grid_dim(k, end, d), negate(monotonicity_in_grid_dim(k, begin, d))));
      }
    }
    for (const auto& sub : op->regions) visit(k, *sub, growth);
  }
}

}  // namespace

std::set<int> heavy_last_grid_dims(const ir::DeviceKernel& k) {
  std::map<int, std::optional<int>> growth;
  for (int d : k.grid_dims)
    if (k.dim(d).kind == ir::DimKind::Tile || k.dim(d).kind == ir::DimKind::Grid) growth[d] = 0;
  visit(k, k.body, growth);
  std::set<int> out;
  for (const auto& [d, g] : growth)
    if (g && *g > 0) out.insert(d);
  return out;
}

}  // namespace deuteron::analysis
