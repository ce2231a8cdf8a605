// Math helpers of generated Triton modules.
//
// On GPUs these call libdevice (accurate, fast).  Triton's interpreter
// (TRITON_INTERPRET=1, used by the CPU tests) cannot run libdevice, so the
// same name gets a composite of tl primitives there; the choice is made when
// the module is imported, so the module text is the same in both cases.
#include <map>

#include "kernel_emitter.h"

namespace deuteron::codegen {

namespace {

struct MathHelper {
  const char* params;
  const char* interpreted;    // body under the interpreter (one return expression)
  const char* compiled = "";  // body on GPUs; empty: libdevice.<name>(params)
};

const std::map<std::string, MathHelper>& helpers() {
  static const std::map<std::string, MathHelper> h = {
      {"tanh", {"x", "2.0 * tl.sigmoid(2.0 * x) - 1.0"}},
      {"log1p", {"x", "tl.log(1.0 + x)"}},
      {"expm1", {"x", "tl.exp(x) - 1.0"}},
      {"tan", {"x", "tl.sin(x) / tl.cos(x)"}},
      {"trunc", {"x", "tl.where(x < 0, tl.ceil(x), tl.floor(x))"}},
      {"nearbyint", {"x", "tl.where((tl.floor(x + 0.5) - x == 0.5) & (tl.floor(tl.floor(x + 0.5) * 0.5) * 2.0 != "
                          "tl.floor(x + 0.5)), tl.floor(x + 0.5) - 1.0, tl.floor(x + 0.5))"}},
      {"sinh", {"x", "0.5 * (tl.exp(x) - tl.exp(-x))"}},
      {"cosh", {"x", "0.5 * (tl.exp(x) + tl.exp(-x))"}},
      {"asinh", {"x", "tl.log(x + tl.sqrt(x * x + 1.0))"}},
      {"acosh", {"x", "tl.log(x + tl.sqrt(x * x - 1.0))"}},
      {"atanh", {"x", "0.5 * tl.log((1.0 + x) / (1.0 - x))"}},
      // exp2(y * log2(|x|)), with libdevice's meaning where that formula has none:
      // a negative base takes an integer exponent's sign (odd: negative) and is
      // NaN for a fractional one, and anything to the power 0 is 1.
      {"pow", {"x, y", "tl.where(y == 0, 1.0, tl.where(x < 0, tl.where(tl.floor(y) == y, tl.where("
                       "tl.floor(y * 0.5) * 2.0 != y, -1.0, 1.0), float('nan')), 1.0) * "
                       "tl.exp2(y * tl.log2(tl.abs(x))))"}},
      {"copysign", {"x, y", "tl.where(y < 0, -tl.abs(x), tl.abs(x))"}},
      {"asin", {"x", ""}},
      {"acos", {"x", ""}},
      {"atan", {"x", ""}},
      {"atan2", {"x, y", ""}},
      // Loop bounds computed on the device: identity on GPUs; under the
      // interpreter program ids are 1-element arrays, which range() rejects.
      {"bound", {"x", "@python"}},
      // hl.randint: the same on GPUs and under the interpreter.
      {"randint", {"seed, offsets, low, high", "@random"}},
      // A bfloat16 operand of tl.dot: Triton 3.6's interpreter keeps bfloat16
      // as its uint16 bit patterns and its dot multiplies those (np.matmul on
      // the storage).  Widening to float32 is exact, and the float32 product
      // is what an MMA of bfloat16 inputs accumulating in float32 computes.
      {"bf16_dot_operand", {"x", "x.to(tl.float32)", "x"}},
  };
  return h;
}

}  // namespace

void emit_math_helpers(PythonWriter& w, const std::set<std::string>& all_used) {
  std::set<std::string> used;
  for (const auto& name : all_used) {
    if (std::string(helpers().at(name).interpreted) != "@random") {
      used.insert(name);
      continue;
    }
    w.blank();
    w.blank();
    w.line("@triton.jit");
    w.line("def _deuteron_" + name + "(" + helpers().at(name).params + "):");
    w.line("    # |tl.randint's draw as an int32| (in int64, so that -2**31 stays positive)");
    w.line("    # mod (high - low), plus low: uniform in [low, high)");
    w.line("    r = tl.randint(seed, offsets).to(tl.int32, bitcast=True).to(tl.int64)");
    w.line("    return (low + tl.abs(r) % (high - low)).to(tl.int32)");
  }
  if (used.empty()) return;
  w.blank();
  w.blank();
  w.line("if triton.knobs.runtime.interpret:  # Triton's interpreter has no libdevice");
  w.indent();
  for (const auto& name : used) {
    const MathHelper& h = helpers().at(name);
    w.blank();
    if (std::string(h.interpreted) == "@python") {
      // A plain Python function: the interpreter runs kernel bodies as Python.
      w.line("def _deuteron_" + name + "(" + h.params + "):");
      w.line("    return int(x.handle.data.reshape(-1)[0]) if hasattr(x, \"handle\") else int(x)");
      continue;
    }
    w.line("@triton.jit");
    w.line("def _deuteron_" + name + "(" + h.params + "):");
    if (std::string(h.interpreted).empty())
      w.line("    raise NotImplementedError(\"" + name + " is not available under TRITON_INTERPRET=1\")");
    else
      w.line(std::string("    return ") + h.interpreted);
  }
  w.dedent();
  w.line("else:");
  w.indent();
  for (const auto& name : used) {
    const MathHelper& h = helpers().at(name);
    w.blank();
    w.line("@triton.jit");
    w.line("def _deuteron_" + name + "(" + h.params + "):");
    if (name == "bound")
      w.line("    return x");
    else if (std::string(h.compiled).empty())
      w.line(std::string("    return libdevice.") + name + "(" + h.params + ")");
    else
      w.line(std::string("    return ") + h.compiled);
  }
  w.dedent();
}

}  // namespace deuteron::codegen
