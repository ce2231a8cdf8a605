// deuteron._core: a thin nanobind layer over the C++ compiler.
//
// Arguments and globals arrive as plain dicts (built by
// deuteron/runtime/binding.py); configs cross as JSON text.  C++ errors
// become the Python exception classes that deuteron.exc registers through
// set_error_types(), so that Python code sees file, line, column and the
// formatted message with its caret; a CompileError becomes the subclass named
// by its diagnostic's kind (deuteron.exc.compile_error_class).
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include "deuteron/autodiff.h"
#include "deuteron/compiler.h"
#include "deuteron/tune.h"
#include "native_launcher.h"

namespace nb = nanobind;
using namespace deuteron;

void bind_tune(nb::module_& m);  // tune_bindings.cc

namespace {

// Owned references, deliberately never released: an nb::object here would be
// destroyed by the C++ exit handlers after the interpreter has finalized, and
// dropping the last reference to a Python function then aborts the process
// ("PyThreadState_Get: ... GIL is released").
nb::handle g_compile_error;   // deuteron.exc.compile_error_class: kind name -> CompileError subclass
nb::handle g_config_error;    // deuteron.exc.ConfigError
nb::handle g_internal_error;  // deuteron.exc.InternalCompilerError

template <typename T>
T get_or(const nb::dict& d, const char* key, T dflt) {
  if (!d.contains(key)) return dflt;
  nb::object v = d[key];
  if (v.is_none()) return dflt;
  return nb::cast<T>(v);
}

DType parse_dtype(const std::string& name) {
  auto d = dtype_from_name(name);
  if (!d) throw std::invalid_argument("deuteron does not support tensors of dtype " + name);
  return *d;
}

// A Python int as int64: compile-time ints are int64 (docs/language.md), so a
// larger one is an OverflowError naming what it is, not std::bad_cast.
int64_t to_int64(nb::handle v, const std::string& what) {
  int overflow = 0;
  long long x = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
  if (overflow != 0) {
    std::string text = nb::cast<std::string>(nb::str(v));
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    PyErr_SetString(PyExc_OverflowError, (what + " = " + text +
                                          " does not fit in int64 (-9223372036854775808 to 9223372036854775807), "
                                          "the range of integers deuteron compiles with")
                                             .c_str());
    throw nb::python_error();
  }
  if (x == -1 && PyErr_Occurred()) throw nb::python_error();
  return static_cast<int64_t>(x);
}

GlobalSpec to_global(const nb::dict& d);

ArgSpec to_arg(const nb::dict& d) {
  ArgSpec a;
  a.name = nb::cast<std::string>(d["name"]);
  std::string kind = nb::cast<std::string>(d["kind"]);
  if (kind == "tensor") {
    a.kind = ArgSpec::Kind::Tensor;
    a.dtype = parse_dtype(nb::cast<std::string>(d["dtype"]));
    a.sizes = nb::cast<std::vector<int64_t>>(d["sizes"]);
    a.strides = nb::cast<std::vector<int64_t>>(d["strides"]);
    a.device = get_or<std::string>(d, "device", "cuda");
  } else if (kind == "int") {
    a.kind = ArgSpec::Kind::Int;
    if (d.contains("value")) {
      a.has_int_value = true;
      a.int_value = to_int64(d["value"], "the int argument " + a.name);
    }
  } else if (kind == "float") {
    a.kind = ArgSpec::Kind::Float;
  } else if (kind == "bool") {
    a.kind = ArgSpec::Kind::Bool;
  } else if (kind == "none") {
    a.kind = ArgSpec::Kind::None;
  } else if (kind == "constexpr") {
    a.kind = ArgSpec::Kind::Constexpr;
    nb::object v = d["value"];
    if (v.is_none()) {
      a.const_kind = ArgSpec::ConstKind::None;
    } else if (nb::isinstance<nb::bool_>(v)) {
      a.const_kind = ArgSpec::ConstKind::Bool;
      a.const_bool = nb::cast<bool>(v);
    } else if (nb::isinstance<nb::int_>(v)) {
      a.const_kind = ArgSpec::ConstKind::Int;
      a.const_int = to_int64(v, "the constexpr argument " + a.name);
    } else {
      a.const_kind = ArgSpec::ConstKind::Float;
      a.const_float = nb::cast<double>(v);
    }
  } else if (kind == "dtype") {
    a.kind = ArgSpec::Kind::DType;
    a.dtype = parse_dtype(nb::cast<std::string>(d["dtype"]));
  } else if (kind == "str") {
    a.kind = ArgSpec::Kind::String;
    a.string_value = nb::cast<std::string>(d["value"]);
  } else if (kind == "tuple" || kind == "list" || kind == "namedtuple" || kind == "dataclass" || kind == "dict") {
    a.kind = kind == "tuple" ? ArgSpec::Kind::Tuple : kind == "list" ? ArgSpec::Kind::List
           : kind == "namedtuple" ? ArgSpec::Kind::NamedTuple : kind == "dataclass" ? ArgSpec::Kind::Dataclass
           : ArgSpec::Kind::Dict;
    a.type_name = get_or<std::string>(d, "type", kind);
    for (nb::handle e : nb::cast<nb::list>(d["elements"])) a.elements.push_back(to_arg(nb::cast<nb::dict>(e)));
  } else if (kind == "callable") {
    a.kind = ArgSpec::Kind::Callable;
    a.callable_error = get_or<std::string>(d, "error", "");
    if (a.callable_error.empty()) {
      a.callable.push_back(to_global(nb::cast<nb::dict>(d["value"])));
      for (nb::handle g : nb::cast<nb::list>(d["globals"])) a.callable.push_back(to_global(nb::cast<nb::dict>(g)));
      a.callable_bound = get_or<int>(d, "bound", 0);
    }
  } else {
    a.kind = ArgSpec::Kind::Other;
  }
  return a;
}

GlobalSpec to_global(const nb::dict& d) {
  GlobalSpec g;
  g.name = nb::cast<std::string>(d["name"]);
  std::string kind = nb::cast<std::string>(d["kind"]);
  g.qualname = get_or<std::string>(d, "qualname", "");
  if (kind == "module") {
    g.kind = GlobalSpec::Kind::Module;
    if (d.contains("missing"))
      for (auto [name, closest] : nb::cast<nb::dict>(d["missing"]))
        g.missing_attrs[nb::cast<std::string>(name)] = nb::cast<std::string>(closest);
  }
  else if (kind == "function") g.kind = GlobalSpec::Kind::Function;
  else if (kind == "int") { g.kind = GlobalSpec::Kind::Int; g.int_value = to_int64(d["value"], "the global " + g.name); }
  else if (kind == "float") { g.kind = GlobalSpec::Kind::Float; g.float_value = nb::cast<double>(d["value"]); }
  else if (kind == "bool") { g.kind = GlobalSpec::Kind::Bool; g.bool_value = nb::cast<bool>(d["value"]); }
  else if (kind == "str") { g.kind = GlobalSpec::Kind::String; g.string_value = nb::cast<std::string>(d["value"]); }
  else if (kind == "none") g.kind = GlobalSpec::Kind::None;
  else if (kind == "dtype") { g.kind = GlobalSpec::Kind::DType; g.dtype = parse_dtype(nb::cast<std::string>(d["value"])); }
  else if (kind == "tensor") {
    g.kind = GlobalSpec::Kind::Tensor;
    g.dtype = parse_dtype(nb::cast<std::string>(d["dtype"]));
    g.sizes = nb::cast<std::vector<int64_t>>(d["sizes"]);
    g.strides = nb::cast<std::vector<int64_t>>(d["strides"]);
    g.device = get_or<std::string>(d, "device", "cuda");
    g.host_expr = nb::cast<std::string>(d["host_expr"]);
  }
  else if (kind == "helper") {
    g.kind = GlobalSpec::Kind::Helper;
    auto f = std::make_shared<SourceFile>();
    f->text = nb::cast<std::string>(d["source"]);
    f->filename = nb::cast<std::string>(d["filename"]);
    f->first_line = nb::cast<int>(d["first_line"]);
    g.helper_source = f;
    g.helper_is_kernel = get_or<bool>(d, "kernel", false);
  } else if (kind == "object") {
    g.kind = GlobalSpec::Kind::Object;
    for (nb::handle a : nb::cast<nb::list>(d["attributes"])) g.attributes.push_back(to_global(nb::cast<nb::dict>(a)));
  } else if (kind == "triton_jit") {
    g.kind = GlobalSpec::Kind::TritonJit;
    g.qualname = nb::cast<std::string>(d["function"]);
    g.string_value = nb::cast<std::string>(d["definitions"]);
  } else {
    g.kind = GlobalSpec::Kind::Opaque;
  }
  return g;
}

DeviceInfo to_device(const nb::dict& d) {
  DeviceInfo info;
  info.name = get_or<std::string>(d, "name", info.name);
  info.sm_count = get_or<int>(d, "sm_count", info.sm_count);
  info.compute_capability = get_or<int>(d, "compute_capability", info.compute_capability);
  info.max_shared_memory = get_or<int64_t>(d, "max_shared_memory", info.max_shared_memory);
  info.is_cuda = get_or<bool>(d, "is_cuda", info.is_cuda);
  info.triton_version = get_or<int>(d, "triton_version", info.triton_version);
  return info;
}

// Holds a BoundKernel for Python.
class PyBound {
 public:
  explicit PyBound(std::unique_ptr<BoundKernel> b) : b_(std::move(b)) {}

