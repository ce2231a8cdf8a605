#include "ir_gen.h"

#include "reshapes.h"

#include <algorithm>
#include <cmath>

#include "deuteron/pyint.h"

namespace deuteron::sema {

using ir::BinaryFn;
using ir::Literal;
using ir::OpKind;
using ir::Type;
using ir::UnaryFn;
using ir::Value;

IRGen::IRGen(ir::DeviceKernel& kernel, std::shared_ptr<const SourceFile> file, DType index_dtype)
    : kernel_(kernel), builder_(kernel), file_(std::move(file)), index_dtype_(index_dtype) {}

void IRGen::error(SourceSpan span, std::string msg, std::vector<std::string> notes) const {
  raise_error(file_, span, std::move(msg), std::move(notes));
}

void IRGen::error(SourceSpan span, ErrorKind kind, std::string msg, std::vector<std::string> notes) const {
  raise_error(file_, span, kind, std::move(msg), std::move(notes));
}

// ------------------------------------------------------------------ leaves

Value* IRGen::constant(const Literal& lit, DType dtype, SourceSpan span) {
  ir::Attrs a;
  a.literal = lit;
  return builder_.create(OpKind::Constant, {}, {Type{dtype, {}}}, span, a)->result();
}

Value* IRGen::int_constant(int64_t v, DType dtype, SourceSpan span) {
  return constant(Literal::from_int(v), dtype, span);
}

Value* IRGen::sym_value(const SymInt& s, SourceSpan span) {
  if (s.is_constant()) return int_constant(s.constant(), DType::Int64, span);
  ir::Attrs a;
  a.sym = s;
  return builder_.create(OpKind::SymValue, {}, {Type{DType::Int64, {}}}, span, a)->result();
}

Value* IRGen::scalar_param(int param, DType dtype, SourceSpan span) {
  ir::Attrs a;
  a.param = param;
  return builder_.create(OpKind::ScalarParam, {}, {Type{dtype, {}}}, span, a)->result();
}

Value* IRGen::full(const std::vector<int>& dims, const Literal& lit, DType dtype, SourceSpan span) {
  ir::Attrs a;
  a.literal = lit;
  return builder_.create(OpKind::Full, {}, {Type{dtype, dims}}, span, a)->result();
}

int IRGen::scalar_param_for(const std::string& host_expr, DType dtype) {
  for (size_t i = 0; i < kernel_.scalars.size(); ++i)
    if (kernel_.scalars[i].host_expr == host_expr) return static_cast<int>(i);
  ir::ScalarParam p;
  p.host_expr = host_expr;
  // Kernel argument names must be identifiers; host expressions usually are.
  std::string name;
  for (char c : host_expr) name += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  p.name = name;
  p.dtype = dtype;
  kernel_.scalars.push_back(p);
  return static_cast<int>(kernel_.scalars.size() - 1);
}

SValue IRGen::to_device(const SValue& v, SourceSpan span) {
  switch (v.kind) {
    case SValue::Kind::IR: return v;
    case SValue::Kind::Bool:
      if (!v.runtime_expr.empty())
        return SValue::ir(scalar_param(scalar_param_for(v.runtime_expr, DType::Bool), DType::Bool, span),
                          PromotionClass::Scalar);
      return SValue::ir(constant(Literal::from_bool(v.b), DType::Bool, span), PromotionClass::Scalar);
    case SValue::Kind::Int: return SValue::ir(sym_value(v.i, span), PromotionClass::Scalar);
    case SValue::Kind::Float:
      if (is_host_computed(v))
        error(span, "this number is computed by host code at run time; bind it to a name before the tile loop "
                    "(scale = ...) so that the kernel can receive it");
      if (!v.runtime_expr.empty())
        return SValue::ir(scalar_param(scalar_param_for(v.runtime_expr, DType::Float32), DType::Float32, span),
                          PromotionClass::Scalar);
      return SValue::ir(constant(Literal::from_float(v.f), DType::Float32, span), PromotionClass::Scalar);
    default: error(span, "expected a number or a tensor value here, got " + describe(v));
  }
}

// ------------------------------------------------------------------ typing

std::string IRGen::dim_name(int dim) const {
  if (dim == ir::kBroadcast) return "1";
  auto shown = dim_display_.find(dim);
  if (shown != dim_display_.end()) return shown->second;
  const ir::Dim& d = kernel_.dim(dim);
  if (d.merged()) return d.name;  // its factors' names: tile_m*tile_n
  if (d.kind == ir::DimKind::Full) return d.extent().str();
  return d.name.empty() ? "d" + std::to_string(dim) : d.name;
}

std::string IRGen::shape_str(const std::vector<int>& dims) const {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + dim_name(dims[i]);
  return s + "]";
}

std::optional<std::vector<int>> IRGen::try_broadcast_dims(const std::vector<int>& a, const std::vector<int>& b,
                                                          size_t* bad_axis) const {
  size_t n = std::max(a.size(), b.size());
  std::vector<int> out(n, ir::kBroadcast);
  for (size_t i = 0; i < n; ++i) {
    int da = i < n - a.size() ? ir::kBroadcast : a[i - (n - a.size())];
    int db = i < n - b.size() ? ir::kBroadcast : b[i - (n - b.size())];
    // A tile and the whole dim of its block's lanes: the lanes (onto_block_lanes).
    if (da != ir::kBroadcast && db != ir::kBroadcast && da != db) {
      if (ir::holds_lanes_of(kernel_, kernel_.dim(da), kernel_.dim(db))) db = da;
      else if (ir::holds_lanes_of(kernel_, kernel_.dim(db), kernel_.dim(da))) da = db;
    }
    if (da != ir::kBroadcast && db != ir::kBroadcast && da != db) {
      if (auto met = whole_dims_meet(da, db)) {
        out[i] = *met;
        continue;
      }
      if (bad_axis) *bad_axis = i;
      return std::nullopt;
    }
    out[i] = da != ir::kBroadcast ? da : db;
  }
  return out;
}

std::vector<int> IRGen::broadcast_dims(const std::vector<int>& a, const std::vector<int>& b, SourceSpan span) const {
  size_t i = 0;
  if (auto out = try_broadcast_dims(a, b, &i)) return *out;
  size_t n = std::max(a.size(), b.size());
  int da = i < n - a.size() ? ir::kBroadcast : a[i - (n - a.size())];
  int db = i < n - b.size() ? ir::kBroadcast : b[i - (n - b.size())];
  const bool both_whole = kernel_.dim(da).kind == ir::DimKind::Full && kernel_.dim(db).kind == ir::DimKind::Full;
  error(span, ErrorKind::ShapeMismatch, "shapes " + shape_str(a) + " and " + shape_str(b) + " cannot be broadcast together",
        {"dimension " + std::to_string(i) + " is " + dim_name(da) + " on the left and " + dim_name(db) +
             (both_whole ? " on the right; whole dims line up only by size (equal sizes, or n and next_power_of_2(n))"
                         : " on the right; tiles of different loops never line up"),
         "use [:, None] or .unsqueeze() to add a size-1 axis where the shapes should broadcast"});
}

namespace {

bool right_aligned_broadcasts(const std::vector<int>& a, const std::vector<int>& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 1; i <= n; ++i) {
    int da = a[a.size() - i], db = b[b.size() - i];
    if (da != ir::kBroadcast && db != ir::kBroadcast && da != db) return false;
  }
  return true;
}

bool is_reduction_result(const Value* v) {
  while (v->def && v->def->kind == OpKind::Cast && v->def->attrs.opmath) v = v->def->operands[0];
  return v->def && (v->def->kind == OpKind::Reduce || v->def->kind == OpKind::CombineReduce);
}

// Where each axis of `low` goes among the axes of `high`: increasing
// positions, a dim on the axis holding the same dim, the rightmost such
// placement; nullopt when the dims of `low` are not in `high` in order.
std::optional<std::vector<int>> placement(const std::vector<int>& low, const std::vector<int>& high) {
  std::vector<int> pos(low.size());
  int p = static_cast<int>(high.size()) - 1;
  for (int i = static_cast<int>(low.size()) - 1; i >= 0; --i) {
    if (low[i] != ir::kBroadcast)
      while (p >= 0 && high[p] != low[i]) --p;
    if (p < 0) return std::nullopt;
    pos[i] = p--;
  }
  return pos;
}

}  // namespace

