// Printing the AST: operator spellings, the tree dump, and unparsing back to
// Python source.
//
// Dump format (one node per line, two spaces of indent per level):
//
//   Module
//     FunctionDef add @2:1-3:17 name@2:5-2:8
//       decorators:
//         Attribute .kernel @1:2-1:17 attr@1:11-1:17
//           value: Name deuteron @1:2-1:10
//       args:
//         Arg x @2:9-2:23
//           annotation: Attribute .Tensor @2:12-2:24 attr@2:18-2:24
//             value: Name torch @2:12-2:17
//       body:
//         Return @3:5-3:17
//           value: BinOp + @3:12-3:17
//             left: Name x @3:12-3:13
//             right: Name y @3:16-3:17
//
// A node line is `Kind [details] @line:col-end_line:end_col [extra spans]`;
// child nodes follow, labelled with their field name ("left: ..."), and list
// fields are a `field:` line with the elements one level deeper.  Null and
// empty fields are omitted.  Constants show their type and Python repr
// (`Constant int 3`, `Constant float 1e-05`, `Constant str 'a'`).
//
// Unparsing prints canonical Python: single spaces around binary operators,
// `, ` between elements, and only the parentheses that precedence and
// associativity need.  Parsing the output gives back the same tree (up to
// spans and Tuple::parenthesized for tuples that needed parentheses anyway).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "deuteron/ast.h"

