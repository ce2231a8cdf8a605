// Tests of the C++ runtime (cpp/runtime) against a fake libcuda that records
// what the runtime asks the driver to do.  DEUTERON_FAKE_LIBCUDA is the fake's
// path (set by cpp/runtime/CMakeLists.txt).
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "deuteron_runtime/runtime.h"
#include "fake_cuda_control.h"

namespace deuteron::runtime {
namespace {

// gmock's HasSubstr without needing gmock (deuteron_tests links gtest only).
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// The fake's control functions, resolved from the copy the runtime loaded
// (dlopen of the same path returns the same library, hence the same state).
struct Fake {
  void (*reset)();
  void (*fail)(const char*, int);
  void (*register_function)(uint64_t, int32_t, const uint32_t*);
  void (*set_current_context)(uint64_t);
  uint64_t (*current_context)();
  int32_t (*launch_count)();
  int32_t (*get_launch)(int32_t, FakeLaunch*);
  int32_t (*call_count)(const char*);
  int64_t (*func_attribute)(uint64_t, int32_t);

  FakeLaunch launch(int i) const {
    FakeLaunch l{};
    EXPECT_EQ(get_launch(i, &l), 0) << "no launch " << i;
    return l;
  }
};

template <typename Fn>
void bind(void* lib, const char* name, Fn*& out) {
  out = reinterpret_cast<Fn*>(dlsym(lib, name));
  ASSERT_NE(out, nullptr) << name;
}

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = reload_driver_for_testing(DEUTERON_FAKE_LIBCUDA);
    ASSERT_TRUE(s.ok()) << s.message;
    void* lib = dlopen(DEUTERON_FAKE_LIBCUDA, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(lib, nullptr) << dlerror();
    bind(lib, "fake_cuda_reset", fake.reset);
    bind(lib, "fake_cuda_fail", fake.fail);
    bind(lib, "fake_cuda_register_function", fake.register_function);
    bind(lib, "fake_cuda_set_current_context", fake.set_current_context);
    bind(lib, "fake_cuda_current_context", fake.current_context);
    bind(lib, "fake_cuda_launch_count", fake.launch_count);
    bind(lib, "fake_cuda_get_launch", fake.get_launch);
    bind(lib, "fake_cuda_call_count", fake.call_count);
    bind(lib, "fake_cuda_func_attribute", fake.func_attribute);
    fake.reset();
  }

  void TearDown() override {
    // Leave the fake driver installed for the next test, whatever this one loaded.
    (void)reload_driver_for_testing(DEUTERON_FAKE_LIBCUDA);
  }

  // A kernel like Triton's `add(x, y, out, n: i32, alpha: fp32, flag: u1)`:
  // three pointers, an int, a float, a byte, then the two hidden pointers.
  Kernel add_kernel() {
    const uint32_t sizes[] = {8, 8, 8, 4, 4, 1, 8, 8};
    fake.register_function(kAddHandle, 8, sizes);
    Kernel k;
    k.function = reinterpret_cast<CUfunction>(kAddHandle);
    k.num_warps = 4;
    k.name = "add";
    return k;
  }

