// Expressions: names, constants, operators, attributes, subscripts (loads
// and views).  Shared by host and device code: on the host, what sema does
// not model becomes Unknown (Python runs it); on the device it is an error.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "analyzer.h"
#include "slices.h"
#include "deuteron/pyint.h"

namespace deuteron::sema {

using ir::BinaryFn;
using ir::OpKind;

bool static_truth(const SValue& v, bool& out) {
  switch (v.kind) {
    case SValue::Kind::None: out = false; return true;
    case SValue::Kind::Bool: if (!v.runtime_expr.empty()) return false; out = v.b; return true;
    case SValue::Kind::Int: if (!v.i.is_constant()) return false; out = v.i.constant() != 0; return true;
    case SValue::Kind::Float: if (!v.runtime_expr.empty()) return false; out = v.f != 0; return true;
    case SValue::Kind::String: out = !v.s.empty(); return true;
    case SValue::Kind::Tuple:
    case SValue::Kind::List:
    case SValue::Kind::ConstDict: out = !v.elts.empty(); return true;
    default: return false;
  }
}

namespace {

// A host number whose value is known now (not a runtime argument).
bool is_static_number(const SValue& v) {
  return (v.kind == SValue::Kind::Int && v.i.is_constant()) ||
         (v.kind == SValue::Kind::Float && v.runtime_expr.empty()) ||
         (v.kind == SValue::Kind::Bool && v.runtime_expr.empty());
}
double number_value(const SValue& v) {
  if (v.kind == SValue::Kind::Int) return static_cast<double>(v.i.constant());
  if (v.kind == SValue::Kind::Bool) return v.b ? 1.0 : 0.0;
  return v.f;
}
bool is_int_like(const SValue& v) {
  return v.kind == SValue::Kind::Int || (v.kind == SValue::Kind::Bool && v.runtime_expr.empty());
}
SymInt int_of(const SValue& v) { return v.kind == SValue::Kind::Int ? v.i : SymInt(v.b ? 1 : 0); }

BinaryFn binop_fn(ast::BinOpKind op) {
  switch (op) {
    case ast::BinOpKind::Add: return BinaryFn::Add;
    case ast::BinOpKind::Sub: return BinaryFn::Sub;
    case ast::BinOpKind::Mult: return BinaryFn::Mul;
    case ast::BinOpKind::Div: return BinaryFn::TrueDiv;
    case ast::BinOpKind::FloorDiv: return BinaryFn::FloorDiv;
    case ast::BinOpKind::Mod: return BinaryFn::Mod;
    case ast::BinOpKind::Pow: return BinaryFn::Pow;
    case ast::BinOpKind::LShift: return BinaryFn::LShift;
    case ast::BinOpKind::RShift: return BinaryFn::RShift;
    case ast::BinOpKind::BitAnd: return BinaryFn::BitAnd;
    case ast::BinOpKind::BitOr: return BinaryFn::BitOr;
    case ast::BinOpKind::BitXor: return BinaryFn::BitXor;
    case ast::BinOpKind::MatMult: break;
  }
  return BinaryFn::Add;
}

BinaryFn cmp_fn(ast::CmpOpKind op) {
  switch (op) {
    case ast::CmpOpKind::Eq: return BinaryFn::Eq;
    case ast::CmpOpKind::NotEq: return BinaryFn::Ne;
    case ast::CmpOpKind::Lt: return BinaryFn::Lt;
    case ast::CmpOpKind::LtE: return BinaryFn::Le;
    case ast::CmpOpKind::Gt: return BinaryFn::Gt;
    case ast::CmpOpKind::GtE: return BinaryFn::Ge;
    default: return BinaryFn::Eq;
  }
}

// Python's spelling of a folded number in messages.
std::string number_text(const SValue& v) {
  if (v.kind == SValue::Kind::Bool) return v.b ? "True" : "False";
  if (v.kind == SValue::Kind::Int) return v.i.str();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v.f);
  return buf;
}

}  // namespace

// ---------------------------------------------------------------- eval

void Analyzer::charge_work(int64_t units, SourceSpan span) {
  work_ += units;
  if (work_ > kMaxWork)
    error(span, "this kernel needs too much work to compile: more than " + std::to_string(kMaxWork) +
                    " expressions and list elements after unrolling and inlining",
          {"static_range loops, loops over tuples and helper functions are unrolled at compile time; "
           "use hl.tile/hl.grid/range loops, which run on the device"});
}

void Analyzer::int_error(SourceSpan span, pyint::Status status, const std::string& expr) const {
  switch (status) {
    case pyint::Status::Overflow:
      error(span, "integer overflow: " + expr + " does not fit in " + pyint::limit_text(),
            {"deuteron computes integers known at compile time in int64, as the kernel does; Python's ints are "
             "unbounded"});
    case pyint::Status::ZeroDivision: error(span, "division by zero: " + expr);
    case pyint::Status::NegativeShift: error(span, "negative shift count: " + expr);
    case pyint::Status::Complex:
      error(span, "the result of " + expr + " is a complex number (a negative number to a fractional power)");
    case pyint::Status::Ok: break;
  }
  DEUTERON_CHECK(false, "int_error without an error");
}

SValue Analyzer::eval(const ast::Expr& e) {
  charge_work(1, e.span);
  try {
    SValue v = eval_expr(e);
    if (in_device() && v.kind == SValue::Kind::IR && v.value && !v.value->type.is_scalar())
      expression_shapes_.push_back(v.value->type.dims);
    return v;
  } catch (const IntOverflowError& o) {
    // From symbolic arithmetic (sizes, strides, products with symbols):
    // the innermost expression whose evaluation overflowed.
    overflow_error(e.span, o, ast::unparse(e));
  }
}

void Analyzer::overflow_error(SourceSpan span, const IntOverflowError& o, std::string source) const {
  if (source.size() > 80) source = source.substr(0, 77) + "...";
  error(span, "integer overflow" + (source.empty() ? std::string() : " in `" + source + "`") + ": " + o.what() +
                  " does not fit in " + pyint::limit_text(),
        {"deuteron computes integers known at compile time in int64, as the kernel does; Python's ints are "
         "unbounded"});
}

SValue Analyzer::eval_expr(const ast::Expr& e) {
  switch (e.kind) {
    case ast::ExprKind::Name: return lookup(ast::cast<ast::Name>(&e)->id, e.span);
    case ast::ExprKind::Constant: {
      auto& c = *ast::cast<ast::Constant>(&e);
      switch (c.type) {
        case ast::Constant::Type::None: return SValue::none();
        case ast::Constant::Type::Bool: return SValue::boolean(c.bool_value);
        case ast::Constant::Type::Int: return SValue::integer(c.int_value);
        case ast::Constant::Type::Float: return SValue::floating(c.float_value);
        case ast::Constant::Type::String: return SValue::string(c.string_value);
        case ast::Constant::Type::Ellipsis: { SValue v; v.kind = SValue::Kind::Ellipsis; return v; }
      }
      break;
    }
    case ast::ExprKind::FString: {
      // An f-string whose fields are names of strings and ints known when compiling
      // (f"new_{name}" with name a helper's default) is its text; otherwise its source
      // text stands for it (a message: device_print's prefix, an assert's).
      const auto& f = *ast::cast<ast::FString>(&e);
      std::string text;
      bool known = true;
      for (const auto& p : f.parts) {
        if (!p.value) {
          text += p.literal;
          continue;
        }
        if (p.conversion || !p.format_spec.empty() || !ast::isa<ast::Name>(p.value.get())) {
          known = false;
          break;
        }
        SValue v = eval(*p.value);
        if (v.kind == SValue::Kind::String) {
          text += v.s;
        } else if (v.kind == SValue::Kind::Int && v.i.is_constant()) {
          text += std::to_string(v.i.constant());
        } else if (v.kind == SValue::Kind::Bool && v.runtime_expr.empty()) {
          text += v.b ? "True" : "False";
        } else {
          known = false;
          break;
        }
      }
      return SValue::string(known ? text : ast::unparse(e));
    }
    case ast::ExprKind::BinOp: {
      auto& b = *ast::cast<ast::BinOp>(&e);
      // Python evaluates the left operand first.
      SValue left = eval(*b.left);
      SValue right = eval(*b.right);
      return eval_binop(b.op, left, right, e.span);
    }
    case ast::ExprKind::UnaryOp: {
      auto& u = *ast::cast<ast::UnaryOp>(&e);
      return eval_unary(u.op, eval(*u.operand), e.span);
    }
    case ast::ExprKind::BoolOp: {
      auto& b = *ast::cast<ast::BoolOp>(&e);
      SValue acc = eval(*b.values[0]);
      for (size_t i = 1; i < b.values.size(); ++i) {
        bool t;
        if (static_truth(acc, t)) {
          // Python semantics: `a and b` is a if a is falsy, else b.
          if ((b.op == ast::BoolOpKind::And) != t) return acc;
          acc = eval(*b.values[i]);
          continue;
        }
        SValue rhs = eval(*b.values[i]);
        if (!in_device()) return SValue::unknown();
        SValue l = expect_device(acc, b.values[i - 1]->span, "operand of and/or");
        SValue r = expect_device(rhs, b.values[i]->span, "operand of and/or");
        acc = gen().binary(b.op == ast::BoolOpKind::And ? BinaryFn::LogicalAnd : BinaryFn::LogicalOr, l, r, e.span);
      }
      return acc;
    }
    case ast::ExprKind::Compare: {
      auto& c = *ast::cast<ast::Compare>(&e);
      SValue left = eval(*c.left);
      SValue result;
      for (size_t i = 0; i < c.ops.size(); ++i) {
        SValue right = eval(*c.comparators[i]);
        SValue r = eval_compare(c.ops[i], left, right, e.span);
        if (i == 0) {
          result = r;
        } else {
          bool t;
          if (static_truth(result, t)) {
            if (!t) return result;
            result = r;
          } else if (in_device()) {
            result = gen().binary(BinaryFn::LogicalAnd, expect_device(result, e.span, "comparison"),
                                  expect_device(r, e.span, "comparison"), e.span);
          } else {
            return SValue::unknown();
          }
        }
        left = right;
      }
      return result;
    }
    case ast::ExprKind::Call: return eval_call(*ast::cast<ast::Call>(&e));
    case ast::ExprKind::Attribute: {
      auto& a = *ast::cast<ast::Attribute>(&e);
      return eval_attribute(eval(*a.value), a.attr, e.span);
    }
    case ast::ExprKind::Subscript: return eval_subscript(*ast::cast<ast::Subscript>(&e));
    case ast::ExprKind::Tuple:
    case ast::ExprKind::List: {
      const auto& elts = e.kind == ast::ExprKind::Tuple ? ast::cast<ast::Tuple>(&e)->elts
                                                         : ast::cast<ast::List>(&e)->elts;
      std::vector<SValue> out;
      for (const auto& x : elts) {
        if (auto* st = ast::dyn_cast<ast::Starred>(x.get())) {
          SValue inner = eval(*st->value);
          if (!inner.is_sequence()) {
            if (!in_device()) return SValue::unknown();
            error(st->span, "* unpacking needs a tuple or list known at compile time, got " + describe(inner));
          }
          out.insert(out.end(), inner.elts.begin(), inner.elts.end());
        } else {
          out.push_back(eval(*x));
        }
      }
      return e.kind == ast::ExprKind::Tuple ? SValue::tuple(out) : SValue::list(out);
    }
    case ast::ExprKind::IfExp: {
      auto& ie = *ast::cast<ast::IfExp>(&e);
      SValue c = eval(*ie.test);
      bool t;
      if (static_truth(c, t)) return eval(t ? *ie.body : *ie.orelse);
      if (!in_device()) return SValue::unknown();
      SValue a = eval(*ie.body), b = eval(*ie.orelse);
      return gen().where(expect_device(c, ie.test->span, "condition"), expect_device(a, ie.body->span, "value"),
                         expect_device(b, ie.orelse->span, "value"), e.span);
    }
    case ast::ExprKind::Slice:
      error(e.span, "a slice is only allowed inside [] indexing");
    case ast::ExprKind::Starred:
      error(e.span, "* unpacking is only allowed in calls, lists and tuples");
    case ast::ExprKind::Lambda: {
      // A helper without a name: inlined where it is called (calls.cc), with
      // what it needs from here to resolve its names.
      SValue v;
      v.kind = SValue::Kind::Helper;
      v.s = "<lambda>";
      v.lambda = ast::cast<ast::Lambda>(&e);
      v.helper_file = file_;
      v.closure = std::make_shared<const Env>(env_);
      v.scope = std::make_shared<const std::map<std::string, GlobalSpec>>(globals_);
      v.index = inline_depth_;
      v.span = e.span;
      return v;
    }
    case ast::ExprKind::Comp: return eval_comprehension(*ast::cast<ast::Comp>(&e));
  }
  return SValue::unknown();
}

