// Tests for the parser, the AST dump and unparse: every supported construct,
// precedence, spans of nested nodes, every rejected construct and error path,
// nesting limits, and unparse round trips.
#include "deuteron/parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "deuteron/ast.h"
#include "deuteron/lexer.h"

namespace deuteron {
namespace {

using namespace ast;

std::shared_ptr<SourceFile> make_file(std::string text, int first_line = 1) {
  auto f = std::make_shared<SourceFile>();
  f->filename = "k.py";
  f->text = std::move(text);
  f->first_line = first_line;
  return f;
}

std::unique_ptr<Module> parse(const std::string& text, int first_line = 1) {
  return parse_module(make_file(text, first_line));
}

std::string span_str(const SourceSpan& s) {
  return std::to_string(s.line) + ":" + std::to_string(s.col) + "-" + std::to_string(s.end_line) +
         ":" + std::to_string(s.end_col);
}

// Fully parenthesized prefix form of an expression, for precedence tests:
// `a + b * c` is "(+ a (* b c))".
std::string sexp(const Expr& e);

std::string sexp_list(const std::vector<ExprPtr>& v) {
  std::string out;
  for (const ExprPtr& x : v) out += " " + sexp(*x);
  return out;
}

std::string sexp(const Expr& e) {
  switch (e.kind) {
    case ExprKind::Name: return cast<Name>(&e)->id;
    case ExprKind::Constant: {
      const auto* c = cast<Constant>(&e);
      switch (c->type) {
        case Constant::Type::None: return "None";
        case Constant::Type::Bool: return c->bool_value ? "True" : "False";
        case Constant::Type::Int: return std::to_string(c->int_value);
        case Constant::Type::Float: return float_repr(c->float_value);
        case Constant::Type::String: return string_repr(c->string_value);
        case Constant::Type::Ellipsis: return "...";
      }
      return "?";
    }
    case ExprKind::FString: {
      std::string out = "(f";
      for (const auto& p : cast<FString>(&e)->parts) {
        if (!p.value) {
          out += " " + string_repr(p.literal);
          continue;
        }
        out += " {" + sexp(*p.value);
        if (p.conversion) out += std::string("!") + p.conversion;
        if (!p.format_spec.empty()) out += ":" + p.format_spec;
        out += "}";
      }
      return out + ")";
    }
    case ExprKind::BinOp: {
      const auto* b = cast<BinOp>(&e);
      return std::string("(") + op_spelling(b->op) + " " + sexp(*b->left) + " " + sexp(*b->right) + ")";
    }
    case ExprKind::UnaryOp: {
      const auto* u = cast<UnaryOp>(&e);
      return std::string("(") + op_spelling(u->op) + " " + sexp(*u->operand) + ")";
    }
    case ExprKind::BoolOp: {
      const auto* b = cast<BoolOp>(&e);
      return std::string("(") + op_spelling(b->op) + sexp_list(b->values) + ")";
    }
    case ExprKind::Compare: {
      const auto* c = cast<Compare>(&e);
      std::string out = "(cmp " + sexp(*c->left);
      for (size_t i = 0; i < c->ops.size(); ++i) {
        out += std::string(" ") + op_spelling(c->ops[i]) + " " + sexp(*c->comparators[i]);
      }
      return out + ")";
    }
    case ExprKind::Call: {
      const auto* c = cast<Call>(&e);
      std::string out = "(call " + sexp(*c->func) + sexp_list(c->args);
      for (const Keyword& k : c->keywords) out += " " + k.name + "=" + sexp(*k.value);
      return out + ")";
    }
    case ExprKind::Attribute: {
      const auto* a = cast<Attribute>(&e);
      return "(. " + sexp(*a->value) + " " + a->attr + ")";
    }
    case ExprKind::Subscript: {
      const auto* s = cast<Subscript>(&e);
      return "([] " + sexp(*s->value) + " " + sexp(*s->index) + ")";
    }
    case ExprKind::Slice: {
      const auto* s = cast<Slice>(&e);
      auto part = [](const ExprPtr& p) { return p ? sexp(*p) : std::string("_"); };
      return "(slice " + part(s->lower) + " " + part(s->upper) + " " + part(s->step) + ")";
    }
    case ExprKind::Tuple: return "(tuple" + sexp_list(cast<Tuple>(&e)->elts) + ")";
    case ExprKind::List: return "(list" + sexp_list(cast<List>(&e)->elts) + ")";
    case ExprKind::IfExp: {
      const auto* i = cast<IfExp>(&e);
      return "(if " + sexp(*i->test) + " " + sexp(*i->body) + " " + sexp(*i->orelse) + ")";
    }
    case ExprKind::Starred: return "(* " + sexp(*cast<Starred>(&e)->value) + ")";
    case ExprKind::Lambda: {
      const auto* l = cast<Lambda>(&e);
      std::string params;
      for (const auto& a : l->args) params += " " + a.name + (a.default_value ? "=" + sexp(*a.default_value) : "");
      if (l->vararg) params += " *" + l->vararg->name;
      if (l->kwarg) params += " **" + l->kwarg->name;
      return "(lambda (" + (params.empty() ? "" : params.substr(1)) + ") " + sexp(*l->body) + ")";
    }
    case ExprKind::Comp: {
      const auto* c = cast<Comp>(&e);
      static const char* const kNames[] = {"listcomp", "genexp", "setcomp", "dictcomp"};
      std::string out = std::string("(") + kNames[static_cast<int>(c->type)] + " " + sexp(*c->elt);
      if (c->value) out += " " + sexp(*c->value);
      for (const auto& g : c->generators) {
        out += " (for " + sexp(*g.target) + " " + sexp(*g.iter);
        for (const auto& i : g.ifs) out += " (if " + sexp(*i) + ")";
        out += ")";
      }
      return out + ")";
    }
  }
  return "?";
}

// The expression of a one-line expression statement.
const Expr& expr_of(const Module& m) {
  EXPECT_EQ(m.body.size(), 1u);
  return *cast<ExprStmt>(m.body.at(0).get())->value;
}

std::string sx(const std::string& expr) {
  auto m = parse(expr + "\n");
  return sexp(expr_of(*m));
}

std::string unparse_expr(const std::string& expr) {
  auto m = parse(expr + "\n");
  return unparse(expr_of(*m));
}

std::string unparse_module(const std::string& text) {
  auto m = parse(text);
  std::string out;
  for (const StmtPtr& s : m->body) out += unparse(*s);
  return out;
}

DumpOptions no_spans() {
  DumpOptions o;
  o.spans = false;
  return o;
}

// Expects parsing to fail with exactly `message` at `span`.
void expect_error(const std::string& text, const std::string& message, const std::string& span,
                  int first_line = 1) {
  SCOPED_TRACE(text);
  try {
    parse(text, first_line);
    ADD_FAILURE() << "no error";
  } catch (const CompileError& e) {
    EXPECT_EQ(e.diagnostic().message, message);
    EXPECT_EQ(span_str(e.diagnostic().span), span);
  }
}

// Parses, unparses, parses again: both trees must dump the same (without
// spans), and unparsing must be a fixed point.
void expect_round_trip(const std::string& text) {
  SCOPED_TRACE(text);
  auto first = parse(text);
  std::string printed;
  for (const StmtPtr& s : first->body) printed += unparse(*s);
  std::unique_ptr<Module> second;
  try {
    second = parse(printed);
  } catch (const CompileError& e) {
    FAIL() << "unparse output does not parse:\n" << printed << "\n" << e.what();
  }
  EXPECT_EQ(dump(*first, no_spans()), dump(*second, no_spans())) << printed;
  std::string reprinted;
  for (const StmtPtr& s : second->body) reprinted += unparse(*s);
  EXPECT_EQ(printed, reprinted);
}

const char* kSoftmax = R"(@deuteron.kernel()
def softmax(x: torch.Tensor, *, eps: float = 1e-5) -> torch.Tensor:
    """Row softmax."""
    n, _m = x.size()
    out = torch.empty_like(x)
    block_size_m = hl.register_block_size(m)
    for tile_n in hl.tile(n):
        values = x[tile_n, :]
        amax = torch.amax(values, dim=1, keepdim=True)
        exp = torch.exp(values - amax)
        sum_exp = torch.sum(exp, dim=1, keepdim=True)
        out[tile_n, :] = exp / sum_exp
        acc = hl.full([tile_n, 1], float("-inf"), dtype=torch.float32)
        for tile_m in hl.tile(m, block_size=block_size_m):
            if tile_m.begin > 0 and not (a < b <= c):
                acc += x[tile_n, tile_m][:, None].to(torch.float32) ** 2
            elif x is None:
                pass
            else:
                continue
        assert n % 16 == 0, f"n must be a multiple of 16, got {n!r:>8}"
    return out
)";

const char* kMatmul = R"(@deuteron.kernel(config=deuteron.Config(block_sizes=[64, 64], num_warps=4))
def matmul(x: torch.Tensor, y: torch.Tensor, epilogue: Callable[[torch.Tensor, tuple[torch.Tensor, ...]], torch.Tensor] = lambda acc, tile: acc) -> torch.Tensor:
    m, k = x.size()
    return x
)";

// ============================================================ whole kernels

TEST(ParserTest, SoftmaxKernel) {
  auto m = parse(kSoftmax);
  ASSERT_EQ(m->body.size(), 1u);
  const auto* fn = cast<FunctionDef>(m->body[0].get());
  EXPECT_EQ(fn->name, "softmax");
  EXPECT_EQ(span_str(fn->name_span), "2:5-2:12");
  EXPECT_EQ(span_str(fn->span), "2:1-22:15");
  ASSERT_EQ(fn->decorators.size(), 1u);
  EXPECT_EQ(sexp(*fn->decorators[0]), "(call (. deuteron kernel))");
  ASSERT_EQ(fn->args.size(), 2u);
  EXPECT_EQ(fn->args[0].name, "x");
  EXPECT_FALSE(fn->args[0].keyword_only);
  EXPECT_EQ(sexp(*fn->args[0].annotation), "(. torch Tensor)");
  EXPECT_EQ(fn->args[0].default_value, nullptr);
  EXPECT_EQ(fn->args[1].name, "eps");
  EXPECT_TRUE(fn->args[1].keyword_only);
  EXPECT_EQ(sexp(*fn->args[1].default_value), "1e-05");
  EXPECT_EQ(span_str(fn->args[1].span), "2:33-2:50");
  EXPECT_EQ(sexp(*fn->returns), "(. torch Tensor)");
  ASSERT_TRUE(fn->docstring.has_value());
  EXPECT_EQ(*fn->docstring, "Row softmax.");
  ASSERT_EQ(fn->body.size(), 6u);
  EXPECT_TRUE(isa<ExprStmt>(fn->body[0].get()));  // the docstring stays in the body
  const auto* loop = cast<For>(fn->body[4].get());
  EXPECT_EQ(span_str(loop->header_span), "7:5-7:30");
  EXPECT_EQ(span_str(loop->span), "7:5-21:72");
  const auto* assert_stmt = cast<Assert>(loop->body.back().get());
  EXPECT_EQ(sexp(*assert_stmt->msg), "(f 'n must be a multiple of 16, got ' {n!r:>8})");
  const auto* field = cast<FString>(assert_stmt->msg.get())->parts[1].value.get();
  EXPECT_EQ(span_str(field->span), "21:64-21:65");
}

TEST(ParserTest, MatmulWithLambdaDefault) {
  auto m = parse(kMatmul);
  const auto* fn = cast<FunctionDef>(m->body[0].get());
  const ast::Arg& epilogue = fn->args.at(2);
  EXPECT_EQ(sexp(*epilogue.default_value), "(lambda (acc tile) acc)");
  EXPECT_EQ(span_str(epilogue.default_value->span), "2:123-2:144");
}

TEST(ParserTest, MatmulSignatureWithoutLambda) {
  std::string text = kMatmul;
  text.replace(text.find("lambda acc, tile: acc"), 21, "None");
  auto m = parse(text);
  const auto* fn = cast<FunctionDef>(m->body[0].get());
  EXPECT_EQ(sexp(*fn->decorators[0]),
            "(call (. deuteron kernel) config=(call (. deuteron Config) block_sizes=(list 64 64) "
            "num_warps=4))");
  EXPECT_EQ(sexp(*fn->args[2].annotation),
            "([] Callable (tuple (list (. torch Tensor) ([] tuple (tuple (. torch Tensor) ...))) "
            "(. torch Tensor)))");
}

// ============================================================ dump format

