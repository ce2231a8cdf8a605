// Entry point of sema; host statements, arguments and globals.
#include "analyzer.h"
#include "index_width.h"

#include <algorithm>
#include <cctype>

#include "deuteron/parser.h"

namespace deuteron::sema {

std::string describe(const SValue& v) {
  switch (v.kind) {
    case SValue::Kind::Unknown: return "a value computed by host code";
    case SValue::Kind::Poison: return "an unusable name";
    case SValue::Kind::None: return "None";
    case SValue::Kind::Bool: return "a bool";
    case SValue::Kind::Int: return v.i.is_constant() ? "the int " + v.i.str() : "the int " + v.i.str();
    case SValue::Kind::Float: return "a float";
    case SValue::Kind::String: return "a string";
    case SValue::Kind::Ellipsis: return "...";
    case SValue::Kind::DType: return std::string("the dtype torch.") + torch_name(v.dtype);
    case SValue::Kind::Device: return "a device";
    case SValue::Kind::Tensor: return "the host tensor '" + v.tensor->expr + "'";
    case SValue::Kind::Tile: return "a tile";
    case SValue::Kind::IR:
      return v.value->type.is_scalar() ? std::string("a device scalar of type ") + torch_name(v.value->type.dtype)
                                       : std::string("a device tensor of type ") + torch_name(v.value->type.dtype);
    case SValue::Kind::Tuple: return v.fields.empty() ? "a tuple" : "the NamedTuple " + v.s;
    case SValue::Kind::List: return "a list";
    case SValue::Kind::Slice: return "a slice";
    case SValue::Kind::Module: return "the module " + v.s;
    case SValue::Kind::Function: return "the function " + v.s;
    case SValue::Kind::Method: return "the method ." + v.s;
    case SValue::Kind::Helper:
      // A lambda written in the kernel has no FunctionDef.
      return v.helper ? "the helper function " + v.helper->name : std::string("a lambda");
    case SValue::Kind::BlockSize: return "a registered block size";
    case SValue::Kind::DimSize: return "the size of a tile";
    case SValue::Kind::Fragment: return "a tunable fragment";
    case SValue::Kind::Record: return "the dataclass " + v.s;
    case SValue::Kind::Dict: return "a dict";
    case SValue::Kind::ConstDict: return "a dict";
    case SValue::Kind::Stack: return "a StackTensor of '" + v.tensor->expr + "'";
  }
  return "a value";
}

namespace {

void collect_assigned(const ast::Expr& target, std::set<std::string>& out) {
  if (auto* n = ast::dyn_cast<ast::Name>(&target)) {
    out.insert(n->id);
  } else if (auto* t = ast::dyn_cast<ast::Tuple>(&target)) {
    for (const auto& e : t->elts) collect_assigned(*e, out);
  } else if (auto* l = ast::dyn_cast<ast::List>(&target)) {
    for (const auto& e : l->elts) collect_assigned(*e, out);
  } else if (auto* s = ast::dyn_cast<ast::Starred>(&target)) {
    collect_assigned(*s->value, out);
  }
}

void collect_assigned_body(const ast::Body& body, std::set<std::string>& out) {
  for (const auto& st : body) {
    switch (st->kind) {
      case ast::StmtKind::Assign:
        for (const auto& t : ast::cast<ast::Assign>(st.get())->targets) collect_assigned(*t, out);
        break;
      case ast::StmtKind::AugAssign: collect_assigned(*ast::cast<ast::AugAssign>(st.get())->target, out); break;
      case ast::StmtKind::AnnAssign: {
        auto* a = ast::cast<ast::AnnAssign>(st.get());
        if (a->value) collect_assigned(*a->target, out);
        break;
      }
      case ast::StmtKind::For: {
        auto* f = ast::cast<ast::For>(st.get());
        collect_assigned(*f->target, out);
        collect_assigned_body(f->body, out);
        break;
      }
      case ast::StmtKind::While: collect_assigned_body(ast::cast<ast::While>(st.get())->body, out); break;
      case ast::StmtKind::If: {
        auto* i = ast::cast<ast::If>(st.get());
        collect_assigned_body(i->body, out);
        collect_assigned_body(i->orelse, out);
        break;
      }
      default: break;
    }
  }
}

// Module names as the language knows them.
std::string normalize_qualname(std::string q) {
  static const std::pair<const char*, const char*> kPrefixes[] = {
      {"deuteron.language", "hl"}, {"helion.language", "hl"}, {"triton.language", "tl"},
      {"deuteron.autotuner", "autotuner"}, {"helion.autotuner", "autotuner"},
      {"torch.nn.functional", "F"}, {"torch._C._nn", "F"}, {"torch._C._VariableFunctions", "torch"},
      {"torch.functional", "torch"}, {"torch._refs", "torch"},
  };
  for (const auto& [from, to] : kPrefixes) {
    std::string f = from;
    if (q == f) return to;
    if (q.rfind(f + ".", 0) == 0) return std::string(to) + q.substr(f.size());
  }
  return q;
}

const char* const kBuiltins[] = {"float", "int", "bool", "min", "max", "abs", "len", "range",
                                 "print", "isinstance", "tuple", "list", "sum", "round", "divmod",
                                 "zip", "enumerate", "dict", "getattr", "breakpoint", "slice"};

}  // namespace

std::set<std::string> assigned_names(const ast::Body& body) {
  std::set<std::string> out;
  collect_assigned_body(body, out);
  return out;
}

Analyzer::Analyzer(const BindRequest& request, std::unique_ptr<ast::Module> module)
    : request_(request), file_(request.file) {
  program_ = std::make_unique<Program>();
  program_->file = file_;
  program_->module = std::move(module);
  program_->args = request.args;
  program_->static_shapes = request.static_shapes;
  program_->dot_precision = request.dot_precision;
  program_->precision = request.precision;
}

void Analyzer::error(SourceSpan span, std::string msg, std::vector<std::string> notes) const {
  raise_error(file_, span, std::move(msg), std::move(notes));
}

void Analyzer::error(SourceSpan span, ErrorKind kind, std::string msg, std::vector<std::string> notes) const {
  raise_error(file_, span, kind, std::move(msg), std::move(notes));
}

std::unique_ptr<Program> Analyzer::run() {
  // Find the function to compile.
  for (const auto& st : program_->module->body)
    if (auto* f = ast::dyn_cast<ast::FunctionDef>(st.get()))
      if (request_.function_name.empty() || f->name == request_.function_name) program_->fn = f;
  if (!program_->fn)
    error({}, "no function named '" + request_.function_name + "' in " + file_->filename);
  const ast::FunctionDef& fn = *program_->fn;

  // Index dtype: int32 unless requested; analyze() redoes the analysis with
  // int64 when a tensor the device loops touch needs it (index_width.cc).
  program_->index_dtype = request_.index_dtype.value_or(DType::Int32);

  bind_globals();
  bind_arguments();
  for (const auto& st : fn.body) host_stmt(*st);
  check_loop_phases();
  finish_random_seeds();
  program_->read_and_written_args = read_and_written_arguments(fn);
  if (program_->kernels.empty())
    error(fn.name_span, ErrorKind::NoDeviceLoopsInKernel, "kernel '" + fn.name + "' has no device loop",
          {"a kernel needs at least one top-level `for tile in hl.tile(...)` (or hl.grid) loop; its body runs on the GPU"});
  return std::move(program_);
}

// --------------------------------------------------------------- bindings

namespace {

void add_global(std::map<std::string, GlobalSpec>& scope, const GlobalSpec& g) {
  // A helper's globals come after the kernel's; the same module under the same
  // name keeps the missing names both listed.
  std::map<std::string, std::string> missing;
  auto old = scope.find(g.name);
  if (old != scope.end() && old->second.kind == GlobalSpec::Kind::Module) missing = old->second.missing_attrs;
  scope[g.name] = g;
  if (g.kind == GlobalSpec::Kind::Module) scope[g.name].missing_attrs.insert(missing.begin(), missing.end());
}

}  // namespace

void Analyzer::bind_globals() {
  for (const auto& g : request_.globals) add_global(globals_, g);
}

SValue Analyzer::callable_argument(const ArgSpec& a) {
  if (!a.callable_error.empty()) {
    // Host code may still call it (Python runs that); device code may not.
    SValue v = SValue::unknown();
    v.s = "the function passed as the argument '" + a.name + "' cannot be inlined: " + a.callable_error;
    return v;
  }
  // Its code reads its own globals and closure variables, never the kernel's.
  auto scope = std::make_shared<std::map<std::string, GlobalSpec>>();
  for (size_t i = 1; i < a.callable.size(); ++i) add_global(*scope, a.callable[i]);
  SValue v = global_value(a.callable.at(0), a.name);
  v.scope = scope;
  v.bound_params = a.callable_bound;
  return v;
}

void Analyzer::bind_arguments() {
  const ast::FunctionDef& fn = *program_->fn;
  // Helpers and lambdas the kernel calls may take them (inline_helper binds them); a
  // kernel's parameters are its launch's arguments, one each.
  if (fn.vararg) error(fn.vararg->span, "*args parameters of a kernel are not supported", {"declare each parameter explicitly"});
  if (fn.kwarg)
    error(fn.kwarg->span, "**kwargs parameters of a kernel are not supported", {"declare each keyword parameter explicitly"});
  // Map argument names to specs (Python passes one spec per declared parameter).
  std::map<std::string, const ArgSpec*> specs;
  for (const auto& a : request_.args) specs[a.name] = &a;
  for (size_t i = 0; i < fn.args.size(); ++i) {
    const ast::Arg& arg = fn.args[i];
    auto it = specs.find(arg.name);
    if (it == specs.end()) {
      env_[arg.name] = SValue::unknown();
      continue;
    }
    const ArgSpec& a = *it->second;
    SValue v;
    switch (a.kind) {
      case ArgSpec::Kind::Tensor: v = tensor_arg(a, arg.name, static_cast<int>(i), static_cast<int>(i)); break;
      case ArgSpec::Kind::Int:
        v = SValue::integer(SymInt::symbol(arg.name));
        program_->symbols.push_back({arg.name, arg.name, true});
        if (a.has_int_value) int_arg_values_[arg.name] = a.int_value;
        break;
      case ArgSpec::Kind::Float:
        v = SValue::floating(0.0);
        v.runtime_expr = arg.name;
        break;
      case ArgSpec::Kind::Bool:
        v = SValue::boolean(false);
        v.runtime_expr = arg.name;
        break;
      case ArgSpec::Kind::None: v = SValue::none(); break;
      case ArgSpec::Kind::Constexpr:
        switch (a.const_kind) {
          case ArgSpec::ConstKind::Int: v = SValue::integer(a.const_int); break;
          case ArgSpec::ConstKind::Float: v = SValue::floating(a.const_float); break;
          case ArgSpec::ConstKind::Bool: v = SValue::boolean(a.const_bool); break;
          case ArgSpec::ConstKind::None: v = SValue::none(); break;
        }
        break;
      case ArgSpec::Kind::Callable: v = callable_argument(a); break;
      case ArgSpec::Kind::Other: v = SValue::unknown(); break;
      // A dtype argument is a compile-time constant (the key holds its value).
      case ArgSpec::Kind::DType: v = SValue::dtype_value(a.dtype); break;
      case ArgSpec::Kind::String: v = SValue::string(a.string_value); break;  // keyed by value too
      case ArgSpec::Kind::Tuple:
      case ArgSpec::Kind::List:
      case ArgSpec::Kind::NamedTuple:
      case ArgSpec::Kind::Dataclass:
      case ArgSpec::Kind::Dict: v = structured_arg(a, arg.name, static_cast<int>(i)); break;
    }
    v.span = arg.span;
    env_[arg.name] = v;
  }
}

SValue Analyzer::lookup(const std::string& name, SourceSpan span) {
  auto it = env_.find(name);
  if (it != env_.end()) {
    if (it->second.kind == SValue::Kind::Poison) error(span, it->second.error_kind, it->second.s);
    return it->second;
  }
  auto g = globals_.find(name);
  if (g != globals_.end()) {
    const GlobalSpec& spec = g->second;
    if (std::find(program_->used_globals.begin(), program_->used_globals.end(), name) ==
        program_->used_globals.end())
      program_->used_globals.push_back(name);
    return global_value(spec, name);
  }
  for (const char* b : kBuiltins)
    if (name == b) return SValue::function(std::string("builtins.") + b);
  if (in_device())
    error(span, "name '" + name + "' is not defined",
          {"kernels can use their arguments, local variables, and module-level constants, dtypes, modules and "
           "functions"});
  return SValue::unknown();
}

SValue Analyzer::global_value(const GlobalSpec& spec, const std::string& name) const {
  switch (spec.kind) {
    case GlobalSpec::Kind::Module: return SValue::module(normalize_qualname(spec.qualname));
    case GlobalSpec::Kind::Function: return SValue::function(normalize_qualname(spec.qualname));
    // Called only through hl.triton_kernel (escape_hatches.cc), which finds the spec by this name.
    case GlobalSpec::Kind::TritonJit: return SValue::function("triton_jit." + name);
    case GlobalSpec::Kind::Int: return SValue::integer(spec.int_value);
    case GlobalSpec::Kind::Float: return SValue::floating(spec.float_value);
    case GlobalSpec::Kind::Bool: return SValue::boolean(spec.bool_value);
    case GlobalSpec::Kind::String: return SValue::string(spec.string_value);
    case GlobalSpec::Kind::None: return SValue::none();
    case GlobalSpec::Kind::DType: return SValue::dtype_value(spec.dtype);
    case GlobalSpec::Kind::Helper: {
      SValue v;
      v.kind = SValue::Kind::Helper;
      v.helper_file = spec.helper_source;
      // Helpers are parsed lazily by calls.cc (they carry their own file).
      v.s = name;
      v.b = spec.helper_is_kernel;
      return v;
    }
    case GlobalSpec::Kind::Tensor: {
      // Its sizes and strides are constants: the specialization key holds them.
      auto t = std::make_shared<HostTensor>();
      t->expr = name;
      if (spec.host_expr != name) t->host_expr = spec.host_expr;
      t->dtype = spec.dtype;
      t->device = spec.device;
      for (int64_t sz : spec.sizes) t->sizes.push_back(sz);
      for (int64_t st : spec.strides) t->strides.push_back(st);
      SValue v;
      v.kind = SValue::Kind::Tensor;
      v.tensor = t;
      return v;
    }
    case GlobalSpec::Kind::Object: {
      // Read like a dataclass: `self.bias`, `self.fn(...)`.
      SValue v;
      v.kind = SValue::Kind::Record;
      v.s = spec.qualname;
      for (const GlobalSpec& a : spec.attributes) {
        v.fields.push_back(a.name);
        v.elts.push_back(global_value(a, a.name));
      }
      return v;
    }
    case GlobalSpec::Kind::Opaque: return SValue::unknown();
  }
  return SValue::unknown();
}

void Analyzer::check_module_attr(const std::string& module, const std::string& attr, SourceSpan span) const {
  for (const auto& [name, g] : globals_) {
    if (g.kind != GlobalSpec::Kind::Module || normalize_qualname(g.qualname) != module) continue;
    auto it = g.missing_attrs.find(attr);
    if (it == g.missing_attrs.end()) continue;
    std::vector<std::string> notes;
    if (!it->second.empty()) notes.push_back("did you mean '" + name + "." + it->second + "'?");
    error(span, "no such function: '" + name + "." + attr + "' (module '" + g.qualname + "' has no attribute '" +
                    attr + "')",
          notes);
  }
}

// ----------------------------------------------------------- host statements

bool Analyzer::is_device_loop(const ast::For& f) const {
  std::string qual = loop_function(f);
  return qual == "hl.tile" || qual == "hl.grid";
}

std::string Analyzer::loop_function(const ast::For& f) const {
  auto* call = ast::dyn_cast<ast::Call>(f.iter.get());
  if (!call) return "";
  return callee_qualname(*call->func);
}

std::string Analyzer::callee_qualname(const ast::Expr& func) const {
  // Resolve `hl.tile` / `deuteron.language.tile` / a directly imported `tile`.
  std::string qual;
  if (auto* attr = ast::dyn_cast<ast::Attribute>(&func)) {
    auto* base = ast::dyn_cast<ast::Name>(attr->value.get());
    if (!base) return "";
    auto g = globals_.find(base->id);
    if (g == globals_.end() || g->second.kind != GlobalSpec::Kind::Module) return "";
    qual = normalize_qualname(g->second.qualname) + "." + attr->attr;
  } else if (auto* n = ast::dyn_cast<ast::Name>(&func)) {
    auto g = globals_.find(n->id);
    if (g == globals_.end() || g->second.kind != GlobalSpec::Kind::Function) return "";
    qual = normalize_qualname(g->second.qualname);
  }
  return qual;
}

void Analyzer::check_no_device_loops(const ast::Stmt& s, const char* where) {
  std::function<void(const ast::Body&)> scan = [&](const ast::Body& body) {
    for (const auto& st : body) {
      if (auto* f = ast::dyn_cast<ast::For>(st.get())) {
        if (is_device_loop(*f))
          error(f->header_span, ErrorKind::NestedGridLoop, std::string("tile loops must be at the top level of the kernel, not inside ") + where,
                {"move the hl.tile/hl.grid loop out of the host " + std::string(where) +
                 "; conditions on sizes can go inside the loop"});
        scan(f->body);
      } else if (auto* w = ast::dyn_cast<ast::While>(st.get())) {
        scan(w->body);
      } else if (auto* i = ast::dyn_cast<ast::If>(st.get())) {
        scan(i->body);
        scan(i->orelse);
      }
    }
  };
  if (auto* f = ast::dyn_cast<ast::For>(&s)) scan(f->body);
  if (auto* w = ast::dyn_cast<ast::While>(&s)) scan(w->body);
  if (auto* i = ast::dyn_cast<ast::If>(&s)) {
    scan(i->body);
    scan(i->orelse);
  }
}

void Analyzer::mark_unknown_assigned(const ast::Stmt& s) {
  ast::Body one;
  // assigned_names works on bodies; wrap the statement's own bodies.
  std::set<std::string> names;
  if (auto* f = ast::dyn_cast<ast::For>(&s)) {
    collect_assigned(*f->target, names);
    collect_assigned_body(f->body, names);
  } else if (auto* w = ast::dyn_cast<ast::While>(&s)) {
    collect_assigned_body(w->body, names);
  } else if (auto* i = ast::dyn_cast<ast::If>(&s)) {
    collect_assigned_body(i->body, names);
    collect_assigned_body(i->orelse, names);
  }
  for (const auto& n : names) env_[n] = SValue::unknown();
}

void Analyzer::host_assign(const ast::Expr& target, const SValue& value, SourceSpan span) {
  if (auto* n = ast::dyn_cast<ast::Name>(&target)) {
    // A tensor (also one inside a tuple) is now reachable in host code under this name.
    SValue v = named_host_value(value, n->id);
    v.span = target.span;
    if (v.kind == SValue::Kind::Unknown) {
      // Python's value under this name, right after this statement: where an
      // int is needed it is read then (host_numbers.cc, runtime_int).
      v.runtime_expr = n->id;
      v.index = static_cast<int>(program_->host.size());
    }
    env_[n->id] = v;
    return;
  }
  const ast::Expr* seq_target = nullptr;
  const std::vector<ast::ExprPtr>* elts = nullptr;
  if (auto* t = ast::dyn_cast<ast::Tuple>(&target)) {
    seq_target = t;
    elts = &t->elts;
  } else if (auto* l = ast::dyn_cast<ast::List>(&target)) {
    seq_target = l;
    elts = &l->elts;
  }
  if (seq_target) {
    bool has_star = false;
    for (const auto& e : *elts) has_star |= ast::isa<ast::Starred>(e.get());
    if (value.is_sequence() && !has_star) {
      if (value.elts.size() != elts->size())
        error(span, "cannot unpack " + std::to_string(value.elts.size()) + " values into " +
                        std::to_string(elts->size()) + " names");
      for (size_t i = 0; i < elts->size(); ++i) host_assign(*(*elts)[i], value.elts[i], span);
      return;
    }
    std::set<std::string> names;
    collect_assigned(target, names);
    for (const auto& n : names) env_[n] = SValue::unknown();
    return;
  }
  // Subscript / attribute targets mutate host objects: a list, dict or
  // dataclass changed in place no longer holds what sema knows of it.
  const ast::Expr* base = nullptr;
  if (auto* sub = ast::dyn_cast<ast::Subscript>(&target)) base = sub->value.get();
  if (auto* at = ast::dyn_cast<ast::Attribute>(&target)) base = at->value.get();
  if (auto* n = base ? ast::dyn_cast<ast::Name>(base) : nullptr) {
    auto it = env_.find(n->id);
    if (it != env_.end() && (it->second.kind == SValue::Kind::List || it->second.kind == SValue::Kind::Dict ||
                             it->second.kind == SValue::Kind::Record))
      it->second = SValue::unknown();
  }
}

void Analyzer::host_stmt(const ast::Stmt& s) try {
  auto* loop = ast::dyn_cast<ast::For>(&s);
  if (loop && loop_function(*loop) == "hl.jagged_tile")
    error(loop->header_span, ErrorKind::InvalidJaggedTileUsage,
          "hl.jagged_tile cannot be the outermost loop of a kernel: its ends come from enclosing tiles",
          {"loop over the rows with hl.tile first: for tile_b in hl.tile(b): ... for tile_k in hl.jagged_tile(lengths[tile_b])"});
  if (loop && is_device_loop(*loop)) {
    device_loop(*loop);
    program_->host.push_back({&s, static_cast<int>(program_->kernels.size() - 1)});
    return;
  }
  check_host_reads(s);
  host_effects(s);
  program_->host.push_back({&s, -1});
} catch (const IntOverflowError& o) {
  overflow_error(s.span, o, "");
}

void Analyzer::host_if(const ast::If& s) {
  // A condition known when compiling (a dtype test, a constant flag or size)
  // runs one branch: sema follows it, so what it binds keeps its value
  // (`if x.dtype == torch.int8: acc_dtype = torch.int32`).  Otherwise every
  // name either branch assigns becomes a value sema does not model.
  SValue c = eval(*s.test);
  std::optional<bool> known;
  switch (c.kind) {
    case SValue::Kind::Bool:
      if (c.runtime_expr.empty()) known = c.b;
      break;
    case SValue::Kind::Int:
      if (c.i.is_constant()) known = c.i.constant() != 0;
      break;
    case SValue::Kind::Float:
      if (c.runtime_expr.empty()) known = c.f != 0.0;
      break;
    case SValue::Kind::None: known = false; break;
    case SValue::Kind::String: known = !c.s.empty(); break;
    case SValue::Kind::DType:
    case SValue::Kind::Module:
    case SValue::Kind::Function: known = true; break;
    case SValue::Kind::Tuple:
    case SValue::Kind::List:
    case SValue::Kind::Dict: known = !c.elts.empty(); break;
    default: break;
  }
  if (!known) {
    std::set<std::string> names;
    collect_assigned_body(s.body, names);
    collect_assigned_body(s.orelse, names);
    if (!merge_host_branches(s, names)) mark_unknown_assigned(s);
    return;
  }
  for (const auto& st : *known ? s.body : s.orelse) host_effects(*st);
}

void Analyzer::host_effects(const ast::Stmt& s) {
  note_host_writes(s);  // before `x += y` rebinds x
  switch (s.kind) {
    case ast::StmtKind::For: {
      check_no_device_loops(s, "for loop");
      mark_unknown_assigned(s);
      break;
    }
    case ast::StmtKind::While:
      check_no_device_loops(s, "while loop");
      mark_unknown_assigned(s);
      break;
    case ast::StmtKind::If: {
      check_no_device_loops(s, "if statement");
      host_if(*ast::cast<ast::If>(&s));
      break;
    }
    case ast::StmtKind::Assign: {
      auto& a = *ast::cast<ast::Assign>(&s);
      SValue v = eval(*a.value);
      for (const auto& t : a.targets) host_assign(*t, v, s.span);
      break;
    }
    case ast::StmtKind::AnnAssign: {
      auto& a = *ast::cast<ast::AnnAssign>(&s);
      if (a.value) host_assign(*a.target, eval(*a.value), s.span);
      break;
    }
    case ast::StmtKind::AugAssign: {
      auto& a = *ast::cast<ast::AugAssign>(&s);
      if (auto* n = ast::dyn_cast<ast::Name>(a.target.get())) {
        SValue cur = lookup(n->id, n->span);
        SValue rhs = eval(*a.value);
        // `x += y` on a tensor updates it in place (the same memory, maybe an
        // argument's): not the new tensor `x + y` would be.  Not modeled.
        SValue result = cur.kind == SValue::Kind::Tensor ? SValue::unknown() : eval_binop(a.op, cur, rhs, s.span);
        host_assign(*a.target, result, s.span);
      } else {
        eval(*a.value);
      }
      break;
    }
    case ast::StmtKind::ExprStmt: eval(*ast::cast<ast::ExprStmt>(&s)->value); break;
    case ast::StmtKind::Return: {
      // The schema of the torch.library op needs the result's structure;
      // values sema does not model are tensors in practice (x.view(...), y.sum()).
      auto& r = *ast::cast<ast::Return>(&s);
      SValue v = r.value ? eval(*r.value) : SValue::none();
      auto annotate = [](const SValue& x) -> std::string {
        switch (x.kind) {
          case SValue::Kind::None: return "None";
          case SValue::Kind::Int: return "int";
          case SValue::Kind::Float: return "float";
          case SValue::Kind::Bool: return "bool";
          default: return "torch.Tensor";
        }
      };
      if (v.is_sequence()) {
        std::string t = "tuple[";
        for (size_t i = 0; i < v.elts.size(); ++i) t += (i ? ", " : "") + annotate(v.elts[i]);
        program_->return_annotation = t + "]";
      } else {
        program_->return_annotation = annotate(v);
      }
      break;
    }
    case ast::StmtKind::FunctionDef:
      error(s.span, ErrorKind::StatementNotSupported, "nested function definitions are not supported in kernels",
            {"define helper functions at module level; deuteron inlines them into device code"});
    default: break;
  }
}

// ----------------------------------------------------------- conversions

SymInt Analyzer::expect_int(const SValue& v, SourceSpan span, const std::string& what) const {
  if (v.kind == SValue::Kind::Bool && v.runtime_expr.empty()) return v.b ? 1 : 0;
  if (auto n = host_size(v)) return *n;  // an int, a registered block size, a runtime int
  error(span, what + " must be an int known on the host (a constant, an argument, or a size), got " + describe(v));
}

SymInt Analyzer::specialize_int_args(const SymInt& i) const {
  std::vector<std::string> names = i.symbols();
  if (names.empty()) return i;
  for (const auto& n : names)
    if (!int_arg_values_.count(n)) return i;
  std::optional<int64_t> value = i.evaluate(int_arg_values_);
  if (!value) return i;
  for (const auto& n : names) {
    auto& rec = program_->specialized_args;
    if (std::find(rec.begin(), rec.end(), n) == rec.end()) rec.push_back(n);
  }
  return SymInt(*value);
}

SymInt Analyzer::specialize_arg_sizes(const SymInt& i) const {
  // hl.specialize(x.size(1)) / hl.specialize(x.stride(0)) with dynamic shapes: the
  // size or stride of a tensor argument is recorded in Program::specialized_args as
  // its host expression ("x.size(1)") so that the runtime keys the kernel on its
  // value, as Helion does.  The value itself stays the symbol: the tensor's dims
  // carry that symbol too (x[tile, :] beside hl.zeros([tile, D]) must be one dim),
  // and a constant here would not line up with them.  Sizes and strides of the
  // kernel's tensor parameters and of tensors inside its structured parameters (read
  // at entry: `name.size(d)`, `xs[0].stride(1)`, `p.x.size(0)`), which the runtime
  // keys on by evaluating that expression over the arguments.
  std::vector<std::string> names = i.symbols();
  if (names.empty()) return i;
  std::vector<std::string> exprs;
  for (const auto& n : names) {
    const HostSymbol* hs = nullptr;
    for (const auto& s : program_->symbols)
      if (s.name == n) hs = &s;
    if (!hs || !hs->at_entry) return i;
    const std::string& e = hs->host_expr;
    size_t dot = e.rfind('.');
    if (dot == std::string::npos || dot == 0) return i;
    std::string rest = e.substr(dot);
    if (rest.rfind(".size(", 0) != 0 && rest.rfind(".stride(", 0) != 0) return i;
    exprs.push_back(e);
  }
  auto& rec = program_->specialized_args;
  for (const auto& e : exprs)
    if (std::find(rec.begin(), rec.end(), e) == rec.end()) rec.push_back(e);
  return i;
}

int64_t Analyzer::expect_const_int(const SValue& v, SourceSpan span, const std::string& what) const {
  // An int argument where a compile-time value is needed (block_size=n) is specialized
  // on, as Helion does (it passes such a block size to Triton as a constexpr).
  SymInt i = specialize_int_args(expect_int(v, span, what));
  if (!i.is_constant())
    error(span, what + " must be a compile-time constant, got " + i.str(),
          {"mark the argument `hl.constexpr` or use static shapes so that it is known when compiling"});
  return i.constant();
}

double Analyzer::expect_const_float(const SValue& v, SourceSpan span, const std::string& what) const {
  if (v.kind == SValue::Kind::Float && v.runtime_expr.empty()) return v.f;
  if (v.kind == SValue::Kind::Int && v.i.is_constant()) return static_cast<double>(v.i.constant());
  if (v.kind == SValue::Kind::Bool && v.runtime_expr.empty()) return v.b ? 1.0 : 0.0;
  error(span, what + " must be a constant number, got " + describe(v));
}

ir::Literal Analyzer::fill_literal(const SValue& v, DType dtype, SourceSpan span, const std::string& what) const {
  if (dtype == DType::Bool) return ir::Literal::from_bool(expect_const_float(v, span, what) != 0.0);
  if (is_floating(dtype)) return ir::Literal::from_float(expect_const_float(v, span, what));
  int64_t value;
  if (v.kind == SValue::Kind::Int && v.i.is_constant()) {
    value = v.i.constant();
  } else {
    double d = expect_const_float(v, span, what);
    pyint::IntResult r = pyint::float_to_int(d);
    if (!r.ok())
      error(span, what + " " + std::to_string(d) + " cannot be converted to " + torch_name(dtype) + " without overflow");
    value = r.value;
  }
  int bits = bit_width(dtype);
  if (bits < 64) {
    int64_t lo = is_signed(dtype) ? -(int64_t{1} << (bits - 1)) : 0;
    int64_t hi = is_signed(dtype) ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1;
    if (value < lo || value > hi)
      error(span, what + " " + std::to_string(value) + " cannot be converted to " + torch_name(dtype) +
                      " without overflow (its range is " + std::to_string(lo) + " to " + std::to_string(hi) + ")");
  }
  return ir::Literal::from_int(value);
}

bool Analyzer::expect_const_bool(const SValue& v, SourceSpan span, const std::string& what) const {
  if (v.kind == SValue::Kind::Bool && v.runtime_expr.empty()) return v.b;
  if (v.kind == SValue::Kind::Int && v.i.is_constant()) return v.i.constant() != 0;
  if (v.kind == SValue::Kind::None) return false;
  error(span, what + " must be a constant bool, got " + describe(v));
}

DType Analyzer::expect_dtype(const SValue& v, SourceSpan span, const std::string& what) const {
  if (v.kind == SValue::Kind::DType) return v.dtype;
  error(span, what + " must be a torch dtype (e.g. torch.float32), got " + describe(v));
}

std::vector<SValue> Analyzer::expect_sequence(const SValue& v, SourceSpan span, const std::string& what) const {
  if (v.is_sequence()) return v.elts;
  error(span, what + " must be a list or tuple, got " + describe(v));
}

int Analyzer::normalize_axis(int64_t axis, int rank, SourceSpan span) const {
  // A 0-d value has one nameable dim, 0 or -1 (PyTorch's scalar wrap): reductions
  // over it are the value itself.
  int64_t wrap = std::max(rank, 1);
  int64_t a = axis < 0 ? axis + wrap : axis;
  if (a < 0 || a >= wrap)
    error(span, "dimension " + std::to_string(axis) + " is out of range for a value of rank " + std::to_string(rank),
          {"valid dims are " + std::to_string(-std::max(rank, 1)) + " to " + std::to_string(std::max(rank, 1) - 1)});
  return static_cast<int>(a);
}

SValue Analyzer::tile_length(int dim, SourceSpan span) {
  const ir::Dim& d = kernel_->dim(dim);
  if (d.kind == ir::DimKind::Full) return SValue::integer(d.extent());
  // A tile's valid length: end - begin (shorter than the block at the boundary).
  DType it = program_->index_dtype;
  ir::Attrs a;
  a.dim = dim;
  ir::Value* e = gen().builder().create(ir::OpKind::TileEnd, {}, {ir::Type{it, {}}}, span, a)->result();
  ir::Value* b = gen().builder().create(ir::OpKind::TileBegin, {}, {ir::Type{it, {}}}, span, a)->result();
  return SValue::ir(gen().binary_raw(ir::BinaryFn::Sub, e, b, it, span), PromotionClass::Scalar);
}

SValue Analyzer::expect_device(const SValue& v, SourceSpan span, const std::string& what) {
  if (!in_device()) error(span, what + " can only be used inside a tile loop");
  switch (v.kind) {
    case SValue::Kind::DimSize: return gen().to_device(tile_length(v.dim, span), span);
    case SValue::Kind::IR:
    case SValue::Kind::Int:
    case SValue::Kind::Float:
    case SValue::Kind::Bool: return gen().to_device(v, span);
    case SValue::Kind::Tensor:
      error(span, ErrorKind::HostTensorDirectUsage,
            what + ": the host tensor '" + v.tensor->expr + "' must be indexed to get a tile of it",
            {"write " + v.tensor->expr + "[tile] (or [tile_m, :] etc.) to load the part this program works on"});
    case SValue::Kind::Tile:
      error(span, what + ": a tile object is not a tensor", {"use tile.index for the indices of the tile"});
    case SValue::Kind::Stack:
      error(span, what + ": a StackTensor must be indexed to load its tensors",
            {"write stack[tile] (or stack[i], hl.load(stack, [tile])): the pointers' dims, then the tile's"});
    case SValue::Kind::Unknown:
      // A name bound to such a value where an int is wanted (a bound, an offset):
      // Python's value, checked to be an int at the call (runtime_int).
      if (auto r = runtime_int(v)) return gen().to_device(SValue::integer(*r), span);
      error(span, what + ": this value is computed by host code that deuteron does not model, so it cannot be used "
                         "on the device",
            {"pass it to the kernel as an argument, or compute it from tensor sizes and constants"});
    default: error(span, what + " must be a tensor or a number, got " + describe(v));
  }
}

ir::Value* Analyzer::expect_tensor_value(const SValue& v, SourceSpan span, const std::string& what) {
  return expect_device(v, span, what).value;
}

}  // namespace deuteron::sema

