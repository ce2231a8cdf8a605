// Deterministic property tests for the frontend.
//
// (a) Robustness: random token soups and random mutations of realistic
//     kernels go through tokenize + parse_module.  Every outcome must be a
//     success or a CompileError whose span lies inside the input -- never a
//     crash, a hang or another exception.  Successful parses must also have
//     valid spans everywhere and survive an unparse round trip.
// (b) Unparse: random well-formed expression trees, printed and parsed back,
//     give the same tree.
//
// All randomness comes from fixed seeds, so failures reproduce exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "deuteron/ast.h"
#include "deuteron/lexer.h"
#include "deuteron/parser.h"

namespace deuteron {
namespace {

using namespace ast;

// ------------------------------------------------------------------ corpus

const char* const kCorpus[] = {
    R"(@deuteron.kernel()
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
)",
    R"(@deuteron.kernel(config=deuteron.Config(block_sizes=[64, 64, 32], num_warps=4))
def matmul(x: torch.Tensor, y: torch.Tensor, epilogue: Callable[[torch.Tensor, tuple[torch.Tensor, ...]], torch.Tensor] = None) -> torch.Tensor:
    m, k = x.size()
    k2, n = y.size()
    assert k == k2, f"size mismatch {k} != {k2}"
    out = torch.empty([m, n], dtype=torch.promote_types(x.dtype, y.dtype), device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out
)",
    R"(@deuteron.kernel(static_shapes=True)
def attention(q_in: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    m_dim = q_in.size(-2)
    n_dim = k_in.size(-2)
    assert n_dim == v_in.size(-2)
    head_dim = hl.specialize(q_in.size(-1))
    q_view = q_in.reshape([-1, m_dim, head_dim])
    v_view = v_in.reshape([-1, n_dim, head_dim])
    k_view = k_in.reshape([-1, n_dim, head_dim]).transpose(1, 2)
    out = torch.empty_like(q_view)
    sm_scale = 1.0 / math.sqrt(head_dim)
    qk_scale = sm_scale * 1.44269504  # 1/log(2)
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
)",
    R"(@deuteron.kernel
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x, y = torch.broadcast_tensors(x, y)
    out = torch.empty(x.shape, dtype=torch.promote_types(x.dtype, y.dtype), device=x.device)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out
)",
    R"(def helper(a, b=2, *, scale: float = 0.5):
    return (a + b) * scale

@deuteron.kernel()
def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5):
    m, n = x.size()
    out = torch.empty([m, n], dtype=torch.float16, device=x.device)
    for tile_m in hl.tile(m):
        acc = x[tile_m, :].to(torch.float32)
        var, mean = torch.var_mean(acc, dim=-1, keepdim=True, correction=0)
        normalized = (acc - mean) * torch.rsqrt(var + eps)
        acc = normalized * (weight[:].to(torch.float32)) + (bias[:].to(torch.float32))
        out[tile_m, :] = acc
    return out
)",
    R"(@deuteron.kernel()
def jagged(x_data: torch.Tensor, x_offsets: torch.Tensor, max_m: int) -> torch.Tensor:
    num_rows = x_offsets.size(0) - 1
    out = torch.zeros([num_rows, max_m], dtype=x_data.dtype, device=x_data.device)
    for tile_b in hl.tile(num_rows):
        starts = x_offsets[tile_b]
        ends = x_offsets[tile_b.index + 1]
        nnz = ends - starts
        for tile_k in hl.tile(0, max_m):
            mask = tile_k.index[None, :] < nnz[:, None]
            vals = hl.load(x_data, [starts[:, None] + tile_k.index[None, :]], extra_mask=mask)
            out[tile_b, tile_k] = torch.where(mask, vals, 0.0)
    return out
)",
    R"(@deuteron.kernel()
def loops(x, n: int):
    total = 0
    i = 0
    while i < n and not done:
        if i % 2 == 0: total += i; i += 1
        elif i % 3: i += 2
        else:
            i = i << 1 | 1
            break
    a = b = c = (1, 2, 3)[::-1]
    first, *rest = x
    y: int = -x ** 2 if x else ~x
    z = 0x1F + 0o17 + 0b101 + 1_000 + 1.5e-3 + .5
    s = 'single' "double" r'\raw' f'{a!s:>8}' if False else ''
    return first, rest
)",
    R"(@deuteron.kernel(config=deuteron.Config(block_sizes=[32]))