  static constexpr uint64_t kAddHandle = 0x1000;
  Fake fake{};
};

struct AddArgs {
  CUdeviceptr x = 0x7000'0000'0100, y = 0x7000'0000'0200, out = 0x7000'0000'0300;
  int32_t n = 1000;
  float alpha = 2.5f;
  uint8_t flag = 1;
  void* params[6] = {&x, &y, &out, &n, &alpha, &flag};
};

CUstream stream(uint64_t v) { return reinterpret_cast<CUstream>(v); }

TEST_F(RuntimeTest, LaunchPassesArgumentsThenTwoNullScratchPointers) {
  Kernel k = add_kernel();
  AddArgs a;
  Status s = launch(k, {3, 2, 1}, stream(0x55), a.params, 6);
  ASSERT_TRUE(s.ok()) << s.message;
  ASSERT_EQ(fake.launch_count(), 1);
  FakeLaunch l = fake.launch(0);
  EXPECT_EQ(l.function, kAddHandle);
  EXPECT_EQ(l.stream, 0x55u);
  EXPECT_EQ(l.via_ex, 0);
  EXPECT_EQ(l.grid[0], 3u);
  EXPECT_EQ(l.grid[1], 2u);
  EXPECT_EQ(l.grid[2], 1u);
  EXPECT_EQ(l.block[0], 128u);
  EXPECT_EQ(l.block[1], 1u);
  EXPECT_EQ(l.block[2], 1u);
  EXPECT_EQ(l.shared_bytes, 0u);
  ASSERT_EQ(l.num_params, 8);
  EXPECT_EQ(l.param_value[0], a.x);
  EXPECT_EQ(l.param_value[1], a.y);
  EXPECT_EQ(l.param_value[2], a.out);
  EXPECT_EQ(l.param_value[3], 1000u);
  float alpha;
  std::memcpy(&alpha, &l.param_value[4], 4);
  EXPECT_EQ(alpha, 2.5f);
  EXPECT_EQ(l.param_value[5], 1u);
  EXPECT_EQ(l.param_value[6], 0u) << "global scratch";
  EXPECT_EQ(l.param_value[7], 0u) << "profile scratch";
  EXPECT_EQ(fake.call_count("cuFuncSetAttribute"), 0);
}

TEST_F(RuntimeTest, BlockIs32ThreadsPerWarp) {
  Kernel k = add_kernel();
  k.num_warps = 8;
  AddArgs a;
  ASSERT_TRUE(launch(k, {1, 1, 1}, nullptr, a.params, 6).ok());
  EXPECT_EQ(fake.launch(0).block[0], 256u);
}

TEST_F(RuntimeTest, EmptyGridLaunchesNothing) {
  Kernel k = add_kernel();
  AddArgs a;
  EXPECT_TRUE(launch(k, {0, 1, 1}, nullptr, a.params, 6).ok());
  EXPECT_TRUE(launch(k, {4, 1, 0}, nullptr, a.params, 6).ok());
  EXPECT_EQ(fake.launch_count(), 0);
}

TEST_F(RuntimeTest, SharedMemoryAbove48KBSetsTheAttributeOncePerKernel) {
  Kernel k = add_kernel();
  k.shared_bytes = 100 * 1024;
  AddArgs a;
  ASSERT_TRUE(launch(k, {1, 1, 1}, nullptr, a.params, 6).ok());
  ASSERT_TRUE(launch(k, {1, 1, 1}, nullptr, a.params, 6).ok());
  EXPECT_EQ(fake.func_attribute(kAddHandle, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES), 100 * 1024);
  EXPECT_EQ(fake.call_count("cuFuncSetAttribute"), 1);
  EXPECT_EQ(fake.launch(1).shared_bytes, 100u * 1024);
}

TEST_F(RuntimeTest, SharedMemoryOf48KBNeedsNoAttribute) {
  Kernel k = add_kernel();
  k.shared_bytes = 48 * 1024;
  AddArgs a;
  ASSERT_TRUE(launch(k, {1, 1, 1}, nullptr, a.params, 6).ok());
  EXPECT_EQ(fake.call_count("cuFuncSetAttribute"), 0);
  EXPECT_EQ(fake.launch(0).shared_bytes, 48u * 1024);
}

TEST_F(RuntimeTest, TooMuchSharedMemoryIsADriverErrorSayingWhat) {
  Kernel k = add_kernel();
  k.shared_bytes = 300 * 1024;  // the fake, like an H100, allows 227 KB
  AddArgs a;
  Status s = launch(k, {1, 1, 1}, nullptr, a.params, 6);
  EXPECT_EQ(s.code, StatusCode::kDriverError);
  EXPECT_EQ(s.cu_result, CUDA_ERROR_INVALID_VALUE);
  EXPECT_TRUE(Contains(s.message, "MAX_DYNAMIC_SHARED_SIZE_BYTES = 307200"));
  EXPECT_TRUE(Contains(s.message, "'add'"));
  EXPECT_TRUE(Contains(s.message, "CUDA_ERROR_INVALID_VALUE (invalid argument)"));
  EXPECT_EQ(fake.launch_count(), 0);
}

TEST_F(RuntimeTest, LaunchFailureNamesTheCallKernelGridAndDriverError) {
  Kernel k = add_kernel();
  AddArgs a;
  fake.fail("cuLaunchKernel", 701);
  Status s = launch(k, {3, 2, 1}, nullptr, a.params, 6);
  EXPECT_EQ(s.code, StatusCode::kDriverError);
  EXPECT_EQ(s.cu_result, 701);
  EXPECT_TRUE(Contains(s.message, "cuLaunchKernel launching kernel 'add' (grid 3x2x1, 128 threads"));
  EXPECT_TRUE(Contains(s.message, "failed: CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES (too many resources requested"));
}

TEST_F(RuntimeTest, UnknownDriverErrorCodesAreReportedByNumber) {
  Kernel k = add_kernel();
  AddArgs a;
  fake.fail("cuLaunchKernel", 12345);
  Status s = launch(k, {1, 1, 1}, nullptr, a.params, 6);
  EXPECT_EQ(s.cu_result, 12345);
  EXPECT_TRUE(Contains(s.message, "failed: CUDA error 12345"));
}

TEST_F(RuntimeTest, ClustersLaunchThroughLaunchKernelExWithClusterAttributes) {
  Kernel k = add_kernel();
  k.num_ctas = 2;
  AddArgs a;
  ASSERT_TRUE(launch(k, {3, 1, 1}, stream(7), a.params, 6).ok());
  FakeLaunch l = fake.launch(0);
  EXPECT_EQ(l.via_ex, 1);
  EXPECT_EQ(l.grid[0], 6u) << "grid x is multiplied by num_ctas";
  EXPECT_EQ(l.stream, 7u);
  ASSERT_EQ(l.num_attrs, 2);
  EXPECT_EQ(l.attr_id[0], CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION);
  EXPECT_EQ(l.attr_value[0][0], 2u);
  EXPECT_EQ(l.attr_value[0][1], 1u);
  EXPECT_EQ(l.attr_value[0][2], 1u);
  EXPECT_EQ(l.attr_id[1], CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE);
  EXPECT_EQ(l.attr_value[1][0], static_cast<uint32_t>(CU_CLUSTER_SCHEDULING_POLICY_SPREAD));
  ASSERT_EQ(l.num_params, 8);
  EXPECT_EQ(l.param_value[0], a.x);
  EXPECT_EQ(l.param_value[7], 0u);
  EXPECT_EQ(fake.call_count("cuFuncSetAttribute"), 0);
}

TEST_F(RuntimeTest, SixteenCtaClustersAllowNonPortableSizes) {
  Kernel k = add_kernel();
  k.num_ctas = 16;
  AddArgs a;
  ASSERT_TRUE(launch(k, {1, 1, 1}, nullptr, a.params, 6).ok());
  EXPECT_EQ(fake.func_attribute(kAddHandle, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED), 1);
}

TEST_F(RuntimeTest, PdlAndCooperativeGridBecomeLaunchAttributes) {
  Kernel k = add_kernel();
  k.launch_pdl = true;
  k.launch_cooperative_grid = true;
  AddArgs a;
  ASSERT_TRUE(launch(k, {1, 1, 1}, nullptr, a.params, 6).ok());
  FakeLaunch l = fake.launch(0);
  EXPECT_EQ(l.via_ex, 1);
  ASSERT_EQ(l.num_attrs, 2);
  EXPECT_EQ(l.attr_id[0], CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION);
  EXPECT_EQ(l.attr_value[0][0], 1u);
  EXPECT_EQ(l.attr_id[1], CU_LAUNCH_ATTRIBUTE_COOPERATIVE);
  EXPECT_EQ(l.attr_value[1][0], 1u);
}

TEST_F(RuntimeTest, KernelNeedingGlobalScratchWithoutMemoryIsAnError) {
  Kernel k = add_kernel();
  k.global_scratch_size = 64;
  AddArgs a;
  Status s = launch(k, {1, 1, 1}, nullptr, a.params, 6);
  EXPECT_EQ(s.code, StatusCode::kUnsupported);
  EXPECT_TRUE(Contains(s.message, "needs global scratch memory (64 bytes per program)"));
  EXPECT_EQ(fake.launch_count(), 0);
}

TEST_F(RuntimeTest, ScratchBufferProvidesGridTimesCtasTimesSizeBytes) {
  Kernel k = add_kernel();
  k.global_scratch_size = 64;
  k.global_scratch_align = 16;
  k.num_ctas = 2;
  AddArgs a;
  ScratchBuffer scratch;
  ASSERT_TRUE(launch(k, {3, 2, 1}, nullptr, a.params, 6, scratch).ok());
  EXPECT_EQ(global_scratch_bytes(k, {3, 2, 1}), 3u * 2 * 2 * 64);
  EXPECT_EQ(scratch.size(), 3u * 2 * 2 * 64);
  EXPECT_NE(scratch.data(), 0u);
  EXPECT_EQ(fake.launch(0).param_value[6], scratch.data());
  EXPECT_EQ(fake.launch(0).param_value[7], 0u);

  // Same or smaller grid: the memory is reused.
  ASSERT_TRUE(launch(k, {1, 1, 1}, nullptr, a.params, 6, scratch).ok());
  EXPECT_EQ(fake.call_count("cuMemAlloc_v2"), 1);
  EXPECT_EQ(fake.call_count("cuCtxSynchronize"), 0);

  // A larger grid grows it, after waiting for kernels that may use the old memory.
  ASSERT_TRUE(launch(k, {10, 1, 1}, nullptr, a.params, 6, scratch).ok());
  EXPECT_EQ(fake.call_count("cuMemAlloc_v2"), 2);
  EXPECT_EQ(fake.call_count("cuCtxSynchronize"), 1);
  EXPECT_EQ(fake.call_count("cuMemFree_v2"), 1);
  EXPECT_EQ(scratch.size(), 10u * 2 * 64);
  EXPECT_EQ(fake.launch(2).param_value[6], scratch.data());
}

TEST_F(RuntimeTest, ScratchAllocationFailureIsReported) {
  Kernel k = add_kernel();
  k.global_scratch_size = 64;
  AddArgs a;
  ScratchBuffer scratch;
  fake.fail("cuMemAlloc_v2", 2);
  Status s = launch(k, {4, 1, 1}, nullptr, a.params, 6, scratch);
  EXPECT_EQ(s.code, StatusCode::kDriverError);
  EXPECT_TRUE(Contains(s.message, "cuMemAlloc(256 bytes of kernel scratch memory) failed: CUDA_ERROR_OUT_OF_MEMORY"));
}

TEST_F(RuntimeTest, CallerProvidedScratchPointersArePassed) {
  Kernel k = add_kernel();
  k.global_scratch_size = 8;
  k.global_scratch_align = 16;
  k.profile_scratch_size = 4;
  AddArgs a;
  ASSERT_TRUE(launch(k, {1, 1, 1}, nullptr, a.params, 6, Scratch{0xAB00, 0xCD00}).ok());
  EXPECT_EQ(fake.launch(0).param_value[6], 0xAB00u);
  EXPECT_EQ(fake.launch(0).param_value[7], 0xCD00u);
  Status s = launch(k, {1, 1, 1}, nullptr, a.params, 6, Scratch{0xAB08, 0xCD00});
  EXPECT_EQ(s.code, StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message, "global scratch memory must be aligned to 16 bytes"));
}

