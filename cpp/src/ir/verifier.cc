// Structural checks of the tile IR, run between stages (and always in tests).
#include <set>

#include "deuteron/ir.h"

namespace deuteron::ir {

namespace {

class Verifier {
 public:
  explicit Verifier(const DeviceKernel& k) : k_(k) {}

  void run() {
    for (size_t i = 0; i < k_.dims.size(); ++i)
      check(k_.dims[i].id == static_cast<int>(i), nullptr, "dim ids must equal their position");
    for (int d : k_.grid_dims) check_dim(d, nullptr);
    std::set<int> nested;
    for (const auto& nest : k_.nests) {
      check(nest.size() >= 2, nullptr, "a nest has two or more dims");
      for (int d : nest) {
        check_dim(d, nullptr);
        check(k_.dims[d].kind != DimKind::Full, nullptr, "nest dim d" + std::to_string(d) + " must be a loop's dim");
        check(nested.insert(d).second, nullptr, "dim d" + std::to_string(d) + " is in two nests");
      }
    }
    for (const auto& d : k_.dims) {
      if (!d.merged()) continue;
      check(d.kind == DimKind::Full, nullptr, "merged dim d" + std::to_string(d.id) + " must be a full dim");
      check(d.factors.size() >= 2, nullptr, "merged dim d" + std::to_string(d.id) + " needs two or more factors");
      for (int f : d.factors) {
        check(f >= 0 && f < d.id, nullptr, "merged dim d" + std::to_string(d.id) + ": factor d" + std::to_string(f) +
                                               " must be declared before it");
        check(!k_.dims[f].merged() && k_.dims[f].kind != DimKind::Grid, nullptr,
              "merged dim d" + std::to_string(d.id) + ": factor d" + std::to_string(f) +
                  " must be a tile or full dim that is not merged itself");
      }
    }
    std::vector<std::set<const Value*>> scopes(1);
    region(k_.body, scopes, /*terminated=*/false);
  }

 private:
  // Names the op as the printed IR shows it (`%5 = binary`, `store`):
  // op ids other than loops' are not printed.
  void fail(const Op* op, const std::string& msg) {
    std::string where;
    if (op) {
      where = " in `";
      for (size_t i = 0; i < op->results.size(); ++i)
        where += (i ? ", %" : "%") + std::to_string(op->results[i]->id);
      where += (op->results.empty() ? "" : " = ") + std::string(name(op->kind));
      if (op->kind == OpKind::For) where += " #" + std::to_string(op->id);
      where += "`";
      if (op->span.valid()) where += " (line " + std::to_string(op->span.line) + ")";
    }
    throw VerifyError("IR verification failed" + where + ": " + msg, op, msg);
  }
  void check(bool cond, const Op* op, const std::string& msg) {
    if (!cond) fail(op, msg);
  }
  void check_dim(int d, const Op* op) {
    check(d >= 0 && d < static_cast<int>(k_.dims.size()), op, "unknown dim d" + std::to_string(d));
  }
  void check_type(const Type& t, const Op* op) {
    for (int d : t.dims)
      if (d != kBroadcast) {
        check_dim(d, op);
        check(k_.dims[d].kind != DimKind::Grid, op, "a grid dim cannot be an axis");
      }
  }

  static bool visible(const std::vector<std::set<const Value*>>& scopes, const Value* v) {
    for (const auto& s : scopes)
      if (s.count(v)) return true;
    return false;
  }