Value* IRGen::align_to(Value* v, const std::vector<int>& dims, SourceSpan span) {
  if (v->type.is_scalar() || v->type.rank() >= static_cast<int>(dims.size())) return v;
  if (right_aligned_broadcasts(v->type.dims, dims) || is_reduction_result(v)) return v;
  auto pos = placement(v->type.dims, dims);
  if (!pos) return v;  // broadcast_dims reports the clash
  size_t next = 0;
  for (int axis = 0; axis < static_cast<int>(dims.size()); ++axis) {
    if (next < pos->size() && (*pos)[next] == axis) {
      ++next;
      continue;
    }
    v = expand_dims(v, axis, span);
  }
  return v;
}

void IRGen::align_ranks(Value*& a, Value*& b, SourceSpan span) {
  if (a->type.is_scalar() || b->type.is_scalar()) return;
  if (!is_reduction_result(a) && !is_reduction_result(b)) {
    if (a->type.rank() < b->type.rank()) a = align_to(a, b->type.dims, span);
    else if (b->type.rank() < a->type.rank()) b = align_to(b, a->type.dims, span);
  }
  unit_tiles_broadcast(a, b, span);
  unit_tiles_broadcast(b, a, span);
  onto_block_lanes(a, b, span);
  onto_block_lanes(b, a, span);
}

// A tile of a loop over block size B and a whole dim of B lanes
// (hl.zeros([tile_m, block_size]) before the loop `for tile_n in
// hl.tile(n, block_size=block_size)`) are the same size, as in Helion: the
// tile's value is retyped onto the lanes, the lanes past the tile's end 0,
// so an accumulator over B lanes that sums tiles, then its lanes, is right.
void IRGen::onto_block_lanes(Value*& v, const Value* other, SourceSpan span) {
  const auto& od = other->type.dims;
  for (int i = 1; i <= std::min(v->type.rank(), static_cast<int>(od.size())); ++i) {
    int axis = v->type.rank() - i;
    int d = v->type.dims[axis], e = od[od.size() - i];
    if (d == ir::kBroadcast || e == ir::kBroadcast || d == e) continue;
    v = block_lanes(v, axis, e, span);
  }
}

Value* IRGen::block_lanes(Value* v, int axis, int lanes, SourceSpan span, bool back) {
  int d = v->type.dims.at(axis);
  if (d == lanes) return v;
  bool onto = ir::holds_lanes_of(kernel_, kernel_.dim(lanes), kernel_.dim(d));
  if (!onto && !(back && ir::holds_lanes_of(kernel_, kernel_.dim(d), kernel_.dim(lanes)))) return v;
  int tile = onto ? d : lanes;
  if (is_jagged(tile))
    error(span, "a jagged tile's values cannot join a whole block of lanes (" + dim_name(onto ? lanes : d) + ")");
  ir::Attrs a;
  a.axis = axis;
  std::vector<int> dims = v->type.dims;
  dims[axis] = lanes;
  return builder_.create(OpKind::BlockLanes, {v}, {Type{v->type.dtype, dims}}, span, a)->result();
}