def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    n, v = logits.shape
    losses = torch.zeros([n], dtype=logits.dtype, device=logits.device)
    base_indices = torch.arange(n, device=logits.device) * v
    logits_flat = logits.view(-1)
    for tile_n in hl.tile(n):
        labels_tile = labels[tile_n]
        base_indices_tile = base_indices[tile_n]
        flat_indices = base_indices_tile + labels_tile
        logits_at_target = hl.load(logits_flat, [flat_indices])
        logits_rows = logits[tile_n, :]
        max_logits = torch.amax(logits_rows, dim=-1, keepdim=True)
        shifted = logits_rows - max_logits
        exp_shifted = torch.exp(shifted)
        sum_exp = torch.sum(exp_shifted, dim=-1, keepdim=True)
        log_sum_exp = max_logits.squeeze(-1) + torch.log(sum_exp.squeeze(-1))
        losses[tile_n] = log_sum_exp - logits_at_target
    return losses.mean()
)",
    R"(@deuteron.kernel()
def messages(x: torch.Tensor, n: int):
    assert n > 0, f'''n must be positive,
    got {n!r:>8} for {x.shape[0] +
                      1}'''
    assert x.dim() == 2, "bad " \
        f"dims {x.dim()} " 'and' \
        f"{{braces}} {'nested'} {f'{n}'}"
    return x
)",
};

// ------------------------------------------------------------------ checks

std::shared_ptr<SourceFile> make_file(const std::string& text, int first_line) {
  auto f = std::make_shared<SourceFile>();
  f->filename = "fuzz.py";
  f->text = text;
  f->first_line = first_line;
  return f;
}

// The byte length of each line of the text, split on '\n' only.
std::vector<int> line_lengths(const std::string& text) {
  std::vector<int> out{0};
  for (char c : text) {
    if (c == '\n') {
      out.push_back(0);
    } else {
      ++out.back();
    }
  }
  return out;
}

// Whether span lies inside the text: both ends on existing lines, columns
// within the line (one past its end, and one more for a newline token).
bool span_inside(const SourceSpan& s, const std::vector<int>& lengths, int first_line) {
  auto position_ok = [&](int line, int col, int slack) {
    int index = line - first_line;
    if (index < 0 || index >= static_cast<int>(lengths.size())) return false;
    return col >= 1 && col <= lengths[static_cast<size_t>(index)] + slack;
  };
  if (!position_ok(s.line, s.col, 1) || !position_ok(s.end_line, s.end_col, 2)) return false;
  return s.end_line > s.line || (s.end_line == s.line && s.end_col >= s.col);
}

std::string span_text(const SourceSpan& s) {
  return std::to_string(s.line) + ":" + std::to_string(s.col) + "-" + std::to_string(s.end_line) +
         ":" + std::to_string(s.end_col);
}

class SpanChecker {
 public:
  SpanChecker(const std::string& text, int first_line)
      : lengths_(line_lengths(text)), first_line_(first_line) {}

