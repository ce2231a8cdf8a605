// Recursive-descent parser for the kernel language's Python subset.
//
// The grammar follows Python's (3.8-3.11 flavour, f-strings as in 3.11 except
// that backslashes are allowed inside nested string literals).  Constructs
// outside the subset are recognised on purpose and rejected with a message
// that names them and, where there is one, the alternative.
//
// Safety on hostile input: every recursive production that can nest without
// bound passes through a DepthGuard (limit kMaxParserNesting), and every
// expression node's height is checked against kMaxAstDepth as it is built
// (left-associative chains such as `a + b + c ...` or `a.b.c ...` grow the
// tree without recursion in the parser), so later recursive passes over the
// AST cannot overflow the stack either.
#include "deuteron/parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "deuteron/lexer.h"
#include "deuteron/utf8.h"
#include "desugar.h"

namespace deuteron {
namespace {

using ast::Body;
using ast::Expr;
using ast::ExprKind;
using ast::ExprPtr;
using ast::Stmt;
using ast::StmtPtr;

// Stack discipline: the functions on the recursive descent path keep small
// frames (sanitizer builds give every addressable local a redzone, so an
// inlined error message costs hundreds of bytes per nesting level).  Helpers
// that are not themselves recursive are kept out of line (NOINLINE), and
// error paths take `const char*` and build their strings out of line (COLD).
#define NOINLINE [[gnu::noinline]]
#define COLD [[gnu::noinline, gnu::cold]]

// Calls fn(const Expr*) for each direct child expression of e.
template <typename F>
void for_each_child(const Expr& e, F&& fn) {
  auto visit = [&](const ExprPtr& p) {
    if (p) fn(p.get());
  };
  switch (e.kind) {
    case ExprKind::Name:
    case ExprKind::Constant:
      break;
    case ExprKind::FString:
      for (const auto& part : ast::cast<ast::FString>(&e)->parts) visit(part.value);
      break;
    case ExprKind::BinOp: {
      const auto* n = ast::cast<ast::BinOp>(&e);
      visit(n->left);
      visit(n->right);
      break;
    }
    case ExprKind::UnaryOp:
      visit(ast::cast<ast::UnaryOp>(&e)->operand);
      break;
    case ExprKind::BoolOp:
      for (const auto& v : ast::cast<ast::BoolOp>(&e)->values) visit(v);
      break;
    case ExprKind::Compare: {
      const auto* n = ast::cast<ast::Compare>(&e);
      visit(n->left);
      for (const auto& c : n->comparators) visit(c);
      break;
    }
    case ExprKind::Call: {
      const auto* n = ast::cast<ast::Call>(&e);
      visit(n->func);
      for (const auto& a : n->args) visit(a);
      for (const auto& k : n->keywords) visit(k.value);
      break;
    }
    case ExprKind::Attribute:
      visit(ast::cast<ast::Attribute>(&e)->value);
      break;
    case ExprKind::Subscript: {
      const auto* n = ast::cast<ast::Subscript>(&e);
      visit(n->value);
      visit(n->index);
      break;
    }
    case ExprKind::Slice: {
      const auto* n = ast::cast<ast::Slice>(&e);
      visit(n->lower);
      visit(n->upper);
      visit(n->step);
      break;
    }
    case ExprKind::Tuple:
      for (const auto& v : ast::cast<ast::Tuple>(&e)->elts) visit(v);
      break;
    case ExprKind::List:
      for (const auto& v : ast::cast<ast::List>(&e)->elts) visit(v);
      break;
    case ExprKind::IfExp: {
      const auto* n = ast::cast<ast::IfExp>(&e);
      visit(n->test);
      visit(n->body);
      visit(n->orelse);
      break;
    }
    case ExprKind::Starred:
      visit(ast::cast<ast::Starred>(&e)->value);
      break;
    case ExprKind::Lambda: {
      const auto* n = ast::cast<ast::Lambda>(&e);
      for (const auto& a : n->args) visit(a.default_value);
      visit(n->body);  // (`*name` and `**name` have no defaults)
      break;
    }
    case ExprKind::Comp: {
      const auto* n = ast::cast<ast::Comp>(&e);
      visit(n->elt);
      visit(n->value);
      for (const auto& g : n->generators) {
        visit(g.target);
        visit(g.iter);
        for (const auto& c : g.ifs) visit(c);
      }
      break;
    }
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// What a string token's prefix says about it.
struct StringInfo {
  bool raw = false, bytes = false, fstring = false;
  size_t body_begin = 0, body_end = 0;  // offsets in the file text
};

class Parser {
 public:
  Parser(std::shared_ptr<const SourceFile> file, std::vector<Token> tokens)
      : file_(std::move(file)), tokens_(std::move(tokens)) {
    const std::string& text = file_->text;
    line_starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::unique_ptr<ast::Module> parse_module();

 private:
  friend class DepthGuard;

  // ------------------------------------------------------------ tokens
  const Token& peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  SourceSpan prev_span() const { return tokens_[pos_ > 0 ? pos_ - 1 : 0].span; }
  // The last consumed token that is not NEWLINE/INDENT/DEDENT: where a
  // compound statement ends (a trailing ';' included, as in CPython).
  SourceSpan last_code_span() const {
    size_t i = pos_;
    while (i > 0) {
      const Token& t = tokens_[--i];
      if (t.kind != TokenKind::Newline && t.kind != TokenKind::Dedent &&
          t.kind != TokenKind::Indent) {
        return t.span;
      }
    }
    return tokens_[0].span;
  }
  bool at_kind(TokenKind k, size_t ahead = 0) const { return peek(ahead).kind == k; }
  bool at_op(std::string_view op, size_t ahead = 0) const {
    const Token& t = peek(ahead);
    return t.kind == TokenKind::Op && t.text == op;
  }
  bool at_keyword(std::string_view kw, size_t ahead = 0) const {
    const Token& t = peek(ahead);
    return t.kind == TokenKind::Name && t.text == kw;
  }
  bool at_identifier(size_t ahead = 0) const {
    const Token& t = peek(ahead);
    return t.kind == TokenKind::Name && !is_keyword(t.text);
  }
  bool accept_op(std::string_view op) {
    if (!at_op(op)) return false;
    next();
    return true;
  }
  const Token& expect_op(std::string_view op, std::string_view where = "") {
    if (!at_op(op)) expected_op(op, where);
    return next();
  }
  const Token& expect_identifier(std::string_view what) {
    if (!at_identifier()) unexpected(what);
    return next();
  }
  void expect_end_of_statement() {
    if (!at_kind(TokenKind::Newline)) unexpected("end of statement");
    next();
  }

  // ------------------------------------------------------------ errors
  COLD [[noreturn]] void error(SourceSpan span, std::string message,
                               std::vector<std::string> notes) const {
    raise_error(file_, span, std::move(message), std::move(notes));
  }
  COLD [[noreturn]] void error(SourceSpan span, const char* message) const {
    raise_error(file_, span, message);
  }
  COLD [[noreturn]] void error(SourceSpan span, const char* message, const char* note) const {
    raise_error(file_, span, message, {note});
  }
  COLD [[noreturn]] void unexpected(std::string_view expected) const;
  COLD [[noreturn]] void expected_op(std::string_view op, std::string_view where) const;
  COLD [[noreturn]] void unsupported(SourceSpan span, const char* what,
                                     const char* instead = nullptr, bool singular = false) const;
  COLD [[noreturn]] void missing_block(const char* what, const Token& keyword) const;
  COLD [[noreturn]] void duplicate_keyword(const Token& name) const;
  std::string describe(const Token& t) const;
  NOINLINE size_t matching_close(size_t open_index) const;
  NOINLINE SourceSpan bracket_span(size_t open_index) const {
    return SourceSpan::merge(tokens_[open_index].span, tokens_[matching_close(open_index)].span);
  }
  NOINLINE SourceSpan extent_from(size_t start, int colons_to_skip) const;
  NOINLINE SourceSpan logical_line_span(size_t start) const;

  // ------------------------------------------------------------ positions
  size_t offset_of(int line, int col) const {
    size_t index = static_cast<size_t>(line - file_->first_line);
    return line_starts_[index] + static_cast<size_t>(col - 1);
  }
  SourceSpan span_at(size_t offset, size_t length) const;

  // ------------------------------------------------------------ nodes
  template <typename T>
  NOINLINE std::unique_ptr<T> finish(std::unique_ptr<T> node);
  COLD [[noreturn]] void too_deep(const char* what) const;

  // ------------------------------------------------------------ statements
  void parse_statement(Body& out);
  // Appends stmt to out, after the assignments its `:=` expressions became
  // and before what its loop's `else` clause became.
  void place(Body& out, StmtPtr stmt);
  Body take_hoisted() { return std::exchange(hoisted_, Body{}); }
  NOINLINE ExprPtr parse_named_expr(ExprPtr target, SourceSpan start, size_t target_pos);
  NOINLINE void reject_named_within(SourceSpan region, const char* where) const;
  NOINLINE StmtPtr parse_declaration();
  NOINLINE void check_declarations(const ast::FunctionDef& fn, size_t first) const;
  NOINLINE void lower_loop_else(Body& loop_body, const Token& else_keyword);
  void parse_simple_statements(Body& out);
  StmtPtr parse_simple_statement();
  StmtPtr parse_expr_statement();
  NOINLINE StmtPtr parse_decorated();
  NOINLINE StmtPtr parse_funcdef(std::vector<ExprPtr> decorators);
  // A def's parameters (up to ')') or a lambda's (up to ':', no annotations).
  NOINLINE void parse_parameters(std::vector<ast::Arg>& args, std::optional<ast::Arg>& vararg,
                                std::optional<ast::Arg>& kwarg, const char* close, bool annotations);
  NOINLINE ExprPtr parse_lambda();
  NOINLINE StmtPtr parse_if(bool is_elif);
  NOINLINE StmtPtr parse_for();
  NOINLINE StmtPtr parse_while();
  Body parse_block(const char* what, const Token& keyword);
  NOINLINE void reject_statement_keyword();
  NOINLINE void reject_soft_keyword_statement();
  NOINLINE void validate_target(const Expr& e, bool top_level);
  NOINLINE void validate_single_target(const Expr& e, const char* what);
  NOINLINE void reject_bare_starred(const Expr& e) const;
  NOINLINE ExprPtr parse_comprehension(ast::Comp::Type type, ExprPtr elt, ExprPtr value, SourceSpan start);
  NOINLINE ExprPtr parse_brace();

  // ------------------------------------------------------------ expressions
  bool starts_expression() const;
  ExprPtr parse_star_expressions();
  ExprPtr parse_star_or_test();
  ExprPtr parse_test();
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_comparison();
  bool comparison_op(ast::CmpOpKind* op, size_t* length) const;
  ExprPtr parse_binary(int min_precedence);
  ExprPtr parse_factor();
  ExprPtr parse_power();
  ExprPtr parse_primary();
  NOINLINE ExprPtr parse_call(ExprPtr func, SourceSpan start);
  NOINLINE ExprPtr parse_subscript(ExprPtr value, SourceSpan start);
  NOINLINE ExprPtr parse_subscript_item();
  NOINLINE ExprPtr parse_target_list();
  ExprPtr parse_atom();
  NOINLINE ExprPtr parse_paren();
  NOINLINE ExprPtr parse_list();
  COLD [[noreturn]] void reject_brace();
  ExprPtr parse_dict_display();
  NOINLINE ExprPtr parse_number(const Token& t);
  NOINLINE ExprPtr parse_strings();
  NOINLINE StringInfo string_info(const Token& t) const;
  NOINLINE std::string decode_string(size_t begin, size_t end, bool raw) const;
  NOINLINE void parse_fstring_body(const StringInfo& info, ast::FString& out);
  NOINLINE size_t parse_replacement_field(size_t open, const StringInfo& info, ast::FString& out);
  NOINLINE ExprPtr parse_fstring_expression(size_t begin, size_t end, SourceSpan field_span);

  std::shared_ptr<const SourceFile> file_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::vector<size_t> line_starts_;
  int depth_ = 0;           // expression nesting (DepthGuard)
  int block_depth_ = 0;     // statement block nesting (DepthGuard)
  int function_depth_ = 0;  // inside a def?
  int loop_depth_ = 0;      // inside a for/while of the current function?
  // Height of each finished expression node that has no parent yet.
  std::unordered_map<const Expr*, int> heights_;
  // `name := value` in the statement being parsed becomes `name = value`
  // placed before the statement (desugar.h), in source order, and a read of
  // `name` where the expression was.  Sound where the expression is always
  // evaluated, once, before the statement runs: not in a while condition, a
  // conditional expression, after an and/or's first operand, in a
  // comprehension, a lambda or an assert's message (reject_named_within).
  Body hoisted_;
  // One-shot: the next parse_test may read `name := value` unparenthesized
  // (as Python: an if/elif/while condition, a call's positional argument, an
  // element of a list or tuple display, a subscript).
  bool named_ok_ = false;
  size_t statement_start_ = 0;  // token index where the statement being parsed starts
  // Token ranges [begin, end) of the values hoisted_ computes (they run in
  // source order, so what they read is what Python reads).
  std::vector<std::pair<size_t, size_t>> hoisted_values_;
  // Statements a for loop's `else` clause becomes, placed after the loop.
  Body trailing_;
  int loop_else_count_ = 0;
  // The current function's `global`/`nonlocal` names (checked when it ends).
  struct Declared {
    std::string name;
    SourceSpan span;
    bool global;
  };
  std::vector<Declared> declared_;
  // At a statement boundary every recorded node is a finished root that will
  // never get a parent; dropping them keeps the map small (and fast).  A new
  // map rather than clear(): clear() costs as much as the largest bucket
  // array the map ever had, on every statement.
  void forget_heights() {
    if (!heights_.empty()) std::unordered_map<const Expr*, int>().swap(heights_);
  }
};

// Counts one level of nesting for the lifetime of the guard.  Expressions
// and statement blocks have separate budgets of kMaxParserNesting each, so the
// parser's recursion is bounded by their sum.
class DepthGuard {
 public:
  enum Kind { kExpression, kBlock };
  DepthGuard(Parser& p, Kind kind)
      : p_(p), counter_(kind == kBlock ? p.block_depth_ : p.depth_) {
    if (counter_ >= kMaxParserNesting) {
      p_.too_deep(kind == kBlock ? "blocks" : "expression");
    }
    ++counter_;
  }
  ~DepthGuard() { --counter_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;

 private:
  Parser& p_;
  int& counter_;
};

// ============================================================== errors

std::string Parser::describe(const Token& t) const {
  switch (t.kind) {
    case TokenKind::Newline: return "end of line";
    case TokenKind::EndMarker: return "end of input";
    case TokenKind::Indent: return "an indented line";
    case TokenKind::Dedent: return "end of the indented block";
    case TokenKind::Number: return "number " + t.text;
    case TokenKind::String: return "string literal";
    case TokenKind::Name:
      return (is_keyword(t.text) ? "keyword '" : "name '") + t.text + "'";
    case TokenKind::Op: return "'" + t.text + "'";
  }
  return "'" + t.text + "'";
}

void Parser::unexpected(std::string_view expected) const {
  const Token& t = peek();
  if (t.kind == TokenKind::Indent) error(t.span, "unexpected indent");
  if (t.kind == TokenKind::Op && t.text == ":=") {
    error(t.span, "invalid syntax: the target of an assignment expression (:=) must be a name");
  }
  error(t.span, "invalid syntax: expected " + std::string(expected) + ", found " + describe(t), {});
}

void Parser::expected_op(std::string_view op, std::string_view where) const {
  std::string expected = "'" + std::string(op) + "'";
  if (!where.empty()) expected += " " + std::string(where);
  unexpected(expected);
}

// "<what> are not supported in kernels[; <instead>]"
void Parser::unsupported(SourceSpan span, const char* what, const char* instead,
                         bool singular) const {
  std::string message = what;
  message += singular ? " is not supported in kernels" : " are not supported in kernels";
  if (instead) message += std::string("; ") + instead;
  // Helion's name for Python a kernel does not take (a while-else, a try, ...).
  raise_error(file_, span, ErrorKind::StatementNotSupported, std::move(message), {});
}

void Parser::missing_block(const char* what, const Token& keyword) const {
  error(peek().span, std::string("expected an indented block after ") + what + " on line " +
                         std::to_string(keyword.span.line), {});
}

void Parser::duplicate_keyword(const Token& name) const {
  error(name.span, "keyword argument repeated: " + name.text, {});
}

void Parser::too_deep(const char* what) const {
  error(peek().span, std::string(what) + " too deeply nested",
        {"nesting is limited to " + std::to_string(kMaxParserNesting) + " levels"});
}

// Index of the bracket closing tokens_[open_index] (the lexer guarantees that
// brackets are balanced).
size_t Parser::matching_close(size_t open_index) const {
  int depth = 0;
  for (size_t i = open_index; i < tokens_.size(); ++i) {
    const Token& t = tokens_[i];
    if (t.kind != TokenKind::Op || t.text.size() != 1) continue;
    char c = t.text[0];
    if (c == '(' || c == '[' || c == '{') ++depth;
    if ((c == ')' || c == ']' || c == '}') && --depth == 0) return i;
  }
  return open_index;
}

// The span of the expression starting at tokens_[start]: up to (not
// including) the first ',', closing bracket, ';', '=', 'for', or end of line
// at bracket depth 0.  The first `colons_to_skip` ':' at depth 0 belong to the
// expression, and so does everything before them (a lambda's parameter list,
// commas and defaults included, ends in one).
SourceSpan Parser::extent_from(size_t start, int colons_to_skip) const {
  int depth = 0;
  size_t last = start;
  for (size_t i = start; i < tokens_.size(); ++i) {
    const Token& t = tokens_[i];
    if (t.kind == TokenKind::Newline || t.kind == TokenKind::EndMarker ||
        t.kind == TokenKind::Indent || t.kind == TokenKind::Dedent) {
      break;
    }
    if (t.kind == TokenKind::Op) {
      const std::string& s = t.text;
      if (s == "(" || s == "[" || s == "{") {
        ++depth;
      } else if (s == ")" || s == "]" || s == "}") {
        if (depth == 0) break;
        --depth;
      } else if (depth == 0 && s == ":") {
        if (colons_to_skip-- <= 0) break;
      } else if (depth == 0 && colons_to_skip <= 0 && (s == "," || s == ";" || s == "=")) {
        break;
      }
    } else if (depth == 0 && i > start && t.kind == TokenKind::Name && t.text == "for") {
      break;
    }
    last = i;
  }
  return SourceSpan::merge(tokens_[start].span, tokens_[last].span);
}

// From tokens_[start] to the last token before the end of its logical line.
SourceSpan Parser::logical_line_span(size_t start) const {
  size_t last = start;
  for (size_t i = start; i < tokens_.size(); ++i) {
    TokenKind k = tokens_[i].kind;
    if (k == TokenKind::Newline || k == TokenKind::EndMarker) break;
    last = i;
  }
  return SourceSpan::merge(tokens_[start].span, tokens_[last].span);
}

// The span of the bytes [offset, offset + length) of the file; both ends go
// through the line table, since string literals can span lines.
SourceSpan Parser::span_at(size_t offset, size_t length) const {
  auto position = [&](size_t at, int* line, int* col) {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), at);
    size_t index = static_cast<size_t>(it - line_starts_.begin()) - 1;
    *line = file_->first_line + static_cast<int>(index);
    *col = static_cast<int>(at - line_starts_[index]) + 1;
  };
  SourceSpan span;
  position(offset, &span.line, &span.col);
  position(offset + length, &span.end_line, &span.end_col);
  return span;
}

// ============================================================== nodes

// Records a finished node's height (1 + its tallest child) and rejects trees
// taller than kMaxAstDepth.  Children's entries are dropped: they now have a
// parent and will never be looked up again.
template <typename T>
std::unique_ptr<T> Parser::finish(std::unique_ptr<T> node) {
  int height = 1;
  for_each_child(*node, [&](const Expr* child) {
    auto it = heights_.find(child);
    if (it == heights_.end()) return;
    height = std::max(height, it->second + 1);
    heights_.erase(it);
  });
  if (height > kMaxAstDepth) {
    error(node->span, "expression too deeply nested",
          {"expressions are limited to a depth of " + std::to_string(kMaxAstDepth)});
  }
  heights_[node.get()] = height;
  return node;
}

// ============================================================== statements

std::unique_ptr<ast::Module> Parser::parse_module() {
  auto module = std::make_unique<ast::Module>();
  while (!at_kind(TokenKind::EndMarker)) {
    if (at_kind(TokenKind::Newline)) {
      next();
      continue;
    }
    parse_statement(module->body);
  }
  return module;
}

void Parser::parse_statement(Body& out) {
  forget_heights();
  if (at_kind(TokenKind::Indent)) unexpected("a statement");
  if (at_kind(TokenKind::Dedent)) unexpected("a statement");
  if (at_op("@")) {
    place(out, parse_decorated());
  } else if (at_keyword("def")) {
    place(out, parse_funcdef({}));
  } else if (at_keyword("if")) {
    place(out, parse_if(false));
  } else if (at_keyword("for")) {
    place(out, parse_for());
  } else if (at_keyword("while")) {
    place(out, parse_while());
  } else {
    reject_soft_keyword_statement();
    parse_simple_statements(out);
  }
}

// `match x:` and `type X = ...` start with soft keywords, which are ordinary
// names everywhere else; recognise the statement forms by their shape.
void Parser::reject_soft_keyword_statement() {
  if (at_keyword("match") && !at_op("=", 1) && !at_op(":", 1) && !at_op(".", 1)) {
    size_t end = pos_;
    while (end < tokens_.size() && tokens_[end].kind != TokenKind::Newline &&
           tokens_[end].kind != TokenKind::EndMarker) {
      ++end;
    }
    const Token& last = tokens_[end - 1];
    if (end > pos_ + 1 && last.kind == TokenKind::Op && last.text == ":") {
      unsupported(SourceSpan::merge(peek().span, last.span), "match statements",
                  "use if/elif/else instead");
    }
  }
  if (at_keyword("type") && at_identifier(1) && (at_op("=", 2) || at_op("[", 2))) {
    unsupported(logical_line_span(pos_), "type alias statements");
  }
}

void Parser::place(Body& out, StmtPtr stmt) {
  for (auto& h : hoisted_) out.push_back(std::move(h));
  hoisted_.clear();
  hoisted_values_.clear();
  out.push_back(std::move(stmt));
  for (auto& t : trailing_) out.push_back(std::move(t));
  trailing_.clear();
}

void Parser::parse_simple_statements(Body& out) {
  for (;;) {
    place(out, parse_simple_statement());
    if (!accept_op(";")) break;
    if (at_kind(TokenKind::Newline)) break;  // a trailing ';' is allowed
  }
  expect_end_of_statement();
}

// Keywords that start statements the kernel language does not have.
void Parser::reject_statement_keyword() {
  const Token& t = peek();
  if (t.kind != TokenKind::Name) return;
  const std::string& k = t.text;
  // Computed only for a rejected keyword: scanning the line for every
  // statement would be quadratic on a long `a; b; c; ...` line.
  auto line = [&] { return logical_line_span(pos_); };
  if (k == "import" || k == "from") {
    unsupported(line(), "import statements", "import modules outside the kernel function");
  }
  if (k == "del") unsupported(line(), "del statements");
  if (k == "raise") {
    unsupported(line(), "raise statements", "use assert to check conditions");
  }
  if (k == "try" || k == "except" || k == "finally") {
    unsupported(line(), "try/except statements", "kernels cannot raise or handle exceptions");
  }
  if (k == "with") unsupported(line(), "with statements");
  if (k == "class") unsupported(line(), "class definitions", "define classes outside the kernel");
  if (k == "async") unsupported(line(), "async functions and statements");
  if (k == "def" || k == "if" || k == "for" || k == "while") {
    error(t.span, "invalid syntax: '" + k + "' statement must start on its own line", {});
  }
  if (k == "elif" || k == "else") {
    error(t.span, "invalid syntax: '" + k + "' without a matching 'if'", {});
  }
}

StmtPtr Parser::parse_simple_statement() {
  forget_heights();
  statement_start_ = pos_;
  if (at_keyword("global") || at_keyword("nonlocal")) return parse_declaration();
  reject_statement_keyword();
  const Token& t = peek();
  SourceSpan start = t.span;
  if (at_keyword("pass")) {
    next();
    return std::make_unique<ast::Pass>(start);
  }
  if (at_keyword("break") || at_keyword("continue")) {
    bool is_break = t.text == "break";
    next();
    if (loop_depth_ == 0) {
      error(start, is_break ? "'break' outside loop" : "'continue' not properly in loop");
    }
    if (is_break) return std::make_unique<ast::Break>(start);
    return std::make_unique<ast::Continue>(start);
  }
  if (at_keyword("return")) {
    next();
    if (function_depth_ == 0) error(start, "'return' outside function");
    auto ret = std::make_unique<ast::Return>(start);
    if (starts_expression()) {
      ret->value = parse_star_expressions();
      reject_bare_starred(*ret->value);
    }
    ret->span = SourceSpan::merge(start, prev_span());
    return ret;
  }
  if (at_keyword("assert")) {
    next();
    auto stmt = std::make_unique<ast::Assert>(start);
    stmt->test = parse_test();
    if (accept_op(",")) {
      SourceSpan msg = peek().span;
      stmt->msg = parse_test();
      reject_named_within(msg, "an assert's message (computed only when the assert fails)");
    }
    stmt->span = SourceSpan::merge(start, prev_span());
    return stmt;
  }
  return parse_expr_statement();
}

StmtPtr Parser::parse_expr_statement() {
  SourceSpan start = peek().span;
  ExprPtr first = parse_star_expressions();

  if (at_op(":")) {  // annotated assignment
    next();
    validate_single_target(*first, "annotation");
    auto stmt = std::make_unique<ast::AnnAssign>(start);
    stmt->target = std::move(first);
    stmt->annotation = parse_test();
    if (accept_op("=")) {
      stmt->value = parse_star_expressions();
      reject_bare_starred(*stmt->value);
    }
    stmt->span = SourceSpan::merge(start, prev_span());
    return stmt;
  }

  static constexpr std::pair<std::string_view, ast::BinOpKind> kAugOps[] = {
      {"+=", ast::BinOpKind::Add},      {"-=", ast::BinOpKind::Sub},
      {"*=", ast::BinOpKind::Mult},     {"/=", ast::BinOpKind::Div},
      {"//=", ast::BinOpKind::FloorDiv}, {"%=", ast::BinOpKind::Mod},
      {"**=", ast::BinOpKind::Pow},     {"@=", ast::BinOpKind::MatMult},
      {"<<=", ast::BinOpKind::LShift},  {">>=", ast::BinOpKind::RShift},
      {"&=", ast::BinOpKind::BitAnd},   {"|=", ast::BinOpKind::BitOr},
      {"^=", ast::BinOpKind::BitXor}};
  for (const auto& [spelling, op] : kAugOps) {
    if (!at_op(spelling)) continue;
    validate_single_target(*first, "augmented assignment");
    next();
    auto stmt = std::make_unique<ast::AugAssign>(start);
    stmt->target = std::move(first);
    stmt->op = op;
    stmt->value = parse_star_expressions();
    reject_bare_starred(*stmt->value);
    stmt->span = SourceSpan::merge(start, prev_span());
    return stmt;
  }

  if (at_op("=")) {
    auto stmt = std::make_unique<ast::Assign>(start);
    std::vector<ExprPtr> chain;
    chain.push_back(std::move(first));
    while (accept_op("=")) chain.push_back(parse_star_expressions());
    stmt->value = std::move(chain.back());
    chain.pop_back();
    reject_bare_starred(*stmt->value);
    for (const ExprPtr& target : chain) validate_target(*target, /*top_level=*/true);
    stmt->targets = std::move(chain);
    stmt->span = SourceSpan::merge(start, prev_span());
    return stmt;
  }

  reject_bare_starred(*first);
  SourceSpan span = SourceSpan::merge(start, prev_span());
  return std::make_unique<ast::ExprStmt>(span, std::move(first));
}

// Targets of `=` and `for`: names, attributes, subscripts, and (nested)
// tuples/lists of targets with at most one starred element each.
void Parser::validate_target(const Expr& e, bool top_level) {
  switch (e.kind) {
    case ExprKind::Name:
    case ExprKind::Attribute:
    case ExprKind::Subscript:
      return;
    case ExprKind::Tuple:
    case ExprKind::List: {
      const auto& elts = e.kind == ExprKind::Tuple ? ast::cast<ast::Tuple>(&e)->elts
                                                   : ast::cast<ast::List>(&e)->elts;
      int starred = 0;
      for (const ExprPtr& elt : elts) {
        if (const auto* star = ast::dyn_cast<ast::Starred>(elt.get())) {
          if (++starred > 1) error(elt->span, "multiple starred expressions in assignment");
          validate_target(*star->value, false);
          if (ast::isa<ast::Starred>(star->value.get())) {
            error(star->value->span, "starred assignment target must be in a list or tuple");
          }
        } else {
          validate_target(*elt, false);
        }
      }
      return;
    }
    case ExprKind::Starred:
      error(e.span, "starred assignment target must be in a list or tuple");
    case ExprKind::Constant: {
      const auto* c = ast::cast<ast::Constant>(&e);
      if (c->type == ast::Constant::Type::None) error(e.span, "cannot assign to None");
      if (c->type == ast::Constant::Type::Bool) {
        error(e.span, c->bool_value ? "cannot assign to True" : "cannot assign to False");
      }
      if (c->type == ast::Constant::Type::Ellipsis) error(e.span, "cannot assign to ellipsis");
      error(e.span, "cannot assign to literal");
    }
    case ExprKind::Call:
      error(e.span, "cannot assign to function call");
    case ExprKind::Compare:
      if (top_level) error(e.span, "cannot assign to comparison", "use '==' to compare values");
      error(e.span, "cannot assign to comparison");
    case ExprKind::IfExp:
      error(e.span, "cannot assign to conditional expression");
    case ExprKind::Lambda:
      error(e.span, "cannot assign to lambda");
    case ExprKind::FString:
      error(e.span, "cannot assign to f-string expression");
    default:
      error(e.span, "cannot assign to expression");
  }
}

// Annotated and augmented assignments take exactly one simple target.
void Parser::validate_single_target(const Expr& e, const char* what) {
  if (e.kind == ExprKind::Name || e.kind == ExprKind::Attribute ||
      e.kind == ExprKind::Subscript) {
    return;
  }
  if (e.kind == ExprKind::Tuple) {
    error(e.span, std::string("only a single target (not a tuple) is allowed in an ") + what, {});
  }
  if (e.kind == ExprKind::List) {
    error(e.span, std::string("only a single target (not a list) is allowed in an ") + what, {});
  }
  error(e.span, std::string("illegal target for ") + what, {});
}

void Parser::reject_bare_starred(const Expr& e) const {
  if (e.kind == ExprKind::Starred) error(e.span, "cannot use starred expression here");
}

StmtPtr Parser::parse_decorated() {
  std::vector<ExprPtr> decorators;
  SourceSpan first = peek().span;
  while (at_op("@")) {
    next();
    decorators.push_back(parse_test());
    reject_named_within(first, "a decorator");
    expect_end_of_statement();
  }
  if (at_keyword("def")) return parse_funcdef(std::move(decorators));
  if (at_keyword("class") || at_keyword("async")) reject_statement_keyword();
  error(SourceSpan::merge(first, decorators.back()->span),
        "decorators are only supported on function definitions");
}

StmtPtr Parser::parse_funcdef(std::vector<ExprPtr> decorators) {
  const Token& def = next();
  SourceSpan start = def.span;
  const Token& name = expect_identifier("a function name");
  if (function_depth_ > 0) {
    raise_error(file_, SourceSpan::merge(start, name.span), ErrorKind::StatementNotSupported,
                "nested function definitions are not supported", {"define helper functions at module level"});
  }
  auto fn = std::make_unique<ast::FunctionDef>(start);
  fn->name = name.text;
  fn->name_span = name.span;
  fn->decorators = std::move(decorators);
  expect_op("(", "after the function name");
  parse_parameters(fn->args, fn->vararg, fn->kwarg, ")", true);
  expect_op(")", "to close the parameter list");
  if (accept_op("->")) fn->returns = parse_test();
  reject_named_within(start, "a function's signature");
  expect_op(":", "after the function signature");

  ++function_depth_;
  int saved_loops = std::exchange(loop_depth_, 0);
  const size_t first_declared = declared_.size();
  fn->body = parse_block("function definition", def);
  check_declarations(*fn, first_declared);
  declared_.resize(first_declared);
  loop_depth_ = saved_loops;
  --function_depth_;

  if (const auto* first = ast::dyn_cast<ast::ExprStmt>(fn->body.front().get())) {
    const auto* c = ast::dyn_cast<ast::Constant>(first->value.get());
    if (c && c->type == ast::Constant::Type::String) fn->docstring = c->string_value;
  }
  fn->span = SourceSpan::merge(start, last_code_span());
  return fn;
}

void Parser::parse_parameters(std::vector<ast::Arg>& args, std::optional<ast::Arg>& vararg,
                              std::optional<ast::Arg>& kwarg, const char* close, bool annotations) {
  bool seen_star = false, seen_default = false;
  SourceSpan star_span;
  size_t keyword_only = 0;
  std::unordered_set<std::string_view> names;  // membership only: deterministic
  // One parameter's name, annotation and span (`*name` and `**name` take no default).
  auto parameter = [&](const char* what) {
    const Token& name = expect_identifier(what);
    ast::Arg arg;
    arg.name = name.text;
    if (!names.insert(name.text).second) {
      error(name.span, "duplicate parameter '" + arg.name + "' in function definition", {});
    }
    if (annotations && accept_op(":")) arg.annotation = parse_test();
    arg.span = SourceSpan::merge(name.span, prev_span());
    return arg;
  };
  while (!at_op(close)) {
    if (kwarg) error(peek().span, "no parameter may follow '**" + kwarg->name + "'", {});
    if (at_op("*")) {
      star_span = next().span;
      if (seen_star) error(star_span, "'*' may appear only once in a parameter list");
      seen_star = true;
      if (at_identifier()) {
        // `*args`: the call's extra positional arguments, a tuple (sema binds it).
        vararg = parameter("a parameter name");
        vararg->span = SourceSpan::merge(star_span, vararg->span);
      }
    } else if (at_op("**")) {
      SourceSpan span = next().span;
      // `**kwargs`: the call's extra keyword arguments, a dict.
      kwarg = parameter("a parameter name after '**'");
      kwarg->span = SourceSpan::merge(span, kwarg->span);
    } else if (at_op("/")) {
      unsupported(peek().span, "positional-only parameter markers (/)");
    } else {
      ast::Arg arg = parameter("a parameter name");
      arg.keyword_only = seen_star;
      if (accept_op("=")) {
        arg.default_value = parse_test();
        if (!seen_star) seen_default = true;
      } else if (seen_default && !seen_star) {
        error(arg.span, "parameter without a default follows parameter with a default");
      }
      arg.span = SourceSpan::merge(arg.span, prev_span());
      if (seen_star) ++keyword_only;
      args.push_back(std::move(arg));
    }
    if (!accept_op(",")) break;
  }
  if (seen_star && !vararg && keyword_only == 0) error(star_span, "named parameters must follow bare '*'");
}

// A suite: an indented block, or simple statements on the header's line.
Body Parser::parse_block(const char* what, const Token& keyword) {
  DepthGuard guard(*this, DepthGuard::kBlock);
  Body body;
  if (!at_kind(TokenKind::Newline)) {
    parse_simple_statements(body);
    return body;
  }
  next();
  if (!at_kind(TokenKind::Indent)) missing_block(what, keyword);
  next();
  while (!at_kind(TokenKind::Dedent) && !at_kind(TokenKind::EndMarker)) parse_statement(body);
  next();
  return body;
}

StmtPtr Parser::parse_if(bool is_elif) {
  // Each elif nests one level deeper in the AST (and in this recursion).
  std::optional<DepthGuard> elif_guard;
  if (is_elif) elif_guard.emplace(*this, DepthGuard::kBlock);
  const Token& keyword = next();
  SourceSpan start = keyword.span;
  auto stmt = std::make_unique<ast::If>(start);
  stmt->is_elif = is_elif;
  statement_start_ = pos_;
  named_ok_ = true;
  stmt->test = parse_test();
  Body condition_assignments = take_hoisted();
  const Token& colon = expect_op(":", "after the condition");
  stmt->header_span = SourceSpan::merge(start, colon.span);
  stmt->body = parse_block(is_elif ? "'elif' statement" : "'if' statement", keyword);
  if (at_keyword("elif")) {
    StmtPtr elif = parse_if(true);
    // The elif condition's `:=` assignments run in this else, before it.
    if (!hoisted_.empty()) ast::cast<ast::If>(elif.get())->is_elif = false;
    place(stmt->orelse, std::move(elif));
  } else if (at_keyword("else")) {
    const Token& else_kw = next();
    expect_op(":", "after 'else'");
    stmt->orelse = parse_block("'else' clause", else_kw);
  }
  stmt->span = SourceSpan::merge(start, last_code_span());
  hoisted_ = std::move(condition_assignments);
  return stmt;
}

StmtPtr Parser::parse_for() {
  const Token& keyword = next();
  SourceSpan start = keyword.span;
  auto stmt = std::make_unique<ast::For>(start);
  stmt->target = parse_target_list();
  validate_target(*stmt->target, /*top_level=*/false);
  if (!at_keyword("in")) unexpected("'in' after the loop variable");
  next();
  if (at_op("{")) {
    // Caught here rather than as an unsupported display: what the user wrote is a loop
    // kernels cannot run, the error Helion programs expect (InvalidDeviceForLoop).
    const Token& brace = peek();
    raise_error(file_, brace.span, ErrorKind::InvalidDeviceForLoop,
                "for loops over a dict or set display are not supported",
                {"loop over a list, a tuple, range(...) or hl.tile(...)"});
  }
  statement_start_ = pos_;
  stmt->iter = parse_star_expressions();
  reject_bare_starred(*stmt->iter);
  Body iterable_assignments = take_hoisted();
  const Token& colon = expect_op(":", "after the loop iterable");
  stmt->header_span = SourceSpan::merge(start, colon.span);
  ++loop_depth_;
  stmt->body = parse_block("'for' statement", keyword);
  --loop_depth_;
  hoisted_ = std::move(iterable_assignments);
  if (at_keyword("else")) lower_loop_else(stmt->body, next());
  stmt->span = SourceSpan::merge(start, last_code_span());
  return stmt;
}

StmtPtr Parser::parse_while() {
  const Token& keyword = next();
  SourceSpan start = keyword.span;
  auto stmt = std::make_unique<ast::While>(start);
  SourceSpan condition = peek().span;
  named_ok_ = true;
  stmt->test = parse_test();
  reject_named_within(condition, "a while condition (computed before every iteration)");
  const Token& colon = expect_op(":", "after the condition");
  stmt->header_span = SourceSpan::merge(start, colon.span);
  ++loop_depth_;
  stmt->body = parse_block("'while' statement", keyword);
  --loop_depth_;
  if (at_keyword("else")) {
    // Helion rejects it (its test_while_else_not_supported): so does deuteron,
    // so that a kernel means the same under both.
    unsupported(logical_line_span(pos_), "while-else clauses",
                "use a flag variable set before 'break' instead");
  }
  stmt->span = SourceSpan::merge(start, last_code_span());
  return stmt;
}

// `else:` after a loop: the clause runs when the loop ends without `break`.
// Without a break of its own the loop always ends that way, and the clause
// follows the loop; with one, a flag set before each break says (desugar.h).
void Parser::lower_loop_else(Body& loop_body, const Token& else_keyword) {
  expect_op(":", "after 'else'");
  Body clause = parse_block("'else' clause", else_keyword);
  SourceSpan span = else_keyword.span;
  if (!desugar::has_break(loop_body)) {
    trailing_ = std::move(clause);
    return;
  }
  std::string flag = "_loop_broke_" + std::to_string(++loop_else_count_);
  hoisted_.push_back(desugar::make_assign(flag, span, desugar::make_bool(false, span), span));
  desugar::set_flag_before_breaks(loop_body, flag);
  auto check = std::make_unique<ast::If>(span);
  check->test = std::make_unique<ast::UnaryOp>(span, ast::UnaryOpKind::Not, std::make_unique<ast::Name>(span, flag));
  check->header_span = span;
  check->body = std::move(clause);
  check->span = SourceSpan::merge(span, last_code_span());
  trailing_.push_back(std::move(check));
}

// `global a, b` / `nonlocal a`: reading a name the function does not assign
// already reads the enclosing one, so a declaration of names that are only
// read changes nothing and becomes `pass`; assigning one is an error when the
// function ends (check_declarations).
StmtPtr Parser::parse_declaration() {
  const Token& keyword = next();
  const bool global = keyword.text == "global";
  SourceSpan span = logical_line_span(pos_ - 1);
  if (!global && function_depth_ == 0) error(span, "nonlocal declaration not allowed at module level");
  for (;;) {
    const Token& name = expect_identifier("a name");
    declared_.push_back(Declared{name.text, span, global});
    if (!accept_op(",")) break;
  }
  return std::make_unique<ast::Pass>(span);
}

void Parser::check_declarations(const ast::FunctionDef& fn, size_t first) const {
  for (size_t i = first; i < declared_.size(); ++i) {
    const Declared& d = declared_[i];
    const char* kind = d.global ? "global" : "nonlocal";
    for (const auto& a : fn.args)
      if (a.name == d.name) error(d.span, "name '" + d.name + "' is parameter and " + kind, {});
    if (const Stmt* binding = desugar::find_binding(fn.body, d.name)) {
      raise_error(file_, binding->span, ErrorKind::StatementNotSupported,
                  std::string("assigning to a ") + kind + " name ('" + d.name + "') is not supported in kernels",
                  {"'" + d.name + "' is declared " + kind + " on line " + std::to_string(d.span.line) +
                   "; return the value, or pass a tensor for the kernel to write into"});
    }
  }
}

// ============================================================== expressions

// Whether the next token can begin an expression (used after a ',' to tell a
// trailing comma from another element).
bool Parser::starts_expression() const {
  const Token& t = peek();
  switch (t.kind) {
    case TokenKind::Number:
    case TokenKind::String:
      return true;
    case TokenKind::Name:
      return !is_keyword(t.text) || t.text == "None" || t.text == "True" || t.text == "False" ||
             t.text == "not" || t.text == "lambda" || t.text == "await" || t.text == "yield";
    case TokenKind::Op:
      return t.text == "(" || t.text == "[" || t.text == "{" || t.text == "-" || t.text == "+" ||
             t.text == "~" || t.text == "..." || t.text == "*";
    default:
      return false;
  }
}

// `a, *b, c` with optional trailing comma; a single element without a comma
// is returned as is.
ExprPtr Parser::parse_star_expressions() {
  SourceSpan start = peek().span;
  ExprPtr first = parse_star_or_test();
  if (!at_op(",")) return first;
  auto tuple = std::make_unique<ast::Tuple>(start);
  tuple->elts.push_back(std::move(first));
  while (accept_op(",")) {
    if (!starts_expression()) break;
    tuple->elts.push_back(parse_star_or_test());
  }
  tuple->span = SourceSpan::merge(tuple->span, prev_span());
  return finish(std::move(tuple));
}

ExprPtr Parser::parse_star_or_test() {
  if (!at_op("*")) return parse_test();
  named_ok_ = false;
  SourceSpan star = next().span;
  DepthGuard guard(*this, DepthGuard::kExpression);
  ExprPtr value = parse_binary(1);
  SourceSpan span = SourceSpan::merge(star, prev_span());
  return finish(std::make_unique<ast::Starred>(span, std::move(value)));
}

// lambda params: body.  Sema inlines it where it is called, like a helper.
ExprPtr Parser::parse_lambda() {
  SourceSpan start = next().span;
  auto lambda = std::make_unique<ast::Lambda>(start);
  parse_parameters(lambda->args, lambda->vararg, lambda->kwarg, ":", false);
  expect_op(":", "after the lambda's parameters");
  lambda->body = parse_test();
  lambda->span = SourceSpan::merge(start, prev_span());
  reject_named_within(start, "a lambda");
  return finish(std::move(lambda));
}

ExprPtr Parser::parse_test() {
  DepthGuard guard(*this, DepthGuard::kExpression);
  const bool named_ok = std::exchange(named_ok_, false);
  if (at_keyword("lambda")) return parse_lambda();
  SourceSpan start = peek().span;
  const size_t start_pos = pos_;
  ExprPtr body = parse_or();
  if (at_keyword("if")) {
    next();
    auto e = std::make_unique<ast::IfExp>(start);
    e->body = std::move(body);
    e->test = parse_or();
    if (!at_keyword("else")) unexpected("'else' in the conditional expression");
    next();
    e->orelse = parse_test();
    e->span = SourceSpan::merge(start, prev_span());
    reject_named_within(start, "a conditional expression (x if c else y)");
    return finish(std::move(e));
  }
  if (at_op(":=")) {
    if (!named_ok) {
      error(peek().span, "invalid syntax: an assignment expression (:=) must be in parentheses here",
            "write (name := value)");
    }
    return parse_named_expr(std::move(body), start, start_pos);
  }
  return body;
}

// `name := value` after its target: hoisted_ gets `name = value`, and the
// expression reads `name`.
ExprPtr Parser::parse_named_expr(ExprPtr target, SourceSpan start, size_t target_pos) {
  const auto* name = ast::dyn_cast<ast::Name>(target.get());
  if (!name) error(target->span, "invalid syntax: the target of an assignment expression (:=) must be a name");
  next();
  const size_t value_begin = pos_;
  ExprPtr value = parse_test();
  SourceSpan span = SourceSpan::merge(start, prev_span());
  // The assignments run before the statement, in source order: a read of the
  // name earlier in the statement itself (not in a value computed before
  // this one) would see the new value, where Python's sees the old one.
  auto in_hoisted_value = [&](size_t i) {
    for (const auto& [b, e] : hoisted_values_)
      if (i >= b && i < e) return true;
    return false;
  };
  for (size_t i = statement_start_; i < target_pos && i < tokens_.size(); ++i) {
    const Token& t = tokens_[i];
    if (t.kind != TokenKind::Name || t.text != name->id || in_hoisted_value(i)) continue;
    if (i > 0 && tokens_[i - 1].kind == TokenKind::Op && tokens_[i - 1].text == ".") continue;  // an attribute
    const Token& after = tokens_[std::min(i + 1, tokens_.size() - 1)];
    if (after.kind == TokenKind::Op && (after.text == "=" || after.text == ":=")) continue;  // a keyword, a target
    raise_error(file_, t.span, ErrorKind::StatementNotSupported,
                "'" + name->id + "' is read before the assignment expression (:=) that assigns it in the same statement",
                {"assign the value in a separate statement first"});
  }
  hoisted_.push_back(desugar::make_assign(name->id, name->span, std::move(value), span));
  hoisted_values_.emplace_back(value_begin, pos_);
  return finish(std::make_unique<ast::Name>(span, name->id));
}

// An assignment expression in `region` (from its start to the token being
// read) would be computed where it is not, or not once: an error.
void Parser::reject_named_within(SourceSpan region, const char* where) const {
  if (hoisted_.empty()) return;
  const SourceSpan& last = hoisted_.back()->span;
  if (last.line < region.line || (last.line == region.line && last.col < region.col)) return;
  raise_error(file_, last, ErrorKind::StatementNotSupported,
              std::string("assignment expressions (:=) in ") + where + " are not supported in kernels",
              {"assign the value in a separate statement first"});
}

ExprPtr Parser::parse_or() {
  SourceSpan start = peek().span;
  ExprPtr first = parse_and();
  if (!at_keyword("or")) return first;
  auto e = std::make_unique<ast::BoolOp>(start, ast::BoolOpKind::Or);
  e->values.push_back(std::move(first));
  SourceSpan rest = peek().span;
  while (at_keyword("or")) {
    next();
    e->values.push_back(parse_and());
  }
  reject_named_within(rest, "an 'or' after its first operand (computed only when it is false)");
  e->span = SourceSpan::merge(start, prev_span());
  return finish(std::move(e));
}

ExprPtr Parser::parse_and() {
  SourceSpan start = peek().span;
  ExprPtr first = parse_not();
  if (!at_keyword("and")) return first;
  auto e = std::make_unique<ast::BoolOp>(start, ast::BoolOpKind::And);
  e->values.push_back(std::move(first));
  SourceSpan rest = peek().span;
  while (at_keyword("and")) {
    next();
    e->values.push_back(parse_not());
  }
  reject_named_within(rest, "an 'and' after its first operand (computed only when it is true)");
  e->span = SourceSpan::merge(start, prev_span());
  return finish(std::move(e));
}

ExprPtr Parser::parse_not() {
  if (!at_keyword("not")) return parse_comparison();
  DepthGuard guard(*this, DepthGuard::kExpression);
  SourceSpan start = next().span;
  ExprPtr operand = parse_not();
  SourceSpan span = SourceSpan::merge(start, prev_span());
  return finish(std::make_unique<ast::UnaryOp>(span, ast::UnaryOpKind::Not, std::move(operand)));
}

// The comparison operator at the current token, if any (`not in` and
// `is not` are two tokens).
bool Parser::comparison_op(ast::CmpOpKind* op, size_t* length) const {
  using ast::CmpOpKind;
  const Token& t = peek();
  *length = 1;
  if (t.kind == TokenKind::Op) {
    static constexpr std::pair<std::string_view, CmpOpKind> kOps[] = {
        {"==", CmpOpKind::Eq}, {"!=", CmpOpKind::NotEq}, {"<", CmpOpKind::Lt},
        {"<=", CmpOpKind::LtE}, {">", CmpOpKind::Gt},     {">=", CmpOpKind::GtE}};
    for (const auto& [spelling, kind] : kOps) {
      if (t.text == spelling) {
        *op = kind;
        return true;
      }
    }
    return false;
  }
  if (at_keyword("in")) {
    *op = CmpOpKind::In;
    return true;
  }
  if (at_keyword("not") && at_keyword("in", 1)) {
    *op = CmpOpKind::NotIn;
    *length = 2;
    return true;
  }
  if (at_keyword("is")) {
    bool negated = at_keyword("not", 1);
    *op = negated ? CmpOpKind::IsNot : CmpOpKind::Is;
    *length = negated ? 2 : 1;
    return true;
  }
  return false;
}

ExprPtr Parser::parse_comparison() {
  SourceSpan start = peek().span;
  ExprPtr left = parse_binary(1);
  ast::CmpOpKind op;
  size_t length;
  if (!comparison_op(&op, &length)) return left;
  auto e = std::make_unique<ast::Compare>(start);
  e->left = std::move(left);
  while (comparison_op(&op, &length)) {
    for (size_t i = 0; i < length; ++i) next();
    e->ops.push_back(op);
    e->comparators.push_back(parse_binary(1));
  }
  e->span = SourceSpan::merge(start, prev_span());
  return finish(std::move(e));
}

// Binary operators from `|` (1) to `* / // % @` (6), by precedence climbing:
// each loop iteration extends a left-associative chain, and the right operand
// only takes operators that bind tighter.
ExprPtr Parser::parse_binary(int min_precedence) {
  using ast::BinOpKind;
  static constexpr struct {
    std::string_view spelling;
    BinOpKind op;
    int precedence;
  } kOps[] = {{"|", BinOpKind::BitOr, 1},     {"^", BinOpKind::BitXor, 2},
              {"&", BinOpKind::BitAnd, 3},    {"<<", BinOpKind::LShift, 4},
              {">>", BinOpKind::RShift, 4},   {"+", BinOpKind::Add, 5},
              {"-", BinOpKind::Sub, 5},       {"*", BinOpKind::Mult, 6},
              {"/", BinOpKind::Div, 6},       {"//", BinOpKind::FloorDiv, 6},
              {"%", BinOpKind::Mod, 6},       {"@", BinOpKind::MatMult, 6}};
  SourceSpan start = peek().span;
  ExprPtr left = parse_factor();
  for (;;) {
    const Token& t = peek();
    if (t.kind != TokenKind::Op) break;
    const auto* found = std::find_if(std::begin(kOps), std::end(kOps),
                                     [&](const auto& o) { return o.spelling == t.text; });
    if (found == std::end(kOps) || found->precedence < min_precedence) break;
    next();
    ExprPtr right = parse_binary(found->precedence + 1);
    SourceSpan span = SourceSpan::merge(start, prev_span());
    left = finish(std::make_unique<ast::BinOp>(span, found->op, std::move(left), std::move(right)));
  }
  return left;
}

ExprPtr Parser::parse_factor() {
  ast::UnaryOpKind op;
  if (at_op("-")) {
    op = ast::UnaryOpKind::USub;
  } else if (at_op("+")) {
    op = ast::UnaryOpKind::UAdd;
  } else if (at_op("~")) {
    op = ast::UnaryOpKind::Invert;
  } else {
    return parse_power();
  }
  DepthGuard guard(*this, DepthGuard::kExpression);
  SourceSpan start = next().span;
  ExprPtr operand = parse_factor();
  SourceSpan span = SourceSpan::merge(start, prev_span());
  return finish(std::make_unique<ast::UnaryOp>(span, op, std::move(operand)));
}

// primary ['**' factor]: `**` is right-associative and binds tighter than a
// unary operator on its left (-x**2 is -(x**2)) but not on its right.
ExprPtr Parser::parse_power() {
  if (at_keyword("await")) {
    unsupported(extent_from(pos_, 0), "await expressions");
  }
  SourceSpan start = peek().span;
  ExprPtr base = parse_primary();
  if (!at_op("**")) return base;
  next();
  DepthGuard guard(*this, DepthGuard::kExpression);
  ExprPtr exponent = parse_factor();
  SourceSpan span = SourceSpan::merge(start, prev_span());
  return finish(std::make_unique<ast::BinOp>(span, ast::BinOpKind::Pow, std::move(base),
                                             std::move(exponent)));
}

ExprPtr Parser::parse_primary() {
  SourceSpan start = peek().span;
  ExprPtr e = parse_atom();
  for (;;) {
    if (at_op(".")) {
      next();
      const Token& name = expect_identifier("an attribute name after '.'");
      SourceSpan span = SourceSpan::merge(start, name.span);
      auto attr = std::make_unique<ast::Attribute>(span, std::move(e), name.text);
      attr->attr_span = name.span;
      e = finish(std::move(attr));
    } else if (at_op("(")) {
      e = parse_call(std::move(e), start);
    } else if (at_op("[")) {
      e = parse_subscript(std::move(e), start);
    } else {
      return e;
    }
  }
}

ExprPtr Parser::parse_call(ExprPtr func, SourceSpan start) {
  size_t open = pos_;
  next();
  auto call = std::make_unique<ast::Call>(start);
  call->func = std::move(func);
  std::unordered_set<std::string_view> keyword_names;  // membership only: deterministic
  bool unpacked_keywords = false;                     // a `**mapping` came before
  while (!at_op(")")) {
    if (at_op("*")) {
      SourceSpan star = next().span;
      ExprPtr value = parse_test();
      SourceSpan span = SourceSpan::merge(star, prev_span());
      if (unpacked_keywords) error(span, "iterable argument unpacking follows keyword argument unpacking");
      call->args.push_back(finish(std::make_unique<ast::Starred>(span, std::move(value))));
    } else if (at_op("**")) {
      // f(**kw): a Keyword without a name; sema expands the mapping (known when compiling).
      SourceSpan stars = next().span;
      ast::Keyword keyword;
      keyword.value = parse_test();
      keyword.span = SourceSpan::merge(stars, prev_span());
      call->keywords.push_back(std::move(keyword));
      unpacked_keywords = true;
    } else if (at_identifier() && at_op("=", 1)) {
      const Token& name = next();
      next();
      if (!keyword_names.insert(name.text).second) duplicate_keyword(name);
      ast::Keyword keyword;
      keyword.name = name.text;
      keyword.value = parse_test();
      keyword.span = SourceSpan::merge(name.span, prev_span());
      call->keywords.push_back(std::move(keyword));
    } else {
      named_ok_ = true;
      ExprPtr arg = parse_test();
      if (at_keyword("for")) {
        // f(x for x in xs): a generator expression, allowed as the only argument.
        if (!call->args.empty() || !call->keywords.empty())
          error(arg->span, "Generator expression must be parenthesized");
        SourceSpan elt_start = arg->span;
        arg = parse_comprehension(ast::Comp::Type::Generator, std::move(arg), nullptr, elt_start);
        if (!at_op(")")) error(arg->span, "Generator expression must be parenthesized");
      }
      if (at_op("=")) {
        error(SourceSpan::merge(arg->span, peek().span),
              "expression cannot contain assignment, perhaps you meant \"==\"?");
      }
      if (unpacked_keywords) error(arg->span, "positional argument follows keyword argument unpacking");
      if (!call->keywords.empty()) {
        error(arg->span, "positional argument follows keyword argument");
      }
      call->args.push_back(std::move(arg));
    }
    if (!accept_op(",")) break;
  }
  const Token& close = expect_op(")", "to close the call");
  call->span = SourceSpan::merge(call->span, close.span);
  return finish(std::move(call));
}

ExprPtr Parser::parse_subscript(ExprPtr value, SourceSpan start) {
  size_t open = pos_;
  next();
  if (at_op("]")) error(bracket_span(open), "expected an index inside '[]'");
  std::vector<ExprPtr> items;
  bool comma = false;
  SourceSpan items_span = peek().span;
  while (!at_op("]")) {
    items.push_back(parse_subscript_item());
    if (at_keyword("for")) {
      unsupported(bracket_span(open), "generator expressions",
                  "pass a list or tuple with the elements written out");
    }
    if (!accept_op(",")) break;
    comma = true;
  }
  items_span = SourceSpan::merge(items_span, prev_span());
  const Token& close = expect_op("]", "to close the subscript");
  ExprPtr index;
  if (comma) {
    auto tuple = std::make_unique<ast::Tuple>(items_span);
    tuple->elts = std::move(items);
    index = finish(std::move(tuple));
  } else {
    index = std::move(items.front());
  }
  SourceSpan span = SourceSpan::merge(start, close.span);
  return finish(std::make_unique<ast::Subscript>(span, std::move(value), std::move(index)));
}

// An index expression or a slice `lower:upper:step` with any part missing.
ExprPtr Parser::parse_subscript_item() {
  SourceSpan start = peek().span;
  if (at_op("*")) unsupported(extent_from(pos_, 0), "starred expressions in subscripts");
  ExprPtr lower;
  if (!at_op(":")) {
    named_ok_ = true;
    lower = parse_test();
    if (!at_op(":")) return lower;
  }
  next();
  auto slice = std::make_unique<ast::Slice>(start);
  slice->lower = std::move(lower);
  auto part_follows = [&] { return !at_op(":") && !at_op(",") && !at_op("]"); };
  if (part_follows()) slice->upper = parse_test();
  if (accept_op(":") && part_follows()) slice->step = parse_test();
  slice->span = SourceSpan::merge(start, prev_span());
  return finish(std::move(slice));
}

// A `for` loop's target: like star_expressions but at the `|` level, so that
// the `in` that follows is not read as a comparison.
ExprPtr Parser::parse_target_list() {
  auto item = [&]() -> ExprPtr {
    if (!at_op("*")) return parse_binary(1);
    SourceSpan star = next().span;
    ExprPtr value = parse_binary(1);
    SourceSpan span = SourceSpan::merge(star, prev_span());
    return finish(std::make_unique<ast::Starred>(span, std::move(value)));
  };
  SourceSpan start = peek().span;
  ExprPtr first = item();
  if (!at_op(",")) return first;
  auto tuple = std::make_unique<ast::Tuple>(start);
  tuple->elts.push_back(std::move(first));
  while (accept_op(",")) {
    if (at_keyword("in")) break;
    tuple->elts.push_back(item());
  }
  tuple->span = SourceSpan::merge(tuple->span, prev_span());
  return finish(std::move(tuple));
}

ExprPtr Parser::parse_atom() {
  const Token& t = peek();
  if (t.kind == TokenKind::Name) {
    if (t.text == "None" || t.text == "True" || t.text == "False") {
      auto c = std::make_unique<ast::Constant>(next().span);
      c->type = t.text == "None" ? ast::Constant::Type::None : ast::Constant::Type::Bool;
      c->bool_value = t.text == "True";
      return finish(std::move(c));
    }
    if (t.text == "lambda") {
      unsupported(extent_from(pos_, 1), "lambda expressions", "define a helper function instead");
    }
    if (t.text == "yield") unsupported(extent_from(pos_, 0), "yield expressions");
    if (t.text == "await") unsupported(extent_from(pos_, 0), "await expressions");
    if (is_keyword(t.text)) unexpected("an expression");
    const Token& name = next();
    return finish(std::make_unique<ast::Name>(name.span, name.text));
  }
  if (t.kind == TokenKind::Number) return parse_number(next());
  if (t.kind == TokenKind::String) return parse_strings();
  if (t.kind == TokenKind::Op) {
    if (t.text == "(") return parse_paren();
    if (t.text == "[") return parse_list();
    if (t.text == "{") return parse_brace();
    if (t.text == "...") {
      auto c = std::make_unique<ast::Constant>(next().span);
      c->type = ast::Constant::Type::Ellipsis;
      return finish(std::move(c));
    }
  }
  unexpected("an expression");
}

ExprPtr Parser::parse_paren() {
  SourceSpan start = next().span;
  if (at_op(")")) {
    auto tuple = std::make_unique<ast::Tuple>(SourceSpan::merge(start, next().span));
    tuple->parenthesized = true;
    return finish(std::move(tuple));
  }
  if (at_keyword("yield")) unsupported(extent_from(pos_, 0), "yield expressions");
  named_ok_ = true;
  ExprPtr first = parse_star_or_test();
  if (at_keyword("for")) {
    reject_bare_starred(*first);
    ExprPtr comp = parse_comprehension(ast::Comp::Type::Generator, std::move(first), nullptr, start);
    comp->span = SourceSpan::merge(start, expect_op(")", "to close the generator expression").span);
    return comp;
  }
  if (accept_op(")")) {
    reject_bare_starred(*first);
    return first;  // like Python, the node's span does not include the parentheses
  }
  if (!at_op(",")) unexpected("',' or ')'");
  auto tuple = std::make_unique<ast::Tuple>(start);
  tuple->parenthesized = true;
  tuple->elts.push_back(std::move(first));
  while (accept_op(",")) {
    if (at_op(")")) break;
    named_ok_ = true;
    tuple->elts.push_back(parse_star_or_test());
  }
  tuple->span = SourceSpan::merge(start, expect_op(")", "to close the tuple").span);
  return finish(std::move(tuple));
}

ExprPtr Parser::parse_list() {
  SourceSpan start = next().span;
  auto list = std::make_unique<ast::List>(start);
  if (!at_op("]")) {
    named_ok_ = true;
    list->elts.push_back(parse_star_or_test());
    if (at_keyword("for")) {
      reject_bare_starred(*list->elts.front());
      ExprPtr comp = parse_comprehension(ast::Comp::Type::List, std::move(list->elts.front()), nullptr, start);
      comp->span = SourceSpan::merge(start, expect_op("]", "to close the list comprehension").span);
      return comp;
    }
    while (accept_op(",")) {
      if (at_op("]")) break;
      named_ok_ = true;
      list->elts.push_back(parse_star_or_test());
    }
  }
  list->span = SourceSpan::merge(start, expect_op("]", "to close the list").span);
  return finish(std::move(list));
}

// The `for ... in ... if ...` clauses after a comprehension's element; the
// caller reads the closing bracket and sets the final span.
ExprPtr Parser::parse_comprehension(ast::Comp::Type type, ExprPtr elt, ExprPtr value, SourceSpan start) {
  auto comp = std::make_unique<ast::Comp>(start, type);
  comp->elt = std::move(elt);
  comp->value = std::move(value);
  while (at_keyword("for")) {
    next();
    ast::Comprehension g;
    g.target = parse_target_list();
    validate_target(*g.target, /*top_level=*/false);
    if (!at_keyword("in")) unexpected("'in' after the comprehension's variable");
    next();
    g.iter = parse_or();
    while (at_keyword("if")) {
      next();
      g.ifs.push_back(parse_or());
    }
    comp->generators.push_back(std::move(g));
  }
  if (at_keyword("async")) unsupported(extent_from(pos_, 0), "asynchronous comprehensions");
  comp->span = SourceSpan::merge(start, prev_span());
  reject_named_within(start, "a comprehension");
  return finish(std::move(comp));
}

// `{...}`: set and dict comprehensions; displays are rejected (reject_brace).
ExprPtr Parser::parse_brace() {
  size_t open = pos_;
  size_t close = matching_close(open);
  bool has_for = false;
  int depth = 0;
  for (size_t i = open + 1; i < close && !has_for; ++i) {
    const Token& t = tokens_[i];
    if (t.kind == TokenKind::Op && (t.text == "(" || t.text == "[" || t.text == "{")) ++depth;
    if (t.kind == TokenKind::Op && (t.text == ")" || t.text == "]" || t.text == "}")) --depth;
    if (depth == 0 && t.kind == TokenKind::Name && t.text == "for") has_for = true;
  }
  if (!has_for) return parse_dict_display();
  SourceSpan start = next().span;
  if (at_op("**")) unsupported(extent_from(pos_, 0), "dict unpacking (**) in comprehensions");
  ExprPtr first = parse_test();
  ExprPtr value;
  if (accept_op(":")) value = parse_test();
  if (!at_keyword("for")) unexpected("'for' in the comprehension");
  auto type = value ? ast::Comp::Type::Dict : ast::Comp::Type::Set;
  ExprPtr comp = parse_comprehension(type, std::move(first), std::move(value), start);
  comp->span = SourceSpan::merge(start, expect_op("}", "to close the comprehension").span);
  return comp;
}

// `{k: v, ...}`: a dict display, read as `dict([(k, v), ...])`, the same
// values in the same order (sema knows `dict` of pairs; host code prints the
// call).  `**mapping` among them is its items in place, `*mapping.items()`:
// later entries win, as in Python.  Set displays stay unsupported (reject_brace).
ExprPtr Parser::parse_dict_display() {
  size_t open = pos_;
  size_t close = matching_close(open);
  int depth = 0;
  bool has_colon = close == open + 1;
  for (size_t i = open + 1; i < close; ++i) {
    const Token& t = tokens_[i];
    if (t.kind == TokenKind::Op && (t.text == "(" || t.text == "[" || t.text == "{")) ++depth;
    if (t.kind == TokenKind::Op && (t.text == ")" || t.text == "]" || t.text == "}")) --depth;
    if (depth != 0 || t.kind != TokenKind::Op) continue;
    if (t.text == ":" || t.text == "**") has_colon = true;
  }
  if (!has_colon) reject_brace();
  SourceSpan span = bracket_span(open);
  next();  // {
  auto pairs = std::make_unique<ast::List>(span);
  while (!at_op("}")) {
    if (at_op("**")) {
      SourceSpan stars = next().span;
      ExprPtr mapping = parse_binary(0);  // Python's `'**' bitwise_or`
      SourceSpan whole = SourceSpan::merge(stars, mapping->span);
      auto items = std::make_unique<ast::Call>(whole);
      auto attr = std::make_unique<ast::Attribute>(whole, std::move(mapping), "items");
      attr->attr_span = stars;
      items->func = finish(std::move(attr));
      pairs->elts.push_back(finish(std::make_unique<ast::Starred>(whole, finish(std::move(items)))));
      if (!accept_op(",")) break;
      continue;
    }
    ExprPtr key = parse_test();
    expect_op(":", "after a dict key");
    ExprPtr value = parse_test();
    auto pair = std::make_unique<ast::Tuple>(SourceSpan::merge(key->span, value->span));
    pair->elts.push_back(std::move(key));
    pair->elts.push_back(std::move(value));
    pairs->elts.push_back(finish(std::move(pair)));
    if (!accept_op(",")) break;
  }
  expect_op("}", "to close the dict");
  auto call = std::make_unique<ast::Call>(span);
  call->func = finish(std::make_unique<ast::Name>(span, "dict"));
  call->args.push_back(finish(std::move(pairs)));
  return finish(std::move(call));
}

// `{...}`: dict/set displays, unsupported.  Tells them apart by a top-level
// `:` (or `**`) inside the braces.
void Parser::reject_brace() {
  size_t open = pos_;
  size_t close = matching_close(open);
  bool has_for = false, has_colon = false;
  int depth = 0;
  for (size_t i = open + 1; i < close; ++i) {
    const Token& t = tokens_[i];
    if (t.kind == TokenKind::Op && (t.text == "(" || t.text == "[" || t.text == "{")) ++depth;
    if (t.kind == TokenKind::Op && (t.text == ")" || t.text == "]" || t.text == "}")) --depth;
    if (depth != 0) continue;
    if (t.kind == TokenKind::Name && t.text == "for") has_for = true;
    if (t.kind == TokenKind::Op && (t.text == ":" || t.text == "**") && !has_for) has_colon = true;
  }
  bool is_dict = has_colon || close == open + 1;
  SourceSpan span = bracket_span(open);
  if (has_for) {
    unsupported(span, is_dict ? "dict comprehensions" : "set comprehensions");
  }
  unsupported(span, is_dict ? "dict displays" : "set displays",
              is_dict ? "pass the values as separate arguments" : "use a list or tuple");
}

ExprPtr Parser::parse_number(const Token& t) {
  std::string digits;
  for (char c : t.text) {
    if (c != '_') digits += c;
  }
  auto c = std::make_unique<ast::Constant>(t.span);
  bool prefixed = digits.size() > 1 && digits[0] == '0' &&
                  std::string_view("xXoObB").find(digits[1]) != std::string_view::npos;
  bool is_float = !prefixed && digits.find_first_of(".eE") != std::string::npos;
  if (is_float) {
    double value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc::result_out_of_range) {
      // Like Python: too large is infinity, too small underflows to zero.
      size_t e = digits.find_first_of("eE");
      bool tiny = e != std::string::npos && digits[e + 1] == '-';
      value = tiny ? 0.0 : std::numeric_limits<double>::infinity();
    }
    c->type = ast::Constant::Type::Float;
    c->float_value = value;
    return finish(std::move(c));
  }
  int base = 10;
  size_t begin = 0;
  if (prefixed) {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(digits[1])));
    base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
    begin = 2;
  }
  uint64_t value = 0;
  const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (size_t i = begin; i < digits.size(); ++i) {
    uint64_t d = static_cast<uint64_t>(hex_value(digits[i]));
    if (value > (limit - d) / static_cast<uint64_t>(base)) {
      error(t.span, "integer literal is too large for a 64-bit signed integer",
            "kernel integers are int64; the largest is 9223372036854775807");
    }
    value = value * static_cast<uint64_t>(base) + d;
  }
  c->type = ast::Constant::Type::Int;
  c->int_value = static_cast<int64_t>(value);
  return finish(std::move(c));
}

// ------------------------------------------------------------ strings

StringInfo Parser::string_info(const Token& t) const {
  StringInfo info;
  size_t prefix = t.text.find_first_of("'\"");
  for (size_t i = 0; i < prefix; ++i) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(t.text[i])));
    info.raw |= c == 'r';
    info.bytes |= c == 'b';
    info.fstring |= c == 'f';
  }
  char quote = t.text[prefix];
  size_t quote_len = t.text.size() >= prefix + 6 && t.text[prefix + 1] == quote &&
                             t.text[prefix + 2] == quote
                         ? 3
                         : 1;
  size_t start = offset_of(t.span.line, t.span.col);
  info.body_begin = start + prefix + quote_len;
  info.body_end = start + t.text.size() - quote_len;
  return info;
}