TEST(DumpTest, Format) {
  auto m = parse(
      "@deuteron.kernel\n"
      "def add(x: torch.Tensor, *, k=2):\n"
      "    y[0] = f(x, -1, s=\"a\")\n"
      "    return x if k else None\n");
  EXPECT_EQ(dump(*m),
            "Module\n"
            "  FunctionDef add @2:1-4:28 name@2:5-2:8\n"
            "    decorators:\n"
            "      Attribute .kernel @1:2-1:17 attr@1:11-1:17\n"
            "        value: Name deuteron @1:2-1:10\n"
            "    args:\n"
            "      Arg x @2:9-2:24\n"
            "        annotation: Attribute .Tensor @2:12-2:24 attr@2:18-2:24\n"
            "          value: Name torch @2:12-2:17\n"
            "      Arg k kwonly @2:29-2:32\n"
            "        default: Constant int 2 @2:31-2:32\n"
            "    body:\n"
            "      Assign @3:5-3:27\n"
            "        targets:\n"
            "          Subscript @3:5-3:9\n"
            "            value: Name y @3:5-3:6\n"
            "            index: Constant int 0 @3:7-3:8\n"
            "        value: Call @3:12-3:27\n"
            "          func: Name f @3:12-3:13\n"
            "          args:\n"
            "            Name x @3:14-3:15\n"
            "            UnaryOp - @3:17-3:19\n"
            "              operand: Constant int 1 @3:18-3:19\n"
            "          keywords:\n"
            "            keyword s @3:21-3:26\n"
            "              value: Constant str 'a' @3:23-3:26\n"
            "      Return @4:5-4:28\n"
            "        value: IfExp @4:12-4:28\n"
            "          test: Name k @4:17-4:18\n"
            "          body: Name x @4:12-4:13\n"
            "          orelse: Constant None @4:24-4:28\n");
}

TEST(DumpTest, WithoutSpans) {
  auto m = parse("for i in range(3):\n    x[i:] += 1.5\n");
  EXPECT_EQ(dump(*m, no_spans()),
            "Module\n"
            "  For\n"
            "    target: Name i\n"
            "    iter: Call\n"
            "      func: Name range\n"
            "      args:\n"
            "        Constant int 3\n"
            "    body:\n"
            "      AugAssign +=\n"
            "        target: Subscript\n"
            "          value: Name x\n"
            "          index: Slice\n"
            "            lower: Name i\n"
            "        value: Constant float 1.5\n");
}

TEST(DumpTest, StatementsAndExpressionsAlone) {
  auto m = parse("if a:\n    pass\nelif b:\n    break_ = [1, *c]\n");
  EXPECT_EQ(dump(*m->body[0], 4),
            "    If @1:1-4:21 header@1:1-1:6\n"
            "      test: Name a @1:4-1:5\n"
            "      body:\n"
            "        Pass @2:5-2:9\n"
            "      orelse:\n"
            "        If elif @3:1-4:21 header@3:1-3:8\n"
            "          test: Name b @3:6-3:7\n"
            "          body:\n"
            "            Assign @4:5-4:21\n"
            "              targets:\n"
            "                Name break_ @4:5-4:11\n"
            "              value: List @4:14-4:21\n"
            "                elts:\n"
            "                  Constant int 1 @4:15-4:16\n"
            "                  Starred @4:18-4:20\n"
            "                    value: Name c @4:19-4:20\n");
  auto e = parse("f'a{x!r:>3}b' == (1,)\n");
  EXPECT_EQ(dump(expr_of(*e), no_spans()),
            "Compare [==]\n"
            "  left: FString\n"
            "    parts:\n"
            "      Literal 'a'\n"
            "      FormattedValue !r :'>3'\n"
            "        Name x\n"
            "      Literal 'b'\n"
            "  comparators:\n"
            "    Tuple\n"
            "      elts:\n"
            "        Constant int 1\n");
}

TEST(DumpTest, ConstantsAndOtherStatements) {
  auto m = parse(
      "def f(a):\n"
      "    x: int = None\n"
      "    while True:\n"
      "        continue\n"
      "    assert a, 'm'\n"
      "    return\n"
      "g(...)\n");
  EXPECT_EQ(dump(*m, no_spans()),
            "Module\n"
            "  FunctionDef f\n"
            "    args:\n"
            "      Arg a\n"
            "    body:\n"
            "      AnnAssign\n"
            "        target: Name x\n"
            "        annotation: Name int\n"
            "        value: Constant None\n"
            "      While\n"
            "        test: Constant True\n"
            "        body:\n"
            "          Continue\n"
            "      Assert\n"
            "        test: Name a\n"
            "        msg: Constant str 'm'\n"
            "      Return\n"
            "  ExprStmt\n"
            "    value: Call\n"
            "      func: Name g\n"
            "      args:\n"
            "        Constant ...\n");
}

// ============================================================ statements

TEST(ParserTest, FunctionSignatures) {
  auto m = parse(
      "def a(): pass\n"
      "def b(x, y: int, z=3, w: float = 1.0,): pass\n"
      "def c(x, *, k, j: int = 2): pass\n"
      "def d(*, k): pass\n"
      "def e() -> None: return\n");
  ASSERT_EQ(m->body.size(), 5u);
  const auto* a = cast<FunctionDef>(m->body[0].get());
  EXPECT_TRUE(a->args.empty());
  EXPECT_EQ(a->returns, nullptr);
  EXPECT_FALSE(a->docstring.has_value());
  const auto* b = cast<FunctionDef>(m->body[1].get());
  ASSERT_EQ(b->args.size(), 4u);
  EXPECT_EQ(b->args[1].name, "y");
  EXPECT_EQ(sexp(*b->args[1].annotation), "int");
  EXPECT_EQ(sexp(*b->args[2].default_value), "3");
  EXPECT_EQ(span_str(b->args[3].span), "2:23-2:37");
  const auto* c = cast<FunctionDef>(m->body[2].get());
  ASSERT_EQ(c->args.size(), 3u);
  EXPECT_FALSE(c->args[0].keyword_only);
  EXPECT_TRUE(c->args[1].keyword_only);
  EXPECT_TRUE(c->args[2].keyword_only);
  EXPECT_EQ(c->args[1].default_value, nullptr);  // keyword-only need no default order
  const auto* d = cast<FunctionDef>(m->body[3].get());
  EXPECT_TRUE(d->args[0].keyword_only);
  const auto* e = cast<FunctionDef>(m->body[4].get());
  EXPECT_EQ(sexp(*e->returns), "None");
  EXPECT_TRUE(isa<Return>(e->body[0].get()));
}

TEST(ParserTest, Decorators) {
  auto m = parse("@a\n@b.c(1)\n@d[0]\ndef f(): pass\n");
  const auto* f = cast<FunctionDef>(m->body[0].get());
  ASSERT_EQ(f->decorators.size(), 3u);
  EXPECT_EQ(sexp(*f->decorators[0]), "a");
  EXPECT_EQ(sexp(*f->decorators[1]), "(call (. b c) 1)");
  EXPECT_EQ(sexp(*f->decorators[2]), "([] d 0)");
  EXPECT_EQ(span_str(f->decorators[1]->span), "2:2-2:8");
  EXPECT_EQ(span_str(f->span), "4:1-4:14");
}

TEST(ParserTest, Docstrings) {
  auto doc = [](const std::string& text) -> std::optional<std::string> {
    auto m = parse(text);
    return cast<FunctionDef>(m->body[0].get())->docstring;
  };
  EXPECT_EQ(doc("def f():\n    'one'\n"), "one");
  EXPECT_EQ(doc("def f():\n    '''multi\n    line'''\n    x = 1\n"), "multi\n    line");
  EXPECT_EQ(doc("def f():\n    'a' \"b\"\n"), "ab");
  EXPECT_EQ(doc("def f(): 'inline'\n"), "inline");
  EXPECT_FALSE(doc("def f():\n    x = 'no'\n").has_value());
  EXPECT_FALSE(doc("def f():\n    pass\n    'late'\n").has_value());
  EXPECT_FALSE(doc("def f():\n    f'{x}'\n").has_value());
  EXPECT_FALSE(doc("def f():\n    1\n").has_value());
}

TEST(ParserTest, Assignments) {
  auto m = parse(
      "a = 1\n"
      "a = b = c = f(x)\n"
      "a, b = t\n"
      "(a, b) = [c, d] = t\n"
      "a, *b, c = t\n"
      "(a, (b, c)), [d] = t\n"
      "x.y[0].z = v\n"
      "x = 1, 2\n"
      "x = *a, b\n"
      "x, = t\n"
      "[*a] = t\n");
  auto targets = [&](size_t i) {
    std::string out;
    for (const ExprPtr& t : cast<Assign>(m->body[i].get())->targets) out += sexp(*t) + "; ";
    return out + "= " + sexp(*cast<Assign>(m->body[i].get())->value);
  };
  EXPECT_EQ(targets(0), "a; = 1");
  EXPECT_EQ(targets(1), "a; b; c; = (call f x)");
  EXPECT_EQ(targets(2), "(tuple a b); = t");
  EXPECT_EQ(targets(3), "(tuple a b); (list c d); = t");
  EXPECT_EQ(targets(4), "(tuple a (* b) c); = t");
  EXPECT_EQ(targets(5), "(tuple (tuple a (tuple b c)) (list d)); = t");
  EXPECT_EQ(targets(6), "(. ([] (. x y) 0) z); = v");
  EXPECT_EQ(targets(7), "x; = (tuple 1 2)");
  EXPECT_EQ(targets(8), "x; = (tuple (* a) b)");
  EXPECT_EQ(targets(9), "(tuple x); = t");
  EXPECT_EQ(targets(10), "(list (* a)); = t");
  EXPECT_EQ(span_str(m->body[1]->span), "2:1-2:17");
  EXPECT_EQ(span_str(cast<Assign>(m->body[2].get())->targets[0]->span), "3:1-3:5");
  EXPECT_EQ(span_str(cast<Assign>(m->body[9].get())->targets[0]->span), "10:1-10:3");
}

TEST(ParserTest, AllAugmentedAssignments) {
  const std::pair<const char*, BinOpKind> ops[] = {
      {"+=", BinOpKind::Add},      {"-=", BinOpKind::Sub},     {"*=", BinOpKind::Mult},
      {"/=", BinOpKind::Div},      {"//=", BinOpKind::FloorDiv}, {"%=", BinOpKind::Mod},
      {"**=", BinOpKind::Pow},     {"@=", BinOpKind::MatMult}, {"<<=", BinOpKind::LShift},
      {">>=", BinOpKind::RShift},  {"&=", BinOpKind::BitAnd},  {"|=", BinOpKind::BitOr},
      {"^=", BinOpKind::BitXor}};
  for (const auto& [spelling, op] : ops) {
    std::string text = std::string("acc[i] ") + spelling + " x + 1\n";
    SCOPED_TRACE(text);
    auto m = parse(text);
    const auto* s = cast<AugAssign>(m->body[0].get());
    EXPECT_EQ(s->op, op);
    EXPECT_EQ(std::string(op_spelling(op)) + "=", spelling);
    EXPECT_EQ(sexp(*s->target), "([] acc i)");
    EXPECT_EQ(sexp(*s->value), "(+ x 1)");
    EXPECT_EQ(unparse(*s), text);
  }
}

TEST(ParserTest, AnnotatedAssignments) {
  auto m = parse("x: int\ny: float = 1.0\nself.z: T = 1, 2\nw[0]: list[int] = []\n");
  const auto* a = cast<AnnAssign>(m->body[0].get());
  EXPECT_EQ(sexp(*a->target), "x");
  EXPECT_EQ(sexp(*a->annotation), "int");
  EXPECT_EQ(a->value, nullptr);
  EXPECT_EQ(span_str(a->span), "1:1-1:7");
  const auto* b = cast<AnnAssign>(m->body[1].get());
  EXPECT_EQ(sexp(*b->value), "1.0");
  EXPECT_EQ(sexp(*cast<AnnAssign>(m->body[2].get())->value), "(tuple 1 2)");
  EXPECT_EQ(sexp(*cast<AnnAssign>(m->body[3].get())->annotation), "([] list int)");
}

TEST(ParserTest, ForLoops) {
  auto m = parse("for i in range(n):\n    pass\nfor a, (b, *c) in x, y:\n    pass\nfor t, in z: pass\n");
  const auto* f = cast<For>(m->body[0].get());
  EXPECT_EQ(sexp(*f->target), "i");
  EXPECT_EQ(sexp(*f->iter), "(call range n)");
  EXPECT_EQ(span_str(f->header_span), "1:1-1:19");
  EXPECT_EQ(span_str(f->span), "1:1-2:9");
  const auto* g = cast<For>(m->body[1].get());
  EXPECT_EQ(sexp(*g->target), "(tuple a (tuple b (* c)))");
  EXPECT_EQ(sexp(*g->iter), "(tuple x y)");
  EXPECT_EQ(sexp(*cast<For>(m->body[2].get())->target), "(tuple t)");
}