// ------------------------------------------------------------- operators

SValue Analyzer::eval_binop(ast::BinOpKind op, const SValue& a_in, const SValue& b_in, SourceSpan span) {
  using K = SValue::Kind;
  const SValue a = as_number(a_in, span), b = as_number(b_in, span);
  if (a.kind == K::Unknown || b.kind == K::Unknown) {
    if (in_device()) {
      // A name host code bound to a value sema does not model, in device
      // arithmetic: the int Python computed (runtime_int), else an error.
      auto a_int = a.kind == K::Unknown ? runtime_int(a) : std::nullopt;
      auto b_int = b.kind == K::Unknown ? runtime_int(b) : std::nullopt;
      if ((a.kind != K::Unknown || a_int) && (b.kind != K::Unknown || b_int))
        return eval_binop(op, a_int ? SValue::integer(*a_int) : a, b_int ? SValue::integer(*b_int) : b, span);
      expect_device(a.kind == K::Unknown ? a : b, span, "operand");
    }
    return SValue::unknown();
  }
  // `tile + n` (either order) offsets the tile's indices, as Helion reads it
  // (`offsets[tile + 1]`: the next element of each lane).
  if (op == ast::BinOpKind::Add && (a.kind == K::Tile) != (b.kind == K::Tile)) {
    const SValue& other = a.kind == K::Tile ? b : a;
    bool scalar = other.is_host_number() || other.kind == K::DimSize || other.kind == K::BlockSize ||
                  (other.kind == K::IR && other.value->type.is_scalar());
    if (scalar && !(other.kind == K::Float || (other.kind == K::IR && is_floating(other.value->type.dtype)))) {
      SValue index = eval_attribute(a.kind == K::Tile ? a : b, "index", span);
      return a.kind == K::Tile ? eval_binop(op, index, other, span) : eval_binop(op, other, index, span);
    }
  }
  if (a.kind == K::Tile || b.kind == K::Tile)
    error(span, std::string("a tile cannot be an operand of '") + ast::op_spelling(op) + "'",
          {"use tile.index for its indices, or tile.begin / tile.block_size for scalars"});
  // Sequences: concatenation and repetition (shapes like [m] + [n]), of
  // bounded length (Python's lists are bounded by memory only).
  if (a.is_sequence() && b.is_sequence() && op == ast::BinOpKind::Add) {
    if (a.kind != b.kind)
      error(span, std::string("can only concatenate ") + (a.kind == K::List ? "list to list" : "tuple to tuple"));
    check_sequence_length(static_cast<int64_t>(a.elts.size() + b.elts.size()), span);
    SValue r = a;
    r.elts.insert(r.elts.end(), b.elts.begin(), b.elts.end());
    return r;
  }
  if (op == ast::BinOpKind::Mult && (a.is_sequence() || b.is_sequence()) && is_int_like(a.is_sequence() ? b : a) &&
      int_of(a.is_sequence() ? b : a).is_constant()) {
    const SValue& seq = a.is_sequence() ? a : b;
    int64_t len = static_cast<int64_t>(seq.elts.size());
    int64_t n = len == 0 ? 0 : std::max<int64_t>(0, int_of(a.is_sequence() ? b : a).constant());  // [] * 10**18 too
    if (len > 0 && n > kMaxSequenceLength / len)
      error(span, "a list or tuple of " + std::to_string(len) + " * " + std::to_string(n) +
                      " elements is longer than deuteron models (" + std::to_string(kMaxSequenceLength) + ")",
            {"lists and tuples known at compile time hold shapes, block sizes and the like; build long lists "
             "in Python outside the kernel"});
    check_sequence_length(len * n, span);
    SValue r = seq;
    r.elts.clear();
    for (int64_t i = 0; i < n; ++i) r.elts.insert(r.elts.end(), seq.elts.begin(), seq.elts.end());
    return r;
  }
  // Host integers (possibly symbolic) stay symbolic; constants fold with
  // Python's semantics within int64.
  if (is_int_like(a) && is_int_like(b)) {
    SymInt x = int_of(a), y = int_of(b);
    if (x.is_constant() && y.is_constant()) {
      SValue r;
      if (fold_int_binop(op, a, b, span, r)) return r;
    }
    switch (op) {
      case ast::BinOpKind::Add: return SValue::integer(x + y);
      case ast::BinOpKind::Sub: return SValue::integer(x - y);
      case ast::BinOpKind::Mult: return SValue::integer(x * y);
      case ast::BinOpKind::FloorDiv:
        if (y.is_constant() && y.constant() == 0) error(span, "integer division by zero");
        return SValue::integer(floordiv(x, y));
      case ast::BinOpKind::Mod:
        if (y.is_constant() && y.constant() == 0) error(span, "integer modulo by zero");
        return SValue::integer(mod(x, y));
      default: break;
    }
  }
  // Constant floats fold on the host, as Python computes them.
  if (is_static_number(a) && is_static_number(b)) {
    double x = number_value(a), y = number_value(b);
    pyint::FloatResult r;
    bool folds = true;
    switch (op) {
      case ast::BinOpKind::Add: return SValue::floating(x + y);
      case ast::BinOpKind::Sub: return SValue::floating(x - y);
      case ast::BinOpKind::Mult: return SValue::floating(x * y);
      case ast::BinOpKind::Div: r = pyint::float_truediv(x, y); break;
      case ast::BinOpKind::FloorDiv: r = pyint::float_floordiv(x, y); break;
      case ast::BinOpKind::Mod: r = pyint::float_mod(x, y); break;
      case ast::BinOpKind::Pow: r = pyint::float_pow(x, y); break;
      default: folds = false; break;  // bitwise operators on floats: Python raises TypeError
    }
    if (folds) {
      if (r.ok()) return SValue::floating(r.value);
      std::string text = number_text(a) + " " + ast::op_spelling(op) + " " + number_text(b);
      if (r.status == pyint::Status::Overflow) error(span, "float overflow: " + text + " is too large for a float");
      int_error(span, r.status, text);
    }
  }
  if (!in_device() && (a.kind == K::Tensor || b.kind == K::Tensor)) return host_tensor_binop(op, a, b, span);
  if (!in_device()) return host_number_binop(op, a, b);

  SValue x = expect_device(a, span, std::string("left operand of '") + ast::op_spelling(op) + "'");
  SValue y = expect_device(b, span, std::string("right operand of '") + ast::op_spelling(op) + "'");
  if (op == ast::BinOpKind::MatMult) {
    return SValue::ir(gen().matmul(x.value, y.value, span), PromotionClass::Tensor);
  }
  if (op == ast::BinOpKind::Pow && is_static_number(b)) {
    // Small integer powers multiply (exact, as torch does for x ** 2).
    double e = number_value(b);
    if (e == 1.0) return a.kind == K::IR ? a : x;
    if (e == 2.0 || e == 3.0) {
      SValue base = a.kind == K::IR ? a : x;
      SValue r = gen().binary(BinaryFn::Mul, base, base, span);
      if (e == 3.0) r = gen().binary(BinaryFn::Mul, r, base, span);
      return r;
    }
    if (e == 0.5) return gen().unary(ir::UnaryFn::Sqrt, a.kind == K::IR ? a : x, span);
  }
  // Keep host numbers as such so promotion sees Python scalars.
  return gen().binary(binop_fn(op), a.kind == K::IR ? a : (a.is_host_number() ? a : x),
                      b.kind == K::IR ? b : (b.is_host_number() ? b : y), span);
}

