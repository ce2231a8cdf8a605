// Contraction rolling: a dot whose contraction is a whole dim with a
// reduction_loops entry R (less than its extent E) becomes a loop over chunks
// of R that accumulates the partial products:
//   acc = dot(a[.., :], b[:, ..])                   (K = E, one tl.dot)
// becomes
//   acc = 0 (or the dot's own accumulator operand)
//   for k in chunks of R: acc = dot(a[.., k], b[k, ..], acc)
// which is how a matmul tiles its contraction.  A product over the whole of a
// long dim (Helion's se_block, x_tile @ w[:, :] with K = 1024; the
// squeeze-and-excitation network's x[tile_m, :] @ a[:, tile_k]) otherwise
// holds both whole operands in shared memory at once and runs one unpipelined
// dot: with the loop, Triton pipelines the chunks' loads (num_stages) and
// each program needs R / E of the memory.
//
// The chunks recompute each operand's slice along the contraction from its
// loads (x * d * (1 - d) of loads over [tile, :]: chunk by chunk), as reduction
// rolling does for a reduction's input (the shared SliceCloner); a slice that
// cannot be cut lane by lane, or that reads a tensor the kernel writes, keeps
// the dot whole (ir::contraction_chunks says which).  It runs after reduction
// rolling, so the dot may already be inside a loop over another chunk (its
// columns: se_block), or a grid dim's program (chunks as programs); the loop
// is built where the dot is.  Masks need nothing here: a chunk dim's lanes
// past E are masked like a tile's, and the emitter zeroes a dot's operands
// on a masked contraction (analysis/accesses.cc: dot_zeroing).
#include <map>
#include <optional>
#include <set>

#include "deuteron/passes.h"
#include "slice_cloner.h"

namespace deuteron::passes {

namespace {

using ir::OpKind;

// Rolls `dot`'s contraction (its operands' dims ka, kb) into chunks of `block`.
void roll(ir::DeviceKernel& k, ir::Op& dot, int ka, int kb, int64_t block) {
  ir::Region& region = *dot.parent;
  const SourceSpan span = dot.span;
  ir::Dim chunk;
  chunk.id = static_cast<int>(k.dims.size());
  chunk.kind = ir::DimKind::Tile;
  chunk.begin = 0;
  chunk.end = k.dim(ka).extent();
  chunk.fixed_block_size = block;
  chunk.name = "chunk_k";
  chunk.span = span;
  k.dims.push_back(chunk);

  // Built in a staging region, then spliced in front of the dot.
  ir::Region staging;
  ir::Builder b(k);
  b.set_region(&staging);
  const ir::Type acc_type = dot.result()->type;
  ir::Value* init;
  if (dot.operands.size() > 2) {
    init = dot.operands[2];
  } else {
    ir::Attrs fa;
    fa.literal = acc_type.dtype == DType::Int32 ? ir::Literal::from_int(0) : ir::Literal::from_float(0.0);
    init = b.create(OpKind::Full, {}, {acc_type}, span, fa)->result();
  }
  ir::Attrs la;
  la.dim = chunk.id;
  ir::Op* loop = b.create(OpKind::For, {init}, {acc_type}, span, la);
  k.dim(chunk.id).loop_id = loop->id;
  ir::Region* body = b.add_region(loop);
  ir::Value* acc = b.add_arg(body, acc_type, "acc");
  b.set_region(body);
  SliceCloner cloner(k, chunk.id);
  ir::Value* a = cloner.clone_value(b, dot.operands[0], {ka});
  ir::Value* bv = cloner.clone_value(b, dot.operands[1], {kb});
  ir::Op* partial = b.create(OpKind::Dot, {a, bv, acc}, {acc_type}, span, dot.attrs);
  partial->result()->name_hint = dot.result()->name_hint;
  b.create(OpKind::Yield, {partial->result()}, {}, span);
  loop->result()->name_hint = dot.result()->name_hint;

  ir::Value* result = loop->result();
  int at = 0;
  while (region.ops[at].get() != &dot) ++at;
  for (auto& op : staging.ops) op->parent = &region;
  region.ops.insert(region.ops.begin() + at, std::make_move_iterator(staging.ops.begin()),
                    std::make_move_iterator(staging.ops.end()));
  // The dot is dead now (dead-code elimination removes it).
  ir::replace_uses(k.body, dot.result(), result);
}

}  // namespace

void roll_contractions(ir::DeviceKernel& kernel, const std::vector<std::optional<int64_t>>& reduction_loops) {
  const auto entries = ir::dims_by_reduction_entry(kernel);
  // The dots first (rolling inserts ops), then each in turn.
  std::vector<ir::Op*> dots;
  ir::walk_mut(kernel.body, [&](ir::Op& op) {
    if (op.kind == OpKind::Dot) dots.push_back(&op);
  });
  for (ir::Op* dot : dots) {
    const int kdim = dot->operands[0]->type.dims.back();
    if (kdim == ir::kBroadcast) continue;
    const int r = kernel.dim(kdim).reduction_index;
    if (r < 0 || r >= static_cast<int>(reduction_loops.size()) || !reduction_loops[r]) continue;
    const int64_t block = *reduction_loops[r];
    const auto extent = kernel.dim(kdim).extent().as_constant();
    if (!extent || block >= *extent) continue;  // one chunk is the whole contraction
    const auto dims = ir::contraction_chunks(kernel, *dot, entries.at(r));
    if (!dims) continue;
    roll(kernel, *dot, dims->first, dims->second, block);
  }
}

}  // namespace deuteron::passes