  std::string config_spec() const { return json::dump(b_->spec().to_json()); }
  // The lossless form the autotuner's search space is built from.
  std::string tune_spec() const { return json::dump(tune::spec_to_json(b_->spec())); }
  std::string default_config() const { return json::dump(b_->default_config()); }
  std::string normalize(const std::string& config) const { return json::dump(b_->normalize(json::parse(config))); }
  std::string triton_code(const std::string& config) const { return b_->triton_code(json::parse(config)); }
  std::string reference_code(const std::string& config) const { return b_->reference_code(json::parse(config)); }
  std::string dump_ast() const { return b_->dump_ast(); }
  std::string dump_ir() const { return b_->dump_ir(); }
  // experimental.backward: the backward kernel's source (autodiff.h).
  std::string backward_source() const { return autodiff::backward_source(b_->program()); }
  std::string dump_ir_after(const std::string& config, const std::string& stage) const {
    LoweringLog log;
    log.enabled = true;
    b_->lower(b_->normalize(json::parse(config)), &log);
    for (const auto& [name, text] : log.stages)
      if (name == stage) return text;
    std::string names;
    for (const auto& [name, text] : log.stages) names += " " + name;
    throw std::invalid_argument("unknown lowering stage '" + stage + "'; stages are:" + names);
  }
  std::vector<std::string> used_globals() const { return b_->program().used_globals; }
  std::vector<std::pair<std::string, std::string>> warnings() const { return b_->program().warnings; }
  std::vector<std::string> specialized_args() const { return b_->program().specialized_args; }
  std::vector<std::string> kernel_names() const {
    std::vector<std::string> out;
    for (const auto& k : b_->program().kernels) out.push_back(k->name);
    return out;
  }
  int num_block_sizes() const { return static_cast<int>(b_->spec().block_sizes.size()); }
  // Whether the kernel holds Triton source of the user's (hl.inline_triton,
  // hl.triton_kernel), which the PyTorch reference back end cannot run: in
  // DEUTERON_INTERPRET mode such a kernel runs its Triton code under Triton's
  // interpreter instead.  Inline assembly (sema writes it as one
  // tl.inline_asm_elementwise call) does not count: no interpreter runs it.
  bool runs_triton_source() const {
    bool found = false;
    for (const auto& k : b_->program().kernels)
      ir::walk(k->body, [&](const ir::Op& op) {
        if (op.kind == ir::OpKind::InlineTriton && op.attrs.message.rfind("tl.inline_asm_elementwise(", 0) != 0)
          found = true;
      });
    return found;
  }

