// Autotuning search: the search space of a ConfigSpec and the strategies that
// walk it.
//
// A SearchSpace turns a ConfigSpec (+ DeviceInfo) into a list of discrete
// parameters, one per tunable config entry (`block_sizes[0]`, `num_warps`,
// `indexing[2]`, ...).  A point of the space is a vector of choice indices,
// one per parameter; decoding a point starts from the kernel's default config,
// writes each parameter's value and runs ConfigSpec::normalize, so every
// config the tuner produces is valid.  Config keys that are not tuned keep
// their default value.
//
// Strategies (random, pattern search, differential evolution, surrogate-guided)
// share one ask/tell interface and are deterministic given a seed: every
// random draw comes from tune::Rng (SplitMix64 + our own bounded draw, so the
// sequence is the same on every platform and standard library).
//
// Nothing here benchmarks anything: the Python driver (deuteron.autotune)
// compiles and times the configs a strategy asks for and tells it the result.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "deuteron/config.h"
#include "deuteron/json.h"

namespace deuteron::tune {

// ------------------------------------------------------------------ random

// SplitMix64: tiny, fast, fully specified (identical output everywhere).
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : state_(seed) {}
  uint64_t next();
  // Uniform in [0, n) by rejection (no modulo bias); n must be > 0.
  uint64_t below(uint64_t n);
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  bool chance(double p) { return uniform() < p; }
  // Derives an independent stream (for sub-components) deterministically.
  Rng fork(uint64_t salt);

 private:
  uint64_t state_;
};

// -------------------------------------------------------------- the space

// A point of the space: one choice index per parameter.
using Point = std::vector<int>;
std::string point_key(const Point& p);  // "3,0,2,..." (for sets and maps)

struct Param {
  std::string name;       // "block_sizes[0]", "num_warps", a tunable's name
  std::string key;        // config key
  int index = -1;         // list entry, or -1 for scalar keys
  std::vector<json::Value> choices;
  bool ordinal = true;    // neighbours are adjacent choices (else any other choice)
  int default_choice = 0;
  // What the parameter is (used by the constraint model).
  enum class Role { BlockSize, ReductionLoop, NumWarps, NumStages, RangeNumStages, PidType, NumSmMultiplier, Other } role =
      Role::Other;
};

// Which knobs are searched.  The defaults are what the autotuner uses;
// SpaceOptions::from_json reads the same names from a JSON object.
struct SpaceOptions {
  int num_warps_min = 2, num_warps_max = 16;
  int num_stages_max_dot = 5;   // kernels with a dot: num_stages in 1..this
  int num_stages_max_loop = 4;  // kernels whose inner loops load: 1..this (else num_stages is not tuned)
  bool tune_loop_orders = true;
  bool tune_flatten_loops = true;
  bool tune_l2_groupings = true;
  bool tune_reduction_loops = true;
  bool tune_static_ranges = true;
  bool tune_range_knobs = true;       // range_unroll_factors, range_num_stages, range_multi_buffers
  bool tune_range_flattens = false;   // only matters for nested loops
  bool tune_warp_specialize = true;   // loops containing a dot, on compute capability >= 90
  bool tune_pid_type = true;
  bool tune_subtiles = true;
  bool tune_indexing = true;
  bool allow_tensor_descriptor = true;  // needs compute capability >= 90 and a CUDA device
  bool allow_block_ptr = false;          // deprecated in Triton: off by default
  bool tune_eviction_policies = true;
  bool tune_tunables = true;
  int64_t max_block_size = 1 << 16;  // cap on any one block size
  // Constraint model (see SearchSpace::feasible).
  int64_t max_tile_elements = 1 << 20;
  int64_t max_elements_per_thread = 256;      // kernels without a dot
  int64_t max_acc_elements_per_thread = kMaxAccElementsPerThread;  // dot accumulators (more spills registers)
  static SpaceOptions from_json(const json::Value& v);  // unknown keys: std::invalid_argument
};

