// Helion's escape hatches into Triton: hl.inline_triton (a snippet of Triton
// source), hl.triton_kernel (a call of a @triton.jit function, whose source
// the generated module defines: Program::triton_definitions),
// hl.inline_asm_elementwise (tl.inline_asm_elementwise).  Both become
// one `inline_triton` op: Triton text whose placeholders name the op's operands
// (`{0}`, `{1}`, ...) and tensor parameters (`{t0}`: the pointer to the
// kernel's tensor 0), with `{{` / `}}` for literal braces.  The Triton back end
// substitutes the names it gives those values; the PyTorch reference back end
// cannot run Triton text and rejects the op (codegen/reference).
#include <algorithm>
#include <sstream>

#include "analyzer.h"
#include "deuteron/dtype.h"

namespace deuteron::sema {

using K = SValue::Kind;
using ir::OpKind;

namespace {

// Braces of user text, kept literal by the template's format.
std::string escape_braces(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '{' || c == '}') out += c;
  }
  return out;
}

// Python's textwrap.dedent, then blank lines at both ends dropped: Helion strips
// the snippet's common indentation (its docstring says so).
std::string dedent(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    lines.push_back(line);
  }
  size_t common = std::string::npos;
  for (const auto& l : lines)
    if (!l.empty()) common = std::min(common, l.find_first_not_of(" \t"));
  if (common == std::string::npos) common = 0;
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  size_t first = 0;
  while (first < lines.size() && lines[first].empty()) ++first;
  std::string out;
  for (size_t i = first; i < lines.size(); ++i) out += (lines[i].empty() ? "" : lines[i].substr(common)) + "\n";
  return out;
}

}  // namespace

// A placeholder's replacement: an operand, a tensor's pointer, or text.
std::string Analyzer::inline_triton_piece(const SValue& v, SourceSpan span, const std::string& what,
                                          std::vector<ir::Value*>& operands) {
  if (v.kind == K::Tensor) {
    // A host tensor is its pointer (Helion passes the tensor's base pointer).
    int t = tensor_param(*v.tensor, span);
    kernel_->tensors[t].read = kernel_->tensors[t].written = true;
    return "{t" + std::to_string(t) + "}";
  }
  if (v.kind == K::IR || v.kind == K::Int || v.kind == K::Float || v.kind == K::Bool) {
    operands.push_back(expect_device(v, span, what).value);
    return "{" + std::to_string(operands.size() - 1) + "}";
  }
  error(span, ErrorKind::InvalidAPIUsage,
        what + " must be a device tensor, a host tensor or a number, got " + describe(v));
}