// A tile whose block size is fixed at 1 (`hl.tile(2, n, block_size=1)`) has
// one lane: Helion sizes it 1, so it broadcasts against another dim on the
// same (right-aligned) axis.  Its axis becomes a size-1 axis: a keepdim max
// over one lane, which is that lane in every back end and needs no mask.
void IRGen::unit_tiles_broadcast(Value*& v, const Value* other, SourceSpan span) {
  const auto& od = other->type.dims;
  for (int i = 1; i <= std::min(v->type.rank(), static_cast<int>(od.size())); ++i) {
    int axis = v->type.rank() - i;
    int d = v->type.dims[axis], e = od[od.size() - i];
    if (d == ir::kBroadcast || e == ir::kBroadcast || d == e) continue;
    const ir::Dim& dim = kernel_.dim(d);
    if (dim.kind == ir::DimKind::Tile && dim.fixed_block_size && *dim.fixed_block_size == 1)
      v = reduce(ir::ReduceFn::Max, v, axis, true, std::nullopt, span);
  }
}

DType IRGen::result_type(const std::vector<SValue>& operands) const {
  ResultTypeBuilder rt;
  for (const auto& o : operands) {
    switch (o.kind) {
      case SValue::Kind::IR: rt.add(o.value->type.dtype, o.pclass); break;
      case SValue::Kind::Bool: rt.add_python_bool(); break;
      case SValue::Kind::Int: rt.add_python_int(); break;
      case SValue::Kind::Float: rt.add_python_float(); break;
      default: break;
    }
  }
  return rt.result();
}

// -------------------------------------------------------------- pointwise

Value* IRGen::cast(Value* v, DType to, SourceSpan span) {
  if (v->type.dtype == to) return v;
  // Fold casts of literals so constants keep their exact value.
  if (v->def && (v->def->kind == OpKind::Constant || v->def->kind == OpKind::Full)) {
    Literal lit = v->def->attrs.literal;
    if (to == DType::Bool) {
      lit = Literal::from_bool(lit.as_double() != 0.0);
    } else if (is_integral(to) && lit.kind == Literal::Kind::Float) {
      // Out of int64 (or NaN): the cast's result is the hardware's, at run time.
      pyint::IntResult r = pyint::float_to_int(lit.f);
      if (!r.ok()) goto emit;
      lit = Literal::from_int(r.value);
    } else if (is_integral(to) && lit.kind == Literal::Kind::Bool) {
      lit = Literal::from_int(lit.b ? 1 : 0);
    } else if (is_floating(to) && lit.kind != Literal::Kind::Float) {
      lit = Literal::from_float(lit.as_double());
    }
    if (v->def->kind == OpKind::Constant) return constant(lit, to, span);
    return full(v->type.dims, lit, to, span);
  }
emit:
  return builder_.create(OpKind::Cast, {v}, {Type{to, v->type.dims}}, span)->result();
}

Value* IRGen::opmath_cast(Value* v, DType to, SourceSpan span) {
  Value* r = cast(v, to, span);
  if (r != v && r->def && r->def->kind == OpKind::Cast) r->def->attrs.opmath = true;
  return r;
}

Value* IRGen::bitcast(Value* v, DType to, SourceSpan span) {
  DType from = v->type.dtype;
  if (from == to) return v;
  // A different width would change the last axis' length (view(int8) of
  // int32 values has 4 times as many): not a shape a tile loop can follow.
  if (from == DType::Bool || to == DType::Bool || bit_width(from) != bit_width(to))
    error(span, std::string("view(dtype) inside a tile loop needs a dtype of the same width: ") + torch_name(from) +
                    " has " + std::to_string(bit_width(from)) + " bits, " + torch_name(to) + " " +
                    std::to_string(bit_width(to)),
          {"bool values cannot be reinterpreted; use .to(dtype) to convert them"});
  ir::Attrs a;
  a.bitcast = true;
  return builder_.create(OpKind::Cast, {v}, {Type{to, v->type.dims}}, span, a)->result();
}

Value* IRGen::binary_raw(BinaryFn fn, Value* a, Value* b, DType result, SourceSpan span) {
  ir::Attrs attrs;
  attrs.binary = fn;
  auto dims = broadcast_dims(a->type.dims, b->type.dims, span);
  return builder_.create(OpKind::Binary, {a, b}, {Type{result, dims}}, span, attrs)->result();
}

Value* IRGen::unary_raw(UnaryFn fn, Value* a, DType result, SourceSpan span) {
  ir::Attrs attrs;
  attrs.unary = fn;
  return builder_.create(OpKind::Unary, {a}, {Type{result, a->type.dims}}, span, attrs)->result();
}

Value* IRGen::where_raw(Value* c, Value* a, Value* b, SourceSpan span) {
  auto dims = broadcast_dims(broadcast_dims(c->type.dims, a->type.dims, span), b->type.dims, span);
  DEUTERON_CHECK(a->type.dtype == b->type.dtype, "where_raw operands differ in dtype");
  return builder_.create(OpKind::Where, {c, a, b}, {Type{a->type.dtype, dims}}, span)->result();
}

SValue IRGen::binary(BinaryFn fn, const SValue& a_in, const SValue& b_in, SourceSpan span) {
  DType promoted = result_type({a_in, b_in});
  PromotionClass pclass = std::max(a_in.kind == SValue::Kind::IR ? a_in.pclass : PromotionClass::Scalar,
                                   b_in.kind == SValue::Kind::IR ? b_in.pclass : PromotionClass::Scalar);
  SValue a = to_device(a_in, span), b = to_device(b_in, span);
  align_ranks(a.value, b.value, span);
  DType compute = promoted;
  DType result = promoted;
  switch (fn) {
    case BinaryFn::TrueDiv:
      if (!is_floating(promoted)) compute = result = DType::Float32;
      break;
    case BinaryFn::Eq:
    case BinaryFn::Ne:
    case BinaryFn::Lt:
    case BinaryFn::Le:
    case BinaryFn::Gt:
    case BinaryFn::Ge: result = DType::Bool; break;
    case BinaryFn::LogicalAnd:
    case BinaryFn::LogicalOr: compute = result = DType::Bool; break;
    case BinaryFn::BitAnd:
    case BinaryFn::BitOr:
    case BinaryFn::BitXor:
    case BinaryFn::LShift:
    case BinaryFn::RShift:
      if (is_floating(promoted))
        error(span, std::string("bitwise operator '") + ir::name(fn) + "' needs integer or bool operands, got " +
                        torch_name(promoted));
      break;
    case BinaryFn::Atan2:
    case BinaryFn::CopySign:
      if (!is_floating(promoted)) compute = result = DType::Float32;
      break;
    default: break;
  }
  // opmath: 16-bit and 8-bit floats compute in float32 and round once.
  if (is_low_precision_float(compute)) compute = DType::Float32;
  Value* va = opmath_cast(a.value, compute, span);
  Value* vb = opmath_cast(b.value, compute, span);
  DType raw_result = (result == DType::Bool) ? DType::Bool : compute;
  Value* r = binary_raw(fn, va, vb, raw_result, span);
  return SValue::ir(opmath_cast(r, result, span), pclass);
}