bool Analyzer::fold_int_binop(ast::BinOpKind op, const SValue& a, const SValue& b, SourceSpan span, SValue& out) {
  using K = SValue::Kind;
  int64_t p = int_of(a).constant(), q = int_of(b).constant();
  std::string text = number_text(a) + " " + ast::op_spelling(op) + " " + number_text(b);
  pyint::IntResult r;
  switch (op) {
    case ast::BinOpKind::Add: r = pyint::add(p, q); break;
    case ast::BinOpKind::Sub: r = pyint::sub(p, q); break;
    case ast::BinOpKind::Mult: r = pyint::mul(p, q); break;
    case ast::BinOpKind::FloorDiv: r = pyint::floordiv(p, q); break;
    case ast::BinOpKind::Mod: r = pyint::mod(p, q); break;
    case ast::BinOpKind::LShift: r = pyint::lshift(p, q); break;
    case ast::BinOpKind::RShift: r = pyint::rshift(p, q); break;
    case ast::BinOpKind::BitAnd:
    case ast::BinOpKind::BitOr:
    case ast::BinOpKind::BitXor: {
      int64_t v = op == ast::BinOpKind::BitAnd ? (p & q) : op == ast::BinOpKind::BitOr ? (p | q) : (p ^ q);
      // bool & bool is a bool in Python.
      out = a.kind == K::Bool && b.kind == K::Bool ? SValue::boolean(v != 0) : SValue::integer(v);
      return true;
    }
    case ast::BinOpKind::Div: {
      pyint::FloatResult f = pyint::truediv(p, q);
      if (!f.ok()) int_error(span, f.status, text);
      out = SValue::floating(f.value);
      return true;
    }
    case ast::BinOpKind::Pow: {
      if (q >= 0) {
        r = pyint::pow(p, q);
        break;
      }
      // A negative exponent makes Python compute in floats.
      pyint::FloatResult f = pyint::float_pow(static_cast<double>(p), static_cast<double>(q));
      if (f.status == pyint::Status::ZeroDivision)
        error(span, "0 cannot be raised to a negative power: " + text);
      if (!f.ok()) int_error(span, f.status, text);
      out = SValue::floating(f.value);
      return true;
    }
    case ast::BinOpKind::MatMult: return false;
  }
  if (!r.ok()) int_error(span, r.status, text);
  out = SValue::integer(r.value);
  return true;
}

void Analyzer::check_sequence_length(int64_t n, SourceSpan span) {
  if (n > kMaxSequenceLength)
    error(span, "a list or tuple of " + std::to_string(n) + " elements is longer than deuteron models (" +
                    std::to_string(kMaxSequenceLength) + ")",
          {"lists and tuples known at compile time hold shapes, block sizes and the like; build long lists in "
           "Python outside the kernel"});
  charge_work(n, span);
}

SValue Analyzer::eval_compare(ast::CmpOpKind op, const SValue& a_in, const SValue& b_in, SourceSpan span) {
  using K = SValue::Kind;
  const SValue a = as_number(a_in, span), b = as_number(b_in, span);
  if (op == ast::CmpOpKind::Is || op == ast::CmpOpKind::IsNot) {
    bool same;
    if (a.kind == K::None || b.kind == K::None)
      same = a.kind == b.kind;
    else if (a.kind == K::Bool && b.kind == K::Bool && a.runtime_expr.empty() && b.runtime_expr.empty())
      same = a.b == b.b;
    else if (a.kind == K::DType && b.kind == K::DType)
      same = a.dtype == b.dtype;
    else if (!in_device())
      return SValue::unknown();
    else
      error(span, "`is` can only compare with None, True/False or dtypes inside kernels");
    return SValue::boolean(op == ast::CmpOpKind::Is ? same : !same);
  }
  if (op == ast::CmpOpKind::In || op == ast::CmpOpKind::NotIn) {
    if (!b.is_sequence()) {
      if (!in_device()) return SValue::unknown();
      error(span, "`in` needs a tuple or list known at compile time");
    }
    bool found = false;
    for (const auto& e : b.elts) {
      SValue eq = eval_compare(ast::CmpOpKind::Eq, a, e, span);
      bool t;
      if (!static_truth(eq, t)) {
        if (!in_device()) return SValue::unknown();
        error(span, "`in` needs values known at compile time");
      }
      found |= t;
    }
    return SValue::boolean(op == ast::CmpOpKind::In ? found : !found);
  }
  if (a.kind == K::DType && b.kind == K::DType) {
    bool eq = a.dtype == b.dtype;
    if (op == ast::CmpOpKind::Eq) return SValue::boolean(eq);
    if (op == ast::CmpOpKind::NotEq) return SValue::boolean(!eq);
  }
  if (a.kind == K::String && b.kind == K::String) {
    if (op == ast::CmpOpKind::Eq) return SValue::boolean(a.s == b.s);
    if (op == ast::CmpOpKind::NotEq) return SValue::boolean(a.s != b.s);
  }
  if ((a.kind == K::None || b.kind == K::None) && (op == ast::CmpOpKind::Eq || op == ast::CmpOpKind::NotEq)) {
    bool eq = a.kind == b.kind;
    return SValue::boolean(op == ast::CmpOpKind::Eq ? eq : !eq);
  }
  if (!in_device() && (a.kind == K::Tensor || b.kind == K::Tensor)) return host_tensor_compare(a, b, span);
  // Host ints: decide when the difference is a constant.
  if (is_int_like(a) && is_int_like(b)) {
    std::optional<int64_t> diff_sign;
    if (int_of(a).is_constant() && int_of(b).is_constant()) {
      int64_t p = int_of(a).constant(), q = int_of(b).constant();
      diff_sign = p < q ? -1 : p > q ? 1 : 0;
    } else {
      try {
        SymInt d = int_of(a) - int_of(b);
        if (d.is_constant()) diff_sign = d.constant();
      } catch (const IntOverflowError&) {
        // Coefficients too large to subtract: undecided, like any symbolic comparison.
      }
    }
    if (diff_sign) {
      int64_t v = *diff_sign;
      switch (op) {
        case ast::CmpOpKind::Eq: return SValue::boolean(v == 0);
        case ast::CmpOpKind::NotEq: return SValue::boolean(v != 0);
        case ast::CmpOpKind::Lt: return SValue::boolean(v < 0);
        case ast::CmpOpKind::LtE: return SValue::boolean(v <= 0);
        case ast::CmpOpKind::Gt: return SValue::boolean(v > 0);
        case ast::CmpOpKind::GtE: return SValue::boolean(v >= 0);
        default: break;
      }
    }
  }
  if (is_static_number(a) && is_static_number(b)) {
    double x = number_value(a), y = number_value(b);
    // An int compares exactly with a float in Python (2**53 + 1 != 2.0**53).
    if (is_int_like(a) != is_int_like(b)) {
      bool unordered = false;
      int c = is_int_like(a) ? pyint::compare_int_float(int_of(a).constant(), y, &unordered)
                             : -pyint::compare_int_float(int_of(b).constant(), x, &unordered);
      if (!unordered) {
        x = c;
        y = 0;
      }
    }
    switch (op) {
      case ast::CmpOpKind::Eq: return SValue::boolean(x == y);
      case ast::CmpOpKind::NotEq: return SValue::boolean(x != y);
      case ast::CmpOpKind::Lt: return SValue::boolean(x < y);
      case ast::CmpOpKind::LtE: return SValue::boolean(x <= y);
      case ast::CmpOpKind::Gt: return SValue::boolean(x > y);
      case ast::CmpOpKind::GtE: return SValue::boolean(x >= y);
      default: break;
    }
  }
  if (!in_device()) return SValue::unknown();
  SValue x = a.kind == K::IR || a.is_host_number() ? a : expect_device(a, span, "comparison operand");
  SValue y = b.kind == K::IR || b.is_host_number() ? b : expect_device(b, span, "comparison operand");
  if (x.kind != K::IR && y.kind != K::IR) x = gen().to_device(x, span);
  return gen().binary(cmp_fn(op), x, y, span);
}

