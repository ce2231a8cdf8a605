"""The text of ``include/deuteron_aot/tensor.h``, written into every exported package.

It defines the tensor argument type of exported functions.  Every package
carries the same text (guarded and in an inline namespace of its version), so
two exported packages can be used in one program.
"""

TENSOR_H = r"""// Tensor arguments of kernels exported by deuteron (`deuteron export`).
//
// A Tensor describes device memory as PyTorch does: a data pointer (the first
// element), a dtype, sizes and strides in elements.  The exported functions
// check every Tensor against the shapes they were exported for.
#pragma once

#ifndef DEUTERON_AOT_TENSOR_H_V1
#define DEUTERON_AOT_TENSOR_H_V1

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "deuteron_runtime/runtime.h"

namespace deuteron::aot {
inline namespace v1 {

using runtime::CUdeviceptr;
using runtime::CUstream;
using runtime::Status;
using runtime::StatusCode;

enum class DType : int32_t {
  kBool,
  kUInt8,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFloat16,
  kBFloat16,
  kFloat32,
  kFloat64,
  kFloat8E4M3FN,
  kFloat8E5M2,
};

inline constexpr size_t element_size(DType t) {
  switch (t) {
    case DType::kBool: case DType::kUInt8: case DType::kInt8: case DType::kFloat8E4M3FN: case DType::kFloat8E5M2:
      return 1;
    case DType::kInt16: case DType::kFloat16: case DType::kBFloat16:
      return 2;
    case DType::kInt32: case DType::kFloat32:
      return 4;
    case DType::kInt64: case DType::kFloat64:
      return 8;
  }
  return 0;
}

// PyTorch's name of the dtype ("bfloat16").
inline constexpr const char* dtype_name(DType t) {
  switch (t) {
    case DType::kBool: return "bool";
    case DType::kUInt8: return "uint8";
    case DType::kInt8: return "int8";
    case DType::kInt16: return "int16";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kFloat16: return "float16";
    case DType::kBFloat16: return "bfloat16";
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kFloat8E4M3FN: return "float8_e4m3fn";
    case DType::kFloat8E5M2: return "float8_e5m2";
  }
  return "unknown";
}

inline constexpr int kMaxDims = 8;

struct Tensor {
  CUdeviceptr data = 0;    // device address of the first element
  DType dtype = DType::kFloat32;
  int32_t ndim = 0;        // -1: more than kMaxDims dimensions were given (always rejected)
  int64_t sizes[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};  // in elements

  // A row-major (C-contiguous) tensor, with PyTorch's strides.
  static Tensor contiguous(CUdeviceptr data, DType dtype, const int64_t* sizes, int ndim) {
    Tensor t;
    t.data = data;
    t.dtype = dtype;
    if (ndim < 0 || ndim > kMaxDims) {
      t.ndim = -1;
      return t;
    }
    t.ndim = ndim;
    int64_t stride = 1;
    for (int i = ndim - 1; i >= 0; --i) {
      t.sizes[i] = sizes[i];
      t.strides[i] = stride;
      stride *= sizes[i] > 1 ? sizes[i] : 1;
    }
    return t;
  }
  static Tensor contiguous(CUdeviceptr data, DType dtype, std::initializer_list<int64_t> sizes) {
    return contiguous(data, dtype, sizes.begin(), static_cast<int>(sizes.size()));
  }

  // Any layout: sizes and strides (in elements) as PyTorch's .size() and .stride().
  static Tensor strided(CUdeviceptr data, DType dtype, std::initializer_list<int64_t> sizes,
                        std::initializer_list<int64_t> strides) {
    Tensor t;
    t.data = data;
    t.dtype = dtype;
    if (sizes.size() > static_cast<size_t>(kMaxDims) || sizes.size() != strides.size()) {
      t.ndim = -1;
      return t;
    }
    t.ndim = static_cast<int32_t>(sizes.size());
    int i = 0;
    for (int64_t s : sizes) t.sizes[i++] = s;
    i = 0;
    for (int64_t s : strides) t.strides[i++] = s;
    return t;
  }

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= sizes[i];
    return n;
  }

  size_t nbytes() const { return static_cast<size_t>(numel()) * element_size(dtype); }

  // "bfloat16[4096, 16384] strides [16384, 1]"
  std::string to_string() const {
    if (ndim < 0) return "a tensor with more than " + std::to_string(kMaxDims) + " dimensions";
    std::string s = dtype_name(dtype);
    s += '[';
    for (int i = 0; i < ndim; ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
    s += "] strides [";
    for (int i = 0; i < ndim; ++i) s += (i ? ", " : "") + std::to_string(strides[i]);
    s += ']';
    return s;
  }
};

}  // namespace v1
}  // namespace deuteron::aot

#endif  // DEUTERON_AOT_TENSOR_H_V1
"""

DTYPE_ENUM = {
    "bool": "kBool", "uint8": "kUInt8", "int8": "kInt8", "int16": "kInt16", "int32": "kInt32", "int64": "kInt64",
    "float16": "kFloat16", "bfloat16": "kBFloat16", "float32": "kFloat32", "float64": "kFloat64",
    "float8_e4m3fn": "kFloat8E4M3FN", "float8_e5m2": "kFloat8E5M2",
}
