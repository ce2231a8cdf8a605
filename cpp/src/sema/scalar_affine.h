// Integer device scalars as sums of tile quantities with constant
// coefficients: `(tile.begin + tile.block_size) * 2 - tile.begin * 2` is
// 2 * tile.block_size.  Sizes inside tile loops must be known when compiling
// (a tile's block or an int), but programs write them as arithmetic on tile
// attributes (torch.arange(tile.begin, tile.begin + tile.block_size),
// torch.zeros([tile.block_size])); following the arithmetic back through the
// IR tells which size such an expression is.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "deuteron/ir.h"
#include "svalue.h"

namespace deuteron::sema {

struct ScalarAffine {
  // Term -> coefficient.  Terms: "block:D" (tile.block_size of dim D),
  // "begin:D", "end:D", ... (other tile attributes), "sym:EXPR" (a symbolic host
  // int), "div:(A)//C" (an inexact floor division of the affine form A by a
  // positive constant, named by its parts), "%ID" (any other value, by
  // identity).  No zero coefficients.
  std::map<std::string, int64_t> terms;
  int64_t constant = 0;
  // The host int each "sym:" term stands for (kept through arithmetic, so a
  // form made only of host ints converts back: affine_host_int).
  std::map<std::string, SymInt> sym_values;

  bool is_constant() const { return terms.empty(); }
  // The dim D when this is exactly tile.block_size of D.
  std::optional<int> block_size_dim() const;
};

// The affine form of an integer scalar (a host int or an integer device
// scalar); nullopt for anything else (floats, tensors, overflow).
std::optional<ScalarAffine> scalar_affine(const SValue& v);
std::optional<ScalarAffine> scalar_affine(const ir::Value* v);
// a - b; a / c when every coefficient is a multiple of c (nullopt otherwise or on overflow).
std::optional<ScalarAffine> affine_sub(const ScalarAffine& a, const ScalarAffine& b);
std::optional<ScalarAffine> affine_exact_div(const ScalarAffine& a, int64_t c);
// The host int `a` is when all its terms are host ints ("sym:"), else nullopt.
std::optional<SymInt> affine_host_int(const ScalarAffine& a);

}  // namespace deuteron::sema
