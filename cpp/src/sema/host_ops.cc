// Host-side torch functions and tensor methods that sema models: tensor
// creation, sizes/strides, and views.  Everything else on the host is
// Unknown: Python runs it unchanged.
#include <algorithm>
#include <cmath>

#include "analyzer.h"

namespace deuteron::sema {

using K = SValue::Kind;

namespace {

std::vector<SymInt> contiguous_strides(const std::vector<SymInt>& sizes) {
  std::vector<SymInt> st(sizes.size(), SymInt(1));
  SymInt acc = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    st[i] = acc;
    acc = acc * sizes[i];
  }
  return st;
}

bool is_contiguous(const HostTensor& t) {
  auto expect = contiguous_strides(t.sizes);
  for (size_t i = 0; i < t.sizes.size(); ++i) {
    if (t.sizes[i].is_constant() && t.sizes[i].constant() == 1) continue;  // stride of a unit dim is irrelevant
    if (!t.strides[i].same_as(expect[i])) return false;
  }
  return true;
}

SValue with_layout(const HostTensor& src, std::vector<SymInt> sizes, std::vector<SymInt> strides) {
  auto t = std::make_shared<HostTensor>(src);
  t->expr.clear();
  t->host_expr.clear();
  t->arg_index = -1;
  t->dense = false;  // a view
  t->sizes = std::move(sizes);
  t->strides = std::move(strides);
  SValue v;
  v.kind = K::Tensor;
  v.tensor = t;
  return v;
}

// `v` (a new host tensor) shares memory with `src` at run time, or may: it
// answers for the same argument (HostTensor::base_arg).
SValue sharing(SValue v, const HostTensor& src) {
  if (v.kind != K::Tensor || src.base_arg < 0) return v;
  auto t = std::make_shared<HostTensor>(*v.tensor);
  t->base_arg = src.base_arg;
  v.tensor = t;
  return v;
}

// `t` viewed or reshaped to `sizes` (view, reshape, flatten).  Of a
// contiguous tensor that is a contiguous view.  Otherwise it is a view where
// the strides allow one and a copy (reshape, flatten) or an error (view)
// where not: which, and so the strides, is known only at run time, where
// they are read once the result has a name (Analyzer::named_host_value).
// Either way it answers for t's argument: a write through a copy is listed
// as a mutation the run does not make, which is harmless.
SValue reshaped(const HostTensor& t, const std::vector<SymInt>& sizes) {
  SValue v = make_tensor(sizes, t.dtype, t.device);
  if (!is_contiguous(t)) {
    auto r = std::make_shared<HostTensor>(*v.tensor);
    for (size_t i = 0; i < r->strides.size(); ++i) r->strides[i] = SymInt::symbol("?stride_" + std::to_string(i));
    r->dense = false;
    v.tensor = r;
  }
  return sharing(v, t);
}

}  // namespace

std::optional<std::vector<SymInt>> broadcast_shape(const std::vector<std::vector<SymInt>>& shapes, SymInt* a, SymInt* b,
                                                   size_t* axis) {
  size_t rank = 0;
  for (const auto& sz : shapes) rank = std::max(rank, sz.size());
  std::vector<SymInt> shape(rank, SymInt(1));
  for (const auto& sz : shapes) {
    for (size_t i = 0; i < sz.size(); ++i) {
      SymInt& s = shape[rank - sz.size() + i];
      if (s.is_constant() && s.constant() == 1) {
        s = sz[i];
      } else if (!(sz[i].is_constant() && sz[i].constant() == 1) && !sz[i].same_as(s)) {
        if (a) *a = s;
        if (b) *b = sz[i];
        if (axis) *axis = rank - sz.size() + i;
        return std::nullopt;
      }
    }
  }
  return shape;
}

SValue make_tensor(std::vector<SymInt> sizes, DType dtype, std::string device) {
  auto t = std::make_shared<HostTensor>();
  t->strides = contiguous_strides(sizes);
  t->sizes = std::move(sizes);
  t->dtype = dtype;
  t->device = std::move(device);
  t->dense = true;
  SValue v;
  v.kind = K::Tensor;
  v.tensor = t;
  return v;
}

