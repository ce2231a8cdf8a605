// One pass or analysis on IR text (`deuteronc --run-pass=NAME`).  The passes
// are called exactly as BoundKernel::lower calls them, with the config values
// they read given as options; analyses print what they found, in terms of the
// printed IR (dims dN, values %N, loops #N).
#include "deuteron/pass_runner.h"

#include <algorithm>
#include <functional>
#include <set>
#include <sstream>

#include "deuteron/analysis.h"
#include "deuteron/ir_parser.h"
#include "deuteron/passes.h"

namespace deuteron {

const std::vector<PassInfo>& known_passes() {
  static const std::vector<PassInfo> passes = {
      {"verify", "check the IR's structural rules and print it back"},
      {"masked_store_from_select", "store where(m, new, old) of a value loaded from the same place as new masked by m"},
      {"dead_code_elimination", "remove ops whose results are unused and that have no side effects"},
      {"memory_op_numbering", "close up the numbers of the loads and stores dead-code elimination left"},
      {"inner_loop_order", "nest the loops of an inner loop over several dims in another order (--nest-orders)"},
      {"fp32_intermediates", "keep 16-bit and 8-bit float values in float32 between ops (precision=\"fast\")"},
      {"reduction_rolling", "roll reductions over full dims into loops (--reduction-loops)"},
      {"contraction_rolling", "roll a dot's whole contraction into a loop over chunks (--reduction-loops)"},
      {"kernel_fission", "one kernel per inner loop where the loops then become grid dims"},
      {"independent_loops_to_grid", "make an inner loop whose iterations are independent a dim of the grid"},
      {"unit_dim_elimination", "drop tile dims whose block is 1 from every type (--block-sizes)"},
      {"grid_subtiling", "split the grid block feeding a dot's rows into sub-tiles (--subtiles, --block-sizes)"},
      {"block_alignment", "analysis: loops with device-computed bounds that run whole blocks (--block-sizes)"},
      {"heavy_first", "analysis: grid dims whose blocks do more work the later they come"},
      {"subtilable_dim", "analysis: the grid dim grid_subtiling may split"},
      {"grid", "analysis: program ids: flattening, pid_type, L2 grouping, heavy-first dims (--flatten, --pid-type, "
               "--l2-grouping, --block-sizes)"},
      {"masks", "analysis: which dims need a mask, and why (--block-sizes, --flatten)"},
      {"accesses", "analysis: how each load and store addresses memory (--indexing, --block-sizes)"},
      {"loops", "analysis: what each inner loop prints as (--warp-specialize, --num-warps, --num-stages, "
                "--static-ranges, --indexing)"},
      {"descriptor_guard", "analysis: descriptor loads Triton miscompiles, moved to pointers (--indexing, "
                           "--warp-specialize)"},
  };
  return passes;
}

namespace {

std::string dim_str(const ir::DeviceKernel& k, int d) {
  std::string s = "d";
  s += std::to_string(d);
  if (!k.dim(d).name.empty()) s += " (" + k.dim(d).name + ")";
  return s;
}

std::string dims_str(const ir::DeviceKernel& k, const std::set<int>& dims) {
  if (dims.empty()) return "none";
  std::string s;
  for (int d : dims) s += (s.empty() ? "" : ", ") + dim_str(k, d);
  return s;
}

std::string value_str(const ir::Value* v) {
  std::string s = "%";
  return s += std::to_string(v->id);
}

// The loops with device-computed bounds, in program order.
std::vector<const ir::Op*> dynamic_loops(const ir::DeviceKernel& k) {
  std::vector<const ir::Op*> out;
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind == ir::OpKind::For && op.attrs.dynamic_bounds) out.push_back(&op);
  });
  return out;
}

