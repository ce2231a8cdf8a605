// A loop that becomes programs of the grid, shared by the passes that do it:
// reduction rolling's chunks that only store (reduction_rolling.cc) and inner
// loops whose iterations are independent (independent_loops_to_grid.cc).
// Each program runs one iteration, and what the kernel body holds besides
// the loop runs in every program.
#pragma once

#include "deuteron/ir.h"

namespace deuteron::passes {

// Whether everything at the kernel body's top level other than `loop` is
// cheap to repeat in every program: reads, index arithmetic and elementwise
// ops (no loop, contraction, reduction or effect).
bool rest_cheap_to_repeat(const ir::DeviceKernel& k, const ir::Op& loop);

// Puts the body of `loop` (a For at the kernel body's top level that carries
// nothing) where the loop was, and makes its dim the grid's last dim.
void loop_to_grid_dim(ir::DeviceKernel& k, ir::Op& loop);

}  // namespace deuteron::passes
