// Kernel fission: a program whose inner loops depend on each other's memory
// becomes one launch per loop, so that each loop's iterations can run as
// programs of the grid.
//
//   for tile_m in hl.tile(m):
//       for tile_k in hl.tile(k):
//           c[tile_m, tile_k] = torch.relu(x[tile_m, :] @ a[:, tile_k])
//       for tile_n in hl.tile(n):
//           acc = ... c[tile_m, tile_k] @ b[tile_k, tile_n] over tile_k ...
//           out[tile_m, tile_n] = ...
//
// (Helion's squeeze_and_excitation_net) runs m / block_m programs, each
// looping over every column block of both products: at 1024 rows, 16
// programs on 132 SMs.  Neither column loop can become programs in place
// (independent_loops_to_grid.cc): the second reads `c` across all of the
// first's columns.  As two launches, the first launch writes all of `c`
// before the second reads it, and each launch's column loop is independent.
//
// Running the parts one after the other, every program's part 1 before any
// program's part 2, keeps what a program reads: its own earlier writes are
// done, and its later writes are not (they belong to a later launch).  What
// it would read of another program's writes was a race in the single launch
// (any order was possible); the split gives one of those orders.  So the
// split is valid where:
//   * no value computed by one part is used by another: only ops cheap to
//     repeat and that read nothing the kernel writes (index arithmetic,
//     loads of read-only memory, elementwise work) are shared, each part
//     computing them again;
//   * the parts keep the program's order: each is a contiguous run of the
//     top-level ops (the shared ops aside);
//   * nothing in the kernel orders programs otherwise: no inline Triton
//     (unknown effects) and no breakpoint.
// It is done only where it pays: when more top-level loops can run as grid
// programs in the parts than in the whole kernel (an extra launch costs a
// few microseconds; a loop that stays a loop gains nothing from it).  The
// caller calls it only where the launch may grow (as for the loops to grid).
//
// Each part keeps the kernel's dims, memory-op numbers and config (a config
// is written for the program, not for its launches); its name is the
// kernel's with `_partN`, and its parameters are the tensors and scalars it
// uses.
#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "deuteron/passes.h"
#include "loop_programs.h"

namespace deuteron::passes {

namespace {

using ir::OpKind;

// The top-level op that defines each top-level value.
std::map<const ir::Value*, size_t> top_level_defs(const ir::DeviceKernel& k) {
  std::map<const ir::Value*, size_t> defs;
  for (size_t i = 0; i < k.body.ops.size(); ++i)
    for (const auto& r : k.body.ops[i]->results) defs[r.get()] = i;
  return defs;
}

// The top-level ops whose values op (and the ops in its regions) use.
std::set<size_t> uses_of(const ir::Op& op, const std::map<const ir::Value*, size_t>& defs) {
  std::set<size_t> out;
  auto add = [&](const ir::Op& o) {
    for (const ir::Value* v : o.operands) {
      auto it = defs.find(v);
      if (it != defs.end()) out.insert(it->second);
    }
  };
  add(op);
  for (const auto& r : op.regions) ir::walk(*r, add);
  return out;
}

struct UnionFind {
  std::vector<size_t> parent;
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  size_t find(size_t i) { return parent[i] == i ? i : parent[i] = find(parent[i]); }
  void join(size_t a, size_t b) { parent[find(a)] = find(b); }
};

// The top-level ops of each part, in order; one part when the kernel does
// not split.  Shared ops (cheap to repeat, reading nothing written) are in
// no part.
std::vector<std::vector<size_t>> partition(const ir::DeviceKernel& k) {
  std::set<int> written;
  bool orders_programs = false;
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind == OpKind::Store || op.kind == OpKind::AtomicRMW) written.insert(ir::memory_of(k, op.attrs.tensor));
    orders_programs |= op.kind == OpKind::InlineTriton || op.kind == OpKind::Breakpoint;
  });
  const size_t n = k.body.ops.size();
  if (orders_programs || n < 2) return {};
  const auto defs = top_level_defs(k);
  UnionFind groups(n);
  std::vector<bool> anchored(n, false);
  for (size_t i = 0; i < n; ++i) {
    const ir::Op& op = *k.body.ops[i];
    bool shared = cheap_to_repeat(op) &&
                  !(op.kind == OpKind::Load && written.count(ir::memory_of(k, op.attrs.tensor)));
    for (size_t u : uses_of(op, defs)) {
      if (!anchored[u]) continue;
      shared = false;
      groups.join(u, i);
    }
    anchored[i] = !shared;
  }
  // Each group's span of top-level positions; overlapping spans merge (the
  // parts must keep the program's order).
  std::map<size_t, std::pair<size_t, size_t>> span;  // root -> [first, last]
  for (size_t i = 0; i < n; ++i) {
    if (!anchored[i]) continue;
    auto [it, fresh] = span.try_emplace(groups.find(i), i, i);
    if (!fresh) it->second.second = i;
  }
  std::vector<std::pair<size_t, size_t>> runs;
  for (const auto& [root, s] : span) runs.push_back(s);
  std::sort(runs.begin(), runs.end());
  std::vector<std::pair<size_t, size_t>> merged;
  for (const auto& r : runs) {
    if (!merged.empty() && r.first <= merged.back().second) merged.back().second = std::max(merged.back().second, r.second);
    else merged.push_back(r);
  }
  std::vector<std::vector<size_t>> parts;
  for (const auto& [first, last] : merged) {
    parts.emplace_back();
    for (size_t i = first; i <= last; ++i)
      if (anchored[i]) parts.back().push_back(i);
  }
  return parts;
}