TEST_F(RuntimeTest, ProfileScratchIsNotProvided) {
  Kernel k = add_kernel();
  k.profile_scratch_size = 128;
  AddArgs a;
  ScratchBuffer scratch;
  Status s = launch(k, {1, 1, 1}, nullptr, a.params, 6, scratch);
  EXPECT_EQ(s.code, StatusCode::kUnsupported);
  EXPECT_TRUE(Contains(s.message, "needs profile scratch memory"));
}

TEST_F(RuntimeTest, KernelsWithMoreThan64ArgumentsWork) {
  std::vector<uint32_t> sizes(70, 4);
  sizes.push_back(8);
  sizes.push_back(8);
  fake.register_function(0x2000, static_cast<int32_t>(sizes.size()), sizes.data());
  Kernel k;
  k.function = reinterpret_cast<CUfunction>(0x2000);
  std::vector<int32_t> values(70);
  std::vector<void*> params(70);
  for (int i = 0; i < 70; ++i) {
    values[i] = i * 3;
    params[i] = &values[i];
  }
  ASSERT_TRUE(launch(k, {1, 1, 1}, nullptr, params.data(), params.size()).ok());
  FakeLaunch l = fake.launch(0);
  ASSERT_EQ(l.num_params, 72);
  EXPECT_EQ(l.param_value[0], 0u);
  EXPECT_EQ(l.param_value[69], 207u);
  EXPECT_EQ(l.param_value[70], 0u);
  EXPECT_EQ(l.param_value[71], 0u);
}

