// A small JSON value type with a strict parser and a deterministic writer.
//
// Configs, config specs, and tuning records cross the C++/Python boundary and
// the disk as JSON.  Objects keep insertion order so that output is
// byte-identical for identical input (no hash-order surprises).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace deuteron::json {

class Value;
using Array = std::vector<Value>;
// Ordered object: keys in insertion order; lookups are linear (objects are small).
using Object = std::vector<std::pair<std::string, Value>>;

class ParseError : public std::runtime_error {
 public:
  ParseError(const std::string& msg, size_t offset)
      : std::runtime_error(msg + " at offset " + std::to_string(offset)), offset_(offset) {}
  size_t offset() const { return offset_; }

 private:
  size_t offset_;
};

class Value {
 public:
  enum class Type { Null, Bool, Int, Double, String, Array, Object };

  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(static_cast<int64_t>(i)) {}
  Value(int64_t i) : v_(i) {}
  Value(double d) : v_(d) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(Array a) : v_(std::make_shared<Array>(std::move(a))) {}
  Value(Object o) : v_(std::make_shared<Object>(std::move(o))) {}

  Type type() const;
  bool is_null() const { return type() == Type::Null; }
  bool is_bool() const { return type() == Type::Bool; }
  bool is_int() const { return type() == Type::Int; }
  bool is_double() const { return type() == Type::Double; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return type() == Type::String; }
  bool is_array() const { return type() == Type::Array; }
  bool is_object() const { return type() == Type::Object; }

  // Accessors throw std::runtime_error naming the expected and actual type.
  bool as_bool() const;
  int64_t as_int() const;      // also accepts a double with an integral value
  double as_double() const;    // also accepts an int
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  // Object helpers.  find() returns nullptr when absent.
  const Value* find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  // Inserts or replaces (keeps the original position on replace).
  void set(std::string key, Value v);
  // Throws std::out_of_range naming the key when absent.
  const Value& at(std::string_view key) const;

  // Array helpers
  size_t size() const;  // array or object length
  const Value& operator[](size_t i) const;
  void push_back(Value v);

  // Deep equality (ints and doubles compare by value: 2 == 2.0).
  bool operator==(const Value& o) const;
  bool operator!=(const Value& o) const { return !(*this == o); }

 private:
  using Storage = std::variant<std::monostate, bool, int64_t, double, std::string,
                               std::shared_ptr<Array>, std::shared_ptr<Object>>;
  Storage v_;
  // Copy-on-write: mutating accessors clone shared storage first.
  void detach();
};

// Strict RFC 8259 parser (no comments, no trailing commas, no NaN).  Integers
// that fit int64 become Int, everything else with '.', 'e' or out of range
// becomes Double.  Nesting deeper than 256 is an error.  Throws ParseError.
Value parse(std::string_view text);

// Writes compact JSON when indent < 0, else pretty-printed with `indent`
// spaces.  Doubles are written in the shortest form that round-trips and always
// with a '.' or exponent (so they re-parse as Double); NaN/inf are written as
// null.  Strings are escaped per RFC 8259 (non-ASCII passes through as UTF-8).
std::string dump(const Value& v, int indent = -1);

}  // namespace deuteron::json
