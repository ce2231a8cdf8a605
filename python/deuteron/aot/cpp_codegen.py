"""C++ text of an exported package: the header, the source, the CMake files.

Input: a :class:`Package` (functions, each with its specializations, the
compiled kernels and their cubins).  Output: strings; :mod:`.export` writes
them.  The generated code is deterministic: the same package gives the same
bytes.

The source keeps one straight-line function per specialization (build the
argument values, launch each kernel) and one dispatcher per exported
function, which checks the arguments against each specialization in the
order they were exported and calls the first that accepts them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..version import __version__ as VERSION
from .record import ExportError, LaunchParam, ScalarParam, Specialization, TensorParam
from .tensor_header import DTYPE_ENUM


@dataclass
class KernelImage:
    """A compiled kernel, deduplicated: one cubin and one function name in it."""

    cubin: int          # index into Package.cubins
    name: str           # metadata.name (the function in the cubin)
    num_warps: int
    num_ctas: int
    shared: int
    global_scratch_size: int
    global_scratch_align: int
    profile_scratch_size: int
    profile_scratch_align: int
    launch_cooperative_grid: bool
    launch_pdl: bool
    signature: list[str]  # Triton types of the cubin's parameters (hidden scratch pointers not included)


@dataclass
class Function:
    name: str
    specializations: list[Specialization] = field(default_factory=list)

    @property
    def params(self) -> list[TensorParam | ScalarParam]:
        return self.specializations[0].params


@dataclass
class Package:
    name: str
    arch: int
    functions: list[Function]
    kernels: list[KernelImage]
    cubins: list[bytes]
    cubin_files: list[str]
    launch_kernels: dict[int, int]  # id(RecordedLaunch) -> index into kernels


# ------------------------------------------------------------------ helpers
def c_string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.extend(f"\\{b:03o}" for b in ch.encode())
    out.append('"')
    return "".join(out)


def _dims(values: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def tensor_text(tp: TensorParam) -> str:
    return f"{tp.dtype}{_dims(tp.sizes)} strides {_dims(tp.strides)}"


def _cpp_type(p: TensorParam | ScalarParam) -> str:
    if isinstance(p, TensorParam):
        return "const Tensor&"
    return {"int": "int64_t", "float": "double", "bool": "bool"}[p.kind]


def signature_of(fn: Function, with_defaults: bool) -> str:
    parts = [f"{_cpp_type(p)} {p.name}" for p in fn.params]
    parts.append("CUstream stream")
    parts.append("deuteron::runtime::ScratchBuffer* scratch" + (" = nullptr" if with_defaults else ""))
    return ", ".join(parts)


def _call_args(fn: Function) -> str:
    return ", ".join([p.name for p in fn.params] + ["stream", "scratch"])


def _float_literal(v: float, ctype: str) -> str:
    if math.isnan(v):
        return f"std::numeric_limits<{ctype}>::quiet_NaN()"
    if math.isinf(v):
        return ("-" if v < 0 else "") + f"std::numeric_limits<{ctype}>::infinity()"
    return float(v).hex()


def _int_literal(v: int) -> str:
    if v == -(2**63):
        return "INT64_MIN"
    return f"INT64_C({v})"


def _scalar_condition(sp: ScalarParam, launches: list) -> str | None:
    """The dispatch test of a scalar argument for one specialization, or None."""
    if sp.mode == "unused":
        return None
    if sp.mode == "exact":
        if sp.kind == "bool":
            return f"{sp.name} == {'true' if sp.value else 'false'}"
        if sp.kind == "int":
            return f"{sp.name} == {_int_literal(sp.value)}"
        if math.isnan(sp.value):
            return f"std::isnan({sp.name})"
        return f"{sp.name} == {_float_literal(sp.value, 'double')}"
    # runtime: ints compiled as i32 must fit
    if sp.kind == "int":
        types = {p.type for launch in launches for p in launch.params if p.kind == "scalar" and p.source == sp.name}
        if "i32" in types:
            return f"fits_int32({sp.name})"
    return None


def _scalar_text(sp: ScalarParam) -> str:
    if sp.mode == "exact":
        return f"{sp.name} = {sp.value!r}"
    if sp.mode == "runtime":
        return f"{sp.name}: any {sp.kind}" + (" (int32 range)" if sp.kind == "int" and -(2**31) <= sp.value < 2**31
                                               else "")
    return f"{sp.name}: unused"


def spec_text(spec: Specialization) -> str:
    parts = []
    for p in spec.params:
        parts.append(f"{p.name}: {tensor_text(p)}" if isinstance(p, TensorParam) else _scalar_text(p))
    return "; ".join(parts)


def config_text(spec: Specialization) -> str:
    """The config as compact JSON, without the keys whose value is an empty list."""
    import json

    d = {k: v for k, v in json.loads(spec.config.to_json()).items() if v != []}
    return json.dumps(d, separators=(",", ":"))


def aligned_params(spec: Specialization) -> list[str]:
    names: list[str] = []
    for launch in spec.launches:
        for p in launch.params:
            if p.kind == "tensor" and p.aligned and p.source not in names:
                names.append(p.source)
    return names


# ------------------------------------------------------------------ header
def header(pkg: Package) -> str:
    ns = pkg.name
    out = [
        f"// {ns}.h: deuteron kernels exported for sm_{pkg.arch} by `deuteron export` (deuteron {VERSION}).",
        "// Generated; edits are overwritten.",
        "//",
        "// Each function launches the kernels of one deuteron kernel on `stream` (asynchronously, as",
        "// cuLaunchKernel does) and returns a Status: ok(), or an error code with a message; nothing",
        "// throws.  The caller allocates every tensor, outputs included, with the sizes and strides",
        "// listed for the function.  Arguments that match no exported specialization return",
        "// StatusCode::kUnsupported and a message naming the exported shapes; malformed ones",
        "// (null data, more than 8 dimensions, a pointer not aligned to its element) kInvalidArgument.",
        "//",
        "// Kernels that need global scratch memory take it from `scratch` when given, else from a",
        "// buffer per CUDA context shared by all calls (then calls on different streams must not run",
        "// at the same time).  The calling thread's current CUDA context is used (device 0's primary",
        "// context when none is current); each context loads the cubins on first use.",
        "#pragma once",
        "",
        "#include \"deuteron_aot/tensor.h\"",
        "",
        f"namespace {ns} {{",
        "",
        "using deuteron::aot::CUdeviceptr;",
        "using deuteron::aot::CUstream;",
        "using deuteron::aot::DType;",
        "using deuteron::aot::Status;",
        "using deuteron::aot::StatusCode;",
        "using deuteron::aot::Tensor;",
        "",
    ]
    for fn in pkg.functions:
        first = fn.specializations[0]
        ret = [p.name for p in first.params if isinstance(p, TensorParam) and p.role == "output"]
        ins = [p.name for p in first.params if not (isinstance(p, TensorParam) and p.role != "input")]
        out.append(f"// {fn.name}({', '.join(ins)})" + (f" -> {', '.join(ret)}" if ret else "")
                   + f"    [{first.source}]")
        kernels = []
        for launch in first.launches:
            if launch.kernel_name not in kernels:
                kernels.append(launch.kernel_name)
        out.append(f"//   launches {', '.join(kernels)}")
        for p in first.params:
            if isinstance(p, TensorParam) and p.role != "input":
                what = "returned by the Python function" if p.role == "output" else "memory the host code uses"
                out.append(f"//   {p.name}: {what} (made with {p.origin}); the caller allocates it")
        out.append("//   Exported specializations (tried in this order):")
        for i, spec in enumerate(fn.specializations):
            out.append(f"//   [{i}] {spec_text(spec)}")
            al = aligned_params(spec)
            out.append("//       " + (f"16-byte aligned pointers: {', '.join(al)}" if al
                                      else "no pointer alignment assumed"))
            out.append(f"//       config {config_text(spec)}")
            for note in spec.host_ops:
                out.append(f"//       note: {note}")
        out.append(f"Status {fn.name}({signature_of(fn, True)});")
        out.append("")
    out += [
        "// Loads every exported kernel into the current CUDA context (device 0's primary context when",
        "// none is current).  Optional: functions load the kernels they launch on first use.",
        "Status load_all();",
        "",
        "// The names of the exported functions and a description of their specializations.",
        "const char* describe();",
        "",
        f"}}  // namespace {ns}",
        "",
    ]
    return "\n".join(out)


# ------------------------------------------------------------------ source
_SOURCE_PRELUDE = r"""
namespace rt = deuteron::runtime;
using deuteron::aot::kMaxDims;

