// Tokenizer for the kernel language's Python subset.
//
// Follows the structure of Python's tokenizer (logical lines, an indentation
// stack, bracket-based implicit line joining) but is written from the language
// reference, not from CPython's code.  Positions: lines are absolute
// (file->first_line based), columns are 1-based byte columns, spans are
// half-open.  The whole input is checked up front for things that may not
// appear anywhere (NUL bytes, malformed UTF-8, a carriage return that is not
// part of "\r\n"), so the scanners below can assume well-formed UTF-8.
#include "deuteron/lexer.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <string_view>

namespace deuteron {

const char* token_kind_name(TokenKind k) {
  switch (k) {
    case TokenKind::Name: return "NAME";
    case TokenKind::Number: return "NUMBER";
    case TokenKind::String: return "STRING";
    case TokenKind::Op: return "OP";
    case TokenKind::Newline: return "NEWLINE";
    case TokenKind::Indent: return "INDENT";
    case TokenKind::Dedent: return "DEDENT";
    case TokenKind::EndMarker: return "ENDMARKER";
  }
  return "?";
}

bool is_keyword(std::string_view name) {
  static constexpr std::array<std::string_view, 35> kKeywords = {
      "False", "None",   "True",    "and",      "as",     "assert", "async",
      "await", "break",  "class",   "continue", "def",    "del",    "elif",
      "else",  "except", "finally", "for",      "from",   "global", "if",
      "import", "in",    "is",      "lambda",   "nonlocal", "not",  "or",
      "pass",  "raise",  "return",  "try",      "while",  "with",   "yield"};
  return std::find(kKeywords.begin(), kKeywords.end(), name) != kKeywords.end();
}

namespace {

constexpr int kTabSize = 8;

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_non_ascii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool is_dec_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex_digit(char c) {
  return is_dec_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_oct_digit(char c) { return c >= '0' && c <= '7'; }
bool is_bin_digit(char c) { return c == '0' || c == '1'; }

// Length of the well-formed UTF-8 sequence at s[i] (1..4), storing its code
// point; 0 if the bytes there are not well-formed (overlong forms, surrogates
// and code points above U+10FFFF are rejected, as Python does).
int decode_utf8(std::string_view s, size_t i, uint32_t* cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  int len;
  uint32_t value, min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, value = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, value = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, value = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + static_cast<size_t>(len) > s.size()) return 0;
  for (int k = 1; k < len; ++k) {
    unsigned char b = byte(i + static_cast<size_t>(k));
    if ((b & 0xC0) != 0x80) return 0;
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  *cp = value;
  return len;
}

std::string hex_code_point(uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

// Non-ASCII characters that are clearly not letters (spaces, punctuation and
// symbols that arrive by copy-paste); anything else is taken as an attempt at
// a non-ASCII identifier, which gets the more helpful message.
bool is_non_letter(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 ||
         (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) || cp == 0xFEFF ||
         (cp >= 0xFF00 && cp <= 0xFF20);
}

// Valid string prefixes, lower-cased: r, u, f, b and the two-letter mixes.
bool is_string_prefix(std::string_view word) {
  if (word.empty() || word.size() > 2) return false;
  std::string lower;
  for (char c : word) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return lower == "r" || lower == "u" || lower == "f" || lower == "b" || lower == "br" ||
         lower == "rb" || lower == "fr" || lower == "rf";
}

constexpr std::array<std::string_view, 5> kOps3 = {"**=", "//=", ">>=", "<<=", "..."};
constexpr std::array<std::string_view, 19> kOps2 = {"**", "//", ">>", "<<", "<=", ">=", "==",
                                                    "!=", "->", "+=", "-=", "*=", "/=", "%=",
                                                    "&=", "|=", "^=", "@=", ":="};
constexpr std::string_view kOps1 = "()[]{},:;.+-*/%&|^~<>=@";

class Lexer {
 public:
  // `line`/`line_start` locate `begin` (line 0: find them by scanning).
  Lexer(const std::shared_ptr<const SourceFile>& file, size_t begin, size_t end, bool fragment,
        int line = 0, size_t line_start = 0)
      : file_(file), src_(file->text), begin_(begin), pos_(begin), end_(end), fragment_(fragment) {
    if (line > 0) {
      line_ = line;
      line_start_ = line_start;
    } else {
      auto begin_it = src_.begin() + static_cast<long>(begin);
      line_ = file->first_line + static_cast<int>(std::count(src_.begin(), begin_it, '\n'));
      size_t nl = begin == 0 ? std::string_view::npos : src_.rfind('\n', begin - 1);
      line_start_ = nl == std::string_view::npos ? 0 : nl + 1;
    }
    begin_line_ = line_;
    begin_line_start_ = line_start_;
    at_line_start_ = !fragment;
  }

  std::vector<Token> run();

 private:
  // A position: byte offset plus the line it is on and that line's start.
  struct Mark {
    size_t offset;
    int line;
    size_t line_start;
  };

  Mark mark() const { return {pos_, line_, line_start_}; }
  SourceSpan span_from(const Mark& m) const {
    return {m.line, static_cast<int>(m.offset - m.line_start) + 1, line_,
            static_cast<int>(pos_ - line_start_) + 1};
  }
  SourceSpan span_of(const Mark& m, size_t length) const {
    int col = static_cast<int>(m.offset - m.line_start) + 1;
    return {m.line, col, m.line, col + static_cast<int>(length)};
  }
  Mark mark_at(size_t offset) const;
  Mark eof_mark() const;

  [[noreturn]] void error(SourceSpan span, std::string message,
                          std::vector<std::string> notes = {}) const {
    raise_error(file_, span, std::move(message), std::move(notes));
  }

  char peek(size_t ahead = 0) const {
    return pos_ + ahead < end_ ? src_[pos_ + ahead] : '\0';
  }
  // Consumes the "\n" or "\r\n" at pos_ and moves to the next line.
  void consume_newline() {
    pos_ += src_[pos_] == '\r' ? 2 : 1;
    ++line_;
    line_start_ = pos_;
  }
  bool at_newline() const {
    return pos_ < end_ && (src_[pos_] == '\n' || (src_[pos_] == '\r' && peek(1) == '\n'));
  }

  void check_input() const;
  bool start_line();
  void indent_to(int col, int alt_col, const Mark& line_mark);
  void end_line();
  void skip_comment();
  void continuation();
  void lex_name_or_string();
  void lex_string(const Mark& m);
  void lex_number();
  bool digit_part(bool (*valid)(char), const Mark& m, const char* kind);
  [[noreturn]] void bad_number(const Mark& m, const char* kind);
  [[noreturn]] void bad_digit(const char* kind);
  void lex_op();
  [[noreturn]] void bad_character();
  void emit(TokenKind kind, const Mark& m);
  void emit_at(TokenKind kind, std::string text, SourceSpan span);
  void finish();

  const std::shared_ptr<const SourceFile>& file_;
  std::string_view src_;
  size_t begin_, pos_, end_;
  bool fragment_;
  int line_ = 1;
  size_t line_start_ = 0;
  int begin_line_ = 1;
  size_t begin_line_start_ = 0;
  bool at_line_start_ = true;
  bool line_has_tokens_ = false;
  // Indentation stack measured with tab stops of 8, and the same with tabs
  // counted as 1: the two must order every pair of lines the same way, or the
  // meaning would depend on the reader's tab width (Python's TabError rule).
  std::vector<int> indents_{0};
  std::vector<int> alt_indents_{0};
  std::vector<Token> brackets_;  // open brackets, innermost last
  std::vector<Token> out_;
};

// The position of any offset in the range, counted from the range start (used
// for errors found outside the main scan, which tracks positions itself).
Lexer::Mark Lexer::mark_at(size_t offset) const {
  Mark m{begin_, begin_line_, begin_line_start_};
  for (size_t i = begin_; i < offset; ++i) {
    if (src_[i] == '\n') {
      ++m.line;
      m.line_start = i + 1;
    }
  }
  m.offset = offset;
  return m;
}

// Where end-of-input tokens and errors point: just past the last character,
// but on the last line that has text (a trailing newline does not start a
// line of its own), so the position always lies inside the input.
Lexer::Mark Lexer::eof_mark() const {
  if (fragment_ || end_ == begin_ || src_[end_ - 1] != '\n') return mark();
  size_t nl = end_ - 1;
  if (nl > begin_ && src_[nl - 1] == '\r') --nl;
  return mark_at(nl);
}

void Lexer::check_input() const {
  for (size_t i = begin_; i < end_;) {
    char c = src_[i];
    if (c == '\0') {
      error(span_of(mark_at(i), 1), "source code cannot contain null bytes");
    }
    if (c == '\r' && (i + 1 >= end_ || src_[i + 1] != '\n')) {
      error(span_of(mark_at(i), 1), "carriage return without a line feed",
            {"use '\\n' or '\\r\\n' line endings"});
    }
    uint32_t cp;
    int len = decode_utf8(src_.substr(0, end_), i, &cp);
    if (len == 0) {
      char buf[8];
      unsigned byte = static_cast<unsigned char>(c);
      std::snprintf(buf, sizeof buf, "0x%02X", byte);
      error(span_of(mark_at(i), 1), std::string("invalid UTF-8 byte ") + buf + " in source");
    }
    i += static_cast<size_t>(len);
  }
}

std::vector<Token> Lexer::run() {
  check_input();
  // A UTF-8 byte order mark at the very start is not part of the program.
  if (!fragment_ && pos_ == 0 && src_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  while (pos_ < end_) {
    if (at_line_start_ && !start_line()) continue;
    char c = src_[pos_];
    if (at_newline()) {
      end_line();
    } else if (c == ' ' || c == '\t' || c == '\f') {
      ++pos_;
    } else if (c == '#') {
      skip_comment();
    } else if (c == '\\') {
      continuation();
    } else if (is_ident_start(c)) {
      lex_name_or_string();
    } else if (is_dec_digit(c) || (c == '.' && is_dec_digit(peek(1)))) {
      lex_number();
    } else if (c == '"' || c == '\'') {
      lex_string(mark());
    } else if (is_non_ascii(c)) {
      bad_character();
    } else {
      lex_op();
    }
  }
  finish();
  return std::move(out_);
}

// At the start of a physical line outside brackets: measures indentation.
// Returns false when the line is blank or comment-only (it is consumed and
// produces no tokens, not even NEWLINE).
bool Lexer::start_line() {
  Mark line_mark = mark();
  int col = 0, alt_col = 0;
  for (; pos_ < end_; ++pos_) {
    char c = src_[pos_];
    if (c == ' ') {
      ++col, ++alt_col;
    } else if (c == '\t') {
      col = (col / kTabSize + 1) * kTabSize;
      ++alt_col;
    } else if (c == '\f') {
      col = alt_col = 0;  // a form feed resets the count, as in Python
    } else {
      break;
    }
  }
  if (pos_ >= end_) return false;
  if (src_[pos_] == '#') skip_comment();
  if (pos_ >= end_) return false;
  if (at_newline()) {
    consume_newline();
    return false;
  }
  at_line_start_ = false;
  // Like CPython, a line that starts with a continuation backslash leaves the
  // indentation alone: its tokens continue at the current level.
  if (src_[pos_] != '\\') indent_to(col, alt_col, line_mark);
  return true;
}

void Lexer::indent_to(int col, int alt_col, const Mark& line_mark) {
  SourceSpan indent_span = span_from(line_mark);
  auto tab_error = [&] {
    error(indent_span, "inconsistent use of tabs and spaces in indentation",
          {"indent with spaces only, or make every line use the same tabs"});
  };
  if (col == indents_.back()) {
    if (alt_col != alt_indents_.back()) tab_error();
    return;
  }
  if (col > indents_.back()) {
    if (alt_col <= alt_indents_.back()) tab_error();
    indents_.push_back(col);
    alt_indents_.push_back(alt_col);
    emit_at(TokenKind::Indent,
            std::string(src_.substr(line_mark.offset, pos_ - line_mark.offset)), indent_span);
    return;
  }
  Mark here = mark();
  while (col < indents_.back()) {
    indents_.pop_back();
    alt_indents_.pop_back();
    emit_at(TokenKind::Dedent, "", span_of(here, 0));
  }
  if (col != indents_.back()) {
    error(indent_span, "unindent does not match any outer indentation level");
  }
  if (alt_col != alt_indents_.back()) tab_error();
}

// A newline outside brackets ends the logical line (if it had tokens); inside
// brackets it is just whitespace.
void Lexer::end_line() {
  bool logical_end = !fragment_ && brackets_.empty();
  if (logical_end && line_has_tokens_) {
    Mark m = mark();
    size_t len = src_[pos_] == '\r' ? 2 : 1;
    emit_at(TokenKind::Newline, std::string(src_.substr(pos_, len)), span_of(m, len));
  }
  consume_newline();
  if (logical_end) at_line_start_ = true;
}

void Lexer::skip_comment() {
  while (pos_ < end_ && !at_newline()) ++pos_;
}

void Lexer::continuation() {
  Mark m = mark();
  ++pos_;
  if (pos_ >= end_) {
    error(span_of(m, 1), "unexpected end of input after line continuation character");
  }
  if (!at_newline()) {
    error(span_of(m, 1), "unexpected character after line continuation character",
          {"a backslash outside a string must be the last character on its line"});
  }
  consume_newline();
}

void Lexer::lex_name_or_string() {
  Mark m = mark();
  size_t p = pos_;
  while (p < end_ && is_ident_char(src_[p])) ++p;
  std::string_view word = src_.substr(pos_, p - pos_);
  if (p < end_ && (src_[p] == '\'' || src_[p] == '"') && is_string_prefix(word)) {
    pos_ = p;
    lex_string(m);
    return;
  }
  pos_ = p;
  if (pos_ < end_ && is_non_ascii(src_[pos_])) bad_character();
  emit(TokenKind::Name, m);
}

// A non-ASCII character outside a string or comment.  Punctuation-like
// characters are reported alone; a letter-like one is reported with the whole
// identifier around it, so the caret covers e.g. all of `café`.
void Lexer::bad_character() {
  uint32_t cp;
  size_t len = static_cast<size_t>(decode_utf8(src_, pos_, &cp));
  if (is_non_letter(cp)) {
    error(span_of(mark(), len), "invalid character '" + std::string(src_.substr(pos_, len)) +
                                    "' (" + hex_code_point(cp) + ")");
  }
  // Letter-like: ASCII identifier characters and non-ASCII letters.
  auto identifier_at = [&](size_t i) {
    if (is_ident_char(src_[i])) return true;
    if (!is_non_ascii(src_[i])) return false;
    size_t lead = i;
    while (lead > line_start_ && (static_cast<unsigned char>(src_[lead]) & 0xC0) == 0x80) --lead;
    uint32_t c;
    return decode_utf8(src_, lead, &c) > 0 && !is_non_letter(c);
  };
  size_t start = pos_;
  while (start > line_start_ && start > begin_ && identifier_at(start - 1)) --start;
  size_t stop = pos_;
  while (stop < end_ && identifier_at(stop)) ++stop;
  Mark m{start, line_, line_start_};
  error(span_of(m, stop - start),
        "non-ASCII identifiers are not supported: '" +
            std::string(src_.substr(start, stop - start)) + "'",
        {"kernel identifiers must be ASCII"});
}

// pos_ is at the opening quote; m marks the start of the prefix.
void Lexer::lex_string(const Mark& m) {
  char quote = src_[pos_];
  bool triple = peek(1) == quote && peek(2) == quote;
  size_t open_len = triple ? 3 : 1;
  size_t prefix_len = pos_ - m.offset;
  pos_ += open_len;
  for (;;) {
    if (pos_ >= end_) {
      if (triple) {
        error(span_of(m, prefix_len + open_len), "unterminated triple-quoted string literal");
      }
      error(span_from(m), "unterminated string literal");
    }
    char c = src_[pos_];
    if (c == '\\') {
      ++pos_;
      if (pos_ >= end_) continue;  // reported as unterminated above
      if (at_newline()) {
        consume_newline();  // an escaped newline continues the string
      } else {
        uint32_t cp;
        pos_ += static_cast<size_t>(decode_utf8(src_, pos_, &cp));
      }
      continue;
    }
    if (at_newline()) {
      if (!triple) error(span_from(m), "unterminated string literal");
      consume_newline();
      continue;
    }
    if (c == quote && (!triple || (peek(1) == quote && peek(2) == quote))) {
      pos_ += open_len;
      break;
    }
    uint32_t cp;
    pos_ += static_cast<size_t>(decode_utf8(src_, pos_, &cp));
  }
  emit(TokenKind::String, m);
}

[[noreturn]] void Lexer::bad_number(const Mark& m, const char* kind) {
  // The whole malformed word is reported, e.g. all of `1_000abc`.
  auto in_word = [&](char c) { return is_ident_char(c) || is_non_ascii(c) || c == '.'; };
  while (pos_ < end_ && in_word(src_[pos_])) ++pos_;
  if (pos_ == m.offset) ++pos_;
  error(span_from(m), std::string("invalid ") + kind + " literal");
}

// A decimal digit at pos_ that the literal's base does not allow (0b2, 0o8).
[[noreturn]] void Lexer::bad_digit(const char* kind) {
  error(span_of(mark(), 1), std::string("invalid digit '") + peek() + "' in " + kind + " literal");
}

// Consumes `digit (_? digit)*`; returns false (consuming nothing) if pos_ is
// not at a digit.  An underscore must sit between two digits.
bool Lexer::digit_part(bool (*valid)(char), const Mark& m, const char* kind) {
  if (pos_ >= end_ || !valid(src_[pos_])) return false;
  ++pos_;
  while (pos_ < end_) {
    char c = src_[pos_];
    if (c == '_') {
      if (!valid(peek(1))) bad_number(m, kind);
      pos_ += 2;
    } else if (valid(c)) {
      ++pos_;
    } else {
      break;
    }
  }
  return true;
}

void Lexer::lex_number() {
  Mark m = mark();
  char second = peek(1);
  if (src_[pos_] == '0' && second != '\0' && std::string_view("xXoObB").find(second) !=
                                                 std::string_view::npos) {
    bool (*valid)(char) = is_hex_digit;
    const char* kind = "hexadecimal";
    if (second == 'o' || second == 'O') valid = is_oct_digit, kind = "octal";
    if (second == 'b' || second == 'B') valid = is_bin_digit, kind = "binary";
    pos_ += 2;
    if (peek() == '_') ++pos_;  // "0x_ff" is allowed
    if (!digit_part(valid, m, kind)) {
      if (is_dec_digit(peek())) bad_digit(kind);
      bad_number(m, kind);
    }
    if (is_dec_digit(peek())) bad_digit(kind);
    if (pos_ < end_ && (is_ident_char(peek()) || is_non_ascii(peek()))) bad_number(m, kind);
    emit(TokenKind::Number, m);
    return;
  }

  bool is_float = false;
  digit_part(is_dec_digit, m, "decimal");
  size_t int_end = pos_;
  if (peek() == '.') {
    ++pos_;
    is_float = true;
    digit_part(is_dec_digit, m, "decimal");
  }
  if (peek() == 'e' || peek() == 'E') {
    ++pos_;
    if (peek() == '+' || peek() == '-') ++pos_;
    if (!digit_part(is_dec_digit, m, "decimal")) bad_number(m, "decimal");
    is_float = true;
  }
  if (peek() == 'j' || peek() == 'J') {
    ++pos_;
    error(span_from(m), "complex literals are not supported",
          {"kernels compute on real numbers only"});
  }
  if (pos_ < end_ && (is_ident_char(peek()) || is_non_ascii(peek()))) bad_number(m, "decimal");
  if (!is_float && src_[m.offset] == '0') {
    std::string_view digits = src_.substr(m.offset, int_end - m.offset);
    if (digits.find_first_not_of("0_") != std::string_view::npos) {
      error(span_from(m), "leading zeros in decimal integer literals are not permitted",
            {"use an 0o prefix for octal integers"});
    }
  }
  emit(TokenKind::Number, m);
}

void Lexer::lex_op() {
  Mark m = mark();
  std::string_view rest = src_.substr(pos_, std::min<size_t>(3, end_ - pos_));
  size_t len = 0;
  for (std::string_view op : kOps3) {
    if (rest.substr(0, 3) == op) len = 3;
  }
  if (len == 0) {
    for (std::string_view op : kOps2) {
      if (rest.substr(0, 2) == op) len = 2;
    }
  }
  if (len == 0 && kOps1.find(rest[0]) != std::string_view::npos) len = 1;
  if (len == 0) {
    unsigned char c = static_cast<unsigned char>(rest[0]);
    std::string shown = c >= 0x20 && c < 0x7F ? "'" + std::string(1, rest[0]) + "' " : "";
    error(span_of(m, 1), "invalid character " + shown + "(" + hex_code_point(c) + ")");
  }
  pos_ += len;
  std::string_view op = src_.substr(m.offset, len);
  if (op == "(" || op == "[" || op == "{") {
    emit(TokenKind::Op, m);
    brackets_.push_back(out_.back());
    return;
  }
  if (op == ")" || op == "]" || op == "}") {
    if (brackets_.empty()) error(span_from(m), "unmatched '" + std::string(op) + "'");
    const Token& open = brackets_.back();
    static constexpr std::string_view kPairs = "()[]{}";
    char expected = kPairs[kPairs.find(open.text[0]) + 1];
    if (op[0] != expected) {
      error(span_from(m),
            "closing bracket '" + std::string(op) + "' does not match opening bracket '" +
                open.text + "'",
            {"the '" + open.text + "' was opened at line " + std::to_string(open.span.line) +
             ", column " + std::to_string(open.span.col)});
    }
    brackets_.pop_back();
  }
  emit(TokenKind::Op, m);
}

void Lexer::emit(TokenKind kind, const Mark& m) {
  emit_at(kind, std::string(src_.substr(m.offset, pos_ - m.offset)), span_from(m));
}

void Lexer::emit_at(TokenKind kind, std::string text, SourceSpan span) {
  out_.push_back(Token{kind, std::move(text), span});
  if (kind != TokenKind::Newline && kind != TokenKind::Indent && kind != TokenKind::Dedent) {
    line_has_tokens_ = true;
  } else if (kind == TokenKind::Newline) {
    line_has_tokens_ = false;
  }
}

void Lexer::finish() {
  if (!brackets_.empty()) {
    const Token& open = brackets_.back();
    error(open.span, "'" + open.text + "' was never closed");
  }
  Mark eof = eof_mark();
  SourceSpan eof_span = span_of(eof, 0);
  if (!fragment_ && line_has_tokens_) emit_at(TokenKind::Newline, "", eof_span);
  while (indents_.size() > 1) {
    indents_.pop_back();
    emit_at(TokenKind::Dedent, "", eof_span);
  }
  emit_at(TokenKind::EndMarker, "", eof_span);
}

}  // namespace

std::vector<Token> tokenize(const std::shared_ptr<const SourceFile>& file) {
  DEUTERON_CHECK(file != nullptr, "tokenize needs a source file");
  return Lexer(file, 0, file->text.size(), /*fragment=*/false).run();
}

std::vector<Token> tokenize_fragment(const std::shared_ptr<const SourceFile>& file, size_t begin,
                                     size_t end, int begin_line, size_t begin_line_start) {
  DEUTERON_CHECK(file != nullptr && begin <= end && end <= file->text.size(),
                 "bad fragment range");
  DEUTERON_CHECK(begin_line <= 0 || begin_line_start <= begin, "bad fragment position");
  return Lexer(file, begin, end, /*fragment=*/true, begin_line, begin_line_start).run();
}

}  // namespace deuteron
