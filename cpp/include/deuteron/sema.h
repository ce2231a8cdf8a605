// Semantic analysis: resolves names, propagates types and symbolic shapes,
// splits the kernel function into host code (run by Python) and device loops
// (one DeviceKernel each, in tile IR).
#pragma once

#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deuteron/ast.h"
#include "deuteron/config.h"
#include "deuteron/diagnostic.h"
#include "deuteron/dtype.h"
#include "deuteron/ir.h"
#include "deuteron/symbolic.h"

namespace deuteron {

// What Python tells the core about a global (or closure) name the kernel uses.
struct GlobalSpec {
  // TritonJit: a @triton.jit function (hl.triton_kernel calls it): qualname is its name,
  // string_value the module-level Triton source that defines it (runtime/source.py).
  // Object: the `self` of a callable object's __call__ (runtime/source.py
  // describe_object): the attributes its code reads, as Python read them when
  // binding (qualname: its class).
  enum class Kind { Module, Function, Helper, Int, Float, Bool, String, None, DType, Tensor, Opaque, TritonJit, Object };
  std::string name;
  Kind kind = Kind::Opaque;
  std::string qualname;  // Module: "torch"; Function: "torch.nn.functional.gelu"
  int64_t int_value = 0;
  double float_value = 0.0;
  bool bool_value = false;
  std::string string_value;
  DType dtype = DType::Float32;
  // Helper: a plain Python function whose body is inlined into device code.
  std::shared_ptr<const SourceFile> helper_source;
  // Helper: the function of a deuteron kernel.  Passed as a combine function it
  // is inlined like any helper (its decorator ignored); called, it is an error
  // (NestedKernelCallsNotSupported), as in Helion.
  bool helper_is_kernel = false;
  // Module: names the kernel's code uses that the module does not have, each with
  // the closest name it does have ("" if none is close), so that `torch.expp` is
  // "no such function" (did you mean torch.exp?) rather than "not supported".
  std::map<std::string, std::string> missing_attrs;
  // Tensor: a tensor device code reads that is no argument of the kernel (a
  // module global, a closure variable of a function argument), passed to the
  // device loops as an implicit input.  Its shape is part of the specialization.
  std::vector<int64_t> sizes, strides;
  std::string device = "cuda";
  std::string host_expr;  // how the host function reaches it: the name, or `fn.__closure__[0].cell_contents`
  std::vector<GlobalSpec> attributes;  // Object: one per attribute read, named by it
};

// What Python tells the core about one argument of a call.
struct ArgSpec {
  enum class Kind { Tensor, Int, Float, Bool, None, Constexpr, Callable, Other, DType, String,
                    Tuple, List, NamedTuple, Dataclass, Dict };
  std::string name;  // an element's: its index, field name or dict key
  Kind kind = Kind::Other;
  // Tensor; DType: the value (a compile-time constant, part of the specialization key)
  DType dtype = DType::Float32;
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
  std::string device = "cuda";  // "cuda", "cpu", ...
  // Constexpr (annotated hl.constexpr): the value, specialized into the kernel.
  enum class ConstKind { Int, Float, Bool, None } const_kind = ConstKind::None;
  int64_t const_int = 0;
  double const_float = 0.0;
  bool const_bool = false;
  // String: the value (a compile-time constant, part of the specialization key, as in Helion)
  std::string string_value;
  // Int: this call's value.  Only hl.specialize and compile-time positions (block_size=)
  // read it, and they record the argument in Program::specialized_args so that the
  // kernel keys on its value from then on (Helion specializes such arguments too).
  bool has_int_value = false;
  int64_t int_value = 0;
  // Tuple, List, NamedTuple, Dataclass, Dict (a structured argument): one spec
  // per element, in order, each of any kind but Constexpr and Other; the class
  // name for messages ("Point").
  std::vector<ArgSpec> elements;
  std::string type_name;
  // Callable (a function passed in, a compile-time value): what it is, as a
  // global would be (a Function deuteron knows, a Helper to inline), and the
  // globals and closure variables its code reads; or why it cannot be inlined.
  std::vector<GlobalSpec> callable;  // [what it is] + the names it reads; empty with callable_error
  std::string callable_error;
  // Callable: leading parameters bound to values (a functools.partial's
  // arguments, a callable object's self), given in its scope as `param=`.
  int callable_bound = 0;
  bool is_structured() const { return kind >= Kind::Tuple; }
};

// How Python code reaches element `i` of the structured argument `a` that
// `expr` names: "pair[0]", "p.x", "d['k']" (sema/arguments.cc).
std::string element_expression(const ArgSpec& a, size_t i, const std::string& expr);

struct BindRequest {
  std::shared_ptr<const SourceFile> file;
  std::string function_name;  // the def to compile (the file may hold more)
  std::vector<ArgSpec> args;
  std::vector<GlobalSpec> globals;
  bool static_shapes = true;
  std::optional<DType> index_dtype;  // nullopt: int32 unless a tensor is too large
  std::string dot_precision = "tf32";
  Precision precision = Precision::Fast;  // the `precision` setting
  // Whether the kernel runs in an interpret mode (DEUTERON_INTERPRET /
  // interpret=True, or TRITON_INTERPRET): breakpoint() in a tile loop needs one.
  bool interpret = false;
};

// How host code refers to a config-dependent value.
struct HostRewrite {
  enum class Kind { BlockSize, Tunable, Literal } kind = Kind::Literal;
  int index = -1;     // BlockSize
  std::string text;   // Tunable: name; Literal: Python text
};

struct HostStmt {
  const ast::Stmt* stmt = nullptr;  // verbatim host statement (or the device loop's For)
  int kernel = -1;                  // >= 0: this statement is device loop `kernel`
};

// A host-side symbol (dynamic size, runtime int) and how the wrapper computes it.
struct HostSymbol {
  std::string name;       // e.g. "x_size_0"
  std::string host_expr;  // e.g. "x.size(0)"
  bool at_entry = true;   // computed in the wrapper's prologue (from arguments)
  int after_stmt = -1;    // otherwise: computed right after this host statement (index into Program::host)
  // The value of a one-element tensor (sema/tensor_scalars.cc): the host
  // expression of that tensor.  Kernels get the tensor and read the value on
  // the device (no host sync); host_expr (its .item()) serves the host code,
  // e.g. the reference back end's loops.
  std::string device_tensor;
};

struct Program {
  std::shared_ptr<const SourceFile> file;
  std::unique_ptr<ast::Module> module;
  std::vector<std::unique_ptr<ast::Module>> helper_modules;  // inlined helpers' ASTs
  std::vector<std::shared_ptr<const SourceFile>> helper_files;  // their sources (for `# line` comments)
  const ast::FunctionDef* fn = nullptr;
  std::vector<ArgSpec> args;
  std::vector<HostStmt> host;
  std::map<const ast::Expr*, HostRewrite> rewrites;
  std::vector<std::unique_ptr<ir::DeviceKernel>> kernels;
  std::vector<BlockSizeSpec> block_sizes;
  std::vector<ReductionLoopSpec> reduction_loops;
  std::vector<TunableSpec> tunables;
  std::vector<HostSymbol> symbols;
  std::vector<std::string> used_globals;  // names the generated host code needs bound
  // Module-level Triton source the kernels call (hl.triton_kernel's @triton.jit functions), each once.
  std::vector<std::string> triton_definitions;
  DType index_dtype = DType::Int32;
  // int32 code only: the largest offsets (of tensors host code allocates,
  // symbolic in entry symbols) that must fit int32; the host function checks
  // them on entry and runs the int64 specialization when one does not.
  std::vector<SymInt> index_guards;
  // Sizes known only at run time that the kernels take as one (whole dims of
  // different tensors that meet, Helion's unified sizes): the host function
  // checks each pair equal before launching.
  std::vector<std::pair<SymInt, SymInt>> size_equalities;
  std::string dot_precision = "tf32";
  Precision precision = Precision::Fast;
  bool static_shapes = true;
  // What the function returns, as a Python annotation for torch.library
  // schemas: "torch.Tensor", "tuple[torch.Tensor, torch.Tensor]", "None".
  std::string return_annotation = "None";
  // Int arguments whose value was compiled in (hl.specialize(n), block_size=n): the
  // runtime adds their values to the specialization key.  Parameter names, in order seen;
  // hl.specialize of a tensor argument's size or stride (dynamic shapes) adds its host
  // expression, "x.size(1)" / "x.stride(0)".
  std::vector<std::string> specialized_args;
  // Call sites of torch's random functions in device code (torch.rand_like, ...):
  // the host function draws this many seeds from torch's generator per call.
  int rng_seed_count = 0;
  // Arguments host code writes in place (`x.zero_()`, `x[0] = 1`, `x += y`,
  // `out=x`, also through a view of x): listed as mutated in the operator's
  // schema beside those the kernels write (codegen/host_wrapper.cc: op_meta).
  std::set<int> host_mutated_args;
  // Arguments the kernel's text both reads and writes, by Helion's syntactic
  // rule (sema/read_written_args.cc): such a kernel has no range_num_stages
  // entries, as in Helion (Triton's pipeliner read ahead of the loop's writes).
  std::vector<std::string> read_and_written_args;
  // Per kernel: the axes of every device tensor its source expressions
  // compute (Helion's kernel_tensor_sizes: a flatten_loops entry is offered
  // only for a loop whose dims each of these holds all or none of).
  std::vector<std::vector<std::vector<int>>> expression_shapes;
  // Compile warnings, as (Helion's warning class name, message with the
  // file:line:col it is about): the Python side prints them to stderr as
  // Helion does (WARNING[Name]: ...) unless the kernel's ignore_warnings
  // names the class.
  std::vector<std::pair<std::string, std::string>> warnings;
  // hl.barrier() stands between two top-level loops: Helion runs the kernel
  // as one persistent launch with a grid-wide barrier, which needs a
  // persistent pid_type (sema/loop_phases.cc; ConfigSpec::barrier_phases).
  bool barrier_phases = false;
};

// Parses nothing: takes an already-parsed module.  Throws CompileError.
std::unique_ptr<Program> analyze(const BindRequest& request, std::unique_ptr<ast::Module> module);

// What host code folds one expression to, for tests that compare sema's
// constant folding with Python itself.  `text` is one Python expression
// over constants, builtins and the modules math and triton.  Unknown: sema
// leaves it to Python at run time.  Throws CompileError where folding
// reports an error (Python raises, or an int leaves int64).
struct FoldedValue {
  enum class Kind { Int, Float, Bool, None, Unknown } kind = Kind::Unknown;
  int64_t i = 0;
  double f = 0.0;
  bool b = false;
};
FoldedValue fold_host_expression(const std::string& text);

}  // namespace deuteron