class SearchSpace {
 public:
  SearchSpace(ConfigSpec spec, DeviceInfo device, SpaceOptions options = {});
  // With an explicit default config (e.g. the one the core computed).
  SearchSpace(ConfigSpec spec, DeviceInfo device, const json::Value& default_config, SpaceOptions options = {});

  const std::vector<Param>& params() const { return params_; }
  size_t size() const { return params_.size(); }
  const ConfigSpec& spec() const { return spec_; }
  const DeviceInfo& device() const { return device_; }
  const json::Value& default_config() const { return default_config_; }
  const Point& default_point() const { return default_point_; }
  // log10 of the number of points (ignoring constraints).
  double log10_cardinality() const;

  // Normalized config JSON of a point.  Throws ConfigError only on a bug.
  json::Value decode(const Point& p) const;
  // The point nearest a config (values not in a parameter's choices map to
  // the nearest ordinal choice or the default).  Accepts partial configs.
  Point encode(const json::Value& config) const;
  // Sets irrelevant parameters to their default (num_sm_multiplier without a
  // persistent pid_type, ...) so that equal configs have equal points.
  void canonicalize(Point& p) const;

  // The constraint model: an estimate of the tile size, registers and shared
  // memory of every kernel vs SpaceOptions/DeviceInfo (see tune/search_space.cc).
  bool feasible(const Point& p) const;
  // Shrinks block sizes / raises warps until feasible (bounded number of steps).
  void repair(Point& p, Rng& rng) const;

  Point random_point(Rng& rng) const;  // uniform draw, repaired, canonical
  // Every point one step away (ordinal: +-1, categorical: each other value), canonical, feasible.
  std::vector<Point> neighbors(const Point& p) const;
  // `changes` random single-parameter steps (ordinal steps of 1 or 2), canonical, feasible.
  Point mutate(const Point& p, Rng& rng, int changes = 1) const;
  // Uniform crossover: each parameter from a or b.
  Point crossover(const Point& a, const Point& b, Rng& rng) const;
  // Numeric features for the surrogate (ordinal: position in [0,1]; categorical:
  // one-hot; plus log2 tile size and elements per thread of each kernel).
  std::vector<double> features(const Point& p) const;
  size_t num_features() const;

  // A JSON description of the parameters (for logs and tests).
  json::Value describe() const;

  // Estimated sizes per kernel, exposed for tests and features.
  struct KernelEstimate {
    double tile_elements = 1;   // elements of the largest live tile of a program
    double threads = 128;
    double acc_elements = 0;    // dot accumulator elements (0 without a dot)
    double shared_bytes = 0;    // pipelined dot operand buffers
  };
  std::vector<KernelEstimate> estimate(const Point& p) const;

 private:
  void build();
  int param_value_int(const Point& p, int param, int64_t dflt) const;

  ConfigSpec spec_;
  DeviceInfo device_;
  SpaceOptions options_;
  json::Value default_config_;
  std::vector<Param> params_;
  Point default_point_;
  std::vector<int> block_param_;       // block size index -> param (or -1)
  std::vector<int> reduction_param_;   // reduction loop index -> param (or -1)
  int num_warps_param_ = -1, num_stages_param_ = -1, pid_param_ = -1, sm_mult_param_ = -1, subtiles_param_ = -1;
};

// -------------------------------------------------------------- strategies

struct Trial {
  Point point;
  std::optional<double> seconds;  // nullopt: the config failed (compile error, crash, wrong answer, ...)
};

// How long a search runs.  A generation is one ask() that returned points.
struct EffortPreset {
  std::string name;
  int initial_population = 32;  // first generation (default config + random)
  int batch = 16;               // later generations
  int max_generations = 10;
  int max_evaluations = 200;
  int patience = 4;             // generations without a >=0.5% improvement before stopping
  static EffortPreset named(const std::string& effort);  // "quick" | "full"; std::invalid_argument otherwise
};

class Strategy {
 public:
  Strategy(const SearchSpace& space, uint64_t seed, EffortPreset effort);
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;