struct CubinImage {
  const unsigned char* data;
  size_t size;
};

struct KernelInfo {
  int cubin;
  const char* name;
  int num_warps;
  int num_ctas;
  uint32_t shared;
  uint64_t global_scratch_size;
  uint32_t global_scratch_align;
  uint64_t profile_scratch_size;
  uint32_t profile_scratch_align;
  bool launch_cooperative_grid;
  bool launch_pdl;
};

struct TensorSpec {
  DType dtype;
  int32_t ndim;
  int64_t sizes[kMaxDims];
  int64_t strides[kMaxDims];
};
"""

_SOURCE_RUNTIME = r"""
// ------------------------------------------------------------- loading
// What one CUDA context has loaded.  States are never freed: kernels may be
// launched until the process exits, and unloading modules at exit can run
// after the driver has shut down.
struct ContextState {
  rt::CUcontext context = nullptr;
  std::mutex mu;  // guards loading
  rt::Module modules[kNumCubins];
  rt::Kernel kernels[kNumKernels];
  std::atomic<bool> ready[kNumKernels] = {};
  std::mutex scratch_mu;
  rt::ScratchBuffer scratch;
};

std::mutex g_states_mu;
std::vector<ContextState*>* g_states = new std::vector<ContextState*>;
thread_local ContextState* t_last_state = nullptr;