  // Two whole dims that sema lets meet (sema/ir_gen.h: whole_dims_meet): of
  // one extent (w[:, :] of a square w), or n and next_power_of_2(n) lanes.
  bool whole_dims_meet(int a, int b) const {
    if (a == b) return true;
    if (a == kBroadcast || b == kBroadcast) return false;
    const Dim& x = k_.dims.at(a);
    const Dim& y = k_.dims.at(b);
    auto whole = [](const Dim& d) {
      return d.kind == DimKind::Full && !d.merged() && d.begin.is_constant() && d.begin.constant() == 0;
    };
    if (!whole(x) || !whole(y)) return false;
    if (x.end.same_as(y.end)) return true;
    auto ex = x.end.as_constant(), ey = y.end.as_constant();
    if (!ex || !ey) return false;
    int64_t lo = std::min(*ex, *ey), hi = std::max(*ex, *ey);
    return lo > 1 && hi == next_power_of_2(lo);
  }
  bool same_shape(const std::vector<int>& a, const std::vector<int>& b) const {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i] && !whole_dims_meet(a[i], b[i])) return false;
    return true;
  }

  // Broadcasting as in sema: right-aligned, size-1 axes stretch.
  std::vector<int> broadcast(const std::vector<int>& a, const std::vector<int>& b, const Op* op) {
    size_t n = std::max(a.size(), b.size());
    std::vector<int> out(n, kBroadcast);
    for (size_t i = 0; i < n; ++i) {
      int da = i < n - a.size() ? kBroadcast : a[i - (n - a.size())];
      int db = i < n - b.size() ? kBroadcast : b[i - (n - b.size())];
      if (da != kBroadcast && db != kBroadcast) check(whole_dims_meet(da, db), op, "operand shapes do not broadcast");
      out[i] = da != kBroadcast ? da : db;
    }
    return out;
  }