  void check(const SourceSpan& s, const char* what) {
    if (!span_inside(s, lengths_, first_line_)) {
      ADD_FAILURE() << "bad " << what << " span " << span_text(s);
    }
  }
  void expr(const Expr& e) {
    check(e.span, "expression");
    switch (e.kind) {
      case ExprKind::Name:
      case ExprKind::Constant:
        return;
      case ExprKind::FString:
        for (const auto& p : cast<FString>(&e)->parts) opt(p.value);
        return;
      case ExprKind::BinOp:
        expr(*cast<BinOp>(&e)->left);
        expr(*cast<BinOp>(&e)->right);
        return;
      case ExprKind::UnaryOp: expr(*cast<UnaryOp>(&e)->operand); return;
      case ExprKind::BoolOp: list(cast<BoolOp>(&e)->values); return;
      case ExprKind::Compare:
        expr(*cast<Compare>(&e)->left);
        list(cast<Compare>(&e)->comparators);
        return;
      case ExprKind::Call: {
        const auto* c = cast<Call>(&e);
        expr(*c->func);
        list(c->args);
        for (const Keyword& k : c->keywords) {
          check(k.span, "keyword");
          expr(*k.value);
        }
        return;
      }
      case ExprKind::Attribute:
        check(cast<Attribute>(&e)->attr_span, "attribute name");
        expr(*cast<Attribute>(&e)->value);
        return;
      case ExprKind::Subscript:
        expr(*cast<Subscript>(&e)->value);
        expr(*cast<Subscript>(&e)->index);
        return;
      case ExprKind::Slice:
        opt(cast<Slice>(&e)->lower);
        opt(cast<Slice>(&e)->upper);
        opt(cast<Slice>(&e)->step);
        return;
      case ExprKind::Tuple: list(cast<Tuple>(&e)->elts); return;
      case ExprKind::List: list(cast<List>(&e)->elts); return;
      case ExprKind::IfExp:
        expr(*cast<IfExp>(&e)->test);
        expr(*cast<IfExp>(&e)->body);
        expr(*cast<IfExp>(&e)->orelse);
        return;
      case ExprKind::Starred: expr(*cast<Starred>(&e)->value); return;
      case ExprKind::Lambda:
        for (const auto& a : cast<Lambda>(&e)->args) opt(a.default_value);
        expr(*cast<Lambda>(&e)->body);
        return;
      case ExprKind::Comp: {
        const auto* c = cast<Comp>(&e);
        expr(*c->elt);
        opt(c->value);
        for (const auto& g : c->generators) {
          expr(*g.target);
          expr(*g.iter);
          list(g.ifs);
        }
        return;
      }
    }
  }
  void stmt(const Stmt& s) {
    check(s.span, "statement");
    switch (s.kind) {
      case StmtKind::FunctionDef: {
        const auto* f = cast<FunctionDef>(&s);
        check(f->name_span, "function name");
        list(f->decorators);
        for (const Arg& a : f->args) {
          check(a.span, "argument");
          opt(a.annotation);
          opt(a.default_value);
        }
        opt(f->returns);
        body(f->body);
        return;
      }
      case StmtKind::Assign:
        list(cast<Assign>(&s)->targets);
        expr(*cast<Assign>(&s)->value);
        return;
      case StmtKind::AugAssign:
        expr(*cast<AugAssign>(&s)->target);
        expr(*cast<AugAssign>(&s)->value);
        return;
      case StmtKind::AnnAssign:
        expr(*cast<AnnAssign>(&s)->target);
        expr(*cast<AnnAssign>(&s)->annotation);
        opt(cast<AnnAssign>(&s)->value);
        return;
      case StmtKind::For:
        check(cast<For>(&s)->header_span, "header");
        expr(*cast<For>(&s)->target);
        expr(*cast<For>(&s)->iter);
        body(cast<For>(&s)->body);
        return;
      case StmtKind::While:
        check(cast<While>(&s)->header_span, "header");
        expr(*cast<While>(&s)->test);
        body(cast<While>(&s)->body);
        return;
      case StmtKind::If:
        check(cast<If>(&s)->header_span, "header");
        expr(*cast<If>(&s)->test);
        body(cast<If>(&s)->body);
        body(cast<If>(&s)->orelse);
        return;
      case StmtKind::Return: opt(cast<Return>(&s)->value); return;
      case StmtKind::Assert:
        expr(*cast<Assert>(&s)->test);
        opt(cast<Assert>(&s)->msg);
        return;
      case StmtKind::ExprStmt: expr(*cast<ExprStmt>(&s)->value); return;
      case StmtKind::Break:
      case StmtKind::Continue:
      case StmtKind::Pass:
        return;
    }
  }

 private:
  void opt(const ExprPtr& e) {
    if (e) expr(*e);
  }
  void list(const std::vector<ExprPtr>& v) {
    for (const ExprPtr& e : v) expr(*e);
  }
  void body(const Body& b) {
    for (const StmtPtr& s : b) stmt(*s);
  }
  std::vector<int> lengths_;
  int first_line_;
};

