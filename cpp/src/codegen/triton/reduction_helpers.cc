// Float max/min/argmax/argmin reductions with PyTorch's NaN semantics.
//
// PyTorch's max/min (amax, amin, torch.max(x, dim)) return NaN for a row
// that holds a NaN, and argmax/argmin the index of the first NaN.  Triton 3.6's
// tl.max/tl.min reduce with maxnum/minnum (a NaN loses to any number) and
// have no propagate_nan argument; tl.argmax/tl.argmin compare with `>`/`<`,
// which are false against NaN.  So the emitter calls these helpers instead for
// floating inputs (integers have no NaN and keep tl.max & co.).
//
// On GPUs they are one tl.reduce with a NaN-aware combine function: as cheap
// as tl.max, which is itself a tl.reduce.  Triton's interpreter runs a
// tl.reduce with a combine function of its own one element at a time in
// Python (only tl.max/tl.min/tl.sum/... are vectorized), far too slow for the
// CPU tests, so there the same names get composites of tl.max/tl.min and a NaN
// flag.  As with the math helpers the choice is made when the module is
// imported; the module text is the same in both cases.
#include <map>

#include "kernel_emitter.h"

namespace deuteron::codegen {

namespace {

struct Flavor {
  const char* reduce;    // tl.max or tl.min
  const char* maximum;   // tl.maximum or tl.minimum
  const char* compare;   // > or <
  const char* identity;  // what a NaN lane becomes before tl.max / tl.min
};

const Flavor& flavor(const std::string& name) {
  static const Flavor kMax = {"tl.max", "tl.maximum", ">", "float(\"-inf\")"};
  static const Flavor kMin = {"tl.min", "tl.minimum", "<", "float(\"inf\")"};
  return name == "max" || name == "argmax" ? kMax : kMin;
}

void jit_def(PythonWriter& w, const std::string& signature) {
  w.blank();
  w.line("@triton.jit");
  w.line("def " + signature + ":");
}

// Under the interpreter: tl.max/tl.min over the numbers (NaN lanes replaced
// by the identity), then NaN where the row held one.  argmax: the first lane
// that equals the best value or is NaN (when the best is NaN, only NaN lanes).
void interpreted(PythonWriter& w, const std::string& name) {
  const Flavor& f = flavor(name);
  if (name == "max" || name == "min") {
    jit_def(w, "_deuteron_" + name + "(x, axis: tl.constexpr, keep_dims: tl.constexpr)");
    w.line("    has_nan = tl.max((x != x).to(tl.int8), axis, keep_dims=keep_dims) != 0");
    w.line(std::string("    best = ") + f.reduce + "(tl.where(x != x, " + f.identity + ", x), axis, keep_dims=keep_dims)");
    w.line("    return tl.where(has_nan, float(\"nan\"), best).to(x.dtype)");
    return;
  }
  std::string value = name == "argmax" ? "max" : "min";
  jit_def(w, "_deuteron_" + name + "(x, index, axis: tl.constexpr, keep_dims: tl.constexpr)");
  w.line("    best = _deuteron_" + value + "(x, axis, True)");
  w.line("    hit = (x == best) | (x != x)");
  w.line("    return tl.min(tl.where(hit, index, x.shape[axis]), axis, keep_dims=keep_dims)");
}

// On GPUs: one tl.reduce.  16-bit floats are reduced in float32 as tl.max
// does (the values are exact in either).
void compiled(PythonWriter& w, const std::string& name) {
  const Flavor& f = flavor(name);
  if (name == "max" || name == "min") {
    jit_def(w, "_deuteron_" + name + "_combine(a, b)");
    w.line(std::string("    return ") + f.maximum + "(a, b, propagate_nan=tl.PropagateNan.ALL)");
    jit_def(w, "_deuteron_" + name + "(x, axis: tl.constexpr, keep_dims: tl.constexpr)");
    w.line("    if x.dtype.primitive_bitwidth < 32:");
    w.line("        wide = tl.reduce(x.to(tl.float32), axis, _deuteron_" + name + "_combine, keep_dims=keep_dims)");
    w.line("        return wide.to(x.dtype)");
    w.line("    else:");
    w.line("        return tl.reduce(x, axis, _deuteron_" + name + "_combine, keep_dims=keep_dims)");
    return;
  }
  // NaN beats every number; equal values (two NaNs are equal here) keep the
  // smaller index, which makes the result the first occurrence.
  jit_def(w, "_deuteron_" + name + "_combine(v1, i1, v2, i2)");
  w.line("    nan1 = v1 != v1");
  w.line("    nan2 = v2 != v2");
  w.line(std::string("    better = (v1 ") + f.compare + " v2) | (nan1 & ~nan2)");
  w.line("    tie = (v1 == v2) | (nan1 & nan2)");
  w.line("    first = better | (tie & (i1 < i2))");
  w.line("    return tl.where(first, v1, v2), tl.where(first, i1, i2)");
  jit_def(w, "_deuteron_" + name + "(x, index, axis: tl.constexpr, keep_dims: tl.constexpr)");
  w.line("    _, i = tl.reduce((x, tl.broadcast_to(index, x.shape)), axis, _deuteron_" + name +
         "_combine, keep_dims=keep_dims)");
  w.line("    return i");
}

}  // namespace

void emit_reduction_helpers(PythonWriter& w, const std::set<std::string>& used) {
  if (used.empty()) return;
  // argmax's interpreted form calls the value reduction of its kind.
  std::set<std::string> all = used;
  if (used.count("argmax")) all.insert("max");
  if (used.count("argmin")) all.insert("min");
  // Values before indices: the interpreted argmax calls _deuteron_max.
  const char* kOrder[] = {"max", "min", "argmax", "argmin"};
  w.blank();
  w.blank();
  w.line("if triton.knobs.runtime.interpret:  # tl.reduce with a combine function runs per element there");
  w.indent();
  for (const char* n : kOrder)
    if (all.count(n)) interpreted(w, n);
  w.dedent();
  w.line("else:");
  w.indent();
  for (const char* n : kOrder)
    if (used.count(n)) compiled(w, n);
  w.dedent();
}

}  // namespace deuteron::codegen