// Every tile dim that takes its block from the config must have one.
void require_block_sizes(const std::string& pass, const ir::DeviceKernel& k, const PassOptions& o) {
  for (const ir::Dim& d : k.dims) {
    if (d.kind != ir::DimKind::Tile || d.fixed_block_size || d.block_size_index < 0) continue;
    size_t have = o.block_sizes ? o.block_sizes->size() : 0;
    if (static_cast<size_t>(d.block_size_index) >= have)
      throw PassUsageError(pass + ": " + dim_str(k, d.id) + " takes its block from block_sizes[" +
                           std::to_string(d.block_size_index) + "]; give --block-sizes with at least " +
                           std::to_string(d.block_size_index + 1) + " value" + (d.block_size_index ? "s" : ""));
  }
}

// The block a config gives dim d, as analysis::KernelConfig::block_of computes it.
int64_t block_of(const ir::DeviceKernel& k, const PassOptions& o, int d) {
  const ir::Dim& dim = k.dim(d);
  if (dim.kind == ir::DimKind::Grid) return 1;
  if (dim.fixed_block_size) return *dim.fixed_block_size;
  if (dim.kind == ir::DimKind::Full) {
    auto e = dim.extent().as_constant();
    return e ? next_power_of_2(std::max<int64_t>(*e, 1)) : 0;
  }
  return o.block_sizes->at(dim.block_size_index);
}

std::string block_alignment(const ir::DeviceKernel& k, const PassOptions& o) {
  require_block_sizes("block_alignment", k, o);
  auto block = [&](int d) { return block_of(k, o, d); };
  std::ostringstream os;
  os << "kernel " << k.name << "\n";
  auto loops = dynamic_loops(k);
  if (loops.empty()) os << "  no loops with device-computed bounds\n";
  for (const ir::Op* loop : loops) {
    int64_t b = block(loop->attrs.dim);
    auto bound = [&](const char* which, const ir::Value* v) {
      bool whole = analysis::provably_multiple_of(k, v, b, block);
      os << " " << which << " " << value_str(v) << (whole ? " is" : " is not provably") << " a multiple of " << b;
    };
    os << "  loop #" << loop->id << " over " << dim_str(k, loop->attrs.dim) << ":";
    bound("begin", loop->operands.at(0));
    os << ",";
    bound("end", loop->operands.at(1));
    os << "\n";
  }
  os << "  whole-block dims: " << dims_str(k, analysis::whole_block_dims(k, block)) << "\n";
  return os.str();
}

std::string heavy_first(const ir::DeviceKernel& k) {
  std::ostringstream os;
  os << "kernel " << k.name << "\n";
  auto loops = dynamic_loops(k);
  if (loops.empty()) os << "  no loops with device-computed bounds\n";
  auto trend = [](std::optional<int> m) -> const char* {
    if (!m) return "unknown";
    return *m > 0 ? "grows" : *m < 0 ? "shrinks" : "constant";
  };
  for (const ir::Op* loop : loops) {
    os << "  loop #" << loop->id << " over " << dim_str(k, loop->attrs.dim) << ":";
    for (int which = 0; which < 2; ++which) {
      const ir::Value* v = loop->operands.at(which);
      os << (which ? ", end " : " begin ") << value_str(v) << " (";
      bool first = true;
      for (int d : k.grid_dims) {
        os << (first ? "" : ", ") << "in d" << d << ": " << trend(analysis::monotonicity_in_grid_dim(k, v, d));
        first = false;
      }
      os << ")";
    }
    os << "\n";
  }
  os << "  heavy-first dims: " << dims_str(k, analysis::heavy_last_grid_dims(k)) << "\n";
  return os.str();
}

std::string subtilable_dim(const ir::DeviceKernel& k) {
  auto d = analysis::subtilable_dim(k);
  return "kernel " + k.name + "\n  subtilable dim: " + (d ? dim_str(k, *d) : std::string("none")) + "\n";
}

// Verification failures of the text as given point at the op's line.
[[noreturn]] void report_invalid_input(const ir::VerifyError& e, const ir::DeviceKernel& k,
                                       const ir::TextLocations& where,
                                       const std::shared_ptr<const SourceFile>& file) {
  SourceSpan span;
  if (e.op() && where.ops.count(e.op())) span = where.ops.at(e.op());
  else if (where.kernels.count(&k)) span = where.kernels.at(&k);
  // The caret shows the op; its source line (`# line N`) would only confuse.
  raise_error(file, span, span.valid() ? "IR verification failed: " + e.rule() : std::string(e.what()));
}