// Decodes the text [begin, end) of the file as the body of a string literal:
// backslash escapes (unless raw) and "\r\n" -> "\n".
std::string Parser::decode_string(size_t begin, size_t end, bool raw) const {
  const std::string& s = file_->text;
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    char c = s[i];
    if (c == '\r' && i + 1 < end && s[i + 1] == '\n') continue;
    if (c != '\\' || raw || i + 1 >= end) {
      out += c;
      continue;
    }
    char n = s[i + 1];
    size_t escape_start = i;
    i += 1;  // now at the escaped character
    switch (n) {
      case '\n': break;  // line continuation inside the literal
      case '\r': ++i; break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x':
      case 'u':
      case 'U': {
        size_t count = n == 'x' ? 2 : n == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (size_t k = 1; k <= count; ++k) {
          int v = i + k < end ? hex_value(s[i + k]) : -1;
          if (v < 0) {
            error(span_at(escape_start, std::min(k + 1, end - escape_start)),
                std::string("invalid \\") + n + " escape: expected " + std::to_string(count) +
                    " hexadecimal digits",
                {});
          }
          cp = cp * 16 + static_cast<uint32_t>(v);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          error(span_at(escape_start, count + 2),
                "invalid code point in \\" + std::string(1, n) + " escape", {});
        }
        append_utf8(out, cp);
        i += count;
        break;
      }
      case 'N':
        error(span_at(escape_start, 2), "\\N{...} escapes are not supported in kernels",
              "write the character itself or use a \\u escape");
      default:
        if (n >= '0' && n <= '7') {
          uint32_t cp = 0;
          size_t k = 0;
          while (k < 3 && i + k < end && s[i + k] >= '0' && s[i + k] <= '7') {
            cp = cp * 8 + static_cast<uint32_t>(s[i + k] - '0');
            ++k;
          }
          append_utf8(out, cp);
          i += k - 1;
        } else {
          out += '\\';  // unknown escapes keep the backslash, as in Python
          out += n;
        }
    }
  }
  return out;
}

