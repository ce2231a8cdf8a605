// deuteronc: the command-line compiler.  Compiles one kernel of a Python file
// without Python: every stage's output can be dumped, which is what the
// golden tests compare.
//
//   deuteronc kernels.py --function add --args 'x:float32[1024],y:float32[1024]'
//             [--config '{"block_sizes": [256]}' | --config @cfg.json]
//             [--dump=ast|ir|ir-after=<stage>|backward|config-spec|default-config|config|triton|reference]
//             [--dynamic] [--precision=fast|strict] [--interpret] [--time N]
//   deuteronc --run-pass=NAME [pass options] FILE.ir   (see run_pass_tool.cc)
//   deuteronc --dump=config-keys      (the config key table as JSON)
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "deuteron/autodiff.h"
#include "deuteron/cli.h"
#include "deuteron/compiler.h"
#include "run_pass_tool.h"

using namespace deuteron;

namespace {

[[noreturn]] void usage(const std::string& msg) {
  if (!msg.empty()) std::cerr << "deuteronc: " << msg << "\n";
  std::cerr << "usage: deuteronc FILE.py [--function NAME] [--args SPEC] [--config JSON|@FILE]\n"
               "                 [--dump=ast|ir|ir-after=STAGE|backward|config-spec|default-config|config|triton|reference]\n"
               "                 [--dynamic] [--precision=fast|strict] [--interpret] [--time N]\n"
               "       deuteronc --dump=config-keys\n"
               "  SPEC: comma-separated NAME:TYPE, one per parameter without a default, where TYPE is\n"
               "        a dtype with sizes (float32[1024,512]), optionally strides in braces\n"
               "        (float32[4,8]{1,4}), or int, float, bool, None, or constexpr=VALUE\n"
               "  --interpret: compile for an interpret mode (DEUTERON_INTERPRET / TRITON_INTERPRET),\n"
               "        which breakpoint() in a tile loop needs.\n"
               "  Without --function, the file's one kernel is compiled (decorated with\n"
               "  @deuteron.kernel/@deuteron.jit, or holding an hl.tile/hl.grid loop).\n";
  std::exit(2);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) usage("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (wants_run_pass(argc, argv)) return run_pass_main(argc, argv);
  std::string path, function, args_spec, config_text = "{}", dump = "triton";
  bool dynamic = false, interpret = false;
  Precision precision = Precision::Fast;
  int repeat = 0;
  std::set<std::string> given;  // options seen: each may be given once
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    // `--flag VALUE` or `--flag=VALUE`, for exactly this flag.
    auto is = [&](const std::string& flag) { return a == flag || a.rfind(flag + "=", 0) == 0; };
    auto value = [&](const std::string& flag) -> std::string {
      if (!given.insert(flag).second) usage(flag + " is given twice");
      if (a.size() > flag.size()) return a.substr(flag.size() + 1);
      if (i + 1 >= argc) usage(flag + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") usage("");
    else if (is("--function")) function = value("--function");
    else if (is("--args")) args_spec = value("--args");
    else if (is("--config")) config_text = value("--config");
    else if (is("--dump")) dump = value("--dump");
    else if (is("--time")) {
      std::string v = value("--time");
      if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos)
        usage("--time needs a count of repetitions, got '" + v + "'");
      repeat = std::stoi(v);
    } else if (is("--precision")) {
      std::string v = value("--precision");
      auto p = precision_from_name(v);
      if (!p) usage("--precision is fast or strict, got '" + v + "'");
      precision = *p;
    } else if (a == "--dynamic") dynamic = true;
    else if (a == "--interpret") interpret = true;
    else if (!a.empty() && a[0] == '-') usage("unknown option " + a);
    else if (!path.empty()) usage("more than one input file: " + path + " and " + a);
    else path = a;
  }
  if (dump == "config-keys") {  // the config key table (config_keys.h); needs no kernel
    std::cout << json::dump(config_keys_json(), 2) << "\n";
    return 0;
  }
  if (path.empty()) usage("no input file");
  if (!config_text.empty() && config_text[0] == '@') config_text = read_file(config_text.substr(1));

  std::string text = read_file(path);
  BindRequest req;
  try {
    req = cli::make_bind_request(path, text, function, cli::parse_arg_specs(args_spec), !dynamic);
    req.precision = precision;
    req.interpret = interpret;
  } catch (const cli::UsageError& e) {
    usage(e.what());
  }

  try {
    auto bound = BoundKernel::bind(req);
    json::Value config = json::parse(config_text);
    if (dump == "ast") { std::cout << bound->dump_ast(); return 0; }
    if (dump == "ir") { std::cout << bound->dump_ir(); return 0; }
    if (dump == "backward") { std::cout << autodiff::backward_source(bound->program()); return 0; }
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
  } catch (const std::exception& e) {
    // A bug in deuteron, not in the kernel: say so rather than abort.
    std::cerr << "deuteronc: internal error: " << e.what() << "\n";
    return 3;
  }
}
