// The control interface of the fake libcuda (fake_libcuda.cc).
//
// Tests load the fake with dlopen (C++) or ctypes (Python) through the same
// path the runtime loads it from, so both see one copy of its state, and
// drive it through these functions: inspect recorded launches, make entry
// points fail, describe the parameter layout of function handles.
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FAKE_CUDA_MAX_PARAMS 80
#define FAKE_CUDA_MAX_ATTRS 8

// One recorded cuLaunchKernel / cuLaunchKernelEx call.
typedef struct FakeLaunch {
  uint64_t function;
  uint64_t stream;
  uint32_t grid[3];
  uint32_t block[3];
  uint32_t shared_bytes;
  int32_t via_ex;     // 1 when launched with cuLaunchKernelEx
  int32_t num_attrs;  // launch attributes (cuLaunchKernelEx only)
  int32_t attr_id[FAKE_CUDA_MAX_ATTRS];
  uint32_t attr_value[FAKE_CUDA_MAX_ATTRS][3];  // the first 12 bytes of each attribute's value
  int32_t num_params;  // -1 when the function's parameter layout is unknown
  uint32_t param_size[FAKE_CUDA_MAX_PARAMS];
  uint64_t param_value[FAKE_CUDA_MAX_PARAMS];  // the parameter's bytes, zero-extended (little-endian)
} FakeLaunch;

// Forgets launches, calls, failures, registered functions and pointers.
void fake_cuda_reset(void);
// Makes every later call of `entry_point` (e.g. "cuLaunchKernel") return `result`.
void fake_cuda_fail(const char* entry_point, int result);
// Declares that `function` takes `num_params` parameters of the given sizes
// (bytes, each at most 8), so launches of it record their values.
void fake_cuda_register_function(uint64_t function, int32_t num_params, const uint32_t* sizes);
// Makes cuPointerGetAttribute(DEVICE_POINTER) reject `ptr` as host memory.
void fake_cuda_mark_host_pointer(uint64_t ptr);
// The context cuCtxGetCurrent reports (0: none; the fake starts with one).
void fake_cuda_set_current_context(uint64_t ctx);
uint64_t fake_cuda_current_context(void);

int32_t fake_cuda_launch_count(void);
// Copies launch `index` (0 = first) into *out; returns 0, or -1 if there is none.
int32_t fake_cuda_get_launch(int32_t index, FakeLaunch* out);
// How often `entry_point` was called since the last reset.
int32_t fake_cuda_call_count(const char* entry_point);
// The last value cuFuncSetAttribute set for (function, attribute), or -1.
int64_t fake_cuda_func_attribute(uint64_t function, int32_t attribute);

#ifdef __cplusplus
}
#endif
