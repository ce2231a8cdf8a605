// torch.* / torch.nn.functional.* / Tensor methods on device values.
//
// One table serves `torch.op(x, ...)` and `x.op(...)` (a method call is the
// function with the receiver as first argument).  Composite ops (gelu,
// softmax, var, ...) compute in float32 for low-precision inputs and round
// once at the end, as PyTorch's kernels do.
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "analyzer.h"
#include "reshapes.h"
#include "scalar_affine.h"

namespace deuteron::sema {

using ir::BinaryFn;
using ir::ReduceFn;
using ir::UnaryFn;
using K = SValue::Kind;

namespace {

struct OpCtx {
  Analyzer& a;
  const BoundArgs& args;
  SourceSpan span;
  std::string name;

  IRGen& g() { return a.gen(); }
  bool has(const std::string& n) const {
    const SValue* v = args.get(n);
    return v && v->kind != K::None;
  }
  const SValue& get(const std::string& n) const { return *args.get(n); }
  SourceSpan at(const std::string& n) const { return args.span_of(n); }
  SValue dev(const std::string& n) { return a.expect_device(get(n), at(n), "argument '" + n + "' of " + name); }
  // Keeps host numbers as they are (so promotion treats them as Python scalars).
  SValue num(const std::string& n) {
    const SValue& v = get(n);
    if (v.kind == K::IR || v.is_host_number()) return v;
    return dev(n);
  }
};

using OpFn = std::function<SValue(OpCtx&)>;
struct OpDef {
  std::vector<std::string> signature;
  OpFn fn;
};

// ---- helpers for composite ops

ir::Value* to_compute(OpCtx& c, ir::Value* v) {
  DType t = v->type.dtype;
  return c.g().opmath_cast(v, is_floating(t) ? math_compute_dtype(t) : DType::Float32, c.span);
}
DType float_result(DType in) { return is_floating(in) ? in : DType::Float32; }

SValue fin(OpCtx& c, ir::Value* v, DType result, PromotionClass pc) {
  return SValue::ir(c.g().opmath_cast(v, result, c.span), pc);
}

ir::Value* fconst(OpCtx& c, double v) {
  return c.g().constant(ir::Literal::from_float(v), DType::Float32, c.span);
}

ir::Value* bin(OpCtx& c, BinaryFn f, ir::Value* x, ir::Value* y) {
  DType t = promote_types(x->type.dtype, y->type.dtype);
  return c.g().binary_raw(f, c.g().opmath_cast(x, t, c.span), c.g().opmath_cast(y, t, c.span), t, c.span);
}
ir::Value* un(OpCtx& c, UnaryFn f, ir::Value* x) { return c.g().unary_raw(f, x, x->type.dtype, c.span); }

SValue unary_op(OpCtx& c, UnaryFn f) { return c.g().unary(f, c.dev("input"), c.span); }
SValue binary_op(OpCtx& c, BinaryFn f) {
  SValue x = c.num("input"), y = c.num("other");
  if (x.kind != K::IR && y.kind != K::IR) x = c.dev("input");
  return c.g().binary(f, x, y, c.span);
}

// Composite activations: compute in float32, round once.
SValue activation(OpCtx& c, const std::function<ir::Value*(OpCtx&, ir::Value*)>& body) {
  SValue x = c.dev("input");
  DType result = float_result(x.value->type.dtype);
  return fin(c, body(c, to_compute(c, x.value)), result, x.pclass);
}

// Normalizes the `dim` argument into sorted axes (all axes when None).
std::vector<int> reduction_axes(OpCtx& c, ir::Value* x, const char* arg = "dim") {
  int rank = x->type.rank();
  std::vector<int> axes;
  if (!c.has(arg)) {
    for (int i = 0; i < rank; ++i) axes.push_back(i);
    return axes;
  }
  const SValue& d = c.get(arg);
  std::vector<SValue> items = d.is_sequence() ? d.elts : std::vector<SValue>{d};
  for (const auto& it : items)
    axes.push_back(c.a.normalize_axis(c.a.expect_const_int(it, c.at(arg), "dim"), rank, c.at(arg)));
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

bool keepdim_of(OpCtx& c) { return c.has("keepdim") && c.a.expect_const_bool(c.get("keepdim"), c.at("keepdim"), "keepdim"); }

// Reduces over several axes (highest first so indices stay valid).
ir::Value* reduce_axes(OpCtx& c, ReduceFn f, ir::Value* x, const std::vector<int>& axes, bool keepdim,
                       std::optional<DType> out) {
  if (x->type.is_scalar()) return out ? c.g().cast(x, *out, c.span) : x;
  for (auto it = axes.rbegin(); it != axes.rend(); ++it) x = c.g().reduce(f, x, *it, keepdim, out, c.span);
  return x;
}

// Number of valid elements along the reduced axes (for mean/var).
ir::Value* count_of(OpCtx& c, ir::Value* x, const std::vector<int>& axes) {
  SymInt n = 1;
  ir::Value* dynamic = nullptr;
  for (int ax : axes) {
    int d = x->type.dims.at(ax);
    if (d == ir::kBroadcast) continue;
    if (c.g().is_jagged(d))
      c.a.error(c.span, "a mean, var or std over a jagged tile ('" + c.g().dim_name(d) +
                            "', from hl.jagged_tile) is not supported: its length differs from row to row",
                {"sum over it and divide by the rows' lengths: acc / lengths.to(acc.dtype)"});
    const ir::Dim& dim = c.g().kernel().dim(d);
    if (dim.kind == ir::DimKind::Full) {
      n = n * dim.extent();
    } else {
      // A tile's valid length is end - begin (shorter at the boundary).
      ir::Attrs a;
      a.dim = d;
      DType it = c.g().index_dtype();
      ir::Value* e = c.g().builder().create(ir::OpKind::TileEnd, {}, {ir::Type{it, {}}}, c.span, a)->result();
      ir::Value* b = c.g().builder().create(ir::OpKind::TileBegin, {}, {ir::Type{it, {}}}, c.span, a)->result();
      ir::Value* len = c.g().binary_raw(BinaryFn::Sub, e, b, it, c.span);
      dynamic = dynamic ? c.g().binary_raw(BinaryFn::Mul, dynamic, len, it, c.span) : len;
    }
  }
  ir::Value* cnt = c.g().cast(c.g().sym_value(n, c.span), DType::Float32, c.span);
  if (dynamic) cnt = bin(c, BinaryFn::Mul, cnt, c.g().cast(dynamic, DType::Float32, c.span));
  return cnt;
}

std::optional<DType> dtype_arg(OpCtx& c, const char* n = "dtype") {
  if (!c.has(n)) return std::nullopt;
  return c.a.expect_dtype(c.get(n), c.at(n), n);
}

SValue sum_like(OpCtx& c, ReduceFn f) {
  SValue x = c.dev("input");
  auto axes = reduction_axes(c, x.value);
  ir::Value* r = reduce_axes(c, f, x.value, axes, keepdim_of(c), dtype_arg(c));
  return SValue::ir(r, r->type.is_scalar() ? PromotionClass::ZeroDim : PromotionClass::Tensor);
}

SValue mean(OpCtx& c) {
  SValue x = c.dev("input");
  DType in = x.value->type.dtype;
  auto dt = dtype_arg(c);
  DType result = dt ? *dt : in;
  if (!is_floating(result))
    c.a.error(c.span, "mean() needs a floating-point input or dtype=, got " + std::string(torch_name(in)));
  auto axes = reduction_axes(c, x.value);
  ir::Value* xf = to_compute(c, c.g().cast(x.value, result, c.span));
  ir::Value* s = reduce_axes(c, ReduceFn::Sum, xf, axes, keepdim_of(c), std::nullopt);
  ir::Value* m = bin(c, BinaryFn::TrueDiv, s, count_of(c, x.value, axes));
  return fin(c, m, result, m->type.is_scalar() ? PromotionClass::ZeroDim : PromotionClass::Tensor);
}

double correction_of(OpCtx& c) {
  if (c.has("correction")) return c.a.expect_const_float(c.get("correction"), c.at("correction"), "correction");
  if (c.has("unbiased")) return c.a.expect_const_bool(c.get("unbiased"), c.at("unbiased"), "unbiased") ? 1.0 : 0.0;
  return 1.0;
}

// var/std/var_mean: two-pass in float32 (mean first, then squared deviations).
std::pair<ir::Value*, ir::Value*> var_and_mean(OpCtx& c, ir::Value* x, const std::vector<int>& axes, bool keepdim,
                                               double correction) {
  ir::Value* xf = to_compute(c, x);
  ir::Value* n = count_of(c, x, axes);
  ir::Value* s = reduce_axes(c, ReduceFn::Sum, xf, axes, true, std::nullopt);
  ir::Value* m = bin(c, BinaryFn::TrueDiv, s, n);
  ir::Value* d = bin(c, BinaryFn::Sub, xf, m);
  ir::Value* sq = reduce_axes(c, ReduceFn::Sum, bin(c, BinaryFn::Mul, d, d), axes, keepdim, std::nullopt);
  ir::Value* denom = bin(c, BinaryFn::Sub, n, fconst(c, correction));
  denom = bin(c, BinaryFn::Maximum, denom, fconst(c, 0.0));
  ir::Value* var = bin(c, BinaryFn::TrueDiv, sq, denom);
  if (!keepdim)
    for (auto it = axes.rbegin(); it != axes.rend(); ++it) m = c.g().squeeze(m, *it, c.span);
  return {var, m};
}

SValue var_op(OpCtx& c, bool take_sqrt, bool with_mean) {
  SValue x = c.dev("input");
  DType result = float_result(x.value->type.dtype);
  auto axes = reduction_axes(c, x.value);
  auto [var, m] = var_and_mean(c, x.value, axes, keepdim_of(c), correction_of(c));
  if (take_sqrt) var = un(c, UnaryFn::Sqrt, var);
  PromotionClass pc = var->type.is_scalar() ? PromotionClass::ZeroDim : PromotionClass::Tensor;
  SValue v = fin(c, var, result, pc);
  if (!with_mean) return v;
  return SValue::tuple({v, fin(c, m, result, pc)});
}

// max/min: full reduction, along a dim (values, indices), or elementwise.
SValue max_min(OpCtx& c, bool is_max) {
  if (c.has("other")) return binary_op(c, is_max ? BinaryFn::Maximum : BinaryFn::Minimum);
  SValue x = c.dev("input");
  if (!c.has("dim")) {
    ir::Value* r = reduce_axes(c, is_max ? ReduceFn::Max : ReduceFn::Min, x.value, reduction_axes(c, x.value), false,
                               std::nullopt);
    return SValue::ir(r, PromotionClass::ZeroDim);
  }
  const SValue& d = c.get("dim");
  if (d.kind == K::IR) {
    // torch.max(a, b) with b a tensor passed positionally as `dim`.
    return c.g().binary(is_max ? BinaryFn::Maximum : BinaryFn::Minimum, x, d, c.span);
  }
  int axis = c.a.normalize_axis(c.a.expect_const_int(d, c.at("dim"), "dim"), x.value->type.rank(), c.at("dim"));
  bool kd = keepdim_of(c);
  ir::Value* vals = c.g().reduce(is_max ? ReduceFn::Max : ReduceFn::Min, x.value, axis, kd, std::nullopt, c.span);
  ir::Value* idx = c.g().reduce(is_max ? ReduceFn::ArgMax : ReduceFn::ArgMin, x.value, axis, kd, std::nullopt, c.span);
  return SValue::tuple({SValue::ir(vals, PromotionClass::Tensor), SValue::ir(idx, PromotionClass::Tensor)});
}

// argmax/argmin without dim: the index into the value flattened in row-major
// order (over its live lanes: a partial tile counts its valid length), the
// first one where several hold the extreme, a NaN's first where one holds NaN
// (as PyTorch).  Over several axes: the extreme over all of them, then the
// smallest linear index among the lanes that hold it.
ir::Value* flat_arg_reduce(OpCtx& c, ReduceFn f, ir::Value* x, bool keepdim) {
  IRGen& g = c.g();
  const int rank = x->type.rank();
  if (rank == 0) return g.int_constant(0, DType::Int64, c.span);
  if (rank == 1) return g.reduce(f, x, 0, keepdim, std::nullopt, c.span);
  const DType i64 = DType::Int64, it = g.index_dtype();
  ir::Value* linear = nullptr;
  ir::Value* stride = nullptr;  // the lanes of the axes after this one
  for (int a = rank - 1; a >= 0; --a) {
    const int d = x->type.dims[a];
    if (d == ir::kBroadcast) continue;
    const ir::Dim& dim = g.kernel().dim(d);
    if (g.is_jagged(d) || dim.merged() || (dim.kind != ir::DimKind::Tile && dim.kind != ir::DimKind::Full))
      c.a.error(c.span, c.name + "() without dim inside tile loops needs tiles and whole dims as axes, got " +
                            g.dim_name(d),
                {"pass dim="});
    ir::Attrs at;
    at.dim = d;
    ir::Value *local, *length;
    if (dim.kind == ir::DimKind::Tile) {
      ir::Value* begin = g.builder().create(ir::OpKind::TileBegin, {}, {ir::Type{it, {}}}, c.span, at)->result();
      ir::Value* end = g.builder().create(ir::OpKind::TileEnd, {}, {ir::Type{it, {}}}, c.span, at)->result();
      ir::Value* index = g.builder().create(ir::OpKind::TileIndex, {}, {ir::Type{it, {d}}}, c.span, at)->result();
      local = g.binary_raw(BinaryFn::Sub, index, begin, it, c.span);
      length = g.binary_raw(BinaryFn::Sub, end, begin, it, c.span);
    } else {
      local = g.builder().create(ir::OpKind::Arange, {}, {ir::Type{it, {d}}}, c.span, at)->result();
      if (!(dim.begin.is_constant() && dim.begin.constant() == 0))
        local = g.binary_raw(BinaryFn::Sub, local, g.cast(g.sym_value(dim.begin, c.span), it, c.span), it, c.span);
      length = g.sym_value(dim.extent(), c.span);
    }
    local = g.cast(local, i64, c.span);
    for (int k = 0; k < a; ++k) local = g.expand_dims(local, 0, c.span);
    while (local->type.rank() < rank) local = g.expand_dims(local, local->type.rank(), c.span);
    ir::Value* term = stride ? g.binary_raw(BinaryFn::Mul, local, stride, i64, c.span) : local;
    linear = linear ? g.binary_raw(BinaryFn::Add, linear, term, i64, c.span) : term;
    length = g.cast(length, i64, c.span);
    stride = stride ? g.binary_raw(BinaryFn::Mul, stride, length, i64, c.span) : length;
  }
  std::vector<int> all;
  for (int a = 0; a < rank; ++a) all.push_back(a);
  if (!linear) return reduce_axes(c, ReduceFn::Min, g.full(x->type.dims, ir::Literal::from_int(0), i64, c.span), all,
                                  keepdim, std::nullopt);
  ir::Value* extreme = reduce_axes(c, f == ReduceFn::ArgMax ? ReduceFn::Max : ReduceFn::Min, x, all, true, std::nullopt);
  ir::Value* hit = g.binary_raw(BinaryFn::Eq, x, extreme, DType::Bool, c.span);
  if (is_floating(x->type.dtype)) {
    ir::Value* nans = g.binary_raw(BinaryFn::LogicalAnd, g.unary_raw(UnaryFn::IsNan, x, DType::Bool, c.span),
                                   g.unary_raw(UnaryFn::IsNan, extreme, DType::Bool, c.span), DType::Bool, c.span);
    hit = g.binary_raw(BinaryFn::LogicalOr, hit, nans, DType::Bool, c.span);
  }
  ir::Value* none = g.int_constant(std::numeric_limits<int64_t>::max(), i64, c.span);
  ir::Value* candidates = g.where_raw(hit, linear, none, c.span);
  return reduce_axes(c, ReduceFn::Min, candidates, all, keepdim, std::nullopt);
}

SValue arg_reduce(OpCtx& c, ReduceFn f) {
  SValue x = c.dev("input");
  if (!c.has("dim")) {
    ir::Value* r = flat_arg_reduce(c, f, x.value, keepdim_of(c));
    return SValue::ir(r, r->type.is_scalar() ? PromotionClass::ZeroDim : PromotionClass::Tensor);
  }
  int axis = c.a.normalize_axis(c.a.expect_const_int(c.get("dim"), c.at("dim"), "dim"), x.value->type.rank(),
                                c.at("dim"));
  return SValue::ir(c.g().reduce(f, x.value, axis, keepdim_of(c), std::nullopt, c.span), PromotionClass::Tensor);
}

int single_axis(OpCtx& c, ir::Value* x, const char* arg = "dim") {
  if (!c.has(arg)) c.a.error(c.span, c.name + "() needs dim= inside tile loops");
  return c.a.normalize_axis(c.a.expect_const_int(c.get(arg), c.at(arg), arg), x->type.rank(), c.at(arg));
}

// softmax in float32: exp(x - max) / sum(exp(x - max)).
SValue softmax(OpCtx& c, bool log) {
  SValue x = c.dev("input");
  int axis = single_axis(c, x.value);
  auto dt = dtype_arg(c);
  DType result = dt ? *dt : float_result(x.value->type.dtype);
  ir::Value* xf = to_compute(c, dt ? c.g().cast(x.value, *dt, c.span) : x.value);
  ir::Value* m = c.g().reduce(ReduceFn::Max, xf, axis, true, std::nullopt, c.span);
  ir::Value* shifted = bin(c, BinaryFn::Sub, xf, m);
  ir::Value* e = un(c, UnaryFn::Exp, shifted);
  ir::Value* s = c.g().reduce(ReduceFn::Sum, e, axis, true, std::nullopt, c.span);
  ir::Value* r = log ? bin(c, BinaryFn::Sub, shifted, un(c, UnaryFn::Log, s)) : bin(c, BinaryFn::TrueDiv, e, s);
  return fin(c, r, result, PromotionClass::Tensor);
}

SValue logsumexp(OpCtx& c) {
  SValue x = c.dev("input");
  DType result = float_result(x.value->type.dtype);
  auto axes = reduction_axes(c, x.value);
  bool kd = keepdim_of(c);
  ir::Value* xf = to_compute(c, x.value);
  ir::Value* m = reduce_axes(c, ReduceFn::Max, xf, axes, true, std::nullopt);
  // Guard rows that are all -inf: use 0 as the shift there.
  ir::Value* finite = c.g().unary_raw(UnaryFn::IsInf, m, DType::Bool, c.span);
  ir::Value* ms = c.g().where_raw(finite, c.g().full(m->type.dims, ir::Literal::from_float(0.0), m->type.dtype, c.span),
                                  m, c.span);
  ir::Value* s = reduce_axes(c, ReduceFn::Sum, un(c, UnaryFn::Exp, bin(c, BinaryFn::Sub, xf, ms)), axes, kd,
                             std::nullopt);
  ir::Value* shift = ms;
  if (!kd)
    for (auto it = axes.rbegin(); it != axes.rend(); ++it) shift = c.g().squeeze(shift, *it, c.span);
  ir::Value* r = bin(c, BinaryFn::Add, un(c, UnaryFn::Log, s), shift);
  return fin(c, r, result, r->type.is_scalar() ? PromotionClass::ZeroDim : PromotionClass::Tensor);
}

// Normalization over the trailing `normalized_shape` dims.
std::vector<int> trailing_axes(OpCtx& c, ir::Value* x) {
  const SValue& ns = c.get("normalized_shape");
  size_t n = ns.is_sequence() ? ns.elts.size() : 1;
  int rank = x->type.rank();
  if (static_cast<int>(n) > rank) c.a.error(c.at("normalized_shape"), "normalized_shape has more dims than the input");
  std::vector<int> axes;
  for (int i = rank - static_cast<int>(n); i < rank; ++i) axes.push_back(i);
  return axes;
}

double eps_of(OpCtx& c, double dflt) {
  if (!c.has("eps")) return dflt;
  return c.a.expect_const_float(c.get("eps"), c.at("eps"), "eps");
}

ir::Value* eps_value(OpCtx& c, double dflt) {
  if (c.has("eps") && c.get("eps").kind == K::Float && !c.get("eps").runtime_expr.empty())
    return c.g().to_device(c.get("eps"), c.at("eps")).value;
  return fconst(c, eps_of(c, dflt));
}

SValue layer_norm(OpCtx& c) {
  SValue x = c.dev("input");
  DType result = float_result(x.value->type.dtype);
  auto axes = trailing_axes(c, x.value);
  auto [var, m] = var_and_mean(c, x.value, axes, true, 0.0);
  ir::Value* xf = to_compute(c, x.value);
  ir::Value* inv = un(c, UnaryFn::Rsqrt, bin(c, BinaryFn::Add, var, eps_value(c, 1e-5)));
  ir::Value* y = bin(c, BinaryFn::Mul, bin(c, BinaryFn::Sub, xf, m), inv);
  if (c.has("weight")) y = bin(c, BinaryFn::Mul, y, to_compute(c, c.dev("weight").value));
  if (c.has("bias")) y = bin(c, BinaryFn::Add, y, to_compute(c, c.dev("bias").value));
  return fin(c, y, result, PromotionClass::Tensor);
}

SValue rms_norm(OpCtx& c) {
  SValue x = c.dev("input");
  DType result = float_result(x.value->type.dtype);
  auto axes = trailing_axes(c, x.value);
  ir::Value* xf = to_compute(c, x.value);
  ir::Value* ss = reduce_axes(c, ReduceFn::Sum, bin(c, BinaryFn::Mul, xf, xf), axes, true, std::nullopt);
  ir::Value* ms = bin(c, BinaryFn::TrueDiv, ss, count_of(c, x.value, axes));
  // torch's default eps for rms_norm is the input dtype's machine epsilon.
  double dflt = result == DType::Float16 ? 0.0009765625 : result == DType::BFloat16 ? 0.0078125
                : result == DType::Float64 ? 2.220446049250313e-16 : 1.1920928955078125e-07;
  ir::Value* y = bin(c, BinaryFn::Mul, xf, un(c, UnaryFn::Rsqrt, bin(c, BinaryFn::Add, ms, eps_value(c, dflt))));
  if (c.has("weight")) y = bin(c, BinaryFn::Mul, y, to_compute(c, c.dev("weight").value));
  return fin(c, y, result, PromotionClass::Tensor);
}

// ---- matmul family
// torch.mm / bmm (input, mat2, out_dtype): out_dtype is PyTorch's optional
// third argument (the `.dtype` overloads), which Helion's attention examples
// pass positionally: the product in that dtype, as hl.dot(out_dtype=).
SValue mm_like(OpCtx& c, const char* a, const char* b) {
  ir::Value* x = c.dev(a).value;
  ir::Value* y = c.dev(b).value;
  return SValue::ir(c.g().dot(x, y, nullptr, dtype_arg(c, "out_dtype"), c.span), PromotionClass::Tensor);
}

// torch.addmm / baddbmm (input, mat1, mat2, out_dtype, *, beta, alpha):
// beta * input + alpha * (mat1 @ mat2).  Unscaled, the input is the dot's
// accumulator (Triton's acc=); scaled, the product is taken in float32 and
// combined after.
SValue addmm_like(OpCtx& c, const char* m1, const char* m2) {
  ir::Value* acc = c.dev("input").value;
  ir::Value* x = c.dev(m1).value;
  ir::Value* y = c.dev(m2).value;
  std::optional<DType> od = dtype_arg(c, "out_dtype");
  double beta = c.has("beta") ? c.a.expect_const_float(c.get("beta"), c.at("beta"), "beta") : 1.0;
  double alpha = c.has("alpha") ? c.a.expect_const_float(c.get("alpha"), c.at("alpha"), "alpha") : 1.0;
  if (beta == 1.0 && alpha == 1.0) return SValue::ir(c.g().dot(x, y, acc, od, c.span), PromotionClass::Tensor);
  ir::Value* prod = c.g().dot(x, y, nullptr, DType::Float32, c.span);
  ir::Value* scaled = bin(c, BinaryFn::Mul, prod, fconst(c, alpha));
  // beta == 0 ignores the input, NaN and inf included (PyTorch's rule).
  ir::Value* r = beta == 0.0 ? scaled : bin(c, BinaryFn::Add, bin(c, BinaryFn::Mul, to_compute(c, acc), fconst(c, beta)), scaled);
  if (r->type.dims != prod->type.dims) r = c.g().broadcast_to(r, prod->type.dims, c.span);
  return fin(c, r, od ? *od : acc->type.dtype, PromotionClass::Tensor);
}

// ---- stack
// torch.stack(tensors, dim) on the device.  The new axis is the Full dim of
// extent len(tensors) -- the dim every `:` of that extent shares, so
// `out[tile_m, :, tile_n] = torch.stack([a, b, c], dim=1)` lines up with the
// store's slice -- and lane i of it selects tensors[i]: a chain of
// where(arange == i, tensors[i], ...).  Elementwise ops only, so each back end
// prints it with what it already has, and a non-power-of-2 count is the usual
// masked Full dim (the padding lanes repeat tensors[0] and are never stored).
SValue stack(OpCtx& c) {
  const SValue& seq = c.get("tensors");
  if (!seq.is_sequence() || seq.elts.empty())
    c.a.error(c.at("tensors"), "torch.stack needs a non-empty list or tuple of tensors, got " + describe(seq));
  std::vector<SValue> xs;
  for (const auto& e : seq.elts) xs.push_back(c.a.expect_device(e, c.at("tensors"), "an element of " + c.name + "'s list"));
  const std::vector<int>& dims = xs[0].value->type.dims;
  for (size_t i = 1; i < xs.size(); ++i)
    if (xs[i].value->type.dims != dims)
      c.a.error(c.at("tensors"), ErrorKind::ShapeMismatch,
                c.name + " needs tensors of one shape: element 0 is " + c.g().shape_str(dims) + ", element " +
                    std::to_string(i) + " is " + c.g().shape_str(xs[i].value->type.dims));
  int rank = static_cast<int>(dims.size());
  int axis = c.has("dim") ? c.a.normalize_axis(c.a.expect_const_int(c.get("dim"), c.at("dim"), "dim"), rank + 1, c.at("dim"))
                          : 0;
  DType dt = c.g().result_type(xs);  // torch.stack promotes as torch.cat does
  PromotionClass pclass = PromotionClass::Scalar;
  for (const auto& x : xs) pclass = std::max(pclass, x.pclass);
  std::vector<ir::Value*> parts;
  for (const auto& x : xs) parts.push_back(c.g().expand_dims(c.g().cast(x.value, dt, c.span), axis, c.span));
  if (parts.size() == 1) return SValue::ir(parts[0], pclass);  // a size-1 axis, as torch.stack gives
  const int64_t n = static_cast<int64_t>(parts.size());
  int d = c.g().full_dim(SymInt(n), c.span, std::to_string(n));
  ir::Attrs at;
  at.dim = d;
  DType it = c.g().index_dtype();
  ir::Value* lane = c.g().builder().create(ir::OpKind::Arange, {}, {ir::Type{it, {d}}}, c.span, at)->result();
  for (int i = 0; i < axis; ++i) lane = c.g().expand_dims(lane, 0, c.span);
  for (int i = axis + 1; i <= rank; ++i) lane = c.g().expand_dims(lane, i, c.span);
  ir::Value* r = parts[0];
  for (int64_t i = 1; i < n; ++i) {
    ir::Value* is_i = c.g().binary_raw(BinaryFn::Eq, lane, c.g().int_constant(i, it, c.span), DType::Bool, c.span);
    r = c.g().where_raw(is_i, parts[i], r, c.span);
  }
  std::vector<int> out = dims;
  out.insert(out.begin() + axis, d);
  return SValue::ir(c.g().broadcast_to(r, out, c.span), pclass);
}

// ---- sort / topk
// torch.sort and torch.topk along the last axis, which must be a whole (Full)
// torch.gather(input, dim, index): out[..i..] = input[..index[..i..]..] along
// `dim`, the index's shape.  Triton's tl.gather takes an index whose other
// axes are the input's, so those must be the same dims (PyTorch allows an
// index shorter than the input there).  The input's dim along `dim` is read
// whole (assign_reduction_indices keeps it persistent).
SValue gather(OpCtx& c) {
  SValue x = c.dev("input");
  SValue ix = c.dev("index");
  const int rank = x.value->type.rank();
  if (rank == 0) c.a.error(c.at("input"), "gather() inside tile loops needs an input with dimensions, got a scalar");
  const int axis = c.a.normalize_axis(c.a.expect_const_int(c.get("dim"), c.at("dim"), "dim"), rank, c.at("dim"));
  if (c.has("sparse_grad") && c.a.expect_const_bool(c.get("sparse_grad"), c.at("sparse_grad"), "sparse_grad"))
    c.a.error(c.at("sparse_grad"), "gather(sparse_grad=True) is not supported inside tile loops");
  ir::Value* index = ix.value;
  if (index->type.dtype != DType::Int64)
    c.a.error(c.at("index"), std::string("gather(): Expected dtype int64 for index, got ") +
                                 torch_name(index->type.dtype),
              {"convert it with .to(torch.int64)"});
  if (index->type.rank() != rank)
    c.a.error(c.at("index"), "Index tensor must have the same number of dimensions as input tensor (" +
                                 std::to_string(index->type.rank()) + " and " + std::to_string(rank) + ")");
  std::vector<int> want = index->type.dims;
  for (int i = 0; i < rank; ++i)
    if (i != axis) want[i] = x.value->type.dims[i];
  index = c.g().conform_whole_dims(index, want, c.span);
  for (int i = 0; i < rank; ++i) {
    if (i == axis || index->type.dims[i] == x.value->type.dims[i]) continue;
    c.a.error(c.at("index"), "gather() inside tile loops needs the index's dimension " + std::to_string(i) + " (" +
                                 c.g().dim_name(index->type.dims[i]) + ") to be the input's (" +
                                 c.g().dim_name(x.value->type.dims[i]) + "): only dimension " +
                                 std::to_string(axis) + " is gathered along",
              {"index the input with the same tiles as the index on the other dimensions (x[tile_n, :] with "
               "index[tile_n, tile_k] for dim=1)"});
  }
  ir::Attrs a;
  a.axis = axis;
  ir::Value* r = c.g().builder().create(ir::OpKind::Gather, {x.value, index},
                                        {ir::Type{x.value->type.dtype, index->type.dims}}, c.span, a)->result();
  return SValue::ir(r, PromotionClass::Tensor);
}

// dim: a sort sees every element of the row, so the dim is never split into
// tiles or rolled into a loop (assign_reduction_indices keeps it persistent).
// Both return (values, indices), as torch does.
SValue sort_like(OpCtx& c, bool topk) {
  SValue x = c.dev("input");
  ir::Value* v = x.value;
  int rank = v->type.rank();
  if (rank == 0) c.a.error(c.at("input"), c.name + " needs a tensor with at least one axis, got a scalar");
  int axis = c.has("dim") ? c.a.normalize_axis(c.a.expect_const_int(c.get("dim"), c.at("dim"), "dim"), rank, c.at("dim"))
                          : rank - 1;
  if (axis != rank - 1)
    c.a.error(c.has("dim") ? c.at("dim") : c.span, c.name + " on the device sorts along the last axis only",
              {"move the axis last first (x.transpose(dim, -1)), sort, and move it back"});
  int d = v->type.dims[axis];
  if (d == ir::kBroadcast || c.g().kernel().dim(d).kind != ir::DimKind::Full)
    c.a.error(c.at("input"), c.name + " needs the whole axis, got " + c.g().shape_str(v->type.dims),
              {"index the sorted axis with `:` (x[tile, :]) so that one block holds all of it"});
  DType dt = v->type.dtype;
  // The Triton back end sorts values and positions together as one 64-bit key
  // (the value's 32 bits above the position), so wider values do not fit.
  if (bit_width(dt) > 32)
    c.a.error(c.at("input"), c.name + " on the device supports values of at most 32 bits, got " + torch_name(dt),
              {"sort a float32 / int32 copy: x.to(torch.float32)"});
  ir::Attrs at;
  at.axis = axis;
  std::vector<int> out = v->type.dims;
  if (topk) {
    int64_t k = c.a.expect_const_int(c.get("k"), c.at("k"), "k");
    const SymInt extent = c.g().kernel().dim(d).extent();
    if (k <= 0 || (extent.is_constant() && k > extent.constant()))
      c.a.error(c.at("k"), "k of " + c.name + " must be in [1, " + extent.str() + "], got " + std::to_string(k));
    at.sort_k = k;
    at.reverse = !c.has("largest") || c.a.expect_const_bool(c.get("largest"), c.at("largest"), "largest");
    out.back() = c.g().full_dim(SymInt(k), c.span, std::to_string(k));
  } else {
    at.reverse = c.has("descending") && c.a.expect_const_bool(c.get("descending"), c.at("descending"), "descending");
  }
  ir::Op* op = c.g().builder().create(ir::OpKind::Sort, {v}, {ir::Type{dt, out}, ir::Type{DType::Int64, out}}, c.span, at);
  return SValue::tuple({SValue::ir(op->result(0), x.pclass), SValue::ir(op->result(1), PromotionClass::Tensor)});
}

// ---- views (reshapes.cc decides the result's dims)
// A size given to view/reshape/expand: a device scalar that is arithmetic on
// tile attributes stands for a tile's block size (that tile's dim) or a
// constant; anything else is left for the caller to reject.
SValue size_item(const SValue& item) {
  SValue s = item;
  if (s.kind == K::IR && s.value->type.is_scalar()) {
    auto a = scalar_affine(s);
    if (a && a->is_constant()) s = SValue::integer(a->constant);
    else if (auto d = a ? a->block_size_dim() : std::nullopt) s = SValue::tile(*d);
  }
  return s;
}

SValue view_like(OpCtx& c, const SValue& self, const std::vector<SValue>& shape_items, SourceSpan span,
                 const std::string& what = "reshape") {
  std::vector<ReshapeItem> items;
  for (const auto& s : shape_items) items.push_back(reshape_item(c.g(), s, span, what));
  return SValue::ir(reshape_to(c.g(), self.value, items, span, what), self.pclass);
}

std::map<std::string, OpDef> build_table() {
  std::map<std::string, OpDef> t;
  auto U = [&](const std::string& n, UnaryFn f) {
    t[n] = {{"input"}, [f](OpCtx& c) { return unary_op(c, f); }};
  };
  U("exp", UnaryFn::Exp); U("exp2", UnaryFn::Exp2); U("log", UnaryFn::Log); U("log2", UnaryFn::Log2);
  U("log1p", UnaryFn::Log1p); U("expm1", UnaryFn::Expm1); U("sqrt", UnaryFn::Sqrt); U("rsqrt", UnaryFn::Rsqrt);
  U("sin", UnaryFn::Sin); U("cos", UnaryFn::Cos); U("tan", UnaryFn::Tan); U("tanh", UnaryFn::Tanh);
  U("sigmoid", UnaryFn::Sigmoid); U("erf", UnaryFn::Erf); U("floor", UnaryFn::Floor); U("ceil", UnaryFn::Ceil);
  U("trunc", UnaryFn::Trunc); U("round", UnaryFn::Round); U("reciprocal", UnaryFn::Reciprocal);
  U("abs", UnaryFn::Abs); U("neg", UnaryFn::Neg); U("negative", UnaryFn::Neg); U("sign", UnaryFn::Sign);
  U("isnan", UnaryFn::IsNan); U("isinf", UnaryFn::IsInf); U("isfinite", UnaryFn::IsFinite);
  U("logical_not", UnaryFn::Not); U("bitwise_not", UnaryFn::Invert); U("asin", UnaryFn::Asin);
  U("acos", UnaryFn::Acos); U("atan", UnaryFn::Atan); U("sinh", UnaryFn::Sinh); U("cosh", UnaryFn::Cosh);
  U("asinh", UnaryFn::Asinh); U("acosh", UnaryFn::Acosh); U("atanh", UnaryFn::Atanh);
  U("relu", UnaryFn::Relu); U("F.relu", UnaryFn::Relu); U("F.sigmoid", UnaryFn::Sigmoid);
  U("F.tanh", UnaryFn::Tanh); U("special.expit", UnaryFn::Sigmoid); U("special.erf", UnaryFn::Erf);
  U("special.exp2", UnaryFn::Exp2); U("special.expm1", UnaryFn::Expm1); U("special.log1p", UnaryFn::Log1p);
  U("square", UnaryFn::Neg);  // replaced below
  t["square"] = {{"input"}, [](OpCtx& c) { SValue x = c.dev("input"); return c.g().binary(BinaryFn::Mul, x, x, c.span); }};

  auto B = [&](const std::string& n, BinaryFn f) {
    t[n] = {{"input", "other"}, [f](OpCtx& c) { return binary_op(c, f); }};
  };
  B("mul", BinaryFn::Mul); B("multiply", BinaryFn::Mul); B("true_divide", BinaryFn::TrueDiv);
  B("floor_divide", BinaryFn::FloorDiv); B("remainder", BinaryFn::Mod); B("pow", BinaryFn::Pow);
  B("maximum", BinaryFn::Maximum); B("minimum", BinaryFn::Minimum); B("fmax", BinaryFn::Maximum);
  B("fmin", BinaryFn::Minimum); B("atan2", BinaryFn::Atan2); B("eq", BinaryFn::Eq); B("ne", BinaryFn::Ne);
  B("lt", BinaryFn::Lt); B("le", BinaryFn::Le); B("gt", BinaryFn::Gt); B("ge", BinaryFn::Ge);
  B("less", BinaryFn::Lt); B("greater", BinaryFn::Gt); B("less_equal", BinaryFn::Le);
  B("greater_equal", BinaryFn::Ge); B("not_equal", BinaryFn::Ne);
  B("logical_and", BinaryFn::LogicalAnd); B("logical_or", BinaryFn::LogicalOr);
  B("bitwise_and", BinaryFn::BitAnd); B("bitwise_or", BinaryFn::BitOr); B("bitwise_xor", BinaryFn::BitXor);
  B("bitwise_left_shift", BinaryFn::LShift); B("bitwise_right_shift", BinaryFn::RShift);
  B("copysign", BinaryFn::CopySign);
  t["logical_xor"] = {{"input", "other"}, [](OpCtx& c) {
    SValue x = c.g().unary(UnaryFn::Not, c.g().unary(UnaryFn::Not, c.dev("input"), c.span), c.span);
    SValue y = c.g().unary(UnaryFn::Not, c.g().unary(UnaryFn::Not, c.dev("other"), c.span), c.span);
    return c.g().binary(BinaryFn::Ne, x, y, c.span);
  }};
  auto alpha_op = [](BinaryFn f) {
    return [f](OpCtx& c) {
      SValue y = c.num("other");
      if (c.has("alpha")) y = c.a.eval_binop(ast::BinOpKind::Mult, y, c.get("alpha"), c.span);
      SValue x = c.num("input");
      if (x.kind != K::IR && y.kind != K::IR) x = c.dev("input");
      return c.g().binary(f, x, y, c.span);
    };
  };
  t["add"] = {{"input", "other", "*", "alpha="}, alpha_op(BinaryFn::Add)};
  t["sub"] = {{"input", "other", "*", "alpha="}, alpha_op(BinaryFn::Sub)};
  t["subtract"] = t["sub"];
  t["div"] = {{"input", "other", "*", "rounding_mode="}, [](OpCtx& c) {
    std::string mode = c.has("rounding_mode") ? c.get("rounding_mode").s : "";
    if (mode.empty()) return binary_op(c, BinaryFn::TrueDiv);
    if (mode == "floor") return binary_op(c, BinaryFn::FloorDiv);
    if (mode == "trunc") {
      SValue q = binary_op(c, BinaryFn::TrueDiv);
      return c.g().unary(UnaryFn::Trunc, q, c.span);
    }
    c.a.error(c.at("rounding_mode"), "rounding_mode must be None, 'floor' or 'trunc'");
  }};
  t["divide"] = t["div"];
  t["fmod"] = {{"input", "other"}, [](OpCtx& c) {
    // C-style remainder (sign of the dividend): a - trunc(a / b) * b
    SValue a = c.num("input"), b = c.num("other");
    if (a.kind != K::IR && b.kind != K::IR) a = c.dev("input");
    SValue q = c.g().unary(UnaryFn::Trunc, c.g().binary(BinaryFn::TrueDiv, a, b, c.span), c.span);
    DType rt = c.g().result_type({a, b});
    SValue prod = c.g().binary(BinaryFn::Mul, q, b, c.span);
    SValue r = c.g().binary(BinaryFn::Sub, a, prod, c.span);
    return SValue::ir(c.g().opmath_cast(r.value, rt, c.span), r.pclass);
  }};
  t["where"] = {{"condition", "input", "other"}, [](OpCtx& c) {
    return c.g().where(c.dev("condition"), c.num("input"), c.num("other"), c.span);
  }};
  t["masked_fill"] = {{"input", "mask", "value"}, [](OpCtx& c) {
    SValue x = c.dev("input");
    SValue v = c.num("value");
    SValue r = c.g().where(c.dev("mask"), v, x, c.span);
    return SValue::ir(c.g().opmath_cast(r.value, x.value->type.dtype, c.span), x.pclass);
  }};
  t["clamp"] = {{"input", "min=", "max="}, [](OpCtx& c) {
    SValue x = c.dev("input");
    if (c.has("min")) x = c.g().binary(BinaryFn::Maximum, x, c.num("min"), c.span);
    if (c.has("max")) x = c.g().binary(BinaryFn::Minimum, x, c.num("max"), c.span);
    return x;
  }};
  t["clip"] = t["clamp"];
  t["clamp_min"] = {{"input", "min"}, [](OpCtx& c) { return c.g().binary(BinaryFn::Maximum, c.dev("input"), c.num("min"), c.span); }};
  t["clamp_max"] = {{"input", "max"}, [](OpCtx& c) { return c.g().binary(BinaryFn::Minimum, c.dev("input"), c.num("max"), c.span); }};
  t["lerp"] = {{"input", "end", "weight"}, [](OpCtx& c) {
    SValue a = c.dev("input");
    SValue d = c.g().binary(BinaryFn::Sub, c.num("end"), a, c.span);
    return c.g().binary(BinaryFn::Add, a, c.g().binary(BinaryFn::Mul, c.num("weight"), d, c.span), c.span);
  }};
  t["addcmul"] = {{"input", "tensor1", "tensor2", "*", "value="}, [](OpCtx& c) {
    SValue p = c.g().binary(BinaryFn::Mul, c.dev("tensor1"), c.num("tensor2"), c.span);
    if (c.has("value")) p = c.g().binary(BinaryFn::Mul, p, c.num("value"), c.span);
    return c.g().binary(BinaryFn::Add, c.dev("input"), p, c.span);
  }};

  // activations (float32 inside, one rounding)
  t["F.silu"] = {{"input", "inplace="}, [](OpCtx& c) {
    return activation(c, [](OpCtx& c, ir::Value* x) { return bin(c, BinaryFn::Mul, x, un(c, UnaryFn::Sigmoid, x)); });
  }};
  t["F.gelu"] = {{"input", "*", "approximate="}, [](OpCtx& c) {
    std::string approx = c.has("approximate") ? c.get("approximate").s : "none";
    if (approx != "none" && approx != "tanh")
      c.a.error(c.at("approximate"), "approximate must be 'none' or 'tanh'");
    return activation(c, [approx](OpCtx& c, ir::Value* x) {
      ir::Value* inner;
      if (approx == "tanh") {
        // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
        ir::Value* x3 = bin(c, BinaryFn::Mul, bin(c, BinaryFn::Mul, x, x), x);
        ir::Value* arg = bin(c, BinaryFn::Mul, fconst(c, 0.7978845608028654),
                             bin(c, BinaryFn::Add, x, bin(c, BinaryFn::Mul, fconst(c, 0.044715), x3)));
        inner = un(c, UnaryFn::Tanh, arg);
      } else {
        inner = un(c, UnaryFn::Erf, bin(c, BinaryFn::Mul, x, fconst(c, 0.7071067811865476)));
      }
      return bin(c, BinaryFn::Mul, bin(c, BinaryFn::Mul, fconst(c, 0.5), x), bin(c, BinaryFn::Add, fconst(c, 1.0), inner));
    });
  }};
  t["F.softplus"] = {{"input", "beta=", "threshold="}, [](OpCtx& c) {
    double beta = c.has("beta") ? c.a.expect_const_float(c.get("beta"), c.at("beta"), "beta") : 1.0;
    double thr = c.has("threshold") ? c.a.expect_const_float(c.get("threshold"), c.at("threshold"), "threshold") : 20.0;
    return activation(c, [beta, thr](OpCtx& c, ir::Value* x) {
      ir::Value* bx = bin(c, BinaryFn::Mul, x, fconst(c, beta));
      ir::Value* sp = bin(c, BinaryFn::TrueDiv, un(c, UnaryFn::Log1p, un(c, UnaryFn::Exp, bx)), fconst(c, beta));
      ir::Value* big = c.g().binary_raw(BinaryFn::Gt, bx, c.g().cast(fconst(c, thr), bx->type.dtype, c.span), DType::Bool, c.span);
      return c.g().where_raw(big, x, sp, c.span);
    });
  }};
  t["F.leaky_relu"] = {{"input", "negative_slope=", "inplace="}, [](OpCtx& c) {
    double s = c.has("negative_slope") ? c.a.expect_const_float(c.get("negative_slope"), c.at("negative_slope"), "negative_slope") : 0.01;
    return activation(c, [s](OpCtx& c, ir::Value* x) {
      ir::Value* pos = c.g().binary_raw(BinaryFn::Gt, x, c.g().cast(fconst(c, 0.0), x->type.dtype, c.span), DType::Bool, c.span);
      return c.g().where_raw(pos, x, bin(c, BinaryFn::Mul, x, fconst(c, s)), c.span);
    });
  }};
  t["F.elu"] = {{"input", "alpha=", "inplace="}, [](OpCtx& c) {
    double al = c.has("alpha") ? c.a.expect_const_float(c.get("alpha"), c.at("alpha"), "alpha") : 1.0;
    return activation(c, [al](OpCtx& c, ir::Value* x) {
      ir::Value* pos = c.g().binary_raw(BinaryFn::Gt, x, c.g().cast(fconst(c, 0.0), x->type.dtype, c.span), DType::Bool, c.span);
      return c.g().where_raw(pos, x, bin(c, BinaryFn::Mul, fconst(c, al), un(c, UnaryFn::Expm1, x)), c.span);
    });
  }};
  t["F.relu6"] = {{"input", "inplace="}, [](OpCtx& c) {
    SValue x = c.dev("input");
    x = c.g().binary(BinaryFn::Maximum, x, SValue::integer(0), c.span);
    return c.g().binary(BinaryFn::Minimum, x, SValue::integer(6), c.span);
  }};
  t["F.hardsigmoid"] = {{"input", "inplace="}, [](OpCtx& c) {
    return activation(c, [](OpCtx& c, ir::Value* x) {
      ir::Value* y = bin(c, BinaryFn::Add, bin(c, BinaryFn::TrueDiv, x, fconst(c, 6.0)), fconst(c, 0.5));
      return bin(c, BinaryFn::Minimum, bin(c, BinaryFn::Maximum, y, fconst(c, 0.0)), fconst(c, 1.0));
    });
  }};
  t["F.mish"] = {{"input", "inplace="}, [](OpCtx& c) {
    return activation(c, [](OpCtx& c, ir::Value* x) {
      return bin(c, BinaryFn::Mul, x, un(c, UnaryFn::Tanh, un(c, UnaryFn::Log1p, un(c, UnaryFn::Exp, x))));
    });
  }};
  t["F.relu_"] = t["relu"];
  t["F.gelu_"] = t["F.gelu"];

  // reductions
  t["sum"] = {{"input", "dim=", "keepdim=", "*", "dtype="}, [](OpCtx& c) { return sum_like(c, ReduceFn::Sum); }};
  t["prod"] = {{"input", "dim=", "keepdim=", "*", "dtype="}, [](OpCtx& c) { return sum_like(c, ReduceFn::Prod); }};
  t["mean"] = {{"input", "dim=", "keepdim=", "*", "dtype="}, mean};
  t["amax"] = {{"input", "dim=", "keepdim="}, [](OpCtx& c) { return sum_like(c, ReduceFn::Max); }};
  t["amin"] = {{"input", "dim=", "keepdim="}, [](OpCtx& c) { return sum_like(c, ReduceFn::Min); }};
  t["any"] = {{"input", "dim=", "keepdim="}, [](OpCtx& c) { return sum_like(c, ReduceFn::Any); }};
  t["all"] = {{"input", "dim=", "keepdim="}, [](OpCtx& c) { return sum_like(c, ReduceFn::All); }};
  t["max"] = {{"input", "dim=", "keepdim=", "*", "other="}, [](OpCtx& c) { return max_min(c, true); }};
  t["min"] = {{"input", "dim=", "keepdim=", "*", "other="}, [](OpCtx& c) { return max_min(c, false); }};
  t["argmax"] = {{"input", "dim=", "keepdim="}, [](OpCtx& c) { return arg_reduce(c, ReduceFn::ArgMax); }};
  t["argmin"] = {{"input", "dim=", "keepdim="}, [](OpCtx& c) { return arg_reduce(c, ReduceFn::ArgMin); }};
  t["var"] = {{"input", "dim=", "unbiased=", "keepdim=", "*", "correction="}, [](OpCtx& c) { return var_op(c, false, false); }};
  t["std"] = {{"input", "dim=", "unbiased=", "keepdim=", "*", "correction="}, [](OpCtx& c) { return var_op(c, true, false); }};
  t["var_mean"] = {{"input", "dim=", "unbiased=", "keepdim=", "*", "correction="}, [](OpCtx& c) { return var_op(c, false, true); }};
  t["std_mean"] = {{"input", "dim=", "unbiased=", "keepdim=", "*", "correction="}, [](OpCtx& c) { return var_op(c, true, true); }};
  t["logsumexp"] = {{"input", "dim", "keepdim="}, logsumexp};
  t["softmax"] = {{"input", "dim=", "_stacklevel=", "dtype="}, [](OpCtx& c) { return softmax(c, false); }};
  t["log_softmax"] = {{"input", "dim=", "_stacklevel=", "dtype="}, [](OpCtx& c) { return softmax(c, true); }};
  t["F.softmax"] = t["softmax"];
  t["F.log_softmax"] = t["log_softmax"];
  t["special.softmax"] = t["softmax"];
  t["special.log_softmax"] = t["log_softmax"];
  t["special.logsumexp"] = t["logsumexp"];
  t["F.layer_norm"] = {{"input", "normalized_shape", "weight=", "bias=", "eps="}, layer_norm};
  t["F.rms_norm"] = {{"input", "normalized_shape", "weight=", "eps="}, rms_norm};

  // scans (torch's type rule: integer and bool inputs sum and multiply in int64)
  auto cumulative = [](ReduceFn fn) {
    return [fn](OpCtx& c) {
      SValue x = c.dev("input");
      auto dt = dtype_arg(c);
      DType in = x.value->type.dtype;
      DType result = dt ? *dt : is_floating(in) ? in : DType::Int64;
      return c.a.cumulative(fn, x, c.at("input"), c.a.expect_const_int(c.get("dim"), c.at("dim"), "dim"), c.at("dim"),
                            false, result, c.span, c.name);
    };
  };
  t["cumsum"] = {{"input", "dim", "*", "dtype="}, cumulative(ReduceFn::Sum)};
  t["cumprod"] = {{"input", "dim", "*", "dtype="}, cumulative(ReduceFn::Prod)};
  // torch's associative_scan (higher-order op): combine_fn(xs pytree, xs pytree)
  auto hop_scan = [](OpCtx& c) {
    bool reverse = c.has("reverse") && c.a.expect_const_bool(c.get("reverse"), c.at("reverse"), "reverse");
    return c.a.associative_scan(c.get("combine_fn"), c.get("xs"), c.at("xs"),
                                c.a.expect_const_int(c.get("dim"), c.at("dim"), "dim"), c.at("dim"), reverse, c.span,
                                c.name);
  };
  t["_higher_order_ops.associative_scan"] = {{"combine_fn", "xs", "dim", "reverse=", "combine_mode="}, hop_scan};
  t["ops.higher_order.associative_scan"] = t["_higher_order_ops.associative_scan"];

  t["stack"] = {{"tensors", "dim="}, stack};
  t["gather"] = {{"input", "dim", "index", "*", "sparse_grad="}, gather};
  t["sort"] = {{"input", "dim=", "descending=", "*", "stable="}, [](OpCtx& c) { return sort_like(c, false); }};
  t["topk"] = {{"input", "k", "dim=", "largest=", "sorted="}, [](OpCtx& c) { return sort_like(c, true); }};

  // matmul
  t["matmul"] = {{"input", "other"}, [](OpCtx& c) {
    return SValue::ir(c.g().matmul(c.dev("input").value, c.dev("other").value, c.span), PromotionClass::Tensor);
  }};
  t["mm"] = {{"input", "mat2", "out_dtype="}, [](OpCtx& c) { return mm_like(c, "input", "mat2"); }};
  t["bmm"] = {{"input", "mat2", "out_dtype="}, [](OpCtx& c) { return mm_like(c, "input", "mat2"); }};
  t["addmm"] = {{"input", "mat1", "mat2", "out_dtype=", "*", "beta=", "alpha="},
                [](OpCtx& c) { return addmm_like(c, "mat1", "mat2"); }};
  t["baddbmm"] = {{"input", "batch1", "batch2", "out_dtype=", "*", "beta=", "alpha="},
                  [](OpCtx& c) { return addmm_like(c, "batch1", "batch2"); }};

  // creation from a value
  auto like = [](const char* fill) {
    return [fill](OpCtx& c) {
      SValue x = c.dev("input");
      auto dt = dtype_arg(c);
      DType d = dt ? *dt : x.value->type.dtype;
      ir::Literal lit;
      std::string f = fill;
      if (f == "value") {
        const SValue& v = c.get("fill_value");
        if (v.kind == K::IR || !v.runtime_expr.empty() || (v.kind == K::Int && !v.i.is_constant())) {
          ir::Value* s = c.g().cast(c.a.expect_device(v, c.at("fill_value"), "fill_value").value, d, c.span);
          return SValue::ir(c.g().broadcast_to(s, x.value->type.dims, c.span), PromotionClass::Tensor);
        }
        lit = c.a.fill_literal(v, d, c.at("fill_value"), "fill_value");
      } else {
        lit = c.a.fill_literal(SValue::integer(f == "one" ? 1 : 0), d, c.span, "fill_value");
      }
      return SValue::ir(c.g().full(x.value->type.dims, lit, d, c.span), PromotionClass::Tensor);
    };
  };
  t["zeros_like"] = {{"input", "*", "dtype=", "device=", "layout=", "requires_grad=", "memory_format="}, like("zero")};
  t["empty_like"] = t["zeros_like"];
  t["ones_like"] = {{"input", "*", "dtype=", "device=", "layout=", "requires_grad=", "memory_format="}, like("one")};
  t["full_like"] = {{"input", "fill_value", "*", "dtype=", "device=", "layout=", "requires_grad=", "memory_format="}, like("value")};
  return t;
}

const std::map<std::string, OpDef>& table() {
  static const std::map<std::string, OpDef> t = build_table();
  return t;
}

SValue run_op(Analyzer& a, const std::string& key, const OpDef& def, const CallArgs& call) {
  BoundArgs b = a.bind(call, def.signature);
  OpCtx c{a, b, call.span, call.func_name};
  return def.fn(c);
}

}  // namespace

bool Analyzer::call_torch_device(const std::string& name, const CallArgs& call, SValue& out) {
  std::string key;
  if (name.rfind("torch.special.", 0) == 0) key = "special." + name.substr(14);
  else if (name.rfind("torch.", 0) == 0) key = name.substr(6);
  else if (name.rfind("F.", 0) == 0) key = name;
  else if (name.rfind("math.", 0) == 0) key = name.substr(5);
  else if (name.rfind("tl.", 0) == 0) key = name.substr(3);
  else return false;
  auto& t = table();
  auto it = t.find(key);
  if (it == t.end() && key.rfind("F.", 0) == 0) it = t.find(key.substr(2));
  if (it == t.end()) {
    // The view functions (torch.unsqueeze(x, d), torch.reshape(x, shape), ...) are the
    // tensor methods of their first argument: one implementation for both spellings.
    static const std::set<std::string> kViewFunctions = {"unsqueeze", "squeeze", "reshape", "permute", "transpose",
                                                         "swapaxes", "t", "broadcast_to", "flatten", "unflatten"};
    if (!kViewFunctions.count(key) || call.args.empty() || call.args[0].kind != K::IR) return false;
    CallArgs rest = call;
    rest.args.erase(rest.args.begin());
    rest.arg_spans.erase(rest.arg_spans.begin());
    return call_tensor_method_device(call.args[0], key, rest, out);
  }
  // math.* on host numbers is folded by host_ops; here only device values.
  if (name.rfind("math.", 0) == 0) {
    bool any_device = false;
    for (const auto& v : call.args) any_device |= v.kind == K::IR;
    if (!any_device) return false;
  }
  out = run_op(*this, key, it->second, call);
  return true;
}

bool Analyzer::call_tensor_method_device(const SValue& self, const std::string& name, const CallArgs& call,
                                         SValue& out) {
  ir::Value* x = self.value;
  SourceSpan span = call.span;
  auto shape_args = [&]() {
    std::vector<SValue> items = call.args;
    if (items.size() == 1 && items[0].is_sequence()) items = items[0].elts;
    return items;
  };
  // Casts
  auto cast_to = [&](DType d) {
    out = SValue::ir(gen().cast(x, d, span), self.pclass);
    return true;
  };
  if (name == "float") return cast_to(DType::Float32);
  if (name == "half") return cast_to(DType::Float16);
  if (name == "bfloat16") return cast_to(DType::BFloat16);
  if (name == "double") return cast_to(DType::Float64);
  if (name == "int") return cast_to(DType::Int32);
  if (name == "long") return cast_to(DType::Int64);
  if (name == "bool") return cast_to(DType::Bool);
  if (name == "to" || name == "type") {
    BoundArgs b = bind(call, {"dtype=", "non_blocking=", "copy=", "*", "device="});
    const SValue* d = b.get("dtype");
    if (!d || d->kind == SValue::Kind::Device || d->kind == SValue::Kind::None) {
      out = self;
      return true;
    }
    return cast_to(expect_dtype(*d, b.span_of("dtype"), ".to()"));
  }
  if (name == "contiguous" || name == "clone" || name == "detach") {
    out = self;
    return true;
  }
  if (name == "size") {
    BoundArgs b = bind(call, {"dim="});
    SValue shape = eval_attribute(self, "shape", span);
    if (!b.has("dim") || b.get("dim")->kind == K::None) {
      out = shape;
      return true;
    }
    int axis = normalize_axis(expect_const_int(*b.get("dim"), b.span_of("dim"), "dim"), x->type.rank(),
                              b.span_of("dim"));
    out = shape.elts.at(axis);
    return true;
  }
  if (name == "dim") {
    out = SValue::integer(static_cast<int64_t>(x->type.rank()));
    return true;
  }
  if (name == "unsqueeze") {
    BoundArgs b = bind(call, {"dim"});
    int r = x->type.rank();
    int64_t d = expect_const_int(*b.get("dim"), b.span_of("dim"), "dim");
    int axis = normalize_axis(d < 0 ? d : d, r + 1, b.span_of("dim"));
    out = SValue::ir(gen().expand_dims(x, axis, span), self.pclass);
    return true;
  }
  if (name == "squeeze") {
    BoundArgs b = bind(call, {"dim="});
    if (!b.has("dim") || b.get("dim")->kind == K::None) {
      ir::Value* v = x;
      for (int i = v->type.rank() - 1; i >= 0; --i)
        if (v->type.dims[i] == ir::kBroadcast) v = gen().squeeze(v, i, span);
      out = SValue::ir(v, self.pclass);
      return true;
    }
    int axis = normalize_axis(expect_const_int(*b.get("dim"), b.span_of("dim"), "dim"), x->type.rank(),
                              b.span_of("dim"));
    out = SValue::ir(x->type.dims[axis] == ir::kBroadcast ? gen().squeeze(x, axis, span) : x, self.pclass);
    return true;
  }
  if (name == "permute") {
    auto items = shape_args();
    std::vector<int> perm;
    for (const auto& it : items) perm.push_back(normalize_axis(expect_const_int(it, span, "permute dim"), x->type.rank(), span));
    if (static_cast<int>(perm.size()) != x->type.rank())
      error(span, "permute needs " + std::to_string(x->type.rank()) + " dims, got " + std::to_string(perm.size()));
    out = SValue::ir(gen().permute(x, perm, span), self.pclass);
    return true;
  }
  if (name == "transpose" || name == "swapaxes") {
    BoundArgs b = bind(call, {"dim0", "dim1"});
    int r = x->type.rank();
    int d0 = normalize_axis(expect_const_int(*b.get("dim0"), b.span_of("dim0"), "dim0"), r, b.span_of("dim0"));
    int d1 = normalize_axis(expect_const_int(*b.get("dim1"), b.span_of("dim1"), "dim1"), r, b.span_of("dim1"));
    std::vector<int> perm;
    for (int i = 0; i < r; ++i) perm.push_back(i);
    std::swap(perm[d0], perm[d1]);
    out = SValue::ir(gen().permute(x, perm, span), self.pclass);
    return true;
  }
  if (name == "t") {
    if (x->type.rank() != 2) error(span, ".t() needs a 2-D value");
    out = SValue::ir(gen().permute(x, {1, 0}, span), self.pclass);
    return true;
  }
  if (name == "view") {
    // view(dtype): a reinterpretation of the bits, not a shape.
    for (size_t i = 0; i < call.kwargs.size(); ++i)
      if (call.kwargs[i].first == "dtype") {
        DType to = expect_dtype(call.kwargs[i].second, call.kwarg_spans[i], "dtype");
        out = SValue::ir(gen().bitcast(x, to, call.kwarg_spans[i]), self.pclass);
        return true;
      }
    if (call.args.size() == 1 && call.args[0].kind == K::DType) {
      out = SValue::ir(gen().bitcast(x, call.args[0].dtype, call.arg_spans[0]), self.pclass);
      return true;
    }
  }
  if (name == "view" || name == "reshape") {
    auto items = shape_args();
    BoundArgs b;
    OpCtx c{*this, b, span, name};
    out = view_like(c, self, items, span, name);
    return true;
  }
  if (name == "flatten") {
    // flatten(start_dim=0, end_dim=-1): the dims from start to end merged into one.
    BoundArgs b = bind(call, {"start_dim=", "end_dim="});
    int r = x->type.rank();
    int lo = b.get("start_dim") ? normalize_axis(expect_const_int(*b.get("start_dim"), b.span_of("start_dim"), "start_dim"),
                                                 std::max(r, 1), b.span_of("start_dim"))
                                : 0;
    int hi = b.get("end_dim") ? normalize_axis(expect_const_int(*b.get("end_dim"), b.span_of("end_dim"), "end_dim"),
                                               std::max(r, 1), b.span_of("end_dim"))
                              : std::max(r, 1) - 1;
    if (lo > hi) error(span, "flatten(): start_dim cannot come after end_dim");
    if (r == 0) {  // a scalar flattens to one element
      out = SValue::ir(gen().reshape(x, {ir::kBroadcast}, span), self.pclass);
      return true;
    }
    std::vector<int> dims(x->type.dims.begin(), x->type.dims.begin() + lo);
    std::vector<int> run(x->type.dims.begin() + lo, x->type.dims.begin() + hi + 1);
    dims.push_back(merge_dims(gen(), run, span));
    dims.insert(dims.end(), x->type.dims.begin() + hi + 1, x->type.dims.end());
    std::vector<ReshapeItem> items;
    for (int d : dims) {
      ReshapeItem it;
      it.span = span;
      if (d == ir::kBroadcast) {
        it.size = 1;
      } else {
        it.kind = ReshapeItem::Kind::Dim;
        it.dim = d;
      }
      items.push_back(it);
    }
    out = SValue::ir(reshape_to(gen(), x, items, span, "flatten"), self.pclass);
    return true;
  }
  if (name == "unflatten") {
    // unflatten(dim, sizes): dim split into sizes (one may be -1).
    BoundArgs b = bind(call, {"dim", "sizes"});
    int r = x->type.rank();
    int d = normalize_axis(expect_const_int(*b.get("dim"), b.span_of("dim"), "dim"), r, b.span_of("dim"));
    const SValue& sizes = *b.get("sizes");
    if (!sizes.is_sequence()) error(b.span_of("sizes"), "unflatten(): sizes must be a tuple or list of sizes");
    std::vector<ReshapeItem> items;
    auto whole = [&](int dim) {
      ReshapeItem it;
      it.span = span;
      if (dim == ir::kBroadcast) {
        it.size = 1;
      } else {
        it.kind = ReshapeItem::Kind::Dim;
        it.dim = dim;
      }
      return it;
    };
    for (int i = 0; i < d; ++i) items.push_back(whole(x->type.dims[i]));
    // The sizes' -1 stands for what is left of this dim only: match the
    // sizes against it alone, then place the pieces.
    std::vector<ReshapeItem> parts;
    for (const auto& s : sizes.elts) parts.push_back(reshape_item(gen(), s, b.span_of("sizes"), "unflatten"));
    for (int pd : reshape_dims(gen(), {x->type.dims[d]}, parts, b.span_of("sizes"), "unflatten"))
      items.push_back(whole(pd));
    for (int i = d + 1; i < r; ++i) items.push_back(whole(x->type.dims[i]));
    out = SValue::ir(reshape_to(gen(), x, items, span, "unflatten"), self.pclass);
    return true;
  }
  if (name == "expand" || name == "broadcast_to") {
    auto items = shape_args();
    std::vector<int> dims;
    int off = static_cast<int>(items.size()) - x->type.rank();
    for (size_t i = 0; i < items.size(); ++i) {
      const SValue s = size_item(items[i]);
      if (s.kind == K::Int && s.i.is_constant() && s.i.constant() == -1) {
        int src = static_cast<int>(i) - off;
        dims.push_back(src >= 0 ? x->type.dims[src] : ir::kBroadcast);
      } else if (s.kind == K::Tile || s.kind == K::DimSize) {
        dims.push_back(s.dim);
      } else if (s.kind == K::Int && s.i.is_constant() && s.i.constant() == 1) {
        dims.push_back(ir::kBroadcast);
      } else if (s.kind == K::Int) {
        dims.push_back(gen().full_dim(s.i, span, s.i.str()));
      } else {
        error(span, "expand sizes must be tiles or ints, got " + describe(s));
      }
    }
    out = SValue::ir(gen().broadcast_to(x, dims, span), self.pclass);
    return true;
  }
  if (name == "expand_as") {
    if (call.args.size() != 1 || call.args[0].kind != K::IR) error(span, "expand_as needs a tensor argument");
    out = SValue::ir(gen().broadcast_to(x, call.args[0].value->type.dims, span), self.pclass);
    return true;
  }
  // Everything else: the torch function with self as the first argument.
  CallArgs with_self = call;
  with_self.args.insert(with_self.args.begin(), self);
  with_self.arg_spans.insert(with_self.arg_spans.begin(), span);
  with_self.func_name = "." + name;
  auto& t = table();
  auto it = t.find(name);
  if (it == t.end()) it = t.find("F." + name);
  if (it == t.end()) return false;
  out = run_op(*this, name, it->second, with_self);
  return true;
}

}  // namespace deuteron::sema
