// Element types and PyTorch's type promotion rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace deuteron {

enum class DType {
  Bool,
  UInt8,
  Int8,
  Int16,
  Int32,
  Int64,
  Float8E4M3,
  Float8E5M2,
  Float16,
  BFloat16,
  Float32,
  Float64,
  // Device pointers (hl.stacktensor_like's dev_ptrs): loaded, stored and
  // passed on, never computed with (sema/pointer_values.cc).
  UInt64,
};

// Ordered as PyTorch orders type categories for promotion.
enum class DTypeCategory { Bool = 0, Integral = 1, Floating = 2 };

DTypeCategory category(DType t);
bool is_floating(DType t);
bool is_integral(DType t);  // excludes Bool
bool is_signed(DType t);
int bit_width(DType t);
int byte_size(DType t);

// "float32" (torch's name without the "torch." prefix).
const char* torch_name(DType t);
// "tl.float32"
const char* triton_name(DType t);
// Parses "float32", "torch.float32", "float", "half", "bfloat16", "long", ...
std::optional<DType> dtype_from_name(std::string_view name);

// torch.promote_types(a, b).
DType promote_types(DType a, DType b);

// The dtype math functions (exp, sqrt, ...) compute in: float32 for 16-bit
// and 8-bit floats (as PyTorch's kernels do), the type itself for float32/64,
// float32 for integers and bools (torch.exp(int) returns the default float).
DType math_compute_dtype(DType t);

// 16-bit and 8-bit floats: PyTorch computes their arithmetic in float32
// (opmath) and rounds each op's result to the type.
bool is_low_precision_float(DType t);

// The `precision` setting (docs/language.md, "Precision"): how values of
// low-precision float types are computed between ops.
//   Fast:   in float32 from load to store, rounded to their type only where
//           the program can see the type (stores, casts it writes, dot
//           operands, loop-carried values), and `/` is Triton's float32
//           division; what torch.compile's generated kernels do.
//   Strict: every op's result is rounded to its type and float32 division
//           rounds to nearest, as PyTorch eager does op by op.
enum class Precision { Fast, Strict };
const char* precision_name(Precision p);
std::optional<Precision> precision_from_name(std::string_view name);

// Priority classes of operands in PyTorch's result_type: dimensioned tensors
// win over zero-dim tensors, which win over Python scalars.
enum class PromotionClass { Scalar = 0, ZeroDim = 1, Tensor = 2 };

// Incremental implementation of torch.result_type over several operands.
class ResultTypeBuilder {
 public:
  void add(DType t, PromotionClass c);
  // Python scalars contribute only their category: bool, int -> int64,
  // float -> the default dtype float32.
  void add_python_bool() { add(DType::Bool, PromotionClass::Scalar); }
  void add_python_int() { add(DType::Int64, PromotionClass::Scalar); }
  void add_python_float() { add(DType::Float32, PromotionClass::Scalar); }
  DType result() const;

 private:
  std::optional<DType> by_class_[3];
};

}  // namespace deuteron
