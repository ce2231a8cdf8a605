#include "deuteron/json.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <utility>
#include <string>

namespace deuteron::json {
namespace {

// ------------------------------------------------------------ every form

TEST(JsonParse, Literals) {
  EXPECT_TRUE(parse("null").is_null());
  EXPECT_EQ(parse("true").as_bool(), true);
  EXPECT_EQ(parse("false").as_bool(), false);
  EXPECT_TRUE(parse(" \t\r\n null \n").is_null());
}

TEST(JsonParse, Numbers) {
  EXPECT_EQ(parse("0").as_int(), 0);
  EXPECT_EQ(parse("-0").as_int(), 0);
  EXPECT_EQ(parse("42").as_int(), 42);
  EXPECT_EQ(parse("-17").as_int(), -17);
  EXPECT_TRUE(parse("42").is_int());
  EXPECT_TRUE(parse("2.0").is_double());
  EXPECT_EQ(parse("1.5").as_double(), 1.5);
  EXPECT_EQ(parse("-0.25").as_double(), -0.25);
  EXPECT_EQ(parse("1e3").as_double(), 1000.0);
  EXPECT_TRUE(parse("1e3").is_double());
  EXPECT_EQ(parse("1E-2").as_double(), 0.01);
  EXPECT_EQ(parse("2.5e+1").as_double(), 25.0);
  EXPECT_EQ(parse("1e-400").as_double(), 0.0);  // underflow is fine
  EXPECT_EQ(parse("5e-324").as_double(), std::numeric_limits<double>::denorm_min());
}

TEST(JsonParse, Strings) {
  EXPECT_EQ(parse(R"("")").as_string(), "");
  EXPECT_EQ(parse(R"("abc")").as_string(), "abc");
  EXPECT_EQ(parse(R"("\"\\\/\b\f\n\r\t")").as_string(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(parse("\"caf\xc3\xa9\"").as_string(), "caf\xc3\xa9");  // raw UTF-8 passes
}

TEST(JsonParse, ArraysAndObjects) {
  EXPECT_EQ(parse("[]").size(), 0u);
  EXPECT_EQ(parse("{}").size(), 0u);
  Value v = parse(R"( { "a" : [ 1 , 2.5 , "x" , null , true , [ ] , { } ] , "b" : { "c" : false } } )");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.size(), 2u);
  const Value& a = v.at("a");
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a[0].as_int(), 1);
  EXPECT_EQ(a[1].as_double(), 2.5);
  EXPECT_EQ(a[2].as_string(), "x");
  EXPECT_TRUE(a[3].is_null());
  EXPECT_TRUE(a[4].as_bool());
  EXPECT_TRUE(a[5].is_array());
  EXPECT_TRUE(a[6].is_object());
  EXPECT_FALSE(v.at("b").at("c").as_bool());
  EXPECT_EQ(v.find("zzz"), nullptr);
  EXPECT_TRUE(v.contains("b"));
}

// -------------------------------------------------- strictness + offsets

struct BadInput {
  std::string text;
  size_t offset;
  std::string message;
};