// One or more adjacent string literals, joined.  If any is an f-string the
// result is an FString whose literal parts are merged; otherwise a Constant.
ExprPtr Parser::parse_strings() {
  SourceSpan span = peek().span;
  std::vector<std::pair<const Token*, StringInfo>> pieces;
  bool any_fstring = false;
  while (at_kind(TokenKind::String)) {
    const Token& t = next();
    StringInfo info = string_info(t);
    if (info.bytes) {
      unsupported(t.span, "bytes literals", "use a str literal");
    }
    any_fstring |= info.fstring;
    pieces.emplace_back(&t, info);
    span = SourceSpan::merge(span, t.span);
  }
  if (!any_fstring) {
    auto c = std::make_unique<ast::Constant>(span);
    c->type = ast::Constant::Type::String;
    for (const auto& [token, info] : pieces) {
      c->string_value += decode_string(info.body_begin, info.body_end, info.raw);
    }
    return finish(std::move(c));
  }
  auto f = std::make_unique<ast::FString>(span);
  for (const auto& [token, info] : pieces) {
    if (info.fstring) {
      parse_fstring_body(info, *f);
    } else {
      ast::FString::Part part;
      part.literal = decode_string(info.body_begin, info.body_end, info.raw);
      f->parts.push_back(std::move(part));
    }
  }
  // Merge neighbouring literal parts and drop empty ones (as Python does).
  std::vector<ast::FString::Part> merged;
  for (auto& part : f->parts) {
    if (!part.value && part.literal.empty()) continue;
    if (!part.value && !merged.empty() && !merged.back().value) {
      merged.back().literal += part.literal;
    } else {
      merged.push_back(std::move(part));
    }
  }
  f->parts = std::move(merged);
  return finish(std::move(f));
}