DumpOptions no_spans() {
  DumpOptions o;
  o.spans = false;
  return o;
}

std::string printable(const std::string& text) { return string_repr(text); }

// Counts of outcomes, to make sure the generators exercise both paths.
struct Outcomes {
  int parsed = 0;
  int rejected = 0;
};

// The robustness property for one input.
void check_input(const std::string& text, int first_line, Outcomes& outcomes) {
  auto file = make_file(text, first_line);
  std::vector<int> lengths = line_lengths(text);
  try {
    std::vector<Token> tokens = tokenize(file);
    for (const Token& t : tokens) {
      if (!span_inside(t.span, lengths, first_line)) {
        ADD_FAILURE() << "token " << printable(t.text) << " has bad span " << span_text(t.span)
                      << " in " << printable(text);
      }
    }
    auto module = parse_module(file);
    ++outcomes.parsed;
    SpanChecker checker(text, first_line);
    for (const StmtPtr& s : module->body) checker.stmt(*s);
    std::string first_dump = dump(*module, no_spans());
    std::string printed;
    for (const StmtPtr& s : module->body) printed += unparse(*s);
    // Infinite and NaN constants print as float('inf') calls by design.
    if (first_dump.find("float inf") != std::string::npos ||
        first_dump.find("float nan") != std::string::npos ||
        first_dump.find("float -inf") != std::string::npos) {
      return;
    }
    try {
      auto reparsed = parse_module(make_file(printed, 1));
      EXPECT_EQ(first_dump, dump(*reparsed, no_spans()))
          << "input: " << printable(text) << "\nprinted: " << printable(printed);
    } catch (const CompileError& e) {
      ADD_FAILURE() << "unparse output does not parse: " << e.what() << "\ninput: "
                    << printable(text) << "\nprinted: " << printable(printed);
    }
  } catch (const CompileError& e) {
    ++outcomes.rejected;
    const SourceSpan& span = e.diagnostic().span;
    if (!span_inside(span, lengths, first_line)) {
      ADD_FAILURE() << "error span " << span_text(span) << " outside the input for "
                    << printable(text) << ": " << e.diagnostic().message;
    }
    EXPECT_FALSE(e.diagnostic().message.empty());
    EXPECT_EQ(e.file(), file);
    EXPECT_FALSE(e.formatted().empty());
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception " << e.what() << " for " << printable(text);
  }
}

// Iteration counts are multiplied by $DEUTERON_PROPERTY_SCALE (default 1) for
// longer local soak runs; the sequence of inputs stays deterministic.
int scaled(int iterations) {
  const char* env = std::getenv("DEUTERON_PROPERTY_SCALE");
  int scale = env ? std::atoi(env) : 1;
  return iterations * (scale > 0 ? scale : 1);
}

