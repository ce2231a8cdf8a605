// launch(): from a Kernel, a grid and argument pointers to cuLaunchKernel(Ex).
#include <cstring>
#include <string>
#include <vector>

#include "deuteron_runtime/cuda_driver.h"
#include "deuteron_runtime/kernel.h"
#include "deuteron_runtime/scratch.h"

namespace deuteron::runtime {
namespace {

// Dynamic shared memory above this needs an explicit opt-in per function.
constexpr uint32_t kDefaultSharedLimit = 48 * 1024;

// Argument arrays up to this long are built on the stack (no allocation on
// the launch path); longer ones, which no generated kernel has, go on the heap.
constexpr size_t kInlineParams = 64;

std::string kernel_label(const Kernel& k) { return k.name.empty() ? std::string("<unnamed>") : "'" + k.name + "'"; }

std::string describe_launch(const Kernel& k, Dim3 grid) {
  return "launching kernel " + kernel_label(k) + " (grid " + std::to_string(grid.x) + "x" + std::to_string(grid.y) +
         "x" + std::to_string(grid.z) + ", " + std::to_string(k.block_threads()) + " threads, " +
         std::to_string(k.shared_bytes) + " bytes of shared memory, num_ctas " + std::to_string(k.num_ctas) + ")";
}

Status invalid(const Kernel& k, const std::string& what) {
  return Status::Error(StatusCode::kInvalidArgument, "kernel " + kernel_label(k) + ": " + what);
}

// Function attributes a kernel needs before its first launch.  Applying them
// twice (two threads racing on a new kernel) is harmless.
Status apply_attributes(const DriverApi& api, Kernel& k) {
  if (k.shared_bytes > kDefaultSharedLimit) {
    if (Status s = check(api,
                         api.cuFuncSetAttribute(k.function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                                static_cast<int>(k.shared_bytes)),
                         "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES = " + std::to_string(k.shared_bytes) +
                             ") for kernel " + kernel_label(k) + " (more shared memory than the device allows?)");
        !s.ok())
      return s;
    // As Triton does: a kernel that uses this much shared memory wants it
    // carved out of L1.  Only a preference, so a failure is not an error.
    (void)api.cuFuncSetCacheConfig(k.function, CU_FUNC_CACHE_PREFER_SHARED);
  }
  if (k.num_ctas == 16) {  // clusters above 8 CTAs are "non-portable" (H100 and later run them)
    if (Status s = check(api, api.cuFuncSetAttribute(k.function, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1),
                         "cuFuncSetAttribute(NON_PORTABLE_CLUSTER_SIZE_ALLOWED) for kernel " + kernel_label(k));
        !s.ok())
      return s;
  }
  k.attributes_applied.set.store(true, std::memory_order_release);
  return Status::Ok();
}

bool needs_attributes(const Kernel& k) { return k.shared_bytes > kDefaultSharedLimit || k.num_ctas == 16; }

Status check_scratch(const Kernel& k, CUdeviceptr ptr, uint64_t size, uint32_t align, const char* which) {
  if (size == 0) return Status::Ok();
  if (ptr == 0)
    return Status::Error(StatusCode::kUnsupported,
                         "kernel " + kernel_label(k) + " needs " + which + " scratch memory (" + std::to_string(size) +
                             " bytes per program) and none was given to launch()");
  if (align > 1 && ptr % align != 0)
    return invalid(k, std::string(which) + " scratch memory must be aligned to " + std::to_string(align) + " bytes");
  return Status::Ok();
}

}  // namespace

uint64_t global_scratch_bytes(const Kernel& k, Dim3 grid) {
  return uint64_t{grid.x} * grid.y * grid.z * static_cast<uint64_t>(k.num_ctas) * k.global_scratch_size;
}

Status launch(Kernel& k, Dim3 grid, CUstream stream, void* const* params, size_t num_params, Scratch scratch) {
  const DriverApi* api = nullptr;
  if (Status s = driver(&api); !s.ok()) return s;
  if (k.function == nullptr) return invalid(k, "no CUfunction (was the module loaded?)");
  if (k.num_warps < 1 || k.num_warps > 32) return invalid(k, "num_warps must be in 1..32, not " + std::to_string(k.num_warps));
  if (k.num_ctas < 1) return invalid(k, "num_ctas must be positive, not " + std::to_string(k.num_ctas));
  if (num_params > 0 && params == nullptr) return invalid(k, "null argument array");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return Status::Ok();

  if (Status s = check_scratch(k, scratch.global, k.global_scratch_size, k.global_scratch_align, "global"); !s.ok())
    return s;
  if (Status s = check_scratch(k, scratch.profile, k.profile_scratch_size, k.profile_scratch_align, "profile");
      !s.ok())
    return s;

  const uint64_t grid_x = uint64_t{grid.x} * static_cast<uint64_t>(k.num_ctas);
  if (grid_x > UINT32_MAX) return invalid(k, "grid x * num_ctas does not fit 32 bits");

  if (needs_attributes(k) && !k.attributes_applied.set.load(std::memory_order_acquire))
    if (Status s = apply_attributes(*api, k); !s.ok()) return s;

  // The argument array: the caller's pointers, then the two hidden ones.
  void* inline_args[kInlineParams + 2];
  std::vector<void*> heap_args;
  void** args = inline_args;
  if (num_params > kInlineParams) {
    heap_args.resize(num_params + 2);
    args = heap_args.data();
  }
  if (num_params > 0) std::memcpy(args, params, num_params * sizeof(void*));
  CUdeviceptr global = scratch.global;
  CUdeviceptr profile = scratch.profile;
  args[num_params] = &global;
  args[num_params + 1] = &profile;

  const bool needs_ex = k.num_ctas != 1 || k.launch_cooperative_grid || k.launch_pdl;
  if (!needs_ex) {
    CUresult r = api->cuLaunchKernel(k.function, static_cast<unsigned>(grid_x), grid.y, grid.z, k.block_threads(), 1, 1,
                                     k.shared_bytes, stream, args, nullptr);
    if (r != CUDA_SUCCESS) return driver_error(*api, r, "cuLaunchKernel " + describe_launch(k, grid));
    return Status::Ok();
  }

  if (api->cuLaunchKernelEx == nullptr)
    return Status::Error(StatusCode::kUnsupported, describe_launch(k, grid) +
                                                       ": clusters, cooperative grids and programmatic dependent "
                                                       "launch need cuLaunchKernelEx (a CUDA 11.8 or newer driver)");
  CUlaunchAttribute attrs[4];
  std::memset(attrs, 0, sizeof(attrs));
  unsigned n = 0;
  if (k.launch_pdl) {
    attrs[n].id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attrs[n++].value.programmaticStreamSerializationAllowed = 1;
  }
  if (k.launch_cooperative_grid) {
    attrs[n].id = CU_LAUNCH_ATTRIBUTE_COOPERATIVE;
    attrs[n++].value.cooperative = 1;
  }
  if (k.num_ctas != 1) {
    attrs[n].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attrs[n].value.clusterDim.x = static_cast<unsigned>(k.num_ctas);
    attrs[n].value.clusterDim.y = 1;
    attrs[n++].value.clusterDim.z = 1;
    attrs[n].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE;
    attrs[n++].value.clusterSchedulingPolicyPreference = CU_CLUSTER_SCHEDULING_POLICY_SPREAD;
  }
  CUlaunchConfig config{};
  config.gridDimX = static_cast<unsigned>(grid_x);
  config.gridDimY = grid.y;
  config.gridDimZ = grid.z;
  config.blockDimX = k.block_threads();
  config.blockDimY = 1;
  config.blockDimZ = 1;
  config.sharedMemBytes = k.shared_bytes;
  config.hStream = stream;
  config.attrs = attrs;
  config.numAttrs = n;
  CUresult r = api->cuLaunchKernelEx(&config, k.function, args, nullptr);
  if (r != CUDA_SUCCESS) return driver_error(*api, r, "cuLaunchKernelEx " + describe_launch(k, grid));
  return Status::Ok();
}

Status launch(Kernel& k, Dim3 grid, CUstream stream, void* const* params, size_t num_params, ScratchBuffer& buffer) {
  Scratch scratch;
  const uint64_t bytes = global_scratch_bytes(k, grid);
  if (bytes > 0)
    if (Status s = buffer.reserve(bytes, k.global_scratch_align, &scratch.global); !s.ok()) return s;
  return launch(k, grid, stream, params, num_params, scratch);
}

}  // namespace deuteron::runtime
