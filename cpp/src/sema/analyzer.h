// The semantic analyzer: walks the kernel function's AST once, evaluating
// host statements symbolically and lowering each top-level tile loop into a
// DeviceKernel.  Split over several files by concern:
//   analyzer.cc        entry point, host statements, globals, arguments
//   device_stmts.cc    statements inside tile loops (loops, ifs, stores, carried values)
//   device_exprs.cc    expressions (names, operators, subscripts/loads, attributes)
//   calls.cc           call dispatch: builtins, helpers, tensor methods
//   torch_ops.cc       torch.* / F.* operators on device values
//   hl_ops.cc          deuteron.language (hl.*) functions, print() on the device
//   creation_ops.cc    torch.zeros / full / arange & co. inside tile loops
//   scalar_affine.cc   integer device scalars as sums of tile attributes (sizes)
//   comprehensions.cc  comprehensions, zip / enumerate, dicts known when compiling
//   combine_fns.cc     scans and hl.reduce: combine functions lowered into regions
//   host_ops.cc        host-side torch functions (empty, zeros, size, view, ...)
//   host_elementwise.cc host-side tensor arithmetic (x * 2, a + b, -x, a < b): new tensors
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "deuteron/pyint.h"
#include "deuteron/sema.h"
#include "ir_gen.h"
#include "svalue.h"

namespace deuteron::sema {

using Env = std::map<std::string, SValue>;

// A new contiguous host tensor (host_ops.cc): what torch.empty and friends return.
SValue make_tensor(std::vector<SymInt> sizes, DType dtype, std::string device);
// The broadcast shape of host tensors' sizes, right-aligned as PyTorch does
// (host_ops.cc); nullopt when two sizes neither match nor are 1, which are
// then in *a and *b, at `*axis` of the result.
std::optional<std::vector<SymInt>> broadcast_shape(const std::vector<std::vector<SymInt>>& shapes, SymInt* a = nullptr,
                                                   SymInt* b = nullptr, size_t* axis = nullptr);

// Positional and keyword arguments of a call, already evaluated.
struct CallArgs {
  std::vector<SValue> args;
  std::vector<SourceSpan> arg_spans;
  std::vector<std::pair<std::string, SValue>> kwargs;
  std::vector<SourceSpan> kwarg_spans;
  SourceSpan span;        // the whole call
  std::string func_name;  // for messages: "torch.sum"
};

// Binds CallArgs to a signature like {"input", "dim=", "keepdim=", "*", "dtype="}.
// Parameters after "*" are keyword-only; a trailing "=" marks a parameter
// optional.  Errors name the function and the offending argument.
class BoundArgs {
 public:
  const SValue* get(const std::string& name) const;  // nullptr when not given
  bool has(const std::string& name) const { return get(name) != nullptr; }
  SourceSpan span_of(const std::string& name) const;
  std::map<std::string, std::pair<SValue, SourceSpan>> values;
  SourceSpan call_span;
};

// The code of a helper (Analyzer::helper_code): a def's or a lambda's
// parameters and body.
struct HelperCode {
  std::string name;                          // "<lambda>" for a lambda
  const std::vector<ast::Arg>* args = nullptr;
  const std::optional<ast::Arg>* vararg = nullptr;  // `*name`, `**name` (empty optionals when absent)
  const std::optional<ast::Arg>* kwarg = nullptr;
  const ast::Body* body = nullptr;           // a def
  const ast::Expr* expr = nullptr;           // a lambda
  std::unique_ptr<ast::Module> module;       // owns them, when parsed from the helper's own file
};

// A combine function's name and parameters (combine_fns.cc).
// A grid loop with a step (`hl.grid(begin, end, step)`, `range(b, e, s)`): its
// dim iterates the trip count and the loop variable is origin + index * step.
struct GridStride {
  SymInt origin = 0;
  int64_t step = 1;
};

struct CombineSignature {
  std::string name;
  std::vector<std::string> params;
};

class Analyzer {
 public:
  Analyzer(const BindRequest& request, std::unique_ptr<ast::Module> module);
  std::unique_ptr<Program> run();
  // Host evaluation of one expression outside any function (fold_host_expression).
  SValue eval_standalone(const ast::Expr& e) {
    bind_globals();
    return eval(e);
  }

