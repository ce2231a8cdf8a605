// Numbers that host code computes at run time: `scale = 1.0 / (1.0 - p)` from
// a float argument, `sm_scale = 1.0 / math.sqrt(head_dim)` from a symbolic
// size, `num_groups = H // Hk if ... else 1` from a branch the compiler cannot
// decide.  Python computes them (the host function runs the statement as
// written); sema only needs their type, and a way for the kernel to see them.
//
// An expression of such numbers is "host-computed": sema knows it is a float
// (Python's result type) but not its value.  Bound to a name, it is a runtime
// float like a float argument (named_host_value): device code that uses the
// name gets it as a scalar kernel argument, read at the launch, where the
// name's binding is the one sema saw (the launch sits at the loop).
//
// Integers keep their symbolic form (SymInt) wherever it exists; a branch that
// binds an int either way gives a host symbol read right after the `if`
// (a SymInt may size a later tensor or bound a grid, so it is a symbol).
#include "analyzer.h"

namespace deuteron::sema {

namespace {

using K = SValue::Kind;

bool is_number(const SValue& v) { return v.kind == K::Int || v.kind == K::Float || v.kind == K::Bool; }

bool is_static(const SValue& v) {
  return (v.kind == K::Int && v.i.is_constant()) ||
         ((v.kind == K::Float || v.kind == K::Bool) && v.runtime_expr.empty());
}

}  // namespace

SValue Analyzer::host_number_binop(ast::BinOpKind op, const SValue& a, const SValue& b) {
  if (!is_number(a) || !is_number(b) || (is_static(a) && is_static(b))) return SValue::unknown();
  switch (op) {
    case ast::BinOpKind::Add:
    case ast::BinOpKind::Sub:
    case ast::BinOpKind::Mult:
    case ast::BinOpKind::FloorDiv:
    case ast::BinOpKind::Mod:
      // int (op) int is an int (SymInt arithmetic handled it, bools aside);
      // with a float operand Python computes a float.
      if (a.kind == K::Float || b.kind == K::Float) return host_computed_float();
      return SValue::unknown();
    case ast::BinOpKind::Div: return host_computed_float();  // true division: always a float
    case ast::BinOpKind::Pow: {
      // A symbolic int to a small constant power stays an int (v.size(2) ** 2).
      if (a.kind == K::Int && b.kind == K::Int && b.i.is_constant() && b.i.constant() >= 0 && b.i.constant() <= 8) {
        SymInt r = 1;
        for (int64_t k = 0; k < b.i.constant(); ++k) r = r * a.i;
        return SValue::integer(r);
      }
      // int ** int may be either (a negative exponent gives a float).
      if (a.kind == K::Float || b.kind == K::Float) return host_computed_float();
      return SValue::unknown();
    }
    default: return SValue::unknown();  // bitwise operators are ints (or errors)
  }
}

SValue Analyzer::host_number_call(const std::string& fn, const std::vector<SValue>& args) {
  bool all_numbers = !args.empty(), any_runtime = false;
  for (const auto& a : args) {
    all_numbers &= is_number(a);
    any_runtime |= !is_static(a);
  }
  if (!all_numbers || !any_runtime) return SValue::unknown();
  static const char* const kFloatResults[] = {"sqrt", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1",
                                              "pow", "sin", "cos", "tan", "tanh", "atan", "erf", "fabs"};
  for (const char* f : kFloatResults)
    if (fn == f) return host_computed_float();
  return SValue::unknown();
}

bool Analyzer::merge_host_branches(const ast::If& s, const std::set<std::string>& names) {
  // Run both branches on copies of the environment; a branch sema cannot
  // follow leaves its names unknown, as before.
  const auto saved = env_;
  const size_t symbols = program_->symbols.size();
  std::map<std::string, SValue> then_env, else_env;
  bool followed = true;
  try {
    for (const auto& st : s.body) host_effects(*st);
    then_env = env_;
    env_ = saved;
    for (const auto& st : s.orelse) host_effects(*st);
    else_env = env_;
  } catch (const CompileError&) {
    followed = false;
  } catch (const IntOverflowError&) {
    followed = false;
  }
  env_ = saved;
  if (!followed) {
    program_->symbols.resize(symbols);
    return false;
  }
  mark_unknown_assigned(s);
  for (const auto& n : names) {
    auto t = then_env.find(n), e = else_env.find(n);
    if (t == then_env.end() || e == else_env.end()) continue;
    const SValue& x = t->second;
    const SValue& y = e->second;
    if (x.kind == K::Int && y.kind == K::Int) {
      if (x.i.same_as(y.i)) {
        env_[n] = x;
        continue;
      }
      // Either int: Python's value, read after the `if`.
      std::string sym = symbol_for("_host_" + n);
      program_->symbols.push_back(HostSymbol{sym, n, false, static_cast<int>(program_->host.size())});
      env_[n] = SValue::integer(SymInt::symbol(sym));
    } else if (x.kind == K::Float && y.kind == K::Float) {
      if (is_static(x) && is_static(y) && x.f == y.f) {
        env_[n] = x;
        continue;
      }
      SValue f = SValue::floating(0.0);
      f.runtime_expr = n;  // Python's value, read at the launch
      env_[n] = f;
    } else if (x.kind == y.kind && (x.kind == K::DType ? x.dtype == y.dtype : x.kind == K::None)) {
      env_[n] = x;  // the same dtype (or None) either way
    }
  }
  return true;
}

std::optional<SymInt> Analyzer::runtime_int(const SValue& v) const {
  // A name bound to a value sema does not model (num_workers =
  // helion.runtime.get_num_sm(device)), where an int is needed: Python's value,
  // read right after the statement that bound it.  range() takes ints (and
  // one-element integer tensors) and raises TypeError for anything else ("'float'
  // object cannot be interpreted as an integer"), so a value of another type is
  // an error at the call, never a truncated number.
  if (v.kind != K::Unknown || v.runtime_expr.empty() || v.index < 0) return std::nullopt;
  const std::string read = "range(" + v.runtime_expr + ").stop";
  // One symbol per binding, however many places use it.
  for (const auto& hs : program_->symbols)
    if (!hs.at_entry && hs.after_stmt == v.index && hs.host_expr == read) return SymInt::symbol(hs.name);
  std::string sym = symbol_for("_host_" + v.runtime_expr);
  program_->symbols.push_back(HostSymbol{sym, read, false, v.index});
  return SymInt::symbol(sym);
}

std::optional<SymInt> Analyzer::host_size(const SValue& v) const {
  if (v.kind == K::Int) return v.i;
  if (v.kind == K::BlockSize) return block_size_symbol(v.index);
  return runtime_int(v);
}

}  // namespace deuteron::sema