// The top-level loops of k that could run as programs of the grid.
int loops_to_grid(const ir::DeviceKernel& k, const std::set<int>& kept) {
  int count = 0;
  for (const auto& op : k.body.ops) count += op->kind == OpKind::For && independent_iterations(k, *op, kept);
  return count;
}

// Drops the tensors and scalars no op of k uses, renumbering the ops'
// references; what a tensor is marked (read, written) is what the part does.
void drop_unused_params(ir::DeviceKernel& k) {
  std::set<int> tensors, scalars;
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.attrs.tensor >= 0) tensors.insert(op.attrs.tensor);
    if (op.kind == OpKind::ScalarParam) scalars.insert(op.attrs.param);
  });
  std::map<int, int> tensor_at, scalar_at;
  std::vector<ir::TensorParam> kept_tensors;
  for (int t : tensors) {
    tensor_at[t] = static_cast<int>(kept_tensors.size());
    kept_tensors.push_back(k.tensors[t]);
  }
  std::vector<ir::ScalarParam> kept_scalars;
  for (int s : scalars) {
    scalar_at[s] = static_cast<int>(kept_scalars.size());
    kept_scalars.push_back(k.scalars[s]);
  }
  for (auto& t : kept_tensors) t.read = t.written = false;
  ir::walk_mut(k.body, [&](ir::Op& op) {
    if (op.attrs.tensor >= 0) {
      op.attrs.tensor = tensor_at.at(op.attrs.tensor);
      ir::TensorParam& t = kept_tensors[op.attrs.tensor];
      t.read |= op.kind == OpKind::Load || op.kind == OpKind::AtomicRMW;
      t.written |= op.kind == OpKind::Store || op.kind == OpKind::AtomicRMW;
    }
    if (op.kind == OpKind::ScalarParam) op.attrs.param = scalar_at.at(op.attrs.param);
  });
  k.tensors = std::move(kept_tensors);
  k.scalars = std::move(kept_scalars);
}

// Forgets the other parts' loops: dims keep no loop id of a loop not in k,
// and of the inner loops over several dims (DeviceKernel::nests) only those
// in k stay (the config's flatten_loops and loop_orders entries of the
// others belong to the other parts).
void drop_other_parts_loops(ir::DeviceKernel& k) {
  std::set<int> loops, loop_ids;
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind != OpKind::For) return;
    loops.insert(op.attrs.dim);
    loop_ids.insert(op.id);
  });
  for (auto& d : k.dims)
    if (d.loop_id >= 0 && !loop_ids.count(d.loop_id)) d.loop_id = -1;
  std::vector<std::vector<int>> kept;
  for (auto& nest : k.nests)
    if (loops.count(nest.front())) kept.push_back(std::move(nest));
  k.nests = std::move(kept);
}

}  // namespace

std::vector<std::unique_ptr<ir::DeviceKernel>> split_kernel_at_loops(ir::DeviceKernel& kernel,
                                                                    const std::set<int>& kept) {
  // (Ops left dead by earlier passes would make parts of their own.)
  eliminate_dead_code(kernel);
  const auto parts = partition(kernel);
  if (parts.size() < 2) return {};
  std::vector<std::unique_ptr<ir::DeviceKernel>> out;
  int promoted = 0;
  for (size_t p = 0; p < parts.size(); ++p) {
    auto part = ir::clone(kernel);
    // Other parts' ops go; the shared ones stay where the part uses them
    // (dead-code elimination drops the rest).  The clone's top-level ops are
    // in the kernel's order, so positions carry over.
    std::set<size_t> others;
    for (size_t q = 0; q < parts.size(); ++q)
      if (q != p) others.insert(parts[q].begin(), parts[q].end());
    std::vector<std::unique_ptr<ir::Op>> ops;
    for (size_t i = 0; i < part->body.ops.size(); ++i)
      if (!others.count(i)) ops.push_back(std::move(part->body.ops[i]));
    part->body.ops = std::move(ops);
    eliminate_dead_code(*part);
    drop_unused_params(*part);
    drop_other_parts_loops(*part);
    part->name = kernel.name + "_part" + std::to_string(p + 1);
    promoted += loops_to_grid(*part, kept);
    out.push_back(std::move(part));
  }
  if (promoted <= loops_to_grid(kernel, kept)) return {};
  return out;
}

}  // namespace deuteron::passes