TEST_F(RuntimeTest, InvalidKernelsAreRejectedBeforeTheDriver) {
  AddArgs a;
  Kernel none;
  EXPECT_EQ(launch(none, {1, 1, 1}, nullptr, a.params, 6).code, StatusCode::kInvalidArgument);
  Kernel k = add_kernel();
  k.num_warps = 0;
  Status s = launch(k, {1, 1, 1}, nullptr, a.params, 6);
  EXPECT_EQ(s.code, StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message, "num_warps must be in 1..32"));
  EXPECT_EQ(fake.launch_count(), 0);
}

// ------------------------------------------------------------------ Module

constexpr char kImage[] = "FAKECUBIN\nadd 8,8,8,4,8,8\nfat 8,8 64\n";

TEST_F(RuntimeTest, ModuleLoadsCubinsAndFindsKernels) {
  {
    Module m;
    Status s = Module::load(kImage, sizeof(kImage), &m);
    ASSERT_TRUE(s.ok()) << s.message;
    Kernel k;
    k.num_warps = 4;
    s = m.get_kernel("add", &k);
    ASSERT_TRUE(s.ok()) << s.message;
    EXPECT_NE(k.function, nullptr);
    EXPECT_EQ(k.name, "add");
    CUdeviceptr x = 0x10, y = 0x20, out = 0x30;
    int32_t n = 7;
    void* params[] = {&x, &y, &out, &n};
    ASSERT_TRUE(launch(k, {1, 1, 1}, nullptr, params, 4).ok());
    FakeLaunch l = fake.launch(0);
    ASSERT_EQ(l.num_params, 6);
    EXPECT_EQ(l.param_value[2], 0x30u);
    EXPECT_EQ(l.param_value[3], 7u);
    EXPECT_EQ(fake.call_count("cuModuleUnload"), 0);
  }
  EXPECT_EQ(fake.call_count("cuModuleUnload"), 1);
}

