// Calls deuteron kernels exported to C++ (softmax and matmul from examples/softmax.py and
// examples/matmul.py), with no Python and no libtorch: inputs are made on the CPU, copied to
// the GPU through the CUDA driver API (which deuteron's runtime loads with dlopen), and the
// results are checked against values computed on the CPU.
//
//   run.sh exports the kernels, builds this program against the exported package and runs it.
//
//   aot_example            check results, then measure per-call overhead and kernel times
//   aot_example --no-check only call the kernels and check the returned statuses (used by
//                          tests/test_aot_export.py against a fake libcuda, where nothing runs)
//
// The shapes below are the ones run.sh exports.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "example_kernels.h"

namespace rt = deuteron::runtime;
using deuteron::aot::DType;
using deuteron::aot::Tensor;

namespace {

constexpr int64_t kSoftmaxRows = 4096, kSoftmaxCols = 16384;  // softmax [0]
constexpr int64_t kSmallRows = 16, kSmallCols = 1024;          // softmax [1]: per-call overhead
constexpr int64_t kM = 4096, kK = 4096, kN = 4096;             // matmul

const rt::DriverApi* api = nullptr;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "aot_example: %s\n", what.c_str());
  std::exit(1);
}

void check(const rt::Status& s, const char* what) {
  if (!s.ok()) die(std::string(what) + " failed (" + rt::to_string(s.code) + "): " + s.message);
}

void cu(rt::CUresult r, const char* what) { check(rt::check(*api, r, what), what); }

// bfloat16 <-> float, round to nearest even (as PyTorch).
uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float from_bf16(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

struct DeviceBuffer {
  rt::CUdeviceptr ptr = 0;
  size_t bytes = 0;
  explicit DeviceBuffer(size_t n) : bytes(n) { cu(api->cuMemAlloc(&ptr, n), "cuMemAlloc"); }
  ~DeviceBuffer() { (void)api->cuMemFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void upload(const void* src) { cu(api->cuMemcpyHtoD(ptr, src, bytes), "cuMemcpyHtoD"); }
  void download(void* dst) const { cu(api->cuMemcpyDtoH(dst, ptr, bytes), "cuMemcpyDtoH"); }
};

std::vector<uint16_t> random_bf16(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<uint16_t> v(n);
  for (auto& x : v) x = to_bf16(dist(gen));
  return v;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void sync(rt::CUstream stream) { cu(api->cuStreamSynchronize(stream), "cuStreamSynchronize"); }

// Host time per call, launching `batch` calls between synchronizations (few enough that the
// launch queue never fills, so the GPU's speed does not enter).
template <typename F>
double host_us_per_call(F&& call, rt::CUstream stream, int batches = 20, int batch = 200) {
  for (int i = 0; i < batch; ++i) check(call(), "warm-up call");
  sync(stream);
  double total = 0;
  for (int b = 0; b < batches; ++b) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < batch; ++i) check(call(), "timed call");
    total += seconds_since(t0);
    sync(stream);
  }
  return total / (batches * batch) * 1e6;
}

// Wall time per call of a kernel long enough to dominate (synchronized), in ms.
template <typename F>
double device_ms_per_call(F&& call, rt::CUstream stream, int reps = 20) {
  check(call(), "warm-up call");
  sync(stream);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) check(call(), "timed call");
  sync(stream);
  return seconds_since(t0) / reps * 1e3;
}

