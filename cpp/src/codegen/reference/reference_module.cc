// The reference back end: each device loop becomes a Python function that
// runs the kernel body in PyTorch eager, one tile after another.  Tiles at the
// boundary are simply shorter, so no masks are needed; the IR's explicit casts
// reproduce the Triton kernel's arithmetic types.
#include <algorithm>
#include <map>
#include <set>

#include "../host_wrapper.h"
#include "../python_writer.h"
#include "deuteron/codegen.h"

namespace deuteron {

namespace {

using codegen::PythonWriter;
using ir::DimKind;
using ir::OpKind;

std::string torch_dtype(DType t) { return std::string("torch.") + torch_name(t); }

// Two whole dims of different lengths on one axis of an op's operand and
// result: n lanes meeting next_power_of_2(n) (sema/ir_gen.h: whole_dims_meet).
bool padded_pair(const ir::DeviceKernel& k, int a, int b) {
  if (a == ir::kBroadcast || b == ir::kBroadcast || a == b) return false;
  const ir::Dim& x = k.dim(a);
  const ir::Dim& y = k.dim(b);
  return x.kind == DimKind::Full && y.kind == DimKind::Full && !x.merged() && !y.merged() &&
         !x.extent().same_as(y.extent());
}

// A Reshape that only renames one axis to another dim with as many lanes in
// the Triton code (a contraction lane by lane, ir_gen.cc's dot): that axis,
// else -1.
int renamed_axis(const ir::Op& op) {
  if (op.kind != OpKind::Reshape) return -1;
  const auto& from = op.operands[0]->type.dims;
  const auto& to = op.result()->type.dims;
  if (from.size() != to.size()) return -1;
  int renamed = -1, differ = 0;
  for (size_t i = 0; i < to.size(); ++i)
    if (from[i] != to[i]) {
      ++differ;
      renamed = static_cast<int>(i);
    }
  return differ == 1 && from[renamed] != ir::kBroadcast && to[renamed] != ir::kBroadcast ? renamed : -1;
}

// Whether the module needs _deuteron_fit: an axis whose length in the
// reference differs from the other side's, though Triton has the same lanes.
bool needs_fit(const ir::DeviceKernel& k) {
  bool any = false;
  ir::walk(k.body, [&](const ir::Op& op) {
    if (op.kind == OpKind::BlockLanes || renamed_axis(op) >= 0) {
      any = true;
      return;
    }
    if (op.kind != OpKind::Binary && op.kind != OpKind::Where && op.kind != OpKind::BroadcastTo) return;
    const auto& rd = op.result()->type.dims;
    for (const ir::Value* v : op.operands) {
      const auto& vd = v->type.dims;
      for (size_t i = 1; i <= std::min(vd.size(), rd.size()); ++i)
        any |= padded_pair(k, vd[vd.size() - i], rd[rd.size() - i]);
    }
  });
  return any;
}

class ReferenceEmitter {
 public:
  ReferenceEmitter(PythonWriter& w, const Program& p, const ir::DeviceKernel& k, const analysis::KernelConfig& config)
      : w_(w), program_(p), k_(k), plan_(config) {}

  // Returns the launch call for the host wrapper.
  std::string run() {
    std::set<std::string> syms;
    auto add = [&](const SymInt& s) {
      for (const auto& n : s.symbols())
        if (!plan_.config_symbol_name(n)) syms.insert(n);
    };
    for (const auto& d : k_.dims) { add(d.begin); add(d.end); }
    ir::walk(k_.body, [&](const ir::Op& op) {
      if (op.kind == OpKind::SymValue) add(op.attrs.sym);
      for (const auto& ix : op.attrs.index) add(ix.offset);
      // A load with a mask of its own clamps its indices to the tensor's sizes (index_tuple).
      if (op.kind == OpKind::Load && op.attrs.extra_mask >= 0)
        for (const auto& size : k_.tensors.at(op.attrs.tensor).sizes) add(size);
    });
    std::vector<std::string> params, args;
    for (const auto& t : k_.tensors) { params.push_back(safe(t.name)); args.push_back(t.host_expr); }
    for (const auto& s : syms) { params.push_back(s); args.push_back(s); }
    for (const auto& s : k_.scalars) { params.push_back(safe(s.name)); args.push_back(s.host_expr); }
    std::string fname = k_.name + "_reference";
    std::string sig = "def " + fname + "(";
    for (size_t i = 0; i < params.size(); ++i) sig += (i ? ", " : "") + params[i];
    w_.line(sig + "):");
    w_.indent();
    w_.line("_device = " + (k_.tensors.empty() ? std::string("'cpu'") : safe(k_.tensors[0].name) + ".device"));
    emit_combine_functions();
    // Full dims cover their whole extent.
    for (const auto& d : k_.dims)
      if (d.kind == DimKind::Full && !d.merged())  // a merged dim's length is its factors' (shape())
        w_.line(idx(d.id) + " = torch.arange(0, " + sym(d.extent()) + ", device=_device)");
    emit_grid(0);
    w_.set_span({});
    w_.dedent();
    std::string call = fname + "(";
    for (size_t i = 0; i < args.size(); ++i) call += (i ? ", " : "") + args[i];
    return call + ")";
  }