namespace deuteron::ast {

const char* op_spelling(BinOpKind op) {
  switch (op) {
    case BinOpKind::Add: return "+";
    case BinOpKind::Sub: return "-";
    case BinOpKind::Mult: return "*";
    case BinOpKind::Div: return "/";
    case BinOpKind::FloorDiv: return "//";
    case BinOpKind::Mod: return "%";
    case BinOpKind::Pow: return "**";
    case BinOpKind::MatMult: return "@";
    case BinOpKind::LShift: return "<<";
    case BinOpKind::RShift: return ">>";
    case BinOpKind::BitAnd: return "&";
    case BinOpKind::BitOr: return "|";
    case BinOpKind::BitXor: return "^";
  }
  return "?";
}

const char* op_spelling(UnaryOpKind op) {
  switch (op) {
    case UnaryOpKind::USub: return "-";
    case UnaryOpKind::UAdd: return "+";
    case UnaryOpKind::Invert: return "~";
    case UnaryOpKind::Not: return "not";
  }
  return "?";
}

const char* op_spelling(BoolOpKind op) { return op == BoolOpKind::And ? "and" : "or"; }

const char* op_spelling(CmpOpKind op) {
  switch (op) {
    case CmpOpKind::Eq: return "==";
    case CmpOpKind::NotEq: return "!=";
    case CmpOpKind::Lt: return "<";
    case CmpOpKind::LtE: return "<=";
    case CmpOpKind::Gt: return ">";
    case CmpOpKind::GtE: return ">=";
    case CmpOpKind::Is: return "is";
    case CmpOpKind::IsNot: return "is not";
    case CmpOpKind::In: return "in";
    case CmpOpKind::NotIn: return "not in";
  }
  return "?";
}

// ------------------------------------------------------------------ reprs

std::string float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // Shortest digits that round-trip, in scientific form "d.ddde[+-]XX".
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, result.ptr);
  size_t e = sci.find('e');
  int exponent = 0;
  const char* exp_begin = sci.data() + e + 1;
  if (*exp_begin == '+') ++exp_begin;  // from_chars takes no '+' sign
  std::from_chars(exp_begin, sci.data() + sci.size(), exponent);
  // Python's repr switches to exponent notation outside 1e-4 <= |x| < 1e16.
  if (exponent < -4 || exponent >= 16) return sci;
  std::string sign = sci[0] == '-' ? "-" : "";
  std::string digits;
  for (size_t i = sign.size(); i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  std::string out;
  if (exponent >= 0) {
    size_t int_len = static_cast<size_t>(exponent) + 1;
    if (digits.size() < int_len) digits.append(int_len - digits.size(), '0');
    std::string frac = digits.substr(int_len);
    out = digits.substr(0, int_len) + "." + (frac.empty() ? "0" : frac);
  } else {
    out = "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  }
  return sign + out;
}

namespace {

// Escapes `value` for the inside of a literal delimited by `quote`.  Control
// characters become escapes; other bytes (UTF-8 text included) are kept.
std::string escape_body(const std::string& value, char quote, bool double_braces) {
  std::string out;
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else if (double_braces && (c == '{' || c == '}')) {
      out += c;
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string string_repr(const std::string& value) {
  // Like Python: single quotes unless the text has ' and no ".
  bool has_single = value.find('\'') != std::string::npos;
  bool has_double = value.find('"') != std::string::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  return quote + escape_body(value, quote, false) + quote;
}

namespace {

// The dumper and unparser recurse once per tree level, so their recursive
// functions append straight into the output instead of building temporary
// strings: that keeps their stack frames small (see kMaxAstDepth), which
// matters most in sanitizer builds.  Non-recursive helpers stay out of line.
#define NOINLINE [[gnu::noinline]]

std::string span_text(const SourceSpan& s) {
  return "@" + std::to_string(s.line) + ":" + std::to_string(s.col) + "-" +
         std::to_string(s.end_line) + ":" + std::to_string(s.end_col);
}

std::string constant_text(const Constant& c) {
  switch (c.type) {
    case Constant::Type::None: return "None";
    case Constant::Type::Bool: return c.bool_value ? "True" : "False";
    case Constant::Type::Int: return "int " + std::to_string(c.int_value);
    case Constant::Type::Float: return "float " + float_repr(c.float_value);
    case Constant::Type::String: return "str " + string_repr(c.string_value);
    case Constant::Type::Ellipsis: return "...";
  }
  return "?";
}

// ------------------------------------------------------------------ dump

class Dumper {
 public:
  explicit Dumper(const DumpOptions& options) : options_(options) {}

  void module(const Module& m) {
    line(0, "Module");
    for (const StmtPtr& s : m.body) stmt(*s, 2);
  }
  void stmt(const Stmt& s, int indent);
  void expr(const Expr& e, int indent, std::string_view label);
  std::string take() { return std::move(out_); }

 private:
  void line(int indent, std::string_view text) {
    out_.append(static_cast<size_t>(indent), ' ');
    out_ += text;
    out_ += '\n';
  }
  // " @1:2-3:4", or "" when spans are off.
  std::string at(const SourceSpan& s) const { return options_.spans ? " " + span_text(s) : ""; }
  // " name@1:2-3:4" for secondary spans.
  std::string extra(const char* name, const SourceSpan& s) const {
    return options_.spans ? std::string(" ") + name + span_text(s) : "";
  }
  void child(int indent, std::string_view label, const ExprPtr& e) {
    if (e) expr(*e, indent, label);
  }
  void label_line(int indent, std::string_view label) {
    out_.append(static_cast<size_t>(indent), ' ');
    out_ += label;
    out_ += ":\n";
  }
  void children(int indent, std::string_view label, const std::vector<ExprPtr>& list) {
    if (list.empty()) return;
    label_line(indent, label);
    for (const ExprPtr& e : list) expr(*e, indent + 2, "");
  }
  void body(int indent, std::string_view label, const Body& b) {
    if (b.empty()) return;
    label_line(indent, label);
    for (const StmtPtr& s : b) stmt(*s, indent + 2);
  }
  NOINLINE std::string expr_header(const Expr& e) const;
  NOINLINE std::string stmt_header(const Stmt& s) const;
  NOINLINE void keyword_line(int indent, const Keyword& k);
  NOINLINE void part_line(int indent, const FString::Part& p);
  void expr_fields(const Expr& e, int indent);

  const DumpOptions& options_;
  std::string out_;
};

std::string Dumper::expr_header(const Expr& e) const {
  switch (e.kind) {
    case ExprKind::Name: return "Name " + cast<Name>(&e)->id + at(e.span);
    case ExprKind::Constant: return "Constant " + constant_text(*cast<Constant>(&e)) + at(e.span);
    case ExprKind::FString: return "FString" + at(e.span);
    case ExprKind::BinOp:
      return std::string("BinOp ") + op_spelling(cast<BinOp>(&e)->op) + at(e.span);
    case ExprKind::UnaryOp:
      return std::string("UnaryOp ") + op_spelling(cast<UnaryOp>(&e)->op) + at(e.span);
    case ExprKind::BoolOp:
      return std::string("BoolOp ") + op_spelling(cast<BoolOp>(&e)->op) + at(e.span);
    case ExprKind::Compare: {
      std::string ops;
      for (CmpOpKind op : cast<Compare>(&e)->ops) {
        if (!ops.empty()) ops += ", ";
        ops += op_spelling(op);
      }
      return "Compare [" + ops + "]" + at(e.span);
    }
    case ExprKind::Call: return "Call" + at(e.span);
    case ExprKind::Attribute: {
      const auto* a = cast<Attribute>(&e);
      return "Attribute ." + a->attr + at(e.span) + extra("attr", a->attr_span);
    }
    case ExprKind::Subscript: return "Subscript" + at(e.span);
    case ExprKind::Slice: return "Slice" + at(e.span);
    case ExprKind::Tuple: return "Tuple" + at(e.span);
    case ExprKind::List: return "List" + at(e.span);
    case ExprKind::IfExp: return "IfExp" + at(e.span);
    case ExprKind::Starred: return "Starred" + at(e.span);
    case ExprKind::Lambda: return "Lambda" + at(e.span);
    case ExprKind::Comp: {
      static const char* const kNames[] = {"ListComp", "GeneratorExp", "SetComp", "DictComp"};
      return kNames[static_cast<int>(cast<Comp>(&e)->type)] + at(e.span);
    }
  }
  return "?";
}

void Dumper::expr(const Expr& e, int indent, std::string_view label) {
  out_.append(static_cast<size_t>(indent), ' ');
  if (!label.empty()) {
    out_ += label;
    out_ += ": ";
  }
  out_ += expr_header(e);
  out_ += '\n';
  expr_fields(e, indent + 2);
}

void Dumper::keyword_line(int indent, const Keyword& k) {
  line(indent, "keyword " + (k.name.empty() ? std::string("**") : k.name) + at(k.span));
}

void Dumper::part_line(int indent, const FString::Part& p) {
  if (!p.value) {
    line(indent, "Literal " + string_repr(p.literal));
    return;
  }
  std::string text = "FormattedValue";
  if (p.conversion) text += std::string(" !") + p.conversion;
  if (!p.format_spec.empty()) text += " :" + string_repr(p.format_spec);
  line(indent, text);
}

void Dumper::expr_fields(const Expr& e, int indent) {
  switch (e.kind) {
    case ExprKind::Name:
    case ExprKind::Constant:
      return;
    case ExprKind::FString: {
      const auto* f = cast<FString>(&e);
      if (f->parts.empty()) return;
      label_line(indent, "parts");
      for (const FString::Part& p : f->parts) {
        part_line(indent + 2, p);
        if (p.value) expr(*p.value, indent + 4, "");
      }
      return;
    }
    case ExprKind::BinOp:
      child(indent, "left", cast<BinOp>(&e)->left);
      child(indent, "right", cast<BinOp>(&e)->right);
      return;
    case ExprKind::UnaryOp:
      child(indent, "operand", cast<UnaryOp>(&e)->operand);
      return;
    case ExprKind::BoolOp:
      children(indent, "values", cast<BoolOp>(&e)->values);
      return;
    case ExprKind::Compare:
      child(indent, "left", cast<Compare>(&e)->left);
      children(indent, "comparators", cast<Compare>(&e)->comparators);
      return;
    case ExprKind::Call: {
      const auto* c = cast<Call>(&e);
      child(indent, "func", c->func);
      children(indent, "args", c->args);
      if (c->keywords.empty()) return;
      label_line(indent, "keywords");
      for (const Keyword& k : c->keywords) {
        keyword_line(indent + 2, k);
        child(indent + 4, "value", k.value);
      }
      return;
    }
    case ExprKind::Attribute:
      child(indent, "value", cast<Attribute>(&e)->value);
      return;
    case ExprKind::Subscript:
      child(indent, "value", cast<Subscript>(&e)->value);
      child(indent, "index", cast<Subscript>(&e)->index);
      return;
    case ExprKind::Slice:
      child(indent, "lower", cast<Slice>(&e)->lower);
      child(indent, "upper", cast<Slice>(&e)->upper);
      child(indent, "step", cast<Slice>(&e)->step);
      return;
    case ExprKind::Tuple:
      children(indent, "elts", cast<Tuple>(&e)->elts);
      return;
    case ExprKind::List:
      children(indent, "elts", cast<List>(&e)->elts);
      return;
    case ExprKind::IfExp:
      child(indent, "test", cast<IfExp>(&e)->test);
      child(indent, "body", cast<IfExp>(&e)->body);
      child(indent, "orelse", cast<IfExp>(&e)->orelse);
      return;
    case ExprKind::Starred:
      child(indent, "value", cast<Starred>(&e)->value);
      return;
    case ExprKind::Lambda: {
      const auto* l = cast<Lambda>(&e);
      if (!l->args.empty()) {
        label_line(indent, "args");
        for (const Arg& a : l->args) {
          line(indent + 2, "Arg " + a.name + (a.keyword_only ? " kwonly" : "") + at(a.span));
          child(indent + 4, "default", a.default_value);
        }
      }
      if (l->vararg) line(indent, "vararg " + l->vararg->name + at(l->vararg->span));
      if (l->kwarg) line(indent, "kwarg " + l->kwarg->name + at(l->kwarg->span));
      child(indent, "body", l->body);
      return;
    }
    case ExprKind::Comp: {
      const auto* c = cast<Comp>(&e);
      child(indent, c->type == Comp::Type::Dict ? "key" : "elt", c->elt);
      child(indent, "value", c->value);
      label_line(indent, "generators");
      for (const Comprehension& g : c->generators) {
        line(indent + 2, "comprehension");
        child(indent + 4, "target", g.target);
        child(indent + 4, "iter", g.iter);
        children(indent + 4, "ifs", g.ifs);
      }
      return;
    }
  }
}

std::string Dumper::stmt_header(const Stmt& s) const {
  switch (s.kind) {
    case StmtKind::FunctionDef: {
      const auto* f = cast<FunctionDef>(&s);
      return "FunctionDef " + f->name + at(s.span) + extra("name", f->name_span);
    }
    case StmtKind::Assign: return "Assign" + at(s.span);
    case StmtKind::AugAssign:
      return std::string("AugAssign ") + op_spelling(cast<AugAssign>(&s)->op) + "=" + at(s.span);
    case StmtKind::AnnAssign: return "AnnAssign" + at(s.span);
    case StmtKind::For: return "For" + at(s.span) + extra("header", cast<For>(&s)->header_span);
    case StmtKind::While:
      return "While" + at(s.span) + extra("header", cast<While>(&s)->header_span);
    case StmtKind::If: {
      const auto* i = cast<If>(&s);
      return std::string("If") + (i->is_elif ? " elif" : "") + at(s.span) +
             extra("header", i->header_span);
    }
    case StmtKind::Break: return "Break" + at(s.span);
    case StmtKind::Continue: return "Continue" + at(s.span);
    case StmtKind::Pass: return "Pass" + at(s.span);
    case StmtKind::Return: return "Return" + at(s.span);
    case StmtKind::Assert: return "Assert" + at(s.span);
    case StmtKind::ExprStmt: return "ExprStmt" + at(s.span);
  }
  return "?";
}

void Dumper::stmt(const Stmt& s, int indent) {
  line(indent, stmt_header(s));
  int in = indent + 2;
  switch (s.kind) {
    case StmtKind::FunctionDef: {
      const auto* f = cast<FunctionDef>(&s);
      children(in, "decorators", f->decorators);
      if (!f->args.empty()) {
        label_line(in, "args");
        for (const Arg& a : f->args) {
          line(in + 2, "Arg " + a.name + (a.keyword_only ? " kwonly" : "") + at(a.span));
          child(in + 4, "annotation", a.annotation);
          child(in + 4, "default", a.default_value);
        }
      }
      for (const auto* v : {&f->vararg, &f->kwarg}) {
        if (!*v) continue;
        line(in, std::string(v == &f->vararg ? "vararg " : "kwarg ") + (*v)->name + at((*v)->span));
        child(in + 2, "annotation", (*v)->annotation);
      }
      child(in, "returns", f->returns);
      if (f->docstring) line(in, "docstring: " + string_repr(*f->docstring));
      body(in, "body", f->body);
      return;
    }
    case StmtKind::Assign:
      children(in, "targets", cast<Assign>(&s)->targets);
      child(in, "value", cast<Assign>(&s)->value);
      return;
    case StmtKind::AugAssign:
      child(in, "target", cast<AugAssign>(&s)->target);
      child(in, "value", cast<AugAssign>(&s)->value);
      return;
    case StmtKind::AnnAssign:
      child(in, "target", cast<AnnAssign>(&s)->target);
      child(in, "annotation", cast<AnnAssign>(&s)->annotation);
      child(in, "value", cast<AnnAssign>(&s)->value);
      return;
    case StmtKind::For:
      child(in, "target", cast<For>(&s)->target);
      child(in, "iter", cast<For>(&s)->iter);
      body(in, "body", cast<For>(&s)->body);
      return;
    case StmtKind::While:
      child(in, "test", cast<While>(&s)->test);
      body(in, "body", cast<While>(&s)->body);
      return;
    case StmtKind::If:
      child(in, "test", cast<If>(&s)->test);
      body(in, "body", cast<If>(&s)->body);
      body(in, "orelse", cast<If>(&s)->orelse);
      return;
    case StmtKind::Return:
      child(in, "value", cast<Return>(&s)->value);
      return;
    case StmtKind::Assert:
      child(in, "test", cast<Assert>(&s)->test);
      child(in, "msg", cast<Assert>(&s)->msg);
      return;
    case StmtKind::ExprStmt:
      child(in, "value", cast<ExprStmt>(&s)->value);
      return;
    case StmtKind::Break:
    case StmtKind::Continue:
    case StmtKind::Pass:
      return;
  }
}

// ------------------------------------------------------------------ unparse

// Binding strength, loosest first (mirrors Python's grammar levels).
enum Prec : int {
  kTuple = 1,
  kTest,    // conditional expression
  kOr,
  kAnd,
  kNot,
  kCmp,
  kBitOr,
  kBitXor,
  kBitAnd,
  kShift,
  kArith,
  kTerm,
  kFactor,  // unary + - ~
  kPower,
  kAtom,    // names, literals, calls, attributes, subscripts, displays
};

int binop_prec(BinOpKind op) {
  switch (op) {
    case BinOpKind::BitOr: return kBitOr;
    case BinOpKind::BitXor: return kBitXor;
    case BinOpKind::BitAnd: return kBitAnd;
    case BinOpKind::LShift:
    case BinOpKind::RShift: return kShift;
    case BinOpKind::Add:
    case BinOpKind::Sub: return kArith;
    case BinOpKind::Pow: return kPower;
    default: return kTerm;
  }
}

class Unparser {
 public:
  // Appends e, parenthesized if it binds more loosely than `required`.
  void expr(const Expr& e, int required);
  void stmt(const Stmt& s, int indent);
  std::string take() { return std::move(out_); }

 private:
  void parens_if(bool cond, const auto& print) {
    if (cond) out_ += '(';
    print();
    if (cond) out_ += ')';
  }
  NOINLINE void constant(const Constant& c, int required);
  NOINLINE void fstring(const FString& f);
  void elements(const std::vector<ExprPtr>& elts);
  void subscript_index(const Expr& index);
  void call(const Call& c);
  void function(const FunctionDef& f, int indent);
  void parameters(const std::vector<Arg>& args, const std::optional<Arg>& vararg, const std::optional<Arg>& kwarg);
  void if_chain(const If& s, int indent, bool as_elif);
  void body(const Body& b, int indent);
  void line_start(int indent) { out_.append(static_cast<size_t>(indent), ' '); }

  std::string out_;
};

void Unparser::constant(const Constant& c, int required) {
  switch (c.type) {
    case Constant::Type::None: out_ += "None"; return;
    case Constant::Type::Bool: out_ += c.bool_value ? "True" : "False"; return;
    case Constant::Type::Ellipsis: out_ += "..."; return;
    case Constant::Type::String: out_ += string_repr(c.string_value); return;
    case Constant::Type::Int:
      // A negative number is really a unary minus for precedence purposes.
      parens_if(c.int_value < 0 && required > kFactor,
                [&] { out_ += std::to_string(c.int_value); });
      return;
    case Constant::Type::Float: {
      double v = c.float_value;
      if (std::isnan(v)) {
        out_ += "float('nan')";
      } else if (std::isinf(v)) {
        out_ += v > 0 ? "float('inf')" : "float('-inf')";
      } else {
        parens_if(std::signbit(v) && required > kFactor, [&] { out_ += float_repr(v); });
      }
      return;
    }
  }
}

// Picks a quote that no replacement field's text contains (fields cannot
// contain the enclosing quote), then escapes the literal text for it.
void Unparser::fstring(const FString& f) {
  std::vector<std::string> fields;
  for (const FString::Part& p : f.parts) {
    if (!p.value) continue;
    Unparser inner;
    inner.expr(*p.value, kTuple);
    std::string text = inner.take();
    // "{{" would read as an escaped brace; a leading space keeps it a field.
    if (!text.empty() && text[0] == '{') text = " " + text;
    fields.push_back(std::move(text));
  }
  static constexpr std::string_view kQuotes[] = {"'", "\"", "'''", "\"\"\""};
  std::string_view quote = kQuotes[0];
  for (std::string_view q : kQuotes) {
    bool clash = false;
    for (const std::string& t : fields) clash |= t.find(q) != std::string::npos;
    if (!clash) {
      quote = q;
      break;
    }
  }
  out_ += 'f';
  out_ += quote;
  size_t field = 0;
  for (const FString::Part& p : f.parts) {
    if (!p.value) {
      out_ += escape_body(p.literal, quote[0], true);
      continue;
    }
    out_ += '{';
    out_ += fields[field++];
    if (p.conversion) {
      out_ += '!';
      out_ += p.conversion;
    }
    if (!p.format_spec.empty()) {
      out_ += ':';
      out_ += escape_body(p.format_spec, quote[0], false);
    }
    out_ += '}';
  }
  out_ += quote;
}

void Unparser::elements(const std::vector<ExprPtr>& elts) {
  for (size_t i = 0; i < elts.size(); ++i) {
    if (i) out_ += ", ";
    expr(*elts[i], kTest);
  }
}

// x[i], x[a:b], x[i, :] -- a tuple index is written without parentheses
// (required when it contains slices), except when it has a starred element:
// x[(a, *b)] is the portable spelling.
void Unparser::subscript_index(const Expr& index) {
  const auto* tuple = dyn_cast<Tuple>(&index);
  bool starred = false;
  if (tuple) {
    for (const ExprPtr& e : tuple->elts) starred |= isa<Starred>(e.get());
  }
  if (!tuple || tuple->elts.empty() || starred) {
    expr(index, starred ? kAtom : kTuple);
    return;
  }
  elements(tuple->elts);
  if (tuple->elts.size() == 1) out_ += ',';
}

void Unparser::call(const Call& c) {
  expr(*c.func, kAtom);
  out_ += '(';
  elements(c.args);
  for (size_t i = 0; i < c.keywords.size(); ++i) {
    if (i || !c.args.empty()) out_ += ", ";
    const Keyword& k = c.keywords[i];
    if (k.name.empty()) {
      out_ += "**";
    } else {
      out_ += k.name;
      out_ += '=';
    }
    expr(*k.value, kTest);
  }
  out_ += ')';
}

void Unparser::expr(const Expr& e, int required) {
  switch (e.kind) {
    case ExprKind::Name:
      out_ += cast<Name>(&e)->id;
      return;
    case ExprKind::Constant:
      constant(*cast<Constant>(&e), required);
      return;
    case ExprKind::FString:
      fstring(*cast<FString>(&e));
      return;
    case ExprKind::BinOp: {
      const auto* b = cast<BinOp>(&e);
      int prec = binop_prec(b->op);
      // Left-associative operators need parentheses on a right operand of
      // the same level; ** is right-associative and takes a unary operand on
      // its right (2 ** -1) but not on its left ((-2) ** 2).
      bool pow = b->op == BinOpKind::Pow;
      parens_if(prec < required, [&] {
        expr(*b->left, pow ? kAtom : prec);
        out_ += ' ';
        out_ += op_spelling(b->op);
        out_ += ' ';
        expr(*b->right, pow ? kFactor : prec + 1);
      });
      return;
    }
    case ExprKind::UnaryOp: {
      const auto* u = cast<UnaryOp>(&e);
      bool is_not = u->op == UnaryOpKind::Not;
      int prec = is_not ? kNot : kFactor;
      parens_if(prec < required, [&] {
        out_ += op_spelling(u->op);
        if (is_not) out_ += ' ';
        expr(*u->operand, prec);
      });
      return;
    }
    case ExprKind::BoolOp: {
      const auto* b = cast<BoolOp>(&e);
      int prec = b->op == BoolOpKind::Or ? kOr : kAnd;
      parens_if(prec < required, [&] {
        for (size_t i = 0; i < b->values.size(); ++i) {
          if (i) {
            out_ += ' ';
            out_ += op_spelling(b->op);
            out_ += ' ';
          }
          expr(*b->values[i], prec + 1);  // a nested BoolOp of the same kind keeps its parens
        }
      });
      return;
    }
    case ExprKind::Compare: {
      const auto* c = cast<Compare>(&e);
      parens_if(kCmp < required, [&] {
        expr(*c->left, kCmp + 1);
        for (size_t i = 0; i < c->ops.size() && i < c->comparators.size(); ++i) {
          out_ += ' ';
          out_ += op_spelling(c->ops[i]);
          out_ += ' ';
          expr(*c->comparators[i], kCmp + 1);
        }
      });
      return;
    }
    case ExprKind::Call:
      call(*cast<Call>(&e));
      return;
    case ExprKind::Attribute: {
      const auto* a = cast<Attribute>(&e);
      // `1.real` would lex as the float `1.` followed by a name.
      const auto* c = dyn_cast<Constant>(a->value.get());
      parens_if(c && c->type == Constant::Type::Int && c->int_value >= 0,
                [&] { expr(*a->value, kAtom); });
      out_ += '.';
      out_ += a->attr;
      return;
    }
    case ExprKind::Subscript: {
      const auto* s = cast<Subscript>(&e);
      expr(*s->value, kAtom);
      out_ += '[';
      subscript_index(*s->index);
      out_ += ']';
      return;
    }
    case ExprKind::Slice: {
      const auto* s = cast<Slice>(&e);
      if (s->lower) expr(*s->lower, kTest);
      out_ += ':';
      if (s->upper) expr(*s->upper, kTest);
      if (s->step) {
        out_ += ':';
        expr(*s->step, kTest);
      }
      return;
    }
    case ExprKind::Tuple: {
      const auto* t = cast<Tuple>(&e);
      parens_if(t->parenthesized || t->elts.empty() || required > kTuple, [&] {
        elements(t->elts);
        if (t->elts.size() == 1) out_ += ',';
      });
      return;
    }
    case ExprKind::List:
      out_ += '[';
      elements(cast<List>(&e)->elts);
      out_ += ']';
      return;
    case ExprKind::IfExp: {
      const auto* i = cast<IfExp>(&e);
      parens_if(kTest < required, [&] {
        expr(*i->body, kOr);
        out_ += " if ";
        expr(*i->test, kOr);
        out_ += " else ";
        expr(*i->orelse, kTest);
      });
      return;
    }
    case ExprKind::Starred:
      out_ += '*';
      expr(*cast<Starred>(&e)->value, kBitOr);
      return;
    case ExprKind::Lambda: {
      const auto* l = cast<Lambda>(&e);
      parens_if(kTest < required, [&] {
        out_ += "lambda";
        if (!l->args.empty() || l->vararg || l->kwarg) out_ += ' ';
        parameters(l->args, l->vararg, l->kwarg);
        out_ += ": ";
        expr(*l->body, kTest);
      });
      return;
    }
    case ExprKind::Comp: {
      const auto* c = cast<Comp>(&e);
      static const char kOpen[] = {'[', '(', '{', '{'}, kClose[] = {']', ')', '}', '}'};
      int t = static_cast<int>(c->type);
      out_ += kOpen[t];
      expr(*c->elt, kTest);
      if (c->type == Comp::Type::Dict) {
        out_ += ": ";
        expr(*c->value, kTest);
      }
      for (const Comprehension& g : c->generators) {
        out_ += " for ";
        expr(*g.target, kTuple);
        out_ += " in ";
        expr(*g.iter, kOr);
        for (const ExprPtr& cond : g.ifs) {
          out_ += " if ";
          expr(*cond, kOr);
        }
      }
      out_ += kClose[t];
      return;
    }
  }
}

void Unparser::body(const Body& b, int indent) {
  if (b.empty()) {
    line_start(indent);
    out_ += "pass\n";
    return;
  }
  for (const StmtPtr& s : b) stmt(*s, indent);
}

void Unparser::function(const FunctionDef& f, int indent) {
  for (const ExprPtr& d : f.decorators) {
    line_start(indent);
    out_ += '@';
    expr(*d, kTest);
    out_ += '\n';
  }
  line_start(indent);
  out_ += "def ";
  out_ += f.name;
  out_ += '(';
  parameters(f.args, f.vararg, f.kwarg);
  out_ += ')';
  if (f.returns) {
    out_ += " -> ";
    expr(*f.returns, kTest);
  }
  out_ += ":\n";
  body(f.body, indent + 4);
}

// Named parameters, then `*name` (or a bare `*`) before the keyword-only ones, then `**name`.
void Unparser::parameters(const std::vector<Arg>& args, const std::optional<Arg>& vararg,
                          const std::optional<Arg>& kwarg) {
  bool first = true, star_written = false;
  auto one = [&](const Arg& a, const char* stars) {
    if (!first) out_ += ", ";
    first = false;
    out_ += stars;
    out_ += a.name;
    if (a.annotation) {
      out_ += ": ";
      expr(*a.annotation, kTest);
    }
    if (a.default_value) {
      out_ += a.annotation ? " = " : "=";
      expr(*a.default_value, kTest);
    }
  };
  for (const Arg& a : args) {
    if (a.keyword_only && !star_written) {
      if (vararg) {
        one(*vararg, "*");
      } else {
        out_ += first ? "*" : ", *";
        first = false;
      }
      star_written = true;
    }
    one(a, "");
  }
  if (vararg && !star_written) one(*vararg, "*");
  if (kwarg) one(*kwarg, "**");
}

void Unparser::if_chain(const If& s, int indent, bool as_elif) {
  line_start(indent);
  out_ += as_elif ? "elif " : "if ";
  expr(*s.test, kTest);
  out_ += ":\n";
  body(s.body, indent + 4);
  if (s.orelse.empty()) return;
  const auto* elif = s.orelse.size() == 1 ? dyn_cast<If>(s.orelse[0].get()) : nullptr;
  if (elif && elif->is_elif) {
    if_chain(*elif, indent, true);
    return;
  }
  line_start(indent);
  out_ += "else:\n";
  body(s.orelse, indent + 4);
}

void Unparser::stmt(const Stmt& s, int indent) {
  if (s.kind == StmtKind::FunctionDef) {
    function(*cast<FunctionDef>(&s), indent);
    return;
  }
  if (s.kind == StmtKind::If) {
    if_chain(*cast<If>(&s), indent, false);
    return;
  }
  line_start(indent);
  switch (s.kind) {
    case StmtKind::Assign: {
      const auto* a = cast<Assign>(&s);
      for (const ExprPtr& t : a->targets) {
        expr(*t, kTuple);
        out_ += " = ";
      }
      expr(*a->value, kTuple);
      break;
    }
    case StmtKind::AugAssign: {
      const auto* a = cast<AugAssign>(&s);
      expr(*a->target, kTuple);
      out_ += ' ';
      out_ += op_spelling(a->op);
      out_ += "= ";
      expr(*a->value, kTuple);
      break;
    }
    case StmtKind::AnnAssign: {
      const auto* a = cast<AnnAssign>(&s);
      expr(*a->target, kTuple);
      out_ += ": ";
      expr(*a->annotation, kTest);
      if (a->value) {
        out_ += " = ";
        expr(*a->value, kTuple);
      }
      break;
    }
    case StmtKind::For: {
      const auto* f = cast<For>(&s);
      out_ += "for ";
      expr(*f->target, kTuple);
      out_ += " in ";
      expr(*f->iter, kTuple);
      out_ += ":\n";
      body(f->body, indent + 4);
      return;
    }
    case StmtKind::While: {
      const auto* w = cast<While>(&s);
      out_ += "while ";
      expr(*w->test, kTest);
      out_ += ":\n";
      body(w->body, indent + 4);
      return;
    }
    case StmtKind::Break: out_ += "break"; break;
    case StmtKind::Continue: out_ += "continue"; break;
    case StmtKind::Pass: out_ += "pass"; break;
    case StmtKind::Return: {
      out_ += "return";
      if (const ExprPtr& v = cast<Return>(&s)->value) {
        out_ += ' ';
        expr(*v, kTuple);
      }
      break;
    }
    case StmtKind::Assert: {
      const auto* a = cast<Assert>(&s);
      out_ += "assert ";
      expr(*a->test, kTest);
      if (a->msg) {
        out_ += ", ";
        expr(*a->msg, kTest);
      }
      break;
    }
    case StmtKind::ExprStmt:
      expr(*cast<ExprStmt>(&s)->value, kTuple);
      break;
    case StmtKind::FunctionDef:
    case StmtKind::If:
      break;  // handled above
  }
  out_ += '\n';
}

#undef NOINLINE

}  // namespace

std::string dump(const Module& m) { return dump(m, DumpOptions{}); }
std::string dump(const Stmt& s, int indent) { return dump(s, indent, DumpOptions{}); }
std::string dump(const Expr& e) { return dump(e, DumpOptions{}); }

std::string dump(const Module& m, const DumpOptions& options) {
  Dumper d(options);
  d.module(m);
  return d.take();
}

std::string dump(const Stmt& s, int indent, const DumpOptions& options) {
  Dumper d(options);
  d.stmt(s, indent);
  return d.take();
}

std::string dump(const Expr& e, const DumpOptions& options) {
  Dumper d(options);
  d.expr(e, 0, "");
  return d.take();
}

std::string unparse(const Expr& e) {
  Unparser u;
  u.expr(e, kTuple);
  return u.take();
}

std::string unparse(const Stmt& s, int indent) {
  Unparser u;
  u.stmt(s, indent);
  return u.take();
}

}  // namespace deuteron::ast