// A creation call's sizes and the rest of its arguments.  The sizes are the first
// `max_sizes` positional arguments: numbers (torch.empty(m, n), x.new_zeros(m, n)),
// or one sequence (torch.empty([m, n]), torch.empty(x.size())), or size=...
Analyzer::HostSizes Analyzer::host_creation_sizes(const CallArgs& c, size_t max_sizes) const {
  HostSizes r{std::nullopt, c};
  size_t n = std::min(max_sizes, c.args.size());
  std::vector<SValue> items(c.args.begin(), c.args.begin() + static_cast<std::ptrdiff_t>(n));
  r.rest.args.erase(r.rest.args.begin(), r.rest.args.begin() + static_cast<std::ptrdiff_t>(n));
  r.rest.arg_spans.erase(r.rest.arg_spans.begin(), r.rest.arg_spans.begin() + static_cast<std::ptrdiff_t>(n));
  for (size_t i = 0; i < r.rest.kwargs.size(); ++i) {
    if (r.rest.kwargs[i].first != "size") continue;
    if (n > 0) error(r.rest.kwarg_spans[i], c.func_name + "() got the size twice");
    items = {r.rest.kwargs[i].second};
    r.rest.kwargs.erase(r.rest.kwargs.begin() + static_cast<std::ptrdiff_t>(i));
    r.rest.kwarg_spans.erase(r.rest.kwarg_spans.begin() + static_cast<std::ptrdiff_t>(i));
    break;
  }
  if (items.empty()) {
    if (max_sizes > 0 && n == 0) return r;  // no size: a call sema does not model
    r.sizes = std::vector<SymInt>{};       // torch.empty(): 0-d
    return r;
  }
  if (items.size() == 1 && items[0].is_sequence()) items = std::vector<SValue>(items[0].elts);
  std::vector<SymInt> sizes;
  for (const auto& it : items) {
    auto v = host_size(it);
    if (!v) return r;
    sizes.push_back(*v);
  }
  r.sizes = sizes;
  return r;
}

