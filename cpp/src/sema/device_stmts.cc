// Statements inside tile loops: the outer (grid) loop, inner loops with
// carried values, conditionals, stores, and assignments.
#include <algorithm>
#include <set>

#include "analyzer.h"

namespace deuteron::sema {

using ir::DimKind;
using ir::OpKind;

namespace {

// Parsed `hl.tile(...)` / `hl.grid(...)` / `range(...)` call of a loop header.
struct LoopIter {
  bool is_grid = false;
  std::vector<SymInt> begins, ends;
  // Inner loops may have bounds computed on the device (`hl.tile(0, tile_m.end)`):
  // per dim, the device values (None when the bound is a host int).
  std::vector<SValue> dyn_begins, dyn_ends;
  std::vector<SValue> block_sizes;  // per dim: None, Int, or BlockSize
  bool nd = false;                  // written with a list: targets are a tuple
  // hl.grid / range with a step: the dim iterates the trip count [0, count) and
  // the loop variable is origin + i * step (per dim; step 1 = the dim's own index).
  std::vector<GridStride> strides;
  // A begin past its end, reported after the targets are checked: `for a, b in
  // hl.tile(m, d)` (a mix-up of hl.tile(m, d) and hl.tile([m, d])) is an unpack
  // error first, as in Helion, and only then an empty range.
  std::string range_error;
  SourceSpan range_error_span;
};

bool is_truthy_static(const SValue& v, bool& out) {
  switch (v.kind) {
    case SValue::Kind::None: out = false; return true;
    case SValue::Kind::Bool:
      if (!v.runtime_expr.empty()) return false;
      out = v.b;
      return true;
    case SValue::Kind::Int:
      if (!v.i.is_constant()) return false;
      out = v.i.constant() != 0;
      return true;
    case SValue::Kind::Float:
      if (!v.runtime_expr.empty()) return false;
      out = v.f != 0.0;
      return true;
    case SValue::Kind::String: out = !v.s.empty(); return true;
    case SValue::Kind::Tuple:
    case SValue::Kind::List: out = !v.elts.empty(); return true;
    case SValue::Kind::Tensor:
    case SValue::Kind::Module:
    case SValue::Kind::Function:
    case SValue::Kind::DType:
    case SValue::Kind::Tile: out = true; return true;
    default: return false;
  }
}

}  // namespace

// Parses the iterator of a loop header into per-dim ranges.
static LoopIter parse_loop_iter(Analyzer& a, const ast::Call& call, const std::string& fname) {
  CallArgs ca;
  ca.span = call.span;
  ca.func_name = fname;
  for (const auto& arg : call.args) {
    if (ast::isa<ast::Starred>(arg.get())) a.error(arg->span, "*args is not supported in loop headers");
    ca.args.push_back(a.eval(*arg));
    ca.arg_spans.push_back(arg->span);
  }
  a.add_keywords(call, ca);
  LoopIter it;
  it.is_grid = fname != "hl.tile";
  std::vector<std::string> sig;
  if (fname == "hl.tile")
    sig = {"begin_or_end", "end=", "block_size="};
  else
    sig = {"begin_or_end", "end=", "step="};
  BoundArgs b = a.bind(ca, sig);
  const SValue& first = *b.get("begin_or_end");
  const SValue* second = b.get("end");
  if (second && second->kind == SValue::Kind::None) second = nullptr;

  auto to_list = [&](const SValue& v, SourceSpan span, std::vector<SymInt>& out, std::vector<SValue>& dyn) {
    std::vector<SValue> items = v.is_sequence() ? v.elts : std::vector<SValue>{v};
    it.nd |= v.is_sequence();
    for (const auto& e0 : items) {
      if (e0.kind == SValue::Kind::Tile)
        a.error(span, ErrorKind::TileOfTile, fname + " over a tile: a loop needs bounds, not a tile",
                {"loop over the tile's range with " + fname + "(tile.begin, tile.end)"});
      SValue e = a.as_number(e0, span);
      // A tensor of one element bounds the loop by its value (Helion's
      // data-dependent bounds): a load on the device, a host read on the host.
      if (e.kind == SValue::Kind::Tensor) e = a.tensor_scalar(e, span, "a loop bound");
      // Device values are allowed as bounds of inner loops.
      if (a.in_device() && e.kind == SValue::Kind::IR) {
        if (!e.value->type.is_scalar() || is_floating(e.value->type.dtype))
          a.error(span, "a loop bound computed on the device must be an integer scalar, got " + describe(e));
        out.push_back(SymInt(0));
        dyn.push_back(e);
      } else {
        out.push_back(a.expect_int(e, span, "a loop bound"));
        dyn.push_back(SValue::none());
      }
    }
  };
  std::vector<SymInt> x, y;
  std::vector<SValue> dx, dy;
  to_list(first, b.span_of("begin_or_end"), x, dx);
  if (second) {
    to_list(*second, b.span_of("end"), y, dy);
    if (x.size() != y.size())
      a.error(call.span, "begin and end of " + fname + " have different lengths (" + std::to_string(x.size()) +
                             " and " + std::to_string(y.size()) + ")");
    for (size_t i = 0; i < x.size(); ++i)
      if (x[i].is_constant() && y[i].is_constant() && x[i].constant() > y[i].constant())
        if (it.range_error.empty()) {
          it.range_error = "invalid range for " + fname + ": begin=" + x[i].str() + ", end=" + y[i].str() +
                           " (the begin is past the end)";
          it.range_error_span = call.span;
        }
    it.begins = x;
    it.ends = y;
    it.dyn_begins = dx;
    it.dyn_ends = dy;
  } else {
    it.begins.assign(x.size(), SymInt(0));
    it.ends = x;
    it.dyn_begins.assign(x.size(), SValue::none());
    it.dyn_ends = dx;
  }
  if (it.begins.empty()) a.error(call.span, fname + " needs at least one dimension");
  if (fname == "hl.tile") {
    const SValue* bs = b.get("block_size");
    if (bs && bs->kind != SValue::Kind::None) {
      if (bs->is_sequence()) {
        if (bs->elts.size() != it.ends.size())
          a.error(b.span_of("block_size"), "block_size has " + std::to_string(bs->elts.size()) +
                                               " entries but the loop has " + std::to_string(it.ends.size()) +
                                               " dims");
        it.block_sizes = bs->elts;
      } else {
        it.block_sizes.assign(it.ends.size(), *bs);
      }
    }
  }
  it.strides.assign(it.ends.size(), GridStride{});
  const SValue* step = fname == "hl.tile" ? nullptr : b.get("step");
  if (step && step->kind != SValue::Kind::None) {
    SourceSpan at = b.span_of("step");
    std::vector<SValue> items = step->is_sequence() ? step->elts : std::vector<SValue>(it.ends.size(), *step);
    if (items.size() != it.ends.size())
      a.error(at, "step has " + std::to_string(items.size()) + " entries but the loop has " +
                      std::to_string(it.ends.size()) + " dims");
    for (size_t i = 0; i < items.size(); ++i) {
      int64_t st = a.expect_const_int(items[i], at, "a loop step");
      if (st <= 0) a.error(at, fname + " needs a positive step, got " + std::to_string(st));
      if (st == 1) continue;
      if (it.dyn_begins[i].kind != SValue::Kind::None || it.dyn_ends[i].kind != SValue::Kind::None)
        a.error(at, fname + " with a step needs bounds known on the host, not computed on the device",
                {"loop over the trip count and scale: for k in hl.grid(n): i = begin + k * step"});
      // The dim runs over the trip count; the index the user sees is rebuilt
      // from it where the loop binds its variable (grid_index).
      it.strides[i] = GridStride{it.begins[i], st};
      it.ends[i] = cdiv(it.ends[i] - it.begins[i], SymInt(st));
      it.begins[i] = SymInt(0);
    }
  }
  it.block_sizes.resize(it.ends.size(), SValue::none());
  return it;
}

static std::string qualname_of_call(Analyzer& a, const ast::Call& call) {
  SValue f = a.eval(*call.func);
  if (f.kind == SValue::Kind::Function) return f.s;
  return "";
}

int Analyzer::new_block_size(int64_t min, int64_t max, const std::string& origin) {
  BlockSizeSpec s;
  s.min = min;
  s.min_allowed = min;
  s.max = max;
  s.origin = origin;
  program_->block_sizes.push_back(s);
  return static_cast<int>(program_->block_sizes.size() - 1);
}

int Analyzer::new_loop_dim(DimKind kind, SymInt begin, SymInt end, std::optional<int64_t> fixed_block,
                           int block_size_index, const std::string& name, SourceSpan span, bool end_on_device) {
  ir::Dim d;
  d.id = static_cast<int>(kernel_->dims.size());
  d.kind = kind;
  d.begin = begin;
  d.end = end;
  d.fixed_block_size = fixed_block;
  d.block_size_index = block_size_index;
  d.name = name;
  d.span = span;
  kernel_->dims.push_back(d);
  // The config's heuristics size a block by the extents it tiles.  An end
  // computed on the device (hl.jagged_tile, hl.tile(0, max_len)) has no size
  // when compiling: its placeholder (0) would read as an empty loop, so the
  // block size records an extent without a hint instead.  (A begin computed
  // on the device leaves `end` as an upper bound of the extent.)
  if (block_size_index >= 0)
    program_->block_sizes[block_size_index].extents.push_back(
        end_on_device ? SymInt::symbol(deuteron::kDeviceExtent) : end - begin);
  return d.id;
}

// Target names of a loop header, one per dim.
static std::vector<std::string> loop_targets(Analyzer& a, const ast::For& f, size_t ndims, bool nd,
                                             std::string& tuple_name) {
  std::vector<std::string> names;
  if (auto* n = ast::dyn_cast<ast::Name>(f.target.get())) {
    if (ndims == 1) return {n->id};
    tuple_name = n->id;  // `for tile in hl.tile([m, n])`: tile is a tuple of tiles
    for (size_t i = 0; i < ndims; ++i) names.push_back(n->id + "_" + std::to_string(i));
    return names;
  }
  const std::vector<ast::ExprPtr>* elts = nullptr;
  if (auto* t = ast::dyn_cast<ast::Tuple>(f.target.get())) elts = &t->elts;
  if (auto* l = ast::dyn_cast<ast::List>(f.target.get())) elts = &l->elts;
  if (!elts) a.error(f.target->span, "loop target must be a name or a tuple of names");
  if (elts->size() != ndims)
    a.error(f.target->span, ErrorKind::FailedToUnpackTile,
            "the loop has " + std::to_string(ndims) + " dims but " + std::to_string(elts->size()) + " targets",
            {ndims == 1 ? "hl.tile(a, b) is one loop from a to b; for a 2-D loop over [a, b] write hl.tile([a, b])"
                        : "unpack one name per dim"});
  for (const auto& e : *elts) {
    auto* n = ast::dyn_cast<ast::Name>(e.get());
    if (!n) a.error(e->span, "loop targets must be plain names");
    names.push_back(n->id);
  }
  return names;
}

// A number every config fixes: made of tunables (and block sizes) only.
static bool config_only(const SymInt& s) {
  for (const auto& n : s.symbols())
    if (n.rfind("_tunable_", 0) != 0 && n.rfind("_block_size_", 0) != 0) return false;
  return true;
}

// Creates the dims of a loop and returns their ids.
// `tuple_name`: the loop's one target when it binds a tuple of tiles (`for tile in
// hl.tile([m, n])`); messages then call its dims tile[0], tile[1] (what the user
// writes), never the internal names tile_0, tile_1.
static std::vector<int> make_loop_dims(Analyzer& a, const LoopIter& it, const std::vector<std::string>& names,
                                       SourceSpan span, const std::string& tuple_name = "") {
  std::vector<int> dims;
  for (size_t i = 0; i < it.ends.size(); ++i) {
    const std::string shown = tuple_name.empty() ? names[i] : tuple_name + "[" + std::to_string(i) + "]";
    std::optional<int64_t> fixed;
    std::optional<SymInt> config_block;
    int bsi = -1;
    a.gen().check_extent(it.ends[i] - it.begins[i], span);
    if (!it.is_grid) {
      const SValue& bs = it.block_sizes[i];
      if (bs.kind == SValue::Kind::BlockSize) {
        bsi = bs.index;
      } else if (bs.kind == SValue::Kind::Int && !bs.i.is_constant() && config_only(bs.i)) {
        config_block = bs.i;  // resolved per config when lowering
      } else if (bs.kind == SValue::Kind::Int) {
        int64_t v = a.expect_const_int(bs, span, "block_size");
        if (v <= 0 || (v & (v - 1)) != 0)
          a.error(span, "block_size must be a positive power of two, got " + std::to_string(v));
        fixed = v;
      } else if (bs.kind != SValue::Kind::None) {
        a.error(span, "block_size must be an int, a value from hl.register_block_size, or None; got " +
                          describe(bs));
      }
      if (!fixed && !config_block && bsi < 0) {
        SymInt extent = it.ends[i] - it.begins[i];
        bool dynamic = it.dyn_begins[i].kind != SValue::Kind::None || it.dyn_ends[i].kind != SValue::Kind::None;
        int64_t hint = dynamic ? (1 << 20) : extent.hint().value_or(1 << 20);
        bsi = a.new_block_size(1, std::max<int64_t>(1, next_power_of_2(hint)), names[i]);
        a.program().block_sizes[bsi].where = "tile loop '" + shown + "' at line " + std::to_string(span.line);
      }
    }
    dims.push_back(a.new_loop_dim(it.is_grid ? DimKind::Grid : DimKind::Tile, it.begins[i], it.ends[i], fixed, bsi,
                                  names[i], span, it.dyn_ends[i].kind != SValue::Kind::None));
    if (config_block) a.gen().kernel().dim(dims.back()).config_block_size = *config_block;
    if (!tuple_name.empty()) a.gen().set_dim_display(dims.back(), shown);
    if (it.dyn_begins[i].kind != SValue::Kind::None || it.dyn_ends[i].kind != SValue::Kind::None)
      a.gen().kernel().dim(dims.back()).dynamic_bounds = true;
  }
  return dims;
}

// The loop variable of a grid dim: the dim's index, or origin + index * step
// when the loop has a step (its dim then runs over the trip count).
SValue Analyzer::grid_index(int dim, const std::string& name, const GridStride& stride, SourceSpan span) {
  ir::Attrs attrs;
  attrs.dim = dim;
  DType it = program_->index_dtype;
  ir::Value* idx = gen().builder().create(OpKind::TileBegin, {}, {ir::Type{it, {}}}, span, attrs)->result();
  if (stride.step != 1) {
    idx = gen().binary_raw(ir::BinaryFn::Mul, idx, gen().int_constant(stride.step, it, span), it, span);
    if (!(stride.origin.is_constant() && stride.origin.constant() == 0))
      idx = gen().binary_raw(ir::BinaryFn::Add, gen().cast(gen().sym_value(stride.origin, span), it, span), idx, it,
                             span);
  }
  idx->name_hint = name;
  return SValue::ir(idx, PromotionClass::Scalar);
}

void Analyzer::device_loop(const ast::For& f) {
  auto& call = *ast::cast<ast::Call>(f.iter.get());
  kernel_ = std::make_unique<ir::DeviceKernel>();
  random_offsets_.clear();
  kernel_->name = "_" + program_->fn->name + "_kernel" +
                  (program_->kernels.empty() ? "" : "_" + std::to_string(program_->kernels.size()));
  kernel_->span = f.header_span;
  kernel_->index_dtype = program_->index_dtype;
  tensor_params_.clear();
  expression_shapes_.clear();
  gen_ = std::make_unique<IRGen>(*kernel_, file_, program_->index_dtype);

  Env saved = env_;
  std::string fname = qualname_of_call(*this, call);
  // Evaluate the header in host context (bounds are host values).
  auto g = std::move(gen_);
  LoopIter it = parse_loop_iter(*this, call, fname);
  gen_ = std::move(g);
  std::string tuple_name;
  auto names = loop_targets(*this, f, it.ends.size(), it.nd, tuple_name);
  if (!it.range_error.empty()) error(it.range_error_span, ErrorKind::InvalidTileRange, it.range_error);
  auto dims = make_loop_dims(*this, it, names, f.header_span, tuple_name);
  kernel_->grid_dims = dims;
  open_loop_dims_ = dims;

  std::vector<SValue> bound;
  for (size_t i = 0; i < dims.size(); ++i) {
    SValue v;
    if (it.is_grid) {
      v = grid_index(dims[i], names[i], it.strides[i], f.header_span);
    } else {
      v = SValue::tile(dims[i]);
    }
    bound.push_back(v);
    if (tuple_name.empty()) env_[names[i]] = v;
  }
  if (!tuple_name.empty()) env_[tuple_name] = SValue::tuple(bound);

  loop_depth_ = 1;
  device_body(f.body);
  loop_depth_ = 0;

  // Device values cannot flow back to host code.
  std::set<std::string> assigned = assigned_names(f.body);
  for (const auto& n : names) assigned.insert(n);
  if (!tuple_name.empty()) assigned.insert(tuple_name);
  for (const auto& n : assigned) {
    auto before = saved.find(n);
    bool host_variable = before != saved.end() && before->second.kind != SValue::Kind::Poison &&
                         std::find(names.begin(), names.end(), n) == names.end();
    if (host_variable)
      saved[n] = SValue::poison("cannot modify host variable '" + n + "' inside the device loop at line " +
                                    std::to_string(f.header_span.line) +
                                    " without subscript assignment (host code after the loop cannot see the "
                                    "device's value); write into it by index instead: " + n + "[tile] = ...",
                                f.header_span, ErrorKind::CannotModifyHostVariableOnDevice);
    else
      saved[n] = SValue::poison("'" + n + "' is defined inside a device loop and cannot be used by host code after it",
                                f.header_span, ErrorKind::CannotReadDeviceVariableOnHost);
  }
  env_ = saved;
  // tile_0, tile_1 of a tuple target are internal: only the name the user wrote.
  std::vector<std::string> targets = tuple_name.empty() ? names : std::vector<std::string>{tuple_name};
  for (const auto& n : targets)
    env_[n] = SValue::poison("'" + n + "' only exists inside its loop (line " +
                                 std::to_string(f.header_span.line) + "); host code after the loop cannot use it",
                             f.header_span);

  gen().unify_whole_dims(f.header_span);
  for (const auto& eq : gen().size_equalities()) program_->size_equalities.push_back(eq);
  lift_batch_dims_into_grid(*kernel_);
  assign_reduction_indices(*kernel_, f.header_span);
  // Nests of loop attempts that a carried value's retry dropped have no loops.
  std::set<int> loop_ids;
  ir::walk(kernel_->body, [&](const ir::Op& op) {
    if (op.kind == OpKind::For) loop_ids.insert(op.id);
  });
  auto dropped = [&](const std::vector<int>& nest) { return !loop_ids.count(kernel_->dim(nest[0]).loop_id); };
  kernel_->nests.erase(std::remove_if(kernel_->nests.begin(), kernel_->nests.end(), dropped), kernel_->nests.end());
  check_pointer_values(*kernel_);
  ir::verify(*kernel_);
  open_loop_dims_.clear();
  program_->kernels.push_back(std::move(kernel_));
  program_->expression_shapes.push_back(std::move(expression_shapes_));
  gen_.reset();
}

namespace {

// The hints (values at bind time) of the symbols in `e`, by name.
void symbol_hints(const SymInt& e, std::map<std::string, int64_t>& out) {
  if (e.kind() == SymInt::Kind::Symbol) {
    if (auto h = e.hint()) out[e.symbol_name()] = *h;
    return;
  }
  if (e.is_constant()) return;
  for (const auto& o : e.operands()) symbol_hints(o, out);
}

}  // namespace

bool Analyzer::block_from_call_extent(ir::Dim& dim) {
  // The extent in Python over the parameters (each symbol as the host code reads it on
  // entry: "x.size(1)", "n", "ts[0].size(1)") and its value in this call.
  const SymInt extent = dim.extent();
  std::map<std::string, int64_t> hints, values;
  symbol_hints(extent, hints);
  bool ok = true;
  std::string text = extent.str([&](const std::string& name) -> std::string {
    const HostSymbol* hs = nullptr;
    for (const auto& s : program_->symbols)
      if (s.name == name) hs = &s;
    if (!hs || !hs->at_entry) {
      ok = false;
      return name;
    }
    auto arg = int_arg_values_.find(name);
    auto hint = hints.find(name);
    std::optional<int64_t> v = arg != int_arg_values_.end() ? std::optional<int64_t>(arg->second)
                               : hint != hints.end()       ? std::optional<int64_t>(hint->second)
                                                           : std::nullopt;
    if (!v) {
      ok = false;
      return name;
    }
    values[name] = *v;
    return "(" + hs->host_expr + ")";
  });
  if (!ok) return false;
  std::optional<int64_t> value = extent.evaluate(values);
  if (!value) return false;
  dim.fixed_block_size = next_power_of_2(std::max<int64_t>(*value, 1));
  std::string key = "triton.next_power_of_2(max(" + text + ", 1))";
  auto& rec = program_->specialized_args;
  if (std::find(rec.begin(), rec.end(), key) == rec.end()) rec.push_back(key);
  return true;
}

namespace {
// The shortest whole dim that only dots contract over and that gets a
// reduction_loops entry (contraction_rolling.cc): more than one K step.
constexpr int64_t kMinRolledContraction = 128;
}  // namespace

void Analyzer::assign_reduction_indices(ir::DeviceKernel& k, SourceSpan loop_span) {
  // A Full dim gets a `reduction_loops` entry when something reduces over it,
  // a dot's rows or columns or its contraction can come chunk by chunk, and,
  // unless a dot only contracts over it, it only appears at the top level of
  // the kernel body (reduction_rolling.cc rewrites that level;
  // contraction_rolling.cc builds its loop where the dot is).  Scans along it and reductions with a user combine
  // over it keep it persistent: a scan's later chunks need the earlier ones'
  // total, and a combine function has no identity to start chunks from.
  std::set<int> reduced, in_dot, contracted, dot_outer, nested, persistent;
  for (const auto& op : k.body.ops)
    for (const auto& sub : op->regions)
      ir::walk(*sub, [&](const ir::Op& inner) {
        for (const auto& r : inner.results)
          for (int d : r->type.dims)
            if (d != ir::kBroadcast) nested.insert(d);
        for (const auto& ix : inner.attrs.index)
          if (ix.kind == ir::IndexSpec::Kind::TileDim) nested.insert(ix.dim);
      });
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind == OpKind::Reduce) {
      int d = op.operands[0]->type.dims.at(op.attrs.axis);
      if (d != ir::kBroadcast && k.dim(d).kind == DimKind::Full) reduced.insert(d);
    }
    if (op.kind == OpKind::Dot) {
      for (const ir::Value* v : op.operands)
        for (int d : v->type.dims)
          if (d != ir::kBroadcast) in_dot.insert(d);
      const auto& a = op.operands[0]->type.dims;
      const auto& b = op.operands[1]->type.dims;
      contracted.insert(a.back());
      contracted.insert(b[b.size() - 2]);
      for (int d : op.result()->type.dims)
        if (d != ir::kBroadcast) dot_outer.insert(d);
    }
    if (op.kind == OpKind::Scan || op.kind == OpKind::CombineReduce)
      persistent.insert(op.operands[0]->type.dims.at(op.attrs.axis));
    // A reshape that merges or splits dims moves elements between them: the
    // dims on both sides stay whole blocks (a rolled loop would see a chunk).
    if (op.kind == OpKind::Reshape) {
      auto real = [](const std::vector<int>& ds) {
        std::vector<int> r;
        for (int d : ds)
          if (d != ir::kBroadcast) r.push_back(d);
        return r;
      };
      const auto& in = op.operands[0]->type.dims;
      const auto& res = op.result()->type.dims;
      if (real(in) != real(res)) {
        for (int d : in)
          if (d != ir::kBroadcast) persistent.insert(d);
        for (int d : res)
          if (d != ir::kBroadcast) persistent.insert(d);
      }
    }
    // A dim on two axes of one value (x[hl.arange(n)[:, None], hl.arange(n)[None, :]])
    // pairs every lane with every other: a chunk would pair each only with its own.
    auto twice = [&](const std::vector<int>& ds) {
      for (size_t i = 0; i < ds.size(); ++i)
        if (ds[i] != ir::kBroadcast && std::find(ds.begin() + i + 1, ds.end(), ds[i]) != ds.end())
          persistent.insert(ds[i]);
    };
    for (const auto& r : op.results) twice(r->type.dims);
    if (op.kind == OpKind::Store || op.kind == OpKind::AtomicRMW) twice(ir::access_dims(op));
    // A gather reads anywhere along its input's axis.
    if (op.kind == OpKind::Gather) persistent.insert(op.operands[0]->type.dims.at(op.attrs.axis));
    // A whole dim holding a tile's block lanes (BlockLanes) has that block's
    // lanes: a chunk of it would not.
    if (op.kind == OpKind::BlockLanes) {
      persistent.insert(op.operands[0]->type.dims.at(op.attrs.axis));
      persistent.insert(op.result()->type.dims.at(op.attrs.axis));
    }
    // A sort needs its whole row at once, and a topk's k lanes come out whole.
    if (op.kind == OpKind::Sort) {
      persistent.insert(op.operands[0]->type.dims.at(op.attrs.axis));
      persistent.insert(op.result(0)->type.dims.at(op.attrs.axis));
    }
  });
  // A whole dim as long as a multiple of a block size (torch.arange(tile.block_size * 2))
  // grows with the config: it stays one persistent block.
  auto config_sized = [&](int d) {
    bool sized = false;
    for (const auto& n : k.dim(d).extent().symbols())
      sized |= n.rfind("_block_size_", 0) == 0 || n.rfind("_tunable_", 0) == 0;
    return sized;
  };
  // A whole dim whose size is only known at run time (static_shapes=False,
  // `x[tile, :]` over a dynamic dim) has no constant block to hold it
  // persistently, so it is rolled into a loop over chunks where it can be
  // (reduction_loops gives a chunk for a symbolic extent), whether something
  // reduces over it or it is only loaded and stored elementwise.  Where it
  // cannot be rolled (a matmul operand, an inner loop, a scan/sort/reshape)
  // it is one masked block of next_power_of_2(extent) lanes, as Helion's
  // `_RDIM_SIZE = triton.next_power_of_2(size)`: the block is this call's, and
  // the kernel is keyed on that power of two, so a call whose extent needs
  // another block binds again (block_from_call_extent).  Only an extent not
  // computed from the arguments on entry has no such key: then the kernel
  // needs the size at compile time.
  for (auto& dim : k.dims) {
    if (dim.kind != DimKind::Full || dim.merged() || dim.extent().is_constant() || config_sized(dim.id)) continue;
    if (gen().unified_away(dim.id)) continue;  // now another dim (ir_gen.h: unify_whole_dims)
    const int d = dim.id;
    const char* why = in_dot.count(d)       ? "a matmul consumes it"
                      : nested.count(d)     ? "it is used inside an inner loop"
                      : persistent.count(d) ? "a scan, sort, reshape or custom-combine reduction needs it whole"
                      : gen().met_by_size(d) ? "it meets another whole dim of its size (w[:, :] of a square w)"
                                            : nullptr;
    if (why) {
      if (block_from_call_extent(dim)) continue;
      error(loop_span, ErrorKind::ShapeSpecializingAllocation, "a whole dim ':' of size " + dim.extent().str() + (dim.name.empty() || dim.name == dim.extent().str() ? "" : " (" + dim.name + ")") +
                           " is only known at run time and cannot be looped over in chunks here: " + why +
                           ", and its size is not a function of the kernel's arguments (their sizes, strides "
                           "and int values), so no block can be chosen for it when the kernel is bound; give it "
                           "a size known then (a constant, or a size of an argument)");
    }
    reduced.insert(d);
  }
  // Candidates: dims something reduces over (or of a run-time size, above),
  // and the whole dims of a dot (x_tile @ w[:, :]: its columns can come
  // chunk by chunk, and its contraction, contraction_rolling.cc).  Whole
  // dims that met by size (ir_gen.h: whole_dims_meet) share one block, so
  // they roll together, as one entry (reduction_rolling.cc).
  std::set<int> candidates = reduced, placed;
  for (const std::set<int>* dots : {&dot_outer, &contracted})
    for (int d : *dots)
      if (d != ir::kBroadcast && k.dim(d).kind == DimKind::Full && !k.dim(d).merged() && k.dim(d).extent().is_constant())
        candidates.insert(d);
  for (int d : candidates) {
    if (placed.count(d) || gen().unified_away(d)) continue;
    const std::set<int> cls = gen().whole_dims_with_lanes_of(d);
    placed.insert(cls.begin(), cls.end());
    bool any_nested = false, blocked = false, any_reduced = false, any_outer = false, any_contracted = false,
         symbolic = false;
    for (int e : cls) {
      any_nested |= nested.count(e) != 0;
      blocked |= persistent.count(e) || config_sized(e);
      any_reduced |= reduced.count(e) != 0;
      any_outer |= dot_outer.count(e) != 0;
      any_contracted |= contracted.count(e) != 0;
      symbolic |= !k.dim(e).extent().is_constant();
    }
    // Reductions and stores roll at the kernel body's top level only; a
    // dot's contraction rolls where the dot is (contraction_rolling.cc).
    const bool contracted_only = any_contracted && !any_outer && !any_reduced;
    if (blocked || (any_nested && !contracted_only)) continue;
    // A size known only at run time rolls alone and outside dots (the checks above).
    if (symbolic && (cls.size() > 1 || in_dot.count(d))) continue;
    // A contraction comes chunk by chunk where its operands can be cut
    // (ir::contraction_chunks); one that cannot stays whole, and so do the
    // reductions over its dim, which would leave the dot's operands whole anyway.
    if (any_contracted && !any_outer) {
      // A contraction of at most 128 lanes is one K step of a matmul's tile:
      // chunks of it cannot pay, so a dim only contracted needs more.
      const auto extent = k.dim(d).extent().as_constant();
      if (contracted_only && (!extent || *extent <= kMinRolledContraction)) continue;
      bool all = true;
      ir::walk(k.body, [&](const ir::Op& op) {
        if (op.kind == OpKind::Dot && cls.count(op.operands[0]->type.dims.back()))
          all = all && ir::contraction_chunks(k, op, cls).has_value();
      });
      if (!all) continue;
    }
    if (!any_reduced && !any_outer && !any_contracted && !symbolic) continue;
    if (!ir::can_roll(k, cls)) {
      // A size known only at run time that cannot roll after all (an op
      // across its lanes that the checks above do not name) is one block of
      // the call's size, as above.
      if (symbolic && !block_from_call_extent(k.dim(d)))
        error(loop_span, ErrorKind::ShapeSpecializingAllocation,
              "a whole dim ':' of size " + k.dim(d).extent().str() +
                  " is only known at run time and cannot be looped over in chunks here (an operation over it "
                  "is not computed lane by lane), and its size is not a function of the kernel's arguments, "
                  "so no block can be chosen for it when the kernel is bound; give it a size known then");
      continue;
    }
    ReductionLoopSpec spec;
    spec.extent = k.dim(d).extent();
    spec.origin = k.dim(d).name;
    program_->reduction_loops.push_back(spec);
    for (int e : cls) k.dim(e).reduction_index = static_cast<int>(program_->reduction_loops.size() - 1);
  }
  // A whole dim of `block // c` lanes (a piece of a split tile block,
  // reshapes.cc) needs blocks of at least c.
  for (const auto& d : k.dims) {
    const SymInt& e = d.extent();
    if (d.kind != DimKind::Full || e.kind() != SymInt::Kind::FloorDiv) continue;
    const SymInt& num = e.operands()[0];
    const SymInt& den = e.operands()[1];
    if (num.kind() != SymInt::Kind::Symbol || !den.is_constant() || num.symbol_name().rfind("_block_size_", 0) != 0)
      continue;
    size_t idx = std::stoul(num.symbol_name().substr(12));
    if (idx < program_->block_sizes.size())
      program_->block_sizes[idx].min = std::max<int64_t>(program_->block_sizes[idx].min, den.constant());
  }
  // Mark block sizes whose dims are matmul M, N or K (tensor cores need >= 16;
  // a batch dim may be anything).
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind != OpKind::Dot) return;
    for (size_t i = 0; i < 2; ++i) {
      const auto& dims = op.operands[i]->type.dims;
      for (size_t j = dims.size() - 2; j < dims.size(); ++j) {
        int d = dims[j];
        if (d == ir::kBroadcast) continue;
        // A tile's block size, or the registered one whose lanes the dim is.
        int index = k.dim(d).block_size_index;
        const SymInt& end = k.dim(d).end;
        if (index < 0 && k.dim(d).kind == DimKind::Full && !k.dim(d).merged() &&
            end.kind() == SymInt::Kind::Symbol && end.symbol_name().rfind("_block_size_", 0) == 0)
          index = std::stoi(end.symbol_name().substr(12));
        if (index >= 0) {
          auto& spec = program_->block_sizes[index];
          spec.used_in_dot = true;
          spec.min = std::max<int64_t>(spec.min, 16);
          // The contraction dim of a matmul is tiled by an inner loop.
          if (i == 0 && j == dims.size() - 1) spec.is_reduction_like = true;
        }
      }
    }
  });
  // Block sizes a while condition limits to 1 (while_condition): a matmul
  // over the tile takes such blocks too (as a product without tl.dot); a
  // split block needing more lanes cannot.
  for (const auto& [index, span] : one_lane_blocks_) {
    auto& spec = program_->block_sizes[index];
    if (spec.used_in_dot && spec.min_allowed <= 1) spec.min = 1;
    if (spec.min > 1)
      error(span, "the condition of this while loop is a value over a tile, which is one value only with blocks of "
                  "1 lane, but the tile's block size (" + spec.origin + ") must be at least " +
                  std::to_string(spec.min) + " elsewhere in the kernel",
            {"reduce the condition to one value, e.g. `while (cond).any():`"});
  }
}

