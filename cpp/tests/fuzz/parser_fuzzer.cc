// libFuzzer entry point for the frontend (see README.md beside this file).
//
// Property checked on arbitrary bytes: tokenize + parse_module either
// succeed or throw a CompileError whose span lies inside the input.  A
// successful parse must also have in-bounds spans on every node, and its
// unparse must parse back to the same tree.  Anything else (another
// exception, a crash, a sanitizer report, a timeout) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "deuteron/ast.h"
#include "deuteron/lexer.h"
#include "deuteron/parser.h"

namespace {

using namespace deuteron;
using namespace deuteron::ast;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "parser_fuzzer: %s\n%s\n", what, detail.c_str());
  std::abort();
}

struct Bounds {
  std::vector<int> lengths;  // byte length of each line, split on '\n'
  int first_line;

  bool inside(const SourceSpan& s) const {
    auto ok = [&](int line, int col, int slack) {
      int index = line - first_line;
      if (index < 0 || index >= static_cast<int>(lengths.size())) return false;
      return col >= 1 && col <= lengths[static_cast<size_t>(index)] + slack;
    };
    if (!ok(s.line, s.col, 1) || !ok(s.end_line, s.end_col, 2)) return false;
    return s.end_line > s.line || (s.end_line == s.line && s.end_col >= s.col);
  }
  void check(const SourceSpan& s, const char* what) const {
    if (!inside(s)) {
      fail("span outside the input", std::string(what) + " @" + std::to_string(s.line) + ":" +
                                         std::to_string(s.col) + "-" + std::to_string(s.end_line) +
                                         ":" + std::to_string(s.end_col));
    }
  }
};

void check_expr(const Expr& e, const Bounds& b);

void check_opt(const ExprPtr& e, const Bounds& b) {
  if (e) check_expr(*e, b);
}
void check_list(const std::vector<ExprPtr>& v, const Bounds& b) {
  for (const ExprPtr& e : v) check_expr(*e, b);
}

void check_expr(const Expr& e, const Bounds& b) {
  b.check(e.span, "expression");
  switch (e.kind) {
    case ExprKind::Name:
    case ExprKind::Constant:
      return;
    case ExprKind::FString:
      for (const auto& p : cast<FString>(&e)->parts) check_opt(p.value, b);
      return;
    case ExprKind::BinOp:
      check_expr(*cast<BinOp>(&e)->left, b);
      check_expr(*cast<BinOp>(&e)->right, b);
      return;
    case ExprKind::UnaryOp: check_expr(*cast<UnaryOp>(&e)->operand, b); return;
    case ExprKind::BoolOp: check_list(cast<BoolOp>(&e)->values, b); return;
    case ExprKind::Compare:
      check_expr(*cast<Compare>(&e)->left, b);
      check_list(cast<Compare>(&e)->comparators, b);
      return;
    case ExprKind::Call:
      check_expr(*cast<Call>(&e)->func, b);
      check_list(cast<Call>(&e)->args, b);
      for (const Keyword& k : cast<Call>(&e)->keywords) {
        b.check(k.span, "keyword");
        check_expr(*k.value, b);
      }
      return;
    case ExprKind::Attribute:
      b.check(cast<Attribute>(&e)->attr_span, "attribute name");
      check_expr(*cast<Attribute>(&e)->value, b);
      return;
    case ExprKind::Subscript:
      check_expr(*cast<Subscript>(&e)->value, b);
      check_expr(*cast<Subscript>(&e)->index, b);
      return;
    case ExprKind::Slice:
      check_opt(cast<Slice>(&e)->lower, b);
      check_opt(cast<Slice>(&e)->upper, b);
      check_opt(cast<Slice>(&e)->step, b);
      return;
    case ExprKind::Tuple: check_list(cast<Tuple>(&e)->elts, b); return;
    case ExprKind::List: check_list(cast<List>(&e)->elts, b); return;
    case ExprKind::IfExp:
      check_expr(*cast<IfExp>(&e)->test, b);
      check_expr(*cast<IfExp>(&e)->body, b);
      check_expr(*cast<IfExp>(&e)->orelse, b);
      return;
    case ExprKind::Starred: check_expr(*cast<Starred>(&e)->value, b); return;
    case ExprKind::Lambda:
      for (const auto& a : cast<Lambda>(&e)->args) check_opt(a.default_value, b);
      check_expr(*cast<Lambda>(&e)->body, b);
      return;
    case ExprKind::Comp: {
      const auto* c = cast<Comp>(&e);
      check_expr(*c->elt, b);
      check_opt(c->value, b);
      for (const auto& g : c->generators) {
        check_expr(*g.target, b);
        check_expr(*g.iter, b);
        check_list(g.ifs, b);
      }
      return;
    }
  }
}

