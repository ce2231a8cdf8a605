// Reduction rolling: a reduction over a full dimension whose config entry
// `reduction_loops[i]` is a block size R becomes a loop over chunks of R.
//
// Sema produces "persistent" reductions: x[tile, :] loads the whole row and
// reduces it in registers.  For long rows that does not fit, so for a rolled
// dim r (extent E) this pass rewrites the kernel body:
//   * every reduction over r gets a loop over r' (a new tile dim with block R)
//     that recomputes the reduction's input chunk by chunk (its "r-slice":
//     the ops that produce it from loads and values known before the loop)
//     and accumulates elementwise into a [.., R, ..] accumulator; after the
//     loop one reduction over the accumulator gives the original result;
//   * every store whose value or index involves r gets a loop that recomputes
//     its r-slice and stores chunk by chunk.
// Consecutive reductions/stores whose inputs are all known before the first
// of them share one loop (e.g. sum(x) and sum(x*x)).  Values over r are never
// carried between loops: they are recomputed from the loads (rematerialized),
// which is what a looped reduction costs.  The originals become dead and are
// removed by dead-code elimination.
//
// r may be several whole dims of one size rolled together (one config entry):
// values move between them where they meet (sema's whole_dims_meet), as when
// the columns of x_tile @ w[:, :] (w's second `:`) are stored through
// out[tile, :] (the first).  Which axes a chunk cuts is therefore followed by
// position from each member back through its slice (operand_chunks), not by
// dim id: a dot's rows and columns come chunk by chunk while its contraction
// axis stays whole, so x_tile (a whole row, the contraction) is read once
// before the loop and w[:, chunk] inside it.  ir::can_roll (ir/chunking.cc)
// says whether every slice can be cut that way; sema offers the entry only then.
//
// Chunks as programs: when the rolled dim's members are only stores (one
// group, nothing reduced over it, as in x_tile @ w[:, :] stored through
// out[tile, :]), no chunk needs another's result, and the loop over chunks
// would run them one after another in a program the grid already has.  Where
// the launch may grow (not a persistent-only kernel), the chunk dim then
// becomes a dim of the grid instead: each program one chunk, as a matmul
// tiles its output columns.  Measured on Helion's se_block (1024 x 1024 @
// 1024 x 1024): the loop gave 32 programs, each running 32 dots of the full
// contraction in turn.  What the loop read once before its first chunk
// (x_tile, the contraction) each program reads for itself, so this is done
// only when everything left outside the loop is such a read or cheap
// elementwise work on it (no other loop, dot, reduction or effect to
// repeat), and when no tensor it stores is read by the kernel (another
// program's chunk could be stored before this program's whole-row read).
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "deuteron/passes.h"
#include "loop_programs.h"
#include "slice_cloner.h"

namespace deuteron::passes {

namespace {

using ir::OpKind;

using DimSet = std::set<int>;
using ir::access_dims_in;
using ir::chunked_inputs;
using ir::dims_in;
using ir::intersects;
using ir::is_reduce_over;
using ir::is_sink_over;
using ir::operand_chunks;
using ir::sink_operand_chunks;

class Roller {
 public:
  // `cls`: the whole dims rolled together (one, or several of one size that
  // values move between: w[:, :] of a square w, an output column stored
  // through another `:` of that size).
  Roller(ir::DeviceKernel& k, DimSet cls, int64_t block, bool chunks_may_be_programs)
      : k_(k), cls_(std::move(cls)), block_(block), chunks_may_be_programs_(chunks_may_be_programs) {}

  void run() {
    // Constants and scalar parameters first: a loop can then take in every
    // member whose other inputs are known before the first one (the 2.0 of
    // `2.0 * x * sig`, written between two stores, would otherwise split them).
    std::stable_partition(k_.body.ops.begin(), k_.body.ops.end(), [](const std::unique_ptr<ir::Op>& op) {
      return op->operands.empty() && op->regions.empty() &&
             (op->kind == OpKind::Constant || op->kind == OpKind::ScalarParam || op->kind == OpKind::SymValue);
    });
    // Members (reductions over the class and stores involving it) in program order.
    std::vector<ir::Op*> members;
    for (auto& op : k_.body.ops)
      if (is_reduce_over(*op, cls_) || is_sink_over(*op, cls_)) members.push_back(op.get());
    std::vector<std::vector<ir::Op*>> groups;
    size_t i = 0;
    while (i < members.size()) {
      // Greedy grouping: later members join while everything their slices
      // need from outside is defined before the group's first member.
      std::vector<ir::Op*> group = {members[i]};
      size_t j = i + 1;
      while (j < members.size() && leaves_defined_before(*members[j], *members[i])) group.push_back(members[j++]);
      groups.push_back(std::move(group));
      i = j;
    }
    const bool only_stores = groups.size() == 1 && stores_only(groups.front());
    for (const auto& group : groups) {
      ir::Op* loop = build_loop(group);
      if (chunks_may_be_programs_ && only_stores) chunks_as_programs(loop);
    }
  }