void expect_error(const rt::Status& s, rt::StatusCode code, const char* what) {
  if (s.ok()) die(std::string(what) + ": expected an error, got ok");
  if (s.code != code) die(std::string(what) + ": expected '" + rt::to_string(code) + "', got '" + rt::to_string(s.code) + "': " + s.message);
  std::printf("  %s -> %s: %s\n", what, rt::to_string(s.code), s.message.substr(0, 160).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const bool run_checks = !(argc > 1 && std::strcmp(argv[1], "--no-check") == 0);
  check(rt::driver(&api), "loading the CUDA driver");
  check(example_kernels::load_all(), "loading the exported kernels");
  rt::CUstream stream = nullptr;  // the default stream
  int failures = 0;

  // ------------------------------------------------------------- softmax
  {
    const size_t n = kSoftmaxRows * kSoftmaxCols;
    DeviceBuffer x(n * 2), out(n * 2);
    std::vector<uint16_t> hx;
    if (run_checks) {
      hx = random_bf16(n, -4.f, 4.f, 1);
      x.upload(hx.data());
    }
    Tensor tx = Tensor::contiguous(x.ptr, DType::kBFloat16, {kSoftmaxRows, kSoftmaxCols});
    Tensor tout = Tensor::contiguous(out.ptr, DType::kBFloat16, {kSoftmaxRows, kSoftmaxCols});
    check(example_kernels::softmax(tx, tout, stream), "softmax");
    sync(stream);
    if (run_checks) {
      std::vector<uint16_t> hout(n);
      out.download(hout.data());
      double max_err = 0;
      int64_t bad = 0;
      std::vector<float> row(kSoftmaxCols);
      for (int64_t r = 0; r < kSoftmaxRows; ++r) {
        float mx = -INFINITY;
        for (int64_t c = 0; c < kSoftmaxCols; ++c) mx = std::max(mx, row[c] = from_bf16(hx[r * kSoftmaxCols + c]));
        double sum = 0;
        for (int64_t c = 0; c < kSoftmaxCols; ++c) sum += std::exp(static_cast<double>(row[c]) - mx);
        for (int64_t c = 0; c < kSoftmaxCols; ++c) {
          double expect = std::exp(static_cast<double>(row[c]) - mx) / sum;
          double got = from_bf16(hout[r * kSoftmaxCols + c]);
          double err = std::abs(got - expect);
          max_err = std::max(max_err, err);
          if (err > 1e-6 + 1e-2 * std::abs(expect)) ++bad;
        }
      }
      std::printf("softmax bfloat16[%lld, %lld]: %s (max abs error %.3g, %lld of %zu outside tolerance)\n",
                  static_cast<long long>(kSoftmaxRows), static_cast<long long>(kSoftmaxCols), bad ? "MISMATCH" : "OK",
                  max_err, static_cast<long long>(bad), n);
      failures += bad != 0;
    }

    // Arguments that were not exported.
    Tensor other = Tensor::contiguous(x.ptr, DType::kBFloat16, {1000, 1000});
    expect_error(example_kernels::softmax(other, other, stream), rt::StatusCode::kUnsupported, "softmax [1000, 1000]");
    Tensor misaligned = Tensor::contiguous(x.ptr + 2, DType::kBFloat16, {kSoftmaxRows, kSoftmaxCols});
    expect_error(example_kernels::softmax(misaligned, tout, stream), rt::StatusCode::kUnsupported,
                 "softmax with x 2 bytes off 16-byte alignment");
    Tensor as_float = Tensor::contiguous(x.ptr, DType::kFloat32, {kSoftmaxRows, kSoftmaxCols});
    expect_error(example_kernels::softmax(as_float, as_float, stream), rt::StatusCode::kUnsupported, "softmax float32");
    Tensor null_x = Tensor::contiguous(0, DType::kBFloat16, {kSoftmaxRows, kSoftmaxCols});
    expect_error(example_kernels::softmax(null_x, tout, stream), rt::StatusCode::kInvalidArgument, "softmax null x");

    if (run_checks) {
      double ms = device_ms_per_call([&] { return example_kernels::softmax(tx, tout, stream); }, stream);
      std::printf("softmax bfloat16[%lld, %lld]: %.3f ms per call, %.2f TB/s (wall time over 20 synchronized calls)\n",
                  static_cast<long long>(kSoftmaxRows), static_cast<long long>(kSoftmaxCols), ms,
                  2.0 * n * 2 / (ms * 1e-3) / 1e12);
    }
  }

  // ------------------------------------------------------------- small softmax: overhead
  {
    const size_t n = kSmallRows * kSmallCols;
    DeviceBuffer x(n * 2), out(n * 2);
    std::vector<uint16_t> hx = random_bf16(n, -4.f, 4.f, 2);
    x.upload(hx.data());
    Tensor tx = Tensor::contiguous(x.ptr, DType::kBFloat16, {kSmallRows, kSmallCols});
    Tensor tout = Tensor::contiguous(out.ptr, DType::kBFloat16, {kSmallRows, kSmallCols});
    check(example_kernels::softmax(tx, tout, stream), "softmax (small)");
    sync(stream);
    if (run_checks) {
      std::vector<uint16_t> hout(n);
      out.download(hout.data());
      double max_err = 0;
      for (int64_t r = 0; r < kSmallRows; ++r) {
        float mx = -INFINITY;
        for (int64_t c = 0; c < kSmallCols; ++c) mx = std::max(mx, from_bf16(hx[r * kSmallCols + c]));
        double sum = 0;
        for (int64_t c = 0; c < kSmallCols; ++c) sum += std::exp(static_cast<double>(from_bf16(hx[r * kSmallCols + c])) - mx);
        for (int64_t c = 0; c < kSmallCols; ++c) {
          double expect = std::exp(static_cast<double>(from_bf16(hx[r * kSmallCols + c])) - mx) / sum;
          max_err = std::max(max_err, std::abs(from_bf16(hout[r * kSmallCols + c]) - expect) / (1e-6 + expect));
        }
      }
      bool ok = max_err < 1e-2;
      std::printf("softmax bfloat16[%lld, %lld]: %s (max relative error %.3g)\n", static_cast<long long>(kSmallRows),
                  static_cast<long long>(kSmallCols), ok ? "OK" : "MISMATCH", max_err);
      failures += !ok;
      double us = host_us_per_call([&] { return example_kernels::softmax(tx, tout, stream); }, stream);
      std::printf("per-call overhead, C++ example_kernels::softmax(bfloat16[%lld, %lld]): %.2f us (host time per call)\n",
                  static_cast<long long>(kSmallRows), static_cast<long long>(kSmallCols), us);
    }
  }

  // ------------------------------------------------------------- matmul
  {
    DeviceBuffer x(kM * kK * 2), y(kK * kN * 2), out(kM * kN * 2);
    std::vector<uint16_t> hx, hy;
    if (run_checks) {
      hx = random_bf16(kM * kK, -1.f, 1.f, 3);
      hy = random_bf16(kK * kN, -1.f, 1.f, 4);
      x.upload(hx.data());
      y.upload(hy.data());
    }
    Tensor tx = Tensor::contiguous(x.ptr, DType::kBFloat16, {kM, kK});
    Tensor ty = Tensor::contiguous(y.ptr, DType::kBFloat16, {kK, kN});
    Tensor tout = Tensor::contiguous(out.ptr, DType::kBFloat16, {kM, kN});
    check(example_kernels::matmul(tx, ty, tout, stream), "matmul");
    sync(stream);
    if (run_checks) {
      std::vector<uint16_t> hout(kM * kN);
      out.download(hout.data());
      // Every output of 64 rows and 64 columns spread over the matrix, plus 4096 random ones.
      std::vector<std::pair<int64_t, int64_t>> points;
      for (int64_t i = 0; i < 64; ++i)
        for (int64_t j = 0; j < 64; ++j) points.emplace_back(i * (kM / 64) + i % 7, j * (kN / 64) + j % 5);
      std::mt19937 gen(5);
      for (int i = 0; i < 4096; ++i) points.emplace_back(gen() % kM, gen() % kN);
      std::vector<float> col(kK);
      double max_err = 0;
      int bad = 0;
      for (auto [i, j] : points) {
        double expect = 0;
        for (int64_t k = 0; k < kK; ++k) expect += static_cast<double>(from_bf16(hx[i * kK + k])) * from_bf16(hy[k * kN + j]);
        double got = from_bf16(hout[i * kN + j]);
        double err = std::abs(got - expect);
        max_err = std::max(max_err, err);
        if (err > 0.05 + 1e-2 * std::abs(expect)) ++bad;
      }
      std::printf("matmul bfloat16[%lld, %lld] x [%lld, %lld]: %s (max abs error %.3g over %zu checked outputs)\n",
                  static_cast<long long>(kM), static_cast<long long>(kK), static_cast<long long>(kK),
                  static_cast<long long>(kN), bad ? "MISMATCH" : "OK", max_err, points.size());
      failures += bad != 0;
      double ms = device_ms_per_call([&] { return example_kernels::matmul(tx, ty, tout, stream); }, stream);
      std::printf("matmul: %.3f ms per call, %.0f TFLOP/s (wall time over 20 synchronized calls)\n", ms,
                  2.0 * kM * kN * kK / (ms * 1e-3) / 1e12);
    }
    Tensor wrong = Tensor::contiguous(y.ptr, DType::kBFloat16, {kK, kN / 2});
    expect_error(example_kernels::matmul(tx, wrong, tout, stream), rt::StatusCode::kUnsupported, "matmul y [4096, 2048]");
  }

  if (failures) {
    std::printf("FAILED: %d check(s)\n", failures);
    return 1;
  }
  std::printf("all checks passed%s\n", run_checks ? "" : " (statuses only: --no-check)");
  return 0;
}
