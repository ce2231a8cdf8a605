// Search strategies behind one ask/tell interface (see deuteron/tune.h):
//   RandomSearch           the default config, then uniform random points
//   PatternSearch          the default + a few random, then the neighbours of the best
//                          few points; when a neighbourhood is exhausted, wider moves
//   DifferentialEvolution  DE/current-to-best on choice indices, binomial crossover
//   SurrogateSearch        a random forest of log(time) over SearchSpace::features,
//                          learned from every result; each generation compiles the
//                          candidates (random, neighbours, mutants, crossovers) with the
//                          highest expected improvement, discounted by a second forest's
//                          estimate of the chance of failure
// Every strategy starts with the default config and is deterministic given its seed.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "deuteron/tune.h"

namespace deuteron::tune {

// ------------------------------------------------------------ presets

EffortPreset EffortPreset::named(const std::string& effort) {
  EffortPreset e;
  e.name = effort;
  if (effort == "quick") {
    e.initial_population = 24;
    e.batch = 16;
    e.max_generations = 8;
    e.max_evaluations = 144;
    e.patience = 3;
  } else if (effort == "full") {
    e.initial_population = 48;
    e.batch = 32;
    e.max_generations = 24;
    e.max_evaluations = 800;
    e.patience = 6;
  } else {
    throw std::invalid_argument("unknown autotune effort '" + effort + "'; use 'quick' or 'full'");
  }
  return e;
}

// ------------------------------------------------------------ Strategy

Strategy::Strategy(const SearchSpace& space, uint64_t seed, EffortPreset effort)
    : space_(space), rng_(seed ^ 0x6465757465726F6Eull), effort_(std::move(effort)) {}

bool Strategy::finished() const {
  return exhausted_ || generation_ >= effort_.max_generations ||
         static_cast<int>(seen_.size()) >= effort_.max_evaluations || stale_generations_ >= effort_.patience;
}

std::optional<Trial> Strategy::best() const {
  const Trial* b = nullptr;
  for (const auto& t : history_)
    if (t.seconds && (!b || *t.seconds < *b->seconds)) b = &t;
  if (!b) return std::nullopt;
  return *b;
}

std::vector<const Trial*> Strategy::ranked() const {
  std::vector<const Trial*> r;
  for (const auto& t : history_)
    if (t.seconds) r.push_back(&t);
  std::stable_sort(r.begin(), r.end(), [](const Trial* a, const Trial* b) { return *a->seconds < *b->seconds; });
  return r;
}

void Strategy::add_unique(std::vector<Point>& out, const Point& p) {
  if (seen(p)) return;
  for (const auto& q : out)
    if (q == p) return;
  out.push_back(p);
}

void Strategy::fill_random(std::vector<Point>& out, int n) {
  for (int attempt = 0; static_cast<int>(out.size()) < n && attempt < 20 * n + 20; ++attempt)
    add_unique(out, space_.random_point(rng_));
}

void Strategy::shuffle(std::vector<Point>& v) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng_.below(i)]);
}

// Every strategy's first generation seeds from the default's neighbours, in
// an order the seed decides.
void Strategy::add_default_neighbours(std::vector<Point>& out, int limit) {
  auto nb = space_.neighbors(space_.default_point());
  shuffle(nb);
  for (const auto& p : nb)
    if (static_cast<int>(out.size()) < limit) add_unique(out, p);
}

std::vector<Point> Strategy::ask(int n) {
  if (finished()) return {};
  if (generation_ > 0) {
    // Patience: a generation is stale unless the best time improved by 0.5%
    // since the previous ask.
    auto b = best();
    const double now = b ? *b->seconds : 0;
    if (best_at_generation_start_ > 0) {
      if (now < best_at_generation_start_ * 0.995) stale_generations_ = 0;
      else ++stale_generations_;
    }
    best_at_generation_start_ = now;
    if (finished()) return {};
  }
  if (n <= 0) n = generation_ == 0 ? effort_.initial_population : effort_.batch;
  n = std::min(n, effort_.max_evaluations - static_cast<int>(seen_.size()));
  if (n <= 0) return {};
  std::vector<Point> out;
  if (generation_ == 0) {
    add_unique(out, space_.default_point());
    if (n > 1) {
      std::vector<Point> more = propose(n - 1);
      for (const auto& p : more)
        if (static_cast<int>(out.size()) < n) add_unique(out, p);
    }
  } else {
    for (const auto& p : propose(n))
      if (static_cast<int>(out.size()) < n) add_unique(out, p);
  }
  fill_random(out, n);
  if (out.empty()) {
    exhausted_ = true;
    return {};
  }
  for (const auto& p : out) seen_.insert(point_key(p));
  ++generation_;
  return out;
}

