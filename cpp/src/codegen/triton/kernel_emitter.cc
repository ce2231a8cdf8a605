// Triton kernel emission: program-id decomposition, per-dim indices and
// masks, then one Python line (or a few) per IR op.
#include "kernel_emitter.h"

#include "../combine_identity.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <map>
#include <set>

namespace deuteron::codegen {

using ir::DimKind;
using ir::OpKind;

namespace {

std::string tl_dtype(DType t) { return triton_name(t); }

bool is_identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class KernelEmitter {
 public:
  KernelEmitter(PythonWriter& w, const Program& program, const ir::DeviceKernel& k,
                const analysis::KernelConfig& config, const analysis::KernelPlan& plan, std::set<std::string>* used_math,
                std::set<std::string>* used_reductions, CombineHelpers* combine)
      : out_(w),
        program_(program),
        k_(k),
        cfg_(config),
        plan_(plan),
        used_math_(used_math),
        used_reductions_(used_reductions),
        combine_(combine) {}

  KernelLaunch run() {
    collect_symbols();
    name_params();
    KernelLaunch launch;
    launch.kernel_name = k_.name;
    launch.num_warps = cfg_.num_warps;
    launch.num_stages = cfg_.num_stages;
    launch.maxnreg = cfg_.maxnreg;

    // Signature.
    std::vector<std::string> params;
    for (size_t i = 0; i < k_.tensors.size(); ++i) {
      params.push_back(tensor_names_[i]);
      launch.args.push_back({k_.tensors[i].host_expr, false});
    }
    for (const auto& s : symbols_) {
      // A one-element tensor's value (hl.tile(num_elements)) comes as the
      // tensor and is read on the device: no .item() (a host sync) per call.
      const std::string tensor = device_tensor_of(s);
      params.push_back(tensor.empty() ? s : s + "_tensor");
      launch.args.push_back({tensor.empty() ? host_symbol_expr(s) : tensor, false});
      if (!tensor.empty()) device_read_.insert(s);
    }
    for (size_t i = 0; i < k_.scalars.size(); ++i) {
      params.push_back(scalar_names_[i]);
      launch.args.push_back({k_.scalars[i].host_expr, false});
    }
    PythonWriter body;
    body.indent();
    w_ = &body;
    std::set<std::string> tma_tensors;
    tma_tensors_ = &tma_tensors;
    flat_ = plan_.flat;
    comment_line(k_.span.line);
    for (const auto& s : device_read_)
      w_->line(s + " = tl.load(" + s + "_tensor).to(" + tl_dtype(k_.index_dtype) + ")");
    emit_grid(launch);
    // The config's block sizes the code names (a kernel split into launches
    // keeps the dims of the other launches' loops, whose blocks it does not use).
    std::string code = body.str();
    for (const auto& d : descriptor_lines_) code += d + "\n";
    for (int idx : used_block_indices()) {
      if (!mentions_identifier(code, block_name(idx))) continue;
      params.push_back(block_name(idx) + ": tl.constexpr");
      launch.args.push_back({std::to_string(cfg_.block_sizes[idx]), true});
    }
    out_.line("@triton.jit");
    std::string sig = "def " + k_.name + "(";
    for (size_t i = 0; i < params.size(); ++i) sig += (i ? ", " : "") + params[i];
    out_.line(sig + "):");
    out_.indent();
    if (!descriptor_lines_.empty()) out_.line("# tensor descriptors (TMA) of the block-shaped accesses");
    for (const auto& d : descriptor_lines_) out_.line(d);
    out_.dedent();
    out_.line_raw(body.str().substr(0, body.str().size() - 1));
    launch.tma_tensors.assign(tma_tensors.begin(), tma_tensors.end());
    return launch;
  }

 private:
  // ------------------------------------------------------------ naming
  void collect_symbols() {
    std::set<std::string> syms;
    auto add = [&](const SymInt& s) {
      for (const auto& n : s.symbols())
        if (!cfg_.config_symbol_name(n)) syms.insert(n);
    };
    for (const auto& d : k_.dims) {
      add(d.begin);
      add(d.end);
    }
    for (const auto& t : k_.tensors)
      for (const auto& s : t.strides) add(s);
    ir::walk(k_.body, [&](const ir::Op& op) {
      if (op.kind == OpKind::SymValue) add(op.attrs.sym);
      for (const auto& ix : op.attrs.index) add(ix.offset);
    });
    symbols_.assign(syms.begin(), syms.end());
  }

  std::string device_tensor_of(const std::string& s) const {
    for (const auto& hs : program_.symbols)
      if (hs.name == s) return hs.device_tensor;
    return "";
  }

  // The launch grid of a persistent kernel: one program per SM (times the
  // multiplier), fewer when the host knows there is less work; a grid bounded
  // by a value the programs read on the device always gets them all.
  std::string persistent_grid(const std::string& host_total) const {
    int64_t programs = static_cast<int64_t>(cfg_.sm_count) * cfg_.num_sm_multiplier;
    for (const auto& s : device_read_)
      if (mentions_identifier(host_total, s)) return "(" + std::to_string(programs) + ",)";
    return "(min(" + std::to_string(programs) + ", " + host_total + "),)";
  }

  std::string host_symbol_expr(const std::string& s) const {
    for (const auto& hs : program_.symbols)
      if (hs.name == s) return hs.name;  // the host wrapper binds each symbol to a local of the same name
    return s;
  }

  static std::string sanitize(const std::string& s) {
    std::string out;
    for (char c : s) out += is_identifier_char(c) ? c : '_';
    if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
    return out;
  }

  void name_params() {
    static const std::set<std::string> kReserved = {"tl", "triton", "libdevice", "pid", "float", "int", "min", "max"};
    for (const auto& t : k_.tensors) {
      std::string n = sanitize(t.name);
      if (kReserved.count(n) || used_names_.count(n)) n += "_";
      used_names_.insert(n);
      tensor_names_.push_back(n);
    }
    for (const auto& s : k_.scalars) {
      std::string n = sanitize(s.name);
      if (kReserved.count(n) || used_names_.count(n)) n += "_";
      used_names_.insert(n);
      scalar_names_.push_back(n);
    }
  }

  std::string block_name(int idx) const { return "_BLOCK_SIZE_" + std::to_string(idx); }

  std::vector<int> used_block_indices() const {
    std::set<int> s;
    for (const auto& d : k_.dims)
      if (d.kind == DimKind::Tile && !d.fixed_block_size && d.block_size_index >= 0) s.insert(d.block_size_index);
    return {s.begin(), s.end()};
  }

  // The block size of a dim as code (a constexpr name or a literal).
  std::string block_expr(int d) const {
    const ir::Dim& dim = k_.dim(d);
    if (dim.merged()) {
      std::string p;
      for (int f : dim.factors) p += (p.empty() ? "" : " * ") + block_expr(f);
      return p;
    }
    if (dim.kind == DimKind::Tile && !dim.fixed_block_size && dim.block_size_index >= 0)
      return block_name(dim.block_size_index);
    return std::to_string(cfg_.block_of(dim));
  }
  int64_t block_value(int d) const { return cfg_.block_of(k_.dim(d)); }

  std::string sym(const SymInt& s) const {
    // An expression of config values only is a number under this config
    // (next_power_of_2 of a tunable has no spelling inside @triton.jit).
    std::function<bool(const SymInt&)> has_pow2 = [&](const SymInt& e) {
      if (e.kind() == SymInt::Kind::NextPow2) return true;
      for (const auto& o : e.operands())
        if (has_pow2(o)) return true;
      return false;
    };
    if (has_pow2(s)) {
      std::map<std::string, int64_t> env;
      bool all = true;
      for (const auto& n : s.symbols()) {
        auto v = cfg_.config_symbol(n);
        if (!v) { all = false; break; }
        env[n] = std::stoll(*v);
      }
      if (all)
        if (auto c = s.evaluate(env)) return std::to_string(*c);
    }
    return s.str([&](const std::string& n) -> std::string {
      if (auto v = cfg_.config_symbol(n)) return *v;
      return n;
    }, /*triton_flavor=*/true);
  }

  // The element count of a flattened grid's block.
  std::string flat_size() const {
    std::string s;
    for (int d : k_.grid_dims) s += (s.empty() ? "" : " * ") + block_expr(d);
    return s;
  }
  // Masks are the plan's (analysis/masks.cc): a flattened grid's dims share
  // one, the flat index's.
  bool flat_needs_mask() const { return plan_.needs_mask(k_.grid_dims.front()); }
  bool needs_mask(int d) const { return plan_.needs_mask(d); }

  // The end of a dim's range as code (a device value for dynamic bounds).
  std::string end_of(int d) const {
    auto it = dynamic_end_.find(d);
    return it != dynamic_end_.end() ? it->second : sym(k_.dim(d).end);
  }

  std::string indices(int d) const { return "indices_" + std::to_string(d); }
  std::string offset(int d) const { return "offset_" + std::to_string(d); }
  std::string mask(int d) const {
    if (k_.dim(d).merged()) return merged_mask(k_.dim(d));
    if (flat_ && std::find(k_.grid_dims.begin(), k_.grid_dims.end(), d) != k_.grid_dims.end()) return "mask_flat";
    if (auto f = plan_.flat_nest_of_dim.find(d); f != plan_.flat_nest_of_dim.end())
      return "mask_nest_" + std::to_string(plan_.flat_nests.at(static_cast<size_t>(f->second)).written.front());
    return "mask_" + std::to_string(d);
  }

  // A merged dim's mask: its factors' masks, each on its own axis, and-ed
  // over the factors' blocks and flattened as the merge flattened the value.
  // An expression where it is used: the factors' masks live in their loops.
  std::string merged_mask(const ir::Dim& dim) const {
    const auto& f = dim.factors;
    std::string conj, blocks;
    for (size_t i = 0; i < f.size(); ++i) {
      blocks += (i ? ", " : "") + block_expr(f[i]);
      if (!needs_mask(f[i])) continue;
      std::string ix;
      for (size_t j = 0; j < f.size(); ++j) ix += (j ? ", " : "") + std::string(i == j ? ":" : "None");
      conj += (conj.empty() ? "" : " & ") + mask(f[i]) + "[" + ix + "]";
    }
    return "tl.reshape(tl.broadcast_to(" + conj + ", (" + blocks + ")), (" + block_expr(dim.id) + ",))";
  }

  std::string value_name(const ir::Value* v) {
    auto it = names_.find(v);
    if (it != names_.end()) return it->second;
    std::string base = v->name_hint.empty() ? "v" : sanitize(v->name_hint);
    // A user's variable named like a generated name of the form <word>_<n>
    // (indices_<dim>, offset_<dim>, mask_<dim>, pid_<n>, _BLOCK_SIZE_<n>, ...) gets a
    // trailing '_': `indices` from torch.topk was indices_2, the lanes of dim 2.
    static const std::set<std::string> kGenerated = {"indices", "offset", "mask", "pid", "pid_rest", "valid",
                                                     "_BLOCK_SIZE", "_desc", "_launch", "_deuteron"};
    if (kGenerated.count(base)) base += "_";
    std::string n = base + "_" + std::to_string(v->id);
    names_[v] = n;
    return n;
  }

  // Expression for a value at its use (constants are inlined).
  std::string use(const ir::Value* v) {
    auto it = inline_.find(v);
    if (it != inline_.end()) return it->second;
    return value_name(v);
  }

  void comment_line(int line) {
    if (line <= 0 || line == last_comment_line_) return;
    last_comment_line_ = line;
    std::string text = program_.file->line_text(line);
    // Lines of inlined helper functions come from their own source.
    for (size_t i = 0; text.empty() && i < program_.helper_files.size(); ++i) text = program_.helper_files[i]->line_text(line);
    size_t b = text.find_first_not_of(" \t");
    text = b == std::string::npos ? "" : text.substr(b);
    w_->line("# line " + std::to_string(line) + ": " + text);
  }

  // ------------------------------------------------------------ grid
  // The number of blocks of a dim, as an operand (parenthesized when compound).
  SymInt num_blocks_sym(int d) const {
    const ir::Dim& dim = k_.dim(d);
    return dim.kind == DimKind::Grid ? dim.extent() : cdiv(dim.extent(), SymInt(block_value(d)));
  }
  std::string num_blocks(int d) const { return paren(sym(num_blocks_sym(d))); }
  std::string host_num_blocks(int d) const {
    const ir::Dim& dim = k_.dim(d);
    if (auto c = num_blocks_sym(d).as_constant()) return std::to_string(std::max<int64_t>(*c, 0));
    std::string extent = dim.extent().str([&](const std::string& s) {
      if (auto v = cfg_.config_symbol(s)) return *v;
      return s;
    });
    // A dim from a begin other than 0 (`hl.tile(begin, end)`) is empty, as a
    // Python range, where end < begin: no programs, not a negative grid.
    // (torch.sym_max: no guard on a symbolic size under torch.compile / export.)
    if (!dim.begin.same_as(SymInt(0))) extent = "torch.sym_max(" + extent + ", 0)";
    return "triton.cdiv(" + extent + ", " + std::to_string(block_value(d)) + ")";
  }

  void emit_dim_setup(int d, const std::string& pid_in) {
    const ir::Dim& dim = k_.dim(d);
    std::string pid_expr = pid_in;
    if (plan_.heavy_first_dims.count(d)) {
      // analysis/heavy_first.cc: this dim's last blocks do the most work; start them first.
      std::string rev = pid_in + "_heavy_first";
      w_->line("# heavy blocks first: inner loops run longer the later " +
               (dim.name.empty() ? std::string("this dim's") : dim.name + "'s") + " block");
      w_->line(rev + " = " + sym(num_blocks_sym(d) - SymInt(1)) + " - " + pid_in);
      pid_expr = rev;
    }
    std::string begin = sym(dim.begin);
    bool zero_begin = dim.begin.is_constant() && dim.begin.constant() == 0;
    std::string it = tl_dtype(program_.index_dtype);
    if (dim.kind == DimKind::Grid) {
      std::string p = program_.index_dtype == DType::Int64 ? pid_expr + ".to(tl.int64)" : pid_expr;
      w_->line(offset(d) + " = " + (zero_begin ? p : begin + " + " + p));
      return;
    }
    std::string p = program_.index_dtype == DType::Int64 ? pid_expr + ".to(tl.int64)" : pid_expr;
    w_->line(offset(d) + " = " + (zero_begin ? "" : begin + " + ") + p + " * " + block_expr(d));
    w_->line(indices(d) + " = (" + offset(d) + " + tl.arange(0, " + block_expr(d) + ")).to(" + it + ")");
    if (needs_mask(d)) w_->line(mask(d) + " = " + indices(d) + " < " + sym(dim.end));
  }

  void emit_grid(KernelLaunch& launch) {
    const auto& g = k_.grid_dims;
    std::vector<int> order = cfg_.loop_order;
    // The config orders the grid dims the program wrote; dims the passes
    // appended (chunks and loops that became programs) vary slowest.
    for (size_t i = 0; i < g.size(); ++i)
      if (std::find(order.begin(), order.end(), static_cast<int>(i)) == order.end()) order.push_back(static_cast<int>(i));
    std::string host_total;
    for (int o : order) {
      std::string n = host_num_blocks(g[o]);
      if (n != "1") host_total += (host_total.empty() ? "" : " * ") + n;  // (a dim of one block adds nothing)
    }
    if (host_total.empty()) host_total = "1";
    bool persistent = pid_types::is_persistent(cfg_.pid_type);
    if (plan_.xyz) {
      std::string grid = "(";
      for (size_t i = 0; i < order.size(); ++i) grid += host_num_blocks(g[order[i]]) + ", ";
      launch.grid = grid + ")";
      for (size_t i = 0; i < order.size(); ++i) {
        std::string pid = "pid_" + std::to_string(i);
        w_->line(pid + " = tl.program_id(" + std::to_string(i) + ")");
        emit_dim_setup(g[order[i]], pid);
      }
      emit_full_dims();
      emit_region(k_.body);
      return;
    }
    if (flat_) {
      emit_flat_grid(launch, order, persistent);
      return;
    }
    std::string pid_var = "pid";
    if (persistent) {
      launch.grid = persistent_grid(host_total);
      SymInt total = 1;
      for (int o : order) total = total * num_blocks_sym(g[o]);
      w_->line("total_pids = " + sym(total));
      // The loop's knobs: the kernel's grid loop entry, else num_stages
      // (analysis/loops.cc).
      std::string stages = range_knobs(plan_.grid_loop);
      // (Loop bounds from program ids go through _deuteron_bound for Triton's interpreter.)
      if (cfg_.pid_type == pid_types::kPersistentInterleaved) {
        w_->line("for virtual_pid in tl.range(" + math("bound", "tl.program_id(0)") + ", " + math("bound", "total_pids") +
                 ", " + math("bound", "tl.num_programs(0)") + stages + "):");
      } else {
        w_->line("pids_per_program = tl.cdiv(total_pids, tl.num_programs(0))");
        w_->line("first_pid = tl.program_id(0) * pids_per_program");
        w_->line("for virtual_pid in tl.range(" + math("bound", "first_pid") + ", " +
                 math("bound", "tl.minimum(first_pid + pids_per_program, total_pids)") + stages + "):");
      }
      w_->indent();
      pid_var = "virtual_pid";
    } else {
      launch.grid = "(" + host_total + ",)";
      w_->line("pid = tl.program_id(0)");
    }
    if (order.size() == 1) {
      emit_dim_setup(g[order[0]], pid_var);
    } else if (plan_.l2_grouping > 1) {
      // Grouped ordering: G blocks of the first dim share the second dim's
      // blocks, so neighbouring programs reuse the same L2 lines.
      int a = g[order[0]], b = g[order[1]];
      w_->line("num_blocks_a = " + num_blocks(a));
      w_->line("num_blocks_b = " + num_blocks(b));
      std::string rest = pid_var;
      if (order.size() > 2) {
        w_->line("pid_ab = " + pid_var + " % (num_blocks_a * num_blocks_b)");
        w_->line("pid_rest = " + pid_var + " // (num_blocks_a * num_blocks_b)");
        rest = "pid_ab";
      }
      w_->line("num_pid_in_group = " + std::to_string(plan_.l2_grouping) + " * num_blocks_b");
      w_->line("group_id = " + rest + " // num_pid_in_group");
      w_->line("first_pid_a = group_id * " + std::to_string(plan_.l2_grouping));
      w_->line("group_size_a = tl.minimum(num_blocks_a - first_pid_a, " + std::to_string(plan_.l2_grouping) + ")");
      w_->line("pid_0 = first_pid_a + ((" + rest + " % num_pid_in_group) % group_size_a)");
      w_->line("pid_1 = (" + rest + " % num_pid_in_group) // group_size_a");
      emit_dim_setup(a, "pid_0");
      emit_dim_setup(b, "pid_1");
      std::string r = "pid_rest";
      for (size_t i = 2; i < order.size(); ++i) {
        std::string p = "pid_" + std::to_string(i);
        if (i + 1 < order.size()) {
          w_->line(p + " = " + r + " % " + num_blocks(g[order[i]]));
          w_->line("pid_rest_" + std::to_string(i) + " = " + r + " // " + num_blocks(g[order[i]]));
          r = "pid_rest_" + std::to_string(i);
        } else {
          w_->line(p + " = " + r);
        }
        emit_dim_setup(g[order[i]], p);
      }
    } else {
      std::string r = pid_var;
      for (size_t i = 0; i < order.size(); ++i) {
        std::string p = "pid_" + std::to_string(i);
        if (i + 1 < order.size() && num_blocks_sym(g[order[i]]).as_constant() == 1) {
          w_->line(p + " = 0  # one block");  // (no `pid % 1`, `pid // 1`)
        } else if (i + 1 < order.size()) {
          w_->line(p + " = " + r + " % " + num_blocks(g[order[i]]));
          std::string nr = "pid_rest_" + std::to_string(i);
          w_->line(nr + " = " + r + " // " + num_blocks(g[order[i]]));
          r = nr;
        } else {
          w_->line(p + " = " + r);
        }
        emit_dim_setup(g[order[i]], p);
      }
    }
    emit_full_dims();
    emit_region(k_.body);
    if (persistent) w_->dedent();
  }

  // flatten_loops: one linear index over the grid's elements, split into
  // per-dim coordinates; the last dim of the loop order varies fastest (for
  // the default order, the grid's last dim: row-major, so loads coalesce).
  void emit_flat_grid(KernelLaunch& launch, const std::vector<int>& order, bool persistent) {
    const auto& g = k_.grid_dims;
    SymInt total = 1;
    for (int d : g) total = total * k_.dim(d).extent();
    std::string flat = flat_size();
    int64_t block = 1;
    for (int d : g) block *= block_value(d);
    std::string host_total = total.is_constant() ? std::to_string((total.constant() + block - 1) / block)
                                                 : "triton.cdiv(" + total.str() + ", " + std::to_string(block) + ")";
    std::string pid_var = "pid";
    if (persistent) {
      launch.grid = persistent_grid(host_total);
      w_->line("total_pids = " + sym(cdiv(total, SymInt(block))));
      std::string stages = range_knobs(plan_.grid_loop);
      w_->line("for virtual_pid in tl.range(" + math("bound", "tl.program_id(0)") + ", " + math("bound", "total_pids") +
               ", " + math("bound", "tl.num_programs(0)") + stages + "):");
      w_->indent();
      pid_var = "virtual_pid";
    } else {
      launch.grid = "(" + host_total + ",)";
      w_->line("pid = tl.program_id(0)");
    }
    std::string it = tl_dtype(program_.index_dtype);
    w_->line("lin = (" + pid_var + " * (" + flat + ") + tl.arange(0, " + flat + ")).to(" + it + ")");
    if (flat_needs_mask()) w_->line("mask_flat = lin < " + sym(total));
    SymInt stride = 1;
    for (size_t i = order.size(); i-- > 0;) {
      int d = g[order[i]];
      const ir::Dim& dim = k_.dim(d);
      std::string coord = stride.is_constant() && stride.constant() == 1 ? "lin" : "lin // " + paren(sym(stride));
      std::string idx = i == 0 ? coord : coord + " % " + paren(sym(dim.extent()));
      bool zero_begin = dim.begin.is_constant() && dim.begin.constant() == 0;
      w_->line(indices(d) + " = " + (zero_begin ? idx : sym(dim.begin) + " + " + idx));
      stride = stride * dim.extent();
    }
    emit_full_dims();
    emit_region(k_.body);
    if (persistent) w_->dedent();
  }

  static std::string paren(const std::string& s) { return s.find(' ') == std::string::npos ? s : "(" + s + ")"; }

  void emit_full_dims() {
    std::string it = tl_dtype(program_.index_dtype);
    // Sub-tiles of a grid dim (grid_subtiling.cc): slices of its block.
    for (const auto& d : k_.dims) {
      if (d.subtile_of < 0 || !dim_used(d.id)) continue;
      w_->line(offset(d.id) + " = " + offset(d.subtile_of) + " + " + std::to_string(d.subtile_offset));
      w_->line(indices(d.id) + " = (" + offset(d.id) + " + tl.arange(0, " + block_expr(d.id) + ")).to(" + it + ")");
      if (needs_mask(d.id)) w_->line(mask(d.id) + " = " + indices(d.id) + " < " + sym(d.end));
    }
    for (const auto& d : k_.dims) {
      if (d.kind != DimKind::Full || d.merged()) continue;  // a merged dim's lanes index nothing
      if (!used_dims_.count(d.id) && !dim_used(d.id)) continue;
      w_->line(indices(d.id) + " = tl.arange(0, " + std::to_string(block_value(d.id)) + ").to(" + it + ")");
      if (needs_mask(d.id)) w_->line(mask(d.id) + " = " + indices(d.id) + " < " + sym(d.extent()));
    }
  }

  bool dim_used(int d) {
    bool used = false;
    ir::walk(k_.body, [&](const ir::Op& op) {
      for (const auto& r : op.results)
        for (int x : r->type.dims) used |= x == d;
      for (const auto& ix : op.attrs.index) used |= ix.kind == ir::IndexSpec::Kind::TileDim && ix.dim == d;
      if (op.attrs.dim == d) used = true;
    });
    return used;
  }

  // ------------------------------------------------------------ helpers
  // Places an expression whose axes are `src` (in order) into a value with
  // axes `dst` by inserting None axes.  `src` must be a subsequence of `dst`.
  std::string expand(const std::string& e, const std::vector<int>& src_dims, const std::vector<int>& dst_dims) {
    if (flat_ || src_dims.size() == dst_dims.size()) return e;
    // In a flattened inner loop the nest's dims are one axis.
    const std::vector<int> src = axes(src_dims), dst = axes(dst_dims);
    if (src.size() == dst.size()) return e;
    std::string idx;
    size_t j = 0;
    for (size_t i = 0; i < dst.size(); ++i) {
      // A size-1 axis of the source (an index tensor tile.index[None, :]) keeps its place.
      if (j < src.size() && src[j] == dst[i]) {
        idx += (idx.empty() ? "" : ", ") + std::string(":");
        ++j;
      } else {
        idx += (idx.empty() ? "" : ", ") + std::string("None");
      }
    }
    DEUTERON_CHECK(j == src.size(), "cannot place axes of an index into the result shape");
    if (src.empty()) return e;
    return e + "[" + idx + "]";
  }

  // An expression of one axis placed on axis `i` of a value of rank `rank`.
  std::string place_axis(const std::string& e, size_t i, size_t rank) const {
    if (flat_ || rank <= 1) return e;
    std::string idx;
    for (size_t j = 0; j < rank; ++j) idx += (j ? ", " : "") + std::string(j == i ? ":" : "None");
    return e + "[" + idx + "]";
  }

  // tl.broadcast_to of a value of rank `rank` to `dims`: a lower rank gets
  // leading size-1 axes first (PyTorch's alignment from the right), which
  // Triton's compiler does not add itself (its interpreter, numpy, does).
  std::string broadcast_to(const std::string& e, size_t rank, const std::vector<int>& dims) const {
    std::string x = e;
    if (!flat_ && rank > 0 && rank < dims.size()) {
      std::string idx;
      for (size_t i = 0; i < dims.size(); ++i) idx += (i ? ", " : "") + std::string(i < dims.size() - rank ? "None" : ":");
      x = paren(e) + "[" + idx + "]";
    }
    return "tl.broadcast_to(" + x + ", " + shape_tuple(dims) + ")";
  }

  std::string shape_tuple(const std::vector<int>& dims) const {
    if (flat_) {
      for (int d : dims)
        if (d != ir::kBroadcast) return "(" + flat_size() + ",)";
      return "[]";
    }
    return axes_shape(axes(dims));
  }

  // The shape of axes as axes() gives them.
  std::string axes_shape(const std::vector<int>& a) const {
    std::string s = "(";
    for (size_t i = 0; i < a.size(); ++i) {
      s += a[i] == ir::kBroadcast ? "1" : nest_ && a[i] == nest_->written.front() ? nest_block() : block_expr(a[i]);
      s += (a.size() == 1 ? "," : (i + 1 < a.size() ? ", " : ""));
    }
    return s + ")";
  }

  // ------------------------------------------------ flattened inner loops
  // While the body of an inner nest that flatten_loops runs as one loop is
  // printed (analysis/flat_nests.cc): the nest, and the values its body
  // computes.  Its dims are one axis, named by its first dim as written.
  const analysis::FlatNest* nest_ = nullptr;
  std::set<const ir::Value*> nest_values_;

  std::string nest_block() const {
    std::string s;
    for (int d : nest_->written) s += (s.empty() ? "" : " * ") + block_expr(d);
    return s;
  }

  // A value's axes as printed: in a flattened inner loop, the nest's dims
  // (side by side where a value holds them, `right` axes from the right) are
  // one axis, and size-1 axes in their place one size-1 axis; a value with
  // other axes there keeps them (flat_nests.cc lets only an expand_dims take
  // such a value).  A list shorter than that place (a single dim's indices)
  // names each nest dim by the one axis.
  std::vector<int> axes(const std::vector<int>& dims) const {
    if (!nest_) return dims;
    const auto& g = nest_->written;
    const int G = g.front();
    const size_t span = static_cast<size_t>(nest_->shape.right) + g.size();
    std::vector<int> out;
    if (dims.size() < span) {
      for (int d : dims) out.push_back(std::find(g.begin(), g.end(), d) != g.end() ? G : d);
      return out;
    }
    const size_t first = dims.size() - span;
    bool group = true, ones = true;
    for (size_t i = 0; i < g.size(); ++i) {
      group = group && dims[first + i] == g[i];
      ones = ones && dims[first + i] == ir::kBroadcast;
    }
    if (!group && !ones) return dims;
    out.assign(dims.begin(), dims.begin() + static_cast<std::ptrdiff_t>(first));
    out.push_back(group ? G : ir::kBroadcast);
    out.insert(out.end(), dims.begin() + static_cast<std::ptrdiff_t>(first + g.size()), dims.end());
    return out;
  }
  // How a value is printed: a value from before the nest keeps its axes.
  std::vector<int> printed_axes(const ir::Value* v) const {
    return nest_ && nest_values_.count(v) ? axes(v->type.dims) : v->type.dims;
  }

  std::string literal(const ir::Literal& l, DType t) const {
    switch (l.kind) {
      case ir::Literal::Kind::Bool: return l.b ? "True" : "False";
      case ir::Literal::Kind::Int:
        if (is_floating(t)) return py_float(static_cast<double>(l.i));
        return std::to_string(l.i);
      case ir::Literal::Kind::Float:
        if (!is_floating(t)) return std::to_string(static_cast<int64_t>(l.f));
        return py_float(l.f);
    }
    return "0";
  }

  // Offsets and mask of a Load/Store/Atomic.
  struct Access {
    std::string ptr;
    std::string mask;  // "" = no mask
    // Some indexed dims have stride 0 (an expanded tensor): the pointer lacks
    // their extent.  `full_shape` is the access's shape to broadcast to;
    // `scalar_ptr`: no dim is left at all.
    std::string full_shape;
    bool scalar_ptr = false;
    // The dims whose lanes past their end the mask covers (a load reads 0 there).
    std::set<int> masked;
    // The pointer with the access's full shape (for stores and atomics,
    // whose value already has it).
    std::string full_ptr() const {
      return full_shape.empty() ? ptr : "tl.broadcast_to(" + ptr + ", " + full_shape + ")";
    }
  };

  Access access(const ir::Op& op, const std::vector<int>& result_dims) {
    const ir::TensorParam& t = k_.tensors.at(op.attrs.tensor);
    std::vector<std::string> terms;
    std::vector<std::string> masks;
    std::set<int> masked_dims;
    bool dropped_dims = false;
    // A StackTensor's access (ir.h, IndexSpec::Kind::Stack): each lane's
    // pointer, cast from its uint64 address, is the base of its own tensor.
    std::string stack_base;
    int pos = 0;  // tensor dim
    for (const auto& ix : op.attrs.index) {
      if (ix.kind == ir::IndexSpec::Kind::NewAxis) continue;
      if (ix.kind == ir::IndexSpec::Kind::Stack) {
        const ir::Value* v = op.operands.at(ix.operand);
        stack_base = expand(operand(v) + ".to(tl.pointer_type(" + tl_dtype(t.dtype) + "))", v->type.dims, result_dims);
        for (int d : v->type.dims)
          if (d != ir::kBroadcast && needs_mask(d)) masked_dims.insert(d);
        continue;
      }
      std::string stride = sym(t.strides.at(pos));
      std::string term;
      switch (ix.kind) {
        case ir::IndexSpec::Kind::TileDim: {
          term = expand(indices(ix.dim), {ix.dim}, result_dims);
          if (!(ix.offset.is_constant() && ix.offset.constant() == 0)) term = "(" + term + " + " + sym(ix.offset) + ")";
          if (needs_mask(ix.dim)) masked_dims.insert(ix.dim);
          break;
        }
        case ir::IndexSpec::Kind::Scalar: term = use(op.operands.at(ix.operand)); break;
        case ir::IndexSpec::Kind::Tensor: {
          const ir::Value* v = op.operands.at(ix.operand);
          term = expand(use(v), v->type.dims, result_dims);
          for (int d : v->type.dims)
            if (d != ir::kBroadcast && needs_mask(d)) masked_dims.insert(d);
          break;
        }
        default: break;
      }
      if (stride == "0") {
        // An expanded dim (stride 0) adds nothing to the address, but the
        // access still has its extent: the pointer is broadcast below.
        if (ix.kind == ir::IndexSpec::Kind::TileDim || ix.kind == ir::IndexSpec::Kind::Tensor) dropped_dims = true;
        ++pos;
        continue;
      }
      terms.push_back(stride == "1" ? term : term + " * " + stride);
      ++pos;
    }
    Access a;
    a.ptr = stack_base.empty() ? tensor_names_.at(op.attrs.tensor) : stack_base;
    if (terms.size() == 1) {
      a.ptr += " + " + terms[0];
    } else if (!terms.empty()) {
      std::string sum;
      for (const auto& s : terms) sum += (sum.empty() ? "" : " + ") + s;
      a.ptr += " + (" + sum + ")";
    }
    if (dropped_dims && !result_dims.empty()) {
      a.full_shape = shape_tuple(result_dims);
      // (A StackTensor's pointers are a tensor of their own unless they are one.)
      const ir::Value* stack = ir::stack_pointers(op);
      a.scalar_ptr = terms.empty() && (!stack || stack->type.is_scalar());
    }
    if (!op.attrs.mask_elided) {
      // By printed axis: one dim may be two axes of a broadcast index
      // (x[t.index, t.index]), and in a flattened inner loop the nest's dims
      // are one axis (named by its first dim) with the nest's one mask.
      const std::vector<int> printed = axes(result_dims);
      for (size_t i = 0; i < printed.size(); ++i) {
        const int d = printed[i];
        if (d == ir::kBroadcast) continue;
        std::vector<int> covered = {d};
        if (nest_ && d == nest_->written.front()) covered = nest_->written;
        bool masked = false;
        for (int c : covered)
          if (masked_dims.count(c)) {
            masked = true;
            a.masked.insert(c);
          }
        if (!masked) continue;
        std::string m = place_axis(mask(d), i, printed.size());
        if (std::find(masks.begin(), masks.end(), m) == masks.end()) masks.push_back(m);
      }
    }
    if (op.attrs.extra_mask >= 0) {
      const ir::Value* m = op.operands.at(op.attrs.extra_mask);
      masks.push_back(use(m));
    }
    for (size_t i = 0; i < masks.size(); ++i) a.mask += (i ? " & " : "") + masks[i];
    return a;
  }

  // Which config key a For op's knobs come from.
  // tl.range's keyword arguments as the plan decided them (analysis/loops.cc);
  // a warp_specialize the target cannot compile becomes a comment line.
  std::string range_knobs(const analysis::LoopPlan& lp) {
    std::string extra;
    if (lp.num_stages > 0) extra += ", num_stages=" + std::to_string(lp.num_stages);
    if (lp.unroll > 0) extra += ", loop_unroll_factor=" + std::to_string(lp.unroll);
    if (lp.multi_buffer) extra += std::string(", disallow_acc_multi_buffer=") + (*lp.multi_buffer ? "False" : "True");
    if (lp.flatten) extra += std::string(", flatten=") + (*lp.flatten ? "True" : "False");
    if (lp.warp_specialize)
      extra += std::string(", warp_specialize=") + (*lp.warp_specialize ? "True" : "False");
    else if (!lp.warp_specialize_left_out.empty())
      w_->line("# warp_specialize=True left out: " + lp.warp_specialize_left_out);
    return extra;
  }



  // ------------------------------------------------------------ ops
  void emit_region(const ir::Region& r) {
    for (const auto& op : r.ops) emit_op(*op);
  }

  void assign(const ir::Op& op, const std::string& expr) {
    w_->line(value_name(op.result()) + " = " + expr);
  }

  // Math that only libdevice provides goes through a module-level helper
  // (_deuteron_<name>) so that Triton's interpreter, which cannot run
  // libdevice, gets a composite of tl primitives instead (see triton_module.cc).
  std::string math(const std::string& fn, const std::string& args) {
    used_math_->insert(fn);
    return "_deuteron_" + fn + "(" + args + ")";
  }

  // A float max/min/argmax/argmin that propagates NaN (reduction_helpers.cc);
  // `args` is the argument list and its closing parenthesis.
  std::string nan_reduction(const std::string& fn, const std::string& args) {
    used_reductions_->insert(fn);
    return "_deuteron_" + fn + "(" + args;
  }

  std::string unary_expr(ir::UnaryFn f, const std::string& x, DType t) {
    bool f64 = t == DType::Float64;
    switch (f) {
      case ir::UnaryFn::Neg: return "-" + x;
      case ir::UnaryFn::Not: return x + " == 0";
      case ir::UnaryFn::Invert: return "~" + x;
      case ir::UnaryFn::Abs: return "tl.abs(" + x + ")";
      case ir::UnaryFn::Exp: return "tl.exp(" + x + ")";
      case ir::UnaryFn::Exp2: return "tl.exp2(" + x + ")";
      case ir::UnaryFn::Log: return "tl.log(" + x + ")";
      case ir::UnaryFn::Log2: return "tl.log2(" + x + ")";
      case ir::UnaryFn::Log1p: return math("log1p", x);
      case ir::UnaryFn::Expm1: return math("expm1", x);
      case ir::UnaryFn::Sqrt: return f64 ? "tl.sqrt(" + x + ")" : "tl.sqrt_rn(" + x + ")";
      case ir::UnaryFn::Rsqrt: return "tl.rsqrt(" + x + ")";
      case ir::UnaryFn::Sin: return "tl.sin(" + x + ")";
      case ir::UnaryFn::Cos: return "tl.cos(" + x + ")";
      case ir::UnaryFn::Tan: return math("tan", x);
      case ir::UnaryFn::Tanh: return math("tanh", x);
      case ir::UnaryFn::Sigmoid: return "tl.sigmoid(" + x + ")";
      case ir::UnaryFn::Erf: return "tl.erf(" + x + ")";
      case ir::UnaryFn::Floor: return "tl.floor(" + x + ")";
      case ir::UnaryFn::Ceil: return "tl.ceil(" + x + ")";
      case ir::UnaryFn::Trunc: return math("trunc", x);
      case ir::UnaryFn::Round: return math("nearbyint", x);
      case ir::UnaryFn::Reciprocal: return f64 || !cfg_.ieee_division ? "1.0 / " + x : "tl.div_rn(1.0, " + x + ")";
      case ir::UnaryFn::Relu: return "tl.where(" + x + " < 0, 0, " + x + ")";
      case ir::UnaryFn::Sign:
        return "tl.where(" + x + " > 0, 1, tl.where(" + x + " < 0, -1, 0)).to(" + tl_dtype(t) + ")";
      case ir::UnaryFn::IsNan: return x + " != " + x;
      case ir::UnaryFn::IsInf: return "tl.abs(" + x + ") == float(\"inf\")";
      case ir::UnaryFn::IsFinite: return "tl.abs(" + x + ") < float(\"inf\")";
      case ir::UnaryFn::Asin: return math("asin", x);
      case ir::UnaryFn::Acos: return math("acos", x);
      case ir::UnaryFn::Atan: return math("atan", x);
      case ir::UnaryFn::Sinh: return math("sinh", x);
      case ir::UnaryFn::Cosh: return math("cosh", x);
      case ir::UnaryFn::Asinh: return math("asinh", x);
      case ir::UnaryFn::Acosh: return math("acosh", x);
      case ir::UnaryFn::Atanh: return math("atanh", x);
    }
    return x;
  }

  static std::string narrow(DType t) {
    return t == DType::Float32 || t == DType::Float64 ? "" : std::string(".to(") + tl_dtype(t) + ")";
  }

  std::string binary_expr(ir::BinaryFn f, const std::string& a, const std::string& b, DType operand) {
    bool fl = is_floating(operand);
    // precision="strict": float32 division rounds to nearest, as torch's
    // does (Triton's `/` is div.full.f32, within 2 ulp).
    if (f == ir::BinaryFn::TrueDiv && operand == DType::Float32 && cfg_.ieee_division)
      return "tl.div_rn(" + a + ", " + b + ")";
    if (const char* op = python_infix(f)) return a + op + b;
    switch (f) {
      case ir::BinaryFn::FloorDiv:
        if (fl) return "tl.floor(" + a + " / " + b + ")";
        return "_deuteron_floordiv(" + a + ", " + b + ")";
      case ir::BinaryFn::Mod:
        if (fl) return a + " - tl.floor(" + a + " / " + b + ") * " + b;
        return "_deuteron_mod(" + a + ", " + b + ")";
      case ir::BinaryFn::Pow: return math("pow", a + ", " + b);
      // Triton computes min/max of 16-bit floats in float32: cast back.
      case ir::BinaryFn::Maximum:
        return fl ? "tl.maximum(" + a + ", " + b + ", propagate_nan=tl.PropagateNan.ALL)" + narrow(operand)
                  : "tl.maximum(" + a + ", " + b + ")";
      case ir::BinaryFn::Minimum:
        return fl ? "tl.minimum(" + a + ", " + b + ", propagate_nan=tl.PropagateNan.ALL)" + narrow(operand)
                  : "tl.minimum(" + a + ", " + b + ")";
      case ir::BinaryFn::Atan2: return math("atan2", a + ", " + b);
      case ir::BinaryFn::CopySign: return math("copysign", a + ", " + b);
      default: break;
    }
    return a;
  }

  // Operands of binary ops need parentheses when they are inlined expressions.
  std::string operand(const ir::Value* v) {
    std::string s = use(v);
    if (s.find(' ') != std::string::npos && s.rfind("float(", 0) != 0) return "(" + s + ")";
    if (!s.empty() && s[0] == '-') return "(" + s + ")";
    return s;
  }

  // Whether a Constant is printed as a Python literal where it is used:
  // Triton types those float32 / int32 / bool.
  static bool inlines_literal(const ir::Op& op) {
    DType t = op.result()->type.dtype;
    return t == DType::Float32 || t == DType::Bool ||
           (t == DType::Int32 && op.attrs.literal.kind == ir::Literal::Kind::Int &&
            std::llabs(op.attrs.literal.i) < (int64_t{1} << 31));
  }

  void emit_op(const ir::Op& op) {
    // Values printed inline where they are used (literals, scalar
    // parameters) write no line, so they get no comment either.
    const bool inlined = (op.kind == OpKind::Constant && inlines_literal(op)) || op.kind == OpKind::ScalarParam ||
                         (op.kind == OpKind::SymValue && op.attrs.sym.is_constant());
    if (op.kind != OpKind::Yield && !inlined) comment_line(op.span.line);
    if (nest_)
      for (const auto& r : op.results) nest_values_.insert(r.get());
    switch (op.kind) {
      case OpKind::Constant: {
        DType t = op.result()->type.dtype;
        std::string lit = literal(op.attrs.literal, t);
        if (inlines_literal(op)) {
          inline_[op.result()] = lit;
          literal_.insert(op.result());
          return;
        }
        assign(op, "tl.full([], " + lit + ", " + tl_dtype(t) + ")");
        return;
      }
      case OpKind::ScalarParam: {
        std::string p = scalar_names_.at(op.attrs.param);
        inline_[op.result()] = p;
        return;
      }
      case OpKind::SymValue: {
        std::string s = sym(op.attrs.sym);
        if (op.attrs.sym.is_constant()) {
          inline_[op.result()] = s;
          literal_.insert(op.result());
          return;
        }
        assign(op, s);
        return;
      }
      case OpKind::TileIndex:
      case OpKind::Arange: inline_[op.result()] = indices(op.attrs.dim); used_dims_.insert(op.attrs.dim); return;
      case OpKind::TileBegin: inline_[op.result()] = offset(op.attrs.dim); return;
      case OpKind::TileEnd:
        assign(op, "tl.minimum(" + offset(op.attrs.dim) + " + " + block_expr(op.attrs.dim) + ", " +
                       end_of(op.attrs.dim) + ")");
        return;
      case OpKind::TileBlockSize:
        inline_[op.result()] = block_expr(op.attrs.dim);
        literal_.insert(op.result());
        return;
      case OpKind::TileId: assign(op, offset(op.attrs.dim) + " // " + block_expr(op.attrs.dim)); return;
      case OpKind::TileCount: assign(op, num_blocks(op.attrs.dim)); return;
      case OpKind::TileMask:
        if (needs_mask(op.attrs.dim))
          inline_[op.result()] = mask(op.attrs.dim);
        else
          assign(op, "tl.full((" + block_expr(op.attrs.dim) + ",), True, tl.int1)");
        return;
      case OpKind::Full: {
        DType t = op.result()->type.dtype;
        if (op.result()->type.is_scalar()) {
          assign(op, "tl.full([], " + literal(op.attrs.literal, t) + ", " + tl_dtype(t) + ")");
        } else {
          assign(op, "tl.full(" + shape_tuple(op.result()->type.dims) + ", " + literal(op.attrs.literal, t) + ", " +
                         tl_dtype(t) + ")");
        }
        return;
      }
      case OpKind::RngSeed:
        assign(op, "tl.load(" + tensor_names_.at(op.attrs.tensor) + " + " + std::to_string(op.attrs.seed_slot) + ")");
        return;
      case OpKind::Random: emit_random(op); return;
      case OpKind::Load: {
        const analysis::AccessPlan& plan = plan_.access(op);
        if (plan.addressing != analysis::Addressing::Pointer) {
          emit_block_load(op, plan);
          return;
        }
        Access a = access(op, op.result()->type.dims);
        std::string args = a.ptr;
        // One element of an expanded tensor serves the whole tile: load it
        // unmasked (element 0 exists whenever the tile loop runs; Triton
        // rejects a block mask on a scalar pointer).
        if (!a.mask.empty() && !a.scalar_ptr) {
          // (0.0 for 8-bit floats: Triton casts no int to fp8)
          DType t = op.result()->type.dtype;
          args += ", " + a.mask + (is_floating(t) && bit_width(t) == 8 ? ", other=0.0" : ", other=0");
          zero_past_end_[op.result()] = a.masked;
        }
        if (!plan.eviction_policy.empty()) args += ", eviction_policy=\"" + plan.eviction_policy + "\"";
        auto cache = cfg_.load_cache.find(op.attrs.memory_op);
        if (cache != cfg_.load_cache.end() && !cache->second.empty())
          args += ", cache_modifier=\"" + cache->second + "\"";
        // The value has the access's full shape (a sum over an expanded dim
        // counts every row); the broadcast is in registers, each distinct
        // element is loaded once.
        if (!a.full_shape.empty()) assign(op, "tl.broadcast_to(tl.load(" + args + "), " + a.full_shape + ")");
        else assign(op, "tl.load(" + args + ")");
        return;
      }
      case OpKind::Store: {
        const ir::Value* v = op.operands.at(op.attrs.value_operand);
        const analysis::AccessPlan& plan = plan_.access(op);
        if (plan.addressing != analysis::Addressing::Pointer) {
          emit_block_store(op, plan);
          return;
        }
        // Index shape of the store: recompute from the index specs.
        Access a = access(op, ir::access_dims(op));
        std::string args = a.full_ptr() + ", " + use(v);
        if (!a.mask.empty()) args += ", " + a.mask;
        auto cache = cfg_.store_cache.find(op.attrs.memory_op);
        if (cache != cfg_.store_cache.end() && !cache->second.empty())
          args += ", cache_modifier=\"" + cache->second + "\"";
        w_->line("tl.store(" + args + ")");
        return;
      }
      case OpKind::AtomicRMW: {
        const ir::Value* v = op.operands.at(op.attrs.value_operand);
        Access a = access(op, op.result()->type.dims);
        std::string fn = std::string("tl.atomic_") + ir::name(op.attrs.atomic);
        std::string args = a.full_ptr();
        if (op.attrs.atomic == ir::AtomicFn::Cas) {
          // tl.atomic_cas does not broadcast (its result has the type of its
          // value): a scalar expected or new value is given the access's shape.
          const auto& dims = op.result()->type.dims;
          auto shaped = [&](const ir::Value* x) {
            if (!x->type.is_scalar() || dims.empty()) return use(x);
            if (literal_.count(x))
              return "tl.full(" + shape_tuple(dims) + ", " + use(x) + ", " + tl_dtype(x->type.dtype) + ")";
            return "tl.broadcast_to(" + use(x) + ", " + shape_tuple(dims) + ")";
          };
          args += ", " + shaped(op.operands.at(op.attrs.expected_operand)) + ", " + shaped(v);
        } else {
          args += ", " + use(v);
        }
        if (op.attrs.atomic != ir::AtomicFn::Cas && !a.mask.empty()) args += ", mask=" + a.mask;
        args += ", sem=\"" + op.attrs.atomic_sem + "\"";
        assign(op, fn + "(" + args + ")");
        return;
      }
      case OpKind::Unary: {
        const ir::Value* x = op.operands[0];
        assign(op, unary_expr(op.attrs.unary, operand(x), x->type.dtype));
        return;
      }
      case OpKind::Binary: {
        const ir::Value* a = op.operands[0];
        const ir::Value* b = op.operands[1];
        assign(op, binary_expr(op.attrs.binary, operand(a), operand(b), a->type.dtype));
        return;
      }
      case OpKind::Where:
        assign(op, "tl.where(" + use(op.operands[0]) + ", " + use(op.operands[1]) + ", " + use(op.operands[2]) + ")");
        return;
      case OpKind::Cast: {
        DType to = op.result()->type.dtype;
        std::string x = operand(op.operands[0]);
        if (op.attrs.bitcast) {
          // Tensor.view(dtype): the bits read as `to` (tl.cast spells it as Helion's code does).
          assign(op, "tl.cast(" + use(op.operands[0]) + ", " + tl_dtype(to) + ", bitcast=True)");
        } else if (literal_.count(op.operands[0])) {
          // Python literals and constexprs have no .to(): materialize them typed.
          assign(op, "tl.full([], " + use(op.operands[0]) + ", " + tl_dtype(to) + ")");
        } else if (op.operands[0]->type.is_scalar() && op.operands[0]->def &&
                   op.operands[0]->def->kind == OpKind::TileBegin) {
          // An inner loop's offset is a Python int under Triton's interpreter
          // (no .to()); tl.cast takes both.
          assign(op, "tl.cast(" + use(op.operands[0]) + ", " + tl_dtype(to) + ")");
        } else {
          assign(op, x + ".to(" + tl_dtype(to) + ")");
        }
        return;
      }
      case OpKind::ExpandDims: {
        if (flat_) {
          inline_[op.result()] = use(op.operands[0]);
          return;
        }
        if (nest_) {
          // The axis may land on the flattened nest's one axis.
          const std::vector<int> in = printed_axes(op.operands[0]), out = axes(op.result()->type.dims);
          if (in == out) {
            inline_[op.result()] = use(op.operands[0]);
          } else if (!in.empty() && out.size() == in.size() + 1) {
            size_t at = 0;
            while (at < in.size() && in[at] == out[at]) ++at;
            std::string idx;
            for (size_t i = 0; i < out.size(); ++i) idx += (i ? ", " : "") + std::string(i == at ? "None" : ":");
            assign(op, operand(op.operands[0]) + "[" + idx + "]");
          } else {
            assign(op, "tl.reshape(" + use(op.operands[0]) + ", " + axes_shape(out) + ")");
          }
          return;
        }
        const auto& in = op.operands[0]->type.dims;
        if (in.empty()) {
          assign(op, "tl.full([1], " + use(op.operands[0]) + ", " + tl_dtype(op.result()->type.dtype) + ")");
          return;
        }
        std::string idx;
        for (size_t i = 0; i <= in.size(); ++i) {
          if (static_cast<int>(i) == op.attrs.axis) idx += (idx.empty() ? "" : ", ") + std::string("None");
          if (i < in.size()) idx += (idx.empty() ? "" : ", ") + std::string(":");
        }
        assign(op, operand(op.operands[0]) + "[" + idx + "]");
        return;
      }
      case OpKind::BlockLanes: {
        // The same lanes on the block's whole dim: those past the tile's end
        // become 0, unless the tile has none or a load already read 0 there.
        // The lanes onto the tile: the same registers (what uses them masks).
        const ir::Value* x = op.operands[0];
        int t = x->type.dims.at(op.attrs.axis);
        auto z = zero_past_end_.find(x);
        if (z != zero_past_end_.end()) zero_past_end_[op.result()] = z->second;  // the other axes' zeros stay
        if ((k_.dim(t).kind == DimKind::Full && !k_.dim(t).merged()) || !needs_mask(t) ||
            (z != zero_past_end_.end() && z->second.count(t))) {
          inline_[op.result()] = use(x);
          return;
        }
        DType dt = op.result()->type.dtype;
        assign(op, "tl.where(" + expand(mask(t), {t}, x->type.dims) + ", " + use(x) + ", " +
                       literal(is_floating(dt) ? ir::Literal::from_float(0.0)
                               : dt == DType::Bool ? ir::Literal::from_bool(false) : ir::Literal::from_int(0), dt) + ")");
        return;
      }
      case OpKind::Squeeze:
      case OpKind::Reshape: {
        if (op.result()->type.is_scalar()) {
          assign(op, "tl.reshape(" + use(op.operands[0]) + ", [])");
        } else if (op.operands[0]->type.is_scalar()) {
          // A scalar to one element of some rank (a unit tile's reduction viewed as
          // [tile, 1]): tl.reshape takes blocks only; broadcast_to splats a scalar.
          assign(op, "tl.broadcast_to(" + use(op.operands[0]) + ", " + shape_tuple(op.result()->type.dims) + ")");
        } else {
          assign(op, "tl.reshape(" + use(op.operands[0]) + ", " + shape_tuple(op.result()->type.dims) + ")");
        }
        return;
      }
      case OpKind::BroadcastTo:
        if (flat_) {
          inline_[op.result()] = use(op.operands[0]);
          return;
        }
        if (literal_.count(op.operands[0])) {
          // A Python literal has no shape to broadcast (a carried `acc = 0` widened to a tile).
          assign(op, "tl.full(" + shape_tuple(op.result()->type.dims) + ", " + use(op.operands[0]) + ", " +
                         tl_dtype(op.result()->type.dtype) + ")");
          return;
        }
        assign(op, broadcast_to(use(op.operands[0]), op.operands[0]->type.dims.size(), op.result()->type.dims));
        return;
      case OpKind::Permute: {
        // A permutation that unit-dim elimination left with nothing to move
        // (the transpose of [1, M, D] to [M, 1, D] with the unit axis gone).
        bool identity = true;
        for (size_t i = 0; i < op.attrs.perm.size(); ++i) identity &= op.attrs.perm[i] == static_cast<int>(i);
        if (identity) {
          inline_[op.result()] = use(op.operands[0]);
          if (literal_.count(op.operands[0])) literal_.insert(op.result());
          return;
        }
        std::string p = "(";
        for (size_t i = 0; i < op.attrs.perm.size(); ++i) p += (i ? ", " : "") + std::to_string(op.attrs.perm[i]);
        assign(op, "tl.permute(" + use(op.operands[0]) + ", " + p + "))");
        return;
      }
      case OpKind::Reduce: emit_reduce(op); return;
      case OpKind::Scan: emit_scan(op); return;
      case OpKind::Sort: emit_sort(op); return;
      case OpKind::Gather:
        assign(op, "tl.gather(" + use(op.operands[0]) + ", " + use(op.operands[1]) + ", " +
                       std::to_string(op.attrs.axis) + ")");
        return;
      case OpKind::CombineReduce: emit_combine_reduce(op); return;
      case OpKind::Dot: emit_dot(op); return;
      case OpKind::For: emit_for(op); return;
      case OpKind::If: emit_if(op); return;
      case OpKind::While: emit_while(op); return;
      case OpKind::Yield: return;  // handled by the parent
      case OpKind::Assert:
        w_->line("tl.device_assert(" + use(op.operands[0]) + ", " + quote(op.attrs.message) + ")");
        return;
      case OpKind::Print: {
        std::string args = py_str(op.attrs.message);
        for (const ir::Value* v : op.operands) args += ", " + use(v);
        w_->line("tl.device_print(" + args + ")");
        return;
      }
      // Only under Triton's interpreter (sema allows it in interpret modes),
      // which runs the kernel as Python: the debugger stops in the kernel.
      case OpKind::Breakpoint: w_->line("breakpoint()"); return;
      case OpKind::InlineTriton: {
        std::vector<std::string> operands, results;
        for (const ir::Value* v : op.operands) operands.push_back(use(v));
        for (const auto& r : op.results) results.push_back(value_name(r.get()));
        for (const auto& l : inline_triton_lines(op.attrs.message, operands, tensor_names_, results)) w_->line(l);
        // The rest of the kernel relies on output_like's rank and dtype: a snippet
        // that gives others fails when Triton compiles it, not later.
        for (size_t i = 0; i < results.size(); ++i) {
          const ir::Type& t = op.results[i]->type;
          std::string rank = std::to_string(t.rank());
          w_->line("tl.static_assert(len(" + results[i] + ".shape) == " + rank + " and " + results[i] + ".dtype == " +
                   tl_dtype(t.dtype) + ", " +
                   quote("inline Triton result " + std::to_string(i) + " is not like output_like (" + rank +
                         " dims of " + tl_dtype(t.dtype) + ")") +
                   ")");
        }
        return;
      }
    }
  }

  static std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      if (c == '\n') { out += "\\n"; continue; }
      out += c;
    }
    return out + "\"";
  }

