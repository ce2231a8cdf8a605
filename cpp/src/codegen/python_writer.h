// Writes indented Python source line by line.
#pragma once

#include <map>
#include <string>

#include "deuteron/ir.h"

namespace deuteron {
struct Program;
}

namespace deuteron::codegen {

class PythonWriter {
 public:
  void line(const std::string& s) {
    record();
    if (s.empty()) {
      out_ += "\n";
      return;
    }
    out_.append(static_cast<size_t>(indent_) * 4, ' ');
    out_ += s;
    out_ += "\n";
  }
  void blank() {
    ++lines_;
    out_ += "\n";
  }
  // A line that already carries its indentation (or several lines).
  void line_raw(const std::string& s) {
    for (char c : s) lines_ += c == '\n';
    record();
    out_ += s;
    out_ += "\n";
  }
  // The kernel source span that the lines written from now on compute (an
  // op's): the module's line table maps them back to the user's source when
  // they raise (codegen::emit_source_lines).  An invalid span records none.
  void set_span(SourceSpan s) { span_ = s; }
  // 1-based line of the module -> span, for the lines written with one.
  const std::map<int, SourceSpan>& spans() const { return spans_; }
  void indent() { ++indent_; }
  void dedent() { --indent_; }
  int level() const { return indent_; }
  const std::string& str() const { return out_; }

 private:
  void record() {
    ++lines_;
    if (span_.valid()) spans_[lines_] = span_;
  }

  std::string out_;
  int indent_ = 0;
  int lines_ = 0;
  SourceSpan span_;
  std::map<int, SourceSpan> spans_;
};

// `_deuteron_spans` (each source span the module's lines compute: file, line,
// column, end column and the line's text) and `_deuteron_source_lines` (a
// line of the module -> its span's index): the runtime names the kernel's
// source line when the module raises (deuteron.runtime.source_lines).
void emit_source_lines(PythonWriter& w, const Program& program, const std::map<int, SourceSpan>& spans);

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

// Whether Python text `text` names `name` as a whole identifier.
bool mentions_identifier(const std::string& text, const std::string& name);

}  // namespace deuteron::codegen
