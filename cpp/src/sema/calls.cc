// Calls: argument binding, dispatch to the op tables, Python builtins, and
// inlining of user helper functions into device code.
#include <algorithm>
#include <cmath>
#include <utility>

#include "analyzer.h"
#include "deuteron/parser.h"

namespace deuteron::sema {

using K = SValue::Kind;

// ------------------------------------------------------------ arg binding

const SValue* BoundArgs::get(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second.first;
}

SourceSpan BoundArgs::span_of(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? call_span : it->second.second;
}

BoundArgs Analyzer::bind(const CallArgs& call, const std::vector<std::string>& signature) const {
  struct Param {
    std::string name;
    bool optional;
    bool kw_only;
  };
  std::vector<Param> params;
  bool kw_only = false;
  for (const auto& s : signature) {
    if (s == "*") {
      kw_only = true;
      continue;
    }
    bool opt = !s.empty() && s.back() == '=';
    params.push_back({opt ? s.substr(0, s.size() - 1) : s, opt, kw_only});
  }
  auto usage = [&]() {
    std::string u = call.func_name + "(";
    for (size_t i = 0; i < params.size(); ++i) {
      u += (i ? ", " : "") + params[i].name + (params[i].optional ? "=..." : "");
    }
    return u + ")";
  };
  BoundArgs out;
  out.call_span = call.span;
  size_t positional_slots = 0;
  for (const auto& p : params)
    if (!p.kw_only) ++positional_slots;
  if (call.args.size() > positional_slots)
    error(call.arg_spans.at(positional_slots), call.func_name + "() takes at most " +
                                                   std::to_string(positional_slots) + " positional arguments but " +
                                                   std::to_string(call.args.size()) + " were given",
          {"usage: " + usage()});
  for (size_t i = 0; i < call.args.size(); ++i)
    out.values[params[i].name] = {call.args[i], call.arg_spans[i]};
  for (size_t i = 0; i < call.kwargs.size(); ++i) {
    const auto& [name, value] = call.kwargs[i];
    auto it = std::find_if(params.begin(), params.end(), [&](const Param& p) { return p.name == name; });
    if (it == params.end())
      error(call.kwarg_spans[i], call.func_name + "() got an unexpected keyword argument '" + name + "'",
            {"usage: " + usage()});
    if (out.values.count(name))
      error(call.kwarg_spans[i], call.func_name + "() got multiple values for argument '" + name + "'");
    out.values[name] = {value, call.kwarg_spans[i]};
  }
  for (const auto& p : params)
    if (!p.optional && !out.values.count(p.name))
      error(call.span, call.func_name + "() is missing the required argument '" + p.name + "'",
            {"usage: " + usage()});
  return out;
}

// ------------------------------------------------------------------ calls

bool Analyzer::add_keywords(const ast::Call& call, CallArgs& ca) {
  auto add = [&](const std::string& name, SValue value, SourceSpan span) {
    for (const auto& [seen, v] : ca.kwargs)
      if (seen == name) error(span, ca.func_name + "() got multiple values for keyword argument '" + name + "'");
    ca.kwargs.emplace_back(name, std::move(value));
    ca.kwarg_spans.push_back(span);
  };
  for (const auto& kw : call.keywords) {
    if (!kw.name.empty()) {
      ca.kwargs.emplace_back(kw.name, eval(*kw.value));
      ca.kwarg_spans.push_back(kw.span);
      continue;
    }
    SValue map = eval(*kw.value);
    if (map.kind == K::ConstDict) {
      for (size_t i = 0; i + 1 < map.elts.size(); i += 2) {
        if (map.elts[i].kind != K::String)
          error(kw.span, ErrorKind::TypeInferenceError, "keywords must be strings, got " + describe(map.elts[i]) +
                                                   " as a key of the mapping after **");
        add(map.elts[i].s, map.elts[i + 1], kw.span);
      }
    } else if (map.kind == K::Dict) {
      for (size_t i = 0; i < map.elts.size() && i < map.fields.size(); ++i) add(map.fields[i], map.elts[i], kw.span);
    } else {
      if (!in_device() && map.kind == K::Unknown) return false;
      error(kw.value->span, "the argument after ** must be a dict known when compiling (a **kwargs parameter "
                            "of a helper, a dict argument, a dict comprehension), got " + describe(map));
    }
  }
  return true;
}

SValue Analyzer::eval_call(const ast::Call& call) {
  SValue fn = eval(*call.func);
  CallArgs ca;
  ca.span = call.span;
  ca.func_name = fn.kind == K::Function ? fn.s : fn.kind == K::Method ? "." + fn.s : ast::unparse(*call.func);
  for (const auto& a : call.args) {
    if (auto* st = ast::dyn_cast<ast::Starred>(a.get())) {
      SValue seq = eval(*st->value);
      if (!seq.is_sequence()) {
        if (!in_device()) return SValue::unknown();
        error(a->span, "*args needs a tuple or list known at compile time, got " + describe(seq));
      }
      for (const auto& e : seq.elts) {
        ca.args.push_back(e);
        ca.arg_spans.push_back(a->span);
      }
      continue;
    }
    ca.args.push_back(eval(*a));
    ca.arg_spans.push_back(a->span);
  }
  if (!add_keywords(call, ca)) return SValue::unknown();
  tunable_call_.reset();
  SValue out = call_value(fn, ca);
  // Host rewrites: config-dependent host calls become values at codegen.
  if (tunable_call_) {
    program_->rewrites[&call] = *tunable_call_;
    tunable_call_.reset();
  }
  // hl.constexpr(v) in host code is v (in Python it makes a wrapper for kernel arguments).
  if (!in_device() && fn.kind == K::Function && fn.s == "hl.constexpr" && call.args.size() == 1 &&
      call.keywords.empty()) {
    HostRewrite rw;
    rw.kind = HostRewrite::Kind::Literal;
    rw.text = "(" + ast::unparse(*call.args[0]) + ")";
    program_->rewrites[&call] = rw;
  }
  // hl.barrier() in host code: nothing to run (call_hl says why).
  if (!in_device() && fn.kind == K::Function && fn.s == "hl.barrier") {
    HostRewrite rw;
    rw.kind = HostRewrite::Kind::Literal;
    rw.text = "None";
    program_->rewrites[&call] = rw;
  }
  // hl.zeros / hl.full in host code allocate on the kernel's device with torch.
  if (!in_device() && fn.kind == K::Function && (fn.s == "hl.zeros" || fn.s == "hl.full")) {
    HostRewrite rw;
    rw.kind = HostRewrite::Kind::Literal;
    rw.text = host_creation_text(call, fn.s.substr(3));
    program_->rewrites[&call] = rw;
  }
  if (!in_device() && out.kind == K::BlockSize) {
    HostRewrite rw;
    rw.kind = HostRewrite::Kind::BlockSize;
    rw.index = out.index;
    program_->rewrites[&call] = rw;
  }
  return out;
}

namespace {

// The kind of error for a torch function or tensor method (its last name) that
// device code cannot call: ops whose results' number or shape depends on the data.
ErrorKind unsupported_device_op_kind(const std::string& qualname) {
  std::string name = qualname.substr(qualname.rfind('.') + 1);
  if (name == "split" || name == "chunk" || name == "unbind" || name == "tensor_split")
    return ErrorKind::UnsupportedSplitOperation;
  if (name == "nonzero" || name == "masked_select" || name == "unique" || name == "argwhere")
    return ErrorKind::DataDependentOutputShapeNotSupported;
  return ErrorKind::Generic;
}

// The message for an op device code cannot call. Split ops name Helion's wording
// ("... is not supported in Helion device loops") and hl.split() on the same line,
// since that is the replacement a user most often wants.
std::string unsupported_device_op_message(const std::string& what, ErrorKind kind) {
  if (kind == ErrorKind::UnsupportedSplitOperation)
    return what + " is not supported in Helion device loops (inside tile loops); to split a last dimension of "
                  "size 2 use hl.split(), otherwise reshape the tile or index it";
  return what + " is not supported inside tile loops";
}

}  // namespace

SValue Analyzer::call_value(const SValue& fn, const CallArgs& call) {
  SValue out;
  switch (fn.kind) {
    case K::Function: {
      if (fn.s.rfind("aten.", 0) == 0) return call_value(aten_function(fn.s), call);  // torch.ops.aten.add(x, y)
      const std::string& q = fn.s;
      if (q.rfind("builtins.", 0) == 0) {
        if (call_builtin(q.substr(9), call, out)) return out;
        break;
      }
      if (q.rfind("autotuner.", 0) == 0 && q.find("Fragment") != std::string::npos) {
        out = make_fragment(q.substr(10), call);
        return out;
      }
      if (q.rfind("hl.", 0) == 0) {
        if (call_hl(q.substr(3), call, out)) return out;
        error(call.span, "'" + q + "' is not supported by deuteron",
              {"see docs/language.md for the supported deuteron.language functions"});
      }
      if (in_device()) {
        if (call_random(q, call, out)) return out;
        if (call_torch_creation(q, call, out)) return out;
        if (call_torch_device(q, call, out)) return out;
        // Host-level helpers still work on host values inside device code
        // (e.g. triton.cdiv(n, 2) on sizes).
        if (call_host_torch(q, call, out) && out.kind != K::Unknown) return out;
        ErrorKind kind = unsupported_device_op_kind(q);
        error(call.span, kind,
              unsupported_device_op_message(kind == ErrorKind::UnsupportedSplitOperation ? q : "'" + q + "'", kind),
              {"supported: torch pointwise math, reductions, matmul and views on tiles; see docs/language.md"});
      }
      if (call_host_torch(q, call, out)) return out;
      return SValue::unknown();
    }
    case K::Method: {
      const SValue& self = fn.elts[0];
      if (in_device() && (self.kind == K::Tensor || self.kind == K::IR) &&
          call_new_tensor_method(self, fn.s, call, out))
        return out;
      if (self.kind == K::Tensor) {
        if (call_host_tensor_method(self, fn.s, call, out)) return out;
        if (in_device())
          error(call.span, "the host tensor method ." + fn.s + "() cannot be used inside a tile loop",
                {"call it before the loop, or index the tensor with tiles first: " + self.tensor->expr +
                 "[tile]." + fn.s + "(...)"});
        return SValue::unknown();
      }
      if (self.kind == K::ConstDict && call_dict_method(self, fn.s, call, out)) return out;
      if (self.kind == K::IR) {
        if (call_tensor_method_device(self, fn.s, call, out)) return out;
        ErrorKind kind = unsupported_device_op_kind(fn.s);
        error(call.span, kind, unsupported_device_op_message("tensor method ." + fn.s + "()", kind),
              {"see docs/language.md for the supported operations"});
      }
      if (self.kind == K::Dict && call.kwargs.empty()) {
        // A dict argument's views, as tuples known at compile time (for loops unroll over them).
        std::vector<SValue> out_elts;
        if (fn.s == "keys" && call.args.empty()) {
          for (const auto& k : self.fields) out_elts.push_back(SValue::string(k));
          return SValue::tuple(out_elts);
        }
        if (fn.s == "values" && call.args.empty()) return SValue::tuple(self.elts);
        if (fn.s == "items" && call.args.empty()) {
          for (size_t i = 0; i < self.elts.size(); ++i)
            out_elts.push_back(SValue::tuple({SValue::string(self.fields[i]), self.elts[i]}));
          return SValue::tuple(out_elts);
        }
        if (fn.s == "get" && (call.args.size() == 1 || call.args.size() == 2) && call.args[0].kind == K::String) {
          if (const SValue* v = self.field(call.args[0].s)) return *v;
          return call.args.size() == 2 ? call.args[1] : SValue::none();
        }
      }
      if (!in_device()) return SValue::unknown();
      error(call.span, "method ." + fn.s + "() of " + describe(self) + " is not supported inside tile loops");
    }
    case K::Helper:
      // Helion rejects a kernel called by another kernel, in host code as in device code.
      if (fn.b)
        error(call.span, ErrorKind::NestedKernelCallsNotSupported,
              "Calling a Helion kernel from within another Helion kernel is not supported ('" + fn.s +
                  "' is a kernel)",
              {"call the kernels one after the other from Python, or make '" + fn.s +
               "' a plain function (without @kernel) to inline it"});
      return inline_helper(fn, call);
    case K::Unknown:
      if (!in_device()) return SValue::unknown();
      // A function argument that cannot be inlined says why (callable_argument).
      if (!fn.s.empty()) error(call.span, fn.s);
      error(call.span, "this function is not known to deuteron and cannot be called inside a tile loop",
            {"make it a module-level Python function (deuteron inlines those) or call it on the host"});
    case K::BlockSize:
    case K::Tile:
    default: break;
  }
  if (!in_device()) return SValue::unknown();
  error(call.span, describe(fn) + " is not callable");
}

// ------------------------------------------------------------ helpers

HelperCode Analyzer::helper_code(const SValue& fn, SourceSpan span) const {
  HelperCode code;
  if (fn.lambda) {
    code.name = "<lambda>";
    code.args = &fn.lambda->args;
    code.vararg = &fn.lambda->vararg;
    code.kwarg = &fn.lambda->kwarg;
    code.expr = fn.lambda->body.get();
    return code;
  }
  // A def (the last one: the file is the function's own source), or the one
  // parenthesized lambda of a lambda passed in (runtime/source.py: lambda_source).
  code.module = parse_module(fn.helper_file);
  for (const auto& st : code.module->body) {
    if (auto* f = ast::dyn_cast<ast::FunctionDef>(st.get())) {
      code.name = f->name;
      code.args = &f->args;
      code.vararg = &f->vararg;
      code.kwarg = &f->kwarg;
      code.body = &f->body;
      code.expr = nullptr;
    } else if (auto* e = ast::dyn_cast<ast::ExprStmt>(st.get())) {
      if (auto* l = ast::dyn_cast<ast::Lambda>(e->value.get())) {
        code.name = "<lambda>";
        code.args = &l->args;
        code.vararg = &l->vararg;
        code.kwarg = &l->kwarg;
        code.body = nullptr;
        code.expr = l->body.get();
      }
    }
  }
  if (!code.args) error(span, "could not find the definition of helper '" + fn.s + "'");
  return code;
}

SValue Analyzer::inline_helper(const SValue& fn, const CallArgs& call) {
  if (inline_depth_ > 16) error(call.span, "helper functions are nested too deeply (recursion?)");
  HelperCode code = helper_code(fn, call.span);
  if (!in_device()) {
    // Python runs host code; sema follows a call there only to know what it
    // returns (`out = alloc(x)` then `out[tile] = ...`), for a helper that is one
    // returned expression.  Anything else is a value sema does not model.
    const ast::Body* body = code.body;
    size_t first = body && !body->empty() && ast::isa<ast::ExprStmt>((*body)[0].get()) ? 1 : 0;  // a docstring
    if (body && (body->size() != first + 1 || !ast::isa<ast::Return>((*body)[first].get()))) return SValue::unknown();
    if (body && !ast::cast<ast::Return>((*body)[first].get())->value) return SValue::none();
    if (body) code.expr = ast::cast<ast::Return>((*body)[first].get())->value.get();
  }
  auto own_file = fn.helper_file;
  // Bind parameters.  `*name` takes the positional arguments past the named
  // parameters (a tuple), `**name` the keyword arguments no parameter has (a dict),
  // as Python binds them; the rest bind by name.
  std::vector<std::string> sig;
  bool star = false;
  // Leading parameters a functools.partial or a callable object's self binds
  // take no argument of the call.
  const size_t bound_params = fn.scope ? static_cast<size_t>(fn.bound_params) : 0;
  if (bound_params > code.args->size())
    error(call.span, "the function passed binds " + std::to_string(bound_params) + " parameters but '" + code.name +
                         "' has " + std::to_string(code.args->size()));
  for (size_t i = bound_params; i < code.args->size(); ++i) {
    const ast::Arg& a = (*code.args)[i];
    if (a.keyword_only && !star) sig.push_back("*");
    star = star || a.keyword_only;
    // A default as Python computed it (callable_arg_spec: a function argument's
    // defaults, a functools.partial's keywords) makes a parameter optional too.
    const bool has_default = a.default_value || (fn.scope && fn.scope->count(a.name + "="));
    sig.push_back(a.name + (has_default ? "=" : ""));
  }
  CallArgs named = call;
  named.func_name = code.name;
  SValue extra_args = SValue::tuple({}), extra_kwargs;
  extra_kwargs.kind = K::ConstDict;  // keys and values alternate, in the call's order
  if (*code.vararg) {
    size_t positional = static_cast<size_t>(std::count_if(code.args->begin(), code.args->end(),
                                                          [](const ast::Arg& a) { return !a.keyword_only; })) -
                        bound_params;
    if (named.args.size() > positional) {
      extra_args.elts.assign(named.args.begin() + static_cast<std::ptrdiff_t>(positional), named.args.end());
      named.args.resize(positional);
      named.arg_spans.resize(positional);
    }
  }
  if (*code.kwarg) {
    CallArgs kept = named;
    kept.kwargs.clear();
    kept.kwarg_spans.clear();
    for (size_t i = 0; i < named.kwargs.size(); ++i) {
      const auto& [key, value] = named.kwargs[i];
      if (std::any_of(code.args->begin(), code.args->end(), [&](const ast::Arg& a) { return a.name == key; })) {
        kept.kwargs.push_back(named.kwargs[i]);
        kept.kwarg_spans.push_back(named.kwarg_spans[i]);
      } else {
        extra_kwargs.elts.push_back(SValue::string(key));
        extra_kwargs.elts.push_back(value);
      }
    }
    named = std::move(kept);
  }
  BoundArgs b = bind(named, sig);
  // A helper sees only its parameters and its globals.  A lambda written in the
  // kernel also sees the names around it: those of the place it is called from
  // when that is where it was written (Python reads them when it runs), else
  // those it saw where it was written.
  Env local;
  if (fn.lambda) local = fn.index == inline_depth_ ? env_ : *fn.closure;
  auto saved_file = file_;
  std::map<std::string, GlobalSpec> saved_globals;
  if (fn.scope) {
    // A function argument's code reads its own globals and closure variables.
    saved_globals = std::move(globals_);
    globals_ = *fn.scope;
  }
  file_ = own_file;
  if (in_device()) gen().set_file(own_file);
  for (size_t i = 0; i < code.args->size(); ++i) {
    const ast::Arg& a = (*code.args)[i];
    if (i < bound_params) {
      auto bound = fn.scope->find(a.name + "=");
      if (bound == fn.scope->end()) error(call.span, "no value is bound to the parameter '" + a.name + "'");
      local[a.name] = global_value(bound->second, a.name);
      continue;
    }
    // Defaults are evaluated in the helper's own scope and file.
    if (const SValue* v = b.get(a.name)) {
      local[a.name] = *v;
    } else if (auto d = fn.scope ? fn.scope->find(a.name + "=") : std::map<std::string, GlobalSpec>::const_iterator();
               fn.scope && d != fn.scope->end()) {
      // A function argument's default as Python computed it (callable_arg_spec).
      local[a.name] = global_value(d->second, a.name);
    } else {
      Env saved = std::exchange(env_, local);
      local[a.name] = eval(*a.default_value);
      env_ = std::move(saved);
    }
  }
  if (*code.vararg) local[(*code.vararg)->name] = extra_args;
  if (*code.kwarg) local[(*code.kwarg)->name] = extra_kwargs;
  Env saved = std::exchange(env_, std::move(local));
  // The names a function argument's code reads are not the generated module's globals.
  size_t used_globals = program_->used_globals.size();
  ++inline_depth_;
  SValue result = SValue::none();
  if (code.expr) {
    result = eval(*code.expr);
  } else {
    for (size_t i = 0; i < code.body->size(); ++i) {
      const ast::Stmt& st = *(*code.body)[i];
      if (auto* r = ast::dyn_cast<ast::Return>(&st)) {
        if (i + 1 != code.body->size()) error(st.span, "code after return in a helper function is unreachable");
        if (r->value) result = eval(*r->value);
        break;
      }
      if (ast::isa<ast::FunctionDef>(&st)) error(st.span, ErrorKind::StatementNotSupported, "nested functions are not supported");
      device_stmt(st);
    }
  }
  --inline_depth_;
  env_ = std::move(saved);
  if (fn.scope) globals_ = std::move(saved_globals);
  if (fn.scope && !fn.lambda) program_->used_globals.resize(used_globals);
  file_ = saved_file;
  if (in_device()) gen().set_file(saved_file);
  if (code.module) {
    program_->helper_modules.push_back(std::move(code.module));
    program_->helper_files.push_back(fn.helper_file);
  }
  return result;
}

// --------------------------------------------------------------- tunables

SValue Analyzer::make_fragment(const std::string& kind, const CallArgs& call) {
  auto spec = std::make_shared<TunableSpec>();
  auto int_arg = [&](const BoundArgs& b, const char* n) { return expect_const_int(*b.get(n), b.span_of(n), n); };
  auto has = [](const BoundArgs& b, const char* n) { return b.has(n) && b.get(n)->kind != SValue::Kind::None; };
  if (kind == "PowerOfTwoFragment" || kind == "IntegerFragment") {
    BoundArgs b = bind(call, {"low", "high", "default_val="});
    spec->kind = kind == "PowerOfTwoFragment" ? TunableSpec::Kind::PowerOfTwo : TunableSpec::Kind::Integer;
    spec->low = int_arg(b, "low");
    spec->high = int_arg(b, "high");
    if (spec->low > spec->high) error(call.span, kind + ": low is larger than high");
    if (spec->kind == TunableSpec::Kind::PowerOfTwo &&
        ((spec->low & (spec->low - 1)) || (spec->high & (spec->high - 1)) || spec->low <= 0))
      error(call.span, "PowerOfTwoFragment bounds must be positive powers of two");
    int64_t d = has(b, "default_val") ? int_arg(b, "default_val") : spec->low;
    spec->default_repr = std::to_string(d);
  } else if (kind == "BooleanFragment") {
    BoundArgs b = bind(call, {"default_val="});
    spec->kind = TunableSpec::Kind::Boolean;
    bool d = has(b, "default_val") && expect_const_bool(*b.get("default_val"), b.span_of("default_val"), "default_val");
    spec->default_repr = d ? "true" : "false";
  } else if (kind == "EnumFragment") {
    BoundArgs b = bind(call, {"choices", "default_val="});
    spec->kind = TunableSpec::Kind::Enum;
    for (const auto& c : expect_sequence(*b.get("choices"), b.span_of("choices"), "choices"))
      spec->choices.push_back(std::to_string(expect_const_int(c, b.span_of("choices"), "an enum choice (ints only)")));
    if (spec->choices.empty()) error(call.span, "EnumFragment needs at least one choice");
    spec->default_repr = has(b, "default_val") ? std::to_string(int_arg(b, "default_val")) : spec->choices[0];
  } else {
    error(call.span, "unknown tunable fragment '" + kind + "'",
          {"use PowerOfTwoFragment, IntegerFragment, EnumFragment or BooleanFragment"});
  }
  SValue v;
  v.kind = SValue::Kind::Fragment;
  v.fragment = spec;
  return v;
}

// --------------------------------------------------------------- builtins

bool Analyzer::call_builtin(const std::string& name, const CallArgs& call, SValue& out) {
  auto arg = [&](size_t i) -> const SValue& {
    if (i >= call.args.size()) error(call.span, name + "() needs " + std::to_string(i + 1) + " argument(s)");
    return call.args[i];
  };
  if (call_sequence_builtin(name, call, out)) return true;
  if (name == "slice") {
    // slice(stop) / slice(start, stop[, step]): what `a:b:c` is in an index,
    // the only way to write `:` in an index list (hl.atomic_add(out, [tile, slice(None)], v)).
    if (call.args.empty() || call.args.size() > 3 || !call.kwargs.empty())
      error(call.span, "slice() takes 1 to 3 positional arguments (stop, or start, stop[, step])");
    out = SValue();
    out.kind = K::Slice;
    out.elts = call.args.size() == 1 ? std::vector<SValue>{SValue::none(), call.args[0], SValue::none()}
                                     : std::vector<SValue>{call.args[0], call.args[1],
                                                           call.args.size() == 3 ? call.args[2] : SValue::none()};
    out.span = call.span;
    return true;
  }
  if (name == "float") {
    if (call.args.empty()) { out = SValue::floating(0.0); return true; }
    const SValue& v = arg(0);
    if (v.kind == K::String) {
      std::string s = v.s;
      std::transform(s.begin(), s.end(), s.begin(), ::tolower);
      if (s == "inf" || s == "+inf" || s == "infinity") { out = SValue::floating(INFINITY); return true; }
      if (s == "-inf" || s == "-infinity") { out = SValue::floating(-INFINITY); return true; }
      if (s == "nan") { out = SValue::floating(NAN); return true; }
      try {
        size_t used = 0;
        double d = std::stod(s, &used);
        if (used == s.size()) { out = SValue::floating(d); return true; }
      } catch (...) {
      }
      error(call.arg_spans[0], "could not convert string to float: '" + v.s + "'");
    }
    if (v.kind == K::Int && v.i.is_constant()) { out = SValue::floating(double(v.i.constant())); return true; }
    if (v.kind == K::Float) { out = v; return true; }
    if (v.kind == K::Bool && v.runtime_expr.empty()) { out = SValue::floating(v.b ? 1 : 0); return true; }
    if (in_device() && (v.kind == K::IR || v.kind == K::Int)) {
      SValue d = expect_device(v, call.span, "float()");
      out = SValue::ir(gen().cast(d.value, DType::Float32, call.span), PromotionClass::Scalar);
      return true;
    }
    // float() of a symbolic int (a size under dynamic shapes) or a runtime bool.
    out = !in_device() && (v.kind == K::Int || v.kind == K::Bool) ? host_computed_float() : SValue::unknown();
    return true;
  }
  if (name == "int") {
    const SValue& v = arg(0);
    if (v.kind == K::Int) { out = v; return true; }
    if (v.kind == K::Float && v.runtime_expr.empty()) {
      bool nan = false;
      pyint::IntResult r = pyint::float_to_int(v.f, &nan);
      if (nan) error(call.span, "int(): cannot convert float NaN to integer");
      if (!r.ok()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", v.f);
        int_error(call.span, r.status, std::string("int(") + buf + ")");
      }
      out = SValue::integer(r.value);
      return true;
    }
    if (v.kind == K::Bool && v.runtime_expr.empty()) { out = SValue::integer(v.b ? 1 : 0); return true; }
    if (in_device() && v.kind == K::IR) {
      out = SValue::ir(gen().cast(v.value, DType::Int64, call.span), PromotionClass::Scalar);
      return true;
    }
    out = SValue::unknown();
    return true;
  }
  if (name == "bool") {
    const SValue& v = arg(0);
    bool t;
    if (v.kind == K::Int && v.i.is_constant()) { out = SValue::boolean(v.i.constant() != 0); return true; }
    if (v.kind == K::Bool) { out = v; return true; }
    (void)t;
    out = SValue::unknown();
    return true;
  }
  if (name == "min" || name == "max") {
    std::vector<SValue> items = call.args;
    if (items.size() == 1 && items[0].is_sequence()) items = items[0].elts;
    if (items.empty()) error(call.span, name + "() needs at least one argument");
    SValue acc = items[0];
    for (size_t i = 1; i < items.size(); ++i) {
      const SValue& b = items[i];
      auto known = [](const SValue& v) {
        return (v.kind == K::Int && v.i.is_constant()) ||
               ((v.kind == K::Float || v.kind == K::Bool) && v.runtime_expr.empty());
      };
      if (known(acc) && known(b)) {
        // Python's comparison (exact between ints and floats; the first of equals wins).
        SValue less = eval_compare(name == "min" ? ast::CmpOpKind::Lt : ast::CmpOpKind::Gt, b, acc, call.span);
        if (less.kind == K::Bool && less.b) acc = b;
      } else if (acc.kind == K::Int && b.kind == K::Int) {
        acc = SValue::integer(name == "min" ? sym_min(acc.i, b.i) : sym_max(acc.i, b.i));
      } else if (in_device()) {
        acc = gen().binary(name == "min" ? ir::BinaryFn::Minimum : ir::BinaryFn::Maximum,
                           expect_device(acc, call.span, name + "()"), expect_device(b, call.span, name + "()"),
                           call.span);
      } else {
        out = SValue::unknown();
        return true;
      }
    }
    out = acc;
    return true;
  }
  if (name == "abs") {
    const SValue& v = arg(0);
    if (v.kind == K::Int && v.i.is_constant()) {
      pyint::IntResult r = pyint::abs(v.i.constant());
      if (!r.ok()) int_error(call.span, r.status, "abs(" + v.i.str() + ")");
      out = SValue::integer(r.value);
      return true;
    }
    if (v.kind == K::Bool && v.runtime_expr.empty()) { out = SValue::integer(v.b ? 1 : 0); return true; }
    if (v.kind == K::Float && v.runtime_expr.empty()) { out = SValue::floating(std::fabs(v.f)); return true; }
    if (in_device()) { out = gen().unary(ir::UnaryFn::Abs, expect_device(v, call.span, "abs()"), call.span); return true; }
    out = SValue::unknown();
    return true;
  }
  if (name == "len") {
    const SValue& v = arg(0);
    if (v.is_sequence() || v.kind == K::Dict) { out = SValue::integer(static_cast<int64_t>(v.elts.size())); return true; }
    if (v.kind == K::ConstDict) { out = SValue::integer(static_cast<int64_t>(v.elts.size() / 2)); return true; }
    if (v.kind == K::Tensor && !v.tensor->sizes.empty()) { out = SValue::integer(v.tensor->sizes[0]); return true; }
    if (v.kind == K::String) {
      // A string is known when compiling (string arguments specialize the kernel);
      // Python counts code points, and the text is UTF-8: count the lead bytes.
      int64_t n = 0;
      for (unsigned char c : v.s) n += (c & 0xC0) != 0x80;
      out = SValue::integer(n);
      return true;
    }
    if (in_device()) error(call.span, "len() needs a tuple, list, string or host tensor, got " + describe(v));
    out = SValue::unknown();
    return true;
  }
  if (name == "tuple" || name == "list") {
    if (call.args.empty()) { out = name == "tuple" ? SValue::tuple({}) : SValue::list({}); return true; }
    const SValue& v = arg(0);
    if (v.is_sequence()) { out = name == "tuple" ? SValue::tuple(v.elts) : SValue::list(v.elts); return true; }
    if (v.kind == K::ConstDict) {  // a dict's keys
      std::vector<SValue> keys;
      for (size_t i = 0; i < v.elts.size(); i += 2) keys.push_back(v.elts[i]);
      out = name == "tuple" ? SValue::tuple(keys) : SValue::list(keys);
      return true;
    }
    out = SValue::unknown();
    return true;
  }
  if (name == "getattr") {
    // getattr(obj, "name"[, default]) with a name known when compiling is obj.name
    // (getattr(torch, factory_name) in a helper); the default where obj has no such attribute.
    if (call.args.size() < 2 || call.args.size() > 3 || !call.kwargs.empty())
      error(call.span, "getattr() takes 2 or 3 positional arguments: getattr(object, name[, default])");
    const SValue& name_v = arg(1);
    if (name_v.kind != K::String) {
      if (!in_device()) { out = SValue::unknown(); return true; }
      error(call.arg_spans[1], "getattr() needs an attribute name known when compiling (a string), got " +
                                   describe(name_v));
    }
    if (call.args.size() == 2) {
      out = eval_attribute(arg(0), name_v.s, call.span);
      return true;
    }
    try {
      out = eval_attribute(arg(0), name_v.s, call.span);
    } catch (const CompileError&) {
      out = arg(2);  // no such attribute
    }
    return true;
  }
  if (name == "range") {
    if (in_device()) error(call.span, "range() can only be used as the iterator of a for loop inside kernels");
    out = SValue::unknown();
    return true;
  }
  if (name == "print") {
    out = in_device() ? device_print(call, "print()") : SValue::none();
    return true;
  }
  if (name == "breakpoint" && in_device()) {
    out = device_breakpoint(call, "breakpoint()");
    return true;
  }
  if (in_device()) error(call.span, "the builtin " + name + "() is not supported inside tile loops");
  out = SValue::unknown();
  return true;
}

}  // namespace deuteron::sema
