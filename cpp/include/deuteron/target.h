// The target: which GPU the code is generated for, which Triton compiles it,
// and what that pair can do.
//
// Every rule that depends on the architecture or on the Triton version lives
// here, with the measurement or the documented limit behind it, so that the
// config normalizer, the default config, the autotuner's search space, the
// analyses that plan code generation and the emitter all ask the same
// questions of the same answers.  The code generator targets Triton 3.6; the
// CPU's stand-in target is an H100 (compute capability 9.0), so code made
// without a GPU is the code a Hopper GPU would run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "deuteron/dtype.h"
#include "deuteron/symbolic.h"

namespace deuteron {

// What the code generator knows about the target GPU.
struct DeviceInfo {
  std::string name = "NVIDIA H100 80GB HBM3";
  int sm_count = 132;
  int compute_capability = 90;
  int64_t max_shared_memory = 227 * 1024;  // per block, opt-in
  int max_threads_per_block = 1024;
  bool is_cuda = true;  // false: CPU interpreter (TRITON_INTERPRET)
  // The installed Triton, major * 100 + minor (3.6 is 306): the runtime
  // passes triton.__version__; deuteronc and tests default to the release
  // the code generator is written for.
  int triton_version = 306;
};

namespace target {

// The Triton release the generated code is written for (and whose
// compiler's limits the rules below describe).
inline constexpr int kTritonMajor = 3;
inline constexpr int kTritonMinor = 6;
// The Triton releases deuteron supports (pyproject.toml's range; CI runs the
// interpreter tests on both ends): major * 100 + minor.
inline constexpr int kOldestTriton = 304;
inline constexpr int kNewestTriton = 309;

// "compute capability 9.0, Triton 3.6" (what a generated module's header says).
std::string describe(const DeviceInfo& device);

// ------------------------------------------------------ Triton releases

// Whether Triton has tl.make_block_ptr: 3.9 removed block pointers in
// favour of tensor descriptors (its tl.make_block_ptr raises
// NotImplementedError).  Without them `indexing='block_ptr'` addresses
// memory through pointers (ConfigSpec::canonicalize) and the autotuner does
// not offer it.
bool has_block_pointers(const DeviceInfo& device);

// --------------------------------------------------------- architectures

// Hopper (compute capability 9.x), or the CPU's stand-in target.
bool is_hopper(const DeviceInfo& device);
// A CUDA GPU of compute capability 9.0 or newer (Hopper, Blackwell, ...).
bool cuda_hopper_or_newer(const DeviceInfo& device);
// A CUDA GPU of compute capability 10.0 or newer (Blackwell, ...).
bool cuda_blackwell_or_newer(const DeviceInfo& device);

// ---------------------------------------------------------------- dots

// tl.dot takes blocks of at least 16 along every dim: the fewest rows a
// sub-tile (config key `subtiles`) may have, and the smallest block the
// autotuner tries for a dim that feeds a dot.
inline constexpr int64_t kMinDotDim = 16;

// ------------------------------------------------ tensor descriptors (TMA)

// Whether the autotuner may try `indexing='tensor_descriptor'`: TMA exists
// from Hopper on.  (A config may still ask for it on any target: Triton's
// interpreter runs descriptors, and an access TMA cannot express uses
// pointers; see analysis::plan_kernel.)
bool offers_tensor_descriptors(const DeviceInfo& device);

// Hopper's tensor-map rules: 2 to 5 dims, the last one contiguous, the other
// strides multiples of 16 bytes, boxes of at most 256 elements per dim and
// at least 16 bytes along the last dim, 32-bit coordinates.
inline constexpr int kTmaMinRank = 2;
inline constexpr int kTmaMaxRank = 5;
inline constexpr int64_t kTmaMaxBox = 256;
inline constexpr int64_t kTmaMinInnerBoxBytes = 16;
inline constexpr int64_t kTmaStrideAlignmentBytes = 16;
inline constexpr int64_t kTmaMaxCoordinate = int64_t{1} << 31;

// Why TMA cannot move boxes of `boxes` elements of a tensor of `dtype` with
// `strides` (both listed in the order the descriptor sees the dims, the
// contiguous one last), or "" when it can.
std::string tma_obstacle(DType dtype, const std::vector<SymInt>& strides, const std::vector<int64_t>& boxes);

// ------------------------------------------------- warp specialization

// Which inner loops the autotuner offers `range_warp_specializes` for.
enum class WarpSpecializeOffer {
  None,                 // no loop
  FlashAttentionLoops,  // a flash attention's key loop (ConfigSpec::flash_attention_loop)
  DotLoops,             // every loop with a dot
};
WarpSpecializeOffer warp_specialize_offer(const DeviceInfo& device);

// What a loop that asks for warp_specialize=True looks like to the compiler.
struct WarpSpecializedLoop {
  int loops_in_kernel = 1;          // For ops anywhere in the kernel
  bool all_2d_descriptors = true;   // every load and store in the loop is a 2-D tensor descriptor (no atomics)
  int num_warps = 4;
  int num_stages = 1;               // the loop's pipeline depth (range_num_stages, else num_stages)
};
// Why the target cannot warp-specialize the loop ("" when it can).
std::string warp_specialize_obstacle(const DeviceInfo& device, const WarpSpecializedLoop& loop);

// ----------------------------------------------------- default configs

// Whether a 16-bit flash attention defaults to the warp-specialized form
// (128x128 blocks, 4 warps, 2 stages, 2-D descriptors, the key loop
// warp-specialized): on Hopper, where Triton 3.6 compiles it.
bool prefers_warp_specialized_attention(const DeviceInfo& device, int max_element_bytes);

// Whether a large 16-bit matmul defaults to 128x256 output tiles.
bool prefers_wide_matmul_tiles(const DeviceInfo& device, int max_element_bytes);

}  // namespace target
}  // namespace deuteron