// Splits an f-string body into literal text and replacement fields.
void Parser::parse_fstring_body(const StringInfo& info, ast::FString& out) {
  const std::string& s = file_->text;
  size_t i = info.body_begin;
  size_t literal_begin = i;
  auto flush = [&](size_t end) {
    ast::FString::Part part;
    part.literal = decode_string(literal_begin, end, info.raw);
    if (!part.literal.empty()) out.parts.push_back(std::move(part));
  };
  while (i < info.body_end) {
    char c = s[i];
    if (c == '\\') {
      // A backslash before a brace is literal and the brace keeps its meaning
      // (as in Python 3.11); other escapes are skipped whole so the character
      // they escape is never taken as a brace.
      char n = i + 1 < info.body_end ? s[i + 1] : '\0';
      if (n == 'N' && !info.raw) {
        error(span_at(i, 2), "\\N{...} escapes are not supported in kernels");
      }
      i += (n == '{' || n == '}' || n == '\0') ? 1 : 2;
      continue;
    }
    if (c == '{' || c == '}') {
      bool doubled = i + 1 < info.body_end && s[i + 1] == c;
      if (doubled) {
        flush(i + 1);  // keep one brace
        i += 2;
        literal_begin = i;
        continue;
      }
      if (c == '}') {
        error(span_at(i, 1), "f-string: single '}' is not allowed", "write '}}' for a literal '}'");
      }
      flush(i);
      i = parse_replacement_field(i, info, out);
      literal_begin = i;
      continue;
    }
    ++i;
  }
  flush(info.body_end);
}