// A deterministic generator (std::uniform_int_distribution differs between
// standard libraries; plain modulo does not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(engine_() % n); }
  bool chance(int percent) { return below(100) < static_cast<size_t>(percent); }
  template <typename T, size_t N>
  const T& pick(const T (&items)[N]) {
    return items[below(N)];
  }
  uint64_t bits() { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

// ------------------------------------------------------------------ (a) soups

TEST(ParserPropertyTest, RandomTokenSoups) {
  static const char* const kPieces[] = {
      "def", "if", "elif", "else", "for", "in", "while", "return", "pass", "break", "continue",
      "assert", "not", "and", "or", "is", "None", "True", "False", "lambda", "import", "from",
      "class", "with", "yield", "await", "async", "global", "del", "try", "except", "raise",
      "match", "case", "type", "_", "x", "tile", "hl", "torch", "f", "0", "1", "1.5", "0x1f",
      "1e-3", "1_0", "01", "1j", "99999999999999999999", ".5", "1.", "'a'", "\"b\"", "f'{x}'",
      "f'{x!r:>4}'", "f'{'", "f'}'", "'''", "rb''", "'\\n'", "r'\\'", "'é'", "(", ")", "[", "]",
      "{", "}", ":", ",", ";", ".", "...", "+", "-", "*", "**", "/", "//", "%", "@", "&", "|",
      "^", "~", "<<", ">>", "<", ">", "==", "!=", "<=", ">=", "=", "+=", "**=", "->", ":=",
      "\n", "\n", "\n    ", "\n        ", "\n\t", "\\\n", "#c", "$", "?", "!", "é", "\r\n",
      "f\"{a\\\n", "f'''{\n", "f'{a!r:>", "'\\\n'"};
  Outcomes outcomes;
  Rng rng(12345);
  for (int i = 0; i < scaled(4000); ++i) {
    std::string text;
    size_t n = 1 + rng.below(40);
    for (size_t k = 0; k < n; ++k) {
      text += rng.pick(kPieces);
      if (rng.chance(70)) text += ' ';
    }
    check_input(text, rng.chance(50) ? 1 : 1 + static_cast<int>(rng.below(1000)), outcomes);
    if (HasFailure()) break;
  }
  EXPECT_GT(outcomes.parsed, 30);
  EXPECT_GT(outcomes.rejected, 1000);
}

// Structured soups: statements built from plausible pieces, so that more of
// them parse and the deeper parts of the grammar are reached.
TEST(ParserPropertyTest, RandomStatementSoups) {
  static const char* const kExprs[] = {
      "x", "x[i, :]", "f(a, b=1)", "-a ** 2", "a if b else c", "not a < b", "(a, b)", "[a, *b]",
      "x.y.z", "f'{x!r}'", "'s' 't'", "1.5", "None", "a[::2]", "x[..., None]", "(1,)", "()",
      "a or b and c", "~a | b & c ^ d", "a << 2 >> 1", "a @ b", "a // b % c", "*a", "lambda: 0",
      "[i for i in x]", "{1: 2}", "(y := 1)", "await x", "f(**k)", "b'x'", "1j", ""};
  static const char* const kStmts[] = {
      "{e}", "{e} = {e}", "{e} += {e}", "{e}: {e} = {e}", "return {e}", "assert {e}, {e}",
      "pass", "break", "continue", "del {e}", "import {e}", "{e}; {e}", "if {e}: {e}",
      "if {e}:", "elif {e}:", "else:", "for {e} in {e}:", "while {e}:", "def f({e}):",
      "def g(a, *, b={e}) -> {e}:", "@{e}", "with {e}:", "class C:", "return"};
  Outcomes outcomes;
  Rng rng(777);
  for (int i = 0; i < scaled(3000); ++i) {
    std::string text;
    int indent = 0;
    size_t lines = 1 + rng.below(12);
    for (size_t l = 0; l < lines; ++l) {
      std::string stmt = rng.pick(kStmts);
      for (size_t pos; (pos = stmt.find("{e}")) != std::string::npos;) {
        stmt.replace(pos, 3, rng.pick(kExprs));
      }
      text += std::string(static_cast<size_t>(indent) * 4, ' ') + stmt + "\n";
      if (!stmt.empty() && stmt.back() == ':') {
        ++indent;
      } else if (indent > 0 && rng.chance(30)) {
        indent -= 1 + static_cast<int>(rng.below(static_cast<size_t>(indent)));
      }
    }
    check_input(text, 1, outcomes);
    if (HasFailure()) break;
  }
  EXPECT_GT(outcomes.parsed, 30);
  EXPECT_GT(outcomes.rejected, 1000);
}

// ------------------------------------------------------------------ (a) mutations

std::string mutate(const std::string& original, Rng& rng) {
  static const char* const kInserts[] = {
      "(", ")", "[", "]", "{", "}", ":", ",", "=", ".", "*", "-", "+", " ", "    ", "\t", "\n",
      "'", "\"", "#", "\\", "@", ";", "!", "<", "0", "a", "if ", "not ", "lambda ", "é", "\x01",
      "" /* a NUL byte */, "\r", "\xff", "f'", "{x}", "'''", "1e", "0x", "\n    ",
      "\n\t", "\\\n", "f\"{", "f'''{", "\"\"\"", "!r}", ":>{"};
  std::string text = original;
  size_t mutations = 1 + rng.below(4);
  for (size_t m = 0; m < mutations; ++m) {
    size_t pos = rng.below(text.size() + 1);
    switch (rng.below(9)) {
      case 0: {  // insert a piece (NUL needs its length spelled out)
        std::string piece = rng.pick(kInserts);
        if (piece.empty()) piece = std::string(1, '\0');
        text.insert(pos, piece);
        break;
      }
      case 1:  // delete a character
        if (pos < text.size()) text.erase(pos, 1);
        break;
      case 2: {  // duplicate a chunk
        size_t len = 1 + rng.below(20);
        text.insert(rng.below(text.size() + 1), text.substr(pos, len));
        break;
      }
      case 3: {  // swap two characters
        size_t other = rng.below(text.size() + 1);
        if (pos < text.size() && other < text.size()) std::swap(text[pos], text[other]);
        break;
      }
      case 4:  // truncate
        text.resize(pos);
        break;
      default: {  // line-level edits
        std::vector<std::string> lines;
        size_t start = 0;
        for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
          lines.push_back(text.substr(start, nl - start));
        }
        lines.push_back(text.substr(start));
        size_t a = rng.below(lines.size());
        size_t b = rng.below(lines.size());
        switch (rng.below(5)) {
          case 0: std::swap(lines[a], lines[b]); break;
          case 1: lines.erase(lines.begin() + static_cast<long>(a)); break;
          case 2: lines.insert(lines.begin() + static_cast<long>(a), lines[b]); break;
          case 3: lines[a] = "    " + lines[a]; break;
          default:
            if (lines[a].rfind("    ", 0) == 0) lines[a] = lines[a].substr(rng.chance(50) ? 4 : 2);
        }
        text.clear();
        for (size_t i = 0; i < lines.size(); ++i) text += (i ? "\n" : "") + lines[i];
      }
    }
  }
  return text;
}

