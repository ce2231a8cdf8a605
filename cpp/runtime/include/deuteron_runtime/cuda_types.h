// The few CUDA driver types, enums and structs the runtime uses.
//
// We do not include <cuda.h>: machines that build deuteron (CI, CPU
// developer machines) need not have the CUDA toolkit, and the runtime loads
// libcuda with dlopen anyway.  The values below are the driver ABI (stable
// across CUDA releases) copied from the CUDA 12/13 headers.
//
// The opaque handle structs are declared at global scope with the same tags as
// <cuda.h>, so deuteron::runtime::CUfunction is the very type a program that
// also includes <cuda.h> calls CUfunction: handles pass between the two
// without casts.
#pragma once

#include <cstddef>
#include <cstdint>

struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;

namespace deuteron::runtime {

using CUresult = int;  // an enum in <cuda.h>; passed as int in the ABI
using CUdevice = int;
using CUdeviceptr = unsigned long long;  // CUdeviceptr_v2 on 64-bit platforms
using CUcontext = ::CUctx_st*;
using CUmodule = ::CUmod_st*;
using CUfunction = ::CUfunc_st*;
using CUstream = ::CUstream_st*;

inline constexpr CUresult CUDA_SUCCESS = 0;
inline constexpr CUresult CUDA_ERROR_INVALID_VALUE = 1;

// CUfunction_attribute
inline constexpr int CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0;
inline constexpr int CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1;
inline constexpr int CU_FUNC_ATTRIBUTE_NUM_REGS = 4;
inline constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
inline constexpr int CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED = 14;

// CUfunc_cache
inline constexpr int CU_FUNC_CACHE_PREFER_SHARED = 1;

// CUdevice_attribute
inline constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
inline constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
inline constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
inline constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;

// CUpointer_attribute
inline constexpr int CU_POINTER_ATTRIBUTE_DEVICE_POINTER = 3;

// CUlaunchAttributeID
inline constexpr int CU_LAUNCH_ATTRIBUTE_COOPERATIVE = 2;
inline constexpr int CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4;
inline constexpr int CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE = 5;
inline constexpr int CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6;

// CUclusterSchedulingPolicy
inline constexpr int CU_CLUSTER_SCHEDULING_POLICY_SPREAD = 1;

// CUlaunchAttributeValue: a 64-byte union in the driver; we name the members
// we set and keep the padding so sizes and offsets match.
union CUlaunchAttributeValue {
  char pad[64];
  int cooperative;
  struct {
    unsigned int x, y, z;
  } clusterDim;
  int clusterSchedulingPolicyPreference;
  int programmaticStreamSerializationAllowed;
  void* align_as_pointer_;  // the driver's union holds pointers: 8-byte aligned
};

struct CUlaunchAttribute {
  int id;
  char pad[8 - sizeof(int)];
  CUlaunchAttributeValue value;
};

struct CUlaunchConfig {
  unsigned int gridDimX, gridDimY, gridDimZ;
  unsigned int blockDimX, blockDimY, blockDimZ;
  unsigned int sharedMemBytes;
  CUstream hStream;
  CUlaunchAttribute* attrs;
  unsigned int numAttrs;
};

static_assert(sizeof(CUlaunchAttributeValue) == 64);
static_assert(sizeof(CUlaunchAttribute) == 72);
static_assert(offsetof(CUlaunchConfig, hStream) == 32);
static_assert(sizeof(CUlaunchConfig) == 56);

}  // namespace deuteron::runtime
