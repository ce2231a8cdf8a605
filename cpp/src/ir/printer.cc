// Textual form of the tile IR (for --dump=ir, pass logs and golden tests).
// ir/parser.cc reads it back: whatever a pass needs is printed, and what is
// left out is either derivable (op ids other than loops', the count of
// loads) or only cosmetic (columns of spans, name hints for generated code).
// Facts that are usually at their default are printed only when they are not
// (`index_dtype=i64`, a dim's `dynamic`, a loop's `bounds(...)`), so that the
// common text stays short.
#include <sstream>

#include "deuteron/ir.h"

namespace deuteron::ir {

const char* dtype_short(DType t) {
  switch (t) {
    case DType::Bool: return "i1";
    case DType::UInt8: return "u8";
    case DType::Int8: return "i8";
    case DType::Int16: return "i16";
    case DType::Int32: return "i32";
    case DType::Int64: return "i64";
    case DType::Float8E4M3: return "f8e4m3";
    case DType::Float8E5M2: return "f8e5m2";
    case DType::Float16: return "f16";
    case DType::BFloat16: return "bf16";
    case DType::Float32: return "f32";
    case DType::Float64: return "f64";
    case DType::UInt64: return "u64";
  }
  return "?";
}

namespace {

std::string literal_str(const Literal& l) {
  std::ostringstream os;
  switch (l.kind) {
    case Literal::Kind::Int: os << l.i; break;
    case Literal::Kind::Bool: os << (l.b ? "True" : "False"); break;
    case Literal::Kind::Float: os.precision(17); os << l.f; break;
  }
  return os.str();
}

// A C-style string literal: the assert message may hold quotes and newlines.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string sym_list(const std::vector<SymInt>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i].str();
  return s + "]";
}

class Printer {
 public:
  explicit Printer(const DeviceKernel& k) : k_(k) {}

  std::string run() {
    os_ << "kernel " << k_.name;
    // Counters the parser cannot derive from the ops: after dead-code
    // elimination the highest numbers may be gone.
    ImpliedCounters implied = implied_counters(k_);
    if (k_.index_dtype != DType::Int32) os_ << " index_dtype=" << dtype_short(k_.index_dtype);
    if (k_.next_value_id != implied.next_value_id) os_ << " next_value=" << k_.next_value_id;
    if (k_.num_loads != implied.num_loads) os_ << " loads=" << k_.num_loads;
    if (k_.num_stores != implied.num_stores) os_ << " stores=" << k_.num_stores;
    os_ << "\n";
    for (const auto& t : k_.tensors) {
      os_ << "  tensor " << t.name << ": " << dtype_short(t.dtype) << sym_list(t.sizes) << " strides "
          << sym_list(t.strides);
      if (t.read || t.written)
        os_ << " (" << (t.read ? "read" : "") << (t.read && t.written ? ", " : "") << (t.written ? "written" : "")
            << ")";
      os_ << "  = " << t.host_expr << "\n";
    }
    for (const auto& s : k_.scalars)
      os_ << "  scalar " << s.name << ": " << dtype_short(s.dtype) << " = " << s.host_expr << "\n";
    for (const auto& d : k_.dims) {
      os_ << "  dim d" << d.id << ": "
          << (d.kind == DimKind::Tile ? "tile" : d.kind == DimKind::Grid ? "grid" : "full");
      if (!d.name.empty()) os_ << " " << d.name;
      os_ << " [" << d.begin.str() << ", " << d.end.str() << ")";
      if (d.fixed_block_size) os_ << " block " << *d.fixed_block_size;
      // Only before lowering for a config (which resolves it).
      if (d.config_block_size) os_ << " config_block {" << d.config_block_size->str() << "}";
      if (d.block_size_index >= 0) os_ << " block_sizes[" << d.block_size_index << "]";
      if (d.reduction_index >= 0) os_ << " reduction_loops[" << d.reduction_index << "]";
      if (d.loop_id >= 0) os_ << " loop #" << d.loop_id;
      if (d.subtile_of >= 0) os_ << " subtile of d" << d.subtile_of << " +" << d.subtile_offset;
      if (d.dynamic_bounds) os_ << " dynamic";
      if (d.static_range_ok) os_ << " static_range_ok";
      if (d.merged()) {
        os_ << " merges";
        for (size_t i = 0; i < d.factors.size(); ++i) os_ << (i ? " * d" : " d") << d.factors[i];
      }
      os_ << "\n";
    }
    os_ << "  grid:";
    for (size_t i = 0; i < k_.grid_dims.size(); ++i) os_ << (i ? ", d" : " d") << k_.grid_dims[i];
    os_ << "\n";
    for (const auto& nest : k_.nests) {
      os_ << "  nest:";
      for (size_t i = 0; i < nest.size(); ++i) os_ << (i ? ", d" : " d") << nest[i];
      os_ << "\n";
    }
    region(k_.body, 1);
    return os_.str();
  }

