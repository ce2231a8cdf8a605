// Forward values of the device loop written back as kernel source: one
// statement per IR op, in the IR's order, written when the backward first
// needs the value (so ops no gradient needs are left out, and an op the
// writer cannot spell is an error only where it matters).
#include <cmath>
#include <cstdio>

#include "backward.h"

namespace deuteron::autodiff {

std::string literal_text(const ir::Literal& l) {
  switch (l.kind) {
    case ir::Literal::Kind::Bool: return l.b ? "True" : "False";
    case ir::Literal::Kind::Int: return std::to_string(l.i);
    case ir::Literal::Kind::Float: {
      if (std::isnan(l.f)) return "float('nan')";
      if (std::isinf(l.f)) return l.f > 0 ? "float('inf')" : "float('-inf')";
      char buf[64];
      // The shortest text that reads back as the same double.
      for (int prec = 1; prec <= 17; ++prec) {
        std::snprintf(buf, sizeof buf, "%.*g", prec, l.f);
        if (std::strtod(buf, nullptr) == l.f) break;
      }
      std::string s = buf;
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
      return s;
    }
  }
  return "0";
}

std::string dtype_text(DType t) { return std::string("torch.") + torch_name(t); }

namespace {

// A size the backward writes as a number: the bound kernel's value (the
// backward is specialized like the forward's shapes).
std::string size_text(const SymInt& s) {
  if (auto c = s.as_constant()) return std::to_string(*c);
  if (auto h = s.hint()) return std::to_string(*h);
  return "";
}

const char* unary_function(ir::UnaryFn f) {
  using U = ir::UnaryFn;
  switch (f) {
    case U::Abs: return "torch.abs";
    case U::Exp: return "torch.exp";
    case U::Exp2: return "torch.exp2";
    case U::Log: return "torch.log";
    case U::Log2: return "torch.log2";
    case U::Log1p: return "torch.log1p";
    case U::Expm1: return "torch.expm1";
    case U::Sqrt: return "torch.sqrt";
    case U::Rsqrt: return "torch.rsqrt";
    case U::Sin: return "torch.sin";
    case U::Cos: return "torch.cos";
    case U::Tan: return "torch.tan";
    case U::Tanh: return "torch.tanh";
    case U::Sigmoid: return "torch.sigmoid";
    case U::Erf: return "torch.erf";
    case U::Floor: return "torch.floor";
    case U::Ceil: return "torch.ceil";
    case U::Trunc: return "torch.trunc";
    case U::Round: return "torch.round";
    case U::Reciprocal: return "torch.reciprocal";
    case U::Relu: return "torch.relu";
    case U::Sign: return "torch.sign";
    case U::IsNan: return "torch.isnan";
    case U::IsInf: return "torch.isinf";
    case U::IsFinite: return "torch.isfinite";
    case U::Asin: return "torch.asin";
    case U::Acos: return "torch.acos";
    case U::Atan: return "torch.atan";
    case U::Sinh: return "torch.sinh";
    case U::Cosh: return "torch.cosh";
    case U::Asinh: return "torch.asinh";
    case U::Acosh: return "torch.acosh";
    case U::Atanh: return "torch.atanh";
    case U::Not: return "torch.logical_not";
    case U::Neg:
    case U::Invert: return nullptr;  // operators
  }
  return nullptr;
}

// Infix operators; nullptr for those written as torch functions.
const char* binary_operator(ir::BinaryFn f) {
  using B = ir::BinaryFn;
  switch (f) {
    case B::Add: return "+";
    case B::Sub: return "-";
    case B::Mul: return "*";
    case B::TrueDiv: return "/";
    case B::FloorDiv: return "//";
    case B::Mod: return "%";
    case B::Pow: return "**";
    case B::BitAnd: return "&";
    case B::BitOr: return "|";
    case B::BitXor: return "^";
    case B::LShift: return "<<";
    case B::RShift: return ">>";
    case B::Eq: return "==";
    case B::Ne: return "!=";
    case B::Lt: return "<";
    case B::Le: return "<=";
    case B::Gt: return ">";
    case B::Ge: return ">=";
    default: return nullptr;
  }
}

const char* binary_function(ir::BinaryFn f) {
  using B = ir::BinaryFn;
  switch (f) {
    case B::Maximum: return "torch.maximum";
    case B::Minimum: return "torch.minimum";
    case B::LogicalAnd: return "torch.logical_and";
    case B::LogicalOr: return "torch.logical_or";
    case B::Atan2: return "torch.atan2";
    case B::CopySign: return "torch.copysign";
    default: return nullptr;
  }
}

}  // namespace

std::string Writer::fresh(const std::string& hint) {
  std::string base = hint.empty() ? "v" : hint;
  for (int i = 0;; ++i) {
    std::string n = base + "_" + std::to_string(i);
    if (!used_->count(n)) {
      used_->insert(n);
      return n;
    }
  }
}

std::string Writer::bind(const std::string& text, const std::string& hint) {
  std::string n = fresh(hint);
  backward.push_back(n + " = " + text);
  return n;
}

std::string Writer::shape_text(const std::vector<int>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    int d = dims[i];
    if (d == ir::kBroadcast) {
      s += "1";
    } else if (plan_.kernel->dim(d).kind == ir::DimKind::Full) {
      s += size_text(plan_.kernel->dim(d).extent());
    } else {
      s += plan_.dim_names.at(d);
    }
  }
  return s + "]";
}

