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

// The shape of an elementwise result: the operands' sizes broadcast (a number
// has none); nullopt when symbolic sizes may or may not broadcast, an error
// when two constant ones cannot.
std::optional<std::vector<SymInt>> Analyzer::host_elementwise_sizes(const SValue& a, const SValue& b, SourceSpan span) {
  std::vector<std::vector<SymInt>> shapes;
  for (const SValue* v : {&a, &b})
    if (v->kind == K::Tensor) shapes.push_back(v->tensor->sizes);
  SymInt x = 1, y = 1;
  size_t axis = 0;
  auto sizes = broadcast_shape(shapes, &x, &y, &axis);
  if (!sizes && x.is_constant() && y.is_constant())
    error(span, "the size of tensor a (" + x.str() + ") must match the size of tensor b (" + y.str() +
                    ") at non-singleton dimension " + std::to_string(axis));
  return sizes;
}

SValue Analyzer::host_tensor_binop(ast::BinOpKind op, const SValue& a, const SValue& b, SourceSpan span) {
  if (!(a.kind == K::Tensor || is_host_scalar(a)) || !(b.kind == K::Tensor || is_host_scalar(b)))
    return SValue::unknown();
  if (op == ast::BinOpKind::MatMult) return SValue::unknown();  // matmul's own shape rules: not modeled
  auto sizes = host_elementwise_sizes(a, b, span);
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
  auto sizes = host_elementwise_sizes(a, b, span);
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