// `acc += a @ b` in a loop inside the grid (a K loop): each product is
// rounded to the operands' dtype before it is added, where torch.addmm /
// baddbmm / hl.dot(acc=) keep the running sum in the accumulator (Helion's
// TiledKMatmulAccumulationWarning says so; the result is what was written).
void Analyzer::warn_tiled_k_accumulation(const SValue& rhs, SourceSpan span) {
  if (rhs.kind != SValue::Kind::IR || !rhs.value) return;
  const ir::Value* v = rhs.value;
  while (v->def && v->def->kind == OpKind::Cast && !v->def->attrs.bitcast) v = v->def->operands[0];
  if (!v->def || v->def->kind != OpKind::Dot) return;
  std::string where = file_->filename + ":" + std::to_string(span.line) + ":" + std::to_string(span.col);
  program_->warnings.emplace_back(
      "TiledKMatmulAccumulationWarning",
      where + ": `acc += <matmul>` inside a loop over tiles of K (`@`, torch.matmul/mm/bmm, hl.dot): "
              "each tile's product is rounded before it is added.\n"
              "For accurate numerics accumulate with torch.addmm(acc, ...), torch.baddbmm(acc, ...) or "
              "hl.dot(..., acc=acc).");
}

void Analyzer::device_body(const ast::Body& body) {
  for (const auto& st : body) device_stmt(*st);
}

