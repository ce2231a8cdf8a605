// A loop that becomes programs of the grid, shared by the passes that do it:
// reduction rolling's chunks that only store (reduction_rolling.cc) and inner
// loops whose iterations are independent (independent_loops_to_grid.cc).
// Each program runs one iteration, and what the kernel body holds besides
// the loop runs in every program.
#pragma once

#include <set>

#include "deuteron/ir.h"

namespace deuteron::passes {

// Whether op is cheap to repeat in every program: a read, index arithmetic
// or elementwise work (no loop, contraction, reduction or effect).
bool cheap_to_repeat(const ir::Op& op);

// Whether everything at the kernel body's top level other than `loop` is
// cheap to repeat in every program: reads, index arithmetic and elementwise
// ops (no loop, contraction, reduction or effect).
bool rest_cheap_to_repeat(const ir::DeviceKernel& k, const ir::Op& loop);

// Whether `loop`, a top-level op of the kernel body, is an inner tile loop
// whose iterations are independent, so that it may run as programs of the
// grid (the conditions: independent_loops_to_grid.cc).  `kept`: dims whose
// loops the config gives tl.range knobs.
bool independent_iterations(const ir::DeviceKernel& k, const ir::Op& loop, const std::set<int>& kept);

// Puts the body of `loop` (a For at the kernel body's top level that carries
// nothing) where the loop was, and makes its dim the grid's last dim.
void loop_to_grid_dim(ir::DeviceKernel& k, ir::Op& loop);

}  // namespace deuteron::passes
