// The CUDA driver API, loaded from libcuda at first use.
//
// Linking against libcuda would make every binary that contains the runtime
// (the Python extension included) fail to load on a machine without an NVIDIA
// driver; loading it with dlopen defers that failure to the first launch and
// turns it into a Status.  The library is libcuda.so.1, or the path in the
// environment variable DEUTERON_LIBCUDA when that is set (tests point it at a
// fake driver that records launches).
#pragma once

#include <string>
#include <string_view>

#include "deuteron_runtime/cuda_types.h"
#include "deuteron_runtime/status.h"

namespace deuteron::runtime {

// The driver's entry points.  Every pointer is non-null after a successful
// load except those marked optional, which old drivers may lack.
struct DriverApi {
  std::string library_path;  // what was passed to dlopen

  CUresult (*cuInit)(unsigned int flags);
  CUresult (*cuGetErrorString)(CUresult error, const char** str);
  CUresult (*cuGetErrorName)(CUresult error, const char** str);
  CUresult (*cuDeviceGet)(CUdevice* device, int ordinal);
  CUresult (*cuDeviceGetAttribute)(int* value, int attribute, CUdevice device);
  CUresult (*cuCtxGetCurrent)(CUcontext* ctx);
  CUresult (*cuCtxSetCurrent)(CUcontext ctx);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext* ctx, CUdevice device);
  CUresult (*cuModuleLoadData)(CUmodule* module, const void* image);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction* function, CUmodule module, const char* name);
  CUresult (*cuFuncGetAttribute)(int* value, int attribute, CUfunction function);
  CUresult (*cuFuncSetAttribute)(CUfunction function, int attribute, int value);
  CUresult (*cuFuncSetCacheConfig)(CUfunction function, int config);
  CUresult (*cuLaunchKernel)(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
                             unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
                             unsigned int sharedMemBytes, CUstream stream, void** kernelParams, void** extra);
  CUresult (*cuMemAlloc)(CUdeviceptr* ptr, size_t bytes);            // cuMemAlloc_v2
  CUresult (*cuMemFree)(CUdeviceptr ptr);                            // cuMemFree_v2
  CUresult (*cuMemcpyHtoD)(CUdeviceptr dst, const void* src, size_t bytes);  // cuMemcpyHtoD_v2
  CUresult (*cuMemcpyDtoH)(void* dst, CUdeviceptr src, size_t bytes);        // cuMemcpyDtoH_v2
  CUresult (*cuStreamSynchronize)(CUstream stream);
  CUresult (*cuPointerGetAttribute)(void* data, int attribute, CUdeviceptr ptr);

  // Optional (null when the driver lacks them).
  CUresult (*cuLaunchKernelEx)(const CUlaunchConfig* config, CUfunction f, void** kernelParams, void** extra);
  CUresult (*cuOccupancyMaxActiveBlocksPerMultiprocessor)(int* num_blocks, CUfunction f, int block_size,
                                                          size_t dynamic_shared_bytes);
};

// The loaded driver.  The first call loads the library, resolves the entry
// points and calls cuInit(0); it is thread-safe, and later calls only read an
// atomic.  The outcome (success or failure) is kept for the process: on
// failure every call returns the same error.  The table lives for the rest of
// the process.
Status driver(const DriverApi** out);

// A Status for a failed driver call: "<what>: CUDA_ERROR_X (description)".
// `result` must not be CUDA_SUCCESS.
Status driver_error(const DriverApi& api, CUresult result, std::string_view what);

// Checks a driver call's result: Ok on CUDA_SUCCESS, driver_error otherwise.
// The message is only built on failure.
inline Status check(const DriverApi& api, CUresult result, std::string_view what) {
  if (result == CUDA_SUCCESS) return Status::Ok();
  return driver_error(api, result, what);
}

// Makes a context current on this thread if none is: the primary context of
// `device` (what the CUDA runtime and PyTorch use).  Cheap when one is.
Status ensure_context(const DriverApi& api, int device);

// Loads the driver again from `path` (or, when null, from DEUTERON_LIBCUDA or
// libcuda.so.1) and makes it the one driver() returns.  For tests only: it is
// not safe while other threads use the runtime.  Tables handed out before stay
// valid (they are never freed).
Status reload_driver_for_testing(const char* path);

}  // namespace deuteron::runtime