  // ------------------------------------------------- block-shaped accesses
  // Tensor descriptors (TMA) and block pointers move a whole block with one
  // block per tensor dim.  Which accesses can, in which dim order and with
  // which leading dims folded, analysis/accesses.cc decides; this prints it.
  struct BlockAxis {
    int dim = -1;          // -1: a scalar index
    std::string offset;    // element offset of the block along this tensor dim
    std::string block;     // block size as code
  };

  // The plan's axes as code.
  std::vector<BlockAxis> block_axes(const ir::Op& op, const analysis::AccessPlan& plan) {
    std::vector<BlockAxis> axes;
    for (const auto& pa : plan.axes) {
      BlockAxis a;
      a.dim = pa.dim;
      if (pa.dim >= 0) {
        a.offset = k_.dim(pa.dim).kind == DimKind::Full ? "0" : offset(pa.dim);
        a.block = block_expr(pa.dim);
      } else {
        // A scalar index may be an int64 (a host int, a tensor's item); TMA
        // coordinates and block-pointer offsets are 32-bit (the access plan
        // keeps int64-indexed kernels on pointers).
        const ir::Value* index = op.operands.at(pa.operand);
        a.offset = use(index);
        if (index->type.dtype != DType::Int32) a.offset = paren(a.offset) + ".to(tl.int32)";
        a.block = "1";
      }
      axes.push_back(a);
    }
    return axes;
  }