TEST(ParserPropertyTest, CorpusParses) {
  for (const char* kernel : kCorpus) {
    SCOPED_TRACE(kernel);
    Outcomes outcomes;
    check_input(kernel, 1, outcomes);
    EXPECT_EQ(outcomes.parsed, 1);
  }
}

TEST(ParserPropertyTest, MutatedKernels) {
  Outcomes outcomes;
  Rng rng(2024);
  const size_t corpus_size = sizeof(kCorpus) / sizeof(kCorpus[0]);
  for (int i = 0; i < scaled(6000); ++i) {
    std::string text = mutate(kCorpus[rng.below(corpus_size)], rng);
    check_input(text, rng.chance(50) ? 1 : 40, outcomes);
    if (HasFailure()) break;
  }
  EXPECT_GT(outcomes.parsed, 300);
  EXPECT_GT(outcomes.rejected, 1000);
}

// ------------------------------------------------------------------ (b) unparse

// Builds random expression trees that the parser could have produced (no
// negative or non-finite constants, slices only in subscripts, starred
// elements only where Python allows them, f-string literal parts merged).
class ExprGenerator {
 public:
  explicit ExprGenerator(uint64_t seed) : rng_(seed) {}

  ExprPtr expr(int depth) {
    if (depth <= 0) return leaf();
    switch (rng_.below(16)) {
      case 0: return binop(depth);
      case 1: return binop(depth);
      case 2: {
        static const UnaryOpKind kOps[] = {UnaryOpKind::USub, UnaryOpKind::UAdd,
                                           UnaryOpKind::Invert, UnaryOpKind::Not};
        return std::make_unique<UnaryOp>(s_, rng_.pick(kOps), expr(depth - 1));
      }
      case 3: {
        auto b = std::make_unique<BoolOp>(s_, rng_.chance(50) ? BoolOpKind::And : BoolOpKind::Or);
        size_t n = 2 + rng_.below(2);
        for (size_t i = 0; i < n; ++i) b->values.push_back(expr(depth - 1));
        return b;
      }
      case 4: {
        static const CmpOpKind kOps[] = {CmpOpKind::Eq, CmpOpKind::NotEq, CmpOpKind::Lt,
                                         CmpOpKind::LtE, CmpOpKind::Gt, CmpOpKind::GtE,
                                         CmpOpKind::Is, CmpOpKind::IsNot, CmpOpKind::In,
                                         CmpOpKind::NotIn};
        auto c = std::make_unique<Compare>(s_);
        c->left = expr(depth - 1);
        size_t n = 1 + rng_.below(3);
        for (size_t i = 0; i < n; ++i) {
          c->ops.push_back(rng_.pick(kOps));
          c->comparators.push_back(expr(depth - 1));
        }
        return c;
      }
      case 5: return call(depth);
      case 6: {
        static const char* const kAttrs[] = {"shape", "to", "T", "begin", "index", "match"};
        auto a = std::make_unique<Attribute>(s_, expr(depth - 1), rng_.pick(kAttrs));
        return a;
      }
      case 7: return subscript(depth);
      case 8: {
        auto t = std::make_unique<Tuple>(s_);
        elements(t->elts, depth);
        t->parenthesized = rng_.chance(50);
        return t;
      }
      case 9: {
        auto l = std::make_unique<List>(s_);
        elements(l->elts, depth);
        return l;
      }
      case 10: {
        auto i = std::make_unique<IfExp>(s_);
        i->test = expr(depth - 1);
        i->body = expr(depth - 1);
        i->orelse = expr(depth - 1);
        return i;
      }
      case 11: return fstring(depth);
      default: return leaf();
    }
  }

