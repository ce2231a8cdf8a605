// The config space of a bound kernel and the configs in it.
//
// A ConfigSpec is derived from the analyzed program (analysis.h): one block
// size per tiled dimension, a loop order and an L2 grouping per multi-dimensional grid, a
// reduction loop per reducible full dimension, `tl.range` knobs per inner
// loop, an indexing mode per load/store, an eviction policy per load, plus
// launch parameters.  Configs are JSON objects whose keys are the config key
// table's (config_keys.h; deuteron.Config reads the same table); `normalize`
// fills defaults and rejects anything outside the space with a message naming
// the key and the allowed values.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "deuteron/config_keys.h"
#include "deuteron/json.h"
#include "deuteron/symbolic.h"
#include "deuteron/target.h"

namespace deuteron {

// Keys of ConfigSpec::to_json's summary that are not config keys: how many
// inner loops, tl.range knob entries, loads and stores there are, and the
// names of the kernel's tunables.  (The summary gives the per-loop keys'
// entry counts under their own names: loop_orders the rank of each entry's
// loop, flatten_loops whether deuteron can flatten each, l2_groupings,
// range_num_stages and static_ranges how many.)
namespace spec_summary {
inline constexpr const char kInnerLoops[] = "inner_loops";
inline constexpr const char kRangeLoops[] = "range_loops";  // entries of each tl.range knob
inline constexpr const char kNests[] = "nests";  // inner loops over several dims and their entries
inline constexpr const char kNumLoads[] = "num_loads";
inline constexpr const char kNumStores[] = "num_stores";
inline constexpr const char kTunables[] = "tunables";
}  // namespace spec_summary

// A Config outside the space (wrong key, length, or value).  `kind` names the
// problem where Helion has a class of its own for it (Python raises that
// subclass of deuteron.exc.ConfigError: "BarrierRequiresPersistent"); "" else.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& what, std::string kind = "")
      : std::runtime_error(what), kind_(std::move(kind)) {}
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
};

// What sema finds tunable in a kernel (Program::block_sizes, ...).
//
// A tunable block size (one per tile dimension unless shared through
// hl.register_block_size).
// The extent a block size records for a loop whose end is computed on the
// device (hl.jagged_tile, hl.tile(0, max_len)): a symbol without a hint, the
// size being unknown until the kernel runs (ConfigSpec::default_config sizes
// such blocks by the values they appear in: KernelSummary::unknown_extent_values).
inline constexpr const char* kDeviceExtent = "_device_extent";

struct BlockSizeSpec {
  int64_t min = 1;
  int64_t max = 1 << 30;    // upper bound from the extents it tiles (next power of 2)
  std::string origin;       // "tile_m", "register_block_size at line 7"
  std::string where;        // for messages: "tile loop 'tile[0]' at line 7" (not serialized; "": origin)
  std::vector<SymInt> extents;  // extents of the dims that use it (kDeviceExtent: unknown)
  // Whether every extent it tiles is unknown when compiling (no hint).
  bool extent_unknown() const {
    if (extents.empty()) return false;
    for (const auto& e : extents)
      if (e.hint()) return false;
    return true;
  }
  bool used_in_dot = false;     // a dim of this size feeds a matmul operand
  // The least block size a config may give (min is what the search and the
  // default use: 16 for matmul dims, where tensor cores start; smaller given
  // blocks are products without tl.dot, codegen/triton's emit_dot).
  int64_t min_allowed = 1;
  bool is_reduction_like = false;  // tiles an inner loop (k of a matmul, a looped reduction)
  // The largest block size a config may give, and why (a while condition over
  // the tile is one value only with one lane): the normalizer rejects more.
  int64_t max_allowed = int64_t{1} << 30;
  std::string max_allowed_why;
};

struct ReductionLoopSpec {
  SymInt extent;       // size of the reduced dimension
  std::string origin;  // "x[tile, :] at line 9"
};

// hl.register_tunable(name, fragment)
struct TunableSpec {
  std::string name;
  enum class Kind { PowerOfTwo, Integer, Enum, Boolean } kind = Kind::Integer;
  int64_t low = 0, high = 0;
  std::vector<std::string> choices;  // Enum: JSON text of each choice
  std::string default_repr;          // JSON text of the default
};

