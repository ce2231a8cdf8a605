// The reverse sweep: which values carry gradient, the adjoint rule of each
// op (PyTorch's derivative formulas), and the stores of the inputs' gradients.
#include <algorithm>

#include "backward.h"

namespace deuteron::autodiff {
namespace {

bool differentiable(DType t) { return is_floating(t); }

class Sweep {
 public:
  // The sweep of `region` (the loop body, or one iteration of an inner loop
  // when `outer` is set), writing into w; `active` is shared by all sweeps.
  Sweep(const Plan& plan, Writer& w, const ir::Region& region, std::set<const ir::Value*>& active,
        Sweep* outer = nullptr)
      : plan_(plan), w_(w), region_(region), active_(active), outer_(outer) {}
  void run();

 private:
  void find_active(const ir::Region& region);
  void seed();
  void reverse();
  void adjoint(const ir::Op& op);
  void inner_loop(const ir::Op& op);
  void store_input_gradients();

  // Adds `t` (a gradient of value v's result type, possibly broadcast along
  // some of its axes, possibly of higher rank) to v's gradient.
  void add(const ir::Value* v, Term t);
  // `t` summed over the axes where `to` is broadcast (and leading extra axes).
  Term reduce_to(Term t, const std::vector<int>& to);
  Term cast_to(Term t, DType d);
  std::string grad(const ir::Value* v) { return grads_.at(v).text; }
  bool active(const ir::Value* v) const { return active_.count(v) > 0; }

