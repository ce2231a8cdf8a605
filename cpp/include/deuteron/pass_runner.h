// One pass or analysis on IR text: `deuteronc --run-pass=NAME file.ir`, like
// triton-opt.  The pass tests under cpp/tests/passes are written with it.
#pragma once

#include <cstdint>
#include <memory>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "deuteron/diagnostic.h"
#include "deuteron/ir.h"

namespace deuteron {

// The config values the passes read (the pipeline takes them from the
// normalized config; here they come from the command line).
struct PassOptions {
  std::optional<std::vector<int64_t>> block_sizes;                     // --block-sizes=64,32
  std::optional<std::vector<std::optional<int64_t>>> reduction_loops;  // --reduction-loops=16,none
  int subtiles = 1;                                                    // --subtiles=2
  // A kernel that must launch persistent (hl.barrier phases, a grid read on
  // the device): reduction_rolling keeps chunk loops out of the grid.
  bool persistent_only = false;                                        // --persistent-only
  // What the plan analyses (masks, accesses, loops, grid) read besides the
  // block sizes: one indexing mode for every load and store, the grid's
  // flattening and pid_type, and the knobs of every inner loop.
  std::string indexing = "pointer";                                    // --indexing=tensor_descriptor
  bool flatten = false;                                                // --flatten
  std::string pid_type = "flat";                                       // --pid-type=xyz
  int l2_grouping = 1;                                                 // --l2-grouping=8
  int num_warps = 4;                                                   // --num-warps=8
  int num_stages = 1;                                                  // --num-stages=3
  std::optional<bool> warp_specialize;                                 // --warp-specialize=true
  bool static_ranges = false;                                          // --static-ranges
  // inner_loop_order: the permutation of each nest, by the nest's first dim.
  std::map<int, std::vector<int>> nest_orders;                         // --nest-orders=d1:2.0.1
};

// A pass that cannot run as asked: unknown name, a missing option.
class PassUsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What run_pass knows, with a line of help each.
struct PassInfo {
  const char* name;
  const char* help;
};
const std::vector<PassInfo>& known_passes();

// Parses the IR text of `file`, verifies it, runs `pipeline` on every kernel
// and returns what to print: the IR after the transformations (verified
// after each), or an analysis's findings.  `pipeline` is a pass name or
// several separated by commas (`reduction_rolling,dead_code_elimination`),
// an analysis only last.  Throws CompileError for malformed text and for IR
// that fails verification (pointing at the op's line in `file`), and
// PassUsageError.
std::string run_pass(const std::string& pipeline, const PassOptions& options,
                     const std::shared_ptr<const SourceFile>& file);

}  // namespace deuteron