// One inner loop (For op) of a kernel, in program order across kernels.  A
// loop written over several dims (hl.tile([b, c])) is one For op per dim.
struct InnerLoopInfo {
  int kernel = 0;
  int op_id = -1;
  int dim = -1;
  // Its entry of the tl.range knobs (range_unroll_factors, ...) and of
  // static_ranges (-1: none; see ConfigSpec's per-loop entries).
  int range_entry = -1;
  int static_range_entry = -1;
  bool is_tile = true;          // a Tile dim (tl.range over blocks) or a Grid dim
  std::optional<int64_t> trip_count;  // when known before a config is chosen (grid loops, fixed blocks)
  std::optional<int64_t> extent;      // the loop's extent when known at compile time
  std::optional<int64_t> fixed_block; // block size fixed in the kernel
  int block_size_index = -1;          // otherwise config.block_sizes[i]
  bool contains_dot = false;
  bool contains_loads = false;
};

// The size of one axis of a value, as the search's constraint model sees it:
// config.block_sizes[block_size_index] when that is >= 0, otherwise `extent`
// (a fixed block, a whole dim's extent hint, or 1 for a broadcast axis).
struct AxisSize {
  int block_size_index = -1;
  int64_t extent = 1;
  // A whole dim that config.reduction_loops[reduction_loop_index] can roll:
  // a chunk of that many lanes when the entry gives one.  A dot's
  // contraction axis has none (it stays whole when its dim rolls).
  int reduction_loop_index = -1;
};

// One dot of a kernel: the axes of its result (the accumulator that lives in
// registers) and of the operands that Triton stages through shared memory.
// An operand loaded inside an inner loop is pipelined (num_stages buffers);
// one loaded before the loops takes one buffer; one computed in registers
// (attention's probabilities) takes none.  Dots of different inner loops run
// one loop after the other, so their tiles are not live at the same time.
struct DotSummary {
  std::vector<AxisSize> result;
  int loop = -1;  // op id of the innermost For around the dot (-1: none)
  struct Operand {
    std::vector<AxisSize> axes;
    int element_bytes = 2;
    enum class Source { Registers, LoadedOnce, LoadedInLoop } source = Source::Registers;
    int load = -1;  // op id of the load it comes from (one buffer however many dots read it)
  };
  Operand a, b;
};

// A load inside a loop that runs a dot.  Triton's software pipeliner stages
// every such load through shared memory, num_stages buffers of it, whether a
// dot reads it or not (measured: gdn_fwd_h's elementwise `u` tile counted in
// the 395 KB Triton asked for on the H200).
struct PipelinedLoad {
  int loop = -1;  // op id of the innermost For around the load (one that holds a dot)
  int load = -1;  // op id of the load
  std::vector<AxisSize> axes;
  int element_bytes = 2;
};

// What the heuristics need to know about one kernel (one device loop).
struct KernelSummary {
  std::vector<int> grid_block_sizes;  // block size index per tile dim of the grid (-1: fixed or grid dim)
  std::vector<int64_t> grid_extents;  // extent hints of the grid dims
  std::vector<int64_t> full_extents;  // extent hints of full dims used as value axes
  int max_element_bytes = 4;          // widest element loaded or stored
  bool has_dot = false;
  bool has_reduction = false;
  bool has_inner_loop = false;
  std::vector<DotSummary> dots;       // in program order
  std::vector<PipelinedLoad> pipelined_loads;  // loads in loops that hold a dot
  // The distinct shapes of the values that have an axis whose block size
  // tiles only extents unknown when compiling (BlockSizeSpec::extent_unknown:
  // jagged loops): the default config sizes those blocks so that each such
  // value fits its per-program element budget.
  std::vector<std::vector<AxisSize>> unknown_extent_values;
  // The grid tile that the `subtiles` key splits (analysis::subtilable_dim):
  // its config.block_sizes index, or its fixed block; both unset: none.
  int subtile_block_size_index = -1;
  int64_t subtile_fixed_block = 0;
  // The kernel's entries of the per-loop keys for its grid loop (-1: none):
  // the tl.range knobs (they act on the loop over tiles of a persistent
  // pid_type) and l2_groupings (grids of 2+ dims).
  int grid_range_entry = -1;
  int l2_grouping_entry = -1;
  bool subtilable() const { return subtile_block_size_index >= 0 || subtile_fixed_block > 0; }
  // That tile's block under a config's block sizes (block_sizes[i] = block_of(i)).
  template <typename BlockOf>
  int64_t subtile_block(const BlockOf& block_of) const {
    return subtile_block_size_index >= 0 ? block_of(subtile_block_size_index) : subtile_fixed_block;
  }
};