  static std::vector<size_t> identity_order(size_t n) {
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    return order;
  }

  static bool is_identity(const std::vector<size_t>& order) {
    for (size_t i = 0; i < order.size(); ++i)
      if (order[i] != i) return false;
    return true;
  }

  template <typename T>
  static std::vector<T> permuted(const std::vector<T>& v, const std::vector<size_t>& order) {
    std::vector<T> out;
    for (size_t o : order) out.push_back(v[o]);
    return out;
  }

  // tl.permute's dims that bring a block of the non-scalar axes from
  // `from` order into `to` order ("" when the orders agree).
  static std::string permute_dims(const std::vector<BlockAxis>& axes, const std::vector<size_t>& from,
                                  const std::vector<size_t>& to) {
    std::vector<size_t> f, t;
    for (size_t o : from)
      if (axes[o].dim >= 0) f.push_back(o);
    for (size_t o : to)
      if (axes[o].dim >= 0) t.push_back(o);
    if (f == t) return "";
    std::vector<std::string> dims;
    for (size_t o : t) dims.push_back(std::to_string(std::find(f.begin(), f.end(), o) - f.begin()));
    return join_list(dims);
  }

  static std::string join_list(const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s + "]";
  }
  std::string offsets_of(const std::vector<BlockAxis>& axes) const {
    std::vector<std::string> v;
    for (const auto& a : axes) v.push_back(a.offset);
    return join_list(v);
  }
  std::string block_shape_of(const std::vector<BlockAxis>& axes) const {
    std::vector<std::string> v;
    for (const auto& a : axes) v.push_back(a.block);
    return join_list(v);
  }
  std::string list_of(const std::vector<SymInt>& v) const {
    std::vector<std::string> s;
    for (const auto& x : v) s.push_back(sym(x));
    return join_list(s);
  }
  static bool has_scalar(const std::vector<BlockAxis>& axes) {
    for (const auto& a : axes)
      if (a.dim < 0) return true;
    return false;
  }

