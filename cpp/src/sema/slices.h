// Slices with bounds as the index of one tensor dimension inside tile loops
// (x[tile, 2:6], x[:, 0:k], dst[i:i + 1]).  A slice selects a run of
// consecutive indices, so it is a dim of the slice's length: a whole (Full)
// dim when the length is a constant or a host size, indexed from the slice's
// start.
#pragma once

#include "analyzer.h"

namespace deuteron::sema {

struct SliceIndex {
  ir::IndexSpec spec;            // TileDim (+ offset), Tensor, or Scalar
  ir::Value* operand = nullptr;  // the index of a Tensor or Scalar spec
  // A slice of length 1 is a size-1 axis (it broadcasts as in PyTorch): the
  // start as a Scalar index with a NewAxis spec before it.
  bool new_axis = false;
  std::vector<int> dims;         // the axes the slice adds to the access
};

// `slice` indexes dimension `pos` of tensor `t`.  Bounds known on the host
// (ints, sizes) follow Python's rules (negative counts from the end, clamped
// to the size when both are constants) and make a TileDim of a Full dim
// shifted by the start (a size-1 axis for length 1); a bound computed on the device (dst[i:i + 1]) makes an
// index tensor start + arange(length), whose length must still be known when
// compiling.  Steps other than 1 are rejected.
SliceIndex lower_bounded_slice(Analyzer& a, const HostTensor& t, int pos, const SValue& slice, SourceSpan span);

}  // namespace deuteron::sema
