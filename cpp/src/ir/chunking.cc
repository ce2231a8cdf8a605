// Chunking whole dims (passes/reduction_rolling.cc, passes/contraction_rolling.cc):
// which axes of each operand a chunk of an op's result cuts, whether every
// reduction over a set of whole dims and every store through them can be
// computed chunk by chunk, and whether a dot's whole contraction can be.
// Sema asks can_roll before it offers a reduction_loops entry, the passes
// follow the same operand_chunks when they clone the slices.
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "deuteron/ir.h"

namespace deuteron::ir {

using DimSet = std::set<int>;

namespace {

// The dims of `operand` on the axes that match axes of `result` holding a
// dim of `chunked`, lined up from the right (elementwise ops broadcast so;
// BroadcastTo and elementwise ops also retype a whole dim onto another of its
// size, which is why this goes by position rather than by dim).
DimSet aligned(const std::vector<int>& result, const std::vector<int>& operand, const DimSet& chunked) {
  DimSet out;
  const int shift = static_cast<int>(result.size()) - static_cast<int>(operand.size());
  for (int j = 0; j < static_cast<int>(operand.size()); ++j) {
    const int i = j + shift;
    if (i >= 0 && chunked.count(result[i]) && operand[j] != kBroadcast) out.insert(operand[j]);
  }
  return out;
}

// The same through an explicit map: operand axis j is result axis to_result[j] (-1: none).
DimSet mapped(const std::vector<int>& result, const std::vector<int>& operand, const std::vector<int>& to_result,
              const DimSet& chunked) {
  DimSet out;
  for (size_t j = 0; j < operand.size(); ++j) {
    const int i = to_result[j];
    if (i >= 0 && chunked.count(result.at(i)) && operand[j] != kBroadcast) out.insert(operand[j]);
  }
  return out;
}

}  // namespace

bool intersects(const Type& t, const DimSet& s) {
  for (int d : t.dims)
    if (s.count(d)) return true;
  return false;
}

DimSet dims_in(const Type& t, const DimSet& s) {
  DimSet out;
  for (int d : t.dims)
    if (s.count(d)) out.insert(d);
  return out;
}

bool is_reduce_over(const Op& op, const DimSet& cls) {
  return op.kind == OpKind::Reduce && cls.count(op.operands[0]->type.dims.at(op.attrs.axis));
}

bool is_sink_over(const Op& op, const DimSet& cls) {
  if (op.kind != OpKind::Store && op.kind != OpKind::AtomicRMW) return false;
  for (int d : cls)
    if (indexes_dim(op, d)) return true;
  for (const Value* v : op.operands)
    if (intersects(v->type, cls)) return true;
  return false;
}

// For an op whose result dims `chunked` are cut into chunks, the dims of each
// operand that are cut with them; nullopt for an op that cannot be computed
// chunk by chunk (it moves elements across the dim, or has side effects).
// A dot's contraction axes are never cut: its operands keep their whole K,
// and only its rows or columns come chunk by chunk.
std::optional<std::vector<DimSet>> operand_chunks(const Op& op, const DimSet& chunked) {
  std::vector<DimSet> out;
  const std::vector<int>& res = op.results.empty() ? std::vector<int>{} : op.result()->type.dims;
  auto dims_of = [&](size_t i) -> const std::vector<int>& { return op.operands[i]->type.dims; };
  switch (op.kind) {
    case OpKind::Unary:
    case OpKind::Binary:
    case OpKind::Where:
    case OpKind::Cast:
    case OpKind::BroadcastTo:
    case OpKind::Random:
      for (size_t i = 0; i < op.operands.size(); ++i) out.push_back(aligned(res, dims_of(i), chunked));
      return out;
    case OpKind::Load:
      // Index tensors and a mask have the access's dims.
      for (size_t i = 0; i < op.operands.size(); ++i) out.push_back(dims_in(op.operands[i]->type, chunked));
      return out;
    case OpKind::ExpandDims:
    case OpKind::Squeeze: {
      const auto& in = dims_of(0);
      std::vector<int> to(in.size());
      for (int j = 0; j < static_cast<int>(in.size()); ++j) {
        if (op.kind == OpKind::ExpandDims) to[j] = j < op.attrs.axis ? j : j + 1;
        else to[j] = j == op.attrs.axis ? -1 : j < op.attrs.axis ? j : j - 1;
      }
      out.push_back(mapped(res, in, to, chunked));
      return out;
    }
    case OpKind::Permute: {
      const auto& in = dims_of(0);
      std::vector<int> to(in.size(), -1);
      for (size_t i = 0; i < op.attrs.perm.size(); ++i) to.at(op.attrs.perm[i]) = static_cast<int>(i);
      out.push_back(mapped(res, in, to, chunked));
      return out;
    }
    case OpKind::Reduce: {
      const auto& in = dims_of(0);
      std::vector<int> to(in.size());
      for (int j = 0; j < static_cast<int>(in.size()); ++j)
        to[j] = j == op.attrs.axis ? -1 : (op.attrs.keepdim || j < op.attrs.axis) ? j : j - 1;
      out.push_back(mapped(res, in, to, chunked));
      return out;
    }
    case OpKind::Dot: {
      const auto& a = dims_of(0);
      const auto& b = dims_of(1);
      const int rank = static_cast<int>(a.size());
      std::vector<int> to_a(a.size()), to_b(b.size());
      for (int j = 0; j < rank; ++j) {
        to_a[j] = j == rank - 1 ? -1 : j;                       // batch, M; K stays whole
        to_b[j] = j == rank - 2 ? -1 : j;                       // batch, N; K stays whole
      }
      out.push_back(mapped(res, a, to_a, chunked));
      out.push_back(mapped(res, b, to_b, chunked));
      for (size_t i = 2; i < op.operands.size(); ++i) out.push_back(aligned(res, dims_of(i), chunked));
      return out;
    }
    case OpKind::Full:
    case OpKind::Arange:
    case OpKind::TileIndex:
    case OpKind::TileMask:
      return out;  // no operands
    default:
      return std::nullopt;
  }
}

// The operands of a store or atomic whose access covers `cls` dims: the
// index values by their dims, the stored value (and an atomic's expected
// value, a mask) lined up with the access.
DimSet access_dims_in(const Op& op, const DimSet& cls) {
  DimSet out;
  for (int d : access_dims(op))
    if (cls.count(d)) out.insert(d);
  return out;
}

std::vector<DimSet> sink_operand_chunks(const Op& op, const DimSet& cls) {
  const std::vector<int> access = access_dims(op);
  const DimSet chunked = access_dims_in(op, cls);
  std::vector<DimSet> out;
  for (size_t i = 0; i < op.operands.size(); ++i) {
    const bool lined_up = static_cast<int>(i) == op.attrs.value_operand ||
                          static_cast<int>(i) == op.attrs.expected_operand ||
                          static_cast<int>(i) == op.attrs.extra_mask;
    out.push_back(lined_up ? aligned(access, op.operands[i]->type.dims, chunked)
                           : dims_in(op.operands[i]->type, cls));
  }
  return out;
}

std::vector<std::pair<const Value*, DimSet>> chunked_inputs(const Op& member, const DimSet& cls) {
  std::vector<std::pair<const Value*, DimSet>> out;
  if (member.kind == OpKind::Reduce) {
    const Value* in = member.operands[0];
    out.push_back({in, {in->type.dims.at(member.attrs.axis)}});
    return out;
  }
  auto sets = sink_operand_chunks(member, cls);
  for (size_t i = 0; i < member.operands.size(); ++i) out.push_back({member.operands[i], sets[i]});
  return out;
}

// Whether every member can be computed chunk by chunk: their slices only
// hold ops that work lane by lane along the chunked axes, never need two
// axes of the class cut at once (a chunk would pair lane i only with lane
// i), and a reduction over the class leaves none of it in its result.
namespace {

// Whether the slice producing `v` with its dims `want` cut into chunks can be
// computed chunk by chunk: every op on it works lane by lane along one dim of
// `cls` at a time (a chunk pairs lane i only with lane i).  `load` sees each
// load of the slice.
bool slice_chunks(const Value* v, const DimSet& want, const DimSet& cls,
                  std::set<std::pair<const Value*, DimSet>>& seen, const std::function<bool(const Op&)>& load) {
  DimSet s = dims_in(v->type, want);
  if (s.empty() || !v->def) return s.empty();
  if (s.size() > 1) return false;
  if (!seen.insert({v, s}).second) return true;
  if (v->def->kind == OpKind::Load && !load(*v->def)) return false;
  auto sets = operand_chunks(*v->def, s);
  if (!sets) return false;
  for (size_t i = 0; i < sets->size(); ++i) {
    for (int d : (*sets)[i])
      if (!cls.count(d)) return false;
    if (!slice_chunks(v->def->operands[i], (*sets)[i], cls, seen, load)) return false;
  }
  return true;
}

}  // namespace

std::optional<std::pair<int, int>> contraction_chunks(const DeviceKernel& k, const Op& dot, const DimSet& cls) {
  if (dot.kind != OpKind::Dot) return std::nullopt;
  const Value* a = dot.operands[0];
  const Value* b = dot.operands[1];
  const int ka = a->type.dims.back();
  const int kb = b->type.dims[b->type.dims.size() - 2];
  if (!cls.count(ka) || !cls.count(kb)) return std::nullopt;
  // Constant whole dims of one extent (a chunk's lanes line up in both).
  const Dim& da = k.dim(ka);
  const Dim& db = k.dim(kb);
  auto ea = da.extent().as_constant(), eb = db.extent().as_constant();
  if (da.kind != DimKind::Full || db.kind != DimKind::Full || da.merged() || db.merged() || !ea || ea != eb)
    return std::nullopt;
  // Partial products add up in the accumulator's type: only where the dot
  // computes in that type anyway (float32, or int32 for integer operands).
  const DType out = dot.result()->type.dtype;
  if (out != DType::Float32 && out != DType::Int32) return std::nullopt;
  if (dot.operands.size() > 2 && dot.operands[2]->type != dot.result()->type) return std::nullopt;
  // A chunk reads its operands again where the dot is: not from a tensor the
  // kernel writes (a store in between would change what it reads).
  // (By memory: a view of an argument the kernel writes is written too.)
  std::set<int> written;
  walk(k.body, [&](const Op& op) {
    if (op.kind == OpKind::Store || op.kind == OpKind::AtomicRMW) written.insert(memory_of(k, op.attrs.tensor));
  });
  auto readable = [&](const Op& load) {
    return !written.count(memory_of(k, load.attrs.tensor)) && stack_pointers(load) == nullptr;
  };
  std::set<std::pair<const Value*, DimSet>> seen;
  if (!slice_chunks(a, {ka}, cls, seen, readable) || !slice_chunks(b, {kb}, cls, seen, readable)) return std::nullopt;
  return std::make_pair(ka, kb);
}

std::map<int, DimSet> dims_by_reduction_entry(const DeviceKernel& k) {
  std::map<int, DimSet> out;
  for (const auto& dim : k.dims)
    if (dim.kind == DimKind::Full && dim.reduction_index >= 0) out[dim.reduction_index].insert(dim.id);
  return out;
}

bool can_roll(const DeviceKernel& k, const std::set<int>& cls) {
  std::set<std::pair<const Value*, DimSet>> seen;
  auto any_load = [](const Op&) { return true; };
  auto ok = [&](const Value* v, const DimSet& want) { return slice_chunks(v, want, cls, seen, any_load); };
  bool any = false;
  for (auto& op : k.body.ops) {
    const bool reduce = is_reduce_over(*op, cls);
    if (!reduce && !is_sink_over(*op, cls)) continue;
    any = true;
    // A reduction's input has the class on the reduced axis only; a store
    // goes through one dim of it.
    if (reduce ? dims_in(op->operands[0]->type, cls).size() != 1 : access_dims_in(*op, cls).size() > 1) return false;
    for (const auto& [v, want] : chunked_inputs(*op, cls))
      if (!ok(v, want)) return false;
  }
  // A dot's whole contraction over the class can come chunk by chunk too
  // (passes/contraction_rolling.cc); a contraction that cannot stays whole.
  if (!any)
    walk(k.body, [&](const Op& op) { any = any || contraction_chunks(k, op, cls).has_value(); });
  return any;
}

}  // namespace deuteron::ir
