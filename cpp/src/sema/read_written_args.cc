// The kernel's arguments that its text both reads and writes, by Helion's
// rule (helion/_compiler/compile_environment.py, which drops every
// range_num_stages entry of such a kernel): Triton's software pipeliner,
// asked by tl.range(num_stages=) to load ahead, read memory the loop had not
// written yet (triton-lang/triton#8259).  The rule is syntactic, as Helion's
// name walk (helion/_compiler/ast_read_writes.py) is, so that a kernel has
// range_num_stages entries exactly where Helion gives it some: a name is
// written where it is assigned (`x = ...`, `x += ...`, a `for` of a
// comprehension), where it is subscripted as a store target (`x[i] = ...`,
// which reads x too) and where it is the first argument of an hl.atomic_*
// call; it is read where it appears anywhere else.  A `for` statement's own
// target is neither.
#include <set>

#include "analyzer.h"

namespace deuteron::sema {

namespace {

class ReadWriteWalk {
 public:
  std::set<std::string> reads, writes;

  void body(const ast::Body& b) {
    for (const auto& s : b) stmt(*s);
  }

  void stmt(const ast::Stmt& s) {
    switch (s.kind) {
      case ast::StmtKind::FunctionDef: {
        const auto& f = *ast::cast<ast::FunctionDef>(&s);
        for (const auto& d : f.decorators) load(d.get());
        for (const auto& a : f.args) {
          load(a.annotation.get());
          load(a.default_value.get());
        }
        load(f.returns.get());
        body(f.body);
        break;
      }
      case ast::StmtKind::Assign: {
        const auto& a = *ast::cast<ast::Assign>(&s);
        for (const auto& t : a.targets) store(t.get());
        load(a.value.get());
        break;
      }
      case ast::StmtKind::AugAssign: {
        const auto& a = *ast::cast<ast::AugAssign>(&s);
        store(a.target.get());
        load(a.value.get());
        break;
      }
      case ast::StmtKind::AnnAssign: {
        const auto& a = *ast::cast<ast::AnnAssign>(&s);
        store(a.target.get());
        load(a.annotation.get());
        load(a.value.get());
        break;
      }
      case ast::StmtKind::For: {
        const auto& f = *ast::cast<ast::For>(&s);
        load(f.iter.get());
        body(f.body);
        break;
      }
      case ast::StmtKind::While: {
        const auto& w = *ast::cast<ast::While>(&s);
        load(w.test.get());
        body(w.body);
        break;
      }
      case ast::StmtKind::If: {
        const auto& i = *ast::cast<ast::If>(&s);
        load(i.test.get());
        body(i.body);
        body(i.orelse);
        break;
      }
      case ast::StmtKind::Return: load(ast::cast<ast::Return>(&s)->value.get()); break;
      case ast::StmtKind::Assert: {
        const auto& a = *ast::cast<ast::Assert>(&s);
        load(a.test.get());
        load(a.msg.get());
        break;
      }
      case ast::StmtKind::ExprStmt: load(ast::cast<ast::ExprStmt>(&s)->value.get()); break;
      case ast::StmtKind::Break:
      case ast::StmtKind::Continue:
      case ast::StmtKind::Pass: break;
    }
  }

  // An assignment target.
  void store(const ast::Expr* e) {
    if (!e) return;
    switch (e->kind) {
      case ast::ExprKind::Name: writes.insert(ast::cast<ast::Name>(e)->id); break;
      case ast::ExprKind::Subscript: {
        const auto& s = *ast::cast<ast::Subscript>(e);
        if (const auto* n = ast::dyn_cast<ast::Name>(s.value.get())) writes.insert(n->id);
        load(s.value.get());  // the subscripted name is read as well
        load(s.index.get());
        break;
      }
      case ast::ExprKind::Tuple:
        for (const auto& x : ast::cast<ast::Tuple>(e)->elts) store(x.get());
        break;
      case ast::ExprKind::List:
        for (const auto& x : ast::cast<ast::List>(e)->elts) store(x.get());
        break;
      case ast::ExprKind::Starred: store(ast::cast<ast::Starred>(e)->value.get()); break;
      default: load(e); break;  // an attribute target reads its object
    }
  }