 private:
  void indent(int n) {
    for (int i = 0; i < n; ++i) os_ << "  ";
  }

  static std::string v(const Value* val) { return "%" + std::to_string(val->id); }

  std::string index_str(const Op& op) {
    std::string s = k_.tensors.at(op.attrs.tensor).name + "[";
    for (size_t i = 0; i < op.attrs.index.size(); ++i) {
      const IndexSpec& ix = op.attrs.index[i];
      if (i) s += ", ";
      switch (ix.kind) {
        case IndexSpec::Kind::TileDim:
          s += "d" + std::to_string(ix.dim);
          if (!(ix.offset.is_constant() && ix.offset.constant() == 0)) s += " + " + ix.offset.str();
          break;
        case IndexSpec::Kind::Scalar:
        case IndexSpec::Kind::Tensor: s += v(op.operands.at(ix.operand)); break;
        case IndexSpec::Kind::NewAxis: s += "None"; break;
        case IndexSpec::Kind::Stack: s += "stack " + v(op.operands.at(ix.operand)); break;
      }
    }
    s += "]";
    if (op.attrs.broadcast_index) s += " broadcast";
    if (op.attrs.extra_mask >= 0) s += " mask " + v(op.operands.at(op.attrs.extra_mask));
    if (op.attrs.mask_elided) s += " unmasked";
    return s;
  }