  // --- shared helpers (used by the op files)
  [[noreturn]] void error(SourceSpan span, std::string msg, std::vector<std::string> notes = {}) const;
  [[noreturn]] void error(SourceSpan span, ErrorKind kind, std::string msg,
                          std::vector<std::string> notes = {}) const;
  const std::shared_ptr<const SourceFile>& file() const { return file_; }
  BoundArgs bind(const CallArgs& call, const std::vector<std::string>& signature) const;
  // The call's keyword arguments into `ca`, each `**mapping` expanded (a dict known when
  // compiling: a **kwargs of a helper, a dict argument, a dict comprehension, dict(k=v));
  // a repeated name is Python's TypeError.  False where a mapping is not known (host code:
  // Python evaluates the call); in device code that is an error naming it.
  bool add_keywords(const ast::Call& call, CallArgs& ca);

  // Conversions with clear errors.
  SymInt expect_int(const SValue& v, SourceSpan span, const std::string& what) const;
  int64_t expect_const_int(const SValue& v, SourceSpan span, const std::string& what) const;
  // `i` with the int arguments it names replaced by this call's values, each recorded in
  // Program::specialized_args (the kernel then keys on its value); `i` itself when it
  // names another symbol (a size with dynamic shapes) that no value replaces.
  SymInt specialize_int_args(const SymInt& i) const;
  // `i` made of sizes / strides of tensor arguments (dynamic shapes): each recorded in
  // Program::specialized_args as "x.size(d)" / "x.stride(d)" (the kernel is keyed on
  // them); `i` itself is returned, still symbolic (hl.specialize only).
  SymInt specialize_arg_sizes(const SymInt& i) const;
  double expect_const_float(const SValue& v, SourceSpan span, const std::string& what) const;
  DType expect_dtype(const SValue& v, SourceSpan span, const std::string& what) const;
  bool expect_const_bool(const SValue& v, SourceSpan span, const std::string& what) const;
  // A constant fill value converted to `dtype` as torch.full does: ints
  // exactly, floats truncated; a value outside the dtype's range is an error.
  ir::Literal fill_literal(const SValue& v, DType dtype, SourceSpan span, const std::string& what) const;
  // The valid length of a tile dim (a host int for full dims).
  SValue tile_length(int dim, SourceSpan span);
  // DimSize values become numbers in arithmetic; everything else passes through.
  // A number as arithmetic sees it: a tile dim's size is the tile's valid
  // length; a registered block size is the config's value, a symbol until then.
  SValue as_number(const SValue& v, SourceSpan span) {
    if (v.kind == SValue::Kind::BlockSize) return SValue::integer(block_size_symbol(v.index));
    return v.kind == SValue::Kind::DimSize ? tile_length(v.dim, span) : v;
  }
  // A device value (IR) from a device value or a host number.
  SValue expect_device(const SValue& v, SourceSpan span, const std::string& what);
  // Normalizes a possibly negative dim for a value of `rank`.
  int normalize_axis(int64_t axis, int rank, SourceSpan span) const;
  std::vector<SValue> expect_sequence(const SValue& v, SourceSpan span, const std::string& what) const;

  bool in_device() const { return gen_ != nullptr; }
  IRGen& gen() { return *gen_; }