 private:
  static std::string safe(const std::string& n) {
    std::string o;
    for (char c : n) o += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
    return o;
  }
  std::string idx(int d) const { return "indices_" + std::to_string(d); }
  std::string off(int d) const { return "offset_" + std::to_string(d); }
  std::string sym(const SymInt& s) const {
    return s.str([&](const std::string& n) -> std::string {
      if (auto v = plan_.config_symbol(n)) return *v;
      return n;
    });
  }
  int64_t block(int d) const { return plan_.block_of(k_.dim(d)); }

  void open_dim_loop(int d) {
    const ir::Dim& dim = k_.dim(d);
    if (dim.kind == DimKind::Grid) {
      w_.line("for " + off(d) + " in range(" + sym(dim.begin) + ", " + sym(dim.end) + "):");
      w_.indent();
      return;
    }
    w_.line("for " + off(d) + " in range(" + sym(dim.begin) + ", " + sym(dim.end) + ", " + std::to_string(block(d)) + "):");
    w_.indent();
    w_.line(idx(d) + " = torch.arange(" + off(d) + ", min(" + off(d) + " + " + std::to_string(block(d)) + ", " +
            sym(dim.end) + "), device=_device)");
  }

  // The user's combine functions, as functions of torch tensors (elementwise,
  // like the IR's scalar ops), defined once per scan or reduction.
  void emit_combine_functions() {
    std::map<std::string, int> count;
    ir::walk(k_.body, [&](const ir::Op& op) {
      if (!ir::has_combine_region(op)) return;
      const ir::Region& r = *op.regions[0];
      std::string fn = safe(op.attrs.combine_fn) + "_" + std::to_string(count[op.attrs.combine_fn]++);
      combine_names_[&op] = fn;
      std::set<std::string> taken;
      std::string params;
      for (const auto& a : r.args) {
        std::string n = a->name_hint.empty() ? "" : safe(a->name_hint);
        if (n.empty() || taken.count(n)) n = "v_" + std::to_string(a->id);
        taken.insert(n);
        names_[a.get()] = n;
        params += (params.empty() ? "" : ", ") + n;
      }
      w_.line("def " + fn + "(" + params + "):");
      w_.indent();
      emit_region(r);
      const ir::Op& y = *r.ops.back();
      std::string ret;
      for (const ir::Value* v : y.operands) ret += t(v) + ", ";
      w_.line("return (" + ret.substr(0, ret.size() - 1) + ")");
      w_.dedent();
    });
  }

  void emit_grid(size_t i) {
    if (i == k_.grid_dims.size()) {
      emit_region(k_.body);
      return;
    }
    open_dim_loop(k_.grid_dims[i]);
    emit_grid(i + 1);
    w_.dedent();
  }

  std::string name(const ir::Value* v) {
    auto it = names_.find(v);
    if (it != names_.end()) return it->second;
    std::string base = v->name_hint.empty() ? "v" : safe(v->name_hint);
    // A user's variable named like the generated per-dim names (`indices` from
    // torch.topk gives indices_<id>; a dim's lanes are indices_<dim>) gets a
    // trailing '_' so that the two never share a name.
    if (base == "indices" || base == "offset") base += "_";
    std::string n = base + "_" + std::to_string(v->id);
    names_[v] = n;
    return n;
  }
  void assign(const ir::Op& op, const std::string& e) { w_.line(name(op.result()) + " = " + e); }

  // The actual length of a dim here: a merged dim's is its factors' product
  // (the reference has no padding lanes: a partial tile is its own length).
  std::string length(int d) const {
    const ir::Dim& dim = k_.dim(d);
    if (!dim.merged()) return idx(d) + ".numel()";
    std::string p;
    for (int f : dim.factors) p += (p.empty() ? "" : " * ") + length(f);
    return p;
  }

  // The torch shape of a value (actual lengths of its dims).
  std::string shape(const std::vector<int>& dims) {
    std::string s = "(";
    for (size_t i = 0; i < dims.size(); ++i) {
      s += dims[i] == ir::kBroadcast ? "1" : length(dims[i]);
      s += dims.size() == 1 ? "," : (i + 1 < dims.size() ? ", " : "");
    }
    return s + ")";
  }

  // `e` has axes `src`; view it with the axes of `dst` (size-1 elsewhere).
  std::string place(const std::string& e, const std::vector<int>& src, const std::vector<int>& dst) {
    // (An index tensor of a broadcast index has the access's rank already.)
    if (src == dst || src.size() == dst.size()) return e;
    std::string ix;
    size_t j = 0;
    for (size_t i = 0; i < dst.size(); ++i) {
      bool take = j < src.size() && src[j] == dst[i];  // size-1 axes of `src` included
      ix += (i ? ", " : "") + std::string(take ? ":" : "None");
      if (take) ++j;
    }
    if (src.empty()) return e;
    return "(" + e + ")[" + ix + "]";
  }

