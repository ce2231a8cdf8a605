// Kernel arguments as sema values: tensors (top-level or elements), and the
// structured arguments Helion accepts (tuples, lists, NamedTuples, dataclasses
// and dicts of tensors, numbers, dtypes and more of these), element by element.
//
// An element is named in host code by a Python expression over the argument
// ("pair[0]", "p.x", "d['x']"): a tensor element becomes a kernel parameter
// passed as that expression, an int element a host symbol read from it at
// entry, a float or bool element a scalar parameter.  Its type (dtype, sizes,
// strides) is part of the specialization key like a tensor argument's
// (runtime/kernel.py: _ValueKeys), so sema treats it like one.
#include "analyzer.h"

#include <cctype>

namespace deuteron::sema {

std::string python_identifier(const std::string& expr) {
  std::string out;
  for (char c : expr) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (ok) out += c;
    else if (!out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && out.back() == '_' && expr.back() != '_') out.pop_back();
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
  return out;
}

namespace {

// A dict key as a Python string literal.
std::string str_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "'";
}

// How host code names element i of a structured value named `expr`.
std::string element_expr(SValue::Kind kind, const std::string& expr, size_t i, const std::string& field) {
  if (kind == SValue::Kind::Record) return expr + "." + field;
  if (kind == SValue::Kind::Dict) return expr + "[" + str_literal(field) + "]";
  return expr + "[" + std::to_string(i) + "]";
}

}  // namespace

std::string Analyzer::symbol_for(const std::string& expr) const {
  std::string base = python_identifier(expr), name = base;
  auto taken = [&](const std::string& n) {
    for (const auto& s : program_->symbols)
      if (s.name == n) return true;
    return false;
  };
  for (int k = 1; taken(name); ++k) name = base + "_" + std::to_string(k);
  return name;
}

SValue Analyzer::tensor_arg(const ArgSpec& a, const std::string& expr, int arg_index, int base_arg) {
  auto t = std::make_shared<HostTensor>();
  t->expr = expr;
  t->dtype = a.dtype;
  t->device = a.device;
  t->arg_index = arg_index;
  t->base_arg = base_arg;
  std::string sym_base = arg_index >= 0 ? expr : symbol_for(expr);
  for (size_t d = 0; d < a.sizes.size(); ++d) {
    // Static shapes: sizes and strides are constants of the specialization.
    // Dynamic shapes: sizes 0 and 1 stay constants (they are part of the key: a
    // size-1 dim broadcasts against any other, as in PyTorch), the other sizes
    // and every stride become symbols (their values in this call the hints).
    // Strides are not in the key, as in Helion: one compiled kernel serves every
    // layout, and Triton itself specializes an int argument equal to 1 (a unit
    // stride) when it compiles, so contiguous accesses stay as fast.
    int64_t sz = a.sizes[d], st = a.strides[d];
    if (request_.static_shapes || sz <= 1) {
      t->sizes.push_back(sz);
    } else {
      std::string sym = sym_base + "_size_" + std::to_string(d);
      t->sizes.push_back(SymInt::symbol(sym, sz));
      program_->symbols.push_back({sym, expr + ".size(" + std::to_string(d) + ")", true});
    }
    if (request_.static_shapes) {
      t->strides.push_back(st);
    } else {
      std::string sym = sym_base + "_stride_" + std::to_string(d);
      t->strides.push_back(SymInt::symbol(sym, st));
      program_->symbols.push_back({sym, expr + ".stride(" + std::to_string(d) + ")", true});
    }
  }
  SValue v;
  v.kind = SValue::Kind::Tensor;
  v.tensor = t;
  return v;
}