 private:
  // Stores alone, of tensors the kernel does not read, in a kernel without
  // atomics: chunks that no other chunk depends on, whatever order they run in.
  bool stores_only(const std::vector<ir::Op*>& group) const {
    std::set<int> stored;  // by memory: views of one argument are one
    for (const ir::Op* m : group) {
      if (m->kind != OpKind::Store) return false;
      stored.insert(ir::memory_of(k_, m->attrs.tensor));
    }
    bool independent = true;
    ir::walk(k_.body, [&](const ir::Op& op) {
      if (op.kind == OpKind::AtomicRMW || (op.kind == OpKind::Load && stored.count(ir::memory_of(k_, op.attrs.tensor))))
        independent = false;
    });
    return independent;
  }

  // The loop over chunks becomes a dim of the grid when what stays outside
  // it is cheap to repeat in every chunk's program (see the file comment).
  // (A group of stores only has no accumulators: the loop carries nothing.)
  void chunks_as_programs(ir::Op* loop) {
    eliminate_dead_code(k_);  // the originals the loop replaced
    if (rest_cheap_to_repeat(k_, *loop)) loop_to_grid_dim(k_, *loop);
  }

  int index_of(const ir::Op* op) const {
    for (size_t i = 0; i < k_.body.ops.size(); ++i)
      if (k_.body.ops[i].get() == op) return static_cast<int>(i);
    return -1;
  }

  // The top-level index where a value is defined (-1 for region arguments).
  int def_index(const ir::Value* v) const { return v->def ? index_of(v->def) : -1; }

  // Values from outside the chunked slice of `v` (what the rolled loop reads).
  void collect_leaves(const ir::Value* v, const DimSet& want, std::set<const ir::Value*>& leaves,
                      std::set<std::pair<const ir::Value*, DimSet>>& seen) {
    DimSet s = dims_in(v->type, want);
    if (!seen.insert({v, s}).second) return;
    if (s.empty() || !v->def) {
      leaves.insert(v);
      return;
    }
    auto sets = operand_chunks(*v->def, s);
    for (size_t i = 0; i < v->def->operands.size(); ++i) collect_leaves(v->def->operands[i], (*sets)[i], leaves, seen);
  }

  bool leaves_defined_before(const ir::Op& member, const ir::Op& first) {
    std::set<const ir::Value*> leaves;
    std::set<std::pair<const ir::Value*, DimSet>> seen;
    for (const auto& [v, s] : chunked_inputs(member, cls_)) collect_leaves(v, s, leaves, seen);
    int pos = index_of(&first);
    for (const ir::Value* l : leaves)
      if (def_index(l) >= pos) return false;
    return true;
  }

  // A bool mask, broadcastable against a value of type `t`, of the chunk's
  // lanes inside the dim (only needed when E is not a multiple of R).
  ir::Value* lane_mask(ir::Builder& b, const ir::Type& t, SourceSpan span) {
    const ir::Dim& d = k_.dim(chunk_);
    if (d.extent().provably_multiple_of(block_)) return nullptr;
    ir::Attrs a;
    a.dim = chunk_;
    ir::Value* m = b.create(OpKind::TileMask, {}, {ir::Type{DType::Bool, {chunk_}}}, span, a)->result();
    // Put the chunk axis where it is in t (size-1 axes elsewhere).
    int axis = static_cast<int>(std::find(t.dims.begin(), t.dims.end(), chunk_) - t.dims.begin());
    int rank = t.rank();
    std::vector<int> dims = {chunk_};
    for (int i = axis + 1; i < rank; ++i) {
      ir::Attrs e;
      e.axis = static_cast<int>(dims.size());
      dims.push_back(ir::kBroadcast);
      m = b.create(OpKind::ExpandDims, {m}, {ir::Type{DType::Bool, dims}}, span, e)->result();
    }
    return m;
  }

