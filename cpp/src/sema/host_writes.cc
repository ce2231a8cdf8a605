// Host statements that write an argument in place: `x.zero_()`, `x[0] = 1`,
// `x += y`, `torch.add(a, b, out=x)`, also through a view of the argument
// (HostTensor::base_arg).  The torch.library operator must list such an
// argument as mutated (Program::host_mutated_args, codegen/host_wrapper.cc),
// as it lists those the kernels write: functionalization would otherwise
// drop or reorder the write.
//
// Sema looks at the statement's own expression (not into calls' arguments
// or host if/for bodies, which it does not evaluate either); the receivers
// are evaluated again only where that is free of effects (names, attributes
// and subscripts of them).
#include "analyzer.h"

namespace deuteron::sema {

namespace {

// Names, attributes, subscripts and constants only: evaluating it twice is harmless.
bool is_plain(const ast::Expr* e) {
  if (!e) return true;
  switch (e->kind) {
    case ast::ExprKind::Name:
    case ast::ExprKind::Constant: return true;
    case ast::ExprKind::Attribute: return is_plain(ast::cast<ast::Attribute>(e)->value.get());
    case ast::ExprKind::Subscript: {
      auto* s = ast::cast<ast::Subscript>(e);
      return is_plain(s->value.get()) && is_plain(s->index.get());
    }
    case ast::ExprKind::Slice: {
      auto* s = ast::cast<ast::Slice>(e);
      return is_plain(s->lower.get()) && is_plain(s->upper.get()) && is_plain(s->step.get());
    }
    case ast::ExprKind::Tuple:
      for (const auto& x : ast::cast<ast::Tuple>(e)->elts)
        if (!is_plain(x.get())) return false;
      return true;
    case ast::ExprKind::UnaryOp: return is_plain(ast::cast<ast::UnaryOp>(e)->operand.get());
    default: return false;
  }
}

// An in-place tensor method: `add_`, `zero_`, `copy_` (not a dunder).
bool in_place_method(const std::string& m) {
  return m.size() > 1 && m.back() == '_' && m.front() != '_';
}

}  // namespace

void Analyzer::note_host_write(const ast::Expr* e) {
  if (!e || !is_plain(e)) return;
  SValue v = eval(*e);
  std::vector<const SValue*> todo = {&v};
  while (!todo.empty()) {  // `out=(a, b)` writes both
    const SValue* x = todo.back();
    todo.pop_back();
    if (x->kind == SValue::Kind::Tensor && x->tensor->base_arg >= 0) program_->host_mutated_args.insert(x->tensor->base_arg);
    if (x->is_sequence())
      for (const auto& el : x->elts) todo.push_back(&el);
  }
}

void Analyzer::note_host_writes(const ast::Stmt& s) {
  const ast::Expr* value = nullptr;
  if (auto* a = ast::dyn_cast<ast::Assign>(&s)) {
    value = a->value.get();
    for (const auto& t : a->targets)
      if (auto* sub = ast::dyn_cast<ast::Subscript>(t.get())) note_host_write(sub->value.get());
  } else if (auto* a = ast::dyn_cast<ast::AnnAssign>(&s)) {
    value = a->value.get();
  } else if (auto* a = ast::dyn_cast<ast::AugAssign>(&s)) {
    value = a->value.get();
    // `x += y` on a tensor is in place, as is `x[i] += y`.
    if (auto* sub = ast::dyn_cast<ast::Subscript>(a->target.get())) note_host_write(sub->value.get());
    else note_host_write(a->target.get());
  } else if (auto* e = ast::dyn_cast<ast::ExprStmt>(&s)) {
    value = e->value.get();
  }
  auto* call = value ? ast::dyn_cast<ast::Call>(value) : nullptr;
  if (!call) return;
  if (auto* attr = ast::dyn_cast<ast::Attribute>(call->func.get()))
    if (in_place_method(attr->attr)) note_host_write(attr->value.get());
  for (const auto& k : call->keywords)
    if (k.name == "out") note_host_write(k.value.get());
}

}  // namespace deuteron::sema
