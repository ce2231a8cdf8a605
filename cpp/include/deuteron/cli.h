// What deuteronc needs to compile one kernel of a Python file without
// Python: argument types from --args, the kernel picked from the file, and
// the globals that the file's import lines and module-level helper
// functions provide.  A library (not part of deuteronc.cc) so that unit
// tests and the fuzzers exercise exactly what the command line runs.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "deuteron/sema.h"

namespace deuteron::cli {

// A bad command line (deuteronc prints it and exits with status 2).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --args: comma-separated NAME:TYPE, where TYPE is a dtype with sizes
// (float32[1024,512]), optionally strides in braces (float32[4,8]{1,4}), or
// int, float, bool, None, constexpr=VALUE (an int, a float, True, False,
// None), dtype=DTYPE (a torch.dtype argument), str=TEXT (a string argument,
// without commas or brackets), or a structured argument of
// these: (T, ...) a tuple, [T, ...] a list, {KEY: T, ...} a dict,
// Name(FIELD: T, ...) a NamedTuple, Name{FIELD: T, ...} a dataclass.
// Sizes and strides are non-negative and the tensor's elements must
// be addressable with int64 offsets.  Throws UsageError naming the argument
// and what is wrong.
std::vector<ArgSpec> parse_arg_specs(const std::string& spec);

// A top-level `def` of a file, found by its lines (the file as a whole may
// use Python that deuteron's parser does not accept).
struct TopLevelDef {
  std::string name;
  std::string text;     // decorators through the end of the body
  int first_line = 1;   // of `text` in the file (1-based)
  int def_line = 1;     // of the `def` line
  bool decorated = false;
};
std::vector<TopLevelDef> top_level_defs(const std::string& file_text);

// Globals a kernel file normally has: module imports (and their aliases).
std::vector<GlobalSpec> scan_imports(const std::string& file_text);

// Picks the function to compile: `function` when given; otherwise the one
// kernel in the file (decorated with deuteron.kernel/jit or helion's, or
// holding a top-level hl.tile/hl.grid loop).  Throws UsageError when the
// function does not exist, or when there is no kernel or more than one
// (listing the candidates).
TopLevelDef select_function(const std::string& file_text, const std::string& path, const std::string& function);

// The whole request deuteronc binds: the selected function, its globals
// (imports and the file's other undecorated functions as helpers) and the
// argument specs, which must name every parameter without a default value
// and nothing else (UsageError otherwise).
BindRequest make_bind_request(const std::string& path, const std::string& file_text, const std::string& function,
                              const std::vector<ArgSpec>& args, bool static_shapes);

}  // namespace deuteron::cli
