// IR -> IR transformations, one per file under cpp/src/passes/.  (What
// only reads the IR is an analysis: analysis.h.)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "deuteron/ir.h"

namespace deuteron::passes {

// Nests the For ops of each inner loop written over several dims
// (ir::DeviceKernel::nests) in the order its loop_orders entry gives:
// `orders` maps a nest's first dim to the permutation of its dims, outermost
// first (see inner_loop_order.cc).
void order_inner_loops(ir::DeviceKernel& kernel, const std::map<int, std::vector<int>>& orders);

// Removes ops whose results are unused and that have no side effects
// (stores, atomics, asserts, and loops/ifs that contain them are kept).
void eliminate_dead_code(ir::DeviceKernel& kernel);

// Closes up the numbers of the loads and stores left after dead-code
// elimination (a config's per-load and per-store lists count live ones, as
// Helion's do); see memory_op_numbering.cc.
void number_memory_ops(ir::DeviceKernel& kernel);

// `C[i] = where(m, new, C[i])` (the old value loaded from the same place)
// becomes a store of `new` masked by m: only the lanes the program changes
// write, so lanes that share an address cannot overwrite each other (see
// masked_store_from_select.cc).
void mask_stores_of_selects(ir::DeviceKernel& kernel);

// precision="fast": values of 16-bit and 8-bit float types stay in float32
// between ops and are rounded to their type only where the program can see
// it (stores, its own casts, dot operands, carried values); see
// fp32_intermediates.cc.
void keep_fp32_intermediates(ir::DeviceKernel& kernel);

// Turns reductions over full dims whose reduction_loops entry is a block size
// into loops over chunks of that size (see reduction_rolling.cc).
// Whole dims that share an entry (dims of one size that values move between:
// the columns of x @ w[:, :] stored through out[tile, :]) roll together.
// `chunks_may_be_programs`: the launch may grow (no persistent-only kernel),
// so chunks that only store become a grid dim instead of a loop.
void roll_reductions(ir::DeviceKernel& kernel, const std::vector<std::optional<int64_t>>& reduction_loops,
                     bool chunks_may_be_programs = false);
// Whether the whole dims `dims` (one, or several of one size) can be rolled:
// every reduction over them and every store through them can be computed
// chunk by chunk (sema offers a reduction_loops entry only then).
bool can_roll(ir::DeviceKernel& kernel, const std::set<int>& dims);

// Turns a dot whose contraction is a whole dim with a reduction_loops entry
// (a block size below its extent) into a loop over chunks of the contraction
// that accumulates dot(a_chunk, b_chunk, acc), as a matmul's K loop does
// (see contraction_rolling.cc).  Runs after roll_reductions.
void roll_contractions(ir::DeviceKernel& kernel, const std::vector<std::optional<int64_t>>& reduction_loops);

// Turns a top-level inner tile loop whose iterations are independent (it
// carries nothing, each iteration stores only its own elements, nothing in
// the kernel reads what it stores, and the rest of the program is cheap to
// repeat) into a dim of the grid (see independent_loops_to_grid.cc).  Only
// where the launch may grow; `kept`: dims whose loops the config gives
// tl.range knobs, which stay loops.
void independent_loops_to_grid(ir::DeviceKernel& kernel, const std::set<int>& kept = {});

// Splits a kernel whose top-level inner loops depend on each other's memory
// into one kernel per part, launched in order, where that lets more of its
// loops run as programs of the grid (see kernel_fission.cc).  Returns the
// parts (named `<kernel>_partN`), or nothing where the kernel stays whole
// (with its dead code eliminated, as the parts are).  `kept` as for
// independent_loops_to_grid.
std::vector<std::unique_ptr<ir::DeviceKernel>> split_kernel_at_loops(ir::DeviceKernel& kernel,
                                                                    const std::set<int>& kept = {});

// Drops tile dims whose block size is 1 from every type (they become scalar
// indices), so that e.g. attention's [1, M, N] tiles are plain 2-D and its
// matmuls map to Hopper's warp-group MMA (see unit_dim_elimination.cc).
// Dims in `keep` stay axes whatever their block: a flattened grid's dims,
// whose values vary across the lanes of one program.
void eliminate_unit_dims(ir::DeviceKernel& kernel, const std::vector<int64_t>& block_sizes,
                         const std::set<int>& keep = {});

// Splits each program's block of analysis::subtilable_dim into `subtiles` sub-tiles
// sharing everything else (config key `subtiles`).  Returns whether it did:
// not for subtiles <= 1, no such dim, or sub-tiles under 16 rows.
bool split_grid_subtiles(ir::DeviceKernel& kernel, int subtiles, const std::vector<int64_t>& block_sizes);

}  // namespace deuteron::passes