void Analyzer::device_assign(const ast::Expr& target, const SValue& value, SourceSpan span) {
  if (auto* n = ast::dyn_cast<ast::Name>(&target)) {
    SValue v = value;
    if (v.kind == SValue::Kind::IR && v.value->name_hint.empty()) v.value->name_hint = n->id;
    v.span = target.span;
    env_[n->id] = v;
    return;
  }
  if (auto* sub = ast::dyn_cast<ast::Subscript>(&target)) {
    SValue base = eval(*sub->value);
    // `cached[i] = v` on a list made in the kernel: lists are values here, so
    // the name is rebound to the list with element i replaced.  (Another name
    // bound to the same list would keep the old elements; kernels build such
    // lists as register caches under one name.)
    if (base.kind == SValue::Kind::List) {
      auto* name = ast::dyn_cast<ast::Name>(sub->value.get());
      if (!name)
        error(sub->value->span, "only a list held by a name can be assigned to by index inside a tile loop",
              {"assign the list to a name first: cache = ...; cache[i] = value"});
      if (ast::isa<ast::Slice>(sub->index.get()))
        error(sub->index->span, "assigning to a slice of a list is not supported inside tile loops");
      SValue idx = eval(*sub->index);
      if (!(idx.kind == SValue::Kind::Int && idx.i.is_constant()))
        error(sub->index->span, "a list can only be assigned to at a constant index inside tile loops, got " +
                                    describe(idx),
              {"index with a constant or an hl.static_range variable"});
      int64_t n = static_cast<int64_t>(base.elts.size());
      int64_t i = idx.i.constant() < 0 ? idx.i.constant() + n : idx.i.constant();
      if (i < 0 || i >= n)
        error(sub->index->span, "list assignment index " + idx.i.str() + " is out of range for a list of length " +
                                    std::to_string(n));
      base.elts[i] = value;
      device_assign(*sub->value, base, span);
      return;
    }
    if (base.kind != SValue::Kind::Tensor && base.kind != SValue::Kind::Stack)
      error(sub->value->span, ErrorKind::DeviceTensorSubscriptAssignmentNotAllowed,
            "only host tensors can be assigned to by index inside a tile loop, got " +
                                  describe(base),
            {"device values are immutable; compute a new value with torch.where instead"});
    store(base, index_parts(*sub->index), value, span, nullptr);
    return;
  }
  const std::vector<ast::ExprPtr>* elts = nullptr;
  if (auto* t = ast::dyn_cast<ast::Tuple>(&target)) elts = &t->elts;
  if (auto* l = ast::dyn_cast<ast::List>(&target)) elts = &l->elts;
  if (elts) {
    if (!value.is_sequence()) error(span, "cannot unpack " + describe(value) + " into several names");
    if (value.elts.size() != elts->size())
      error(span, "cannot unpack " + std::to_string(value.elts.size()) + " values into " +
                      std::to_string(elts->size()) + " names");
    for (size_t i = 0; i < elts->size(); ++i) device_assign(*(*elts)[i], value.elts[i], span);
    return;
  }
  if (ast::isa<ast::Attribute>(&target))
    error(target.span, "assigning to attributes is not supported inside tile loops");
  error(target.span, "unsupported assignment target");
}