  void op_line(const Op& op, int depth) {
    indent(depth);
    if (!op.results.empty()) {
      for (size_t i = 0; i < op.results.size(); ++i) os_ << (i ? ", " : "") << v(op.results[i].get());
      os_ << " = ";
    }
    os_ << name(op.kind);
    switch (op.kind) {
      case OpKind::Constant:
      case OpKind::Full: os_ << " " << literal_str(op.attrs.literal); break;
      case OpKind::ScalarParam: os_ << " " << k_.scalars.at(op.attrs.param).name; break;
      case OpKind::SymValue: os_ << " " << op.attrs.sym.str(); break;
      case OpKind::TileIndex:
      case OpKind::TileBegin:
      case OpKind::TileEnd:
      case OpKind::TileBlockSize:
      case OpKind::TileId:
      case OpKind::TileCount:
      case OpKind::TileMask:
      case OpKind::Arange: os_ << " d" << op.attrs.dim; break;
      case OpKind::Load:
        os_ << " " << index_str(op);
        if (!op.attrs.eviction_policy.empty()) os_ << " evict " << op.attrs.eviction_policy;
        os_ << " #" << op.attrs.memory_op;
        break;
      case OpKind::Store: {
        os_ << " " << index_str(op) << ", ";
        // the stored value is the first operand not used as an index or mask
        os_ << v(op.operands.at(op.attrs.value_operand)) << " #" << op.attrs.memory_op;
        break;
      }
      case OpKind::AtomicRMW:
        os_ << " " << name(op.attrs.atomic) << " " << index_str(op) << ", "
            << v(op.operands.at(op.attrs.value_operand));
        if (op.attrs.expected_operand >= 0) os_ << " expected " << v(op.operands.at(op.attrs.expected_operand));
        os_ << " sem " << op.attrs.atomic_sem;
        break;
      case OpKind::RngSeed: os_ << " " << k_.tensors.at(op.attrs.tensor).name << "[" << op.attrs.seed_slot << "]"; break;
      case OpKind::Random: os_ << " " << name(op.attrs.random); break;
      case OpKind::Unary: os_ << " " << name(op.attrs.unary); break;
      case OpKind::Binary: os_ << " " << name(op.attrs.binary); break;
      case OpKind::Cast:
        if (op.attrs.bitcast) os_ << " bitcast";
        if (op.attrs.opmath) os_ << " opmath";
        break;
      case OpKind::ExpandDims:
      case OpKind::Squeeze:
      case OpKind::BlockLanes: os_ << " axis " << op.attrs.axis; break;
      case OpKind::Permute: {
        os_ << " [";
        for (size_t i = 0; i < op.attrs.perm.size(); ++i) os_ << (i ? ", " : "") << op.attrs.perm[i];
        os_ << "]";
        break;
      }
      case OpKind::Reduce:
        os_ << " " << name(op.attrs.reduce) << " axis " << op.attrs.axis << (op.attrs.keepdim ? " keepdim" : "")
            << (op.attrs.mask_elided ? " unmasked" : "");
        break;
      case OpKind::Scan:
        if (op.regions.empty())
          os_ << " " << name(op.attrs.reduce);
        else
          os_ << " fn " << op.attrs.combine_fn;
        os_ << " axis " << op.attrs.axis << (op.attrs.reverse ? " reverse" : "");
        break;
      case OpKind::Gather: os_ << " axis " << op.attrs.axis; break;
      case OpKind::Sort:
        os_ << " axis " << op.attrs.axis << (op.attrs.reverse ? " descending" : "");
        if (op.attrs.sort_k > 0) os_ << " k " << op.attrs.sort_k;
        break;
      case OpKind::CombineReduce:
        os_ << " fn " << op.attrs.combine_fn << " axis " << op.attrs.axis << (op.attrs.keepdim ? " keepdim" : "");
        if (!op.attrs.other.empty()) {
          os_ << " other (";
          for (size_t i = 0; i < op.attrs.other.size(); ++i) os_ << (i ? ", " : "") << literal_str(op.attrs.other[i]);
          os_ << ")";
        }
        break;
      case OpKind::Dot:
        if (op.attrs.dot_out_dtype) os_ << " out " << dtype_short(*op.attrs.dot_out_dtype);
        if (!op.attrs.dot_precision.empty()) os_ << " precision " << op.attrs.dot_precision;
        break;
      case OpKind::For: os_ << " d" << op.attrs.dim << " #" << op.id; break;
      case OpKind::Assert:
      case OpKind::Print:
      case OpKind::InlineTriton: os_ << " " << quoted(op.attrs.message); break;
      default: break;
    }
    bool memory = op.kind == OpKind::Load || op.kind == OpKind::Store || op.kind == OpKind::AtomicRMW;
    if (!memory && op.kind != OpKind::For && !op.operands.empty()) {
      os_ << " ";
      for (size_t i = 0; i < op.operands.size(); ++i) os_ << (i ? ", " : "") << v(op.operands[i]);
    }
    if (op.kind == OpKind::For) {
      // Device-computed bounds (`hl.tile(0, tile_m.end)`) come first.
      size_t first_iter = op.attrs.dynamic_bounds ? 2 : 0;
      if (op.attrs.dynamic_bounds && op.operands.size() >= 2)
        os_ << " bounds(" << v(op.operands[0]) << ", " << v(op.operands[1]) << ")";
      if (op.operands.size() > first_iter) {
        os_ << " iter(";
        for (size_t i = first_iter; i < op.operands.size(); ++i)
          os_ << (i > first_iter ? ", " : "") << v(op.operands[i]);
        os_ << ")";
      }
    }
    if (!op.results.empty()) {
      os_ << " : ";
      for (size_t i = 0; i < op.results.size(); ++i) os_ << (i ? ", " : "") << type_str(op.results[i]->type);
    }
    if (op.span.valid()) os_ << "  # line " << op.span.line;
    os_ << "\n";
    for (size_t ri = 0; ri < op.regions.size(); ++ri) {
      const Region& r = *op.regions[ri];
      indent(depth + 1);
      os_ << (op.kind == OpKind::If ? (ri == 0 ? "then" : "else") : has_combine_region(op) ? "combine" : "body");
      if (!r.args.empty()) {
        os_ << "(";
        for (size_t i = 0; i < r.args.size(); ++i)
          os_ << (i ? ", " : "") << v(r.args[i].get()) << ": " << type_str(r.args[i]->type);
        os_ << ")";
      }
      os_ << ":\n";
      region(r, depth + 2);
    }
  }

  void region(const Region& r, int depth) {
    for (const auto& op : r.ops) op_line(*op, depth);
  }

  const DeviceKernel& k_;
  std::ostringstream os_;
};

}  // namespace

std::string type_str(const Type& t) {
  std::string s = dtype_short(t.dtype);
  if (t.dims.empty()) return s;
  s += "[";
  for (size_t i = 0; i < t.dims.size(); ++i)
    s += (i ? ", " : "") + (t.dims[i] == kBroadcast ? std::string("1") : "d" + std::to_string(t.dims[i]));
  return s + "]";
}

std::string print(const DeviceKernel& k) { return Printer(k).run(); }

}  // namespace deuteron::ir