  ir::Value* constant_like(ir::Builder& b, const ir::Literal& lit, DType t, SourceSpan span) {
    ir::Attrs a;
    a.literal = lit;
    return b.create(OpKind::Constant, {}, {ir::Type{t, {}}}, span, a)->result();
  }

  ir::Value* binary(ir::Builder& b, ir::BinaryFn f, ir::Value* x, ir::Value* y, DType result, SourceSpan span) {
    ir::Attrs a;
    a.binary = f;
    std::vector<int> dims = x->type.rank() >= y->type.rank() ? x->type.dims : y->type.dims;
    return b.create(OpKind::Binary, {x, y}, {ir::Type{result, dims}}, span, a)->result();
  }

  // isnan(x) or not(x): a bool of x's shape.
  ir::Value* predicate(ir::Builder& b, ir::UnaryFn f, ir::Value* x, SourceSpan span) {
    ir::Attrs a;
    a.unary = f;
    return b.create(OpKind::Unary, {x}, {ir::Type{DType::Bool, x->type.dims}}, span, a)->result();
  }

  ir::Value* where(ir::Builder& b, ir::Value* c, ir::Value* x, ir::Value* y, SourceSpan span) {
    std::vector<int> dims = x->type.rank() >= y->type.rank() ? x->type.dims : y->type.dims;
    return b.create(OpKind::Where, {c, x, y}, {ir::Type{x->type.dtype, dims}}, span)->result();
  }

  ir::Value* reduce(ir::Builder& b, ir::ReduceFn f, ir::Value* x, int axis, bool keepdim, DType result,
                    SourceSpan span) {
    ir::Attrs a;
    a.reduce = f;
    a.axis = axis;
    a.keepdim = keepdim;
    a.mask_elided = true;  // every lane of an accumulator is valid
    auto dims = x->type.dims;
    if (keepdim)
      dims[axis] = ir::kBroadcast;
    else
      dims.erase(dims.begin() + axis);
    return b.create(OpKind::Reduce, {x}, {ir::Type{result, dims}}, span, a)->result();
  }

  struct Acc {
    ir::Op* reduce;         // the original reduction
    ir::Type type;          // accumulator type (chunk shape)
    ir::Literal init;
    bool is_arg = false;    // argmax/argmin: a (value, index) pair
  };

