// deuteronc's command-line inputs (cpp/src/cli): --args specs, picking the
// kernel of a file, and checking --args against its parameters.
#include "deuteron/cli.h"

#include <gtest/gtest.h>

namespace deuteron::cli {
namespace {

std::string usage_error(const std::string& spec) {
  try {
    parse_arg_specs(spec);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_CONTAINS(haystack, needle) EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(ArgSpecs, ParsesEveryKind) {
  auto a = parse_arg_specs("x:float32[4,8]{1,4}, y:float16[1024], n:int,f:float,b:bool,z:None,"
                           "c:constexpr=3,d:constexpr=-1.5,e:constexpr=True,g:constexpr=None,s:int8[]");
  ASSERT_EQ(a.size(), 11u);
  EXPECT_EQ(a[0].kind, ArgSpec::Kind::Tensor);
  EXPECT_EQ(a[0].sizes, (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(a[0].strides, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(a[1].name, "y");
  EXPECT_EQ(a[1].dtype, DType::Float16);
  EXPECT_EQ(a[1].strides, (std::vector<int64_t>{1}));
  EXPECT_EQ(a[2].kind, ArgSpec::Kind::Int);
  EXPECT_EQ(a[5].kind, ArgSpec::Kind::None);
  EXPECT_EQ(a[6].const_kind, ArgSpec::ConstKind::Int);
  EXPECT_EQ(a[6].const_int, 3);
  EXPECT_EQ(a[7].const_float, -1.5);
  EXPECT_TRUE(a[8].const_bool);
  EXPECT_EQ(a[9].const_kind, ArgSpec::ConstKind::None);
  EXPECT_TRUE(a[10].sizes.empty());
  EXPECT_TRUE(parse_arg_specs("").empty());
}

TEST(ArgSpecs, ParsesDtypesAndStructuredArguments) {
  auto a = parse_arg_specs("acc:dtype=float16, ts:(float32[8],(int,dtype=int8)), l:[float,float32[2,2]],"
                           "d:{a:float32[4], b:bool}, p:Pair(x:float16[3], s:float), c:Params{y:int}, e:(),"
                           "m:str=add");
  ASSERT_EQ(a.size(), 8u);
  EXPECT_EQ(a[7].kind, ArgSpec::Kind::String);
  EXPECT_EQ(a[7].string_value, "add");
  EXPECT_EQ(a[0].kind, ArgSpec::Kind::DType);
  EXPECT_EQ(a[0].dtype, DType::Float16);
  ASSERT_EQ(a[1].kind, ArgSpec::Kind::Tuple);
  ASSERT_EQ(a[1].elements.size(), 2u);
  EXPECT_EQ(a[1].elements[0].kind, ArgSpec::Kind::Tensor);
  EXPECT_EQ(a[1].elements[0].name, "0");
  ASSERT_EQ(a[1].elements[1].kind, ArgSpec::Kind::Tuple);
  EXPECT_EQ(a[1].elements[1].elements[1].kind, ArgSpec::Kind::DType);
  EXPECT_EQ(a[1].elements[1].elements[1].dtype, DType::Int8);
  EXPECT_EQ(a[2].kind, ArgSpec::Kind::List);
  EXPECT_EQ(a[2].elements[1].sizes, (std::vector<int64_t>{2, 2}));
  ASSERT_EQ(a[3].kind, ArgSpec::Kind::Dict);
  EXPECT_EQ(a[3].elements[1].name, "b");
  EXPECT_EQ(a[3].elements[1].kind, ArgSpec::Kind::Bool);
  EXPECT_EQ(a[4].kind, ArgSpec::Kind::NamedTuple);
  EXPECT_EQ(a[4].type_name, "Pair");
  EXPECT_EQ(a[4].elements[0].name, "x");
  EXPECT_EQ(a[5].kind, ArgSpec::Kind::Dataclass);
  EXPECT_EQ(a[5].type_name, "Params");
  EXPECT_EQ(a[6].kind, ArgSpec::Kind::Tuple);
  EXPECT_TRUE(a[6].elements.empty());
  // Errors name the element as Python reaches it.
  EXPECT_CONTAINS(usage_error("ts:(float32[8],float99[2])"), "argument 'ts[1]': unknown dtype 'float99'");
  EXPECT_CONTAINS(usage_error("p:P{x:float32[2],x:int}"), "field 'x' given twice");
  EXPECT_CONTAINS(usage_error("d:{a:dtype=float7}"), "argument 'd['a']': unknown dtype 'float7'");
  EXPECT_CONTAINS(usage_error("t:(constexpr=1)"), "an element cannot be constexpr");
  EXPECT_CONTAINS(usage_error("t:(float32[2]"), "missing a closing");
}

TEST(ArgSpecs, ContiguousStridesLikePyTorch) {
  auto a = parse_arg_specs("x:float32[2,3,4],e:float32[0,5]");
  EXPECT_EQ(a[0].strides, (std::vector<int64_t>{12, 4, 1}));
  EXPECT_EQ(a[1].strides, (std::vector<int64_t>{5, 1}));  // torch.empty(0, 5).stride()
}

TEST(ArgSpecs, MalformedSpecsAreUsageErrors) {
  // Each was an abort (std::invalid_argument from stoll) or silently accepted.
  EXPECT_CONTAINS(usage_error("x:float32[abc]"), "argument 'x': size 'abc' is not an integer");
  EXPECT_CONTAINS(usage_error("x:float32[-5]"), "argument 'x': size -5 is negative");
  EXPECT_CONTAINS(usage_error("x:float32[4]{-1}"), "argument 'x': stride -1 is negative");
  EXPECT_CONTAINS(usage_error("x:float32[4]{1"), "missing a closing '}'");
  EXPECT_CONTAINS(usage_error("x:float32[4"), "missing a closing ']'");
  EXPECT_CONTAINS(usage_error("x:float32[4]]"), "unbalanced ']'");
  EXPECT_CONTAINS(usage_error("x:float32[4]{1}x"), "unexpected '{1}x' after the sizes");
  EXPECT_CONTAINS(usage_error("x:float32[4,4]{1}"), "2 sizes but 1 strides");
  EXPECT_CONTAINS(usage_error("x:float32[99999999999999999999]"), "does not fit in int64");
  EXPECT_CONTAINS(usage_error("x:float32[4294967296,4294967296]"), "more elements than int64 can count");
  EXPECT_CONTAINS(usage_error("x:float32[3037000500,3037000500]{1,4611686018427387904}"),
                  "more elements than int64 can count");
  EXPECT_CONTAINS(usage_error("x:float32[2,2]{1,9223372036854775807}"), "last element does not fit in int64");
  EXPECT_CONTAINS(usage_error("x:float33[4]"), "unknown dtype 'float33'");
  EXPECT_CONTAINS(usage_error("x:tensor"), "unknown type 'tensor'");
  EXPECT_CONTAINS(usage_error("x"), "'x' needs NAME:TYPE");
  EXPECT_CONTAINS(usage_error("1x:int"), "'1x' is not an argument name");
  EXPECT_CONTAINS(usage_error("x:int,x:float"), "argument 'x': given twice");
  EXPECT_CONTAINS(usage_error("x:int,,y:int"), "empty entry");
  EXPECT_CONTAINS(usage_error("c:constexpr=abc"), "constexpr value 'abc' is not an integer");
  EXPECT_CONTAINS(usage_error("c:constexpr=1.5.5"), "is not a number");
  EXPECT_EQ(usage_error("x:float32[0]{-0}"), "");  // -0 is 0
}

const char* kFile =
    "import torch\n"
    "import deuteron\n"
    "import deuteron.language as hl\n"
    "from deuteron.language import grid\n"
    "\n"
    "\n"
    "def helper(a):\n"
    "    return a * 2\n"
    "\n"
    "\n"
    "def loop_kernel(x, y, scale=2.0):\n"
    "    for t in hl.tile(x.size(0)):\n"
    "        x[t] = helper(y[t]) * scale\n"
    "\n"
    "\n"
    "@deuteron.kernel(\n"
    "    config=deuteron.Config(block_sizes=[32]),\n"
    ")\n"
    "def decorated(x):\n"
    "    return x\n"
    "\n"
    "\n"
    "def grid_kernel(x):\n"
    "    for i in grid(x.size(0)):\n"
    "        x[i] = 0\n";

std::string select_error(const std::string& text, const std::string& fn) {
  try {
    select_function(text, "k.py", fn);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(KernelFile, FindsTopLevelDefsWithMultiLineDecorators) {
  auto defs = top_level_defs(kFile);
  ASSERT_EQ(defs.size(), 4u);
  EXPECT_EQ(defs[0].name, "helper");
  EXPECT_FALSE(defs[0].decorated);
  EXPECT_EQ(defs[2].name, "decorated");
  EXPECT_TRUE(defs[2].decorated);
  EXPECT_EQ(defs[2].first_line, 16);
  EXPECT_EQ(defs[2].def_line, 19);
  EXPECT_EQ(defs[2].text.rfind("@deuteron.kernel(\n", 0), 0u);
}

TEST(KernelFile, WithoutFunctionPicksTheKernelNotTheFirstDef) {
  // The first def is a helper; the kernels are three: an error listing them.
  EXPECT_CONTAINS(select_error(kFile, ""),
                  "k.py has several kernels: loop_kernel (line 11), decorated (line 19), grid_kernel (line 23); "
                  "pick one with --function");
  std::string one = "import deuteron.language as hl\n\ndef helper(a):\n    return a\n\n"
                    "def k(x):\n    for t in hl.tile(8):\n        x[t] = helper(x[t])\n";
  EXPECT_EQ(select_function(one, "k.py", "").name, "k");
  EXPECT_CONTAINS(select_error("def f(x):\n    return x\n", ""),
                  "no kernel in k.py: no function is decorated with @deuteron.kernel/@deuteron.jit or has a top-level "
                  "hl.tile/hl.grid loop; name one with --function (functions: f (line 1))");
  EXPECT_CONTAINS(select_error(kFile, "nope"), "no function named 'nope' in k.py; its functions are: helper (line 7)");
  EXPECT_EQ(select_function(kFile, "k.py", "grid_kernel").def_line, 23);
}

TEST(KernelFile, ArgsMustMatchTheParameters) {
  auto request_error = [](const std::string& fn, const std::string& args) -> std::string {
    try {
      make_bind_request("k.py", kFile, fn, parse_arg_specs(args), true);
    } catch (const UsageError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_CONTAINS(request_error("loop_kernel", "x:float32[8]"),
                  "--args has no type for argument 'y' of loop_kernel (parameters: x, y, scale)");
  EXPECT_CONTAINS(request_error("loop_kernel", "x:float32[8],y:float32[8],z:int"),
                  "--args gives 'z', which is not a parameter of loop_kernel (parameters: x, y, scale)");
  EXPECT_EQ(request_error("loop_kernel", "x:float32[8],y:float32[8]"), "");  // scale has a default
  BindRequest r = make_bind_request("k.py", kFile, "loop_kernel", parse_arg_specs("x:float32[8],y:float32[8]"), true);
  EXPECT_EQ(r.function_name, "loop_kernel");
  EXPECT_EQ(r.file->first_line, 11);
  bool helper = false, decorated = false;
  for (const auto& g : r.globals) {
    helper |= g.name == "helper" && g.kind == GlobalSpec::Kind::Helper;
    decorated |= g.name == "decorated";
  }
  EXPECT_TRUE(helper);
  EXPECT_FALSE(decorated);  // other kernels are not helpers
}

}  // namespace
}  // namespace deuteron::cli
