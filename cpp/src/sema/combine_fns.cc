// Scans and reductions with a combine function: hl.associative_scan,
// hl.reduce, hl.cumsum / hl.cumprod and torch.cumsum / torch.cumprod.
//
// A user combine function is an ordinary module-level Python function of
// scalars (or of tuples of scalars): it is inlined, like any helper, into the
// op's region with scalar arguments, so the IR's elementwise ops describe it
// and each back end turns the region into a function of its own (a
// @triton.jit helper, a Python function over torch tensors).
#include <algorithm>

#include "analyzer.h"
#include "deuteron/parser.h"

namespace deuteron::sema {

using K = SValue::Kind;
using ir::OpKind;

namespace {

// torch functions that can serve as the combine of one operand (the
// associative ones of two tensors).
bool is_torch_combine(const std::string& q) {
  static const char* const kOk[] = {"torch.add", "torch.mul", "torch.multiply", "torch.maximum", "torch.minimum",
                                    "torch.max", "torch.min", "torch.fmax", "torch.fmin", "torch.bitwise_and",
                                    "torch.bitwise_or", "torch.bitwise_xor", "torch.logical_and", "torch.logical_or"};
  return std::find(std::begin(kOk), std::end(kOk), q) != std::end(kOk);
}

ir::Literal literal_of(Analyzer& a, const SValue& v, DType dtype, SourceSpan span) {
  double d = a.expect_const_float(v, span, "'other'");
  if (dtype == DType::Bool) return ir::Literal::from_bool(d != 0.0);
  if (!is_floating(dtype)) return ir::Literal::from_int(static_cast<int64_t>(d));
  return ir::Literal::from_float(d);
}

}  // namespace

std::vector<ir::Value*> Analyzer::combine_operands(const SValue& input, SourceSpan span, const std::string& what,
                                                   bool* is_tuple) {
  *is_tuple = input.is_sequence();
  std::vector<SValue> items = *is_tuple ? input.elts : std::vector<SValue>{input};
  if (items.empty()) error(span, what + " needs at least one tensor");
  std::vector<ir::Value*> values;
  std::vector<int> dims;
  for (const auto& it : items) {
    if (it.kind != K::IR && it.kind != K::DimSize)
      error(span, what + " needs tensor values from inside the tile loop, got " + describe(it));
    ir::Value* v = expect_tensor_value(it, span, what);
    dims = gen().broadcast_dims(dims, v->type.dims, span);
    values.push_back(v);
  }
  if (dims.empty()) error(span, what + " needs a tensor of at least one dimension, got a scalar");
  // The operands of one scan or reduction have one shape.
  for (auto& v : values) v = gen().broadcast_to(v, dims, span);
  return values;
}

CombineSignature Analyzer::combine_signature(const SValue& fn, SourceSpan span, const std::string& what) {
  CombineSignature sig;
  if (fn.kind == K::Helper) {
    HelperCode code = helper_code(fn, span);
    sig.name = code.name == "<lambda>" ? "lambda" : code.name;
    for (const auto* extra : {code.vararg, code.kwarg})
      if (*extra)
        error((*extra)->span, what + ": a combine function takes its operands as named parameters, not " +
                                  std::string(extra == code.vararg ? "*" : "**") + (*extra)->name,
              {"e.g. `def add(a, b): return a + b`"});
    for (const auto& a : *code.args)
      if (!a.default_value) sig.params.push_back(a.name);
    return sig;
  }
  if (fn.kind == K::Function && is_torch_combine(fn.s)) {
    sig.name = fn.s.substr(fn.s.rfind('.') + 1);
    sig.params = {"a", "b"};
    return sig;
  }
  error(span, what + ": the combine function must be a module-level Python function of two values (or of two "
                     "tuples), got " + describe(fn),
        {"e.g. `def add(a, b): return a + b` at module level, then " + what + "(add, x, dim=1)",
         "functions defined inside the kernel are not supported"});
}

void Analyzer::build_combine_region(ir::Op* op, const SValue& fn, const CombineSignature& sig, bool is_tuple,
                                    SourceSpan span, const std::string& what) {
  size_t n = op->operands.size();
  ir::Builder& b = gen().builder();
  ir::Region* r = b.add_region(op);
  const std::vector<std::string>& names = sig.params;
  int params = static_cast<int>(names.size());
  // Arguments as the function takes them: (lhs, rhs) for one operand;
  // (lhs_tuple, rhs_tuple) or (lhs_0, .., lhs_n-1, rhs_0, .., rhs_n-1) for a tuple.
  bool unpacked = !is_tuple || params == static_cast<int>(2 * n);
  if (!unpacked && params != 2)
    error(span, what + ": the combine function '" + op->attrs.combine_fn + "' takes " + std::to_string(params) +
                    " arguments; for a tuple of " + std::to_string(n) + " tensors it must take 2 (two tuples) or " +
                    std::to_string(2 * n) + " (the values one by one)");
  if (!is_tuple && params != 2)
    error(span, what + ": the combine function '" + op->attrs.combine_fn + "' takes " + std::to_string(params) +
                    " arguments; it must take 2 (the values to combine)");
  std::vector<SValue> args;
  for (size_t side = 0; side < 2; ++side) {
    std::vector<SValue> tuple;
    for (size_t i = 0; i < n; ++i) {
      std::string hint = unpacked && side * n + i < names.size() ? names[side * n + i] : "";
      ir::Value* a = b.add_arg(r, ir::Type{op->operands[i]->type.dtype, {}}, hint);
      tuple.push_back(SValue::ir(a, PromotionClass::Tensor));
    }
    if (unpacked) args.insert(args.end(), tuple.begin(), tuple.end());
    else args.push_back(SValue::tuple(tuple));
  }
  ir::Region* saved = b.region();
  b.set_region(r);
  CallArgs call;
  call.span = span;
  call.func_name = op->attrs.combine_fn;
  call.args = args;
  call.arg_spans.assign(args.size(), span);
  // A kernel given as the combine function is inlined like a plain helper: it is
  // passed, not called by the kernel (Helion ignores its decorator there too).
  SValue inlined = fn;
  if (inlined.kind == K::Helper) inlined.b = false;
  SValue result = call_value(inlined, call);
  std::vector<SValue> items = result.is_sequence() ? result.elts : std::vector<SValue>{result};
  if (items.size() != n)
    error(span, what + ": the combine function '" + op->attrs.combine_fn + "' returns " +
                    (result.is_sequence() ? std::to_string(items.size()) + " values" : describe(result)) +
                    ", expected " + (n == 1 ? std::string("one value") : std::to_string(n) + " values (one per tensor)"));
  std::vector<ir::Value*> yields;
  for (size_t i = 0; i < n; ++i) {
    if (items[i].kind != K::IR && !items[i].is_host_number())
      error(span, what + ": the combine function '" + op->attrs.combine_fn + "' must return numbers computed from "
                         "its arguments, got " + describe(items[i]));
    ir::Value* v = gen().to_device(items[i], span).value;
    if (!v->type.is_scalar())
      error(span, what + ": the combine function '" + op->attrs.combine_fn + "' must compute elementwise, but it "
                         "returns a value of shape " + gen().shape_str(v->type.dims));
    // The result keeps each operand's dtype (as torch's associative_scan does).
    yields.push_back(gen().cast(v, op->operands[i]->type.dtype, span));
  }
  b.create(OpKind::Yield, yields, {}, span);
  b.set_region(saved);
  // Only elementwise math of the arguments and constants can become a
  // function of its own.
  ir::walk(*r, [&](const ir::Op& inner) {
    switch (inner.kind) {
      case OpKind::Constant:
      case OpKind::Unary:
      case OpKind::Binary:
      case OpKind::Where:
      case OpKind::Cast:
      case OpKind::Full:
      case OpKind::Yield: return;
      default: break;
    }
    std::string why = inner.kind == OpKind::SymValue || inner.kind == OpKind::ScalarParam
                          ? "a value of the kernel (sizes, arguments)"
                          : std::string("'") + ir::name(inner.kind) + "'";
    error(span, what + ": the combine function '" + op->attrs.combine_fn + "' may only compute elementwise on its "
                       "arguments and constants, but line " + std::to_string(inner.span.line) + " uses " + why,
          {"combine functions become functions of their own in the generated code"});
  });
}

SValue Analyzer::associative_scan(const SValue& fn, const SValue& input, SourceSpan input_span, int64_t dim,
                                  SourceSpan dim_span, bool reverse, SourceSpan span, const std::string& what) {
  bool is_tuple = false;
  auto values = combine_operands(input, input_span, what, &is_tuple);
  CombineSignature sig = combine_signature(fn, span, what);
  int axis = normalize_axis(dim, values[0]->type.rank(), dim_span);
  std::vector<SValue> out;
  if (values[0]->type.dims[axis] == ir::kBroadcast) {
    // A scan over one element is that element.
    for (ir::Value* v : values) out.push_back(SValue::ir(v, PromotionClass::Tensor));
  } else {
    if (gen().is_jagged(values[0]->type.dims[axis]))
      error(span, what + " along a jagged tile ('" + gen().dim_name(values[0]->type.dims[axis]) +
                      "', from hl.jagged_tile) is not supported: its lanes past a row's end have no value to take",
            {"scan along a dim of hl.tile, or mask the values with torch.where first and use torch.cumsum"});
    ir::Attrs a;
    a.axis = axis;
    a.reverse = reverse;
    a.combine_fn = sig.name;
    std::vector<ir::Type> types;
    for (ir::Value* v : values) types.push_back(v->type);
    ir::Op* op = gen().builder().create(OpKind::Scan, values, types, span, a);
    build_combine_region(op, fn, sig, is_tuple, span, what);
    for (const auto& r : op->results) out.push_back(SValue::ir(r.get(), PromotionClass::Tensor));
  }
  return is_tuple ? SValue::tuple(out) : out[0];
}

SValue Analyzer::combine_reduce(const SValue& fn, const SValue& input, SourceSpan input_span, const SValue* dim,
                                SourceSpan dim_span, const SValue* other, SourceSpan other_span, bool keepdim,
                                SourceSpan span) {
  const std::string what = "hl.reduce";
  bool is_tuple = false;
  auto values = combine_operands(input, input_span, what, &is_tuple);
  CombineSignature sig = combine_signature(fn, span, what);
  size_t n = values.size();
  std::vector<ir::Literal> fill;
  if (other && other->kind != K::None) {
    std::vector<SValue> items = other->is_sequence() ? other->elts : std::vector<SValue>(n, *other);
    if (items.size() != n)
      error(other_span, "hl.reduce: 'other' has " + std::to_string(items.size()) + " values for " + std::to_string(n) +
                            " tensors");
    for (size_t i = 0; i < n; ++i) fill.push_back(literal_of(*this, items[i], values[i]->type.dtype, other_span));
  }
  int rank = values[0]->type.rank();
  std::vector<int> axes;
  if (!dim || dim->kind == K::None) {
    for (int i = 0; i < rank; ++i) axes.push_back(i);
  } else {
    axes.push_back(normalize_axis(expect_const_int(*dim, dim_span, "dim"), rank, dim_span));
  }
  // Several axes: one at a time, the last first (a combine function of a
  // reduction is associative and commutative).
  for (auto it = axes.rbegin(); it != axes.rend(); ++it) {
    int axis = *it;
    if (values[0]->type.dims[axis] == ir::kBroadcast) {
      if (!keepdim)
        for (auto& v : values) v = gen().squeeze(v, axis, span);
      continue;
    }
    if (gen().is_jagged(values[0]->type.dims[axis]))
      error(span, what + " along a jagged tile ('" + gen().dim_name(values[0]->type.dims[axis]) +
                      "', from hl.jagged_tile) is not supported: a combine function has no identity for the lanes "
                      "past a row's end",
            {"reduce with sum/amax/amin/prod (they skip those lanes), or over a dim of hl.tile"});
    ir::Attrs a;
    a.axis = axis;
    a.keepdim = keepdim;
    a.combine_fn = sig.name;
    a.other = fill;
    std::vector<ir::Type> types;
    for (ir::Value* v : values) {
      auto dims = v->type.dims;
      if (keepdim)
        dims[axis] = ir::kBroadcast;
      else
        dims.erase(dims.begin() + axis);
      types.push_back(ir::Type{v->type.dtype, dims});
    }
    ir::Op* op = gen().builder().create(OpKind::CombineReduce, values, types, span, a);
    build_combine_region(op, fn, sig, is_tuple, span, what);
    for (size_t i = 0; i < n; ++i) values[i] = op->result(i);
  }
  std::vector<SValue> out;
  for (ir::Value* v : values)
    out.push_back(SValue::ir(v, v->type.is_scalar() ? PromotionClass::ZeroDim : PromotionClass::Tensor));
  return is_tuple ? SValue::tuple(out) : out[0];
}

SValue Analyzer::cumulative(ir::ReduceFn fn, const SValue& input, SourceSpan input_span, int64_t dim,
                            SourceSpan dim_span, bool reverse, std::optional<DType> result, SourceSpan span,
                            const std::string& what) {
  if (input.kind != K::IR && input.kind != K::DimSize)
    error(input_span, what + " needs a tensor value from inside the tile loop, got " + describe(input));
  ir::Value* x = expect_tensor_value(input, input_span, what);
  if (x->type.is_scalar()) error(input_span, what + " needs a tensor of at least one dimension, got a scalar");
  int axis = normalize_axis(dim, x->type.rank(), dim_span);
  DType out = result ? *result : x->type.dtype;
  return SValue::ir(gen().scan(fn, x, axis, reverse, out, span), PromotionClass::Tensor);
}

}  // namespace deuteron::sema
