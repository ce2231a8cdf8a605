// Assembles the Triton back end's Python module: imports, helper functions,
// one @triton.jit kernel per device loop, and the host function.
#include <algorithm>
#include <cctype>
#include <set>
#include <map>

#include "../host_wrapper.h"
#include "../python_writer.h"
#include "deuteron/codegen.h"
#include "kernel_emitter.h"

namespace deuteron {

namespace {

std::string py_string(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string generate_triton_module(const CodegenInput& in) {
  using codegen::PythonWriter;
  const Program& program = *in.program;
  PythonWriter w;
  codegen::emit_module_header(w, program, in.config, "triton");
  // What the analyses did not follow as the config asked (analysis.h,
  // Resolution): nothing a config asks for is dropped without a word.
  std::vector<std::string> resolved;
  for (const auto& plan : in.plans)
    for (const auto& r : plan.resolutions)
      if (std::find(resolved.begin(), resolved.end(), r.text()) == resolved.end()) resolved.push_back(r.text());
  if (!resolved.empty()) {
    w.line("# resolved for " + target::describe(in.device) + ":");
    for (const auto& r : resolved) w.line("#   " + r);
  }
  w.line("import typing");
  w.line("");
  w.line("import torch");
  w.line("import triton");
  w.line("import triton.language as tl");
  w.line("from triton.language.extra import libdevice");
  w.line("from deuteron.runtime.launcher import default_launcher as _launch");
  w.line("from deuteron.runtime.launcher import check_tma_alignment as _check_tma_alignment");
  w.line("from deuteron.runtime.launcher import no_native_launcher as _no_native_launcher");
  if (program.rng_seed_count > 0) w.line("from deuteron.runtime import philox as _philox");
  // Kernels (and the helpers they need) are written to their own buffer
  // first: the helpers they use must be defined above them, and only those
  // are emitted.
  std::vector<codegen::KernelLaunch> launches;
  std::set<std::string> used_math;
  std::set<std::string> used_reductions;
  codegen::CombineHelpers combine;
  PythonWriter kernels_w;
  for (size_t i = 0; i < in.kernels.size(); ++i) {
    kernels_w.blank();
    kernels_w.blank();
    launches.push_back(codegen::emit_triton_kernel(kernels_w, program, *in.kernels[i], in.kernel_configs.at(i),
                                                   in.plans.at(i), &used_math, &used_reductions, &combine));
  }
  PythonWriter helpers_w;
  codegen::emit_math_helpers(helpers_w, used_math);
  codegen::emit_reduction_helpers(helpers_w, used_reductions);
  std::string body = helpers_w.str();
  // The @triton.jit functions hl.triton_kernel calls, as the user wrote them.
  for (const auto& d : program.triton_definitions) body += "\n\n" + d + (d.empty() || d.back() != '\n' ? "\n" : "");
  if (!combine.w.str().empty()) body += combine.w.str();
  body += kernels_w.str();
  // The integer and product helpers every back end's spelling of // , % and
  // prod may call, each emitted only when the code above names it.
  auto uses = [&](const std::string& name) {
    for (size_t at = body.find(name); at != std::string::npos; at = body.find(name, at + 1)) {
      char next = at + name.size() < body.size() ? body[at + name.size()] : ' ';
      if (!(std::isalnum(static_cast<unsigned char>(next)) || next == '_')) return true;
    }
    return false;
  };
  auto helper = [&](const std::string& name, const std::vector<std::string>& lines) {
    if (!uses(name)) return;
    w.blank();
    w.blank();
    w.line("@triton.jit");
    for (const auto& l : lines) w.line(l);
  };
  // Python semantics for integer // and % (Triton's round toward zero).
  helper("_deuteron_floordiv", {"def _deuteron_floordiv(a, b):", "    q = a // b",
                                "    return tl.where((a % b != 0) & ((a < 0) != (b < 0)), q - 1, q)"});
  helper("_deuteron_mod", {"def _deuteron_mod(a, b):", "    r = a % b",
                           "    return tl.where((r != 0) & ((r < 0) != (b < 0)), r + b, r)"});
  helper("_deuteron_mul_combine", {"def _deuteron_mul_combine(a, b):", "    return a * b"});
  w.line_raw(body.substr(0, body.size() - 1));
  w.blank();
  w.blank();
  // The host symbols a launch uses (an argument or in its grid): the host
  // function computes only those.
  auto symbols_used = [&](const std::string& name) {
    for (const auto& l : launches) {
      for (const auto& a : l.args)
        if (a.host_expr == name) return true;
      if (codegen::mentions_identifier(l.grid, name)) return true;
    }
    return false;
  };
  // The launches of the program's device loop `loop`, in order: one per
  // kernel it lowered to (several where passes/kernel_fission.cc split it).
  auto launches_of = [&](int loop) {
    std::vector<size_t> out;
    for (size_t i = 0; i < in.kernels.size(); ++i)
      if (in.kernels[i]->source_loop == loop) out.push_back(i);
    return out;
  };
  codegen::emit_host_function(w, program, in.config, [&](int loop, PythonWriter& hw) {
    const std::vector<size_t> parts = launches_of(loop);
    {
      const ir::DeviceKernel& kernel = *in.kernels.at(parts.at(0));
      std::string text = program.file->line_text(kernel.span.line);
      size_t b = text.find_first_not_of(" \t");
      hw.line("# line " + std::to_string(kernel.span.line) + ": " + (b == std::string::npos ? "" : text.substr(b)));
      if (parts.size() > 1)
        hw.line("# in " + std::to_string(parts.size()) +
                " launches, one after the other: its inner loops read each other's results");
    }
    for (size_t k : parts) {
      const codegen::KernelLaunch& l = launches.at(k);
      if (!l.tma_tensors.empty()) {
        std::string args;
        for (const auto& t : l.tma_tensors) args += (args.empty() ? "" : ", ") + t;
        hw.line("_check_tma_alignment(" + args + ")");
      }
      // The launch site's native launcher (installed by the runtime after the
      // first launch) returns False when it cannot serve the call; then the
      // generic path compiles through Triton and installs one.
      std::string site = "_launch_" + std::to_string(k);
      std::string args;
      for (const auto& a : l.args) args += ", " + a.host_expr;
      std::string slow = "_launch(" + l.kernel_name + ", " + l.grid + args + ", num_warps=" + std::to_string(l.num_warps) +
                         ", num_stages=" + std::to_string(l.num_stages);
      if (l.maxnreg) slow += ", maxnreg=" + std::to_string(*l.maxnreg);
      slow += ", site=(globals(), \"" + site + "\"))";
      hw.line(site + "(" + l.grid + args + ") or " + slow);
    }
  }, symbols_used, "", false, /*index_guard=*/true);
  // torch.library integration: the same host code launching through
  // wrap_triton (traceable by torch.compile / export / AOTInductor), and
  // without launches (the fake implementation: outputs' shapes only).
  w.blank();
  w.blank();
  codegen::emit_host_function(w, program, in.config, [&](int loop, PythonWriter& hw) {
    for (size_t k : launches_of(loop)) {
      const codegen::KernelLaunch& l = launches.at(k);
      std::string args;
      for (const auto& a : l.args) args += (args.empty() ? "" : ", ") + a.host_expr;
      std::string opts = "num_warps=" + std::to_string(l.num_warps) + ", num_stages=" + std::to_string(l.num_stages);
      hw.line("torch.library.wrap_triton(" + l.kernel_name + ")[" + l.grid + "](" + args + ", " + opts + ")");
    }
  }, symbols_used, "_deuteron_op_impl", true);
  w.blank();
  w.blank();
  codegen::emit_host_function(w, program, in.config, [&](int loop, PythonWriter& hw) {
    for (size_t k : launches_of(loop))
      hw.line("pass  # launch of " + launches.at(k).kernel_name + " (no data under fake tensors)");
  }, symbols_used, "_deuteron_fake_impl", true, false, false);
  w.blank();
  w.blank();
  for (size_t k = 0; k < launches.size(); ++k)
    w.line("_launch_" + std::to_string(k) + " = _no_native_launcher  # replaced by the runtime after the first launch");
  if (program.index_dtype == DType::Int32 && !program.index_guards.empty()) {
    w.blank();
    w.line("def _deuteron_wide(*args):  # replaced by the runtime: the int64 specialization");
    w.line("    raise OverflowError('a tensor is too large for the int32 indices of this kernel; '");
    w.line("                        'pass index_dtype=torch.int64 to the kernel')");
  }
  w.blank();
  std::string kernels = "[";
  for (size_t i = 0; i < launches.size(); ++i) kernels += (i ? ", " : "") + py_string(launches[i].kernel_name);
  kernels += "]";
  std::string globals = "[";
  for (size_t i = 0; i < program.used_globals.size(); ++i) globals += (i ? ", " : "") + py_string(program.used_globals[i]);
  globals += "]";
  w.line("_deuteron_meta = {'backend': 'triton', 'entry': " + py_string(program.fn->name) + ", 'kernels': " + kernels +
         ", 'globals': " + globals + ", 'config': " + py_string(json::dump(in.config)) + ", " +
         codegen::op_meta(program) + "}");
  return w.str();
}

}  // namespace deuteron