  // --- op tables (each returns true and sets `out` when it handles `name`)
  bool call_torch_device(const std::string& name, const CallArgs& call, SValue& out);
  bool call_tensor_method_device(const SValue& self, const std::string& name, const CallArgs& call, SValue& out);
  bool call_hl(const std::string& name, const CallArgs& call, SValue& out);
  bool call_host_torch(const std::string& name, const CallArgs& call, SValue& out);
  bool call_host_tensor_method(const SValue& self, const std::string& name, const CallArgs& call, SValue& out);
  // A host creation call's sizes (nullopt where one is a value sema does not model)
  // and its arguments after them (host_ops.cc).
  struct HostSizes {
    std::optional<std::vector<SymInt>> sizes;
    CallArgs rest;
  };
  HostSizes host_creation_sizes(const CallArgs& call, size_t max_sizes) const;
  bool call_builtin(const std::string& name, const CallArgs& call, SValue& out);
  // hl.rand / hl.randint / hl.rand4x and torch.rand / randn / rand_like / randn_like (random_ops.cc)
  bool call_random(const std::string& name, const CallArgs& call, SValue& out);
  SValue make_fragment(const std::string& kind, const CallArgs& call);
  // print(prefix, *values) / hl.device_print inside a tile loop: a Print op (hl_ops.cc).
  SValue device_print(const CallArgs& call, const std::string& what);
  // breakpoint() / hl.breakpoint() inside a tile loop: a Breakpoint op, in an
  // interpret mode only (the kernel then runs as Python).
  SValue device_breakpoint(const CallArgs& call, const std::string& what);
  // hl.inline_triton / hl.inline_asm_elementwise: an InlineTriton op (escape_hatches.cc).
  bool call_escape_hatch(const std::string& name, const CallArgs& call, SValue& out);
  SValue inline_triton(const CallArgs& call);
  SValue triton_kernel(const CallArgs& call);
  SValue inline_asm_elementwise(const CallArgs& call);
  std::string inline_triton_piece(const SValue& v, SourceSpan span, const std::string& what,
                                  std::vector<ir::Value*>& operands);
  static std::string codegen_quote(const std::string& s);
  // torch.zeros / ones / empty / full / arange inside tile loops (creation_ops.cc).
  // x.new_zeros / new_ones / new_empty / new_full in a tile loop (creation_ops.cc).
  bool call_new_tensor_method(const SValue& self, const std::string& method, const CallArgs& call, SValue& out);
  bool call_torch_creation(const std::string& name, const CallArgs& call, SValue& out);
  // A tensor over `dims` holding `value` (a constant or a scalar known at run time) as `dtype`.
  SValue filled(const std::vector<int>& dims, const SValue& value, DType dtype, SourceSpan value_span,
                SourceSpan span);
  // start, start + step, ... below end (integers): over a whole dim of constant or
  // host-size length, or over a tile when the length is its block size.  `what`
  // names the function in errors.
  std::optional<SymInt> block_piece_length(const SValue& start, const SValue& end);
  SValue arange(const SValue& start, SourceSpan start_span, const SValue& end, SourceSpan end_span, int64_t step,
                DType dtype, SourceSpan span, const std::string& what);

  // --- bounds on what a kernel may make the compiler do (docs/language.md,
  // "Compile-time limits").  Every evaluated expression and every list
  // element built costs one unit of work; unrolled loops and inlined helpers
  // repeat their costs, so this bounds compile time for any kernel.
  static constexpr int64_t kMaxWork = 50'000;  // the examples need < 200
  static constexpr int64_t kMaxSequenceLength = 16'384;
  static constexpr int64_t kMaxStaticUnroll = 1024;
  void charge_work(int64_t units, SourceSpan span);
  // A list or tuple of n elements is about to be built.
  void check_sequence_length(int64_t n, SourceSpan span);
  // The CompileError for a folded operation `expr` that Python raises on or
  // that leaves int64.
  [[noreturn]] void int_error(SourceSpan span, pyint::Status status, const std::string& expr) const;
  // The CompileError for an IntOverflowError of symbolic arithmetic while
  // evaluating `source` (an expression's text; empty for a statement).
  [[noreturn]] void overflow_error(SourceSpan span, const IntOverflowError& o, std::string source) const;

