// The text of an InlineTriton op (hl.inline_triton, hl.inline_asm_elementwise)
// in the kernel: its template's placeholders replaced by the names the emitter
// gave the values, and its last statement, when the op has results, assigned
// to them.
#include <sstream>
#include <stdexcept>

#include "kernel_emitter.h"

namespace deuteron::codegen {

namespace {

std::string expand(const std::string& tmpl, const std::vector<std::string>& operands,
                   const std::vector<std::string>& tensors) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if ((c == '{' || c == '}') && i + 1 < tmpl.size() && tmpl[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    // Sema wrote the template: every single brace opens {i} or {tN}.
    size_t close = tmpl.find('}', i);
    std::string key = tmpl.substr(i + 1, close - i - 1);
    bool tensor = !key.empty() && key[0] == 't';
    size_t n = std::stoul(tensor ? key.substr(1) : key);
    out += tensor ? tensors.at(n) : operands.at(n);
    i = close;
  }
  return out;
}

// Where each line's bracket depth stands at its start (strings and comments
// skipped), so that a statement is told from the continuation of an expression.
std::vector<int> depth_at_start(const std::vector<std::string>& lines) {
  std::vector<int> depths;
  int depth = 0;
  for (const auto& l : lines) {
    depths.push_back(depth);
    char quote = 0;
    for (size_t i = 0; i < l.size(); ++i) {
      char c = l[i];
      if (quote) {
        if (c == '\\') ++i;
        else if (c == quote) quote = 0;
        continue;
      }
      if (c == '#') break;
      if (c == '\'' || c == '"') quote = c;
      else if (c == '(' || c == '[' || c == '{') ++depth;
      else if (c == ')' || c == ']' || c == '}') --depth;
    }
  }
  return depths;
}

}  // namespace

std::vector<std::string> inline_triton_lines(const std::string& tmpl, const std::vector<std::string>& operands,
                                             const std::vector<std::string>& tensors,
                                             const std::vector<std::string>& results) {
  std::vector<std::string> lines;
  std::stringstream ss(expand(tmpl, operands, tensors));
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  if (results.empty()) return lines;
  // The result is the last statement: the last line at depth 0 without indentation.
  std::vector<int> depth = depth_at_start(lines);
  size_t last = 0;
  for (size_t i = 0; i < lines.size(); ++i)
    if (depth[i] == 0 && !lines[i].empty() && lines[i][0] != ' ' && lines[i][0] != '\t' && lines[i][0] != '#')
      last = i;
  std::string lhs;
  for (const auto& r : results) lhs += (lhs.empty() ? "" : ", ") + r;
  lines[last] = lhs + " = " + lines[last];
  return lines;
}

}  // namespace deuteron::codegen
