// Analyses: facts about a kernel's IR that change nothing in it.
//
// Passes (passes.h) rewrite the IR; analyses read it, one job per file
// under cpp/src/analysis/.  Some serve the passes and the config space
// (subtilable_dim, derive_config_spec); the rest decide, from the lowered IR,
// the config and the target, what the Triton emitter prints: which dims need
// a mask, how each load and store addresses memory, which loop knobs and
// program-id layouts are honoured.  Their result is a KernelPlan; the emitter
// only reads it.  A config request the plan cannot honour is listed in
// KernelPlan::resolutions, and the generated module's header records it, so
// nothing a config asks for is dropped silently.  `deuteronc --run-pass=<name>`
// prints each analysis's findings on IR text.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "deuteron/config.h"
#include "deuteron/ir.h"
#include "deuteron/json.h"
#include "deuteron/target.h"

namespace deuteron::analysis {

// ------------------------------------------------------- block_alignment.cc
// Which loops with device-computed bounds still run over whole blocks.
//
// Causal attention iterates `hl.tile(0, tile_m.begin)` and
// `hl.tile(tile_m.begin, tile_m.end)`: the bounds are device values, but
// they are multiples of tile_m's block.  When the loop's own block divides
// that, no block is partial, the loop needs no mask, and its loads read only
// rows inside the bounds (which lets tensor descriptors fold batch dims and
// lets a dot take a loaded operand as it is).

// The dims of `k` iterated by a For with dynamic bounds whose begin and end
// are provably multiples of the dim's block.  `block_of(dim)` is the block
// size a config gives the dim (1 for grid dims).
std::set<int> whole_block_dims(const ir::DeviceKernel& k, const std::function<int64_t(int)>& block_of);

// Whether the device value `v` is provably a multiple of `m` (> 0).
bool provably_multiple_of(const ir::DeviceKernel& k, const ir::Value* v, int64_t m,
                          const std::function<int64_t(int)>& block_of);

// ----------------------------------------------------------- heavy_first.cc
// Which grid dims to launch in reverse so that the heaviest blocks start first.
//
// Causal attention's inner loop runs `hl.tile(0, tile_m.end)`: a query block's
// work grows with its position, and the last blocks do the most.  Launched in
// index order, those start last and run alone at the end while most SMs idle
// (a tail that cost causal attention about 4% on the H200, measured with
// benchmarks/attention_ceiling.py).  Launched in reverse, the long blocks
// start first and the short ones fill in behind them, the "longest job first"
// schedule.  The Triton emitter reverses the program ids of these dims.

// Grid tile dims of `k` whose blocks provably do more work the higher their
// index: the trip counts of loops with device-computed bounds, summed, grow
// with the dim's block position (an end that grows with it counts +1, a begin
// that grows with it -1; a bound of unknown monotonicity rules the dim out).
std::set<int> heavy_last_grid_dims(const ir::DeviceKernel& k);

// How the scalar device value `v` changes as grid dim `d`'s block index grows:
// +1 never decreases (and depends on it), -1 never increases, 0 does not
// depend on it, nullopt unknown.
std::optional<int> monotonicity_in_grid_dim(const ir::DeviceKernel& k, const ir::Value* v, int d);

// ------------------------------------------------------------- subtiling.cc
// The grid tile dim whose blocks grid_subtiling may split: the row dim of a
// dot's first operand, when no op turns a value with that dim into one
// without it (a reduction over the dim, a dot contracting it, a reshape, an
// if yielding it).  The config space offers the `subtiles` key where there is one.
std::optional<int> subtilable_dim(const ir::DeviceKernel& kernel);

// ---------------------------------------------------------- config_space.cc
// The config space of a program: the block sizes, reduction loops and
// tunables sema found, plus what the IR of each kernel offers (grids to order
// and flatten, inner loops, loads and stores, dots for the autotuner's
// constraint model, a grid tile to sub-tile).
// `reads_and_writes_an_argument`: Program::read_and_written_args is not
// empty (then range_num_stages has no entries, as in Helion);
// `expression_shapes`: Program::expression_shapes (empty: every op result's
// axes stand for them).
ConfigSpec derive_config_spec(const std::vector<const ir::DeviceKernel*>& kernels,
                              std::vector<BlockSizeSpec> block_sizes,
                              std::vector<ReductionLoopSpec> reduction_loops, std::vector<TunableSpec> tunables,
                              bool reads_and_writes_an_argument = false,
                              const std::vector<std::vector<std::vector<int>>>& expression_shapes = {});
// Whether deuteron can run inner nest `nest` of kernel k (its dims, as
// ir::DeviceKernel::nests lists them) as one loop over their elements
// (flatten_loops): a body of pointwise ops on values that hold the nest's dims
// side by side, carrying nothing.
bool inner_nest_flattenable(const ir::DeviceKernel& k, const std::vector<int>& nest);

// How a flattenable inner nest sits in the kernel (flat_nests.cc).
struct FlatNestShape {
  const ir::Op* outer = nullptr;  // the nest's outermost For
  const ir::Op* inner = nullptr;  // its innermost For, whose body is the flattened loop's
  std::vector<int> order;         // the dims in nesting order, outermost first (the last varies fastest)
  // The values that hold the nest's dims hold them side by side, this many
  // axes from the right; there the values that hold none have size-1 axes.
  int right = 0;
};
// The shape of `nest` (its dims as written) when deuteron can run it as one
// loop, else nullopt.
std::optional<FlatNestShape> flat_nest_shape(const ir::DeviceKernel& k, const std::vector<int>& nest);

// --------------------------------------------------------- kernel_config.cc
// A normalized config resolved for one kernel: its entries looked up by dim,
// loop op and memory op instead of by config list index, with the list index
// kept for messages.

struct RangeKnobs {
  int index = -1;  // the loop's entry of the tl.range knobs (range_unroll_factors[index], ...)
  int static_index = -1;  // its static_ranges entry (-1: none)
  int unroll = 0;
  int num_stages = 0;
  std::optional<bool> multi_buffer;
  std::optional<bool> flatten;
  std::optional<bool> warp_specialize;
  bool static_range = false;
};

struct KernelConfig {
  int kernel = 0;
  std::vector<int64_t> block_sizes;               // config.block_sizes (global)
  std::vector<std::optional<int64_t>> reduction_loops;
  std::vector<int> loop_order;                    // permutation of grid dims; [0] varies fastest
  int loop_order_index = -1;                      // this kernel's grid entry of loop_orders
  int flatten_index = -1;                         // its grid entry of flatten_loops
  int l2_grouping = 1;
  int l2_grouping_index = -1;                     // this kernel's entry of l2_groupings
  bool flatten = false;
  // Inner nests (ir::DeviceKernel::nests), by their first dim as written:
  // the loop_orders permutation (written dims in nesting order, outermost
  // first) and whether flatten_loops runs the nest as one loop.
  std::map<int, std::vector<int>> nest_orders;
  std::map<int, int> flattened_nests;  // first dim -> its flatten_loops entry
  std::string pid_type = pid_types::kFlat;
  int num_sm_multiplier = 1;
  int num_warps = 4;
  int num_stages = 1;
  std::optional<int> maxnreg;
  int subtiles = 1;
  std::map<int, std::string> load_indexing;       // memory_op -> an indexing mode (indexing_modes::)
  std::map<int, std::string> store_indexing;
  std::map<int, std::string> load_eviction;       // memory_op -> a load_eviction_policies value
  std::map<int, std::string> load_cache;          // memory_op -> a load_cache_modifiers value
  std::map<int, std::string> store_cache;         // memory_op -> a store_cache_modifiers value
  int first_load = 0;                             // global index of this kernel's load #0 (indexing, eviction)
  int first_store = 0;                            // of its store #0 (store_cache_modifiers)
  int num_loads = 0;                              // loads of the whole program (indexing lists stores after them)
  // tl.range knobs by the dim a For op iterates (a loop keeps them when
  // loop_orders nests it elsewhere); loops lowering made have none.
  std::map<int, RangeKnobs> ranges;
  // The grid loop's knobs: they act on the loop over tiles of a persistent
  // pid_type (index -1: the kernel has no entry).
  RangeKnobs grid_range;
  int sm_count = 132;
  std::string dot_precision = "tf32";
  // float32 `/` as tl.div_rn (rounds to nearest, as torch does) rather than
  // Triton's `/` (div.full.f32: within 2 ulp, faster): precision="strict".
  bool ieee_division = false;