SValue Analyzer::eval_unary(ast::UnaryOpKind op, const SValue& a_in, SourceSpan span) {
  using K = SValue::Kind;
  const SValue a = as_number(a_in, span);
  if (op == ast::UnaryOpKind::Not) {
    bool t;
    if (static_truth(a, t)) return SValue::boolean(!t);
    if (!in_device()) return SValue::unknown();
    return gen().unary(ir::UnaryFn::Not, expect_device(a, span, "operand of not"), span);
  }
  bool static_bool = a.kind == K::Bool && a.runtime_expr.empty();
  // +True and -True and ~True are ints in Python.
  if (op == ast::UnaryOpKind::UAdd) return static_bool ? SValue::integer(a.b ? 1 : 0) : a;
  if (a.kind == K::Int && op == ast::UnaryOpKind::USub) {
    if (a.i.is_constant()) {
      pyint::IntResult r = pyint::neg(a.i.constant());
      if (!r.ok()) int_error(span, r.status, "-(" + a.i.str() + ")");
      return SValue::integer(r.value);
    }
    return SValue::integer(-a.i);
  }
  if (a.kind == K::Int && op == ast::UnaryOpKind::Invert && a.i.is_constant()) return SValue::integer(~a.i.constant());
  if (a.kind == K::Float && a.runtime_expr.empty() && op == ast::UnaryOpKind::USub) return SValue::floating(-a.f);
  if (static_bool && op == ast::UnaryOpKind::USub) return SValue::integer(a.b ? -1 : 0);
  if (static_bool && op == ast::UnaryOpKind::Invert) return SValue::integer(a.b ? -2 : -1);
  if (!in_device() && a.kind == K::Float && op == ast::UnaryOpKind::USub) return host_computed_float();
  if (!in_device() && a.kind == K::Tensor) return host_tensor_unary(op, a, span);
  if (!in_device()) return SValue::unknown();
  SValue x = expect_device(a, span, std::string("operand of '") + ast::op_spelling(op) + "'");
  return gen().unary(op == ast::UnaryOpKind::USub ? ir::UnaryFn::Neg : ir::UnaryFn::Invert, x, span);
}

// ------------------------------------------------------------ attributes

// The torch function an ATen operator `aten.<op>` (torch.ops.aten.<op>) stands
// for: torch.<op>, except where ATen's name is a method's (view).
SValue Analyzer::aten_function(const std::string& packet) {
  std::string op = packet.substr(5);
  if (op == "view" || op == "_unsafe_view") op = "reshape";
  return SValue::function("torch." + op);
}

SValue Analyzer::eval_attribute(const SValue& base, const std::string& attr, SourceSpan span) {
  using K = SValue::Kind;
  switch (base.kind) {
    case K::Module: {
      check_module_attr(base.s, attr, span);
      std::string q = base.s + "." + attr;
      if (base.s == "torch" || base.s == "tl") {
        if (auto dt = dtype_from_name(attr)) return SValue::dtype_value(*dt);
      }
      static const char* const kSubmodules[] = {"torch.nn", "torch.nn.functional", "torch.special", "torch.linalg",
                                                "torch.cuda", "torch.library", "torch.testing", "torch.nn.init",
                                                "torch._higher_order_ops", "torch.ops", "torch.ops.higher_order"};
      for (const char* m : kSubmodules)
        if (q == m) return SValue::module(q == "torch.nn.functional" ? "F" : q);
      // torch.ops.aten.<op> (an overload packet, callable) and its overloads
      // (.default, .Tensor, ...): the torch function of that name.
      if (q == "torch.ops.aten") return SValue::module(q);
      if (base.s == "torch.ops.aten") return SValue::function("aten." + attr);
      if (base.s == "math") {
        if (attr == "pi") return SValue::floating(M_PI);
        if (attr == "e") return SValue::floating(M_E);
        if (attr == "inf") return SValue::floating(INFINITY);
        if (attr == "nan") return SValue::floating(NAN);
      }
      if (base.s == "hl" && attr == "constexpr") return SValue::function("hl.constexpr");
      return SValue::function(q);
    }
    case K::Tensor: {
      const HostTensor& t = *base.tensor;
      if (attr == "dtype") return SValue::dtype_value(t.dtype);
      if (attr == "shape") {
        std::vector<SValue> dims;
        for (const auto& s : t.sizes) dims.push_back(SValue::integer(s));
        return SValue::tuple(dims);
      }
      if (attr == "ndim") return SValue::integer(static_cast<int64_t>(t.sizes.size()));
      if (attr == "device") {
        SValue v;
        v.kind = K::Device;
        v.s = t.expr + ".device";
        return v;
      }
      if (attr == "T" || attr == "mT") {
        CallArgs none;
        none.span = span;
        SValue out;
        if (t.sizes.size() >= 2) {
          CallArgs ca;
          ca.span = span;
          ca.args = {SValue::integer(-2), SValue::integer(-1)};
          ca.arg_spans = {span, span};
          if (call_host_tensor_method(base, "transpose", ca, out)) return out;
        }
        return base;
      }
      return SValue::method(base, attr);
    }
    case K::Tile: {
      if (!in_device()) error(span, "tiles exist only inside tile loops");
      OpKind k;
      DType dt = program_->index_dtype;
      if (attr == "index") {
        ir::Attrs a;
        a.dim = base.dim;
        ir::Value* v = gen().builder().create(OpKind::TileIndex, {}, {ir::Type{dt, {base.dim}}}, span, a)->result();
        return SValue::ir(v, PromotionClass::Tensor);
      }
      if (attr == "begin") k = OpKind::TileBegin;
      else if (attr == "end") k = OpKind::TileEnd;
      else if (attr == "block_size") k = OpKind::TileBlockSize;
      else if (attr == "id") k = OpKind::TileId;
      else if (attr == "count") k = OpKind::TileCount;
      else
        error(span, "tiles have no attribute '" + attr + "'",
              {"tile attributes are .index, .begin, .end, .block_size, .id and .count"});
      ir::Attrs a;
      a.dim = base.dim;
      ir::Value* v = gen().builder().create(k, {}, {ir::Type{dt, {}}}, span, a)->result();
      return SValue::ir(v, PromotionClass::Scalar);
    }
    case K::IR: {
      if (attr == "dtype") return SValue::dtype_value(base.value->type.dtype);
      if (attr == "shape") {
        std::vector<SValue> dims;
        for (int d : base.value->type.dims) {
          if (d == ir::kBroadcast) dims.push_back(SValue::integer(1));
          else if (kernel_->dim(d).kind == ir::DimKind::Full) dims.push_back(SValue::integer(kernel_->dim(d).extent()));
          else dims.push_back(SValue::dim_size(d));
        }
        return SValue::tuple(dims);
      }
      if (attr == "ndim") return SValue::integer(static_cast<int64_t>(base.value->type.rank()));
      if (attr == "T" || attr == "mT") {
        int r = base.value->type.rank();
        if (r < 2) return base;
        std::vector<int> perm;
        for (int i = 0; i < r; ++i) perm.push_back(i);
        std::swap(perm[r - 1], perm[r - 2]);
        return SValue::ir(gen().permute(base.value, perm, span), base.pclass);
      }
      return SValue::method(base, attr);
    }
    case K::DType: {
      if (attr == "itemsize") return SValue::integer(static_cast<int64_t>(byte_size(base.dtype)));
      if (attr == "is_floating_point") return SValue::boolean(is_floating(base.dtype));
      if (attr == "is_signed") return SValue::boolean(is_signed(base.dtype));
      break;
    }
    case K::Function:
      if (base.s.rfind("aten.", 0) == 0) return aten_function(base.s);  // an overload: .default, .Tensor, ...
      break;
    case K::Unknown: return SValue::unknown();
    case K::Tuple:
    case K::Record:
      // A NamedTuple's or dataclass's field (structured arguments).
      if (const SValue* f = base.field(attr)) return *f;
      if (base.kind == K::Record) {
        if (!in_device()) return SValue::unknown();  // a method or property: Python runs it
        std::string fields;
        for (const auto& f : base.fields) fields += (fields.empty() ? "" : ", ") + f;
        error(span, describe(base) + " has no field '" + attr + "'", {"its fields are: " + fields});
      }
      return SValue::method(base, attr);
    case K::Int:
    case K::Float:
    case K::Bool:
    case K::List:
    case K::Dict:
    case K::ConstDict: return SValue::method(base, attr);
    case K::Stack: return stack_attribute(base, attr, span);
    default: break;
  }
  if (!in_device()) return SValue::unknown();
  error(span, describe(base) + " has no attribute '" + attr + "' inside kernels");
}

// ------------------------------------------------------------ subscripts

// Evaluates an index expression into one SValue per position; slices become
// Slice values, None stays None, `...` stays Ellipsis.
Analyzer::IndexParts Analyzer::index_parts(const ast::Expr& index) {
  Analyzer& a = *this;
  std::vector<const ast::Expr*> parts;
  if (auto* t = ast::dyn_cast<ast::Tuple>(&index))
    for (const auto& e : t->elts) parts.push_back(e.get());
  else
    parts.push_back(&index);
  std::vector<std::pair<SValue, SourceSpan>> out;
  for (const ast::Expr* p : parts) {
    if (auto* s = ast::dyn_cast<ast::Slice>(p)) {
      SValue v;
      v.kind = SValue::Kind::Slice;
      v.elts = {s->lower ? a.eval(*s->lower) : SValue::none(), s->upper ? a.eval(*s->upper) : SValue::none(),
                s->step ? a.eval(*s->step) : SValue::none()};
      out.emplace_back(v, p->span);
    } else if (auto* st = ast::dyn_cast<ast::Starred>(p)) {
      SValue seq = a.eval(*st->value);
      if (!seq.is_sequence()) a.error(p->span, "* in an index needs a tuple or list known at compile time");
      for (const auto& e : seq.elts) out.emplace_back(e, p->span);
    } else {
      SValue v = a.eval(*p);
      // A tuple value used as an index spreads over positions (x[tiles] where tiles is a tuple).
      if (v.kind == SValue::Kind::Tuple && parts.size() == 1) {
        for (const auto& e : v.elts) out.emplace_back(e, p->span);
      } else {
        out.emplace_back(v, p->span);
      }
    }
  }
  return out;
}

