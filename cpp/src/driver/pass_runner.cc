// One pass or analysis on IR text (`deuteronc --run-pass=NAME`).  The passes
// are called exactly as BoundKernel::lower calls them, with the config values
// they read given as options; analyses print what they found, in terms of the
// printed IR (dims dN, values %N, loops #N).
#include "deuteron/pass_runner.h"

#include <functional>
#include <sstream>

#include "../codegen/block_alignment.h"
#include "../codegen/heavy_first.h"
#include "deuteron/ir_parser.h"
#include "deuteron/passes.h"

namespace deuteron {

const std::vector<PassInfo>& known_passes() {
  static const std::vector<PassInfo> passes = {
      {"verify", "check the IR's structural rules and print it back"},
      {"dead_code_elimination", "remove ops whose results are unused and that have no side effects"},
      {"reduction_rolling", "roll reductions over full dims into loops (--reduction-loops)"},
      {"unit_dim_elimination", "drop tile dims whose block is 1 from every type (--block-sizes)"},
      {"grid_subtiling", "split the grid block feeding a dot's rows into sub-tiles (--subtiles, --block-sizes)"},
      {"block_alignment", "analysis: loops with device-computed bounds that run whole blocks (--block-sizes)"},
      {"heavy_first", "analysis: grid dims whose blocks do more work the later they come"},
      {"subtilable_dim", "analysis: the grid dim grid_subtiling may split"},
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

// The block a config gives dim d, as the emitter computes it (launch_plan.cc).
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
      bool whole = codegen::provably_multiple_of(k, v, b, block);
      os << " " << which << " " << value_str(v) << (whole ? " is" : " is not provably") << " a multiple of " << b;
    };
    os << "  loop #" << loop->id << " over " << dim_str(k, loop->attrs.dim) << ":";
    bound("begin", loop->operands.at(0));
    os << ",";
    bound("end", loop->operands.at(1));
    os << "\n";
  }
  os << "  whole-block dims: " << dims_str(k, codegen::whole_block_dims(k, block)) << "\n";
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
        os << (first ? "" : ", ") << "in d" << d << ": " << trend(codegen::monotonicity_in_grid_dim(k, v, d));
        first = false;
      }
      os << ")";
    }
    os << "\n";
  }
  os << "  heavy-first dims: " << dims_str(k, codegen::heavy_last_grid_dims(k)) << "\n";
  return os.str();
}

std::string subtilable_dim(const ir::DeviceKernel& k) {
  auto d = passes::subtilable_dim(k);
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

bool is_analysis(const std::string& name) {
  return name == "block_alignment" || name == "heavy_first" || name == "subtilable_dim";
}

void transform(const std::string& name, ir::DeviceKernel& k, const PassOptions& options) {
  if (name == "dead_code_elimination") {
    passes::eliminate_dead_code(k);
  } else if (name == "reduction_rolling") {
    for (const ir::Dim& d : k.dims) {
      size_t have = options.reduction_loops ? options.reduction_loops->size() : 0;
      if (d.kind == ir::DimKind::Full && d.reduction_index >= 0 && static_cast<size_t>(d.reduction_index) >= have)
        throw PassUsageError("reduction_rolling: " + dim_str(k, d.id) + " rolls per reduction_loops[" +
                             std::to_string(d.reduction_index) + "]; give --reduction-loops with at least " +
                             std::to_string(d.reduction_index + 1) + " value" + (d.reduction_index ? "s" : "") +
                             " (a block size or none)");
    }
    passes::roll_reductions(k, options.reduction_loops.value_or(std::vector<std::optional<int64_t>>{}));
  } else if (name == "unit_dim_elimination") {
    require_block_sizes(name, k, options);
    passes::eliminate_unit_dims(k, options.block_sizes.value_or(std::vector<int64_t>{}));
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
  for (auto& k : kernels) {
    for (const std::string& name : names) {
      if (name == "block_alignment") out += block_alignment(*k, options);
      else if (name == "heavy_first") out += heavy_first(*k);
      else if (name == "subtilable_dim") out += subtilable_dim(*k);
      else transform(name, *k, options);
    }
    if (!is_analysis(names.back())) out += ir::print(*k);
  }
  return out;
}

}  // namespace deuteron
