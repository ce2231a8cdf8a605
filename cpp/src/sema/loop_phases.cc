// Helion's rules for a kernel's top-level loops, checked once every loop is
// lowered.
//
// Helion runs the top-level loops of a kernel as one launch: the loops between
// two hl.barrier() calls (a phase) share the launch's programs, which run in
// any order, and a barrier is a grid-wide wait inside that one persistent
// kernel.  So it rejects
//   * a statement between two top-level loops (other than hl.barrier()): host
//     code has nowhere to run there (TopLevelStatementBetweenLoops);
//   * a loop that reads or writes a tensor an earlier loop of its phase wrote:
//     the programs of the two loops race (LoopDependencyError).
// deuteron launches each top-level loop on its own, in order, where neither
// would be wrong; it keeps Helion's rules so that a kernel means the same
// under both, and so that a phase stays free to become one launch.
//
// A tensor's identity is the argument whose memory it is (views and elements
// of an argument included: TensorParam::base_arg), else the host variable the
// kernel takes it from.  A view of an allocation under another name is not
// followed (the dependency then goes unreported; deuteron's launches run in
// order, so the kernel is still right).
#include <map>

#include "analyzer.h"

namespace deuteron::sema {

namespace {

std::string tensor_identity(const ir::TensorParam& t) {
  if (t.base_arg >= 0) return "arg:" + std::to_string(t.base_arg);
  return "host:" + t.host_expr;
}

// Where kernel k first touches tensor `param` (a load, store or atomic).
SourceSpan first_access(const ir::DeviceKernel& k, int param) {
  SourceSpan at = k.span;
  bool found = false;
  ir::walk(k.body, [&](const ir::Op& op) {
    if (found || op.attrs.tensor != param) return;
    if (op.kind == ir::OpKind::Load || op.kind == ir::OpKind::Store || op.kind == ir::OpKind::AtomicRMW) {
      at = op.span;
      found = true;
    }
  });
  return at;
}

}  // namespace

bool Analyzer::is_barrier_stmt(const ast::Stmt& s) const {
  auto* e = ast::dyn_cast<ast::ExprStmt>(&s);
  auto* call = e ? ast::dyn_cast<ast::Call>(e->value.get()) : nullptr;
  return call && callee_qualname(*call->func) == "hl.barrier";
}

void Analyzer::check_loop_phases() {
  const auto& host = program_->host;
  // Statements between loops; phases.
  const ast::Stmt* after_loop = nullptr;  // the first statement after a loop, not a barrier
  int last_loop_line = 0;
  bool barrier_after_loop = false;
  for (const HostStmt& h : host) {
    if (h.kernel >= 0) {
      program_->barrier_phases |= barrier_after_loop;
      if (after_loop) {
        const ir::DeviceKernel& k = *program_->kernels[h.kernel];
        error(after_loop->span, ErrorKind::TopLevelStatementBetweenLoops,
              "Statements cannot appear between top level loops: this one follows the loop at line " +
                  std::to_string(last_loop_line) + " and precedes the loop at line " + std::to_string(k.span.line),
              {"Helion runs a kernel's top-level loops as one launch, so host code goes before the first loop "
               "or after the last one (hl.barrier() may stand between loops)"});
      }
      last_loop_line = program_->kernels[h.kernel]->span.line;
      continue;
    }
    if (last_loop_line == 0) continue;
    if (is_barrier_stmt(*h.stmt)) barrier_after_loop = true;
    else if (!after_loop) after_loop = h.stmt;
  }

  // Dependencies within a phase: identity -> (the name shown, the loop that wrote it).
  std::map<std::string, std::pair<std::string, int>> written;
  for (const HostStmt& h : host) {
    if (h.kernel < 0) {
      if (is_barrier_stmt(*h.stmt)) written.clear();
      continue;
    }
    const ir::DeviceKernel& k = *program_->kernels[h.kernel];
    for (size_t i = 0; i < k.tensors.size(); ++i) {
      const ir::TensorParam& t = k.tensors[i];
      if (!t.read && !t.written) continue;
      auto w = written.find(tensor_identity(t));
      if (w == written.end()) continue;
      const std::string& name = w->second.first;
      std::string alias = t.host_expr == name ? "" : " ('" + t.host_expr + "' shares its memory)";
      error(first_access(k, static_cast<int>(i)), ErrorKind::LoopDependencyError,
            "Loop dependency detected: '" + name +
                "' was written in a previous loop. If this dependency is intentional, insert hl.barrier() between "
                "the loops.",
            {"the loop at line " + std::to_string(w->second.second) + " writes it" + alias +
             ", and Helion runs the top-level loops between barriers as one launch whose programs run in any "
             "order"});
    }
    for (const ir::TensorParam& t : k.tensors)
      if (t.written) written.emplace(tensor_identity(t), std::make_pair(t.host_expr, k.span.line));
  }
}

}  // namespace deuteron::sema
