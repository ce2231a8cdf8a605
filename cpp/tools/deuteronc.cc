// deuteronc: the command-line compiler.  Compiles one kernel of a Python file
// without Python: every stage's output can be dumped, which is what the
// golden tests compare.
//
//   deuteronc kernels.py --function add --args 'x:float32[1024],y:float32[1024]'
//             [--config '{"block_sizes": [256]}' | --config @cfg.json]
//             [--dump=ast|ir|ir-after=<stage>|config-spec|default-config|config|triton|reference]
//             [--dynamic] [--time N]
//   deuteronc --run-pass=NAME [pass options] FILE.ir   (see run_pass_tool.cc)
//   deuteronc --dump=config-keys      (the config key table as JSON)
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "deuteron/compiler.h"
#include "run_pass_tool.h"

using namespace deuteron;

namespace {

[[noreturn]] void usage(const std::string& msg) {
  if (!msg.empty()) std::cerr << "deuteronc: " << msg << "\n";
  std::cerr << "usage: deuteronc FILE.py [--function NAME] [--args SPEC] [--config JSON|@FILE]\n"
               "                 [--dump=ast|ir|ir-after=STAGE|config-spec|default-config|config|triton|reference]\n"
               "                 [--dynamic] [--time N]\n"
               "       deuteronc --dump=config-keys\n"
               "  SPEC: comma-separated NAME:TYPE, where TYPE is a dtype with sizes (float32[1024,512]),\n"
               "        optionally strides in braces (float32[4,8]{1,4}), or int, float, bool,\n"
               "        or constexpr=VALUE\n";
  std::exit(2);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) usage("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_top(const std::string& s, char sep) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '[' || c == '{' || c == '(') ++depth;
    if (c == ']' || c == '}' || c == ')') --depth;
    if (c == sep && depth == 0) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::vector<int64_t> int_list(const std::string& s) {
  std::vector<int64_t> v;
  for (const auto& p : split_top(s, ',')) v.push_back(std::stoll(p));
  return v;
}

ArgSpec parse_arg(const std::string& text) {
  ArgSpec a;
  auto colon = text.find(':');
  if (colon == std::string::npos) usage("argument '" + text + "' needs NAME:TYPE");
  a.name = text.substr(0, colon);
  std::string type = text.substr(colon + 1);
  if (type == "int") { a.kind = ArgSpec::Kind::Int; return a; }
  if (type == "float") { a.kind = ArgSpec::Kind::Float; return a; }
  if (type == "bool") { a.kind = ArgSpec::Kind::Bool; return a; }
  if (type == "None") { a.kind = ArgSpec::Kind::None; return a; }
  if (type.rfind("constexpr=", 0) == 0) {
    a.kind = ArgSpec::Kind::Constexpr;
    std::string v = type.substr(10);
    if (v == "True" || v == "False") {
      a.const_kind = ArgSpec::ConstKind::Bool;
      a.const_bool = v == "True";
    } else if (v.find_first_of(".eE") != std::string::npos) {
      a.const_kind = ArgSpec::ConstKind::Float;
      a.const_float = std::stod(v);
    } else {
      a.const_kind = ArgSpec::ConstKind::Int;
      a.const_int = std::stoll(v);
    }
    return a;
  }
  auto lb = type.find('[');
  auto rb = type.find(']');
  if (lb == std::string::npos || rb == std::string::npos) usage("bad type '" + type + "' for argument " + a.name);
  auto dt = dtype_from_name(type.substr(0, lb));
  if (!dt) usage("unknown dtype '" + type.substr(0, lb) + "'");
  a.kind = ArgSpec::Kind::Tensor;
  a.dtype = *dt;
  a.sizes = rb > lb + 1 ? int_list(type.substr(lb + 1, rb - lb - 1)) : std::vector<int64_t>{};
  auto lc = type.find('{', rb);
  if (lc != std::string::npos) {
    auto rc = type.find('}', lc);
    a.strides = int_list(type.substr(lc + 1, rc - lc - 1));
    if (a.strides.size() != a.sizes.size()) usage("argument " + a.name + ": strides and sizes differ in length");
  } else {
    a.strides.assign(a.sizes.size(), 1);
    for (size_t i = a.sizes.size(); i-- > 1;) a.strides[i - 1] = a.strides[i] * a.sizes[i];
  }
  return a;
}

// The function's text (decorators through the end of its body) and its first line.
std::pair<std::string, int> extract_function(const std::string& text, const std::string& name, std::string& found) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  std::string ln;
  while (std::getline(ss, ln)) lines.push_back(ln);
  int def_line = -1;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("def ", 0) == 0) {
      std::string n = lines[i].substr(4, lines[i].find('(') - 4);
      if (name.empty() || n == name) {
        def_line = static_cast<int>(i);
        found = n;
        if (!name.empty()) break;
        break;
      }
    }
  }
  if (def_line < 0) usage(name.empty() ? "no top-level function in file" : "no function named '" + name + "'");
  int start = def_line;
  while (start > 0 && lines[start - 1].rfind("@", 0) == 0) --start;
  size_t end = def_line + 1;
  while (end < lines.size() && (lines[end].empty() || lines[end][0] == ' ' || lines[end][0] == '\t' ||
                                lines[end][0] == '#' || lines[end][0] == ')'))
    ++end;
  std::string out;
  for (size_t i = start; i < end; ++i) out += lines[i] + "\n";
  return {out, start + 1};
}

