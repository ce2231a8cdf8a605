#include "scalar_affine.h"

namespace deuteron::sema {

using ir::OpKind;

namespace {

constexpr int kMaxDepth = 32;  // how far back through the IR a size is followed

bool add_term(ScalarAffine& a, const std::string& key, int64_t coefficient) {
  int64_t& c = a.terms[key];
  if (__builtin_add_overflow(c, coefficient, &c)) return false;
  if (c == 0) a.terms.erase(key);
  return true;
}

// a + k * b
std::optional<ScalarAffine> combine(ScalarAffine a, const ScalarAffine& b, int64_t k) {
  a.sym_values.insert(b.sym_values.begin(), b.sym_values.end());
  for (const auto& [key, c] : b.terms) {
    int64_t scaled;
    if (__builtin_mul_overflow(c, k, &scaled) || !add_term(a, key, scaled)) return std::nullopt;
  }
  int64_t scaled;
  if (__builtin_mul_overflow(b.constant, k, &scaled) || __builtin_add_overflow(a.constant, scaled, &a.constant))
    return std::nullopt;
  return a;
}

std::optional<ScalarAffine> scale(const ScalarAffine& a, int64_t k) { return combine(ScalarAffine{}, a, k); }

ScalarAffine atom(const std::string& key) {
  ScalarAffine a;
  a.terms[key] = 1;
  return a;
}

// A symbolic host int: c * symbol keeps its coefficient (2 * a registered
// block size is a multiple of it); any other expression is one term.
ScalarAffine sym_atom(const SymInt& v) {
  if (v.kind() == SymInt::Kind::Mul && v.operands().size() == 2) {
    const SymInt& x = v.operands()[0];
    const SymInt& y = v.operands()[1];
    if (x.is_constant() && y.kind() == SymInt::Kind::Symbol) {
      ScalarAffine a;
      a.terms["sym:" + y.symbol_name()] = x.constant();
      a.sym_values.emplace("sym:" + y.symbol_name(), y);
      return a;
    }
    if (y.is_constant() && x.kind() == SymInt::Kind::Symbol) {
      ScalarAffine a;
      a.terms["sym:" + x.symbol_name()] = y.constant();
      a.sym_values.emplace("sym:" + x.symbol_name(), x);
      return a;
    }
  }
  ScalarAffine a = atom("sym:" + v.str());
  a.sym_values.emplace("sym:" + v.str(), v);
  return a;
}

// A deterministic text of `a` (terms in key order), to name a term made of it.
std::string affine_key(const ScalarAffine& a) {
  std::string out;
  for (const auto& [key, c] : a.terms) out += std::to_string(c) + "*" + key + "+";
  return out + std::to_string(a.constant);
}

const char* tile_attr_name(OpKind k) {
  switch (k) {
    case OpKind::TileBegin: return "begin";
    case OpKind::TileEnd: return "end";
    case OpKind::TileBlockSize: return "block";
    case OpKind::TileId: return "id";
    case OpKind::TileCount: return "count";
    default: return nullptr;
  }
}

std::optional<ScalarAffine> follow(const ir::Value* v, int depth) {
  if (!v->type.dims.empty() || !is_integral(v->type.dtype)) return std::nullopt;
  const ir::Op* op = v->def;
  if (!op || depth > kMaxDepth) return atom("%" + std::to_string(v->id));
  if (const char* attr = tile_attr_name(op->kind)) return atom(std::string(attr) + ":" + std::to_string(op->attrs.dim));
  switch (op->kind) {
    case OpKind::Constant:
      if (op->attrs.literal.kind != ir::Literal::Kind::Int) break;
      {
        ScalarAffine a;
        a.constant = op->attrs.literal.i;
        return a;
      }
    case OpKind::SymValue:
      if (op->attrs.sym.is_constant()) {
        ScalarAffine a;
        a.constant = op->attrs.sym.constant();
        return a;
      }
      return sym_atom(op->attrs.sym);
    case OpKind::Cast:
      // Between integer types the value is the same (sizes and indices fit both).
      if (!op->attrs.bitcast && is_integral(op->operands[0]->type.dtype)) return follow(op->operands[0], depth + 1);
      break;
    case OpKind::Binary: {
      auto fn = op->attrs.binary;
      if (fn != ir::BinaryFn::Add && fn != ir::BinaryFn::Sub && fn != ir::BinaryFn::Mul &&
          fn != ir::BinaryFn::FloorDiv)
        break;
      auto a = follow(op->operands[0], depth + 1);
      auto b = follow(op->operands[1], depth + 1);
      if (!a || !b) break;
      if (fn == ir::BinaryFn::Add) return combine(*a, *b, 1);
      if (fn == ir::BinaryFn::Sub) return combine(*a, *b, -1);
      if (fn == ir::BinaryFn::Mul) {
        if (b->is_constant()) return scale(*a, b->constant);
        if (a->is_constant()) return scale(*b, a->constant);
        break;
      }
      // FloorDiv: exact only when every part divides (block sizes are powers
      // of two, but which power is the config's, so no more is assumed).
      if (b->is_constant() && b->constant > 0) {
        if (auto q = affine_exact_div(*a, b->constant)) return q;
        // Not exact (tile.begin // 2 when the block may be odd): one term named
        // by its parts, so that the same quotient written twice is the same
        // term and `x // 2 + n - x // 2` is n (a slice's length).
        return atom("div:(" + affine_key(*a) + ")//" + std::to_string(b->constant));
      }
      break;
    }
    default: break;
  }
  return atom("%" + std::to_string(v->id));
}

}  // namespace

std::optional<int> ScalarAffine::block_size_dim() const {
  if (constant != 0 || terms.size() != 1) return std::nullopt;
  const auto& [key, c] = *terms.begin();
  if (c != 1 || key.rfind("block:", 0) != 0) return std::nullopt;
  return std::stoi(key.substr(6));
}

std::optional<ScalarAffine> scalar_affine(const ir::Value* v) { return follow(v, 0); }

std::optional<ScalarAffine> scalar_affine(const SValue& v) {
  switch (v.kind) {
    case SValue::Kind::Int:
      if (v.i.is_constant()) {
        ScalarAffine a;
        a.constant = v.i.constant();
        return a;
      }
      return sym_atom(v.i);
    case SValue::Kind::Bool:
      if (!v.runtime_expr.empty()) return std::nullopt;
      {
        ScalarAffine a;
        a.constant = v.b ? 1 : 0;
        return a;
      }
    case SValue::Kind::IR: return scalar_affine(v.value);
    default: return std::nullopt;
  }
}

std::optional<ScalarAffine> affine_sub(const ScalarAffine& a, const ScalarAffine& b) { return combine(a, b, -1); }

std::optional<ScalarAffine> affine_exact_div(const ScalarAffine& a, int64_t c) {
  if (c == 0) return std::nullopt;
  if (c == -1) return scale(a, -1);  // INT64_MIN / -1 overflows; scale checks it
  ScalarAffine out;
  out.sym_values = a.sym_values;
  for (const auto& [key, k] : a.terms) {
    if (k % c != 0) return std::nullopt;
    out.terms[key] = k / c;
  }
  if (a.constant % c != 0) return std::nullopt;
  out.constant = a.constant / c;
  return out;
}

std::optional<SymInt> affine_host_int(const ScalarAffine& a) {
  SymInt out = a.constant;
  for (const auto& [key, c] : a.terms) {
    auto it = a.sym_values.find(key);
    if (it == a.sym_values.end()) return std::nullopt;
    out = out + SymInt(c) * it->second;
  }
  return out;
}

}  // namespace deuteron::sema