void Analyzer::device_stmt(const ast::Stmt& s) try {
  switch (s.kind) {
    case ast::StmtKind::Assign: {
      auto& a = *ast::cast<ast::Assign>(&s);
      SValue v = eval(*a.value);
      for (const auto& t : a.targets) device_assign(*t, v, s.span);
      return;
    }
    case ast::StmtKind::AnnAssign: {
      auto& a = *ast::cast<ast::AnnAssign>(&s);
      if (a.value) device_assign(*a.target, eval(*a.value), s.span);
      return;
    }
    case ast::StmtKind::AugAssign: {
      auto& a = *ast::cast<ast::AugAssign>(&s);
      if (auto* sub = ast::dyn_cast<ast::Subscript>(a.target.get())) {
        // out[tile] += v  ==  out[tile] = out[tile] + v
        SValue base = eval(*sub->value);
        if (base.kind != SValue::Kind::Tensor && base.kind != SValue::Kind::Stack)
          error(sub->value->span, ErrorKind::DeviceTensorSubscriptAssignmentNotAllowed,
                "only host tensors can be updated by index, got " + describe(base));
        auto index = index_parts(*sub->index);
        SValue cur = load(base, index, a.target->span, nullptr, "");
        SValue rhs = eval(*a.value);
        store(base, index, eval_binop(a.op, cur, rhs, s.span), s.span, nullptr);
        return;
      }
      SValue cur = eval(*a.target);
      // `acc += v` on a host tensor would rebind the host name inside the loop;
      // its elements are updated by index (`acc[tile] += v`).
      if (cur.kind == SValue::Kind::Tensor && ast::isa<ast::Name>(a.target.get()))
        error(a.target->span, ErrorKind::CannotModifyHostVariableOnDevice,
              "the host tensor '" + cur.tensor->expr + "' cannot be updated as a whole inside a tile loop",
              {"update the part this program works on: " + cur.tensor->expr + "[tile] += ... (or [:] for all of it)"});
      SValue rhs = eval(*a.value);
      if (a.op == ast::BinOpKind::Add && loop_depth_ > 1) warn_tiled_k_accumulation(rhs, s.span);
      SValue v = eval_binop(a.op, cur, rhs, s.span);
      device_assign(*a.target, v, s.span);
      return;
    }
    case ast::StmtKind::ExprStmt: {
      auto& e = *ast::cast<ast::ExprStmt>(&s);
      if (ast::isa<ast::Constant>(e.value.get())) return;  // docstrings, bare literals
      eval(*e.value);
      return;
    }
    case ast::StmtKind::For: device_for(*ast::cast<ast::For>(&s)); return;
    case ast::StmtKind::If: device_if(*ast::cast<ast::If>(&s)); return;
    case ast::StmtKind::Pass: return;
    case ast::StmtKind::Assert: {
      auto& a = *ast::cast<ast::Assert>(&s);
      SValue c = eval(*a.test);
      bool truth;
      if (is_truthy_static(c, truth)) {
        if (!truth)
          error(a.test->span, "this assertion is false for the arguments the kernel was called with");
        return;
      }
      SValue d = expect_device(c, a.test->span, "assert condition");
      ir::Attrs attrs;
      attrs.message = a.msg ? ast::unparse(*a.msg) : "assertion failed";
      gen().builder().create(OpKind::Assert, {gen().cast(d.value, DType::Bool, s.span)}, {}, s.span, attrs);
      return;
    }
    case ast::StmtKind::While: device_while(*ast::cast<ast::While>(&s)); return;
    case ast::StmtKind::Break:
      error(s.span, "break is not supported inside tile loops",
            {"Triton loops cannot exit early; use a mask (torch.where) or restructure the loop bounds"});
    case ast::StmtKind::Continue:
      error(s.span, "continue is not supported inside tile loops",
            {"Triton loops cannot skip iterations; wrap the rest of the body in an if"});
    case ast::StmtKind::Return:
      error(s.span, ErrorKind::NotAllowedOnDevice, "return inside a tile loop is not supported", {"return results after the loop, on the host"});
    case ast::StmtKind::FunctionDef:
      error(s.span, ErrorKind::StatementNotSupported, "function definitions are not supported inside tile loops",
            {"define helper functions at module level"});
    default: error(s.span, ErrorKind::StatementNotSupported, "this statement is not supported inside tile loops");
  }
} catch (const IntOverflowError& o) {
  overflow_error(s.span, o, "");
}

