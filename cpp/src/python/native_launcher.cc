// NativeLauncher: the hot path of a Triton kernel launch, in C++.
//
// Triton's Python launch path costs ~30 us per call (binding, specialization
// key, cache lookup, launcher call).  After the first call of a kernel has gone
// through Triton (which compiles it and loads the CUfunction), Python builds a
// NativeLauncher from the CompiledKernel and the arguments of that call.
// Every later call checks, in C++, that the arguments still match what Triton
// specialized the compiled kernel on (the "launch signature"), packs them into
// the kernel's parameter buffer and launches through the runtime.  When they
// do not match it launches nothing and returns False: Python then takes
// Triton's path, which compiles or finds the right kernel.
//
// The launch signature mirrors Triton 3.6's specialization
// (native_specialize_impl): for a pointer, whether the address is 16-byte
// aligned, plus the tensor's dtype; for an int, whether it equals 1, whether
// it is divisible by 16, and whether it fits i32, i64 or only u64; for a
// constexpr, its value; for bools and floats, only their Python type.
#include "native_launcher.h"

#include <Python.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "deuteron_runtime/runtime.h"

namespace nb = nanobind;
namespace rt = deuteron::runtime;

namespace {

enum class Kind : uint8_t {
  kPtr,        // an object with data_ptr() (a tensor): a 64-bit device address
  kNullPtr,    // None passed as a null pointer ("none")
  kConstexpr,  // compiled into the kernel: checked, not passed
  kBool,       // u1: a Python bool, one byte
  kI1, kI8, kI16, kI32, kI64,
  kU8, kU16, kU32, kU64,
  kF16, kBF16, kF32, kF64,
};

bool is_int_kind(Kind k) { return k >= Kind::kI1 && k <= Kind::kU64; }
bool is_float_kind(Kind k) { return k >= Kind::kF16 && k <= Kind::kF64; }

// Kinds as Triton's src.signature spells them ("*fp32" for pointers).
Kind parse_kind(const std::string& s) {
  if (s == "ptr" || (!s.empty() && s[0] == '*')) return Kind::kPtr;
  if (s == "none") return Kind::kNullPtr;
  if (s == "constexpr") return Kind::kConstexpr;
  if (s == "u1") return Kind::kBool;
  if (s == "i1") return Kind::kI1;
  if (s == "i8") return Kind::kI8;
  if (s == "i16") return Kind::kI16;
  if (s == "i32") return Kind::kI32;
  if (s == "i64") return Kind::kI64;
  if (s == "u8") return Kind::kU8;
  if (s == "u16") return Kind::kU16;
  if (s == "u32") return Kind::kU32;
  if (s == "u64") return Kind::kU64;
  if (s == "fp16") return Kind::kF16;
  if (s == "bf16") return Kind::kBF16;
  if (s == "fp32" || s == "f32") return Kind::kF32;
  if (s == "fp64") return Kind::kF64;
  throw std::invalid_argument("NativeLauncher: unsupported kernel parameter kind '" + s +
                              "' (tuples and tensor descriptors take Triton's launcher)");
}

// How Triton classifies an int argument's range: i32, i64, or u64.
enum IntRange : uint8_t { kFitsI32 = 0, kFitsI64 = 1, kFitsU64 = 2 };

// What Triton specialized one int argument on.
struct IntKey {
  bool is_one;
  bool div16;
  uint8_t range;
  bool operator==(const IntKey&) const = default;
};

// Reads a Python int's two's-complement bits and its IntKey.  False (no
// Python error set) for values outside [-2**63, 2**64).
bool read_int(PyObject* o, uint64_t* bits, IntKey* key) {
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
  if (overflow == 0) {
    if (v == -1 && PyErr_Occurred()) {
      PyErr_Clear();
      return false;
    }
    *bits = static_cast<uint64_t>(v);
    *key = {v == 1, (v & 15) == 0, static_cast<uint8_t>(v >= INT32_MIN && v <= INT32_MAX ? kFitsI32 : kFitsI64)};
    return true;
  }
  if (overflow < 0) return false;
  unsigned long long u = PyLong_AsUnsignedLongLong(o);
  if (u == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
    PyErr_Clear();
    return false;
  }
  *bits = u;
  *key = {false, (u & 15) == 0, kFitsU64};
  return true;
}

uint16_t pack_fp16(double d) {
  unsigned char out[2];
#if PY_VERSION_HEX >= 0x030B0000
  PyFloat_Pack2(d, reinterpret_cast<char*>(out), /*little-endian=*/1);
#else
  _PyFloat_Pack2(d, out, 1);
#endif
  uint16_t r;
  std::memcpy(&r, out, 2);
  return r;
}

// bf16 as Triton's launcher packs it: the top half of the fp32 bits
// (truncation, not rounding), so both paths pass identical bits.
uint16_t pack_bf16(double d) {
  float f = static_cast<float>(d);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return static_cast<uint16_t>(u >> 16);
}

// One kernel argument: its kind and what the compiled kernel was specialized on.
struct Param {
  Kind kind;
  bool aligned16 = false;  // kPtr
  nb::object dtype;        // kPtr: the tensor dtype the kernel was compiled for (null: not checked)
  IntKey int_key{};        // int kinds
  nb::object value;        // kConstexpr: the value compiled in
};

// Argument arrays up to this long are packed on the stack.
constexpr size_t kInlineParams = 64;

PyObject* g_str_data_ptr = nullptr;
PyObject* g_str_dtype = nullptr;

void intern_names() {
  if (g_str_data_ptr == nullptr) g_str_data_ptr = PyUnicode_InternFromString("data_ptr");
  if (g_str_dtype == nullptr) g_str_dtype = PyUnicode_InternFromString("dtype");
}

// obj.data_ptr() as an address; false (no Python error set) when obj has no
// usable data_ptr.
bool data_ptr_of(PyObject* obj, uint64_t* out) {
  PyObject* r = PyObject_CallMethodNoArgs(obj, g_str_data_ptr);
  if (r == nullptr) {
    PyErr_Clear();
    return false;
  }
  bool ok = PyLong_Check(r);
  if (ok) {
    *out = PyLong_AsUnsignedLongLong(r);
    if (PyErr_Occurred()) {
      PyErr_Clear();
      ok = false;
    }
  }
  Py_DECREF(r);
  return ok;
}

// The argument's dtype attribute, or a null object if it has none.
nb::object dtype_of(PyObject* obj) {
  PyObject* d = PyObject_GetAttr(obj, g_str_dtype);
  if (d == nullptr) PyErr_Clear();
  return nb::steal(d);
}

// A Python int as uint64 (a stream handle); raises Python's error if it is not one.
uint64_t to_u64(PyObject* o) {
  unsigned long long v = PyLong_AsUnsignedLongLong(o);
  if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) throw nb::python_error();
  return v;
}