 private:
  std::unique_ptr<BoundKernel> b_;
};

std::unique_ptr<PyBound> bind(const std::string& source, const std::string& filename, int first_line,
                              const std::string& function_name, const nb::list& args, const nb::list& globals,
                              bool static_shapes, std::optional<std::string> index_dtype,
                              const std::string& dot_precision, const std::string& precision,
                              const nb::dict& device, bool interpret) {
  BindRequest req;
  auto file = std::make_shared<SourceFile>();
  file->text = source;
  file->filename = filename;
  file->first_line = first_line;
  req.file = file;
  req.function_name = function_name;
  for (nb::handle a : args) req.args.push_back(to_arg(nb::cast<nb::dict>(a)));
  for (nb::handle g : globals) req.globals.push_back(to_global(nb::cast<nb::dict>(g)));
  req.static_shapes = static_shapes;
  if (index_dtype) req.index_dtype = parse_dtype(*index_dtype);
  req.dot_precision = dot_precision;
  auto p = precision_from_name(precision);
  if (!p) throw std::invalid_argument("precision is 'fast' or 'strict', got '" + precision + "'");
  req.precision = *p;
  req.interpret = interpret;
  DeviceInfo info = to_device(device);
  std::unique_ptr<BoundKernel> b;
  {
    nb::gil_scoped_release release;  // compilation does not touch Python objects
    b = BoundKernel::bind(req, info);
  }
  return std::make_unique<PyBound>(std::move(b));
}

void raise_python(nb::handle type, nb::object value) {
  PyErr_SetObject(type.ptr(), value.ptr());
}

}  // namespace