SValue Analyzer::inline_triton(const CallArgs& call) {
  BoundArgs b = bind(call, {"triton_source", "args", "output_like"});
  const SValue& src = *b.get("triton_source");
  if (src.kind != K::String)
    error(b.span_of("triton_source"), ErrorKind::InvalidAPIUsage,
          "triton_source must be a string, got " + describe(src));
  // args: a sequence for {0}, {1}, ... or a dict with string keys for {name}.
  const SValue& args = *b.get("args");
  std::vector<std::pair<std::string, SValue>> named;
  if (args.is_sequence()) {
    for (size_t i = 0; i < args.elts.size(); ++i) named.emplace_back(std::to_string(i), args.elts[i]);
  } else if (args.kind == K::ConstDict) {
    for (size_t i = 0; i + 1 < args.elts.size(); i += 2) {
      if (args.elts[i].kind != K::String)
        error(b.span_of("args"), ErrorKind::InvalidAPIUsage,
              "hl.inline_triton: the keys of args must be strings (placeholders {name}), got " +
                  describe(args.elts[i]));
      named.emplace_back(args.elts[i].s, args.elts[i + 1]);
    }
  } else if (args.kind == K::Dict) {
    for (size_t i = 0; i < args.elts.size(); ++i) named.emplace_back(args.fields[i], args.elts[i]);
  } else {
    error(b.span_of("args"), ErrorKind::InvalidAPIUsage,
          "inline_triton args must be a tuple/list or a mapping, got " + describe(args));
  }
  // output_like: None (statements only), a device tensor, or a tuple/list of them.
  const SValue& like = *b.get("output_like");
  std::vector<ir::Type> result_types;
  bool single = false;
  auto like_type = [&](const SValue& v, const std::string& what) {
    if (v.kind != K::IR)
      error(b.span_of("output_like"), ErrorKind::InvalidAPIUsage,
            what + " must be a tensor or a sequence of tensors or None, got " + describe(v),
            {"give a device value of the result's shape and dtype (e.g. the tile the snippet reads)"});
    result_types.push_back(v.value->type);
  };
  if (like.kind == K::IR) {
    like_type(like, "output_like");
    single = true;
  } else if (like.is_sequence()) {
    for (size_t i = 0; i < like.elts.size(); ++i) like_type(like.elts[i], "output_like[" + std::to_string(i) + "]");
  } else if (like.kind != K::None) {
    like_type(like, "output_like");
  }
  // str.format's placeholders, replaced by the template's own.
  std::vector<ir::Value*> operands;
  std::map<std::string, std::string> pieces;
  const std::string text = dedent(src.s);
  std::string tmpl;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      tmpl += std::string(2, c);
      ++i;
      continue;
    }
    if (c == '}')
      error(b.span_of("triton_source"), ErrorKind::InvalidAPIUsage,
            "hl.inline_triton: a single '}' in the Triton source", {"write '}}' for a literal brace"});
    if (c != '{') {
      tmpl += c;
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string::npos)
      error(b.span_of("triton_source"), ErrorKind::InvalidAPIUsage,
            "hl.inline_triton: a '{' without its '}' in the Triton source", {"write '{{' for a literal brace"});
    std::string key = text.substr(i + 1, close - i - 1);
    auto it = std::find_if(named.begin(), named.end(), [&](const auto& p) { return p.first == key; });
    if (it == named.end())
      error(b.span_of("args"), ErrorKind::InvalidAPIUsage,
            "hl.inline_triton: the placeholder {" + key + "} has no value in args",
            {args.is_sequence() ? "args is a sequence: its placeholders are {0} .. {" +
                                      std::to_string(static_cast<int>(named.size()) - 1) + "}"
                                : "args is a mapping: its placeholders are its keys"});
    if (!pieces.count(key)) pieces[key] = inline_triton_piece(it->second, b.span_of("args"), "args[" + key + "]", operands);
    tmpl += pieces[key];
    i = close;
  }
  if (tmpl.empty()) error(b.span_of("triton_source"), ErrorKind::InvalidAPIUsage, "hl.inline_triton: the Triton source is empty");
  ir::Attrs a;
  a.message = tmpl;
  ir::Op* op = gen().builder().create(OpKind::InlineTriton, operands, result_types, call.span, a);
  if (like.kind == K::None) return SValue::none();
  std::vector<SValue> outs;
  for (const auto& r : op->results) outs.push_back(SValue::ir(r.get(), PromotionClass::Tensor));
  if (single) return outs[0];
  return like.kind == K::List ? SValue::list(outs) : SValue::tuple(outs);
}