TEST(JsonParse, StrictErrorsCarryOffsets) {
  const BadInput cases[] = {
      {"", 0, "unexpected end of input"},
      {"   ", 3, "unexpected end of input"},
      {"[", 1, "unexpected end of input"},
      {"[1,]", 3, "trailing comma in array"},
      {"{\"a\":1,}", 7, "trailing comma in object"},
      {"01", 1, "leading zeros"},
      {"-01", 2, "leading zeros"},
      {"1.", 2, "expected a digit after '.'"},
      {".5", 0, "expected a value"},
      {"+1", 0, "expected a value"},
      {"-", 1, "expected a digit"},
      {"1e", 2, "expected a digit in exponent"},
      {"1e+", 3, "expected a digit in exponent"},
      {"NaN", 0, "NaN and Infinity"},
      {"Infinity", 0, "NaN and Infinity"},
      {"-Infinity", 1, "expected a digit"},
      {"tru", 0, "invalid literal"},
      {"nul", 0, "invalid literal"},
      {"[1 2]", 3, "expected ',' or ']'"},
      {"{\"a\" 1}", 5, "expected ':'"},
      {"{\"a\":1 \"b\":2}", 7, "expected ',' or '}'"},
      {"{a:1}", 1, "expected a string key"},
      {"1 2", 2, "unexpected trailing characters"},
      {"// c\n1", 0, "expected a value"},
      {"[1] /* c */", 4, "unexpected trailing characters"},
      {"'a'", 0, "expected a value"},
      {"\"abc", 0, "unterminated string"},
      {"\"a\nb\"", 2, "unescaped control character"},
      {"\"a\tb\"", 2, "unescaped control character"},
      {"\"\\x\"", 1, "invalid escape '\\x'"},
      {"{\"a\":1,\"a\":2}", 7, "duplicate key \"a\""},
      {"\"\\u12g4\"", 5, "expected 4 hex digits"},
      {"\"\\ud800\"", 1, "unpaired high surrogate"},
      {"\"\\ud800\\u0041\"", 1, "unpaired high surrogate"},
      {"\"\\udc00\"", 1, "unpaired low surrogate"},
      {"\"\xff\"", 1, "invalid UTF-8"},
      {"\"\xc0\xaf\"", 1, "invalid UTF-8"},          // overlong '/'
      {"\"\xe0\x80\xaf\"", 1, "invalid UTF-8"},      // overlong, 3 bytes
      {"\"\xed\xa0\x80\"", 1, "invalid UTF-8"},      // encoded surrogate
      {"\"\xf4\x90\x80\x80\"", 1, "invalid UTF-8"},  // > U+10FFFF
      {"\"\xc3\"", 1, "invalid UTF-8"},              // truncated
      {"1e400", 0, "out of range"},
      {"-1e400", 0, "out of range"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("input: " + c.text);
    try {
      parse(c.text);
      ADD_FAILURE() << "expected a ParseError";
    } catch (const ParseError& e) {
      EXPECT_EQ(e.offset(), c.offset) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("at offset " + std::to_string(c.offset)),
                std::string::npos)
          << e.what();
    }
  }
}

// ------------------------------------------------------------- unicode

TEST(JsonUnicode, EscapesBecomeUtf8) {
  EXPECT_EQ(parse(R"("\u0041")").as_string(), "A");
  EXPECT_EQ(parse(R"("\u00e9")").as_string(), "\xc3\xa9");
  EXPECT_EQ(parse(R"("\u00E9")").as_string(), "\xc3\xa9");
  EXPECT_EQ(parse(R"("\u20ac")").as_string(), "\xe2\x82\xac");
  EXPECT_EQ(parse(R"("\uffff")").as_string(), "\xef\xbf\xbf");
  // Surrogate pairs: U+1F600 and U+10FFFF.
  EXPECT_EQ(parse(R"("\ud83d\ude00")").as_string(), "\xf0\x9f\x98\x80");
  EXPECT_EQ(parse(R"("\uDBFF\uDFFF")").as_string(), "\xf4\x8f\xbf\xbf");
  std::string nul = parse(R"("a\u0000b")").as_string();
  EXPECT_EQ(nul, std::string("a\0b", 3));
}

TEST(JsonUnicode, DumpPassesUtf8AndEscapesControls) {
  EXPECT_EQ(dump(Value("\xf0\x9f\x98\x80 \xc3\xa9")), "\"\xf0\x9f\x98\x80 \xc3\xa9\"");
  EXPECT_EQ(dump(Value(std::string("\"\\/\b\f\n\r\t\x01\x1f\x7f", 11))),
            "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"");
  EXPECT_EQ(dump(Value(std::string("\0", 1))), "\"\\u0000\"");
}

// ------------------------------------------------------------- nesting

TEST(JsonParse, NestingLimit) {
  std::string ok = std::string(256, '[') + std::string(256, ']');
  EXPECT_NO_THROW(parse(ok));
  std::string deep = std::string(257, '[') + std::string(257, ']');
  try {
    parse(deep);
    ADD_FAILURE() << "expected a ParseError";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.offset(), 256u);
    EXPECT_NE(std::string(e.what()).find("nesting deeper than 256"), std::string::npos);
  }
  std::string objs;
  for (int i = 0; i < 257; ++i) objs += "{\"a\":";
  objs += "1" + std::string(257, '}');
  EXPECT_THROW(parse(objs), ParseError);
  // A very deep input fails quickly instead of overflowing the stack.
  EXPECT_THROW(parse(std::string(1000000, '[')), ParseError);
}