  static std::string folded_offset(const std::string& outer, const std::string& size, const std::string& inner) {
    std::string o = outer.find(' ') == std::string::npos ? outer : "(" + outer + ")";
    if (o == "0") return inner;
    return o + " * " + size + (inner == "0" ? "" : " + " + inner);
  }

  // A tensor descriptor's axes: in the plan's order, with the plan's leading
  // scalar-indexed dims folded into the first tiled one (their offsets
  // combined row-major over the tensor's sizes).
  std::vector<BlockAxis> descriptor_axes(const ir::Op& op, const analysis::AccessPlan& plan,
                                         const std::vector<BlockAxis>& axes) const {
    std::vector<BlockAxis> v = permuted(axes, plan.order);
    if (!plan.folded) return v;
    const std::vector<SymInt> sizes = permuted(k_.tensors.at(op.attrs.tensor).sizes, plan.order);
    std::string offset = v[0].offset;
    for (size_t i = 1; i <= plan.folded; ++i) offset = folded_offset(offset, sym(sizes[i]), v[i].offset);
    std::vector<BlockAxis> out(v.begin() + static_cast<std::ptrdiff_t>(plan.folded), v.end());
    out.front().offset = offset;
    return out;
  }

  // The descriptor of a view, created once at the top of the kernel.
  std::string descriptor(int tensor, const analysis::AccessPlan& plan, const std::vector<BlockAxis>& view) {
    std::string key = std::to_string(tensor) + ":" + block_shape_of(view) + ":" + std::to_string(plan.folded) + ":";
    for (size_t o : plan.order) key += std::to_string(o);
    auto it = descriptors_.find(key);
    if (it != descriptors_.end()) return it->second;
    const ir::TensorParam& t = k_.tensors.at(tensor);
    std::string name = tensor_names_.at(tensor) + "_desc_" + std::to_string(descriptors_.size());
    descriptors_[key] = name;
    std::string note;
    if (!is_identity(plan.order)) note = "dims in memory order (a transposed view)";
    if (plan.folded) note += std::string(note.empty() ? "" : "; ") + "leading dims folded into rows";
    descriptor_lines_.push_back(name + " = tl.make_tensor_descriptor(" + tensor_names_.at(tensor) + ", " +
                                list_of(plan.view_sizes) + ", " + list_of(plan.view_strides) + ", " +
                                block_shape_of(view) + ")" + (note.empty() ? "" : "  # " + note));
    tma_tensors_->insert(t.host_expr);
    return name;
  }

