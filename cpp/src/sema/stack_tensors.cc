// hl.stacktensor_like(tensor_like, dev_ptrs) (also spelled hl.StackTensor):
// a stack of tensors shaped like `tensor_like`, each at an address held by a
// lane of `dev_ptrs`, a uint64 device value loaded in the loop
// (`dev_ptrs[:]`, `dev_ptrs[tile]`).  Indexing it reads or writes all of them
// at once: the result's leading axes are the pointers', the rest what the
// index gives on one tensor (`stack[tile]` is [*dev_ptrs.shape, tile]).
//
// The value itself makes no IR: loads and stores through it (device_exprs.cc)
// are ordinary Load and Store ops on the example's tensor parameter with a
// leading Stack index spec holding the pointers (ir.h), which the back ends
// turn into addresses: the pointer plus the offsets the example's strides give.
#include "analyzer.h"

namespace deuteron::sema {

using K = SValue::Kind;

SValue Analyzer::stack_tensor(const CallArgs& call, const std::string& what) {
  BoundArgs b = bind(call, {"tensor_like", "dev_ptrs"});
  // Helion's checks, in its order and with its error classes.
  if (!in_device())
    error(call.span, ErrorKind::StackTensorcOnHost,
          "StackTensor must be created inside the `hl.tile` or `hl.grid` loop (" + what + " in host code)",
          {"call " + what + "(example, dev_ptrs[...]) inside the loop, after loading the pointers there"});
  const SValue& like = *b.get("tensor_like");
  const SValue& ptrs = *b.get("dev_ptrs");
  if (ptrs.kind == K::Tensor)
    error(b.span_of("dev_ptrs"), ErrorKind::StackTensorDevPtrOnHost,
          "StackTensor must be created from a dev_ptr tensor defined on device, got " + describe(ptrs),
          {"load the pointers in the loop first: " + what + "(example, " + ptrs.tensor->expr + "[:])"});
  if (like.kind == K::IR)
    error(b.span_of("tensor_like"), ErrorKind::StackTensorExampleOnDevice,
          what + " must be called with an example host tensor, got a value computed in the tile loop",
          {"pass a tensor argument (or one host code made) shaped like each tensor of the stack"});
  if (like.kind != K::Tensor)
    error(b.span_of("tensor_like"), ErrorKind::InvalidAPIUsage,
          what + "'s tensor_like must be a host tensor, got " + describe(like));
  if (ptrs.kind != K::IR)
    error(b.span_of("dev_ptrs"), ErrorKind::InvalidAPIUsage,
          what + "'s dev_ptrs must be a tensor of device pointers loaded in the loop, got " + describe(ptrs));
  if (ptrs.value->type.dtype != DType::UInt64)
    error(b.span_of("dev_ptrs"), ErrorKind::StackTensorDevPtrDtype,
          "StackTensor must be created from a dev_ptr tensor of dtype torch.uint64, got torch." +
              std::string(torch_name(ptrs.value->type.dtype)),
          {"build the pointers as torch.as_tensor([t.data_ptr() for t in tensors], dtype=torch.uint64, "
           "device=...)"});
  SValue v;
  v.kind = K::Stack;
  v.tensor = like.tensor;
  v.value = ptrs.value;
  v.span = call.span;
  return v;
}

SValue Analyzer::stack_attribute(const SValue& stack, const std::string& attr, SourceSpan span) {
  const HostTensor& like = *stack.tensor;
  if (attr == "dtype") return SValue::dtype_value(like.dtype);
  if (attr == "tensor_like") {
    SValue t;
    t.kind = K::Tensor;
    t.tensor = stack.tensor;
    return t;
  }
  if (attr == "dev_ptrs") return SValue::ir(stack.value, PromotionClass::Tensor);
  if (attr == "device") {
    SValue d;
    d.kind = K::Device;
    d.s = like.expr + ".device";
    return d;
  }
  if (attr == "shape" || attr == "ndim") {
    // dev_ptrs.shape + tensor_like.shape
    std::vector<SValue> dims;
    for (int d : stack.value->type.dims) {
      if (d == ir::kBroadcast) dims.push_back(SValue::integer(1));
      else if (kernel_->dim(d).kind == ir::DimKind::Full) dims.push_back(SValue::integer(kernel_->dim(d).extent()));
      else dims.push_back(SValue::dim_size(d));
    }
    for (const auto& s : like.sizes) dims.push_back(SValue::integer(s));
    if (attr == "ndim") return SValue::integer(static_cast<int64_t>(dims.size()));
    return SValue::tuple(dims);
  }
  error(span, "a StackTensor has no attribute '" + attr + "' inside kernels",
        {"index it (stack[tile]) or use hl.load / hl.store on it; its attributes are .dtype, .device, .shape, "
         ".ndim, .tensor_like and .dev_ptrs"});
}

}  // namespace deuteron::sema