SValue Analyzer::inline_asm_elementwise(const CallArgs& call) {
  BoundArgs b = bind(call, {"asm", "constraints", "args", "dtype", "is_pure", "pack"});
  auto str = [&](const char* n) {
    const SValue& v = *b.get(n);
    if (v.kind != K::String)
      error(b.span_of(n), ErrorKind::InvalidAPIUsage, std::string(n) + " must be a string, got " + describe(v));
    return v.s;
  };
  std::string asm_text = str("asm"), constraints = str("constraints");
  const SValue& is_pure = *b.get("is_pure");
  if (is_pure.kind != K::Bool || !is_pure.runtime_expr.empty())
    error(b.span_of("is_pure"), ErrorKind::InvalidAPIUsage, "is_pure must be a bool, got " + describe(is_pure));
  const SValue& pack = *b.get("pack");
  if (pack.kind != K::Int || !pack.i.is_constant() || pack.i.constant() < 1)
    error(b.span_of("pack"), ErrorKind::InvalidAPIUsage, "pack must be a positive int, got " + describe(pack));
  const SValue& dt = *b.get("dtype");
  std::vector<SValue> dts = dt.is_sequence() ? dt.elts : std::vector<SValue>{dt};
  if (dts.empty()) error(b.span_of("dtype"), ErrorKind::InvalidAPIUsage, "dtype must name at least one result dtype");
  std::vector<DType> dtypes;
  for (const auto& d : dts) {
    if (d.kind != K::DType)
      error(b.span_of("dtype"), ErrorKind::InvalidAPIUsage, "dtype must be torch.dtype, got " + describe(d));
    dtypes.push_back(d.dtype);
  }
  // The arguments broadcast together (Triton broadcasts them; the results have their shape).
  std::vector<ir::Value*> operands;
  std::vector<int> dims;
  for (const auto& v : expect_sequence(*b.get("args"), b.span_of("args"), "args")) {
    ir::Value* x = expect_device(v, b.span_of("args"), "an argument of hl.inline_asm_elementwise").value;
    dims = gen().broadcast_dims(dims, x->type.dims, b.span_of("args"));
    operands.push_back(x);
  }
  std::string tmpl = "tl.inline_asm_elementwise(" + escape_braces(codegen_quote(asm_text)) + ", " +
                     escape_braces(codegen_quote(constraints)) + ", [";
  for (size_t i = 0; i < operands.size(); ++i) tmpl += (i ? ", {" : "{") + std::to_string(i) + "}";
  tmpl += "], dtype=";
  if (dt.is_sequence()) {
    tmpl += "(";
    for (DType d : dtypes) tmpl += std::string(triton_name(d)) + ", ";
    tmpl += ")";
  } else {
    tmpl += triton_name(dtypes[0]);
  }
  tmpl += std::string(", is_pure=") + (is_pure.b ? "True" : "False") + ", pack=" + std::to_string(pack.i.constant()) + ")";
  std::vector<ir::Type> types;
  for (DType d : dtypes) types.push_back(ir::Type{d, dims});
  ir::Attrs a;
  a.message = tmpl;
  ir::Op* op = gen().builder().create(OpKind::InlineTriton, operands, types, call.span, a);
  std::vector<SValue> outs;
  for (const auto& r : op->results) outs.push_back(SValue::ir(r.get(), PromotionClass::Tensor));
  return dt.is_sequence() ? SValue::tuple(outs) : outs[0];
}

// A Python string literal of `s` (double quotes, escapes for quotes, backslashes, newlines).
std::string Analyzer::codegen_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    if (c == '\t') { out += "\\t"; continue; }
    out += c;
  }
  return out + "\"";
}

