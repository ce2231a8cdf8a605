// Tile IR: what one device loop (one GPU launch) computes, per program.
//
// A DeviceKernel is produced by sema from one top-level `for ... in hl.tile(...)`
// loop.  Its body is a Region of Ops in SSA form, structured like MLIR's scf
// dialect: inner loops (`For`) and conditionals (`If`) own Regions and carry
// values explicitly (iter args / results, terminated by `Yield`).
//
// Shapes are symbolic in *dimensions*, not numbers: every axis of a value is
// either a size-1 broadcast axis or a Dim of the kernel (a tile of a loop, or a
// whole tensor dimension taken with `:`).  How large a Dim's block is comes
// from the Config only at code generation, so the same IR serves every config.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "deuteron/diagnostic.h"
#include "deuteron/dtype.h"
#include "deuteron/symbolic.h"

namespace deuteron::ir {

// ------------------------------------------------------------------- dims

enum class DimKind {
  Tile,  // hl.tile: blocks of `block_size` indices; axes of values
  Grid,  // hl.grid / range(): one index at a time; never an axis of a value
  Full,  // a whole dimension (`x[tile, :]`, hl.zeros([tile, n])): an axis whose
         // block is the entire extent (persistent) or rolled into a loop
};

struct Dim {
  int id = -1;
  DimKind kind = DimKind::Tile;
  SymInt begin = 0;  // iteration space [begin, end)
  SymInt end = 0;
  SymInt extent() const { return end - begin; }

  // Tile dims: the block size is config.block_sizes[block_size_index], or
  // fixed_block_size when the kernel fixes it (`block_size=32`).
  int block_size_index = -1;
  std::optional<int64_t> fixed_block_size;
  // A block the kernel fixes with a number computed on the host from
  // tunables (`block_size=[None, k_block]`, k_block =
  // next_power_of_2(cdiv(k, split_k))): known once the config is.  Lowering
  // for a config (driver/compiler.cc) turns it into fixed_block_size; until
  // then both block_size_index and fixed_block_size are unset.
  std::optional<SymInt> config_block_size;
  // Full dims that a reduction runs over: config.reduction_loops[reduction_index]
  // (None = persistent, N = rolled loop of block N).  -1 = not tunable.
  int reduction_index = -1;

  // Which loop iterates the dim: -1 for the kernel's grid, otherwise the id
  // of the For op (set by sema; Full dims have none).
  int loop_id = -1;
  // Bounds computed on the device (`hl.tile(0, tile_m.end)`): begin/end are
  // the first two operands of the For op that iterates the dim.
  bool dynamic_bounds = false;
  // An inner loop dim that Helion offers a static_ranges entry for (set by
  // sema): its bounds are numbers when compiling and it takes at most 8 steps
  // of the step it is written with (its fixed block_size, its hl.grid step, or
  // 1 where the config picks the block size).
  bool static_range_ok = false;
  std::string name;  // the user's variable ("tile_m"), or "" (used for readable codegen)
  SourceSpan span;
  // A sub-tile of grid dim `subtile_of` (passes/grid_subtiling.cc): the
  // indices [offset + subtile_offset, + fixed_block_size) of the parent's
  // block, with the parent's bounds.  -1: an ordinary dim.
  int subtile_of = -1;
  int64_t subtile_offset = 0;
  // A merged dim (`x.reshape(tile_m.block_size * tile_n.block_size)`, a
  // `flatten`): a Full dim whose lanes are the row-major product of the
  // blocks of `factors` (dims that are not merged themselves), padding lanes
  // included; its extent counts those lanes.  A lane is live where every
  // factor's lane is: its mask is the factors' masks, outer-producted and
  // flattened.  Empty: an ordinary dim.
  std::vector<int> factors;
  bool merged() const { return !factors.empty(); }
};

// An axis of a value's shape: a Dim id, or kBroadcast for a size-1 axis.
constexpr int kBroadcast = -1;

struct Type {
  DType dtype = DType::Float32;
  std::vector<int> dims;  // empty = scalar