bool is_plan_analysis(const std::string& name) {
  return name == "grid" || name == "masks" || name == "accesses" || name == "loops" || name == "descriptor_guard";
}

bool is_analysis(const std::string& name) {
  return name == "block_alignment" || name == "heavy_first" || name == "subtilable_dim" || is_plan_analysis(name);
}

// The config the plan analyses read, from the options: every load and store
// asks for the same indexing mode, every inner loop (For op, in program
// order) for the same knobs.
analysis::KernelConfig plan_config(const ir::DeviceKernel& k, const PassOptions& o) {
  static const std::set<std::string> modes = {indexing_modes::kPointer, indexing_modes::kTensorDescriptor,
                                              indexing_modes::kBlockPtr};
  if (!modes.count(o.indexing))
    throw PassUsageError("--indexing: '" + o.indexing + "' is not pointer, tensor_descriptor or block_ptr");
  analysis::KernelConfig c;
  c.block_sizes = o.block_sizes.value_or(std::vector<int64_t>{});
  c.loop_order_index = c.flatten_index = c.l2_grouping_index = 0;
  for (size_t i = 0; i < k.grid_dims.size(); ++i) c.loop_order.push_back(static_cast<int>(i));
  c.flatten = o.flatten;
  c.pid_type = o.pid_type;
  c.l2_grouping = o.l2_grouping;
  c.num_warps = o.num_warps;
  c.num_stages = o.num_stages;
  int loads = 0, stores = 0, loops = 0;
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind == ir::OpKind::Load) loads = std::max(loads, op.attrs.memory_op + 1);
    if (op.kind == ir::OpKind::Store) stores = std::max(stores, op.attrs.memory_op + 1);
    if (op.kind != ir::OpKind::For) return;
    analysis::RangeKnobs kn;
    kn.index = loops++;
    kn.warp_specialize = o.warp_specialize;
    kn.static_range = o.static_ranges;
    c.ranges[op.attrs.dim] = kn;
  });
  c.num_loads = loads;
  for (int i = 0; i < loads; ++i) c.load_indexing[i] = o.indexing;
  for (int i = 0; i < stores; ++i) c.store_indexing[i] = o.indexing;
  return c;
}

std::string resolutions_str(const analysis::KernelPlan& plan, size_t from) {
  std::string s;
  for (size_t i = from; i < plan.resolutions.size(); ++i) s += "  resolved: " + plan.resolutions[i].text() + "\n";
  return s;
}

std::string op_str(const ir::Op& op) {
  std::string s = op.kind == ir::OpKind::Load ? "load" : op.kind == ir::OpKind::Store ? "store" : "loop";
  s += " #" + std::to_string(op.kind == ir::OpKind::For ? op.id : op.attrs.memory_op);
  return s;
}

