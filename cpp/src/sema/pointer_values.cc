// uint64 values in device code are device pointers: what a kernel may do
// with them.
//
// deuteron takes uint64 tensors for hl.stacktensor_like's dev_ptrs, the one
// use Helion has for them.  PyTorch refuses to promote uint64 with any other
// integer type, and Triton's and PyTorch's unsigned 64-bit arithmetic differ
// in corners (shifts, division, comparisons with signed operands) that no
// test would catch, so a uint64 value may only be loaded, stored into a
// uint64 tensor, viewed (broadcast, None axes, permutes, reshapes), carried
// through loops and branches, cast to another dtype (and back), and used as a
// StackTensor's pointers.  Anything else is a compile error at the op's line;
// arithmetic on addresses is written on their int64 cast.
#include "analyzer.h"

namespace deuteron::sema {

using ir::OpKind;

namespace {

bool is_pointer(const ir::Value* v) { return v->type.dtype == DType::UInt64; }

// What the op does with uint64 values, in words, when the rule above forbids it.
std::string forbidden_use(const ir::Op& op) {
  switch (op.kind) {
    case OpKind::Load:
    case OpKind::Store:  // a Stack operand, or a uint64 value into a uint64 tensor (cast before)
    case OpKind::ExpandDims:
    case OpKind::Squeeze:
    case OpKind::BroadcastTo:
    case OpKind::Permute:
    case OpKind::Reshape:
    case OpKind::For:
    case OpKind::If:
    case OpKind::Yield:
    case OpKind::Cast: return "";
    case OpKind::Unary: return std::string("the unary op '") + ir::name(op.attrs.unary) + "'";
    case OpKind::Binary: return std::string("the operator '") + ir::name(op.attrs.binary) + "'";
    case OpKind::AtomicRMW: return "an atomic";
    default: return std::string("'") + ir::name(op.kind) + "'";
  }
}

}  // namespace

void Analyzer::check_pointer_values(const ir::DeviceKernel& k) const {
  ir::walk(k.body, [&](const ir::Op& op) {
    // Judged where a pointer is used: ops that make one from nothing (a
    // constant, hl.full) only hand it on to such a use.
    bool uses = false;
    for (const ir::Value* v : op.operands) uses |= is_pointer(v);
    if (!uses) return;
    std::string what = forbidden_use(op);
    if (what.empty()) return;
    error(op.span, what + " on uint64 values is not supported: uint64 tensors hold device pointers "
                   "(hl.stacktensor_like's dev_ptrs), which kernels load, store, view and pass on",
          {"compute on an integer copy: ptrs.to(torch.int64)"});
  });
}

}  // namespace deuteron::sema
