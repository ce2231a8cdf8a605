// The compiler pipeline.  Everything the core does to a kernel happens in
// the two functions below, in order; each stage is a call into its own
// component and, when logging, the IR is recorded after every stage.
#include "deuteron/compiler.h"

#include <set>

#include "deuteron/analysis.h"
#include "deuteron/parser.h"
#include "deuteron/passes.h"

namespace deuteron {

std::unique_ptr<BoundKernel> BoundKernel::bind(const BindRequest& request, DeviceInfo device) {
  auto bound = std::unique_ptr<BoundKernel>(new BoundKernel());
  bound->device_ = device;
  // 1. Frontend: source text -> AST (spans point into request.file).
  std::unique_ptr<ast::Module> module = parse_module(request.file);
  // 2. Sema: AST -> host program + one DeviceKernel (tile IR) per device loop.
  bound->program_ = analyze(request, std::move(module));
  // 3. Config-independent cleanup of the IR.
  for (auto& k : bound->program_->kernels) {
    // A loop that never touches a tensor (`for t in hl.tile(n): a = 1`) is a
    // kernel the user did not mean to write; Helion rejects it under this name.
    // One whose reads all turn out unused (`_ = x[tile]` in a kernel that
    // returns host numbers) is legal, as in Helion: it launches and does nothing.
    bool touches_memory = false;
    ir::walk(k->body, [&](const ir::Op& op) {
      touches_memory |= op.kind == ir::OpKind::Load || op.kind == ir::OpKind::Store ||
                        op.kind == ir::OpKind::AtomicRMW || op.kind == ir::OpKind::InlineTriton;
    });
    passes::mask_stores_of_selects(*k);
    passes::eliminate_dead_code(*k);
    passes::number_memory_ops(*k);
    ir::verify(*k);
    if (k->body.ops.empty() && !touches_memory)
      raise_error(bound->program_->file, k->span, ErrorKind::EmptyDeviceLoopAfterDCE,
                  "Device loop is empty after dead-code elimination: nothing it computes is stored",
                  {"store the results the loop computes (out[tile] = ...) or remove the loop"});
  }
  // 4. The config space this kernel has.
  const Program& p = *bound->program_;
  std::vector<const ir::DeviceKernel*> kernels;
  for (const auto& k : p.kernels) kernels.push_back(k.get());
  bound->spec_ = analysis::derive_config_spec(kernels, p.block_sizes, p.reduction_loops, p.tunables,
                                              !p.read_and_written_args.empty(), p.expression_shapes);
  bound->spec_.barrier_phases = p.barrier_phases;
  // A grid dim bounded by a one-element tensor's value: the kernel reads it on
  // the device (codegen), so only a persistent launch can cover the grid.
  std::set<std::string> device_read;
  for (const auto& s : p.symbols)
    if (!s.device_tensor.empty()) device_read.insert(s.name);
  for (const auto& k : p.kernels)
    for (int g : k->grid_dims)
      for (const SymInt* e : {&k->dim(g).begin, &k->dim(g).end})
        for (const auto& n : e->symbols()) bound->spec_.data_dependent_grid |= device_read.count(n) > 0;
  return bound;
}

// A tile block fixed by a host number made of tunables
// (ir::Dim::config_block_size) takes its value under `config`; a value that
// is no positive power of two is the kernel's error, at its tile loop.
void BoundKernel::resolve_config_blocks(ir::DeviceKernel& k, int kernel, const json::Value& config) const {
  bool any = false;
  for (const auto& d : k.dims) any |= d.config_block_size.has_value();
  if (!any) return;
  analysis::KernelConfig kc = analysis::kernel_config(spec(), config, kernel, device(), program().dot_precision,
                                                      program().precision);
  for (auto& d : k.dims) {
    if (!d.config_block_size) continue;
    std::map<std::string, int64_t> env;
    std::string values;
    for (const auto& n : d.config_block_size->symbols()) {
      auto v = kc.config_symbol(n);
      DEUTERON_CHECK(v.has_value(), "config block size with a symbol no config gives: " + n);
      env[n] = std::stoll(*v);
      std::string shown = n.rfind("_tunable_", 0) == 0 ? n.substr(9) : n;
      values += (values.empty() ? "" : ", ") + shown + "=" + *v;
    }
    auto b = d.config_block_size->evaluate(env);
    if (!b || *b <= 0 || (*b & (*b - 1)) != 0)
      raise_error(program_->file, d.span,
                  "block_size must be a positive power of two, got " + (b ? std::to_string(*b) : "no value") +
                      " from " + d.config_block_size->str([](const std::string& n) {
                        return n.rfind("_tunable_", 0) == 0 ? n.substr(9) : n;
                      }) + " with " + values,
                  {"compute the block with next_power_of_2(...) so that every config gives a power of two"});
    d.fixed_block_size = *b;
    d.config_block_size.reset();
  }
}

std::vector<std::unique_ptr<ir::DeviceKernel>> BoundKernel::lower(const json::Value& config, LoweringLog* log,
                                                                 Target target) const {
  std::vector<std::optional<int64_t>> reduction_loops;
  for (const auto& v : config.at(keys::kReductionLoops).as_array())
    reduction_loops.push_back(v.is_null() ? std::nullopt : std::optional<int64_t>(v.as_int()));

  std::vector<std::unique_ptr<ir::DeviceKernel>> kernels;
  for (const auto& k : program_->kernels) {
    kernels.push_back(ir::clone(*k));
    kernels.back()->source_loop = static_cast<int>(kernels.size()) - 1;
  }
  // Blocks computed on the host from tunables become this config's numbers.
  for (size_t i = 0; i < kernels.size(); ++i) resolve_config_blocks(*kernels[i], static_cast<int>(i), config);
  auto record = [&](const char* stage) {
    if (!log || !log->enabled) return;
    std::string text;
    for (const auto& k : kernels) text += ir::print(*k);
    log->stages.emplace_back(stage, text);
  };
  record("sema");
  // Inner loops over several dims nest in their loop_orders order (both back
  // ends: the reference module runs the same loops).
  for (size_t i = 0; i < kernels.size(); ++i) {
    if (kernels[i]->nests.empty()) continue;
    analysis::KernelConfig kc = analysis::kernel_config(spec(), config, static_cast<int>(i), device(),
                                                        program().dot_precision, program().precision);
    passes::order_inner_loops(*kernels[i], kc.nest_orders);
    ir::verify(*kernels[i]);
  }
  record("inner_loop_order");
  // Both back ends compute what the precision setting asks for, so that
  // interpret mode and the Triton code agree.
  if (program_->precision == Precision::Fast) {
    for (auto& k : kernels) {
      passes::keep_fp32_intermediates(*k);
      ir::verify(*k);
    }
  }
  record("fp32_intermediates");
  if (target == Target::Triton) {
    // What the config means for each kernel (it reads the spec, not the IR):
    // the rolling and unit-dim stages below both ask.
    std::vector<analysis::KernelConfig> kcs;
    for (size_t i = 0; i < kernels.size(); ++i)
      kcs.push_back(analysis::kernel_config(spec(), config, static_cast<int>(i), device(), program().dot_precision,
                                            program().precision));
    for (size_t i = 0; i < kernels.size(); ++i) {
      // Chunks that only store may become programs where the launch can grow
      // and the grid's shape is the tuner's plain one: not a persistent-only
      // kernel, a flattened grid or one program id axis per grid dim.
      const analysis::KernelConfig& kc = kcs[i];
      const bool programs = !spec().requires_persistent() && !kc.flatten && kc.pid_type != pid_types::kXyz;
      passes::roll_reductions(*kernels[i], reduction_loops, programs);
      ir::verify(*kernels[i]);
    }
    record("reduction_rolling");
    // Then the whole contractions of the same entries (after the rolling
    // above: a dot it moved into a loop or a chunk's program rolls there).
    for (auto& k : kernels) {
      passes::roll_contractions(*k, reduction_loops);
      ir::verify(*k);
    }
    record("contraction_rolling");
    // Inner loops whose iterations are independent become grid dims, where
    // the launch may grow (as the chunks above); a loop the config gives
    // tl.range knobs stays the loop it asks them of.
    auto grows = [&](const ir::DeviceKernel& k) {
      const analysis::KernelConfig& kc = kcs[k.source_loop];
      return !spec().requires_persistent() && !kc.flatten && kc.pid_type != pid_types::kXyz;
    };
    auto knobbed_loops = [&](const ir::DeviceKernel& k) {
      std::set<int> kept;
      for (const auto& [dim, r] : kcs[k.source_loop].ranges)
        if (r.unroll != 0 || r.num_stages != 0 || r.multi_buffer || r.flatten || r.warp_specialize || r.static_range)
          kept.insert(dim);
      return kept;
    };
    // First, a kernel whose loops depend on each other's memory becomes one
    // launch per part where that lets its loops become programs.
    std::vector<std::unique_ptr<ir::DeviceKernel>> split;
    for (auto& k : kernels) {
      auto parts = grows(*k) ? passes::split_kernel_at_loops(*k, knobbed_loops(*k))
                             : std::vector<std::unique_ptr<ir::DeviceKernel>>{};
      if (parts.empty()) split.push_back(std::move(k));
      for (auto& part : parts) {
        ir::verify(*part);
        split.push_back(std::move(part));
      }
    }
    kernels = std::move(split);
    record("kernel_fission");
    for (auto& k : kernels) {
      if (!grows(*k)) continue;
      passes::independent_loops_to_grid(*k, knobbed_loops(*k));
      ir::verify(*k);
    }
    record("independent_loops_to_grid");
    std::vector<int64_t> block_sizes;
    for (const auto& v : config.at(keys::kBlockSizes).as_array()) block_sizes.push_back(v.as_int());
    for (size_t i = 0; i < kernels.size(); ++i) {
      // A flattened grid's dims are no scalar per program (lin // n varies
      // across the lanes), so a block of 1 does not remove them.
      std::set<int> keep;
      const analysis::KernelConfig& kc = kcs[kernels[i]->source_loop];
      if (analysis::flattens_grid(*kernels[i], kc)) keep.insert(kernels[i]->grid_dims.begin(), kernels[i]->grid_dims.end());
      // Likewise a flattened inner loop's dims.
      for (const auto& nest : kernels[i]->nests)
        if (kc.flattened_nests.count(nest.front())) keep.insert(nest.begin(), nest.end());
      passes::eliminate_unit_dims(*kernels[i], block_sizes, keep);
      ir::verify(*kernels[i]);
    }
    record("unit_dim_elimination");
    int subtiles = static_cast<int>(config.at(keys::kSubtiles).as_int());
    for (auto& k : kernels) {
      passes::split_grid_subtiles(*k, subtiles, block_sizes);
      ir::verify(*k);
    }
    record("grid_subtiling");
  }
  for (auto& k : kernels) {
    passes::eliminate_dead_code(*k);
    ir::verify(*k);
  }
  record("dead_code_elimination");
  return kernels;
}

namespace {

template <typename Fn>
std::string generate(const BoundKernel& b, const json::Value& config, BoundKernel::Target target, Fn fn) {
  // 1. The config, completed and checked (a ConfigError names the key).
  json::Value normalized = b.normalize(config);
  // 2. The passes this config asks for.
  auto kernels = b.lower(normalized, nullptr, target);
  CodegenInput in;
  in.program = &b.program();
  for (const auto& k : kernels) in.kernels.push_back(k.get());
  in.spec = &b.spec();
  in.config = normalized;
  in.device = b.device();
  // 3. The analyses: per kernel, what its config means for it and, for
  // Triton, every decision the emitter prints (masks, how each access
  // addresses memory, loop knobs, program ids), with the requests resolved
  // otherwise than asked.
  for (size_t i = 0; i < kernels.size(); ++i) {
    in.kernel_configs.push_back(analysis::kernel_config(b.spec(), normalized, kernels[i]->source_loop, b.device(),
                                                        b.program().dot_precision, b.program().precision));
    if (target == BoundKernel::Target::Triton)
      in.plans.push_back(analysis::plan_kernel(*kernels[i], in.kernel_configs.back(), b.device()));
  }
  // 4. The module's text.
  return fn(in);
}

}  // namespace

std::string BoundKernel::triton_code(const json::Value& config) const {
  return generate(*this, config, Target::Triton, generate_triton_module);
}

std::string BoundKernel::reference_code(const json::Value& config) const {
  return generate(*this, config, Target::Reference, generate_reference_module);
}

std::string BoundKernel::dump_ast() const { return ast::dump(*program_->module); }

std::string BoundKernel::dump_ir() const {
  std::string out;
  for (const auto& k : program_->kernels) out += ir::print(*k);
  return out;
}

}  // namespace deuteron
