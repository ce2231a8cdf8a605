// Which loops with device-computed bounds still run over whole blocks.
//
// Causal attention iterates `hl.tile(0, tile_m.begin)` and
// `hl.tile(tile_m.begin, tile_m.end)`: the bounds are device values, but
// they are multiples of tile_m's block.  When the loop's own block divides
// that, no block is partial, the loop needs no mask, and its loads read only
// rows inside the bounds (which lets tensor descriptors fold batch dims and
// lets a dot take a loaded operand as it is).  An analysis: it changes nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <set>

#include "deuteron/ir.h"

namespace deuteron::codegen {

// The dims of `k` iterated by a For with dynamic bounds whose begin and end
// are provably multiples of the dim's block.  `block_of(dim)` is the block
// size a config gives the dim (1 for grid dims).
std::set<int> whole_block_dims(const ir::DeviceKernel& k, const std::function<int64_t(int)>& block_of);

// Whether the device value `v` is provably a multiple of `m` (> 0).
bool provably_multiple_of(const ir::DeviceKernel& k, const ir::Value* v, int64_t m,
                          const std::function<int64_t(int)>& block_of);

}  // namespace deuteron::codegen