  // The advanced-indexing tuple for a Load/Store (each index placed on the result's axes).
  std::string index_tuple(const ir::Op& op, const std::vector<int>& dims, bool clamp) {
    const ir::TensorParam& t = k_.tensors.at(op.attrs.tensor);
    std::string s = "(";
    int pos = 0;
    int count = 0;
    for (const auto& ix : op.attrs.index) {
      // A StackTensor's pointers are not an index of the tensor (stack_access).
      if (ix.kind == ir::IndexSpec::Kind::NewAxis || ix.kind == ir::IndexSpec::Kind::Stack) continue;
      std::string e;
      if (ix.kind == ir::IndexSpec::Kind::TileDim) {
        e = place(idx(ix.dim), {ix.dim}, dims);
        if (!(ix.offset.is_constant() && ix.offset.constant() == 0)) e = "(" + e + " + " + sym(ix.offset) + ")";
      } else {
        const ir::Value* v = op.operands.at(ix.operand);
        e = place(name(v), v->type.dims, dims);
        if (v->type.is_scalar()) e = "int(" + name(v) + ")";
      }
      // The size as the tensor has it: a dynamic size has no name in the kernel.
      if (clamp) e = "torch.as_tensor(" + e + ", device=_device).clamp(0, " + safe(t.name) + ".shape[" +
                     std::to_string(pos) + "] - 1)";
      s += e + ", ";
      ++pos;
      ++count;
    }
    (void)count;
    return s + ")";
  }

  // A loop's body (For or While, already indented under its header): the ops,
  // then the yielded values assigned to the carried variables for the next
  // iteration; closes the indentation.
  void emit_loop_body(const ir::Region& body) {
    emit_region(body);
    const ir::Op& y = *body.ops.back();
    for (size_t i = 0; i < y.operands.size(); ++i) w_.line(name(body.args[i].get()) + " = " + t(y.operands[i]));
    w_.line("pass");
    w_.dedent();
  }

  void emit_region(const ir::Region& r) {
    for (const auto& op : r.ops) emit(*op);
  }

  std::string lit(const ir::Literal& l) {
    switch (l.kind) {
      case ir::Literal::Kind::Bool: return l.b ? "True" : "False";
      case ir::Literal::Kind::Int: return std::to_string(l.i);
      case ir::Literal::Kind::Float: return codegen::py_float(l.f);
    }
    return "0";
  }

  std::string unary(ir::UnaryFn f, const std::string& x) {
    switch (f) {
      case ir::UnaryFn::Neg: return "-" + x;
      case ir::UnaryFn::Not: return "torch.logical_not(" + x + ")";
      case ir::UnaryFn::Invert: return "torch.bitwise_not(" + x + ")";
      case ir::UnaryFn::Relu: return "torch.relu(" + x + ")";
      case ir::UnaryFn::Sigmoid: return "torch.sigmoid(" + x + ")";
      case ir::UnaryFn::Round: return "torch.round(" + x + ")";
      case ir::UnaryFn::IsNan: return "torch.isnan(" + x + ")";
      case ir::UnaryFn::IsInf: return "torch.isinf(" + x + ")";
      case ir::UnaryFn::IsFinite: return "torch.isfinite(" + x + ")";
      default: return std::string("torch.") + ir::name(f) + "(" + x + ")";
    }
  }

  std::string binary(ir::BinaryFn f, const std::string& a, const std::string& b) {
    if (const char* op = codegen::python_infix(f)) return a + op + b;
    switch (f) {
      case ir::BinaryFn::FloorDiv: return "torch.floor_divide(" + a + ", " + b + ")";
      case ir::BinaryFn::Mod: return "torch.remainder(" + a + ", " + b + ")";
      case ir::BinaryFn::Pow: return "torch.pow(" + a + ", " + b + ")";
      case ir::BinaryFn::Maximum: return "torch.maximum(" + a + ", " + b + ")";
      case ir::BinaryFn::Minimum: return "torch.minimum(" + a + ", " + b + ")";
      case ir::BinaryFn::Atan2: return "torch.atan2(" + a + ", " + b + ")";
      case ir::BinaryFn::CopySign: return "torch.copysign(" + a + ", " + b + ")";
      default: break;
    }
    return a;
  }

  // Every value is a tensor (0-d for scalars) so that dtypes stay exact.
  std::string t(const ir::Value* v) { return "(" + name(v) + ")"; }

  // `v` with the lengths of `dims` (right-aligned) where a whole dim of n
  // lanes meets one of next_power_of_2(n) (sema/ir_gen.h: whole_dims_meet):
  // the Triton block has the same lanes on both, the reference has exact
  // lengths, so the longer is cut (its lanes past n are padding) or the
  // shorter is filled with zeros.
  std::string fit(const ir::Value* v, const std::vector<int>& dims) {
    std::string e = t(v);
    const auto& vd = v->type.dims;
    const size_t n = std::min(vd.size(), dims.size());
    for (size_t i = 1; i <= n; ++i) {
      int a = vd[vd.size() - i], b = dims[dims.size() - i];
      if (!padded_pair(k_, a, b)) continue;
      e = fit_axis(e, static_cast<int>(vd.size() - i), b);
    }
    return e;
  }

  // `e` cut or filled with zeros to the length of dim d along `axis`.
  std::string fit_axis(const std::string& e, int axis, int d) {
    return "_deuteron_fit(" + e + ", " + std::to_string(axis) + ", " + length(d) + ")";
  }