SValue IRGen::unary(UnaryFn fn, const SValue& x_in, SourceSpan span) {
  SValue x = to_device(x_in, span);
  DType in = x.value->type.dtype;
  switch (fn) {
    case UnaryFn::Neg:
      if (in == DType::Bool) error(span, "negation of a bool tensor is not supported; use ~ or logical_not");
      return SValue::ir(unary_raw(fn, x.value, in, span), x.pclass);
    case UnaryFn::Abs:
    case UnaryFn::Relu:
    case UnaryFn::Sign:
      return SValue::ir(unary_raw(fn, x.value, in, span), x.pclass);
    case UnaryFn::Not:
      return SValue::ir(unary_raw(fn, cast(x.value, DType::Bool, span), DType::Bool, span), x.pclass);
    case UnaryFn::Invert:
      if (is_floating(in)) error(span, "~ needs an integer or bool operand, got " + std::string(torch_name(in)));
      return SValue::ir(unary_raw(fn, x.value, in, span), x.pclass);
    case UnaryFn::IsNan:
    case UnaryFn::IsInf:
    case UnaryFn::IsFinite:
      if (!is_floating(in)) {
        bool v = fn == UnaryFn::IsFinite;
        return SValue::ir(full(x.value->type.dims, Literal::from_bool(v), DType::Bool, span), x.pclass);
      }
      return SValue::ir(unary_raw(fn, opmath_cast(x.value, math_compute_dtype(in), span), DType::Bool, span), x.pclass);
    case UnaryFn::Floor:
    case UnaryFn::Ceil:
    case UnaryFn::Trunc:
    case UnaryFn::Round:
      if (!is_floating(in)) return x;
      break;
    default: break;
  }
  // Transcendental and other float math: compute in float32 (float64 stays),
  // result in the input's float type (the default float for integers).
  DType result = is_floating(in) ? in : DType::Float32;
  DType compute = math_compute_dtype(result);
  Value* r = unary_raw(fn, opmath_cast(x.value, compute, span), compute, span);
  return SValue::ir(opmath_cast(r, result, span), x.pclass);
}

SValue IRGen::where(const SValue& cond_in, const SValue& a_in, const SValue& b_in, SourceSpan span) {
  SValue c = to_device(cond_in, span);
  DType result = result_type({a_in, b_in});
  SValue a = to_device(a_in, span), b = to_device(b_in, span);
  align_ranks(a.value, b.value, span);
  align_ranks(c.value, a.value, span);
  align_ranks(c.value, b.value, span);
  PromotionClass pclass = std::max({c.pclass, a_in.kind == SValue::Kind::IR ? a.pclass : PromotionClass::Scalar,
                                    b_in.kind == SValue::Kind::IR ? b.pclass : PromotionClass::Scalar});
  Value* r = where_raw(cast(c.value, DType::Bool, span), cast(a.value, result, span), cast(b.value, result, span),
                       span);
  return SValue::ir(r, pclass);
}

// ------------------------------------------------------------------ shapes

Value* IRGen::expand_dims(Value* v, int axis, SourceSpan span) {
  ir::Attrs a;
  a.axis = axis;
  auto dims = v->type.dims;
  dims.insert(dims.begin() + axis, ir::kBroadcast);
  return builder_.create(OpKind::ExpandDims, {v}, {Type{v->type.dtype, dims}}, span, a)->result();
}

Value* IRGen::squeeze(Value* v, int axis, SourceSpan span) {
  if (v->type.dims.at(axis) != ir::kBroadcast)
    error(span, "cannot squeeze axis " + std::to_string(axis) + " of shape " + shape_str(v->type.dims) +
                    ": it is not of size 1");
  ir::Attrs a;
  a.axis = axis;
  auto dims = v->type.dims;
  dims.erase(dims.begin() + axis);
  return builder_.create(OpKind::Squeeze, {v}, {Type{v->type.dtype, dims}}, span, a)->result();
}

Value* IRGen::permute(Value* v, const std::vector<int>& perm, SourceSpan span) {
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) identity &= perm[i] == static_cast<int>(i);
  if (identity) return v;
  ir::Attrs a;
  a.perm = perm;
  std::vector<int> dims;
  for (int p : perm) dims.push_back(v->type.dims.at(p));
  return builder_.create(OpKind::Permute, {v}, {Type{v->type.dtype, dims}}, span, a)->result();
}

Value* IRGen::broadcast_to(Value* v, const std::vector<int>& dims, SourceSpan span) {
  v = align_to(v, dims, span);
  for (int i = 1; i <= std::min(v->type.rank(), static_cast<int>(dims.size())); ++i) {
    int axis = v->type.rank() - i;
    if (v->type.dims[axis] != ir::kBroadcast && dims[dims.size() - i] != ir::kBroadcast)
      v = block_lanes(v, axis, dims[dims.size() - i], span);
  }
  v = conform_whole_dims(v, dims, span);
  auto b = broadcast_dims(v->type.dims, dims, span);
  if (b != dims)
    error(span, ErrorKind::ShapeMismatch, "cannot broadcast shape " + shape_str(v->type.dims) + " to " + shape_str(dims));
  if (v->type.dims == dims) return v;
  return builder_.create(OpKind::BroadcastTo, {v}, {Type{v->type.dtype, dims}}, span)->result();
}

