// Scalars read from tensors: `t.item()`, and a one-element tensor where a
// number is expected (a loop bound: `hl.tile(num_elements)`, `hl.tile(end[0])`
// is an ordinary load).
//
// On the device the scalar is a load of the tensor's one element, so a kernel
// sees what an earlier kernel of the same call wrote there.  On the host it
// is a runtime value: an integer becomes a host symbol.  Kernels that use the
// symbol get the tensor (an argument or a view of one) and load the value
// themselves, so no host sync is needed; a top-level loop bounded by it
// therefore needs a persistent launch (ConfigSpec::data_dependent_grid,
// Helion's rule), whose programs cover what the value asks for.  The host
// function reads it (`t.item()`) only where host code needs it: the reference
// back end's loops, a tensor the host code made.  A float or bool is a scalar
// kernel argument read on the host.  None is part of the specialization key:
// one compiled kernel serves every value.
#include "analyzer.h"

namespace deuteron::sema {

SValue Analyzer::tensor_scalar(const SValue& tensor, SourceSpan span, const std::string& what) {
  const HostTensor& t = *tensor.tensor;
  SymInt numel = 1;
  for (const auto& s : t.sizes) numel = numel * s;
  if (numel.is_constant() && numel.constant() != 1)
    error(span, what + ": the tensor '" + t.expr + "' has " + numel.str() + " elements, not one",
          {"index it to the element you mean (" + t.expr + "[0]) or pass a tensor of one element"});
  if (in_device()) {
    IndexParts zeros;
    for (size_t d = 0; d < t.sizes.size(); ++d) zeros.emplace_back(SValue::integer(0), span);
    return load(tensor, zeros, span, nullptr, "");
  }
  // The host function reaches the tensor by its variable, or, for a global or
  // a closure tensor of a function argument, by the expression sema recorded.
  std::string base = t.host_expr.empty() ? t.expr : t.host_expr;
  if (base.empty() && !t.source_expr.empty() && t.source_stmt == static_cast<int>(program_->host.size()))
    base = "(" + t.source_expr + ")";
  if (base.empty())
    error(span, what + ": deuteron cannot read this tensor's value on the host here",
          {"assign the tensor to a variable first (v = ...; v.item())"});
  const std::string reach = base + ".item()";
  if (is_floating(t.dtype) || t.dtype == DType::Bool) {
    SValue v = t.dtype == DType::Bool ? SValue::boolean(false) : SValue::floating(0.0);
    v.runtime_expr = reach;
    return v;
  }
  // Read before the statement being analyzed (program_->host holds the ones
  // before it): at entry when it is the first.  The tensor exists there, since
  // this statement names it.
  std::string sym = symbol_for(python_identifier(t.expr) + "_item");
  // Kernels read it on the device from the tensor when that is an argument or
  // a view of one (on the arguments' device); a tensor the host code made may
  // be on the CPU: its value is read on the host.
  HostSymbol hs{sym, reach, program_->host.empty(), static_cast<int>(program_->host.size()) - 1,
                t.base_arg >= 0 ? base : ""};
  program_->symbols.push_back(hs);
  return SValue::integer(SymInt::symbol(sym));
}

}  // namespace deuteron::sema