  // --- expressions
  // Evaluates an expression (counting its work; integer overflow inside
  // becomes an error naming the expression).
  SValue eval(const ast::Expr& e);
  SValue eval_call(const ast::Call& call);
  SValue eval_attribute(const SValue& base, const std::string& attr, SourceSpan span);
  static SValue aten_function(const std::string& packet);
  void check_uniform_elements(const SValue& seq, SourceSpan span) const;
  // The one element of a host tensor as a number (tensor_scalars.cc): a load on
  // the device, a runtime host value (`t.item()`) on the host.
  SValue tensor_scalar(const SValue& tensor, SourceSpan span, const std::string& what);
  // Numbers host code computes at run time (host_numbers.cc): the type of an
  // operation on them, and the names a host `if` of unknown condition binds to
  // numbers either way (false: sema could not follow a branch).
  SValue host_number_binop(ast::BinOpKind op, const SValue& a, const SValue& b);
  // Elementwise arithmetic on host tensors (host_elementwise.cc): the new
  // tensor's shape (broadcast) and dtype (torch.result_type); unknown when sema
  // cannot tell them (sizes that may or may not broadcast).
  SValue host_tensor_binop(ast::BinOpKind op, const SValue& a, const SValue& b, SourceSpan span);
  SValue host_tensor_compare(const SValue& a, const SValue& b, SourceSpan span);
  SValue host_tensor_unary(ast::UnaryOpKind op, const SValue& a, SourceSpan span);
  std::optional<std::vector<SymInt>> host_elementwise_sizes(const SValue& a, const SValue& b, SourceSpan span);
  SValue host_number_call(const std::string& fn, const std::vector<SValue>& args);
  bool merge_host_branches(const ast::If& s, const std::set<std::string>& names);
  // A name bound to a value sema does not model, where an int is needed: a
  // runtime int read right after its statement (nullopt for anything else).
  std::optional<SymInt> runtime_int(const SValue& v) const;
  // A size of a tensor host code makes: an int, a registered block size, or runtime_int.
  std::optional<SymInt> host_size(const SValue& v) const;
  // hl.zeros / hl.full in host code: the torch call the host function runs
  // instead (an allocation on the kernel's device), as Python text.
  std::string host_creation_text(const ast::Call& call, const std::string& name) const;
  void check_atomic_target(const SValue& t, SourceSpan span, const std::string& what) const;
  // hl.stacktensor_like / hl.StackTensor (`what`), and a StackTensor's attributes (stack_tensors.cc).
  SValue stack_tensor(const CallArgs& call, const std::string& what);
  SValue stack_attribute(const SValue& stack, const std::string& attr, SourceSpan span);
  // uint64 device values are pointers: the ops a kernel may apply to them (pointer_values.cc).
  void check_pointer_values(const ir::DeviceKernel& k) const;
  SValue eval_subscript(const ast::Subscript& sub);
  // Comprehensions, unrolled over sequences known when compiling (comprehensions.cc).
  SValue eval_comprehension(const ast::Comp& c);
  // The items of a comprehension's iterable when known now (range() with
  // constant bounds, a tuple, list or dict); false in host code when not (an
  // error in device code).
  bool static_items(const ast::Expr& iter, std::vector<SValue>& items);
  SValue dict_lookup(const SValue& dict, const SValue& key, SourceSpan span);
  // zip / enumerate of sequences known when compiling.
  bool call_sequence_builtin(const std::string& name, const CallArgs& call, SValue& out);
  // d.keys() / values() / items() / get(k[, default]) of a dict known when compiling.
  bool call_dict_method(const SValue& dict, const std::string& name, const CallArgs& call, SValue& out);
  SValue eval_binop(ast::BinOpKind op, const SValue& a, const SValue& b, SourceSpan span);
  // Two constant ints (or bools): Python's result or an error; false when
  // Python has no such int operator (@).
  bool fold_int_binop(ast::BinOpKind op, const SValue& a, const SValue& b, SourceSpan span, SValue& out);
  SValue eval_compare(ast::CmpOpKind op, const SValue& a, const SValue& b, SourceSpan span);
  SValue eval_unary(ast::UnaryOpKind op, const SValue& a, SourceSpan span);
  SValue call_value(const SValue& fn, const CallArgs& call);
  // Inlines a call of a helper (a Python function, a lambda passed in or written
  // in the kernel) into device code; returns what it returns.
  SValue inline_helper(const SValue& fn, const CallArgs& call);
  HelperCode helper_code(const SValue& fn, SourceSpan span) const;
  // Memory accesses.  An index is a list of (value, span) per position:
  // tiles, Slice values (`:`), None, Ellipsis, ints, integer device values.
  using IndexParts = std::vector<std::pair<SValue, SourceSpan>>;
  IndexParts index_parts(const ast::Expr& index);
  IndexParts index_parts(const SValue& list, SourceSpan span);
  // `x[...]` of a host tensor in host code: the view basic indexing makes
  // (ints, `:`, constant slices, None, ...), or Unknown (host_ops.cc).
  SValue host_tensor_subscript(const HostTensor& t, const IndexParts& parts, SourceSpan span);
  ir::Value* access_mask(const HostTensor& t, const std::vector<int>& dims, const SValue* extra_mask, SourceSpan span,
                         const std::vector<std::pair<int, int64_t>>& past_end = {},
                         const std::vector<std::pair<ir::Value*, SymInt>>& slice_ends = {});
  SValue load(const SValue& tensor, const IndexParts& index, SourceSpan span, const SValue* extra_mask,
              const std::string& eviction);
  void store(const SValue& tensor, const IndexParts& index, const SValue& value, SourceSpan span,
             const SValue* extra_mask);
  SValue atomic(ir::AtomicFn fn, const SValue& tensor, const IndexParts& index, const SValue& value,
                const SValue* expected, const std::string& sem, SourceSpan span);
  // Value of a tensor-typed device expression for view/reduction ops.
  ir::Value* expect_tensor_value(const SValue& v, SourceSpan span, const std::string& what);

