// The config keys: one table that owns every key of a config.
//
// For each key: its name, how many entries it has (one value, or one per block
// size, inner loop, load, ...), the kind of each entry and its legal values,
// the default, the values the autotuner searches, and one line of doc.  Every
// layer reads it: ConfigSpec::normalize (config_spec.cc), the search space
// (tune/search_space.cc), the Python Config (through _core.config_keys_json),
// `deuteronc --dump=config-keys` and the config section of docs/language.md
// (scripts/gen_config_docs.py).  The named constants below are the only
// spellings of the keys and of their enumerated values in C++.
//
// The table holds what a value means without a kernel: whether a block size
// is at least the kernel's minimum, or a loop can be flattened, is the
// normalizer's business (it knows the ConfigSpec).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "deuteron/json.h"

namespace deuteron {

// The key names, in canonical order (the order of Python's CONFIG_KEYS and of
// a Config's JSON).
namespace keys {
inline constexpr const char kBlockSizes[] = "block_sizes";
inline constexpr const char kLoopOrders[] = "loop_orders";
inline constexpr const char kFlattenLoops[] = "flatten_loops";
inline constexpr const char kL2Groupings[] = "l2_groupings";
inline constexpr const char kReductionLoops[] = "reduction_loops";
inline constexpr const char kStaticRanges[] = "static_ranges";
inline constexpr const char kRangeUnrollFactors[] = "range_unroll_factors";
inline constexpr const char kRangeNumStages[] = "range_num_stages";
inline constexpr const char kRangeMultiBuffers[] = "range_multi_buffers";
inline constexpr const char kRangeFlattens[] = "range_flattens";
inline constexpr const char kRangeWarpSpecializes[] = "range_warp_specializes";
inline constexpr const char kNumWarps[] = "num_warps";
inline constexpr const char kNumStages[] = "num_stages";
inline constexpr const char kPidType[] = "pid_type";
inline constexpr const char kNumSmMultiplier[] = "num_sm_multiplier";
inline constexpr const char kMaxnreg[] = "maxnreg";
inline constexpr const char kSubtiles[] = "subtiles";
inline constexpr const char kIndexing[] = "indexing";
inline constexpr const char kAtomicIndexing[] = "atomic_indexing";
inline constexpr const char kLoadEvictionPolicies[] = "load_eviction_policies";
inline constexpr const char kLoadCacheModifiers[] = "load_cache_modifiers";
inline constexpr const char kStoreCacheModifiers[] = "store_cache_modifiers";
}  // namespace keys

// Values of `pid_type`: how program ids map to tiles.
namespace pid_types {
inline constexpr const char kFlat[] = "flat";
inline constexpr const char kXyz[] = "xyz";
inline constexpr const char kPersistentBlocked[] = "persistent_blocked";
inline constexpr const char kPersistentInterleaved[] = "persistent_interleaved";
// One program per SM (times num_sm_multiplier) that loops over the tiles.
inline bool is_persistent(std::string_view p) { return p == kPersistentBlocked || p == kPersistentInterleaved; }
}  // namespace pid_types

// Values of `indexing` and `atomic_indexing`: how a load or store addresses memory.
namespace indexing_modes {
inline constexpr const char kPointer[] = "pointer";
inline constexpr const char kTensorDescriptor[] = "tensor_descriptor";
inline constexpr const char kBlockPtr[] = "block_ptr";
}  // namespace indexing_modes

// Values of `load_eviction_policies` ("" = Triton's default).
namespace eviction_policies {
inline constexpr const char kDefault[] = "";
inline constexpr const char kFirst[] = "first";
inline constexpr const char kLast[] = "last";
}  // namespace eviction_policies

// How many entries a key has: one value, or a list with one entry per ...
enum class Per {
  One,            // a single value
  BlockSize,      // config.block_sizes: one per tiled dimension
  ReductionLoop,  // one per reducible whole dimension
  // The per-loop keys, counted as Helion counts them (config.h, ConfigSpec):
  MultiDimLoop,   // one per loop over 2+ dims: grids and inner loops (loop_orders)
  FlattenableLoop,  // one per hl.tile loop over 2+ dims that Helion lets flatten
  TiledGrid,      // one per kernel whose grid has 2+ dims (l2_groupings)
  RangeLoop,      // one per kernel's grid loop, then per inner loop dim (tl.range knobs)
  PipelinedLoop,  // as RangeLoop, none where the kernel reads and writes an argument
  StaticRangeLoop,  // one per inner loop dim with known bounds and at most 8 steps
  LoadOrStore,    // one per load, then one per store
  Load,
  Store,
  AtomicOp,       // one per atomic op (none today: atomics always use pointers)
};

// What one entry (or the one value) is.
enum class ItemKind {
  Int,          // an int in [min, max], possibly a power of two, a multiple, or one of `choices`
  Bool,
  String,       // one of `choices`
  Permutation,  // a permutation of 0..n-1, n fixed by the kernel
};

struct ConfigKey {
  const char* name = "";
  Per per = Per::One;
  ItemKind kind = ItemKind::Int;
  bool nullable = false;        // None is a legal value / entry
  const char* null_means = "";  // what None means, for the docs
  // ItemKind::Int: legal values are min..max, restricted further by the rest.
  int64_t min = 0;
  int64_t max = 0;
  bool power_of_two = false;
  int64_t multiple_of = 1;
  std::vector<json::Value> choices = {};  // when given, the only legal values, in order
  bool one_value_for_all = false;    // a single value may stand for the whole list
  // A list shorter than the kernel's entries is completed with the default,
  // as Helion completes it (its BlockIdSequence keys and the per-load lists).
  bool fills_missing = false;
  // Nested lists are flattened first (Helion's l2_grouping=[2, 4] stands for
  // l2_groupings=[2, 4]), as Helion flattens its BlockIdSequence keys.
  bool flattens_nested = false;
  json::Value default_value = {};    // the value (or every entry's value) when the key is left out
  const char* default_note = "";     // when the default depends on the kernel: how
  std::vector<json::Value> search_values = {};  // what the autotuner tries, when a fixed list
  const char* search_note = "";            // when (or how else) the autotuner searches the key
  // The legal values in words, as they follow "use" or "entries must be" in
  // an error message (empty: generated from `choices`).
  const char* allowed = "";
  const char* doc = "";

  bool is_list() const { return per != Per::One; }
  bool searched() const { return !search_values.empty() || *search_note; }
  // Whether `v` is a legal value (for a list key: a legal entry).
  bool accepts(const json::Value& v) const;
  // `allowed`, or the choices as "one of a, b, c".
  std::string allowed_text() const;
};

// The table, in canonical key order.
const std::vector<ConfigKey>& config_keys();
// The key named `name`, or nullptr.
const ConfigKey* find_config_key(std::string_view name);
// The key named `name`; an internal error when there is none.
const ConfigKey& config_key(std::string_view name);

const char* per_name(Per per);        // "one", "block size", "inner loop", ...
const char* item_kind_name(ItemKind kind);  // "int", "bool", "string", "permutation"

// The table as JSON: a list of objects (name, per, kind, nullable, min, max,
// power_of_two, multiple_of, choices, one_value_for_all, default,
// default_note, searched, search_values, search_note, allowed, doc).  What
// Python's Config and the docs read.
json::Value config_keys_json();

}  // namespace deuteron
