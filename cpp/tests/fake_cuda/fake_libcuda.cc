// A fake libcuda for machines without a GPU: it implements the driver entry
// points deuteron's runtime resolves, records what they were asked to do
// (launch grid, block, shared memory, the bytes of every kernel parameter,
// function attributes) and can be told to fail.  The runtime loads it in
// place of libcuda.so.1 through DEUTERON_LIBCUDA or reload_driver_for_testing;
// tests drive it through fake_cuda_control.h.
//
// Fake "cubins" are text: "FAKECUBIN\n" then one line per function,
// "<name> <size>,<size>,... [<max threads per block>]" (sizes in bytes, the
// two hidden scratch pointers included; "-" for none).
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "fake_cuda_control.h"

namespace {

using CUresult = int;

struct Function {
  std::vector<uint32_t> param_sizes;
  int max_threads = 1024;
};

struct State {
  std::mutex mu;
  std::vector<FakeLaunch> launches;
  std::map<std::string, int> calls;
  std::map<std::string, int> failures;
  std::map<uint64_t, Function> functions;  // by handle
  std::map<uint64_t, std::map<std::string, uint64_t>> modules;  // handle -> name -> function
  std::map<std::pair<uint64_t, int>, int64_t> func_attrs;
  std::set<uint64_t> host_pointers;
  std::map<uint64_t, void*> allocations;
  uint64_t context = 0xC0C0;
  uint64_t next_handle = 0xF0000000;
};

State& state() {
  static State* s = new State;  // never destroyed: entry points may run during exit
  return *s;
}

// Counts the call and returns the failure injected for it, if any.
CUresult enter(State& s, const char* name) {
  s.calls[name]++;
  auto it = s.failures.find(name);
  return it == s.failures.end() ? 0 : it->second;
}

#define FAKE_ENTER(name)                        \
  State& s = state();                           \
  std::lock_guard<std::mutex> lock(s.mu);       \
  if (CUresult r_ = enter(s, name); r_ != 0) return r_

struct ErrorInfo {
  int code;
  const char* name;
  const char* text;
};

const ErrorInfo kErrors[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {101, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {200, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {201, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {400, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {700, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
};

const ErrorInfo* find_error(int code) {
  for (const auto& e : kErrors)
    if (e.code == code) return &e;
  return nullptr;
}

void record_params(State& s, FakeLaunch& l, uint64_t function, void** params) {
  auto it = s.functions.find(function);
  if (it == s.functions.end() || params == nullptr) {
    l.num_params = -1;
    return;
  }
  const auto& sizes = it->second.param_sizes;
  l.num_params = static_cast<int32_t>(sizes.size());
  for (size_t i = 0; i < sizes.size() && i < FAKE_CUDA_MAX_PARAMS; ++i) {
    l.param_size[i] = sizes[i];
    uint64_t v = 0;
    std::memcpy(&v, params[i], sizes[i] <= 8 ? sizes[i] : 8);
    l.param_value[i] = v;
  }
}

}  // namespace

extern "C" {

// ------------------------------------------------------------ control API

void fake_cuda_reset(void) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.launches.clear();
  s.calls.clear();
  s.failures.clear();
  s.functions.clear();
  s.modules.clear();
  s.func_attrs.clear();
  s.host_pointers.clear();
  for (auto& [p, mem] : s.allocations) std::free(mem);
  s.allocations.clear();
  s.context = 0xC0C0;
}

void fake_cuda_fail(const char* entry_point, int result) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.failures[entry_point] = result;
}

void fake_cuda_register_function(uint64_t function, int32_t num_params, const uint32_t* sizes) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.functions[function].param_sizes.assign(sizes, sizes + num_params);
}

void fake_cuda_mark_host_pointer(uint64_t ptr) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.host_pointers.insert(ptr);
}

void fake_cuda_set_current_context(uint64_t ctx) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.context = ctx;
}

uint64_t fake_cuda_current_context(void) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.context;
}

int32_t fake_cuda_launch_count(void) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return static_cast<int32_t>(s.launches.size());
}

int32_t fake_cuda_get_launch(int32_t index, FakeLaunch* out) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (index < 0 || static_cast<size_t>(index) >= s.launches.size()) return -1;
  *out = s.launches[index];
  return 0;
}

int32_t fake_cuda_call_count(const char* entry_point) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.calls.find(entry_point);
  return it == s.calls.end() ? 0 : it->second;
}