  void loads(const std::vector<ast::ExprPtr>& es) {
    for (const auto& e : es) load(e.get());
  }

  void load(const ast::Expr* e) {
    if (!e) return;
    switch (e->kind) {
      case ast::ExprKind::Name: reads.insert(ast::cast<ast::Name>(e)->id); break;
      case ast::ExprKind::Constant: break;
      case ast::ExprKind::FString:
        for (const auto& p : ast::cast<ast::FString>(e)->parts) load(p.value.get());
        break;
      case ast::ExprKind::BinOp: {
        const auto& b = *ast::cast<ast::BinOp>(e);
        load(b.left.get());
        load(b.right.get());
        break;
      }
      case ast::ExprKind::UnaryOp: load(ast::cast<ast::UnaryOp>(e)->operand.get()); break;
      case ast::ExprKind::BoolOp: loads(ast::cast<ast::BoolOp>(e)->values); break;
      case ast::ExprKind::Compare: {
        const auto& c = *ast::cast<ast::Compare>(e);
        load(c.left.get());
        loads(c.comparators);
        break;
      }
      case ast::ExprKind::Call: {
        const auto& c = *ast::cast<ast::Call>(e);
        // hl.atomic_add(x, ...) writes x.
        if (const auto* a = ast::dyn_cast<ast::Attribute>(c.func.get());
            a && a->attr.rfind("atomic_", 0) == 0 && ast::isa<ast::Name>(a->value.get()) && !c.args.empty())
          if (const auto* n = ast::dyn_cast<ast::Name>(c.args[0].get())) writes.insert(n->id);
        load(c.func.get());
        loads(c.args);
        for (const auto& k : c.keywords) load(k.value.get());
        break;
      }
      case ast::ExprKind::Attribute: load(ast::cast<ast::Attribute>(e)->value.get()); break;
      case ast::ExprKind::Subscript: {
        const auto& s = *ast::cast<ast::Subscript>(e);
        load(s.value.get());
        load(s.index.get());
        break;
      }
      case ast::ExprKind::Slice: {
        const auto& s = *ast::cast<ast::Slice>(e);
        load(s.lower.get());
        load(s.upper.get());
        load(s.step.get());
        break;
      }
      case ast::ExprKind::Tuple: loads(ast::cast<ast::Tuple>(e)->elts); break;
      case ast::ExprKind::List: loads(ast::cast<ast::List>(e)->elts); break;
      case ast::ExprKind::IfExp: {
        const auto& i = *ast::cast<ast::IfExp>(e);
        load(i.test.get());
        load(i.body.get());
        load(i.orelse.get());
        break;
      }
      case ast::ExprKind::Starred: load(ast::cast<ast::Starred>(e)->value.get()); break;
      case ast::ExprKind::Lambda: {
        const auto& l = *ast::cast<ast::Lambda>(e);
        for (const auto& a : l.args) load(a.default_value.get());
        load(l.body.get());
        break;
      }
      case ast::ExprKind::Comp: {
        const auto& c = *ast::cast<ast::Comp>(e);
        for (const auto& g : c.generators) {
          store(g.target.get());
          load(g.iter.get());
          loads(g.ifs);
        }
        load(c.elt.get());
        load(c.value.get());
        break;
      }
    }
  }
};

}  // namespace

std::vector<std::string> read_and_written_arguments(const ast::FunctionDef& fn) {
  ReadWriteWalk walk;
  walk.body(fn.body);
  std::vector<std::string> params;
  for (const auto& a : fn.args) params.push_back(a.name);
  if (fn.vararg) params.push_back(fn.vararg->name);
  if (fn.kwarg) params.push_back(fn.kwarg->name);
  std::vector<std::string> out;
  for (const auto& p : params)
    if (walk.reads.count(p) && walk.writes.count(p)) out.push_back(p);
  return out;
}

}  // namespace deuteron::sema