  bool is_scalar() const { return dims.empty(); }
  int rank() const { return static_cast<int>(dims.size()); }
  bool operator==(const Type& o) const { return dtype == o.dtype && dims == o.dims; }
  bool operator!=(const Type& o) const { return !(*this == o); }
};

// ------------------------------------------------------------- ops/values

enum class OpKind {
  // leaves
  Constant,       // literal scalar: attrs.literal
  ScalarParam,    // a scalar kernel parameter (host int/float/bool): attrs.param
  SymValue,       // a symbolic host integer (sizes, shapes arithmetic): attrs.sym
  TileIndex,      // tile.index: [dim] of the index dtype
  TileBegin,      // tile.begin (scalar); also the index of a Grid dim
  TileEnd,        // tile.end (scalar): min(begin + block, dim end)
  TileBlockSize,  // tile.block_size (scalar constant per config)
  TileId,         // tile.id: begin // block_size
  TileCount,      // tile.count: number of tiles of the dim
  TileMask,       // [dim] bool: which lanes of the dim's block are inside its range
  Full,           // hl.full / hl.zeros: attrs.literal broadcast to result type
  Arange,         // hl.arange over a Full dim: [dim] values begin..end-1
  // random numbers: Philox-4x32-10 streams, the numbers of Triton's tl.rand family
  RngSeed,        // the seed of implicit RNG call site attrs.seed_slot (torch.rand_like, ...): an i64
                  // scalar read from the launch's seed buffer (tensor attrs.tensor), drawn by the host
                  // once per call of the kernel function (one torch.randint for all call sites)
  Random,         // attrs.random: operands seed (integer scalar), offsets (integer, the result's
                  // shape)[, low, high for RandInt]; one result (four for Rand4x)
  // memory
  Load,           // operands: index values (see IndexSpec), then extra mask (optional)
  Store,          // operands: index values, value, then extra mask (optional)
  AtomicRMW,      // like Store, returns old values: attrs.atomic
  // compute
  Unary,          // attrs.unary
  Binary,         // attrs.binary; operands broadcast to the result type
  Where,          // where(cond, a, b)
  Cast,           // to result dtype (attrs.bitcast for reinterpretation)
  ExpandDims,     // insert a size-1 axis at attrs.axis
  Squeeze,        // remove the size-1 axis attrs.axis
  BroadcastTo,    // expand size-1 axes to the result type's dims
  BlockLanes,     // a value over a tile (the operand's dim on attrs.axis) retyped onto the whole dim of
                  // that tile's block lanes (the result's dim on attrs.axis: a Full dim whose extent
                  // is the tile's block size, e.g. hl.zeros([tile_m, block_size])'s): the same lanes,
                  // those past the tile's end read 0, so a sum over the block's lanes counts only
                  // the tile's live ones.  Or the reverse (the lanes onto the tile, a store's value):
                  // the same registers, the tile's live lanes
  Permute,        // attrs.perm
  Reshape,        // to the result type's dims (same element count)
  Reduce,         // attrs.reduce over attrs.axis (keepdim -> size-1 axis)
  Dot,            // a @ b (+ acc): operands a, b [, acc]; 2-D or batched 3-D
  // scans and reductions with a combine function (hl.associative_scan, hl.reduce)
  Scan,           // inclusive scan along attrs.axis (attrs.reverse: last to first).  Either one
                  // operand and a known combine (attrs.reduce: Sum or Prod, no region), or n
                  // operands of one shape with region 0 = the combine (see CombineReduce).
  CombineReduce,  // reduction of n operands of one shape along attrs.axis (attrs.keepdim) by
                  // region 0, the user's combine function: args (lhs_0..lhs_n-1, rhs_0..rhs_n-1)
                  // are scalars of the operands' dtypes, the yield gives n scalars; its ops are
                  // elementwise and use only the region's own values (it becomes a function)
  // torch.sort / torch.topk along attrs.axis, the last axis, a Full dim kept whole (persistent):
  // results values (the operand's dtype) and indices (int64, positions along the axis).  attrs.reverse:
  // descending (sort) or largest first (topk); attrs.sort_k > 0: only the first k, and the results'
  // axis is a Full dim of extent k.  Ties keep no particular order (torch.sort's default).
  Sort,
  // torch.gather(src, attrs.axis, index): operands src, index (int64, src's rank); the result has the
  // index's dims and src's dtype, lane i reading src at index[i] along the axis and i elsewhere.  The
  // index's other axes are src's (one dim each), as Triton's tl.gather requires.
  Gather,
  // control flow
  For,            // loop over attrs.dim (Tile or Grid dim); operands = initial iter values;
                  // region 0 args = iter values; results = final iter values
  If,             // operands: cond; region 0 = then, region 1 = else; results = yielded values
  // `while cond:` -- a loop whose first carried value is its condition (an i1 scalar), tested before
  // every iteration: operands = [the condition's first value, initial carried values...]; region 0
  // args = [condition, carried values...]; its yield = [the condition computed at the end of the body
  // (the next test), new carried values...]; results = final values (results[0] is false).  Like For,
  // every operand, region arg, yielded value and result of one position has one type.
  While,
  Yield,          // terminator of For/If regions
  Assert,         // device-side assert (debug): operands: cond; attrs.message
  Print,          // device-side print (debug): attrs.message (the prefix), then the operands' values
  Breakpoint,     // Python's breakpoint() where the program runs (debug; interpret modes only, sema checks)
  // Triton source inlined into the kernel (hl.inline_triton, hl.inline_asm_elementwise): attrs.message
  // is the text, a str.format template whose {i} is operand i and {tN} the pointer of tensor N ({{, }}:
  // braces).  With results, its last statement is the expression giving them (one per result).  Kept
  // whatever its uses (it may have side effects); only the Triton back end can emit it.
  InlineTriton,
};

enum class UnaryFn {
  Neg, Not, Invert, Abs,
  Exp, Exp2, Log, Log2, Log1p, Expm1, Sqrt, Rsqrt, Sin, Cos, Tan, Tanh, Sigmoid, Erf,
  Floor, Ceil, Trunc, Round, Reciprocal, Relu, Sign, IsNan, IsInf, IsFinite,
  Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh,
};

enum class BinaryFn {
  Add, Sub, Mul, TrueDiv, FloorDiv, Mod, Pow, Maximum, Minimum,
  BitAnd, BitOr, BitXor, LShift, RShift, LogicalAnd, LogicalOr,
  Eq, Ne, Lt, Le, Gt, Ge, Atan2, CopySign,
};

enum class ReduceFn { Sum, Prod, Max, Min, ArgMax, ArgMin, Any, All };

enum class AtomicFn { Add, And, Or, Xor, Xchg, Max, Min, Cas };

// What a Random op draws per offset (tl.rand, tl.randn, tl.rand4x; hl.randint).
enum class RandomFn {
  Rand,     // f32 uniform in [0, 1)
  Randn,    // f32 standard normal
  Rand4x,   // four f32 uniforms (the four Philox outputs)
  RandInt,  // i32 in [low, high): |first output as i32| (in i64) mod (high - low), plus low
};

const char* name(OpKind k);
const char* name(UnaryFn f);
const char* name(BinaryFn f);
const char* name(ReduceFn f);
const char* name(AtomicFn f);
const char* name(RandomFn f);
bool is_comparison(BinaryFn f);

// A literal scalar (Constant, Full).  Floats keep their exact double value;
// inf and nan are allowed.
struct Literal {
  enum class Kind { Int, Float, Bool } kind = Kind::Int;
  int64_t i = 0;
  double f = 0.0;
  bool b = false;
  static Literal from_int(int64_t v) { Literal l; l.kind = Kind::Int; l.i = v; return l; }
  static Literal from_float(double v) { Literal l; l.kind = Kind::Float; l.f = v; return l; }
  static Literal from_bool(bool v) { Literal l; l.kind = Kind::Bool; l.b = v; return l; }
  double as_double() const { return kind == Kind::Float ? f : kind == Kind::Int ? double(i) : double(b); }
};

// How one dimension of a tensor is indexed by a Load/Store/Atomic.
struct IndexSpec {
  enum class Kind {
    TileDim,    // a Dim's indices (tile, `:`, grid index): operand not used; attrs: dim
    Scalar,     // a scalar device value (operand), no axis
    Tensor,     // an integer tensor value (operand) whose axes join the result
    NewAxis,    // `None`: a size-1 axis in the result, no tensor dimension consumed
    // A StackTensor's device pointers (hl.stacktensor_like): a uint64 value
    // (operand) whose axes lead the result, each lane the address of one
    // tensor shaped like the op's tensor (the example, whose own memory the
    // op never touches); the other specs index within each of those tensors.
    // Only first in a Load's or Store's index, and no tensor dim consumed.
    Stack,
  } kind = Kind::TileDim;
  int dim = -1;       // TileDim
  int operand = -1;   // Scalar/Tensor/Stack: index into the op's operands
  SymInt offset = 0;  // TileDim: constant shift (x[tile.index + 1] folds to TileDim +1)
};

struct Value;
struct Region;
struct Op;

struct Attrs {
  Literal literal;                   // Constant, Full
  int param = -1;                    // ScalarParam: index into DeviceKernel::scalars
  SymInt sym = 0;                    // SymValue
  int dim = -1;                      // Tile*, Arange, For
  int tensor = -1;                   // Load/Store/Atomic: index into DeviceKernel::tensors
  std::vector<IndexSpec> index;      // Load/Store/Atomic: one per tensor dim (+ NewAxis)
  // Load/Store/Atomic: the index tensors broadcast together, as PyTorch's
  // advanced indexing does (x[rows[:, None], cols], or x[t.index, t.index]
  // with one dim on two axes): every index is then a Tensor (or a Scalar),
  // each Tensor operand has the access's rank, and the access's axes are
  // theirs, axis by axis (the dim where one has it, else size 1).  Without
  // it each index adds its own axes in order (ir::access_dims).
  bool broadcast_index = false;
  int extra_mask = -1;               // Load/Store/Atomic: operand index of the user mask, or -1
  int value_operand = -1;            // Store/Atomic: operand index of the stored value
  int expected_operand = -1;         // Atomic Cas: operand index of the expected value
  int memory_op = -1;                // Load/Store: index among the kernel's loads or stores
  std::string eviction_policy;       // Load: user-given ("" = config decides)
  UnaryFn unary = UnaryFn::Neg;
  BinaryFn binary = BinaryFn::Add;
  ReduceFn reduce = ReduceFn::Sum;
  AtomicFn atomic = AtomicFn::Add;
  std::string atomic_sem = "relaxed";
  RandomFn random = RandomFn::Rand;   // Random
  int seed_slot = -1;                 // RngSeed: index into the seed buffer
  int axis = 0;                      // ExpandDims, Squeeze, Reduce, Scan, CombineReduce
  bool keepdim = false;              // Reduce, CombineReduce
  bool reverse = false;              // Scan; Sort: descending / largest first
  int64_t sort_k = 0;                // Sort: keep the first k (topk); 0 = all
  std::string combine_fn;            // Scan, CombineReduce with a region: the user's function name
  // CombineReduce: the user's `other` (one per operand), the value of lanes past
  // the end of a partial block; empty = none given (the emitter then keeps such
  // lanes out of the combine)
  std::vector<Literal> other;
  std::vector<int> perm;             // Permute
  bool bitcast = false;              // Cast
  // Cast: a conversion sema made to or from the type an op computes in
  // (float32 for 16-bit floats, PyTorch's opmath), not one the program wrote;
  // passes::keep_fp32_intermediates drops the rounding these do between ops.
  bool opmath = false;
  std::optional<DType> dot_out_dtype;  // Dot
  std::string dot_precision;         // Dot: "" (config), "tf32", "tf32x3", "ieee"
  std::string message;               // Assert, Print; InlineTriton: the template
  // For over a Grid/Tile dim whose bounds are device values: operands
  // [begin, end] precede the iter values when set.
  bool dynamic_bounds = false;
  // Set by passes:
  // Reduce: every lane is valid, so masked lanes need no padding (set by
  // reduction_rolling for the reductions of its accumulators; the text
  // form's `unmasked`).  Which dims need masks is otherwise decided by
  // analysis::plan_masks from dims and blocks, never written in the IR.
  bool mask_elided = false;
};

struct Value {
  int id = -1;          // unique within the kernel; printing uses %id
  Type type;
  Op* def = nullptr;    // producing op, or null for a region argument
  Region* owner = nullptr;  // for region arguments
  int index = 0;        // result index / argument index
  std::string name_hint;  // user's variable name when known ("acc")
};

struct Region {
  std::vector<std::unique_ptr<Value>> args;
  std::vector<std::unique_ptr<Op>> ops;
  Op* parent = nullptr;
};

struct Op {
  int id = -1;  // unique within the kernel (For loops are referenced by it)
  OpKind kind;
  std::vector<Value*> operands;
  std::vector<std::unique_ptr<Value>> results;
  std::vector<std::unique_ptr<Region>> regions;
  Attrs attrs;
  SourceSpan span;  // the user's source that produced the op
  Region* parent = nullptr;

