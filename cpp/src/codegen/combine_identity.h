// The identity element of a user combine function, when it has an obvious one.
//
// Lanes past the end of a partial block must not change a reduction (or a
// reverse scan, which meets them first).  For `def add(a, b): return a + b`
// the emitter fills them with 0 as it does for tl.sum; for a combine function
// it cannot see through, it keeps them out with a validity flag instead
// (kernel_emitter.cc).  An analysis: it changes nothing.
#pragma once

#include <optional>
#include <vector>

#include "deuteron/ir.h"

namespace deuteron::codegen {

// One identity per result of a Scan/CombineReduce with a combine region when
// every result is a single add, mul, maximum, minimum, and, or or xor of its
// two arguments (casts around them allowed: 16-bit floats add in float32);
// nullopt otherwise.
std::optional<std::vector<ir::Literal>> combine_identity(const ir::Op& op);

}  // namespace deuteron::codegen