Value* IRGen::reshape(Value* v, const std::vector<int>& dims, SourceSpan span) {
  // Only reshapes that add or drop size-1 axes keep every dim identifiable;
  // anything else would merge tiles of different loops.
  std::vector<int> a, b;
  for (int d : v->type.dims)
    if (d != ir::kBroadcast) a.push_back(d);
  for (int d : dims)
    if (d != ir::kBroadcast) b.push_back(d);
  if (a != b)
    error(span, "cannot reshape " + shape_str(v->type.dims) + " to " + shape_str(dims),
          {"reshapes inside tile loops may only add or remove size-1 axes; use permute/transpose to reorder"});
  if (v->type.dims == dims) return v;
  return builder_.create(OpKind::Reshape, {v}, {Type{v->type.dtype, dims}}, span)->result();
}

// -------------------------------------------------------------- reductions

Value* IRGen::reduce(ir::ReduceFn fn, Value* x, int axis, bool keepdim, std::optional<DType> out_dtype,
                     SourceSpan span) {
  DType in = x->type.dtype;
  DType result = in;
  DType compute = in;
  switch (fn) {
    case ir::ReduceFn::Sum:
    case ir::ReduceFn::Prod:
      if (out_dtype) {
        result = *out_dtype;
      } else if (!is_floating(in)) {
        result = DType::Int64;  // torch.sum of ints and bools is int64
      }
      compute = is_low_precision_float(result) ? DType::Float32 : result;
      break;
    case ir::ReduceFn::ArgMax:
    case ir::ReduceFn::ArgMin: result = DType::Int64; compute = in; break;
    case ir::ReduceFn::Any:
    case ir::ReduceFn::All: result = compute = DType::Bool; break;
    default: break;
  }
  Value* input = opmath_cast(x, compute, span);
  // Lanes of a jagged dim past their row's end hold whatever the program
  // computed there (x + 1 of a masked load is 1): they count as the identity.
  int reduced_dim = x->type.dims.at(axis);
  if (reduced_dim != ir::kBroadcast && is_jagged(reduced_dim)) {
    Value* m = jagged_mask_on(input->type.dims, span, "a reduction over it", reduced_dim);
    Value* id = constant(ir::reduction_identity(fn, compute), compute, span);
    input = where_raw(m, input, broadcast_to(id, input->type.dims, span), span);
  }
  ir::Attrs a;
  a.reduce = fn;
  a.axis = axis;
  a.keepdim = keepdim;
  auto dims = x->type.dims;
  if (keepdim)
    dims[axis] = ir::kBroadcast;
  else
    dims.erase(dims.begin() + axis);
  DType raw = (fn == ir::ReduceFn::ArgMax || fn == ir::ReduceFn::ArgMin) ? DType::Int64 : compute;
  Value* r = builder_.create(OpKind::Reduce, {input}, {Type{raw, dims}}, span, a)->result();
  return opmath_cast(r, result, span);
}

Value* IRGen::scan(ir::ReduceFn fn, Value* x, int axis, bool reverse, DType result, SourceSpan span) {
  DType compute = result;
  if (is_low_precision_float(compute)) compute = DType::Float32;
  if (!is_floating(compute) && bit_width(compute) < 32) compute = DType::Int32;
  Value* input = opmath_cast(x, compute, span);
  if (x->type.dims.at(axis) == ir::kBroadcast) return opmath_cast(input, result, span);  // one element
  // Along a jagged tile, a reverse scan would start in the lanes past a row's end.
  if (is_jagged(x->type.dims[axis])) {
    Value* m = jagged_mask_on(input->type.dims, span, "a scan along it", x->type.dims[axis]);
    Value* id = constant(ir::reduction_identity(fn, compute), compute, span);
    input = where_raw(m, input, broadcast_to(id, input->type.dims, span), span);
  }
  ir::Attrs a;
  a.reduce = fn;
  a.axis = axis;
  a.reverse = reverse;
  Value* r = builder_.create(OpKind::Scan, {input}, {input->type}, span, a)->result();
  return opmath_cast(r, result, span);
}

// ------------------------------------------------------------------ matmul