rt::Status current_state(ContextState** out) {
  const rt::DriverApi* api = nullptr;
  if (rt::Status s = rt::driver(&api); !s.ok()) return s;
  rt::CUcontext ctx = nullptr;
  if (rt::Status s = rt::check(*api, api->cuCtxGetCurrent(&ctx), "cuCtxGetCurrent"); !s.ok()) return s;
  if (ctx == nullptr) {
    if (rt::Status s = rt::ensure_context(*api, 0); !s.ok()) return s;
    if (rt::Status s = rt::check(*api, api->cuCtxGetCurrent(&ctx), "cuCtxGetCurrent"); !s.ok()) return s;
  }
  ContextState* state = t_last_state;
  if (state == nullptr || state->context != ctx) {
    std::lock_guard<std::mutex> lock(g_states_mu);
    state = nullptr;
    for (ContextState* c : *g_states)
      if (c->context == ctx) state = c;
    if (state == nullptr) {
      state = new ContextState;
      state->context = ctx;
      g_states->push_back(state);
    }
    t_last_state = state;
  }
  *out = state;
  return rt::Status::Ok();
}

rt::Status get_kernel(ContextState* cs, int index, rt::Kernel** out) {
  rt::Kernel* k = &cs->kernels[index];
  if (!cs->ready[index].load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(cs->mu);
    if (!cs->ready[index].load(std::memory_order_relaxed)) {
      const KernelInfo& info = kKernels[index];
      rt::Module& module = cs->modules[info.cubin];
      if (module.handle() == nullptr) {
        const CubinImage& image = kCubins[info.cubin];
        if (rt::Status s = rt::Module::load(image.data, image.size, &module); !s.ok()) {
          s.message = std::string("loading the cubin of kernel '") + info.name + "': " + s.message;
          return s;
        }
      }
      k->num_warps = info.num_warps;
      k->num_ctas = info.num_ctas;
      k->shared_bytes = info.shared;
      k->global_scratch_size = info.global_scratch_size;
      k->global_scratch_align = info.global_scratch_align;
      k->profile_scratch_size = info.profile_scratch_size;
      k->profile_scratch_align = info.profile_scratch_align;
      k->launch_cooperative_grid = info.launch_cooperative_grid;
      k->launch_pdl = info.launch_pdl;
      if (rt::Status s = module.get_kernel(info.name, k); !s.ok()) return s;
      cs->ready[index].store(true, std::memory_order_release);
    }
  }
  *out = k;
  return rt::Status::Ok();
}