  std::string block_ptr(int tensor, const analysis::AccessPlan& plan, const std::vector<BlockAxis>& axes) {
    const ir::TensorParam& t = k_.tensors.at(tensor);
    std::vector<std::string> ord;
    for (size_t o : plan.block_ptr_order) ord.push_back(std::to_string(o));
    return "tl.make_block_ptr(" + tensor_names_.at(tensor) + ", " + list_of(t.sizes) + ", " + list_of(t.strides) +
           ", " + offsets_of(axes) + ", " + block_shape_of(axes) + ", " + join_list(ord) + ")";
  }

  static std::string boundary_check(const analysis::AccessPlan& plan) {
    std::string s;
    for (size_t i : plan.boundary_check) s += (s.empty() ? "" : ", ") + std::to_string(i);
    if (s.empty()) return "";
    return ", boundary_check=(" + s + (s.find(',') == std::string::npos ? "," : "") + ")";
  }

  // The block's shape without the scalar axes, in `order`.
  std::string value_shape(const std::vector<BlockAxis>& axes, const std::vector<size_t>& order) const {
    std::vector<int> dims;
    for (size_t o : order)
      if (axes[o].dim >= 0) dims.push_back(axes[o].dim);
    return shape_tuple(dims);
  }

  void emit_block_load(const ir::Op& op, const analysis::AccessPlan& plan) {
    std::vector<BlockAxis> axes = block_axes(op, plan);
    std::string e;
    if (plan.addressing == analysis::Addressing::TensorDescriptor) {
      std::vector<BlockAxis> view = descriptor_axes(op, plan, axes);
      e = descriptor(op.attrs.tensor, plan, view) + ".load(" + offsets_of(view) + ")";
      if (has_scalar(view)) e = "tl.reshape(" + e + ", " + value_shape(axes, plan.order) + ")";
    } else {
      std::string bc = boundary_check(plan);
      e = "tl.load(" + block_ptr(op.attrs.tensor, plan, axes) + bc + (bc.empty() ? "" : ", padding_option=\"zero\"") + ")";
      if (has_scalar(axes)) e = "tl.reshape(" + e + ", " + value_shape(axes, plan.order) + ")";
    }
    std::string dims = permute_dims(axes, plan.order, identity_order(axes.size()));
    if (!dims.empty()) e = "tl.permute(" + e + ", " + dims + ")";
    assign(op, e);
    // A tile that runs from 0 to the tensor's end reads 0 past it (the
    // bounds check pads with zeros; so does a descriptor).
    const ir::TensorParam& t = k_.tensors.at(op.attrs.tensor);
    std::set<int> zero;
    for (size_t i = 0; i < axes.size() && i < t.sizes.size(); ++i) {
      if (axes[i].dim < 0) continue;
      const ir::Dim& d = k_.dim(axes[i].dim);
      if (!d.dynamic_bounds && d.begin.is_constant() && d.begin.constant() == 0 && d.end.same_as(t.sizes[i]))
        zero.insert(d.id);
    }
    zero_past_end_[op.result()] = zero;
  }

