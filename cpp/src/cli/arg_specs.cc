// deuteronc's --args: argument types as text.  Every malformed spec is a
// UsageError that names the argument; nothing here throws anything else.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "deuteron/cli.h"
#include "deuteron/pyint.h"

namespace deuteron::cli {

namespace {

// Tensors of more dims than this are not a kernel argument (PyTorch allows 64).
constexpr size_t kMaxRank = 64;

[[noreturn]] void bad(const std::string& arg, const std::string& msg) {
  throw UsageError("--args: " + (arg.empty() ? std::string() : "argument '" + arg + "': ") + msg);
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

// Splits at commas outside brackets; brackets must match ("[", "{", "(").
std::vector<std::string> split_items(const std::string& s, const std::string& arg) {
  std::vector<std::string> out;
  std::string open;  // stack of the closers expected
  std::string cur;
  for (char c : s) {
    if (c == '[' || c == '{' || c == '(') open += c == '[' ? ']' : c == '{' ? '}' : ')';
    if (c == ']' || c == '}' || c == ')') {
      if (open.empty() || open.back() != c) bad(arg, std::string("unbalanced '") + c + "' in '" + s + "'");
      open.pop_back();
    }
    if (c == ',' && open.empty()) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!open.empty()) bad(arg, std::string("'") + s + "' is missing a closing '" + open.back() + "'");
  out.push_back(cur);
  return out;
}

int64_t parse_int(const std::string& text, const std::string& arg, const std::string& what) {
  std::string s = trim(text);
  if (!s.empty() && s[0] == '+') s = s.substr(1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) bad(arg, what + " '" + trim(text) + "' does not fit in " + pyint::limit_text());
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
    bad(arg, what + " '" + trim(text) + "' is not an integer");
  return v;
}

std::vector<int64_t> int_list(const std::string& text, const std::string& arg, const std::string& what) {
  std::vector<int64_t> v;
  if (trim(text).empty()) return v;
  for (const auto& p : split_items(text, arg)) {
    int64_t x = parse_int(p, arg, what);
    if (x < 0) bad(arg, what + " " + std::to_string(x) + " is negative");
    v.push_back(x);
  }
  return v;
}

void parse_constexpr(const std::string& v, ArgSpec& a) {
  a.kind = ArgSpec::Kind::Constexpr;
  if (v == "True" || v == "False") {
    a.const_kind = ArgSpec::ConstKind::Bool;
    a.const_bool = v == "True";
  } else if (v == "None") {
    a.const_kind = ArgSpec::ConstKind::None;
  } else if (v.find_first_of(".eEin") != std::string::npos) {  // 1.5, 1e3, inf, nan
    std::string s = v.size() > 1 && v[0] == '+' ? v.substr(1) : v;
    double d = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
      bad(a.name, "constexpr value '" + v + "' is not a number, True, False or None");
    a.const_kind = ArgSpec::ConstKind::Float;
    a.const_float = d;
  } else {
    a.const_kind = ArgSpec::ConstKind::Int;
    a.const_int = parse_int(v, a.name, "constexpr value");
  }
}

void parse_tensor(const std::string& type, ArgSpec& a) {
  auto lb = type.find('[');
  auto rb = type.find(']');
  if (lb == std::string::npos || rb == std::string::npos || rb < lb)
    bad(a.name, "unknown type '" + type + "'; use int, float, bool, None, constexpr=VALUE or a dtype with sizes "
                "like float32[1024,512]");
  std::string dtype = trim(type.substr(0, lb));
  auto dt = dtype_from_name(dtype);
  if (!dt) bad(a.name, "unknown dtype '" + dtype + "'");
  a.kind = ArgSpec::Kind::Tensor;
  a.dtype = *dt;
  a.sizes = int_list(type.substr(lb + 1, rb - lb - 1), a.name, "size");
  std::string rest = trim(type.substr(rb + 1));
  if (!rest.empty()) {
    if (rest.front() != '{' || rest.back() != '}' || rest.find_first_of("{}", 1) != rest.size() - 1)
      bad(a.name, "unexpected '" + rest + "' after the sizes; strides go in braces: float32[4,8]{1,4}");
    a.strides = int_list(rest.substr(1, rest.size() - 2), a.name, "stride");
    if (a.strides.size() != a.sizes.size())
      bad(a.name, std::to_string(a.sizes.size()) + " sizes but " + std::to_string(a.strides.size()) + " strides");
  } else {
    // Contiguous; a stride that does not fit means the tensor does not either.
    a.strides.assign(a.sizes.size(), 1);
    for (size_t i = a.sizes.size(); i-- > 1;) {
      pyint::IntResult r = pyint::mul(a.strides[i], std::max<int64_t>(a.sizes[i], 1));
      if (!r.ok()) bad(a.name, "the tensor has more elements than int64 can count");
      a.strides[i - 1] = r.value;
    }
  }
  if (a.sizes.size() > kMaxRank) bad(a.name, "more than " + std::to_string(kMaxRank) + " dimensions");
  // Every element's offset, and the element count, must fit in int64 (as in PyTorch).
  int64_t numel = 1, last_offset = 0;
  for (size_t i = 0; i < a.sizes.size(); ++i) {
    pyint::IntResult n = pyint::mul(numel, a.sizes[i]);
    if (!n.ok()) bad(a.name, "the tensor has more elements than int64 can count");
    numel = n.value;
  }
  if (numel > 0) {
    for (size_t i = 0; i < a.sizes.size(); ++i) {
      pyint::IntResult o = pyint::mul(a.sizes[i] - 1, a.strides[i]);
      if (o.ok()) o = pyint::add(last_offset, o.value);
      if (!o.ok()) bad(a.name, "the offset of the last element does not fit in int64");
      last_offset = o.value;
    }
  }
}

// Nesting of structured arguments deeper than this is not a kernel argument.
constexpr int kMaxNesting = 16;

void parse_type(const std::string& type, ArgSpec& a, int depth);

// The elements of a structured argument: TYPE, ... (positional) or KEY:TYPE, ...
// (named).  Errors name the element as Python would reach it (`pair[1]`, `p.x`).
void parse_elements(const std::string& inner, ArgSpec& a, bool named, int depth) {
  if (depth > kMaxNesting) bad(a.name, "structured arguments nest at most " + std::to_string(kMaxNesting) + " deep");
  if (trim(inner).empty()) return;
  std::set<std::string> seen;
  for (const auto& item : split_items(inner, a.name)) {
    ArgSpec e;
    std::string type = item;
    std::string path;
    if (named) {
      auto colon = item.find(':');
      if (colon == std::string::npos) bad(a.name, "'" + trim(item) + "' needs KEY:TYPE");
      e.name = trim(item.substr(0, colon));
      if (!is_identifier(e.name)) bad(a.name, "'" + e.name + "' is not a field name");
      if (!seen.insert(e.name).second) bad(a.name, "field '" + e.name + "' given twice");
      type = item.substr(colon + 1);
      path = a.name + (a.kind == ArgSpec::Kind::Dict ? "['" + e.name + "']" : "." + e.name);
    } else {
      e.name = std::to_string(a.elements.size());
      path = a.name + "[" + e.name + "]";
    }
    std::string own = e.name;
    e.name = path;  // for messages while parsing
    parse_type(trim(type), e, depth + 1);
    if (e.kind == ArgSpec::Kind::Constexpr) bad(path, "an element cannot be constexpr");
    e.name = own;
    a.elements.push_back(std::move(e));
  }
}

// TYPE: int, float, bool, None, constexpr=V, dtype=D, str=TEXT, a tensor, (T, ...) a
// tuple, [T, ...] a list, {K: T, ...} a dict, Name(F: T, ...) a NamedTuple,
// Name{F: T, ...} a dataclass.
void parse_type(const std::string& type, ArgSpec& a, int depth) {
  auto enclosed = [&](char open, char close) {
    return type.size() >= 2 && type.front() == open && type.back() == close;
  };
  size_t ident = 0;
  while (ident < type.size() && (std::isalnum(static_cast<unsigned char>(type[ident])) || type[ident] == '_')) ++ident;
  if (type == "int") a.kind = ArgSpec::Kind::Int;
  else if (type == "float") a.kind = ArgSpec::Kind::Float;
  else if (type == "bool") a.kind = ArgSpec::Kind::Bool;
  else if (type == "None") a.kind = ArgSpec::Kind::None;
  else if (type.rfind("constexpr=", 0) == 0) parse_constexpr(trim(type.substr(10)), a);
  else if (type.rfind("str=", 0) == 0) {
    a.kind = ArgSpec::Kind::String;
    a.string_value = type.substr(4);
  } else if (type.rfind("dtype=", 0) == 0) {
    auto dt = dtype_from_name(trim(type.substr(6)));
    if (!dt) bad(a.name, "unknown dtype '" + trim(type.substr(6)) + "'");
    a.kind = ArgSpec::Kind::DType;
    a.dtype = *dt;
  } else if (enclosed('(', ')') || enclosed('[', ']') || enclosed('{', '}')) {
    a.kind = type.front() == '(' ? ArgSpec::Kind::Tuple : type.front() == '[' ? ArgSpec::Kind::List : ArgSpec::Kind::Dict;
    a.type_name = a.kind == ArgSpec::Kind::Tuple ? "tuple" : a.kind == ArgSpec::Kind::List ? "list" : "dict";
    parse_elements(type.substr(1, type.size() - 2), a, a.kind == ArgSpec::Kind::Dict, depth);
  } else if (ident > 0 && ident < type.size() && (type[ident] == '(' || type[ident] == '{') &&
             type.back() == (type[ident] == '(' ? ')' : '}') && !dtype_from_name(type.substr(0, ident))) {
    a.kind = type[ident] == '(' ? ArgSpec::Kind::NamedTuple : ArgSpec::Kind::Dataclass;
    a.type_name = type.substr(0, ident);
    parse_elements(type.substr(ident + 1, type.size() - ident - 2), a, true, depth);
  } else {
    parse_tensor(type, a);
  }
}

ArgSpec parse_one(const std::string& item) {
  ArgSpec a;
  auto colon = item.find(':');
  if (colon == std::string::npos) bad("", "'" + item + "' needs NAME:TYPE");
  a.name = trim(item.substr(0, colon));
  if (!is_identifier(a.name)) bad("", "'" + a.name + "' is not an argument name");
  parse_type(trim(item.substr(colon + 1)), a, 0);
  return a;
}

}  // namespace

std::vector<ArgSpec> parse_arg_specs(const std::string& spec) {
  std::vector<ArgSpec> out;
  if (trim(spec).empty()) return out;
  std::set<std::string> seen;
  for (const auto& item : split_items(spec, "")) {
    if (trim(item).empty()) bad("", "empty entry in '" + spec + "'");
    ArgSpec a = parse_one(item);
    if (!seen.insert(a.name).second) bad(a.name, "given twice");
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace deuteron::cli