int64_t fake_cuda_func_attribute(uint64_t function, int32_t attribute) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.func_attrs.find({function, attribute});
  return it == s.func_attrs.end() ? -1 : it->second;
}

// ------------------------------------------------------ driver entry points

CUresult cuInit(unsigned int) {
  FAKE_ENTER("cuInit");
  return 0;
}

CUresult cuGetErrorName(CUresult error, const char** str) {
  const ErrorInfo* e = find_error(error);
  if (e == nullptr) {
    *str = nullptr;
    return 1;
  }
  *str = e->name;
  return 0;
}

CUresult cuGetErrorString(CUresult error, const char** str) {
  const ErrorInfo* e = find_error(error);
  if (e == nullptr) {
    *str = nullptr;
    return 1;
  }
  *str = e->text;
  return 0;
}

CUresult cuDeviceGet(int* device, int ordinal) {
  FAKE_ENTER("cuDeviceGet");
  if (ordinal < 0 || ordinal > 1) return 101;
  *device = ordinal;
  return 0;
}

CUresult cuDeviceGetAttribute(int* value, int attribute, int) {
  FAKE_ENTER("cuDeviceGetAttribute");
  switch (attribute) {
    case 16: *value = 132; break;     // multiprocessors
    case 75: *value = 9; break;       // compute capability major
    case 76: *value = 0; break;       // minor
    case 97: *value = 232448; break;  // shared memory per block, opt-in
    default: *value = 0;
  }
  return 0;
}

CUresult cuCtxGetCurrent(void** ctx) {
  FAKE_ENTER("cuCtxGetCurrent");
  *ctx = reinterpret_cast<void*>(s.context);
  return 0;
}

CUresult cuCtxSetCurrent(void* ctx) {
  FAKE_ENTER("cuCtxSetCurrent");
  s.context = reinterpret_cast<uint64_t>(ctx);
  return 0;
}

CUresult cuCtxSynchronize(void) {
  FAKE_ENTER("cuCtxSynchronize");
  return 0;
}

CUresult cuDevicePrimaryCtxRetain(void** ctx, int device) {
  FAKE_ENTER("cuDevicePrimaryCtxRetain");
  *ctx = reinterpret_cast<void*>(uint64_t{0xC0C0} + static_cast<uint64_t>(device));
  return 0;
}

CUresult cuModuleLoadData(void** module, const void* image) {
  FAKE_ENTER("cuModuleLoadData");
  const char* text = static_cast<const char*>(image);
  const char kMagic[] = "FAKECUBIN\n";
  if (std::strncmp(text, kMagic, sizeof(kMagic) - 1) != 0) return 200;  // CUDA_ERROR_INVALID_IMAGE
  std::istringstream in(text + sizeof(kMagic) - 1);
  std::string line;
  uint64_t handle = s.next_handle;
  s.next_handle += 0x100;
  auto& names = s.modules[handle];
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name, sizes;
    if (!(fields >> name >> sizes)) continue;
    Function f;
    if (sizes != "-") {
      std::istringstream list(sizes);
      std::string item;
      while (std::getline(list, item, ',')) f.param_sizes.push_back(static_cast<uint32_t>(std::stoul(item)));
    }
    fields >> f.max_threads;
    uint64_t fh = s.next_handle;
    s.next_handle += 0x100;
    s.functions[fh] = f;
    names[name] = fh;
  }
  *module = reinterpret_cast<void*>(handle);
  return 0;
}

CUresult cuModuleUnload(void* module) {
  FAKE_ENTER("cuModuleUnload");
  return s.modules.erase(reinterpret_cast<uint64_t>(module)) ? 0 : 400;
}

CUresult cuModuleGetFunction(void** function, void* module, const char* name) {
  FAKE_ENTER("cuModuleGetFunction");
  auto m = s.modules.find(reinterpret_cast<uint64_t>(module));
  if (m == s.modules.end()) return 400;
  auto f = m->second.find(name);
  if (f == m->second.end()) return 500;  // CUDA_ERROR_NOT_FOUND
  *function = reinterpret_cast<void*>(f->second);
  return 0;
}

CUresult cuFuncGetAttribute(int* value, int attribute, void* function) {
  FAKE_ENTER("cuFuncGetAttribute");
  auto it = s.functions.find(reinterpret_cast<uint64_t>(function));
  *value = (attribute == 0 && it != s.functions.end()) ? it->second.max_threads : (attribute == 0 ? 1024 : 0);
  return 0;
}

