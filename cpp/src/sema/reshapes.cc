#include "reshapes.h"

#include <algorithm>

#include "scalar_affine.h"

namespace deuteron::sema {

namespace {

using K = SValue::Kind;

bool is_pow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

// The length a reshape compares for an unmerged dim: a tile's block size (a
// config symbol), a whole dim's extent.
SymInt atom_size(IRGen& g, int d, SourceSpan span, const std::string& what) {
  const ir::Dim& dim = g.kernel().dim(d);
  if (dim.kind == ir::DimKind::Tile) {
    if (dim.fixed_block_size) return SymInt(*dim.fixed_block_size);
    if (dim.config_block_size) return *dim.config_block_size;
    if (dim.block_size_index >= 0) return block_size_symbol(dim.block_size_index);
  }
  if (dim.kind == ir::DimKind::Full) return dim.extent();
  g.error(span, what + " of a value over " + g.dim_name(d) + ", whose block size is not known, is not supported");
}

// The unmerged dims of `dims`, outer to inner (size-1 axes dropped).
std::vector<int> atoms_of(IRGen& g, const std::vector<int>& dims) {
  std::vector<int> out;
  for (int d : dims) {
    if (d == ir::kBroadcast) continue;
    const ir::Dim& dim = g.kernel().dim(d);
    if (dim.merged()) out.insert(out.end(), dim.factors.begin(), dim.factors.end());
    else out.push_back(d);
  }
  return out;
}

// A length written as device arithmetic: tile block sizes, constants and host
// sizes under + - * //.
std::optional<SymInt> size_expr(IRGen& g, const ir::Value* v, int depth) {
  if (depth > 32 || !v->type.dims.empty() || !is_integral(v->type.dtype)) return std::nullopt;
  if (auto a = scalar_affine(v)) {
    SymInt s = a->constant;
    bool ok = true;
    for (const auto& [term, c] : a->terms) {
      if (term.rfind("block:", 0) != 0) {
        ok = false;
        break;
      }
      const ir::Dim& d = g.kernel().dim(std::stoi(term.substr(6)));
      if (d.kind != ir::DimKind::Tile || (!d.fixed_block_size && !d.config_block_size && d.block_size_index < 0)) {
        ok = false;
        break;
      }
      s = s + SymInt(c) * atom_size(g, d.id, {}, "");
    }
    if (ok) return s;
  }
  const ir::Op* op = v->def;
  if (!op) return std::nullopt;
  switch (op->kind) {
    case ir::OpKind::SymValue: return op->attrs.sym;
    case ir::OpKind::Cast:
      if (op->attrs.bitcast) return std::nullopt;
      return size_expr(g, op->operands[0], depth + 1);
    case ir::OpKind::Binary: {
      auto a = size_expr(g, op->operands[0], depth + 1);
      auto b = size_expr(g, op->operands[1], depth + 1);
      if (!a || !b) return std::nullopt;
      switch (op->attrs.binary) {
        case ir::BinaryFn::Add: return *a + *b;
        case ir::BinaryFn::Sub: return *a - *b;
        case ir::BinaryFn::Mul: return *a * *b;
        case ir::BinaryFn::FloorDiv:
          if (b->is_constant() && b->constant() == 0) return std::nullopt;  // not a size; sema reports it
          return floordiv(*a, *b);
        default: return std::nullopt;
      }
    }
    default: return std::nullopt;
  }
}

// acc * size, where a piece of a split tile's block and its inner constant
// make the block again: (B // c) * c is B (B is a power of two >= c).
SymInt times(const SymInt& acc, const SymInt& size) {
  if (acc.kind() == SymInt::Kind::FloorDiv && size.is_constant()) {
    const auto& ops = acc.operands();
    if (ops[1].is_constant() && ops[1].constant() == size.constant()) return ops[0];
  }
  return acc * size;
}

// The constant c when `size` is `whole // c`.
std::optional<int64_t> divisor_of(const SymInt& size, const SymInt& whole) {
  if (size.kind() != SymInt::Kind::FloorDiv) return std::nullopt;
  const auto& ops = size.operands();
  if (!ops[0].same_as(whole) || !ops[1].is_constant()) return std::nullopt;
  return ops[1].constant();
}

// A run of the source's elements along one unmerged dim: the whole dim, or
// a piece of a whole dim of constant length that a reshape splits.
struct Piece {
  int dim = -1;          // the source dim it comes from
  SymInt size = 1;
  bool whole = true;     // the whole dim (else a piece of it, of constant size)
  bool leading = true;   // the outermost piece of its dim (inner pieces must have no padding lanes)
};

class Matcher {
 public:
  Matcher(IRGen& g, SourceSpan span, const std::string& what, const std::vector<int>& src)
      : g_(g), span_(span), what_(what), src_(src) {}