  ir::Op* build_loop(const std::vector<ir::Op*>& group) {
    SourceSpan span = group.front()->span;
    // The chunk dim, one per loop.
    ir::Dim chunk;
    chunk.id = static_cast<int>(k_.dims.size());
    chunk.kind = ir::DimKind::Tile;
    chunk.begin = 0;
    chunk.end = k_.dim(*cls_.begin()).extent();
    chunk.fixed_block_size = block_;
    chunk.name = "chunk";
    chunk.span = span;
    k_.dims.push_back(chunk);
    chunk_ = chunk.id;
    cloner_.emplace(k_, chunk_);

    // Accumulators, created before the loop.
    ir::Region staging;
    ir::Builder b(k_);
    b.set_region(&staging);
    std::vector<Acc> accs;
    std::vector<ir::Value*> inits;
    for (ir::Op* m : group) {
      if (m->kind != OpKind::Reduce) continue;
      Acc a;
      a.reduce = m;
      a.type = cloner_->subst(m->operands[0]->type, chunked_inputs(*m, cls_)[0].second);
      a.init = ir::reduction_identity(m->attrs.reduce, a.type.dtype);
      a.is_arg = m->attrs.reduce == ir::ReduceFn::ArgMax || m->attrs.reduce == ir::ReduceFn::ArgMin;
      ir::Attrs fa;
      fa.literal = a.init;
      inits.push_back(b.create(OpKind::Full, {}, {a.type}, span, fa)->result());
      if (a.is_arg) {
        ir::Attrs ia;
        ia.literal = ir::Literal::from_int(0);
        inits.push_back(b.create(OpKind::Full, {}, {ir::Type{DType::Int64, a.type.dims}}, span, ia)->result());
      }
      accs.push_back(a);
    }
    std::vector<ir::Type> types;
    for (ir::Value* v : inits) types.push_back(v->type);
    ir::Attrs fa;
    fa.dim = chunk_;
    ir::Op* loop = b.create(OpKind::For, inits, types, span, fa);
    k_.dim(chunk_).loop_id = loop->id;
    ir::Region* body = b.add_region(loop);
    std::vector<ir::Value*> args;
    for (size_t i = 0; i < types.size(); ++i) args.push_back(b.add_arg(body, types[i], "acc"));
    b.set_region(body);

    // Loop body: recompute each member's slice, accumulate or store.
    std::vector<ir::Value*> yields;
    size_t ai = 0, arg_i = 0;
    for (ir::Op* m : group) {
      if (m->kind != OpKind::Reduce) {
        // A store of this chunk.
        cloner_->clone_op(b, *m, access_dims_in(*m, cls_), sink_operand_chunks(*m, cls_));
        continue;
      }
      const Acc& a = accs[ai++];
      ir::Value* chunk_v = cloner_->clone_value(b, m->operands[0], chunked_inputs(*m, cls_)[0].second);
      ir::Value* mask = lane_mask(b, chunk_v->type, span);
      ir::Value* ident = constant_like(b, a.init, a.type.dtype, span);
      ir::Value* x = mask ? where(b, mask, chunk_v, ident, span) : chunk_v;
      ir::Value* acc = args[arg_i];
      DType t = a.type.dtype;
      switch (m->attrs.reduce) {
        case ir::ReduceFn::Sum: yields.push_back(binary(b, ir::BinaryFn::Add, acc, x, t, span)); break;
        case ir::ReduceFn::Prod: yields.push_back(binary(b, ir::BinaryFn::Mul, acc, x, t, span)); break;
        case ir::ReduceFn::Max: yields.push_back(binary(b, ir::BinaryFn::Maximum, acc, x, t, span)); break;
        case ir::ReduceFn::Min: yields.push_back(binary(b, ir::BinaryFn::Minimum, acc, x, t, span)); break;
        case ir::ReduceFn::Any: yields.push_back(binary(b, ir::BinaryFn::LogicalOr, acc, x, t, span)); break;
        case ir::ReduceFn::All: yields.push_back(binary(b, ir::BinaryFn::LogicalAnd, acc, x, t, span)); break;
        case ir::ReduceFn::ArgMax:
        case ir::ReduceFn::ArgMin: {
          // Keep the first occurrence: replace only on a strictly better value.
          // As in torch.argmax, NaN is better than every number: a lane's
          // first NaN replaces its number and stays (NaN > x is false).
          bool is_max = m->attrs.reduce == ir::ReduceFn::ArgMax;
          ir::Value* better = binary(b, is_max ? ir::BinaryFn::Gt : ir::BinaryFn::Lt, x, acc, DType::Bool, span);
          if (is_floating(t)) {
            ir::Value* acc_num = predicate(b, ir::UnaryFn::Not, predicate(b, ir::UnaryFn::IsNan, acc, span), span);
            ir::Value* x_nan = predicate(b, ir::UnaryFn::IsNan, x, span);
            ir::Value* nan_first = binary(b, ir::BinaryFn::LogicalAnd, x_nan, acc_num, DType::Bool, span);
            better = binary(b, ir::BinaryFn::LogicalOr, better, nan_first, DType::Bool, span);
          }
          ir::Attrs ia;
          ia.dim = chunk_;
          ir::Value* idx = b.create(OpKind::TileIndex, {}, {ir::Type{k_.index_dtype, {chunk_}}}, span, ia)->result();
          ir::Value* idx64 = b.create(OpKind::Cast, {idx}, {ir::Type{DType::Int64, {chunk_}}}, span)->result();
          ir::Value* acc_i = args[arg_i + 1];
          ir::Value* new_v = where(b, better, x, acc, span);
          // The chunk's index on the chunk's axis of the accumulator, size-1
          // axes elsewhere, then broadcast: tl.broadcast_to needs equal ranks.
          std::vector<int> placed(a.type.dims.size(), ir::kBroadcast);
          for (size_t p = 0; p < placed.size(); ++p)
            if (a.type.dims[p] == chunk_) placed[p] = chunk_;
          ir::Value* bi = idx64;
          if (placed != idx64->type.dims)
            bi = b.create(OpKind::Reshape, {idx64}, {ir::Type{DType::Int64, placed}}, span)->result();
          if (bi->type.dims != a.type.dims)
            bi = b.create(OpKind::BroadcastTo, {bi}, {ir::Type{DType::Int64, a.type.dims}}, span)->result();
          ir::Value* new_i = where(b, better, bi, acc_i, span);
          yields.push_back(new_v);
          yields.push_back(new_i);
          break;
        }
      }
      arg_i += a.is_arg ? 2 : 1;
    }
    b.create(OpKind::Yield, yields, {}, span);

    // After the loop: reduce the accumulators; their results replace the originals.
    b.set_region(&staging);
    size_t res_i = 0;
    for (const Acc& a : accs) {
      const ir::Op& m = *a.reduce;
      int axis = m.attrs.axis;
      bool kd = m.attrs.keepdim;
      DType out = m.result()->type.dtype;
      ir::Value* final_v;
      if (!a.is_arg) {
        final_v = reduce(b, m.attrs.reduce, loop->result(res_i), axis, kd, out, span);
        res_i += 1;
      } else {
        // The index of the best value; ties between lanes resolve to the smallest index.
        bool is_max = m.attrs.reduce == ir::ReduceFn::ArgMax;
        ir::Value* vals = loop->result(res_i);
        ir::Value* idxs = loop->result(res_i + 1);
        ir::Value* best = reduce(b, is_max ? ir::ReduceFn::Max : ir::ReduceFn::Min, vals, axis, true, vals->type.dtype, span);
        ir::Value* is_best = binary(b, ir::BinaryFn::Eq, vals, best, DType::Bool, span);
        // A NaN lane is best: the max/min of a row with a NaN is NaN (equal to
        // nothing), and without one no lane is NaN.
        if (is_floating(vals->type.dtype))
          is_best = binary(b, ir::BinaryFn::LogicalOr, is_best, predicate(b, ir::UnaryFn::IsNan, vals, span), DType::Bool, span);
        ir::Value* big = constant_like(b, ir::Literal::from_int(int64_t{1} << 62), DType::Int64, span);
        ir::Value* cand = where(b, is_best, idxs, big, span);
        final_v = reduce(b, ir::ReduceFn::Min, cand, axis, kd, DType::Int64, span);
        res_i += 2;
      }
      ir::replace_uses(k_.body, m.result(), final_v);
      ir::replace_uses(staging, m.result(), final_v);
    }

    // Splice the staged ops in front of the group's first member and drop the
    // stores that now happen inside the loop.
    int pos = index_of(group.front());
    std::vector<std::unique_ptr<ir::Op>> staged;
    for (auto& op : staging.ops) {
      op->parent = &k_.body;
      staged.push_back(std::move(op));
    }
    k_.body.ops.insert(k_.body.ops.begin() + pos, std::make_move_iterator(staged.begin()),
                       std::make_move_iterator(staged.end()));
    for (ir::Op* m : group) {
      if (m->kind == OpKind::Reduce) continue;
      int at = index_of(m);
      k_.body.ops.erase(k_.body.ops.begin() + at);
    }
    return loop;
  }

