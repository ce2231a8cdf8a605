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