// ----------------------------------------------------------------- loops

// Whether Helion offers a static_ranges entry for dim i of an inner loop
// (helion/language/loops.py, _allow_static_range): its begin and end are
// numbers when compiling and it takes at most 8 steps of the step the loop is
// written with.  An hl.tile's step is its block_size argument: a number counts
// blocks of it, none counts elements (the config's block size is not known
// yet), and a block size from hl.register_block_size or another tile rules it
// out.  An hl.grid's dim already runs over its trip count.
static bool static_range_ok(const LoopIter& it, size_t i) {
  if (it.dyn_begins[i].kind != SValue::Kind::None || it.dyn_ends[i].kind != SValue::Kind::None) return false;
  if (!it.begins[i].is_constant() || !it.ends[i].is_constant()) return false;
  int64_t count = it.ends[i].constant() - it.begins[i].constant();
  if (it.is_grid) {
    if (!it.strides[i].origin.is_constant()) return false;
  } else {
    const SValue& bs = it.block_sizes[i];
    if (bs.kind == SValue::Kind::Int && bs.i.is_constant() && bs.i.constant() > 0)
      count = (count + bs.i.constant() - 1) / bs.i.constant();
    else if (bs.kind != SValue::Kind::None)
      return false;
  }
  return count <= 8;
}

