// Module: a cubin loaded into a CUDA context.
#include <string>
#include <utility>

#include "deuteron_runtime/cuda_driver.h"
#include "deuteron_runtime/kernel.h"

namespace deuteron::runtime {

Module::~Module() {
  if (module_ == nullptr) return;
  const DriverApi* api = nullptr;
  // A module exists only if the driver loaded; nothing useful can be done
  // about a failed unload in a destructor (the context may already be gone).
  if (driver(&api).ok()) (void)api->cuModuleUnload(module_);
}

Module::Module(Module&& other) noexcept : module_(std::exchange(other.module_, nullptr)) {}

Module& Module::operator=(Module&& other) noexcept {
  if (this != &other) {
    Module old(std::move(*this));
    module_ = std::exchange(other.module_, nullptr);
  }
  return *this;
}

Status Module::load(const void* image, size_t size, Module* out, int device) {
  if (image == nullptr || size == 0)
    return Status::Error(StatusCode::kInvalidArgument, "Module::load: empty cubin image");
  const DriverApi* api = nullptr;
  if (Status s = driver(&api); !s.ok()) return s;
  if (Status s = ensure_context(*api, device); !s.ok()) return s;
  CUmodule m = nullptr;
  if (Status s = check(*api, api->cuModuleLoadData(&m, image),
                       "cuModuleLoadData (loading a " + std::to_string(size) + "-byte cubin)");
      !s.ok())
    return s;
  *out = Module();
  out->module_ = m;
  return Status::Ok();
}

Status Module::get_kernel(const std::string& name, Kernel* kernel) const {
  const DriverApi* api = nullptr;
  if (Status s = driver(&api); !s.ok()) return s;
  if (module_ == nullptr)
    return Status::Error(StatusCode::kInvalidArgument, "Module::get_kernel('" + name + "'): module not loaded");
  CUfunction f = nullptr;
  if (Status s = check(*api, api->cuModuleGetFunction(&f, module_, name.c_str()),
                       "cuModuleGetFunction('" + name + "')");
      !s.ok())
    return s;
  int max_threads = 0;
  if (Status s = check(*api, api->cuFuncGetAttribute(&max_threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, f),
                       "cuFuncGetAttribute(MAX_THREADS_PER_BLOCK) for kernel '" + name + "'");
      !s.ok())
    return s;
  if (max_threads > 0 && kernel->block_threads() > static_cast<uint32_t>(max_threads))
    return Status::Error(StatusCode::kInvalidArgument,
                         "kernel '" + name + "' was compiled for " + std::to_string(kernel->num_warps) +
                             " warps but can run at most " + std::to_string(max_threads) +
                             " threads per block (too many registers per thread?)");
  kernel->function = f;
  kernel->name = name;
  kernel->attributes_applied.set.store(false, std::memory_order_relaxed);
  return Status::Ok();
}

}  // namespace deuteron::runtime