rt::Status launch_kernel(ContextState* cs, int index, rt::Dim3 grid, CUstream stream, void* const* params,
                         size_t num_params, rt::ScratchBuffer* scratch) {
  rt::Kernel* k = nullptr;
  if (rt::Status s = get_kernel(cs, index, &k); !s.ok()) return s;
  if (k->global_scratch_size == 0) return rt::launch(*k, grid, stream, params, num_params);
  if (scratch != nullptr) return rt::launch(*k, grid, stream, params, num_params, *scratch);
  std::lock_guard<std::mutex> lock(cs->scratch_mu);
  return rt::launch(*k, grid, stream, params, num_params, cs->scratch);
}

// ------------------------------------------------------------- checking
bool matches(const Tensor& t, const TensorSpec& spec) {
  if (t.dtype != spec.dtype || t.ndim != spec.ndim) return false;
  for (int i = 0; i < spec.ndim; ++i) {
    if (t.sizes[i] != spec.sizes[i]) return false;
    // The stride of a dimension of size 1 is never used.
    if (spec.sizes[i] > 1 && t.strides[i] != spec.strides[i]) return false;
  }
  return true;
}

inline bool aligned16(CUdeviceptr p) { return (p & 15u) == 0; }

inline bool fits_int32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

std::string hex(CUdeviceptr p) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(p));
  return buf;
}

// Null data, too many dimensions, or a pointer not aligned to its element.
bool malformed(const Tensor& t) {
  if (t.ndim < 0 || t.ndim > kMaxDims) return true;
  if (t.data == 0) return t.numel() != 0;
  return t.data % deuteron::aot::element_size(t.dtype) != 0;
}

rt::Status malformed_error(const char* function, const char* name, const Tensor& t) {
  std::string why;
  if (t.ndim < 0 || t.ndim > kMaxDims)
    why = "has " + std::to_string(t.ndim) + " dimensions (at most " + std::to_string(kMaxDims) + ")";
  else if (t.data == 0)
    why = "has a null data pointer";
  else
    why = "is at " + hex(t.data) + ", not aligned to its element size (" +
          std::to_string(deuteron::aot::element_size(t.dtype)) + " bytes)";
  return rt::Status::Error(rt::StatusCode::kInvalidArgument,
                           std::string(function) + ": argument '" + name + "' (" + t.to_string() + ") " + why);
}

std::string describe_tensor(const char* name, const Tensor& t) {
  return std::string(name) + ": " + t.to_string() + " at " + hex(t.data);
}

