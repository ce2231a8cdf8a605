// A lossless JSON form of ConfigSpec and DeviceInfo, so that a search can be
// set up from Python with plain JSON (tune::SearchSession), and a reader of
// ConfigSpec::to_json's user-facing summary (missing facts get conservative
// defaults: unknown trip counts, one kernel, tunables not searched).
#include <cctype>
#include <stdexcept>

#include "deuteron/tune.h"

namespace deuteron::tune {

namespace {

constexpr const char* kFormat = "deuteron.tune.spec/2";

json::Value int_array(const std::vector<int>& v) {
  json::Array a;
  for (int x : v) a.push_back(json::Value(x));
  return json::Value(std::move(a));
}
json::Value int64_array(const std::vector<int64_t>& v) {
  json::Array a;
  for (int64_t x : v) a.push_back(json::Value(x));
  return json::Value(std::move(a));
}
std::vector<int> read_ints(const json::Value* v) {
  std::vector<int> out;
  if (v && v->is_array())
    for (const auto& x : v->as_array()) out.push_back(static_cast<int>(x.as_int()));
  return out;
}
std::vector<int64_t> read_int64s(const json::Value* v) {
  std::vector<int64_t> out;
  if (v && v->is_array())
    for (const auto& x : v->as_array()) out.push_back(x.as_int());
  return out;
}
int64_t int_or(const json::Value& o, const char* key, int64_t dflt) {
  const json::Value* v = o.find(key);
  return v && v->is_number() ? v->as_int() : dflt;
}
bool bool_or(const json::Value& o, const char* key, bool dflt) {
  const json::Value* v = o.find(key);
  return v && v->is_bool() ? v->as_bool() : dflt;
}
std::string string_or(const json::Value& o, const char* key, const std::string& dflt) {
  const json::Value* v = o.find(key);
  return v && v->is_string() ? v->as_string() : dflt;
}

// Axes as [block_size_index, extent] pairs, [.., .., reduction_loop_index]
// for a rollable whole dim; dot operands as objects.
json::Value axes_to_json(const std::vector<AxisSize>& axes) {
  json::Array a;
  for (const auto& x : axes) {
    json::Array e{json::Value(x.block_size_index), json::Value(x.extent)};
    if (x.reduction_loop_index >= 0) e.push_back(json::Value(x.reduction_loop_index));
    a.push_back(json::Value(std::move(e)));
  }
  return json::Value(std::move(a));
}
std::vector<AxisSize> axes_from_json(const json::Value* v) {
  std::vector<AxisSize> out;
  if (!v || !v->is_array()) return out;
  for (const auto& x : v->as_array()) {
    AxisSize a;
    if (x.is_array() && (x.as_array().size() == 2 || x.as_array().size() == 3)) {
      a.block_size_index = static_cast<int>(x.as_array()[0].as_int());
      a.extent = x.as_array()[1].as_int();
      if (x.as_array().size() == 3) a.reduction_loop_index = static_cast<int>(x.as_array()[2].as_int());
    }
    out.push_back(a);
  }
  return out;
}
const char* source_name(DotSummary::Operand::Source s) {
  switch (s) {
    case DotSummary::Operand::Source::LoadedOnce: return "loaded_once";
    case DotSummary::Operand::Source::LoadedInLoop: return "loaded_in_loop";
    default: return "registers";
  }
}
json::Value operand_to_json(const DotSummary::Operand& o) {
  json::Object e;
  e.emplace_back("axes", axes_to_json(o.axes));
  e.emplace_back("element_bytes", json::Value(o.element_bytes));
  e.emplace_back("source", json::Value(std::string(source_name(o.source))));
  e.emplace_back("load", json::Value(o.load));
  return json::Value(std::move(e));
}
DotSummary::Operand operand_from_json(const json::Value* v) {
  DotSummary::Operand o;
  if (!v || !v->is_object()) return o;
  o.axes = axes_from_json(v->find("axes"));
  o.element_bytes = static_cast<int>(int_or(*v, "element_bytes", 2));
  o.load = static_cast<int>(int_or(*v, "load", -1));
  std::string src = string_or(*v, "source", "registers");
  if (src == "loaded_once") o.source = DotSummary::Operand::Source::LoadedOnce;
  else if (src == "loaded_in_loop") o.source = DotSummary::Operand::Source::LoadedInLoop;
  return o;
}

json::Value symint_to_json(const SymInt& s) {
  json::Object o;
  if (s.is_constant()) {
    o.emplace_back("const", json::Value(s.constant()));
  } else {
    o.emplace_back("expr", json::Value(s.str()));
    auto h = s.hint();
    o.emplace_back("hint", h ? json::Value(*h) : json::Value());
  }
  return json::Value(std::move(o));
}

SymInt symint_from_json(const json::Value& v) {
  if (v.is_int()) return SymInt(v.as_int());
  if (v.is_string()) {
    // ConfigSpec::to_json writes extents as text: a number or an expression.
    const std::string& s = v.as_string();
    bool digits = !s.empty();
    for (size_t i = 0; i < s.size(); ++i)
      if (!std::isdigit(static_cast<unsigned char>(s[i])) && !(i == 0 && s[i] == '-')) digits = false;
    if (digits) return SymInt(static_cast<int64_t>(std::stoll(s)));
    return SymInt::symbol(s);
  }
  if (v.is_object()) {
    if (const json::Value* c = v.find("const")) return SymInt(c->as_int());
    std::optional<int64_t> hint;
    if (const json::Value* h = v.find("hint"); h && h->is_number()) hint = h->as_int();
    return SymInt::symbol(string_or(v, "expr", "s"), hint);
  }
  return SymInt::symbol("s");
}

const char* tunable_kind_name(TunableSpec::Kind k) {
  switch (k) {
    case TunableSpec::Kind::PowerOfTwo: return "power_of_two";
    case TunableSpec::Kind::Integer: return "integer";
    case TunableSpec::Kind::Enum: return "enum";
    case TunableSpec::Kind::Boolean: return "boolean";
  }
  return "integer";
}

TunableSpec::Kind tunable_kind_from(const std::string& s) {
  if (s == "power_of_two") return TunableSpec::Kind::PowerOfTwo;
  if (s == "enum") return TunableSpec::Kind::Enum;
  if (s == "boolean") return TunableSpec::Kind::Boolean;
  return TunableSpec::Kind::Integer;
}

// ConfigSpec::to_json's summary -> a ConfigSpec with conservative guesses.
ConfigSpec spec_from_summary(const json::Value& v) {
  ConfigSpec spec;
  bool any_dot = false;
  if (const json::Value* bs = v.find(keys::kBlockSizes); bs && bs->is_array()) {
    for (const auto& e : bs->as_array()) {
      BlockSizeSpec b;
      b.min = int_or(e, "min", 1);
      b.min_allowed = b.min;  // (not serialized: a read spec accepts only its search range)
      b.max = int_or(e, "max", 1 << 30);
      b.origin = string_or(e, "origin", "");
      b.used_in_dot = bool_or(e, "used_in_dot", false);
      b.is_reduction_like = bool_or(e, "is_reduction_like", false);
      if (b.max < (int64_t{1} << 30)) b.extents.push_back(SymInt(b.max));
      any_dot = any_dot || b.used_in_dot;
      spec.block_sizes.push_back(std::move(b));
    }
  }
  if (const json::Value* rl = v.find(keys::kReductionLoops); rl && rl->is_array()) {
    for (const auto& e : rl->as_array()) {
      ReductionLoopSpec r;
      if (const json::Value* x = e.find("extent")) r.extent = symint_from_json(*x);
      r.origin = string_or(e, "origin", "");
      spec.reduction_loops.push_back(std::move(r));
    }
  }
  KernelSummary k;
  k.has_dot = any_dot;
  for (size_t i = 0; i < spec.block_sizes.size(); ++i)
    if (!spec.block_sizes[i].is_reduction_like) {
      k.grid_block_sizes.push_back(static_cast<int>(i));
      k.grid_extents.push_back(std::min<int64_t>(spec.block_sizes[i].max, 1 << 20));
    }
  spec.kernels.push_back(k);
  spec.has_dot = any_dot;
  spec.has_reduction = !spec.reduction_loops.empty();
  // The summary gives the per-loop keys' entry counts only: the first
  // loop_orders entry is taken for the grid, the rest of the entries for the
  // inner loops in order.
  for (int n : read_ints(v.find(keys::kLoopOrders))) {
    spec.loop_order_sizes.push_back(n);
    spec.loop_order_kernels.push_back(0);
    if (spec.loop_order_sizes.size() == 1) spec.max_grid_rank = std::max(spec.max_grid_rank, n);
  }
  if (const json::Value* f = v.find(keys::kFlattenLoops); f && f->is_array())
    for (const auto& b : f->as_array()) spec.flatten_allowed.push_back(b.is_bool() && b.as_bool());
  int64_t l2 = int_or(v, keys::kL2Groupings, 0);
  for (int64_t j = 0; j < l2; ++j) spec.l2_grouping_kernels.push_back(0);
  int64_t loops = int_or(v, spec_summary::kInnerLoops, 0);
  for (int64_t j = 0; j < loops; ++j) {
    InnerLoopInfo info;
    info.op_id = static_cast<int>(j);
    info.dim = static_cast<int>(j);
    info.contains_loads = true;
    info.contains_dot = any_dot;
    spec.inner_loops.push_back(info);
    spec.kernels[0].has_inner_loop = true;
  }
  const int64_t range_loops = int_or(v, spec_summary::kRangeLoops, loops + 1);
  for (size_t j = 0; j < spec.inner_loops.size(); ++j)
    spec.inner_loops[j].range_entry = static_cast<int>(range_loops - static_cast<int64_t>(spec.inner_loops.size()) + static_cast<int64_t>(j));
  spec.kernels[0].grid_range_entry = range_loops > loops ? 0 : -1;
  spec.kernels[0].l2_grouping_entry = l2 > 0 ? 0 : -1;
  spec.range_entries = static_cast<int>(range_loops);
  spec.range_num_stages_off = int_or(v, keys::kRangeNumStages, range_loops) == 0 && range_loops > 0;
  spec.static_range_entries = static_cast<int>(int_or(v, keys::kStaticRanges, 0));
  for (size_t j = 0; j < spec.loop_order_sizes.size(); ++j) {
    MultiDimLoop m;
    m.grid = j == 0;
    m.rank = spec.loop_order_sizes[j];
    m.loop_order_entry = static_cast<int>(j);
    m.flatten_entry = j < spec.flatten_allowed.size() ? static_cast<int>(j) : -1;
    m.flattenable = j < spec.flatten_allowed.size() && spec.flatten_allowed[j];
    spec.multi_dim_loops.push_back(m);
  }
  spec.num_loads = static_cast<int>(int_or(v, spec_summary::kNumLoads, 0));
  spec.num_stores = static_cast<int>(int_or(v, spec_summary::kNumStores, 0));
  spec.kernel_load_offset = {0};
  spec.kernel_store_offset = {0};
  if (const json::Value* t = v.find(spec_summary::kTunables); t && t->is_array()) {
    for (const auto& e : t->as_array()) {
      TunableSpec ts;
      ts.name = e.is_string() ? e.as_string() : string_or(e, "name", "");
      ts.kind = TunableSpec::Kind::Enum;  // no choices known: not searched
      ts.default_repr = "null";
      spec.tunables.push_back(std::move(ts));
    }
  }
  return spec;
}

}  // namespace

json::Value spec_to_json(const ConfigSpec& spec) {
  json::Object o;
  o.emplace_back("format", json::Value(kFormat));
  json::Array kernels;
  for (const auto& k : spec.kernels) {
    json::Object e;
    e.emplace_back("grid_block_sizes", int_array(k.grid_block_sizes));
    e.emplace_back("grid_extents", int64_array(k.grid_extents));
    e.emplace_back("full_extents", int64_array(k.full_extents));
    e.emplace_back("max_element_bytes", json::Value(k.max_element_bytes));
    e.emplace_back("has_dot", json::Value(k.has_dot));
    e.emplace_back("has_reduction", json::Value(k.has_reduction));
    e.emplace_back("has_inner_loop", json::Value(k.has_inner_loop));
    e.emplace_back("subtile_block_size_index", json::Value(k.subtile_block_size_index));
    e.emplace_back("subtile_fixed_block", json::Value(k.subtile_fixed_block));
    e.emplace_back("grid_range_entry", json::Value(k.grid_range_entry));
    e.emplace_back("l2_grouping_entry", json::Value(k.l2_grouping_entry));
    json::Array unknown;
    for (const auto& axes : k.unknown_extent_values) unknown.push_back(axes_to_json(axes));
    e.emplace_back("unknown_extent_values", json::Value(std::move(unknown)));
    json::Array dots;
    for (const auto& d : k.dots) {
      json::Object de;
      de.emplace_back("result", axes_to_json(d.result));
      de.emplace_back("loop", json::Value(d.loop));
      de.emplace_back("a", operand_to_json(d.a));
      de.emplace_back("b", operand_to_json(d.b));
      dots.push_back(json::Value(std::move(de)));
    }
    e.emplace_back("dots", json::Value(std::move(dots)));
    json::Array piped;
    for (const auto& l : k.pipelined_loads) {
      json::Object le;
      le.emplace_back("loop", json::Value(l.loop));
      le.emplace_back("load", json::Value(l.load));
      le.emplace_back("axes", axes_to_json(l.axes));
      le.emplace_back("element_bytes", json::Value(l.element_bytes));
      piped.push_back(json::Value(std::move(le)));
    }
    e.emplace_back("pipelined_loads", json::Value(std::move(piped)));
    kernels.push_back(json::Value(std::move(e)));
  }
  o.emplace_back("kernels", json::Value(std::move(kernels)));
  json::Array bs;
  for (const auto& b : spec.block_sizes) {
    json::Object e;
    e.emplace_back("min", json::Value(b.min));
    e.emplace_back("max", json::Value(b.max));
    e.emplace_back("origin", json::Value(b.origin));
    json::Array ext;
    for (const auto& x : b.extents) ext.push_back(symint_to_json(x));
    e.emplace_back("extents", json::Value(std::move(ext)));
    e.emplace_back("used_in_dot", json::Value(b.used_in_dot));
    e.emplace_back("is_reduction_like", json::Value(b.is_reduction_like));
    bs.push_back(json::Value(std::move(e)));
  }
  o.emplace_back("block_sizes", json::Value(std::move(bs)));
  json::Array rl;
  for (const auto& r : spec.reduction_loops) {
    json::Object e;
    e.emplace_back("extent", symint_to_json(r.extent));
    e.emplace_back("origin", json::Value(r.origin));
    rl.push_back(json::Value(std::move(e)));
  }
  o.emplace_back("reduction_loops", json::Value(std::move(rl)));
  o.emplace_back("loop_order_sizes", int_array(spec.loop_order_sizes));
  o.emplace_back("loop_order_kernels", int_array(spec.loop_order_kernels));
  o.emplace_back("l2_grouping_kernels", int_array(spec.l2_grouping_kernels));
  json::Array flat;
  for (bool b : spec.flatten_allowed) flat.push_back(json::Value(b));
  o.emplace_back("flatten_allowed", json::Value(std::move(flat)));
  json::Array multi;
  for (const auto& m : spec.multi_dim_loops) {
    json::Object e;
    e.emplace_back("kernel", json::Value(m.kernel));
    e.emplace_back("grid", json::Value(m.grid));
    e.emplace_back("first_dim", json::Value(m.first_dim));
    e.emplace_back("rank", json::Value(m.rank));
    e.emplace_back("loop_order_entry", json::Value(m.loop_order_entry));
    e.emplace_back("flatten_entry", json::Value(m.flatten_entry));
    e.emplace_back("flattenable", json::Value(m.flattenable));
    e.emplace_back("loads", int_array(m.loads));
    e.emplace_back("stores", int_array(m.stores));
    multi.push_back(json::Value(std::move(e)));
  }
  o.emplace_back("multi_dim_loops", json::Value(std::move(multi)));
  o.emplace_back("range_entries", json::Value(spec.range_entries));
  o.emplace_back("range_num_stages_off", json::Value(spec.range_num_stages_off));
  o.emplace_back("static_range_entries", json::Value(spec.static_range_entries));
  json::Array loops;
  for (const auto& l : spec.inner_loops) {
    json::Object e;
    e.emplace_back("kernel", json::Value(l.kernel));
    e.emplace_back("op_id", json::Value(l.op_id));
    e.emplace_back("dim", json::Value(l.dim));
    e.emplace_back("is_tile", json::Value(l.is_tile));
    e.emplace_back("trip_count", l.trip_count ? json::Value(*l.trip_count) : json::Value());
    e.emplace_back("extent", l.extent ? json::Value(*l.extent) : json::Value());
    e.emplace_back("fixed_block", l.fixed_block ? json::Value(*l.fixed_block) : json::Value());
    e.emplace_back("block_size_index", json::Value(l.block_size_index));
    e.emplace_back("range_entry", json::Value(l.range_entry));
    e.emplace_back("static_range_entry", json::Value(l.static_range_entry));
    e.emplace_back("contains_dot", json::Value(l.contains_dot));
    e.emplace_back("contains_loads", json::Value(l.contains_loads));
    loops.push_back(json::Value(std::move(e)));
  }
  o.emplace_back("inner_loops", json::Value(std::move(loops)));
  o.emplace_back("num_loads", json::Value(spec.num_loads));
  o.emplace_back("num_stores", json::Value(spec.num_stores));
  json::Array tun;
  for (const auto& t : spec.tunables) {
    json::Object e;
    e.emplace_back("name", json::Value(t.name));
    e.emplace_back("kind", json::Value(tunable_kind_name(t.kind)));
    e.emplace_back("low", json::Value(t.low));
    e.emplace_back("high", json::Value(t.high));
    json::Array ch;
    for (const auto& c : t.choices) ch.push_back(json::Value(c));
    e.emplace_back("choices", json::Value(std::move(ch)));
    e.emplace_back("default_repr", json::Value(t.default_repr));
    tun.push_back(json::Value(std::move(e)));
  }
  o.emplace_back("tunables", json::Value(std::move(tun)));
  o.emplace_back("has_dot", json::Value(spec.has_dot));
  o.emplace_back("has_reduction", json::Value(spec.has_reduction));
  o.emplace_back("max_grid_rank", json::Value(spec.max_grid_rank));
  o.emplace_back("barrier_phases", json::Value(spec.barrier_phases));
  o.emplace_back("data_dependent_grid", json::Value(spec.data_dependent_grid));
  o.emplace_back("kernel_load_offset", int_array(spec.kernel_load_offset));
  o.emplace_back("kernel_store_offset", int_array(spec.kernel_store_offset));
  o.emplace_back("loads_with_eviction_policy", int_array(spec.loads_with_eviction_policy));
  return json::Value(std::move(o));
}

ConfigSpec spec_from_json(const json::Value& v) {
  if (!v.is_object()) throw std::invalid_argument("a config spec must be a JSON object");
  if (string_or(v, "format", "") != kFormat) return spec_from_summary(v);
  ConfigSpec spec;
  for (const auto& e : v.at("kernels").as_array()) {
    KernelSummary k;
    k.grid_block_sizes = read_ints(e.find("grid_block_sizes"));
    k.grid_extents = read_int64s(e.find("grid_extents"));
    k.full_extents = read_int64s(e.find("full_extents"));
    k.max_element_bytes = static_cast<int>(int_or(e, "max_element_bytes", 4));
    k.has_dot = bool_or(e, "has_dot", false);
    k.has_reduction = bool_or(e, "has_reduction", false);
    k.has_inner_loop = bool_or(e, "has_inner_loop", false);
    k.subtile_block_size_index = static_cast<int>(int_or(e, "subtile_block_size_index", -1));
    k.subtile_fixed_block = int_or(e, "subtile_fixed_block", 0);
    k.grid_range_entry = static_cast<int>(int_or(e, "grid_range_entry", -1));
    k.l2_grouping_entry = static_cast<int>(int_or(e, "l2_grouping_entry", -1));
    if (const json::Value* u = e.find("unknown_extent_values"); u && u->is_array())
      for (const auto& axes : u->as_array()) k.unknown_extent_values.push_back(axes_from_json(&axes));
    if (const json::Value* dots = e.find("dots"); dots && dots->is_array())
      for (const auto& de : dots->as_array()) {
        DotSummary d;
        d.result = axes_from_json(de.find("result"));
        d.loop = static_cast<int>(int_or(de, "loop", -1));
        d.a = operand_from_json(de.find("a"));
        d.b = operand_from_json(de.find("b"));
        k.dots.push_back(std::move(d));
      }
    if (const json::Value* piped = e.find("pipelined_loads"); piped && piped->is_array())
      for (const auto& le : piped->as_array()) {
        PipelinedLoad l;
        l.loop = static_cast<int>(int_or(le, "loop", -1));
        l.load = static_cast<int>(int_or(le, "load", -1));
        l.axes = axes_from_json(le.find("axes"));
        l.element_bytes = static_cast<int>(int_or(le, "element_bytes", 2));
        k.pipelined_loads.push_back(std::move(l));
      }
    spec.kernels.push_back(std::move(k));
  }
  for (const auto& e : v.at("block_sizes").as_array()) {
    BlockSizeSpec b;
    b.min = int_or(e, "min", 1);
    b.min_allowed = b.min;  // (not serialized: a read spec accepts only its search range)
    b.max = int_or(e, "max", 1 << 30);
    b.origin = string_or(e, "origin", "");
    if (const json::Value* ext = e.find("extents"); ext && ext->is_array())
      for (const auto& x : ext->as_array()) b.extents.push_back(symint_from_json(x));
    b.used_in_dot = bool_or(e, "used_in_dot", false);
    b.is_reduction_like = bool_or(e, "is_reduction_like", false);
    spec.block_sizes.push_back(std::move(b));
  }
  for (const auto& e : v.at("reduction_loops").as_array()) {
    ReductionLoopSpec r;
    r.extent = symint_from_json(e.at("extent"));
    r.origin = string_or(e, "origin", "");
    spec.reduction_loops.push_back(std::move(r));
  }
  spec.loop_order_sizes = read_ints(v.find("loop_order_sizes"));
  spec.loop_order_kernels = read_ints(v.find("loop_order_kernels"));
  spec.l2_grouping_kernels = read_ints(v.find("l2_grouping_kernels"));
  if (const json::Value* f = v.find("flatten_allowed"); f && f->is_array())
    for (const auto& b : f->as_array()) spec.flatten_allowed.push_back(b.is_bool() && b.as_bool());
  if (const json::Value* multi = v.find("multi_dim_loops"); multi && multi->is_array())
    for (const auto& e : multi->as_array()) {
      MultiDimLoop m;
      m.kernel = static_cast<int>(int_or(e, "kernel", 0));
      m.grid = bool_or(e, "grid", false);
      m.first_dim = static_cast<int>(int_or(e, "first_dim", -1));
      m.rank = static_cast<int>(int_or(e, "rank", 2));
      m.loop_order_entry = static_cast<int>(int_or(e, "loop_order_entry", -1));
      m.flatten_entry = static_cast<int>(int_or(e, "flatten_entry", -1));
      m.flattenable = bool_or(e, "flattenable", false);
      m.loads = read_ints(e.find("loads"));
      m.stores = read_ints(e.find("stores"));
      spec.multi_dim_loops.push_back(m);
    }
  spec.range_entries = static_cast<int>(int_or(v, "range_entries", 0));
  spec.range_num_stages_off = bool_or(v, "range_num_stages_off", false);
  spec.static_range_entries = static_cast<int>(int_or(v, "static_range_entries", 0));
  for (const auto& e : v.at("inner_loops").as_array()) {
    InnerLoopInfo l;
    l.kernel = static_cast<int>(int_or(e, "kernel", 0));
    l.op_id = static_cast<int>(int_or(e, "op_id", -1));
    l.dim = static_cast<int>(int_or(e, "dim", -1));
    l.is_tile = bool_or(e, "is_tile", true);
    if (const json::Value* t = e.find("trip_count"); t && t->is_number()) l.trip_count = t->as_int();
    if (const json::Value* t = e.find("extent"); t && t->is_number()) l.extent = t->as_int();
    if (const json::Value* t = e.find("fixed_block"); t && t->is_number()) l.fixed_block = t->as_int();
    l.block_size_index = static_cast<int>(int_or(e, "block_size_index", -1));
    l.range_entry = static_cast<int>(int_or(e, "range_entry", -1));
    l.static_range_entry = static_cast<int>(int_or(e, "static_range_entry", -1));
    l.contains_dot = bool_or(e, "contains_dot", false);
    l.contains_loads = bool_or(e, "contains_loads", false);
    spec.inner_loops.push_back(l);
  }
  spec.num_loads = static_cast<int>(int_or(v, "num_loads", 0));
  spec.num_stores = static_cast<int>(int_or(v, "num_stores", 0));
  if (const json::Value* t = v.find("tunables"); t && t->is_array()) {
    for (const auto& e : t->as_array()) {
      TunableSpec ts;
      ts.name = string_or(e, "name", "");
      ts.kind = tunable_kind_from(string_or(e, "kind", "integer"));
      ts.low = int_or(e, "low", 0);
      ts.high = int_or(e, "high", 0);
      if (const json::Value* ch = e.find("choices"); ch && ch->is_array())
        for (const auto& c : ch->as_array()) ts.choices.push_back(c.as_string());
      ts.default_repr = string_or(e, "default_repr", "null");
      spec.tunables.push_back(std::move(ts));
    }
  }
  spec.has_dot = bool_or(v, "has_dot", false);
  spec.has_reduction = bool_or(v, "has_reduction", false);
  spec.max_grid_rank = static_cast<int>(int_or(v, "max_grid_rank", 1));
  spec.barrier_phases = bool_or(v, "barrier_phases", false);
  spec.data_dependent_grid = bool_or(v, "data_dependent_grid", false);
  spec.kernel_load_offset = read_ints(v.find("kernel_load_offset"));
  spec.kernel_store_offset = read_ints(v.find("kernel_store_offset"));
  spec.loads_with_eviction_policy = read_ints(v.find("loads_with_eviction_policy"));
  return spec;
}

json::Value device_to_json(const DeviceInfo& d) {
  json::Object o;
  o.emplace_back("name", json::Value(d.name));
  o.emplace_back("sm_count", json::Value(d.sm_count));
  o.emplace_back("compute_capability", json::Value(d.compute_capability));
  o.emplace_back("max_shared_memory", json::Value(d.max_shared_memory));
  o.emplace_back("max_threads_per_block", json::Value(d.max_threads_per_block));
  o.emplace_back("is_cuda", json::Value(d.is_cuda));
  o.emplace_back("triton_version", json::Value(d.triton_version));
  return json::Value(std::move(o));
}

DeviceInfo device_from_json(const json::Value& v) {
  DeviceInfo d;
  if (!v.is_object()) return d;
  d.name = string_or(v, "name", d.name);
  d.sm_count = static_cast<int>(int_or(v, "sm_count", d.sm_count));
  d.compute_capability = static_cast<int>(int_or(v, "compute_capability", d.compute_capability));
  d.max_shared_memory = int_or(v, "max_shared_memory", d.max_shared_memory);
  d.max_threads_per_block = static_cast<int>(int_or(v, "max_threads_per_block", d.max_threads_per_block));
  d.is_cuda = bool_or(v, "is_cuda", d.is_cuda);
  d.triton_version = static_cast<int>(int_or(v, "triton_version", d.triton_version));
  return d;
}

std::optional<json::Value> python_literal_to_json(const std::string& repr) {
  // Translate the Python spellings JSON lacks, outside of string literals.
  std::string out;
  for (size_t i = 0; i < repr.size();) {
    char c = repr[i];
    if (c == '\'' || c == '"') {
      char q = c;
      out += '"';
      ++i;
      while (i < repr.size() && repr[i] != q) {
        if (repr[i] == '\\' && i + 1 < repr.size()) {
          out += repr[i];
          out += repr[i + 1];
          i += 2;
          continue;
        }
        if (repr[i] == '"') out += '\\';
        out += repr[i++];
      }
      out += '"';
      ++i;
      continue;
    }
    auto word = [&](const char* w, const char* j) {
      size_t n = std::char_traits<char>::length(w);
      if (repr.compare(i, n, w) == 0) {
        out += j;
        i += n;
        return true;
      }
      return false;
    };
    if (word("True", "true") || word("False", "false") || word("None", "null")) continue;
    if (c == '(') c = '[';
    if (c == ')') c = ']';
    out += c;
    ++i;
  }
  try {
    return json::parse(out);
  } catch (const json::ParseError&) {
    return std::nullopt;
  }
}

}  // namespace deuteron::tune