  std::map<std::string, int64_t> tunables;        // hl.register_tunable values (bools as 0/1)

  // The block size of a Tile dim (config or fixed), 1 for Grid dims.
  int64_t block_of(const ir::Dim& d) const;
  // A dim's extent under this config: constant, or made of config values (a
  // whole dim of `2 * tile.block_size` lanes: 2 * _block_size_0); nullopt for
  // one known only at run time.
  std::optional<int64_t> extent_of(const ir::Dim& d) const;
  // Symbols that stand for config values (`_block_size_<i>`, `_tunable_<name>`):
  // their value as Python text, or nullopt for a run-time symbol.
  std::optional<std::string> config_symbol(const std::string& name) const;
  static bool config_symbol_name(const std::string& name) {
    return name.rfind("_block_size_", 0) == 0 || name.rfind("_tunable_", 0) == 0;
  }
  // "indexing[3]" for a load or store.
  std::string indexing_key(const ir::Op& memory_op) const;
};

KernelConfig kernel_config(const ConfigSpec& spec, const json::Value& config, int kernel, const DeviceInfo& device,
                           const std::string& dot_precision, Precision precision);

// --------------------------------------------------------------- the plan
// What the Triton emitter prints, decided before it prints (kernel_plan.cc
// and its parts: masks.cc, accesses.cc, loops.cc, grid.cc).

// Whether a dim's lanes need a mask (lanes past its end), and why.
struct DimMask {
  bool needed = false;
  std::string why;
};

enum class Addressing { Pointer, TensorDescriptor, BlockPointer };
const char* name(Addressing a);  // the indexing mode's config value

// One tensor dim of a block-shaped access.
struct BlockAxis {
  int dim = -1;        // the dim indexing it, or -1 for a scalar index
  int operand = -1;    // the scalar index's operand
  int64_t block = 1;   // the block along it (1 for a scalar index)
};

// How one load or store addresses memory.
struct AccessPlan {
  std::string requested;   // the config's indexing mode for it
  Addressing addressing = Addressing::Pointer;
  std::string fallback;    // why `requested` is not used ("" when it is)
  // A block-shaped access (tensor descriptor or block pointer): one axis per
  // tensor dim, in the tensor's order.
  std::vector<BlockAxis> axes;
  // Tensor descriptor: the tensor dims in the order the descriptor sees them
  // (identity, or the contiguous dim moved last: a transposed view, loaded in
  // memory order and permuted in registers), how many leading scalar-indexed
  // dims are folded into the first tiled one ([1, BN, D] boxes over
  // [B, N, D] become [BN, D] boxes over [B*N, D]), and the descriptor's
  // sizes and strides after folding.
  std::vector<size_t> order;
  size_t folded = 0;
  std::vector<SymInt> view_sizes, view_strides;
  // Block pointer: tl.make_block_ptr's order (dims from the smallest stride),
  // and the axes whose blocks can be partial (boundary_check).
  std::vector<size_t> block_ptr_order;
  std::vector<size_t> boundary_check;
  // The eviction policy the load uses ("" = Triton's default): the one
  // hl.load gives, else the config's.
  std::string eviction_policy;
};

// What one inner loop (For op) prints as.
// How a loop prints: tl.static_range, or tl.range with the arguments below
// (0 and nullopt leave an argument out).
struct LoopPlan {
  bool static_range = false;  // tl.static_range (the tl.range knobs do not apply)
  int num_stages = 0;
  int unroll = 0;                        // loop_unroll_factor
  std::optional<bool> multi_buffer;      // disallow_acc_multi_buffer = not multi_buffer
  std::optional<bool> flatten;
  // warp_specialize= of tl.range: the config's value where the target
  // compiles it; nullopt leaves the argument out.
  std::optional<bool> warp_specialize;
  std::string warp_specialize_left_out;  // why a True was left out ("" = not)
};

// A config request the code does not follow as asked.  Normalization
// (ConfigSpec::canonicalize) already rewrites every such request the config
// space shows, so for a normalized config only what the lowered IR decides
// is left here: an access TMA or a block pointer cannot move, a
// warp-specialized loop whose loads are not all 2-D descriptors, a
// program-wide key (pid_type 'xyz', subtiles) in a kernel it does not fit.
// The analyses still resolve the others, for IR text run with --run-pass
// and its un-normalized options.
struct Resolution {
  std::string key;    // "indexing[2]", "pid_type"
  std::string asked;  // "tensor_descriptor"
  std::string got;    // "pointer"
  std::string why;    // "the access shifts its index"
  std::string text() const;  // "indexing[2]: tensor_descriptor -> pointer (the access shifts its index)"
};

// An inner nest that flatten_loops runs as one loop (flat_nests.cc).
struct FlatNest {
  FlatNestShape shape;
  std::vector<int> written;  // its dims in the order written
  int flatten_index = -1;    // its flatten_loops entry
  int64_t block = 1;         // the product of its dims' blocks: the lanes of one step
  SymInt total = 1;          // the product of their extents: the elements it runs over
};

struct KernelPlan {
  // flatten_loops: the grid is one linear index space.
  bool flat = false;
  // flatten_loops on inner nests, and which (by index) each of their dims is in.
  std::vector<FlatNest> flat_nests;
  std::map<int, int> flat_nest_of_dim;
  const FlatNest* flat_nest_at(const ir::Op& loop) const;  // the nest whose outermost For is `loop`
  // pid_type 'xyz' honoured (one program id axis per grid dim).
  bool xyz = false;
  // The l2_groupings entry in effect (1 = none).
  int l2_grouping = 1;
  std::set<int> heavy_first_dims;           // grid dims launched in reverse
  std::set<int> whole_block_dims;           // dynamic-bound loops proven mask-free
  std::map<int, DimMask> masks;             // every dim the kernel uses
  std::map<const ir::Op*, AccessPlan> accesses;  // every Load and Store
  std::map<const ir::Op*, LoopPlan> loops;       // every For
  // A persistent pid_type's loop over tiles (`for virtual_pid in tl.range`).
  LoopPlan grid_loop;
  // Dots whose masked contraction lanes need zeroing per operand (a and b):
  // lanes past the end hold garbage unless the operand is a load that reads
  // zeros there.
  std::map<const ir::Op*, std::pair<bool, bool>> dot_zeroing;
  std::vector<Resolution> resolutions;      // in program order, each once