void Strategy::tell(const Point& p, std::optional<double> seconds) {
  if (seconds && !(std::isfinite(*seconds) && *seconds > 0)) seconds = std::nullopt;
  seen_.insert(point_key(p));
  history_.push_back(Trial{p, seconds});
  observe(history_.back());
}

namespace {

// --------------------------------------------------------------- random

class RandomSearch : public Strategy {
 public:
  using Strategy::Strategy;
  std::string name() const override { return "random"; }

 protected:
  std::vector<Point> propose(int n) override {
    std::vector<Point> out;
    fill_random(out, n);
    return out;
  }
};

// --------------------------------------------------------------- pattern

class PatternSearch : public Strategy {
 public:
  using Strategy::Strategy;
  std::string name() const override { return "pattern"; }

 protected:
  std::vector<Point> propose(int n) override {
    std::vector<Point> out;
    if (is_first_generation()) {
      // The default config plus a few random points, and the default's neighbours.
      fill_random(out, std::max(1, n / 3));
      add_default_neighbours(out, n);
      return out;
    }
    auto r = ranked();
    if (r.empty()) {
      fill_random(out, n);
      return out;
    }
    // Neighbours of the best few points, most from the best.
    const int centers = std::min<int>(3, static_cast<int>(r.size()));
    const int share[3] = {(n * 6 + 9) / 10, (n * 3 + 9) / 10, n};
    for (int c = 0; c < centers && static_cast<int>(out.size()) < n; ++c) {
      auto nb = space_.neighbors(r[c]->point);
      shuffle(nb);
      int limit = std::min<int>(n, static_cast<int>(out.size()) + share[c]);
      for (const auto& p : nb)
        if (static_cast<int>(out.size()) < limit) add_unique(out, p);
    }
    // Wider moves around the best when its neighbourhood is used up.
    for (int attempt = 0; static_cast<int>(out.size()) < n && attempt < 8 * n; ++attempt) {
      const Trial* base = r[rng_.below(std::min<size_t>(r.size(), 3))];
      add_unique(out, space_.mutate(base->point, rng_, 2 + static_cast<int>(rng_.below(2))));
    }
    return out;
  }

};

// ------------------------------------------------- differential evolution

class DifferentialEvolution : public Strategy {
 public:
  using Strategy::Strategy;
  std::string name() const override { return "de"; }