std::string join_ints(const std::vector<size_t>& v) {
  std::string s;
  for (size_t x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return "[" + s + "]";
}

// Runs the plan's parts up to `name` (each needs the ones before) and
// prints that part's findings and resolutions.
std::string plan_analysis(const std::string& name, const ir::DeviceKernel& k, const PassOptions& o) {
  require_block_sizes(name, k, o);
  const analysis::KernelConfig c = plan_config(k, o);
  const DeviceInfo device;  // the CPU's stand-in target (target.h)
  analysis::KernelPlan plan;
  std::ostringstream os;
  os << "kernel " << k.name << "\n";
  analysis::plan_grid(k, c, plan);
  if (name == "grid") {
    os << "  program ids: " << (plan.flat ? "flattened grid" : "per grid dim") << ", " << (plan.xyz ? "one program id per dim" : "one program id")
       << ", l2 grouping " << plan.l2_grouping << "\n";
    os << "  heavy-first dims: " << dims_str(k, plan.heavy_first_dims) << "\n";
    return os.str() + resolutions_str(plan, 0);
  }
  analysis::plan_masks(k, c, plan);
  if (name == "masks") {
    for (const auto& [d, m] : plan.masks) os << "  " << dim_str(k, d) << ": " << (m.needed ? "mask" : "no mask") << " (" << m.why << ")\n";
    return os.str();
  }
  size_t before = plan.resolutions.size();
  analysis::plan_accesses(k, c, plan);
  auto print_accesses = [&] {
    ir::walk(k.body, [&](const ir::Op& op) {
      if (op.kind != ir::OpKind::Load && op.kind != ir::OpKind::Store) return;
      const analysis::AccessPlan& a = plan.access(op);
      os << "  " << op_str(op) << ": " << analysis::name(a.addressing);
      if (!a.fallback.empty()) os << " (asked " << a.requested << ": " << a.fallback << ")";
      if (a.addressing == analysis::Addressing::TensorDescriptor) {
        os << ", order " << join_ints(a.order) << ", " << a.folded << " dims folded, view [";
        for (size_t i = 0; i < a.view_sizes.size(); ++i) os << (i ? ", " : "") << a.view_sizes[i].str();
        os << "]";
      }
      if (a.addressing == analysis::Addressing::BlockPointer)
        os << ", order " << join_ints(a.block_ptr_order) << ", boundary check " << join_ints(a.boundary_check);
      os << "\n";
    });
    ir::walk(k.body, [&](const ir::Op& op) {
      if (op.kind != ir::OpKind::Dot) return;
      auto [za, zb] = plan.dot_zeroing.at(&op);
      if (za || zb)
        os << "  dot %" << op.result()->id << " zeroes masked lanes of" << (za ? " a" : "") << (zb ? " b" : "") << "\n";
    });
  };
  if (name == "accesses") {
    print_accesses();
    return os.str() + resolutions_str(plan, before);
  }
  before = plan.resolutions.size();
  analysis::plan_loops(k, c, device, plan);
  if (name == "descriptor_guard") {
    before = plan.resolutions.size();
    analysis::guard_descriptor_loads(k, c, plan);
    print_accesses();
    return os.str() + resolutions_str(plan, before);
  }
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind != ir::OpKind::For) return;
    const analysis::LoopPlan& lp = plan.loop(op);
    os << "  " << op_str(op) << ": " << (lp.static_range ? "tl.static_range" : "tl.range");
    if (lp.warp_specialize) os << ", warp_specialize=" << (*lp.warp_specialize ? "True" : "False");
    if (!lp.warp_specialize_left_out.empty()) os << ", warp_specialize left out";
    os << "\n";
  });
  return os.str() + resolutions_str(plan, before);
}