  void emit_block_store(const ir::Op& op, const analysis::AccessPlan& plan) {
    std::vector<BlockAxis> axes = block_axes(op, plan);
    const ir::Value* v = op.operands.at(op.attrs.value_operand);
    std::vector<int> dims;
    for (const auto& a : axes)
      if (a.dim >= 0) dims.push_back(a.dim);
    std::string value = use(v);
    if (v->type.dims != dims) value = broadcast_to(value, v->type.dims.size(), dims);
    std::string perm = permute_dims(axes, identity_order(axes.size()), plan.order);
    if (!perm.empty()) value = "tl.permute(" + value + ", " + perm + ")";
    if (plan.addressing == analysis::Addressing::TensorDescriptor) {
      std::vector<BlockAxis> view = descriptor_axes(op, plan, axes);
      if (has_scalar(view)) value = "tl.reshape(" + value + ", " + block_shape_of(view) + ")";
      w_->line(descriptor(op.attrs.tensor, plan, view) + ".store(" + offsets_of(view) + ", " + value + ")");
    } else {
      if (has_scalar(axes)) value = "tl.reshape(" + value + ", " + block_shape_of(axes) + ")";
      w_->line("tl.store(" + block_ptr(op.attrs.tensor, plan, axes) + ", " + value + boundary_check(plan) + ")");
    }
  }

  // Triton's Philox functions; masked lanes draw for their own (out-of-range)
  // offsets and are never stored, so in-range values do not depend on blocks.
  void emit_random(const ir::Op& op) {
    const ir::Value* offsets = op.operands[1];
    // tl.rand needs a tensor of offsets: a literal becomes a typed scalar.
    std::string off = literal_.count(offsets)
                          ? "tl.full([], " + use(offsets) + ", " + tl_dtype(offsets->type.dtype) + ")"
                          : use(offsets);
    std::string args = use(op.operands[0]) + ", " + off;
    switch (op.attrs.random) {
      case ir::RandomFn::Rand: assign(op, "tl.rand(" + args + ")"); return;
      case ir::RandomFn::Randn: assign(op, "tl.randn(" + args + ")"); return;
      case ir::RandomFn::RandInt:
        used_math_->insert("randint");
        assign(op, "_deuteron_randint(" + args + ", " + use(op.operands[2]) + ", " + use(op.operands[3]) + ")");
        return;
      case ir::RandomFn::Rand4x: {
        std::string names;
        for (size_t i = 0; i < op.results.size(); ++i) names += (i ? ", " : "") + value_name(op.results[i].get());
        w_->line(names + " = tl.rand4x(" + args + ")");
        return;
      }
    }
  }

  void emit_reduce(const ir::Op& op) {
    const ir::Value* x = op.operands[0];
    int axis = op.attrs.axis;
    int d = x->type.dims.at(axis);
    std::string in = use(x);
    DType t = x->type.dtype;
    if (d != ir::kBroadcast && needs_mask(d) && !op.attrs.mask_elided) {
      // Masked lanes hold garbage; give them the reduction's identity.
      std::string m = expand(mask(d), {d}, x->type.dims);
      std::string padded = "tl.where(" + m + ", " + in + ", " + literal(ir::reduction_identity(op.attrs.reduce, t), t) + ")";
      std::string name = value_name(op.result()) + "_in";
      w_->line(name + " = " + padded);
      in = name;
    }
    std::string kd = op.attrs.keepdim ? ", keep_dims=True" : "";
    std::string ax = std::to_string(axis);
    // Floats reduce through helpers that propagate NaN as PyTorch does
    // (reduction_helpers.cc); an argmax's helper also takes the lane index.
    // Along a size-1 axis an argmax is 0 whatever the value.
    bool nan_aware = is_floating(t);
    std::string tail = ", " + ax + ", " + (op.attrs.keepdim ? "True" : "False") + ")";
    auto value = [&](const char* fn) {
      return nan_aware ? nan_reduction(fn, in + tail) : "tl." + std::string(fn) + "(" + in + ", " + ax + kd + ")";
    };
    auto index = [&](const char* fn) {
      if (!nan_aware || d == ir::kBroadcast) return "tl." + std::string(fn) + "(" + in + ", " + ax + kd + ").to(tl.int64)";
      std::string lane = expand("tl.arange(0, " + block_expr(d) + ")", {d}, x->type.dims);
      return nan_reduction(fn, in + ", " + lane + tail) + ".to(tl.int64)";
    };
    std::string e;
    switch (op.attrs.reduce) {
      case ir::ReduceFn::Sum: e = "tl.sum(" + in + ", " + ax + kd + ")"; break;
      case ir::ReduceFn::Max: e = value("max"); break;
      case ir::ReduceFn::Min: e = value("min"); break;
      case ir::ReduceFn::Prod: e = "tl.reduce(" + in + ", " + ax + ", _deuteron_mul_combine" + kd + ")"; break;
      case ir::ReduceFn::ArgMax: e = index("argmax"); break;
      case ir::ReduceFn::ArgMin: e = index("argmin"); break;
      case ir::ReduceFn::Any: e = "tl.max(" + in + ".to(tl.int8), " + ax + kd + ") != 0"; break;
      case ir::ReduceFn::All: e = "tl.min(" + in + ".to(tl.int8), " + ax + kd + ") != 0"; break;
    }
    assign(op, e);
  }

  // ------------------------------------------------ scans and combine functions
  // The module-level @triton.jit function of an op's combine region, named
  // after the user's function; its values are named locally so that the
  // same function used twice is written once.
  std::string combine_helper(const ir::Op& op) {
    static const std::set<std::string> kReserved = {"tl", "triton", "libdevice", "float", "int", "min", "max"};
    const ir::Region& r = *op.regions[0];
    std::set<std::string> taken;
    int fresh = 0;
    auto local_name = [&](const ir::Value* v) {
      std::string n = v->name_hint.empty() ? "" : sanitize(v->name_hint);
      if (n.empty() || kReserved.count(n)) n = "v";
      std::string base = n;
      while (taken.count(n) || n == "v") n = base + "_" + std::to_string(fresh++);
      taken.insert(n);
      names_[v] = n;
      return n;
    };
    std::string params;
    for (const auto& a : r.args) params += (params.empty() ? "" : ", ") + local_name(a.get());
    for (const auto& inner : r.ops)
      for (const auto& res : inner->results) local_name(res.get());
    PythonWriter body;
    body.indent();
    PythonWriter* saved_w = w_;
    int saved_line = last_comment_line_;
    w_ = &body;
    last_comment_line_ = -1;
    emit_region(r);
    const ir::Op& y = *r.ops.back();
    std::string ret;
    for (size_t i = 0; i < y.operands.size(); ++i) ret += (i ? ", " : "") + use(y.operands[i]);
    body.line("return " + ret);
    w_ = saved_w;
    last_comment_line_ = saved_line;
    std::string key = params + "\n" + body.str();
    auto it = combine_->by_text.find(key);
    if (it != combine_->by_text.end()) return it->second;
    // (Not one of the user's globals, which the runtime puts into the module.)
    const auto& globals = program_.used_globals;
    std::string name;
    do {
      name = sanitize(op.attrs.combine_fn) + "_" + std::to_string(combine_->count[op.attrs.combine_fn]++);
    } while (std::find(globals.begin(), globals.end(), name) != globals.end());
    combine_->by_text[key] = name;
    PythonWriter& w = combine_->w;
    w.blank();
    w.blank();
    w.line("@triton.jit");
    w.line("def " + name + "(" + params + "):");
    w.line_raw(body.str().substr(0, body.str().size() - 1));
    return name;
  }

