// A kernel file as deuteronc sees it: top-level functions found by their
// lines, the kernel among them, imports as globals, other functions as
// helpers, and the --args checked against the kernel's parameters.
#include <algorithm>
#include <cctype>
#include <sstream>

#include "deuteron/cli.h"
#include "deuteron/parser.h"

namespace deuteron::cli {

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  std::string ln;
  while (std::getline(ss, ln)) lines.push_back(ln);
  return lines;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// A line that continues what the line before it started: indented, a comment,
// blank, or closing a bracket at column 0 (a multi-line signature).
bool continues(const std::string& ln) {
  return ln.empty() || ln[0] == ' ' || ln[0] == '\t' || ln[0] == '#' || ln[0] == ')' || ln[0] == ']' ||
         ln[0] == '}' || ln[0] == '\r';
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// `a.b.c` of a decorator or a loop's iterator call, with its first name
// resolved through the file's imports ("hl.tile" -> "deuteron.language.tile").
std::string resolved_name(const ast::Expr& e, const std::vector<GlobalSpec>& imports) {
  const ast::Expr* x = &e;
  if (auto* c = ast::dyn_cast<ast::Call>(x)) x = c->func.get();
  std::string tail;
  while (auto* a = ast::dyn_cast<ast::Attribute>(x)) {
    tail = "." + a->attr + tail;
    x = a->value.get();
  }
  auto* n = ast::dyn_cast<ast::Name>(x);
  if (!n) return "";
  // The last import of a name wins, as in Python.
  for (auto it = imports.rbegin(); it != imports.rend(); ++it)
    if (it->name == n->id) return it->qualname + tail;
  return n->id + tail;
}

bool is_kernel_decorator(const std::string& q) {
  return q == "deuteron.kernel" || q == "deuteron.jit" || q == "helion.kernel" || q == "helion.jit";
}

bool is_device_loop_call(const std::string& q) {
  return q == "deuteron.language.tile" || q == "deuteron.language.grid" || q == "helion.language.tile" ||
         q == "helion.language.grid";
}

// Whether a top-level def is a kernel.  A def deuteron cannot parse counts
// when it is decorated (the error then comes from compiling it).
bool is_kernel(const TopLevelDef& d, const std::string& path, const std::vector<GlobalSpec>& imports) {
  auto file = std::make_shared<SourceFile>();
  file->filename = path;
  file->text = d.text;
  file->first_line = d.first_line;
  std::unique_ptr<ast::Module> m;
  try {
    m = parse_module(file);
  } catch (const CompileError&) {
    return d.decorated;
  }
  for (const auto& st : m->body) {
    auto* f = ast::dyn_cast<ast::FunctionDef>(st.get());
    if (!f) continue;
    for (const auto& dec : f->decorators)
      if (is_kernel_decorator(resolved_name(*dec, imports))) return true;
    for (const auto& s : f->body) {
      auto* loop = ast::dyn_cast<ast::For>(s.get());
      if (loop && ast::isa<ast::Call>(loop->iter.get()) && is_device_loop_call(resolved_name(*loop->iter, imports)))
        return true;
    }
  }
  return false;
}

std::string names_of(const std::vector<const TopLevelDef*>& defs) {
  std::string out;
  for (const auto* d : defs) out += (out.empty() ? "" : ", ") + d->name + " (line " + std::to_string(d->def_line) + ")";
  return out;
}

}  // namespace

std::vector<TopLevelDef> top_level_defs(const std::string& file_text) {
  std::vector<std::string> lines = split_lines(file_text);
  std::vector<TopLevelDef> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!starts_with(lines[i], "def ")) continue;
    size_t paren = lines[i].find('(');
    if (paren == std::string::npos) continue;  // not a def deuteron could compile
    TopLevelDef d;
    d.name = lines[i].substr(4, paren - 4);
    d.name.erase(std::remove_if(d.name.begin(), d.name.end(), ::isspace), d.name.end());
    if (d.name.empty()) continue;
    // Decorators above, including the continuation lines of a multi-line
    // decorator call; lines that lead to no `@` belong to something else.
    size_t start = i;
    for (size_t j = i; j-- > 0;) {
      if (starts_with(lines[j], "@")) {
        start = j;
        continue;
      }
      if (lines[j].empty() || !continues(lines[j])) break;
    }
    size_t end = i + 1;
    while (end < lines.size() && continues(lines[end])) ++end;
    for (size_t k = start; k < end; ++k) d.text += lines[k] + "\n";
    d.first_line = static_cast<int>(start) + 1;
    d.def_line = static_cast<int>(i) + 1;
    d.decorated = start < i;
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<GlobalSpec> scan_imports(const std::string& file_text) {
  std::vector<GlobalSpec> g;
  auto add = [&](GlobalSpec::Kind kind, const std::string& name, const std::string& qual) {
    GlobalSpec s;
    s.name = name;
    s.kind = kind;
    s.qualname = qual;
    g.push_back(s);
  };
  for (const std::string& ln : split_lines(file_text)) {
    std::istringstream ls(ln);
    std::string w0;
    ls >> w0;
    if (w0 == "import") {
      std::string rest;
      std::getline(ls, rest);
      for (const auto& part : split_commas(rest)) {
        std::istringstream ps(part);
        std::string mod, as, alias;
        ps >> mod >> as >> alias;
        if (mod.empty()) continue;
        if (as == "as" && !alias.empty()) add(GlobalSpec::Kind::Module, alias, mod);
        else add(GlobalSpec::Kind::Module, mod.substr(0, mod.find('.')), mod.substr(0, mod.find('.')));
      }
    } else if (w0 == "from") {
      std::string mod, imp;
      ls >> mod >> imp;
      if (mod.empty() || imp != "import") continue;
      std::string rest;
      std::getline(ls, rest);
      for (const auto& part : split_commas(rest)) {
        std::istringstream ps(part);
        std::string name, as, alias;
        ps >> name >> as >> alias;
        if (name.empty() || name == "(" || name == ")") continue;
        std::string local = as == "as" && !alias.empty() ? alias : name;
        std::string qual = mod + "." + name;
        // `from deuteron import language as hl`, `from torch.nn import functional as F`
        bool is_module = qual == "deuteron.language" || qual == "helion.language" || qual == "torch.nn.functional" ||
                         qual == "triton.language";
        add(is_module ? GlobalSpec::Kind::Module : GlobalSpec::Kind::Function, local, qual);
      }
    }
  }
  return g;
}

TopLevelDef select_function(const std::string& file_text, const std::string& path, const std::string& function) {
  std::vector<TopLevelDef> defs = top_level_defs(file_text);
  std::vector<const TopLevelDef*> all;
  for (const auto& d : defs) all.push_back(&d);
  if (!function.empty()) {
    // A later def of the same name replaces the earlier one, as in Python.
    for (auto it = defs.rbegin(); it != defs.rend(); ++it)
      if (it->name == function) return *it;
    throw UsageError("no function named '" + function + "' in " + path +
                     (all.empty() ? std::string(" (it has no top-level functions)")
                                  : "; its functions are: " + names_of(all)));
  }
  std::vector<GlobalSpec> imports = scan_imports(file_text);
  std::vector<const TopLevelDef*> kernels;
  for (const auto& d : defs)
    if (is_kernel(d, path, imports)) kernels.push_back(&d);
  if (kernels.size() == 1) return *kernels[0];
  if (kernels.empty())
    throw UsageError("no kernel in " + path +
                     ": no function is decorated with @deuteron.kernel/@deuteron.jit or has a top-level "
                     "hl.tile/hl.grid loop" +
                     (all.empty() ? std::string() : "; name one with --function (functions: " + names_of(all) + ")"));
  throw UsageError(path + " has several kernels: " + names_of(kernels) + "; pick one with --function");
}

BindRequest make_bind_request(const std::string& path, const std::string& file_text, const std::string& function,
                              const std::vector<ArgSpec>& args, bool static_shapes) {
  TopLevelDef def = select_function(file_text, path, function);
  BindRequest req;
  auto file = std::make_shared<SourceFile>();
  file->filename = path;
  file->text = def.text;
  file->first_line = def.first_line;
  req.file = file;
  req.function_name = def.name;
  req.static_shapes = static_shapes;
  req.args = args;
  req.globals = scan_imports(file_text);
  // Module-level functions other than the kernel become helpers (inlined
  // into device code); decorated ones are other kernels.
  for (const auto& d : top_level_defs(file_text)) {
    if (d.name == def.name || d.decorated) continue;
    GlobalSpec g;
    g.name = d.name;
    g.kind = GlobalSpec::Kind::Helper;
    auto hf = std::make_shared<SourceFile>();
    hf->filename = path;
    hf->text = d.text;
    hf->first_line = d.first_line;
    g.helper_source = hf;
    req.globals.push_back(g);
  }
  // Every parameter needs a type and every type a parameter.  When the
  // function does not parse, compiling it reports why.
  std::unique_ptr<ast::Module> m;
  try {
    m = parse_module(file);
  } catch (const CompileError&) {
    return req;
  }
  const ast::FunctionDef* fn = nullptr;
  for (const auto& st : m->body)
    if (auto* f = ast::dyn_cast<ast::FunctionDef>(st.get())) fn = f;
  if (!fn) return req;
  std::string params;
  for (const auto& p : fn->args) params += (params.empty() ? "" : ", ") + p.name;
  for (const auto& p : fn->args) {
    bool given = std::any_of(args.begin(), args.end(), [&](const ArgSpec& a) { return a.name == p.name; });
    if (!given && !p.default_value)
      throw UsageError("--args has no type for argument '" + p.name + "' of " + fn->name + " (parameters: " + params +
                       "); give it as " + p.name + ":float32[1024], " + p.name + ":int, " + p.name +
                       ":constexpr=4, ...");
  }
  for (const auto& a : args) {
    bool known = std::any_of(fn->args.begin(), fn->args.end(), [&](const ast::Arg& p) { return p.name == a.name; });
    if (!known)
      throw UsageError("--args gives '" + a.name + "', which is not a parameter of " + fn->name +
                       " (parameters: " + (params.empty() ? "none" : params) + ")");
  }
  return req;
}

}  // namespace deuteron::cli