void transform(const std::string& name, ir::DeviceKernel& k, const PassOptions& options) {
  if (name == "fp32_intermediates") {
    passes::keep_fp32_intermediates(k);
  } else if (name == "masked_store_from_select") {
    passes::mask_stores_of_selects(k);
  } else if (name == "dead_code_elimination") {
    passes::eliminate_dead_code(k);
  } else if (name == "memory_op_numbering") {
    passes::number_memory_ops(k);
  } else if (name == "reduction_rolling" || name == "contraction_rolling") {
    for (const ir::Dim& d : k.dims) {
      size_t have = options.reduction_loops ? options.reduction_loops->size() : 0;
      if (d.kind == ir::DimKind::Full && d.reduction_index >= 0 && static_cast<size_t>(d.reduction_index) >= have)
        throw PassUsageError(name + ": " + dim_str(k, d.id) + " rolls per reduction_loops[" +
                             std::to_string(d.reduction_index) + "]; give --reduction-loops with at least " +
                             std::to_string(d.reduction_index + 1) + " value" + (d.reduction_index ? "s" : "") +
                             " (a block size or none)");
    }
    const auto loops = options.reduction_loops.value_or(std::vector<std::optional<int64_t>>{});
    if (name == "reduction_rolling")
      passes::roll_reductions(k, loops, !options.persistent_only);
    else
      passes::roll_contractions(k, loops);
  } else if (name == "independent_loops_to_grid") {
    passes::independent_loops_to_grid(k);
  } else if (name == "unit_dim_elimination") {
    require_block_sizes(name, k, options);
    passes::eliminate_unit_dims(k, options.block_sizes.value_or(std::vector<int64_t>{}));
  } else if (name == "inner_loop_order") {
    // (A kernel without a nest of that first dim is left alone.)
    for (const auto& [first, perm] : options.nest_orders) {
      for (const auto& nest : k.nests) {
        if (nest.front() != first) continue;
        std::vector<int> sorted = perm;
        std::sort(sorted.begin(), sorted.end());
        for (size_t i = 0; i < sorted.size(); ++i)
          if (sorted.size() != nest.size() || sorted[i] != static_cast<int>(i))
            throw PassUsageError("inner_loop_order: --nest-orders for d" + std::to_string(first) +
                                 " must be a permutation of 0.." + std::to_string(nest.size() - 1));
      }
    }
    passes::order_inner_loops(k, options.nest_orders);
  } else if (name == "grid_subtiling") {
    require_block_sizes(name, k, options);
    passes::split_grid_subtiles(k, options.subtiles, options.block_sizes.value_or(std::vector<int64_t>{}));
  }
  // "verify" changes nothing; whatever a pass produces must verify (a
  // failure here is a bug in the pass, not in the text).
  ir::verify(k);
}

}  // namespace

std::string run_pass(const std::string& pipeline, const PassOptions& options,
                     const std::shared_ptr<const SourceFile>& file) {
  // NAME or NAME,NAME,... (transformations in order; an analysis only last).
  std::vector<std::string> names;
  std::stringstream ss(pipeline);
  for (std::string n; std::getline(ss, n, ',');) names.push_back(n);
  if (names.empty()) throw PassUsageError("--run-pass needs a pass name");
  for (size_t i = 0; i < names.size(); ++i) {
    bool known = false;
    for (const auto& p : known_passes()) known |= names[i] == p.name;
    if (!known) {
      std::string all;
      for (const auto& p : known_passes()) all += std::string(all.empty() ? "" : ", ") + p.name;
      throw PassUsageError("unknown pass '" + names[i] + "'; passes are: " + all);
    }
    if (is_analysis(names[i]) && i + 1 < names.size())
      throw PassUsageError("the analysis " + names[i] + " prints findings, not IR: it can only come last");
  }

  ir::TextLocations where;
  auto kernels = ir::parse_kernels(file, &where);
  for (const auto& k : kernels) {
    try {
      ir::verify(*k);
    } catch (const ir::VerifyError& e) {
      report_invalid_input(e, *k, where, file);
    }
  }

  std::string out;
  for (auto& kernel : kernels) {
    // Kernel fission makes one kernel several; the passes after it run on each.
    std::vector<std::unique_ptr<ir::DeviceKernel>> current;
    current.push_back(std::move(kernel));
    for (const std::string& name : names) {
      if (name == "kernel_fission") {
        std::vector<std::unique_ptr<ir::DeviceKernel>> next;
        for (auto& k : current) {
          auto parts = passes::split_kernel_at_loops(*k);
          if (parts.empty()) next.push_back(std::move(k));
          for (auto& p : parts) {
            ir::verify(*p);
            next.push_back(std::move(p));
          }
        }
        current = std::move(next);
        continue;
      }
      for (auto& k : current) {
        if (name == "block_alignment") out += block_alignment(*k, options);
        else if (name == "heavy_first") out += heavy_first(*k);
        else if (name == "subtilable_dim") out += subtilable_dim(*k);
        else if (is_plan_analysis(name)) out += plan_analysis(name, *k, options);
        else transform(name, *k, options);
      }
    }
    if (!is_analysis(names.back()))
      for (const auto& k : current) out += ir::print(*k);
  }
  return out;
}

}  // namespace deuteron