 protected:
  std::vector<Point> propose(int n) override {
    std::vector<Point> out;
    if (is_first_generation()) {
      // Like the other strategies: some neighbours of the default, the rest random.
      add_default_neighbours(out, n / 3);
      fill_random(out, n);
      return out;
    }
    std::vector<int> alive;
    for (size_t i = 0; i < pop_.size(); ++i)
      if (std::isfinite(pop_[i].fitness)) alive.push_back(static_cast<int>(i));
    auto b = best();
    for (int k = 0; k < n * 4 && static_cast<int>(out.size()) < n; ++k) {
      if (pop_.empty()) break;
      const int t = static_cast<int>(cursor_++ % pop_.size());
      Point trial;
      if (alive.size() < 4 || !b) {
        trial = space_.mutate(b ? b->point : pop_[t].point, rng_, 1);
      } else {
        auto pick = [&](std::initializer_list<int> avoid) {
          for (;;) {
            int x = alive[rng_.below(alive.size())];
            if (std::find(avoid.begin(), avoid.end(), x) == avoid.end()) return x;
          }
        };
        const int a = pick({t}), bi = pick({t, a}), c = pick({t, a, bi});
        // DE/best/1/bin most of the time (fast on small budgets), DE/rand/1/bin otherwise.
        const Point& base = rng_.chance(0.8) ? b->point : pop_[a].point;
        const Point& target = pop_[t].point;
        trial = target;
        const size_t dims = trial.size();
        const size_t jrand = dims ? rng_.below(dims) : 0;
        for (size_t j = 0; j < dims; ++j) {
          if (!(j == jrand || rng_.chance(kCrossover))) continue;
          const Param& par = space_.params()[j];
          const int diff = pop_[bi].point[j] - pop_[c].point[j];
          if (par.ordinal) {
            double v = base[j] + kF * diff;
            int iv = static_cast<int>(std::lround(v));
            trial[j] = std::clamp(iv, 0, static_cast<int>(par.choices.size()) - 1);
          } else {
            trial[j] = (diff != 0 && rng_.chance(kF)) ? pop_[bi].point[j] : base[j];
          }
        }
        space_.canonicalize(trial);
        if (!space_.feasible(trial)) space_.repair(trial, rng_);
        if (trial == target || seen(trial)) trial = space_.mutate(trial, rng_, 1);
      }
      if (seen(trial)) continue;
      size_t before = out.size();
      add_unique(out, trial);
      if (out.size() > before) target_of_[point_key(trial)] = t;
    }
    return out;
  }

  void observe(const Trial& t) override {
    const double f = t.seconds ? *t.seconds : std::numeric_limits<double>::infinity();
    auto it = target_of_.find(point_key(t.point));
    if (it != target_of_.end()) {
      Member& m = pop_[it->second];
      if (f < m.fitness) m = Member{t.point, f};
      target_of_.erase(it);
      return;
    }
    if (static_cast<int>(pop_.size()) < effort_.initial_population) {
      pop_.push_back(Member{t.point, f});
    } else {
      // A point from outside the population (told directly): replace the worst if better.
      auto worst = std::max_element(pop_.begin(), pop_.end(),
                                    [](const Member& a, const Member& b) { return a.fitness < b.fitness; });
      if (f < worst->fitness) *worst = Member{t.point, f};
    }
  }

 private:
  struct Member {
    Point point;
    double fitness;
  };
  static constexpr double kF = 0.5, kCrossover = 0.8;
  std::vector<Member> pop_;
  std::map<std::string, int> target_of_;
  size_t cursor_ = 0;
};

// ------------------------------------------------------- random forest

// Extremely randomized regression trees: at each node, a few random
// features, a few random thresholds each; the split with the lowest squared
// error wins.  Prediction: mean and spread over the trees.
class Forest {
 public:
  void fit(const std::vector<std::vector<double>>& x, const std::vector<double>& y, Rng& rng, int trees = 24) {
    trees_.clear();
    if (x.empty()) return;
    const size_t n = x.size();
    for (int t = 0; t < trees; ++t) {
      std::vector<int> rows(n);
      for (size_t i = 0; i < n; ++i) rows[i] = static_cast<int>(rng.below(n));  // bootstrap
      Tree tree;
      grow(tree, x, y, rows, 0, rng);
      trees_.push_back(std::move(tree));
    }
  }

  bool empty() const { return trees_.empty(); }

  std::pair<double, double> predict(const std::vector<double>& f) const {
    double s = 0, s2 = 0;
    for (const auto& t : trees_) {
      int i = 0;
      while (t[i].feature >= 0) i = f[t[i].feature] <= t[i].threshold ? t[i].left : t[i].right;
      s += t[i].value;
      s2 += t[i].value * t[i].value;
    }
    const double k = static_cast<double>(trees_.size());
    const double mean = s / k;
    return {mean, std::sqrt(std::max(0.0, s2 / k - mean * mean))};
  }

 private:
  struct Node {
    int feature = -1;
    double threshold = 0;
    int left = -1, right = -1;
    double value = 0;
  };
  using Tree = std::vector<Node>;

