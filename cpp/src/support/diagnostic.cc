// Source locations and diagnostic formatting.
//
// Columns in spans are 1-based *byte* columns into the UTF-8 source line (a
// tab or a multi-byte character advances the column by its byte count).  Byte
// columns make spans trivially convertible to offsets, which the lexer and the
// f-string parser rely on.  When a diagnostic is rendered, the caret line is
// laid out by characters instead, so it lines up under non-ASCII text and tabs
// in a terminal.
#include "deuteron/diagnostic.h"

#include <algorithm>
#include <string_view>
#include <tuple>

namespace deuteron {

std::string SourceFile::line_text(int line) const {
  if (line < first_line) return "";
  int index = line - first_line;
  size_t begin = 0;
  for (int i = 0; i < index; ++i) {
    size_t nl = text.find('\n', begin);
    if (nl == std::string::npos) return "";
    begin = nl + 1;
  }
  if (begin > text.size()) return "";
  size_t end = text.find('\n', begin);
  if (end == std::string::npos) end = text.size();
  // A "\r\n" line ending is a line ending, not part of the line.
  if (end > begin && text[end - 1] == '\r') --end;
  return text.substr(begin, end - begin);
}

SourceSpan SourceSpan::merge(const SourceSpan& a, const SourceSpan& b) {
  if (!a.valid()) return b;
  if (!b.valid()) return a;
  SourceSpan out;
  if (std::tie(a.line, a.col) <= std::tie(b.line, b.col)) {
    out.line = a.line;
    out.col = a.col;
  } else {
    out.line = b.line;
    out.col = b.col;
  }
  if (std::tie(a.end_line, a.end_col) >= std::tie(b.end_line, b.end_col)) {
    out.end_line = a.end_line;
    out.end_col = a.end_col;
  } else {
    out.end_line = b.end_line;
    out.end_col = b.end_col;
  }
  return out;
}

namespace {

// True for bytes that start a UTF-8 sequence (or are ASCII).
bool is_lead_byte(unsigned char c) { return (c & 0xC0) != 0x80; }

// Appends the padding that puts a caret under byte column `col` (1-based) of
// `line`: tabs are copied so that the terminal expands them identically, and
// every other character becomes one space.
void append_padding(std::string& out, std::string_view line, int col) {
  size_t limit = std::min<size_t>(static_cast<size_t>(std::max(col - 1, 0)), line.size());
  for (size_t i = 0; i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c == '\t')
      out += '\t';
    else if (is_lead_byte(c))
      out += ' ';
  }
  // Columns past the end of the line (e.g. an error at end of line).
  for (int i = static_cast<int>(line.size()); i < col - 1; ++i) out += ' ';
}

// Number of characters (not bytes) in line[begin_col-1, end_col-1).
int char_width(std::string_view line, int begin_col, int end_col) {
  int width = 0;
  for (int c = begin_col; c < end_col; ++c) {
    size_t i = static_cast<size_t>(c - 1);
    if (i >= line.size() || is_lead_byte(static_cast<unsigned char>(line[i]))) ++width;
  }
  return width;
}

}  // namespace

std::string Diagnostic::format(const SourceFile* file) const {
  std::string filename = file ? file->filename : "<unknown>";
  std::string out = filename;
  if (span.valid()) {
    out += ':' + std::to_string(span.line) + ':' + std::to_string(span.col);
  }
  out += ": error: " + message;

  std::string line = (file && span.valid()) ? file->line_text(span.line) : "";
  if (span.valid() && !line.empty()) {
    std::string number = std::to_string(span.line);
    std::string gutter(std::max<size_t>(4, number.size()), ' ');
    out += "\n " + std::string(gutter.size() - number.size(), ' ') + number + " | " + line;
    out += "\n " + gutter + " | ";
    append_padding(out, line, span.col);
    out += '^';
    // On one line the '~'s run to the end of the span; a span that continues
    // on later lines is underlined to the end of its first line.
    int end_col = span.end_line == span.line ? span.end_col
                                             : static_cast<int>(line.size()) + 1;
    int tildes = char_width(line, span.col, end_col) - 1;
    if (tildes > 0) out += std::string(static_cast<size_t>(tildes), '~');
  }
  for (const std::string& note : notes) out += "\nnote: " + note;
  return out;
}

CompileError::CompileError(Diagnostic diag, std::shared_ptr<const SourceFile> file)
    : std::runtime_error(diag.format(file.get())),
      diag_(std::move(diag)),
      file_(std::move(file)),
      formatted_(what()) {}

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Generic:
      return "CompileError";
#define DEUTERON_ERROR_KIND_NAME(name) \
  case ErrorKind::name:                \
    return #name;
      DEUTERON_ERROR_KINDS(DEUTERON_ERROR_KIND_NAME)
#undef DEUTERON_ERROR_KIND_NAME
  }
  return "CompileError";
}

const std::vector<ErrorKind>& all_error_kinds() {
  static const std::vector<ErrorKind> kinds = {
      ErrorKind::Generic,
#define DEUTERON_ERROR_KIND_LIST(name) ErrorKind::name,
      DEUTERON_ERROR_KINDS(DEUTERON_ERROR_KIND_LIST)
#undef DEUTERON_ERROR_KIND_LIST
  };
  return kinds;
}

void raise_error(const std::shared_ptr<const SourceFile>& file, SourceSpan span,
                 std::string message, std::vector<std::string> notes) {
  raise_error(file, span, ErrorKind::Generic, std::move(message), std::move(notes));
}

void raise_error(const std::shared_ptr<const SourceFile>& file, SourceSpan span, ErrorKind kind,
                 std::string message, std::vector<std::string> notes) {
  Diagnostic diag;
  diag.span = span;
  diag.message = std::move(message);
  diag.notes = std::move(notes);
  diag.kind = kind;
  throw CompileError(std::move(diag), file);
}

}  // namespace deuteron