bool Analyzer::call_host_torch(const std::string& name, const CallArgs& call, SValue& out) {
  // nullopt when the dtype is computed by host code sema does not model.
  auto dtype_of = [&](const BoundArgs& b, DType dflt) -> std::optional<DType> {
    if (!b.has("dtype") || b.get("dtype")->kind == K::None) return dflt;
    if (b.get("dtype")->kind == K::DType) return b.get("dtype")->dtype;
    return std::nullopt;
  };
  if (name == "torch.promote_types" || name == "torch.result_type") {
    if (call.args.size() == 2 && call.args[0].kind == K::DType && call.args[1].kind == K::DType) {
      out = SValue::dtype_value(promote_types(call.args[0].dtype, call.args[1].dtype));
      return true;
    }
    out = SValue::unknown();
    return true;
  }
  static const char* const kCreate[] = {"torch.empty", "torch.zeros", "torch.ones", "torch.rand", "torch.randn"};
  for (const char* f : kCreate) {
    if (name != f) continue;
    HostSizes sz = host_creation_sizes(call, call.args.size());
    if (!sz.sizes) { out = SValue::unknown(); return true; }
    BoundArgs b = bind(sz.rest, {"*", "dtype=", "device=", "layout=", "requires_grad=", "pin_memory=",
                                 "memory_format=", "out=", "generator="});
    auto dt = dtype_of(b, DType::Float32);
    out = dt ? make_tensor(*sz.sizes, *dt, "cuda") : SValue::unknown();
    return true;
  }
  if (name == "torch.full") {
    HostSizes sz = host_creation_sizes(call, 1);  // torch.full(size, fill_value): one sequence
    if (!sz.sizes) { out = SValue::unknown(); return true; }
    BoundArgs b = bind(sz.rest, {"fill_value", "*", "dtype=", "device=", "layout=", "requires_grad=", "pin_memory="});
    const SValue& fv = *b.get("fill_value");
    DType dflt = fv.kind == K::Bool ? DType::Bool : fv.kind == K::Int ? DType::Int64 : DType::Float32;
    auto dt = dtype_of(b, dflt);
    out = dt ? make_tensor(*sz.sizes, *dt, "cuda") : SValue::unknown();
    return true;
  }
  static const char* const kLike[] = {"torch.empty_like", "torch.zeros_like", "torch.ones_like", "torch.rand_like",
                                      "torch.randn_like", "torch.full_like"};
  for (const char* f : kLike) {
    if (name != f) continue;
    if (call.args.empty() || call.args[0].kind != K::Tensor) { out = SValue::unknown(); return true; }
    const HostTensor& src = *call.args[0].tensor;
    std::vector<std::string> sig = {"input"};
    if (name == "torch.full_like") sig.push_back("fill_value");
    for (const char* s : {"*", "dtype=", "device=", "layout=", "requires_grad=", "memory_format="}) sig.push_back(s);
    BoundArgs b = bind(call, sig);
    // *_like keeps the strides of a dense input (preserve_format).
    auto dt = dtype_of(b, src.dtype);
    if (!dt) {
      out = SValue::unknown();
      return true;
    }
    out = make_tensor(src.sizes, *dt, src.device);
    if (!is_contiguous(src)) {
      // preserve_format copies the input's stride order, which is only known
      // at run time here: the strides are read from the new tensor once it
      // has a name (see Analyzer::host_assign).
      auto t = std::make_shared<HostTensor>(*out.tensor);
      for (size_t i = 0; i < t->strides.size(); ++i) t->strides[i] = SymInt::symbol("?stride_" + std::to_string(i));
      out.tensor = t;
    }
    return true;
  }
  if (name == "torch.broadcast_tensors") {
    // Expanded views: broadcast dims get stride 0.
    size_t rank = 0;
    for (const auto& a : call.args) {
      if (a.kind != K::Tensor) { out = SValue::unknown(); return true; }
      rank = std::max(rank, a.tensor->sizes.size());
    }
    std::vector<std::vector<SymInt>> shapes;
    for (const auto& a : call.args) shapes.push_back(a.tensor->sizes);
    SymInt x = 1, y = 1;
    auto broadcast = broadcast_shape(shapes, &x, &y);
    if (!broadcast)
      error(call.span, ErrorKind::ShapeMismatch, "torch.broadcast_tensors: sizes " + x.str() + " and " + y.str() + " do not broadcast");
    const std::vector<SymInt>& shape = *broadcast;
    std::vector<SValue> outs;
    for (const auto& a : call.args) {
      const HostTensor& t = *a.tensor;
      std::vector<SymInt> st(rank, SymInt(0));
      for (size_t i = 0; i < t.sizes.size(); ++i) {
        size_t j = rank - t.sizes.size() + i;
        bool expanded = t.sizes[i].is_constant() && t.sizes[i].constant() == 1 &&
                        !(shape[j].is_constant() && shape[j].constant() == 1);
        st[j] = expanded ? SymInt(0) : t.strides[i];
      }
      outs.push_back(with_layout(t, shape, st));
    }
    out = SValue::tuple(outs);
    return true;
  }
  if (name == "triton.cdiv" || name == "hl.cdiv" || name == "deuteron.cdiv") {
    if (call.args.size() != 2) error(call.span, "cdiv(a, b) takes two ints");
    out = SValue::integer(cdiv(expect_int(call.args[0], call.arg_spans[0], "a"),
                               expect_int(call.args[1], call.arg_spans[1], "b")));
    return true;
  }
  if (name == "triton.next_power_of_2" || name == "deuteron.next_power_of_2") {
    if (call.args.size() != 1) error(call.span, "next_power_of_2(n) takes one int");
    SymInt n = expect_int(call.args[0], call.arg_spans[0], "n");
    if (!n.is_constant()) {
      // A number computed from tunables (`next_power_of_2(cdiv(k, split_k))`)
      // is known once the config is: it stays symbolic and each config
      // resolves it.  Sizes only known at run time have no such point.
      for (const auto& s : n.symbols())
        if (s.rfind("_tunable_", 0) != 0 && s.rfind("_block_size_", 0) != 0)
          error(call.arg_spans[0], "next_power_of_2: n must be a compile-time constant or computed from "
                                   "hl.register_tunable values, got " + n.str(),
                {"mark the argument `hl.constexpr` or use static shapes so that it is known when compiling"});
      out = SValue::integer(sym_next_power_of_2(n));
      return true;
    }
    // Triton's bit trick gives 0 for n <= 0, and 2**63 above 2**62.
    if (n.constant() > (int64_t{1} << 62))
      int_error(call.span, pyint::Status::Overflow, "triton.next_power_of_2(" + std::to_string(n.constant()) + ")");
    out = SValue::integer(sym_next_power_of_2(n));
    return true;
  }
  if (name.rfind("math.", 0) == 0 && call.args.size() >= 1) {
    for (const auto& a : call.args)
      if (!((a.kind == K::Int && a.i.is_constant()) ||
            ((a.kind == K::Float || a.kind == K::Bool) && a.runtime_expr.empty()))) {
        out = host_number_call(name.substr(5), call.args);  // a float Python computes, or unknown
        return true;
      }
    auto num = [&](size_t i) {
      const SValue& a = call.args[i];
      return a.kind == K::Int ? double(a.i.constant()) : a.kind == K::Bool ? (a.b ? 1.0 : 0.0) : a.f;
    };
    std::string f = name.substr(5);
    double x = num(0);
    // Python raises where C returns NaN or infinity ("math domain error",
    // "math range error"); so does the fold.
    auto domain_error = [&]() { error(call.span, name + "(): math domain error (Python raises ValueError)"); };
    auto result = [&](double r) {
      if (std::isinf(r) && std::isfinite(x)) error(call.span, name + "(): math range error (the result overflows)");
      out = SValue::floating(r);
      return true;
    };
    if (f == "ceil" || f == "floor") {
      const SValue& a = call.args[0];
      if (a.kind != K::Float) {  // exact for ints (and bools)
        out = SValue::integer(a.kind == K::Int ? a.i : SymInt(a.b ? 1 : 0));
        return true;
      }
      bool nan = false;
      pyint::IntResult r = pyint::float_to_int(f == "ceil" ? std::ceil(x) : std::floor(x), &nan);
      if (nan) error(call.span, name + "(): cannot convert float NaN to integer");
      if (!r.ok()) int_error(call.span, r.status, name + "(" + std::to_string(x) + ")");
      out = SValue::integer(r.value);
      return true;
    }
    if (f == "sqrt") {
      if (x < 0) domain_error();
      return result(std::sqrt(x));
    }
    if (f == "exp") return result(std::exp(x));
    if (f == "log" || f == "log2") {
      if (x <= 0) domain_error();
      if (f == "log2") return result(std::log2(x));
      if (call.args.size() == 1) return result(std::log(x));
      double base = num(1);
      if (base <= 0) domain_error();
      if (base == 1.0) error(call.span, name + "(): division by zero (log of base 1)");
      return result(std::log(x) / std::log(base));
    }
    if (f == "pow" && call.args.size() == 2) {
      pyint::FloatResult r = pyint::float_pow(x, num(1));
      if (r.status == pyint::Status::Overflow) error(call.span, name + "(): math range error (the result overflows)");
      if (!r.ok()) domain_error();
      return result(r.value);
    }
    out = SValue::unknown();
    return true;
  }
  return false;
}