  const Plan& plan_;
  Writer& w_;
  const ir::Region& region_;
  std::set<const ir::Value*>& active_;
  Sweep* outer_;
  std::map<const ir::Value*, Term> grads_;
  // The gradients arriving at each load of an input, in load order.
  std::vector<std::pair<const ir::Op*, Term>> sinks_;
};

}  // namespace

// An inner loop whose carried values only accumulate: each carried value's
// one use is the `acc` of a dot or an operand of `+`, whose result is what
// the iteration yields and nothing else uses.  Then the gradient of every
// iteration's contribution is the gradient of the loop's result, so the
// backward runs the loop again with that gradient (a matmul's K loop,
// `acc = acc + x[tile_m, tile_k].sum(-1)`).
bool accumulates(const ir::Op& op) {
  if (op.kind != ir::OpKind::For || op.attrs.dynamic_bounds || op.regions.size() != 1) return false;
  const ir::Region& body = *op.regions[0];
  if (body.ops.empty() || body.ops.back()->kind != ir::OpKind::Yield) return false;
  const ir::Op& yield = *body.ops.back();
  std::map<const ir::Value*, int> uses;
  for (const auto& o : body.ops) {
    if (!o->regions.empty() || o->kind == ir::OpKind::Store || o->kind == ir::OpKind::AtomicRMW) return false;
    for (const ir::Value* v : o->operands) ++uses[v];
  }
  for (size_t j = 0; j < body.args.size(); ++j) {
    const ir::Value* arg = body.args[j].get();
    const ir::Value* next = yield.operands.at(j);
    const ir::Op* u = next->def;
    if (uses[arg] != 1 || uses[next] != 1 || !u || u->parent != &body) return false;
    bool ok = false;
    if (u->kind == ir::OpKind::Dot && u->operands.size() == 3)
      ok = u->operands[2] == arg && u->operands[0] != arg && u->operands[1] != arg;
    if (u->kind == ir::OpKind::Binary && u->attrs.binary == ir::BinaryFn::Add)
      ok = (u->operands[0] == arg) != (u->operands[1] == arg);
    if (!ok) return false;
  }
  return true;
}

namespace {

void Sweep::find_active(const ir::Region& region) {
  for (const auto& opp : region.ops) {
    const ir::Op& op = *opp;
    if (op.kind == ir::OpKind::Load) {
      auto f = plan_.forwarded.find(&op);
      bool a = f != plan_.forwarded.end() ? active(f->second)
                                          : plan_.tensors.at(op.attrs.tensor).role == Role::Input;
      if (a && differentiable(op.result()->type.dtype)) {
        // Its gradient would be stored to the lanes the mask leaves out too.
        if (op.attrs.extra_mask >= 0) unsupported(plan_, op.span, "the gradient of a load with a mask");
        active_.insert(op.result());
      }
      continue;
    }
    bool any = std::any_of(op.operands.begin(), op.operands.end(), [&](const ir::Value* v) { return active(v); });
    if (accumulates(op)) {
      const ir::Region& body = *op.regions[0];
      find_active(body);
      for (size_t j = 0; j < op.results.size(); ++j)
        if (active(body.ops.back()->operands.at(j)) || active(op.operands.at(j)))
          active_.insert(op.result(static_cast<int>(j)));
      continue;
    }
    if (!op.regions.empty() && !ir::has_combine_region(op)) {
      // An inner loop or a branch that reads an input or an active value
      // would need its own reverse sweep: refused rather than differentiated
      // as a constant.
      bool inside = any;
      for (const auto& region : op.regions)
        ir::walk(*region, [&](const ir::Op& o) {
          if (o.kind == ir::OpKind::Load && plan_.tensors.at(o.attrs.tensor).role == Role::Input) inside = true;
          for (const ir::Value* v : o.operands)
            if (active(v)) inside = true;
        });
      if (inside && op.kind == ir::OpKind::For) {
        // An inner loop that whole_loops.cc could not evaluate whole.
        auto why = plan_.kept_loops.find(&op);
        unsupported(plan_, op.span, "gradients through the op 'for': an inner loop whose carried values are more "
                                    "than an accumulation is differentiated as one iteration over its whole dim, "
                                    "but " + (why != plan_.kept_loops.end() ? why->second : "this one is not at the top level of the tile loop"));
      }
      if (inside)
        unsupported(plan_, op.span, std::string("gradients through the op '") + ir::name(op.kind) +
                                        "' (a branch on the device)");
      continue;
    }
    if (op.kind == ir::OpKind::AtomicRMW && plan_.tensors.at(op.attrs.tensor).role == Role::Output)
      unsupported(plan_, op.span, "an atomic update of a returned tensor");
    if (!any) continue;
    for (const auto& r : op.results)
      if (differentiable(r->type.dtype)) active_.insert(r.get());
  }
}

// The backward of an accumulating loop (see accumulates): the gradient of
// its result goes to the initial value and, in a loop over the same dim, to
// every iteration's contribution.
void Sweep::inner_loop(const ir::Op& op) {
  const ir::Region& body = *op.regions[0];
  const ir::Op& yield = *body.ops.back();
  Writer inner(plan_, w_, body);
  Sweep sweep(plan_, inner, body, active_, this);
  bool any = false;
  for (size_t j = 0; j < op.results.size(); ++j) {
    auto g = grads_.find(op.result(static_cast<int>(j)));
    if (g == grads_.end()) continue;
    any = true;
    add(op.operands.at(j), g->second);
    sweep.grads_[yield.operands.at(j)] = g->second;
  }
  if (!any) return;
  sweep.reverse();
  sweep.store_input_gradients();
  w_.backward.push_back(loop_header(plan_, {op.attrs.dim}, op.span) + "  # line " + std::to_string(op.span.line));
  for (const auto& l : inner.forward) w_.backward.push_back("    " + l);
  for (const auto& l : inner.backward) w_.backward.push_back("    " + l);
  if (inner.forward.empty() && inner.backward.empty()) w_.backward.push_back("    pass");
}

void Sweep::seed() {
  const ir::DeviceKernel& k = *plan_.kernel;
  for (const auto& opp : k.body.ops) {
    const ir::Op& op = *opp;
    if (op.kind != ir::OpKind::Store || plan_.overwritten.count(&op)) continue;
    const TensorRole& r = plan_.tensors.at(op.attrs.tensor);
    const ir::Value* v = op.operands.at(op.attrs.value_operand);
    if (r.role != Role::Output || !active(v)) continue;
    if (op.attrs.extra_mask >= 0) unsupported(plan_, op.span, "a store with a mask");
    std::string g = w_.bind(r.grad_name + w_.index_text(op), "grad_" + (v->name_hint.empty() ? "out" : v->name_hint));
    Term t{g, ir::access_dims(op), k.tensors[op.attrs.tensor].dtype};
    add(v, cast_to(t, v->type.dtype));
  }
}

Term Sweep::cast_to(Term t, DType d) {
  if (t.dtype == d) return t;
  return Term{"(" + t.text + ").to(" + dtype_text(d) + ")", t.dims, d};
}

Term Sweep::reduce_to(Term t, const std::vector<int>& to) {
  while (t.dims.size() > to.size()) {
    if (t.dims.front() != ir::kBroadcast) t.text = "torch.sum(" + t.text + ", 0)";
    else t.text = "(" + t.text + ").squeeze(0)";
    t.dims.erase(t.dims.begin());
  }
  while (t.dims.size() < to.size()) {
    t.text = "(" + t.text + ").unsqueeze(0)";
    t.dims.insert(t.dims.begin(), ir::kBroadcast);
  }
  for (size_t i = 0; i < to.size(); ++i) {
    if (to[i] == ir::kBroadcast && t.dims[i] != ir::kBroadcast) {
      t.text = "torch.sum(" + t.text + ", " + std::to_string(i) + ", keepdim=True)";
      t.dims[i] = ir::kBroadcast;
    }
  }
  return t;
}

void Sweep::add(const ir::Value* v, Term t) {
  if (!active(v)) return;
  if (outer_ && !defined_in(v, &region_))
    unsupported(plan_, v->def ? v->def->span : plan_.kernel->span,
                "a gradient flowing out of an inner loop into a value computed before it");
  t = reduce_to(cast_to(std::move(t), v->type.dtype), v->type.dims);
  auto it = grads_.find(v);
  std::string hint = "grad_" + (v->name_hint.empty() ? std::string("v") : v->name_hint);
  if (it == grads_.end()) {
    // A plain name (the loaded grad_out, another gradient) needs no copy.
    bool name = !t.text.empty() && t.text.find_first_not_of(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string::npos;
    if (!name) t.text = w_.bind(t.text, hint);
    grads_[v] = t;
    return;
  }
  Term& g = it->second;
  for (size_t i = 0; i < g.dims.size(); ++i)
    if (g.dims[i] == ir::kBroadcast) g.dims[i] = t.dims[i];
  g.text = w_.bind(g.text + " + " + t.text, hint);
}

// The dims of a term computed from the gradient of op's result and forward
// values of the op: the result's.
Term make(const std::string& text, const ir::Value* r) { return Term{text, r->type.dims, r->type.dtype}; }

void Sweep::adjoint(const ir::Op& op) {
  using K = ir::OpKind;
  if (op.kind == K::For) {
    // Loops touching an active value are accumulations (find_active refused the rest).
    if (accumulates(op)) inner_loop(op);
    return;
  }
  const ir::Value* r = op.results.empty() ? nullptr : op.result();
  if (!r || !grads_.count(r)) return;
  std::string g = grad(r);
  auto in = [&](int i) { return op.operands.at(i); };
  auto fwd = [&](const ir::Value* v) { return w_.value(v); };
  auto out = [&] { return w_.value(r); };
  std::string line = "the backward of ";
  switch (op.kind) {
    case K::Load: {
      auto f = plan_.forwarded.find(&op);
      if (f != plan_.forwarded.end()) add(f->second, grads_.at(r));
      else sinks_.emplace_back(&op, grads_.at(r));
      return;
    }
    case K::Cast: add(in(0), grads_.at(r)); return;
    case K::ExpandDims:
      add(in(0), Term{g + ".squeeze(" + std::to_string(op.attrs.axis) + ")", in(0)->type.dims, r->type.dtype});
      return;
    case K::Squeeze:
      add(in(0), Term{g + ".unsqueeze(" + std::to_string(op.attrs.axis) + ")", in(0)->type.dims, r->type.dtype});
      return;
    case K::BroadcastTo: add(in(0), grads_.at(r)); return;
    case K::Permute: {
      std::vector<int> inv(op.attrs.perm.size());
      for (size_t i = 0; i < inv.size(); ++i) inv[op.attrs.perm[i]] = static_cast<int>(i);
      std::string s = g + ".permute(";
      for (size_t i = 0; i < inv.size(); ++i) s += (i ? ", " : "") + std::to_string(inv[i]);
      add(in(0), Term{s + ")", in(0)->type.dims, r->type.dtype});
      return;
    }
    case K::Where:
      add(in(1), make("torch.where(" + fwd(in(0)) + ", " + g + ", 0.0)", r));
      add(in(2), make("torch.where(" + fwd(in(0)) + ", 0.0, " + g + ")", r));
      return;
    case K::Unary: {
      using U = ir::UnaryFn;
      std::string a = active(in(0)) ? fwd(in(0)) : "";
      std::string t;
      switch (op.attrs.unary) {
        case U::Neg: t = "-" + g; break;
        case U::Exp: t = g + " * " + out(); break;
        case U::Exp2: t = g + " * " + out() + " * 0.6931471805599453"; break;
        case U::Expm1: t = g + " * (" + out() + " + 1.0)"; break;
        case U::Log: t = g + " / " + a; break;
        case U::Log2: t = g + " / (" + a + " * 0.6931471805599453)"; break;
        case U::Log1p: t = g + " / (" + a + " + 1.0)"; break;
        case U::Sqrt: t = g + " / (2.0 * " + out() + ")"; break;
        case U::Rsqrt: t = g + " * (-0.5 * " + out() + " * " + out() + " * " + out() + ")"; break;
        case U::Reciprocal: t = g + " * (-" + out() + " * " + out() + ")"; break;
        case U::Sin: t = g + " * torch.cos(" + a + ")"; break;
        case U::Cos: t = g + " * -torch.sin(" + a + ")"; break;
        case U::Tan: t = g + " * (1.0 + " + out() + " * " + out() + ")"; break;
        case U::Tanh: t = g + " * (1.0 - " + out() + " * " + out() + ")"; break;
        case U::Sigmoid: t = g + " * " + out() + " * (1.0 - " + out() + ")"; break;
        case U::Sinh: t = g + " * torch.cosh(" + a + ")"; break;
        case U::Cosh: t = g + " * torch.sinh(" + a + ")"; break;
        case U::Erf: t = g + " * 1.1283791670955126 * torch.exp(-(" + a + " * " + a + "))"; break;
        case U::Atan: t = g + " / (1.0 + " + a + " * " + a + ")"; break;
        case U::Asin: t = g + " * torch.rsqrt(1.0 - " + a + " * " + a + ")"; break;
        case U::Acos: t = "-" + g + " * torch.rsqrt(1.0 - " + a + " * " + a + ")"; break;
        // PyTorch: relu's gradient is 0 where the result is 0 (threshold_backward),
        // abs's is sign(x) (0 at 0).
        case U::Relu: t = "torch.where(" + out() + " > 0, " + g + ", 0.0)"; break;
        case U::Abs: t = g + " * torch.sign(" + a + ")"; break;
        // Piecewise constant: zero gradient (PyTorch's too).
        case U::Floor:
        case U::Ceil:
        case U::Trunc:
        case U::Round:
        case U::Sign: return;
        default:
          unsupported(plan_, op.span, line + "'" + ir::name(op.attrs.unary) + "'");
      }
      add(in(0), make(t, r));
      return;
    }
    case K::Binary: {
      using B = ir::BinaryFn;
      const ir::Value* a = in(0);
      const ir::Value* b = in(1);
      auto A = [&] { return fwd(a); };
      auto Bv = [&] { return fwd(b); };
      switch (op.attrs.binary) {
        case B::Add: add(a, make(g, r)); add(b, make(g, r)); return;
        case B::Sub: add(a, make(g, r)); add(b, make("-" + g, r)); return;
        case B::Mul:
          if (active(a)) add(a, make(g + " * " + Bv(), r));
          if (active(b)) add(b, make(g + " * " + A(), r));
          return;
        case B::TrueDiv:
          if (active(a)) add(a, make(g + " / " + Bv(), r));
          if (active(b)) add(b, make("-" + g + " * " + out() + " / " + Bv(), r));
          return;
        case B::Pow:
          // d/da a**b = b * a**(b-1); d/db = a**b * log(a) (PyTorch's pow_backward).
          if (active(a)) add(a, make(g + " * " + Bv() + " * " + A() + " ** (" + Bv() + " - 1.0)", r));
          if (active(b)) add(b, make(g + " * " + out() + " * torch.log(" + A() + ")", r));
          return;
        case B::Maximum:
        case B::Minimum: {
          // PyTorch: the gradient goes to the larger (smaller) operand, half to
          // each where they are equal.
          const char* wins = op.attrs.binary == B::Maximum ? " > " : " < ";
          std::string ga = "torch.where(" + A() + wins + Bv() + ", " + g + ", torch.where(" + A() + " == " + Bv() +
                           ", " + g + " * 0.5, 0.0))";
          std::string gb = "torch.where(" + Bv() + wins + A() + ", " + g + ", torch.where(" + A() + " == " + Bv() +
                           ", " + g + " * 0.5, 0.0))";
          if (active(a)) add(a, make(ga, r));
          if (active(b)) add(b, make(gb, r));
          return;
        }
        default:
          unsupported(plan_, op.span, line + "'" + ir::name(op.attrs.binary) + "'");
      }
    }
    case K::Dot: {
      // C = A @ B (+ acc), batched over leading axes: dA = dC @ B^T, dB = A^T @ dC,
      // computed in float32 (a 16-bit operand's gradient is rounded once, by add).
      // An operand every program reads whole (a weight `w[:, :]`) gets its
      // gradient summed over the programs by the atomic store of its load.
      const ir::Value* a = in(0);
      const ir::Value* b = in(1);
      int rank = r->type.rank();
      std::string swap = ".permute(";
      for (int i = 0; i < rank; ++i) swap += (i ? ", " : "") + std::to_string(i < rank - 2 ? i : 2 * rank - 3 - i);
      swap += ")";
      std::string g32 = g + ".to(torch.float32)";
      auto f32 = [&](const ir::Value* v) { return fwd(v) + ".to(torch.float32)"; };
      if (active(a)) add(a, Term{"hl.dot(" + g32 + ", " + f32(b) + swap + ")", a->type.dims, DType::Float32});
      if (active(b)) add(b, Term{"hl.dot(" + f32(a) + swap + ", " + g32 + ")", b->type.dims, DType::Float32});
      if (op.operands.size() > 2) add(in(2), grads_.at(r));
      return;
    }
    case K::Reduce: {
      const ir::Value* a = in(0);
      std::string ax = std::to_string(op.attrs.axis);
      std::string gk = op.attrs.keepdim ? g : g + ".unsqueeze(" + ax + ")";
      std::vector<int> kdims = a->type.dims;
      kdims[op.attrs.axis] = ir::kBroadcast;
      switch (op.attrs.reduce) {
        case ir::ReduceFn::Sum: add(a, Term{gk, kdims, r->type.dtype}); return;
        case ir::ReduceFn::Max:
        case ir::ReduceFn::Min: {
          // PyTorch's amax/amin: the gradient is shared evenly by the lanes
          // equal to the result.
          std::string rk = op.attrs.keepdim ? out() : out() + ".unsqueeze(" + ax + ")";
          std::string hit = w_.bind("(" + fwd(a) + " == " + rk + ").to(" + dtype_text(a->type.dtype) + ")", "hit");
          std::string count = w_.bind("torch.sum(" + hit + ", " + ax + ", keepdim=True)", "count");
          add(a, Term{gk + " * " + hit + " / " + count, a->type.dims, r->type.dtype});
          return;
        }
        default:
          unsupported(plan_, op.span, line + "the reduction '" + ir::name(op.attrs.reduce) + "'");
      }
    }
    default: break;
  }
  unsupported(plan_, op.span, line + "'" + ir::name(op.kind) + "'");
}

void Sweep::store_input_gradients() {
  const ir::DeviceKernel& k = *plan_.kernel;
  std::map<int, std::vector<std::pair<const ir::Op*, Term>>> by_tensor;
  for (auto& s : sinks_) by_tensor[s.first->attrs.tensor].push_back(s);
  for (auto& [t, loads] : by_tensor) {
    const std::string& buf = plan_.tensors.at(t).grad_name;
    // One program owns the elements it stores when every load reads the same
    // index and that index has every grid dim; then the gradients are summed
    // in registers and stored.  Otherwise programs share elements and add
    // atomically into the zeroed buffer.
    const ir::Op* first = loads.front().first;
    bool same = std::all_of(loads.begin(), loads.end(), [&](const auto& l) {
      return w_.index_text(*l.first) == w_.index_text(*first);
    });
    std::vector<int> dims = ir::access_dims(*first);
    bool owned = same && !plan_.loaded_in_loops.count(t) &&
                 std::all_of(k.grid_dims.begin(), k.grid_dims.end(), [&](int d) {
                   return std::find(dims.begin(), dims.end(), d) != dims.end();
                 });
    if (owned) {
      std::string sum = loads.front().second.text;
      for (size_t i = 1; i < loads.size(); ++i) sum = w_.bind(sum + " + " + loads[i].second.text, "grad_sum");
      w_.backward.push_back(buf + w_.index_text(*first) + " = " + sum);
      continue;
    }
    for (auto& [load, term] : loads) {
      // hl.atomic_add takes an index list without `None` (its axes are
      // squeezed from the value) and spells a whole dim `hl.arange(n)`; the
      // value covers the access's whole shape.
      std::string v = term.text;
      std::vector<int> access = ir::access_dims(*load);
      if (term.dims != access) v = "(" + v + " + torch.zeros_like(" + w_.value(load->result()) + "))";
      std::string idx = "[";
      std::vector<int> new_axes;
      int axis = 0;
      for (const ir::IndexSpec& ix : load->attrs.index) {
        if (ix.kind == ir::IndexSpec::Kind::NewAxis) {
          new_axes.push_back(axis++);
          continue;
        }
        if (idx.size() > 1) idx += ", ";
        if (ix.kind == ir::IndexSpec::Kind::TileDim && k.dim(ix.dim).kind == ir::DimKind::Full) {
          idx += "hl.arange(" + w_.shape_text({ix.dim}).substr(1);
          idx.back() = ')';
        } else if (ix.kind == ir::IndexSpec::Kind::TileDim) {
          idx += plan_.dim_names.at(ix.dim);
        } else {
          idx += w_.value(load->operands.at(ix.operand));
        }
        if (ix.kind != ir::IndexSpec::Kind::Scalar) ++axis;
      }
      for (auto it = new_axes.rbegin(); it != new_axes.rend(); ++it) v += ".squeeze(" + std::to_string(*it) + ")";
      w_.backward.push_back("hl.atomic_add(" + buf + ", " + idx + "], " + v + ")");
      w_.atomic_buffers.insert(plan_.arg_grads.at(plan_.tensors.at(t).arg));
    }
  }
}

void Sweep::reverse() {
  const auto& ops = region_.ops;
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) adjoint(**it);
}

void Sweep::run() {
  find_active(region_);
  seed();
  reverse();
  store_input_gradients();
}

}  // namespace

void write_gradients(const Plan& plan, Writer& w) {
  std::set<const ir::Value*> active;
  Sweep(plan, w, plan.kernel->body, active).run();
}

}  // namespace deuteron::autodiff