TEST(ParserTest, ForTargetStopsBeforeIn) {
  auto m = parse("for x in a in b: pass\n");
  const auto* f = cast<For>(m->body[0].get());
  EXPECT_EQ(sexp(*f->target), "x");
  EXPECT_EQ(sexp(*f->iter), "(cmp a in b)");
}

TEST(ParserTest, WhileLoops) {
  auto m = parse("while i < n:\n    i += 1\n    if i: break\n");
  const auto* w = cast<While>(m->body[0].get());
  EXPECT_EQ(sexp(*w->test), "(cmp i < n)");
  EXPECT_EQ(span_str(w->header_span), "1:1-1:13");
  EXPECT_EQ(span_str(w->span), "1:1-3:16");
  EXPECT_EQ(w->body.size(), 2u);
}

TEST(ParserTest, IfElifElse) {
  auto m = parse(
      "if a:\n    x\nelif b:\n    y\nelif c:\n    z\nelse:\n    w\n"
      "if p:\n    pass\nelse:\n    if q:\n        pass\n");
  const auto* top = cast<If>(m->body[0].get());
  EXPECT_FALSE(top->is_elif);
  EXPECT_EQ(span_str(top->span), "1:1-8:6");
  EXPECT_EQ(span_str(top->header_span), "1:1-1:6");
  ASSERT_EQ(top->orelse.size(), 1u);
  const auto* elif1 = cast<If>(top->orelse[0].get());
  EXPECT_TRUE(elif1->is_elif);
  EXPECT_EQ(sexp(*elif1->test), "b");
  EXPECT_EQ(span_str(elif1->span), "3:1-8:6");
  const auto* elif2 = cast<If>(elif1->orelse[0].get());
  EXPECT_TRUE(elif2->is_elif);
  ASSERT_EQ(elif2->orelse.size(), 1u);
  EXPECT_TRUE(isa<ExprStmt>(elif2->orelse[0].get()));
  // `else:` + nested `if` is not an elif.
  const auto* second = cast<If>(m->body[1].get());
  EXPECT_FALSE(cast<If>(second->orelse[0].get())->is_elif);
}

TEST(ParserTest, SimpleStatements) {
  auto m = parse(
      "def f(x):\n"
      "    for i in x:\n"
      "        if i: continue\n"
      "        while i: break\n"
      "    pass\n"
      "    assert x\n"
      "    assert x > 0, 'msg'\n"
      "    return\n"
      "    return x\n"
      "    return x, *x\n");
  const auto* f = cast<FunctionDef>(m->body[0].get());
  EXPECT_TRUE(isa<Pass>(f->body[1].get()));
  EXPECT_EQ(cast<Assert>(f->body[2].get())->msg, nullptr);
  EXPECT_EQ(sexp(*cast<Assert>(f->body[3].get())->msg), "'msg'");
  EXPECT_EQ(span_str(f->body[3]->span), "7:5-7:24");
  EXPECT_EQ(cast<Return>(f->body[4].get())->value, nullptr);
  EXPECT_EQ(span_str(f->body[4]->span), "8:5-8:11");
  EXPECT_EQ(sexp(*cast<Return>(f->body[6].get())->value), "(tuple x (* x))");
  const auto* loop = cast<For>(f->body[0].get());
  EXPECT_TRUE(isa<Continue>(cast<If>(loop->body[0].get())->body[0].get()));
  EXPECT_TRUE(isa<Break>(cast<While>(loop->body[1].get())->body[0].get()));
}

TEST(ParserTest, SemicolonsAndSameLineBodies) {
  auto m = parse("a = 1; b = 2;\nif x: c = 3; d = 4\nwhile y: pass;\n");
  ASSERT_EQ(m->body.size(), 4u);
  EXPECT_EQ(span_str(m->body[0]->span), "1:1-1:6");
  EXPECT_EQ(span_str(m->body[1]->span), "1:8-1:13");
  const auto* i = cast<If>(m->body[2].get());
  EXPECT_EQ(i->body.size(), 2u);
  EXPECT_EQ(span_str(i->span), "2:1-2:19");
  // Like CPython, a trailing ';' is part of the compound statement's span.
  EXPECT_EQ(span_str(m->body[3]->span), "3:1-3:15");
}

TEST(ParserTest, ExpressionStatements) {
  auto m = parse("f(x)\nx\n'doc'\n...\na, b\n");
  ASSERT_EQ(m->body.size(), 5u);
  EXPECT_EQ(sexp(*cast<ExprStmt>(m->body[4].get())->value), "(tuple a b)");
}

TEST(ParserTest, SoftKeywordsAreNames) {
  auto m = parse("match = 1\nmatch(x)\ntype(x)\ncase = type\nmatch.x = 2\n_ = match[0]\nmatch: int = 3\n");
  EXPECT_EQ(m->body.size(), 7u);
  EXPECT_EQ(sexp(*cast<ExprStmt>(m->body[1].get())->value), "(call match x)");
}

TEST(ParserTest, BlankLinesAndCommentsBetweenStatements) {
  auto m = parse("# header\n\ndef f():\n\n    # c\n    x = 1\n\n\n    y = 2  # trailing\n\n");
  EXPECT_EQ(cast<FunctionDef>(m->body[0].get())->body.size(), 2u);
}

TEST(ParserTest, EmptyModule) {
  EXPECT_TRUE(parse("")->body.empty());
  EXPECT_TRUE(parse("\n# only a comment\n")->body.empty());
}

TEST(ParserTest, FirstLineOffsetsAllSpans) {
  auto m = parse("def f(x):\n    return x + 1\n", 10);
  const auto* f = cast<FunctionDef>(m->body[0].get());
  EXPECT_EQ(span_str(f->span), "10:1-11:17");
  EXPECT_EQ(span_str(cast<Return>(f->body[0].get())->value->span), "11:12-11:17");
}

// ============================================================ expressions

TEST(ExprTest, BinaryPrecedence) {
  EXPECT_EQ(sx("a + b * c"), "(+ a (* b c))");
  EXPECT_EQ(sx("a * b + c"), "(+ (* a b) c)");
  EXPECT_EQ(sx("a - b - c"), "(- (- a b) c)");
  EXPECT_EQ(sx("a - (b - c)"), "(- a (- b c))");
  EXPECT_EQ(sx("a / b // c % d @ e"), "(@ (% (// (/ a b) c) d) e)");
  EXPECT_EQ(sx("a | b ^ c & d << e + f"), "(| a (^ b (& c (<< d (+ e f)))))");
  EXPECT_EQ(sx("a << b >> c"), "(>> (<< a b) c)");
  EXPECT_EQ(sx("a & b | c & d"), "(| (& a b) (& c d))");
  EXPECT_EQ(sx("a ^ b ^ c"), "(^ (^ a b) c)");
  EXPECT_EQ(sx("(a + b) * c"), "(* (+ a b) c)");
}

TEST(ExprTest, UnaryAndPower) {
  EXPECT_EQ(sx("-x ** 2"), "(- (** x 2))");
  EXPECT_EQ(sx("(-x) ** 2"), "(** (- x) 2)");
  EXPECT_EQ(sx("a ** b ** c"), "(** a (** b c))");
  EXPECT_EQ(sx("(a ** b) ** c"), "(** (** a b) c)");
  EXPECT_EQ(sx("2 ** -1"), "(** 2 (- 1))");
  EXPECT_EQ(sx("a ** -b ** c"), "(** a (- (** b c)))");
  EXPECT_EQ(sx("~-+x"), "(~ (- (+ x)))");
  EXPECT_EQ(sx("-a * b"), "(* (- a) b)");
  EXPECT_EQ(sx("-x.y[0](1)"), "(- (call ([] (. x y) 0) 1))");
  EXPECT_EQ(sx("- - x"), "(- (- x))");
  EXPECT_EQ(sx("x.y ** f(z)[1]"), "(** (. x y) ([] (call f z) 1))");
}

TEST(ExprTest, BooleanAndNot) {
  EXPECT_EQ(sx("a or b and c"), "(or a (and b c))");
  EXPECT_EQ(sx("a and b or c and d"), "(or (and a b) (and c d))");
  EXPECT_EQ(sx("a or b or c"), "(or a b c)");
  EXPECT_EQ(sx("a and b and c"), "(and a b c)");
  EXPECT_EQ(sx("(a or b) or c"), "(or (or a b) c)");
  EXPECT_EQ(sx("not a and b"), "(and (not a) b)");
  EXPECT_EQ(sx("not not a"), "(not (not a))");
  EXPECT_EQ(sx("not a == b"), "(not (cmp a == b))");
  EXPECT_EQ(sx("not a or not b"), "(or (not a) (not b))");
}

TEST(ExprTest, Comparisons) {
  EXPECT_EQ(sx("a < b <= c"), "(cmp a < b <= c)");
  EXPECT_EQ(sx("a == b != c > d >= e"), "(cmp a == b != c > d >= e)");
  EXPECT_EQ(sx("a is b"), "(cmp a is b)");
  EXPECT_EQ(sx("a is not b"), "(cmp a is not b)");
  EXPECT_EQ(sx("a in b"), "(cmp a in b)");
  EXPECT_EQ(sx("a not in b"), "(cmp a not in b)");
  EXPECT_EQ(sx("a is not None is None"), "(cmp a is not None is None)");
  EXPECT_EQ(sx("a + 1 < b | c"), "(cmp (+ a 1) < (| b c))");
  EXPECT_EQ(sx("(a < b) < c"), "(cmp (cmp a < b) < c)");
}

TEST(ExprTest, ConditionalExpressions) {
  EXPECT_EQ(sx("a if b else c"), "(if b a c)");
  EXPECT_EQ(sx("a if b else c if d else e"), "(if b a (if d c e))");
  EXPECT_EQ(sx("(a if b else c) if d else e"), "(if d (if b a c) e)");
  EXPECT_EQ(sx("a or b if c and d else e"), "(if (and c d) (or a b) e)");
}

TEST(ExprTest, Calls) {
  EXPECT_EQ(sx("f()"), "(call f)");
  EXPECT_EQ(sx("f(a, b,)"), "(call f a b)");
  EXPECT_EQ(sx("f(a, k=1, j=b + c)"), "(call f a k=1 j=(+ b c))");
  EXPECT_EQ(sx("f(*args, x)"), "(call f (* args) x)");
  EXPECT_EQ(sx("f(a, k=1, *rest)"), "(call f a (* rest) k=1)");
  EXPECT_EQ(sx("f(a)(b)(c=1)"), "(call (call (call f a) b) c=1)");
  EXPECT_EQ(sx("f(x if y else z, not q)"), "(call f (if y x z) (not q))");
  EXPECT_EQ(sx("f((a, b))"), "(call f (tuple a b))");
  EXPECT_EQ(sx("f(match=1, type=2)"), "(call f match=1 type=2)");
}

TEST(ExprTest, CallSpans) {
  auto m = parse("out = f(a, key=b * 2, *r)\n");
  const auto* c = cast<Call>(cast<Assign>(m->body[0].get())->value.get());
  EXPECT_EQ(span_str(c->span), "1:7-1:26");
  EXPECT_EQ(span_str(c->func->span), "1:7-1:8");
  EXPECT_EQ(span_str(c->keywords[0].span), "1:12-1:21");
  EXPECT_EQ(span_str(c->keywords[0].value->span), "1:16-1:21");
  EXPECT_EQ(span_str(c->args[1]->span), "1:23-1:25");
}

TEST(ExprTest, Subscripts) {
  EXPECT_EQ(sx("x[0]"), "([] x 0)");
  EXPECT_EQ(sx("x[a:b]"), "([] x (slice a b _))");
  EXPECT_EQ(sx("x[:]"), "([] x (slice _ _ _))");
  EXPECT_EQ(sx("x[::]"), "([] x (slice _ _ _))");
  EXPECT_EQ(sx("x[::2]"), "([] x (slice _ _ 2))");
  EXPECT_EQ(sx("x[a:b:c]"), "([] x (slice a b c))");
  EXPECT_EQ(sx("x[a::c]"), "([] x (slice a _ c))");
  EXPECT_EQ(sx("x[:b]"), "([] x (slice _ b _))");
  EXPECT_EQ(sx("x[:, None]"), "([] x (tuple (slice _ _ _) None))");
  EXPECT_EQ(sx("x[tile_m, :]"), "([] x (tuple tile_m (slice _ _ _)))");
  EXPECT_EQ(sx("x[..., 0]"), "([] x (tuple ... 0))");
  EXPECT_EQ(sx("x[1:2, ::3]"), "([] x (tuple (slice 1 2 _) (slice _ _ 3)))");
  EXPECT_EQ(sx("x[a,]"), "([] x (tuple a))");
  EXPECT_EQ(sx("x[()]"), "([] x (tuple))");
  EXPECT_EQ(sx("x[(a, b)]"), "([] x (tuple a b))");
  EXPECT_EQ(sx("x[i][j]"), "([] ([] x i) j)");
  EXPECT_EQ(sx("x[i - 1:i + 1]"), "([] x (slice (- i 1) (+ i 1) _))");
  EXPECT_EQ(sx("x[a if b else c:]"), "([] x (slice (if b a c) _ _))");
}