namespace deuteron {

std::unique_ptr<Program> analyze(const BindRequest& request, std::unique_ptr<ast::Module> module) {
  auto program = sema::Analyzer(request, std::move(module)).run();
  if (request.index_dtype) return program;
  // Which tensors the device loops touch (and their sizes) is only known
  // after the analysis, and the index dtype is part of the IR it builds: a
  // kernel that needs int64 is analyzed again.
  sema::IndexWidth width = sema::decide_index_width(*program);
  if (width.needs_int64) {
    BindRequest wide = request;
    wide.index_dtype = DType::Int64;
    return sema::Analyzer(wide, parse_module(request.file)).run();
  }
  program->index_guards = std::move(width.guards);
  return program;
}

FoldedValue fold_host_expression(const std::string& text) {
  auto file = std::make_shared<SourceFile>();
  file->filename = "<expression>";
  file->text = text + "\n";
  auto module = parse_module(file);
  const ast::ExprStmt* stmt = module->body.size() == 1 ? ast::dyn_cast<ast::ExprStmt>(module->body[0].get()) : nullptr;
  if (!stmt) raise_error(file, {}, "expected one expression");
  const ast::Expr& expr = *stmt->value;
  BindRequest request;
  request.file = file;
  for (const char* m : {"math", "triton"}) {
    GlobalSpec g;
    g.name = g.qualname = m;
    g.kind = GlobalSpec::Kind::Module;
    request.globals.push_back(g);
  }
  sema::Analyzer analyzer(request, std::move(module));
  sema::SValue v = analyzer.eval_standalone(expr);
  FoldedValue out;
  using K = sema::SValue::Kind;
  if (v.kind == K::Int && v.i.is_constant()) {
    out.kind = FoldedValue::Kind::Int;
    out.i = v.i.constant();
  } else if (v.kind == K::Float && v.runtime_expr.empty()) {
    out.kind = FoldedValue::Kind::Float;
    out.f = v.f;
  } else if (v.kind == K::Bool && v.runtime_expr.empty()) {
    out.kind = FoldedValue::Kind::Bool;
    out.b = v.b;
  } else if (v.kind == K::None) {
    out.kind = FoldedValue::Kind::None;
  }
  return out;
}

}  // namespace deuteron
