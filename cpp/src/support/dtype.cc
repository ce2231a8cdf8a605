#include "deuteron/dtype.h"

#include "deuteron/diagnostic.h"

namespace deuteron {

namespace {
struct DTypeInfo {
  DType dtype;
  const char* torch;
  const char* triton;
  int bits;
  DTypeCategory cat;
  bool is_signed;
};

constexpr DTypeInfo kInfo[] = {
    {DType::Bool, "bool", "tl.int1", 8, DTypeCategory::Bool, false},
    {DType::UInt8, "uint8", "tl.uint8", 8, DTypeCategory::Integral, false},
    {DType::Int8, "int8", "tl.int8", 8, DTypeCategory::Integral, true},
    {DType::Int16, "int16", "tl.int16", 16, DTypeCategory::Integral, true},
    {DType::Int32, "int32", "tl.int32", 32, DTypeCategory::Integral, true},
    {DType::Int64, "int64", "tl.int64", 64, DTypeCategory::Integral, true},
    {DType::Float8E4M3, "float8_e4m3fn", "tl.float8e4nv", 8, DTypeCategory::Floating, true},
    {DType::Float8E5M2, "float8_e5m2", "tl.float8e5", 8, DTypeCategory::Floating, true},
    {DType::Float16, "float16", "tl.float16", 16, DTypeCategory::Floating, true},
    {DType::BFloat16, "bfloat16", "tl.bfloat16", 16, DTypeCategory::Floating, true},
    {DType::Float32, "float32", "tl.float32", 32, DTypeCategory::Floating, true},
    {DType::Float64, "float64", "tl.float64", 64, DTypeCategory::Floating, true},
    {DType::UInt64, "uint64", "tl.uint64", 64, DTypeCategory::Integral, false},
};

const DTypeInfo& info(DType t) { return kInfo[static_cast<int>(t)]; }
}  // namespace

DTypeCategory category(DType t) { return info(t).cat; }
bool is_floating(DType t) { return category(t) == DTypeCategory::Floating; }
bool is_integral(DType t) { return category(t) == DTypeCategory::Integral; }
bool is_signed(DType t) { return info(t).is_signed; }
int bit_width(DType t) { return t == DType::Bool ? 1 : info(t).bits; }
int byte_size(DType t) { return info(t).bits / 8; }
const char* torch_name(DType t) { return info(t).torch; }
const char* triton_name(DType t) { return info(t).triton; }

std::optional<DType> dtype_from_name(std::string_view name) {
  if (name.substr(0, 6) == "torch.") name.remove_prefix(6);
  for (const auto& i : kInfo)
    if (name == i.torch) return i.dtype;
  struct Alias {
    const char* name;
    DType dtype;
  };
  static constexpr Alias kAliases[] = {
      {"float", DType::Float32}, {"double", DType::Float64}, {"half", DType::Float16},
      {"long", DType::Int64},    {"int", DType::Int32},      {"short", DType::Int16},
  };
  for (const auto& a : kAliases)
    if (name == a.name) return a.dtype;
  return std::nullopt;
}

// torch.promote_types: within a category the wider type wins; across
// categories the higher category wins; a few pairs have special answers.
DType promote_types(DType a, DType b) {
  if (a == b) return a;
  const auto& ia = info(a);
  const auto& ib = info(b);
  if (ia.cat != ib.cat) return ia.cat > ib.cat ? a : b;
  if (ia.cat == DTypeCategory::Floating) {
    // float16 + bfloat16 -> float32; float8 variants promote to the other side
    // unless both are 8-bit, which PyTorch rejects; we pick float32.
    if (ia.bits == ib.bits) return DType::Float32;
    return ia.bits > ib.bits ? a : b;
  }
  // Integral: uint8 with a signed type needs a signed type wider than 8 bits.
  if (a == DType::UInt8 || b == DType::UInt8) {
    DType other = a == DType::UInt8 ? b : a;
    return other == DType::Int8 ? DType::Int16 : other;
  }
  return ia.bits > ib.bits ? a : b;
}

DType math_compute_dtype(DType t) {
  if (t == DType::Float64) return DType::Float64;
  return DType::Float32;
}

bool is_low_precision_float(DType t) {
  return t == DType::Float16 || t == DType::BFloat16 || t == DType::Float8E4M3 || t == DType::Float8E5M2;
}

const char* precision_name(Precision p) { return p == Precision::Strict ? "strict" : "fast"; }

std::optional<Precision> precision_from_name(std::string_view name) {
  if (name == "fast") return Precision::Fast;
  if (name == "strict") return Precision::Strict;
  return std::nullopt;
}

void ResultTypeBuilder::add(DType t, PromotionClass c) {
  auto& slot = by_class_[static_cast<int>(c)];
  slot = slot ? promote_types(*slot, t) : t;
}

DType ResultTypeBuilder::result() const {
  const auto& tensor = by_class_[static_cast<int>(PromotionClass::Tensor)];
  const auto& zerodim = by_class_[static_cast<int>(PromotionClass::ZeroDim)];
  const auto& scalar = by_class_[static_cast<int>(PromotionClass::Scalar)];
  std::optional<DType> out = tensor;
  if (zerodim) {
    if (!out)
      out = zerodim;
    else if (category(*zerodim) > category(*out))
      out = *zerodim;
  }
  if (scalar) {
    if (!out) {
      out = *scalar;
    } else if (category(*scalar) > category(*out)) {
      // A Python scalar of a higher category promotes to that category's
      // default type: int64 for ints, float32 (the default dtype) for floats.
      out = category(*scalar) == DTypeCategory::Floating ? DType::Float32 : DType::Int64;
    }
  }
  DEUTERON_CHECK(out.has_value(), "result type of no operands");
  return *out;
}

}  // namespace deuteron
