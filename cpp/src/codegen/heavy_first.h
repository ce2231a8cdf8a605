// Which grid dims to launch in reverse so that the heaviest blocks start first.
//
// Causal attention's inner loop runs `hl.tile(0, tile_m.end)`: a query block's
// work grows with its position, and the last blocks do the most.  Launched in
// index order, those start last and run alone at the end while most SMs idle
// (a tail that cost causal attention about 4% on the H200, measured with
// benchmarks/attention_ceiling.py).  Launched in reverse, the long blocks
// start first and the short ones fill in behind them, the "longest job first"
// schedule.  An analysis: it changes nothing; the Triton emitter reverses the
// program ids of the dims it returns.
#pragma once

#include <optional>
#include <set>

#include "deuteron/ir.h"

namespace deuteron::codegen {

// Grid tile dims of `k` whose blocks provably do more work the higher their
// index: the trip counts of loops with device-computed bounds, summed, grow
// with the dim's block position (an end that grows with it counts +1, a begin
// that grows with it -1; a bound of unknown monotonicity rules the dim out).
std::set<int> heavy_last_grid_dims(const ir::DeviceKernel& k);

// How the scalar device value `v` changes as grid dim `d`'s block index grows:
// +1 never decreases (and depends on it), -1 never increases, 0 does not
// depend on it, nullopt unknown.
std::optional<int> monotonicity_in_grid_dim(const ir::DeviceKernel& k, const ir::Value* v, int d);

}  // namespace deuteron::codegen