Value* IRGen::dot(Value* a, Value* b, Value* acc, std::optional<DType> out_dtype, SourceSpan span) {
  auto rank_ok = [](size_t r) { return r == 2 || r == 3; };
  if (!rank_ok(a->type.dims.size()) || !rank_ok(b->type.dims.size()))
    error(span, "matmul operands must be 2-D or 3-D (batched), got " + shape_str(a->type.dims) + " and " +
                    shape_str(b->type.dims),
          {"a 1-D operand works with torch.matmul / @ (a matrix-vector product); flatten more batch dims first"});
  // A 2-D operand with a 3-D one is the same matrix for every batch (torch's
  // broadcasting): it gets a size-1 batch axis, widened below.
  if (a->type.dims.size() == 2 && b->type.dims.size() == 3) a = expand_dims(a, 0, span);
  if (b->type.dims.size() == 2 && a->type.dims.size() == 3) b = expand_dims(b, 0, span);
  int ka = a->type.dims[a->type.dims.size() - 1], kb = b->type.dims[b->type.dims.size() - 2];
  // Whole dims of one extent contract (x[tile, :] @ w[:, :] of a square w);
  // padded lanes would add their garbage to the sums, so those must match exactly.
  if (!same_whole_lanes(ka, kb)) {
    // Two different dims with the same number of lanes under every config
    // contract lane by lane, as Helion matches them by size: int4 unpacking's
    // `A[tile_m, 2 * kb.begin : 2 * kb.begin + 2 * block]` against the
    // interleaved `[kb * 2, tile_n]`.  The right operand takes the left's dim
    // (a reshape that only renames the axis).
    std::vector<int> renamed = b->type.dims;
    auto la = block_lane_count(*this, ka), lb = block_lane_count(*this, kb);
    if (!la || !lb || !la->same_as(*lb))
      error(span, "matmul contraction dims differ: " + shape_str(a->type.dims) + " @ " + shape_str(b->type.dims),
            {"the last dim of the left operand must be the same tile (or full dim) as the second-to-last of the "
             "right, or have as many lanes under every config"});
    renamed[renamed.size() - 2] = ka;
    b = builder_.create(OpKind::Reshape, {b}, {Type{b->type.dtype, renamed}}, span)->result();
  }
  if (a->type.dims.size() == 3) {
    int ba = a->type.dims[0], bb = b->type.dims[0];
    if (ba != bb && ba != ir::kBroadcast && bb != ir::kBroadcast)
      error(span, ErrorKind::DotBatchDimensionMismatch,
            "matmul batch dims differ: " + shape_str(a->type.dims) + " @ " + shape_str(b->type.dims));
    // tl.dot takes two operands of one batch: a size-1 batch is widened to
    // the other's (the broadcast costs registers, not loads).
    if (ba == ir::kBroadcast && bb != ir::kBroadcast)
      a = broadcast_to(a, {bb, a->type.dims[1], a->type.dims[2]}, span);
    if (bb == ir::kBroadcast && ba != ir::kBroadcast)
      b = broadcast_to(b, {ba, b->type.dims[1], b->type.dims[2]}, span);
  }
  const auto& da = a->type.dims;
  const auto& db = b->type.dims;
  DType ta = a->type.dtype, tb = b->type.dtype;
  DType operand = promote_types(ta, tb);
  if (operand == DType::Bool) error(span, "matmul of bool tensors is not supported");
  a = cast(a, operand, span);
  b = cast(b, operand, span);
  // A jagged contraction dim: the lanes past a row's end are zeroed in the
  // operand that has all the mask's axes (zero products add nothing).
  int kd = da.back();
  if (kd != ir::kBroadcast && is_jagged(kd)) {
    auto covers = [&](const std::vector<int>& dims) {
      for (int md : jagged_masks_.at(kd)->type.dims)
        if (std::find(dims.begin(), dims.end(), md) == dims.end()) return false;
      return true;
    };
    Value*& side = covers(b->type.dims) && !covers(a->type.dims) ? b : a;
    Value* m = jagged_mask_on(side->type.dims, span, "a matmul contracting it", kd);
    Value* zero = broadcast_to(constant(is_floating(operand) ? ir::Literal::from_float(0.0) : ir::Literal::from_int(0), operand, span), side->type.dims, span);
    side = where_raw(m, side, zero, span);
  }
  DType accum = is_floating(operand) ? (operand == DType::Float64 ? DType::Float64 : DType::Float32) : DType::Int32;
  std::vector<int> dims = da;
  dims.back() = db.back();
  DType result = out_dtype ? *out_dtype : (acc ? acc->type.dtype : operand);
  std::vector<Value*> operands = {a, b};
  if (acc) {
    // The accumulator joins the products inside the dot (Triton's `acc=`),
    // which integer products cannot do into floats nor float products into
    // integers: Triton's tl.dot rejects both.
    DType at = acc->type.dtype;
    if (is_floating(at) != is_floating(operand))
      error(span, ErrorKind::TypeInferenceError,
            std::string("matmul of ") + torch_name(operand) + " operands cannot accumulate into a " + torch_name(at) +
                " accumulator",
            {is_floating(operand) ? "accumulate float products in a float accumulator (torch.float32)"
                                  : "accumulate integer products in a torch.int32 accumulator, then convert"});
    // A whole dim of the accumulator meets the product's of its size (h0[:, tile]
    // accumulating k.T @ v, each `:` of 32 from another tensor).
    acc = conform_whole_dims(acc, dims, span);
    auto accd = broadcast_dims(acc->type.dims, dims, span);
    if (accd != dims && accd.size() == dims.size()) {
      // Tiles of M or N onto the accumulator's block lanes (onto_block_lanes):
      // the rows and columns past their ends multiply as 0.
      operands[0] = block_lanes(operands[0], operands[0]->type.rank() - 2, accd[accd.size() - 2], span);
      operands[1] = block_lanes(operands[1], operands[1]->type.rank() - 1, accd.back(), span);
      dims[dims.size() - 2] = operands[0]->type.dims[operands[0]->type.rank() - 2];
      dims.back() = operands[1]->type.dims.back();
    }
    if (accd != dims)
      error(span, "matmul accumulator of shape " + shape_str(acc->type.dims) + " does not match the product's shape " +
                      shape_str(dims));
    operands.push_back(broadcast_to(opmath_cast(acc, accum, span), dims, span));
  }
  ir::Attrs attrs;
  Value* r = builder_.create(OpKind::Dot, operands, {Type{accum, dims}}, span, attrs)->result();
  return opmath_cast(r, result, span);
}