void Analyzer::device_for(const ast::For& f) {
  auto* call = ast::dyn_cast<ast::Call>(f.iter.get());
  std::string fname = call ? qualname_of_call(*this, *call) : "";
  if (fname == "hl.tile" || fname == "hl.grid" || fname == "builtins.range") {
    LoopIter it = parse_loop_iter(*this, *call, fname == "builtins.range" ? "hl.grid" : fname);
    std::string tuple_name;
    auto names = loop_targets(*this, f, it.ends.size(), it.nd, tuple_name);
    if (!it.range_error.empty()) error(it.range_error_span, ErrorKind::InvalidTileRange, it.range_error);
    if (!tuple_name.empty())
      error(f.target->span, "inner N-D loops must unpack their tiles: `for tile_a, tile_b in hl.tile([a, b])`");
    auto dims = make_loop_dims(*this, it, names, f.header_span);
    for (size_t i = 0; i < dims.size(); ++i) kernel_->dim(dims[i]).static_range_ok = static_range_ok(it, i);
    std::vector<std::pair<SValue, SValue>> bounds;
    for (size_t i = 0; i < dims.size(); ++i) bounds.emplace_back(it.dyn_begins[i], it.dyn_ends[i]);
    open_loop_dims_.insert(open_loop_dims_.end(), dims.begin(), dims.end());
    lower_carried_loop(f, dims, names, it.is_grid, bounds, it.strides);
    open_loop_dims_.resize(open_loop_dims_.size() - dims.size());
    if (dims.size() > 1) kernel_->nests.push_back(dims);
    return;
  }
  if (fname == "hl.jagged_tile") {
    device_jagged_for(f, *call);
    return;
  }
  if (fname == "hl.static_range" || fname == "tl.static_range") {
    CallArgs ca;
    std::vector<int64_t> r;
    for (const auto& a : call->args) r.push_back(expect_const_int(eval(*a), a->span, "static_range bound"));
    int64_t b = 0, e = 0, st = 1;
    if (r.size() == 1) e = r[0];
    else if (r.size() >= 2) { b = r[0]; e = r[1]; }
    if (r.size() == 3) st = r[2];
    if (r.empty() || r.size() > 3 || st == 0) error(call->span, "static_range takes 1 to 3 int arguments, step != 0");
    // The trip count first (in 128 bits: e - b may not fit in int64), so
    // that a huge range is an error rather than a long loop.
    __int128 distance = st > 0 ? static_cast<__int128>(e) - b : static_cast<__int128>(b) - e;
    __int128 stride = st > 0 ? static_cast<__int128>(st) : -static_cast<__int128>(st);
    __int128 count = distance <= 0 ? 0 : (distance + stride - 1) / stride;
    if (count > kMaxStaticUnroll)
      error(call->span, "static_range unrolls at most " + std::to_string(kMaxStaticUnroll) + " iterations",
            {"use hl.tile, hl.grid or range for long loops: they run on the device instead of being unrolled"});
    std::vector<SValue> items;
    for (int64_t k = 0; k < static_cast<int64_t>(count); ++k) items.push_back(SValue::integer(b + k * st));
    auto* var = ast::dyn_cast<ast::Name>(f.target.get());
    if (var) static_range_vars_.push_back(var->id);
    device_static_for(f, items);
    if (var) static_range_vars_.pop_back();
    return;
  }
  SValue seq = eval(*f.iter);
  if (seq.is_sequence()) {
    device_static_for(f, seq.elts);
    return;
  }
  if (seq.kind == SValue::Kind::Dict) {  // a dict argument: its keys, as Python iterates it
    std::vector<SValue> keys;
    for (const auto& k : seq.fields) keys.push_back(SValue::string(k));
    device_static_for(f, keys);
    return;
  }
  if (seq.kind == SValue::Kind::ConstDict) {  // its keys
    std::vector<SValue> keys;
    for (size_t i = 0; i < seq.elts.size(); i += 2) keys.push_back(seq.elts[i]);
    device_static_for(f, keys);
    return;
  }
  error(f.iter->span, ErrorKind::InvalidDeviceForLoop, "inner loops must iterate over hl.tile(...), hl.grid(...), range(...), hl.static_range(...) "
                      "or a tuple known at compile time",
        {"got " + describe(seq)});
}

// hl.jagged_tile(parent): a tile loop up to the largest of the per-lane ends
// in `parent` (a device tensor whose every axis is an enclosing tile), whose
// lanes at or past their own row's end are masked (IRGen::jagged_mask_on).
void Analyzer::device_jagged_for(const ast::For& f, const ast::Call& call) {
  CallArgs ca;
  ca.span = call.span;
  ca.func_name = "hl.jagged_tile";
  for (const auto& arg : call.args) {
    if (ast::isa<ast::Starred>(arg.get())) error(arg->span, "*args is not supported in loop headers");
    ca.args.push_back(eval(*arg));
    ca.arg_spans.push_back(arg->span);
  }
  add_keywords(call, ca);
  BoundArgs b = bind(ca, {"parent"});
  SourceSpan at = b.span_of("parent");
  SValue parent = *b.get("parent");
  const std::string usage = "hl.jagged_tile takes a tensor of per-lane ends whose every axis is an enclosing tile";
  if (parent.kind != SValue::Kind::IR || parent.value->type.is_scalar())
    error(at, ErrorKind::InvalidJaggedTileUsage, usage + ", got " + describe(parent),
          {"for a bound that is the same for every lane use hl.tile(n)"});
  ir::Value* ends = parent.value;
  if (is_floating(ends->type.dtype) || ends->type.dtype == DType::Bool)
    error(at, ErrorKind::InvalidJaggedTileUsage, usage + " of integers, got " + describe(parent));
  std::vector<int> seen;
  for (int d : ends->type.dims) {
    if (d == ir::kBroadcast || kernel_->dim(d).kind != DimKind::Tile ||
        std::find(seen.begin(), seen.end(), d) != seen.end())
      error(at, ErrorKind::InvalidJaggedTileUsage,
            usage + ", got one of shape " + gen().shape_str(ends->type.dims),
            {"load the ends with the parent tiles: lengths[tile_b]"});
    seen.push_back(d);
  }
  auto* target = ast::dyn_cast<ast::Name>(f.target.get());
  if (!target) error(f.target->span, "the target of an hl.jagged_tile loop must be one name");
  // The loop runs to the largest end; lanes of parent tiles past their range
  // are padded with the max's identity by the reduction.
  ir::Value* end = ends;
  while (!end->type.is_scalar()) end = gen().reduce(ir::ReduceFn::Max, end, 0, false, std::nullopt, at);
  LoopIter it;
  it.begins = {SymInt(0)};
  it.ends = {SymInt(0)};
  it.dyn_begins = {SValue::none()};
  it.dyn_ends = {SValue::ir(end, PromotionClass::Scalar)};
  it.block_sizes = {SValue::none()};
  it.strides = {GridStride{}};
  std::vector<std::string> names = {target->id};
  auto dims = make_loop_dims(*this, it, names, f.header_span);
  int k = dims[0];
  std::vector<std::pair<SValue, SValue>> bounds = {{it.dyn_begins[0], it.dyn_ends[0]}};
  // In the body: mask = tile_k.index < ends[..., None], with the parent's axes then k's.
  auto make_mask = [&] {
    ir::Attrs attrs;
    attrs.dim = k;
    DType idt = program_->index_dtype;
    ir::Value* idx = gen().builder().create(OpKind::TileIndex, {}, {ir::Type{idt, {k}}}, f.header_span, attrs)->result();
    ir::Value* e = gen().expand_dims(ends, ends->type.rank(), f.header_span);
    SValue m = gen().binary(ir::BinaryFn::Lt, SValue::ir(idx, PromotionClass::Tensor), SValue::ir(e, PromotionClass::Tensor),
                            f.header_span);
    gen().set_jagged_mask(k, m.value);
  };
  open_loop_dims_.push_back(k);
  lower_carried_loop(f, dims, names, false, bounds, it.strides, make_mask);
  open_loop_dims_.pop_back();
  gen().clear_jagged_mask(k);
}

void Analyzer::device_static_for(const ast::For& f, const std::vector<SValue>& items) {
  for (const auto& item : items) {
    device_assign(*f.target, item, f.header_span);
    device_body(f.body);
  }
}

namespace {

// The type a carried value must have to hold both `a` (before) and `b` (after an iteration).
bool join_types(const ir::Type& a, bool a_weak, const ir::Type& b, ir::Type& out, IRGen& gen, SourceSpan span) {
  out.dtype = a_weak ? b.dtype : promote_types(a.dtype, b.dtype);
  out.dims = gen.broadcast_dims(a.dims, b.dims, span);
  return out != a;
}

}  // namespace

Analyzer::CarriedValues Analyzer::carried_values(const std::set<std::string>& assigned,
                                                 const std::vector<std::string>& excluded, SourceSpan span) {
  CarriedValues c;
  for (const auto& n : assigned) {
    if (std::find(excluded.begin(), excluded.end(), n) != excluded.end()) continue;
    auto it = env_.find(n);
    if (it == env_.end()) continue;
    auto k = it->second.kind;
    if (k == SValue::Kind::IR || k == SValue::Kind::Int || k == SValue::Kind::Float || k == SValue::Kind::Bool)
      c.names.push_back(n);
  }
  // Initial values as device values; their types may widen after one try.
  for (const auto& n : c.names) {
    SValue v = gen().to_device(env_[n], span);
    c.types.push_back(v.value->type);
    c.weak.push_back(env_[n].kind != SValue::Kind::IR);
    c.pclass.push_back(v.pclass);
  }
  return c;
}

std::vector<ir::Value*> Analyzer::carried_inits(const CarriedValues& c, const Env& before, SourceSpan span) {
  std::vector<ir::Value*> inits;
  for (size_t i = 0; i < c.names.size(); ++i) {
    SValue v = gen().to_device(before.at(c.names[i]), span);
    ir::Value* x = gen().cast(v.value, c.types[i].dtype, span);
    inits.push_back(gen().broadcast_to(x, c.types[i].dims, span));
  }
  return inits;
}