TEST_F(RuntimeTest, ModuleErrorsSayWhatWasLookedFor) {
  Module m;
  ASSERT_TRUE(Module::load(kImage, sizeof(kImage), &m).ok());
  Kernel k;
  Status s = m.get_kernel("missing", &k);
  EXPECT_EQ(s.code, StatusCode::kDriverError);
  EXPECT_TRUE(Contains(s.message, "cuModuleGetFunction('missing') failed: CUDA_ERROR_NOT_FOUND"));

  k.num_warps = 4;  // 128 threads, but "fat" can run only 64
  s = m.get_kernel("fat", &k);
  EXPECT_EQ(s.code, StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message, "compiled for 4 warps but can run at most 64 threads per block"));

  Module bad;
  s = Module::load("not a cubin", 12, &bad);
  EXPECT_EQ(s.code, StatusCode::kDriverError);
  EXPECT_TRUE(Contains(s.message, "cuModuleLoadData (loading a 12-byte cubin) failed: CUDA_ERROR_INVALID_IMAGE"));
  EXPECT_EQ(Module::load(nullptr, 0, &bad).code, StatusCode::kInvalidArgument);
}

TEST_F(RuntimeTest, ModuleLoadUsesThePrimaryContextWhenNoneIsCurrent) {
  fake.set_current_context(0);
  Module m;
  ASSERT_TRUE(Module::load(kImage, sizeof(kImage), &m, /*device=*/1).ok());
  EXPECT_EQ(fake.call_count("cuDevicePrimaryCtxRetain"), 1);
  EXPECT_EQ(fake.current_context(), 0xC0C1u);
}