  void op_types(const Op& op) {
    auto res = [&](int i) -> const Type& { return op.results.at(i)->type; };
    auto opnd = [&](int i) -> const Type& { return op.operands.at(i)->type; };
    switch (op.kind) {
      case OpKind::Binary: {
        check(op.operands.size() == 2 && op.results.size() == 1, &op, "binary takes 2 operands, 1 result");
        auto dims = broadcast(opnd(0).dims, opnd(1).dims, &op);
        check(same_shape(res(0).dims, dims), &op, "binary result shape is not the broadcast of its operands");
        if (is_comparison(op.attrs.binary) || op.attrs.binary == BinaryFn::LogicalAnd ||
            op.attrs.binary == BinaryFn::LogicalOr)
          check(res(0).dtype == DType::Bool, &op, "comparison must produce bool");
        break;
      }
      case OpKind::Where: {
        check(op.operands.size() == 3, &op, "where takes 3 operands");
        auto dims = broadcast(broadcast(opnd(0).dims, opnd(1).dims, &op), opnd(2).dims, &op);
        check(same_shape(res(0).dims, dims), &op, "where result shape is not the broadcast of its operands");
        break;
      }
      case OpKind::Unary:
      case OpKind::Cast:
        check(op.operands.size() == 1, &op, "takes 1 operand");
        check(res(0).dims == opnd(0).dims, &op, "shape must be preserved");
        break;
      case OpKind::Reduce: {
        check(op.operands.size() == 1, &op, "reduce takes 1 operand");
        const auto& in = opnd(0).dims;
        check(op.attrs.axis >= 0 && op.attrs.axis < static_cast<int>(in.size()), &op, "reduce axis out of range");
        auto expect = in;
        if (op.attrs.keepdim)
          expect[op.attrs.axis] = kBroadcast;
        else
          expect.erase(expect.begin() + op.attrs.axis);
        check(res(0).dims == expect, &op, "reduce result shape is wrong");
        break;
      }
      case OpKind::Sort: {
        check(op.operands.size() == 1 && op.results.size() == 2, &op, "takes one operand and gives values, indices");
        const auto& in = opnd(0).dims;
        check(!in.empty() && op.attrs.axis == static_cast<int>(in.size()) - 1, &op, "sorts along the last axis");
        check(op.attrs.sort_k >= 0, &op, "k must not be negative");
        auto expect = in;
        if (op.attrs.sort_k > 0 && !expect.empty()) expect.back() = res(0).dims.empty() ? kBroadcast : res(0).dims.back();
        check(res(0).dims == expect && res(0).dtype == opnd(0).dtype, &op, "values keep the operand's type");
        check(res(1).dims == expect && res(1).dtype == DType::Int64, &op, "indices are int64 of the values' shape");
        break;
      }
      case OpKind::Gather: {
        const auto& src = opnd(0).dims;
        const auto& idx = opnd(1).dims;
        check(src.size() == idx.size() && op.attrs.axis >= 0 && op.attrs.axis < static_cast<int>(src.size()), &op,
              "gathers along an axis of src, with an index of src's rank");
        for (size_t i = 0; i < src.size() && i < idx.size(); ++i)
          if (static_cast<int>(i) != op.attrs.axis) check(src[i] == idx[i], &op, "the index's other axes are src's");
        check(opnd(1).dtype == DType::Int64, &op, "the index is int64");
        check(res(0).dims == idx && res(0).dtype == opnd(0).dtype, &op, "the result has the index's dims, src's dtype");
        break;
      }
      case OpKind::Scan:
      case OpKind::CombineReduce: {
        size_t n = op.operands.size();
        check(n >= 1 && op.results.size() == n, &op, "takes n >= 1 operands and gives n results");
        const auto& in = opnd(0).dims;
        check(op.attrs.axis >= 0 && op.attrs.axis < static_cast<int>(in.size()), &op, "axis out of range");
        for (size_t i = 0; i < n; ++i) {
          check(opnd(i).dims == in, &op, "operands must have one shape");
          auto expect = in;
          if (op.kind == OpKind::CombineReduce) {
            if (op.attrs.keepdim)
              expect[op.attrs.axis] = kBroadcast;
            else
              expect.erase(expect.begin() + op.attrs.axis);
          }
          check(res(i).dims == expect && res(i).dtype == opnd(i).dtype, &op,
                "result " + std::to_string(i) + " has type " + type_str(res(i)) + ", expected the operand's dtype over " +
                    type_str(Type{opnd(i).dtype, expect}));
        }
        if (op.kind == OpKind::Scan && op.regions.empty()) {
          check(n == 1 && (op.attrs.reduce == ReduceFn::Sum || op.attrs.reduce == ReduceFn::Prod), &op,
                "a scan without a combine region is a sum or a product of one operand");
          break;
        }
        check(op.regions.size() == 1, &op, "needs one combine region");
        check(op.attrs.other.empty() || op.attrs.other.size() == n, &op, "one `other` value per operand");
        const Region& r = *op.regions[0];
        check(r.args.size() == 2 * n, &op, "the combine region takes 2n scalar arguments");
        for (size_t i = 0; i < r.args.size() && i < 2 * n; ++i)
          check(r.args[i]->type == Type{opnd(i % n).dtype, {}}, &op,
                "combine argument " + std::to_string(i) + " must be a scalar of its operand's dtype");
        break;
      }
      case OpKind::ExpandDims: {
        auto expect = opnd(0).dims;
        check(op.attrs.axis >= 0 && op.attrs.axis <= static_cast<int>(expect.size()), &op, "axis out of range");
        expect.insert(expect.begin() + op.attrs.axis, kBroadcast);
        check(res(0).dims == expect, &op, "expand_dims result shape is wrong");
        break;
      }
      case OpKind::BlockLanes: {
        const auto& in = opnd(0).dims;
        const auto& out = res(0).dims;
        int axis = op.attrs.axis;
        check(axis >= 0 && axis < static_cast<int>(in.size()) && in.size() == out.size(), &op, "axis out of range");
        check(in[axis] != kBroadcast && out[axis] != kBroadcast, &op, "block_lanes axis must be a dim");
        check_dim(in[axis], &op);
        check_dim(out[axis], &op);
        check(holds_lanes_of(k_, k_.dim(out[axis]), k_.dim(in[axis])) ||
                  holds_lanes_of(k_, k_.dim(in[axis]), k_.dim(out[axis])),
              &op, "block_lanes must go between a tile and the whole dim of its block's lanes");
        for (size_t i = 0; i < in.size(); ++i)
          if (static_cast<int>(i) != axis) check(in[i] == out[i], &op, "block_lanes changes only its axis");
        check(opnd(0).dtype == res(0).dtype, &op, "block_lanes keeps the dtype");
        break;
      }
      case OpKind::Squeeze: {
        auto expect = opnd(0).dims;
        check(op.attrs.axis >= 0 && op.attrs.axis < static_cast<int>(expect.size()) &&
                  expect[op.attrs.axis] == kBroadcast,
              &op, "squeeze axis must be a size-1 axis");
        expect.erase(expect.begin() + op.attrs.axis);
        check(res(0).dims == expect, &op, "squeeze result shape is wrong");
        break;
      }
      case OpKind::Permute: {
        const auto& in = opnd(0).dims;
        check(op.attrs.perm.size() == in.size(), &op, "permutation rank mismatch");
        std::vector<bool> used(in.size(), false);
        for (int p : op.attrs.perm) {
          check(p >= 0 && p < static_cast<int>(in.size()) && !used[p], &op,
                "permutation must list each axis of the operand once");
          used[p] = true;
        }
        std::vector<int> expect;
        for (int p : op.attrs.perm) expect.push_back(in[p]);
        check(res(0).dims == expect, &op, "permute result shape is wrong");
        break;
      }
      case OpKind::Dot: {
        const auto& a = opnd(0).dims;
        const auto& b = opnd(1).dims;
        check(a.size() == b.size() && (a.size() == 2 || a.size() == 3), &op, "dot operands must be 2-D or 3-D");
        check(whole_dims_meet(a.back(), b[b.size() - 2]), &op, "dot contraction dims differ");
        break;
      }
      case OpKind::TileIndex:
      case OpKind::TileMask:
      case OpKind::Arange:
        check_dim(op.attrs.dim, &op);
        check(res(0).dims == std::vector<int>{op.attrs.dim}, &op, "index must be 1-D over its dim");
        break;
      case OpKind::TileBegin:
      case OpKind::TileEnd:
      case OpKind::TileBlockSize:
      case OpKind::TileId:
      case OpKind::TileCount:
        check_dim(op.attrs.dim, &op);
        check(res(0).is_scalar(), &op, "tile attribute must be a scalar");
        break;
      case OpKind::RngSeed:
        check(op.attrs.tensor >= 0 && op.attrs.tensor < static_cast<int>(k_.tensors.size()), &op,
              "unknown seed buffer");
        check(op.attrs.seed_slot >= 0, &op, "rng_seed needs a slot");
        check(op.results.size() == 1 && res(0).is_scalar() && res(0).dtype == DType::Int64, &op,
              "rng_seed yields one i64 scalar");
        break;
      case OpKind::Random: {
        bool randint = op.attrs.random == RandomFn::RandInt;
        check(op.operands.size() == (randint ? 4u : 2u), &op,
              randint ? "random randint takes seed, offsets, low, high" : "random takes seed, offsets");
        check(opnd(0).is_scalar() && is_integral(opnd(0).dtype), &op, "the seed must be an integer scalar");
        check(is_integral(opnd(1).dtype), &op, "offsets must be integers");
        if (randint)
          check(opnd(2).is_scalar() && opnd(3).is_scalar() && is_integral(opnd(2).dtype) && is_integral(opnd(3).dtype),
                &op, "randint bounds must be integer scalars");
        check(op.results.size() == (op.attrs.random == RandomFn::Rand4x ? 4u : 1u), &op,
              "rand4x has four results, the others one");
        for (size_t i = 0; i < op.results.size(); ++i) {
          check(res(static_cast<int>(i)).dims == opnd(1).dims, &op, "random results have the offsets' shape");
          check(res(static_cast<int>(i)).dtype == (randint ? DType::Int32 : DType::Float32), &op,
                "random results are f32 (i32 for randint)");
        }
        break;
      }
      case OpKind::Load:
      case OpKind::Store:
      case OpKind::AtomicRMW: {
        check(op.attrs.tensor >= 0 && op.attrs.tensor < static_cast<int>(k_.tensors.size()), &op,
              "unknown tensor");
        int consumed = 0;
        for (size_t i = 0; i < op.attrs.index.size(); ++i) {
          const IndexSpec& ix = op.attrs.index[i];
          if (ix.kind != IndexSpec::Kind::NewAxis && ix.kind != IndexSpec::Kind::Stack) ++consumed;
          if (ix.kind == IndexSpec::Kind::TileDim) check_dim(ix.dim, &op);
          if (ix.kind == IndexSpec::Kind::Scalar || ix.kind == IndexSpec::Kind::Tensor ||
              ix.kind == IndexSpec::Kind::Stack)
            check(ix.operand >= 0 && ix.operand < static_cast<int>(op.operands.size()), &op, "bad index operand");
          if (ix.kind == IndexSpec::Kind::Stack) {
            // A StackTensor's pointers: first, of loads and stores only, uint64.
            check(i == 0 && op.kind != OpKind::AtomicRMW, &op,
                  "a stack index comes first, in a load or a store");
            check(op.operands.at(ix.operand)->type.dtype == DType::UInt64, &op, "stack pointers must be u64");
          }
        }
        check(consumed == static_cast<int>(k_.tensors[op.attrs.tensor].sizes.size()), &op,
              "index count does not match the tensor's rank");
        if (op.attrs.broadcast_index) {
          // The index tensors have one rank and agree axis by axis.
          std::vector<int> axes;
          bool any = false;
          for (const auto& ix : op.attrs.index) {
            check(ix.kind == IndexSpec::Kind::Tensor || ix.kind == IndexSpec::Kind::Scalar, &op,
                  "a broadcast index holds only index tensors and scalars");
            if (ix.kind != IndexSpec::Kind::Tensor || ix.operand < 0 || ix.operand >= static_cast<int>(op.operands.size()))
              continue;
            const auto& vd = op.operands[ix.operand]->type.dims;
            if (!any) axes.assign(vd.size(), kBroadcast);
            any = true;
            check(vd.size() == axes.size(), &op, "the index tensors of a broadcast index differ in rank");
            for (size_t i = 0; i < vd.size() && i < axes.size(); ++i) {
              check(vd[i] == kBroadcast || axes[i] == kBroadcast || vd[i] == axes[i], &op,
                    "the index tensors of a broadcast index differ on axis " + std::to_string(i));
              if (axes[i] == kBroadcast) axes[i] = vd[i];
            }
          }
          check(any, &op, "a broadcast index needs an index tensor");
        }
        if (op.kind != OpKind::Store && !op.results.empty())
          check(op.result()->type.dims == access_dims(op), &op, "the result's axes are not the index's");
        if (op.kind != OpKind::Load)
          check(op.attrs.value_operand >= 0 && op.attrs.value_operand < static_cast<int>(op.operands.size()), &op,
                "store needs a value operand");
        break;
      }
      default: break;
    }
    for (const auto& r : op.results) check_type(r->type, &op);
  }

