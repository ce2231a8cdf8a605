// Float32 intermediates for 16-bit and 8-bit floats (the `precision="fast"`
// setting; docs/language.md, "Precision").
//
// Sema types the IR as PyTorch eager computes: an op on bf16 values widens
// them to float32 (opmath), computes, and rounds its result to bf16, so a
// chain of ops rounds after every op (`cast opmath` ops mark these
// conversions).  torch.compile's kernels keep such chains in float32 and round
// only where the program can see the type; this pass does the same:
//
//   * a `cast opmath` from float32 to a low-precision float disappears: its
//     users get the float32 value;
//   * a `cast opmath` whose operand already has its result type disappears
//     (the widening at the start of the next op);
//   * ops that only move or select values (where, broadcasts, reshapes,
//     permutes, neg/abs/relu/sign, max/min reductions) take the type of what
//     they are given, so the float32 flows through them;
//   * every other use sees the type it was written with: a store (the
//     tensor's dtype), a cast the program wrote (`x.float()` of a bf16 value
//     sees the bf16 value), a dot operand, a value a loop carries or an `if`
//     yields.  There the pass rounds, with a plain cast.
//
// So the value stored is the float32 result of the whole chain rounded once,
// which is closer to the exact result than eager's rounding after each op
// (and saves two conversions per op).  Reductions already accumulate in
// float32 (sema), and nothing here changes a value a program can observe
// except by rounding it later.
#include <map>
#include <memory>

#include "deuteron/passes.h"

namespace deuteron::passes {

namespace {

using ir::Op;
using ir::OpKind;
using ir::Value;

class Widener {
 public:
  explicit Widener(ir::DeviceKernel& k) : k_(k) {
    // The type every value was written with, before any is retyped.
    ir::walk(k.body, [&](const Op& op) {
      for (const auto& r : op.results) typed_[r.get()] = r->type.dtype;
      for (const auto& region : op.regions)
        for (const auto& a : region->args) typed_[a.get()] = a->type.dtype;
    });
  }

  void rewrite(ir::Region& r) {
    std::vector<std::unique_ptr<Op>> out;
    for (auto& owned : r.ops) {
      Op& op = *owned;
      // The types the op's operands were written with, then the values that
      // now stand for them.
      std::vector<DType> want;
      for (Value*& v : op.operands) {
        want.push_back(typed_.at(v));
        v = resolve(v);
      }
      if (op.kind == OpKind::Cast && op.attrs.opmath && !op.attrs.bitcast) {
        DType from = op.operands[0]->type.dtype, to = op.result()->type.dtype;
        if (from == to || (from == DType::Float32 && is_low_precision_float(to))) {
          // The user's name (`exp = torch.exp(..)` names the rounded value)
          // goes to the value that now stands for it.
          if (op.operands[0]->name_hint.empty()) op.operands[0]->name_hint = op.result()->name_hint;
          replaced_[op.result()] = op.operands[0];
          continue;  // dropped: its users take the operand
        }
        // Another conversion into an op's compute type (float32 to float64):
        // it converts the float32 value as it is.
        out.push_back(std::move(owned));
        continue;
      }
      if (op.kind == OpKind::Where) {
        // Both branches in one type: widen a low-precision one (exactly).
        Value*& a = op.operands[1];
        Value*& b = op.operands[2];
        if (a->type.dtype != b->type.dtype) {
          if (a->type.dtype == DType::Float32) b = widen(b, op, r, out);
          else a = widen(a, op, r, out);
        }
        op.result()->type.dtype = a->type.dtype;
      } else if (passes_type_through(op)) {
        op.result()->type.dtype = op.operands[0]->type.dtype;
      } else {
        for (size_t i = 0; i < op.operands.size(); ++i)
          if (op.operands[i]->type.dtype != want[i]) op.operands[i] = round(op.operands[i], want[i], op, r, out);
      }
      for (auto& region : op.regions) rewrite(*region);
      out.push_back(std::move(owned));
    }
    r.ops = std::move(out);
  }

 private:
  Value* resolve(Value* v) const {
    for (auto it = replaced_.find(v); it != replaced_.end(); it = replaced_.find(v)) v = it->second;
    return v;
  }

  // Ops whose result is one of their operand's values (moved, selected or
  // sign-changed), so it is exact in whatever type the operand has.
  bool passes_type_through(const Op& op) const {
    switch (op.kind) {
      case OpKind::ExpandDims:
      case OpKind::Squeeze:
      case OpKind::Reshape:
      case OpKind::BroadcastTo:
      case OpKind::BlockLanes:
      case OpKind::Gather:
      case OpKind::Permute: return true;
      case OpKind::Unary:
        switch (op.attrs.unary) {
          case ir::UnaryFn::Neg:
          case ir::UnaryFn::Abs:
          case ir::UnaryFn::Relu:
          case ir::UnaryFn::Sign: return true;
          default: return false;
        }
      case OpKind::Reduce:
        return op.attrs.reduce == ir::ReduceFn::Max || op.attrs.reduce == ir::ReduceFn::Min;
      default: return false;
    }
  }

  Value* convert(Value* v, DType to, bool opmath, const Op& user, ir::Region& r,
                 std::vector<std::unique_ptr<Op>>& out) {
    auto op = std::make_unique<Op>();
    op->id = k_.next_op_id++;
    op->kind = OpKind::Cast;
    op->operands = {v};
    op->attrs.opmath = opmath;
    op->span = user.span;
    op->parent = &r;
    auto res = std::make_unique<Value>();
    res->id = k_.next_value_id++;
    res->type = ir::Type{to, v->type.dims};
    res->def = op.get();
    res->name_hint = v->name_hint;
    Value* raw = res.get();
    typed_[raw] = to;
    op->results.push_back(std::move(res));
    out.push_back(std::move(op));
    return raw;
  }

  // The rounding the program can see (a plain cast: it is the program's).
  Value* round(Value* v, DType to, const Op& user, ir::Region& r, std::vector<std::unique_ptr<Op>>& out) {
    return convert(v, to, false, user, r, out);
  }
  // An exact widening to float32, part of the op's computation.
  Value* widen(Value* v, const Op& user, ir::Region& r, std::vector<std::unique_ptr<Op>>& out) {
    return convert(v, DType::Float32, true, user, r, out);
  }

  ir::DeviceKernel& k_;
  std::map<const Value*, DType> typed_;
  std::map<Value*, Value*> replaced_;
};

}  // namespace

void keep_fp32_intermediates(ir::DeviceKernel& kernel) { Widener(kernel).rewrite(kernel.body); }

}  // namespace deuteron::passes
