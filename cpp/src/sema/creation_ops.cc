// Tensor creation inside tile loops with torch's spellings: torch.zeros /
// ones / empty / full (a filled tensor of the given shape, what hl.zeros and
// hl.full make), their tensor-method forms x.new_zeros / new_ones / new_empty /
// new_full (x's dtype unless given; x may be a host tensor or a tile's value),
// and torch.arange / hl.arange (indices along a whole dim, or along a tile
// when the length is the tile's block size).
#include "analyzer.h"
#include "reshapes.h"
#include "scalar_affine.h"

namespace deuteron::sema {

using K = SValue::Kind;
using ir::OpKind;

SValue Analyzer::filled(const std::vector<int>& dims, const SValue& value, DType dtype, SourceSpan value_span,
                        SourceSpan span) {
  // A value known only at run time (a device scalar, a host float argument) is
  // broadcast; a constant becomes the op's literal.
  if (value.kind == K::IR || !value.runtime_expr.empty() || (value.kind == K::Int && !value.i.is_constant())) {
    ir::Value* s = gen().cast(expect_device(value, value_span, "the fill value").value, dtype, span);
    return SValue::ir(gen().broadcast_to(s, dims, span), PromotionClass::Tensor);
  }
  return SValue::ir(gen().full(dims, fill_literal(value, dtype, value_span, "the fill value"), dtype, span),
                    PromotionClass::Tensor);
}

namespace {

// torch.full's dtype when none is given: the fill value's kind (bool, int64, or
// the default float dtype), as PyTorch infers it.
DType inferred_fill_dtype(const SValue& v) {
  if (v.kind == K::Bool) return DType::Bool;
  if (v.kind == K::Int) return DType::Int64;
  if (v.kind == K::IR) {
    DType d = v.value->type.dtype;
    if (d == DType::Bool) return DType::Bool;
    if (is_integral(d)) return DType::Int64;
  }
  return DType::Float32;
}

ir::Value* tile_attr(IRGen& g, OpKind kind, int dim, DType dt, SourceSpan span) {
  ir::Attrs a;
  a.dim = dim;
  std::vector<int> dims;
  if (kind == OpKind::TileIndex) dims = {dim};
  return g.builder().create(kind, {}, {ir::Type{dt, dims}}, span, a)->result();
}

// A length that is a multiple of one tile's block size (tile.block_size * 2):
// the extent of a whole dim of that many lanes, a config value.
std::optional<SymInt> block_multiple(const ScalarAffine& length, const ir::DeviceKernel& k) {
  if (length.constant != 0 || length.terms.size() != 1) return std::nullopt;
  const auto& [term, coef] = *length.terms.begin();
  if (coef <= 0) return std::nullopt;
  // A registered block size (hl.register_block_size) times a constant.
  if (term.rfind("sym:_block_size_", 0) == 0 &&
      term.find_first_not_of("0123456789", std::string("sym:_block_size_").size()) == std::string::npos)
    return SymInt(coef) * SymInt::symbol(term.substr(4));
  if (term.rfind("block:", 0) != 0) return std::nullopt;
  const ir::Dim& d = k.dim(std::stoi(term.substr(6)));
  if (d.kind != ir::DimKind::Tile) return std::nullopt;
  if (d.fixed_block_size) return SymInt(coef * *d.fixed_block_size);
  if (d.config_block_size) return SymInt(coef) * *d.config_block_size;
  if (d.block_size_index < 0) return std::nullopt;
  return SymInt(coef) * block_size_symbol(d.block_size_index);
}

}  // namespace

// end - start when it is a block size divided by a power of two
// (tile.block_size // 2): a config value of whole lanes.
std::optional<SymInt> Analyzer::block_piece_length(const SValue& start, const SValue& end) {
  auto len = [&](const SValue& v) -> std::optional<SymInt> {
    if (v.kind == K::Int) return v.i;
    if (v.kind == K::IR) return device_length(gen(), v.value);
    return std::nullopt;
  };
  auto s = len(start), e = len(end);
  if (!s || !e) return std::nullopt;
  SymInt n = *e - *s;
  if (n.kind() != SymInt::Kind::FloorDiv || !is_block_piece(n)) return std::nullopt;
  return n;
}

SValue Analyzer::arange(const SValue& start, SourceSpan start_span, const SValue& end, SourceSpan end_span,
                        int64_t step, DType dtype, SourceSpan span, const std::string& what) {
  const SValue s = as_number(start, start_span), e = as_number(end, end_span);
  if (!is_integral(dtype) && dtype != DType::Bool && !is_floating(dtype))
    error(span, what + ": unsupported dtype");
  auto affine_of = [&](const SValue& v, SourceSpan at, const char* name) {
    auto a = scalar_affine(v);
    if (!a) error(at, what + ": " + name + " must be an integer (a constant, a size or a tile attribute), got " + describe(v));
    return *a;
  };
  if (step == 1)
    if (auto piece = block_piece_length(s, e)) {
      // A piece of a block (tile.block_size // 2): the whole dim of that many
      // lanes a reshape splitting the tile makes (reshapes.cc).
      int d = gen().full_dim(*piece, span, piece->str());
      ir::Attrs a;
      a.dim = d;
      SValue r = SValue::ir(gen().builder().create(OpKind::Arange, {}, {ir::Type{program_->index_dtype, {d}}}, span, a)->result(),
                            PromotionClass::Tensor);
      if (!(s.kind == K::Int && s.i.is_constant() && s.i.constant() == 0)) r = gen().binary(ir::BinaryFn::Add, r, s, span);
      return SValue::ir(gen().cast(r.value, dtype, span), PromotionClass::Tensor);
    }
  ScalarAffine sa = affine_of(s, start_span, "start"), ea = affine_of(e, end_span, "end");
  auto diff = affine_sub(ea, sa);
  if (!diff) error(span, what + ": the length end - start overflows int64");
  // The length (end - start) / step, rounded up as range() does.
  std::optional<ScalarAffine> length;
  if (diff->is_constant()) {
    int64_t d = diff->constant;
    int64_t n = step > 0 ? (d <= 0 ? 0 : (d - 1) / step + 1) : (d >= 0 ? 0 : (-d - 1) / -step + 1);
    length = ScalarAffine{};
    length->constant = n;
  } else {
    length = affine_exact_div(*diff, step);
  }
  ir::Value* base = nullptr;  // 0, 1, ... along the result's one dim, in the index dtype
  DType idx = program_->index_dtype;
  if (length && length->is_constant()) {
    if (length->constant <= 0)
      error(span, what + " of an empty range (length " + std::to_string(length->constant) +
                      ") is not supported inside tile loops");
    int d = gen().full_dim(length->constant, span, std::to_string(length->constant));
    ir::Attrs a;
    a.dim = d;
    base = gen().builder().create(OpKind::Arange, {}, {ir::Type{idx, {d}}}, span, a)->result();
  } else if (auto bd = length ? length->block_size_dim() : std::nullopt) {
    // Exactly one tile's block: the tile's lanes, counted from the tile's start.
    if (kernel_->dim(*bd).kind == ir::DimKind::Grid)
      error(span, what + ": a grid index has no block to range over");
    ir::Value* index = tile_attr(gen(), OpKind::TileIndex, *bd, idx, span);
    ScalarAffine begin_term;
    begin_term.terms["begin:" + std::to_string(*bd)] = 1;
    if (step == 1 && sa.terms == begin_term.terms && sa.constant == 0)  // arange(tile.begin, tile.begin + block)
      return SValue::ir(gen().cast(index, dtype, span), PromotionClass::Tensor);
    ir::Value* begin = tile_attr(gen(), OpKind::TileBegin, *bd, idx, span);
    base = gen().binary(ir::BinaryFn::Sub, SValue::ir(index, PromotionClass::Tensor),
                        SValue::ir(begin, PromotionClass::Scalar), span).value;
  } else if (auto extent = length ? block_multiple(*length, *kernel_) : std::nullopt) {
    // Several blocks' worth of lanes: a whole dim whose extent the config decides.
    int d = gen().full_dim(*extent, span, extent->str());
    ir::Attrs a;
    a.dim = d;
    base = gen().builder().create(OpKind::Arange, {}, {ir::Type{idx, {d}}}, span, a)->result();
  } else if (auto host_len = length && step == 1 ? affine_host_int(*length) : std::nullopt) {
    // A length made of host ints known only at run time or per config
    // (n - m, block // 2 between two tile-derived bounds that cancel): a whole
    // dim of that extent.
    SymInt n = *host_len;
    int d = gen().full_dim(n, span, n.str());
    ir::Attrs a;
    a.dim = d;
    base = gen().builder().create(OpKind::Arange, {}, {ir::Type{idx, {d}}}, span, a)->result();
  } else {
    error(span, what + ": the length (end - start) / step must be a constant, a size, or a tile's block size",
          {"e.g. torch.arange(tile.block_size), torch.arange(tile.begin, tile.begin + tile.block_size), "
           "hl.arange(16)"});
  }
  SValue r = SValue::ir(base, PromotionClass::Tensor);
  if (step != 1) r = gen().binary(ir::BinaryFn::Mul, r, SValue::integer(step), span);
  if (!(sa.is_constant() && sa.constant == 0)) r = gen().binary(ir::BinaryFn::Add, r, s, span);
  return SValue::ir(gen().cast(r.value, dtype, span), PromotionClass::Tensor);
}

bool Analyzer::call_torch_creation(const std::string& name, const CallArgs& call, SValue& out) {
  static const std::set<std::string> kNames = {"torch.zeros", "torch.ones", "torch.empty", "torch.full",
                                               "torch.arange", "torch.tensor"};
  if (!kNames.count(name)) return false;
  // The sizes: positional (torch.zeros(m, n)) or one sequence (torch.zeros([m, n])).
  auto options = [&](const CallArgs& rest, std::vector<std::string> sig) {
    for (const char* k : {"dtype=", "device=", "layout=", "requires_grad=", "pin_memory=", "memory_format=", "out="})
      sig.push_back(k);
    BoundArgs b = bind(rest, sig);
    if (b.has("out") && b.get("out")->kind != K::None)
      error(b.span_of("out"), name + "(out=...) is not supported inside tile loops");
    if (b.has("requires_grad") && b.get("requires_grad")->kind != K::None &&
        expect_const_bool(*b.get("requires_grad"), b.span_of("requires_grad"), "requires_grad"))
      error(b.span_of("requires_grad"), name + "(requires_grad=True) is not supported inside tile loops");
    return b;
  };
  auto given_dtype = [&](const BoundArgs& b) -> std::optional<DType> {
    if (!b.has("dtype") || b.get("dtype")->kind == K::None) return std::nullopt;
    return expect_dtype(*b.get("dtype"), b.span_of("dtype"), "dtype");
  };
  if (name == "torch.tensor") {
    // torch.tensor(v) of a number: a 0-dim tensor holding it (a scalar constant in
    // the kernel), with torch's dtype for the number unless one is given. Lists
    // would make a tensor of data-dependent contents on the device: index a host
    // tensor built before the loop instead.
    BoundArgs b = options(call, {"data"});
    const SValue& v = *b.get("data");
    if (v.kind != K::Int && v.kind != K::Float && v.kind != K::Bool && !(v.kind == K::IR && v.value->type.is_scalar()))
      error(b.span_of("data"), "torch.tensor(...) inside tile loops takes a number, got " + describe(v),
            {"build the tensor before the loop and index it with tiles"});
    out = filled({}, v, given_dtype(b).value_or(inferred_fill_dtype(v)), b.span_of("data"), call.span);
    return true;
  }
  if (name == "torch.arange") {
    BoundArgs b = options(call, {"start", "end=", "step="});
    const SValue* start = b.get("start");
    const SValue* end = b.get("end");
    SValue zero = SValue::integer(0);
    SourceSpan start_span = b.span_of("start"), end_span = b.span_of("start");
    if (end && end->kind != K::None) {
      end_span = b.span_of("end");
    } else {
      end = start;
      start = &zero;
    }
    int64_t step = 1;
    if (b.has("step") && b.get("step")->kind != K::None)
      step = expect_const_int(*b.get("step"), b.span_of("step"), "step");
    if (step == 0) error(b.span_of("step"), "torch.arange: step must be nonzero");
    // PyTorch: int64 for integer arguments.
    out = arange(*start, start_span, *end, end_span, step, given_dtype(b).value_or(DType::Int64), call.span, name);
    return true;
  }
  const bool full = name == "torch.full";
  CallArgs rest = call;
  SValue shape;
  SourceSpan shape_span = call.span;
  size_t sizes_given = full ? std::min<size_t>(call.args.size(), 1) : call.args.size();
  if (sizes_given > 0) {
    std::vector<SValue> sizes(call.args.begin(), call.args.begin() + sizes_given);
    shape = sizes.size() == 1 && sizes[0].is_sequence() ? sizes[0] : SValue::list(sizes);
    shape_span = SourceSpan::merge(call.arg_spans.front(), call.arg_spans[sizes_given - 1]);
    rest.args.erase(rest.args.begin(), rest.args.begin() + sizes_given);
    rest.arg_spans.erase(rest.arg_spans.begin(), rest.arg_spans.begin() + sizes_given);
  }
  BoundArgs b = options(rest, full ? std::vector<std::string>{"fill_value", "*", "size="}
                                   : std::vector<std::string>{"*", "size="});
  if (b.has("size")) {
    if (sizes_given > 0) error(b.span_of("size"), name + "() got the size twice");
    shape = *b.get("size");
    shape_span = b.span_of("size");
  } else if (sizes_given == 0) {
    error(call.span, name + "() needs a size");
  }
  auto dims = dims_from_shape(shape, shape_span);
  if (full) {
    const SValue& v = *b.get("fill_value");
    out = filled(dims, v, given_dtype(b).value_or(inferred_fill_dtype(v)), b.span_of("fill_value"), call.span);
    return true;
  }
  // torch.empty's contents are unspecified: zeros are as good as any.
  SValue fill = SValue::integer(name == "torch.ones" ? 1 : 0);
  out = filled(dims, fill, given_dtype(b).value_or(DType::Float32), call.span, call.span);
  return true;
}

bool Analyzer::call_new_tensor_method(const SValue& self, const std::string& method, const CallArgs& call,
                                      SValue& out) {
  static const std::map<std::string, std::string> kTorchName = {{"new_zeros", "torch.zeros"},
                                                                {"new_ones", "torch.ones"},
                                                                {"new_empty", "torch.empty"},
                                                                {"new_full", "torch.full"}};
  auto it = kTorchName.find(method);
  if (it == kTorchName.end()) return false;
  // The same call to the torch function, with the receiver's dtype unless one is given
  // (its device is the kernel's).
  CallArgs torch_call = call;
  torch_call.func_name = it->second;
  bool has_dtype = false;
  for (const auto& [k, v] : call.kwargs) has_dtype |= k == "dtype" && v.kind != K::None;
  if (!has_dtype) {
    DType dt = self.kind == K::Tensor ? self.tensor->dtype : self.value->type.dtype;
    for (size_t i = torch_call.kwargs.size(); i-- > 0;)  // an explicit dtype=None
      if (torch_call.kwargs[i].first == "dtype") {
        torch_call.kwargs.erase(torch_call.kwargs.begin() + static_cast<std::ptrdiff_t>(i));
        torch_call.kwarg_spans.erase(torch_call.kwarg_spans.begin() + static_cast<std::ptrdiff_t>(i));
      }
    torch_call.kwargs.emplace_back("dtype", SValue::dtype_value(dt));
    torch_call.kwarg_spans.push_back(call.span);
  }
  return call_torch_creation(it->second, torch_call, out);
}

}  // namespace deuteron::sema
