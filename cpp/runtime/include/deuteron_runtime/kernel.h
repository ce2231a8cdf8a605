// Loading Triton-compiled cubins and launching their kernels.
//
// A Triton 3.6 kernel takes its non-constexpr arguments in order, then two
// hidden pointers: global scratch memory, then profiler scratch memory.
// launch() appends those two, so callers pass exactly the kernel's own
// arguments.  One program (CTA) of a kernel is 32 * num_warps threads; a
// kernel with num_ctas > 1 is launched as clusters of num_ctas CTAs along x.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "deuteron_runtime/cuda_types.h"
#include "deuteron_runtime/status.h"

namespace deuteron::runtime {

class ScratchBuffer;

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
};

namespace detail {
// A flag that copies by value (std::atomic does not copy), so that Kernel
// stays a plain copyable struct.
struct OnceFlag {
  std::atomic<bool> set{false};
  OnceFlag() = default;
  OnceFlag(const OnceFlag& o) : set(o.set.load(std::memory_order_relaxed)) {}
  OnceFlag& operator=(const OnceFlag& o) {
    set.store(o.set.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }
};
}  // namespace detail

// A compiled kernel and what Triton's compiler recorded about it
// (CompiledKernel.metadata: num_warps, num_ctas, shared, global_scratch_size,
// global_scratch_align, profile_scratch_size, profile_scratch_align,
// launch_cooperative_grid, launch_pdl, name).
struct Kernel {
  CUfunction function = nullptr;
  int num_warps = 4;
  int num_ctas = 1;
  uint32_t shared_bytes = 0;          // dynamic shared memory per CTA
  uint64_t global_scratch_size = 0;   // bytes per CTA; 0: none needed
  uint32_t global_scratch_align = 1;
  uint64_t profile_scratch_size = 0;  // bytes per CTA; 0: none needed
  uint32_t profile_scratch_align = 1;
  bool launch_cooperative_grid = false;
  bool launch_pdl = false;            // programmatic dependent launch
  std::string name;                   // for error messages

  // Set once launch() has applied the function attributes the kernel needs
  // (dynamic shared memory above 48 KB, non-portable cluster size).
  detail::OnceFlag attributes_applied;

  uint32_t block_threads() const { return 32u * static_cast<uint32_t>(num_warps); }
};

// Device memory for the hidden scratch arguments, when the caller manages it.
struct Scratch {
  CUdeviceptr global = 0;
  CUdeviceptr profile = 0;
};

// Bytes of global scratch memory one launch of `kernel` over `grid` needs:
// grid.x * grid.y * grid.z * num_ctas * global_scratch_size.
uint64_t global_scratch_bytes(const Kernel& kernel, Dim3 grid);

// Launches `kernel` over `grid` programs on `stream`.  `params[i]` points at
// the value of the kernel's i-th (non-constexpr) argument, as for
// cuLaunchKernel; the two hidden scratch pointers are appended here.  A grid
// with a zero dimension launches nothing (as Triton does).  A context must be
// current on the calling thread (see ensure_context).
Status launch(Kernel& kernel, Dim3 grid, CUstream stream, void* const* params, size_t num_params,
              Scratch scratch = {});

// As above, taking global scratch memory from `scratch` (grown as needed).
Status launch(Kernel& kernel, Dim3 grid, CUstream stream, void* const* params, size_t num_params,
              ScratchBuffer& scratch);

// A loaded cubin.  Unloads it when destroyed; kernels taken from it must not
// be launched afterwards.
class Module {
 public:
  Module() = default;
  ~Module();
  Module(Module&& other) noexcept;
  Module& operator=(Module&& other) noexcept;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Loads a cubin (CompiledKernel.asm["cubin"]) into the current context, or
  // into the primary context of `device` when no context is current.
  static Status load(const void* image, size_t size, Module* out, int device = 0);

  // Looks up the kernel `name` (metadata.name) and fills kernel->function and
  // kernel->name; the caller fills the other fields from the metadata.  Fails
  // when the function cannot run 32 * kernel->num_warps threads per block.
  Status get_kernel(const std::string& name, Kernel* kernel) const;

  CUmodule handle() const { return module_; }

 private:
  CUmodule module_ = nullptr;
};

}  // namespace deuteron::runtime