  void emit(const ir::Op& op) {
    w_.set_span(op.span);
    switch (op.kind) {
      case OpKind::Constant:
        assign(op, "torch.tensor(" + lit(op.attrs.literal) + ", dtype=" + torch_dtype(op.result()->type.dtype) +
                       ", device=_device)");
        return;
      case OpKind::ScalarParam:
        assign(op, "torch.tensor(" + safe(k_.scalars.at(op.attrs.param).name) + ", dtype=" +
                       torch_dtype(op.result()->type.dtype) + ", device=_device)");
        return;
      case OpKind::SymValue:
        assign(op, "torch.tensor(" + sym(op.attrs.sym) + ", dtype=" + torch_dtype(op.result()->type.dtype) +
                       ", device=_device)");
        return;
      case OpKind::TileIndex:
      case OpKind::Arange:
        assign(op, idx(op.attrs.dim) + ".to(" + torch_dtype(op.result()->type.dtype) + ")");
        return;
      case OpKind::TileBegin:
        assign(op, "torch.tensor(" + off(op.attrs.dim) + ", dtype=" + torch_dtype(op.result()->type.dtype) +
                       ", device=_device)");
        return;
      case OpKind::TileEnd: {
        auto dyn = dynamic_end_.find(op.attrs.dim);
        std::string end = dyn != dynamic_end_.end() ? dyn->second : sym(k_.dim(op.attrs.dim).end);
        assign(op, "torch.tensor(min(" + off(op.attrs.dim) + " + " + std::to_string(block(op.attrs.dim)) + ", " + end +
                       "), dtype=" + torch_dtype(op.result()->type.dtype) + ", device=_device)");
        return;
      }
      case OpKind::TileBlockSize:
        assign(op, "torch.tensor(" + std::to_string(block(op.attrs.dim)) + ", dtype=" +
                       torch_dtype(op.result()->type.dtype) + ", device=_device)");
        return;
      case OpKind::TileId:
        assign(op, "torch.tensor(" + off(op.attrs.dim) + " // " + std::to_string(block(op.attrs.dim)) +
                       ", dtype=" + torch_dtype(op.result()->type.dtype) + ", device=_device)");
        return;
      case OpKind::TileMask:
        assign(op, "torch.ones(" + idx(op.attrs.dim) + ".numel(), dtype=torch.bool, device=_device)");
        return;
      case OpKind::TileCount: {
        const ir::Dim& d = k_.dim(op.attrs.dim);
        assign(op, "torch.tensor(" + sym(cdiv(d.extent(), SymInt(block(d.id)))) + ", dtype=" +
                       torch_dtype(op.result()->type.dtype) + ", device=_device)");
        return;
      }
      case OpKind::Full:
        assign(op, "torch.full(" + shape(op.result()->type.dims) + ", " + lit(op.attrs.literal) + ", dtype=" +
                       torch_dtype(op.result()->type.dtype) + ", device=_device)");
        return;
      case OpKind::Load: {
        if (ir::stack_pointers(op)) {
          stack_access(op);
          return;
        }
        auto dims = op.result()->type.dims;
        std::string tensor = safe(k_.tensors.at(op.attrs.tensor).name);
        // CUDA has no uint64 indexing kernel: pointers are read as their int64 bits
        // (as stores write them) and viewed back as uint64.
        const bool pointers = k_.tensors.at(op.attrs.tensor).dtype == DType::UInt64;
        if (pointers) tensor += ".view(torch.int64)";
        std::string back = pointers ? ".view(torch.uint64)" : "";
        if (op.attrs.extra_mask >= 0) {
          std::string m = t(op.operands.at(op.attrs.extra_mask));
          assign(op, "torch.where(" + m + ", " + tensor + "[" + index_tuple(op, dims, true) + "], 0)" +
                         (pointers ? back : ".to(" + torch_dtype(op.result()->type.dtype) + ")"));
        } else {
          assign(op, tensor + "[" + index_tuple(op, dims, false) + "]" + back);
        }
        return;
      }
      case OpKind::Store:
      case OpKind::AtomicRMW: {
        if (ir::stack_pointers(op)) {
          stack_access(op);
          return;
        }
        auto dims = ir::access_dims(op);
        std::string tensor = safe(k_.tensors.at(op.attrs.tensor).name);
        std::string v = t(op.operands.at(op.attrs.value_operand));
        // index_put has no uint64 kernel: pointers are written as their int64 bits.
        if (k_.tensors.at(op.attrs.tensor).dtype == DType::UInt64) {
          tensor += ".view(torch.int64)";
          v += ".view(torch.int64)";
        }
        std::string shp = shape(dims);
        if (op.kind == OpKind::AtomicRMW) {
          // Sequential emulation: read old, combine, write.
          std::string old = name(op.result());
          w_.line(old + " = " + tensor + "[" + index_tuple(op, dims, false) + "].clone()");
          std::string nv;
          switch (op.attrs.atomic) {
            case ir::AtomicFn::Add: nv = old + " + " + v; break;
            case ir::AtomicFn::And: nv = old + " & " + v; break;
            case ir::AtomicFn::Or: nv = old + " | " + v; break;
            case ir::AtomicFn::Xor: nv = old + " ^ " + v; break;
            case ir::AtomicFn::Xchg: nv = v; break;
            case ir::AtomicFn::Max: nv = "torch.maximum(" + old + ", " + v + ")"; break;
            case ir::AtomicFn::Min: nv = "torch.minimum(" + old + ", " + v + ")"; break;
            case ir::AtomicFn::Cas:
              nv = "torch.where(" + old + " == " + t(op.operands.at(op.attrs.expected_operand)) + ", " + v + ", " + old + ")";
              break;
          }
          if (op.attrs.atomic == ir::AtomicFn::Add && !dims.empty()) {
            w_.line(tensor + ".index_put_(tuple(i.expand(" + shp + ") for i in " + index_tuple(op, dims, false) +
                    "), (" + v + ").expand(" + shp + "), accumulate=True)");
          } else {
            w_.line(tensor + "[" + index_tuple(op, dims, false) + "] = " + nv);
          }
          return;
        }
        if (op.attrs.extra_mask >= 0) {
          std::string m = t(op.operands.at(op.attrs.extra_mask));
          w_.line("_sel = (" + m + ").expand(" + shp + ")");
          w_.line(tensor + "[tuple(torch.as_tensor(i, device=_device).expand(" + shp + ")[_sel] for i in " +
                  index_tuple(op, dims, false) + ")] = (" + v + ").expand(" + shp + ")[_sel].to(" + tensor + ".dtype)");
        } else if (dims.empty()) {
          w_.line(tensor + "[" + index_tuple(op, dims, false) + "] = " + v);
        } else {
          w_.line(tensor + "[" + index_tuple(op, dims, false) + "] = (" + v + ").expand(" + shp + ")");
        }
        return;
      }
      case OpKind::RngSeed:
        assign(op, safe(k_.tensors.at(op.attrs.tensor).name) + "[" + std::to_string(op.attrs.seed_slot) + "]");
        return;
      case OpKind::Random: {
        // deuteron.runtime.philox: the numbers of Triton's tl.rand family, bit for bit.
        std::string args = t(op.operands[0]) + ", " + t(op.operands[1]);
        if (op.attrs.random == ir::RandomFn::RandInt) args += ", " + t(op.operands[2]) + ", " + t(op.operands[3]);
        std::string e = std::string("_philox.") + ir::name(op.attrs.random) + "(" + args + ")";
        if (op.results.size() == 1) {
          assign(op, e);
        } else {
          std::string names;
          for (size_t i = 0; i < op.results.size(); ++i) names += (i ? ", " : "") + name(op.results[i].get());
          w_.line(names + " = " + e);
        }
        return;
      }
      case OpKind::Unary: assign(op, unary(op.attrs.unary, t(op.operands[0]))); return;
      case OpKind::Binary: {
        const auto& rd = op.result()->type.dims;
        assign(op, binary(op.attrs.binary, fit(op.operands[0], rd), fit(op.operands[1], rd)));
        return;
      }
      case OpKind::Where: {
        const auto& rd = op.result()->type.dims;
        assign(op, "torch.where(" + fit(op.operands[0], rd) + ", " + fit(op.operands[1], rd) + ", " +
                       fit(op.operands[2], rd) + ")");
        return;
      }
      case OpKind::Cast:
        if (op.attrs.bitcast)
          assign(op, t(op.operands[0]) + ".view(" + torch_dtype(op.result()->type.dtype) + ")");
        else
          assign(op, t(op.operands[0]) + ".to(" + torch_dtype(op.result()->type.dtype) + ")");
        return;
      case OpKind::ExpandDims: assign(op, t(op.operands[0]) + ".unsqueeze(" + std::to_string(op.attrs.axis) + ")"); return;
      case OpKind::Squeeze: assign(op, t(op.operands[0]) + ".squeeze(" + std::to_string(op.attrs.axis) + ")"); return;
      case OpKind::BroadcastTo:
        assign(op, fit(op.operands[0], op.result()->type.dims) + ".expand(" + shape(op.result()->type.dims) + ")");
        return;
      case OpKind::Reshape:
        if (int axis = renamed_axis(op); axis >= 0) {
          // Here dims have their real lengths, which may differ: the lanes past
          // the shorter one are padding (zeros), as Triton's masked loads make them.
          assign(op, fit_axis(t(op.operands[0]), axis, op.result()->type.dims[axis]));
          return;
        }
        assign(op, t(op.operands[0]) + ".reshape(" + shape(op.result()->type.dims) + ")");
        return;
      case OpKind::BlockLanes:
        // A tile's lanes (a partial last tile is shorter here) padded with
        // zeros to the block's lanes, or the block's lanes cut to the tile's.
        assign(op, fit_axis(t(op.operands[0]), op.attrs.axis, op.result()->type.dims.at(op.attrs.axis)));
        return;
      case OpKind::Permute: {
        std::string p;
        for (size_t i = 0; i < op.attrs.perm.size(); ++i) p += (i ? ", " : "") + std::to_string(op.attrs.perm[i]);
        assign(op, t(op.operands[0]) + ".permute(" + p + ")");
        return;
      }
      case OpKind::Reduce: {
        std::string x = t(op.operands[0]);
        std::string ax = std::to_string(op.attrs.axis);
        std::string kd = op.attrs.keepdim ? "True" : "False";
        std::string e;
        switch (op.attrs.reduce) {
          case ir::ReduceFn::Sum: e = "torch.sum(" + x + ", dim=" + ax + ", keepdim=" + kd + ")"; break;
          case ir::ReduceFn::Prod: e = "torch.prod(" + x + ", dim=" + ax + ", keepdim=" + kd + ")"; break;
          case ir::ReduceFn::Max: e = "torch.amax(" + x + ", dim=" + ax + ", keepdim=" + kd + ")"; break;
          case ir::ReduceFn::Min: e = "torch.amin(" + x + ", dim=" + ax + ", keepdim=" + kd + ")"; break;
          case ir::ReduceFn::ArgMax: e = "torch.argmax(" + x + ", dim=" + ax + ", keepdim=" + kd + ")"; break;
          case ir::ReduceFn::ArgMin: e = "torch.argmin(" + x + ", dim=" + ax + ", keepdim=" + kd + ")"; break;
          case ir::ReduceFn::Any: e = "torch.any(" + x + ", dim=" + ax + ", keepdim=" + kd + ")"; break;
          case ir::ReduceFn::All: e = "torch.all(" + x + ", dim=" + ax + ", keepdim=" + kd + ")"; break;
        }
        assign(op, e + ".to(" + torch_dtype(op.result()->type.dtype) + ")");
        return;
      }
      case OpKind::Scan: {
        std::string ax = std::to_string(op.attrs.axis);
        if (op.regions.empty()) {
          std::string x = t(op.operands[0]);
          std::string fn = op.attrs.reduce == ir::ReduceFn::Sum ? "torch.cumsum(" : "torch.cumprod(";
          std::string e = op.attrs.reverse ? fn + x + ".flip(" + ax + "), dim=" + ax + ").flip(" + ax + ")"
                                           : fn + x + ", dim=" + ax + ")";
          assign(op, e + ".to(" + torch_dtype(op.result()->type.dtype) + ")");
          return;
        }
        w_.line(results(op) + " = _deuteron_scan(" + combine_names_.at(&op) + ", " + operand_tuple(op) + ", " + ax +
                ", reverse=" + (op.attrs.reverse ? "True" : "False") + ")");
        return;
      }
      case OpKind::Sort: {
        // Stable, as the Triton back end's packed keys are (ties in first-come order).
        std::string ax = std::to_string(op.attrs.axis);
        std::string x = t(op.operands[0]);
        std::string rev = op.attrs.reverse ? "True" : "False";
        std::string r = name(op.result(0)) + "_sorted";
        if (op.attrs.sort_k > 0) {
          // topk's own order of ties differs between devices; a stable sort cut at k does not.
          w_.line(r + " = torch.sort(" + x + ", dim=" + ax + ", descending=" + rev + ", stable=True)");
          w_.line(results(op) + " = " + r + ".values.narrow(" + ax + ", 0, " + std::to_string(op.attrs.sort_k) + "), " +
                  r + ".indices.narrow(" + ax + ", 0, " + std::to_string(op.attrs.sort_k) + ")");
        } else {
          w_.line(results(op) + " = torch.sort(" + x + ", dim=" + ax + ", descending=" + rev + ", stable=True)");
        }
        return;
      }
      case OpKind::Gather:
        assign(op, "torch.gather(" + t(op.operands[0]) + ", " + std::to_string(op.attrs.axis) + ", " +
                       t(op.operands[1]) + ")");
        return;
      case OpKind::CombineReduce:
        w_.line(results(op) + " = _deuteron_reduce(" + combine_names_.at(&op) + ", " + operand_tuple(op) + ", " +
                std::to_string(op.attrs.axis) + ", keepdim=" + (op.attrs.keepdim ? "True" : "False") + ")");
        return;
      case OpKind::Dot: {
        DType out = op.result()->type.dtype;
        std::string a = t(op.operands[0]) + ".to(" + torch_dtype(out) + ")";
        std::string b = t(op.operands[1]) + ".to(" + torch_dtype(out) + ")";
        std::string e = "torch.matmul(" + a + ", " + b + ")";
        if (op.operands.size() > 2) e = t(op.operands[2]) + " + " + e;
        assign(op, e);
        return;
      }
      case OpKind::For: {
        const ir::Region& body = *op.regions[0];
        size_t first = op.attrs.dynamic_bounds ? 2 : 0;
        for (size_t i = 0; i < op.results.size(); ++i) {
          std::string n = name(body.args[i].get());
          names_[op.results[i].get()] = n;
          w_.line(n + " = " + t(op.operands[first + i]));
        }
        const ir::Dim& d = k_.dim(op.attrs.dim);
        if (op.attrs.dynamic_bounds) {
          dynamic_end_[d.id] = "int(" + t(op.operands[1]) + ")";
          w_.line("for " + off(d.id) + " in range(int(" + t(op.operands[0]) + "), int(" + t(op.operands[1]) + "), " +
                  std::to_string(block(d.id)) + "):");
          w_.indent();
          if (d.kind == DimKind::Tile)
            w_.line(idx(d.id) + " = torch.arange(" + off(d.id) + ", min(" + off(d.id) + " + " +
                    std::to_string(block(d.id)) + ", int(" + t(op.operands[1]) + ")), device=_device)");
        } else {
          open_dim_loop(d.id);
        }
        emit_loop_body(body);
        return;
      }
      case OpKind::While: {
        // Carried values (the condition first) share one variable each.
        const ir::Region& body = *op.regions[0];
        for (size_t i = 0; i < op.results.size(); ++i) {
          std::string n = name(body.args[i].get());
          names_[op.results[i].get()] = n;
          w_.line(n + " = " + t(op.operands[i]));
        }
        w_.line("while bool(" + name(body.args[0].get()) + "):");
        w_.indent();
        emit_loop_body(body);
        return;
      }
      case OpKind::If: {
        w_.line("if bool(" + t(op.operands[0]) + "):");
        for (int ri = 0; ri < 2; ++ri) {
          if (ri == 1) w_.line("else:");
          w_.indent();
          const ir::Region& r = *op.regions[ri];
          emit_region(r);
          const ir::Op& y = *r.ops.back();
          for (size_t i = 0; i < y.operands.size(); ++i) w_.line(name(op.results[i].get()) + " = " + t(y.operands[i]));
          w_.line("pass");
          w_.dedent();
        }
        return;
      }
      case OpKind::Yield: return;
      case OpKind::Assert:
        w_.line("assert bool(torch.all(" + t(op.operands[0]) + ")), " + quote(op.attrs.message));
        return;
      case OpKind::Print: {
        // The whole tensors at once (this back end runs whole dims, not tiles).
        std::string args = codegen::py_str(op.attrs.message);
        for (const ir::Value* v : op.operands) args += ", " + name(v);
        w_.line("print(" + args + ")");
        return;
      }
      case OpKind::Breakpoint: w_.line("breakpoint()"); return;
      case OpKind::InlineTriton:
        // Triton text has no PyTorch meaning; Helion's reference mode has no
        // implementation of these either.
        raise_error(program_.file, op.span,
                    "Triton code (hl.inline_triton, hl.triton_kernel, hl.inline_asm_elementwise) cannot run in "
                    "the PyTorch reference mode (DEUTERON_INTERPRET=1)",
                    {"run the generated Triton on the CPU with TRITON_INTERPRET=1 instead, or on a GPU"});
    }
  }