SValue Analyzer::triton_kernel(const CallArgs& call) {
  BoundArgs b = bind(call, {"triton_source_or_fn", "args", "output_like"});
  const SValue& f = *b.get("triton_source_or_fn");
  const SourceSpan fspan = b.span_of("triton_source_or_fn");
  // The function: a @triton.jit global (by value or by its name), or the source of one def.
  std::string fn_name, definitions;
  auto jit_global = [&](const std::string& name) -> const GlobalSpec* {
    auto g = globals_.find(name);
    return g != globals_.end() && g->second.kind == GlobalSpec::Kind::TritonJit ? &g->second : nullptr;
  };
  const std::string jit_prefix = "triton_jit.";
  if (f.kind == K::Function && f.s.rfind(jit_prefix, 0) == 0) {
    const GlobalSpec* g = jit_global(f.s.substr(jit_prefix.size()));
    if (!g) error(fspan, ErrorKind::InvalidAPIUsage, "hl.triton_kernel: the @triton.jit function's source is not known");
    fn_name = g->qualname;
    definitions = g->string_value;
  } else if (f.kind == K::String && f.s.find("def ") != std::string::npos) {
    // The source of one @triton.jit def: its name follows `def`.
    std::string text = dedent(f.s);
    size_t at = text.find("def ") + 4;
    size_t end = text.find('(', at);
    fn_name = end == std::string::npos ? "" : text.substr(at, end - at);
    while (!fn_name.empty() && fn_name.back() == ' ') fn_name.pop_back();
    if (fn_name.empty())
      error(fspan, ErrorKind::InvalidAPIUsage, "hl.triton_kernel: the source has no `def name(...)`");
    definitions = text.find("@triton.jit") == std::string::npos ? "@triton.jit\n" + text : text;
  } else if (f.kind == K::String) {
    const GlobalSpec* g = jit_global(f.s);
    if (!g)
      error(fspan, ErrorKind::InvalidAPIUsage,
            "hl.triton_kernel: '" + f.s + "' is no @triton.jit function of the kernel's module",
            {"define it at module level with @triton.jit, or pass the function itself or its source"});
    fn_name = g->qualname;
    definitions = g->string_value;
  } else {
    error(fspan, ErrorKind::InvalidAPIUsage,
          "triton_kernel expects a string source or a function, got " + describe(f),
          {"pass a @triton.jit function, its name, or the source of its def"});
  }
  if (std::find(program_->triton_definitions.begin(), program_->triton_definitions.end(), definitions) ==
      program_->triton_definitions.end())
    program_->triton_definitions.push_back(definitions);
  // The call, as an inline_triton snippet: `fn({0}, {1}, ...)` or `fn(a={a}, ...)`.
  const SValue& args = *b.get("args");
  std::string text = escape_braces(fn_name) + "(";
  if (args.is_sequence()) {
    for (size_t i = 0; i < args.elts.size(); ++i) text += (i ? ", {" : "{") + std::to_string(i) + "}";
  } else if (args.kind == K::ConstDict || args.kind == K::Dict) {
    size_t n = args.kind == K::Dict ? args.elts.size() : args.elts.size() / 2;
    for (size_t i = 0; i < n; ++i) {
      const SValue& key = args.kind == K::Dict ? SValue::string(args.fields[i]) : args.elts[2 * i];
      if (key.kind != K::String)
        error(b.span_of("args"), ErrorKind::InvalidAPIUsage,
              "hl.triton_kernel: the keys of args must be parameter names, got " + describe(key));
      text += (i ? ", " : "") + key.s + "={" + key.s + "}";
    }
  } else {
    error(b.span_of("args"), ErrorKind::InvalidAPIUsage,
          "triton_kernel args must be a tuple/list or a mapping, got " + describe(args));
  }
  text += ")";
  // The rest is hl.inline_triton's: the same placeholders and output_like.
  CallArgs as_inline;
  as_inline.span = call.span;
  as_inline.func_name = "hl.triton_kernel";
  as_inline.args = {SValue::string(text), args, *b.get("output_like")};
  as_inline.arg_spans = {fspan, b.span_of("args"), b.span_of("output_like")};
  return inline_triton(as_inline);
}

bool Analyzer::call_escape_hatch(const std::string& name, const CallArgs& call, SValue& out) {
  if (name != "inline_triton" && name != "inline_asm_elementwise" && name != "triton_kernel") return false;
  if (!in_device())
    error(call.span, ErrorKind::DeviceAPIOnHost, "hl." + name + "() can only be used inside a tile loop");
  out = name == "inline_triton"   ? inline_triton(call)
        : name == "triton_kernel" ? triton_kernel(call)
                                  : inline_asm_elementwise(call);
  return true;
}

}  // namespace deuteron::sema
