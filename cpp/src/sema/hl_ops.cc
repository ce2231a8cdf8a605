// deuteron.language (hl.*) functions.
#include <algorithm>
#include <cmath>
#include <map>

#include "analyzer.h"
#include "scalar_affine.h"

#include "deuteron/config.h"

namespace deuteron::sema {

using K = SValue::Kind;
using ir::OpKind;

std::vector<int> Analyzer::dims_from_shape(const SValue& shape, SourceSpan span) {
  std::vector<SValue> items = shape.is_sequence() ? shape.elts : std::vector<SValue>{shape};
  std::vector<int> dims;
  for (const auto& s : items) {
    if (s.kind == K::Tile || s.kind == K::DimSize) {
      if (kernel_->dim(s.dim).kind == ir::DimKind::Grid)
        error(span, "a grid index has no extent; it cannot be a dimension of a tensor");
      dims.push_back(s.dim);
    } else if (s.kind == K::Int && s.i.is_constant() && s.i.constant() == 1) {
      dims.push_back(ir::kBroadcast);
    } else if (s.kind == K::Int) {
      // A size of 0 is a dim with no elements (a zero-width scratch tile), as a
      // host tensor's empty dim is; only negative sizes are errors.
      if (s.i.is_constant() && s.i.constant() < 0)
        error(span, "tensor sizes inside tile loops must not be negative, got " + s.i.str());
      dims.push_back(gen().full_dim(s.i, span, s.i.str()));
    } else if (s.kind == K::IR && s.value->type.is_scalar() && scalar_affine(s) &&
               (scalar_affine(s)->block_size_dim() || scalar_affine(s)->is_constant())) {
      // Arithmetic on tile attributes that comes to a tile's block size
      // (tile.block_size) or to a constant.
      auto a = *scalar_affine(s);
      if (a.is_constant()) {
        if (a.constant < 0) error(span, "tensor sizes inside tile loops must not be negative, got " + std::to_string(a.constant));
        dims.push_back(a.constant == 1 ? ir::kBroadcast : gen().full_dim(a.constant, span, std::to_string(a.constant)));
      } else {
        int d = *a.block_size_dim();
        if (kernel_->dim(d).kind == ir::DimKind::Grid)
          error(span, "a grid index has no extent; it cannot be a dimension of a tensor");
        dims.push_back(d);
      }
    } else if (s.kind == K::BlockSize) {
      dims.push_back(block_size_dim(s.index, span));
    } else {
      error(span, "sizes inside tile loops must be tiles or ints, got " + describe(s),
            {"e.g. hl.zeros([tile_m, tile_n]) or hl.zeros([tile_m, 64])"});
    }
  }
  return dims;
}

// A registered block size as a size: inside a loop that tiles with it, that
// loop's tile (the innermost); elsewhere (before that loop, after it, or in a
// kernel that never tiles with it) the whole dim of its B lanes, which
// hl.arange(B) also indexes.  The two are the same size: values of the tile
// join the lanes (IRGen::onto_block_lanes), so `acc = hl.zeros([tile_m, B])`
// accumulates tiles of `for tile_n in hl.tile(n, block_size=B)`.
int Analyzer::block_size_dim(int index, SourceSpan span) {
  for (auto it = open_loop_dims_.rbegin(); it != open_loop_dims_.rend(); ++it) {
    const ir::Dim& d = kernel_->dim(*it);
    if (d.kind == ir::DimKind::Tile && d.block_size_index == index) return d.id;
  }
  return gen().full_dim(block_size_symbol(index), span, block_size_symbol(index).str());
}

std::vector<SymInt> Analyzer::sizes_from_shape(const SValue& shape, SourceSpan span) const {
  std::vector<SValue> items = shape.is_sequence() ? shape.elts : std::vector<SValue>{shape};
  std::vector<SymInt> sizes;
  for (const auto& s : items) sizes.push_back(expect_int(s, span, "a size"));
  return sizes;
}

SValue Analyzer::device_print(const CallArgs& call, const std::string& what) {
  // Helion's rules (and messages): a string prefix first, then device values;
  // numbers known when compiling are not printed by the kernel.
  if (!call.kwargs.empty())
    error(call.kwarg_spans[0], ErrorKind::InvalidPrintCall,
          what + " takes no keyword arguments inside tile loops (sep=, end=, ...)");
  if (call.args.empty())
    error(call.span, ErrorKind::InvalidPrintCall, what.substr(0, what.size() - 2) + "() requires at least one argument",
          {"give a string prefix first: print(\"x: \", x_tile)"});
  if (call.args[0].kind != K::String)
    error(call.arg_spans[0], ErrorKind::InvalidPrintCall,
          "First argument to " + what + " must be a string prefix, got " + describe(call.args[0]));
  std::vector<ir::Value*> values;
  for (size_t i = 1; i < call.args.size(); ++i) {
    const SValue& v = call.args[i];
    if (v.kind != K::IR)
      error(call.arg_spans[i], ErrorKind::InvalidPrintCall, what + " only supports runtime tensor values, got " + describe(v),
            {"print compile-time values from host code, before the tile loop"});
    values.push_back(v.value);
  }
  ir::Attrs a;
  a.message = call.args[0].s;
  gen().builder().create(OpKind::Print, values, {}, call.span, a);
  return SValue::none();
}

SValue Analyzer::device_breakpoint(const CallArgs& call, const std::string& what) {
  if (!call.args.empty() || !call.kwargs.empty())
    error(call.span, ErrorKind::TypeInferenceError, what + " does not take any arguments");
  // A compiled Triton kernel has no Python to stop in: only the interpret
  // modes run the kernel body as Python (the reference back end's PyTorch, or
  // the Triton code under Triton's interpreter).
  if (!request_.interpret)
    error(call.span, ErrorKind::BreakpointInDeviceLoopRequiresInterpret,
          what + " inside an `hl.tile` or `hl.grid` loop requires TRITON_INTERPRET=1 or DEUTERON_INTERPRET=1 "
                 "(Helion's HELION_INTERPRET=1)",
          {"the kernel then runs as Python and the debugger stops at this line; in host code, breakpoint() "
           "works in every mode"});
  gen().builder().create(OpKind::Breakpoint, {}, {}, call.span);
  return SValue::none();
}

bool Analyzer::call_hl(const std::string& name, const CallArgs& call, SValue& out) {
  auto device_only = [&]() {
    if (!in_device())
      error(call.span, "hl." + name + "() can only be used inside a tile loop",
            {"on the host, use the torch equivalent (torch.zeros, torch.full, ...)"});
  };
  if (call_random("hl." + name, call, out)) return true;
  if (call_escape_hatch(name, call, out)) return true;
  if (name == "tile" || name == "grid")
    error(call.span, "hl." + name + "() can only be used as the iterator of a for loop: `for tile in hl." + name +
                         "(n):`");
  if (name == "static_range")
    error(call.span, "hl.static_range() can only be used as the iterator of a for loop");
  if ((name == "zeros" || name == "full") && !in_device()) {
    // Host code: an allocation on the kernel's device (Helion's meaning), which
    // the host function runs as the torch call host_creation_text writes.
    BoundArgs b = name == "zeros" ? bind(call, {"shape", "dtype=", "device="})
                                  : bind(call, {"shape", "value", "dtype=", "device="});
    CallArgs t;
    t.span = call.span;
    t.func_name = "torch." + name;
    t.args.push_back(*b.get("shape"));
    t.arg_spans.push_back(b.span_of("shape"));
    if (name == "full") {
      t.args.push_back(*b.get("value"));
      t.arg_spans.push_back(b.span_of("value"));
    }
    // hl's default dtype is float32 whatever the fill value (torch.full's would follow it).
    t.kwargs.emplace_back("dtype", b.has("dtype") && b.get("dtype")->kind != K::None
                                       ? *b.get("dtype") : SValue::dtype_value(DType::Float32));
    t.kwarg_spans.push_back(b.has("dtype") ? b.span_of("dtype") : call.span);
    return call_host_torch(t.func_name, t, out);
  }
  if (name == "zeros" || name == "full") {
    device_only();
    BoundArgs b = name == "zeros" ? bind(call, {"shape", "dtype=", "*", "device="})
                                  : bind(call, {"shape", "value", "dtype=", "*", "device="});
    DType dt = DType::Float32;
    if (b.has("dtype") && b.get("dtype")->kind != K::None) dt = expect_dtype(*b.get("dtype"), b.span_of("dtype"), "dtype");
    auto dims = dims_from_shape(*b.get("shape"), b.span_of("shape"));
    if (name == "zeros") {
      out = filled(dims, SValue::integer(0), dt, call.span, call.span);
      return true;
    }
    out = filled(dims, *b.get("value"), dt, b.span_of("value"), call.span);
    return true;
  }
  if (name == "arange") {
    device_only();
    BoundArgs b = bind(call, {"start", "end=", "step=", "*", "dtype=", "device="});
    SValue start = SValue::integer(0), end = *b.get("start");
    SourceSpan start_span = b.span_of("start"), end_span = b.span_of("start");
    if (b.has("end") && b.get("end")->kind != K::None) {
      start = *b.get("start");
      end = *b.get("end");
      end_span = b.span_of("end");
    }
    int64_t step = 1;
    if (b.has("step") && b.get("step")->kind != K::None)
      step = expect_const_int(*b.get("step"), b.span_of("step"), "step");
    if (step == 0) error(b.span_of("step"), "hl.arange: step must be nonzero");
    DType dt = program_->index_dtype;
    if (b.has("dtype") && b.get("dtype")->kind != K::None) dt = expect_dtype(*b.get("dtype"), b.span_of("dtype"), "dtype");
    out = arange(start, start_span, end, end_span, step, dt, call.span, "hl.arange");
    return true;
  }
  if (name == "join") {
    // A new last axis of two: torch.stack(dim=-1) of the operands broadcast to one shape.
    device_only();
    BoundArgs b = bind(call, {"tensor0", "tensor1"});
    SValue x = expect_device(*b.get("tensor0"), b.span_of("tensor0"), "hl.join's first operand");
    SValue y = expect_device(*b.get("tensor1"), b.span_of("tensor1"), "hl.join's second operand");
    const bool x_number = b.get("tensor0")->kind != K::IR, y_number = b.get("tensor1")->kind != K::IR;
    if (!x_number && !y_number && x.value->type.dtype != y.value->type.dtype)
      error(call.span, "hl.join() requires both tensors to have the same dtype, got " +
                           std::string(torch_name(x.value->type.dtype)) + " and " + torch_name(y.value->type.dtype));
    // A Python number takes the tensor's dtype.
    if (x_number && !y_number) x = SValue::ir(gen().cast(x.value, y.value->type.dtype, call.span), x.pclass);
    if (y_number && !x_number) y = SValue::ir(gen().cast(y.value, x.value->type.dtype, call.span), y.pclass);
    std::vector<int> dims = gen().broadcast_dims(x.value->type.dims, y.value->type.dims, call.span);
    x = SValue::ir(gen().broadcast_to(x.value, dims, call.span), PromotionClass::Tensor);
    y = SValue::ir(gen().broadcast_to(y.value, dims, call.span), PromotionClass::Tensor);
    CallArgs stack;
    stack.span = call.span;
    stack.func_name = "hl.join";
    stack.args = {SValue::tuple({x, y})};
    stack.arg_spans = {call.span};
    stack.kwargs = {{"dim", SValue::integer(-1)}};
    stack.kwarg_spans = {call.span};
    return call_torch_device("torch.stack", stack, out);
  }
  if (name == "split") {
    // The two lanes of a last axis of two: lane i is the max over the axis of
    // where(lane == i, x, lowest), which is x's lane exactly (NaN, -0.0 and all).
    device_only();
    BoundArgs b = bind(call, {"tensor"});
    SValue x = expect_device(*b.get("tensor"), b.span_of("tensor"), "hl.split's operand");
    const ir::Type& t = x.value->type;
    const int rank = t.rank();
    const int d = rank > 0 ? t.dims.back() : ir::kBroadcast;
    if (d == ir::kBroadcast || kernel_->dim(d).kind != ir::DimKind::Full || !kernel_->dim(d).extent().is_constant() ||
        kernel_->dim(d).extent().constant() != 2)
      error(b.span_of("tensor"), "hl.split() needs a last dimension of size 2 (a whole dim, `x[tile, :]`), got " +
                                     gen().shape_str(t.dims));
    ir::Attrs at;
    at.dim = d;
    ir::Value* lane = gen().builder().create(OpKind::Arange, {}, {ir::Type{gen().index_dtype(), {d}}}, call.span, at)->result();
    for (int i = 0; i + 1 < rank; ++i) lane = gen().expand_dims(lane, 0, call.span);
    SValue lowest = SValue::floating(-INFINITY);
    if (t.dtype == DType::Bool) lowest = SValue::boolean(false);
    else if (is_integral(t.dtype)) lowest = SValue::integer(ir::reduction_identity(ir::ReduceFn::Max, t.dtype).i);
    std::vector<SValue> parts;
    for (int i = 0; i < 2; ++i) {
      SValue is_lane = gen().binary(ir::BinaryFn::Eq, SValue::ir(lane, PromotionClass::Tensor), SValue::integer(i), call.span);
      SValue picked = gen().where(is_lane, x, lowest, call.span);
      parts.push_back(SValue::ir(gen().reduce(ir::ReduceFn::Max, picked.value, rank - 1, false, std::nullopt, call.span),
                                 x.pclass));
    }
    out = SValue::tuple(parts);
    return true;
  }
  if (name == "barrier") {
    // Helion's grid-wide barrier between phases (top-level loops) of one
    // persistent kernel.  deuteron launches each top-level loop as its own
    // kernel, in program order on one stream, so a phase already starts after
    // every program of the one before has finished: the barrier is kept
    // without code (its host call becomes None).
    if (in_device())
      error(call.span, ErrorKind::BarrierOnlyAllowedAtTopLevel,
            "hl.barrier() is only supported between top level hl.tile/hl.grid loops, not inside one",
            {"put hl.barrier() in host code, between the loops it separates"});
    bind(call, {});
    out = SValue::none();
    return true;
  }
  if (name == "breakpoint") {
    device_only();
    out = device_breakpoint(call, "hl.breakpoint()");
    return true;
  }
  if (name == "device_print") {
    device_only();
    out = device_print(call, "hl.device_print()");
    return true;
  }
  if (name == "register_block_size") {
    if (in_device()) error(call.span, "hl.register_block_size() must be called on the host, before the tile loops");
    BoundArgs b = bind(call, {"min_or_max", "max="});
    SymInt lo = 1, hi;
    if (b.has("max") && b.get("max")->kind != K::None) {
      lo = expect_int(*b.get("min_or_max"), b.span_of("min_or_max"), "min");
      hi = expect_int(*b.get("max"), b.span_of("max"), "max");
    } else {
      hi = expect_int(*b.get("min_or_max"), b.span_of("min_or_max"), "max");
    }
    int64_t min = lo.hint().value_or(1), max = hi.hint().value_or(1 << 16);
    if (min < 1) min = 1;
    out.kind = K::BlockSize;
    out.index = new_block_size(next_power_of_2(min), std::max(next_power_of_2(max), next_power_of_2(min)),
                               "register_block_size at line " + std::to_string(call.span.line));
    return true;
  }
  if (name == "register_tunable") {
    if (in_device()) error(call.span, "hl.register_tunable() must be called on the host, before the tile loops");
    BoundArgs b = bind(call, {"name", "fragment"});
    const SValue& n = *b.get("name");
    if (n.kind != K::String) error(b.span_of("name"), "the tunable's name must be a string constant");
    const SValue& f = *b.get("fragment");
    if (f.kind != K::Fragment) error(b.span_of("fragment"), "expected a fragment (PowerOfTwoFragment(16, 256), ...), got " + describe(f));
    for (const auto& t : program_->tunables)
      if (t.name == n.s) error(b.span_of("name"), "a tunable named '" + n.s + "' is already registered");
    if (find_config_key(n.s)) error(b.span_of("name"), "'" + n.s + "' is a config key; choose another name for the tunable");
    TunableSpec spec = *f.fragment;
    spec.name = n.s;
    program_->tunables.push_back(spec);
    // A compile-time constant of each config: codegen substitutes the value.
    out = SValue::integer(SymInt::symbol("_tunable_" + n.s));
    HostRewrite rw;
    rw.kind = HostRewrite::Kind::Tunable;
    rw.text = n.s;
    tunable_call_ = rw;
    return true;
  }
  // hl.constexpr(v) in a kernel is v, as hl.specialize(v) is: a value that must be
  // known when compiling is checked where it is used.
  // hl.specialize(n) of an int argument (or of an expression of int arguments, or a
  // sequence of them) compiles in this call's value and keys the kernel on it, as Helion does.
  if (name == "specialize" || name == "constexpr") {
    BoundArgs b = bind(call, {"value"});
    out = *b.get("value");
    if (name == "specialize") {
      auto fix = [&](SValue& e) {
        if (e.kind == K::Int && e.runtime_expr.empty() && !e.i.is_constant()) e.i = specialize_int_args(e.i);
        if (e.kind == K::Int && e.runtime_expr.empty() && !e.i.is_constant()) e.i = specialize_arg_sizes(e.i);
      };
      if (out.is_sequence())
        for (auto& e : out.elts) fix(e);
      else
        fix(out);
    }
    return true;
  }
  if (name == "stacktensor_like" || name == "StackTensor") {
    out = stack_tensor(call, "hl." + name);
    return true;
  }
  if (name == "load") {
    device_only();
    BoundArgs b = bind(call, {"tensor", "index", "extra_mask=", "eviction_policy="});
    const SValue& t = *b.get("tensor");
    if (t.kind != K::Tensor && t.kind != K::Stack)
      error(b.span_of("tensor"), "hl.load needs a host tensor or a StackTensor, got " + describe(t));
    std::string ev;
    if (b.has("eviction_policy") && b.get("eviction_policy")->kind != K::None) {
      ev = b.get("eviction_policy")->s;
      if (ev != "evict_first" && ev != "evict_last" && ev != "evict_normal" && ev != "first" && ev != "last")
        error(b.span_of("eviction_policy"), "eviction_policy must be 'evict_first', 'evict_last' or 'evict_normal'");
      if (ev == "first" || ev == "last") ev = "evict_" + ev;
    }
    out = load(t, index_parts(*b.get("index"), b.span_of("index")), call.span, b.get("extra_mask"), ev);
    return true;
  }
  if (name == "store") {
    device_only();
    BoundArgs b = bind(call, {"tensor", "index", "value", "extra_mask="});
    const SValue& t = *b.get("tensor");
    if (t.kind != K::Tensor && t.kind != K::Stack)
      error(b.span_of("tensor"), "hl.store needs a host tensor or a StackTensor, got " + describe(t));
    store(t, index_parts(*b.get("index"), b.span_of("index")), *b.get("value"), call.span, b.get("extra_mask"));
    out = SValue::none();
    return true;
  }
  // An atomic's memory order (Triton's sem): Helion's check and wording, whose
  // error is its InternalError (InvalidMemorySemantic is one here too).
  auto atomic_sem = [&](const BoundArgs& b) -> std::string {
    if (!b.has("sem") || b.get("sem")->kind == K::None) return "relaxed";
    const SValue& s = *b.get("sem");
    static const char* const kSems[] = {"relaxed", "acquire", "release", "acq_rel"};
    if (s.kind != K::String || std::find(std::begin(kSems), std::end(kSems), s.s) == std::end(kSems))
      error(b.span_of("sem"), ErrorKind::InvalidMemorySemantic,
            "Invalid memory semantic " + (s.kind == K::String ? "'" + s.s + "'" : describe(s)) + " for hl." + name +
                "(): sem must be one of 'relaxed', 'acquire', 'release', 'acq_rel'");
    return s.s;
  };
  static const std::pair<const char*, ir::AtomicFn> kAtomics[] = {
      {"atomic_add", ir::AtomicFn::Add}, {"atomic_and", ir::AtomicFn::And}, {"atomic_or", ir::AtomicFn::Or},
      {"atomic_xor", ir::AtomicFn::Xor}, {"atomic_xchg", ir::AtomicFn::Xchg}, {"atomic_max", ir::AtomicFn::Max},
      {"atomic_min", ir::AtomicFn::Min}};
  for (const auto& [n, fn] : kAtomics) {
    if (name != n) continue;
    device_only();
    BoundArgs b = bind(call, {"target", "index", "value", "sem="});
    const SValue& t = *b.get("target");
    check_atomic_target(t, b.span_of("target"), "hl." + name + "()");
    std::string sem = atomic_sem(b);
    out = atomic(fn, t, index_parts(*b.get("index"), b.span_of("index")), *b.get("value"), nullptr, sem, call.span);
    return true;
  }
  if (name == "atomic_cas") {
    device_only();
    BoundArgs b = bind(call, {"target", "index", "expected", "value", "sem="});
    const SValue& t = *b.get("target");
    check_atomic_target(t, b.span_of("target"), "hl.atomic_cas()");
    std::string sem = atomic_sem(b);
    out = atomic(ir::AtomicFn::Cas, t, index_parts(*b.get("index"), b.span_of("index")), *b.get("value"),
                 b.get("expected"), sem, call.span);
    return true;
  }
  if (name == "dot") {
    device_only();
    BoundArgs b = bind(call, {"mat1", "mat2", "acc=", "out_dtype="});
    ir::Value* x = expect_tensor_value(*b.get("mat1"), b.span_of("mat1"), "mat1");
    ir::Value* y = expect_tensor_value(*b.get("mat2"), b.span_of("mat2"), "mat2");
    ir::Value* acc = nullptr;
    if (b.has("acc") && b.get("acc")->kind != K::None) acc = expect_tensor_value(*b.get("acc"), b.span_of("acc"), "acc");
    std::optional<DType> od;
    if (b.has("out_dtype") && b.get("out_dtype")->kind != K::None)
      od = expect_dtype(*b.get("out_dtype"), b.span_of("out_dtype"), "out_dtype");
    // hl.dot without acc or out_dtype returns the accumulation type (float32 for float inputs).
    if (!acc && !od) {
      DType operand = promote_types(x->type.dtype, y->type.dtype);
      od = is_floating(operand) ? (operand == DType::Float64 ? DType::Float64 : DType::Float32) : DType::Int32;
    }
    out = SValue::ir(gen().dot(x, y, acc, od, call.span), PromotionClass::Tensor);
    return true;
  }
  static const char* const kTileFns[] = {"tile_index", "tile_begin", "tile_end", "tile_block_size", "tile_id",
                                         "tile_count"};
  for (const char* f : kTileFns) {
    if (name != f) continue;
    device_only();
    BoundArgs b = bind(call, {"tile"});
    const SValue& t = *b.get("tile");
    if (t.kind != K::Tile) error(b.span_of("tile"), "hl." + name + " needs a tile, got " + describe(t));
    out = eval_attribute(t, name.substr(5) == "index" ? "index" : name.substr(5), call.span);
    return true;
  }
  if (name == "subscript") {
    device_only();
    BoundArgs b = bind(call, {"tensor", "index"});
    SValue v = expect_device(*b.get("tensor"), b.span_of("tensor"), "hl.subscript");
    ir::Value* x = v.value;
    int axis = 0;
    for (const auto& p : expect_sequence(*b.get("index"), b.span_of("index"), "index")) {
      if (p.kind == K::None) {
        x = gen().expand_dims(x, axis, call.span);
        ++axis;
      } else if (p.kind == K::Slice || (p.kind == K::Unknown)) {
        ++axis;
      } else {
        error(b.span_of("index"), "hl.subscript supports None and `:` entries only");
      }
    }
    out = SValue::ir(x, v.pclass);
    return true;
  }
  if (name == "associative_scan") {
    device_only();
    BoundArgs b = bind(call, {"combine_fn", "input_tensor", "dim", "reverse="});
    bool reverse = b.has("reverse") && expect_const_bool(*b.get("reverse"), b.span_of("reverse"), "reverse");
    out = associative_scan(*b.get("combine_fn"), *b.get("input_tensor"), b.span_of("input_tensor"),
                           expect_const_int(*b.get("dim"), b.span_of("dim"), "dim"), b.span_of("dim"), reverse,
                           call.span, "hl.associative_scan");
    return true;
  }
  if (name == "cumsum" || name == "cumprod") {
    device_only();
    // Helion's cumsum/cumprod keep the input's dtype (torch.cumsum promotes integers to int64).
    BoundArgs b = bind(call, {"input_tensor", "dim", "reverse="});
    bool reverse = b.has("reverse") && expect_const_bool(*b.get("reverse"), b.span_of("reverse"), "reverse");
    out = cumulative(name == "cumsum" ? ir::ReduceFn::Sum : ir::ReduceFn::Prod, *b.get("input_tensor"),
                     b.span_of("input_tensor"), expect_const_int(*b.get("dim"), b.span_of("dim"), "dim"),
                     b.span_of("dim"), reverse, std::nullopt, call.span, "hl." + name);
    return true;
  }
  if (name == "reduce") {
    device_only();
    BoundArgs b = bind(call, {"combine_fn", "input_tensor", "dim=", "other=", "keep_dims="});
    bool keep = b.has("keep_dims") && expect_const_bool(*b.get("keep_dims"), b.span_of("keep_dims"), "keep_dims");
    out = combine_reduce(*b.get("combine_fn"), *b.get("input_tensor"), b.span_of("input_tensor"), b.get("dim"),
                         b.span_of("dim"), b.get("other"), b.span_of("other"), keep, call.span);
    return true;
  }
  return false;
}

// An atomic updates memory other programs see: a tensor in memory (an
// argument or a host allocation), never a value held in registers.
void Analyzer::check_atomic_target(const SValue& t, SourceSpan span, const std::string& what) const {
  if (t.kind == K::IR)
    error(span, ErrorKind::AtomicOnDeviceTensor,
          what + " needs a tensor in memory (an argument or one allocated in host code), got a value computed "
                 "in the tile loop",
          {"allocate the target before the loop (torch.zeros(...)) and update it there, or add to the value "
           "with +"});
  if (t.kind == K::Stack)
    error(span, what + " on a StackTensor is not supported (only loads and stores are)",
          {"pass the tensors as kernel arguments (a list or tuple of tensors) to update them atomically"});
  if (t.kind != K::Tensor) error(span, what + " needs a host tensor, got " + describe(t));
}

std::string Analyzer::host_creation_text(const ast::Call& call, const std::string& name) const {
  // The arguments by name, as hl.zeros(shape, dtype, device) / hl.full(shape,
  // value, dtype, device) bind them; torch's dtype and device are keywords.
  std::vector<std::string> params = name == "zeros" ? std::vector<std::string>{"shape", "dtype", "device"}
                                                    : std::vector<std::string>{"shape", "value", "dtype", "device"};
  std::map<std::string, std::string> text;
  for (size_t i = 0; i < call.args.size() && i < params.size(); ++i) text[params[i]] = ast::unparse(*call.args[i]);
  for (const auto& kw : call.keywords) text[kw.name] = ast::unparse(*kw.value);
  std::string device = text.count("device") && text["device"] != "None" ? text["device"] : "";
  if (device.empty())
    for (const auto& a : request_.args)
      if (a.kind == ArgSpec::Kind::Tensor) {
        device = a.name + ".device";
        break;
      }
  std::string r = "torch." + name + "(" + text["shape"];
  if (name == "full") r += ", " + text["value"];
  r += ", dtype=" + (text.count("dtype") && text["dtype"] != "None" ? text["dtype"] : std::string("torch.float32"));
  if (!device.empty()) r += ", device=" + device;
  return r + ")";
}

}  // namespace deuteron::sema
