// What each tensor of the forward loop is to the backward (backward.h's Plan):
// which are the kernel's inputs, which it returns, which loads read a value
// the loop stored earlier.
#include <algorithm>

#include "backward.h"
#include "deuteron/ast.h"

namespace deuteron::autodiff {

void unsupported(const Plan& plan, SourceSpan span, const std::string& what) {
  raise_error(plan.program->file, span,
              "experimental.backward does not support " + what,
              {"supported: one tile loop of elementwise ops, reductions over whole dims, matmuls, inner loops that accumulate (acc = acc + ..., a K loop of dots), and inner loops over a whole dim (0 to its size, at most " + std::to_string(kMaxWholeLanes) + " elements) whose carried values are anything else (online softmax)"});
}

std::string size_text_or_fail(const Plan& plan, const SymInt& s) {
  if (auto c = s.as_constant()) return std::to_string(*c);
  if (auto h = s.hint()) return std::to_string(*h);
  unsupported(plan, plan.kernel->span, "a loop bound without a known value");
}

namespace {

// The name a returned expression is rooted at: `out`, `inv_rms.reshape(-1, 1)`,
// `out.view(...)`: a view of the tensor (its gradient is the incoming one,
// reshaped to the tensor's sizes).
std::string root_name(const ast::Expr* e) {
  while (e) {
    if (auto* n = ast::dyn_cast<ast::Name>(e)) return n->id;
    if (auto* c = ast::dyn_cast<ast::Call>(e)) {
      e = c->func.get();
      continue;
    }
    if (auto* a = ast::dyn_cast<ast::Attribute>(e)) {
      e = a->value.get();
      continue;
    }
    return "";
  }
  return "";
}

// The names the kernel's (last top-level) return statement gives, in order.
std::vector<std::pair<std::string, SourceSpan>> returned_names(const Program& p) {
  const ast::Return* ret = nullptr;
  for (const auto& s : p.fn->body)
    if (auto* r = ast::dyn_cast<ast::Return>(s.get())) ret = r;
  std::vector<std::pair<std::string, SourceSpan>> names;
  if (!ret || !ret->value) return names;
  if (auto* t = ast::dyn_cast<ast::Tuple>(ret->value.get())) {
    for (const auto& e : t->elts) names.emplace_back(root_name(e.get()), e->span);
  } else {
    names.emplace_back(root_name(ret->value.get()), ret->value->span);
  }
  return names;
}

// Views host code takes of a name before the loop, `a_flat = a.view(-1)` or
// `x.reshape([-1, n])`: name -> (root name, the expression).  The backward
// takes them as `.view` (make_plan): a view always aliases its tensor, so a
// gradient written through the same view of the gradient buffer lands where
// it belongs (a reshape that would copy is an error there instead).
std::map<std::string, std::pair<std::string, const ast::Expr*>> host_views(const Program& p) {
  std::map<std::string, std::pair<std::string, const ast::Expr*>> views;
  for (const auto& s : p.fn->body) {
    auto* a = ast::dyn_cast<ast::Assign>(s.get());
    if (!a || a->targets.size() != 1) continue;
    auto* target = ast::dyn_cast<ast::Name>(a->targets[0].get());
    if (!target) continue;
    const ast::Expr* e = a->value.get();
    bool chain = false;
    while (auto* c = ast::dyn_cast<ast::Call>(e)) {
      auto* attr = ast::dyn_cast<ast::Attribute>(c->func.get());
      if (!attr || (attr->attr != "view" && attr->attr != "reshape")) break;
      e = attr->value.get();
      chain = true;
    }
    auto* root = ast::dyn_cast<ast::Name>(e);
    views.erase(target->id);  // a name assigned again is no longer the view
    if (chain && root) views[target->id] = {root->id, a->value.get()};
  }
  return views;
}

bool same_index(const ir::Op& a, const ir::Op& b) {
  if (a.attrs.index.size() != b.attrs.index.size()) return false;
  for (size_t i = 0; i < a.attrs.index.size(); ++i) {
    const auto& x = a.attrs.index[i];
    const auto& y = b.attrs.index[i];
    if (x.kind != y.kind) return false;
    if (x.kind == ir::IndexSpec::Kind::TileDim && (x.dim != y.dim || !x.offset.same_as(y.offset))) return false;
    if ((x.kind == ir::IndexSpec::Kind::Scalar || x.kind == ir::IndexSpec::Kind::Tensor ||
         x.kind == ir::IndexSpec::Kind::Stack) &&
        a.operands.at(x.operand) != b.operands.at(y.operand))
      return false;
  }
  return true;
}

std::string unique_name(const std::string& want, std::set<std::string>& taken) {
  std::string n = want;
  while (taken.count(n)) n += "_";
  taken.insert(n);
  return n;
}

}  // namespace

Plan make_plan(const Program& program) {
  Plan plan;
  plan.program = &program;
  if (program.kernels.size() != 1) {
    SourceSpan span = program.fn ? program.fn->span : SourceSpan{};
    if (program.kernels.size() > 1) span = program.kernels[1]->span;
    plan.kernel = program.kernels.empty() ? nullptr : program.kernels[0].get();
    unsupported(plan, span, "a kernel with " + std::to_string(program.kernels.size()) +
                                " device loops (the backward differentiates one)");
  }
  plan.kernel = program.kernels[0].get();
  evaluate_loops_whole(plan);
  const ir::DeviceKernel& k = *plan.kernel;
  // Memory reached through device pointers has no gradient buffer to write.
  ir::walk(k.body, [&](const ir::Op& op) {
    if (ir::stack_pointers(op)) unsupported(plan, op.span, "StackTensor accesses (hl.stacktensor_like)");
  });

  std::set<std::string> taken;
  for (const auto& a : program.fn->args) {
    plan.params.push_back(a.name);
    taken.insert(a.name);
  }
  taken.insert("backward_kernel");

  // Outputs: the returned names, matched to the tensors the loop writes.
  auto returned = returned_names(program);
  auto views = host_views(program);
  plan.tensors.resize(k.tensors.size());
  for (size_t t = 0; t < k.tensors.size(); ++t) {
    const ir::TensorParam& tp = k.tensors[t];
    TensorRole& r = plan.tensors[t];
    std::string name = tp.host_expr;
    auto view = views.find(name);
    if (view != views.end()) name = view->second.first;
    for (size_t o = 0; o < returned.size(); ++o)
      if (!returned[o].first.empty() && returned[o].first == name) r.output = static_cast<int>(o);
    auto it = std::find(plan.params.begin(), plan.params.end(), name);
    if (it != plan.params.end()) r.arg = static_cast<int>(it - plan.params.begin());
    if (r.arg >= 0 && view != views.end()) {
      // The forward's `.view(...)` / `.reshape(...)` chain, as one `.view` to the
      // sizes the loop saw (host names in it are not the backward's): the
      // argument's gradient buffer is viewed the same way, and a layout that
      // cannot be viewed is an error there rather than a copy that drops the stores.
      r.view_name = tp.host_expr;
      std::string sizes;
      for (size_t d = 0; d < tp.sizes.size(); ++d) sizes += (d ? ", " : "") + size_text_or_fail(plan, tp.sizes[d]);
      r.view_expr = name + ".view([" + sizes + "])";
    }
    if (r.arg >= 0 && r.output >= 0)
      unsupported(plan, returned[r.output].second, "a kernel that returns its argument '" + tp.host_expr + "'");
    if (r.output >= 0) {
      r.role = Role::Output;
    } else if (r.arg >= 0) {
      // A tensor argument the host code rebound to a view (`x, y =
      // torch.broadcast_tensors(x, y)`): the same tensor when the view has
      // the argument's sizes and strides; otherwise the gradient would have to
      // be summed over the broadcast, which the backward does not do.
      const ArgSpec* spec = r.arg < static_cast<int>(program.args.size()) ? &program.args[r.arg] : nullptr;
      bool same = spec && spec->kind == ArgSpec::Kind::Tensor && spec->sizes.size() == tp.sizes.size();
      for (size_t d = 0; same && d < tp.sizes.size(); ++d)
        same = tp.sizes[d].is_constant() && tp.sizes[d].constant() == spec->sizes[d] &&
               (spec->sizes[d] == 1 || (tp.strides[d].is_constant() && tp.strides[d].constant() == spec->strides[d]));
      if (!same && tp.arg_index < 0 && r.view_name.empty())
        unsupported(plan, k.span, "reading '" + tp.host_expr + "' as a view of another shape than the argument");
      r.role = Role::Input;
    }
  }
  // Gradient buffers: one per tensor argument; an input read through a view
  // stores into the same view of its argument's buffer.
  plan.arg_grads.resize(plan.params.size());
  for (size_t a = 0; a < plan.params.size() && a < program.args.size(); ++a)
    if (program.args[a].kind == ArgSpec::Kind::Tensor) plan.arg_grads[a] = unique_name("grad_" + plan.params[a], taken);
  std::set<int> read_args;
  for (size_t t = 0; t < k.tensors.size(); ++t) {
    TensorRole& r = plan.tensors[t];
    if (r.role != Role::Input) continue;
    // Two tensors of the loop over one argument (itself and a view) would
    // each store a part of its gradient over the other's.
    if (!read_args.insert(r.arg).second)
      unsupported(plan, k.span, "reading the argument '" + plan.params[r.arg] + "' through two different views");
    r.grad_name = r.view_name.empty() ? plan.arg_grads.at(r.arg) : unique_name("grad_" + r.view_name, taken);
  }
  for (size_t o = 0; o < returned.size(); ++o) {
    bool found = false;
    for (size_t t = 0; t < k.tensors.size(); ++t) {
      TensorRole& r = plan.tensors[t];
      if (r.output != static_cast<int>(o)) continue;
      if (!found) r.grad_name = unique_name("grad_" + k.tensors[t].host_expr, taken);
      found = true;
    }
    if (!found)
      unsupported(plan, returned[o].second, "a returned value that the device loop does not store");
  }

  // Dims: the loop variables of the grid (tile and grid dims).
  plan.dim_names.resize(k.dims.size());
  std::vector<int> order = k.grid_dims;
  for (const ir::Dim& dim : k.dims)
    if (dim.loop_id >= 0 && dim.kind != ir::DimKind::Full) order.push_back(dim.id);
  for (int d : order) {
    const ir::Dim& dim = k.dim(d);
    if (plan.dim_names[d].empty())
      plan.dim_names[d] = unique_name(dim.name.empty() ? "tile_" + std::to_string(d) : dim.name, taken);
  }
  for (const auto& op : k.body.ops)
    for (const auto& region : op->regions)
      ir::walk(*region, [&](const ir::Op& o) {
        if (o.kind == ir::OpKind::Load) plan.loaded_in_loops.insert(o.attrs.tensor);
      });

  // Store-to-load forwarding, and which output stores a later one overwrites.
  std::vector<const ir::Op*> stores;
  for (const auto& op : k.body.ops) {
    if (op->kind == ir::OpKind::Load) {
      for (auto it = stores.rbegin(); it != stores.rend(); ++it) {
        const ir::Op* s = *it;
        if (s->attrs.tensor != op->attrs.tensor) continue;
        if (!same_index(*s, *op) || s->attrs.extra_mask >= 0)
          unsupported(plan, op->span, "a load of '" + k.tensors[op->attrs.tensor].host_expr +
                                          "' at another index than the store before it");
        plan.forwarded[op.get()] = s->operands.at(s->attrs.value_operand);
        break;
      }
    } else if (op->kind == ir::OpKind::Store) {
      for (const ir::Op* s : stores)
        if (s->attrs.tensor == op->attrs.tensor && same_index(*s, *op)) plan.overwritten.insert(s);
      stores.push_back(op.get());
    }
  }
  return plan;
}

}  // namespace deuteron::autodiff