  // Takes the pieces that make `size` from the front (or, `back`, from the
  // end) of `pieces`; the dims the taken pieces become.
  std::vector<Piece> take(std::vector<Piece>& pieces, const SymInt& size, bool back, SourceSpan at,
                          const std::string& shown) {
    std::vector<Piece> taken;
    if (size.is_constant() && size.constant() == 1) return taken;
    SymInt acc = 1;
    auto symbols = size.symbols();
    auto fail = [&](const Piece* next) {
      // A tile taken alone with elements still missing: its block would be cut.
      if (taken.size() == 1 && g_.kernel().dim(taken[0].dim).kind == ir::DimKind::Tile && taken[0].whole &&
          !acc.same_as(size))
        split_tile(at, taken[0].dim);
      if (taken.empty() && next && g_.kernel().dim(next->dim).kind == ir::DimKind::Tile &&
          next->size.symbols().size() == 1 && !size.is_constant()) {
        bool sub = true;
        for (const auto& n : next->size.symbols()) sub &= std::count(symbols.begin(), symbols.end(), n) > 0;
        if (sub) split_tile(at, next->dim);
      }
      std::string there;
      for (const Piece* q : {next})
        if (q) there = g_.dim_name(q->dim);
      mismatch(at, "the size " + (shown.empty() ? show(size) : shown) + " here does not line up with whole dims of the source" +
                       (there.empty() ? std::string(" (no elements are left)") : " (the next is " + there + ")"));
    };
    while (taken.empty() || !acc.same_as(size)) {
      if (pieces.empty()) fail(nullptr);
      Piece p = back ? pieces.back() : pieces.front();
      // A constant size smaller than the next whole dim of constant length
      // takes a piece of it (the whole size must start a fresh dim).
      auto want = size.as_constant();
      auto have = p.size.as_constant();
      // A tile's block splits as [block // c, c] (c a constant power of two):
      // the size is one of the two.
      std::optional<SymInt> part_size, rest_size;
      bool tile = g_.kernel().dim(p.dim).kind == ir::DimKind::Tile;
      if (taken.empty() && want && have && *have > *want && *have % *want == 0) {
        if (tile) check_tile_split(at, p, *want);
        part_size = SymInt(*want);
        rest_size = SymInt(*have / *want);
      } else if (taken.empty() && tile && !have && want && *want > 1) {
        check_tile_split(at, p, *want);
        part_size = SymInt(*want);
        rest_size = floordiv(p.size, SymInt(*want));
      } else if (taken.empty() && tile && !have) {
        if (auto c = divisor_of(size, p.size)) {
          check_tile_split(at, p, *c);
          part_size = size;
          rest_size = SymInt(*c);
        }
      }
      if (part_size) {
        Piece part = p, rest = p;
        part.size = *part_size;
        rest.size = *rest_size;
        part.whole = rest.whole = false;
        // The outer piece keeps the dim's place; the inner one must be unpadded.
        Piece& inner = back ? part : rest;
        inner.leading = false;
        if (!inner.size.is_constant() || !is_pow2(inner.size.constant()))
          g_.error(at, what_ + " splits the whole dim " + g_.dim_name(p.dim) + " into pieces whose inner size " +
                           inner.size.str() + " is not a power of two",
                   {"blocks are padded to powers of two, so only an inner piece of a power-of-two size keeps the "
                    "elements in order; split off a power-of-two inner size instead"});
        (back ? pieces.back() : pieces.front()) = rest;
        taken.push_back(part);
        return taken;
      }
      // Past the size: more elements than it has, or a block size it lacks.
      SymInt next_acc = times(acc, p.size);
      bool past = want && next_acc.as_constant() && *next_acc.as_constant() > *want;
      for (const auto& n : next_acc.symbols()) past |= std::count(symbols.begin(), symbols.end(), n) == 0;
      if (past) fail(&p);
      if (back) pieces.pop_back();
      else pieces.erase(pieces.begin());
      taken.push_back(p);
      acc = next_acc;
    }
    if (back) std::reverse(taken.begin(), taken.end());
    return taken;
  }