  // A StackTensor's load or store (ir.h, IndexSpec::Kind::Stack): the runtime
  // helpers (runtime/stack_tensors.py) view the memory each pointer names as a
  // tensor shaped like the example and index each the same way; the
  // pointers' axes lead the result (the stored value's slices go one to each).
  void stack_access(const ir::Op& op) {
    const ir::Value* ptrs = ir::stack_pointers(op);
    std::vector<int> dims = ir::access_dims(op);
    std::vector<int> inner(dims.begin() + ptrs->type.rank(), dims.end());
    std::string like = safe(k_.tensors.at(op.attrs.tensor).name);
    const bool masked = op.attrs.extra_mask >= 0;
    std::string args = t(ptrs) + ", " + like + ", " + index_tuple(op, inner, masked) + ", " + shape(inner);
    std::string mask = masked ? t(op.operands.at(op.attrs.extra_mask)) : "None";
    if (op.kind == OpKind::Load) {
      assign(op, "_deuteron_stack.load(" + args + ", " + mask + ")");
      return;
    }
    w_.line("_deuteron_stack.store(" + args + ", " + t(op.operands.at(op.attrs.value_operand)) + ", " + mask + ")");
  }

  std::string results(const ir::Op& op) {
    std::string s;
    for (const auto& r : op.results) s += name(r.get()) + ", ";
    return s.substr(0, s.size() - 2) + (op.results.size() == 1 ? "," : "");
  }
  std::string operand_tuple(const ir::Op& op) {
    std::string s = "(";
    for (const ir::Value* v : op.operands) s += name(v) + ", ";
    return (op.operands.size() == 1 ? s.substr(0, s.size() - 1) : s.substr(0, s.size() - 2)) + ")";
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

  PythonWriter& w_;
  const Program& program_;
  const ir::DeviceKernel& k_;
  const analysis::KernelConfig& plan_;
  std::map<const ir::Value*, std::string> names_;
  std::map<int, std::string> dynamic_end_;
  std::map<const ir::Op*, std::string> combine_names_;
};

// Runtime helpers of user combine functions: log-step algorithms over whole
// slices (each step is a few torch ops), keeping the combine's operand order.
void emit_combine_runtime(PythonWriter& w) {
  w.blank();
  w.blank();
  w.line("def _deuteron_scan(combine, values, axis, reverse):");
  w.line("    \"\"\"Inclusive scan along `axis` in log2(n) steps (Hillis-Steele): the earlier part (the later");
  w.line("    one when reverse) is combine's left operand.\"\"\"");
  w.line("    values = list(values)");
  w.line("    n = values[0].shape[axis]");
  w.line("    step = 1");
  w.line("    while step < n:");
  w.line("        first = [v.narrow(axis, 0, n - step) for v in values]");
  w.line("        last = [v.narrow(axis, step, n - step) for v in values]");
  w.line("        if reverse:");
  w.line("            new = combine(*last, *first)");
  w.line("            values = [torch.cat([c.expand(f.shape), v.narrow(axis, n - step, step)], axis)");
  w.line("                      for c, f, v in zip(new, first, values)]");
  w.line("        else:");
  w.line("            new = combine(*first, *last)");
  w.line("            values = [torch.cat([v.narrow(axis, 0, step), c.expand(f.shape)], axis)");
  w.line("                      for c, f, v in zip(new, first, values)]");
  w.line("        step *= 2");
  w.line("    return values");
  w.blank();
  w.blank();
  w.line("def _deuteron_reduce(combine, values, axis, keepdim):");
  w.line("    \"\"\"Reduction along `axis` in log2(n) steps, combining neighbours.\"\"\"");
  w.line("    values = [v.movedim(axis, 0) for v in values]");
  w.line("    while values[0].shape[0] > 1:");
  w.line("        pairs = values[0].shape[0] // 2 * 2");
  w.line("        new = combine(*[v[0:pairs:2] for v in values], *[v[1:pairs:2] for v in values])");
  w.line("        values = [torch.cat([c.expand(v[0:pairs:2].shape), v[pairs:]]) for c, v in zip(new, values)]");
  w.line("    return [v[0].unsqueeze(axis) if keepdim else v[0] for v in values]");
}

}  // namespace

std::string generate_reference_module(const CodegenInput& in) {
  const Program& program = *in.program;
  PythonWriter w;
  codegen::emit_module_header(w, program, in.config, "reference");
  w.line("import typing");
  w.line("");
  w.line("import torch");
  w.line("import triton");
  bool random = false;
  for (const auto& k : in.kernels)
    ir::walk(k->body, [&](const ir::Op& op) { random |= op.kind == OpKind::Random; });
  if (random || program.rng_seed_count > 0) w.line("from deuteron.runtime import philox as _philox");
  bool combines = false;
  for (const auto& k : in.kernels) ir::walk(k->body, [&](const ir::Op& op) { combines |= ir::has_combine_region(op); });
  if (combines) emit_combine_runtime(w);
  bool stacks = false;
  for (const auto& k : in.kernels) ir::walk(k->body, [&](const ir::Op& op) { stacks |= ir::stack_pointers(op) != nullptr; });
  // StackTensor loads and stores: the runtime reads and writes the memory an
  // address names (deuteron/runtime/stack_tensors.py, shared with the autotuner).
  if (stacks) w.line("from deuteron.runtime import stack_tensors as _deuteron_stack");
  bool fits = false;
  for (const auto& k : in.kernels) fits |= needs_fit(*k);
  if (fits) {
    w.blank();
    w.blank();
    w.line("def _deuteron_fit(x, axis, n):");
    w.line("    \"\"\"`x` with n elements along `axis`: cut, or filled with zeros.\"\"\"");
    w.line("    have = x.shape[axis]");
    w.line("    if have >= n:");
    w.line("        return x.narrow(axis, 0, n)");
    w.line("    pad = list(x.shape)");
    w.line("    pad[axis] = n - have");
    w.line("    return torch.cat([x, x.new_zeros(pad)], axis)");
  }
  std::vector<std::string> calls;
  for (size_t i = 0; i < in.kernels.size(); ++i) {
    w.blank();
    w.blank();
    calls.push_back(ReferenceEmitter(w, program, *in.kernels[i], in.kernel_configs.at(i)).run());
  }
  w.blank();
  w.blank();
  codegen::emit_host_function(w, program, in.config, [&](int k, PythonWriter& hw) {
    hw.line("with torch.no_grad():");
    hw.indent();
    hw.line(calls.at(k));
    hw.dedent();
  }, [&](const std::string&) { return true; });
  // torch.library integration (see triton_module.cc): the eager host
  // function is the op; the fake implementation runs no kernels.
  w.blank();
  w.blank();
  codegen::emit_host_function(w, program, in.config, [&](int k, PythonWriter& hw) {
    hw.line("with torch.no_grad():");
    hw.indent();
    hw.line(calls.at(k));
    hw.dedent();
  }, [&](const std::string&) { return true; }, "_deuteron_op_impl", true);
  w.blank();
  w.blank();
  codegen::emit_host_function(w, program, in.config, [&](int k, PythonWriter& hw) {
    hw.line("pass  # kernel " + std::to_string(k) + " (no data under fake tensors)");
  }, [&](const std::string&) { return true; }, "_deuteron_fake_impl", true, false, false);
  w.blank();
  w.blank();
  w.line("_deuteron_meta = {'backend': 'reference', 'entry': '" + program.fn->name + "', " + codegen::op_meta(program) +
         "}");
  std::map<int, SourceSpan> spans = w.spans();
  codegen::emit_source_lines(w, program, spans);
  return w.str();
}

}  // namespace deuteron