  // A combine function that leaves out lanes whose flag is 0 (lanes past
  // the end of a partial block): combine(a, b) where both are valid, else the
  // valid one.  Still associative; its flag result says whether any was valid.
  std::string masked_combine_helper(const ir::Op& op, const std::string& fn) {
    size_t n = op.operands.size();
    std::string key = "masked " + fn;
    auto it = combine_->by_text.find(key);
    if (it != combine_->by_text.end()) return it->second;
    std::string name = fn + "_masked";
    combine_->by_text[key] = name;
    std::vector<std::string> a, b, r;
    for (size_t i = 0; i < n; ++i) {
      a.push_back("a" + std::to_string(i));
      b.push_back("b" + std::to_string(i));
      r.push_back("r" + std::to_string(i));
    }
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
      return s;
    };
    PythonWriter& w = combine_->w;
    w.blank();
    w.blank();
    w.line("@triton.jit");
    w.line("def " + name + "(" + join(a) + ", a_valid, " + join(b) + ", b_valid):");
    w.indent();
    w.line("# lanes past the end of a partial block (valid 0) are left out");
    std::vector<std::string> args = a;
    args.insert(args.end(), b.begin(), b.end());
    w.line(join(r) + " = " + fn + "(" + join(args) + ")");
    w.line("both = (a_valid & b_valid) != 0");
    std::vector<std::string> outs;
    for (size_t i = 0; i < n; ++i) {
      std::string o = "out" + std::to_string(i);
      w.line(o + " = tl.where(both, " + r[i] + ", tl.where(a_valid != 0, " + a[i] + ", " + b[i] + "))");
      outs.push_back(o);
    }
    outs.push_back("a_valid | b_valid");
    w.line("return " + join(outs));
    w.dedent();
    return name;
  }

  // How lanes past the end of a partial block along the op's axis enter it:
  // not at all (the dim needs no mask), filled with `fill` values, or kept
  // out by a validity flag (`flag`, an int8 block of the operands' shape).
  struct PaddedInputs {
    std::vector<std::string> values;
    std::string flag;
  };
  PaddedInputs pad_inputs(const ir::Op& op, const std::vector<ir::Literal>* fill) {
    PaddedInputs p;
    const auto& dims = op.operands[0]->type.dims;
    int d = dims.at(op.attrs.axis);
    bool masked = d != ir::kBroadcast && needs_mask(d);
    std::string m = masked ? expand(mask(d), {d}, dims) : "";
    for (size_t i = 0; i < op.operands.size(); ++i) {
      std::string in = use(op.operands[i]);
      if (masked && fill) {
        std::string name = value_name(op.result(i)) + "_in";
        w_->line(name + " = tl.where(" + m + ", " + in + ", " + literal((*fill)[i], op.operands[i]->type.dtype) + ")");
        in = name;
      }
      p.values.push_back(in);
    }
    if (masked && !fill) {
      // int8, not bool: scans and reductions of i1 blocks are not well supported.
      p.flag = "valid_" + std::to_string(op.result()->id);
      std::string full = dims.size() == 1 ? m : "tl.broadcast_to(" + m + ", " + shape_tuple(dims) + ")";
      w_->line(p.flag + " = " + full + ".to(tl.int8)");
    }
    return p;
  }

  // `lhs = expr` for every result of op (a tuple when there are several).
  void assign_results(const ir::Op& op, const std::string& expr, bool with_flag) {
    std::string lhs;
    for (const auto& r : op.results) lhs += (lhs.empty() ? "" : ", ") + value_name(r.get());
    if (with_flag) lhs += ", _";
    w_->line(lhs + " = " + expr);
  }

  static std::string tuple_or_single(const std::vector<std::string>& v) {
    if (v.size() == 1) return v[0];
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return "(" + s + ")";
  }

  void emit_scan(const ir::Op& op) {
    std::string ax = std::to_string(op.attrs.axis);
    std::string rev = op.attrs.reverse ? ", reverse=True" : "";
    if (op.regions.empty()) {
      // cumsum / cumprod.  Lanes past the end come after every valid lane; only
      // a reverse scan meets them (first), so they get the identity there.
      bool sum = op.attrs.reduce == ir::ReduceFn::Sum;
      std::string in = use(op.operands[0]);
      if (op.attrs.reverse) {
        std::vector<ir::Literal> id = {ir::Literal::from_int(sum ? 0 : 1)};
        in = pad_inputs(op, &id).values[0];
      }
      assign(op, std::string(sum ? "tl.cumsum(" : "tl.cumprod(") + in + ", " + ax + rev + ")");
      return;
    }
    std::string fn = combine_helper(op);
    PaddedInputs p;
    if (op.attrs.reverse) {
      auto id = combine_identity(op);
      p = pad_inputs(op, id ? &*id : nullptr);
    } else {
      for (const ir::Value* v : op.operands) p.values.push_back(use(v));
    }
    if (!p.flag.empty()) {
      p.values.push_back(p.flag);
      fn = masked_combine_helper(op, fn);
    }
    assign_results(op, "tl.associative_scan(" + tuple_or_single(p.values) + ", " + ax + ", " + fn + rev + ")",
                   !p.flag.empty());
  }

  // torch.sort / torch.topk.  Values and positions are sorted together as one
  // int64 key: a 32-bit key of the value that orders as the value does (a
  // float's bits with the magnitude bits of negatives flipped), above the
  // position (counted from the far end when the order is descending, so ties
  // keep their first-come order and padding lanes, which come last, stay
  // last).  Lanes past the end get the key that sorts after every value.
  // tl.sort orders the whole block; tl.topk keeps the largest KP (the result
  // dim's block) -- the smallest k are the largest of the bitwise-complemented
  // key.  Unpacking the sorted keys gives the values and their indices.
  void emit_sort(const ir::Op& op) {
    const ir::Value* x = op.operands[0];
    const auto& dims = x->type.dims;
    const int d = dims.at(op.attrs.axis);
    const std::string ax = std::to_string(op.attrs.axis);
    const bool topk = op.attrs.sort_k > 0;
    const bool desc = topk || op.attrs.reverse;
    const bool flip = topk && !op.attrs.reverse;  // topk(largest=False)
    const DType in = x->type.dtype;
    const std::string base = value_name(op.result(0));
    used_dims_.insert(d);
    const std::string pos = expand(indices(d), {d}, dims) + ".to(tl.int64)";
    std::string key = base + "_key";
    if (is_floating(in)) {
      // -0.0 is +0.0 first: torch orders them as equal (ties keep their order).
      w_->line(key + " = " + use(x) + ".to(tl.float32)");
      w_->line(key + " = tl.where(" + key + " == 0.0, 0.0, " + key + ").to(tl.int32, bitcast=True)");
      w_->line(key + " = tl.where(" + key + " < 0, " + key + " ^ 0x7FFFFFFF, " + key + ")");
    } else {
      w_->line(key + " = " + use(x) + ".to(tl.int32)");
    }
    std::string order = flip ? "~" + key : key;
    std::string wide = "(" + order + ").to(tl.int64)";
    if (needs_mask(d))
      wide = "tl.where(" + expand(mask(d), {d}, dims) + ", " + wide + ", " + (desc ? "-2147483648" : "2147483647") + ")";
    std::string low = desc ? "(2147483647 - " + pos + ")" : pos;
    const std::string packed = base + "_packed";
    w_->line(packed + " = (" + wide + " << 32) | " + low);
    if (topk)
      w_->line(packed + " = tl.topk(" + packed + ", " + block_expr(op.result(0)->type.dims.at(op.attrs.axis)) +
               ", dim=" + ax + ")");
    else
      w_->line(packed + " = tl.sort(" + packed + ", dim=" + ax + ", descending=" + (desc ? "True" : "False") + ")");
    std::string low2 = "(" + packed + " & 0xFFFFFFFF)";
    w_->line(value_name(op.result(1)) + " = " + (desc ? "2147483647 - " + low2 : low2));
    std::string key2 = "(" + packed + " >> 32).to(tl.int32)";
    if (flip) key2 = "~" + key2;
    w_->line(key + " = " + key2);
    std::string val;
    if (is_floating(in)) {
      val = "tl.where(" + key + " < 0, " + key + " ^ 0x7FFFFFFF, " + key + ").to(tl.float32, bitcast=True)";
      if (in != DType::Float32) val += ".to(" + tl_dtype(in) + ")";
    } else if (in == DType::Bool) {
      val = key + " != 0";
    } else {
      val = in == DType::Int32 ? key : key + ".to(" + tl_dtype(in) + ")";
    }
    w_->line(value_name(op.result(0)) + " = " + val);
  }

  void emit_combine_reduce(const ir::Op& op) {
    std::string fn = combine_helper(op);
    // The user's `other` fills lanes past the end (Helion's meaning); without
    // one, an obvious identity does, else a validity flag keeps them out.
    std::optional<std::vector<ir::Literal>> id;
    if (op.attrs.other.empty()) id = combine_identity(op);
    const std::vector<ir::Literal>* fill = !op.attrs.other.empty() ? &op.attrs.other : id ? &*id : nullptr;
    PaddedInputs p = pad_inputs(op, fill);
    if (!p.flag.empty()) {
      p.values.push_back(p.flag);
      fn = masked_combine_helper(op, fn);
    }
    std::string kd = op.attrs.keepdim ? ", keep_dims=True" : "";
    assign_results(op, "tl.reduce(" + tuple_or_single(p.values) + ", " + std::to_string(op.attrs.axis) + ", " + fn + kd + ")",
                   !p.flag.empty());
  }

  // The K slices of `x` (shape [*lead, k], k a power of two of 2 or more), in
  // K order, as variables of shape [*lead] named `<name>_k<index>`: halves by
  // tl.split (which splits a last axis of 2 into even and odd positions) until
  // single lanes are left; the halves on the way are `<name>_h<n>`.
  std::vector<std::string> k_slices(const std::string& x, const std::vector<int>& lead, int64_t k,
                                    const std::string& name) {
    std::string lead_shape;
    for (int d : lead) lead_shape += (d == ir::kBroadcast ? std::string("1") : block_expr(d)) + ", ";
    struct Piece {
      std::string expr;
      std::vector<int64_t> ks;  // the K positions it holds, in order
    };
    std::vector<Piece> cur{{x, {}}};
    for (int64_t i = 0; i < k; ++i) cur[0].ks.push_back(i);
    int halves = 0;
    for (int64_t width = k; width > 1; width /= 2) {
      std::vector<Piece> next;
      for (const Piece& c : cur) {
        Piece even, odd;
        for (size_t i = 0; i < c.ks.size(); ++i) (i % 2 ? odd : even).ks.push_back(c.ks[i]);
        auto name_of = [&](const Piece& p) {
          return width == 2 ? name + "_k" + std::to_string(p.ks[0]) : name + "_h" + std::to_string(halves++);
        };
        even.expr = name_of(even);
        odd.expr = name_of(odd);
        std::string src = width == 2 ? c.expr : "tl.reshape(" + c.expr + ", (" + lead_shape + std::to_string(width / 2) + ", 2))";
        w_->line(even.expr + ", " + odd.expr + " = tl.split(" + src + ")");
        next.push_back(std::move(even));
        next.push_back(std::move(odd));
      }
      cur = std::move(next);
    }
    std::vector<std::string> out(static_cast<size_t>(k));
    for (const Piece& p : cur) out[static_cast<size_t>(p.ks[0])] = p.expr;
    return out;
  }

  void emit_dot(const ir::Op& op) {
    DType out = op.result()->type.dtype;
    const ir::Value* a = op.operands[0];
    const ir::Value* b = op.operands[1];
    std::string sa = use(a), sb = use(b);
    // A masked contraction dim: zero the lanes of operands that are not
    // plain loads (loads already read 0 there).
    // (Which, analysis/accesses.cc decides.)
    int kdim = a->type.dims.back();
    auto [zero_a, zero_b] = plan_.dot_zeroing.at(&op);
    auto zero_masked = [&](const ir::Value* v, const std::string& s) {
      return "tl.where(" + expand(mask(kdim), {kdim}, v->type.dims) + ", " + s + ", 0)";
    };
    if (zero_a) sa = zero_masked(a, sa);
    if (zero_b) sb = zero_masked(b, sb);
    // (float32 under Triton's interpreter, whose bfloat16 dots are wrong; see math_helpers.cc)
    if (a->type.dtype == DType::BFloat16) sa = math("bf16_dot_operand", sa);
    if (b->type.dtype == DType::BFloat16) sb = math("bf16_dot_operand", sb);
    std::string acc = op.operands.size() > 2 ? use(op.operands[2]) : "";
    // A batched product whose batch block is 1 is a plain 2-D product: 2-D
    // dots map to Hopper's warp-group MMA, 3-D ones do not.
    const auto& rd = op.result()->type.dims;
    bool squeeze = false;  // unit_dim_elimination makes such products 2-D before codegen
    if (squeeze) {
      auto to2d = [&](const std::string& s, const std::vector<int>& dims) {
        return "tl.reshape(" + s + ", " + shape_tuple({dims[1], dims[2]}) + ")";
      };
      sa = to2d(sa, a->type.dims);
      sb = to2d(sb, b->type.dims);
      if (!acc.empty()) acc = to2d(acc, op.operands[2]->type.dims);
    }
    // tl.dot pads small M and N but needs K of 16+ (32+ for 8-bit operands;
    // Triton's min_dot_size): a shorter K (a config's small block, a size-1
    // axis, a short whole dim) is a sum of K outer products, in the result
    // dtype.  Not a broadcast product summed over K: on the GPU, Triton 3.6
    // sums a K axis of 1 or 2 lanes as if it had 8 (each lane counted 8/K
    // times: Helion's test_dot reshape_k tests, wrong on an H100).
    const auto& dd_a = a->type.dims;
    const auto& dd_b = b->type.dims;
    int64_t k_lanes = dd_a.back() == ir::kBroadcast ? 1 : block_value(dd_a.back());
    if (k_lanes < (bit_width(a->type.dtype) == 8 ? 32 : 16)) {
      DEUTERON_CHECK((k_lanes & (k_lanes - 1)) == 0, "a dot's K lanes are a power of two");
      std::string t = tl_dtype(out);
      bool batched = dd_a.size() == 3;
      std::string e;
      if (k_lanes == 1) {
        e = "(" + sa + ").to(" + t + ") * (" + sb + ").to(" + t + ")";  // [.., M, 1] * [.., 1, N]
      } else {
        const std::string r = value_name(op.result());
        w_->line("# " + r + ": K of " + std::to_string(k_lanes) +
                 " lanes, below tl.dot's minimum: a sum of outer products of a's columns and b's rows");
        std::vector<std::string> ca = k_slices(sa, {dd_a.begin(), dd_a.end() - 1}, k_lanes, r + "_a");
        std::string bt = batched ? "tl.permute(" + sb + ", (0, 2, 1))" : "tl.trans(" + sb + ")";
        std::vector<int> lead_b{dd_b.begin(), dd_b.end() - 2};
        lead_b.push_back(dd_b.back());
        std::vector<std::string> cb = k_slices(bt, lead_b, k_lanes, r + "_b");
        for (size_t k = 0; k < ca.size(); ++k) {
          e += std::string(k ? " + " : "") + ca[k] + ".to(" + t + ")" + (batched ? "[:, :, None]" : "[:, None]") + " * " +
               cb[k] + ".to(" + t + ")" + (batched ? "[:, None, :]" : "[None, :]");
        }
      }
      if (!acc.empty()) e = acc + " + " + e;
      if (squeeze) e = "tl.reshape(" + e + ", " + shape_tuple(rd) + ")";
      assign(op, e);
      return;
    }
    std::string args = sa + ", " + sb;
    if (!acc.empty()) args += ", acc=" + acc;
    if (is_floating(a->type.dtype) && a->type.dtype == DType::Float32)
      args += ", input_precision=\"" + cfg_.dot_precision + "\"";
    args += ", out_dtype=" + tl_dtype(out);
    std::string e = "tl.dot(" + args + ")";
    if (squeeze) e = "tl.reshape(" + e + ", " + shape_tuple(rd) + ")";
    assign(op, e);
  }

  // An inner nest flatten_loops runs as one loop over its elements: the
  // lanes of a step are consecutive positions of the flattened order, each
  // dim's indices their coordinates (the nesting order's last dim fastest).
  void emit_flat_nest(const analysis::FlatNest& f) {
    const analysis::LoopPlan& lp = plan_.loop(*f.shape.outer);
    const std::string id = std::to_string(f.written.front());
    const std::string var = "offset_nest_" + id, lin = "lin_" + id;
    std::string names;
    for (int d : f.written) names += (names.empty() ? "" : ", ") + (k_.dim(d).name.empty() ? "d" + std::to_string(d) : k_.dim(d).name);
    w_->line("# flatten_loops[" + std::to_string(f.flatten_index) + "]: " + names + " as one loop over their elements");
    nest_ = &f;
    const std::string block = nest_block(), total = sym(f.total);
    if (lp.static_range)
      w_->line("for " + var + " in tl.static_range(0, " + total + ", " + block + "):");
    else
      w_->line("for " + var + " in tl.range(0, " + total + ", " + block + range_knobs(lp) + "):");
    w_->indent();
    const std::string it = tl_dtype(program_.index_dtype);
    w_->line(lin + " = (" + var + " + tl.arange(0, " + block + ")).to(" + it + ")");
    if (needs_mask(f.written.front())) w_->line(mask(f.written.front()) + " = " + lin + " < " + total);
    SymInt stride = 1;
    for (size_t i = f.shape.order.size(); i-- > 0;) {
      const int d = f.shape.order[i];
      std::string coord = stride.is_constant() && stride.constant() == 1 ? lin : lin + " // " + paren(sym(stride));
      w_->line(indices(d) + " = " + (i == 0 ? coord : coord + " % " + paren(sym(k_.dim(d).extent()))));
      stride = stride * k_.dim(d).extent();
    }
    int saved_line = last_comment_line_;
    for (const auto& op : f.shape.inner->regions[0]->ops)
      if (op->kind != OpKind::Yield) emit_op(*op);
    w_->dedent();
    last_comment_line_ = saved_line;
    nest_ = nullptr;
  }

  void emit_for(const ir::Op& op) {
    if (const analysis::FlatNest* f = plan_.flat_nest_at(op)) {
      emit_flat_nest(*f);
      return;
    }
    const ir::Dim& dim = k_.dim(op.attrs.dim);
    const ir::Region& body = *op.regions[0];
    size_t first_iter = op.attrs.dynamic_bounds ? 2 : 0;
    // Carried values share one variable: init, region arg, yield, result.
    for (size_t i = 0; i < op.results.size(); ++i) {
      std::string n = value_name(body.args[i].get());
      names_[op.results[i].get()] = n;
      w_->line(n + " = " + use(op.operands[first_iter + i]));
    }
    std::string begin = sym(dim.begin), end = sym(dim.end);
    std::string range_begin = begin, range_end = end;
    if (op.attrs.dynamic_bounds) {
      begin = use(op.operands[0]);
      end = use(op.operands[1]);
      dynamic_end_[dim.id] = end;
      range_begin = math("bound", begin);
      range_end = math("bound", end);
    }
    std::string step = dim.kind == DimKind::Tile ? block_expr(dim.id) : "1";
    std::string var = offset(dim.id);
    const analysis::LoopPlan& lp = plan_.loop(op);
    if (lp.static_range) {
      w_->line("for " + var + " in tl.static_range(" + range_begin + ", " + range_end + ", " + step + "):");
    } else {
      std::string extra = range_knobs(lp);
      w_->line("for " + var + " in tl.range(" + range_begin + ", " + range_end + ", " + step + extra + "):");
    }
    w_->indent();
    if (dim.kind == DimKind::Tile) {
      std::string it = tl_dtype(program_.index_dtype);
      w_->line(indices(dim.id) + " = (" + var + " + tl.arange(0, " + block_expr(dim.id) + ")).to(" + it + ")");
      if (needs_mask(dim.id)) w_->line(mask(dim.id) + " = " + indices(dim.id) + " < " + end);
    }
    int saved_line = last_comment_line_;
    emit_region(body);
    const ir::Op& y = *body.ops.back();
    for (size_t i = 0; i < y.operands.size(); ++i) {
      std::string n = value_name(body.args[i].get());
      std::string v = use(y.operands[i]);
      if (v != n) w_->line(n + " = " + v);
    }
    if (body.ops.size() == 1 && y.operands.empty()) w_->line("pass");
    w_->dedent();
    last_comment_line_ = saved_line;
  }

  // A value a loop carries, as its variable is assigned: Triton's loops carry
  // tensors only, so a Python literal (a constant condition, `n = 0`) is
  // materialized with its dtype.
  std::string carried(const ir::Value* v) {
    if (literal_.count(v) && v->type.is_scalar())
      return "tl.full([], " + use(v) + ", " + tl_dtype(v->type.dtype) + ")";
    return use(v);
  }

  // `while while_cond:` over the op's carried values (the condition first), as
  // Triton lowers a Python while with a scalar condition to scf.while: one
  // variable per carried value (init, region arg, yield, result), the
  // condition recomputed at the end of the body (the region's yield).  The
  // kernel's first condition variable is `while_cond`, as in Helion's code.
  //
  // The condition variable is assigned last: Triton carries a while loop's
  // variables in the order they were first assigned, and MLIR's
  // canonicalization drops from the loop's results those that nothing reads
  // (the condition; a value the body overwrites without reading and nothing
  // after the loop reads), after which Triton 3.6's layout pass
  // (TritonGPURemoveLayoutConversions) pairs the loop's i-th argument with
  // its i-th result -- an assertion failure, or the wrong value, unless the
  // dropped ones come last.
  void emit_while(const ir::Op& op) {
    const ir::Region& body = *op.regions[0];
    const ir::Value* cond = body.args[0].get();
    if (!names_.count(cond) && !used_names_.count("while_cond")) {
      names_[cond] = "while_cond";
      used_names_.insert("while_cond");
    }
    std::set<const ir::Value*> read;  // operands of every op but this loop's yield
    ir::walk(k_.body, [&](const ir::Op& o) {
      if (&o != body.ops.back().get())
        for (const ir::Value* v : o.operands) read.insert(v);
    });
    std::vector<size_t> order, dropped;
    for (size_t i = 1; i < op.results.size(); ++i)
      (read.count(op.results[i].get()) || read.count(body.args[i].get()) ? order : dropped).push_back(i);
    order.insert(order.end(), dropped.begin(), dropped.end());
    order.push_back(0);
    for (size_t i : order) {
      std::string n = value_name(body.args[i].get());
      names_[op.results[i].get()] = n;
      w_->line(n + " = " + carried(op.operands[i]));
    }
    w_->line("while " + value_name(cond) + ":");
    w_->indent();
    int saved_line = last_comment_line_;
    emit_region(body);
    const ir::Op& y = *body.ops.back();
    for (size_t i = 0; i < y.operands.size(); ++i) {
      std::string n = value_name(body.args[i].get());
      std::string v = carried(y.operands[i]);
      if (v != n) w_->line(n + " = " + v);
    }
    w_->dedent();
    last_comment_line_ = saved_line;
  }

  void emit_if(const ir::Op& op) {
    w_->line("if " + use(op.operands[0]) + ":");
    for (size_t ri = 0; ri < 2; ++ri) {
      if (ri == 1) w_->line("else:");
      w_->indent();
      const ir::Region& r = *op.regions[ri];
      size_t before = w_->str().size();
      emit_region(r);
      const ir::Op& y = *r.ops.back();
      for (size_t i = 0; i < y.operands.size(); ++i) w_->line(value_name(op.results[i].get()) + " = " + use(y.operands[i]));
      if (w_->str().size() == before) w_->line("pass");
      w_->dedent();
    }
  }

  PythonWriter& out_;
  PythonWriter* w_ = nullptr;  // the kernel body (descriptors go above it)
  const Program& program_;
  const ir::DeviceKernel& k_;
  const analysis::KernelConfig& cfg_;  // the config, looked up for this kernel
  const analysis::KernelPlan& plan_;    // what the analyses decided; only printed here
  std::set<std::string>* used_math_;
  std::set<std::string>* used_reductions_;
  CombineHelpers* combine_;
  std::vector<std::string> symbols_;
  std::set<std::string> device_read_;  // symbols_ the kernel loads from their tensors
  std::vector<std::string> tensor_names_, scalar_names_;
  std::set<std::string> used_names_;
  std::map<const ir::Value*, std::string> names_;
  std::map<const ir::Value*, std::string> inline_;
  std::set<const ir::Value*> literal_;  // inlined Python literals / constexprs
  // Loads whose lanes past the end of these dims read 0 (masked, other=0;
  // a block load's bounds check at the tensor's end).
  std::map<const ir::Value*, std::set<int>> zero_past_end_;
  std::map<int, std::string> dynamic_end_;  // dim -> end value of loops with device-computed bounds
  // flatten_loops: the grid is one linear index space; every grid tile value
  // is a vector of _FLAT elements (see emit_flat_grid).
  bool flat_ = false;
  std::map<std::string, std::string> descriptors_;  // "tensor:block shape" -> descriptor variable
  std::vector<std::string> descriptor_lines_;
  std::set<std::string>* tma_tensors_ = nullptr;
  std::set<int> used_dims_;
  int last_comment_line_ = -1;
};

}  // namespace

KernelLaunch emit_triton_kernel(PythonWriter& w, const Program& program, const ir::DeviceKernel& kernel,
                                const analysis::KernelConfig& config, const analysis::KernelPlan& plan,
                                std::set<std::string>* used_math, std::set<std::string>* used_reductions,
                                CombineHelpers* combine) {
  return KernelEmitter(w, program, kernel, config, plan, used_math, used_reductions, combine).run();
}

}  // namespace deuteron::codegen