  // Scans and reductions with a combine function (combine_fns.cc).  `what`
  // names the construct in errors ("hl.associative_scan").
  SValue associative_scan(const SValue& fn, const SValue& input, SourceSpan input_span, int64_t dim,
                          SourceSpan dim_span, bool reverse, SourceSpan span, const std::string& what);
  SValue combine_reduce(const SValue& fn, const SValue& input, SourceSpan input_span, const SValue* dim,
                        SourceSpan dim_span, const SValue* other, SourceSpan other_span, bool keepdim, SourceSpan span);
  // cumsum / cumprod (fn Sum or Prod) with the result dtype (default: the input's).
  SValue cumulative(ir::ReduceFn fn, const SValue& input, SourceSpan input_span, int64_t dim, SourceSpan dim_span,
                    bool reverse, std::optional<DType> result, SourceSpan span, const std::string& what);

  // Size arguments: `[tile_m, 64]`, `(m, n)`, `x.size()` -> dims (device) or sizes (host)
  std::vector<int> dims_from_shape(const SValue& shape, SourceSpan span);
  std::vector<SymInt> sizes_from_shape(const SValue& shape, SourceSpan span) const;
  // The dim a registered block size (hl.register_block_size) names here.
  int block_size_dim(int index, SourceSpan span);

  // Registers a tile/grid dim; returns its id.  `end_on_device`: the end is
  // a value computed on the device (`end` is a placeholder), so the extent its
  // block size tiles is unknown when compiling (kDeviceExtent).
  int new_loop_dim(ir::DimKind kind, SymInt begin, SymInt end, std::optional<int64_t> fixed_block,
                   int block_size_index, const std::string& name, SourceSpan span, bool end_on_device = false);
  int new_block_size(int64_t min, int64_t max, const std::string& origin);

  // Host tensors used in device code become kernel parameters.
  int tensor_param(const HostTensor& t, SourceSpan span);

  Program& program() { return *program_; }
  Env& env() { return env_; }

 private:
  SValue eval_expr(const ast::Expr& e);

  // analyzer.cc
  void bind_arguments();
  void bind_globals();
  SValue lookup(const std::string& name, SourceSpan span);
  // What a global (or a name a function argument's code reads) is to sema.
  SValue global_value(const GlobalSpec& spec, const std::string& name) const;
  // A function passed as a kernel argument (ArgSpec::Kind::Callable).
  SValue callable_argument(const ArgSpec& a);
  void host_stmt(const ast::Stmt& s);
  // What a host statement binds (host_stmt without recording the statement):
  // also the statements of a host `if` branch taken at compile time.
  void host_effects(const ast::Stmt& s);
  void host_if(const ast::If& s);
  void host_assign(const ast::Expr& target, const SValue& value, SourceSpan span);
  bool is_device_loop(const ast::For& f) const;
  // The qualified name of the function a for loop iterates ("hl.tile"), or "".
  std::string loop_function(const ast::For& f) const;
  // The qualified name of what `func` names through the kernel's globals
  // ("hl.barrier" for hl.barrier or an imported barrier), or "".
  std::string callee_qualname(const ast::Expr& func) const;
  // loop_phases.cc: Helion's rules for the top-level loops (no statements
  // between them, no loop touching what an earlier one of its phase wrote).
  bool is_barrier_stmt(const ast::Stmt& s) const;
  void check_loop_phases();
  void mark_unknown_assigned(const ast::Stmt& s);
  void check_no_device_loops(const ast::Stmt& s, const char* where);
  // Errors at a read of a name that only existed inside an earlier device loop
  // (host_reads.cc): for the parts of host statements sema does not evaluate.
  void check_host_reads(const ast::Stmt& s);
  // Records the arguments a host statement writes in place (host_writes.cc).
  void note_host_writes(const ast::Stmt& s);
  void note_host_write(const ast::Expr* e);
  // Errors when `module.attr` names something the module does not have (the
  // Python side lists those: GlobalSpec::missing_attrs).
  void check_module_attr(const std::string& module, const std::string& attr, SourceSpan span) const;