  // Up to `n` new points (never one asked before); n <= 0 means the preset's
  // batch size.  Empty when finished().  Each non-empty call is a generation.
  std::vector<Point> ask(int n = 0);
  // The result of a point from ask() (or any point: told points are never asked again).
  void tell(const Point& p, std::optional<double> seconds);
  std::optional<Trial> best() const;
  int generation() const { return generation_; }
  int evaluations() const { return static_cast<int>(history_.size()); }
  bool finished() const;
  const std::vector<Trial>& history() const { return history_; }
  const EffortPreset& effort() const { return effort_; }
  void set_max_generations(int g) { effort_.max_generations = g; }

 protected:
  // Proposes up to n candidate points; the base class drops seen ones.
  virtual std::vector<Point> propose(int n) = 0;
  virtual void observe(const Trial& t) { (void)t; }
  bool seen(const Point& p) const { return seen_.count(point_key(p)) > 0; }
  // Fills `out` up to n with fresh random points (bounded attempts).
  void fill_random(std::vector<Point>& out, int n);
  void add_unique(std::vector<Point>& out, const Point& p);
  void shuffle(std::vector<Point>& v);  // a permutation the seed decides
  // Neighbours of the default config, shuffled, added until `out` holds `limit`
  // points: how every strategy's first generation starts.
  void add_default_neighbours(std::vector<Point>& out, int limit);
  bool is_first_generation() const { return generation_ == 0; }
  // Successful trials sorted by time (fastest first).
  std::vector<const Trial*> ranked() const;

  const SearchSpace& space_;
  Rng rng_;
  EffortPreset effort_;

 private:
  std::vector<Trial> history_;
  std::set<std::string> seen_;
  int generation_ = 0;
  int stale_generations_ = 0;
  double best_at_generation_start_ = 0;
  bool exhausted_ = false;
};

// "random", "pattern", "de" (alias "differential_evolution"), "surrogate".
std::unique_ptr<Strategy> make_strategy(const std::string& name, const SearchSpace& space, uint64_t seed,
                                        EffortPreset effort);
const std::vector<std::string>& strategy_names();
// The strategy used when DEUTERON_AUTOTUNER is not set.
std::string default_strategy_name();

// ------------------------------------------------------------- a session

// Space + strategy + JSON in and out: what the Python binding wraps.
class SearchSession {
 public:
  SearchSession(ConfigSpec spec, DeviceInfo device, const json::Value& default_config, const std::string& strategy,
                uint64_t seed, const std::string& effort, std::optional<int> max_generations,
                const SpaceOptions& options = {});
  // Normalized configs (JSON objects).
  std::vector<json::Value> ask(int n = 0);
  // seconds = nullopt for a failure.  Configs not asked before are encoded.
  void tell(const json::Value& config, std::optional<double> seconds);
  std::optional<std::pair<json::Value, double>> best() const;
  int generation() const { return strategy_->generation(); }
  int evaluations() const { return strategy_->evaluations(); }
  bool finished() const { return strategy_->finished(); }
  const SearchSpace& space() const { return space_; }
  const Strategy& strategy() const { return *strategy_; }

 private:
  SearchSpace space_;
  std::unique_ptr<Strategy> strategy_;
  std::map<std::string, Point> asked_;  // dumped config -> point
};

// ------------------------------------------------------ serialization
//
// A lossless JSON form of ConfigSpec (ConfigSpec::to_json is a summary for
// users).  spec_from_json also accepts ConfigSpec::to_json's summary, filling
// what it lacks with conservative defaults.
json::Value spec_to_json(const ConfigSpec& spec);
ConfigSpec spec_from_json(const json::Value& v);
json::Value device_to_json(const DeviceInfo& d);
DeviceInfo device_from_json(const json::Value& v);
// A Python literal (True, None, 'x', 3, 2.5, [..]) as JSON; nullopt when it is not one.
std::optional<json::Value> python_literal_to_json(const std::string& repr);

}  // namespace deuteron::tune
