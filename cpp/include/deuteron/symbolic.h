// Symbolic integers: tensor sizes, strides and integer scalars that are not
// compile-time constants (dynamic shapes), and arithmetic on them.
//
// With static shapes every size is a constant and this folds to plain
// numbers; with dynamic shapes sizes are symbols whose values the host
// wrapper passes to the kernel.  Expressions are kept in a canonical form
// (sums of products with sorted terms, constants folded) so that equal
// sizes compare equal: `n * 4 + 1 == 1 + 4 * n`.
//
// Constants fold with Python's semantics (floor division, modulo with the
// divisor's sign) in int64; a constant that leaves int64 throws
// IntOverflowError (deuteron/pyint.h) instead of wrapping around.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deuteron/pyint.h"

namespace deuteron {

class SymInt {
 public:
  enum class Kind { Const, Symbol, Add, Mul, FloorDiv, Mod, Max, Min, NextPow2 };

  SymInt() : SymInt(int64_t{0}) {}
  SymInt(int64_t c);  // NOLINT: implicit from constants on purpose
  SymInt(int c) : SymInt(static_cast<int64_t>(c)) {}
  // A named unknown.  `hint` is its value when the kernel was bound (used to
  // pick heuristics, never to change semantics).
  static SymInt symbol(const std::string& name, std::optional<int64_t> hint = std::nullopt);

  Kind kind() const;
  bool is_constant() const { return kind() == Kind::Const; }
  // The constant value; only valid when is_constant().
  int64_t constant() const;
  std::optional<int64_t> as_constant() const {
    return is_constant() ? std::optional<int64_t>(constant()) : std::nullopt;
  }
  const std::string& symbol_name() const;  // Kind::Symbol only
  const std::vector<SymInt>& operands() const;

  // The value using symbol hints (nullopt if a symbol has no hint).
  std::optional<int64_t> hint() const;
  // The value with symbols looked up in `env` (nullopt when one is missing).
  std::optional<int64_t> evaluate(const std::map<std::string, int64_t>& env) const;
  // Every symbol name occurring in the expression, sorted, unique.
  std::vector<std::string> symbols() const;

  // Python expression; `name_of` maps a symbol to its spelling in the
  // target program (default: the symbol name).  FloorDiv prints `//`,
  // Max/Min print `max(..)`/`min(..)` (or `tl.maximum`/`tl.minimum` with
  // triton_flavor, for use inside @triton.jit code); NextPow2 prints
  // `triton.next_power_of_2(..)` (host code: callers resolve it to a constant
  // before it reaches a kernel).
  std::string str(const std::function<std::string(const std::string&)>& name_of = nullptr,
                  bool triton_flavor = false) const;

  friend SymInt operator+(const SymInt& a, const SymInt& b);
  friend SymInt operator-(const SymInt& a, const SymInt& b);
  friend SymInt operator*(const SymInt& a, const SymInt& b);
  friend SymInt operator-(const SymInt& a);
  friend SymInt floordiv(const SymInt& a, const SymInt& b);
  friend SymInt mod(const SymInt& a, const SymInt& b);
  friend SymInt cdiv(const SymInt& a, const SymInt& b);
  friend SymInt sym_max(const SymInt& a, const SymInt& b);
  friend SymInt sym_min(const SymInt& a, const SymInt& b);
  // triton.next_power_of_2(a): 0 for a <= 0 (Triton's bit trick), else the
  // smallest power of 2 >= a.  Symbolic when `a` is (a block size computed on
  // the host from a tunable, `next_power_of_2(cdiv(k, split_k))`); prints as
  // `triton.next_power_of_2(..)`, which only host code can run.
  friend SymInt sym_next_power_of_2(const SymInt& a);

  // Structural equality of the canonical forms.
  bool same_as(const SymInt& o) const;
  // true when provably a multiple of `m` (constants, or products with such a coefficient).
  bool provably_multiple_of(int64_t m) const;

  struct Node;

 private:
  explicit SymInt(std::shared_ptr<const Node> n) : node_(std::move(n)) {}
  std::shared_ptr<const Node> node_;
  friend struct SymIntBuilder;
};

// The smallest power of 2 >= v (1 for v <= 1); IntOverflowError above 2**62.
int64_t next_power_of_2(int64_t v);

}  // namespace deuteron