  Value* result(int i = 0) const { return results.at(i).get(); }
};

// ------------------------------------------------------------------ kernel

struct TensorParam {
  std::string name;       // name in generated code (usually the user's variable)
  std::string host_expr;  // Python expression that yields the tensor in the host wrapper
  DType dtype;
  std::vector<SymInt> sizes;
  std::vector<SymInt> strides;
  bool read = false, written = false;
  int arg_index = -1;     // >= 0: the kernel function's argument itself (not a copy or view)
  int base_arg = -1;      // >= 0: the argument whose memory it is or may share (sema's HostTensor::base_arg)
  bool dense = false;     // allocated by host code, not a view: largest offset numel - 1
};

struct ScalarParam {
  std::string name;       // kernel argument name
  std::string host_expr;  // Python expression evaluated by the host wrapper
  DType dtype;            // Int64 for ints, Float32 for floats (as Triton types them), Bool
};

struct DeviceKernel {
  std::string name;  // triton function name, e.g. "_add_kernel"
  // Which of the program's device loops (Program::kernels) this kernel
  // lowers: a loop split into several launches (passes/kernel_fission.cc)
  // lowers to several kernels, each with the loop's config.  Set by
  // BoundKernel::lower; -1 in sema's kernels and parsed IR.
  int source_loop = -1;
  std::vector<TensorParam> tensors;
  std::vector<ScalarParam> scalars;
  std::vector<Dim> dims;
  std::vector<int> grid_dims;  // dims of the outer loop, in the order written
  // Inner loops written over several dims (`for tb, tc in hl.tile([b, c])`):
  // each one's dims in the order written.  Sema lowers such a loop to one For
  // op per dim, perfectly nested in that order with its bounds computed before
  // the outermost; a config's loop_orders entry reorders them
  // (passes/inner_loop_order.cc), its flatten_loops entry runs them as one loop.
  std::vector<std::vector<int>> nests;
  Region body;
  SourceSpan span;       // the `for` header of the outer loop
  DType index_dtype = DType::Int32;  // type of tile indices and offsets
  int num_loads = 0;
  int num_stores = 0;
  int next_value_id = 0;
  int next_op_id = 0;

