// The config key table (see config_keys.h).
//
// Ranges follow what Triton 3.6 and the hardware take, as Helion's config
// spec does: `maxnreg` becomes PTX's .maxnreg (registers are allocated in
// units of 8; Helion tunes None, 32, 64, 128, 256 of the same range);
// `num_sm_multiplier` is a power of two from 1 to 128 as in Helion.
#include "deuteron/config_keys.h"

#include <algorithm>
#include <limits>

#include "deuteron/diagnostic.h"

namespace deuteron {

namespace {

constexpr int64_t kNoMax = std::numeric_limits<int64_t>::max();

// GCC 12 warns that a moved json::Value's string "may be used uninitialized"
// in the table's values: a false positive of its std::variant code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
std::vector<json::Value> pow2s(int64_t lo, int64_t hi) {
  std::vector<json::Value> out;
  for (int64_t v = lo; v <= hi; v *= 2) out.push_back(json::Value(v));
  return out;
}

std::vector<json::Value> ints(int64_t lo, int64_t hi) {
  std::vector<json::Value> out;
  for (int64_t v = lo; v <= hi; ++v) out.push_back(json::Value(v));
  return out;
}

std::vector<json::Value> bools() { return {json::Value(false), json::Value(true)}; }
std::vector<json::Value> optional_bools() { return {json::Value(), json::Value(false), json::Value(true)}; }

std::vector<ConfigKey> build_table() {
  using namespace keys;
  const std::vector<json::Value> indexing = {indexing_modes::kPointer, indexing_modes::kTensorDescriptor,
                                             indexing_modes::kBlockPtr};
  // Keys in canonical order; each entry's fields in declaration order.
  return {
      {.name = kBlockSizes, .per = Per::BlockSize, .kind = ItemKind::Int,
       .min = 1, .max = int64_t{1} << 20, .power_of_two = true, .flattens_nested = true,
       .default_value = 64, .default_note = "64, clamped to the block size's range",
       .search_note = "powers of two within the block size's range and its extent (16..256 where it feeds a matmul)",
       .allowed = "powers of two from 1 to 2**20, at least the block size's minimum",
       .doc = "the block size of each tiled dimension (hl.tile), in the order the kernel registers them"},
      {.name = kLoopOrders, .per = Per::MultiDimLoop, .kind = ItemKind::Permutation,
       .fills_missing = true,
       .default_note = "the identity [0, 1, ...]",
       .search_note = "every permutation, for loops of up to 4 dims",
       .allowed = "permutations of 0..n-1 for a loop of n dims, like [1, 0]",
       .doc = "per loop over several dims (hl.tile([m, n]), hl.grid([a, b])), grid or inner: for a grid, the order "
              "in which its dims map to program ids, the first varying fastest; for an inner loop, the order of its "
              "nested loops, the first outermost"},
      {.name = kFlattenLoops, .per = Per::FlattenableLoop, .kind = ItemKind::Bool,
       .fills_missing = true, .flattens_nested = true,
       .default_value = false,
       .search_values = bools(), .search_note = "loops deuteron can flatten",
       .allowed = "True or False",
       .doc = "run an hl.tile loop over several dims as one loop over their elements, one block of the product of "
              "their block sizes at a time: a grid (pointwise kernels over their grid tiles only) or an inner loop "
              "(a pointwise body that carries no values)"},
      {.name = kL2Groupings, .per = Per::TiledGrid, .kind = ItemKind::Int,
       .min = 1, .max = 64, .power_of_two = true, .fills_missing = true, .flattens_nested = true,
       .default_value = 1, .default_note = "8 in kernels with a dot, else 1",
       .search_values = pow2s(1, 64),
       .allowed = "powers of two from 1 to 64",
       .doc = "how many rows of tiles consecutive programs sweep together, for L2 reuse (1 = row-major)"},
      {.name = kReductionLoops, .per = Per::ReductionLoop, .kind = ItemKind::Int,
       .nullable = true, .null_means = "persistent",
       .min = 1, .max = kNoMax, .power_of_two = true, .one_value_for_all = true,
       .fills_missing = true, .flattens_nested = true,
       .default_value = json::Value(), .default_note = "None; 4096 when the dim's extent is symbolic",
       .search_note = "None and powers of two below the extent (64..16384)",
       .allowed = "None or a power of two",
       .doc = "per reducible whole dim: None keeps it in one block, N loops over chunks of N"},
      {.name = kStaticRanges, .per = Per::StaticRangeLoop, .kind = ItemKind::Bool,
       .fills_missing = true, .flattens_nested = true,
       .default_value = false,
       .search_values = bools(), .search_note = "every entry",
       .allowed = "True or False",
       .doc = "per inner loop dim whose bounds are known when compiling and that takes at most 8 steps as written "
              "(elements for a block size the config picks): unroll it at compile time (tl.static_range)"},
      {.name = kRangeUnrollFactors, .per = Per::RangeLoop, .kind = ItemKind::Int,
       .min = 0, .max = 4, .fills_missing = true, .flattens_nested = true,
       .default_value = 0,
       .search_values = {0, 1, 2, 4}, .search_note = "loops that load",
       .allowed = "0..4 (0 = no unrolling)",
       .doc = "tl.range's loop_unroll_factor, per loop (a kernel's grid loop: its loop over tiles under a persistent "
              "pid_type, which other pid types do not have)"},
      {.name = kRangeNumStages, .per = Per::PipelinedLoop, .kind = ItemKind::Int,
       .min = 0, .max = 4, .fills_missing = true, .flattens_nested = true,
       .default_value = 0,
       .search_values = ints(0, 4), .search_note = "loops that load",
       .allowed = "0..4 (0 = the kernel's num_stages)",
       .doc = "tl.range's num_stages, per loop as range_unroll_factors: the loop's software pipeline depth"},
      {.name = kRangeMultiBuffers, .per = Per::RangeLoop, .kind = ItemKind::Bool,
       .nullable = true, .null_means = "Triton's default", .fills_missing = true, .flattens_nested = true,
       .default_value = json::Value(),
       .search_values = optional_bools(), .search_note = "loops that load",
       .allowed = "None, True or False",
       .doc = "tl.range's disallow_acc_multi_buffer, inverted, per loop as range_unroll_factors"},
      {.name = kRangeFlattens, .per = Per::RangeLoop, .kind = ItemKind::Bool,
       .nullable = true, .null_means = "Triton's default", .fills_missing = true, .flattens_nested = true,
       .default_value = json::Value(),
       .search_values = optional_bools(), .search_note = "loops that load",
       .allowed = "None, True or False",
       .doc = "tl.range's flatten, per loop as range_unroll_factors"},
      {.name = kRangeWarpSpecializes, .per = Per::RangeLoop, .kind = ItemKind::Bool,
       .nullable = true, .null_means = "Triton's default", .fills_missing = true, .flattens_nested = true,
       .default_value = json::Value(),
       .search_values = optional_bools(),
       .search_note = "loops with a dot on Blackwell; flash attention's key loop on Hopper",
       .allowed = "None, True or False",
       .doc = "tl.range's warp_specialize, per loop as range_unroll_factors"},
      {.name = kNumWarps, .kind = ItemKind::Int,
       .min = 1, .max = 32, .power_of_two = true,
       .default_value = 4,
       .search_values = pow2s(1, 32), .search_note = "within the search options' num_warps_min..num_warps_max",
       .allowed = "a power of two from 1 to 32",
       .doc = "warps per program"},
      {.name = kNumStages, .kind = ItemKind::Int,
       .min = 1, .max = 8,
       .default_value = 1,
       .search_values = ints(1, 8),
       .search_note = "up to num_stages_max_dot with a dot, num_stages_max_loop with loads in loops, else 1",
       .allowed = "1 to 8",
       .doc = "software pipeline stages of the kernel's loops"},
      {.name = kPidType, .kind = ItemKind::String,
       .choices = {pid_types::kFlat, pid_types::kXyz, pid_types::kPersistentBlocked,
                   pid_types::kPersistentInterleaved},
       .default_value = pid_types::kFlat,
       .search_values = {pid_types::kFlat, pid_types::kXyz, pid_types::kPersistentBlocked,
                         pid_types::kPersistentInterleaved},
       .search_note = "'xyz' for grids of 2 or 3 dims",
       .doc = "program ids: one flat axis, one per grid dim (up to 3), or persistent programs that loop "
              "over the tiles in contiguous (blocked) or strided (interleaved) order"},
      {.name = kNumSmMultiplier, .kind = ItemKind::Int,
       .min = 1, .max = 128, .power_of_two = true,
       .default_value = 1,
       .search_values = pow2s(1, 8), .search_note = "with a persistent pid_type",
       .allowed = "a power of two from 1 to 128",
       .doc = "persistent kernels launch this many programs per SM (other pid types take only 1)"},
      {.name = kMaxnreg, .kind = ItemKind::Int,
       .nullable = true, .null_means = "no limit",
       .min = 32, .max = 256, .multiple_of = 8,
       .default_value = json::Value(),
       .allowed = "None or a multiple of 8 from 32 to 256",
       .doc = "the most registers a thread may use"},
      {.name = kSubtiles, .kind = ItemKind::Int,
       .min = 1, .max = 4, .choices = {1, 2, 4},
       .default_value = 1,
       .search_values = {1, 2}, .search_note = "on CUDA, kernels with a grid tile that feeds a dot's rows; 2 where a sub-tile keeps 16 rows",
       .allowed = "1 (off), 2 or 4",
       .doc = "split each program's block of the grid tile that feeds a dot's rows into this many sub-tiles "
              "sharing the other operand's loads (each at least 16 rows; only where no op reduces over that tile)"},
      {.name = kIndexing, .per = Per::LoadOrStore, .kind = ItemKind::String,
       .choices = indexing, .one_value_for_all = true,
       .default_value = indexing_modes::kPointer,
       .search_values = indexing,
       .search_note = "tensor_descriptor on compute capability 9.0+; block_ptr only when the search options allow it and Triton has block pointers (before 3.9)",
       .doc = "how each load and store addresses memory: pointer arithmetic, a TMA tensor descriptor, "
              "or a block pointer (Triton 3.9 removed them: there block_ptr normalizes to pointer)"},
      {.name = kAtomicIndexing, .per = Per::AtomicOp, .kind = ItemKind::String,
       .choices = indexing, .one_value_for_all = true,
       .default_value = indexing_modes::kPointer,
       .doc = "how each atomic op addresses memory (atomics use pointers today, so the list is empty)"},
      {.name = kLoadEvictionPolicies, .per = Per::Load, .kind = ItemKind::String,
       .choices = {eviction_policies::kDefault, eviction_policies::kFirst, eviction_policies::kLast}, .fills_missing = true,
       .default_value = eviction_policies::kDefault,
       .search_values = {eviction_policies::kDefault, eviction_policies::kFirst, eviction_policies::kLast},
       .doc = "the eviction policy of each load that hl.load does not give one ('' = Triton's default)"},
      {.name = kLoadCacheModifiers, .per = Per::Load, .kind = ItemKind::String,
       .choices = {"", ".ca", ".cg", ".cv"}, .fills_missing = true,
       .default_value = "",
       .doc = "the PTX cache modifier of each load ('' = none)"},
      {.name = kStoreCacheModifiers, .per = Per::Store, .kind = ItemKind::String,
       .choices = {"", ".wb", ".cg", ".cs", ".wt"}, .fills_missing = true,
       .default_value = "",
       .doc = "the PTX cache modifier of each store ('' = none)"},
  };
}
#pragma GCC diagnostic pop

bool is_pow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

bool integral(const json::Value& v) {
  return v.is_int() || (v.is_double() && v.as_double() == static_cast<double>(static_cast<int64_t>(v.as_double())));
}

json::Value array_of(const std::vector<json::Value>& v) { return json::Value(json::Array(v.begin(), v.end())); }

}  // namespace

bool ConfigKey::accepts(const json::Value& v) const {
  if (v.is_null()) return nullable;
  switch (kind) {
    case ItemKind::Bool: return v.is_bool();
    case ItemKind::String:
      return v.is_string() && std::find(choices.begin(), choices.end(), v) != choices.end();
    case ItemKind::Int: {
      if (!integral(v)) return false;
      int64_t x = v.as_int();
      if (x < min || x > max) return false;
      if (power_of_two && !is_pow2(x)) return false;
      if (multiple_of > 1 && x % multiple_of != 0) return false;
      return choices.empty() || std::find(choices.begin(), choices.end(), v) != choices.end();
    }
    case ItemKind::Permutation: {
      if (!v.is_array()) return false;
      std::vector<bool> seen(v.size(), false);
      for (const auto& x : v.as_array()) {
        if (!x.is_int() || x.as_int() < 0 || x.as_int() >= static_cast<int64_t>(v.size()) || seen[x.as_int()])
          return false;
        seen[x.as_int()] = true;
      }
      return true;
    }
  }
  return false;
}

std::string ConfigKey::allowed_text() const {
  if (*allowed) return allowed;
  std::string s = "one of ";
  for (size_t i = 0; i < choices.size(); ++i)
    s += (i ? ", " : "") + (choices[i].is_string() ? choices[i].as_string() : json::dump(choices[i]));
  return s;
}

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> table = build_table();
  return table;
}