  int grow(Tree& tree, const std::vector<std::vector<double>>& x, const std::vector<double>& y,
           std::vector<int>& rows, int depth, Rng& rng) {
    const int id = static_cast<int>(tree.size());
    tree.push_back(Node{});
    double sum = 0;
    for (int r : rows) sum += y[r];
    tree[id].value = sum / static_cast<double>(rows.size());
    if (depth >= 12 || rows.size() < 4) return id;
    const size_t nf = x[0].size();
    const int tries = std::max<int>(1, static_cast<int>(nf) / 3);
    double best_err = std::numeric_limits<double>::infinity();
    int best_f = -1;
    double best_t = 0;
    for (int k = 0; k < tries * 2; ++k) {
      const size_t f = rng.below(nf);
      double lo = std::numeric_limits<double>::infinity(), hi = -lo;
      for (int r : rows) {
        lo = std::min(lo, x[r][f]);
        hi = std::max(hi, x[r][f]);
      }
      if (!(hi > lo)) continue;
      for (int s = 0; s < 3; ++s) {
        const double th = lo + (hi - lo) * (0.05 + 0.9 * rng.uniform());
        double sl = 0, sl2 = 0, sr = 0, sr2 = 0;
        int nl = 0, nr = 0;
        for (int r : rows) {
          if (x[r][f] <= th) { sl += y[r]; sl2 += y[r] * y[r]; ++nl; }
          else { sr += y[r]; sr2 += y[r] * y[r]; ++nr; }
        }
        if (nl < 1 || nr < 1) continue;
        const double err = (sl2 - sl * sl / nl) + (sr2 - sr * sr / nr);
        if (err < best_err) { best_err = err; best_f = static_cast<int>(f); best_t = th; }
      }
    }
    if (best_f < 0) return id;
    std::vector<int> l, r;
    for (int row : rows) (x[row][best_f] <= best_t ? l : r).push_back(row);
    if (l.empty() || r.empty()) return id;
    tree[id].feature = best_f;
    tree[id].threshold = best_t;
    const int li = grow(tree, x, y, l, depth + 1, rng);
    tree[id].left = li;
    const int ri = grow(tree, x, y, r, depth + 1, rng);
    tree[id].right = ri;
    return id;
  }

  std::vector<Tree> trees_;
};

// ------------------------------------------------------------ surrogate

class SurrogateSearch : public Strategy {
 public:
  using Strategy::Strategy;
  std::string name() const override { return "surrogate"; }

 protected:
  std::vector<Point> propose(int n) override {
    std::vector<Point> out;
    if (is_first_generation()) {
      // The default's best-guess neighbours, plus random points to learn from.
      add_default_neighbours(out, n / 3);
      fill_random(out, n);
      return out;
    }
    auto r = ranked();
    if (r.size() < 4) {
      for (int k = 0; k < 4 * n && static_cast<int>(out.size()) < n; ++k)
        add_unique(out, r.empty() ? space_.random_point(rng_) : space_.mutate(r[0]->point, rng_, 1 + k % 2));
      return out;
    }
    // Fit log(time) on the successes; the chance of failure on everything.
    std::vector<std::vector<double>> xs, xa;
    std::vector<double> ys, fa;
    bool any_fail = false;
    for (const auto& t : history()) {
      auto f = space_.features(t.point);
      xa.push_back(f);
      fa.push_back(t.seconds ? 0.0 : 1.0);
      any_fail = any_fail || !t.seconds;
      if (t.seconds) {
        xs.push_back(std::move(f));
        ys.push_back(std::log(*t.seconds));
      }
    }
    Forest model, failure;
    model.fit(xs, ys, rng_);
    if (any_fail) failure.fit(xa, fa, rng_, 16);

    // Candidates: neighbours of the leaders, mutants, crossovers, random points.
    std::vector<Point> cands;
    std::set<std::string> keys;
    auto push = [&](const Point& p) {
      if (!seen(p) && keys.insert(point_key(p)).second) cands.push_back(p);
    };
    const size_t leaders = std::min<size_t>(r.size(), 5);
    for (size_t i = 0; i < leaders; ++i)
      for (const auto& p : space_.neighbors(r[i]->point)) push(p);
    for (int k = 0; k < 200; ++k) push(space_.mutate(r[rng_.below(leaders)]->point, rng_, 2 + k % 3));
    for (int k = 0; k < 100; ++k)
      push(space_.crossover(r[rng_.below(leaders)]->point, r[rng_.below(std::min<size_t>(r.size(), 12))]->point, rng_));
    for (int k = 0; k < 300; ++k) push(space_.random_point(rng_));

    const double y_best = ys.empty() ? 0 : *std::min_element(ys.begin(), ys.end());
    struct Scored {
      double ei, mean;
      size_t index;
    };
    std::vector<Scored> scored;
    for (size_t i = 0; i < cands.size(); ++i) {
      auto f = space_.features(cands[i]);
      auto [mu, sd] = model.predict(f);
      sd = std::max(sd, 0.02);
      const double z = (y_best - mu) / sd;
      const double phi = std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
      const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
      double ei = sd * (z * cdf + phi);
      if (any_fail) ei *= std::clamp(1.0 - failure.predict(f).first, 0.0, 1.0);
      scored.push_back(Scored{ei, mu, i});
    }
    // Most by expected improvement, a quarter by the lowest prediction.
    std::stable_sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) { return a.ei > b.ei; });
    const int by_mean = n / 4;
    for (const auto& s : scored)
      if (static_cast<int>(out.size()) < n - by_mean) add_unique(out, cands[s.index]);
    std::stable_sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) { return a.mean < b.mean; });
    for (const auto& s : scored)
      if (static_cast<int>(out.size()) < n) add_unique(out, cands[s.index]);
    return out;
  }
};

}  // namespace