rt::Status with_function(const char* function, rt::Status s) {
  if (!s.ok()) s.message = std::string(function) + ": " + s.message;
  return s;
}
"""


def _cubin_array(name: str, data: bytes) -> list[str]:
    lines = [f"alignas(64) const unsigned char {name}[] = {{"]
    for i in range(0, len(data), 24):
        lines.append("  " + ",".join(str(b) for b in data[i:i + 24]) + ",")
    lines.append("};")
    return lines


# The C type that carries each Triton scalar type to cuLaunchKernel.
_C_TYPES = {"i32": "int32_t", "i64": "int64_t", "fp32": "float", "fp64": "double", "i1": "int8_t"}


def _param_lines(p: LaunchParam, i: int) -> tuple[str, str]:
    """(C++ declaration of the parameter's value, its C type) for one kernel parameter."""
    v = f"a{i}"
    if p.kind == "tensor":
        expr = p.source + ".data" + (f" + {p.offset}" if p.offset > 0 else f" - {-p.offset}" if p.offset < 0 else "")
        return f"CUdeviceptr {v} = {expr};", "CUdeviceptr"
    ctype = _C_TYPES.get(p.type)
    if ctype is None:
        raise ExportError(f"kernel parameters of Triton type {p.type} cannot be exported")
    value = _scalar_expression(p) if p.kind == "scalar" else _constant_literal(p)
    return f"{ctype} {v} = {value};", ctype


def _scalar_expression(p: LaunchParam) -> str:
    """The C++ caller's scalar argument as the parameter's C type."""
    if p.type == "i1":
        return f"{p.source} ? 1 : 0"
    if p.type in ("i64", "fp64"):
        return p.source
    return f"static_cast<{_C_TYPES[p.type]}>({p.source})"


def _constant_literal(p: LaunchParam) -> str:
    """The specialization's constant value of the parameter, as a C++ literal of its C type."""
    t, value = p.type, p.value
    if t == "i32":
        return "INT32_MIN" if value == -(2**31) else str(int(value))
    if t == "i64":
        return _int_literal(int(value))
    if t == "fp32":
        return f"static_cast<float>({_float_literal(float(value), 'double')})"
    if t == "fp64":
        return _float_literal(float(value), "double")
    return "1" if value else "0"  # i1


def _tensor_spec_literal(tp: TensorParam) -> str:
    sizes = ", ".join(str(s) for s in tp.sizes) or "0"
    strides = ", ".join(str(s) for s in tp.strides) or "0"
    return f"{{DType::{DTYPE_ENUM[tp.dtype]}, {len(tp.sizes)}, {{{sizes}}}, {{{strides}}}}}"


def source(pkg: Package) -> str:
    ns = pkg.name
    out = [
        f"// {ns}.cc: deuteron kernels exported for sm_{pkg.arch} by `deuteron export` (deuteron {VERSION}).",
        "// Generated; edits are overwritten.  See docs/aot.md in deuteron.",
        f"#include \"{ns}.h\"",
        "",
        "#include <atomic>",
        "#include <cmath>",
        "#include <cstdint>",
        "#include <cstdio>",
        "#include <limits>",
        "#include <mutex>",
        "#include <string>",
        "#include <utility>",
        "#include <vector>",
        "",
        f"namespace {ns} {{",
        "namespace {",
        _SOURCE_PRELUDE.rstrip(),
        "",
        "// ------------------------------------------------------------- cubins",
    ]
    for i, data in enumerate(pkg.cubins):
        users = sorted({k.name for k in pkg.kernels if k.cubin == i})
        out.append(f"// {pkg.cubin_files[i]}: {', '.join(users)} ({len(data)} bytes)")
        out += _cubin_array(f"kCubin{i}", data)
    out.append("")
    out.append(f"constexpr int kNumCubins = {len(pkg.cubins)};")
    out.append(f"constexpr int kNumKernels = {len(pkg.kernels)};")
    out.append("const CubinImage kCubins[kNumCubins] = {")
    for i in range(len(pkg.cubins)):
        out.append(f"    {{kCubin{i}, sizeof(kCubin{i})}},")
    out.append("};")
    out.append("")
    out.append("// cubin, name, num_warps, num_ctas, shared, global scratch size/align, profile scratch size/align,")
    out.append("// cooperative grid, programmatic dependent launch (Triton's CompiledKernel.metadata)")
    out.append("const KernelInfo kKernels[kNumKernels] = {")
    for i, k in enumerate(pkg.kernels):
        out.append(f"    {{{k.cubin}, {c_string(k.name)}, {k.num_warps}, {k.num_ctas}, {k.shared}, "
                   f"{k.global_scratch_size}, {k.global_scratch_align}, {k.profile_scratch_size}, "
                   f"{k.profile_scratch_align}, {str(k.launch_cooperative_grid).lower()}, "
                   f"{str(k.launch_pdl).lower()}}},  // [{i}] ({', '.join(k.signature)})")
    out.append("};")
    out.append(_SOURCE_RUNTIME.rstrip())
    out.append("")

    out.append("")
    out.append("// One function per exported specialization, and the error for arguments none accepts.")
    out.append("namespace specs {")
    out.append("")
    for fn in pkg.functions:
        out += _function_source(pkg, fn)
    out.append("}  // namespace specs")
    out.append("}  // namespace")
    out.append("")
    for fn in pkg.functions:
        out += _dispatcher(fn)
    out += [
        "Status load_all() {",
        "  ContextState* cs = nullptr;",
        "  if (Status s = current_state(&cs); !s.ok()) return s;",
        "  for (int i = 0; i < kNumKernels; ++i) {",
        "    rt::Kernel* k = nullptr;",
        "    if (Status s = get_kernel(cs, i, &k); !s.ok()) return s;",
        "  }",
        "  return Status::Ok();",
        "}",
        "",
        "const char* describe() {",
        "  return " + c_string(describe_text(pkg)) + ";",
        "}",
        "",
        f"}}  // namespace {ns}",
        "",
    ]
    return "\n".join(out)


def describe_text(pkg: Package) -> str:
    lines = [f"{pkg.name} (sm_{pkg.arch})"]
    for fn in pkg.functions:
        lines.append(f"{fn.name}:")
        for i, spec in enumerate(fn.specializations):
            lines.append(f"  [{i}] {spec_text(spec)}")
    return "\n".join(lines) + "\n"


def _function_source(pkg: Package, fn: Function) -> list[str]:
    out = [f"// ------------------------------------------------------------- {fn.name}"]
    for si, spec in enumerate(fn.specializations):
        for p in spec.params:
            if isinstance(p, TensorParam):
                out.append(f"const TensorSpec k_{fn.name}_{si}_{p.name} = {_tensor_spec_literal(p)};")
    out.append("")
    for si, spec in enumerate(fn.specializations):
        out.append(f"// [{si}] {spec_text(spec)}")
        out.append(f"Status {fn.name}_{si}({signature_of(fn, False)}) {{")
        used = {p.source for launch in spec.launches for p in launch.params}
        unused = [p.name for p in spec.params if p.name not in used]
        if unused:
            out.append(f"  (void){'; (void)'.join(unused)};")
        out.append("  ContextState* cs = nullptr;")
        out.append(f"  if (Status s = current_state(&cs); !s.ok()) return with_function({c_string(fn.name)}, "
                   f"std::move(s));")
        for launch in spec.launches:
            kidx = pkg.launch_kernels[id(launch)]
            k = pkg.kernels[kidx]
            g = launch.grid
            out.append(f"  {{  // {launch.kernel_name}: grid {g[0]}x{g[1]}x{g[2]}, {k.num_warps} warps, "
                       f"{k.shared} bytes of shared memory")
            names = []
            for i, p in enumerate(launch.params):
                decl, _ctype = _param_lines(p, i)
                out.append(f"    {decl}")
                names.append(f"&a{i}")
            if names:
                out.append(f"    void* params[] = {{{', '.join(names)}}};")
                args = f"params, {len(names)}"
            else:
                args = "nullptr, 0"
            out.append(f"    if (Status s = launch_kernel(cs, {kidx}, rt::Dim3{{{g[0]}, {g[1]}, {g[2]}}}, stream, "
                       f"{args}, scratch); !s.ok())")
            out.append(f"      return with_function({c_string(fn.name)}, std::move(s));")
            out.append("  }")
        out.append("  return Status::Ok();")
        out.append("}")
        out.append("")

    # The error for arguments no specialization accepts.
    tensors = [p for p in fn.params if isinstance(p, TensorParam)]
    out.append(f"Status {fn.name}_no_match({signature_of(fn, False)}, int shapes_matched) {{")
    out.append("  (void)stream; (void)scratch;")
    out.append(f"  std::string m = {c_string(fn.name + ': no exported specialization accepts ')};")
    for i, p in enumerate(fn.params):
        if i:
            out.append('  m += ", ";')
        if isinstance(p, TensorParam):
            out.append(f"  m += describe_tensor({c_string(p.name)}, {p.name});")
        else:
            out.append(f"  m += {c_string(p.name + ' = ')} + std::to_string({p.name});")
    aligned_text = [", ".join(aligned_params(spec)) for spec in fn.specializations]
    out.append("  if (shapes_matched >= 0) {")
    out.append("    static const char* const kAligned[] = {" + ", ".join(c_string(a) for a in aligned_text) + "};")
    out.append("    m += \"; the specialization for these shapes was compiled for 16-byte aligned pointers (\";")
    out.append("    m += kAligned[shapes_matched];")
    out.append("    m += \"): export an example with such a pointer not 16-byte aligned to accept it\";")
    out.append("  } else {")
    listing = "".join(f"\n  [{i}] {spec_text(spec)}" for i, spec in enumerate(fn.specializations))
    out.append(f"    m += {c_string('; exported:' + listing)};")
    out.append("  }")
    out.append("  return Status::Error(StatusCode::kUnsupported, std::move(m));")
    out.append("}")
    out.append("")
    del tensors
    return out


def _dispatcher(fn: Function) -> list[str]:
    out = [f"Status {fn.name}({signature_of(fn, False)}) {{"]
    for p in fn.params:
        if isinstance(p, TensorParam):
            out.append(f"  if (malformed({p.name})) return malformed_error({c_string(fn.name)}, "
                       f"{c_string(p.name)}, {p.name});")
    out.append("  int shapes_matched = -1;")
    for si, spec in enumerate(fn.specializations):
        conds = []
        for p in spec.params:
            if isinstance(p, TensorParam):
                conds.append(f"matches({p.name}, specs::k_{fn.name}_{si}_{p.name})")
            else:
                c = _scalar_condition(p, spec.launches)
                if c:
                    conds.append(c)
        align = []
        seen = set()
        for launch in spec.launches:
            for p in launch.params:
                if p.kind == "tensor" and p.aligned and (p.source, p.offset) not in seen:
                    seen.add((p.source, p.offset))
                    off = f" + {p.offset}" if p.offset > 0 else f" - {-p.offset}" if p.offset < 0 else ""
                    align.append(f"aligned16({p.source}.data{off})")
        cond = " && ".join(conds) or "true"
        out.append(f"  if ({cond}) {{")
        if align:
            out.append(f"    if ({' && '.join(align)}) return specs::{fn.name}_{si}({_call_args(fn)});")
            out.append(f"    if (shapes_matched < 0) shapes_matched = {si};")
        else:
            out.append(f"    return specs::{fn.name}_{si}({_call_args(fn)});")
        out.append("  }")
    out.append(f"  return specs::{fn.name}_no_match({_call_args(fn)}, shapes_matched);")
    out.append("}")
    out.append("")
    return out


# ------------------------------------------------------------------ cmake
def cmake_lists(pkg: Package) -> str:
    ns = pkg.name
    return f"""# CMake package of the deuteron kernels exported as `{ns}` (generated by `deuteron export`).
#
# In another project, either
#   add_subdirectory(path/to/{ns})                 # builds it with the project
# or build and install it:
#   cmake -S path/to/{ns} -B build && cmake --build build && cmake --install build --prefix /opt/{ns}
# and then
#   find_package({ns} REQUIRED)                     # CMAKE_PREFIX_PATH=/opt/{ns}, or {ns}_DIR=build
#   target_link_libraries(app PRIVATE {ns}::{ns})   # brings deuteron::runtime along
cmake_minimum_required(VERSION 3.20)
project({ns} LANGUAGES CXX VERSION {VERSION})

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release)
endif()

# deuteron's C++ runtime (copied into runtime/): unless the including project has one already.
set(_{ns}_own_runtime OFF)
if(NOT TARGET deuteron::runtime)
  set(DEUTERON_RUNTIME_INSTALL ON CACHE BOOL "Install deuteron's runtime with the exported kernels")
  add_subdirectory(runtime deuteron_runtime)
  set(_{ns}_own_runtime ON)
endif()

add_library({ns} STATIC src/{ns}.cc)
add_library({ns}::{ns} ALIAS {ns})
target_compile_features({ns} PUBLIC cxx_std_20)
set_target_properties({ns} PROPERTIES POSITION_INDEPENDENT_CODE ON EXPORT_NAME {ns})
target_include_directories({ns} PUBLIC
  $<BUILD_INTERFACE:${{CMAKE_CURRENT_SOURCE_DIR}}/include>
  $<INSTALL_INTERFACE:include>)
target_link_libraries({ns} PUBLIC deuteron::runtime)

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(_{ns}_cmake_dir ${{CMAKE_INSTALL_LIBDIR}}/cmake/{ns})
install(TARGETS {ns} EXPORT {ns}Targets
        ARCHIVE DESTINATION ${{CMAKE_INSTALL_LIBDIR}}
        INCLUDES DESTINATION ${{CMAKE_INSTALL_INCLUDEDIR}})
install(FILES include/{ns}.h DESTINATION ${{CMAKE_INSTALL_INCLUDEDIR}})
install(FILES include/deuteron_aot/tensor.h DESTINATION ${{CMAKE_INSTALL_INCLUDEDIR}}/deuteron_aot)
install(EXPORT {ns}Targets NAMESPACE {ns}:: DESTINATION ${{_{ns}_cmake_dir}})
configure_package_config_file(cmake/{ns}Config.cmake.in ${{CMAKE_CURRENT_BINARY_DIR}}/{ns}Config.cmake
    INSTALL_DESTINATION ${{_{ns}_cmake_dir}})
write_basic_package_version_file(${{CMAKE_CURRENT_BINARY_DIR}}/{ns}ConfigVersion.cmake
    VERSION ${{PROJECT_VERSION}} COMPATIBILITY ExactVersion)
install(FILES ${{CMAKE_CURRENT_BINARY_DIR}}/{ns}Config.cmake ${{CMAKE_CURRENT_BINARY_DIR}}/{ns}ConfigVersion.cmake
        DESTINATION ${{_{ns}_cmake_dir}})

# Using the build tree without installing: {ns}_DIR=<this build directory>.
if(_{ns}_own_runtime)
  export(EXPORT deuteron_runtimeTargets NAMESPACE deuteron::
         FILE ${{CMAKE_CURRENT_BINARY_DIR}}/deuteron_runtimeTargets.cmake)
endif()
export(EXPORT {ns}Targets NAMESPACE {ns}:: FILE ${{CMAKE_CURRENT_BINARY_DIR}}/{ns}Targets.cmake)
"""


def cmake_config(pkg: Package) -> str:
    ns = pkg.name
    return f"""# CMake package of the deuteron kernels exported as `{ns}`:
#   find_package({ns} REQUIRED)
#   target_link_libraries(app PRIVATE {ns}::{ns})
@PACKAGE_INIT@

if(NOT TARGET deuteron::runtime)
  if(EXISTS "${{CMAKE_CURRENT_LIST_DIR}}/deuteron_runtimeTargets.cmake")
    include("${{CMAKE_CURRENT_LIST_DIR}}/deuteron_runtimeTargets.cmake")   # a build tree
  else()
    include(CMakeFindDependencyMacro)
    find_dependency(deuteron_runtime CONFIG HINTS "${{CMAKE_CURRENT_LIST_DIR}}/../deuteron_runtime")
  endif()
endif()
if(NOT TARGET {ns}::{ns})
  include("${{CMAKE_CURRENT_LIST_DIR}}/{ns}Targets.cmake")
endif()
check_required_components({ns})
"""
