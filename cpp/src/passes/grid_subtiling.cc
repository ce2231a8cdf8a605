// Grid sub-tiling: each program splits its block of one grid tile dim into
// `subtiles` sub-tiles that share everything else.
//
// Flash attention's program holds a 256-row query block; written as two
// 128-row sub-tiles that share each key and value block, the scores of the
// second sub-tile run on the tensor cores while the first one's softmax runs
// on the other units.  On the H200 (benchmarks/attention_ceiling.py, bf16 B4
// H16 S4096 D128) two 128-row sub-tiles with 64-key blocks, 8 warps and 3
// stages reached 567 TFLOP/s (0.94x SDPA) against 548 for one 256-row block
// and 547 for the best 128-row one.
//
// The rewrite is mechanical: every value whose type has the dim is computed
// once per sub-tile, over a new dim of the sub-tile's size (`subtile_of`,
// `subtile_offset`); values without it (the key and value loads, loop bounds,
// tile.begin of the whole block) are computed once and shared.  It is legal
// when no op turns a value with the dim into one without it (a reduction
// over the dim, a dot contracting it, a reshape, an if yielding it), which
// analysis::subtilable_dim checks.
#include <algorithm>
#include <map>

#include "deuteron/analysis.h"
#include "deuteron/passes.h"
#include "deuteron/target.h"

namespace deuteron::passes {

namespace {

using ir::OpKind;

class Subtiler {
 public:
  Subtiler(ir::DeviceKernel& k, int d, int n, int64_t rows) : k_(k), d_(d), n_(n), rows_(rows) {}

  void run() {
    const ir::Dim parent = k_.dim(d_);
    for (int s = 0; s < n_; ++s) {
      ir::Dim sub = parent;
      sub.id = static_cast<int>(k_.dims.size());
      sub.block_size_index = -1;
      sub.fixed_block_size = rows_;
      sub.subtile_of = d_;
      sub.subtile_offset = s * rows_;
      sub.name = parent.name.empty() ? "" : parent.name + "_" + std::to_string(s);
      sub_.push_back(sub.id);
      k_.dims.push_back(sub);
    }
    rewrite(k_.body);
  }

 private:
  ir::Type sub_type(ir::Type t, int s) const {
    for (int& x : t.dims)
      if (x == d_) x = sub_[s];
    return t;
  }

  std::unique_ptr<ir::Value> new_value(const ir::Value& like, int s) {
    auto v = std::make_unique<ir::Value>(like);
    v->id = k_.next_value_id++;
    v->type = sub_type(like.type, s);
    return v;
  }

  ir::Value* part(ir::Value* v, int s) const {
    auto it = parts_.find(v);
    return it == parts_.end() ? v : it->second.at(s);
  }

  // Operands, sub-tiled values expanded in place (one per sub-tile).
  std::vector<ir::Value*> expanded(const std::vector<ir::Value*>& ops) const {
    std::vector<ir::Value*> out;
    for (ir::Value* v : ops) {
      auto it = parts_.find(v);
      if (it == parts_.end()) out.push_back(v);
      else out.insert(out.end(), it->second.begin(), it->second.end());
    }
    return out;
  }

  void rewrite(ir::Region& r) {
    std::vector<std::unique_ptr<ir::Op>> old = std::move(r.ops);
    r.ops.clear();
    for (auto& op : old) {
      if (op->kind == OpKind::For) {
        rewrite_for(*op);
      } else if (op->kind == OpKind::Yield) {
        op->operands = expanded(op->operands);
      } else if (op->kind == OpKind::If || op->kind == OpKind::While) {
        for (auto& sub : op->regions) rewrite(*sub);
      } else if (ir::touches_dim(*op, d_)) {
        for (int s = 0; s < n_; ++s) r.ops.push_back(copy_for_subtile(*op, s, r));
        dead_ops_.push_back(std::move(op));
        continue;
      }
      r.ops.push_back(std::move(op));
    }
  }

