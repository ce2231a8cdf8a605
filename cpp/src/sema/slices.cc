#include "slices.h"

#include <algorithm>

#include "scalar_affine.h"

namespace deuteron::sema {

using K = SValue::Kind;

SliceIndex lower_bounded_slice(Analyzer& a, const HostTensor& t, int pos, const SValue& slice, SourceSpan span) {
  SValue lower = a.as_number(slice.elts[0], span), upper = a.as_number(slice.elts[1], span);
  const SValue& step = slice.elts[2];
  if (step.kind != K::None && !(step.kind == K::Int && step.i.is_constant() && step.i.constant() == 1))
    a.error(span, "slices with a step are not supported when indexing '" + t.expr + "' inside a tile loop",
            {"load the whole range and select with torch.where, or index with an integer tensor (begin + step * "
             "hl.arange(n))"});
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
