// The abstract syntax tree of the Python subset that kernels are written in.
//
// Nodes mirror Python's own `ast` module closely (same names, same shapes) so
// that anyone who knows Python's grammar can read sema.  Every node carries a
// SourceSpan.  Children are owned by their parent through unique_ptr; the
// tree is immutable after parsing.
//
// Dispatch is LLVM style: each node has a `kind` and `isa<T>/cast<T>/dyn_cast<T>`
// helpers check it against T::kKind.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deuteron/diagnostic.h"

namespace deuteron::ast {

// ---------------------------------------------------------------- expressions

enum class ExprKind {
  Name,
  Constant,
  FString,
  BinOp,
  UnaryOp,
  BoolOp,
  Compare,
  Call,
  Attribute,
  Subscript,
  Slice,
  Tuple,
  List,
  IfExp,
  Starred,
  Lambda,
  Comp,
};

struct Expr {
  explicit Expr(ExprKind k, SourceSpan s) : kind(k), span(s) {}
  virtual ~Expr() = default;
  const ExprKind kind;
  SourceSpan span;
};
using ExprPtr = std::unique_ptr<Expr>;

struct Name : Expr {
  static constexpr ExprKind kKind = ExprKind::Name;
  Name(SourceSpan s, std::string i) : Expr(kKind, s), id(std::move(i)) {}
  std::string id;
};

// Literal constants.  Python's `float("-inf")` is a Call, not a Constant;
// sema folds it.
struct Constant : Expr {
  static constexpr ExprKind kKind = ExprKind::Constant;
  enum class Type { None, Bool, Int, Float, String, Ellipsis };
  explicit Constant(SourceSpan s) : Expr(kKind, s) {}
  Type type = Type::None;
  bool bool_value = false;
  int64_t int_value = 0;  // ints that do not fit in int64 are a parse error
  double float_value = 0.0;
  std::string string_value;  // decoded (escapes processed); adjacent literals joined
};

// f"text {value!r:fmt} more".  parts alternate freely between literal text
// (a Constant of Type::String) and FormattedValue entries.
struct FString : Expr {
  static constexpr ExprKind kKind = ExprKind::FString;
  explicit FString(SourceSpan s) : Expr(kKind, s) {}
  struct Part {
    std::string literal;        // used when value == nullptr
    ExprPtr value;              // the expression inside {}
    char conversion = 0;        // 0, 's', 'r' or 'a'
    std::string format_spec;    // text after ':' (nested fields not supported)
  };
  std::vector<Part> parts;
};

enum class BinOpKind { Add, Sub, Mult, Div, FloorDiv, Mod, Pow, MatMult, LShift, RShift, BitAnd, BitOr, BitXor };
enum class UnaryOpKind { USub, UAdd, Invert, Not };
enum class BoolOpKind { And, Or };
enum class CmpOpKind { Eq, NotEq, Lt, LtE, Gt, GtE, Is, IsNot, In, NotIn };

// Python spelling of an operator ("+", "//", "not in", ...).
const char* op_spelling(BinOpKind op);
const char* op_spelling(UnaryOpKind op);
const char* op_spelling(BoolOpKind op);
const char* op_spelling(CmpOpKind op);

struct BinOp : Expr {
  static constexpr ExprKind kKind = ExprKind::BinOp;
  BinOp(SourceSpan s, BinOpKind o, ExprPtr l, ExprPtr r)
      : Expr(kKind, s), op(o), left(std::move(l)), right(std::move(r)) {}
  BinOpKind op;
  ExprPtr left, right;
};

struct UnaryOp : Expr {
  static constexpr ExprKind kKind = ExprKind::UnaryOp;
  UnaryOp(SourceSpan s, UnaryOpKind o, ExprPtr e) : Expr(kKind, s), op(o), operand(std::move(e)) {}
  UnaryOpKind op;
  ExprPtr operand;
};

// `a and b and c` is one BoolOp with three values (as in Python's ast).
struct BoolOp : Expr {
  static constexpr ExprKind kKind = ExprKind::BoolOp;
  BoolOp(SourceSpan s, BoolOpKind o) : Expr(kKind, s), op(o) {}
  BoolOpKind op;
  std::vector<ExprPtr> values;
};

// `a < b <= c` is Compare(left=a, ops=[Lt, LtE], comparators=[b, c]).
struct Compare : Expr {
  static constexpr ExprKind kKind = ExprKind::Compare;
  explicit Compare(SourceSpan s) : Expr(kKind, s) {}
  ExprPtr left;
  std::vector<CmpOpKind> ops;
  std::vector<ExprPtr> comparators;
};

struct Keyword {
  std::string name;  // empty for `**mapping` (sema expands a mapping known when compiling)
  ExprPtr value;
  SourceSpan span;   // covers `name=value`
};

struct Call : Expr {
  static constexpr ExprKind kKind = ExprKind::Call;
  explicit Call(SourceSpan s) : Expr(kKind, s) {}
  ExprPtr func;
  std::vector<ExprPtr> args;  // may contain Starred
  std::vector<Keyword> keywords;
};

struct Attribute : Expr {
  static constexpr ExprKind kKind = ExprKind::Attribute;
  Attribute(SourceSpan s, ExprPtr v, std::string a) : Expr(kKind, s), value(std::move(v)), attr(std::move(a)) {}
  ExprPtr value;
  std::string attr;
  SourceSpan attr_span;  // just the attribute name
};

// x[i], x[i, j] (index is a Tuple), x[a:b] (index is a Slice).
struct Subscript : Expr {
  static constexpr ExprKind kKind = ExprKind::Subscript;
  Subscript(SourceSpan s, ExprPtr v, ExprPtr i) : Expr(kKind, s), value(std::move(v)), index(std::move(i)) {}
  ExprPtr value;
  ExprPtr index;
};

// Only appears as a Subscript index or an element of a Tuple index.
struct Slice : Expr {
  static constexpr ExprKind kKind = ExprKind::Slice;
  explicit Slice(SourceSpan s) : Expr(kKind, s) {}
  ExprPtr lower, upper, step;  // each may be null
};

struct Tuple : Expr {
  static constexpr ExprKind kKind = ExprKind::Tuple;
  explicit Tuple(SourceSpan s) : Expr(kKind, s) {}
  std::vector<ExprPtr> elts;
  bool parenthesized = false;  // written with ( ) (affects nothing but printing)
};

struct List : Expr {
  static constexpr ExprKind kKind = ExprKind::List;
  explicit List(SourceSpan s) : Expr(kKind, s) {}
  std::vector<ExprPtr> elts;
};

// body if test else orelse
struct IfExp : Expr {
  static constexpr ExprKind kKind = ExprKind::IfExp;
  explicit IfExp(SourceSpan s) : Expr(kKind, s) {}
  ExprPtr test, body, orelse;
};

// *value inside a call's arguments, a list, a tuple or an assignment target.
struct Starred : Expr {
  static constexpr ExprKind kKind = ExprKind::Starred;
  Starred(SourceSpan s, ExprPtr v) : Expr(kKind, s), value(std::move(v)) {}
  ExprPtr value;
};

// One `for target in iter if cond ...` clause of a comprehension.
struct Comprehension {
  ExprPtr target, iter;
  std::vector<ExprPtr> ifs;
};

// A comprehension: Python's ListComp `[elt for ...]`, GeneratorExp
// `(elt for ...)`, SetComp `{elt for ...}` and DictComp `{key: value for ...}`
// (one node; `type` says which).  For a DictComp, `elt` is the key.
struct Comp : Expr {
  static constexpr ExprKind kKind = ExprKind::Comp;
  enum class Type { List, Generator, Set, Dict };
  Comp(SourceSpan s, Type t) : Expr(kKind, s), type(t) {}
  Type type;
  ExprPtr elt;
  ExprPtr value;  // DictComp only
  std::vector<Comprehension> generators;
};

// ----------------------------------------------------------------- statements

enum class StmtKind {
  FunctionDef,
  Assign,
  AugAssign,
  AnnAssign,
  For,
  While,
  If,
  Break,
  Continue,
  Return,
  Pass,
  Assert,
  ExprStmt,
};

struct Stmt {
  Stmt(StmtKind k, SourceSpan s) : kind(k), span(s) {}
  virtual ~Stmt() = default;
  const StmtKind kind;
  SourceSpan span;  // the whole statement (for compound statements: header through body)
};
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Arg {
  std::string name;
  ExprPtr annotation;  // may be null
  ExprPtr default_value;  // may be null
  SourceSpan span;
  bool keyword_only = false;  // declared after a bare `*` or after `*args`
};

// lambda args: body.  Its parameters take no annotations.
struct Lambda : Expr {
  static constexpr ExprKind kKind = ExprKind::Lambda;
  explicit Lambda(SourceSpan s) : Expr(kKind, s) {}
  std::vector<Arg> args;
  // `*name` and `**name` (the extra positional / keyword arguments of a call);
  // `args` holds the named parameters only.  Absent when not declared.
  std::optional<Arg> vararg, kwarg;
  ExprPtr body;
};

struct FunctionDef : Stmt {
  static constexpr StmtKind kKind = StmtKind::FunctionDef;
  explicit FunctionDef(SourceSpan s) : Stmt(kKind, s) {}
  std::string name;
  SourceSpan name_span;
  std::vector<ExprPtr> decorators;
  std::vector<Arg> args;
  std::optional<Arg> vararg, kwarg;  // `*name`, `**name` (see Lambda)
  ExprPtr returns;  // return annotation, may be null
  Body body;
  std::optional<std::string> docstring;  // first statement string literal (also kept in body)
};

// `a = b = value` has targets [a, b].  Targets are Name, Tuple/List of
// targets, Subscript, Attribute or Starred.
struct Assign : Stmt {
  static constexpr StmtKind kKind = StmtKind::Assign;
  explicit Assign(SourceSpan s) : Stmt(kKind, s) {}
  std::vector<ExprPtr> targets;
  ExprPtr value;
};

struct AugAssign : Stmt {
  static constexpr StmtKind kKind = StmtKind::AugAssign;
  explicit AugAssign(SourceSpan s) : Stmt(kKind, s) {}
  ExprPtr target;
  BinOpKind op;
  ExprPtr value;
};

// x: T = value   (value may be null)
struct AnnAssign : Stmt {
  static constexpr StmtKind kKind = StmtKind::AnnAssign;
  explicit AnnAssign(SourceSpan s) : Stmt(kKind, s) {}
  ExprPtr target;
  ExprPtr annotation;
  ExprPtr value;
};

struct For : Stmt {
  static constexpr StmtKind kKind = StmtKind::For;
  explicit For(SourceSpan s) : Stmt(kKind, s) {}
  ExprPtr target;
  ExprPtr iter;
  Body body;
  SourceSpan header_span;  // `for target in iter:`
};

struct While : Stmt {
  static constexpr StmtKind kKind = StmtKind::While;
  explicit While(SourceSpan s) : Stmt(kKind, s) {}
  ExprPtr test;
  Body body;
  SourceSpan header_span;
};

// elif chains are nested Ifs in orelse (as in Python's ast); `is_elif` marks them.
struct If : Stmt {
  static constexpr StmtKind kKind = StmtKind::If;
  explicit If(SourceSpan s) : Stmt(kKind, s) {}
  ExprPtr test;
  Body body;
  Body orelse;
  bool is_elif = false;
  SourceSpan header_span;
};

struct Break : Stmt {
  static constexpr StmtKind kKind = StmtKind::Break;
  explicit Break(SourceSpan s) : Stmt(kKind, s) {}
};

struct Continue : Stmt {
  static constexpr StmtKind kKind = StmtKind::Continue;
  explicit Continue(SourceSpan s) : Stmt(kKind, s) {}
};

struct Return : Stmt {
  static constexpr StmtKind kKind = StmtKind::Return;
  explicit Return(SourceSpan s) : Stmt(kKind, s) {}
  ExprPtr value;  // may be null
};

struct Pass : Stmt {
  static constexpr StmtKind kKind = StmtKind::Pass;
  explicit Pass(SourceSpan s) : Stmt(kKind, s) {}
};

struct Assert : Stmt {
  static constexpr StmtKind kKind = StmtKind::Assert;
  explicit Assert(SourceSpan s) : Stmt(kKind, s) {}
  ExprPtr test;
  ExprPtr msg;  // may be null; often an FString
};

struct ExprStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::ExprStmt;
  ExprStmt(SourceSpan s, ExprPtr v) : Stmt(kKind, s), value(std::move(v)) {}
  ExprPtr value;
};