void check_stmt(const Stmt& s, const Bounds& b) {
  b.check(s.span, "statement");
  switch (s.kind) {
    case StmtKind::FunctionDef: {
      const auto* f = cast<FunctionDef>(&s);
      b.check(f->name_span, "function name");
      check_list(f->decorators, b);
      for (const Arg& a : f->args) {
        b.check(a.span, "argument");
        check_opt(a.annotation, b);
        check_opt(a.default_value, b);
      }
      check_opt(f->returns, b);
      for (const StmtPtr& c : f->body) check_stmt(*c, b);
      return;
    }
    case StmtKind::Assign:
      check_list(cast<Assign>(&s)->targets, b);
      check_expr(*cast<Assign>(&s)->value, b);
      return;
    case StmtKind::AugAssign:
      check_expr(*cast<AugAssign>(&s)->target, b);
      check_expr(*cast<AugAssign>(&s)->value, b);
      return;
    case StmtKind::AnnAssign:
      check_expr(*cast<AnnAssign>(&s)->target, b);
      check_expr(*cast<AnnAssign>(&s)->annotation, b);
      check_opt(cast<AnnAssign>(&s)->value, b);
      return;
    case StmtKind::For:
      b.check(cast<For>(&s)->header_span, "header");
      check_expr(*cast<For>(&s)->target, b);
      check_expr(*cast<For>(&s)->iter, b);
      for (const StmtPtr& c : cast<For>(&s)->body) check_stmt(*c, b);
      return;
    case StmtKind::While:
      b.check(cast<While>(&s)->header_span, "header");
      check_expr(*cast<While>(&s)->test, b);
      for (const StmtPtr& c : cast<While>(&s)->body) check_stmt(*c, b);
      return;
    case StmtKind::If:
      b.check(cast<If>(&s)->header_span, "header");
      check_expr(*cast<If>(&s)->test, b);
      for (const StmtPtr& c : cast<If>(&s)->body) check_stmt(*c, b);
      for (const StmtPtr& c : cast<If>(&s)->orelse) check_stmt(*c, b);
      return;
    case StmtKind::Return: check_opt(cast<Return>(&s)->value, b); return;
    case StmtKind::Assert:
      check_expr(*cast<Assert>(&s)->test, b);
      check_opt(cast<Assert>(&s)->msg, b);
      return;
    case StmtKind::ExprStmt: check_expr(*cast<ExprStmt>(&s)->value, b); return;
    case StmtKind::Break:
    case StmtKind::Continue:
    case StmtKind::Pass:
      return;
  }
}

std::shared_ptr<SourceFile> make_file(std::string text, int first_line) {
  auto f = std::make_shared<SourceFile>();
  f->filename = "fuzz.py";
  f->text = std::move(text);
  f->first_line = first_line;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first byte picks the kernel's starting line, to exercise offsets.
  int first_line = size > 0 && (data[0] & 1) ? 1 + data[0] : 1;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto file = make_file(text, first_line);

  Bounds bounds{{0}, first_line};
  for (char c : text) {
    if (c == '\n') {
      bounds.lengths.push_back(0);
    } else {
      ++bounds.lengths.back();
    }
  }

  std::unique_ptr<Module> module;
  try {
    for (const Token& t : tokenize(file)) bounds.check(t.span, "token");
    module = parse_module(file);
  } catch (const CompileError& e) {
    bounds.check(e.diagnostic().span, e.diagnostic().message.c_str());
    if (e.diagnostic().message.empty() || e.formatted().empty()) fail("empty diagnostic", text);
    return 0;
  } catch (const std::exception& e) {
    fail("unexpected exception", e.what());
  }

  for (const StmtPtr& s : module->body) check_stmt(*s, bounds);
  DumpOptions no_spans;
  no_spans.spans = false;
  std::string first_dump = dump(*module, no_spans);
  // Infinite and NaN constants are printed as float('inf') calls by design.
  if (first_dump.find("float inf") != std::string::npos ||
      first_dump.find("float -inf") != std::string::npos ||
      first_dump.find("float nan") != std::string::npos) {
    return 0;
  }
  std::string printed;
  for (const StmtPtr& s : module->body) printed += unparse(*s);
  try {
    auto reparsed = parse_module(make_file(printed, 1));
    if (dump(*reparsed, no_spans) != first_dump) {
      fail("unparse changed the tree", "input:\n" + text + "\nprinted:\n" + printed);
    }
  } catch (const CompileError& e) {
    fail("unparse output does not parse", std::string(e.what()) + "\nprinted:\n" + printed);
  }
  return 0;
}
