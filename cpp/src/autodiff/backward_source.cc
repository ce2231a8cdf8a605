// The backward kernel's text: its signature, host code (gradient buffers,
// incoming gradients shaped like the stored tensors), the tile loop over the
// forward's grid, and the loop body the writer and the sweep produced.
#include "backward.h"
#include "deuteron/autodiff.h"

namespace deuteron::autodiff {

// `for tile_m, tile_n in hl.tile([64, 32]):` over the forward's grid dims
// (or an inner loop's dim).
std::string loop_header(const Plan& plan, const std::vector<int>& dims, SourceSpan span) {
  const ir::DeviceKernel& k = *plan.kernel;
  bool tiles = true, grids = true, fixed = true, from_zero = true;
  for (int d : dims) {
    const ir::Dim& dim = k.dim(d);
    if (dim.dynamic_bounds) unsupported(plan, span, "a loop whose bounds are device values");
    tiles = tiles && dim.kind == ir::DimKind::Tile;
    grids = grids && dim.kind == ir::DimKind::Grid;
    fixed = fixed && dim.fixed_block_size.has_value();
    from_zero = from_zero && dim.begin.same_as(SymInt(0));
  }
  if (!tiles && !grids) unsupported(plan, span, "a loop mixing tiles and grid indices");
  auto list = [&](auto part) {
    std::string s;
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + part(k.dim(dims[i]));
    return dims.size() == 1 ? s : "[" + s + "]";
  };
  std::string vars;
  for (size_t i = 0; i < dims.size(); ++i) vars += (i ? ", " : "") + plan.dim_names[dims[i]];
  std::string args;
  if (!from_zero) args = list([&](const ir::Dim& d) { return size_text_or_fail(plan, d.begin); }) + ", ";
  args += list([&](const ir::Dim& d) { return size_text_or_fail(plan, d.end); });
  if (tiles && fixed)
    args += ", block_size=" + list([&](const ir::Dim& d) { return std::to_string(*d.fixed_block_size); });
  return "for " + vars + " in hl." + (tiles ? "tile" : "grid") + "(" + args + "):";
}

std::string backward_source(const Program& program) {
  Plan plan = make_plan(program);
  const ir::DeviceKernel& k = *plan.kernel;
  Writer w(plan);
  write_gradients(plan, w);

  std::string sig;
  for (const auto& p : plan.params) sig += (sig.empty() ? "" : ", ") + p;
  // The incoming gradients, in the order the kernel returns its outputs.
  std::vector<std::string> grad_params;
  std::vector<std::string> host;
  for (int o = 0;; ++o) {
    bool found = false;
    for (size_t t = 0; t < k.tensors.size() && !found; ++t) {
      const TensorRole& r = plan.tensors[t];
      if (r.role != Role::Output || r.output != o) continue;
      found = true;
      sig += ", " + r.grad_name;
      // The kernel may return a view of the stored tensor (`inv_rms.reshape(-1, 1)`):
      // its gradient is read in the stored tensor's shape and dtype.
      std::string shape;
      for (size_t d = 0; d < k.tensors[t].sizes.size(); ++d)
        shape += (d ? ", " : "") + size_text_or_fail(plan, k.tensors[t].sizes[d]);
      host.push_back(r.grad_name + " = " + r.grad_name + ".reshape([" + shape + "]).to(" +
                     dtype_text(k.tensors[t].dtype) + ")");
    }
    if (!found) break;
  }
  // One gradient buffer per tensor parameter of the kernel (zeros where no
  // load reads it, or where programs add into it).
  std::vector<std::string> results;
  for (size_t a = 0; a < plan.arg_grads.size(); ++a) {
    if (plan.arg_grads[a].empty()) continue;
    const std::string& buf = plan.arg_grads[a];
    // A 16-bit gradient that programs add into is summed in float32 (many
    // small additions; bfloat16 atomics also need a recent GPU) and rounded
    // once at the end.
    DType dt = program.args[a].dtype;
    if (w.atomic_buffers.count(buf) && is_low_precision_float(dt)) {
      host.push_back(buf + " = torch.zeros_like(" + plan.params[a] + ", dtype=torch.float32)");
      results.push_back(buf + ".to(" + dtype_text(dt) + ")");
    } else {
      host.push_back(buf + " = torch.zeros_like(" + plan.params[a] + ")");
      results.push_back(buf);
    }
  }
  for (const TensorRole& r : plan.tensors) {
    if (r.role != Role::Input || r.view_name.empty()) continue;
    // `a_flat = a.view(-1)` again, and `grad_a_flat = grad_a.view(-1)`.
    const std::string& root = plan.params.at(r.arg);
    host.push_back(r.view_name + " = " + r.view_expr);
    host.push_back(r.grad_name + " = " + plan.arg_grads.at(r.arg) + r.view_expr.substr(root.size()));
  }
  if (results.empty()) unsupported(plan, program.fn->span, "a kernel without tensor arguments");

  // No op of the loop carries a gradient from an argument to a returned tensor:
  // the backward would return zeros where the forward's outputs do depend on
  // its arguments through something the transform does not follow.
  if (w.forward.empty() && w.backward.empty())
    unsupported(plan, k.span, "a device loop through which no gradient flows from the tensor arguments to the "
                              "returned tensors (what connects them is outside what the transform follows)");
  std::string out = "def backward_kernel(" + sig + "):\n";
  for (const auto& h : host) out += "    " + h + "\n";
  out += "    " + loop_header(plan, k.grid_dims, k.span) + "\n";
  for (const auto& l : w.forward) out += "        " + l + "\n";
  for (const auto& l : w.backward) out += "        " + l + "\n";
  std::string ret;
  for (size_t i = 0; i < results.size(); ++i) ret += (i ? ", " : "") + results[i];
  out += "    return " + ret + "\n";
  return out;
}

}  // namespace deuteron::autodiff