bool Analyzer::call_host_tensor_method(const SValue& self, const std::string& name, const CallArgs& call,
                                       SValue& out) {
  const HostTensor& t = *self.tensor;
  int rank = static_cast<int>(t.sizes.size());
  auto dim_arg = [&](const SValue& v, SourceSpan sp, int r) {
    return normalize_axis(expect_const_int(v, sp, "dim"), r, sp);
  };
  if (name == "size" || name == "stride") {
    BoundArgs b = bind(call, {"dim="});
    const auto& src = name == "size" ? t.sizes : t.strides;
    if (!b.has("dim") || b.get("dim")->kind == K::None) {
      std::vector<SValue> v;
      for (const auto& s : src) v.push_back(SValue::integer(s));
      out = SValue::tuple(v);
      return true;
    }
    // normalize_axis lets dim 0 / -1 name a 0-d tensor's (scalar) dim, as reductions
    // do; size() and stride() have no such dim to return (PyTorch raises too).
    if (rank == 0)
      error(b.span_of("dim"), "x." + name + "(dim): the tensor has no dimensions (it is 0-d)",
            {"x." + name + "() is the empty tuple for a 0-d tensor"});
    out = SValue::integer(src.at(dim_arg(*b.get("dim"), b.span_of("dim"), rank)));
    return true;
  }
  if (name == "dim" || name == "ndimension") {
    out = SValue::integer(static_cast<int64_t>(rank));
    return true;
  }
  if (name == "numel" || name == "nelement") {
    SymInt n = 1;
    for (const auto& s : t.sizes) n = n * s;
    out = SValue::integer(n);
    return true;
  }
  if (name == "item" && call.args.empty() && call.kwargs.empty()) {
    out = tensor_scalar(self, call.span, t.expr + ".item()");
    return true;
  }
  if (name == "element_size") {
    out = SValue::integer(static_cast<int64_t>(byte_size(t.dtype)));
    return true;
  }
  if (name == "is_contiguous") {
    out = SValue::boolean(is_contiguous(t));
    return true;
  }
  if (in_device()) return false;  // the rest make new host tensors
  if (name == "new_empty" || name == "new_zeros" || name == "new_ones" || name == "new_full") {
    // Sizes as torch.empty takes them (x.new_empty(m, n), x.new_empty([m, n]), size=);
    // new_full's is one sequence followed by the fill value.
    const bool full = name == "new_full";
    bool size_kw = std::any_of(call.kwargs.begin(), call.kwargs.end(), [](const auto& kv) { return kv.first == "size"; });
    if (call.args.empty() && !size_kw) return false;
    HostSizes sz = host_creation_sizes(call, full ? 1 : call.args.size());
    if (!sz.sizes) { out = SValue::unknown(); return true; }
    std::vector<std::string> sig;
    if (full) sig.push_back("fill_value");
    for (const char* s : {"*", "dtype=", "device=", "requires_grad=", "layout=", "pin_memory="}) sig.push_back(s);
    BoundArgs b = bind(sz.rest, sig);
    DType d = t.dtype;
    if (b.has("dtype") && b.get("dtype")->kind != K::None) {
      if (b.get("dtype")->kind != K::DType) { out = SValue::unknown(); return true; }
      d = b.get("dtype")->dtype;
    }
    out = make_tensor(*sz.sizes, d, t.device);
    return true;
  }
  if (name == "view" || name == "reshape") {
    std::vector<SValue> items = call.args;
    if (items.size() == 1 && items[0].is_sequence()) items = items[0].elts;
    if (items.size() == 1 && items[0].kind == K::DType) { out = SValue::unknown(); return true; }  // view(dtype)
    SymInt total = 1;
    for (const auto& s : t.sizes) total = total * s;
    std::vector<SymInt> sizes;
    int infer = -1;
    SymInt known = 1;
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].kind != K::Int) { out = SValue::unknown(); return true; }
      if (items[i].i.is_constant() && items[i].i.constant() == -1) {
        if (infer >= 0) error(call.span, "only one dimension can be -1 in view/reshape");
        infer = static_cast<int>(i);
        sizes.push_back(0);
      } else {
        sizes.push_back(items[i].i);
        known = known * items[i].i;
      }
    }
    if (infer >= 0) {
      // PyTorch rejects a -1 whose other sizes multiply to zero: any length
      // would fit, so the shape is ambiguous (or impossible when the tensor
      // has elements).
      if (known.is_constant() && known.constant() == 0)
        error(call.span, name + "(): cannot infer the size of dimension " + std::to_string(infer) +
                             " (-1): the other sizes multiply to 0, so any length would fit");
      if (known.is_constant() && total.is_constant() && pyint::mod(total.constant(), known.constant()).value != 0)
        error(call.span, name + "(): shape is invalid for a tensor of " + total.str() + " elements (the other sizes multiply to " +
                             known.str() + ", which does not divide it)");
      sizes[infer] = floordiv(total, known);
    } else if (total.is_constant()) {
      SymInt want = 1;
      for (const auto& s : sizes) want = want * s;
      if (want.is_constant() && want.constant() != total.constant())
        error(call.span, name + "(): shape multiplies to " + want.str() + " elements, but the tensor has " + total.str());
    }
    out = reshaped(t, sizes);
    return true;
  }
  if (name == "flatten") {
    BoundArgs b = bind(call, {"start_dim=", "end_dim="});
    int lo = b.has("start_dim") ? dim_arg(*b.get("start_dim"), b.span_of("start_dim"), std::max(rank, 1)) : 0;
    int hi = b.has("end_dim") ? dim_arg(*b.get("end_dim"), b.span_of("end_dim"), std::max(rank, 1))
                              : std::max(rank, 1) - 1;
    if (rank == 0) {  // a 0-d tensor flattens to one element, a view of it
      out = with_layout(t, {SymInt(1)}, {SymInt(1)});
      return true;
    }
    if (lo > hi) error(call.span, "flatten(): start_dim cannot come after end_dim");
    if (lo == hi) {  // nothing to merge: the tensor itself
      out = with_layout(t, t.sizes, t.strides);
      return true;
    }
    std::vector<SymInt> sizes(t.sizes.begin(), t.sizes.begin() + lo);
    SymInt merged = 1;
    for (int d = lo; d <= hi; ++d) merged = merged * t.sizes[d];
    sizes.push_back(merged);
    sizes.insert(sizes.end(), t.sizes.begin() + hi + 1, t.sizes.end());
    out = reshaped(t, sizes);
    return true;
  }
  if (name == "squeeze") {
    std::vector<int> dims;
    if (call.args.empty()) {
      for (int d = 0; d < rank; ++d) dims.push_back(d);
    } else {
      std::vector<SValue> items = call.args;
      if (items.size() == 1 && items[0].is_sequence()) items = items[0].elts;
      for (const auto& it : items) dims.push_back(dim_arg(it, call.span, std::max(rank, 1)));
    }
    std::vector<SymInt> sz, st;
    for (int d = 0; d < rank; ++d) {
      bool named = std::find(dims.begin(), dims.end(), d) != dims.end();
      // Dynamic shapes keep sizes 0 and 1 constant (they are in the key), so a
      // symbolic size is never 1: squeeze keeps it, as PyTorch will.
      bool unit = t.sizes[d].is_constant() && t.sizes[d].constant() == 1;
      if (named && unit) continue;
      sz.push_back(t.sizes[d]);
      st.push_back(t.strides[d]);
    }
    out = with_layout(t, sz, st);
    return true;
  }
  if (name == "contiguous") {
    // The tensor itself when it is contiguous at run time, else a copy: a
    // write through it may write the argument, so it answers for it.
    out = sharing(make_tensor(t.sizes, t.dtype, t.device), t);
    return true;
  }
  if (name == "clone") {
    out = make_tensor(t.sizes, t.dtype, t.device);
    return true;
  }
  if (name == "transpose" || name == "swapaxes") {
    if (call.args.size() != 2) return false;
    int a = dim_arg(call.args[0], call.arg_spans[0], rank), b = dim_arg(call.args[1], call.arg_spans[1], rank);
    if (rank == 0) {  // dims 0 / -1 of a 0-d tensor: nothing to swap
      out = with_layout(t, t.sizes, t.strides);
      return true;
    }
    auto sz = t.sizes;
    auto st = t.strides;
    std::swap(sz[a], sz[b]);
    std::swap(st[a], st[b]);
    out = with_layout(t, sz, st);
    return true;
  }
  if (name == "t") {
    if (rank < 2) { out = with_layout(t, t.sizes, t.strides); return true; }
    auto sz = t.sizes;
    auto st = t.strides;
    std::swap(sz[0], sz[1]);
    std::swap(st[0], st[1]);
    out = with_layout(t, sz, st);
    return true;
  }
  if (name == "permute") {
    std::vector<SValue> items = call.args;
    if (items.size() == 1 && items[0].is_sequence()) items = items[0].elts;
    if (static_cast<int>(items.size()) != rank) error(call.span, "permute needs " + std::to_string(rank) + " dims");
    std::vector<SymInt> sz, st;
    for (const auto& it : items) {
      int d = dim_arg(it, call.span, rank);
      sz.push_back(t.sizes[d]);
      st.push_back(t.strides[d]);
    }
    out = with_layout(t, sz, st);
    return true;
  }
  if (name == "unsqueeze") {
    if (call.args.size() != 1) return false;
    int d = dim_arg(call.args[0], call.arg_spans[0], rank + 1);
    auto sz = t.sizes;
    auto st = t.strides;
    SymInt s = d < rank ? t.strides[d] * t.sizes[d] : SymInt(1);
    sz.insert(sz.begin() + d, SymInt(1));
    st.insert(st.begin() + d, s);
    out = with_layout(t, sz, st);
    return true;
  }
  auto cast_to = [&](DType d) {
    out = make_tensor(t.sizes, d, t.device);
    if (d == t.dtype) out = with_layout(t, t.sizes, t.strides);
    return true;
  };
  if (name == "float") return cast_to(DType::Float32);
  if (name == "half") return cast_to(DType::Float16);
  if (name == "bfloat16") return cast_to(DType::BFloat16);
  if (name == "double") return cast_to(DType::Float64);
  if (name == "int") return cast_to(DType::Int32);
  if (name == "long") return cast_to(DType::Int64);
  if (name == "bool") return cast_to(DType::Bool);
  if (name == "to") {
    for (const auto& a : call.args)
      if (a.kind == K::DType) return cast_to(a.dtype);
    for (const auto& [k, v] : call.kwargs)
      if (k == "dtype" && v.kind == K::DType) return cast_to(v.dtype);
    out = with_layout(t, t.sizes, t.strides);
    return true;
  }
  return false;
}