Value* IRGen::matmul(Value* a, Value* b, SourceSpan span) {
  size_t ra = a->type.dims.size(), rb = b->type.dims.size();
  if (ra == 0 || rb == 0)
    error(span, "matmul of a 0-d value: both operands of torch.matmul / @ need at least one dim",
          {"multiply by a scalar with *"});
  if (ra > 3 || rb > 3)
    error(span, "matmul of a " + std::to_string(std::max(ra, rb)) +
                    "-D value is not supported: operands are 1-D, 2-D or 3-D (batched)",
          {"index or flatten the extra batch dims before the product"});
  if (ra >= 2 && rb >= 2) return dot(a, b, nullptr, std::nullopt, span);
  // A vector operand: a matrix-vector (or vector-vector) product.  tl.dot
  // needs 16+ rows and columns and a vector has one, so this is a multiply
  // and a sum over the contraction dim, accumulated as a dot would be
  // (float32 for 16-bit floats) and rounded once to the operand dtype.
  int ka = a->type.dims.back();
  int kb = rb == 1 ? b->type.dims[0] : b->type.dims[rb - 2];
  if (ka != kb)
    error(span, "matmul contraction dims differ: " + shape_str(a->type.dims) + " @ " + shape_str(b->type.dims),
          {"the last dim of the left operand must be the same tile (or full dim) as the "
           "contraction dim of the right (its only dim if 1-D, else its second-to-last)"});
  DType operand = promote_types(a->type.dtype, b->type.dtype);
  if (operand == DType::Bool) error(span, "matmul of bool tensors is not supported");
  DType accum = is_floating(operand) ? (operand == DType::Float64 ? DType::Float64 : DType::Float32) : operand;
  Value* x = opmath_cast(cast(a, operand, span), accum, span);
  Value* y = opmath_cast(cast(b, operand, span), accum, span);
  int axis;
  if (rb == 1) {
    // [.., M, K] @ [K] -> [.., M]: the vector lines up with the last axis.
    axis = static_cast<int>(ra) - 1;
  } else {
    // [K] @ [.., K, N] -> [.., N]: the vector becomes a column [K, 1].
    x = expand_dims(x, 1, span);
    axis = static_cast<int>(rb) - 2;
  }
  Value* prod = binary_raw(ir::BinaryFn::Mul, x, y, accum, span);
  Value* r = reduce(ir::ReduceFn::Sum, prod, axis, false, accum, span);
  return opmath_cast(r, operand, span);
}

// -------------------------------------------------------------------- dims

void IRGen::check_extent(const SymInt& extent, SourceSpan span) const {
  // The config space and code generation round extents up to powers of 2,
  // which must fit in int64.
  std::optional<int64_t> n = extent.hint();
  if (n && *n > kMaxExtent)
    error(span, "a dimension of " + std::to_string(*n) + " elements is larger than deuteron supports (2**62)");
}

int IRGen::full_dim(const SymInt& extent, SourceSpan span, const std::string& origin) {
  if (extent.is_constant() && extent.constant() < 0)
    error(span, "negative dimension " + extent.str(), {"sizes of values made in a tile loop are never negative"});
  check_extent(extent, span);
  for (const auto& d : kernel_.dims)
    if (d.kind == ir::DimKind::Full && !d.merged() && d.end.same_as(extent) && d.begin.is_constant() &&
        d.begin.constant() == 0 && !other_full_dims_.count(d.id))
      return d.id;
  ir::Dim d;
  d.id = static_cast<int>(kernel_.dims.size());
  d.kind = ir::DimKind::Full;
  d.begin = 0;
  d.end = extent;
  d.name = origin;
  d.span = span;
  kernel_.dims.push_back(d);
  return d.id;
}

int IRGen::full_dim_other_than(const SymInt& extent, const std::vector<int>& taken, SourceSpan span,
                               const std::string& origin) {
  int canonical = full_dim(extent, span, origin);
  auto free = [&](int d) { return std::find(taken.begin(), taken.end(), d) == taken.end(); };
  if (free(canonical)) return canonical;
  // Reuse one made before (w[:, :] read twice gives the same two dims).
  for (int d : other_full_dims_)
    if (kernel_.dim(d).end.same_as(extent) && free(d)) return d;
  ir::Dim d = kernel_.dim(canonical);
  d.id = static_cast<int>(kernel_.dims.size());
  d.span = span;
  kernel_.dims.push_back(d);
  other_full_dims_.insert(d.id);
  met_by_size_.insert(d.id);
  met_by_size_.insert(canonical);
  return d.id;
}

std::optional<int> IRGen::whole_dims_meet(int da, int db) const {
  if (da == db) return da;
  if (da == ir::kBroadcast || db == ir::kBroadcast) return std::nullopt;
  const ir::Dim& a = kernel_.dim(da);
  const ir::Dim& b = kernel_.dim(db);
  auto whole = [&](const ir::Dim& d) {
    return d.kind == ir::DimKind::Full && !d.merged() && d.begin.is_constant() && d.begin.constant() == 0 &&
           !is_jagged(d.id);
  };
  if (!whole(a) || !whole(b)) return std::nullopt;
  std::optional<int> met;
  if (unified_root(da) == unified_root(db)) return da;
  if (a.end.same_as(b.end)) {
    met = da;
  } else if (auto ea = a.end.as_constant(), eb = b.end.as_constant(); ea && eb) {
    // n lanes and next_power_of_2(n) lanes: the same block, n of them live.
    int64_t lo = std::min(*ea, *eb), hi = std::max(*ea, *eb);
    if (lo > 1 && hi == next_power_of_2(lo)) met = *ea < *eb ? da : db;
  } else {
    // Sizes known only at run time, equal in the example arguments: one dim
    // from now on (a constant one where either is), checked on each call.
    auto ha = a.end.hint(), hb = b.end.hint();
    bool config_sized = false;
    for (const SymInt* e : {&a.end, &b.end})
      for (const auto& n : e->symbols())
        config_sized |= n.rfind("_block_size_", 0) == 0 || n.rfind("_tunable_", 0) == 0;
    if (!ha || !hb || *ha != *hb || config_sized) return std::nullopt;
    int keep = b.end.is_constant() ? db : da, drop = keep == da ? db : da;
    unified_[unified_root(drop)] = unified_root(keep);
    size_equalities_.emplace_back(kernel_.dim(keep).end, kernel_.dim(drop).end);
    return keep;
  }
  if (met) {
    met_by_size_.insert(da);
    met_by_size_.insert(db);
  }
  return met;
}

std::set<int> IRGen::whole_dims_with_lanes_of(int d) const {
  std::set<int> out = {d};
  if (!met_by_size(d)) return out;
  for (const auto& other : kernel_.dims)
    if (other.kind == ir::DimKind::Full && other.id != d && met_by_size(other.id) && !unified_away(other.id) &&
        same_whole_lanes(d, other.id))
      out.insert(other.id);
  return out;
}

bool IRGen::same_whole_lanes(int da, int db) const {
  if (da == db) return true;
  if (da == ir::kBroadcast || db == ir::kBroadcast || !whole_dims_meet(da, db)) return false;
  return kernel_.dim(da).end.same_as(kernel_.dim(db).end) || unified_root(da) == unified_root(db);
}