 private:
  ExprPtr leaf() {
    switch (rng_.below(7)) {
      case 0:
      case 1: {
        static const char* const kNames[] = {"x", "y", "tile_m", "hl", "torch", "match",
                                             "type", "case", "_", "a1"};
        return std::make_unique<Name>(s_, rng_.pick(kNames));
      }
      case 2: {
        auto c = std::make_unique<Constant>(s_);
        c->type = Constant::Type::Int;
        c->int_value = rng_.chance(50) ? static_cast<int64_t>(rng_.below(100))
                                       : static_cast<int64_t>(rng_.bits() >> 1);
        return c;
      }
      case 3: {
        auto c = std::make_unique<Constant>(s_);
        c->type = Constant::Type::Float;
        double v;
        if (rng_.chance(50)) {
          v = static_cast<double>(rng_.below(1000)) / 8.0;
        } else {
          uint64_t bits = rng_.bits();
          std::memcpy(&v, &bits, sizeof v);
          v = std::fabs(v);
          if (!std::isfinite(v)) v = 1.0;
        }
        c->float_value = v;
        return c;
      }
      case 4: return string(in_fstring_ ? 4 : 12);
      default: {
        auto c = std::make_unique<Constant>(s_);
        static const Constant::Type kTypes[] = {Constant::Type::None, Constant::Type::Bool,
                                                Constant::Type::Ellipsis};
        c->type = rng_.pick(kTypes);
        c->bool_value = rng_.chance(50);
        return c;
      }
    }
  }

  std::string text(size_t max_len) {
    static const char* const kChars[] = {"a", "b", "Z", "0", " ", "'", "\"", "\\", "\n", "\t",
                                         "{", "}", "#", "é", "→", "\x01", "%", ":", "!"};
    static const char* const kPlain[] = {"a", "b", "Z", "0", " ", "_"};
    std::string out;
    size_t n = rng_.below(max_len + 1);
    for (size_t i = 0; i < n; ++i) out += in_fstring_ ? rng_.pick(kPlain) : rng_.pick(kChars);
    return out;
  }

  ExprPtr string(size_t max_len) {
    auto c = std::make_unique<Constant>(s_);
    c->type = Constant::Type::String;
    c->string_value = text(max_len);
    return c;
  }

  ExprPtr binop(int depth) {
    static const BinOpKind kOps[] = {BinOpKind::Add,    BinOpKind::Sub,    BinOpKind::Mult,
                                     BinOpKind::Div,    BinOpKind::FloorDiv, BinOpKind::Mod,
                                     BinOpKind::Pow,    BinOpKind::MatMult, BinOpKind::LShift,
                                     BinOpKind::RShift, BinOpKind::BitAnd, BinOpKind::BitOr,
                                     BinOpKind::BitXor};
    return std::make_unique<BinOp>(s_, rng_.pick(kOps), expr(depth - 1), expr(depth - 1));
  }