// A parsed file: the top-level statements (for a kernel, normally one
// FunctionDef, possibly preceded by decorators).
struct Module {
  Body body;
};

// ------------------------------------------------------------ LLVM-style casts

template <typename T, typename N>
bool isa(const N* n) {
  return n && n->kind == T::kKind;
}
template <typename T, typename N>
T* cast(N* n) {
  DEUTERON_CHECK(isa<T>(n), "bad AST cast");
  return static_cast<T*>(n);
}
template <typename T, typename N>
const T* cast(const N* n) {
  DEUTERON_CHECK(isa<T>(n), "bad AST cast");
  return static_cast<const T*>(n);
}
template <typename T, typename N>
T* dyn_cast(N* n) {
  return isa<T>(n) ? static_cast<T*>(n) : nullptr;
}
template <typename T, typename N>
const T* dyn_cast(const N* n) {
  return isa<T>(n) ? static_cast<const T*>(n) : nullptr;
}

// ------------------------------------------------------------------- printing

// A deterministic, indented tree dump with spans, used by `deuteronc
// --dump=ast` and the parser's golden tests.  Example:
//   FunctionDef add @3:1-6:15
//     Arg x : Attribute(Name torch).Tensor
//     ...
std::string dump(const Module& m);
std::string dump(const Stmt& s, int indent = 0);
std::string dump(const Expr& e);

// The same dump with options; `spans = false` leaves out every "@line:col"
// part, so trees that differ only in layout (e.g. a kernel and its unparse)
// compare equal.
struct DumpOptions {
  bool spans = true;
};
std::string dump(const Module& m, const DumpOptions& options);
std::string dump(const Stmt& s, int indent, const DumpOptions& options);
std::string dump(const Expr& e, const DumpOptions& options);

// Python's repr() of a float (shortest round-trip digits, "1e-05", "100.0",
// "inf", "nan") and of a str ('it''s' quoting rules, escapes).
std::string float_repr(double value);
std::string string_repr(const std::string& value);

// Turns an expression back into Python source (canonical spacing, minimal
// parentheses that keep the meaning).  Used to emit host code and `# line`
// comments in generated modules.
std::string unparse(const Expr& e);
// Unparses a statement (and its body, indented by 4 spaces per level) into
// one or more lines, each ending in '\n', prefixed by `indent` spaces.
std::string unparse(const Stmt& s, int indent = 0);

}  // namespace deuteron::ast