bool Analyzer::carried_yields(CarriedValues& c, int attempt, SourceSpan span, std::vector<ir::Value*>& yields) {
  bool retry = false;
  std::vector<SValue> results;
  for (size_t i = 0; i < c.names.size(); ++i) {
    SValue v = env_[c.names[i]];
    if (v.kind == SValue::Kind::Poison) error(span, v.s);
    if (!(v.kind == SValue::Kind::IR || v.is_host_number()))
      error(span, "'" + c.names[i] + "' holds a number or tensor before this loop but " + describe(v) +
                      " inside it; a carried variable must keep its kind");
    SValue dv = gen().to_device(v, span);
    ir::Type joined;
    if (join_types(c.types[i], c.weak[i], dv.value->type, joined, gen(), span)) {
      if (attempt >= 3) error(span, "the type of '" + c.names[i] + "' keeps changing across loop iterations");
      c.types[i] = joined;
      c.weak[i] = false;
      retry = true;
    }
    c.pclass[i] = std::max(c.pclass[i], dv.pclass);
    results.push_back(dv);
  }
  if (retry) return true;
  for (size_t i = 0; i < c.names.size(); ++i) {
    ir::Value* x = gen().cast(results[i].value, c.types[i].dtype, span);
    yields.push_back(gen().broadcast_to(x, c.types[i].dims, span));
  }
  return false;
}

void Analyzer::lower_carried_loop(const ast::For& f, const std::vector<int>& dims,
                                  const std::vector<std::string>& targets, bool grid_scalars,
                                  const std::vector<std::pair<SValue, SValue>>& bounds,
                                  const std::vector<GridStride>& strides,
                                  const std::function<void()>& at_body_start) {
  std::set<std::string> assigned = assigned_names(f.body);
  // Carried: assigned in the body and holding a device-representable value before.
  CarriedValues c = carried_values(assigned, targets, f.header_span);
  const std::vector<std::string>& carried = c.names;

  Env before = env_;
  ir::Region* outer = gen().builder().region();

  std::vector<ir::Op*> loops;
  const int rng_seeds_before = program_->rng_seed_count;
  for (int attempt = 0;; ++attempt) {
    env_ = before;
    program_->rng_seed_count = rng_seeds_before;  // a dropped attempt's random call sites are drawn again
    random_offsets_.clear();
    gen().builder().set_region(outer);
    // Initial values converted to the (possibly widened) types.
    std::vector<ir::Value*> inits = carried_inits(c, before, f.header_span);
    // Device-computed bounds (begin, end) of every dim, before the outermost
    // loop: the dims of one loop are independent, so that a config may nest
    // their For ops in another order (passes/inner_loop_order.cc).
    std::vector<std::vector<ir::Value*>> bound_values(dims.size());
    for (size_t d = 0; d < dims.size(); ++d) {
      const ir::Dim& dim = kernel_->dim(dims[d]);
      if (!dim.dynamic_bounds) continue;
      auto bound = [&](const SValue& dyn, const SymInt& host) {
        SValue v = dyn.kind == SValue::Kind::None ? gen().to_device(SValue::integer(host), f.header_span)
                                                  : gen().to_device(dyn, f.header_span);
        return gen().cast(v.value, program_->index_dtype, f.header_span);
      };
      bound_values[d].push_back(bound(bounds[d].first, dim.begin));
      bound_values[d].push_back(bound(bounds[d].second, dim.end));
    }
    // One For op per dim, nested; carried values thread through all of them.
    loops.clear();
    std::vector<ir::Value*> current = inits;
    for (size_t d = 0; d < dims.size(); ++d) {
      ir::Attrs attrs;
      attrs.dim = dims[d];
      // Device-computed bounds lead the operands (begin, end).
      std::vector<ir::Value*> operands = bound_values[d];
      attrs.dynamic_bounds = !operands.empty();
      operands.insert(operands.end(), current.begin(), current.end());
      ir::Op* loop = gen().builder().create(OpKind::For, operands, c.types, f.header_span, attrs);
      kernel_->dim(dims[d]).loop_id = loop->id;
      ir::Region* body = gen().builder().add_region(loop);
      current.clear();
      for (size_t i = 0; i < carried.size(); ++i)
        current.push_back(gen().builder().add_arg(body, c.types[i], carried[i]));
      gen().builder().set_region(body);
      loops.push_back(loop);
    }
    for (size_t i = 0; i < carried.size(); ++i) env_[carried[i]] = SValue::ir(current[i], c.pclass[i]);
    for (size_t d = 0; d < dims.size(); ++d) {
      if (grid_scalars) {
        env_[targets[d]] = grid_index(dims[d], targets[d], strides[d], f.header_span);
      } else {
        env_[targets[d]] = SValue::tile(dims[d]);
      }
    }
    if (at_body_start) at_body_start();
    ++loop_depth_;
    device_body(f.body);
    --loop_depth_;

    // Yield the carried values; widen the types and retry when a value grew.
    std::vector<ir::Value*> yields;
    if (carried_yields(c, attempt, f.header_span, yields)) {
      // Drop this attempt: the For op is the last op of the outer region
      // (dead init conversions are removed by dead-code elimination).
      outer->ops.pop_back();
      continue;
    }
    // Terminate the innermost region, then each enclosing one with the inner loop's results.
    for (size_t d = dims.size(); d-- > 0;) {
      gen().builder().set_region(loops[d]->regions[0].get());
      gen().builder().create(OpKind::Yield, yields, {}, f.header_span);
      yields.clear();
      for (auto& r : loops[d]->results) yields.push_back(r.get());
    }
    break;
  }
  gen().builder().set_region(outer);

  // After the loop: carried names hold the results, body-locals are unusable.
  Env after = before;
  for (size_t i = 0; i < carried.size(); ++i) after[carried[i]] = SValue::ir(loops[0]->result(i), c.pclass[i]);
  for (const auto& n : assigned) {
    if (std::find(carried.begin(), carried.end(), n) != carried.end()) continue;
    after[n] = SValue::poison("'" + n + "' is assigned inside the loop at line " +
                                  std::to_string(f.header_span.line) +
                                  " and not before it, so it has no value after the loop",
                              f.header_span);
  }
  for (const auto& t : targets)
    after[t] = SValue::poison("the loop variable '" + t + "' cannot be used after its loop", f.header_span);
  env_ = after;
}

// ------------------------------------------------------------- while loops

// The condition of a while loop as the While op's i1 scalar.  Python takes the
// truth of one value: a device scalar, or a tensor of one element, which a
// tensor over tiles is only when every tile has one lane.  A tile whose block
// size the config picks is therefore limited to blocks of 1 (the config space
// offers only 1, a config giving more is a ConfigError naming the condition);
// its one lane is then read with an `any` over the axis.
ir::Value* Analyzer::while_condition(const SValue& c, SourceSpan span) {
  SValue d = expect_device(c, span, "the condition of a while loop");
  ir::Value* v = d.value;
  const std::vector<int> dims = v->type.dims;
  for (int dim : dims) {
    if (dim == ir::kBroadcast) continue;
    const ir::Dim& dm = kernel_->dim(dim);
    std::string shown = gen().shape_str({dim});  // "[tile_m]"
    shown = shown.substr(1, shown.size() - 2);
    auto not_one = [&](const std::string& why) {
      error(span, "the condition of a while loop must be one value, got a tensor of shape " +
                      gen().shape_str(dims) + ": " + why,
            {"reduce it to one value, e.g. `while (cond).any():` or `while (cond).all():`"});
    };
    if (dm.kind == DimKind::Tile) {
      if (dm.fixed_block_size) {
        if (*dm.fixed_block_size != 1)
          not_one("the tile " + shown + " has blocks of " + std::to_string(*dm.fixed_block_size) + " lanes");
        continue;
      }
      if (dm.config_block_size || dm.block_size_index < 0)
        not_one("the block size of the tile " + shown + " is computed from tunables, so it may hold several lanes");
      BlockSizeSpec& b = program_->block_sizes[dm.block_size_index];
      b.max = 1;
      b.max_allowed = 1;
      b.max_allowed_why = "the while loop at line " + std::to_string(span.line) + " tests a value over the tile " +
                          shown + ", which is one value only with blocks of one lane";
      one_lane_blocks_.emplace_back(dm.block_size_index, span);
      continue;
    }
    if (dm.kind == DimKind::Full && !dm.merged() && dm.extent().is_constant() && dm.extent().constant() == 1) continue;
    not_one("one of its axes is a whole dim of " + dm.extent().str() + " elements");
  }
  // Only axes of one lane remain: read it.
  v = gen().cast(v, DType::Bool, span);
  while (!v->type.is_scalar()) {
    int last = v->type.rank() - 1;
    v = v->type.dims[last] == ir::kBroadcast ? gen().squeeze(v, last, span)
                                              : gen().reduce(ir::ReduceFn::Any, v, last, false, std::nullopt, span);
  }
  return v;
}

