// JSON value, strict parser and deterministic writer (see deuteron/json.h).
//
// Choices the header leaves open:
//  * Object equality ignores key order (JSON objects are unordered); dump()
//    keeps insertion order.  The parser rejects duplicate keys, so parsed
//    objects always have unique keys.
//  * set() on a null Value turns it into an object, push_back() on a null
//    Value turns it into an array (handy for building values).
//  * The parser also rejects invalid UTF-8 and unpaired surrogate escapes, and
//    numbers that overflow a double (1e400); ones that underflow become 0.
//  * dump() writes exactly what Python's json.dumps(v, ensure_ascii=False)
//    writes (separators "," and ":" when compact, "," and ": " when indented,
//    floats as Python's repr), so C++ and Python produce identical bytes.
#include "deuteron/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "deuteron/utf8.h"

namespace deuteron::json {

namespace {

const char* type_name(Value::Type t) {
  switch (t) {
    case Value::Type::Null: return "null";
    case Value::Type::Bool: return "bool";
    case Value::Type::Int: return "int";
    case Value::Type::Double: return "double";
    case Value::Type::String: return "string";
    case Value::Type::Array: return "array";
    case Value::Type::Object: return "object";
  }
  return "?";
}

[[noreturn]] void type_error(Value::Type expected, Value::Type actual) {
  throw std::runtime_error(std::string("json: expected ") + type_name(expected) + ", got " +
                           type_name(actual));
}

// 2^63 as a double; int64 covers [-2^63, 2^63).
constexpr double kTwo63 = 9223372036854775808.0;

bool double_is_int64(double d) { return d >= -kTwo63 && d < kTwo63 && std::trunc(d) == d; }

bool int_equals_double(int64_t i, double d) {
  return double_is_int64(d) && static_cast<int64_t>(d) == i;
}

}  // namespace

// ------------------------------------------------------------------- Value

Value::Type Value::type() const { return static_cast<Type>(v_.index()); }

bool Value::as_bool() const {
  if (auto* b = std::get_if<bool>(&v_)) return *b;
  type_error(Type::Bool, type());
}

int64_t Value::as_int() const {
  if (auto* i = std::get_if<int64_t>(&v_)) return *i;
  if (auto* d = std::get_if<double>(&v_)) {
    if (double_is_int64(*d)) return static_cast<int64_t>(*d);
    throw std::runtime_error("json: expected int, got non-integral double " + dump(*this));
  }
  type_error(Type::Int, type());
}

double Value::as_double() const {
  if (auto* d = std::get_if<double>(&v_)) return *d;
  if (auto* i = std::get_if<int64_t>(&v_)) return static_cast<double>(*i);
  type_error(Type::Double, type());
}

const std::string& Value::as_string() const {
  if (auto* s = std::get_if<std::string>(&v_)) return *s;
  type_error(Type::String, type());
}

const Array& Value::as_array() const {
  if (auto* a = std::get_if<std::shared_ptr<Array>>(&v_)) return **a;
  type_error(Type::Array, type());
}

Array& Value::as_array() {
  if (!is_array()) type_error(Type::Array, type());
  detach();
  return *std::get<std::shared_ptr<Array>>(v_);
}

const Object& Value::as_object() const {
  if (auto* o = std::get_if<std::shared_ptr<Object>>(&v_)) return **o;
  type_error(Type::Object, type());
}

Object& Value::as_object() {
  if (!is_object()) type_error(Type::Object, type());
  detach();
  return *std::get<std::shared_ptr<Object>>(v_);
}

void Value::detach() {
  if (auto* a = std::get_if<std::shared_ptr<Array>>(&v_)) {
    if (a->use_count() > 1) *a = std::make_shared<Array>(**a);
  } else if (auto* o = std::get_if<std::shared_ptr<Object>>(&v_)) {
    if (o->use_count() > 1) *o = std::make_shared<Object>(**o);
  }
}

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : as_object())
    if (k == key) return &v;
  return nullptr;
}

void Value::set(std::string key, Value v) {
  if (is_null()) *this = Value(Object{});
  Object& obj = as_object();
  for (auto& [k, old] : obj) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  obj.emplace_back(std::move(key), std::move(v));
}

const Value& Value::at(std::string_view key) const {
  if (const Value* v = find(key)) return *v;
  throw std::out_of_range("json: no key \"" + std::string(key) + "\" in object");
}

size_t Value::size() const {
  if (is_array()) return as_array().size();
  if (is_object()) return as_object().size();
  throw std::runtime_error(std::string("json: expected array or object, got ") +
                           type_name(type()));
}

const Value& Value::operator[](size_t i) const {
  const Array& a = as_array();
  if (i >= a.size())
    throw std::out_of_range("json: index " + std::to_string(i) + " out of range for array of size " +
                            std::to_string(a.size()));
  return a[i];
}

void Value::push_back(Value v) {
  if (is_null()) *this = Value(Array{});
  as_array().push_back(std::move(v));
}