TEST(ExprTest, SubscriptSpans) {
  auto m = parse("y = x[a:b, :, ::2, 0]\n");
  const auto* s = cast<Subscript>(cast<Assign>(m->body[0].get())->value.get());
  EXPECT_EQ(span_str(s->span), "1:5-1:22");
  const auto* t = cast<Tuple>(s->index.get());
  EXPECT_EQ(span_str(t->span), "1:7-1:21");
  EXPECT_EQ(span_str(t->elts[0]->span), "1:7-1:10");
  EXPECT_EQ(span_str(t->elts[1]->span), "1:12-1:13");
  EXPECT_EQ(span_str(t->elts[2]->span), "1:15-1:18");
  EXPECT_EQ(span_str(t->elts[3]->span), "1:20-1:21");
}

TEST(ExprTest, Attributes) {
  auto m = parse("v = torch . float32\n");
  const auto* a = cast<Attribute>(cast<Assign>(m->body[0].get())->value.get());
  EXPECT_EQ(a->attr, "float32");
  EXPECT_EQ(span_str(a->span), "1:5-1:20");
  EXPECT_EQ(span_str(a->attr_span), "1:13-1:20");
  EXPECT_EQ(sx("(1).real"), "(. 1 real)");
  EXPECT_EQ(sx("1 .real"), "(. 1 real)");
  EXPECT_EQ(sx("'s'.join"), "(. 's' join)");
}

