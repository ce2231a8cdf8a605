// Elementwise arithmetic on host tensors: `scaled = x * 0.5`, `d = a - b`,
// `m = x > 0`, `-x`.  Host code runs these in Python unchanged; sema models
// the result (a new contiguous tensor: broadcast shape, torch.result_type's
// dtype, the operands' device) so that device code can load from it like from
// any tensor host code made.  What sema cannot tell (sizes that may or may not
// broadcast, matmul, an operator PyTorch would reject for the dtype) stays
// unknown, as before: Python still runs it, and device code that reads it gets
// the "computed by host code that deuteron does not model" error.
#include "analyzer.h"

namespace deuteron::sema {

using K = SValue::Kind;

namespace {

bool is_host_scalar(const SValue& v) { return v.kind == K::Int || v.kind == K::Float || v.kind == K::Bool; }

// The broadcast shape of two host tensors, right-aligned as PyTorch does;
// nullopt when a pair of sizes is symbolic and neither equal nor 1.
std::optional<std::vector<SymInt>> broadcast_sizes(const std::vector<SymInt>& a, const std::vector<SymInt>& b,
                                                   Analyzer& an, SourceSpan span) {
  size_t n = std::max(a.size(), b.size());
  std::vector<SymInt> out(n, SymInt(1));
  for (size_t i = 0; i < n; ++i) {
    const bool has_a = i < a.size(), has_b = i < b.size();
    const SymInt& x = has_a ? a[a.size() - 1 - i] : b[b.size() - 1 - i];
    const SymInt& y = has_b ? b[b.size() - 1 - i] : x;
    SymInt& r = out[n - 1 - i];
    auto is_one = [](const SymInt& s) { return s.is_constant() && s.constant() == 1; };
    if (x.same_as(y) || is_one(y)) {
      r = x;
    } else if (is_one(x)) {
      r = y;
    } else if (x.is_constant() && y.is_constant()) {
      an.error(span, "the size of tensor a (" + x.str() + ") must match the size of tensor b (" + y.str() +
                         ") at non-singleton dimension " + std::to_string(n - 1 - i));
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// torch.result_type of the operands: host tensors (by rank: a 0-d tensor is
// weaker than a dimensioned one) and Python numbers (by category only).
std::optional<DType> result_type(const std::vector<const SValue*>& operands) {
  ResultTypeBuilder rt;
  for (const SValue* v : operands) {
    switch (v->kind) {
      case K::Tensor:
        rt.add(v->tensor->dtype, v->tensor->sizes.empty() ? PromotionClass::ZeroDim : PromotionClass::Tensor);
        break;
      case K::Bool: rt.add_python_bool(); break;
      case K::Int: rt.add_python_int(); break;
      case K::Float: rt.add_python_float(); break;
      default: return std::nullopt;
    }
  }
  return rt.result();
}

const HostTensor& first_tensor(const SValue& a, const SValue& b) { return a.kind == K::Tensor ? *a.tensor : *b.tensor; }

}  // namespace

SValue Analyzer::host_tensor_binop(ast::BinOpKind op, const SValue& a, const SValue& b, SourceSpan span) {
  if (!(a.kind == K::Tensor || is_host_scalar(a)) || !(b.kind == K::Tensor || is_host_scalar(b)))
    return SValue::unknown();
  if (op == ast::BinOpKind::MatMult) return SValue::unknown();  // matmul's own shape rules: not modeled
  const std::vector<SymInt> none;
  auto sizes = broadcast_sizes(a.kind == K::Tensor ? a.tensor->sizes : none,
                               b.kind == K::Tensor ? b.tensor->sizes : none, *this, span);
  auto dt = result_type({&a, &b});
  if (!sizes || !dt) return SValue::unknown();
  DType out = *dt;
  switch (op) {
    case ast::BinOpKind::Div:
      // True division of integers gives the default float dtype.
      if (!is_floating(out)) out = DType::Float32;
      break;
    case ast::BinOpKind::Sub:
      if (out == DType::Bool)
        error(span, "subtraction, the `-` operator, with two bool tensors is not supported (PyTorch rejects it)",
              {"use the `^` operator or torch.logical_xor() instead"});
      break;
    case ast::BinOpKind::BitAnd:
    case ast::BinOpKind::BitOr:
    case ast::BinOpKind::BitXor:
    case ast::BinOpKind::LShift:
    case ast::BinOpKind::RShift:
      if (is_floating(out)) return SValue::unknown();  // PyTorch raises; Python reports it at run time
      break;
    default: break;
  }
  return make_tensor(*sizes, out, first_tensor(a, b).device);
}

SValue Analyzer::host_tensor_compare(const SValue& a, const SValue& b, SourceSpan span) {
  if (!(a.kind == K::Tensor || is_host_scalar(a)) || !(b.kind == K::Tensor || is_host_scalar(b)))
    return SValue::unknown();
  const std::vector<SymInt> none;
  auto sizes = broadcast_sizes(a.kind == K::Tensor ? a.tensor->sizes : none,
                               b.kind == K::Tensor ? b.tensor->sizes : none, *this, span);
  if (!sizes) return SValue::unknown();
  return make_tensor(*sizes, DType::Bool, first_tensor(a, b).device);
}

SValue Analyzer::host_tensor_unary(ast::UnaryOpKind op, const SValue& a, SourceSpan span) {
  const HostTensor& t = *a.tensor;
  switch (op) {
    case ast::UnaryOpKind::USub:
      if (t.dtype == DType::Bool)
        error(span, "negation, the `-` operator, on a bool tensor is not supported (PyTorch rejects it)",
              {"use the `~` operator or torch.logical_not() instead"});
      break;
    case ast::UnaryOpKind::Invert:
      if (is_floating(t.dtype)) return SValue::unknown();  // PyTorch raises at run time
      break;
    case ast::UnaryOpKind::UAdd: return a;  // torch.positive returns its input
    default: return SValue::unknown();  // `not x`: Python's truth of a tensor, at run time
  }
  return make_tensor(t.sizes, t.dtype, t.device);
}

}  // namespace deuteron::sema
