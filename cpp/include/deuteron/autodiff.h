// Reverse-mode differentiation of a kernel (deuteron.experimental.backward).
//
// The backward of a bound kernel is another deuteron kernel, written as
// source text: for the forward's device loop it recomputes the forward values
// it needs, then propagates gradients from the grad_out loads (one per stored
// output) back to each input's load, and stores (or atomically adds) the
// input gradients.  The text is an ordinary kernel named `backward_kernel`,
// compiled through the normal path, so what runs is readable and the Triton
// code is deuteron's own.  See docs/architecture.md, "Autodiff".
#pragma once

#include <string>

#include "deuteron/sema.h"

namespace deuteron::autodiff {

// The source of `backward_kernel(<the forward's parameters>, <grad per returned
// tensor>)`, returning the gradient of every tensor parameter (a tuple, or
// the tensor alone when there is one).  Sizes are the bound kernel's
// (specialized like its shapes).  Throws CompileError (AutodiffNotSupported)
// naming the op and its line where the kernel uses something the transform
// cannot differentiate; it never returns a kernel with a wrong gradient.
std::string backward_source(const Program& program);

}  // namespace deuteron::autodiff