Analyzer::IndexParts Analyzer::index_parts(const SValue& list, SourceSpan span) {
  IndexParts out;
  if (list.is_sequence()) {
    for (const auto& e : list.elts) out.emplace_back(e, span);
  } else {
    out.emplace_back(list, span);
  }
  return out;
}

namespace {

// What Helion's type propagation calls a value's type, for the rule below: a
// tensor (host or device), a literal constant, a symbolic int, a tile, ...
int type_category(const SValue& v) {
  using K = SValue::Kind;
  switch (v.kind) {
    case K::Tensor:
    case K::IR: return -1;
    case K::Int: return v.i.is_constant() ? -2 : -3;
    case K::Float:
    case K::Bool: return v.runtime_expr.empty() ? -2 : -4;
    case K::String:
    case K::None: return -2;
    default: return static_cast<int>(v.kind);
  }
}

}  // namespace

// A tuple indexed by an hl.static_range variable: Helion types the index as a
// symbolic int, which selects an element only when all have one type (each
// unrolled iteration must see the same kind of value).
void Analyzer::check_uniform_elements(const SValue& seq, SourceSpan span) const {
  for (const auto& e : seq.elts)
    if (type_category(e) != type_category(seq.elts.front()))
      error(span, ErrorKind::TypeInferenceError,
            "Sequence indexing with non-literal index requires all elements to have the same type (got " +
                describe(seq.elts.front()) + " and " + describe(e) + ")",
            {"index with a literal constant, or keep tensors and numbers in separate tuples"});
}

SValue Analyzer::eval_subscript(const ast::Subscript& sub) {
  using K = SValue::Kind;
  SValue base = eval(*sub.value);
  switch (base.kind) {
    case K::Tensor: {
      if (!in_device()) {
        SValue r = host_tensor_subscript(*base.tensor, index_parts(*sub.index), sub.span);
        if (r.kind == K::Tensor && r.tensor->expr.empty()) {
          auto t = std::make_shared<HostTensor>(*r.tensor);
          t->source_expr = ast::unparse(sub);
          t->source_stmt = static_cast<int>(program_->host.size());
          r.tensor = t;
        }
        return r;
      }
      return load(base, index_parts(*sub.index), sub.span, nullptr, "");
    }
    case K::ConstDict: return dict_lookup(base, eval(*sub.index), sub.index->span);
    case K::Stack: return load(base, index_parts(*sub.index), sub.span, nullptr, "");
    case K::Tuple:
    case K::List: {
      SValue idx = ast::isa<ast::Slice>(sub.index.get()) ? SValue() : eval(*sub.index);
      int64_t n = static_cast<int64_t>(base.elts.size());
      if (auto* s = ast::dyn_cast<ast::Slice>(sub.index.get())) {
        auto bound = [&](const ast::ExprPtr& e, int64_t dflt) -> int64_t {
          if (!e) return dflt;
          int64_t v = expect_const_int(eval(*e), e->span, "slice bound");
          if (v < 0) v += n;
          return std::clamp<int64_t>(v, 0, n);
        };
        if (s->step) error(s->step->span, "slices with a step are not supported on tuples here");
        int64_t lo = bound(s->lower, 0), hi = bound(s->upper, n);
        SValue r = base;
        r.elts.clear();
        r.fields.clear();  // a NamedTuple's slice is a plain tuple
        for (int64_t i = lo; i < hi; ++i) r.elts.push_back(base.elts[i]);
        return r;
      }
      if (idx.kind == K::Int && idx.i.is_constant()) {
        int64_t i = idx.i.constant();
        auto* var = ast::dyn_cast<ast::Name>(sub.index.get());
        if (var && std::find(static_range_vars_.begin(), static_range_vars_.end(), var->id) != static_range_vars_.end())
          check_uniform_elements(base, sub.span);
        if (i < 0) i += n;
        if (i < 0 || i >= n)
          error(sub.index->span, "index " + idx.i.str() + " is out of range for a sequence of length " +
                                     std::to_string(n));
        return base.elts[i];
      }
      if (!in_device()) return SValue::unknown();
      error(sub.index->span, "tuples and lists can only be indexed by constants");
    }
    case K::Dict: {
      SValue key = eval(*sub.index);
      if (key.kind == K::String) {
        if (const SValue* v = base.field(key.s)) return *v;
        error(sub.index->span, "the dict has no key '" + key.s + "'");
      }
      if (!in_device()) return SValue::unknown();
      error(sub.index->span, "a dict argument can only be indexed by a constant string inside tile loops, got " +
                                 describe(key));
    }
    case K::IR: {
      // View indexing of a device value: `:` keeps an axis, None adds one.
      auto parts = index_parts(*sub.index);
      ir::Value* v = base.value;
      int rank = v->type.rank();
      int consumed = 0;
      for (const auto& [p, sp] : parts)
        if (p.kind != K::None && p.kind != K::Ellipsis) ++consumed;
      if (consumed > rank)
        error(sub.index->span, ErrorKind::RankMismatch, "too many indices for a value of rank " + std::to_string(rank));
      int axis = 0;
      for (const auto& [p, sp] : parts) {
        if (p.kind == K::None) {
          v = gen().expand_dims(v, axis, sp);
          ++axis;
        } else if (p.kind == K::Ellipsis) {
          axis += rank - consumed;
        } else if (p.kind == K::Slice && p.elts[0].kind == K::None && p.elts[1].kind == K::None &&
                   p.elts[2].kind == K::None) {
          ++axis;
        } else {
          error(sp, "inside a tile loop, device values can only be indexed with `:`, `None` and `...`",
                {"to select elements, index the host tensor instead (x[tile, 0]) or use hl.subscript"});
        }
      }
      return SValue::ir(v, base.pclass);
    }
    case K::Unknown: return SValue::unknown();
    default: break;
  }
  if (!in_device()) return SValue::unknown();
  error(sub.value->span, describe(base) + " cannot be indexed");
}

// ------------------------------------------------------- loads and stores

int Analyzer::tensor_param(const HostTensor& t, SourceSpan span) {
  // A tensor a function argument's code reads is reached through its host_expr;
  // its name (the closure variable's) may be another tensor's too.
  const std::string& host = t.host_expr.empty() ? t.expr : t.host_expr;
  auto it = tensor_params_.find(host);
  if (it != tensor_params_.end()) return it->second;
  if (t.expr.empty() || (!std::isalpha(static_cast<unsigned char>(t.expr[0])) && t.expr[0] != '_'))
    error(span, "this tensor has no name in host code; assign it to a variable before the tile loop");
  ir::TensorParam p;
  // The IR names a parameter by an identifier: an element of a structured
  // argument ("pair[0]", "p.x") by one made from its expression ("pair_0").
  p.name = python_identifier(t.expr);
  for (int k = 1;; ++k) {
    bool taken = false;
    for (const auto& other : kernel_->tensors) taken |= other.name == p.name;
    if (!taken) break;
    p.name = python_identifier(t.expr) + "_" + std::to_string(k);
  }
  p.host_expr = host;
  p.dtype = t.dtype;
  p.sizes = t.sizes;
  p.strides = t.strides;
  p.arg_index = t.arg_index;
  p.base_arg = t.base_arg;
  p.dense = t.dense;
  kernel_->tensors.push_back(p);
  int idx = static_cast<int>(kernel_->tensors.size() - 1);
  tensor_params_[host] = idx;
  return idx;
}

namespace {

struct LoweredIndex {
  std::vector<ir::IndexSpec> specs;
  std::vector<ir::Value*> operands;
  std::vector<int> dims;  // result shape
  // Tiles that run past the tensor's dim (allowed under a user's extra_mask):
  // (dim, the tensor's size there); the access masks them against it too.
  std::vector<std::pair<int, int64_t>> past_end;
  // Slices with bounds computed on the device (`a[t, 2 * b:2 * b + 2 * block]`):
  // their index tensor and the tensor's size there.  Python clamps such a
  // slice to the size; the access masks the lanes at or past it instead (a
  // load reads 0 there, a store leaves them), so no lane leaves the tensor.
  std::vector<std::pair<ir::Value*, SymInt>> slice_ends;
  // PyTorch's advanced indexing: the index tensors broadcast together
  // (ir::Attrs::broadcast_index).
  bool broadcast = false;
};

}  // namespace

