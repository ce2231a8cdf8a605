#include "deuteron/symbolic.h"

#include <algorithm>
#include <set>

#include "deuteron/diagnostic.h"
#include "deuteron/pyint.h"

namespace deuteron {

struct SymInt::Node {
  Kind kind;
  int64_t value = 0;
  std::string name;
  std::optional<int64_t> hint;
  std::vector<SymInt> ops;
  std::string key;  // canonical printed form; equality and ordering use it
};

namespace {

// Folded constants are int64 with Python's semantics; leaving int64 throws
// IntOverflowError, which sema reports at the expression being evaluated.
int64_t checked(pyint::IntResult r, const char* op, int64_t a, int64_t b) {
  if (r.ok()) return r.value;
  DEUTERON_CHECK(r.status == pyint::Status::Overflow, "symbolic integer " + std::string(op) + ": " +
                                                          pyint::explain(r.status));
  throw IntOverflowError(std::to_string(a) + " " + op + " " + std::to_string(b));
}
int64_t add(int64_t a, int64_t b) { return checked(pyint::add(a, b), "+", a, b); }
int64_t mul(int64_t a, int64_t b) { return checked(pyint::mul(a, b), "*", a, b); }
int64_t py_floordiv(int64_t a, int64_t b) { return checked(pyint::floordiv(a, b), "//", a, b); }
int64_t py_mod(int64_t a, int64_t b) { return checked(pyint::mod(a, b), "%", a, b); }

// Binding strength for parenthesization when printing.
int precedence(SymInt::Kind k) {
  switch (k) {
    case SymInt::Kind::Add: return 1;
    case SymInt::Kind::Mul:
    case SymInt::Kind::FloorDiv:
    case SymInt::Kind::Mod: return 2;
    default: return 3;
  }
}

}  // namespace

// Construction helpers with access to the private constructor.
struct SymIntBuilder {
  static SymInt make(SymInt::Kind kind, std::vector<SymInt> ops) {
    auto n = std::make_shared<SymInt::Node>();
    n->kind = kind;
    n->ops = std::move(ops);
    SymInt s(n);
    n->key = s.str();
    return s;
  }
  static const SymInt::Node& node(const SymInt& s) { return *s.node_; }
};

SymInt::SymInt(int64_t c) {
  auto n = std::make_shared<Node>();
  n->kind = Kind::Const;
  n->value = c;
  n->key = std::to_string(c);
  node_ = n;
}

SymInt SymInt::symbol(const std::string& name, std::optional<int64_t> hint) {
  auto n = std::make_shared<Node>();
  n->kind = Kind::Symbol;
  n->name = name;
  n->hint = hint;
  n->key = name;
  return SymInt(n);
}

SymInt::Kind SymInt::kind() const { return node_->kind; }
int64_t SymInt::constant() const {
  DEUTERON_CHECK(is_constant(), "SymInt is not a constant");
  return node_->value;
}
const std::string& SymInt::symbol_name() const { return node_->name; }
const std::vector<SymInt>& SymInt::operands() const { return node_->ops; }
bool SymInt::same_as(const SymInt& o) const { return node_->key == o.node_->key; }

std::optional<int64_t> SymInt::evaluate(const std::map<std::string, int64_t>& env) const {
  switch (kind()) {
    case Kind::Const: return node_->value;
    case Kind::Symbol: {
      auto it = env.find(node_->name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    }
    case Kind::NextPow2: {
      auto v = node_->ops[0].evaluate(env);
      if (!v || *v > (int64_t{1} << 62)) return std::nullopt;  // 2**63 leaves int64
      return *v <= 0 ? 0 : next_power_of_2(*v);
    }
    default: break;
  }
  std::vector<int64_t> vals;
  for (const auto& o : node_->ops) {
    auto v = o.evaluate(env);
    if (!v) return std::nullopt;
    vals.push_back(*v);
  }
  // Values that divide by zero or leave int64 have no value here.
  int64_t acc = vals[0];
  for (size_t i = 1; i < vals.size(); ++i) {
    pyint::IntResult r{pyint::Status::Ok, acc};
    switch (kind()) {
      case Kind::Add: r = pyint::add(acc, vals[i]); break;
      case Kind::Mul: r = pyint::mul(acc, vals[i]); break;
      case Kind::FloorDiv: r = pyint::floordiv(acc, vals[i]); break;
      case Kind::Mod: r = pyint::mod(acc, vals[i]); break;
      case Kind::Max: r.value = std::max(acc, vals[i]); break;
      case Kind::Min: r.value = std::min(acc, vals[i]); break;
      default: break;
    }
    if (!r.ok()) return std::nullopt;
    acc = r.value;
  }
  return acc;
}

std::optional<int64_t> SymInt::hint() const {
  std::map<std::string, int64_t> env;
  std::function<bool(const SymInt&)> collect = [&](const SymInt& s) {
    if (s.kind() == Kind::Symbol) {
      if (!s.node_->hint) return false;
      env[s.node_->name] = *s.node_->hint;
      return true;
    }
    for (const auto& o : s.operands())
      if (!collect(o)) return false;
    return true;
  };
  if (!collect(*this)) return std::nullopt;
  return evaluate(env);
}

std::vector<std::string> SymInt::symbols() const {
  std::set<std::string> out;
  std::function<void(const SymInt&)> walk = [&](const SymInt& s) {
    if (s.kind() == Kind::Symbol) out.insert(s.node_->name);
    for (const auto& o : s.operands()) walk(o);
  };
  walk(*this);
  return {out.begin(), out.end()};
}

std::string SymInt::str(const std::function<std::string(const std::string&)>& name_of,
                        bool triton_flavor) const {
  auto sub = [&](const SymInt& o, int parent_prec, bool right_side) {
    std::string s = o.str(name_of, triton_flavor);
    int p = precedence(o.kind());
    bool negative_const = o.is_constant() && o.constant() < 0;
    if (p < parent_prec || (right_side && p == parent_prec) || (negative_const && parent_prec >= 2))
      return "(" + s + ")";
    return s;
  };
  switch (kind()) {
    case Kind::Const: return std::to_string(node_->value);
    case Kind::Symbol: return name_of ? name_of(node_->name) : node_->name;
    case Kind::Add: {
      std::string out;
      for (size_t i = 0; i < node_->ops.size(); ++i) {
        const SymInt& t = node_->ops[i];
        // Print `a - 3` and `a - 2 * b` rather than `a + -3` (not for
        // INT64_MIN, which has no negation).
        bool neg_const = t.is_constant() && t.constant() < 0 && t.constant() != pyint::kMin;
        bool neg_coef = t.kind() == Kind::Mul && t.operands()[0].is_constant() &&
                        t.operands()[0].constant() < 0 && t.operands()[0].constant() != pyint::kMin;
        if (i > 0 && (neg_const || neg_coef)) {
          SymInt pos = -t;
          out += " - " + sub(pos, 2, false);
        } else {
          out += (i ? " + " : "") + sub(t, 1, false);
        }
      }
      return out;
    }
    case Kind::Mul: {
      std::string out;
      for (size_t i = 0; i < node_->ops.size(); ++i)
        out += (i ? " * " : "") + sub(node_->ops[i], 2, i > 0);
      return out;
    }
    case Kind::FloorDiv: return sub(node_->ops[0], 2, false) + " // " + sub(node_->ops[1], 2, true);
    case Kind::Mod: return sub(node_->ops[0], 2, false) + " % " + sub(node_->ops[1], 2, true);
    case Kind::Max:
    case Kind::Min: {
      const char* fn = kind() == Kind::Max ? (triton_flavor ? "tl.maximum" : "max")
                                           : (triton_flavor ? "tl.minimum" : "min");
      return std::string(fn) + "(" + node_->ops[0].str(name_of, triton_flavor) + ", " +
             node_->ops[1].str(name_of, triton_flavor) + ")";
    }
    case Kind::NextPow2: return "triton.next_power_of_2(" + node_->ops[0].str(name_of, triton_flavor) + ")";
  }
  return "?";
}

namespace {

// A product split into its integer coefficient and the rest (1 when none).
struct Monomial {
  int64_t coef;
  std::vector<SymInt> factors;  // sorted by key, no constants
};

Monomial split_monomial(const SymInt& s) {
  if (s.is_constant()) return {s.constant(), {}};
  if (s.kind() == SymInt::Kind::Mul) {
    Monomial m{1, {}};
    for (const auto& f : s.operands()) {
      if (f.is_constant())
        m.coef = mul(m.coef, f.constant());
      else
        m.factors.push_back(f);
    }
    return m;
  }
  return {1, {s}};
}

std::string factors_key(const std::vector<SymInt>& fs) {
  std::string k;
  for (const auto& f : fs) k += f.str() + "*";
  return k;
}

SymInt build_monomial(int64_t coef, const std::vector<SymInt>& factors) {
  if (coef == 0) return SymInt(0);
  if (factors.empty()) return SymInt(coef);
  if (coef == 1 && factors.size() == 1) return factors[0];
  std::vector<SymInt> ops;
  if (coef != 1) ops.push_back(SymInt(coef));
  ops.insert(ops.end(), factors.begin(), factors.end());
  return SymIntBuilder::make(SymInt::Kind::Mul, std::move(ops));
}

std::vector<SymInt> add_terms(const SymInt& s) {
  if (s.kind() == SymInt::Kind::Add) return s.operands();
  return {s};
}

SymInt build_sum(const std::vector<SymInt>& terms) {
  // Combine like terms: key(factors) -> coefficient, in canonical key order.
  std::map<std::string, std::pair<int64_t, std::vector<SymInt>>> by_key;
  int64_t constant = 0;
  for (const auto& t : terms) {
    Monomial m = split_monomial(t);
    if (m.factors.empty()) {
      constant = add(constant, m.coef);
      continue;
    }
    auto& slot = by_key[factors_key(m.factors)];
    slot.first = add(slot.first, m.coef);
    slot.second = m.factors;
  }
  std::vector<SymInt> out;
  for (auto& [k, v] : by_key)
    if (v.first != 0) out.push_back(build_monomial(v.first, v.second));
  if (constant != 0) out.push_back(SymInt(constant));
  if (out.empty()) return SymInt(0);
  if (out.size() == 1) return out[0];
  return SymIntBuilder::make(SymInt::Kind::Add, std::move(out));
}

}  // namespace

SymInt operator+(const SymInt& a, const SymInt& b) {
  if (a.is_constant() && b.is_constant()) return SymInt(add(a.constant(), b.constant()));
  auto terms = add_terms(a);
  auto more = add_terms(b);
  terms.insert(terms.end(), more.begin(), more.end());
  return build_sum(terms);
}

SymInt operator-(const SymInt& a) { return SymInt(-1) * a; }
SymInt operator-(const SymInt& a, const SymInt& b) { return a + (-b); }

SymInt operator*(const SymInt& a, const SymInt& b) {
  if (a.is_constant() && b.is_constant()) return SymInt(mul(a.constant(), b.constant()));
  // Distribute a constant over a sum so that sums stay canonical.
  if (a.is_constant() || b.is_constant()) {
    const SymInt& c = a.is_constant() ? a : b;
    const SymInt& e = a.is_constant() ? b : a;
    if (c.constant() == 0) return SymInt(0);
    if (c.constant() == 1) return e;
    if (e.kind() == SymInt::Kind::Add) {
      std::vector<SymInt> terms;
      for (const auto& t : e.operands()) terms.push_back(c * t);
      return build_sum(terms);
    }
  }
  Monomial ma = split_monomial(a), mb = split_monomial(b);
  std::vector<SymInt> factors = ma.factors;
  factors.insert(factors.end(), mb.factors.begin(), mb.factors.end());
  std::sort(factors.begin(), factors.end(),
            [](const SymInt& x, const SymInt& y) { return x.str() < y.str(); });
  return build_monomial(mul(ma.coef, mb.coef), factors);
}

bool SymInt::provably_multiple_of(int64_t m) const {
  if (m == 1) return true;
  if (m == 0) return false;
  if (is_constant()) return pyint::mod(constant(), m).value == 0;
  if (kind() == Kind::Mul) {
    Monomial mono = split_monomial(*this);
    if (pyint::mod(mono.coef, m).value == 0) return true;
    for (const auto& f : mono.factors)
      if (f.provably_multiple_of(m)) return true;
    return false;
  }
  if (kind() == Kind::Add) {
    for (const auto& t : operands())
      if (!t.provably_multiple_of(m)) return false;
    return true;
  }
  return false;
}

SymInt floordiv(const SymInt& a, const SymInt& b) {
  if (b.is_constant()) {
    int64_t d = b.constant();
    DEUTERON_CHECK(d != 0, "symbolic division by zero");
    if (d == 1) return a;
    if (a.is_constant()) return SymInt(py_floordiv(a.constant(), d));
    if (d > 0 && a.provably_multiple_of(d)) {
      // Exact division term by term.
      std::vector<SymInt> terms;
      for (const auto& t : add_terms(a)) {
        Monomial m = split_monomial(t);
        if (m.coef % d == 0) {
          terms.push_back(build_monomial(m.coef / d, m.factors));
        } else {
          return SymIntBuilder::make(SymInt::Kind::FloorDiv, {a, b});
        }
      }
      return build_sum(terms);
    }
  }
  if (a.same_as(b)) return SymInt(1);
  return SymIntBuilder::make(SymInt::Kind::FloorDiv, {a, b});
}

SymInt mod(const SymInt& a, const SymInt& b) {
  if (b.is_constant()) {
    int64_t d = b.constant();
    DEUTERON_CHECK(d != 0, "symbolic modulo by zero");
    if (d == 1 || a.provably_multiple_of(d)) return SymInt(0);
    if (a.is_constant()) return SymInt(py_mod(a.constant(), d));
  }
  if (a.same_as(b)) return SymInt(0);
  return SymIntBuilder::make(SymInt::Kind::Mod, {a, b});
}

SymInt cdiv(const SymInt& a, const SymInt& b) { return floordiv(a + b - SymInt(1), b); }

SymInt sym_max(const SymInt& a, const SymInt& b) {
  if (a.is_constant() && b.is_constant()) return SymInt(std::max(a.constant(), b.constant()));
  if (a.same_as(b)) return a;
  return SymIntBuilder::make(SymInt::Kind::Max, {a, b});
}

SymInt sym_min(const SymInt& a, const SymInt& b) {
  if (a.is_constant() && b.is_constant()) return SymInt(std::min(a.constant(), b.constant()));
  if (a.same_as(b)) return a;
  return SymIntBuilder::make(SymInt::Kind::Min, {a, b});
}

SymInt sym_next_power_of_2(const SymInt& a) {
  if (a.is_constant()) {
    int64_t v = a.constant();
    if (v > (int64_t{1} << 62)) throw IntOverflowError("triton.next_power_of_2(" + std::to_string(v) + ") (2**63)");
    return SymInt(v <= 0 ? 0 : next_power_of_2(v));
  }
  // Idempotent: a power of 2 is its own next power of 2.
  if (a.kind() == SymInt::Kind::NextPow2) return a;
  return SymIntBuilder::make(SymInt::Kind::NextPow2, {a});
}

int64_t next_power_of_2(int64_t v) {
  if (v <= 1) return 1;
  if (v > (int64_t{1} << 62))
    throw IntOverflowError("the next power of 2 of " + std::to_string(v) + " (2**63)");
  return int64_t{1} << (64 - __builtin_clzll(static_cast<uint64_t>(v - 1)));
}

}  // namespace deuteron