  // arguments.cc: a tensor argument or element of one ("x", "pair[0]", "p.x")
  // bound to `expr` in host code; a tuple, list, NamedTuple, dataclass or dict
  // argument element by element; `v` (a host tensor, runtime number or
  // structured value) renamed to `expr` when host code assigns it to a name.
  // `base_arg` is the index of the function argument the value is or is in.
  SValue tensor_arg(const ArgSpec& a, const std::string& expr, int arg_index, int base_arg);
  SValue structured_arg(const ArgSpec& a, const std::string& expr, int base_arg);
  SValue element_arg(const ArgSpec& a, const std::string& expr, int base_arg);
  SValue named_host_value(const SValue& v, const std::string& expr);
  // A host symbol name from a host expression ("pair[0]" -> "pair_0"), unique among the symbols.
  std::string symbol_for(const std::string& expr) const;

  // device_stmts.cc
  void device_loop(const ast::For& f);
  void device_body(const ast::Body& body);
  void device_stmt(const ast::Stmt& s);
  void device_assign(const ast::Expr& target, const SValue& value, SourceSpan span);
  void device_for(const ast::For& f);
  void device_if(const ast::If& s);
  // `while cond:` inside a tile loop (a While op); its condition as the op's
  // i1 scalar (one value: a scalar, or a tensor of one lane).
  void device_while(const ast::While& s);
  ir::Value* while_condition(const SValue& c, SourceSpan span);
  void device_static_for(const ast::For& f, const std::vector<SValue>& items);
  // The values a loop body carries (for and while loops alike): the names it
  // assigns that hold a device-representable value before it, with their types
  // (widened when an attempt at typing the body finds a value grew), whether
  // that value was a host number (weak), and their promotion classes.
  struct CarriedValues {
    std::vector<std::string> names;
    std::vector<ir::Type> types;
    std::vector<bool> weak;
    std::vector<PromotionClass> pclass;
  };
  CarriedValues carried_values(const std::set<std::string>& assigned, const std::vector<std::string>& excluded,
                               SourceSpan span);
  // Their values from `before`, converted to the current types (the loop op's inits).
  std::vector<ir::Value*> carried_inits(const CarriedValues& c, const Env& before, SourceSpan span);
  // After the body: true (types widened, retry the attempt) when a value grew;
  // else the values to yield, converted to the types, in `yields`.
  bool carried_yields(CarriedValues& c, int attempt, SourceSpan span, std::vector<ir::Value*>& yields);
  // Lowers a loop body with carried values; returns the For op.
  void lower_carried_loop(const ast::For& f, const std::vector<int>& dims, const std::vector<std::string>& targets,
                          bool grid_scalars, const std::vector<std::pair<SValue, SValue>>& bounds,
                          const std::vector<GridStride>& strides,
                          const std::function<void()>& at_body_start = {});
  // `for tile_k in hl.jagged_tile(parent)` inside a tile loop.
  void device_jagged_for(const ast::For& f, const ast::Call& call);
  SValue grid_index(int dim, const std::string& name, const GridStride& stride, SourceSpan span);
  void assign_reduction_indices(ir::DeviceKernel& k, SourceSpan loop_span);
  // The whole batch dim of a batched matmul, lane by lane everywhere, as a grid
  // dim of block 1 (batch_dims_to_grid.cc).
  void lift_batch_dims_into_grid(ir::DeviceKernel& k);
  // A whole dim of runtime extent that cannot be rolled (device_stmts.cc): one block of
  // next_power_of_2(this call's extent) lanes, masked, with the kernel keyed on that power
  // of two (Program::specialized_args).  False where the extent has no value here or is
  // not computed from the arguments on entry (then it cannot be keyed on).
  bool block_from_call_extent(ir::Dim& dim);

