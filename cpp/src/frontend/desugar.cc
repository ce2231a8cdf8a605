// The AST rewrites of desugar.h.
#include "desugar.h"

namespace deuteron::desugar {

using ast::Body;
using ast::Expr;
using ast::ExprPtr;
using ast::Stmt;
using ast::StmtPtr;

StmtPtr make_assign(const std::string& name, SourceSpan name_span, ExprPtr value, SourceSpan span) {
  auto assign = std::make_unique<ast::Assign>(span);
  assign->targets.push_back(std::make_unique<ast::Name>(name_span, name));
  assign->value = std::move(value);
  return assign;
}

ExprPtr make_bool(bool value, SourceSpan span) {
  auto c = std::make_unique<ast::Constant>(span);
  c->type = ast::Constant::Type::Bool;
  c->bool_value = value;
  return c;
}

namespace {

// Calls fn(Body&) for body and the blocks of its if statements, recursively:
// the statements that belong to the same loop iteration (nested loops and
// functions have breaks of their own).
template <typename BodyT, typename F>
void for_each_loop_block(BodyT& body, F&& fn) {
  fn(body);
  for (auto& s : body)
    if (auto* i = ast::dyn_cast<ast::If>(s.get())) {
      for_each_loop_block(i->body, fn);
      for_each_loop_block(i->orelse, fn);
    }
}

bool binds(const Expr* target, const std::string& name) {
  if (!target) return false;
  if (auto* n = ast::dyn_cast<ast::Name>(target)) return n->id == name;
  if (auto* s = ast::dyn_cast<ast::Starred>(target)) return binds(s->value.get(), name);
  if (auto* t = ast::dyn_cast<ast::Tuple>(target)) {
    for (const auto& e : t->elts)
      if (binds(e.get(), name)) return true;
  }
  if (auto* l = ast::dyn_cast<ast::List>(target)) {
    for (const auto& e : l->elts)
      if (binds(e.get(), name)) return true;
  }
  return false;  // attributes and subscripts bind no name
}

}  // namespace

bool has_break(const Body& body) {
  bool found = false;
  for_each_loop_block(body, [&](const Body& b) {
    for (const auto& s : b) found = found || ast::isa<ast::Break>(s.get());
  });
  return found;
}

void set_flag_before_breaks(Body& body, const std::string& flag) {
  for_each_loop_block(body, [&](Body& b) {
    for (size_t i = 0; i < b.size(); ++i) {
      if (!ast::isa<ast::Break>(b[i].get())) continue;
      SourceSpan span = b[i]->span;
      b.insert(b.begin() + static_cast<std::ptrdiff_t>(i), make_assign(flag, span, make_bool(true, span), span));
      ++i;  // past the break
    }
  });
}

const Stmt* find_binding(const Body& body, const std::string& name) {
  for (const auto& s : body) {
    const Stmt* stmt = s.get();
    if (auto* a = ast::dyn_cast<ast::Assign>(stmt)) {
      for (const auto& t : a->targets)
        if (binds(t.get(), name)) return stmt;
    } else if (auto* a = ast::dyn_cast<ast::AugAssign>(stmt)) {
      if (binds(a->target.get(), name)) return stmt;
    } else if (auto* a = ast::dyn_cast<ast::AnnAssign>(stmt)) {
      if (binds(a->target.get(), name)) return stmt;
    } else if (auto* f = ast::dyn_cast<ast::For>(stmt)) {
      if (binds(f->target.get(), name)) return stmt;
      if (const Stmt* inner = find_binding(f->body, name)) return inner;
    } else if (auto* w = ast::dyn_cast<ast::While>(stmt)) {
      if (const Stmt* inner = find_binding(w->body, name)) return inner;
    } else if (auto* i = ast::dyn_cast<ast::If>(stmt)) {
      if (const Stmt* inner = find_binding(i->body, name)) return inner;
      if (const Stmt* inner = find_binding(i->orelse, name)) return inner;
    }
  }
  return nullptr;
}

}  // namespace deuteron::desugar
