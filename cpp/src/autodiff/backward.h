// The parts of the backward transform (autodiff.h) that its files share:
// how each tensor of the forward's device loop is seen by the backward kernel
// (roles.cc), the writer of forward values as kernel source (writer.cc) and
// the reverse sweep (adjoints.cc).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "deuteron/diagnostic.h"
#include "deuteron/ir.h"
#include "deuteron/sema.h"

namespace deuteron::autodiff {

// What a tensor parameter of the forward loop is to the backward.
enum class Role {
  Input,    // a tensor argument of the kernel: its loads are where gradients end
  Output,   // a tensor the kernel returns: its stores are where gradients start
  Scratch,  // anything else (a buffer host code allocated): its loads must read
            // a value stored earlier in the loop, which the backward recomputes
};

struct TensorRole {
  Role role = Role::Scratch;
  int arg = -1;            // Input: index of the forward parameter
  int output = -1;         // Output: position in the returned tuple
  std::string grad_name;   // Input: the gradient buffer; Output: the incoming gradient
  // Input read through a view host code made (`a_flat = a.view(-1)`): the
  // view's name and expression, which the backward's host code repeats for
  // the argument and (rooted at its gradient buffer) for the gradient.
  std::string view_name, view_expr;
  // The name the backward's device code reads the input by.
  const std::string& read_name(const std::vector<std::string>& params) const {
    return view_name.empty() ? params.at(arg) : view_name;
  }
};

struct Plan {
  const Program* program = nullptr;
  const ir::DeviceKernel* kernel = nullptr;
  std::vector<TensorRole> tensors;  // one per kernel tensor
  std::vector<std::string> params;  // the forward's parameter names
  std::vector<std::string> arg_grads;  // per parameter: its gradient buffer ("" for non-tensors)
  // A load of a tensor that an earlier store of the loop wrote at the same
  // index reads that store's value (store-to-load forwarding).
  std::map<const ir::Op*, const ir::Value*> forwarded;
  // Stores to outputs that a later store to the same index overwrites: they
  // receive no gradient.
  std::set<const ir::Op*> overwritten;
  std::vector<std::string> dim_names;  // per dim: the loop variable (tile and grid dims)
  // Tensors loaded inside an inner loop: their gradients are always added
  // atomically (a plain store in one loop body would overwrite another's).
  std::set<int> loaded_in_loops;
  // The kernel `kernel` points to: the forward's, with the inner loops that
  // carry more than an accumulation evaluated whole (whole_loops.cc).
  std::shared_ptr<const ir::DeviceKernel> owned_kernel;
  // Dims of the loops evaluated whole (now Full dims): the loop's `for`.
  std::map<int, SourceSpan> whole_loops;
  // Inner loops left as loops that do not only accumulate: why none could be
  // evaluated whole (the error when a gradient flows through one).
  std::map<const ir::Op*, std::string> kept_loops;
};

// The longest dim an inner loop may have to be evaluated whole: the row of
// its power-of-two block is held in registers at once (Triton's own limit on
// a block's elements is 1M, but a row this long already spills).
constexpr int64_t kMaxWholeLanes = 16384;

// An inner loop whose carried values only accumulate (adjoints.cc): the
// reverse sweep runs it again as a loop.
bool accumulates(const ir::Op& op);

// Replaces plan.kernel by a copy in which every inner loop that is not an
// accumulation, and spans a whole dim from 0 to its size, is one iteration
// over the whole dim (whole_loops.cc); records the loops it cannot take.
void evaluate_loops_whole(Plan& plan);

// Whether value v is defined in region r (by one of its ops, or as its argument).
bool defined_in(const ir::Value* v, const ir::Region* r);

// Fills Plan from the program's single device loop (throws for what the
// backward cannot take: several loops, broadcast input views, ...).
Plan make_plan(const Program& program);

[[noreturn]] void unsupported(const Plan& plan, SourceSpan span, const std::string& what);
// A size of the forward's (a constant, or its value at binding): the backward is specialized on them.
std::string size_text_or_fail(const Plan& plan, const SymInt& s);

// A gradient (or any device value) written in the backward source: its Python
// text and the dims of its type (an axis is kBroadcast where the value is the
// same along it).
struct Term {
  std::string text;
  std::vector<int> dims;
  DType dtype = DType::Float32;
};

// Writes the backward kernel's device statements.  Forward values are written
// on first use (with the values they need first), into `forward`; gradient
// statements into `backward`.
class Writer {
 public:
  explicit Writer(const Plan& plan) : plan_(plan), used_(&own_used_) {
    // Fresh variables never shadow a parameter, a loop variable or a buffer.
    used_->insert(plan.params.begin(), plan.params.end());
    used_->insert(plan.dim_names.begin(), plan.dim_names.end());
    used_->insert(plan.arg_grads.begin(), plan.arg_grads.end());
    for (const auto& t : plan.tensors) used_->insert(t.grad_name);
  }
  // The writer of an inner loop's body `region` (one iteration): values
  // defined outside it are the outer writer's (written before the loop).
  Writer(const Plan& plan, Writer& outer, const ir::Region& region)
      : plan_(plan), outer_(&outer), region_(&region), used_(outer.used_) {}

  // The Python text of forward value v (a variable, or a literal for constants).
  std::string value(const ir::Value* v);
  Term term(const ir::Value* v) { return Term{value(v), v->type.dims, v->type.dtype}; }
  // Assigns `text` to a fresh variable (in the backward section) and returns it.
  std::string bind(const std::string& text, const std::string& hint);
  // `[tile_m, :]` for a load or store.
  std::string index_text(const ir::Op& op);
  // `[tile_m, 32]`: a shape for hl.full & co.
  std::string shape_text(const std::vector<int>& dims);

  std::vector<std::string> forward, backward;
  // Gradient buffers (by name) that programs add into atomically.
  std::set<std::string> atomic_buffers;

 private:
  std::string emit_forward(const ir::Op& op);
  void write_loop(const ir::Op& op);
  std::string fresh(const std::string& hint);
  const Plan& plan_;
  std::map<const ir::Value*, std::string> names_;
  Writer* outer_ = nullptr;
  const ir::Region* region_ = nullptr;
  std::set<std::string> own_used_;
  std::set<std::string>* used_;
};

// The reverse sweep over the loop body: seeds from output stores, adjoint
// rules per op, and the stores of input gradients, written into `w`.
void write_gradients(const Plan& plan, Writer& w);

// `for tile_k in hl.tile(0, 64):` for the loop over dim d.
std::string loop_header(const Plan& plan, const std::vector<int>& dims, SourceSpan span);

// Python spelling of a literal and a dtype.
std::string literal_text(const ir::Literal& l);
std::string dtype_text(DType t);

}  // namespace deuteron::autodiff
