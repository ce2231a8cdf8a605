// Writes indented Python source line by line.
#pragma once

#include <string>

#include "deuteron/ir.h"

namespace deuteron::codegen {

class PythonWriter {
 public:
  void line(const std::string& s) {
    if (s.empty()) {
      out_ += "\n";
      return;
    }
    out_.append(static_cast<size_t>(indent_) * 4, ' ');
    out_ += s;
    out_ += "\n";
  }
  void blank() { out_ += "\n"; }
  // A line that already carries its indentation.
  void line_raw(const std::string& s) {
    out_ += s;
    out_ += "\n";
  }
  void indent() { ++indent_; }
  void dedent() { --indent_; }
  int level() const { return indent_; }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
  int indent_ = 0;
};

// Python literal for a double: shortest repr that round-trips; inf/nan as
// float("inf") etc. (valid both in Python and inside @triton.jit code).
std::string py_float(double v);

// A Python string literal in single quotes, as repr() writes most strings
// ('tensor value: '): the generated code reads like what Python prints.
std::string py_str(const std::string& s);

// The Python operator both back ends spell a binary op with (" + ", " == "),
// the same for torch tensors and Triton blocks; nullptr for the ops each
// back end spells as a call of its own (torch.pow, tl.maximum, ...).
const char* python_infix(ir::BinaryFn f);

}  // namespace deuteron::codegen
