// The host function of a generated module: the user's host statements (kept
// as written, with config-dependent calls replaced), the dynamic-shape
// symbols, and one launch per device loop (emitted by the back end).
#pragma once

#include <functional>

#include "python_writer.h"
#include "deuteron/json.h"
#include "deuteron/sema.h"

namespace deuteron::codegen {

// emit_loop(kernel_index, writer) writes what replaces device loop i.
// Dynamic-shape symbols are read at entry only when `symbol_used(name)`.
// `name` defaults to the kernel's own; `annotate` adds the parameter and
// return annotations torch.library needs for an op's schema.  `index_guard`:
// int32 code checks Program::index_guards on entry and hands the call to
// `_deuteron_wide` (the runtime's int64 specialization) when one fails.
// `launches` false: the fake implementation, which launches nothing and so
// draws no seeds for the kernels' random numbers (the runtime runs it on real
// tensors to rebuild a traced call's result: a draw would move torch's generator).
void emit_host_function(PythonWriter& w, const Program& program, const json::Value& config,
                        const std::function<void(int, PythonWriter&)>& emit_loop,
                        const std::function<bool(const std::string&)>& symbol_used,
                        const std::string& name = "", bool annotate = false, bool index_guard = false,
                        bool launches = true);

// Python annotation of an argument for torch.library ("torch.Tensor", "float",
// ...), or "" when the argument cannot be part of an op's schema.
std::string arg_annotation(const ArgSpec& a);

// `_deuteron_meta` entries shared by the back ends: the args written in
// place (for the op's mutates_args) and whether the op can be registered.
std::string op_meta(const Program& program);

// The comment block at the top of every generated module.
void emit_module_header(PythonWriter& w, const Program& program, const json::Value& config, const char* backend);

}  // namespace deuteron::codegen