// Rewrites an index into the broadcast form (ir::Attrs::broadcast_index):
// every index with axes becomes an index tensor of the access's rank, placed
// on the axes it indexes.  `group`: the user's index tensors broadcast
// together into one shape, placed where the first one is when nothing but
// scalars separates them, else first (PyTorch's rule); otherwise each spec
// keeps its own axes, and a dim on two of them (x[t.index, t.index], the
// block of x[i, j] for i, j in the tile, as Helion reads it) is two axes.
static void broadcast_index(Analyzer& a, LoweredIndex& out, const std::set<const ir::Value*>& user_tensors,
                            bool group, SourceSpan span) {
  using Kind = ir::IndexSpec::Kind;
  IRGen& g = a.gen();
  const size_t n = out.specs.size();
  auto spec_dims = [&](const ir::IndexSpec& s) -> std::vector<int> {
    switch (s.kind) {
      case Kind::NewAxis: return {ir::kBroadcast};
      case Kind::TileDim: return {s.dim};
      case Kind::Tensor: return out.operands.at(s.operand)->type.dims;
      case Kind::Scalar: return {};
      case Kind::Stack: return {};  // not reached: a StackTensor's access is never rewritten (lower_index)
    }
    return {};
  };
  auto is_user = [&](size_t i) {
    return out.specs[i].kind == Kind::Tensor && user_tensors.count(out.operands.at(out.specs[i].operand));
  };
  // The shape the user's index tensors broadcast to, and whether they are adjacent.
  std::vector<int> shape;
  int first = -1, last = -1;
  if (group) {
    for (size_t i = 0; i < n; ++i) {
      if (!is_user(i)) continue;
      const auto& d = out.operands.at(out.specs[i].operand)->type.dims;
      shape = first < 0 ? d : g.broadcast_dims(shape, d, span);
      if (first < 0) first = static_cast<int>(i);
      last = static_cast<int>(i);
    }
  }
  bool adjacent = true;
  for (int i = first + 1; group && i < last; ++i)
    if (!is_user(i) && out.specs[i].kind != Kind::Scalar) adjacent = false;
  // The access's axes, and where each spec's axes go.
  std::vector<int> dims;
  std::vector<size_t> at(n, 0);
  size_t shape_at = 0;
  auto add_shape = [&] {
    shape_at = dims.size();
    dims.insert(dims.end(), shape.begin(), shape.end());
  };
  if (group && !adjacent) add_shape();
  for (size_t i = 0; i < n; ++i) {
    if (group && is_user(i)) {
      if (adjacent && static_cast<int>(i) == first) add_shape();
      at[i] = shape_at;
      continue;
    }
    at[i] = dims.size();
    for (int d : spec_dims(out.specs[i])) dims.push_back(d);
  }
  // A whole dim on two axes is two dims of its size (as `w[:, :]` is).
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == ir::kBroadcast || std::find(dims.begin(), dims.begin() + i, dims[i]) == dims.begin() + i) continue;
    const ir::Dim& dim = g.kernel().dim(dims[i]);
    if (dim.kind != ir::DimKind::Full || dim.merged() || !(dim.begin.is_constant() && dim.begin.constant() == 0))
      continue;
    const SymInt end = dim.end;
    dims[i] = g.full_dim_other_than(end, dims, span, end.str());
  }
  const int rank = static_cast<int>(dims.size());
  const DType idx = g.kernel().index_dtype;
  // `v`, whose axes start at axis `from`, with the access's rank.
  auto place = [&](ir::Value* v, size_t from) {
    for (size_t k = 0; k < from; ++k) v = g.expand_dims(v, 0, span);
    while (v->type.rank() < rank) v = g.expand_dims(v, v->type.rank(), span);
    // The dims renamed above (and a tile retyped onto its block's lanes).
    std::vector<int> want(rank, ir::kBroadcast);
    for (int k = 0; k < rank; ++k)
      if (v->type.dims[k] != ir::kBroadcast) want[k] = dims[k];
    for (int k = 0; k < rank; ++k)
      if (v->type.dims[k] != ir::kBroadcast) v = g.block_lanes(v, k, want[k], span);
    return g.conform_whole_dims(v, want, span);
  };
  std::map<const ir::Value*, ir::Value*> placed;  // an old operand and its placed form
  std::vector<ir::IndexSpec> specs;
  std::vector<ir::Value*> operands;
  for (size_t i = 0; i < n; ++i) {
    ir::IndexSpec s = out.specs[i];
    ir::Value* v = nullptr;
    switch (s.kind) {
      case Kind::NewAxis: continue;  // an axis no index tensor has: size 1
      case Kind::Scalar:
      case Kind::Stack: v = out.operands.at(s.operand); break;
      case Kind::TileDim: {
        ir::Attrs attrs;
        attrs.dim = s.dim;
        const OpKind k = g.kernel().dim(s.dim).kind == ir::DimKind::Tile ? OpKind::TileIndex : OpKind::Arange;
        v = g.builder().create(k, {}, {ir::Type{idx, {s.dim}}}, span, attrs)->result();
        if (!(s.offset.is_constant() && s.offset.constant() == 0))
          v = g.binary_raw(ir::BinaryFn::Add, v, g.cast(g.sym_value(s.offset, span), idx, span), idx, span);
        v = place(v, at[i]);
        for (auto& [d, size] : out.past_end)
          if (d == s.dim) out.slice_ends.emplace_back(v, SymInt(size));
        s = ir::IndexSpec{};
        s.kind = Kind::Tensor;
        break;
      }
      case Kind::Tensor: {
        ir::Value* old = out.operands.at(s.operand);
        v = old;
        if (group && is_user(i))
          while (v->type.rank() < static_cast<int>(shape.size())) v = g.expand_dims(v, 0, span);
        v = place(v, at[i]);
        placed[old] = v;
        break;
      }
    }
    s.operand = static_cast<int>(operands.size());
    operands.push_back(v);
    specs.push_back(s);
  }
  for (auto& [v, size] : out.slice_ends)
    if (auto it = placed.find(v); it != placed.end()) v = it->second;
  out.past_end.clear();  // now among slice_ends, on the access's axes
  out.specs = std::move(specs);
  out.operands = std::move(operands);
  out.dims = std::move(dims);
  out.broadcast = true;
}