  Dim& dim(int id) { return dims.at(id); }
  const Dim& dim(int id) const { return dims.at(id); }
};

// -------------------------------------------------------------- utilities

// Builder that appends ops at an insertion point and numbers values.
class Builder {
 public:
  explicit Builder(DeviceKernel& k) : kernel_(k), region_(&k.body) {}
  DeviceKernel& kernel() { return kernel_; }
  Region* region() const { return region_; }
  void set_region(Region* r) { region_ = r; }

  // Creates an op with the given result types at the end of the current region.
  Op* create(OpKind kind, std::vector<Value*> operands, const std::vector<Type>& result_types,
             SourceSpan span, Attrs attrs = {});
  // Adds an argument to region r.
  Value* add_arg(Region* r, Type t, std::string name_hint = "");
  // Adds an empty region to op.
  Region* add_region(Op* op);

 private:
  DeviceKernel& kernel_;
  Region* region_;
};

// Deep copy (used by passes that transform per config).
std::unique_ptr<DeviceKernel> clone(const DeviceKernel& k);

// Appends to `parent` a copy of region `src` with fresh value and op ids of
// kernel k (for passes that duplicate an op with a region).  Operands defined
// outside `src` are looked up in `outer` (unmapped ones are kept as they are).
Region* clone_region_into(DeviceKernel& k, const Region& src, Op* parent,
                          const std::map<const Value*, Value*>& outer = {});

// Whether an op's region is a combine function (Scan, CombineReduce): scalar,
// elementwise, closed over its arguments.
bool has_combine_region(const Op& op);

// Textual form, e.g.
//   kernel _add_kernel(x: f32[s0, s1] strides [s1, 1], ...)
//   dims: d0 tile tile_m [0, 1024) block_sizes[0]
//   %3 = load x[d0, d1] : f32[d0, d1]      # line 12
std::string print(const DeviceKernel& k);
// Short type string: "f32[d0, 1]", "i32" for scalars.
std::string type_str(const Type& t);
// The element type as the text form writes it: "f32", "bf16", "i1" for bool.
const char* dtype_short(DType t);

// The kernel counters the text form leaves out when they equal these (values
// numbered up to the highest id in use, loads and stores up to the highest
// memory_op): print writes `next_value=`, `loads=`, `stores=` only when a
// kernel's counters differ (dead-code elimination removed the last ones).
struct ImpliedCounters {
  int next_value_id = 0;
  int num_loads = 0;
  int num_stores = 0;
};
ImpliedCounters implied_counters(const DeviceKernel& k);

// Checks structural invariants (operands defined before use and visible,
// result types consistent with operand types, regions terminated, dims
// exist).  Throws VerifyError naming the op on failure.
void verify(const DeviceKernel& k);

// A broken invariant found by verify: the op (null for kernel-level rules,
// such as dim numbering) and the rule, so that a caller that knows where the
// op came from (the IR text parser) can point there.
class VerifyError : public InternalError {
 public:
  VerifyError(const std::string& what, const Op* op, std::string rule)
      : InternalError(what), op_(op), rule_(std::move(rule)) {}
  const Op* op() const { return op_; }
  const std::string& rule() const { return rule_; }