// Parses `{expr[!c][:spec]}` starting at the '{' at `open`; returns the offset
// just past the closing '}'.
size_t Parser::parse_replacement_field(size_t open, const StringInfo& info, ast::FString& out) {
  const std::string& s = file_->text;
  size_t end = info.body_end;
  auto expecting_brace = [&](size_t at) {
    error(span_at(open, std::max<size_t>(1, std::min(at, end) - open)),
          "f-string: expecting '}'");
  };
  // Find where the expression ends: the first '}', '!' or ':' (or a lone
  // '=') outside brackets and nested string literals.
  size_t i = open + 1;
  int depth = 0;
  for (;; ++i) {
    if (i >= end) expecting_brace(i);
    char c = s[i];
    if (c == '\'' || c == '"') {
      bool triple = i + 2 < end && s[i + 1] == c && s[i + 2] == c;
      size_t q = i + (triple ? 3 : 1);
      for (;; ++q) {
        if (q >= end) error(span_at(i, 1), "f-string: unterminated string in expression");
        if (s[q] == '\\') {
          ++q;
          continue;
        }
        if (s[q] == c && (!triple || (q + 2 < end && s[q + 1] == c && s[q + 2] == c))) break;
      }
      i = q + (triple ? 2 : 0);
      continue;
    }
    if (c == '#') error(span_at(i, 1), "f-string expression part cannot include '#'");
    if (c == '(' || c == '[' || c == '{') ++depth;
    if ((c == ')' || c == ']' || c == '}') && depth > 0) {
      --depth;
      continue;
    }
    if (depth > 0) continue;
    if (c == '}' || c == ':') break;
    if ((c == '=' || c == '!' || c == '<' || c == '>') && i + 1 < end && s[i + 1] == '=') {
      ++i;  // ==, !=, <=, >=
      continue;
    }
    if (c == '!') break;
    if (c == '=') {
      error(span_at(i, 1), "self-documenting f-string fields ('{x=}') are not supported in kernels",
            "write the name out: f\"x={x!r}\"");
    }
  }
  size_t expr_end = i;
  SourceSpan field_span = span_at(open, expr_end - open + 1);
  ast::FString::Part part;
  part.value = parse_fstring_expression(open + 1, expr_end, field_span);
  if (s[i] == '!') {
    char conv = i + 1 < end ? s[i + 1] : '\0';
    if (conv != 's' && conv != 'r' && conv != 'a') {
      error(span_at(i, i + 1 < end ? 2 : 1),
            "f-string: invalid conversion character: expected 's', 'r', or 'a'");
    }
    part.conversion = conv;
    i += 2;
    if (i >= end || (s[i] != ':' && s[i] != '}')) expecting_brace(i);
  }
  if (s[i] == ':') {
    size_t spec_begin = ++i;
    for (; i < end && s[i] != '}'; ++i) {
      if (s[i] == '{') {
        error(span_at(i, 1), "nested replacement fields in f-string format specs are not supported",
              "compute the format spec outside the f-string");
      }
      if (s[i] == '\\' && i + 1 < end) ++i;
    }
    if (i >= end) expecting_brace(i);
    part.format_spec = decode_string(spec_begin, i, info.raw);
  }
  out.parts.push_back(std::move(part));
  return i + 1;  // past the '}'
}