void Analyzer::device_while(const ast::While& s) {
  const SourceSpan at = s.header_span;
  // The first test, once, before any typing attempt of the body (it may have
  // effects: `while hl.atomic_cas(lock, [i], 0, 1) == 1`).  Known false when
  // compiling: the body never runs.
  SValue first = eval(*s.test);
  bool truth;
  if (is_truthy_static(first, truth) && !truth) return;
  ir::Value* cond0 = while_condition(first, s.test->span);

  // Carried: assigned in the body and holding a device-representable value
  // before (as for inner for loops); the condition is carried first.
  std::set<std::string> assigned = assigned_names(s.body);
  CarriedValues c = carried_values(assigned, {}, at);
  const std::vector<std::string>& carried = c.names;
  Env before = env_;
  ir::Region* outer = gen().builder().region();
  const ir::Type cond_type{DType::Bool, {}};

  ir::Op* loop = nullptr;
  const int rng_seeds_before = program_->rng_seed_count;
  for (int attempt = 0;; ++attempt) {
    env_ = before;
    program_->rng_seed_count = rng_seeds_before;  // a dropped attempt's random call sites are drawn again
    random_offsets_.clear();
    gen().builder().set_region(outer);
    std::vector<ir::Value*> inits = {cond0};
    for (ir::Value* v : carried_inits(c, before, at)) inits.push_back(v);
    std::vector<ir::Type> result_types = {cond_type};
    result_types.insert(result_types.end(), c.types.begin(), c.types.end());
    loop = gen().builder().create(OpKind::While, inits, result_types, at);
    ir::Region* body = gen().builder().add_region(loop);
    gen().builder().add_arg(body, cond_type, "while_cond");
    for (size_t i = 0; i < carried.size(); ++i)
      env_[carried[i]] = SValue::ir(gen().builder().add_arg(body, c.types[i], carried[i]), c.pclass[i]);
    gen().builder().set_region(body);
    ++loop_depth_;
    device_body(s.body);
    --loop_depth_;
    // The next test, on the values the body leaves.
    SValue again = eval(*s.test);
    if (is_truthy_static(again, truth) && truth)
      error(s.test->span, "this while loop never ends: its condition is known to be true after every iteration",
            {"break is not supported inside tile loops: the condition must turn false through values the body "
             "changes"});
    ir::Value* next = while_condition(again, s.test->span);

    // Widen the carried types and try again when a value grew (as for loops do).
    std::vector<ir::Value*> yields = {next};
    if (carried_yields(c, attempt, at, yields)) {
      // Drop this attempt: the While op is the last op of the outer region.
      outer->ops.pop_back();
      continue;
    }
    gen().builder().create(OpKind::Yield, yields, {}, at);
    break;
  }
  gen().builder().set_region(outer);

  // After the loop: carried names hold the results; names only the body
  // assigns may be unassigned (the body may not run) and are unusable.
  Env after = before;
  for (size_t i = 0; i < carried.size(); ++i) {
    ir::Value* r = loop->result(static_cast<int>(i + 1));
    r->name_hint = carried[i];
    after[carried[i]] = SValue::ir(r, c.pclass[i]);
  }
  for (const auto& n : assigned) {
    if (std::find(carried.begin(), carried.end(), n) != carried.end()) continue;
    after[n] = SValue::poison("'" + n + "' is assigned inside the while loop at line " + std::to_string(at.line) +
                                  " and not before it, so it has no value after the loop",
                              at);
  }
  env_ = after;
}

// ------------------------------------------------------------- conditionals

void Analyzer::device_if(const ast::If& s) {
  SValue c = eval(*s.test);
  bool truth;
  if (is_truthy_static(c, truth)) {
    // Known when compiling: only the taken branch exists.
    device_body(truth ? s.body : s.orelse);
    return;
  }
  SValue cond = expect_device(c, s.test->span, "if condition");
  // A tensor condition is an error, reported after the branches: a variable the
  // branches give different ranks is the first problem Helion reports
  // (ControlFlowTensorMismatch), and the branches are lowered (with a stand-in
  // condition) to find it.
  const bool tensor_cond = !cond.value->type.is_scalar();
  auto report_tensor_cond = [&] {
    error(s.test->span, "the condition of an if inside a tile loop must be a scalar, got a tensor of shape " +
                            gen().shape_str(cond.value->type.dims),
          {"use torch.where(cond, a, b) to choose element by element"});
  };
  ir::Value* cv = tensor_cond ? gen().to_device(SValue::boolean(true), s.test->span).value
                              : gen().cast(cond.value, DType::Bool, s.test->span);

  std::set<std::string> assigned = assigned_names(s.body);
  for (const auto& n : assigned_names(s.orelse)) assigned.insert(n);
  Env before = env_;
  ir::Region* outer = gen().builder().region();
  ir::Op* op = gen().builder().create(OpKind::If, {cv}, {}, s.header_span);
  ir::Region* then_r = gen().builder().add_region(op);
  ir::Region* else_r = gen().builder().add_region(op);

  auto lower_branch = [&](ir::Region* r, const ast::Body& body) {
    env_ = before;
    gen().builder().set_region(r);
    ++loop_depth_;
    device_body(body);
    --loop_depth_;
    Env out = env_;
    return out;
  };
  Env then_env = lower_branch(then_r, s.body);
  Env else_env = lower_branch(else_r, s.orelse);

  // Values that flow out of the if: assigned in a branch, representable, and
  // defined on both paths (either assigned there or defined before).
  std::vector<std::string> outs;
  std::vector<ir::Type> types;
  std::vector<PromotionClass> pclass;
  Env after = before;
  for (const auto& n : assigned) {
    auto pick = [&](const Env& e) -> const SValue* {
      auto it = e.find(n);
      return it == e.end() ? nullptr : &it->second;
    };
    const SValue* tv = pick(then_env);
    const SValue* ev = pick(else_env);
    auto representable = [](const SValue* v) {
      return v && (v->kind == SValue::Kind::IR || v->is_host_number());
    };
    if (!representable(tv) || !representable(ev)) {
      after[n] = SValue::poison("'" + n + "' is not assigned on every path through the if at line " +
                                    std::to_string(s.header_span.line),
                                s.header_span);
      continue;
    }
    // Tensors of different ranks on the two paths: broadcasting one to the other
    // would change what the variable holds on that path (x.sum() of a [t] value
    // broadcast to [t, t] sums t times), so it is an error, as in Helion.
    if (tv->kind == SValue::Kind::IR && ev->kind == SValue::Kind::IR &&
        tv->value->type.rank() != ev->value->type.rank())
      error(s.header_span, ErrorKind::ControlFlowTensorMismatch,
            "tensor mismatch in control flow for variable '" + n + "': rank " +
                std::to_string(tv->value->type.rank()) + " " + gen().shape_str(tv->value->type.dims) +
                " in the if branch != rank " + std::to_string(ev->value->type.rank()) + " " +
                gen().shape_str(ev->value->type.dims) + " in the else branch (or before the if)",
            {"ensure the same tensor rank for this variable across branches"});
    // Same rank, dims that do not line up ([tile_m, tile_n] on one path,
    // [tile_n, tile_m] on the other): the same error (Helion's), not a
    // broadcasting error of an operation the user did not write.
    if (tv->kind == SValue::Kind::IR && ev->kind == SValue::Kind::IR &&
        !gen().try_broadcast_dims(tv->value->type.dims, ev->value->type.dims))
      error(s.header_span, ErrorKind::ControlFlowTensorMismatch,
            "tensor mismatch in control flow for variable '" + n + "': " + gen().shape_str(tv->value->type.dims) +
                " in the if branch and " + gen().shape_str(ev->value->type.dims) +
                " in the else branch (or before the if) do not line up",
            {"give the variable the same shape on every path (or use a different name on each)"});
    // Convert in each region so the values exist there.
    gen().builder().set_region(then_r);
    SValue td = gen().to_device(*tv, s.header_span);
    gen().builder().set_region(else_r);
    SValue ed = gen().to_device(*ev, s.header_span);
    ir::Type t;
    bool t_weak = tv->kind != SValue::Kind::IR, e_weak = ev->kind != SValue::Kind::IR;
    if (t_weak && !e_weak) {
      t.dtype = ed.value->type.dtype;
    } else if (e_weak && !t_weak) {
      t.dtype = td.value->type.dtype;
    } else {
      t.dtype = promote_types(td.value->type.dtype, ed.value->type.dtype);
    }
    t.dims = gen().broadcast_dims(td.value->type.dims, ed.value->type.dims, s.header_span);
    outs.push_back(n);
    types.push_back(t);
    pclass.push_back(std::max(td.pclass, ed.pclass));
    then_env[n] = td;
    else_env[n] = ed;
  }
  auto terminate = [&](ir::Region* r, Env& e) {
    gen().builder().set_region(r);
    std::vector<ir::Value*> ys;
    for (size_t i = 0; i < outs.size(); ++i) {
      ir::Value* x = gen().cast(e[outs[i]].value, types[i].dtype, s.header_span);
      ys.push_back(gen().broadcast_to(x, types[i].dims, s.header_span));
    }
    gen().builder().create(OpKind::Yield, ys, {}, s.header_span);
  };
  if (tensor_cond) report_tensor_cond();
  terminate(then_r, then_env);
  terminate(else_r, else_env);
  // Give the If op its results now that their types are known.
  for (size_t i = 0; i < outs.size(); ++i) {
    auto v = std::make_unique<ir::Value>();
    v->id = kernel_->next_value_id++;
    v->type = types[i];
    v->def = op;
    v->index = static_cast<int>(i);
    v->name_hint = outs[i];
    after[outs[i]] = SValue::ir(v.get(), pclass[i]);
    op->results.push_back(std::move(v));
  }
  gen().builder().set_region(outer);
  env_ = after;
}

}  // namespace deuteron::sema