// ------------------------------------------------------------- int64

TEST(JsonNumbers, Int64Limits) {
  Value max = parse("9223372036854775807");
  ASSERT_TRUE(max.is_int());
  EXPECT_EQ(max.as_int(), std::numeric_limits<int64_t>::max());
  Value min = parse("-9223372036854775808");
  ASSERT_TRUE(min.is_int());
  EXPECT_EQ(min.as_int(), std::numeric_limits<int64_t>::min());
  Value over = parse("9223372036854775808");
  ASSERT_TRUE(over.is_double());
  EXPECT_EQ(over.as_double(), 9223372036854775808.0);
  Value under = parse("-9223372036854775809");
  ASSERT_TRUE(under.is_double());
  EXPECT_EQ(dump(Value(std::numeric_limits<int64_t>::max())), "9223372036854775807");
  EXPECT_EQ(dump(Value(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
  // as_int on doubles: integral and in range only.
  EXPECT_EQ(Value(3.0).as_int(), 3);
  EXPECT_EQ(Value(-9223372036854775808.0).as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_THROW(Value(3.5).as_int(), std::runtime_error);
  EXPECT_THROW(Value(9223372036854775808.0).as_int(), std::runtime_error);
  EXPECT_THROW(Value(std::nan("")).as_int(), std::runtime_error);
  EXPECT_EQ(Value(7).as_double(), 7.0);
}

// ------------------------------------------------------------- doubles

TEST(JsonNumbers, DoublesDumpAsShortestRepr) {
  // Same text as Python's repr()/json.dumps for each value.
  const std::pair<double, const char*> cases[] = {
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {2.0, "2.0"},
      {0.1, "0.1"},
      {1.0 / 3.0, "0.3333333333333333"},
      {100000000.0, "100000000.0"},
      {9999999999999998.0, "9999999999999998.0"},
      {1e16, "1e+16"},
      {1e22, "1e+22"},
      {123456789012345678.0, "1.2345678901234568e+17"},
      {0.0001, "0.0001"},
      {1e-5, "1e-05"},
      {2.5e-10, "2.5e-10"},
      {5e-324, "5e-324"},
      {DBL_MAX, "1.7976931348623157e+308"},
      {-1.5, "-1.5"},
  };
  for (const auto& [d, text] : cases) {
    EXPECT_EQ(dump(Value(d)), text);
    Value back = parse(text);
    ASSERT_TRUE(back.is_double()) << text;
    double got = back.as_double();
    EXPECT_EQ(std::memcmp(&got, &d, sizeof d), 0) << text;
  }
  EXPECT_EQ(dump(Value(std::nan(""))), "null");
  EXPECT_EQ(dump(Value(std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(dump(Value(-std::numeric_limits<double>::infinity())), "null");
}

TEST(JsonNumbers, RandomDoublesRoundTripBitExact) {
  std::mt19937_64 rng(1234);
  int checked = 0;
  while (checked < 20000) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    std::string text = dump(Value(d));
    Value back = parse(text);
    ASSERT_TRUE(back.is_double()) << text;
    double got = back.as_double();
    ASSERT_EQ(std::memcmp(&got, &d, sizeof d), 0) << text;
    ++checked;
  }
}

// ------------------------------------------------------------- writer

TEST(JsonDump, CompactAndIndented) {
  Value v = Object{{"name", "mm"},
                   {"sizes", Array{64, 128}},
                   {"empty_a", Array{}},
                   {"empty_o", Object{}},
                   {"nested", Object{{"x", nullptr}, {"y", true}, {"z", 1.5}}}};
  EXPECT_EQ(dump(v),
            R"({"name":"mm","sizes":[64,128],"empty_a":[],"empty_o":{},)"
            R"("nested":{"x":null,"y":true,"z":1.5}})");
  EXPECT_EQ(dump(v, 2),
            "{\n"
            "  \"name\": \"mm\",\n"
            "  \"sizes\": [\n"
            "    64,\n"
            "    128\n"
            "  ],\n"
            "  \"empty_a\": [],\n"
            "  \"empty_o\": {},\n"
            "  \"nested\": {\n"
            "    \"x\": null,\n"
            "    \"y\": true,\n"
            "    \"z\": 1.5\n"
            "  }\n"
            "}");
  EXPECT_EQ(dump(Array{1, Array{}}, 0), "[\n1,\n[]\n]");
  EXPECT_EQ(dump(Value(), 2), "null");
  // Deterministic: the same value always gives the same bytes, and dumping
  // what was parsed reproduces the input.
  std::string text = dump(v, 4);
  EXPECT_EQ(dump(parse(text), 4), text);
  EXPECT_EQ(dump(parse(dump(v))), dump(v));
}

// ------------------------------------------------------ ordered objects

TEST(JsonObject, KeepsInsertionOrder) {
  Value v = parse(R"({"b":1,"a":2,"c":3})");
  EXPECT_EQ(dump(v), R"({"b":1,"a":2,"c":3})");
  v.set("a", "replaced");  // keeps its position
  v.set("0", 0);           // appends
  EXPECT_EQ(dump(v), R"({"b":1,"a":"replaced","c":3,"0":0})");
  EXPECT_EQ(v.at("a").as_string(), "replaced");
  EXPECT_EQ(v.as_object()[3].first, "0");
}

TEST(JsonObject, BuildersAndLookupErrors) {
  Value o;
  o.set("k", 1);
  EXPECT_TRUE(o.is_object());
  Value a;
  a.push_back(1);
  a.push_back("two");
  EXPECT_EQ(dump(a), R"([1,"two"])");
  try {
    o.at("missing");
    ADD_FAILURE();
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos);
  }
  EXPECT_THROW(a[2], std::out_of_range);
  EXPECT_THROW(Value(1).size(), std::runtime_error);
  EXPECT_THROW(Value(1).set("k", 1), std::runtime_error);
  EXPECT_THROW(Value("s").push_back(1), std::runtime_error);
}

TEST(JsonValue, TypeErrorsNameBothTypes) {
  try {
    Value("s").as_int();
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "json: expected int, got string");
  }
  try {
    Value(1).as_array();
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "json: expected array, got int");
  }
  EXPECT_THROW(Value().as_bool(), std::runtime_error);
  EXPECT_THROW(Value(true).as_string(), std::runtime_error);
  EXPECT_THROW(Value(Array{}).as_object(), std::runtime_error);
  EXPECT_THROW(Value(Array{}).find("k"), std::runtime_error);
  EXPECT_EQ(Value(Array{}).type(), Value::Type::Array);
  EXPECT_EQ(Value(int64_t{5}).type(), Value::Type::Int);
}

// ------------------------------------------------------------- equality

TEST(JsonValue, Equality) {
  EXPECT_EQ(Value(2), Value(2.0));
  EXPECT_EQ(Value(2.0), Value(2));
  EXPECT_NE(Value(2), Value(2.5));
  EXPECT_NE(Value(std::numeric_limits<int64_t>::max()), Value(9223372036854775808.0));
  EXPECT_NE(Value(std::nan("")), Value(std::nan("")));
  EXPECT_EQ(Value(), Value(nullptr));
  EXPECT_NE(Value(), Value(false));
  EXPECT_NE(Value(0), Value(false));
  EXPECT_NE(Value("1"), Value(1));
  EXPECT_EQ(Value("ab"), Value(std::string("ab")));
  EXPECT_EQ(parse("[1,[2,{}]]"), (Array{1, Array{2.0, Object{}}}));
  EXPECT_NE(parse("[1,2]"), parse("[2,1]"));  // arrays are ordered
  EXPECT_NE(parse("[1,2]"), parse("[1,2,3]"));
  // Objects compare as JSON objects: order of keys does not matter.
  EXPECT_EQ(parse(R"({"a":1,"b":[true]})"), parse(R"({"b":[true],"a":1.0})"));
  EXPECT_NE(parse(R"({"a":1})"), parse(R"({"a":1,"b":2})"));
  EXPECT_NE(parse(R"({"a":1})"), parse(R"({"b":1})"));
  EXPECT_NE(parse(R"({"a":1})"), parse(R"({"a":2})"));
  EXPECT_NE(parse("[]"), parse("{}"));
}

// --------------------------------------------------------- copy-on-write

TEST(JsonValue, CopyOnWrite) {
  Value a = parse(R"({"xs":[1,2],"o":{"k":"v"}})");
  Value b = a;  // shares storage
  EXPECT_EQ(&std::as_const(a).as_object(), &std::as_const(b).as_object());

  b.set("new", 1);  // detaches b
  EXPECT_FALSE(a.contains("new"));
  EXPECT_TRUE(b.contains("new"));

  Value c = a;
  c.as_object()[0].second.push_back(3);  // nested array shared too: detaches
  EXPECT_EQ(a.at("xs").size(), 2u);
  EXPECT_EQ(c.at("xs").size(), 3u);

  Value arr = Array{1, 2};
  Value arr2 = arr;
  arr2.as_array()[0] = "changed";
  EXPECT_EQ(arr[0].as_int(), 1);
  EXPECT_EQ(arr2[0].as_string(), "changed");

  // A sole owner mutates in place (no copy).
  const Array* before = &std::as_const(arr).as_array();
  arr.push_back(3);
  EXPECT_EQ(&std::as_const(arr).as_array(), before);
}

// --------------------------------------------- randomized round trip

class RandomValues {
 public:
  explicit RandomValues(uint64_t seed) : rng_(seed) {}

  Value value(int depth) {
    int kinds = depth >= 4 ? 5 : 7;
    switch (pick(kinds)) {
      case 0: return Value();
      case 1: return Value(pick(2) == 1);
      case 2: {
        switch (pick(3)) {
          case 0: return Value(static_cast<int64_t>(pick(21)) - 10);
          case 1: return Value(static_cast<int64_t>(rng_()));
          default: return Value(pick(2) ? std::numeric_limits<int64_t>::max()
                                        : std::numeric_limits<int64_t>::min());
        }
      }
      case 3: return Value(a_double());
      case 4: return Value(a_string());
      case 5: {
        Array a;
        for (int i = 0, n = pick(5); i < n; ++i) a.push_back(value(depth + 1));
        return Value(std::move(a));
      }
      default: {
        Value o = Object{};
        for (int i = 0, n = pick(5); i < n; ++i) o.set(a_string(), value(depth + 1));
        return o;
      }
    }
  }

 private:
  std::mt19937_64 rng_;

  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  double a_double() {
    switch (pick(3)) {
      case 0: return static_cast<double>(pick(1000)) / 8.0;
      case 1: return std::ldexp(static_cast<double>(rng_() >> 11), pick(200) - 150);
      default: {
        for (;;) {
          uint64_t bits = rng_();
          double d;
          std::memcpy(&d, &bits, sizeof d);
          if (std::isfinite(d)) return d;
        }
      }
    }
  }

  std::string a_string() {
    static const uint32_t specials[] = {'"', '\\', '/', '\n', '\t', 0x00, 0x1f, 0x7f,
                                        0xe9, 0x20ac, 0xfffd, 0x1f600, 0x10ffff};
    std::string s;
    for (int i = 0, n = pick(8); i < n; ++i) {
      uint32_t cp;
      switch (pick(3)) {
        case 0: cp = 'a' + pick(26); break;
        case 1: cp = specials[pick(sizeof specials / sizeof specials[0])]; break;
        default:
          do cp = static_cast<uint32_t>(rng_() % 0x110000);
          while (cp >= 0xD800 && cp <= 0xDFFF);
      }
      append(s, cp);
    }
    return s;
  }

  static void append(std::string& s, uint32_t cp) {
    // Encode via the parser: a JSON \u escape (pair) of cp.
    char buf[32];
    if (cp >= 0x10000) {
      uint32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof buf, "\"\\u%04x\\u%04x\"", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
    } else {
      std::snprintf(buf, sizeof buf, "\"\\u%04x\"", cp);
    }
    s += parse(buf).as_string();
  }
};

TEST(JsonProperty, RandomValuesRoundTrip) {
  RandomValues gen(20240601);
  for (int i = 0; i < 2000; ++i) {
    Value v = gen.value(0);
    for (int indent : {-1, 0, 2}) {
      std::string text = dump(v, indent);
      Value back = parse(text);
      ASSERT_EQ(back, v) << text;
      ASSERT_EQ(dump(back, indent), text);
    }
  }
}

}  // namespace
}  // namespace deuteron::json