CUresult cuFuncSetAttribute(void* function, int attribute, int value) {
  FAKE_ENTER("cuFuncSetAttribute");
  if (attribute == 8 && value > 232448) return 1;  // more dynamic shared memory than an H100 has
  s.func_attrs[{reinterpret_cast<uint64_t>(function), attribute}] = value;
  return 0;
}

CUresult cuFuncSetCacheConfig(void*, int) {
  FAKE_ENTER("cuFuncSetCacheConfig");
  return 0;
}

CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void* stream, void** params, void** extra) {
  FAKE_ENTER("cuLaunchKernel");
  FakeLaunch l{};
  l.function = reinterpret_cast<uint64_t>(f);
  l.stream = reinterpret_cast<uint64_t>(stream);
  l.grid[0] = gx, l.grid[1] = gy, l.grid[2] = gz;
  l.block[0] = bx, l.block[1] = by, l.block[2] = bz;
  l.shared_bytes = shared;
  record_params(s, l, l.function, params);
  s.launches.push_back(l);
  return 0;
}

// Mirrors the driver's CUlaunchConfig / CUlaunchAttribute layout.
struct FakeLaunchAttribute {
  int id;
  char pad[4];
  unsigned char value[64];
};
struct FakeLaunchConfig {
  unsigned gx, gy, gz, bx, by, bz, shared;
  void* stream;
  FakeLaunchAttribute* attrs;
  unsigned num_attrs;
};

CUresult cuLaunchKernelEx(const FakeLaunchConfig* c, void* f, void** params, void** extra) {
  FAKE_ENTER("cuLaunchKernelEx");
  FakeLaunch l{};
  l.function = reinterpret_cast<uint64_t>(f);
  l.stream = reinterpret_cast<uint64_t>(c->stream);
  l.grid[0] = c->gx, l.grid[1] = c->gy, l.grid[2] = c->gz;
  l.block[0] = c->bx, l.block[1] = c->by, l.block[2] = c->bz;
  l.shared_bytes = c->shared;
  l.via_ex = 1;
  l.num_attrs = static_cast<int32_t>(c->num_attrs);
  for (unsigned i = 0; i < c->num_attrs && i < FAKE_CUDA_MAX_ATTRS; ++i) {
    l.attr_id[i] = c->attrs[i].id;
    std::memcpy(l.attr_value[i], c->attrs[i].value, sizeof(l.attr_value[i]));
  }
  record_params(s, l, l.function, params);
  s.launches.push_back(l);
  return 0;
}

CUresult cuMemAlloc_v2(uint64_t* ptr, size_t bytes) {
  FAKE_ENTER("cuMemAlloc_v2");
  void* mem = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (mem == nullptr) return 2;
  *ptr = reinterpret_cast<uint64_t>(mem);
  s.allocations[*ptr] = mem;
  return 0;
}

CUresult cuMemFree_v2(uint64_t ptr) {
  FAKE_ENTER("cuMemFree_v2");
  auto it = s.allocations.find(ptr);
  if (it == s.allocations.end()) return 1;
  std::free(it->second);
  s.allocations.erase(it);
  return 0;
}

CUresult cuMemcpyHtoD_v2(uint64_t dst, const void* src, size_t bytes) {
  FAKE_ENTER("cuMemcpyHtoD_v2");
  std::memcpy(reinterpret_cast<void*>(dst), src, bytes);
  return 0;
}

CUresult cuMemcpyDtoH_v2(void* dst, uint64_t src, size_t bytes) {
  FAKE_ENTER("cuMemcpyDtoH_v2");
  std::memcpy(dst, reinterpret_cast<const void*>(src), bytes);
  return 0;
}

CUresult cuStreamSynchronize(void*) {
  FAKE_ENTER("cuStreamSynchronize");
  return 0;
}

CUresult cuPointerGetAttribute(void* data, int attribute, uint64_t ptr) {
  FAKE_ENTER("cuPointerGetAttribute");
  if (attribute != 3) return 1;
  if (s.host_pointers.count(ptr)) return 1;  // CUDA_ERROR_INVALID_VALUE, as for host memory
  *static_cast<uint64_t*>(data) = ptr;
  return 0;
}

CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, void*, int, size_t) {
  FAKE_ENTER("cuOccupancyMaxActiveBlocksPerMultiprocessor");
  *blocks = 1;
  return 0;
}

}  // extern "C"
