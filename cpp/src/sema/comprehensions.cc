// Comprehensions over sequences known when compiling: `[f(x) for x in xs]`,
// `tuple(g(a, b) for a, b in zip(as_, bs))`, `{k: v for k in range(4)}`.
// They are unrolled: the element is evaluated once per item with the
// comprehension's variables bound, in host code and in device code alike.
// Over anything else, host code keeps the comprehension for Python to run
// (its result is then unknown to the kernel); device code cannot, so there it
// is an error.  Also the builtins that make such sequences: zip, enumerate,
// and dict lookups.
#include <cstdint>
#include <functional>

#include "analyzer.h"

namespace deuteron::sema {

using K = SValue::Kind;

namespace {

// Binds a comprehension's target (a name or nested tuples of names) to `v`.
void bind_target(Analyzer& a, const ast::Expr& target, const SValue& v, Env& env) {
  if (auto* n = ast::dyn_cast<ast::Name>(&target)) {
    env[n->id] = v;
    return;
  }
  const std::vector<ast::ExprPtr>* elts = nullptr;
  if (auto* t = ast::dyn_cast<ast::Tuple>(&target)) elts = &t->elts;
  if (auto* l = ast::dyn_cast<ast::List>(&target)) elts = &l->elts;
  if (!elts) a.error(target.span, "a comprehension's variable must be a name or a tuple of names");
  for (const auto& e : *elts)
    if (ast::isa<ast::Starred>(e.get()))
      a.error(e->span, "starred variables in comprehensions are not supported");
  std::vector<SValue> items = a.expect_sequence(v, target.span, "the value unpacked here");
  if (items.size() != elts->size())
    a.error(target.span, "cannot unpack " + std::to_string(items.size()) + " values into " +
                             std::to_string(elts->size()) + " names");
  for (size_t i = 0; i < items.size(); ++i) bind_target(a, *(*elts)[i], items[i], env);
}

// Python's == between two dict keys known when compiling (1 == 1.0 == True).
bool same_key(const SValue& a, const SValue& b) {
  auto number = [](const SValue& v, double& d) {
    if (v.kind == K::Int && v.i.is_constant()) { d = static_cast<double>(v.i.constant()); return true; }
    if (v.kind == K::Bool) { d = v.b ? 1 : 0; return true; }
    if (v.kind == K::Float) { d = v.f; return true; }
    return false;
  };
  if (a.kind == K::Int && b.kind == K::Int) return a.i.constant() == b.i.constant();
  double x, y;
  if (number(a, x) && number(b, y)) return x == y;
  if (a.kind == K::String && b.kind == K::String) return a.s == b.s;
  if (a.kind == K::None && b.kind == K::None) return true;
  return false;
}

bool is_constant_key(const SValue& v) {
  return (v.kind == K::Int && v.i.is_constant()) || (v.kind == K::Bool && v.runtime_expr.empty()) ||
         (v.kind == K::Float && v.runtime_expr.empty()) || v.kind == K::String || v.kind == K::None;
}

std::string key_text(const SValue& v) {
  switch (v.kind) {
    case K::Int: return v.i.str();
    case K::Bool: return v.b ? "True" : "False";
    case K::String: return ast::string_repr(v.s);
    case K::None: return "None";
    case K::Float: return ast::float_repr(v.f);
    default: return describe(v);
  }
}

}  // namespace

bool Analyzer::static_items(const ast::Expr& iter, std::vector<SValue>& items) {
  // range() and hl.static_range() with constant bounds are sequences here (as
  // the iterator of an inner loop, range() is a device loop instead).
  if (auto* call = ast::dyn_cast<ast::Call>(&iter)) {
    SValue fn = eval(*call->func);
    if (fn.kind == K::Function && (fn.s == "builtins.range" || fn.s == "hl.static_range") &&
        call->keywords.empty()) {
      std::vector<SValue> args;
      for (const auto& a : call->args) args.push_back(eval(*a));
      std::vector<int64_t> r;
      for (const auto& v : args) {
        if (!v.is_constant_int() && !(v.kind == K::Bool && v.runtime_expr.empty())) return false;
        r.push_back(v.kind == K::Bool ? v.b : v.i.constant());
      }
      if (r.empty() || r.size() > 3) error(call->span, "range() takes 1 to 3 arguments");
      int64_t b = r.size() == 1 ? 0 : r[0], e = r.size() == 1 ? r[0] : r[1], st = r.size() == 3 ? r[2] : 1;
      if (st == 0) error(call->span, "range() arg 3 must not be zero");
      __int128 distance = st > 0 ? static_cast<__int128>(e) - b : static_cast<__int128>(b) - e;
      __int128 stride = st > 0 ? static_cast<__int128>(st) : -static_cast<__int128>(st);
      __int128 count = distance <= 0 ? 0 : (distance + stride - 1) / stride;
      if (count > kMaxSequenceLength) check_sequence_length(kMaxSequenceLength + 1, call->span);
      for (int64_t k = 0; k < static_cast<int64_t>(count); ++k) items.push_back(SValue::integer(b + k * st));
      return true;
    }
  }
  SValue seq = eval(iter);
  if (seq.is_sequence()) {
    items = seq.elts;
    return true;
  }
  if (seq.kind == K::ConstDict) {
    for (size_t i = 0; i < seq.elts.size(); i += 2) items.push_back(seq.elts[i]);
    return true;
  }
  if (in_device())
    error(iter.span, "a comprehension inside a tile loop is unrolled when compiling, so it needs a sequence known "
                     "then: a tuple or list, range() with constant bounds, or zip/enumerate of them; got " +
                         describe(seq),
          {"use hl.tile / hl.grid loops for data the kernel only sees at run time"});
  return false;
}

SValue Analyzer::eval_comprehension(const ast::Comp& c) {
  if (c.type == ast::Comp::Type::Set)
    error(c.span, "set comprehensions are not supported in kernels (a set has no order to unroll in)",
          {"use a list or tuple comprehension"});
  // Python gives a comprehension its own scope: its variables do not leak out.
  const Env saved = env_;
  std::vector<SValue> out;  // elements; for a dict, key and value alternate
  bool known = true;
  std::function<void(size_t)> clause = [&](size_t g) {
    if (g == c.generators.size()) {
      SValue elt = eval(*c.elt);
      if (c.type != ast::Comp::Type::Dict) {
        check_sequence_length(static_cast<int64_t>(out.size()) + 1, c.span);
        out.push_back(elt);
        return;
      }
      SValue value = eval(*c.value);
      if (!is_constant_key(elt)) {
        if (in_device()) error(c.elt->span, "dict keys inside kernels must be constants, got " + describe(elt));
        known = false;
        return;
      }
      for (size_t i = 0; i < out.size(); i += 2)
        if (same_key(out[i], elt)) {
          out[i + 1] = value;  // a repeated key keeps its place and takes the new value
          return;
        }
      check_sequence_length(static_cast<int64_t>(out.size() / 2) + 1, c.span);
      out.push_back(elt);
      out.push_back(value);
      return;
    }
    const ast::Comprehension& gen = c.generators[g];
    std::vector<SValue> items;
    if (!static_items(*gen.iter, items)) {
      known = false;
      return;
    }
    for (const SValue& item : items) {
      bind_target(*this, *gen.target, item, env_);
      bool keep = true;
      for (const auto& cond : gen.ifs) {
        SValue t = eval(*cond);
        bool truth;
        if (!static_truth(t, truth)) {
          if (in_device())
            error(cond->span, "a comprehension's condition inside a tile loop must be known when compiling, got " +
                                  describe(t));
          known = false;
          return;
        }
        if (!truth) {
          keep = false;
          break;
        }
      }
      if (keep) clause(g + 1);
      if (!known) return;
    }
  };
  clause(0);
  env_ = saved;
  if (!known) return SValue::unknown();
  switch (c.type) {
    case ast::Comp::Type::List: return SValue::list(std::move(out));
    case ast::Comp::Type::Generator: return SValue::tuple(std::move(out));  // consumed by tuple(), list(), ...
    case ast::Comp::Type::Dict: {
      SValue d;
      d.kind = K::ConstDict;
      d.elts = std::move(out);
      return d;
    }
    case ast::Comp::Type::Set: break;
  }
  return SValue::unknown();
}

SValue Analyzer::dict_lookup(const SValue& dict, const SValue& key, SourceSpan span) {
  if (!is_constant_key(key)) {
    if (!in_device()) return SValue::unknown();
    error(span, "dicts inside kernels can only be indexed by constants, got " + describe(key));
  }
  for (size_t i = 0; i < dict.elts.size(); i += 2)
    if (same_key(dict.elts[i], key)) return dict.elts[i + 1];
  error(span, "KeyError: " + key_text(key) + " is not a key of this dict");
}

bool Analyzer::call_sequence_builtin(const std::string& name, const CallArgs& call, SValue& out) {
  if (name == "dict" && call.kwargs.empty() && call.args.size() <= 1) {
    // dict(pairs): what the parser reads `{k: v, ...}` as.  Keys are constants;
    // a repeated key keeps its first place and its last value, as in Python.
    auto not_modeled = [&](const std::string& why) {
      if (!in_device()) { out = SValue::unknown(); return true; }
      error(call.span, "a dict inside a kernel needs " + why);
    };
    SValue d;
    d.kind = K::ConstDict;
    if (!call.args.empty() && !call.args[0].is_sequence()) return not_modeled("(key, value) pairs known when compiling");
    for (const auto& pair : call.args.empty() ? std::vector<SValue>{} : call.args[0].elts) {
      if (pair.kind != K::Tuple || pair.elts.size() != 2) return not_modeled("(key, value) pairs, got " + describe(pair));
      if (!is_constant_key(pair.elts[0]))
        return not_modeled("keys known when compiling (strings, numbers), got " + describe(pair.elts[0]));
      bool found = false;
      for (size_t i = 0; i < d.elts.size() && !found; i += 2)
        if (same_key(d.elts[i], pair.elts[0])) { d.elts[i + 1] = pair.elts[1]; found = true; }
      if (!found) { d.elts.push_back(pair.elts[0]); d.elts.push_back(pair.elts[1]); }
    }
    out = d;
    return true;
  }
  if (name == "zip") {
    BoundArgs b = bind(CallArgs{{}, {}, call.kwargs, call.kwarg_spans, call.span, "zip"}, {"*", "strict="});
    bool strict = b.has("strict") && b.get("strict")->kind != K::None &&
                  expect_const_bool(*b.get("strict"), b.span_of("strict"), "strict");
    size_t n = SIZE_MAX;
    for (size_t i = 0; i < call.args.size(); ++i) {
      const SValue& a = call.args[i];
      const size_t len = a.is_sequence() ? a.elts.size() : a.kind == K::ConstDict ? a.elts.size() / 2 : SIZE_MAX;
      if (len == SIZE_MAX) {
        if (!in_device()) { out = SValue::unknown(); return true; }
        error(call.arg_spans[i], "zip() inside a tile loop needs tuples or lists known when compiling, got " +
                                     describe(a));
      }
      if (strict && n != SIZE_MAX && len != n)
        error(call.span, "zip(strict=True): argument " + std::to_string(i + 1) + " has length " +
                             std::to_string(len) + ", the others " + std::to_string(n));
      n = std::min(n, len);
    }
    if (call.args.empty()) n = 0;
    std::vector<SValue> rows;
    for (size_t k = 0; k < n; ++k) {
      std::vector<SValue> row;
      for (const auto& a : call.args) row.push_back(a.kind == K::ConstDict ? a.elts[2 * k] : a.elts[k]);
      rows.push_back(SValue::tuple(std::move(row)));
    }
    out = SValue::tuple(std::move(rows));
    return true;
  }
  if (name == "enumerate") {
    BoundArgs b = bind(call, {"iterable", "start="});
    const SValue& seq = *b.get("iterable");
    int64_t start = b.has("start") ? expect_const_int(*b.get("start"), b.span_of("start"), "start") : 0;
    if (!seq.is_sequence() && seq.kind != K::ConstDict) {
      if (!in_device()) { out = SValue::unknown(); return true; }
      error(b.span_of("iterable"), "enumerate() inside a tile loop needs a tuple or list known when compiling, got " +
                                       describe(seq));
    }
    const bool dict = seq.kind == K::ConstDict;
    const size_t n = dict ? seq.elts.size() / 2 : seq.elts.size();
    std::vector<SValue> rows;
    for (size_t k = 0; k < n; ++k)
      rows.push_back(SValue::tuple({SValue::integer(start + static_cast<int64_t>(k)), dict ? seq.elts[2 * k] : seq.elts[k]}));
    out = SValue::tuple(std::move(rows));
    return true;
  }
  return false;
}

bool Analyzer::call_dict_method(const SValue& dict, const std::string& name, const CallArgs& call, SValue& out) {
  std::vector<SValue> items;
  for (size_t i = 0; i < dict.elts.size(); i += 2) {
    if (name == "keys") items.push_back(dict.elts[i]);
    else if (name == "values") items.push_back(dict.elts[i + 1]);
    else if (name == "items") items.push_back(SValue::tuple({dict.elts[i], dict.elts[i + 1]}));
  }
  if (name == "keys" || name == "values" || name == "items") {
    if (!call.args.empty() || !call.kwargs.empty()) error(call.span, "dict." + name + "() takes no arguments");
    out = SValue::tuple(std::move(items));
    return true;
  }
  if (name == "get") {
    BoundArgs b = bind(call, {"key", "default="});
    const SValue& key = *b.get("key");
    if (!is_constant_key(key)) {
      if (!in_device()) { out = SValue::unknown(); return true; }
      error(b.span_of("key"), "dicts inside kernels can only be indexed by constants, got " + describe(key));
    }
    for (size_t i = 0; i < dict.elts.size(); i += 2)
      if (same_key(dict.elts[i], key)) { out = dict.elts[i + 1]; return true; }
    out = b.has("default") ? *b.get("default") : SValue::none();
    return true;
  }
  return false;
}

}  // namespace deuteron::sema