// What a kernel with dots needs of the GPU under one config, estimated from
// its KernelSummary (config/resource_estimate.cc): the accumulator elements
// live at once in registers and the shared memory of the staged loads.  The
// default config shrinks until it fits (ConfigSpec::default_config) and the
// autotuner's constraint model keeps its search inside (tune/search_space.cc).
struct DotResources {
  double acc_elements = 0;  // fp32 result elements of the dots of one inner loop, the largest loop
  double shared_bytes = 0;  // staged loads: pipelined ones times the depth, plus those loaded once
  int acc_loop = -1;        // the loop (For op id, -1: none) whose accumulators count
  int shared_loop = -1;     // the loop whose pipelined loads count
};
// `block(i)` is config.block_sizes[i]; `stages` the pipeline depth of the
// kernel's dot loops (range_num_stages, else num_stages).
// The loop key (DotResources::acc_loop, shared_loop) of the loop that rolls
// reduction_loops entry i: below -1, apart from For op ids (>= 0) and -1
// (outside any loop).
constexpr int kRolledLoopKeys = -100;
inline int rolled_loop_key(int entry) { return kRolledLoopKeys - entry; }
inline bool is_rolled_loop_key(int loop) { return loop <= kRolledLoopKeys; }
// `chunk(i)`: config.reduction_loops[i] (0: persistent); none: all persistent.
DotResources estimate_dot_resources(const KernelSummary& kernel, const std::function<int64_t(int)>& block,
                                    double stages, const std::function<int64_t(int)>& chunk = nullptr);
// More fp32 accumulator elements per thread than this spill registers (the
// search's max_acc_elements_per_thread and the default config's bound).
inline constexpr int64_t kMaxAccElementsPerThread = 192;

// A loop written over two or more dims: a kernel's grid (hl.tile([m, n]) at
// the top) or an inner loop nest (ir::DeviceKernel::nests).
struct MultiDimLoop {
  int kernel = 0;
  bool grid = false;
  int first_dim = -1;         // an inner nest's first dim as written (names it in the kernel's IR)
  int rank = 2;               // how many dims
  int loop_order_entry = -1;  // its loop_orders entry
  int flatten_entry = -1;     // its flatten_loops entry (-1: Helion offers none)
  bool flattenable = false;   // deuteron can run it as one loop (analysis/config_space.cc)
  // A flattenable inner nest's loads and stores (their memory_op numbers in
  // its kernel): flattened, they address memory through pointers.
  std::vector<int> loads, stores;
};

// Helion's bookkeeping of one per-loop key (helion/autotuner/
// block_id_sequence.py): an entry is added for each loop as the source
// writes them, holding the loop's block keys (its dims' block sizes; a dim
// without a config block size has a key of its own); a loop reads the last
// entry that holds its (first) key, so loops sharing a block size share one
// entry, and remove_duplicates drops the entries no loop reads
// (config/loop_entries.cc).
class LoopEntryList {
 public:
  void add(std::vector<int64_t> keys) { entries_.push_back(std::move(keys)); }
  // Drops every entry holding `key` (Helion's disable_block_id).
  void disable(int64_t key);
  // Helion's _remove_duplicates: an entry whose first key a later entry of
  // as many keys holds again is dropped; of two such entries of different
  // lengths, both are.
  void remove_duplicates();
  size_t size() const { return entries_.size(); }
  const std::vector<int64_t>& keys(size_t entry) const { return entries_.at(entry); }
  // The entry a loop whose (first) block key is `key` reads, or -1.
  int lookup(int64_t key) const;

 private:
  std::vector<std::vector<int64_t>> entries_;
};