SValue Analyzer::element_arg(const ArgSpec& a, const std::string& expr, int base_arg) {
  switch (a.kind) {
    case ArgSpec::Kind::Tensor: return tensor_arg(a, expr, -1, base_arg);
    case ArgSpec::Kind::Int: {
      std::string sym = symbol_for(expr);
      program_->symbols.push_back({sym, expr, true});
      return SValue::integer(SymInt::symbol(sym));
    }
    case ArgSpec::Kind::Float: {
      SValue v = SValue::floating(0.0);
      v.runtime_expr = expr;
      return v;
    }
    case ArgSpec::Kind::Bool: {
      SValue v = SValue::boolean(false);
      v.runtime_expr = expr;
      return v;
    }
    case ArgSpec::Kind::None: return SValue::none();
    case ArgSpec::Kind::DType: return SValue::dtype_value(a.dtype);
    case ArgSpec::Kind::String: return SValue::string(a.string_value);
    case ArgSpec::Kind::Constexpr:
    case ArgSpec::Kind::Other: break;
    default: return structured_arg(a, expr, base_arg);
  }
  // The runtime rejects these before binding; deuteronc has no syntax for them.
  error({}, "the argument element '" + expr + "' has a type kernels do not accept");
}

SValue Analyzer::structured_arg(const ArgSpec& a, const std::string& expr, int base_arg) {
  SValue v;
  switch (a.kind) {
    case ArgSpec::Kind::List: v.kind = SValue::Kind::List; break;
    case ArgSpec::Kind::Dataclass: v.kind = SValue::Kind::Record; break;
    case ArgSpec::Kind::Dict: v.kind = SValue::Kind::Dict; break;
    default: v.kind = SValue::Kind::Tuple; break;
  }
  bool named = a.kind == ArgSpec::Kind::NamedTuple || a.kind == ArgSpec::Kind::Dataclass ||
               a.kind == ArgSpec::Kind::Dict;
  v.s = a.type_name;
  for (size_t i = 0; i < a.elements.size(); ++i) {
    const ArgSpec& e = a.elements[i];
    v.elts.push_back(element_arg(e, element_expr(v.kind, expr, i, e.name), base_arg));
    if (named) v.fields.push_back(e.name);
  }
  return v;
}

SValue Analyzer::named_host_value(const SValue& value, const std::string& expr) {
  SValue v = value;
  switch (v.kind) {
    case SValue::Kind::Tensor: {
      auto t = std::make_shared<HostTensor>(*v.tensor);
      t->expr = expr;
      t->host_expr.clear();  // the host variable reaches it now
      // Strides known only at run time are read right after this statement.
      for (size_t i = 0; i < t->strides.size(); ++i) {
        const SymInt& st = t->strides[i];
        if (st.kind() != SymInt::Kind::Symbol || st.symbol_name().rfind("?", 0) != 0) continue;
        std::string sym = python_identifier(expr) + "_stride_" + std::to_string(i);
        t->strides[i] = SymInt::symbol(sym);
        HostSymbol hs{sym, expr + ".stride(" + std::to_string(i) + ")", false,
                      static_cast<int>(program_->host.size())};
        program_->symbols.push_back(hs);
      }
      v.tensor = t;
      break;
    }
    case SValue::Kind::Float:
    case SValue::Kind::Bool:
      if (!v.runtime_expr.empty()) v.runtime_expr = expr;
      break;
    case SValue::Kind::Tuple:
    case SValue::Kind::List:
    case SValue::Kind::Record:
    case SValue::Kind::Dict:
      // Elements are reached through the new name: the names they had may be
      // rebound later (`a = x; pair = (a, y); a = z`).
      for (size_t i = 0; i < v.elts.size(); ++i)
        v.elts[i] = named_host_value(v.elts[i], element_expr(v.kind, expr, i, i < v.fields.size() ? v.fields[i] : ""));
      break;
    default: break;
  }
  return v;
}

}  // namespace deuteron::sema

namespace deuteron {

std::string element_expression(const ArgSpec& a, size_t i, const std::string& expr) {
  using K = sema::SValue::Kind;
  K kind = a.kind == ArgSpec::Kind::Dataclass ? K::Record : a.kind == ArgSpec::Kind::Dict ? K::Dict : K::Tuple;
  return sema::element_expr(kind, expr, i, i < a.elements.size() ? a.elements[i].name : "");
}

}  // namespace deuteron
