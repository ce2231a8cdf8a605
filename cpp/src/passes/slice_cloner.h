// Cloning a value's "slice" with some of its whole dims cut into chunks: the
// ops that produce it, from loads and values known outside, retyped so that
// the chunked dims become one chunk dim.  Shared by the passes that turn a
// whole dim into a loop over chunks (reduction_rolling.cc for reductions and
// stores, contraction_rolling.cc for a dot's contraction); which operand axes
// a chunk cuts is ir::operand_chunks (ir/chunking.cc).
#pragma once

#include <map>
#include <set>
#include <utility>
#include <vector>

#include "deuteron/ir.h"

namespace deuteron::passes {

class SliceCloner {
 public:
  SliceCloner(ir::DeviceKernel& k, int chunk) : k_(k), chunk_(chunk) {}

  // The chunk of `v` with its dims `want` cut, cloned at the builder's
  // insertion point (memoized: each value and cut is cloned once).  A value
  // with none of `want` is a leaf read from outside, itself.
  ir::Value* clone_value(ir::Builder& b, const ir::Value* v, const std::set<int>& want);
  // Clones `src` with its results' dims `s` cut and its operands' `sets`
  // (ir::operand_chunks, or ir::sink_operand_chunks for a store).
  ir::Op* clone_op(ir::Builder& b, const ir::Op& src, const std::set<int>& s, const std::vector<std::set<int>>& sets);
  // t with the dims of `s` replaced by the chunk dim.
  ir::Type subst(ir::Type t, const std::set<int>& s) const;

 private:
  ir::DeviceKernel& k_;
  int chunk_;
  std::map<std::pair<const ir::Value*, std::set<int>>, ir::Value*> map_;
};

}  // namespace deuteron::passes
