// Functions passed as kernel arguments (ArgSpec::Kind::Callable) and tensors
// that are no argument (GlobalSpec::Kind::Tensor): what sema makes of the specs
// Python sends (runtime/source.py: callable_arg_spec, describe_global).
#include <gtest/gtest.h>

#include "deuteron/compiler.h"
#include "deuteron/diagnostic.h"
#include "deuteron/json.h"
#include "deuteron/sema.h"

namespace deuteron {
namespace {

std::shared_ptr<SourceFile> source(const std::string& name, const std::string& text, int first_line = 1) {
  auto f = std::make_shared<SourceFile>();
  f->filename = name;
  f->text = text;
  f->first_line = first_line;
  return f;
}

GlobalSpec module(const std::string& name, const std::string& qual) {
  GlobalSpec g;
  g.name = name;
  g.kind = GlobalSpec::Kind::Module;
  g.qualname = qual;
  return g;
}

GlobalSpec tensor(const std::string& name, const std::string& host_expr, int64_t size) {
  GlobalSpec g;
  g.name = name;
  g.kind = GlobalSpec::Kind::Tensor;
  g.sizes = {size};
  g.strides = {1};
  g.host_expr = host_expr;
  return g;
}

ArgSpec vector_arg(const std::string& name, int64_t size) {
  ArgSpec a;
  a.name = name;
  a.kind = ArgSpec::Kind::Tensor;
  a.sizes = {size};
  a.strides = {1};
  return a;
}

// `call`: how the kernel calls fn.
BindRequest apply_request(ArgSpec fn, const std::string& call = "fn(x[tile], tile)") {
  BindRequest req;
  req.file = source("kernels.py",
                    "def apply(x, fn):\n"
                    "    out = torch.empty_like(x)\n"
                    "    for tile in hl.tile(x.size(0)):\n"
                    "        out[tile] = " + call + "\n"
                    "    return out\n");
  req.function_name = "apply";
  req.args = {vector_arg("x", 64), std::move(fn)};
  req.globals = {module("torch", "torch"), module("hl", "deuteron.language")};
  return req;
}

// A lambda passed in, closing over a tensor named like the kernel's argument `x`:
// the closure's tensor is one more parameter of the device loop (named apart),
// passed by the host function through the argument.
TEST(SemaCallables, LambdaClosingOverATensorIsAnImplicitInput) {
  ArgSpec fn;
  fn.name = "fn";
  fn.kind = ArgSpec::Kind::Callable;
  GlobalSpec helper;
  helper.name = "fn";
  helper.kind = GlobalSpec::Kind::Helper;
  // As source.lambda_source writes it: the lambda at its own column, parenthesized.
  helper.helper_source = source("test.py", "(         lambda v, tile: v + x[tile] * 2)\n", 7);
  fn.callable = {helper, tensor("x", "fn.__closure__[0].cell_contents", 64)};
  auto bound = BoundKernel::bind(apply_request(fn));
  std::string code = bound->triton_code(json::parse(R"({"block_sizes":[32]})"));
  EXPECT_NE(code.find("def _apply_kernel(x, x_1, out, _BLOCK_SIZE_0"), std::string::npos) << code;
  EXPECT_NE(code.find("v_1 = tl.load(x_1 + indices_0)"), std::string::npos) << code;
  EXPECT_NE(code.find(", x, fn.__closure__[0].cell_contents, out, 32"), std::string::npos) << code;
  // The closure's names are not the generated module's globals.
  EXPECT_NE(code.find("'globals': ['torch', 'hl']"), std::string::npos) << code;
  EXPECT_NE(code.find("# line 7: (         lambda v, tile: v + x[tile] * 2)"), std::string::npos) << code;
}

// A torch function passed in is the function itself.
TEST(SemaCallables, TorchFunction) {
  ArgSpec fn;
  fn.name = "fn";
  fn.kind = ArgSpec::Kind::Callable;
  GlobalSpec f;
  f.name = "fn";
  f.kind = GlobalSpec::Kind::Function;
  f.qualname = "torch.maximum";
  fn.callable = {f};
  auto bound = BoundKernel::bind(apply_request(fn, "fn(x[tile], x[tile] * 2)"));
  std::string code = bound->triton_code(json::parse(R"({"block_sizes":[32]})"));
  EXPECT_NE(code.find("= tl.maximum(v_0, "), std::string::npos) << code;
}

// One that cannot be inlined is an error where device code calls it, saying why.
TEST(SemaCallables, ErrorNamesTheArgument) {
  ArgSpec fn;
  fn.name = "fn";
  fn.kind = ArgSpec::Kind::Callable;
  fn.callable_error = "a Doubler is not a Python function or lambda";
  try {
    BoundKernel::bind(apply_request(fn));
    ADD_FAILURE() << "bound without an error";
  } catch (const CompileError& e) {
    EXPECT_EQ(e.diagnostic().message,
              "the function passed as the argument 'fn' cannot be inlined: a Doubler is not a Python function or "
              "lambda");
    EXPECT_EQ(e.diagnostic().span.line, 4);
  }
}

}  // namespace
}  // namespace deuteron