// `stack`: the device pointers of a StackTensor whose tensors are shaped like
// `t` (stack_tensors.cc): their axes lead the result, and no index may reuse
// one of them.
static LoweredIndex lower_index(Analyzer& a, const HostTensor& t, std::vector<std::pair<SValue, SourceSpan>> parts,
                                SourceSpan span, bool user_masked = false, ir::Value* stack = nullptr) {
  using K = SValue::Kind;
  int rank = static_cast<int>(t.sizes.size());
  int consumed = 0;
  int ellipses = 0;
  for (const auto& [p, sp] : parts) {
    if (p.kind == K::Ellipsis) ++ellipses;
    else if (p.kind != K::None) ++consumed;
  }
  // The wording follows Helion's (and torch's, for the two ellipsis cases) so the
  // same text reads the same under both; the class follows Helion's: an index with
  // an ellipsis fails its type inference, a plain one is a rank mismatch.
  if (ellipses > 1)
    a.error(span, ErrorKind::TypeInferenceError, "an index can only have a single ellipsis ('...'): " + t.expr + "[...]");
  if (consumed > rank && ellipses > 0)
    a.error(span, ErrorKind::TypeInferenceError,
            "too many indices for tensor of dimension " + std::to_string(rank) + ": '" + t.expr + "' has " +
                std::to_string(rank) + " dimensions but " + std::to_string(consumed) + " indices were given besides the ellipsis");
  if (consumed > rank)
    a.error(span, ErrorKind::RankMismatch,
            "too many indices for '" + t.expr + "': Expected ndim=" + std::to_string(rank) + ", but got ndim=" +
                std::to_string(consumed) + ". You have too many indices (it has " + std::to_string(rank) +
                " dimensions but " + std::to_string(consumed) + " were given)");
  // Expand `...` and add implicit trailing `:`.
  std::vector<std::pair<SValue, SourceSpan>> full;
  SValue colon;
  colon.kind = K::Slice;
  colon.elts = {SValue::none(), SValue::none(), SValue::none()};
  for (const auto& pr : parts) {
    if (pr.first.kind == K::Ellipsis) {
      for (int i = 0; i < rank - consumed; ++i) full.emplace_back(colon, pr.second);
    } else {
      full.push_back(pr);
    }
  }
  if (!ellipses)
    for (int i = consumed; i < rank; ++i) full.emplace_back(colon, span);

  LoweredIndex out;
  if (stack) {
    ir::IndexSpec spec;
    spec.kind = ir::IndexSpec::Kind::Stack;
    spec.operand = 0;
    out.specs.push_back(spec);
    out.operands.push_back(stack);
    out.dims = stack->type.dims;
  }
  const size_t stack_rank = out.dims.size();
  int pos = 0;
  // Several index tensors of which one has two or more axes broadcast
  // together into one shape (PyTorch's advanced indexing).  Index tensors of
  // one axis each add their own axis instead (Helion's rule: hl.load(x,
  // [rows, tile_k.index]) is the block of rows by columns, where PyTorch
  // would pair them).
  int index_tensors = 0, widest = 0;
  for (const auto& [p, sp] : full)
    if (p.kind == K::IR && p.value && !p.value->type.is_scalar()) {
      ++index_tensors;
      widest = std::max(widest, p.value->type.rank());
    }
  const bool group = index_tensors >= 2 && widest >= 2;
  std::set<const ir::Value*> user_tensors;  // the user's index tensors among the operands
  // The index of a size-1 dim read as its one element on a size-1 axis that
  // broadcasts: a NewAxis, then the returned scalar index 0.
  auto one_element_axis = [&](SourceSpan sp) {
    ir::IndexSpec axis;
    axis.kind = ir::IndexSpec::Kind::NewAxis;
    out.specs.push_back(axis);
    out.dims.push_back(ir::kBroadcast);
    ir::IndexSpec zero;
    zero.kind = ir::IndexSpec::Kind::Scalar;
    zero.operand = static_cast<int>(out.operands.size());
    out.operands.push_back(a.expect_device(SValue::integer(0), sp, "an index").value);
    return zero;
  };
  // The axes each spec adds to the access (a tile or `:` one, a None one of
  // size 1, an index tensor its own), and which index tensors the user wrote
  // (rather than slices made into tensors): those are PyTorch's advanced
  // indices, which broadcast together.
  std::vector<std::vector<int>> spec_axes;
  std::vector<bool> advanced;
  auto add_dim = [&](int d, SourceSpan sp) {
    if (d != ir::kBroadcast && std::find(out.dims.begin(), out.dims.begin() + stack_rank, d) != out.dims.begin() + stack_rank)
      a.error(sp, "'" + a.gen().dim_name(d) + "' indexes the tensors of a StackTensor and is a dimension of its "
                  "device pointers too",
              {"load the pointers over another tile or `:` than the one indexing the tensors"});
    out.dims.push_back(d);
  };
  for (const auto& [p, sp] : full) {
    ir::IndexSpec spec;
    switch (p.kind) {
      case K::None:
        spec.kind = ir::IndexSpec::Kind::NewAxis;
        out.dims.push_back(ir::kBroadcast);
        out.specs.push_back(spec);
        continue;
      case K::Tile: {
        const ir::Dim& d = a.gen().kernel().dim(p.dim);
        auto end = d.end.as_constant(), size = t.sizes[pos].as_constant();
        if (size && *size == 1 && d.kind == ir::DimKind::Tile && !(end && *end <= 1)) {
          // A dim of size 1 broadcasts (Helion's rule, PyTorch's for the
          // bias of shape [1, n]): its one element on a size-1 axis.
          spec = one_element_axis(sp);
          break;
        }
        if (end && size && *end > *size) {
          // Under hl.load/hl.store's extra_mask the program guards the lanes past
          // the end itself (concatenate's `tile1.index < x.size(1)`); they are
          // masked against the tensor's size as well, so none reads past it.
          if (!user_masked)
            a.error(sp, "'" + a.gen().dim_name(p.dim) + "' runs up to " + std::to_string(*end) + " but dimension " +
                            std::to_string(pos) + " of '" + t.expr + "' has size " + std::to_string(*size),
                    {"mask the lanes past the end with hl.load(..., extra_mask=...) / hl.store(..., extra_mask=...)"});
          out.past_end.emplace_back(p.dim, *size);
        }
        spec.kind = ir::IndexSpec::Kind::TileDim;
        spec.dim = p.dim;
        add_dim(p.dim, sp);
        break;
      }
      case K::Slice: {
        bool plain = p.elts[0].kind == K::None && p.elts[1].kind == K::None && p.elts[2].kind == K::None;
        if (!plain) {
          SliceIndex si = lower_bounded_slice(a, t, pos, p, sp);
          if (si.spec.kind == ir::IndexSpec::Kind::TileDim && si.dims.size() == 1 && si.dims[0] == si.spec.dim &&
              std::find(out.dims.begin(), out.dims.end(), si.spec.dim) != out.dims.end()) {
            // x[tile, 0:4, 4:8]: two slices of one length are two dims of that size.
            const SymInt end = a.gen().kernel().dim(si.spec.dim).end;
            si.spec.dim = a.gen().full_dim_other_than(end, out.dims, sp, end.str());
            si.dims = {si.spec.dim};
          }
          if (si.new_axis) {
            ir::IndexSpec axis;
            axis.kind = ir::IndexSpec::Kind::NewAxis;
            out.specs.push_back(axis);
          }
          spec = si.spec;
          if (si.operand) {
            spec.operand = static_cast<int>(out.operands.size());
            out.operands.push_back(si.operand);
            if (spec.kind == ir::IndexSpec::Kind::Tensor) out.slice_ends.emplace_back(si.operand, t.sizes[pos]);
          }
          for (int d : si.dims) add_dim(d, sp);
          break;
        }
        if (auto one = t.sizes[pos].as_constant(); one && *one == 1) {
          // `:` over a dim of size 1 is a size-1 axis that broadcasts (rsqrt[tile, :]
          // of an [m, 1] tensor against [tile, n]), as a tile over it is.
          spec = one_element_axis(sp);
          break;
        }
        // A second `:` of the same size on this tensor (w[:, :] of a square w)
        // is another dim of that size: the two axes stay distinct.
        int d = a.gen().full_dim_other_than(t.sizes[pos], out.dims, sp, t.sizes[pos].str());
        spec.kind = ir::IndexSpec::Kind::TileDim;
        spec.dim = d;
        add_dim(d, sp);
        break;
      }
      case K::Int:
      case K::Bool:
      case K::IR: {
        // A constant is checked against the dim as Python does; a negative one
        // counts from the end (x[-1]).
        SValue wrapped = p;
        const bool constant = p.kind == K::Int && p.i.is_constant();
        if (auto size = t.sizes[pos].as_constant(); constant && size && (p.i.constant() < -*size || p.i.constant() >= *size))
          a.error(sp, "index " + p.i.str() + " is out of range for dimension " + std::to_string(pos) + " of '" +
                          t.expr + "' (size " + std::to_string(*size) + ")");
        if (constant && p.i.constant() < 0) wrapped = SValue::integer(t.sizes[pos] + p.i);
        SValue v = a.expect_device(wrapped, sp, "an index");
        if (is_floating(v.value->type.dtype))
          a.error(sp, "indices must be integers, got " + std::string(torch_name(v.value->type.dtype)));
        if (v.value->type.dtype == DType::Bool)
          a.error(sp, ErrorKind::DataDependentOutputShapeNotSupported, "boolean mask indexing is not supported; use hl.load(..., extra_mask=mask) or torch.where");
        if (auto size = t.sizes[pos].as_constant(); size && *size == 1 && v.value->type.is_scalar() && !constant) {
          // A device scalar into a dim of size 1 reads its one element (Helion's
          // rule for size-1 dims: flex_attention's block mask of shape [1, 1, ...]
          // indexed by the head).  A constant index was checked above.
          v = a.expect_device(SValue::integer(0), sp, "an index");
        }
        if (!v.value->type.is_scalar() && !group) {
          // Index tensors over whole dims already used by this index
          // (x[hl.arange(8)[:, None], hl.arange(8)[None, :]]) get another
          // dim of the same size: each index adds its own axes.
          std::vector<int> renamed = v.value->type.dims, taken = out.dims;
          for (int& d : renamed) {
            if (d == ir::kBroadcast || std::find(taken.begin(), taken.end(), d) == taken.end()) continue;
            const ir::Dim& dim = a.gen().kernel().dim(d);
            if (dim.kind != ir::DimKind::Full || dim.merged() || !(dim.begin.is_constant() && dim.begin.constant() == 0))
              continue;
            const SymInt end = dim.end;  // (dims may grow below)
            d = a.gen().full_dim_other_than(end, taken, sp, end.str());
            taken.push_back(d);
          }
          if (renamed != v.value->type.dims) v.value = a.gen().conform_whole_dims(v.value, renamed, sp);
        }
        spec.operand = static_cast<int>(out.operands.size());
        out.operands.push_back(v.value);
        if (v.value->type.is_scalar()) {
          spec.kind = ir::IndexSpec::Kind::Scalar;
        } else {
          spec.kind = ir::IndexSpec::Kind::Tensor;
          user_tensors.insert(v.value);
          for (int d : v.value->type.dims) add_dim(d, sp);
        }
        break;
      }
      default:
        // x[mask] with a host bool tensor selects a number of elements known only
        // from the data, as it does on the device (the IR case above).
        if (p.kind == K::Tensor && p.tensor && p.tensor->dtype == DType::Bool)
          a.error(sp, ErrorKind::DataDependentOutputShapeNotSupported,
                  "boolean mask indexing '" + t.expr + "[" + p.tensor->expr +
                      "]' produces a data-dependent output shape, which is not supported inside tile loops",
                  {"mask the load instead: hl.load(" + t.expr + ", [tiles], extra_mask=...) or torch.where(...)"});
        a.error(sp, "cannot index '" + t.expr + "' with " + describe(p),
                {"indices can be tiles, `:`, None, ints, or integer device values"});
    }
    out.specs.push_back(spec);
    ++pos;
  }
  bool twice = false;
  for (size_t i = 0; i < out.dims.size(); ++i)
    twice |= out.dims[i] != ir::kBroadcast && std::find(out.dims.begin() + i + 1, out.dims.end(), out.dims[i]) != out.dims.end();
  if ((group || twice) && stack)
    a.error(span, "index tensors that broadcast together (or one dim on two axes) are not supported on a StackTensor",
            {"index the stack's tensors with tiles, `:`, ints or one-axis index tensors"});
  if (group || twice) broadcast_index(a, out, user_tensors, group, span);
  return out;
}

// The mask operand of an access: the user's extra_mask and the masks of the
// jagged tiles (hl.jagged_tile) among the dims it produces; null when neither.
ir::Value* Analyzer::access_mask(const HostTensor& t, const std::vector<int>& dims, const SValue* extra_mask,
                                 SourceSpan span, const std::vector<std::pair<int, int64_t>>& past_end,
                                 const std::vector<std::pair<ir::Value*, SymInt>>& slice_ends) {
  ir::Value* user = nullptr;
  if (extra_mask && extra_mask->kind != SValue::Kind::None)
    user = gen().cast(expect_device(*extra_mask, span, "extra_mask").value, DType::Bool, span);
  for (const auto& [index, size] : slice_ends) {
    SValue in_bounds = gen().binary(ir::BinaryFn::Lt, SValue::ir(index, PromotionClass::Tensor),
                                    SValue::integer(size), span);
    // Aligned to the access's axes, as the emitters combine masks with `&`.
    ir::Value* m = gen().align_to(in_bounds.value, dims, span);
    user = user ? gen().binary(ir::BinaryFn::LogicalAnd, SValue::ir(user, PromotionClass::Tensor),
                               SValue::ir(m, PromotionClass::Tensor), span).value
                : m;
  }
  for (const auto& [dim, size] : past_end) {
    SValue in_bounds = gen().binary(ir::BinaryFn::Lt, eval_attribute(SValue::tile(dim), "index", span),
                                    SValue::integer(size), span);
    user = user ? gen().binary(ir::BinaryFn::LogicalAnd, SValue::ir(user, PromotionClass::Tensor), in_bounds, span).value
                : in_bounds.value;
  }
  ir::Value* jagged = gen().jagged_mask_on(dims, span, "an access to '" + t.expr + "'");
  if (!jagged) return user;
  if (!user) return jagged;
  return gen().binary(ir::BinaryFn::LogicalAnd, SValue::ir(user, PromotionClass::Tensor),
                      SValue::ir(jagged, PromotionClass::Tensor), span).value;
}