void IRGen::unify_whole_dims(SourceSpan span) {
  if (unified_.empty()) return;
  ir::rename_dims(kernel_, [&](int d) { return d >= 0 ? unified_root(d) : d; });
  auto check_type = [&](const ir::Type& t, SourceSpan where) {
    for (size_t i = 0; i < t.dims.size(); ++i)
      for (size_t j = i + 1; j < t.dims.size(); ++j)
        if (t.dims[i] != ir::kBroadcast && t.dims[i] == t.dims[j])
          error(where, ErrorKind::ShapeMismatch,
                "two dims of this value, " + std::to_string(i) + " and " + std::to_string(j) +
                    ", have the size " + dim_name(t.dims[i]) +
                    " known only at run time, which other values' dims of that size meet",
                {"use @deuteron.kernel(static_shapes=True) so the sizes are compile-time constants"});
  };
  (void)span;
  ir::walk(kernel_.body, [&](const ir::Op& op) {
    for (const auto& r : op.results) check_type(r->type, op.span);
    for (const auto& reg : op.regions)
      for (const auto& arg : reg->args) check_type(arg->type, op.span);
  });
}

Value* IRGen::conform_whole_dims(Value* v, const std::vector<int>& dims, SourceSpan span) {
  std::vector<int> renamed = v->type.dims;
  std::vector<int> widened;  // axes going from n to next_power_of_2(n) lanes
  const size_t n = std::min(renamed.size(), dims.size());
  for (size_t i = 1; i <= n; ++i) {
    int& vd = renamed[renamed.size() - i];
    int td = dims[dims.size() - i];
    if (vd == ir::kBroadcast || td == ir::kBroadcast || vd == td || !whole_dims_meet(vd, td)) continue;
    auto ev = kernel_.dim(vd).end.as_constant(), et = kernel_.dim(td).end.as_constant();
    if (ev && et && *ev < *et) widened.push_back(static_cast<int>(renamed.size() - i));
    vd = td;
  }
  if (renamed == v->type.dims) return v;
  std::vector<std::pair<int, SymInt>> live;  // axis, live lanes
  for (int axis : widened) live.emplace_back(axis, kernel_.dim(v->type.dims[axis]).end);
  v = builder_.create(OpKind::BroadcastTo, {v}, {Type{v->type.dtype, renamed}}, span)->result();
  // The padding lanes read zero: nothing of the narrower value's masked
  // lanes shows through the wider dim (which has no mask of its own).
  for (const auto& [axis, extent] : live) {
    ir::Attrs a;
    a.dim = renamed[axis];
    Value* lane = builder_.create(OpKind::Arange, {}, {Type{index_dtype_, {renamed[axis]}}}, span, a)->result();
    Value* bound = sym_value(extent, span);
    Value* m = binary_raw(ir::BinaryFn::Lt, lane, cast(bound, index_dtype_, span), DType::Bool, span);
    for (int k = 0; k < axis; ++k) m = expand_dims(m, 0, span);
    for (int k = axis + 1; k < static_cast<int>(renamed.size()); ++k) m = expand_dims(m, m->type.rank(), span);
    Value* zero = constant(is_floating(v->type.dtype) ? ir::Literal::from_float(0.0)
                                                      : (v->type.dtype == DType::Bool ? ir::Literal::from_bool(false)
                                                                                      : ir::Literal::from_int(0)),
                           v->type.dtype, span);
    v = where_raw(m, v, zero, span);
  }
  return v;
}

// ------------------------------------------------------------ jagged tiles

Value* IRGen::jagged_mask_on(const std::vector<int>& dims, SourceSpan span, const std::string& what, int only) {
  Value* out = nullptr;
  std::vector<int> done;
  for (int d : dims) {
    if (d == ir::kBroadcast || !is_jagged(d) || (only >= 0 && d != only)) continue;
    if (std::find(done.begin(), done.end(), d) != done.end()) continue;
    done.push_back(d);
    Value* m = jagged_masks_.at(d);
    // Every axis of the mask (the parent tiles and the jagged dim) must be one of `dims`.
    std::vector<int> order;  // the mask's axes in the order `dims` has them
    for (int md : m->type.dims)
      if (std::find(dims.begin(), dims.end(), md) == dims.end()) {
        std::string parents;
        for (int pd : m->type.dims)
          if (pd != d) parents += (parents.empty() ? "" : ", ") + dim_name(pd);
        error(span, ErrorKind::InvalidJaggedTileUsage,
              "the jagged tile '" + dim_name(d) + "' is used in " + what + " of shape " + shape_str(dims) +
                  " without its parent tile" + (m->type.rank() > 2 ? "s " : " ") + parents +
                  ": its extent differs from lane to lane of " + parents,
              {"index together with the parent tiles, e.g. x[" + parents + ", " + dim_name(d) + "]"});
      }
    for (int dd : dims)
      if (dd != ir::kBroadcast && std::find(m->type.dims.begin(), m->type.dims.end(), dd) != m->type.dims.end() &&
          std::find(order.begin(), order.end(), dd) == order.end())
        order.push_back(dd);
    std::vector<int> perm;
    for (int od : order)
      perm.push_back(static_cast<int>(std::find(m->type.dims.begin(), m->type.dims.end(), od) - m->type.dims.begin()));
    bool identity = true;
    for (size_t i = 0; i < perm.size(); ++i) identity &= perm[i] == static_cast<int>(i);
    if (!identity) m = permute(m, perm, span);
    // Size-1 axes where `dims` has axes the mask lacks.
    size_t j = 0;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (j < order.size() && dims[i] == order[j]) {
        ++j;
        continue;
      }
      m = expand_dims(m, static_cast<int>(i), span);
    }
    out = out ? binary_raw(ir::BinaryFn::LogicalAnd, out, m, DType::Bool, span) : m;
  }
  return out;
}

}  // namespace deuteron::sema
