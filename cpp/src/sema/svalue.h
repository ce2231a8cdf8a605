// What a Python expression means to sema: a host-level value (constants,
// symbolic ints, host tensors, modules, functions, ...) or a device value
// (an IR value).  Copyable; heavy parts are shared.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "deuteron/ast.h"
#include "deuteron/dtype.h"
#include "deuteron/ir.h"
#include "deuteron/sema.h"
#include "deuteron/symbolic.h"

namespace deuteron::sema {

// A tensor that lives on the host side (an argument or made by host code).
struct HostTensor {
  std::string expr;  // Python expression that names it in host code (a variable)
  // How the host function reaches it where `expr` is not a host variable: a
  // global or closure tensor of a function argument
  // (`fn.__closure__[0].cell_contents`); empty otherwise.
  std::string host_expr;
  // An unnamed tensor made by host code (out_offsets[n]): the source text that
  // made it and the host statement it is in (Program::host's size then).  A read
  // of its value before that statement (x[n].item() as a size) evaluates it
  // there; in a later statement the names in it may mean something else.
  std::string source_expr;
  int source_stmt = -1;
  DType dtype = DType::Float32;
  std::vector<SymInt> sizes;
  std::vector<SymInt> strides;
  std::string device;
  int arg_index = -1;  // >= 0 when it is the function's argument
  // The argument whose memory this tensor is or may share (>= 0): the argument
  // itself, an element of a structured argument, a view of either (view,
  // permute, x[i], ... and chains of them), or the result of a method that
  // returns its input or a view of it at run time (contiguous, reshape, to).
  // A write through it is a write to that argument: the torch.library
  // operator must list the argument as mutated (codegen/host_wrapper.cc),
  // or torch.compile may reorder or drop the write.
  int base_arg = -1;
  // A fresh allocation (torch.empty, *_like, ...), not a view: its elements fill
  // numel slots whatever its strides, so its largest offset is numel - 1 even
  // when the strides are known only at run time (index_width.cc).
  bool dense = false;
};

// runtime_expr of a float that host code computes at run time and that is not
// bound to a name yet (host_numbers.cc); never an expression the host runs.
inline constexpr const char* kHostComputed = "<computed by host code>";

struct SValue {
  enum class Kind {
    Unknown,   // a host value sema does not model (kept for Python to run)
    Poison,    // a name that may not be used here (message says why)
    None,
    Bool,
    Int,       // SymInt: constant or symbolic host integer
    Float,     // constant (f) or runtime host float (runtime_expr non-empty)
    String,
    Ellipsis,
    DType,
    Device,
    Tensor,    // HostTensor
    Tile,      // a tile object of dim `dim` (device only)
    IR,        // a device value
    Tuple,
    List,
    Slice,     // elts = [lower, upper, step] (None where absent)
    Module,    // qualname
    Function,  // qualname ("torch.exp", "hl.zeros", "builtins.float")
    Method,    // receiver (elts[0]) . method
    Helper,    // user function inlined into device code (helper)
    BlockSize, // the result of hl.register_block_size (index), usable as a size
    DimSize,   // `v.size(i)` of a device value over a tile dim: a shape entry in shape
               // contexts, the tile's valid length in arithmetic
    Fragment,  // a tunable's range (PowerOfTwoFragment(16, 256), ...): fragment
    Record,    // a dataclass instance (an argument): elts named by fields, s = its class name
    Dict,      // a dict with string keys (an argument): elts keyed by fields
    ConstDict, // a dict built when compiling (a dict comprehension): elts = key0, value0,
               // key1, value1, ... in insertion order; keys are constants
    Stack,     // hl.stacktensor_like(tensor_like, dev_ptrs) (device only): tensor = the example
               // host tensor, value = the uint64 device pointers (stack_tensors.cc)
  };