  void region(const Region& r, std::vector<std::set<const Value*>>& scopes, bool must_terminate) {
    scopes.emplace_back();
    for (const auto& a : r.args) scopes.back().insert(a.get());
    for (size_t i = 0; i < r.ops.size(); ++i) {
      const Op& op = *r.ops[i];
      check(op.parent == &r, &op, "op's parent region pointer is stale");
      for (const Value* v : op.operands) {
        check(v != nullptr, &op, "null operand");
        check(visible(scopes, v), &op, "operand %" + std::to_string(v->id) + " is not defined before its use");
      }
      if (op.kind == OpKind::Yield) check(i + 1 == r.ops.size(), &op, "yield must be the last op of its region");
      op_types(op);
      if (has_combine_region(op)) {
        combine_region(op);
        for (const auto& res : op.results) scopes.back().insert(res.get());
        continue;
      }
      for (const auto& sub : op.regions) {
        check(sub->parent == &op, &op, "region parent pointer is stale");
        region(*sub, scopes, true);
        const Op* term = sub->ops.empty() ? nullptr : sub->ops.back().get();
        check(term && term->kind == OpKind::Yield, &op, "region must end in yield");
        check(term->operands.size() == op.results.size(), &op, "yield arity differs from the op's results");
        for (size_t j = 0; j < op.results.size(); ++j)
          check(term->operands[j]->type == op.results[j]->type, &op,
                "yielded value " + std::to_string(j) + " has type " + type_str(term->operands[j]->type) +
                    " but the op's result is " + type_str(op.results[j]->type));
      }
      if (op.kind == OpKind::For) {
        check_dim(op.attrs.dim, &op);
        check(op.regions.size() == 1, &op, "for has one region");
        size_t first_iter = op.attrs.dynamic_bounds ? 2 : 0;
        check(op.operands.size() - first_iter == op.results.size(), &op, "iter values and results differ in number");
        check(op.regions[0]->args.size() == op.results.size(), &op, "region args and results differ in number");
        for (size_t j = 0; j < op.results.size(); ++j) {
          check(op.operands[first_iter + j]->type == op.results[j]->type, &op, "iter value type changes");
          check(op.regions[0]->args[j]->type == op.results[j]->type, &op, "region arg type differs");
        }
      }
      if (op.kind == OpKind::If) check(op.regions.size() == 2, &op, "if has two regions");
      if (op.kind == OpKind::While) {
        check(op.regions.size() == 1, &op, "while has one region");
        check(!op.results.empty() && op.operands.size() == op.results.size(), &op,
              "a while's operands (its condition, then the carried values) and results differ in number");
        check(op.regions[0]->args.size() == op.results.size(), &op, "region args and results differ in number");
        for (size_t j = 0; j < op.results.size(); ++j) {
          check(op.operands[j]->type == op.results[j]->type, &op, "carried value type changes");
          check(op.regions[0]->args[j]->type == op.results[j]->type, &op, "region arg type differs");
        }
        check(op.results[0]->type == Type{DType::Bool, {}}, &op, "a while's condition must be an i1 scalar");
      }
      for (const auto& res : op.results) scopes.back().insert(res.get());
    }
    (void)must_terminate;
    scopes.pop_back();
  }