struct ConfigSpec {
  std::vector<KernelSummary> kernels;
  std::vector<BlockSizeSpec> block_sizes;
  std::vector<ReductionLoopSpec> reduction_loops;
  // The per-loop keys have Helion's entries, counted and ordered as Helion
  // counts them (helion/language/loops.py, _add_config_choices, in the order
  // the source writes the loops; analysis/config_space.cc):
  //   loop_orders     one per loop over 2+ dims: each kernel's grid, each inner nest;
  //   flatten_loops   one per such hl.tile loop starting at 0 whose dims every
  //                   value holds all or none of, side by side and in order;
  //   l2_groupings    one per grid of 2+ dims;
  //   range_*         one per kernel's grid loop (the loop over tiles of a
  //                   persistent pid_type), then one per inner loop dim;
  //                   range_num_stages none at all where the kernel reads and
  //                   writes an argument (Program::read_and_written_args);
  //   static_ranges   one per inner loop dim Helion allows to unroll
  //                   (ir::Dim::static_range_ok);
  // loops that share block sizes sharing one entry (LoopEntryList).
  std::vector<MultiDimLoop> multi_dim_loops;
  std::vector<int> loop_order_sizes;    // per loop_orders entry: how many dims its loop has
  std::vector<int> loop_order_kernels;  // per loop_orders entry: the kernel of its (first) loop
  // Per flatten_loops entry: whether deuteron can run every loop that reads
  // it as one loop (MultiDimLoop::flattenable).
  std::vector<bool> flatten_allowed;
  std::vector<int> l2_grouping_kernels; // per l2_groupings entry: the kernel of its (first) grid
  int range_entries = 0;                // entries of each tl.range knob
  bool range_num_stages_off = false;    // range_num_stages has none (see above)
  int static_range_entries = 0;
  std::vector<InnerLoopInfo> inner_loops;
  int num_loads = 0;
  int num_stores = 0;
  std::vector<TunableSpec> tunables;
  bool has_dot = false;
  bool has_reduction = false;
  int max_grid_rank = 1;
  std::vector<int> kernel_load_offset;   // global index of each kernel's first load
  std::vector<int> kernel_store_offset;
  // Loads (global index) whose hl.load gives an eviction_policy: their
  // load_eviction_policies entry has nothing to choose.
  std::vector<int> loads_with_eviction_policy;
  // hl.barrier() between top-level loops (Program::barrier_phases): Helion's
  // rule, a persistent pid_type only (the default, the search and the
  // normalizer, which raises BarrierRequiresPersistent for another).
  bool barrier_phases = false;
  // A grid loop bounded by a tensor's value (hl.tile(num_elements) of a
  // one-element tensor): kernels read the bound on the device, so the launch
  // cannot size its grid by it: Helion's rule too, a persistent pid_type only.
  bool data_dependent_grid = false;
  bool requires_persistent() const { return barrier_phases || data_dependent_grid; }

  // The key loop of kernel k when it is a flash attention, else -1.
  int flash_attention_loop(int k) const;
  // The first inner loop that reads tl.range knob entry `entry`, or nullptr
  // when only a grid loop does (then range_entry_kernel says whose).
  const InnerLoopInfo* range_entry_loop(int entry) const;
  int range_entry_kernel(int entry) const;
  // Gives a spec built without IR (tests, ConfigSpec::to_json's summary read
  // back) the entries Helion would count for loops that share no block size:
  // a loop_orders and flatten_loops entry per loop_order_sizes entry (its
  // kernel's grid), an l2_groupings entry per l2_grouping_kernels entry, each
  // kernel's grid loop and then its inner loops a tl.range knob entry each.
  void number_loop_entries();
  // Whether some kernel has a grid tile that `subtiles` can split.
  bool subtilable() const {
    for (const auto& k : kernels)
      if (k.subtilable()) return true;
    return false;
  }

  // The space as JSON (for BoundKernel.config_spec in Python).
  json::Value to_json() const;
  // Fills every missing key with its default, validates, and canonicalizes.
  // Throws ConfigError naming the key.
  json::Value normalize(const json::Value& config, const DeviceInfo& device) const;
  // Rewrites the requests of a checked config that the generated code would
  // not follow to what it runs (canonical.cc); normalize's last step.
  void canonicalize(json::Value& config, const DeviceInfo& device) const;
  // The heuristic default config (a good config without search).
  json::Value default_config(const DeviceInfo& device) const;

  // How many entries a list key of this kernel has (Per::One: 1).
  size_t entries(Per per) const;
};

// (A program's ConfigSpec comes from its IR: analysis::derive_config_spec.)

}  // namespace deuteron