std::string Writer::index_text(const ir::Op& op) {
  const ir::DeviceKernel& k = *plan_.kernel;
  const ir::TensorParam& tp = k.tensors.at(op.attrs.tensor);
  std::string s = "[";
  size_t tensor_dim = 0;
  for (size_t i = 0; i < op.attrs.index.size(); ++i) {
    const ir::IndexSpec& ix = op.attrs.index[i];
    if (i) s += ", ";
    switch (ix.kind) {
      case ir::IndexSpec::Kind::NewAxis: s += "None"; continue;
      case ir::IndexSpec::Kind::Scalar: s += value(op.operands.at(ix.operand)); break;
      case ir::IndexSpec::Kind::Tensor: unsupported(plan_, op.span, "indexing with a tensor of indices");
      case ir::IndexSpec::Kind::Stack: unsupported(plan_, op.span, "StackTensor accesses (hl.stacktensor_like)");
      case ir::IndexSpec::Kind::TileDim: {
        const ir::Dim& d = k.dim(ix.dim);
        if (!ix.offset.same_as(SymInt(0))) unsupported(plan_, op.span, "an index shifted by a constant");
        if (d.kind == ir::DimKind::Full) {
          bool whole = d.begin.same_as(SymInt(0)) && tensor_dim < tp.sizes.size() && d.end.same_as(tp.sizes[tensor_dim]);
          auto loop = plan_.whole_loops.find(ix.dim);
          if (!whole && loop != plan_.whole_loops.end()) {
            // An inner loop evaluated whole reads `:`: its range must be the
            // tensor's whole dim (at the sizes the backward is specialized on).
            std::string size = tensor_dim < tp.sizes.size() ? size_text(tp.sizes[tensor_dim]) : "";
            if (size.empty() || size != size_text(d.end))
              unsupported(plan_, op.span, "an access of '" + tp.host_expr + "' in the inner loop of line " +
                                              std::to_string(loop->second.line) + " (evaluated whole, over 0.." +
                                              size_text(d.end) + ") that does not cover the tensor's whole dim (" +
                                              (size.empty() ? "?" : size) + ")");
            whole = true;
          }
          if (!whole) unsupported(plan_, op.span, "a slice that is not a whole dimension");
          s += ":";
        } else if (plan_.dim_names.at(ix.dim).empty()) {
          unsupported(plan_, op.span, "an access inside an inner loop");
        } else {
          s += plan_.dim_names.at(ix.dim);
        }
        break;
      }
    }
    ++tensor_dim;
  }
  return s + "]";
}

bool defined_in(const ir::Value* v, const ir::Region* r) {
  return v->def ? v->def->parent == r : v->owner == r;
}

