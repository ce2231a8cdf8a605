// Loading libcuda with dlopen and resolving the entry points the runtime uses.
#include "deuteron_runtime/cuda_driver.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

namespace deuteron::runtime {

namespace {

// What one load attempt produced.  Never freed: callers keep raw pointers to
// the table for the life of the process (the Python launcher caches one).
struct LoadResult {
  Status status;
  DriverApi api{};
};

std::atomic<const LoadResult*> g_loaded{nullptr};
std::mutex g_load_mutex;

std::string default_library_path() {
  const char* env = std::getenv("DEUTERON_LIBCUDA");
  if (env != nullptr && env[0] != '\0') return env;
  return "libcuda.so.1";
}

template <typename Fn>
bool resolve(void* lib, const char* symbol, Fn*& out) {
  out = reinterpret_cast<Fn*>(dlsym(lib, symbol));
  return out != nullptr;
}

const LoadResult* load(const std::string& path) {
  auto* r = new LoadResult;
  r->api.library_path = path;
  // RTLD_LOCAL: the driver's symbols stay out of the global namespace, so a
  // fake driver loaded by tests cannot shadow (or be shadowed by) a real one.
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    r->status = Status::Error(StatusCode::kDriverNotFound,
                              "could not load the CUDA driver library '" + path + "': " + (why ? why : "unknown error") +
                                  " (is an NVIDIA driver installed? DEUTERON_LIBCUDA may name the library's path)");
    return r;
  }
  DriverApi& a = r->api;
  // The _v2 names are what <cuda.h> maps the plain names to on 64-bit
  // platforms; the unsuffixed symbols are the legacy 32-bit-size ABI.
  const char* missing = nullptr;
  auto req = [&](const char* symbol, auto*& fn) {
    if (!resolve(lib, symbol, fn) && missing == nullptr) missing = symbol;
  };
  req("cuInit", a.cuInit);
  req("cuGetErrorString", a.cuGetErrorString);
  req("cuGetErrorName", a.cuGetErrorName);
  req("cuDeviceGet", a.cuDeviceGet);
  req("cuDeviceGetAttribute", a.cuDeviceGetAttribute);
  req("cuCtxGetCurrent", a.cuCtxGetCurrent);
  req("cuCtxSetCurrent", a.cuCtxSetCurrent);
  req("cuCtxSynchronize", a.cuCtxSynchronize);
  req("cuDevicePrimaryCtxRetain", a.cuDevicePrimaryCtxRetain);
  req("cuModuleLoadData", a.cuModuleLoadData);
  req("cuModuleUnload", a.cuModuleUnload);
  req("cuModuleGetFunction", a.cuModuleGetFunction);
  req("cuFuncGetAttribute", a.cuFuncGetAttribute);
  req("cuFuncSetAttribute", a.cuFuncSetAttribute);
  req("cuFuncSetCacheConfig", a.cuFuncSetCacheConfig);
  req("cuLaunchKernel", a.cuLaunchKernel);
  req("cuMemAlloc_v2", a.cuMemAlloc);
  req("cuMemFree_v2", a.cuMemFree);
  req("cuMemcpyHtoD_v2", a.cuMemcpyHtoD);
  req("cuMemcpyDtoH_v2", a.cuMemcpyDtoH);
  req("cuStreamSynchronize", a.cuStreamSynchronize);
  req("cuPointerGetAttribute", a.cuPointerGetAttribute);
  if (missing != nullptr) {
    r->status = Status::Error(StatusCode::kDriverNotFound, "the CUDA driver library '" + path +
                                                               "' has no entry point '" + missing +
                                                               "' (driver too old, or not a CUDA driver)");
    return r;  // the library stays open: harmless, and dlclose could unmap code others hold
  }
  resolve(lib, "cuLaunchKernelEx", a.cuLaunchKernelEx);  // CUDA 11.8+
  resolve(lib, "cuOccupancyMaxActiveBlocksPerMultiprocessor", a.cuOccupancyMaxActiveBlocksPerMultiprocessor);

  r->status = check(a, a.cuInit(0), "cuInit(0) (initializing the CUDA driver from '" + path + "')");
  return r;
}

// Every table ever loaded (more than one only after test reloads).  Kept
// reachable from a global so that leak checkers do not flag the old ones,
// which stay alive on purpose; guarded by g_load_mutex.
std::vector<const LoadResult*>* g_all_loads = new std::vector<const LoadResult*>;

const LoadResult* install(const std::string& path) {
  const LoadResult* r = load(path);
  g_all_loads->push_back(r);
  g_loaded.store(r, std::memory_order_release);
  return r;
}

Status result_of(const LoadResult* r, const DriverApi** out) {
  if (!r->status.ok()) {
    *out = nullptr;
    return r->status;
  }
  *out = &r->api;
  return Status::Ok();
}

}  // namespace

Status driver(const DriverApi** out) {
  const LoadResult* r = g_loaded.load(std::memory_order_acquire);
  if (r == nullptr) {
    std::lock_guard<std::mutex> lock(g_load_mutex);
    r = g_loaded.load(std::memory_order_acquire);
    if (r == nullptr) r = install(default_library_path());
  }
  return result_of(r, out);
}

Status reload_driver_for_testing(const char* path) {
  std::lock_guard<std::mutex> lock(g_load_mutex);
  const DriverApi* unused = nullptr;
  return result_of(install(path != nullptr ? std::string(path) : default_library_path()), &unused);
}

Status driver_error(const DriverApi& api, CUresult result, std::string_view what) {
  const char* name = nullptr;
  const char* text = nullptr;
  // Unknown codes make these fail and leave the strings null.
  if (api.cuGetErrorName == nullptr || api.cuGetErrorName(result, &name) != CUDA_SUCCESS) name = nullptr;
  if (api.cuGetErrorString == nullptr || api.cuGetErrorString(result, &text) != CUDA_SUCCESS) text = nullptr;
  std::string message(what);
  message += " failed: ";
  message += name != nullptr ? name : ("CUDA error " + std::to_string(result));
  if (text != nullptr) {
    message += " (";
    message += text;
    message += ")";
  }
  return Status::Error(StatusCode::kDriverError, std::move(message), result);
}

Status ensure_context(const DriverApi& api, int device) {
  CUcontext ctx = nullptr;
  if (Status s = check(api, api.cuCtxGetCurrent(&ctx), "cuCtxGetCurrent"); !s.ok()) return s;
  if (ctx != nullptr) return Status::Ok();
  // No context on this thread (a fresh thread, or a program that never used
  // the CUDA runtime): use the device's primary context, which is the one
  // PyTorch and the CUDA runtime share, so pointers and streams stay valid.
  CUdevice dev = 0;
  std::string where = "device " + std::to_string(device);
  if (Status s = check(api, api.cuDeviceGet(&dev, device), "cuDeviceGet(" + where + ")"); !s.ok()) return s;
  if (Status s = check(api, api.cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain(" + where + ")");
      !s.ok())
    return s;
  return check(api, api.cuCtxSetCurrent(ctx), "cuCtxSetCurrent(primary context of " + where + ")");
}

}  // namespace deuteron::runtime