// ------------------------------------------------------------- factory

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = {"random", "pattern", "de", "surrogate"};
  return names;
}

std::string default_strategy_name() { return "pattern"; }

std::unique_ptr<Strategy> make_strategy(const std::string& name, const SearchSpace& space, uint64_t seed,
                                        EffortPreset effort) {
  if (name == "random") return std::make_unique<RandomSearch>(space, seed, std::move(effort));
  if (name == "pattern" || name == "pattern_search")
    return std::make_unique<PatternSearch>(space, seed, std::move(effort));
  if (name == "de" || name == "differential_evolution")
    return std::make_unique<DifferentialEvolution>(space, seed, std::move(effort));
  if (name == "surrogate" || name == "surrogate_search")
    return std::make_unique<SurrogateSearch>(space, seed, std::move(effort));
  std::string all;
  for (const auto& n : strategy_names()) all += (all.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown autotuner '" + name + "'; use one of " + all);
}

// -------------------------------------------------------------- session

SearchSession::SearchSession(ConfigSpec spec, DeviceInfo device, const json::Value& default_config,
                             const std::string& strategy, uint64_t seed, const std::string& effort,
                             std::optional<int> max_generations, const SpaceOptions& options)
    : space_(std::move(spec), std::move(device), default_config, options) {
  EffortPreset preset = EffortPreset::named(effort);
  if (max_generations) preset.max_generations = *max_generations;
  strategy_ = make_strategy(strategy.empty() ? default_strategy_name() : strategy, space_, seed, preset);
}

std::vector<json::Value> SearchSession::ask(int n) {
  std::vector<json::Value> out;
  for (const auto& p : strategy_->ask(n)) {
    json::Value cfg = space_.decode(p);
    asked_[json::dump(cfg)] = p;
    out.push_back(std::move(cfg));
  }
  return out;
}

void SearchSession::tell(const json::Value& config, std::optional<double> seconds) {
  auto it = asked_.find(json::dump(config));
  Point p;
  if (it != asked_.end()) {
    p = it->second;
  } else {
    // A config from elsewhere (the user's list, a cache): normalize, then encode.
    json::Value norm = space_.spec().normalize(config, space_.device());
    auto again = asked_.find(json::dump(norm));
    p = again != asked_.end() ? again->second : space_.encode(norm);
  }
  strategy_->tell(p, seconds);
}

std::optional<std::pair<json::Value, double>> SearchSession::best() const {
  auto b = strategy_->best();
  if (!b) return std::nullopt;
  return std::make_pair(space_.decode(b->point), *b->seconds);
}

}  // namespace deuteron::tune
