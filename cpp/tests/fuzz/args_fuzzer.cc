// libFuzzer entry point for deuteronc's --args parser (see README.md beside
// this file).
//
// Property: any text either parses into argument specs that the compiler
// can rely on (identifiers given once; tensors with as many non-negative
// strides as non-negative sizes, an element count and a last offset that fit
// in int64) or throws a UsageError with a message.  Anything else is a
// finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "deuteron/cli.h"
#include "deuteron/pyint.h"

namespace {

using namespace deuteron;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "args_fuzzer: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void check(const std::vector<ArgSpec>& args, const std::string& text) {
  std::set<std::string> names;
  for (const auto& a : args) {
    if (a.name.empty() || !names.insert(a.name).second) fail("empty or repeated name", text);
    if (a.kind != ArgSpec::Kind::Tensor) continue;
    if (a.sizes.size() != a.strides.size()) fail("sizes and strides differ in length", text);
    int64_t numel = 1, last = 0;
    for (size_t i = 0; i < a.sizes.size(); ++i) {
      if (a.sizes[i] < 0 || a.strides[i] < 0) fail("negative size or stride", text);
      auto n = pyint::mul(numel, a.sizes[i]);
      if (!n.ok()) fail("element count overflows", text);
      numel = n.value;
    }
    for (size_t i = 0; numel > 0 && i < a.sizes.size(); ++i) {
      auto o = pyint::mul(a.sizes[i] - 1, a.strides[i]);
      if (o.ok()) o = pyint::add(last, o.value);
      if (!o.ok()) fail("last offset overflows", text);
      last = o.value;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    check(cli::parse_arg_specs(text), text);
  } catch (const cli::UsageError& e) {
    if (std::string(e.what()).empty()) fail("empty usage error", text);
  } catch (const std::exception& e) {
    fail("unexpected exception", e.what());
  }
  return 0;
}