  ExprPtr element(int depth) {
    if (rng_.chance(15)) return std::make_unique<Starred>(s_, expr(depth - 1));
    return expr(depth - 1);
  }

  void elements(std::vector<ExprPtr>& out, int depth) {
    size_t n = rng_.below(4);
    for (size_t i = 0; i < n; ++i) out.push_back(element(depth));
  }

  ExprPtr call(int depth) {
    auto c = std::make_unique<Call>(s_);
    c->func = expr(depth - 1);
    elements(c->args, depth);
    static const char* const kKeywords[] = {"dim", "keepdim", "dtype", "block_size"};
    size_t n = rng_.below(3);
    for (size_t i = 0; i < n; ++i) {
      Keyword k;
      k.name = kKeywords[i];
      k.value = expr(depth - 1);
      c->keywords.push_back(std::move(k));
    }
    return c;
  }

  ExprPtr index_item(int depth) {
    if (!rng_.chance(40)) return expr(depth - 1);
    auto s = std::make_unique<Slice>(s_);
    if (rng_.chance(60)) s->lower = expr(depth - 1);
    if (rng_.chance(60)) s->upper = expr(depth - 1);
    if (rng_.chance(30)) s->step = expr(depth - 1);
    return s;
  }

  ExprPtr subscript(int depth) {
    ExprPtr index;
    size_t kind = rng_.below(4);
    if (kind == 0) {
      auto t = std::make_unique<Tuple>(s_);  // x[a, b:c] or x[()]
      size_t n = rng_.below(4);
      for (size_t i = 0; i < n; ++i) t->elts.push_back(index_item(depth));
      index = std::move(t);
    } else {
      index = index_item(depth);
    }
    return std::make_unique<Subscript>(s_, expr(depth - 1), std::move(index));
  }

  ExprPtr fstring(int depth) {
    auto f = std::make_unique<FString>(s_);
    bool saved = in_fstring_;
    size_t n = rng_.below(4);
    bool last_literal = false;
    for (size_t i = 0; i < n; ++i) {
      FString::Part part;
      if (!last_literal && rng_.chance(40)) {
        part.literal = text(6);
        if (part.literal.empty()) part.literal = "x";
        last_literal = true;
      } else {
        // Field expressions stay simple: nested f-strings only one level
        // deep and plain strings, so a quote that clashes with none exists.
        in_fstring_ = true;
        part.value = saved ? leaf() : expr(depth - 1);
        in_fstring_ = saved;
        static const char kConversions[] = {0, 0, 'r', 's', 'a'};
        part.conversion = rng_.pick(kConversions);
        static const char* const kSpecs[] = {"", "", ">8", ".3f", "x", "é", "%Y\\n"};
        part.format_spec = rng_.pick(kSpecs);
        last_literal = false;
      }
      f->parts.push_back(std::move(part));
    }
    return f;
  }

  Rng rng_;
  SourceSpan s_;
  bool in_fstring_ = false;
};

TEST(ParserPropertyTest, UnparseRoundTripsRandomExpressions) {
  ExprGenerator gen(99);
  int checked = 0;
  const int iterations = scaled(6000);
  for (int i = 0; i < iterations; ++i) {
    ExprPtr e = gen.expr(1 + i % 6);
    std::string printed = unparse(*e);
    std::string expected = dump(*e, no_spans());
    try {
      auto m = parse_module(make_file(printed + "\n", 1));
      ASSERT_EQ(m->body.size(), 1u) << printed;
      const auto* stmt = dyn_cast<ExprStmt>(m->body[0].get());
      ASSERT_NE(stmt, nullptr) << printed;
      ASSERT_EQ(expected, dump(*stmt->value, no_spans())) << "printed: " << printed;
      // Printing the parsed tree again gives the same text.
      ASSERT_EQ(printed, unparse(*stmt->value));
      ++checked;
    } catch (const CompileError& err) {
      FAIL() << "unparse produced invalid source: " << printed << "\n" << err.what() << "\n"
             << expected;
    }
  }
  EXPECT_EQ(checked, iterations);
}

}  // namespace
}  // namespace deuteron