  // A combine function: scalar elementwise ops over its own arguments only
  // (back ends emit it as a separate function), yielding one scalar per result.
  void combine_region(const Op& op) {
    const Region& r = *op.regions[0];
    check(r.parent == &op, &op, "region parent pointer is stale");
    std::vector<std::set<const Value*>> own(1);
    region(r, own, true);
    check(!r.ops.empty() && r.ops.back()->kind == OpKind::Yield, &op, "combine region must end in yield");
    const Op& y = *r.ops.back();
    check(y.operands.size() == op.results.size(), &op, "the combine region yields one value per result");
    for (size_t j = 0; j < y.operands.size(); ++j)
      check(y.operands[j]->type == Type{op.results[j]->type.dtype, {}}, &op,
            "combine value " + std::to_string(j) + " must be a scalar of the result's dtype");
    walk(r, [&](const Op& inner) {
      switch (inner.kind) {
        case OpKind::Constant:
        case OpKind::Unary:
        case OpKind::Binary:
        case OpKind::Where:
        case OpKind::Cast:
        case OpKind::Yield: break;
        case OpKind::Full: check(inner.result()->type.is_scalar(), &op, "combine values must be scalars"); break;
        default: fail(&op, std::string("a combine function may not contain '") + name(inner.kind) + "'");
      }
    });
  }

  const DeviceKernel& k_;
};

}  // namespace

void verify(const DeviceKernel& k) { Verifier(k).run(); }

}  // namespace deuteron::ir
