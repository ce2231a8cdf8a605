#include "python_writer.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <tuple>

#include "deuteron/sema.h"

namespace deuteron::codegen {

std::string py_float(double v) {
  if (std::isnan(v)) return "float(\"nan\")";
  if (std::isinf(v)) return v > 0 ? "float(\"inf\")" : "float(\"-inf\")";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string py_str(const std::string& s) {
  std::string out = "'";
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static const char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through: the module is UTF-8
        }
    }
  }
  return out + "'";
}

const char* python_infix(ir::BinaryFn f) {
  switch (f) {
    case ir::BinaryFn::Add: return " + ";
    case ir::BinaryFn::Sub: return " - ";
    case ir::BinaryFn::Mul: return " * ";
    case ir::BinaryFn::TrueDiv: return " / ";
    case ir::BinaryFn::BitAnd:
    case ir::BinaryFn::LogicalAnd: return " & ";
    case ir::BinaryFn::BitOr:
    case ir::BinaryFn::LogicalOr: return " | ";
    case ir::BinaryFn::BitXor: return " ^ ";
    case ir::BinaryFn::LShift: return " << ";
    case ir::BinaryFn::RShift: return " >> ";
    case ir::BinaryFn::Eq: return " == ";
    case ir::BinaryFn::Ne: return " != ";
    case ir::BinaryFn::Lt: return " < ";
    case ir::BinaryFn::Le: return " <= ";
    case ir::BinaryFn::Gt: return " > ";
    case ir::BinaryFn::Ge: return " >= ";
    case ir::BinaryFn::FloorDiv:
    case ir::BinaryFn::Mod:
    case ir::BinaryFn::Pow:
    case ir::BinaryFn::Maximum:
    case ir::BinaryFn::Minimum:
    case ir::BinaryFn::Atan2:
    case ir::BinaryFn::CopySign: return nullptr;
  }
  return nullptr;
}

void emit_source_lines(PythonWriter& w, const Program& program, const std::map<int, SourceSpan>& spans) {
  // Each span once; lines of inlined helper functions come from their own file.
  std::map<std::tuple<int, int, int>, int> index;
  std::string table, by_line;
  for (const auto& [gen_line, span] : spans) {
    auto key = std::make_tuple(span.line, span.col, span.end_col);
    auto it = index.find(key);
    if (it == index.end()) {
      const SourceFile* file = program.file.get();
      std::string text = file->line_text(span.line);
      for (size_t i = 0; text.empty() && i < program.helper_files.size(); ++i) {
        file = program.helper_files[i].get();
        text = file->line_text(span.line);
      }
      if (text.empty()) continue;
      const int end_col = span.end_line == span.line ? span.end_col : static_cast<int>(text.size()) + 1;
      it = index.emplace(key, static_cast<int>(index.size())).first;
      table += "    (" + py_str(file->filename) + ", " + std::to_string(span.line) + ", " + std::to_string(span.col) +
               ", " + std::to_string(end_col) + ", " + py_str(text) + "),\n";
    }
    by_line += (by_line.empty() ? "" : ", ") + std::to_string(gen_line) + ": " + std::to_string(it->second);
  }
  w.line("_deuteron_spans = [");
  if (!table.empty()) w.line_raw(table.substr(0, table.size() - 1));
  w.line("]");
  w.line("_deuteron_source_lines = {" + by_line + "}");
}

bool mentions_identifier(const std::string& text, const std::string& name) {
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t pos = text.find(name); pos != std::string::npos; pos = text.find(name, pos + 1)) {
    bool before = pos > 0 && ident(text[pos - 1]);
    bool after = pos + name.size() < text.size() && ident(text[pos + name.size()]);
    if (!before && !after) return true;
  }
  return false;
}

}  // namespace deuteron::codegen
