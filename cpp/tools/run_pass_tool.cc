// deuteronc --run-pass: reads IR text (a file, or - for stdin), runs one pass
// or analysis on it and prints the result, like triton-opt.
//
//   deuteronc --run-pass=reduction_rolling --reduction-loops=16 softmax.ir
//   deuteronc --run-pass=reduction_rolling,dead_code_elimination --reduction-loops=16 softmax.ir
//   deuteronc --run-pass=grid_subtiling --subtiles=2 --block-sizes=128,64,32 matmul.ir
//   deuteronc --dump=ir-after=sema ... | deuteronc --run-pass=heavy_first -
#include "run_pass_tool.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "deuteron/pass_runner.h"

using namespace deuteron;

namespace {

[[noreturn]] void usage(const std::string& msg) {
  if (!msg.empty()) std::cerr << "deuteronc: " << msg << "\n";
  std::cerr << "usage: deuteronc --run-pass=NAME[,NAME..] [--block-sizes=B,..] [--reduction-loops=R|none,..] "
               "[--subtiles=N] [--persistent-only]\n"
               "       [--indexing=MODE] [--flatten] [--pid-type=T] [--l2-grouping=G] [--num-warps=W] [--num-stages=S]\n"
               "       [--warp-specialize=true|false] [--static-ranges] [--nest-orders=dN:P.P..,..] FILE.ir|-\n"
               "  passes run in order (an analysis only last); NAME is one of:\n";
  for (const auto& p : known_passes()) std::cerr << "    " << p.name << ": " << p.help << "\n";
  std::exit(2);
}

int64_t to_int(const std::string& flag, const std::string& s) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size()) usage(flag + ": '" + s + "' is not an integer");
  return v;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) out.push_back(part);
  return out;
}

}  // namespace

bool wants_run_pass(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]).rfind("--run-pass", 0) == 0) return true;
  return false;
}

int run_pass_main(int argc, char** argv) {
  std::string pass, path;
  PassOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const std::string& flag) -> std::string {
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      if (a != flag) usage("unknown option " + a);
      if (i + 1 >= argc) usage(flag + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") usage("");
    else if (a.rfind("--run-pass", 0) == 0) pass = value("--run-pass");
    else if (a.rfind("--block-sizes", 0) == 0) {
      std::vector<int64_t> v;
      for (const auto& p : split(value("--block-sizes"))) v.push_back(to_int("--block-sizes", p));
      options.block_sizes = v;
    } else if (a.rfind("--reduction-loops", 0) == 0) {
      std::vector<std::optional<int64_t>> v;
      for (const auto& p : split(value("--reduction-loops")))
        v.push_back(p == "none" || p == "None" || p == "null" ? std::nullopt
                                                              : std::optional<int64_t>(to_int("--reduction-loops", p)));
      options.reduction_loops = v;
    } else if (a.rfind("--subtiles", 0) == 0) {
      options.subtiles = static_cast<int>(to_int("--subtiles", value("--subtiles")));
    } else if (a.rfind("--indexing", 0) == 0) {
      options.indexing = value("--indexing");
    } else if (a == "--persistent-only") {
      options.persistent_only = true;
    } else if (a == "--flatten") {
      options.flatten = true;
    } else if (a == "--static-ranges") {
      options.static_ranges = true;
    } else if (a.rfind("--pid-type", 0) == 0) {
      options.pid_type = value("--pid-type");
    } else if (a.rfind("--l2-grouping", 0) == 0) {
      options.l2_grouping = static_cast<int>(to_int("--l2-grouping", value("--l2-grouping")));
    } else if (a.rfind("--num-warps", 0) == 0) {
      options.num_warps = static_cast<int>(to_int("--num-warps", value("--num-warps")));
    } else if (a.rfind("--num-stages", 0) == 0) {
      options.num_stages = static_cast<int>(to_int("--num-stages", value("--num-stages")));
    } else if (a.rfind("--nest-orders", 0) == 0) {
      // d1:2.0.1,d5:1.0 -- the nest whose first dim is d1 nests its dims in
      // the order 2, 0, 1 (outermost first).
      for (const auto& item : split(value("--nest-orders"))) {
        const size_t colon = item.find(':');
        if (item.empty() || item[0] != 'd' || colon == std::string::npos)
          usage("--nest-orders: '" + item + "' is not dN:P.P..");
        std::vector<int> perm;
        std::stringstream ps(item.substr(colon + 1));
        for (std::string x; std::getline(ps, x, '.');) perm.push_back(static_cast<int>(to_int("--nest-orders", x)));
        options.nest_orders[static_cast<int>(to_int("--nest-orders", item.substr(1, colon - 1)))] = perm;
      }
    } else if (a.rfind("--warp-specialize", 0) == 0) {
      std::string v = value("--warp-specialize");
      if (v != "true" && v != "false") usage("--warp-specialize: give true or false");
      options.warp_specialize = v == "true";
    } else if (a != "-" && !a.empty() && a[0] == '-') {
      usage("unknown option " + a);
    } else {
      if (!path.empty()) usage("more than one input file");
      path = a;
    }
  }
  if (pass.empty()) usage("--run-pass needs a pass name");
  if (path.empty()) usage("no input file (give FILE.ir, or - for stdin)");

  auto file = std::make_shared<SourceFile>();
  file->filename = path == "-" ? "<stdin>" : path;
  std::stringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) usage("cannot read " + path);
    ss << in.rdbuf();
  }
  file->text = ss.str();

  try {
    std::cout << run_pass(pass, options, file);
    return 0;
  } catch (const CompileError& e) {
    std::cerr << e.formatted() << "\n";
    return 1;
  } catch (const PassUsageError& e) {
    usage(e.what());
  } catch (const std::exception& e) {
    // A pass broke an invariant: a bug in deuteron, not in the text.
    std::cerr << "deuteronc: internal error in " << pass << ": " << e.what() << "\n";
    return 3;
  }
}