SValue Analyzer::host_tensor_subscript(const HostTensor& t, const IndexParts& parts, SourceSpan span) {
  // Basic indexing makes a view (a write through it writes `t`); advanced
  // indexing (a tensor or list index) copies.  Sema models the views whose
  // sizes it can tell; storage offsets need no modelling, as the kernel gets
  // the view's own data pointer.  Anything else is Unknown: Python runs it.
  int rank = static_cast<int>(t.sizes.size());
  int consumed = 0;
  for (const auto& [p, sp] : parts) {
    if (p.kind == K::Int || p.kind == K::Slice) ++consumed;
    else if (p.kind != K::None && p.kind != K::Ellipsis) return SValue::unknown();
  }
  if (consumed > rank) return SValue::unknown();  // Python raises the IndexError
  std::vector<SymInt> sz, st;
  int d = 0;
  for (const auto& [p, sp] : parts) {
    if (p.kind == K::None) {
      sz.push_back(1);
      st.push_back(d < rank ? t.strides[d] * t.sizes[d] : SymInt(1));
    } else if (p.kind == K::Ellipsis) {
      for (int k = 0; k < rank - consumed; ++k, ++d) {
        sz.push_back(t.sizes[d]);
        st.push_back(t.strides[d]);
      }
    } else if (p.kind == K::Int) {
      ++d;  // an int drops the dim
    } else {  // a slice: whole, or constant bounds on a constant size
      const SValue &lo = p.elts[0], &hi = p.elts[1], &step = p.elts[2];
      bool whole = lo.kind == K::None && hi.kind == K::None;
      int64_t stp = 1;
      if (step.kind == K::Int && step.i.is_constant() && step.i.constant() > 0) stp = step.i.constant();
      else if (step.kind != K::None) return SValue::unknown();
      if (whole && stp == 1) {
        sz.push_back(t.sizes[d]);
        st.push_back(t.strides[d]);
        ++d;
        continue;
      }
      if (!t.sizes[d].is_constant()) return SValue::unknown();
      int64_t n = t.sizes[d].constant();
      auto bound = [&](const SValue& b, int64_t dflt, int64_t& out_v) {
        if (b.kind == K::None) { out_v = dflt; return true; }
        if (b.kind != K::Int || !b.i.is_constant()) return false;
        int64_t v = b.i.constant();
        if (v < 0) v += n;
        out_v = std::clamp<int64_t>(v, 0, n);
        return true;
      };
      int64_t a = 0, b = n;
      if (!bound(lo, 0, a) || !bound(hi, n, b)) return SValue::unknown();
      sz.push_back(b > a ? (b - a + stp - 1) / stp : 0);
      st.push_back(t.strides[d] * SymInt(stp));
      ++d;
    }
  }
  for (; d < rank; ++d) {  // dims the index does not name are kept
    sz.push_back(t.sizes[d]);
    st.push_back(t.strides[d]);
  }
  (void)span;
  return with_layout(t, sz, st);
}

}  // namespace deuteron::sema
