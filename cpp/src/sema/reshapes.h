// Reshapes and views of tile-shaped values (x.reshape(...), .view(...),
// .flatten(), .unflatten()): which dims the result has.  A reshape keeps the
// row-major order of the elements, so the source's dims, read outer to inner,
// are regrouped: neighbours merge into one dim (a merged dim, ir::Dim::factors,
// or a whole dim when only whole dims of constant length merge) and a whole
// dim of constant length splits into pieces (rope's `x.reshape(..., 2, d // 2)`).
// What cannot be regrouped so (sizes that cut through a tile's block, or an
// order that needs a permutation) is a compile error naming the reshape.
#pragma once

#include <optional>
#include <vector>

#include "ir_gen.h"
#include "svalue.h"

namespace deuteron::sema {

// One entry of a reshape's target shape.
struct ReshapeItem {
  enum class Kind { Size, Dim, Infer } kind = Kind::Size;
  SymInt size = 1;  // Size: the length (block sizes as `_block_size_<i>` symbols)
  int dim = -1;     // Dim: exactly this dim (a tile, `v.size(i)`)
  SourceSpan span;
};

// The item a shape entry of a reshape stands for: a tile or a value's size is
// that dim, -1 the inferred entry, an int or arithmetic on tile block sizes a
// length (`tile_m.block_size * tile_n.block_size`).
ReshapeItem reshape_item(IRGen& g, const SValue& s, SourceSpan span, const std::string& what);

// The dims of a value of dims `src` reshaped to `items`.
std::vector<int> reshape_dims(IRGen& g, const std::vector<int>& src, const std::vector<ReshapeItem>& items,
                              SourceSpan span, const std::string& what);

// `v` reshaped to `items` (a Reshape op, or `v` itself when nothing changes).
ir::Value* reshape_to(IRGen& g, ir::Value* v, const std::vector<ReshapeItem>& items, SourceSpan span,
                      const std::string& what);

// The length a device integer scalar stands for (tile block sizes,
// constants and host sizes under + - * //), or nullopt.
std::optional<SymInt> device_length(IRGen& g, const ir::Value* v);
// Whether `s` is a power of two under every config: a block size, times or
// divided by powers of two.
bool is_block_piece(const SymInt& s);

// How many lanes a block of dim d has when that count is a power of two
// under every config (tile blocks, whole dims whose extent is a block piece,
// merged dims of such factors): the lane count, else nullopt.
std::optional<SymInt> block_lane_count(IRGen& g, int d);

// The dim of `factors` merged, in this order (factors may be merged dims
// themselves: their factors take their place).  Whole dims of constant
// length whose inner ones have no padding lanes merge into the whole dim of
// their product; anything else into a merged dim.
int merge_dims(IRGen& g, const std::vector<int>& factors, SourceSpan span);

}  // namespace deuteron::sema