// Module-level functions other than the kernel become helpers (inlined into device code).
std::vector<GlobalSpec> scan_helpers(const std::string& text, const std::string& path, const std::string& kernel) {
  std::vector<GlobalSpec> out;
  std::stringstream ss(text);
  std::string ln;
  while (std::getline(ss, ln)) {
    if (ln.rfind("def ", 0) != 0) continue;
    std::string name = ln.substr(4, ln.find('(') - 4);
    if (name == kernel) continue;
    std::string found;
    auto [fn_text, first] = extract_function(text, name, found);
    // Decorated functions are other kernels, not helpers.
    if (fn_text.rfind("@", 0) == 0) continue;
    GlobalSpec g;
    g.name = name;
    g.kind = GlobalSpec::Kind::Helper;
    auto file = std::make_shared<SourceFile>();
    file->filename = path;
    file->text = fn_text;
    file->first_line = first;
    g.helper_source = file;
    out.push_back(g);
  }
  return out;
}

// Globals a kernel file normally has: module imports (and their aliases).
std::vector<GlobalSpec> scan_imports(const std::string& text) {
  std::vector<GlobalSpec> g;
  auto module = [&](const std::string& name, const std::string& qual) {
    GlobalSpec s;
    s.name = name;
    s.kind = GlobalSpec::Kind::Module;
    s.qualname = qual;
    g.push_back(s);
  };
  auto function = [&](const std::string& name, const std::string& qual) {
    GlobalSpec s;
    s.name = name;
    s.kind = GlobalSpec::Kind::Function;
    s.qualname = qual;
    g.push_back(s);
  };
  std::stringstream ss(text);
  std::string ln;
  while (std::getline(ss, ln)) {
    std::istringstream ls(ln);
    std::string w0;
    ls >> w0;
    if (w0 == "import") {
      std::string rest;
      std::getline(ls, rest);
      for (auto part : split_top(rest, ',')) {
        std::istringstream ps(part);
        std::string mod, as, alias;
        ps >> mod >> as >> alias;
        if (as == "as") module(alias, mod);
        else module(mod.substr(0, mod.find('.')), mod.substr(0, mod.find('.')));
      }
    } else if (w0 == "from") {
      std::string mod, imp;
      ls >> mod >> imp;
      std::string rest;
      std::getline(ls, rest);
      for (auto part : split_top(rest, ',')) {
        std::istringstream ps(part);
        std::string name, as, alias;
        ps >> name >> as >> alias;
        if (name.empty() || name == "(" || name == ")") continue;
        std::string local = as == "as" ? alias : name;
        std::string qual = mod + "." + name;
        // `from deuteron import language as hl`, `from torch.nn import functional as F`
        if (qual == "deuteron.language" || qual == "helion.language" || qual == "torch.nn.functional" ||
            qual == "triton.language")
          module(local, qual);
        else
          function(local, qual);
      }
    }
  }
  return g;
}

}  // namespace