bool Value::operator==(const Value& o) const {
  Type a = type(), b = o.type();
  if (a == Type::Int && b == Type::Double) return int_equals_double(as_int(), o.as_double());
  if (a == Type::Double && b == Type::Int) return int_equals_double(o.as_int(), as_double());
  if (a != b) return false;
  switch (a) {
    case Type::Null: return true;
    case Type::Bool: return as_bool() == o.as_bool();
    case Type::Int: return as_int() == o.as_int();
    case Type::Double: return as_double() == o.as_double();
    case Type::String: return as_string() == o.as_string();
    case Type::Array: return as_array() == o.as_array();
    case Type::Object: {
      const Object &x = as_object(), &y = o.as_object();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x) {
        const Value* other = o.find(k);
        if (!other || *other != v) return false;
      }
      return true;
    }
  }
  return false;
}

// ------------------------------------------------------------------ parser

namespace {

constexpr int kMaxDepth = 256;

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Value parse_document() {
    skip_ws();
    Value v = parse_value();
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected trailing characters");
    return v;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;

  [[noreturn]] void fail(const std::string& msg) { fail_at(msg, pos_); }
  [[noreturn]] void fail_at(const std::string& msg, size_t at) { throw ParseError(msg, at); }

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }

  void skip_ws() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }

  std::string describe_current() const {
    if (at_end()) return "end of input";
    unsigned char c = static_cast<unsigned char>(s_[pos_]);
    if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", c);
    return std::string("byte ") + buf;
  }

  void expect_literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) fail("invalid literal (expected '" + std::string(word) + "')");
    pos_ += word.size();
  }

  Value parse_value() {
    if (at_end()) fail("unexpected end of input, expected a value");
    switch (s_[pos_]) {
      case '{': return parse_object();
      case '[': return parse_array();
      case '"': return Value(parse_string());
      case 't': expect_literal("true"); return Value(true);
      case 'f': expect_literal("false"); return Value(false);
      case 'n': expect_literal("null"); return Value();
      case 'N':
      case 'I': fail("NaN and Infinity are not valid JSON");
      default:
        if (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9')) return parse_number();
        fail("unexpected " + describe_current() + ", expected a value");
    }
  }

  void enter() {
    if (++depth_ > kMaxDepth) fail("nesting deeper than " + std::to_string(kMaxDepth));
  }

  Value parse_array() {
    enter();
    ++pos_;  // '['
    Array items;
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      --depth_;
      return Value(std::move(items));
    }
    for (;;) {
      skip_ws();
      if (peek() == ']') fail("trailing comma in array");
      items.push_back(parse_value());
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        break;
      }
      fail("unexpected " + describe_current() + ", expected ',' or ']'");
    }
    --depth_;
    return Value(std::move(items));
  }

  Value parse_object() {
    enter();
    ++pos_;  // '{'
    Object members;
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      --depth_;
      return Value(std::move(members));
    }
    for (;;) {
      skip_ws();
      if (peek() == '}') fail("trailing comma in object");
      if (peek() != '"') fail("unexpected " + describe_current() + ", expected a string key");
      size_t key_at = pos_;
      std::string key = parse_string();
      for (const auto& m : members)
        if (m.first == key) fail_at("duplicate key \"" + key + "\"", key_at);
      skip_ws();
      if (peek() != ':') fail("unexpected " + describe_current() + ", expected ':'");
      ++pos_;
      skip_ws();
      Value v = parse_value();
      members.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        break;
      }
      fail("unexpected " + describe_current() + ", expected ',' or '}'");
    }
    --depth_;
    return Value(std::move(members));
  }

  // Reads the 4 hex digits of a \u escape; pos_ points at the first digit.
  uint32_t parse_hex4() {
    uint32_t cp = 0;
    for (int i = 0; i < 4; ++i) {
      char c = peek();
      uint32_t d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else fail("invalid \\u escape: expected 4 hex digits");
      cp = cp * 16 + d;
      ++pos_;
    }
    return cp;
  }

  // Copies one raw UTF-8 encoded code point (lead byte >= 0x80), validating it.
  void copy_utf8(std::string& out) {
    size_t start = pos_;
    unsigned char lead = static_cast<unsigned char>(s_[pos_]);
    int len;
    uint32_t cp, min;
    if (lead >= 0xC2 && lead <= 0xDF) len = 2, cp = lead & 0x1F, min = 0x80;
    else if (lead >= 0xE0 && lead <= 0xEF) len = 3, cp = lead & 0x0F, min = 0x800;
    else if (lead >= 0xF0 && lead <= 0xF4) len = 4, cp = lead & 0x07, min = 0x10000;
    else fail("invalid UTF-8 in string");
    for (int i = 1; i < len; ++i) {
      if (start + i >= s_.size()) fail_at("invalid UTF-8 in string", start);
      unsigned char c = static_cast<unsigned char>(s_[start + i]);
      if ((c & 0xC0) != 0x80) fail_at("invalid UTF-8 in string", start);
      cp = (cp << 6) | (c & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      fail_at("invalid UTF-8 in string", start);
    out.append(s_.substr(start, len));
    pos_ = start + len;
  }

  std::string parse_string() {
    size_t open = pos_;
    ++pos_;  // '"'
    std::string out;
    for (;;) {
      if (at_end()) fail_at("unterminated string", open);
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("unescaped control character in string");
      if (c >= 0x80) {
        copy_utf8(out);
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      size_t esc = pos_;
      ++pos_;
      if (at_end()) fail_at("unterminated string", open);
      char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = parse_hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at("unpaired low surrogate in \\u escape", esc);
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u") fail_at("unpaired high surrogate in \\u escape", esc);
            pos_ += 2;
            uint32_t lo = parse_hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail_at("unpaired high surrogate in \\u escape", esc);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: fail_at("invalid escape '\\" + std::string(1, e) + "' in string", esc);
      }
    }
  }

  bool digit() const { return !at_end() && s_[pos_] >= '0' && s_[pos_] <= '9'; }

  // Grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  Value parse_number() {
    size_t start = pos_;
    bool is_double = false;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
      if (digit()) fail("leading zeros are not allowed in numbers");
    } else if (digit()) {
      while (digit()) ++pos_;
    } else {
      fail("expected a digit");
    }
    if (peek() == '.') {
      is_double = true;
      ++pos_;
      if (!digit()) fail("expected a digit after '.'");
      while (digit()) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      is_double = true;
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!digit()) fail("expected a digit in exponent");
      while (digit()) ++pos_;
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    if (!is_double) {
      int64_t i = 0;
      auto r = std::from_chars(first, last, i);
      if (r.ec == std::errc() && r.ptr == last) return Value(i);
      // Out of int64 range: fall through to double.
    }
    double d = 0;
    auto r = std::from_chars(first, last, d);
    if (r.ec == std::errc::result_out_of_range) {
      // Overflow is an error (JSON has no infinity); underflow gives 0 or a
      // denormal, which strtod computes.
      std::string copy(first, last);
      d = std::strtod(copy.c_str(), nullptr);
      if (std::isinf(d)) fail_at("number out of range of a double", start);
    } else if (r.ec != std::errc() || r.ptr != last) {
      fail_at("invalid number", start);
    }
    return Value(d);
  }
};

}  // namespace

