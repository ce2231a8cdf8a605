// Small questions about ops and types that passes, analyses and both back
// ends ask (ir.h, "queries").
#include <algorithm>
#include <cmath>
#include <limits>

#include "deuteron/ir.h"

namespace deuteron::ir {

bool has_dim(const Type& t, int d) { return std::find(t.dims.begin(), t.dims.end(), d) != t.dims.end(); }

int memory_of(const DeviceKernel& k, int tensor) {
  const int base = k.tensors.at(tensor).base_arg;
  return base >= 0 ? base : -2 - tensor;  // distinct from every argument index
}

bool holds_block_lanes(const Dim& lanes, const Dim& tile) {
  if (lanes.kind != DimKind::Full || lanes.merged() || !lanes.begin.is_constant() || lanes.begin.constant() != 0)
    return false;
  if (tile.kind != DimKind::Tile || tile.subtile_of >= 0) return false;
  if (tile.fixed_block_size && !tile.dynamic_bounds && tile.begin.is_constant() && tile.begin.constant() == 0 &&
      tile.end.is_constant() && lanes.end.is_constant() && tile.end.constant() == lanes.end.constant() &&
      tile.end.constant() > 0 && next_power_of_2(tile.end.constant()) == *tile.fixed_block_size)
    return true;  // one block covers the whole dim
  if (tile.fixed_block_size) return lanes.end.is_constant() && lanes.end.constant() == *tile.fixed_block_size;
  if (tile.config_block_size) return lanes.end.same_as(*tile.config_block_size);
  if (tile.block_size_index >= 0)
    return lanes.end.same_as(SymInt::symbol("_block_size_" + std::to_string(tile.block_size_index)));
  return false;
}

bool holds_merged_lanes(const DeviceKernel& k, const Dim& lanes, const Dim& merged) {
  if (lanes.kind != DimKind::Full || lanes.merged() || !lanes.begin.is_constant() || lanes.begin.constant() != 0)
    return false;
  if (!merged.merged()) return false;
  SymInt product = 1;
  for (int f : merged.factors) {
    const Dim& d = k.dim(f);
    if (d.kind == DimKind::Tile && d.subtile_of < 0) {
      if (d.fixed_block_size) product = product * SymInt(*d.fixed_block_size);
      else if (d.config_block_size) product = product * *d.config_block_size;
      else if (d.block_size_index >= 0) product = product * SymInt::symbol("_block_size_" + std::to_string(d.block_size_index));
      else return false;
    } else if (d.kind == DimKind::Full && !d.merged()) {
      // A whole dim's block: its extent's next power of 2 (a constant extent only).
      auto e = d.extent().as_constant();
      if (!e) return false;
      int64_t p = 1;
      while (p < *e) p *= 2;
      product = product * SymInt(p);
    } else {
      return false;
    }
  }
  return lanes.end.same_as(product);
}

bool holds_lanes_of(const DeviceKernel& k, const Dim& lanes, const Dim& d) {
  return holds_block_lanes(lanes, d) || holds_merged_lanes(k, lanes, d);
}

std::vector<int> access_dims(const Op& op) {
  std::vector<int> dims;
  if (op.attrs.broadcast_index) {
    // Every index tensor has the access's rank: axis i is the dim any of them
    // has there (the verifier checks they agree), else size 1.
    for (const auto& ix : op.attrs.index) {
      if (ix.kind != IndexSpec::Kind::Tensor) continue;
      const auto& vd = op.operands.at(ix.operand)->type.dims;
      if (dims.empty()) dims.assign(vd.size(), kBroadcast);
      for (size_t i = 0; i < vd.size() && i < dims.size(); ++i)
        if (dims[i] == kBroadcast) dims[i] = vd[i];
    }
    return dims;
  }
  for (const auto& ix : op.attrs.index) {
    switch (ix.kind) {
      case IndexSpec::Kind::TileDim: dims.push_back(ix.dim); break;
      case IndexSpec::Kind::NewAxis: dims.push_back(kBroadcast); break;
      case IndexSpec::Kind::Tensor:
      case IndexSpec::Kind::Stack:
        for (int d : op.operands.at(ix.operand)->type.dims) dims.push_back(d);
        break;
      case IndexSpec::Kind::Scalar: break;
    }
  }
  return dims;
}

bool indexes_dim(const Op& op, int d) {
  for (const auto& ix : op.attrs.index) {
    if (ix.kind == IndexSpec::Kind::TileDim && ix.dim == d) return true;
    if ((ix.kind == IndexSpec::Kind::Tensor || ix.kind == IndexSpec::Kind::Stack) &&
        has_dim(op.operands.at(ix.operand)->type, d))
      return true;
  }
  return false;
}

const Value* stack_pointers(const Op& op) {
  for (const auto& ix : op.attrs.index)
    if (ix.kind == IndexSpec::Kind::Stack) return op.operands.at(ix.operand);
  return nullptr;
}

void rename_dims(DeviceKernel& k, const std::function<int(int)>& to) {
  auto retype = [&](Type& t) {
    for (int& d : t.dims)
      if (d != kBroadcast) d = to(d);
  };
  std::function<void(Region&)> rename = [&](Region& r) {
    for (auto& arg : r.args) retype(arg->type);
    for (auto& op : r.ops) {
      for (auto& res : op->results) retype(res->type);
      for (auto& ix : op->attrs.index)
        if (ix.kind == IndexSpec::Kind::TileDim) ix.dim = to(ix.dim);
      if (op->kind == OpKind::Arange || op->kind == OpKind::TileIndex || op->kind == OpKind::TileMask)
        op->attrs.dim = to(op->attrs.dim);
      for (auto& sub : op->regions) rename(*sub);
    }
  };
  rename(k.body);
}

bool touches_dim(const Op& op, int d) {
  for (const Value* v : op.operands)
    if (has_dim(v->type, d)) return true;
  for (const auto& r : op.results)
    if (has_dim(r->type, d)) return true;
  return indexes_dim(op, d);
}

Literal reduction_identity(ReduceFn f, DType t) {
  const bool fl = is_floating(t);
  const int bits = bit_width(t);
  // The dtype's range (unsigned types wider than 62 bits do not fit an
  // int64 literal; deuteron's one, uint64, holds pointers, which no
  // reduction takes: sema/pointer_values.cc).
  const int64_t lowest = !is_signed(t) ? 0 : bits >= 64 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (bits - 1));
  const int64_t highest = bits >= 63 ? std::numeric_limits<int64_t>::max()
                          : is_signed(t) ? (int64_t{1} << (bits - 1)) - 1
                                         : (int64_t{1} << bits) - 1;
  switch (f) {
    case ReduceFn::Sum: return fl ? Literal::from_float(0.0) : Literal::from_int(0);
    case ReduceFn::Prod: return fl ? Literal::from_float(1.0) : Literal::from_int(1);
    case ReduceFn::Max:
    case ReduceFn::ArgMax:
      if (fl) return Literal::from_float(-INFINITY);
      if (t == DType::Bool) return Literal::from_bool(false);
      return Literal::from_int(lowest);
    case ReduceFn::Min:
    case ReduceFn::ArgMin:
      if (fl) return Literal::from_float(INFINITY);
      if (t == DType::Bool) return Literal::from_bool(true);
      return Literal::from_int(highest);
    case ReduceFn::Any: return Literal::from_bool(false);
    case ReduceFn::All: return Literal::from_bool(true);
  }
  return Literal::from_int(0);
}

}  // namespace deuteron::ir