  // A length as the program spells it: tile_m.block_size for a block-size symbol.
  std::string show(const SymInt& size) const {
    return size.str([&](const std::string& n) -> std::string {
      if (n.rfind("_block_size_", 0) == 0) {
        int idx = std::stoi(n.substr(12));
        for (const auto& d : g_.kernel().dims)
          if (d.kind == ir::DimKind::Tile && d.block_size_index == idx && !d.name.empty()) return d.name + ".block_size";
      }
      return n;
    });
  }

  [[noreturn]] void mismatch(SourceSpan at, const std::string& why) const {
    g_.error(at, "cannot " + what_ + " " + g_.shape_str(src_) + " here: " + why,
             {"inside tile loops a reshape may merge neighbouring dims (tile_m.block_size * tile_n.block_size, "
              "flatten) and split a whole dim of constant length; it cannot split a tile's block or reorder dims "
              "(use permute/transpose for that)"});
  }

  // A tile's block splits into pieces only where every block is whole: its
  // extent a power of two known when compiling (blocks are powers of two no
  // larger), so the pieces need no mask of their own.  The block must hold
  // the inner constant (the config space's minimum is raised, device_stmts.cc).
  void check_tile_split(SourceSpan at, const Piece& p, int64_t c) const {
    const ir::Dim& d = g_.kernel().dim(p.dim);
    auto e = d.extent().as_constant();
    bool begin0 = d.begin.is_constant() && d.begin.constant() == 0;
    if (!p.whole || !e || !is_pow2(*e) || !begin0 || d.dynamic_bounds || d.subtile_of >= 0)
      split_tile(at, p.dim);
    if (!is_pow2(c) || c > *e)
      g_.error(at, what_ + " splits the block of tile " + g_.dim_name(p.dim) + " by " + std::to_string(c) +
                       ", which is not a power of two no larger than its extent " + std::to_string(*e));
  }

  [[noreturn]] void split_tile(SourceSpan at, int d) const {
    g_.error(at, what_ + " splits the block of tile " + g_.dim_name(d) + " into several dims, which is not supported here",
             {"a tile's block splits as [block // c, c] (c a power of two) only when the tile's extent is a power "
              "of two known when compiling (every block whole); reshape a whole dim (x[tile, :]) or tile the dims "
              "separately instead"});
  }