const ConfigKey* find_config_key(std::string_view name) {
  for (const auto& k : config_keys())
    if (name == k.name) return &k;
  return nullptr;
}

const ConfigKey& config_key(std::string_view name) {
  const ConfigKey* k = find_config_key(name);
  DEUTERON_CHECK(k, "no config key named '" + std::string(name) + "'");
  return *k;
}

const char* per_name(Per per) {
  switch (per) {
    case Per::One: return "one";
    case Per::BlockSize: return "block size";
    case Per::ReductionLoop: return "reducible whole dim";
    case Per::MultiDimLoop: return "loop over 2+ dims";
    case Per::FlattenableLoop: return "flattenable loop";
    case Per::TiledGrid: return "grid of 2+ dims";
    case Per::RangeLoop: return "grid loop and inner loop dim";
    case Per::PipelinedLoop: return "grid loop and inner loop dim (none when an argument is read and written)";
    case Per::StaticRangeLoop: return "short inner loop dim";
    case Per::LoadOrStore: return "load or store";
    case Per::Load: return "load";
    case Per::Store: return "store";
    case Per::AtomicOp: return "atomic op";
  }
  return "one";
}

const char* item_kind_name(ItemKind kind) {
  switch (kind) {
    case ItemKind::Int: return "int";
    case ItemKind::Bool: return "bool";
    case ItemKind::String: return "string";
    case ItemKind::Permutation: return "permutation";
  }
  return "int";
}