NB_MODULE(_core, m) {
  // Bound kernels live in module-level caches until the interpreter exits;
  // nanobind's leak report at shutdown would only be noise.
  nb::set_leak_warnings(false);
  m.doc() = "deuteron's C++ compiler core";
  m.attr("__version__") = DEUTERON_VERSION;

  m.def("set_error_types", [](nb::object compile_error, nb::object config_error, nb::object internal_error) {
    g_compile_error = compile_error.release();
    g_config_error = config_error.release();
    g_internal_error = internal_error.release();
  });

  // The names of the error kinds (deuteron.exc has a CompileError subclass for each).
  m.def("error_kinds", [] {
    std::vector<std::string> names;
    for (ErrorKind kind : all_error_kinds()) names.emplace_back(error_kind_name(kind));
    return names;
  });

  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const CompileError& e) {
      if (!g_compile_error.is_valid()) {
        PyErr_SetString(PyExc_RuntimeError, e.formatted().c_str());
        return;
      }
      const Diagnostic& d = e.diagnostic();
      nb::list notes;
      for (const auto& n : d.notes) notes.append(nb::str(n.c_str()));
      nb::object type = g_compile_error(error_kind_name(d.kind));
      nb::object exc = type(e.formatted(), e.file() ? e.file()->filename : std::string(), d.span.line, d.span.col,
                            d.message, notes);
      raise_python(type, exc);
    } catch (const ConfigError& e) {
      if (!g_config_error.is_valid()) {
        PyErr_SetString(PyExc_ValueError, e.what());
        return;
      }
      nb::object type = g_config_error(e.kind());
      raise_python(type, type(std::string(e.what())));
    } catch (const InternalError& e) {
      if (!g_internal_error.is_valid()) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
        return;
      }
      raise_python(g_internal_error, g_internal_error(std::string(e.what())));
    } catch (const json::ParseError& e) {
      PyErr_SetString(PyExc_ValueError, (std::string("invalid JSON: ") + e.what()).c_str());
    }
  });

  nb::class_<PyBound>(m, "BoundKernelCore")
      .def("config_spec", &PyBound::config_spec)
      .def("tune_spec", &PyBound::tune_spec)
      .def("default_config", &PyBound::default_config)
      .def("normalize", &PyBound::normalize)
      .def("triton_code", &PyBound::triton_code)
      .def("reference_code", &PyBound::reference_code)
      .def("dump_ast", &PyBound::dump_ast)
      .def("dump_ir", &PyBound::dump_ir)
      .def("backward_source", &PyBound::backward_source)
      .def("dump_ir_after", &PyBound::dump_ir_after)
      .def("used_globals", &PyBound::used_globals)
      .def("warnings", &PyBound::warnings)
      .def("specialized_args", &PyBound::specialized_args)
      .def("kernel_names", &PyBound::kernel_names)
      .def("num_block_sizes", &PyBound::num_block_sizes)
      .def("runs_triton_source", &PyBound::runs_triton_source);

  bind_native_launcher(m);
  bind_tune(m);

  // The config key table (config_keys.h) as JSON text: what deuteron.Config
  // checks values against.
  m.def("config_keys_json", [] { return json::dump(config_keys_json()); });
  // Whether the table takes `value_json` as a value (or, for a list key, an
  // entry) of key `name`, without a kernel: what tests hold Python's checks to.
  m.def("config_key_accepts", [](const std::string& name, const std::string& value_json) {
    const ConfigKey* k = find_config_key(name);
    if (!k) throw std::invalid_argument("no config key named '" + name + "'");
    return k->accepts(json::parse(value_json));
  });

  // For tests that compare host constant folding with Python: (kind, value)
  // with kind "int", "float", "bool", "none" or "unknown" (left to Python).
  m.def("fold_host_expression", [](const std::string& text) -> nb::tuple {
    FoldedValue v = fold_host_expression(text);
    switch (v.kind) {
      case FoldedValue::Kind::Int: return nb::make_tuple("int", v.i);
      case FoldedValue::Kind::Float: return nb::make_tuple("float", v.f);
      case FoldedValue::Kind::Bool: return nb::make_tuple("bool", v.b);
      case FoldedValue::Kind::None: return nb::make_tuple("none", nb::none());
      case FoldedValue::Kind::Unknown: break;
    }
    return nb::make_tuple("unknown", nb::none());
  });

  m.def("bind", &bind, nb::arg("source"), nb::arg("filename"), nb::arg("first_line"), nb::arg("function_name"),
        nb::arg("args"), nb::arg("globals"), nb::arg("static_shapes") = true, nb::arg("index_dtype") = nb::none(),
        nb::arg("dot_precision") = "tf32", nb::arg("precision") = "fast", nb::arg("device") = nb::dict(),
        nb::arg("interpret") = false);
}