TEST_F(RuntimeTest, EnsureContextKeepsACurrentContext) {
  const DriverApi* api = nullptr;
  ASSERT_TRUE(driver(&api).ok());
  ASSERT_TRUE(ensure_context(*api, 0).ok());
  EXPECT_EQ(fake.call_count("cuDevicePrimaryCtxRetain"), 0);
  fake.set_current_context(0);
  Status s = ensure_context(*api, 5);
  EXPECT_TRUE(Contains(s.message, "cuDeviceGet(device 5) failed: CUDA_ERROR_INVALID_DEVICE"));
}

// ---------------------------------------------------------- loading libcuda

TEST_F(RuntimeTest, MissingLibcudaIsAnErrorNamingTheLibrary) {
  Status s = reload_driver_for_testing("/nonexistent/libcuda.so.1");
  EXPECT_EQ(s.code, StatusCode::kDriverNotFound);
  EXPECT_TRUE(Contains(s.message, "could not load the CUDA driver library '/nonexistent/libcuda.so.1'"));
  EXPECT_TRUE(Contains(s.message, "DEUTERON_LIBCUDA"));
  // Every later use reports the same error rather than crashing.
  const DriverApi* api = nullptr;
  EXPECT_EQ(driver(&api).message, s.message);
  EXPECT_EQ(api, nullptr);
  Kernel k = add_kernel();
  AddArgs a;
  EXPECT_EQ(launch(k, {1, 1, 1}, nullptr, a.params, 6).code, StatusCode::kDriverNotFound);
  Module m;
  EXPECT_EQ(Module::load(kImage, sizeof(kImage), &m).code, StatusCode::kDriverNotFound);
}

TEST_F(RuntimeTest, LibraryWithoutTheDriverEntryPointsIsRejected) {
  Status s = reload_driver_for_testing("libm.so.6");
  EXPECT_EQ(s.code, StatusCode::kDriverNotFound);
  EXPECT_TRUE(Contains(s.message, "'libm.so.6' has no entry point 'cuInit'"));
}

TEST_F(RuntimeTest, CuInitFailureIsReported) {
  fake.fail("cuInit", 100);
  Status s = reload_driver_for_testing(DEUTERON_FAKE_LIBCUDA);
  EXPECT_EQ(s.code, StatusCode::kDriverError);
  EXPECT_TRUE(Contains(s.message, "cuInit(0)"));
  EXPECT_TRUE(Contains(s.message, "CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)"));
  fake.reset();
}

TEST_F(RuntimeTest, DeuteronLibcudaEnvironmentVariableChoosesTheLibrary) {
  setenv("DEUTERON_LIBCUDA", DEUTERON_FAKE_LIBCUDA, 1);
  Status s = reload_driver_for_testing(nullptr);
  unsetenv("DEUTERON_LIBCUDA");
  ASSERT_TRUE(s.ok()) << s.message;
  const DriverApi* api = nullptr;
  ASSERT_TRUE(driver(&api).ok());
  EXPECT_EQ(api->library_path, DEUTERON_FAKE_LIBCUDA);
  EXPECT_NE(api->cuLaunchKernelEx, nullptr);
  EXPECT_NE(api->cuOccupancyMaxActiveBlocksPerMultiprocessor, nullptr);
}

TEST(RuntimeStatus, CodesHaveNames) {
  EXPECT_STREQ(to_string(StatusCode::kOk), "ok");
  EXPECT_STREQ(to_string(StatusCode::kDriverNotFound), "driver not found");
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_FALSE(Status::Error(StatusCode::kUnsupported, "x").ok());
}

}  // namespace
}  // namespace deuteron::runtime