// Tokenizes and parses the expression text [begin, end) of a replacement
// field with the ordinary expression grammar; spans stay absolute.
ExprPtr Parser::parse_fstring_expression(size_t begin, size_t end, SourceSpan field_span) {
  size_t line_index = static_cast<size_t>(
      std::upper_bound(line_starts_.begin(), line_starts_.end(), begin) - line_starts_.begin() - 1);
  std::vector<Token> tokens =
      tokenize_fragment(file_, begin, end, file_->first_line + static_cast<int>(line_index),
                        line_starts_[line_index]);
  if (tokens.size() == 1) error(field_span, "f-string: empty expression not allowed");
  std::vector<Token> saved_tokens = std::exchange(tokens_, std::move(tokens));
  size_t saved_pos = std::exchange(pos_, 0);
  // Python reads the ':' of `{lambda: 1}` as the start of the format spec.
  if (at_keyword("lambda")) unsupported(extent_from(pos_, 1), "lambda expressions", "define a helper function instead");
  ExprPtr value = parse_star_expressions();
  if (!at_kind(TokenKind::EndMarker)) unexpected("'}' after the f-string expression");
  reject_bare_starred(*value);
  tokens_ = std::move(saved_tokens);
  pos_ = saved_pos;
  return value;
}

#undef NOINLINE
#undef COLD

}  // namespace

std::unique_ptr<ast::Module> parse_module(const std::shared_ptr<const SourceFile>& file) {
  DEUTERON_CHECK(file != nullptr, "parse_module needs a source file");
  return Parser(file, tokenize(file)).parse_module();
}

}  // namespace deuteron