SValue Analyzer::load(const SValue& tensor, const IndexParts& index, SourceSpan span, const SValue* extra_mask,
                      const std::string& eviction) {
  const HostTensor& t = *tensor.tensor;
  const bool user_masked = extra_mask && extra_mask->kind != SValue::Kind::None;
  // A StackTensor reads the tensors its pointers name, never the example's memory.
  const bool stacked = tensor.kind == SValue::Kind::Stack;
  LoweredIndex li = lower_index(*this, t, index, span, user_masked, stacked ? tensor.value : nullptr);
  ir::Attrs attrs;
  attrs.tensor = tensor_param(t, span);
  attrs.index = li.specs;
  attrs.broadcast_index = li.broadcast;
  attrs.eviction_policy = eviction;
  attrs.memory_op = kernel_->num_loads++;
  std::vector<ir::Value*> ops = li.operands;
  if (ir::Value* m = access_mask(t, li.dims, extra_mask, span, li.past_end, li.slice_ends)) {
    attrs.extra_mask = static_cast<int>(ops.size());
    ops.push_back(m);
  }
  if (!stacked) kernel_->tensors[attrs.tensor].read = true;
  ir::Value* v = gen().builder().create(OpKind::Load, ops, {ir::Type{t.dtype, li.dims}}, span, attrs)->result();
  return SValue::ir(v, li.dims.empty() ? PromotionClass::ZeroDim : PromotionClass::Tensor);
}

// The value to write: cast to the tensor's dtype (as torch's setitem does)
// and checked to broadcast to the indexed shape.
static ir::Value* prepare_stored_value(Analyzer& a, const HostTensor& t, const SValue& value,
                                       const std::vector<int>& dims, SourceSpan span) {
  SValue v = a.expect_device(value, span, "the stored value");
  ir::Value* x = a.gen().cast(v.value, t.dtype, span);
  // A value of lower rank is placed by tile identity (IRGen::align_ranks).
  x = a.gen().align_to(x, dims, span);
  // Leading size-1 axes beyond the indexed shape go, as in torch's setitem
  // (src[i] = dst[i:i + 1] stores the one element).
  while (x->type.rank() > static_cast<int>(dims.size()) && x->type.dims.front() == ir::kBroadcast)
    x = a.gen().squeeze(x, 0, span);
  // The whole dim of a block's lanes stores into a tile of that block (its
  // live lanes), and the reverse (IRGen::block_lanes).
  for (int i = 1; i <= std::min(x->type.rank(), static_cast<int>(dims.size())); ++i) {
    int axis = x->type.rank() - i;
    if (x->type.dims[axis] != ir::kBroadcast && dims[dims.size() - i] != ir::kBroadcast)
      x = a.gen().block_lanes(x, axis, dims[dims.size() - i], span, /*back=*/true);
  }
  const std::vector<int>& xd = x->type.dims;
  if (xd.size() > dims.size()) {
    // More dims than the target: broadcasting cannot help (it only adds dims),
    // so say which of the value's dims have no place in the target.
    bool only_ones = true;
    for (size_t i = 0; i + dims.size() < xd.size(); ++i) only_ones &= xd[i] == ir::kBroadcast;
    if (!only_ones) {
      std::string extra;
      int first_extra = -1;
      for (size_t i = 0; i < xd.size(); ++i) {
        if (xd[i] == ir::kBroadcast || std::find(dims.begin(), dims.end(), xd[i]) != dims.end()) continue;
        if (first_extra < 0) first_extra = static_cast<int>(i);
        extra += (extra.empty() ? "" : ", ") + std::to_string(i) + " (" + a.gen().dim_name(xd[i]) + ")";
      }
      std::string rank = std::to_string(xd.size()) + "-D";
      a.error(span, "cannot store a " + rank + " value of shape " + a.gen().shape_str(xd) + " into '" + t.expr +
                        "' indexed with shape " + a.gen().shape_str(dims) + ", which has " +
                        std::to_string(dims.size()) + " dimension" + (dims.size() == 1 ? "" : "s"),
              {first_extra >= 0 ? "reduce the value's dimension " + extra + " first (e.g. .sum(dim=" +
                                      std::to_string(first_extra) + ")), or index '" + t.expr + "' with " +
                                      std::to_string(xd.size()) + " indices"
                                : "index '" + t.expr + "' with " + std::to_string(xd.size()) +
                                      " indices, or reshape the value to the indexed shape"});
    }
  }
  x = a.gen().conform_whole_dims(x, dims, span);
  auto b = a.gen().broadcast_dims(x->type.dims, dims, span);
  if (b != dims)
    a.error(span, "cannot store a value of shape " + a.gen().shape_str(x->type.dims) + " into '" + t.expr +
                      "' indexed with shape " + a.gen().shape_str(dims),
            {"the value must have the indexed shape or broadcast to it"});
  return x;
}

void Analyzer::store(const SValue& tensor, const IndexParts& index, const SValue& value, SourceSpan span,
                     const SValue* extra_mask) {
  const HostTensor& t = *tensor.tensor;
  const bool user_masked = extra_mask && extra_mask->kind != SValue::Kind::None;
  // A StackTensor writes the tensors its pointers name (value[j] into tensor j),
  // never the example's memory.
  const bool stacked = tensor.kind == SValue::Kind::Stack;
  LoweredIndex li = lower_index(*this, t, index, span, user_masked, stacked ? tensor.value : nullptr);
  ir::Attrs attrs;
  attrs.tensor = tensor_param(t, span);
  attrs.index = li.specs;
  attrs.broadcast_index = li.broadcast;
  attrs.memory_op = kernel_->num_stores++;
  std::vector<ir::Value*> ops = li.operands;
  attrs.value_operand = static_cast<int>(ops.size());
  // A host tensor stored as it is (`dst[i] = val`) is read whole, as `val[:, ...]`
  // would be (Helion's rule for a host tensor with dims; a 0-d one must still be
  // indexed or passed as a number).
  SValue stored = value;
  if (stored.kind == SValue::Kind::Tensor && stored.tensor && !stored.tensor->sizes.empty())
    stored = load(stored, {}, span, nullptr, "");
  ops.push_back(prepare_stored_value(*this, t, stored, li.dims, span));
  if (ir::Value* m = access_mask(t, li.dims, extra_mask, span, li.past_end, li.slice_ends)) {
    attrs.extra_mask = static_cast<int>(ops.size());
    ops.push_back(m);
  }
  if (!stacked) kernel_->tensors[attrs.tensor].written = true;
  gen().builder().create(OpKind::Store, ops, {}, span, attrs);
}

SValue Analyzer::atomic(ir::AtomicFn fn, const SValue& tensor, const IndexParts& index, const SValue& value,
                        const SValue* expected, const std::string& sem, SourceSpan span) {
  static const char* const kSems[] = {"relaxed", "acquire", "release", "acq_rel"};
  if (std::find(std::begin(kSems), std::end(kSems), sem) == std::end(kSems))
    error(span, ErrorKind::InvalidMemorySemantic,
          "Invalid memory semantic '" + sem + "': sem must be one of 'relaxed', 'acquire', 'release', 'acq_rel'");
  const HostTensor& t = *tensor.tensor;
  LoweredIndex li = lower_index(*this, t, index, span);
  ir::Attrs attrs;
  attrs.tensor = tensor_param(t, span);
  attrs.index = li.specs;
  attrs.broadcast_index = li.broadcast;
  attrs.atomic = fn;
  attrs.atomic_sem = sem;
  std::vector<ir::Value*> ops = li.operands;
  if (expected) {
    attrs.expected_operand = static_cast<int>(ops.size());
    ops.push_back(prepare_stored_value(*this, t, *expected, li.dims, span));
  }
  attrs.value_operand = static_cast<int>(ops.size());
  // A host tensor stored as it is (`dst[i] = val`) is read whole, as `val[:, ...]`
  // would be (Helion's rule for a host tensor with dims; a 0-d one must still be
  // indexed or passed as a number).
  SValue stored = value;
  if (stored.kind == SValue::Kind::Tensor && stored.tensor && !stored.tensor->sizes.empty())
    stored = load(stored, {}, span, nullptr, "");
  ops.push_back(prepare_stored_value(*this, t, stored, li.dims, span));
  for (int d : li.dims)
    if (d != ir::kBroadcast && gen().is_jagged(d))
      error(span, "atomics over a jagged tile ('" + gen().dim_name(d) + "', from hl.jagged_tile) are not supported",
            {"accumulate in a value the loop carries and store it after the loop"});
  kernel_->tensors[attrs.tensor].read = true;
  kernel_->tensors[attrs.tensor].written = true;
  ir::Value* v = gen().builder().create(OpKind::AtomicRMW, ops, {ir::Type{t.dtype, li.dims}}, span, attrs)->result();
  return SValue::ir(v, li.dims.empty() ? PromotionClass::ZeroDim : PromotionClass::Tensor);
}

}  // namespace deuteron::sema