Value parse(std::string_view text) { return Parser(text).parse_document(); }

// ------------------------------------------------------------------ writer

namespace {

// Python's repr(float): shortest round-trip digits; fixed notation when the
// decimal exponent is in [-4, 16), otherwise d.ddde[+-]XX.
void write_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view s(buf, r.ptr - buf);  // e.g. "-1.2345e+02", "5e-324", "0e+00"
  if (s.front() == '-') {
    out += '-';
    s.remove_prefix(1);
  }
  size_t e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e))
    if (c != '.') digits += c;
  std::string_view exp_text = s.substr(e + 1);
  bool exp_neg = exp_text.front() == '-';
  int exp = 0;
  std::from_chars(exp_text.data() + 1, exp_text.data() + exp_text.size(), exp);
  if (exp_neg) exp = -exp;

  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      size_t int_len = static_cast<size_t>(exp) + 1;
      if (digits.size() <= int_len) {
        out += digits;
        out.append(int_len - digits.size(), '0');
        out += ".0";
      } else {
        out += digits.substr(0, int_len);
        out += '.';
        out += digits.substr(int_len);
      }
    } else {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out += digits;
    }
  } else {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += exp < 0 ? "e-" : "e+";
    int a = exp < 0 ? -exp : exp;
    if (a < 10) out += '0';
    out += std::to_string(a);
  }
}

void write_string(std::string& out, const std::string& s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void newline(std::string& out, int indent, int level) {
  out += '\n';
  out.append(static_cast<size_t>(indent) * level, ' ');
}

void write_value(std::string& out, const Value& v, int indent, int level) {
  switch (v.type()) {
    case Value::Type::Null: out += "null"; return;
    case Value::Type::Bool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Type::Int: out += std::to_string(v.as_int()); return;
    case Value::Type::Double: write_double(out, v.as_double()); return;
    case Value::Type::String: write_string(out, v.as_string()); return;
    case Value::Type::Array: {
      const Array& a = v.as_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        if (indent >= 0) newline(out, indent, level + 1);
        write_value(out, a[i], indent, level + 1);
      }
      if (indent >= 0) newline(out, indent, level);
      out += ']';
      return;
    }
    case Value::Type::Object: {
      const Object& o = v.as_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      for (size_t i = 0; i < o.size(); ++i) {
        if (i) out += ',';
        if (indent >= 0) newline(out, indent, level + 1);
        write_string(out, o[i].first);
        out += indent >= 0 ? ": " : ":";
        write_value(out, o[i].second, indent, level + 1);
      }
      if (indent >= 0) newline(out, indent, level);
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string dump(const Value& v, int indent) {
  std::string out;
  write_value(out, v, indent, 0);
  return out;
}

}  // namespace deuteron::json