json::Value config_keys_json() {
  json::Array out;
  for (const auto& k : config_keys()) {
    json::Object o;
    o.emplace_back("name", json::Value(k.name));
    o.emplace_back("per", json::Value(per_name(k.per)));
    o.emplace_back("kind", json::Value(item_kind_name(k.kind)));
    o.emplace_back("nullable", json::Value(k.nullable));
    o.emplace_back("null_means", json::Value(k.null_means));
    bool is_int = k.kind == ItemKind::Int;
    o.emplace_back("min", is_int ? json::Value(k.min) : json::Value());
    o.emplace_back("max", is_int && k.max != kNoMax ? json::Value(k.max) : json::Value());
    o.emplace_back("power_of_two", json::Value(k.power_of_two));
    o.emplace_back("multiple_of", json::Value(k.multiple_of));
    o.emplace_back("choices", array_of(k.choices));
    o.emplace_back("one_value_for_all", json::Value(k.one_value_for_all));
    o.emplace_back("fills_missing", json::Value(k.fills_missing));
    o.emplace_back("flattens_nested", json::Value(k.flattens_nested));
    o.emplace_back("default", k.default_value);
    o.emplace_back("default_note", json::Value(k.default_note));
    o.emplace_back("searched", json::Value(k.searched()));
    o.emplace_back("search_values", array_of(k.search_values));
    o.emplace_back("search_note", json::Value(k.search_note));
    o.emplace_back("allowed", json::Value(k.allowed_text()));
    o.emplace_back("doc", json::Value(k.doc));
    out.push_back(json::Value(std::move(o)));
  }
  return json::Value(std::move(out));
}

}  // namespace deuteron
