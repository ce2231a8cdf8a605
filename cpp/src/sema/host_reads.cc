// Host statements sema does not evaluate (the bodies of host if/for/while, the
// index of a subscript target) still must not read a name that only existed
// inside a device loop: Python would raise NameError at run time, with no line.
#include "analyzer.h"

#include <functional>

namespace deuteron::sema {

namespace {

using OnRead = std::function<void(const ast::Name&)>;

void each_read(const ast::Expr* e, const OnRead& f);
void bound_names(const ast::Expr* t, std::set<std::string>& out);

void each_read(const std::vector<ast::ExprPtr>& es, const OnRead& f) {
  for (const auto& e : es) each_read(e.get(), f);
}

void each_read(const ast::Expr* e, const OnRead& f) {
  if (!e) return;
  switch (e->kind) {
    case ast::ExprKind::Name: f(*ast::cast<ast::Name>(e)); break;
    case ast::ExprKind::Constant: break;
    case ast::ExprKind::FString:
      for (const auto& p : ast::cast<ast::FString>(e)->parts) each_read(p.value.get(), f);
      break;
    case ast::ExprKind::BinOp: {
      auto* b = ast::cast<ast::BinOp>(e);
      each_read(b->left.get(), f);
      each_read(b->right.get(), f);
      break;
    }
    case ast::ExprKind::UnaryOp: each_read(ast::cast<ast::UnaryOp>(e)->operand.get(), f); break;
    case ast::ExprKind::BoolOp: each_read(ast::cast<ast::BoolOp>(e)->values, f); break;
    case ast::ExprKind::Compare: {
      auto* c = ast::cast<ast::Compare>(e);
      each_read(c->left.get(), f);
      each_read(c->comparators, f);
      break;
    }
    case ast::ExprKind::Call: {
      auto* c = ast::cast<ast::Call>(e);
      each_read(c->func.get(), f);
      each_read(c->args, f);
      for (const auto& k : c->keywords) each_read(k.value.get(), f);
      break;
    }
    case ast::ExprKind::Attribute: each_read(ast::cast<ast::Attribute>(e)->value.get(), f); break;
    case ast::ExprKind::Subscript: {
      auto* s = ast::cast<ast::Subscript>(e);
      each_read(s->value.get(), f);
      each_read(s->index.get(), f);
      break;
    }
    case ast::ExprKind::Slice: {
      auto* s = ast::cast<ast::Slice>(e);
      each_read(s->lower.get(), f);
      each_read(s->upper.get(), f);
      each_read(s->step.get(), f);
      break;
    }
    case ast::ExprKind::Tuple: each_read(ast::cast<ast::Tuple>(e)->elts, f); break;
    case ast::ExprKind::List: each_read(ast::cast<ast::List>(e)->elts, f); break;
    case ast::ExprKind::IfExp: {
      auto* i = ast::cast<ast::IfExp>(e);
      each_read(i->test.get(), f);
      each_read(i->body.get(), f);
      each_read(i->orelse.get(), f);
      break;
    }
    case ast::ExprKind::Starred: each_read(ast::cast<ast::Starred>(e)->value.get(), f); break;
    case ast::ExprKind::Lambda:
      // Its body reads where the lambda is called (inlined there), not here.
      for (const auto& a : ast::cast<ast::Lambda>(e)->args) each_read(a.default_value.get(), f);
      break;
    case ast::ExprKind::Comp: {
      // The comprehension's variables are its own: reads of them are not the kernel's.
      auto* c = ast::cast<ast::Comp>(e);
      std::set<std::string> local;
      for (const auto& g : c->generators) bound_names(g.target.get(), local);
      OnRead outer = [&](const ast::Name& n) {
        if (!local.count(n.id)) f(n);
      };
      each_read(c->generators.front().iter.get(), f);
      for (size_t i = 1; i < c->generators.size(); ++i) each_read(c->generators[i].iter.get(), outer);
      for (const auto& g : c->generators) each_read(g.ifs, outer);
      each_read(c->elt.get(), outer);
      each_read(c->value.get(), outer);
      break;
    }
  }
}

// The reads an assignment target makes: a name target reads nothing; x[i] and
// x.a read x (and i).
void target_reads(const ast::Expr* t, const OnRead& f) {
  if (!t) return;
  switch (t->kind) {
    case ast::ExprKind::Name: break;
    case ast::ExprKind::Tuple: for (const auto& e : ast::cast<ast::Tuple>(t)->elts) target_reads(e.get(), f); break;
    case ast::ExprKind::List: for (const auto& e : ast::cast<ast::List>(t)->elts) target_reads(e.get(), f); break;
    case ast::ExprKind::Starred: target_reads(ast::cast<ast::Starred>(t)->value.get(), f); break;
    default: each_read(t, f);
  }
}

// The names an assignment target binds.
void bound_names(const ast::Expr* t, std::set<std::string>& out) {
  if (!t) return;
  if (auto* n = ast::dyn_cast<ast::Name>(t)) out.insert(n->id);
  else if (auto* tu = ast::dyn_cast<ast::Tuple>(t)) for (const auto& e : tu->elts) bound_names(e.get(), out);
  else if (auto* l = ast::dyn_cast<ast::List>(t)) for (const auto& e : l->elts) bound_names(e.get(), out);
  else if (auto* st = ast::dyn_cast<ast::Starred>(t)) bound_names(st->value.get(), out);
}

}  // namespace

void Analyzer::check_host_reads(const ast::Stmt& s) {
  // A name the statement binds before reading it again (`tile = 0` in a host
  // if body) is a new variable; later reads of it are fine.
  std::set<std::string> rebound;
  OnRead check = [&](const ast::Name& n) {
    if (rebound.count(n.id)) return;
    auto it = env_.find(n.id);
    if (it != env_.end() && it->second.kind == SValue::Kind::Poison) error(n.span, it->second.error_kind, it->second.s);
  };
  std::function<void(const ast::Body&)> body;
  std::function<void(const ast::Stmt&)> stmt = [&](const ast::Stmt& st) {
    switch (st.kind) {
      case ast::StmtKind::Assign: {
        auto& a = *ast::cast<ast::Assign>(&st);
        each_read(a.value.get(), check);
        for (const auto& t : a.targets) target_reads(t.get(), check);
        for (const auto& t : a.targets) bound_names(t.get(), rebound);
        break;
      }
      case ast::StmtKind::AugAssign: {
        auto& a = *ast::cast<ast::AugAssign>(&st);
        each_read(a.value.get(), check);
        each_read(a.target.get(), check);  // x += 1 reads x
        break;
      }
      case ast::StmtKind::AnnAssign: {
        auto& a = *ast::cast<ast::AnnAssign>(&st);
        each_read(a.value.get(), check);
        target_reads(a.target.get(), check);
        if (a.value) bound_names(a.target.get(), rebound);
        break;
      }
      case ast::StmtKind::For: {
        auto& f = *ast::cast<ast::For>(&st);
        each_read(f.iter.get(), check);
        target_reads(f.target.get(), check);
        bound_names(f.target.get(), rebound);
        body(f.body);
        break;
      }
      case ast::StmtKind::While: {
        auto& w = *ast::cast<ast::While>(&st);
        each_read(w.test.get(), check);
        body(w.body);
        break;
      }
      case ast::StmtKind::If: {
        auto& i = *ast::cast<ast::If>(&st);
        each_read(i.test.get(), check);
        body(i.body);
        body(i.orelse);
        break;
      }
      case ast::StmtKind::Return: each_read(ast::cast<ast::Return>(&st)->value.get(), check); break;
      case ast::StmtKind::Assert: {
        auto& a = *ast::cast<ast::Assert>(&st);
        each_read(a.test.get(), check);
        each_read(a.msg.get(), check);
        break;
      }
      case ast::StmtKind::ExprStmt: each_read(ast::cast<ast::ExprStmt>(&st)->value.get(), check); break;
      default: break;
    }
  };
  body = [&](const ast::Body& b) {
    for (const auto& st : b) stmt(*st);
  };
  stmt(s);
}

}  // namespace deuteron::sema
