// ScratchBuffer: device memory for the global scratch argument of kernels
// that need one (Triton kernels with device-side tensor descriptors, ...).
//
// The buffer only grows.  It is shared by every launch that uses it, so
// launches through one buffer must be ordered (one stream, or synchronized):
// two kernels running at once would share the memory.
#pragma once

#include <cstdint>

#include "deuteron_runtime/cuda_driver.h"
#include "deuteron_runtime/status.h"

namespace deuteron::runtime {

class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ~ScratchBuffer();
  ScratchBuffer(ScratchBuffer&& other) noexcept;
  ScratchBuffer& operator=(ScratchBuffer&& other) noexcept;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;

  // Makes the buffer at least `bytes` long with its start aligned to `align`
  // and returns its address.  Growing waits for the device (cuCtxSynchronize)
  // before freeing the old memory, which kernels may still be using.
  Status reserve(uint64_t bytes, uint32_t align, CUdeviceptr* out);

  CUdeviceptr data() const { return ptr_; }
  uint64_t size() const { return size_; }

 private:
  void release();

  const DriverApi* api_ = nullptr;
  CUdeviceptr ptr_ = 0;
  uint64_t size_ = 0;
};

}  // namespace deuteron::runtime