class NativeLauncher {
 public:
  NativeLauncher(uint64_t function, const std::vector<std::string>& kinds, nb::sequence sample_args, int device,
                 nb::callable get_device, nb::callable get_stream, int num_warps, int num_ctas, uint32_t shared,
                 uint64_t global_scratch_size, uint32_t global_scratch_align, uint64_t profile_scratch_size,
                 bool launch_cooperative_grid, bool launch_pdl, std::string name, nb::object scratch_allocator)
      : device_(device),
        device_obj_(nb::int_(device)),
        get_device_(std::move(get_device)),
        get_stream_(std::move(get_stream)),
        scratch_allocator_(std::move(scratch_allocator)) {
    intern_names();
    if (function == 0) throw std::invalid_argument("NativeLauncher: null CUfunction (kernel not loaded yet?)");
    if (num_warps < 1 || num_warps > 32) throw std::invalid_argument("NativeLauncher: num_warps must be in 1..32");
    if (num_ctas < 1) throw std::invalid_argument("NativeLauncher: num_ctas must be positive");
    if (profile_scratch_size > 0)
      throw std::invalid_argument("NativeLauncher: the kernel needs profiler scratch memory (it was compiled with "
                                  "instrumentation); launch it through Triton");
    if (global_scratch_size > 0 && scratch_allocator_.is_none())
      throw std::invalid_argument("NativeLauncher: the kernel needs " + std::to_string(global_scratch_size) +
                                  " bytes of global scratch memory per program; pass scratch_allocator");
    kernel_.function = reinterpret_cast<rt::CUfunction>(static_cast<uintptr_t>(function));
    kernel_.num_warps = num_warps;
    kernel_.num_ctas = num_ctas;
    kernel_.shared_bytes = shared;
    kernel_.global_scratch_size = global_scratch_size;
    kernel_.global_scratch_align = global_scratch_align;
    kernel_.launch_cooperative_grid = launch_cooperative_grid;
    kernel_.launch_pdl = launch_pdl;
    kernel_.name = std::move(name);

    const size_t n = nb::len(sample_args);
    if (kinds.size() != n)
      throw std::invalid_argument("NativeLauncher: " + std::to_string(kinds.size()) + " parameter kinds for " +
                                  std::to_string(n) + " sample arguments");
    params_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      Param p;
      p.kind = parse_kind(kinds[i]);
      nb::object a = sample_args[i];
      if (!capture(p, a.ptr()))
        throw std::invalid_argument("NativeLauncher: sample argument " + std::to_string(i) + " (" +
                                    nb::cast<std::string>(nb::repr(a)) + ") does not fit parameter kind '" +
                                    kinds[i] + "'");
      if (p.kind != Kind::kConstexpr) ++num_kernel_params_;
      params_.push_back(std::move(p));
    }