  // random_ops.cc
  // Philox offsets of a draw over `dims`: row-major linear indices over the dims' full extents.
  ir::Value* random_offsets(const std::vector<int>& dims, SourceSpan span, const std::string& what);
  ir::Value* linear_offsets(const std::vector<int>& dims, SourceSpan span, const std::string& what);
  // An explicit seed (int, one-element integer tensor, integer device scalar) as a device scalar.
  ir::Value* random_seed(const SValue& seed, SourceSpan span, const std::string& what);
  // The seed of a new implicit call site (torch.rand_like, ...): the next slot of the seed buffer.
  ir::Value* implicit_random_seed(SourceSpan span);
  std::vector<ir::Value*> random_draw(ir::RandomFn fn, ir::Value* seed, ir::Value* offsets, SourceSpan span,
                                      ir::Value* low = nullptr, ir::Value* high = nullptr);
  // Sizes the seed buffer of every kernel once all call sites are known.
  void finish_random_seeds();
  // combine_fns.cc
  std::vector<ir::Value*> combine_operands(const SValue& input, SourceSpan span, const std::string& what,
                                           bool* is_tuple);
  CombineSignature combine_signature(const SValue& fn, SourceSpan span, const std::string& what);
  void build_combine_region(ir::Op* op, const SValue& fn, const CombineSignature& sig, bool is_tuple,
                            SourceSpan span, const std::string& what);

  friend class DeviceLoopScope;

  BindRequest request_;
  std::shared_ptr<const SourceFile> file_;
  std::unique_ptr<Program> program_;
  std::map<std::string, int64_t> int_arg_values_;  // int arguments' values in this call (see ArgSpec)
  Env env_;
  std::map<std::string, GlobalSpec> globals_;
  std::unique_ptr<ir::DeviceKernel> kernel_;  // kernel being lowered
  std::unique_ptr<IRGen> gen_;
  std::map<std::string, int> tensor_params_;  // host expr -> param (per kernel)
  void warn_tiled_k_accumulation(const SValue& rhs, SourceSpan span);
  int loop_depth_ = 0;                         // device loop nesting
  int inline_depth_ = 0;                       // helper function inlining depth
  // Names bound by the hl.static_range loops being unrolled: Helion types them as
  // symbolic ints, so a tuple indexed by one must hold elements of one type.
  std::vector<std::string> static_range_vars_;
  // The dims of the loops the statement being analyzed is in (the kernel's
  // grid dims, then inner loops, innermost last).
  std::vector<int> open_loop_dims_;
  // Block sizes limited to 1 because a while condition over their tiles must
  // be one value (block size index, the condition), checked against the
  // least block each needs once its kernel is lowered.
  std::vector<std::pair<int, SourceSpan>> one_lane_blocks_;
  int64_t work_ = 0;                           // see charge_work
  std::optional<SValue>* helper_return_ = nullptr;  // set while inlining a helper
  std::optional<HostRewrite> tunable_call_;         // set by hl.register_tunable for eval_call
  // Offsets of random draws by (region, dims), shared by draws over the same
  // shape (cleared when a loop body is lowered again: its regions are gone).
  std::map<std::pair<ir::Region*, std::vector<int>>, ir::Value*> random_offsets_;
  // The axes of the device tensors the current kernel's source expressions
  // compute (Program::expression_shapes).
  std::vector<std::vector<int>> expression_shapes_;
};

// An identifier made from a host expression: "pair[0]" -> "pair_0", "d['k']" -> "d_k"
// (an identifier stays as it is).
std::string python_identifier(const std::string& expr);
// The truth value of a value known when compiling (false when it is not).
bool static_truth(const SValue& v, bool& out);

// Names assigned anywhere in a statement list (targets of =, +=, for).
std::set<std::string> assigned_names(const ast::Body& body);

// The function's parameters that its text both reads and writes, in order
// (Helion's rule; read_written_args.cc).
std::vector<std::string> read_and_written_arguments(const ast::FunctionDef& fn);

}  // namespace deuteron::sema