 private:
  const Op* op_;
  std::string rule_;
};

// Whether dim d is an axis of type t.
bool has_dim(const Type& t, int d);
// Which memory tensor parameter `tensor` is: views of one argument share it
// (TensorParam::base_arg; so do the tensors of one list or dict argument,
// conservatively), any other tensor is its own.  Two accesses may touch the
// same elements only when these are equal.
int memory_of(const DeviceKernel& k, int tensor);
// Whether `lanes` is the whole dim of `tile`'s block lanes: a Full dim over
// [0, B) where B is tile's block size (the registered block size's symbol,
// the config-computed block, or the fixed number), so that a value over the
// tile can be retyped onto it (BlockLanes).  Also a whole dim over [0, n)
// that a tile loop over that same [0, n) covers with one block of fixed size
// next_power_of_2(n) (`hl.tile(3, block_size=4)` and a `:` over 3): the
// loop runs once, and its block's lanes are the whole dim's lanes, the
// same ones past n masked in both.
bool holds_block_lanes(const Dim& lanes, const Dim& tile);
// The same for a merged dim (a reshape's `tile_m * 2`): `lanes` is a Full dim
// over [0, L) where L is the row-major product of the merged dim's factors'
// blocks (`x.reshape(tile_m.block_size * 2, ...)` against a slice of length
// `2 * tile_m.block_size`), so that the merged value can be retyped onto it.
bool holds_merged_lanes(const DeviceKernel& k, const Dim& lanes, const Dim& merged);
// Either: `lanes` holds the lanes of tile or merged dim `d` (BlockLanes).
bool holds_lanes_of(const DeviceKernel& k, const Dim& lanes, const Dim& d);
// The axes the index of a Load/Store/Atomic produces, in order: a TileDim's
// dim, a NewAxis's kBroadcast, an index tensor's or a Stack's pointers' axes
// (a scalar index none).  A load's result has these dims; a store's value is
// broadcast to them.  With `broadcast_index`, the index tensors' axes
// broadcast together instead.
std::vector<int> access_dims(const Op& op);
// Whether a Load/Store/Atomic indexes dim d (a TileDim of it, or an index
// tensor or a Stack's pointers with it as an axis).
bool indexes_dim(const Op& op, int d);
// The operand holding a Load's or Store's StackTensor pointers (its Stack
// index spec), or nullptr for an access to the tensor's own memory.
const Value* stack_pointers(const Op& op);
// Whether d is an axis of one of op's operands or results, or op indexes it.
bool touches_dim(const Op& op, int d);

// Chunking whole dims (ir/chunking.cc, for passes/reduction_rolling.cc).
// The dims of `t` that are in `s`, and whether there are any.
std::set<int> dims_in(const Type& t, const std::set<int>& s);
bool intersects(const Type& t, const std::set<int>& s);
// A Reduce over one of `cls`; a Store/Atomic whose access or operands have one.
bool is_reduce_over(const Op& op, const std::set<int>& cls);
bool is_sink_over(const Op& op, const std::set<int>& cls);
// For an op whose result dims `chunked` are cut into chunks, the dims of each
// operand cut with them (by position: elementwise ops and BroadcastTo retype
// whole dims of one size onto each other); nullopt for an op that cannot be
// computed chunk by chunk.  A dot's contraction axes are never cut.
std::optional<std::vector<std::set<int>>> operand_chunks(const Op& op, const std::set<int>& chunked);
// The same for a Store/Atomic whose access is cut along its dims in `cls`.
std::vector<std::set<int>> sink_operand_chunks(const Op& op, const std::set<int>& cls);
// The dims of `cls` that a Load/Store/Atomic's access produces.
std::set<int> access_dims_in(const Op& op, const std::set<int>& cls);
// What a rolled loop computes a member with, chunk by chunk: a Reduce over
// `cls` (its input, the reduced axis cut) or a Store/Atomic through it (each
// operand, cut as it lines up with the access).
std::vector<std::pair<const Value*, std::set<int>>> chunked_inputs(const Op& member, const std::set<int>& cls);
// The whole dims of each reduction_loops entry, by the entry's index: one
// dim, or several of one size that values move between (w[:, :] of a square
// w), which roll together.
std::map<int, std::set<int>> dims_by_reduction_entry(const DeviceKernel& k);
// Whether the whole dims `cls` (one, or several of one size) can be rolled
// into a loop over chunks: something reduces over them or is stored through
// them, and every such slice is computed lane by lane along one of them; or,
// with nothing of that kind, a dot's contraction over them can be chunked.
bool can_roll(const DeviceKernel& k, const std::set<int>& cls);
// For a Dot whose contraction is a whole dim of `cls` (constant, one extent in
// both operands) and whose result is its accumulator type (f32, i32): the
// contraction dims of its operands (a's last axis, b's next to last) when
// both operands' slices can be cut along them, lane by lane, from loads of
// tensors the kernel does not write (a chunk reads them again where the dot
// is); nullopt otherwise (passes/contraction_rolling.cc).
std::optional<std::pair<int, int>> contraction_chunks(const DeviceKernel& k, const Op& dot,
                                                      const std::set<int>& cls);

// Renames dims throughout the kernel body: value types (op results, region
// arguments), TileDim index specs and the dim an Arange, TileIndex or
// TileMask op reads.  `to(d)` is d's new id (d itself to keep it).
void rename_dims(DeviceKernel& k, const std::function<int(int)>& to);

// What masked lanes of a reduction hold so that they do not change its
// result (the sum's 0, the max's lowest value, ...).
Literal reduction_identity(ReduceFn f, DType t);

// Makes every operand of r's ops (nested regions included) that is `from` `to`.
void replace_uses(Region& r, const Value* from, Value* to);

// Visits every op (pre-order, regions included).
void walk(const Region& r, const std::function<void(const Op&)>& fn);
void walk_mut(Region& r, const std::function<void(Op&)>& fn);

}  // namespace deuteron::ir