TEST(ExprTest, Numbers) {
  EXPECT_EQ(sx("0"), "0");
  EXPECT_EQ(sx("1_000_000"), "1000000");
  EXPECT_EQ(sx("0x1F"), "31");
  EXPECT_EQ(sx("0o17"), "15");
  EXPECT_EQ(sx("0b1010"), "10");
  EXPECT_EQ(sx("0xFFFF_FFFF"), "4294967295");
  EXPECT_EQ(sx("9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(sx("0x7fffffffffffffff"), "9223372036854775807");
  EXPECT_EQ(sx("00"), "0");
  EXPECT_EQ(sx("1.5"), "1.5");
  EXPECT_EQ(sx(".5"), "0.5");
  EXPECT_EQ(sx("1."), "1.0");
  EXPECT_EQ(sx("1e-3"), "0.001");
  EXPECT_EQ(sx("1E5"), "100000.0");
  EXPECT_EQ(sx("1_000.0"), "1000.0");
  EXPECT_EQ(sx("1e16"), "1e+16");
  EXPECT_EQ(sx("1e-5"), "1e-05");
  EXPECT_EQ(sx("0.1"), "0.1");
  EXPECT_EQ(sx("1e400"), "inf");
  EXPECT_EQ(sx("1e-400"), "0.0");
  auto m = parse("x = 2.5e-3\n");
  const auto* c = cast<Constant>(cast<Assign>(m->body[0].get())->value.get());
  EXPECT_EQ(c->type, Constant::Type::Float);
  EXPECT_DOUBLE_EQ(c->float_value, 2.5e-3);
  auto n = parse("x = 7\n");
  const auto* i = cast<Constant>(cast<Assign>(n->body[0].get())->value.get());
  EXPECT_EQ(i->type, Constant::Type::Int);
  EXPECT_EQ(i->int_value, 7);
}

TEST(ExprTest, NamedConstants) {
  auto m = parse("None\nTrue\nFalse\n...\n");
  const Constant::Type types[] = {Constant::Type::None, Constant::Type::Bool,
                                  Constant::Type::Bool, Constant::Type::Ellipsis};
  for (size_t i = 0; i < 4; ++i) {
    const auto* c = cast<Constant>(cast<ExprStmt>(m->body[i].get())->value.get());
    EXPECT_EQ(c->type, types[i]);
  }
  EXPECT_TRUE(cast<Constant>(cast<ExprStmt>(m->body[1].get())->value.get())->bool_value);
  EXPECT_FALSE(cast<Constant>(cast<ExprStmt>(m->body[2].get())->value.get())->bool_value);
}

TEST(ExprTest, Strings) {
  auto value = [](const std::string& literal) {
    auto m = parse("x = " + literal + "\n");
    const auto* c = cast<Constant>(cast<Assign>(m->body[0].get())->value.get());
    EXPECT_EQ(c->type, Constant::Type::String);
    return c->string_value;
  };
  EXPECT_EQ(value("'abc'"), "abc");
  EXPECT_EQ(value("\"it's\""), "it's");
  EXPECT_EQ(value(R"('a\nb\tc\\d\'e\"f')"), "a\nb\tc\\d'e\"f");
  EXPECT_EQ(value(R"('\a\b\f\v\r\0')"), std::string("\a\b\f\v\r\0", 6));
  EXPECT_EQ(value(R"('\x41\101\u00e9\U0001F600')"), "AA\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(value(R"('\d\q')"), "\\d\\q");  // unknown escapes keep the backslash
  EXPECT_EQ(value(R"(r'\d\n\'')"), "\\d\\n\\'");
  EXPECT_EQ(value(R"(R"\x")"), "\\x");
  EXPECT_EQ(value("u'x'"), "x");
  EXPECT_EQ(value("'a' 'b' \"c\""), "abc");
  EXPECT_EQ(value("('a'\n 'b')"), "ab");
  EXPECT_EQ(value("'''one\ntwo'''"), "one\ntwo");
  EXPECT_EQ(value("'''one\r\ntwo'''"), "one\ntwo");
  EXPECT_EQ(value("'ab\\\ncd'"), "abcd");
  EXPECT_EQ(value("'héllo'"), "héllo");
  EXPECT_EQ(value("''"), "");
  EXPECT_EQ(value(R"('\777')"), "\xC7\xBF");  // octal 511
}

TEST(ExprTest, StringConcatenationSpan) {
  auto m = parse("x = ('a'\n     'b')\n");
  EXPECT_EQ(span_str(cast<Assign>(m->body[0].get())->value->span), "1:6-2:9");
}

TEST(ExprTest, TuplesAndLists) {
  EXPECT_EQ(sx("()"), "(tuple)");
  EXPECT_EQ(sx("(x,)"), "(tuple x)");
  EXPECT_EQ(sx("(x, y)"), "(tuple x y)");
  EXPECT_EQ(sx("(x, y,)"), "(tuple x y)");
  EXPECT_EQ(sx("(x)"), "x");
  EXPECT_EQ(sx("((x))"), "x");
  EXPECT_EQ(sx("(*a, b)"), "(tuple (* a) b)");
  EXPECT_EQ(sx("[]"), "(list)");
  EXPECT_EQ(sx("[a]"), "(list a)");
  EXPECT_EQ(sx("[a, *b, c,]"), "(list a (* b) c)");
  EXPECT_EQ(sx("[[1, 2], [3]]"), "(list (list 1 2) (list 3))");
  EXPECT_EQ(sx("x, y"), "(tuple x y)");
  EXPECT_EQ(sx("x,"), "(tuple x)");
  EXPECT_EQ(sx("*a, *b"), "(tuple (* a) (* b))");
  EXPECT_EQ(sx("[*a + b]"), "(list (* (+ a b)))");
}

TEST(ExprTest, TupleFlagsAndSpans) {
  auto m = parse("a = (1, 2)\nb = 1, 2,\nc = ()\n");
  const auto* t1 = cast<Tuple>(cast<Assign>(m->body[0].get())->value.get());
  EXPECT_TRUE(t1->parenthesized);
  EXPECT_EQ(span_str(t1->span), "1:5-1:11");
  const auto* t2 = cast<Tuple>(cast<Assign>(m->body[1].get())->value.get());
  EXPECT_FALSE(t2->parenthesized);
  EXPECT_EQ(span_str(t2->span), "2:5-2:10");  // the trailing comma is included, as in CPython
  const auto* t3 = cast<Tuple>(cast<Assign>(m->body[2].get())->value.get());
  EXPECT_TRUE(t3->parenthesized);
  EXPECT_EQ(span_str(t3->span), "3:5-3:7");
}

TEST(ExprTest, ParenthesesAreNotPartOfTheInnerSpan) {
  auto m = parse("y = (a + b) * c\n");
  const auto* b = cast<BinOp>(cast<Assign>(m->body[0].get())->value.get());
  EXPECT_EQ(span_str(b->span), "1:5-1:16");
  EXPECT_EQ(span_str(b->left->span), "1:6-1:11");
  auto n = parse("y = not (a)\n");
  const auto* u = cast<UnaryOp>(cast<Assign>(n->body[0].get())->value.get());
  EXPECT_EQ(span_str(u->span), "1:5-1:12");  // ends at ')', as in CPython
  EXPECT_EQ(span_str(u->operand->span), "1:10-1:11");
}

TEST(ExprTest, NestedSpans) {
  auto m = parse("def k(x):\n    acc += x[i, j][:, None].to(torch.float32) ** 2\n");
  const auto* s = cast<AugAssign>(cast<FunctionDef>(m->body[0].get())->body[0].get());
  const auto* pow = cast<BinOp>(s->value.get());
  EXPECT_EQ(span_str(pow->span), "2:12-2:51");
  const auto* call = cast<Call>(pow->left.get());
  EXPECT_EQ(span_str(call->span), "2:12-2:46");
  const auto* to = cast<Attribute>(call->func.get());
  EXPECT_EQ(span_str(to->attr_span), "2:29-2:31");
  const auto* outer = cast<Subscript>(to->value.get());
  EXPECT_EQ(span_str(outer->span), "2:12-2:28");
  const auto* inner = cast<Subscript>(outer->value.get());
  EXPECT_EQ(span_str(inner->span), "2:12-2:19");
  EXPECT_EQ(span_str(cast<Tuple>(outer->index.get())->elts[1]->span), "2:23-2:27");
  EXPECT_EQ(span_str(call->args[0]->span), "2:32-2:45");
  EXPECT_EQ(span_str(pow->right->span), "2:50-2:51");
}

TEST(ExprTest, MultiLineExpressionSpans) {
  auto m = parse("x = f(a,\n      b +\n      c)\n");
  const auto* c = cast<Call>(cast<Assign>(m->body[0].get())->value.get());
  EXPECT_EQ(span_str(c->span), "1:5-3:9");
  EXPECT_EQ(span_str(c->args[1]->span), "2:7-3:8");
}

// ============================================================ f-strings

TEST(FStringTest, Parts) {
  EXPECT_EQ(sx("f'abc'"), "(f 'abc')");
  EXPECT_EQ(sx("f''"), "(f)");
  EXPECT_EQ(sx("f'{x}'"), "(f {x})");
  EXPECT_EQ(sx("f'a{x}b{y}c'"), "(f 'a' {x} 'b' {y} 'c')");
  EXPECT_EQ(sx("f'{x!r}{y!s}{z!a}'"), "(f {x!r} {y!s} {z!a})");
  EXPECT_EQ(sx("f'{x:>8}'"), "(f {x:>8})");
  EXPECT_EQ(sx("f'{x!r:>8}'"), "(f {x!r:>8})");
  EXPECT_EQ(sx("f'{x:}'"), "(f {x})");
  EXPECT_EQ(sx("f'{{literal}}'"), "(f '{literal}')");
  EXPECT_EQ(sx("f'{{{x}}}'"), "(f '{' {x} '}')");
  EXPECT_EQ(sx("f'{ x + 1 }'"), "(f {(+ x 1)})");
  EXPECT_EQ(sx("f'{a, b}'"), "(f {(tuple a b)})");
  EXPECT_EQ(sx("f'{a[\"k\"]}'"), "(f {([] a 'k')})");
  EXPECT_EQ(sx("f'{d[\"}\"]}'"), "(f {([] d '}')})");
  EXPECT_EQ(sx("f'{a != b}{a == b}{a <= b}{a >= b}'"),
            "(f {(cmp a != b)} {(cmp a == b)} {(cmp a <= b)} {(cmp a >= b)})");
  EXPECT_EQ(sx("f'{x[1:2]}{f(a=1)}'"), "(f {([] x (slice 1 2 _))} {(call f a=1)})");
  EXPECT_EQ(sx("f'{f\"{x}\"}'"), "(f {(f {x})})");
  EXPECT_EQ(sx("f'\\n{x}\\t'"), "(f '\\n' {x} '\\t')");
  EXPECT_EQ(sx("rf'\\d{x}'"), "(f '\\\\d' {x})");
  EXPECT_EQ(sx("f'{x:\\x41}'"), "(f {x:A})");
}

TEST(FStringTest, ConcatenationMergesLiterals) {
  EXPECT_EQ(sx("'a' f'{x}' 'b' f'c' 'd'"), "(f 'a' {x} 'bcd')");
  EXPECT_EQ(sx("f'a' 'b'"), "(f 'ab')");
  EXPECT_EQ(sx("'' f'' ''"), "(f)");
}

TEST(FStringTest, ExpressionSpansAreAbsolute) {
  auto m = parse("x = 1\nmsg = f\"got {n + 1!r} and {t.shape[0]:>4}\"\n", 20);
  const auto* f = cast<FString>(cast<Assign>(m->body[1].get())->value.get());
  EXPECT_EQ(span_str(f->span), "21:7-21:43");
  ASSERT_EQ(f->parts.size(), 4u);
  const auto* sum = cast<BinOp>(f->parts[1].value.get());
  EXPECT_EQ(span_str(sum->span), "21:14-21:19");
  EXPECT_EQ(span_str(sum->right->span), "21:18-21:19");
  const auto* sub = cast<Subscript>(f->parts[3].value.get());
  EXPECT_EQ(span_str(sub->span), "21:28-21:38");
  EXPECT_EQ(f->parts[3].format_spec, ">4");
}

TEST(FStringTest, MultiLineTripleQuotedSpans) {
  auto m = parse("s = f'''first {a}\nsecond {\n  b +\n  c}'''\n");
  const auto* f = cast<FString>(cast<Assign>(m->body[0].get())->value.get());
  EXPECT_EQ(span_str(f->span), "1:5-4:8");
  EXPECT_EQ(span_str(f->parts[1].value->span), "1:16-1:17");
  EXPECT_EQ(span_str(f->parts[3].value->span), "3:3-4:4");
  EXPECT_EQ(f->parts[2].literal, "\nsecond ");
}

TEST(FStringTest, NestedFStringSpans) {
  auto m = parse("s = f\"<{f'{x}' + y}>\"\n");
  const auto* f = cast<FString>(cast<Assign>(m->body[0].get())->value.get());
  const auto* sum = cast<BinOp>(f->parts[1].value.get());
  const auto* inner = cast<FString>(sum->left.get());
  EXPECT_EQ(span_str(inner->span), "1:9-1:15");
  EXPECT_EQ(span_str(inner->parts[0].value->span), "1:12-1:13");
  EXPECT_EQ(span_str(sum->right->span), "1:18-1:19");
}

TEST(FStringTest, Errors) {
  expect_error("x = f'{}'", "f-string: empty expression not allowed", "1:7-1:9");
  expect_error("x = f'{ }'", "f-string: empty expression not allowed", "1:7-1:10");
  expect_error("x = f'{x!z}'", "f-string: invalid conversion character: expected 's', 'r', or 'a'",
               "1:9-1:11");
  expect_error("x = f'{x!}'", "f-string: invalid conversion character: expected 's', 'r', or 'a'",
               "1:9-1:11");
  expect_error("x = f'{x!rr}'", "f-string: expecting '}'", "1:7-1:11");
  expect_error("x = f'{x'", "f-string: expecting '}'", "1:7-1:9");
  expect_error("x = f'{x:>4'", "f-string: expecting '}'", "1:7-1:12");
  expect_error("x = f'}'", "f-string: single '}' is not allowed", "1:7-1:8");
  expect_error("x = f'a}b'", "f-string: single '}' is not allowed", "1:8-1:9");
  expect_error("x = f'{x=}'",
               "self-documenting f-string fields ('{x=}') are not supported in kernels", "1:9-1:10");
  expect_error("x = f'{x:{w}}'",
               "nested replacement fields in f-string format specs are not supported", "1:10-1:11");
  expect_error("x = f'{a b}'",
               "invalid syntax: expected '}' after the f-string expression, found name 'b'",
               "1:10-1:11");
  expect_error("x = f'{x # c}'", "f-string expression part cannot include '#'", "1:10-1:11");
  expect_error("x = f'{lambda: 1}'",
               "lambda expressions are not supported in kernels; define a helper function instead",
               "1:8-1:14");
  expect_error("x = f'{*a}'", "cannot use starred expression here", "1:8-1:10");
  expect_error("x = f'{a)}'", "unmatched ')'", "1:9-1:10");
  expect_error("x = f'{\"a}'", "f-string: unterminated string in expression", "1:8-1:9");
  expect_error("x = f'\\N{DASH}'", "\\N{...} escapes are not supported in kernels", "1:7-1:9");
  expect_error("x = f'{x}' b'y'", "bytes literals are not supported in kernels; use a str literal",
               "1:12-1:16");
  // Found by the fuzzer: a backslash-newline inside a one-quote f-string
  // makes the field span two lines.
  expect_error("x = f\"ab{c\\\nd\"", "f-string: expecting '}'", "1:9-2:2");
}

// ============================================================ rejected constructs

TEST(ParserTest, Lambda) {
  auto m = parse("f = lambda x: x + 1\ng(key=lambda a, b=2, *, c: a, c=1)\nh = lambda: (lambda y: y)\n");
  const auto* f = cast<Assign>(m->body[0].get());
  EXPECT_EQ(sexp(*f->value), "(lambda (x) (+ x 1))");
  EXPECT_EQ(span_str(f->value->span), "1:5-1:20");
  const auto* g = cast<Call>(cast<ExprStmt>(m->body[1].get())->value.get());
  EXPECT_EQ(sexp(*g->keywords[0].value), "(lambda (a b=2 c) a)");
  EXPECT_TRUE(cast<Lambda>(g->keywords[0].value.get())->args[2].keyword_only);
  EXPECT_EQ(span_str(g->keywords[0].value->span), "2:7-2:29");
  EXPECT_EQ(sexp(*cast<Assign>(m->body[2].get())->value), "(lambda () (lambda (y) y))");
  // `*name` and `**name`: kept apart from the named parameters; those after `*name` are keyword-only.
  auto v = parse("f = lambda score, *_: score\ng = lambda a, *rest, k=1, **kw: a\n");
  EXPECT_EQ(sexp(*cast<Assign>(v->body[0].get())->value), "(lambda (score *_) score)");
  const auto* vg = cast<Lambda>(cast<Assign>(v->body[1].get())->value.get());
  EXPECT_EQ(sexp(*vg), "(lambda (a k=1 *rest **kw) a)");
  EXPECT_TRUE(vg->args[1].keyword_only);
  EXPECT_EQ(span_str(vg->vararg->span), "2:15-2:20");
  EXPECT_EQ(span_str(vg->kwarg->span), "2:27-2:31");
  auto d = parse("def f(x: int, *args: int, **kwargs):\n    return x\n");
  const auto* fd = cast<FunctionDef>(d->body[0].get());
  EXPECT_EQ(fd->vararg->name, "args");
  EXPECT_TRUE(fd->vararg->annotation != nullptr);
  EXPECT_EQ(fd->kwarg->name, "kwargs");
  // A lambda's parameters take no annotations, and it needs its ':'.
  expect_error("f = lambda x: int: x\n", "invalid syntax: expected end of statement, found ':'", "1:18-1:19");
  expect_error("f = lambda x x\n", "invalid syntax: expected ':' after the lambda's parameters, found name 'x'",
               "1:14-1:15");
}

TEST(RejectTest, Lambda) {
  // Python's grammar allows a lambda only where any expression may stand.
  expect_error("x = a or lambda: 0\n",
               "lambda expressions are not supported in kernels; define a helper function instead",
               "1:10-1:19");
}

TEST(ExprTest, Comprehensions) {
  EXPECT_EQ(sx("[i * 2 for i in range(3)]"), "(listcomp (* i 2) (for i (call range 3)))");
  EXPECT_EQ(sx("f(i for i in y)"), "(call f (genexp i (for i y)))");
  EXPECT_EQ(sx("(i for i in y if i if not j)"), "(genexp i (for i y (if i) (if (not j))))");
  EXPECT_EQ(sx("[(a, b) for a, b in zip(x, y) for c in a]"),
            "(listcomp (tuple a b) (for (tuple a b) (call zip x y)) (for c a))");
  EXPECT_EQ(sx("{i for i in y}"), "(setcomp i (for i y))");
  EXPECT_EQ(sx("{k: v * 2 for k, v in y}"), "(dictcomp k (* v 2) (for (tuple k v) y))");
  EXPECT_EQ(sx("[x if c else d for x in a or b]"), "(listcomp (if c x d) (for x (or a b)))");
  // Spans cover the brackets (a call's generator: from its element).
  auto m = parse("x = [i for i in y]\n");
  EXPECT_EQ(span_str(cast<Assign>(m->body.at(0).get())->value->span), "1:5-1:19");
}

TEST(ExprTest, ComprehensionsRoundTrip) {
  expect_round_trip("x = [i * 2 for i in (1, 2, 3)]\n");
  expect_round_trip("x = tuple(t * s for t, s in zip(a, b, strict=False))\n");
  expect_round_trip("x = {k: (k + 1) * 2 for k in range(4) if k % 2 if k}\n");
  expect_round_trip("x = {i for i in y}\n");
  expect_round_trip("x = [[j for j in i] for i in a for k in b]\n");
  EXPECT_EQ(unparse_expr("[ a+1 for (a) in b ]"), "[a + 1 for a in b]");
  EXPECT_EQ(unparse_expr("f(x for x in y)"), "f((x for x in y))");
}

TEST(RejectTest, Comprehensions) {
  expect_error("x = t[i for i in y]",
               "generator expressions are not supported in kernels; pass a list or tuple with the "
               "elements written out",
               "1:6-1:20");
  expect_error("x = f(a, i for i in y)", "Generator expression must be parenthesized", "1:10-1:11");
  expect_error("x = [*a for a in y]", "cannot use starred expression here", "1:6-1:8");
  expect_error("x = [i for 1 in y]", "cannot assign to literal", "1:12-1:13");
}

TEST(RejectTest, DictAndSetDisplays) {
  // A dict display is read as dict([(key, value), ...]), a ** entry as its
  // mapping's items in place; sets are rejected.
  EXPECT_EQ(unparse_expr("{'a': 1, b: (2, 3)}"), "dict([('a', 1), (b, (2, 3))])");
  EXPECT_EQ(unparse_expr("{}"), "dict([])");
  EXPECT_EQ(unparse_expr("{**a}"), "dict([*a.items()])");
  EXPECT_EQ(unparse_expr("{'a': 1, **b | c, 'd': 2,}"), "dict([('a', 1), *(b | c).items(), ('d', 2)])");
  expect_error("x = {**a: 1}", "invalid syntax: expected '}' to close the dict, found ':'", "1:9-1:10");
  expect_error("x = {1, (2, 3)}", "set displays are not supported in kernels; use a list or tuple",
               "1:5-1:16");
}

TEST(RejectTest, Walrus) {
  // Where a hoisted `name = value` would not run exactly once, before the statement.
  const std::string note = " are not supported in kernels";
  expect_error("while chunk := read(): pass",
               "assignment expressions (:=) in a while condition (computed before every iteration)" + note,
               "1:7-1:22");
  expect_error("y = a if (n := f()) else b",
               "assignment expressions (:=) in a conditional expression (x if c else y)" + note, "1:11-1:19");
  expect_error("y = a and (n := f())",
               "assignment expressions (:=) in an 'and' after its first operand (computed only when it is true)" +
                   note,
               "1:12-1:20");
  expect_error("y = a or (n := f())",
               "assignment expressions (:=) in an 'or' after its first operand (computed only when it is false)" +
                   note,
               "1:11-1:19");
  expect_error("y = [(n := v) for v in w]", "assignment expressions (:=) in a comprehension" + note, "1:7-1:13");
  expect_error("f = lambda v: (n := v)", "assignment expressions (:=) in a lambda" + note, "1:16-1:22");
  expect_error("assert ok, (m := g())",
               "assignment expressions (:=) in an assert's message (computed only when the assert fails)" + note,
               "1:13-1:21");
  // Hoisted, `n` would be read after the assignment where Python reads it before.
  expect_error("y = n + (n := 1)",
               "'n' is read before the assignment expression (:=) that assigns it in the same statement", "1:5-1:6");
  // Python's own syntax rules.
  expect_error("x := 1", "invalid syntax: an assignment expression (:=) must be in parentheses here", "1:3-1:5");
  expect_error("y = x := 1", "invalid syntax: an assignment expression (:=) must be in parentheses here",
               "1:7-1:9");
  expect_error("y = (a.b := 1)", "invalid syntax: the target of an assignment expression (:=) must be a name",
               "1:6-1:9");
}

TEST(DesugarTest, AssignmentExpressionsBecomeAssignmentsBeforeTheStatement) {
  EXPECT_EQ(unparse_module("y = (z := x + 1) * z\n"), "z = x + 1\ny = z * z\n");
  EXPECT_EQ(unparse_module("if (n := len(a)) > 5:\n    pass\n"), "n = len(a)\nif n > 5:\n    pass\n");
  EXPECT_EQ(unparse_module("if n := f():\n    pass\n"), "n = f()\nif n:\n    pass\n");
  EXPECT_EQ(unparse_module("f(y := g(1), 2)\n"), "y = g(1)\nf(y, 2)\n");
  EXPECT_EQ(unparse_module("x[i := 0]\n"), "i = 0\nx[i]\n");
  EXPECT_EQ(unparse_module("for v in (w := f()):\n    pass\n"), "w = f()\nfor v in w:\n    pass\n");
  // An elif's condition is computed in the else of the if before it.
  EXPECT_EQ(unparse_module("if a:\n    pass\nelif (b := g()):\n    pass\n"),
            "if a:\n    pass\nelse:\n    b = g()\n    if b:\n        pass\n");
  // Several, in source order; the value may read the name's old value.
  EXPECT_EQ(unparse_module("y = [(a := 1), (b := a + 1), (a := a + b)]\n"),
            "a = 1\nb = a + 1\na = a + b\ny = [a, b, a]\n");
  // Inside an indented block the assignment stays in the block.
  EXPECT_EQ(unparse_module("def f():\n    return (r := 2) + r\n"), "def f():\n    r = 2\n    return r + r\n");
}

TEST(DesugarTest, LoopElse) {
  // Without a break of the loop's own, the clause always runs after the loop.
  EXPECT_EQ(unparse_module("for i in x:\n    pass\nelse:\n    t = 0\n"), "for i in x:\n    pass\nt = 0\n");
  EXPECT_EQ(unparse_module("for i in x:\n    for j in y:\n        break\nelse:\n    t = 0\n"),
            "for i in x:\n    for j in y:\n        break\nt = 0\n");
  // With one, a flag set before each break says whether it ran.
  EXPECT_EQ(unparse_module("for i in x:\n    if i:\n        break\nelse:\n    t = 0\n"),
            "_loop_broke_1 = False\nfor i in x:\n    if i:\n        _loop_broke_1 = True\n        break\n"
            "if not _loop_broke_1:\n    t = 0\n");
  // A break in the else clause belongs to the loop around it.
  EXPECT_EQ(unparse_module("while a:\n    for i in x:\n        pass\n    else:\n        break\n"),
            "while a:\n    for i in x:\n        pass\n    break\n");
  // Helion rejects while-else (its test_while_else_not_supported), and so does deuteron.
  expect_error("while x:\n    pass\nelse: pass",
               "while-else clauses are not supported in kernels; use a flag variable set before "
               "'break' instead",
               "3:1-3:11");
}

TEST(DesugarTest, DeclarationsOfNamesOnlyRead) {
  EXPECT_EQ(unparse_module("def f():\n    global g, h\n    return g + h\n"),
            "def f():\n    pass\n    return g + h\n");
  EXPECT_EQ(unparse_module("global g\n"), "pass\n");
  expect_error("def f():\n    global g\n    g = 1\n",
               "assigning to a global name ('g') is not supported in kernels", "3:5-3:10");
  expect_error("def f():\n    nonlocal g\n    for g in x:\n        pass\n",
               "assigning to a nonlocal name ('g') is not supported in kernels", "3:5-4:13");
  expect_error("def f(g):\n    global g\n", "name 'g' is parameter and global", "2:5-2:13");
  expect_error("nonlocal g\n", "nonlocal declaration not allowed at module level", "1:1-1:11");
}

TEST(RejectTest, Statements) {
  expect_error("import torch", "import statements are not supported in kernels; import modules "
                               "outside the kernel function", "1:1-1:13");
  expect_error("from a import b as c",
               "import statements are not supported in kernels; import modules outside the kernel "
               "function",
               "1:1-1:21");
  expect_error("del x[0]", "del statements are not supported in kernels", "1:1-1:9");
  expect_error("with open(f) as g:\n    pass", "with statements are not supported in kernels",
               "1:1-1:19");
  expect_error("try:\n    pass\nexcept E:\n    pass",
               "try/except statements are not supported in kernels; kernels cannot raise or handle "
               "exceptions",
               "1:1-1:5");
  expect_error("raise ValueError('x')",
               "raise statements are not supported in kernels; use assert to check conditions",
               "1:1-1:22");
  expect_error("class A:\n    pass",
               "class definitions are not supported in kernels; define classes outside the kernel",
               "1:1-1:9");
  expect_error("async def f(): pass", "async functions and statements are not supported in kernels",
               "1:1-1:20");
  expect_error("def f():\n    async for x in y: pass",
               "async functions and statements are not supported in kernels", "2:5-2:27");
  expect_error("match x:\n    case 1:\n        pass",
               "match statements are not supported in kernels; use if/elif/else instead", "1:1-1:9");
  expect_error("match (a, b):\n    case _: pass",
               "match statements are not supported in kernels; use if/elif/else instead",
               "1:1-1:14");
  expect_error("type Alias = list[int]", "type alias statements are not supported in kernels",
               "1:1-1:23");
  expect_error("if x: import y",
               "import statements are not supported in kernels; import modules outside the kernel "
               "function",
               "1:7-1:15");
}

TEST(RejectTest, YieldAndAwait) {
  expect_error("def f():\n    yield 1", "yield expressions are not supported in kernels",
               "2:5-2:12");
  expect_error("def f():\n    x = yield", "yield expressions are not supported in kernels",
               "2:9-2:14");
  expect_error("def f():\n    x = (yield a)", "yield expressions are not supported in kernels",
               "2:10-2:17");
  expect_error("def f():\n    yield from g()", "yield expressions are not supported in kernels",
               "2:5-2:19");
  expect_error("await x", "await expressions are not supported in kernels", "1:1-1:8");
  expect_error("y = 1 + await f(x)", "await expressions are not supported in kernels", "1:9-1:19");
}

TEST(RejectTest, Decorators) {
  expect_error("@dec\nx = 1", "decorators are only supported on function definitions", "1:1-1:5");
  expect_error("@a\n@b(1)\nclass C: pass",
               "class definitions are not supported in kernels; define classes outside the kernel",
               "3:1-3:14");
  expect_error("@a\n", "decorators are only supported on function definitions", "1:1-1:3");
}

TEST(RejectTest, NestedFunctions) {
  expect_error("def f():\n    def g():\n        pass",
               "nested function definitions are not supported", "2:5-2:10");
  expect_error("def f():\n    if x:\n        def g(): pass",
               "nested function definitions are not supported", "3:9-3:14");
  expect_error("def f():\n    @dec\n    def g(): pass",
               "nested function definitions are not supported", "3:5-3:10");
  // Defs at module level, even inside an `if`, are fine.
  EXPECT_EQ(parse("def f(): pass\ndef g(): pass\nif x:\n    def h(): pass\n")->body.size(), 3u);
}

TEST(RejectTest, ArgumentUnpackingAndVariadics) {
  // f(**kw) parses as a keyword without a name (sema expands a mapping known when
  // compiling); Python's order rules after it are syntax errors.
  EXPECT_EQ(unparse_expr("f(a, b=1, **kw, c=2)"), "f(a, b=1, **kw, c=2)");
  expect_error("f(**kw, a)", "positional argument follows keyword argument unpacking", "1:9-1:10");
  expect_error("f(**kw, *a)", "iterable argument unpacking follows keyword argument unpacking", "1:9-1:11");
  // `*args` and `**kwargs` parse (sema binds them in inlined helpers and lambdas,
  // and rejects them on a kernel): nothing may follow `**kwargs`.
  expect_error("def f(a, **kwargs, b): pass", "no parameter may follow '**kwargs'", "1:20-1:21");
  expect_error("def f(*args, *, b): pass", "'*' may appear only once in a parameter list",
               "1:14-1:15");
  expect_error("def f(a, /, b): pass",
               "positional-only parameter markers (/) are not supported in kernels", "1:10-1:11");
}

TEST(RejectTest, Literals) {
  expect_error("x = b'abc'", "bytes literals are not supported in kernels; use a str literal",
               "1:5-1:11");
  expect_error("x = 'a' rb'b'", "bytes literals are not supported in kernels; use a str literal",
               "1:9-1:14");
  expect_error("x = 9223372036854775808",
               "integer literal is too large for a 64-bit signed integer", "1:5-1:24");
  expect_error("x = 0xFFFF_FFFF_FFFF_FFFF",
               "integer literal is too large for a 64-bit signed integer", "1:5-1:26");
  expect_error("x = 1" + std::string(400, '0'),
               "integer literal is too large for a 64-bit signed integer", "1:5-1:406");
  expect_error("x = 1j", "complex literals are not supported", "1:5-1:7");
  expect_error("x = '\\N{EM DASH}'", "\\N{...} escapes are not supported in kernels", "1:6-1:8");
  expect_error("x = '\\x4g'", "invalid \\x escape: expected 2 hexadecimal digits", "1:6-1:9");
  expect_error("x = '\\u12'", "invalid \\u escape: expected 4 hexadecimal digits", "1:6-1:10");
  expect_error("x = '\\U00110000'", "invalid code point in \\U escape", "1:6-1:16");
  expect_error("x = '\\ud800'", "invalid code point in \\u escape", "1:6-1:12");
}

// ============================================================ syntax errors

TEST(SyntaxErrorTest, Messages) {
  expect_error("x = ", "invalid syntax: expected an expression, found end of line", "1:5-1:5");
  expect_error("x = 1 2", "invalid syntax: expected end of statement, found number 2", "1:7-1:8");
  expect_error("x = a if b", "invalid syntax: expected 'else' in the conditional expression, found "
                             "end of line", "1:11-1:11");
  expect_error("def f() pass",
               "invalid syntax: expected ':' after the function signature, found keyword 'pass'",
               "1:9-1:13");
  expect_error("def if(): pass", "invalid syntax: expected a function name, found keyword 'if'",
               "1:5-1:7");
  expect_error("def f(1): pass", "invalid syntax: expected a parameter name, found number 1",
               "1:7-1:8");
  expect_error("x.if", "invalid syntax: expected an attribute name after '.', found keyword 'if'",
               "1:3-1:5");
  expect_error("f(a b)", "invalid syntax: expected ')' to close the call, found name 'b'",
               "1:5-1:6");
  expect_error("x = (a b)", "invalid syntax: expected ',' or ')', found name 'b'", "1:8-1:9");
  expect_error("x = [a b]", "invalid syntax: expected ']' to close the list, found name 'b'",
               "1:8-1:9");
  expect_error("for x y: pass",
               "invalid syntax: expected 'in' after the loop variable, found name 'y'", "1:7-1:8");
  expect_error("if x pass", "invalid syntax: expected ':' after the condition, found keyword 'pass'",
               "1:6-1:10");
  expect_error("x = else", "invalid syntax: expected an expression, found keyword 'else'",
               "1:5-1:9");
  expect_error("else:\n    pass", "invalid syntax: 'else' without a matching 'if'", "1:1-1:5");
  expect_error("if x: if y: pass", "invalid syntax: 'if' statement must start on its own line",
               "1:7-1:9");
  expect_error("x = )", "unmatched ')'", "1:5-1:6");
  expect_error("x[]", "expected an index inside '[]'", "1:2-1:4");
}

TEST(SyntaxErrorTest, Indentation) {
  expect_error("  x = 1", "unexpected indent", "1:1-1:3");
  expect_error("x = 1\n    y = 2", "unexpected indent", "2:1-2:5");
  expect_error("if x:\npass", "expected an indented block after 'if' statement on line 1",
               "2:1-2:5");
  expect_error("def f():\n\n# c\nx = 1",
               "expected an indented block after function definition on line 1", "4:1-4:2");
  expect_error("for i in x:\n", "expected an indented block after 'for' statement on line 1",
               "1:12-1:12");
  expect_error("if a:\n    b\nelse:\nc",
               "expected an indented block after 'else' clause on line 3", "4:1-4:2");
  expect_error("if x:\n        a\n    b", "unindent does not match any outer indentation level",
               "3:1-3:5");
}

TEST(SyntaxErrorTest, Targets) {
  expect_error("1 = x", "cannot assign to literal", "1:1-1:2");
  expect_error("'s' = x", "cannot assign to literal", "1:1-1:4");
  expect_error("None = x", "cannot assign to None", "1:1-1:5");
  expect_error("True = x", "cannot assign to True", "1:1-1:5");
  expect_error("... = x", "cannot assign to ellipsis", "1:1-1:4");
  expect_error("f() = 1", "cannot assign to function call", "1:1-1:4");
  expect_error("a + b = 1", "cannot assign to expression", "1:1-1:6");
  expect_error("-a = 1", "cannot assign to expression", "1:1-1:3");
  expect_error("a < b = 1", "cannot assign to comparison", "1:1-1:6");
  expect_error("a if b else c = 1", "cannot assign to conditional expression", "1:1-1:14");
  expect_error("f'{a}' = 1", "cannot assign to f-string expression", "1:1-1:7");
  expect_error("x = f() = 1", "cannot assign to function call", "1:5-1:8");
  expect_error("a, f() = t", "cannot assign to function call", "1:4-1:7");
  expect_error("a, *b, *c = t", "multiple starred expressions in assignment", "1:8-1:10");
  expect_error("*a = t", "starred assignment target must be in a list or tuple", "1:1-1:3");
  expect_error("x = *a", "cannot use starred expression here", "1:5-1:7");
  expect_error("*a", "cannot use starred expression here", "1:1-1:3");
  expect_error("(*a) = 1", "cannot use starred expression here", "1:2-1:4");
  expect_error("for f() in x: pass", "cannot assign to function call", "1:5-1:8");
  expect_error("for 1 in x: pass", "cannot assign to literal", "1:5-1:6");
  expect_error("(a, b) += 1",
               "only a single target (not a tuple) is allowed in an augmented assignment",
               "1:1-1:7");
  expect_error("[a] -= 1", "only a single target (not a list) is allowed in an augmented assignment",
               "1:1-1:4");
  expect_error("f() *= 2", "illegal target for augmented assignment", "1:1-1:4");
  expect_error("a, b: int", "only a single target (not a tuple) is allowed in an annotation",
               "1:1-1:5");
  expect_error("f(): int = 1", "illegal target for annotation", "1:1-1:4");
}

TEST(SyntaxErrorTest, CallsAndParameters) {
  expect_error("f(a=1, b)", "positional argument follows keyword argument", "1:8-1:9");
  expect_error("f(a=1, a=2)", "keyword argument repeated: a", "1:8-1:9");
  expect_error("f(a.b=1)", "expression cannot contain assignment, perhaps you meant \"==\"?",
               "1:3-1:7");
  expect_error("def f(a=1, b): pass",
               "parameter without a default follows parameter with a default", "1:12-1:13");
  expect_error("def f(a, a): pass", "duplicate parameter 'a' in function definition", "1:10-1:11");
  expect_error("def f(a, *, a): pass", "duplicate parameter 'a' in function definition",
               "1:13-1:14");
  expect_error("def f(*): pass", "named parameters must follow bare '*'", "1:7-1:8");
  expect_error("def f(*, a, *, b): pass", "'*' may appear only once in a parameter list",
               "1:13-1:14");
  expect_error("x[*a]", "starred expressions in subscripts are not supported in kernels",
               "1:3-1:5");
}

TEST(SyntaxErrorTest, ControlFlowContext) {
  expect_error("break", "'break' outside loop", "1:1-1:6");
  expect_error("continue", "'continue' not properly in loop", "1:1-1:9");
  expect_error("return 1", "'return' outside function", "1:1-1:7");
  expect_error("def f():\n    break", "'break' outside loop", "2:5-2:10");
  expect_error("for x in y:\n    def f():\n        continue", "'continue' not properly in loop",
               "3:9-3:17");
  expect_error("if x:\n    return", "'return' outside function", "2:5-2:11");
}

TEST(SyntaxErrorTest, ErrorsUseAbsoluteLines) {
  expect_error("def f():\n    x = a or lambda: 1\n",
               "lambda expressions are not supported in kernels; define a helper function instead",
               "43:14-43:23", 42);
}

TEST(SyntaxErrorTest, FormattedMessageShowsTheSource) {
  try {
    parse("def k(x):\n    out[tile] = x[tile] + {1, 2}\n", 11);
    FAIL();
  } catch (const CompileError& e) {
    EXPECT_EQ(e.formatted(),
              "k.py:12:27: error: set displays are not supported in kernels; use a list or tuple\n"
              "   12 |     out[tile] = x[tile] + {1, 2}\n"
              "      |                           ^~~~~~");
  }
}

// ============================================================ nesting limits

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

void expect_too_deep(const std::string& text, const std::string& message) {
  SCOPED_TRACE(text.substr(0, 60));
  try {
    parse(text);
    ADD_FAILURE() << "no error";
  } catch (const CompileError& e) {
    EXPECT_EQ(e.diagnostic().message, message);
    EXPECT_TRUE(e.diagnostic().span.valid());
  }
}

TEST(LimitTest, ModerateNestingIsFine) {
  EXPECT_NO_THROW(parse("x = " + repeat("(", 150) + "1" + repeat(")", 150) + "\n"));
  EXPECT_NO_THROW(parse("x = " + repeat("-", 150) + "1\n"));
  EXPECT_NO_THROW(parse("x = " + repeat("[", 150) + repeat("]", 150) + "\n"));
  EXPECT_NO_THROW(parse("x = " + repeat("a + ", kMaxAstDepth - 10) + "a\n"));
  std::string blocks;
  for (int i = 0; i < 100; ++i) blocks += std::string(static_cast<size_t>(i), ' ') + "if x:\n";
  blocks += std::string(100, ' ') + "pass\n";
  EXPECT_NO_THROW(parse(blocks));
}

TEST(LimitTest, DeepNestingIsAnErrorNotACrash) {
  const std::string msg = "expression too deeply nested";
  expect_too_deep("x = " + repeat("(", 250) + "1" + repeat(")", 250), msg);
  expect_too_deep("x = " + repeat("(", 100000) + "1" + repeat(")", 100000), msg);
  expect_too_deep("x = " + repeat("[", 5000) + repeat("]", 5000), msg);
  expect_too_deep("x = " + repeat("-", 100000) + "1", msg);
  expect_too_deep("x = " + repeat("not ", 100000) + "1", msg);
  expect_too_deep("x = " + repeat("a ** ", 100000) + "1", msg);
  expect_too_deep("x = " + repeat("f(", 5000) + repeat(")", 5000), msg);
  expect_too_deep("x = a" + repeat("[a", 5000) + repeat("]", 5000), msg);
  expect_too_deep("x = " + repeat("a if b else ", 5000) + "c", msg);
  expect_too_deep("x = f'{" + repeat("(", 300) + "1" + repeat(")", 300) + "}'", msg);
}

TEST(LimitTest, LongChainsAreBoundedByTreeDepth) {
  const std::string msg = "expression too deeply nested";
  expect_too_deep("x = " + repeat("a + ", 50000) + "a", msg);
  expect_too_deep("x = a" + repeat(".b", 50000), msg);
  expect_too_deep("x = f" + repeat("()", 50000), msg);
  expect_too_deep("x = a" + repeat("[0]", 50000), msg);
  // Heights add up along the left spine: (b + ... + b) * a * ... * a.
  expect_too_deep("x = (" + repeat("b + ", 300) + "b)" + repeat(" * a", 300), msg);
  EXPECT_NO_THROW(parse("x = (" + repeat("b + ", 200) + "b)" + repeat(" * a", 200) + "\n"));
  expect_too_deep("x = " + repeat("a + ", kMaxAstDepth + 10) + "a", msg);
  // Flat constructs do not nest.
  EXPECT_NO_THROW(parse("x = " + repeat("a < ", 5000) + "a\n"));
  EXPECT_NO_THROW(parse("x = " + repeat("a and ", 5000) + "a\n"));
  EXPECT_NO_THROW(parse("x = [" + repeat("a, ", 5000) + "a]\n"));
}

TEST(LimitTest, DeepBlocks) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += std::string(static_cast<size_t>(i), ' ') + "if x:\n";
  text += std::string(300, ' ') + "pass\n";
  expect_too_deep(text, "blocks too deeply nested");
  std::string elifs = "if a:\n    pass\n" + repeat("elif a:\n    pass\n", 5000);
  expect_too_deep(elifs, "blocks too deeply nested");
  std::string same_line = repeat("if x: ", 1) + "pass\n";
  EXPECT_NO_THROW(parse(same_line));
}

// Inputs that are large but not deep parse in linear time (a quadratic
// step would make this test take minutes).
TEST(LimitTest, LargeInputsAreFast) {
  auto file = [](std::string text) { return make_file(std::move(text)); };
  EXPECT_EQ(parse_module(file(repeat("x = 1; ", 50000) + "\n"))->body.size(), 50000u);
  std::string call = "f(";
  for (int i = 0; i < 20000; ++i) call += "k" + std::to_string(i) + "=1, ";
  EXPECT_EQ(cast<Call>(&expr_of(*parse_module(file(call + ")\n"))))->keywords.size(), 20000u);
  std::string params = "def f(";
  for (int i = 0; i < 20000; ++i) params += "p" + std::to_string(i) + ", ";
  EXPECT_EQ(cast<FunctionDef>(parse_module(file(params + "): pass\n"))->body[0].get())->args.size(),
            20000u);
  std::string fields = repeat("x = f'{a}{b!r:>3}'\n", 20000);
  EXPECT_EQ(parse_module(file(fields))->body.size(), 20000u);
  EXPECT_EQ(parse_module(file(repeat("if x:\n    y = [1, 2]\n", 20000)))->body.size(), 20000u);
  // One huge expression, then many small statements.
  std::string mixed = "x = [" + repeat("a, ", 50000) + "]\n" + repeat("y = 1\n", 50000);
  EXPECT_EQ(parse_module(file(mixed))->body.size(), 50001u);
}

// ============================================================ unparse

TEST(UnparseTest, MinimalParentheses) {
  EXPECT_EQ(unparse_expr("(a + b) * c"), "(a + b) * c");
  EXPECT_EQ(unparse_expr("a + (b * c)"), "a + b * c");
  EXPECT_EQ(unparse_expr("a - (b - c)"), "a - (b - c)");
  EXPECT_EQ(unparse_expr("(a - b) - c"), "a - b - c");
  EXPECT_EQ(unparse_expr("-(x ** 2)"), "-x ** 2");
  EXPECT_EQ(unparse_expr("(-x) ** 2"), "(-x) ** 2");
  EXPECT_EQ(unparse_expr("a ** (b ** c)"), "a ** b ** c");
  EXPECT_EQ(unparse_expr("(a ** b) ** c"), "(a ** b) ** c");
  EXPECT_EQ(unparse_expr("2 ** (-1)"), "2 ** -1");
  EXPECT_EQ(unparse_expr("(not a) == b"), "(not a) == b");
  EXPECT_EQ(unparse_expr("not (a == b)"), "not a == b");
  EXPECT_EQ(unparse_expr("(a or b) and c"), "(a or b) and c");
  EXPECT_EQ(unparse_expr("a or (b and c)"), "a or b and c");
  EXPECT_EQ(unparse_expr("(a or b) or c"), "(a or b) or c");
  EXPECT_EQ(unparse_expr("(a < b) < c"), "(a < b) < c");
  EXPECT_EQ(unparse_expr("(a if b else c) if d else e"), "(a if b else c) if d else e");
  EXPECT_EQ(unparse_expr("a if b else (c if d else e)"), "a if b else c if d else e");
  EXPECT_EQ(unparse_expr("a if (b if c else d) else e"), "a if (b if c else d) else e");
  EXPECT_EQ(unparse_expr("(a + b).c"), "(a + b).c");
  EXPECT_EQ(unparse_expr("(a + b)(c)"), "(a + b)(c)");
  EXPECT_EQ(unparse_expr("(-a)[0]"), "(-a)[0]");
  EXPECT_EQ(unparse_expr("-(a + b)"), "-(a + b)");
  EXPECT_EQ(unparse_expr("- (-a)"), "--a");
  EXPECT_EQ(unparse_expr("(a | b) & c"), "(a | b) & c");
  EXPECT_EQ(unparse_expr("a << (b + c)"), "a << b + c");
  EXPECT_EQ(unparse_expr("(a << b) + c"), "(a << b) + c");
  EXPECT_EQ(unparse_expr("f(*(a + b))"), "f(*a + b)");  // same tree: `*` takes a whole operand
  EXPECT_EQ(unparse_expr("[*(a or b)]"), "[*(a or b)]");
  EXPECT_EQ(unparse_expr("(1).real"), "(1).real");
  EXPECT_EQ(unparse_expr("1.5 .real"), "1.5.real");
}

TEST(UnparseTest, TuplesSubscriptsAndSlices) {
  EXPECT_EQ(unparse_expr("a, b"), "a, b");
  EXPECT_EQ(unparse_expr("(a, b)"), "(a, b)");
  EXPECT_EQ(unparse_expr("a,"), "a,");
  EXPECT_EQ(unparse_expr("()"), "()");
  EXPECT_EQ(unparse_expr("f((a, b), (c,))"), "f((a, b), (c,))");
  EXPECT_EQ(unparse_expr("[(a, b)]"), "[(a, b)]");
  EXPECT_EQ(unparse_expr("x[a, b]"), "x[a, b]");
  EXPECT_EQ(unparse_expr("x[(a, b)]"), "x[a, b]");
  EXPECT_EQ(unparse_expr("x[a,]"), "x[a,]");
  EXPECT_EQ(unparse_expr("x[()]"), "x[()]");
  EXPECT_EQ(unparse_expr("x[:, None]"), "x[:, None]");
  EXPECT_EQ(unparse_expr("x[1:2, ::3]"), "x[1:2, ::3]");
  EXPECT_EQ(unparse_expr("x[a:b:c]"), "x[a:b:c]");
  EXPECT_EQ(unparse_expr("x[::]"), "x[:]");
  EXPECT_EQ(unparse_expr("x[..., 0]"), "x[..., 0]");
  EXPECT_EQ(unparse_expr("x[(a, b), c]"), "x[(a, b), c]");
  EXPECT_EQ(unparse_expr("x[a if b else c:]"), "x[a if b else c:]");
  EXPECT_EQ(unparse_expr("(a, (b, c))"), "(a, (b, c))");
  // A starred element keeps the index tuple parenthesized: x[a, *b] is rejected.
  EXPECT_EQ(unparse_expr("x[(a, *b)]"), "x[(a, *b)]");
  EXPECT_EQ(unparse_expr("x[(*b,)]"), "x[(*b,)]");
}

TEST(UnparseTest, Literals) {
  EXPECT_EQ(unparse_expr("1_000"), "1000");
  EXPECT_EQ(unparse_expr("0xff"), "255");
  EXPECT_EQ(unparse_expr("1e-5"), "1e-05");
  EXPECT_EQ(unparse_expr("100."), "100.0");
  EXPECT_EQ(unparse_expr("1e16"), "1e+16");
  EXPECT_EQ(unparse_expr("1e400"), "float('inf')");
  EXPECT_EQ(unparse_expr("'a' \"b\""), "'ab'");
  EXPECT_EQ(unparse_expr("\"it's\""), "\"it's\"");
  EXPECT_EQ(unparse_expr("'say \"hi\"'"), "'say \"hi\"'");
  EXPECT_EQ(unparse_expr("'both \\' and \"'"), "'both \\' and \"'");
  EXPECT_EQ(unparse_expr("'tab\\tnl\\n\\x00\\\\'"), "'tab\\tnl\\n\\x00\\\\'");
  EXPECT_EQ(unparse_expr("'é'"), "'é'");
  EXPECT_EQ(unparse_expr("None, True, False, ..."), "None, True, False, ...");
}

TEST(UnparseTest, FStrings) {
  EXPECT_EQ(unparse_expr("f\"n={n!r:>8}, {{x}}\""), "f'n={n!r:>8}, {{x}}'");
  EXPECT_EQ(unparse_expr("f'{a[\"k\"]}'"), "f\"{a['k']}\"");  // the field prints 'k'
  EXPECT_EQ(unparse_expr("f\"{a['k']}\""), "f\"{a['k']}\"");
  EXPECT_EQ(unparse_expr("f'{f\"{x}\"}'"), "f\"{f'{x}'}\"");
  EXPECT_EQ(unparse_expr("f'it\\'s {x}'"), "f'it\\'s {x}'");
  EXPECT_EQ(unparse_expr("f'{x:\\n}'"), "f'{x:\\n}'");
  EXPECT_EQ(unparse_expr("f''"), "f''");
  EXPECT_EQ(unparse_expr("f'{a, b}'"), "f'{a, b}'");
}

TEST(UnparseTest, Statements) {
  EXPECT_EQ(unparse_module("@a.b(1)\n@c\ndef f(x: int, y=2, *, z: float = 1.0, w) -> T:\n"
                           "    '''doc'''\n    return x\n"),
            "@a.b(1)\n@c\ndef f(x: int, y=2, *, z: float = 1.0, w) -> T:\n"
            "    'doc'\n    return x\n");
  EXPECT_EQ(unparse_module("if a: x = 1; y = 2\nelif b: pass\nelif c: pass\nelse: z = 3\n"),
            "if a:\n    x = 1\n    y = 2\nelif b:\n    pass\nelif c:\n    pass\nelse:\n    z = 3\n");
  EXPECT_EQ(unparse_module("if a:\n  pass\nelse:\n  if b:\n    pass\n"),
            "if a:\n    pass\nelse:\n    if b:\n        pass\n");
  EXPECT_EQ(unparse_module("for (i, j) in x, y:\n  break\nwhile not done: continue\n"),
            "for (i, j) in x, y:\n    break\nwhile not done:\n    continue\n");
  EXPECT_EQ(unparse_module("a = b = (1, 2)\nc, *d = e\nx: int\ny: float = 2.\nz **= 2\n"),
            "a = b = (1, 2)\nc, *d = e\nx: int\ny: float = 2.0\nz **= 2\n");
  EXPECT_EQ(unparse_module("def f():\n  assert x, 'm'\n  assert y\n  return\n  return a, b\n"),
            "def f():\n    assert x, 'm'\n    assert y\n    return\n    return a, b\n");
  EXPECT_EQ(unparse_module("f(x)\n"), "f(x)\n");
}

TEST(UnparseTest, StatementIndent) {
  auto m = parse("for i in x:\n    y = i\n");
  EXPECT_EQ(unparse(*m->body[0], 8), "        for i in x:\n            y = i\n");
}

TEST(UnparseTest, ProgrammaticNodes) {
  SourceSpan s;
  auto constant = [&](auto setup) {
    auto c = std::make_unique<Constant>(s);
    setup(*c);
    return c;
  };
  auto neg = constant([](Constant& c) {
    c.type = Constant::Type::Int;
    c.int_value = -5;
  });
  EXPECT_EQ(unparse(*neg), "-5");
  BinOp pow(s, BinOpKind::Pow, std::move(neg), constant([](Constant& c) {
              c.type = Constant::Type::Int;
              c.int_value = 2;
            }));
  EXPECT_EQ(unparse(pow), "(-5) ** 2");
  auto inf = constant([](Constant& c) {
    c.type = Constant::Type::Float;
    c.float_value = -std::numeric_limits<double>::infinity();
  });
  EXPECT_EQ(unparse(*inf), "float('-inf')");
  inf->float_value = std::numeric_limits<double>::infinity();
  EXPECT_EQ(unparse(*inf), "float('inf')");
  inf->float_value = std::nan("");
  EXPECT_EQ(unparse(*inf), "float('nan')");
  inf->float_value = -0.0;
  EXPECT_EQ(unparse(*inf), "-0.0");
  Attribute attr(s, constant([](Constant& c) {
                   c.type = Constant::Type::Float;
                   c.float_value = -2.5;
                 }),
                 "real");
  EXPECT_EQ(unparse(attr), "(-2.5).real");
  Tuple t(s);
  t.elts.push_back(std::make_unique<Name>(s, "a"));
  t.parenthesized = true;
  EXPECT_EQ(unparse(t), "(a,)");
  t.parenthesized = false;
  EXPECT_EQ(unparse(t), "a,");
  If empty(s);
  empty.test = std::make_unique<Name>(s, "c");
  EXPECT_EQ(unparse(empty), "if c:\n    pass\n");
  FString f(s);
  FString::Part lit;
  lit.literal = "q'\"{";
  f.parts.push_back(std::move(lit));
  FString::Part field;
  auto str = constant([](Constant& c) {
    c.type = Constant::Type::String;
    c.string_value = "k";
  });
  field.value = std::move(str);
  f.parts.push_back(std::move(field));
  EXPECT_EQ(unparse(f), "f\"q'\\\"{{{'k'}\"");
}

TEST(UnparseTest, FloatRepr) {
  EXPECT_EQ(float_repr(0.0), "0.0");
  EXPECT_EQ(float_repr(-0.0), "-0.0");
  EXPECT_EQ(float_repr(1.0), "1.0");
  EXPECT_EQ(float_repr(0.1), "0.1");
  EXPECT_EQ(float_repr(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(float_repr(100.0), "100.0");
  EXPECT_EQ(float_repr(123456789.0), "123456789.0");
  EXPECT_EQ(float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(float_repr(1e16), "1e+16");
  EXPECT_EQ(float_repr(1.5e16), "1.5e+16");
  EXPECT_EQ(float_repr(1e-4), "0.0001");
  EXPECT_EQ(float_repr(1.5e-4), "0.00015");
  EXPECT_EQ(float_repr(1e-5), "1e-05");
  EXPECT_EQ(float_repr(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(float_repr(1e300), "1e+300");
  EXPECT_EQ(float_repr(5e-324), "5e-324");
  EXPECT_EQ(float_repr(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(float_repr(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(float_repr(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(float_repr(std::nan("")), "nan");
}

TEST(UnparseTest, StringRepr) {
  EXPECT_EQ(string_repr(""), "''");
  EXPECT_EQ(string_repr("abc"), "'abc'");
  EXPECT_EQ(string_repr("it's"), "\"it's\"");
  EXPECT_EQ(string_repr("\""), "'\"'");
  EXPECT_EQ(string_repr("'\""), "'\\'\"'");
  EXPECT_EQ(string_repr("a\\b"), "'a\\\\b'");
  EXPECT_EQ(string_repr("\n\r\t"), "'\\n\\r\\t'");
  EXPECT_EQ(string_repr(std::string("\x01\x7f", 2)), "'\\x01\\x7f'");
  EXPECT_EQ(string_repr("ü→"), "'ü→'");
}

TEST(UnparseTest, OpSpellings) {
  EXPECT_STREQ(op_spelling(BinOpKind::FloorDiv), "//");
  EXPECT_STREQ(op_spelling(BinOpKind::MatMult), "@");
  EXPECT_STREQ(op_spelling(UnaryOpKind::Invert), "~");
  EXPECT_STREQ(op_spelling(UnaryOpKind::Not), "not");
  EXPECT_STREQ(op_spelling(BoolOpKind::And), "and");
  EXPECT_STREQ(op_spelling(BoolOpKind::Or), "or");
  EXPECT_STREQ(op_spelling(CmpOpKind::IsNot), "is not");
  EXPECT_STREQ(op_spelling(CmpOpKind::NotIn), "not in");
}

TEST(RoundTripTest, Kernels) {
  expect_round_trip(kSoftmax);
  std::string matmul = kMatmul;
  expect_round_trip(matmul);
  matmul.replace(matmul.find("lambda acc, tile: acc"), 21, "None");
  expect_round_trip(matmul);
  expect_round_trip("f = lambda x, y=1, *, z: (lambda: x + y * z)\ng(lambda: 0, key=lambda a: (a, 1))\n");
  expect_round_trip("f = lambda score, *_: score\ng = lambda *a, k=1, **kw: a\n\n\ndef h(x: int, *args: int, y, **kw):\n    return x\n");
  expect_round_trip(R"(@deuteron.kernel(static_shapes=True)
def attention(q_in: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    m_dim = q_in.size(-2)
    n_dim = k_in.size(-2)
    assert n_dim == v_in.size(-2)
    head_dim = hl.specialize(q_in.size(-1))
    q_view = q_in.reshape([-1, m_dim, head_dim])
    out = torch.empty_like(q_view)
    sm_scale = 1.0 / math.sqrt(head_dim)
    qk_scale = sm_scale * 1.44269504
    for tile_b, tile_m in hl.tile([q_view.size(0), m_dim]):
        m_i = hl.full([tile_b, tile_m], float('-inf'), dtype=torch.float32)
        l_i = torch.full_like(m_i, 1.0)
        acc = hl.zeros([tile_b, tile_m, head_dim], dtype=torch.float32)
        q = q_view[tile_b, tile_m, :]
        for tile_n in hl.tile(v_view.size(1)):
            k = k_view[tile_b, :, tile_n]
            qk = torch.bmm(q, k)
            m_ij = torch.maximum(m_i, torch.amax(qk, -1) * qk_scale)
            qk = qk * qk_scale - m_ij[:, :, None]
            p = torch.exp2(qk)
            l_ij = torch.sum(p, -1)
            alpha = torch.exp2(m_i - m_ij)
            l_i = l_i * alpha + l_ij
            acc = acc * alpha[:, :, None]
            v = v_view[tile_b, tile_n, :]
            p = p.to(v.dtype)
            acc = torch.baddbmm(acc, p, v)
            m_i = m_ij
        m_i += torch.log2(l_i)
        acc = acc / l_i[:, :, None]
        out[tile_b, tile_m, :] = acc.to(out.dtype)
    return out.view(q_in.size())
)");
  expect_round_trip(
      "x = -(-1)\ny = (a, b) = c = [*d, (e,)]\nz = not (a if b else c)\n"
      "w = f(*a, *b, k=(1, 2))[::-1, ..., None]\nv = 2 ** -x ** -y\nu = ~(~a)\n"
      "t = a is not b not in c\ns = 'a' f\"b{c!r:>8}{{}}\" 'd'\n");
}

}  // namespace
}  // namespace deuteron
