// The target's rules, each with the reason it exists.
#include "deuteron/target.h"

#include <algorithm>
#include <numeric>

namespace deuteron::target {

std::string describe(const DeviceInfo& device) {
  return "compute capability " + std::to_string(device.compute_capability / 10) + "." +
         std::to_string(device.compute_capability % 10) + (device.is_cuda ? "" : " (the CPU's stand-in)") +
         ", Triton " + std::to_string(device.triton_version / 100) + "." + std::to_string(device.triton_version % 100);
}

bool has_block_pointers(const DeviceInfo& device) { return device.triton_version < 309; }

bool is_hopper(const DeviceInfo& device) { return device.compute_capability / 10 == 9; }

bool cuda_hopper_or_newer(const DeviceInfo& device) { return device.is_cuda && device.compute_capability >= 90; }

bool cuda_blackwell_or_newer(const DeviceInfo& device) { return device.is_cuda && device.compute_capability >= 100; }

bool offers_tensor_descriptors(const DeviceInfo& device) { return cuda_hopper_or_newer(device); }

std::string tma_obstacle(DType dtype, const std::vector<SymInt>& strides, const std::vector<int64_t>& boxes) {
  const size_t rank = boxes.size();
  if (rank < static_cast<size_t>(kTmaMinRank) || rank > static_cast<size_t>(kTmaMaxRank))
    return "TMA moves boxes of " + std::to_string(kTmaMinRank) + " to " + std::to_string(kTmaMaxRank) +
           " dims, not " + std::to_string(rank);
  const int64_t elem = byte_size(dtype);
  for (size_t i = 0; i < rank; ++i) {
    if (boxes[i] > kTmaMaxBox)
      return "a box of " + std::to_string(boxes[i]) + " exceeds TMA's " + std::to_string(kTmaMaxBox) + " per dim";
    if (i + 1 == rank) {
      auto st = strides[i].as_constant();
      if (!st || *st != 1) return "no dim of the access is contiguous in memory";
      if (boxes[i] * elem < kTmaMinInnerBoxBytes)
        return "a row of " + std::to_string(boxes[i] * elem) + " bytes is under TMA's " +
               std::to_string(kTmaMinInnerBoxBytes);
    } else if (!strides[i].provably_multiple_of(kTmaStrideAlignmentBytes /
                                                std::max<int64_t>(1, std::gcd(kTmaStrideAlignmentBytes, elem)))) {
      return "a stride (" + strides[i].str() + ") is not a multiple of " + std::to_string(kTmaStrideAlignmentBytes) +
             " bytes";
    }
  }
  return "";
}

// Warp specialization, on Blackwell for every loop with a dot.  On Hopper
// for flash attention's key loop only: there, with Triton 3.6, it is worth
// 6-13% with 2-D descriptors (benchmarks/attention_ceiling.py), it compiles
// for nothing else, and matmul times moved by <1%.  Elsewhere Triton has no
// warp specialization to offer.
WarpSpecializeOffer warp_specialize_offer(const DeviceInfo& device) {
  if (cuda_blackwell_or_newer(device)) return WarpSpecializeOffer::DotLoops;
  if (cuda_hopper_or_newer(device)) return WarpSpecializeOffer::FlashAttentionLoops;
  return WarpSpecializeOffer::None;
}

// Why Triton 3.6 cannot warp-specialize a loop on Hopper (nothing stands in
// the way on other GPUs).  Measured on the H200: its Hopper pass fails to
// compile kernels with more than one loop, and loops that load through
// pointers or 3-D descriptors; where it compiles, flash attention with 2-D
// descriptors ran 586 TFLOP/s against 553 for the best variant without it.
// With 4 warps and 3+ stages it compiles but computes NaNs: on the H200
// every warp-specialized attention with 4 warps and 3 or 4 stages that fit
// in shared memory returned NaNs (head dims 64 and 128, 64- and 128-wide key
// blocks, causal or not), while 2 stages, or 8 warps with any stage count,
// were right (2026-12-03; `attention_ceiling.py --check-ws` checks the
// hand-written kernel of the same shape).  A config that asks for it where it
// fails gets the loop without it rather than a crash or a wrong result.
std::string warp_specialize_obstacle(const DeviceInfo& device, const WarpSpecializedLoop& loop) {
  if (!is_hopper(device)) return "";
  if (loop.loops_in_kernel > 1) return "on Hopper, Triton 3.6 warp-specializes only kernels with a single loop";
  if (!loop.all_2d_descriptors)
    return "on Hopper, Triton 3.6 warp-specializes only loops whose loads and stores are all 2-D tensor "
           "descriptors (indexing='tensor_descriptor' with whole blocks)";
  if (loop.num_warps <= 4 && loop.num_stages >= 3)
    return "on Hopper, Triton 3.6 computes NaNs in warp-specialized loops with 4 warps or fewer and 3 or more "
           "stages; use num_warps=8 or 2 stages";
  return "";
}

// On the H200 such kernels ran fastest as Triton 3.6 compiles them with warp
// specialization: a hand-written bf16 B4 H16 S4096 D128 forward reached
// 586 TFLOP/s (0.86x SDPA) with 128x128 blocks, 4 warps, 2 stages and 2-D
// descriptors, against 553 for the best configuration without it
// (benchmarks/attention_ceiling.py).  fp32 inputs would not fit two 128x128
// stages in shared memory.
bool prefers_warp_specialized_attention(const DeviceInfo& device, int max_element_bytes) {
  return is_hopper(device) && max_element_bytes <= 2;
}

// On the H200 (4096^3 bf16) 128x256 tiles ran at 747 TFLOP/s against 692 for
// 128x128 and 743 for cuBLAS; with 3 stages they use 144 KB of shared memory.
bool prefers_wide_matmul_tiles(const DeviceInfo& device, int max_element_bytes) {
  return cuda_hopper_or_newer(device) && max_element_bytes <= 2;
}

}  // namespace deuteron::target
