// Inner loops evaluated whole: the backward's view of an inner `hl.tile` loop
// whose carried values are more than an accumulation (online softmax's
// running max and sum, attention's m_i, l_i, acc).
//
// Such a loop computes the same function whatever its block size (the block
// size is a tuning knob), so for the backward it may run as ONE iteration
// whose block is the whole dim: the carried values start from their initial
// values, the body runs once, and its yields are the loop's results.  The
// loop's dim becomes a Full dim (`x[tile_m, :]`), the body straight-line
// code over it, which the reverse sweep differentiates like any other
// (elementwise ops, reductions over whole dims, dots).  The backward kernel
// is deuteron source, so its compiler pads a whole dim to a power of two and
// masks the padded lanes exactly as it masks a forward's out-of-bounds lanes
// (a reduction never sees them, a store never writes them).
//
// The price is registers: the whole row of the dim is live at once, so a dim
// longer than kMaxWholeLanes is refused rather than compiled into a kernel
// that cannot run.  Loops the transform cannot take stay loops; find_active
// (adjoints.cc) refuses them, with the reason recorded here, if a gradient
// flows through them.
#include "backward.h"

namespace deuteron::autodiff {
namespace {

// Why loop `op` cannot be evaluated as one iteration over its whole dim, or
// "" when it can.
std::string obstacle(const ir::DeviceKernel& k, const ir::Op& op) {
  if (op.regions.size() != 1) return "it has several regions";
  const ir::Dim& dim = k.dim(op.attrs.dim);
  if (op.attrs.dynamic_bounds || dim.dynamic_bounds)
    return "its bounds are device values (only a loop over a whole dim, 0 to its size, can be evaluated whole)";
  if (dim.kind != ir::DimKind::Tile)
    return "it steps one index at a time (hl.grid), so its body is not the same function of any block";
  if (!dim.begin.same_as(SymInt(0)))
    return "it starts at " + dim.begin.str() + ", not 0 (only a loop over a whole dim, 0 to its size, can be evaluated whole)";
  std::optional<int64_t> n = dim.end.as_constant();
  if (!n) n = dim.end.hint();
  if (!n) return "its size has no known value";
  if (next_power_of_2(*n) > kMaxWholeLanes)
    return "evaluated whole, its " + std::to_string(*n) + " elements would be " + std::to_string(next_power_of_2(*n)) +
           " lanes of one row in registers (at most " + std::to_string(kMaxWholeLanes) + ")";
  // tile.index is each lane's own index whatever the block (written as
  // hl.arange over the whole dim); the other attributes describe the block.
  std::string why;
  ir::walk(*op.regions[0], [&](const ir::Op& o) {
    bool attribute = o.kind == ir::OpKind::TileBegin || o.kind == ir::OpKind::TileEnd ||
                     o.kind == ir::OpKind::TileBlockSize || o.kind == ir::OpKind::TileId ||
                     o.kind == ir::OpKind::TileCount || o.kind == ir::OpKind::TileMask;
    if (why.empty() && attribute && o.attrs.dim == op.attrs.dim)
      why = std::string("its body reads its tile's '") + ir::name(o.kind) + "' (line " +
            std::to_string(o.span.line) + "), which one block over the whole dim would change";
  });
  return why;
}

// Replaces loop `region.ops[i]` by its body: carried values become their
// initial values, the loop's results the body's yields, and the loop's dim
// a Full dim.
void inline_whole(ir::DeviceKernel& k, ir::Region& region, size_t i) {
  ir::Op& loop = *region.ops[i];
  ir::Region& body = *loop.regions[0];
  ir::Op& yield = *body.ops.back();
  std::vector<ir::Value*> results;
  for (size_t j = 0; j < loop.results.size(); ++j) {
    ir::Value* next = yield.operands.at(j);
    // A value passed through unchanged is its initial value.
    if (!next->def && next->owner == &body) next = loop.operands.at(next->index);
    results.push_back(next);
  }
  for (size_t j = 0; j < body.args.size(); ++j) ir::replace_uses(body, body.args[j].get(), loop.operands.at(j));
  for (size_t j = 0; j < loop.results.size(); ++j) ir::replace_uses(k.body, loop.result(static_cast<int>(j)), results[j]);
  std::vector<std::unique_ptr<ir::Op>> ops;
  for (auto& o : body.ops)
    if (o.get() != &yield) {
      o->parent = &region;
      ops.push_back(std::move(o));
    }
  ir::Dim& dim = k.dim(loop.attrs.dim);
  dim.kind = ir::DimKind::Full;
  dim.loop_id = -1;
  dim.block_size_index = -1;
  dim.fixed_block_size.reset();
  dim.config_block_size.reset();
  region.ops.erase(region.ops.begin() + static_cast<std::ptrdiff_t>(i));
  region.ops.insert(region.ops.begin() + static_cast<std::ptrdiff_t>(i), std::make_move_iterator(ops.begin()),
                    std::make_move_iterator(ops.end()));
}

}  // namespace

void evaluate_loops_whole(Plan& plan) {
  auto k = ir::clone(*plan.kernel);
  // The loop body's ops land where the loop was and are visited next, so a
  // loop nested in one evaluated whole is considered in its turn.
  for (size_t i = 0; i < k->body.ops.size(); ++i) {
    ir::Op& op = *k->body.ops[i];
    if (op.kind != ir::OpKind::For || accumulates(op)) continue;
    std::string why = obstacle(*k, op);
    if (!why.empty()) {
      plan.kept_loops[&op] = why;
      continue;
    }
    plan.whole_loops[op.attrs.dim] = op.span;
    inline_whole(*k, k->body, i);
    --i;
  }
  plan.kernel = k.get();
  plan.owned_kernel = std::move(k);
}

}  // namespace deuteron::autodiff
