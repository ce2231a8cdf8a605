// A whole dim that a batched matmul runs over as its batch, and that every op
// of the kernel treats lane by lane, becomes a dim of the grid: one index of
// it per program.
//
//   q_blk = q[tile_q, :, :].transpose(0, 1)          # [H, tile_q, D]
//   scores = torch.bmm(q_blk, k_blk.transpose(-2, -1))
//
// held every head of the batch in one program: a 3-D dot over all H = 32 heads
// of D = 128 (512 KB of shared memory at any tile size, Helion's
// jagged_hstu_attn_2), with as many programs as the grid had (one per
// sequence).  The heads are independent: nothing reduces over them, contracts
// them, moves lanes along them or writes memory without them that another
// head would write again.  So the dim becomes a tile dim of block 1 added to
// the grid (each program one head; the dots become 2-D, Hopper's wgmma, once
// unit_dim_elimination removes the block of 1), and the kernel has H times
// the programs.  No config key: a block of 1 is what the batch of a batched
// matmul always wants (each batch entry is its own matmul), and a Helion
// config of the kernel keeps its block_sizes.
//
// Whole dims of one size that values move between (sema's whole_dims_meet)
// lift together.  The check follows ir::operand_chunks (ir/chunking.cc):
// every op that has one of them in its result has them at positions lined up
// with its operands' (elementwise, views, a dot's batch), no value has two,
// and ops without them in the result have none in their operands (a
// reduction or contraction over the dim).
#include <functional>
#include <set>

#include "analyzer.h"

namespace deuteron::sema {

using ir::OpKind;

namespace {

using DimSet = std::set<int>;

bool lane_by_lane(const ir::DeviceKernel& k, const DimSet& cls) {
  bool ok = true;
  std::function<void(const ir::Region&)> check = [&](const ir::Region& r) {
    for (const auto& arg : r.args)
      if (ir::dims_in(arg->type, cls).size() > 1) ok = false;
    for (const auto& op_ptr : r.ops) {
      const ir::Op& op = *op_ptr;
      for (const auto& res : op.results)
        if (ir::dims_in(res->type, cls).size() > 1) ok = false;
      // Effects deuteron cannot see into, and a breakpoint every program would hit.
      if (op.kind == OpKind::InlineTriton || op.kind == OpKind::Breakpoint) ok = false;
      const bool sink = op.kind == OpKind::Store || op.kind == OpKind::AtomicRMW;
      if (sink) {
        // An atomic without the dim every program would repeat.
        const DimSet cut = ir::access_dims_in(op, cls);
        if (cut.size() > 1 || (op.kind == OpKind::AtomicRMW && cut.empty())) ok = false;
        auto sets = ir::sink_operand_chunks(op, cls);
        for (size_t i = 0; i < op.operands.size(); ++i)
          if (sets[i] != ir::dims_in(op.operands[i]->type, cls)) ok = false;
      } else if (op.kind == OpKind::For || op.kind == OpKind::While || op.kind == OpKind::If ||
                 op.kind == OpKind::Yield || op.kind == OpKind::Print || op.kind == OpKind::Assert) {
        // Carried values keep their types through the loop; prints and asserts
        // run once per program (per head), on that head's lanes.
      } else {
        DimSet out;
        for (const auto& res : op.results) {
          DimSet d = ir::dims_in(res->type, cls);
          out.insert(d.begin(), d.end());
        }
        auto sets = ir::operand_chunks(op, out);
        if (!sets) {
          // An op that works across lanes: fine only when the dim is nowhere in it.
          bool touches = !out.empty();
          for (const ir::Value* v : op.operands) touches |= ir::intersects(v->type, cls);
          if (op.kind == OpKind::Arange || op.kind == OpKind::TileIndex || op.kind == OpKind::TileMask)
            touches = false;  // no operands; the dim's own indices
          if (touches) ok = false;
        } else {
          for (size_t i = 0; i < op.operands.size(); ++i)
            if ((*sets)[i] != ir::dims_in(op.operands[i]->type, cls)) ok = false;
        }
      }
      for (const auto& sub : op.regions) check(*sub);
      if (!ok) return;
    }
  };
  check(k.body);
  return ok;
}

// The dims of `cls` renamed to the tile dim `to`; an hl.arange over them
// becomes the program's index of that tile.
void substitute(ir::DeviceKernel& k, const DimSet& cls, int to) {
  ir::rename_dims(k, [&](int d) { return cls.count(d) ? to : d; });
  ir::walk_mut(k.body, [&](ir::Op& op) {
    if (op.kind == OpKind::Arange && op.attrs.dim == to) op.kind = OpKind::TileIndex;
  });
}

}  // namespace

void Analyzer::lift_batch_dims_into_grid(ir::DeviceKernel& k) {
  if (program_->barrier_phases) return;  // phases share one persistent launch
  // Candidates: the whole dims that a batched dot runs over as its batch.
  std::set<int> batch;
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind != OpKind::Dot || op.result()->type.rank() != 3) return;
    int d = op.result()->type.dims[0];
    if (d == ir::kBroadcast) return;
    const ir::Dim& dim = k.dim(d);
    if (dim.kind == ir::DimKind::Full && !dim.merged() && dim.extent().is_constant() && !gen().unified_away(d) &&
        dim.begin.is_constant() && dim.begin.constant() == 0)
      batch.insert(d);
  });
  std::set<int> placed;
  for (int d : batch) {
    if (placed.count(d)) continue;
    const DimSet cls = gen().whole_dims_with_lanes_of(d);
    placed.insert(cls.begin(), cls.end());
    if (!lane_by_lane(k, cls)) continue;
    const ir::Dim& whole = k.dim(d);
    ir::Dim t;
    t.id = static_cast<int>(k.dims.size());
    t.kind = ir::DimKind::Tile;
    t.begin = 0;
    t.end = whole.extent();
    t.fixed_block_size = 1;
    t.name = whole.name;
    t.span = whole.span;
    k.dims.push_back(t);
    substitute(k, cls, t.id);
    k.grid_dims.push_back(t.id);
  }
}

}  // namespace deuteron::sema