std::string Writer::value(const ir::Value* v) {
  auto it = names_.find(v);
  if (it != names_.end()) return it->second;
  if (outer_ && !defined_in(v, region_)) return outer_->value(v);
  if (!v->def) unsupported(plan_, plan_.kernel->span, "a value carried by an inner loop");
  const ir::Op& op = *v->def;
  if (auto f = plan_.forwarded.find(&op); f != plan_.forwarded.end()) {
    // A load of what the loop stored before: the stored value itself.
    return names_[v] = value(f->second);
  }
  if (op.kind == ir::OpKind::For) {
    write_loop(op);
    return names_.at(v);
  }
  if (op.results.size() != 1) unsupported(plan_, op.span, std::string("the op '") + ir::name(op.kind) + "'");
  std::string text = emit_forward(op);
  // Literals and names are used as they are; anything else gets a variable.
  bool simple = op.kind == ir::OpKind::Constant || op.kind == ir::OpKind::SymValue ||
                op.kind == ir::OpKind::ScalarParam;
  if (!simple) {
    std::string n = fresh(v->name_hint.empty() ? "v" : v->name_hint);
    forward.push_back(n + " = " + text + "  # line " + std::to_string(op.span.line));
    text = n;
  }
  names_[v] = text;
  return text;
}

// An inner loop recomputed (its results are needed, e.g. a matmul's before
// the ops after it): the carried values as variables the body reassigns.
void Writer::write_loop(const ir::Op& op) {
  if (op.attrs.dynamic_bounds || op.regions.size() != 1)
    unsupported(plan_, op.span, "recomputing this loop");
  const ir::Region& body = *op.regions[0];
  const ir::Op& yield = *body.ops.back();
  Writer inner(plan_, *this, body);
  std::vector<std::string> carried;
  for (size_t j = 0; j < op.results.size(); ++j) {
    const ir::Value* r = op.result(static_cast<int>(j));
    std::string init = value(op.operands.at(j));
    std::string n = fresh(r->name_hint.empty() ? "acc" : r->name_hint);
    forward.push_back(n + " = " + init);
    carried.push_back(n);
    inner.names_[body.args.at(j).get()] = n;
  }
  std::vector<std::string> next;
  for (size_t j = 0; j < op.results.size(); ++j) next.push_back(inner.value(yield.operands.at(j)));
  if (!inner.backward.empty()) unsupported(plan_, op.span, "recomputing this loop");
  forward.push_back(loop_header(plan_, {op.attrs.dim}, op.span) + "  # line " + std::to_string(op.span.line));
  for (const auto& l : inner.forward) forward.push_back("    " + l);
  for (size_t j = 0; j < carried.size(); ++j) forward.push_back("    " + carried[j] + " = " + next[j]);
  for (size_t j = 0; j < carried.size(); ++j) names_[op.result(static_cast<int>(j))] = carried[j];
}