  bool needs_mask(int d) const;
  const AccessPlan& access(const ir::Op& op) const { return accesses.at(&op); }
  const LoopPlan& loop(const ir::Op& op) const { return loops.at(&op); }
};

// The parts of the plan, each an analysis of its own (and what --run-pass
// prints); plan_kernel runs them in this order.
void plan_grid(const ir::DeviceKernel& k, const KernelConfig& config, KernelPlan& plan);      // grid.cc
void plan_flat_nests(const ir::DeviceKernel& k, const KernelConfig& config, KernelPlan& plan);  // flat_nests.cc
// Whether the config makes the kernel's grid one linear index space
// (flatten_loops on a grid of two or more dims): then every grid dim varies
// across a program's lanes, even one whose block is 1 (grid.cc).
bool flattens_grid(const ir::DeviceKernel& k, const KernelConfig& config);
void plan_masks(const ir::DeviceKernel& k, const KernelConfig& config, KernelPlan& plan);     // masks.cc
void plan_accesses(const ir::DeviceKernel& k, const KernelConfig& config, KernelPlan& plan);  // accesses.cc
// Which dot operands need their masked contraction lanes zeroed (accesses.cc; plan_accesses calls it).
void plan_dot_zeroing(const ir::DeviceKernel& k, KernelPlan& plan);
void plan_loops(const ir::DeviceKernel& k, const KernelConfig& config, const DeviceInfo& device,
                KernelPlan& plan);                                                             // loops.cc
// Descriptor loads that Triton miscompiles go through pointers instead (descriptor_guard.cc; after
// plan_loops: a warp-specialized loop is compiled another way and keeps its descriptors).
void guard_descriptor_loads(const ir::DeviceKernel& k, const KernelConfig& config, KernelPlan& plan);

KernelPlan plan_kernel(const ir::DeviceKernel& k, const KernelConfig& config, const DeviceInfo& device);

}  // namespace deuteron::analysis