int main(int argc, char** argv) {
  if (wants_run_pass(argc, argv)) return run_pass_main(argc, argv);
  std::string path, function, args_spec, config_text = "{}", dump = "triton";
  bool dynamic = false;
  int repeat = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const std::string& flag) -> std::string {
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      if (i + 1 >= argc) usage(flag + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") usage("");
    else if (a.rfind("--function", 0) == 0) function = value("--function");
    else if (a.rfind("--args", 0) == 0) args_spec = value("--args");
    else if (a.rfind("--config", 0) == 0) config_text = value("--config");
    else if (a.rfind("--dump", 0) == 0) dump = value("--dump");
    else if (a.rfind("--time", 0) == 0) repeat = std::stoi(value("--time"));
    else if (a == "--dynamic") dynamic = true;
    else if (!a.empty() && a[0] == '-') usage("unknown option " + a);
    else path = a;
  }
  if (dump == "config-keys") {  // the config key table (config_keys.h); needs no kernel
    std::cout << json::dump(config_keys_json(), 2) << "\n";
    return 0;
  }
  if (path.empty()) usage("no input file");
  if (!config_text.empty() && config_text[0] == '@') config_text = read_file(config_text.substr(1));

  std::string text = read_file(path);
  std::string found;
  auto [fn_text, first_line] = extract_function(text, function, found);
  BindRequest req;
  auto file = std::make_shared<SourceFile>();
  file->filename = path;
  file->text = fn_text;
  file->first_line = first_line;
  req.file = file;
  req.function_name = found;
  req.static_shapes = !dynamic;
  req.globals = scan_imports(text);
  for (auto& h : scan_helpers(text, path, found)) req.globals.push_back(h);
  for (const auto& a : split_top(args_spec, ',')) req.args.push_back(parse_arg(a));

  try {
    auto bound = BoundKernel::bind(req);
    json::Value config = json::parse(config_text);
    if (dump == "ast") { std::cout << bound->dump_ast(); return 0; }
    if (dump == "ir") { std::cout << bound->dump_ir(); return 0; }
    if (dump == "config-spec") { std::cout << json::dump(bound->spec().to_json(), 2) << "\n"; return 0; }
    if (dump == "default-config") { std::cout << json::dump(bound->default_config(), 2) << "\n"; return 0; }
    json::Value normalized = bound->normalize(config.size() ? config : bound->default_config());
    if (dump == "config") { std::cout << json::dump(normalized, 2) << "\n"; return 0; }
    if (dump.rfind("ir-after=", 0) == 0) {
      std::string stage = dump.substr(9);
      LoweringLog log;
      log.enabled = true;
      bound->lower(normalized, &log);
      for (const auto& [name, ir_text] : log.stages)
        if (name == stage) { std::cout << ir_text; return 0; }
      std::string names;
      for (const auto& [name, ir_text] : log.stages) names += " " + name;
      usage("unknown stage '" + stage + "'; stages are:" + names);
    }
    if (dump == "triton" || dump == "reference") {
      std::string code = dump == "triton" ? bound->triton_code(normalized) : bound->reference_code(normalized);
      if (repeat > 0) {
        // Time code generation for one config (bind excluded).
        auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < repeat; ++r) code = bound->triton_code(normalized);
        auto t1 = std::chrono::steady_clock::now();
        double ms = std::chrono::duration<double, std::milli>(t1 - t0).count() / repeat;
        std::fprintf(stderr, "codegen per config: %.3f ms (mean of %d)\n", ms, repeat);
      }
      std::cout << code;
      return 0;
    }
    usage("unknown --dump value '" + dump + "'");
  } catch (const CompileError& e) {
    std::cerr << e.formatted() << "\n";
    return 1;
  } catch (const ConfigError& e) {
    std::cerr << "deuteronc: " << e.what() << "\n";
    return 1;
  } catch (const json::ParseError& e) {
    std::cerr << "deuteronc: bad --config JSON: " << e.what() << "\n";
    return 2;
  }
}
