#include "slices.h"

#include <algorithm>

#include "scalar_affine.h"

namespace deuteron::sema {

using K = SValue::Kind;

SliceIndex lower_bounded_slice(Analyzer& a, const HostTensor& t, int pos, const SValue& slice, SourceSpan span) {
  SValue lower = a.as_number(slice.elts[0], span), upper = a.as_number(slice.elts[1], span);
  const SValue& step_v = slice.elts[2];
  // A step must be known when compiling (it sets the number of lanes); torch's
  // slices take positive steps only.
  int64_t step = 1;
  if (step_v.kind != K::None) {
    step = a.expect_const_int(step_v, span, "a slice step");
    if (step <= 0)
      a.error(span, "the slice step must be positive, got " + std::to_string(step) + " (indexing '" + t.expr + "')");
  }
  const SymInt& size = t.sizes.at(pos);
  auto is_host_bound = [](const SValue& v) { return v.kind == K::None || v.kind == K::Int; };
  for (const SValue* b : {&lower, &upper})
    if (!is_host_bound(*b) && b->kind != K::IR)
      a.error(span, "a slice bound must be an integer, got " + describe(*b));
  // Python's rules: a negative constant counts from the end.
  auto from_end = [&](SValue& b) {
    if (b.kind == K::Int && b.i.is_constant() && b.i.constant() < 0) b = SValue::integer(size + b.i);
  };
  from_end(lower);
  from_end(upper);
  if (lower.kind == K::None) lower = SValue::integer(0);
  if (upper.kind == K::None) upper = SValue::integer(size);

  SliceIndex out;
  auto unit = [&](const SValue& start) {
    out.spec.kind = ir::IndexSpec::Kind::Scalar;
    out.operand = a.expect_device(start, span, "a slice start").value;
    out.new_axis = true;
    out.dims = {ir::kBroadcast};
    return out;
  };
  if (step != 1) {
    // lower, lower + step, ... below upper: an integer tensor index (a gather
    // or scatter of those elements), as x[lower + step * hl.arange(n)] would be.
    if (lower.kind == K::Int && upper.kind == K::Int) {
      SymInt lo = lower.i, hi = upper.i;
      if (auto n = size.as_constant(); n && lo.is_constant() && hi.is_constant()) {
        lo = std::clamp<int64_t>(lo.constant(), 0, *n);
        hi = std::clamp<int64_t>(hi.constant(), 0, *n);
        int64_t count = hi.constant() > lo.constant() ? (hi.constant() - lo.constant() - 1) / step + 1 : 0;
        if (count == 0)
          a.error(span, "the slice " + lower.i.str() + ":" + upper.i.str() + ":" + std::to_string(step) +
                            " of dimension " + std::to_string(pos) + " of '" + t.expr + "' (size " + size.str() +
                            ") is empty",
                  {"tensors made inside tile loops have at least one element"});
        if (count == 1) return unit(SValue::integer(lo));
      }
      lower = SValue::integer(lo);
      upper = SValue::integer(hi);
    }
    SValue idx = a.arange(lower, span, upper, span, step, a.gen().kernel().index_dtype, span, "the strided slice");
    out.spec.kind = ir::IndexSpec::Kind::Tensor;
    out.operand = idx.value;
    out.dims = idx.value->type.dims;
    return out;
  }
  if (lower.kind == K::Int && upper.kind == K::Int) {
    SymInt lo = lower.i, hi = upper.i;
    if (auto n = size.as_constant(); n && lo.is_constant() && hi.is_constant()) {
      lo = std::clamp<int64_t>(lo.constant(), 0, *n);
      hi = std::clamp<int64_t>(hi.constant(), 0, *n);
    }
    SymInt extent = hi - lo;
    if (extent.is_constant() && extent.constant() <= 0)
      a.error(span, "the slice " + lower.i.str() + ":" + upper.i.str() + " of dimension " + std::to_string(pos) +
                        " of '" + t.expr + "' (size " + size.str() + ") is empty",
              {"tensors made inside tile loops have at least one element"});
    if (extent.is_constant() && extent.constant() == 1) return unit(SValue::integer(lo));
    int d = a.gen().full_dim(extent, span, extent.str());
    out.spec.kind = ir::IndexSpec::Kind::TileDim;
    out.spec.dim = d;
    out.spec.offset = lo;
    out.dims = {d};
    return out;
  }
  // A bound computed on the device: the indices start + 0, 1, ... as a tensor.
  auto lo = scalar_affine(lower), hi = scalar_affine(upper);
  auto length = lo && hi ? affine_sub(*hi, *lo) : std::nullopt;
  if (length && length->is_constant() && length->constant == 1) return unit(lower);
  SValue idx = a.arange(lower, span, upper, span, 1, a.gen().kernel().index_dtype, span, "the slice");
  out.spec.kind = ir::IndexSpec::Kind::Tensor;
  out.operand = idx.value;
  out.dims = idx.value->type.dims;
  return out;
}

}  // namespace deuteron::sema
