// Error kinds: a compile error in a situation Helion names (helion.exc) carries
// that kind, at the same place and with the same formatting as any other
// diagnostic; the Python binding raises the deuteron.exc class of the kind's name.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "deuteron/compiler.h"
#include "deuteron/diagnostic.h"

namespace deuteron {
namespace {

ArgSpec tensor(const std::string& name, std::vector<int64_t> sizes) {
  ArgSpec a;
  a.name = name;
  a.kind = ArgSpec::Kind::Tensor;
  a.dtype = DType::Float32;
  a.sizes = sizes;
  a.strides.assign(sizes.size(), 1);
  for (size_t i = sizes.size(); i-- > 1;) a.strides[i - 1] = a.strides[i] * sizes[i];
  return a;
}

GlobalSpec module(const std::string& name, const std::string& qual) {
  GlobalSpec g;
  g.name = name;
  g.kind = GlobalSpec::Kind::Module;
  g.qualname = qual;
  return g;
}

// Binds `source`'s function `f` on the tensors `args`; returns the diagnostic of the
// CompileError it raises (fails the test if it binds).
Diagnostic bind_error(const std::string& source, std::vector<ArgSpec> args) {
  BindRequest req;
  auto file = std::make_shared<SourceFile>();
  file->filename = "kernels.py";
  file->text = source;
  req.file = file;
  req.function_name = "f";
  req.args = std::move(args);
  req.globals = {module("torch", "torch"), module("hl", "deuteron.language")};
  try {
    BoundKernel::bind(req);
  } catch (const CompileError& e) {
    return e.diagnostic();
  }
  ADD_FAILURE() << "kernel bound without an error:\n" << source;
  return {};
}

TEST(ErrorKindTest, NamesAreHelionsAndUnique) {
  EXPECT_STREQ(error_kind_name(ErrorKind::Generic), "CompileError");
  EXPECT_STREQ(error_kind_name(ErrorKind::ShapeMismatch), "ShapeMismatch");
  EXPECT_STREQ(error_kind_name(ErrorKind::CannotModifyHostVariableOnDevice), "CannotModifyHostVariableOnDevice");
  std::set<std::string> names;
  for (ErrorKind k : all_error_kinds()) EXPECT_TRUE(names.insert(error_kind_name(k)).second) << error_kind_name(k);
  EXPECT_EQ(all_error_kinds().front(), ErrorKind::Generic);
}

TEST(ErrorKindTest, RaiseErrorKeepsKindSpanAndFormatting) {
  auto file = std::make_shared<SourceFile>(SourceFile{"k.py", "x = a + b\n", 1});
  try {
    raise_error(file, {1, 5, 1, 10}, ErrorKind::ShapeMismatch, "shapes differ", {"a note"});
  } catch (const CompileError& e) {
    EXPECT_EQ(e.diagnostic().kind, ErrorKind::ShapeMismatch);
    Diagnostic plain = e.diagnostic();
    plain.kind = ErrorKind::Generic;
    EXPECT_EQ(e.formatted(), plain.format(file.get()));  // the kind does not change the text
    EXPECT_NE(e.formatted().find("k.py:1:5: error: shapes differ"), std::string::npos);
  }
  try {
    raise_error(file, {1, 1, 1, 2}, "plain");
  } catch (const CompileError& e) {
    EXPECT_EQ(e.diagnostic().kind, ErrorKind::Generic);
  }
}

struct KindCase {
  const char* name;
  ErrorKind kind;
  int line;  // of the error, in the source below (first line is 1)
  const char* source;
  std::vector<int64_t> sizes;
};

class ErrorKindSites : public ::testing::TestWithParam<KindCase> {};

TEST_P(ErrorKindSites, RaisesTheKindAtTheLine) {
  const KindCase& c = GetParam();
  Diagnostic d = bind_error(c.source, {tensor("x", c.sizes)});
  EXPECT_EQ(d.kind, c.kind) << error_kind_name(d.kind) << ": " << d.message;
  EXPECT_EQ(d.span.line, c.line) << d.message;
}

const KindCase kCases[] = {
    {"NoDeviceLoop", ErrorKind::NoDeviceLoopsInKernel, 1,
     "def f(x):\n"
     "    return x + 1\n",
     {8}},
    {"TileUnpack", ErrorKind::FailedToUnpackTile, 3,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for a, b in hl.tile(x.size(0)):\n"
     "        out[a] = x[a]\n"
     "    return out\n",
     {8}},
    {"TileOfTile", ErrorKind::TileOfTile, 4,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for t1 in hl.tile(x.size(0)):\n"
     "        for t2 in hl.tile(t1):\n"
     "            out[t2] = x[t2]\n"
     "    return out\n",
     {8}},
    {"InvalidTileRange", ErrorKind::InvalidTileRange, 3,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for t in hl.tile(6, 2):\n"
     "        out[t] = x[t]\n"
     "    return out\n",
     {8}},
    {"RankMismatch", ErrorKind::RankMismatch, 4,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for t in hl.tile(x.size(0)):\n"
     "        out[t] = x[t, t]\n"
     "    return out\n",
     {8}},
    {"ShapeMismatch", ErrorKind::ShapeMismatch, 4,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for tm, tn in hl.tile(x.size()):\n"
     "        out[tm, tn] = x[tm, tn] - x[tm, :].amax(dim=1)\n"
     "    return out\n",
     {16, 32}},
    {"ReturnOnDevice", ErrorKind::NotAllowedOnDevice, 4,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for t in hl.grid(x.size(0)):\n"
     "        return out\n"
     "    return out\n",
     {8}},
    {"ForOverADict", ErrorKind::InvalidDeviceForLoop, 4,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for t in hl.tile(x.size(0)):\n"
     "        for i in {1: None}:\n"
     "            out[t] = x[t] + i\n"
     "    return out\n",
     {8}},
    {"ModifyHostVariable", ErrorKind::CannotModifyHostVariableOnDevice, 5,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for t in hl.tile(x.size(0)):\n"
     "        out = x[t] * 2\n"
     "    return out\n",
     {8}},
    {"ReadDeviceVariable", ErrorKind::CannotReadDeviceVariableOnHost, 4,
     "def f(x):\n"
     "    for t in hl.tile(x.size(0)):\n"
     "        y = x[t] * 2\n"
     "    return y\n",
     {8}},
    {"DeviceSubscriptAssign", ErrorKind::DeviceTensorSubscriptAssignmentNotAllowed, 5,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for t in hl.tile(x.size(0)):\n"
     "        tmp = x[t] * 2\n"
     "        tmp[0] = 1\n"
     "        out[t] = tmp\n"
     "    return out\n",
     {8}},
    {"NestedDef", ErrorKind::StatementNotSupported, 2,
     "def f(x):\n"
     "    def g():\n"
     "        pass\n"
     "    out = torch.empty_like(x)\n"
     "    for t in hl.tile(x.size(0)):\n"
     "        out[t] = x[t]\n"
     "    return out\n",
     {8}},
    {"Split", ErrorKind::UnsupportedSplitOperation, 4,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for tm in hl.tile(x.size(0)):\n"
     "        a, b = torch.chunk(x[tm, :], 2, dim=-1)\n"
     "        out[tm, :] = x[tm, :]\n"
     "    return out\n",
     {8, 4}},
    {"Nonzero", ErrorKind::DataDependentOutputShapeNotSupported, 4,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for t in hl.tile(x.size(0)):\n"
     "        n = torch.nonzero(x[t])\n"
     "        out[t] = x[t]\n"
     "    return out\n",
     {8}},
    {"BarrierInLoop", ErrorKind::BarrierOnlyAllowedAtTopLevel, 4,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for t in hl.tile(x.size(0)):\n"
     "        hl.barrier()\n"
     "        out[t] = x[t]\n"
     "    return out\n",
     {8}},
    {"PrintWithoutPrefix", ErrorKind::InvalidPrintCall, 4,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for t in hl.tile(x.size(0)):\n"
     "        print(x[t])\n"
     "        out[t] = x[t]\n"
     "    return out\n",
     {8}},
    {"PrintOfCompileTimeValue", ErrorKind::InvalidPrintCall, 4,
     "def f(x):\n"
     "    out = torch.empty_like(x)\n"
     "    for t in hl.tile(x.size(0)):\n"
     "        print(\"n: \", x.size(0))\n"
     "        out[t] = x[t]\n"
     "    return out\n",
     {8}},
};

INSTANTIATE_TEST_SUITE_P(Sema, ErrorKindSites, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<KindCase>& info) { return std::string(info.param.name); });

// hl.stacktensor_like's misuses, with Helion's kinds, at the call; and a uint64
// value (a device pointer) computed with, at the op.
TEST(ErrorKindTest, StackTensorMisuses) {
  ArgSpec ptrs = tensor("ptrs", {4});
  ptrs.dtype = DType::UInt64;
  ArgSpec ints = tensor("ptrs", {4});
  ints.dtype = DType::Int64;
  auto src = [](const std::string& host, const std::string& device) {
    return "def f(ptrs, x):\n"
           "    out = torch.empty([4, 8], device=x.device)\n" +
           host +
           "    for t in hl.tile(8):\n"
           "        out[:, t] = " + device + "\n"
           "    return out\n";
  };
  struct Case {
    ErrorKind kind;
    int line;
    std::string source;
    ArgSpec pointers;
  } cases[] = {
      {ErrorKind::StackTensorcOnHost, 3, src("    s = hl.stacktensor_like(x, ptrs)\n", "x[t]"), ptrs},
      {ErrorKind::StackTensorDevPtrOnHost, 4, src("", "hl.stacktensor_like(x, ptrs)[t]"), ptrs},
      {ErrorKind::StackTensorExampleOnDevice, 4, src("", "hl.stacktensor_like(x[t], ptrs[:])[t]"), ptrs},
      {ErrorKind::StackTensorDevPtrDtype, 4, src("", "hl.StackTensor(x, ptrs[:])[t]"), ints},
      {ErrorKind::Generic, 4, src("", "hl.stacktensor_like(x, ptrs[:] * 2)[t]"), ptrs},
  };
  for (const auto& c : cases) {
    Diagnostic d = bind_error(c.source, {c.pointers, tensor("x", {8})});
    EXPECT_EQ(d.kind, c.kind) << error_kind_name(d.kind) << ": " << d.message;
    EXPECT_EQ(d.span.line, c.line) << d.message;
    if (c.kind == ErrorKind::Generic) EXPECT_NE(d.message.find("on uint64 values is not supported"), std::string::npos);
  }
}

}  // namespace
}  // namespace deuteron