    // Load the driver now, so that a machine without one fails here, once,
    // where Python can fall back to Triton's launcher.
    const rt::DriverApi* api = nullptr;
    if (rt::Status s = rt::driver(&api); !s.ok()) throw std::runtime_error(s.message);
  }

  // launcher(grid, *args) -> bool.  False: the arguments do not match the
  // compiled kernel (nothing launched; use Triton's path).
  bool call(nb::handle grid, nb::args args) {
    check_not_cleared();
    rt::Dim3 g;
    if (!parse_grid(grid.ptr(), &g)) return false;
    const size_t n = args.size();
    if (n != params_.size()) return false;
    if (!current_device_matches()) return false;

    uint64_t inline_slots[kInlineParams];
    void* inline_ptrs[kInlineParams];
    std::vector<uint64_t> heap_slots;
    std::vector<void*> heap_ptrs;
    uint64_t* slots = inline_slots;
    void** ptrs = inline_ptrs;
    if (num_kernel_params_ > kInlineParams) {
      heap_slots.resize(num_kernel_params_);
      heap_ptrs.resize(num_kernel_params_);
      slots = heap_slots.data();
      ptrs = heap_ptrs.data();
    }
    if (!marshal(args.ptr(), slots, ptrs)) return false;

    rt::CUstream stream = current_stream();
    rt::Scratch scratch;
    nb::object scratch_memory;  // keeps the allocator's memory alive until the launch is enqueued
    if (kernel_.global_scratch_size > 0) scratch_memory = allocate_scratch(g, stream, &scratch.global);

    rt::Status s;
    {
      // The launch can block (a full launch queue); let other threads run.
      nb::gil_scoped_release release;
      s = launch(g, stream, ptrs, scratch);
    }
    if (!s.ok()) throw std::runtime_error(s.message);
    return true;
  }

  // Whether `args` match the compiled kernel (what call() checks, minus the
  // grid and the current device), without launching.
  bool matches(nb::args args) {
    check_not_cleared();
    if (args.size() != params_.size()) return false;
    std::vector<uint64_t> slots(num_kernel_params_ + 1);
    std::vector<void*> ptrs(num_kernel_params_ + 1);
    return marshal(args.ptr(), slots.data(), ptrs.data());
  }

  // The expected signature, for debugging a launcher that keeps returning False.
  std::string signature() const {
    check_not_cleared();
    std::string out;
    for (const Param& p : params_) {
      if (!out.empty()) out += ", ";
      switch (p.kind) {
        case Kind::kPtr:
          out += std::string("ptr(") + (p.aligned16 ? "aligned16" : "unaligned");
          if (p.dtype.is_valid()) out += ", " + nb::cast<std::string>(nb::str(p.dtype));
          out += ")";
          break;
        case Kind::kNullPtr: out += "none"; break;
        case Kind::kConstexpr: out += "constexpr(" + nb::cast<std::string>(nb::repr(p.value)) + ")"; break;
        case Kind::kBool: out += "u1"; break;
        default:
          if (is_int_kind(p.kind)) {
            static const char* ranges[] = {"i32", "i64", "u64"};
            out += std::string("int(") + ranges[p.int_key.range] + (p.int_key.is_one ? ", ==1" : "") +
                   (p.int_key.div16 ? ", %16==0" : "") + ")";
          } else {
            out += "float";
          }
      }
    }
    return out;
  }

  size_t num_kernel_params() const { return num_kernel_params_; }
  int device() const { return device_; }

  // Cyclic garbage collection.  The launcher holds Python objects (callables,
  // dtypes, constexpr values) that can lead back to it (an allocator closure
  // over a module that caches the launcher), so it reports them to the
  // collector, and lets it break such cycles.
  int traverse(visitproc visit, void* arg) const {
    Py_VISIT(device_obj_.ptr());
    Py_VISIT(get_device_.ptr());
    Py_VISIT(get_stream_.ptr());
    Py_VISIT(scratch_allocator_.ptr());
    for (const Param& p : params_) {
      Py_VISIT(p.dtype.ptr());
      Py_VISIT(p.value.ptr());
    }
    return 0;
  }

  void clear() {
    cleared_ = true;
    device_obj_.reset();
    get_device_.reset();
    get_stream_.reset();
    scratch_allocator_.reset();
    for (Param& p : params_) {
      p.dtype.reset();
      p.value.reset();
    }
  }

 private:
  void check_not_cleared() const {
    if (cleared_) throw std::runtime_error("NativeLauncher: used after the garbage collector cleared it");
  }

  // Records what the compiled kernel was specialized on from the first
  // call's argument.  False when the argument cannot have that kind.
  bool capture(Param& p, PyObject* a) {
    switch (p.kind) {
      case Kind::kPtr: {
        uint64_t addr;
        if (a == Py_None || PyLong_Check(a) || !data_ptr_of(a, &addr)) return false;
        p.aligned16 = (addr & 15) == 0;
        p.dtype = dtype_of(a);
        return true;
      }
      case Kind::kNullPtr: return a == Py_None;
      case Kind::kConstexpr: p.value = nb::borrow(a); return true;
      case Kind::kBool: return PyBool_Check(a);
      default:
        if (is_float_kind(p.kind)) return PyFloat_Check(a);
        uint64_t bits;
        if (!PyLong_Check(a) || (PyBool_Check(a) && p.kind != Kind::kI1)) return false;
        return read_int(a, &bits, &p.int_key);
    }
  }

  // Packs the arguments into slots (one 8-byte slot per kernel parameter,
  // the value in its low bytes: the driver reads as many bytes as the
  // parameter has) and checks them against the expected signature.
  bool marshal(PyObject* args, uint64_t* slots, void** ptrs) const {
    PyObject** items = &PyTuple_GET_ITEM(args, 0);
    size_t k = 0;
    for (size_t i = 0; i < params_.size(); ++i) {
      const Param& p = params_[i];
      PyObject* a = items[i];
      uint64_t bits = 0;
      switch (p.kind) {
        case Kind::kConstexpr:
          if (!same_constexpr(a, p.value.ptr())) return false;
          continue;  // not a kernel parameter
        case Kind::kPtr: {
          if (a == Py_None || PyLong_Check(a) || !data_ptr_of(a, &bits)) return false;
          if (((bits & 15) == 0) != p.aligned16) return false;
          if (p.dtype.is_valid()) {
            PyObject* d = PyObject_GetAttr(a, g_str_dtype);
            if (d == nullptr) {
              PyErr_Clear();
              return false;
            }
            const bool same = d == p.dtype.ptr();  // torch dtypes are singletons
            Py_DECREF(d);
            if (!same) return false;
          }
          break;
        }
        case Kind::kNullPtr:
          if (a != Py_None) return false;
          break;
        case Kind::kBool:
          if (!PyBool_Check(a)) return false;
          bits = a == Py_True ? 1 : 0;
          break;
        case Kind::kF16:
        case Kind::kBF16:
        case Kind::kF32:
        case Kind::kF64: {
          if (!PyFloat_Check(a)) return false;
          const double d = PyFloat_AS_DOUBLE(a);
          if (p.kind == Kind::kF64) {
            std::memcpy(&bits, &d, 8);
          } else if (p.kind == Kind::kF32) {
            const float f = static_cast<float>(d);
            uint32_t u;
            std::memcpy(&u, &f, 4);
            bits = u;
          } else {
            bits = p.kind == Kind::kF16 ? pack_fp16(d) : pack_bf16(d);
          }
          break;
        }
        default: {  // ints: the slot keeps the low bytes of the two's-complement value
          if (!PyLong_Check(a) || (PyBool_Check(a) && p.kind != Kind::kI1)) return false;
          IntKey key;
          if (!read_int(a, &bits, &key) || !(key == p.int_key)) return false;
          break;
        }
      }
      slots[k] = bits;
      ptrs[k] = &slots[k];
      ++k;
    }
    return true;
  }

  static bool same_constexpr(PyObject* a, PyObject* expected) {
    if (a == expected) return true;
    // Triton keys constexprs by value; a different type (1 vs True vs 1.0)
    // may compile differently, so it counts as a different kernel here.
    if (Py_TYPE(a) != Py_TYPE(expected)) return false;
    int eq = PyObject_RichCompareBool(a, expected, Py_EQ);
    if (eq < 0) {
      PyErr_Clear();
      return false;
    }
    return eq == 1;
  }

  static bool parse_grid(PyObject* grid, rt::Dim3* g) {
    if (!PyTuple_Check(grid) && !PyList_Check(grid)) return false;  // e.g. a callable grid: Triton's path
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(grid);
    if (n < 1 || n > 3) throw std::invalid_argument("grid must have 1 to 3 dimensions, not " + std::to_string(n));
    PyObject** items = PySequence_Fast_ITEMS(grid);
    uint32_t dims[3] = {1, 1, 1};
    for (Py_ssize_t i = 0; i < n; ++i) {
      if (!PyLong_Check(items[i])) return false;  // e.g. a SymInt: Triton's path
      long long v = PyLong_AsLongLong(items[i]);
      if (v == -1 && PyErr_Occurred()) throw nb::python_error();
      if (v < 0 || v > UINT32_MAX)
        throw std::invalid_argument("grid dimension " + std::to_string(i) + " is " + std::to_string(v) +
                                    ", outside [0, 2**32)");
      dims[i] = static_cast<uint32_t>(v);
    }
    *g = {dims[0], dims[1], dims[2]};
    return true;
  }

  bool current_device_matches() const {
    PyObject* r = PyObject_CallNoArgs(get_device_.ptr());
    if (r == nullptr) throw nb::python_error();
    long d = PyLong_AsLong(r);
    Py_DECREF(r);
    if (d == -1 && PyErr_Occurred()) throw nb::python_error();
    return d == device_;
  }

  rt::CUstream current_stream() const {
    PyObject* r = PyObject_CallOneArg(get_stream_.ptr(), device_obj_.ptr());
    if (r == nullptr) throw nb::python_error();
    nb::object owned = nb::steal(r);
    return reinterpret_cast<rt::CUstream>(static_cast<uintptr_t>(to_u64(r)));
  }

  // Global scratch memory from the allocator Python gave (Triton's contract:
  // alloc(size, alignment, stream) -> an object with data_ptr()).
  nb::object allocate_scratch(rt::Dim3 g, rt::CUstream stream, rt::CUdeviceptr* out) const {
    const uint64_t bytes = rt::global_scratch_bytes(kernel_, g);
    if (bytes == 0) return nb::none();
    nb::object mem = scratch_allocator_(bytes, kernel_.global_scratch_align,
                                        static_cast<uint64_t>(reinterpret_cast<uintptr_t>(stream)));
    uint64_t addr = 0;
    if (!data_ptr_of(mem.ptr(), &addr))
      throw std::runtime_error("NativeLauncher: the scratch allocator returned an object without data_ptr()");
    *out = addr;
    return mem;
  }

  rt::Status launch(rt::Dim3 g, rt::CUstream stream, void** ptrs, rt::Scratch scratch) {
    const rt::DriverApi* api = nullptr;
    if (rt::Status s = rt::driver(&api); !s.ok()) return s;
    // A thread that never touched CUDA has no current context; Triton's
    // launcher makes one current the same way.
    if (rt::Status s = rt::ensure_context(*api, device_); !s.ok()) return s;
    return rt::launch(kernel_, g, stream, ptrs, num_kernel_params_, scratch);
  }

  rt::Kernel kernel_;
  std::vector<Param> params_;
  size_t num_kernel_params_ = 0;
  int device_;
  nb::object device_obj_;
  nb::callable get_device_;
  nb::callable get_stream_;
  nb::object scratch_allocator_;
  bool cleared_ = false;
};

