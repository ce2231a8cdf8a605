#include "python_writer.h"

#include <charconv>
#include <cmath>

namespace deuteron::codegen {

std::string py_float(double v) {
  if (std::isnan(v)) return "float(\"nan\")";
  if (std::isinf(v)) return v > 0 ? "float(\"inf\")" : "float(\"-inf\")";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string py_str(const std::string& s) {
  std::string out = "'";
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static const char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through: the module is UTF-8
        }
    }
  }
  return out + "'";
}

const char* python_infix(ir::BinaryFn f) {
  switch (f) {
    case ir::BinaryFn::Add: return " + ";
    case ir::BinaryFn::Sub: return " - ";
    case ir::BinaryFn::Mul: return " * ";
    case ir::BinaryFn::TrueDiv: return " / ";
    case ir::BinaryFn::BitAnd:
    case ir::BinaryFn::LogicalAnd: return " & ";
    case ir::BinaryFn::BitOr:
    case ir::BinaryFn::LogicalOr: return " | ";
    case ir::BinaryFn::BitXor: return " ^ ";
    case ir::BinaryFn::LShift: return " << ";
    case ir::BinaryFn::RShift: return " >> ";
    case ir::BinaryFn::Eq: return " == ";
    case ir::BinaryFn::Ne: return " != ";
    case ir::BinaryFn::Lt: return " < ";
    case ir::BinaryFn::Le: return " <= ";
    case ir::BinaryFn::Gt: return " > ";
    case ir::BinaryFn::Ge: return " >= ";
    case ir::BinaryFn::FloorDiv:
    case ir::BinaryFn::Mod:
    case ir::BinaryFn::Pow:
    case ir::BinaryFn::Maximum:
    case ir::BinaryFn::Minimum:
    case ir::BinaryFn::Atan2:
    case ir::BinaryFn::CopySign: return nullptr;
  }
  return nullptr;
}

}  // namespace deuteron::codegen