  ir::DeviceKernel& k_;
  DimSet cls_;
  int64_t block_;
  bool chunks_may_be_programs_;
  int chunk_ = -1;
  std::optional<SliceCloner> cloner_;  // the current loop's
};

}  // namespace

void roll_reductions(ir::DeviceKernel& kernel, const std::vector<std::optional<int64_t>>& reduction_loops,
                     bool chunks_may_be_programs) {
  // Rolling adds dims; only the original ones roll.  Dims sharing an entry
  // (whole dims of one size that values move between) roll together.
  for (const auto& [index, cls] : ir::dims_by_reduction_entry(kernel)) {
    if (index >= static_cast<int>(reduction_loops.size())) continue;
    const auto& block = reduction_loops[index];
    if (!block) continue;
    auto extent = kernel.dim(*cls.begin()).extent().as_constant();
    if (extent && *block >= *extent) continue;  // one chunk is the persistent form
    // Sema offers an entry only where rolling is possible (ir::can_roll),
    // and the passes before this one keep it so; IR written by hand (the
    // pass tests) may give an entry to a dim with nothing to roll.
    if (!ir::can_roll(kernel, cls)) continue;
    Roller(kernel, cls, *block, chunks_may_be_programs).run();
  }
}

}  // namespace deuteron::passes