int native_launcher_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));  // heap types are visited by their instances
  if (!nb::inst_ready(self)) return 0;
  return nb::inst_ptr<NativeLauncher>(self)->traverse(visit, arg);
}

int native_launcher_clear(PyObject* self) {
  if (nb::inst_ready(self)) nb::inst_ptr<NativeLauncher>(self)->clear();
  return 0;
}

PyType_Slot native_launcher_slots[] = {
    {Py_tp_traverse, reinterpret_cast<void*>(native_launcher_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(native_launcher_clear)},
    {0, nullptr},
};

}  // namespace

void bind_native_launcher(nb::module_& m) {
  nb::class_<NativeLauncher>(m, "NativeLauncher", nb::type_slots(native_launcher_slots),
                             "Launches one Triton-compiled kernel through deuteron's C++ runtime.\n\n"
                             "Built from the CompiledKernel and the arguments of a first call that went through "
                             "Triton; launcher(grid, *args) launches and returns True, or returns False without "
                             "launching when the arguments need a different compiled kernel.")
      .def(nb::init<uint64_t, const std::vector<std::string>&, nb::sequence, int, nb::callable, nb::callable, int,
                    int, uint32_t, uint64_t, uint32_t, uint64_t, bool, bool, std::string, nb::object>(),
           nb::arg("function"), nb::arg("kinds"), nb::arg("sample_args"), nb::kw_only(), nb::arg("device"),
           nb::arg("get_device"), nb::arg("get_stream"), nb::arg("num_warps"), nb::arg("num_ctas") = 1,
           nb::arg("shared") = 0, nb::arg("global_scratch_size") = 0, nb::arg("global_scratch_align") = 1,
           nb::arg("profile_scratch_size") = 0, nb::arg("launch_cooperative_grid") = false,
           nb::arg("launch_pdl") = false, nb::arg("name") = "", nb::arg("scratch_allocator") = nb::none())
      .def("__call__", &NativeLauncher::call, "launcher(grid, *args) -> bool")
      .def("matches", &NativeLauncher::matches,
           "Whether these arguments fit the compiled kernel (no launch, no device or grid check).")
      .def_prop_ro("signature", &NativeLauncher::signature)
      .def_prop_ro("num_kernel_params", &NativeLauncher::num_kernel_params)
      .def_prop_ro("device", &NativeLauncher::device);

  m.def(
      "_reload_cuda_driver_for_testing",
      [](std::optional<std::string> path) {
        rt::Status s = rt::reload_driver_for_testing(path ? path->c_str() : nullptr);
        if (!s.ok()) throw std::runtime_error(s.message);
      },
      nb::arg("path").none() = nb::none(),
      "Tests only: load the CUDA driver from `path` (None: DEUTERON_LIBCUDA or libcuda.so.1).");
}