 private:
  IRGen& g_;
  SourceSpan span_;
  std::string what_;
  std::vector<int> src_;
};

// The dim a run of pieces becomes.
int dim_of(IRGen& g, const std::vector<Piece>& run, SourceSpan span) {
  if (run.empty()) return ir::kBroadcast;
  std::vector<int> dims;
  for (const Piece& p : run)
    dims.push_back(p.whole ? p.dim : g.full_dim(p.size, span, p.size.str()));
  if (dims.size() == 1) return dims[0];
  return merge_dims(g, dims, span);
}

// A length made of block sizes that is a power of two under every config:
// a block size, divided or multiplied by a power of two.
bool config_pow2(const SymInt& s) {
  switch (s.kind()) {
    case SymInt::Kind::Symbol: return s.symbol_name().rfind("_block_size_", 0) == 0;
    // A block computed from tunables; lowering checks each config gives a power of two.
    case SymInt::Kind::NextPow2: return true;
    case SymInt::Kind::FloorDiv:
      return config_pow2(s.operands()[0]) && s.operands()[1].is_constant() && is_pow2(s.operands()[1].constant());
    case SymInt::Kind::Mul:
      for (const auto& o : s.operands())
        if (!(o.is_constant() ? is_pow2(o.constant()) : config_pow2(o))) return false;
      return true;
    default: return false;
  }
}

}  // namespace

std::optional<SymInt> device_length(IRGen& g, const ir::Value* v) { return size_expr(g, v, 0); }
bool is_block_piece(const SymInt& s) { return config_pow2(s); }

std::optional<SymInt> block_lane_count(IRGen& g, int d) {
  if (d == ir::kBroadcast) return std::nullopt;
  // Constant factors apart, so that a block split in pieces and merged back
  // ([block // 2, 2] -> block // 2 * 2) counts as the block: every factor is
  // a power of two, and a split block has at least as many lanes as the
  // split's factor (a reshape into fewer lanes than that fails), so
  // (block // c) * c == block.
  int64_t constant = 1;
  std::vector<SymInt> factors;
  for (int a : atoms_of(g, {d})) {
    const ir::Dim& dim = g.kernel().dim(a);
    bool known = dim.kind == ir::DimKind::Full ||
                 (dim.kind == ir::DimKind::Tile &&
                  (dim.fixed_block_size || dim.config_block_size || dim.block_size_index >= 0));
    if (!known) return std::nullopt;
    SymInt s = atom_size(g, a, {}, "");
    if (!(s.is_constant() ? is_pow2(s.constant()) : config_pow2(s))) return std::nullopt;
    if (s.is_constant()) {
      if (__builtin_mul_overflow(constant, s.constant(), &constant)) return std::nullopt;
    } else {
      factors.push_back(s);
    }
  }
  SymInt lanes = 1;
  for (const SymInt& f : factors) {
    if (f.kind() == SymInt::Kind::FloorDiv && f.operands()[1].is_constant() &&
        constant % f.operands()[1].constant() == 0) {
      constant /= f.operands()[1].constant();
      lanes = lanes * f.operands()[0];
    } else {
      lanes = lanes * f;
    }
  }
  return lanes * SymInt(constant);
}

int merge_dims(IRGen& g, const std::vector<int>& in, SourceSpan span) {
  std::vector<int> factors = atoms_of(g, in);
  if (factors.size() == 1) return factors[0];
  if (factors.empty()) return ir::kBroadcast;
  ir::DeviceKernel& k = g.kernel();
  // Whole dims of constant length with unpadded inner ones lay out exactly
  // like the whole dim of their product (`[2, d // 2]` back to `[d]`).
  bool whole = true;
  int64_t product = 1;
  for (size_t i = 0; i < factors.size() && whole; ++i) {
    const ir::Dim& d = k.dim(factors[i]);
    auto e = d.kind == ir::DimKind::Full ? d.extent().as_constant() : std::nullopt;
    whole = e && *e > 0 && (i == 0 || is_pow2(*e)) && !__builtin_mul_overflow(product, *e, &product);
  }
  if (whole) return g.full_dim(product, span, std::to_string(product));
  for (const auto& d : k.dims)
    if (d.factors == factors) return d.id;
  ir::Dim d;
  d.id = static_cast<int>(k.dims.size());
  d.kind = ir::DimKind::Full;
  d.begin = 0;
  // The extent counts the lanes: the factors' blocks, padding included.
  SymInt lanes = 1;
  std::string name;
  for (int f : factors) {
    const ir::Dim& fd = k.dim(f);
    SymInt block;
    if (fd.kind == ir::DimKind::Tile) {
      block = atom_size(g, f, span, "a merge");
    } else {
      auto e = fd.extent().as_constant();
      if (e) {
        block = SymInt(next_power_of_2(std::max<int64_t>(*e, 1)));
      } else if (config_pow2(fd.extent())) {
        block = fd.extent();  // a piece of a split block: block // c lanes
      } else {
        g.error(span, "merging the whole dim " + g.dim_name(f) + ", whose length " + fd.extent().str() +
                          " is not a constant, with other dims is not supported",
                {"merge tiles, or whole dims of a length known when compiling (static shapes, hl.specialize)"});
      }
    }
    lanes = lanes * block;
    name += (name.empty() ? "" : "*") + (fd.kind == ir::DimKind::Full ? fd.extent().str() : g.dim_name(f));
  }
  d.end = lanes;
  d.name = name;
  d.span = span;
  d.factors = factors;
  k.dims.push_back(d);
  return d.id;
}

ReshapeItem reshape_item(IRGen& g, const SValue& s, SourceSpan span, const std::string& what) {
  ReshapeItem it;
  it.span = span;
  switch (s.kind) {
    case K::Tile:
    case K::DimSize:
      it.kind = ReshapeItem::Kind::Dim;
      it.dim = s.dim;
      return it;
    case K::BlockSize:
      it.size = block_size_symbol(s.index);
      return it;
    case K::Int:
      if (s.i.is_constant() && s.i.constant() == -1) {
        it.kind = ReshapeItem::Kind::Infer;
        return it;
      }
      if (s.i.is_constant() && s.i.constant() < -1) g.error(span, what + ": invalid size " + s.i.str());
      it.size = s.i;
      return it;
    case K::IR:
      if (s.value->type.is_scalar())
        if (auto e = size_expr(g, s.value, 0)) {
          if (e->is_constant() && e->constant() == -1) it.kind = ReshapeItem::Kind::Infer;
          it.size = *e;
          return it;
        }
      break;
    default: break;
  }
  g.error(span, what + " sizes must be tiles, ints or arithmetic on tile block sizes, got " + describe(s));
}

std::vector<int> reshape_dims(IRGen& g, const std::vector<int>& src, const std::vector<ReshapeItem>& items,
                              SourceSpan span, const std::string& what) {
  std::vector<Piece> pieces;
  for (int d : atoms_of(g, src)) {
    Piece p;
    p.dim = d;
    p.size = atom_size(g, d, span, what);
    if (p.size.is_constant() && p.size.constant() == 1) continue;  // a whole dim of one element: a size-1 axis
    pieces.push_back(p);
  }
  Matcher m(g, span, what, src);
  int infer = -1;
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].kind == ReshapeItem::Kind::Infer) {
      if (infer >= 0) g.error(items[i].span, what + ": only one dimension can be -1");
      infer = static_cast<int>(i);
    }
  auto size_of = [&](const ReshapeItem& it) {
    if (it.kind != ReshapeItem::Kind::Dim) return it.size;
    SymInt s = 1;
    for (int d : atoms_of(g, {it.dim})) s = s * atom_size(g, d, it.span, what);
    return s;
  };
  auto label = [&](const ReshapeItem& it) {
    return it.kind == ReshapeItem::Kind::Dim ? g.dim_name(it.dim) : std::string();
  };
  std::vector<int> dims(items.size(), ir::kBroadcast);
  auto place = [&](size_t i, const std::vector<Piece>& run) {
    // Pieces of whole dims (no tile among them) as long as the named dim are
    // that dim: [block // 2, 2] back to the tile it was split from.
    if (items[i].kind == ReshapeItem::Kind::Dim && !run.empty()) {
      bool tiles = false;
      for (const Piece& p : run) tiles |= g.kernel().dim(p.dim).kind == ir::DimKind::Tile && p.whole;
      bool several = run.size() > 1 || !run[0].whole;
      if (!tiles && several) {
        dims[i] = items[i].dim;
        return;
      }
    }
    int d = dim_of(g, run, items[i].span);
    if (items[i].kind == ReshapeItem::Kind::Dim && d != items[i].dim)
      m.mismatch(items[i].span, "the size at this position is " + g.dim_name(items[i].dim) +
                                    ", but the source's elements there are " + (d == ir::kBroadcast ? "1" : g.dim_name(d)));
    dims[i] = d;
  };
  size_t front_end = infer >= 0 ? static_cast<size_t>(infer) : items.size();
  for (size_t i = 0; i < front_end; ++i) place(i, m.take(pieces, size_of(items[i]), false, items[i].span, label(items[i])));
  if (infer >= 0) {
    for (size_t i = items.size(); i-- > static_cast<size_t>(infer) + 1;)
      place(i, m.take(pieces, size_of(items[i]), true, items[i].span, label(items[i])));
    dims[infer] = dim_of(g, pieces, items[infer].span);
    pieces.clear();
  }
  if (!pieces.empty()) {
    std::string left;
    for (const Piece& p : pieces) left += (left.empty() ? "" : ", ") + p.size.str();
    m.mismatch(span, "its elements along " + left + " are left over");
  }
  return dims;
}

ir::Value* reshape_to(IRGen& g, ir::Value* v, const std::vector<ReshapeItem>& items, SourceSpan span,
                      const std::string& what) {
  std::vector<int> dims = reshape_dims(g, v->type.dims, items, span, what);
  if (dims == v->type.dims) return v;
  return g.builder().create(ir::OpKind::Reshape, {v}, {ir::Type{v->type.dtype, dims}}, span)->result();
}

}  // namespace deuteron::sema