std::string Writer::emit_forward(const ir::Op& op) {
  using K = ir::OpKind;
  const ir::DeviceKernel& k = *plan_.kernel;
  auto arg = [&](int i) { return value(op.operands.at(i)); };
  const ir::Type& rt = op.results.at(0)->type;
  switch (op.kind) {
    case K::Constant: return literal_text(op.attrs.literal);
    case K::SymValue: {
      std::string s = size_text(op.attrs.sym);
      if (s.empty()) unsupported(plan_, op.span, "a size without a known value");
      return s;
    }
    case K::ScalarParam: {
      const ir::ScalarParam& sp = k.scalars.at(op.attrs.param);
      for (const auto& p : plan_.params)
        if (p == sp.host_expr) return p;
      unsupported(plan_, op.span, "the scalar '" + sp.host_expr + "' that host code computes");
    }
    case K::Full:
      return "hl.full(" + shape_text(rt.dims) + ", " + literal_text(op.attrs.literal) + ", dtype=" +
             dtype_text(rt.dtype) + ")";
    case K::TileIndex:
    case K::TileBegin:
    case K::TileEnd:
    case K::TileBlockSize:
    case K::TileId: {
      int d = op.attrs.dim;
      // The indices of an inner loop evaluated whole: every index of its dim.
      if (op.kind == K::TileIndex && d >= 0 && plan_.whole_loops.count(d))
        return "hl.arange(" + size_text(k.dim(d).end) + ")";
      if (d < 0 || plan_.dim_names.at(d).empty()) unsupported(plan_, op.span, "tile attributes of an inner loop");
      const char* attr = op.kind == K::TileIndex ? "index" : op.kind == K::TileBegin ? "begin"
                         : op.kind == K::TileEnd ? "end" : op.kind == K::TileBlockSize ? "block_size" : "id";
      if (k.dim(d).kind == ir::DimKind::Grid) {
        if (op.kind != K::TileBegin) unsupported(plan_, op.span, "this attribute of a grid index");
        return plan_.dim_names[d];
      }
      return plan_.dim_names[d] + "." + attr;
    }
    case K::Load: {
      const TensorRole& r = plan_.tensors.at(op.attrs.tensor);
      if (r.role != Role::Input)
        unsupported(plan_, op.span, "reading '" + k.tensors[op.attrs.tensor].host_expr +
                                        "' before the loop stores it (the backward has no such buffer)");
      if (op.attrs.extra_mask >= 0) unsupported(plan_, op.span, "a load with a mask");
      return r.read_name(plan_.params) + index_text(op);
    }
    case K::Unary: {
      const char* fn = unary_function(op.attrs.unary);
      if (fn) return std::string(fn) + "(" + arg(0) + ")";
      return std::string(op.attrs.unary == ir::UnaryFn::Neg ? "-" : "~") + arg(0);
    }
    case K::Binary: {
      if (const char* o = binary_operator(op.attrs.binary)) return "(" + arg(0) + " " + o + " " + arg(1) + ")";
      return std::string(binary_function(op.attrs.binary)) + "(" + arg(0) + ", " + arg(1) + ")";
    }
    case K::Where: return "torch.where(" + arg(0) + ", " + arg(1) + ", " + arg(2) + ")";
    case K::Cast:
      if (op.attrs.bitcast) unsupported(plan_, op.span, "a bitcast");
      return arg(0) + ".to(" + dtype_text(rt.dtype) + ")";
    case K::ExpandDims: return arg(0) + ".unsqueeze(" + std::to_string(op.attrs.axis) + ")";
    case K::Squeeze: return arg(0) + ".squeeze(" + std::to_string(op.attrs.axis) + ")";
    case K::BroadcastTo: return arg(0) + ".expand(" + shape_text(rt.dims) + ")";
    case K::Permute: {
      std::string s = arg(0) + ".permute(";
      for (size_t i = 0; i < op.attrs.perm.size(); ++i) s += (i ? ", " : "") + std::to_string(op.attrs.perm[i]);
      return s + ")";
    }
    case K::Dot: {
      std::string s = "hl.dot(" + arg(0) + ", " + arg(1);
      if (op.operands.size() > 2) s += ", acc=" + arg(2);
      if (op.attrs.dot_out_dtype) s += ", out_dtype=" + dtype_text(*op.attrs.dot_out_dtype);
      return s + ")";
    }
    case K::Reduce: {
      const char* fn = nullptr;
      switch (op.attrs.reduce) {
        case ir::ReduceFn::Sum: fn = "torch.sum"; break;
        case ir::ReduceFn::Prod: fn = "torch.prod"; break;
        case ir::ReduceFn::Max: fn = "torch.amax"; break;
        case ir::ReduceFn::Min: fn = "torch.amin"; break;
        case ir::ReduceFn::ArgMax: fn = "torch.argmax"; break;
        case ir::ReduceFn::ArgMin: fn = "torch.argmin"; break;
        default: unsupported(plan_, op.span, std::string("the reduction '") + ir::name(op.attrs.reduce) + "'");
      }
      return std::string(fn) + "(" + arg(0) + ", " + std::to_string(op.attrs.axis) +
             (op.attrs.keepdim ? ", keepdim=True)" : ")");
    }
    default: break;
  }
  unsupported(plan_, op.span, std::string("the op '") + ir::name(op.kind) + "'");
}

}  // namespace deuteron::autodiff
