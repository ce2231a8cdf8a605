// Tokenizer for the kernel language's Python subset.
//
// Produces the same token stream Python's own tokenizer would for the subset
// (NEWLINE, INDENT, DEDENT, NAME, NUMBER, STRING, OP, ENDMARKER), with implicit
// line joining inside brackets, backslash continuation, comments dropped, and
// f-strings kept as one STRING token (the parser splits them).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "deuteron/diagnostic.h"

namespace deuteron {

enum class TokenKind { Name, Number, String, Op, Newline, Indent, Dedent, EndMarker };

struct Token {
  TokenKind kind;
  std::string text;  // exact source text (for STRING: including prefix and quotes)
  SourceSpan span;
};

const char* token_kind_name(TokenKind k);

// Throws CompileError on malformed input (unterminated string, bad
// indentation, stray character, tab/space mix that Python rejects, ...).
std::vector<Token> tokenize(const std::shared_ptr<const SourceFile>& file);

// Tokenizes the bytes [begin, end) of file->text as if they were enclosed in
// brackets: newlines join lines, and no NEWLINE/INDENT/DEDENT tokens appear.
// The parser uses it for the expressions inside f-string replacement fields,
// so spans are absolute positions in `file`.  Ends with an EndMarker.
// A caller that knows where `begin` is -- its absolute line and the offset
// where that line starts -- passes them to save a scan of the text before it.
std::vector<Token> tokenize_fragment(const std::shared_ptr<const SourceFile>& file, size_t begin,
                                     size_t end, int begin_line = 0, size_t begin_line_start = 0);

// True if `name` is a Python keyword (`if`, `lambda`, `None`, ...); soft
// keywords (`match`, `case`, `type`, `_`) are ordinary names.
bool is_keyword(std::string_view name);

}  // namespace deuteron
