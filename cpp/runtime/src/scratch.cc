// ScratchBuffer: grow-only device memory for kernels' global scratch argument.
#include "deuteron_runtime/scratch.h"

#include <string>
#include <utility>

namespace deuteron::runtime {

ScratchBuffer::~ScratchBuffer() { release(); }

ScratchBuffer::ScratchBuffer(ScratchBuffer&& o) noexcept
    : api_(std::exchange(o.api_, nullptr)), ptr_(std::exchange(o.ptr_, 0)), size_(std::exchange(o.size_, 0)) {}

ScratchBuffer& ScratchBuffer::operator=(ScratchBuffer&& o) noexcept {
  if (this != &o) {
    release();
    api_ = std::exchange(o.api_, nullptr);
    ptr_ = std::exchange(o.ptr_, 0);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void ScratchBuffer::release() {
  if (ptr_ != 0 && api_ != nullptr) (void)api_->cuMemFree(ptr_);
  ptr_ = 0;
  size_ = 0;
}

Status ScratchBuffer::reserve(uint64_t bytes, uint32_t align, CUdeviceptr* out) {
  // cuMemAlloc returns memory aligned to at least 256 bytes; Triton asks for
  // far less, but say so rather than hand out misaligned memory.
  if (align > 256)
    return Status::Error(StatusCode::kUnsupported,
                         "scratch memory aligned to " + std::to_string(align) + " bytes (at most 256 is supported)");
  if (bytes <= size_ && ptr_ != 0) {
    *out = ptr_;
    return Status::Ok();
  }
  if (api_ == nullptr)
    if (Status s = driver(&api_); !s.ok()) return s;
  if (ptr_ != 0) {
    // Kernels launched earlier may still be using the old memory.
    if (Status s = check(*api_, api_->cuCtxSynchronize(), "cuCtxSynchronize (before growing scratch memory)"); !s.ok())
      return s;
    release();
  }
  CUdeviceptr p = 0;
  if (Status s = check(*api_, api_->cuMemAlloc(&p, bytes),
                       "cuMemAlloc(" + std::to_string(bytes) + " bytes of kernel scratch memory)");
      !s.ok())
    return s;
  ptr_ = p;
  size_ = bytes;
  *out = p;
  return Status::Ok();
}

}  // namespace deuteron::runtime
