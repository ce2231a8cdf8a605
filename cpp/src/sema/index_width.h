// Index width of a bound kernel: int32 offsets unless some tensor a device
// loop touches (an argument, or a tensor host code allocates) needs int64.
#pragma once

#include <vector>

#include "deuteron/sema.h"

namespace deuteron::sema {

// The largest offset generated code can form for a tensor of these sizes
// and strides, the masked-off lanes of a last partial block included.
SymInt padded_max_offset(const std::vector<SymInt>& sizes, const std::vector<SymInt>& strides);

struct IndexWidth {
  bool needs_int64 = false;   // some touched tensor's offsets leave int32 (or may, unguardably)
  std::vector<SymInt> guards;  // offsets int32 code must check at entry (symbolic at bind time)
};

// Decides over every tensor of every device loop of an analyzed program.
IndexWidth decide_index_width(const Program& program);

}  // namespace deuteron::sema