  std::unique_ptr<ir::Op> copy_for_subtile(const ir::Op& op, int s, ir::Region& r) {
    auto n = std::make_unique<ir::Op>();
    n->id = s == 0 ? op.id : k_.next_op_id++;
    n->kind = op.kind;
    n->attrs = op.attrs;
    n->span = op.span;
    n->parent = &r;
    if (n->attrs.dim == d_) n->attrs.dim = sub_[s];
    for (auto& ix : n->attrs.index)
      if (ix.kind == ir::IndexSpec::Kind::TileDim && ix.dim == d_) ix.dim = sub_[s];
    for (ir::Value* v : op.operands) n->operands.push_back(part(v, s));
    for (const auto& res : op.results) {
      auto v = new_value(*res, s);
      v->def = n.get();
      parts_[res.get()].resize(n_);
      parts_[res.get()][s] = v.get();
      n->results.push_back(std::move(v));
    }
    // A combine function (a closed region of scalars) is the same for each sub-tile.
    for (const auto& sub : op.regions) ir::clone_region_into(k_, *sub, n.get());
    return n;
  }

  // A loop keeps its bounds; each loop-carried value with the dim becomes
  // one per sub-tile (initial values, region arguments, results alike).
  void rewrite_for(ir::Op& op) {
    size_t first_iter = op.attrs.dynamic_bounds ? 2 : 0;
    std::vector<ir::Value*> bounds(op.operands.begin(), op.operands.begin() + first_iter);
    std::vector<ir::Value*> inits = expanded({op.operands.begin() + first_iter, op.operands.end()});
    op.operands = bounds;
    op.operands.insert(op.operands.end(), inits.begin(), inits.end());
    ir::Region& body = *op.regions.at(0);
    body.args = split_values(std::move(body.args), nullptr, &body);
    rewrite(body);
    op.results = split_values(std::move(op.results), &op, nullptr);
  }

  std::vector<std::unique_ptr<ir::Value>> split_values(std::vector<std::unique_ptr<ir::Value>> values, ir::Op* def,
                                                       ir::Region* owner) {
    std::vector<std::unique_ptr<ir::Value>> out;
    for (auto& v : values) {
      if (!ir::has_dim(v->type, d_)) {
        out.push_back(std::move(v));
      } else {
        auto& p = parts_[v.get()];
        p.resize(n_);
        for (int s = 0; s < n_; ++s) {
          auto nv = new_value(*v, s);
          nv->def = def;
          nv->owner = owner;
          p[s] = nv.get();
          out.push_back(std::move(nv));
        }
        dead_values_.push_back(std::move(v));
      }
    }
    for (size_t i = 0; i < out.size(); ++i) out[i]->index = static_cast<int>(i);
    return out;
  }

  ir::DeviceKernel& k_;
  int d_, n_;
  int64_t rows_;  // of each sub-tile
  std::vector<int> sub_;
  std::map<const ir::Value*, std::vector<ir::Value*>> parts_;
  // Replaced ops and values stay alive until the rewrite ends: later ops
  // still point at them until they are rewritten themselves.
  std::vector<std::unique_ptr<ir::Op>> dead_ops_;
  std::vector<std::unique_ptr<ir::Value>> dead_values_;
};

}  // namespace

bool split_grid_subtiles(ir::DeviceKernel& k, int subtiles, const std::vector<int64_t>& block_sizes) {
  if (subtiles <= 1) return false;
  std::optional<int> d = analysis::subtilable_dim(k);
  if (!d) return false;
  const ir::Dim& dim = k.dim(*d);
  int64_t block = dim.fixed_block_size ? *dim.fixed_block_size : block_sizes.at(dim.block_size_index);
  if (block % subtiles != 0 || block / subtiles < target::kMinDotDim) return false;
  // The parent keeps its block: its offset, tile.begin and tile.end stay
  // the whole block's, and the grid is unchanged.
  Subtiler(k, *d, subtiles, block / subtiles).run();
  return true;
}

}  // namespace deuteron::passes