  Kind kind = Kind::Unknown;
  bool b = false;
  SymInt i = 0;
  double f = 0.0;
  std::string runtime_expr;  // Float/Bool/Int at runtime: the host expression
  ErrorKind error_kind = ErrorKind::Generic;  // Poison: the kind of the error a use raises
  std::string s;             // String value, Module/Function qualname, Method name, Poison message
  DType dtype = DType::Float32;
  std::shared_ptr<const HostTensor> tensor;
  int dim = -1;              // Tile
  int index = -1;            // BlockSize index
  ir::Value* value = nullptr;
  PromotionClass pclass = PromotionClass::Tensor;  // IR values
  std::vector<SValue> elts;  // Tuple/List/Slice/Method receiver, Record/Dict values
  // A NamedTuple's fields (a Tuple; s = its class name), a Record's fields, a Dict's keys:
  // one per element of elts.
  std::vector<std::string> fields;
  std::shared_ptr<const TunableSpec> fragment;  // Fragment (name left empty)
  const ast::FunctionDef* helper = nullptr;
  std::shared_ptr<const SourceFile> helper_file;
  // Helper passed as a kernel argument: the globals and closure variables its
  // code reads (its own names, apart from the kernel's).
  std::shared_ptr<const std::map<std::string, GlobalSpec>> scope;
  // Helper passed as a kernel argument: how many leading parameters are bound
  // (a functools.partial's arguments, a callable object's self), to the values
  // its scope holds as `param=`.
  int bound_params = 0;
  // Helper that is a lambda written in the kernel: the lambda, the names it saw
  // where it was written, and the helper inlining depth there (`index`).
  const ast::Lambda* lambda = nullptr;
  std::shared_ptr<const std::map<std::string, SValue>> closure;
  SourceSpan span;           // where it was defined (Poison: where the name was bound)

  static SValue unknown() { return {}; }
  static SValue none() { SValue v; v.kind = Kind::None; return v; }
  static SValue boolean(bool x) { SValue v; v.kind = Kind::Bool; v.b = x; return v; }
  static SValue integer(SymInt x) { SValue v; v.kind = Kind::Int; v.i = std::move(x); return v; }
  static SValue floating(double x) { SValue v; v.kind = Kind::Float; v.f = x; return v; }
  static SValue string(std::string x) { SValue v; v.kind = Kind::String; v.s = std::move(x); return v; }
  static SValue dtype_value(DType t) { SValue v; v.kind = Kind::DType; v.dtype = t; return v; }
  static SValue module(std::string q) { SValue v; v.kind = Kind::Module; v.s = std::move(q); return v; }
  static SValue function(std::string q) { SValue v; v.kind = Kind::Function; v.s = std::move(q); return v; }
  static SValue tile(int d) { SValue v; v.kind = Kind::Tile; v.dim = d; return v; }
  static SValue dim_size(int d) { SValue v; v.kind = Kind::DimSize; v.dim = d; return v; }
  static SValue ir(ir::Value* x, PromotionClass c) { SValue v; v.kind = Kind::IR; v.value = x; v.pclass = c; return v; }
  static SValue tuple(std::vector<SValue> e) { SValue v; v.kind = Kind::Tuple; v.elts = std::move(e); return v; }
  static SValue list(std::vector<SValue> e) { SValue v; v.kind = Kind::List; v.elts = std::move(e); return v; }
  static SValue method(SValue recv, std::string m) {
    SValue v; v.kind = Kind::Method; v.elts = {std::move(recv)}; v.s = std::move(m); return v;
  }
  // A name that may not be used here; using it is an error of `error_kind` saying `msg`.
  static SValue poison(std::string msg, SourceSpan where, ErrorKind error_kind = ErrorKind::Generic) {
    SValue v; v.kind = Kind::Poison; v.s = std::move(msg); v.span = where; v.error_kind = error_kind; return v;
  }

  bool is_sequence() const { return kind == Kind::Tuple || kind == Kind::List; }
  // The element named `field` (a NamedTuple's or Record's field, a Dict's key); nullptr if none.
  const SValue* field(const std::string& name) const {
    for (size_t i = 0; i < fields.size() && i < elts.size(); ++i)
      if (fields[i] == name) return &elts[i];
    return nullptr;
  }
  // A Python number known on the host (constant or symbolic).
  bool is_host_number() const { return kind == Kind::Bool || kind == Kind::Int || kind == Kind::Float; }
  bool is_constant_int() const { return kind == Kind::Int && i.is_constant(); }
};

// The symbol of registered block size `index` (hl.register_block_size): the
// config's value, resolved by analysis::KernelConfig::config_symbol.
inline SymInt block_size_symbol(int index) { return SymInt::symbol("_block_size_" + std::to_string(index)); }

// A float host code computes at run time, not bound to a name yet.
inline SValue host_computed_float() {
  SValue v = SValue::floating(0.0);
  v.runtime_expr = kHostComputed;
  return v;
}
inline bool is_host_computed(const SValue& v) {
  return v.kind == SValue::Kind::Float && v.runtime_expr == kHostComputed;
}

// Human-readable description for error messages ("a host tensor", "a tile", ...).
std::string describe(const SValue& v);

}  // namespace deuteron::sema
