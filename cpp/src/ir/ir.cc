// Core IR data structure support: names, the builder, walking and cloning.
#include <algorithm>
#include <map>

#include "deuteron/ir.h"

namespace deuteron::ir {

const char* name(OpKind k) {
  switch (k) {
    case OpKind::Constant: return "constant";
    case OpKind::ScalarParam: return "param";
    case OpKind::SymValue: return "sym";
    case OpKind::TileIndex: return "tile_index";
    case OpKind::TileBegin: return "tile_begin";
    case OpKind::TileEnd: return "tile_end";
    case OpKind::TileBlockSize: return "tile_block_size";
    case OpKind::TileId: return "tile_id";
    case OpKind::TileCount: return "tile_count";
    case OpKind::TileMask: return "tile_mask";
    case OpKind::Full: return "full";
    case OpKind::Arange: return "arange";
    case OpKind::RngSeed: return "rng_seed";
    case OpKind::Random: return "random";
    case OpKind::Load: return "load";
    case OpKind::Store: return "store";
    case OpKind::AtomicRMW: return "atomic";
    case OpKind::Unary: return "unary";
    case OpKind::Binary: return "binary";
    case OpKind::Where: return "where";
    case OpKind::Cast: return "cast";
    case OpKind::ExpandDims: return "expand_dims";
    case OpKind::Squeeze: return "squeeze";
    case OpKind::BroadcastTo: return "broadcast_to";
    case OpKind::BlockLanes: return "block_lanes";
    case OpKind::Permute: return "permute";
    case OpKind::Reshape: return "reshape";
    case OpKind::Reduce: return "reduce";
    case OpKind::Dot: return "dot";
    case OpKind::Scan: return "scan";
    case OpKind::Sort: return "sort";
    case OpKind::Gather: return "gather";
    case OpKind::CombineReduce: return "combine_reduce";
    case OpKind::For: return "for";
    case OpKind::If: return "if";
    case OpKind::While: return "while";
    case OpKind::Yield: return "yield";
    case OpKind::Assert: return "assert";
    case OpKind::Print: return "print";
    case OpKind::Breakpoint: return "breakpoint";
    case OpKind::InlineTriton: return "inline_triton";
  }
  return "?";
}

const char* name(UnaryFn f) {
  switch (f) {
    case UnaryFn::Neg: return "neg";
    case UnaryFn::Not: return "not";
    case UnaryFn::Invert: return "invert";
    case UnaryFn::Abs: return "abs";
    case UnaryFn::Exp: return "exp";
    case UnaryFn::Exp2: return "exp2";
    case UnaryFn::Log: return "log";
    case UnaryFn::Log2: return "log2";
    case UnaryFn::Log1p: return "log1p";
    case UnaryFn::Expm1: return "expm1";
    case UnaryFn::Sqrt: return "sqrt";
    case UnaryFn::Rsqrt: return "rsqrt";
    case UnaryFn::Sin: return "sin";
    case UnaryFn::Cos: return "cos";
    case UnaryFn::Tan: return "tan";
    case UnaryFn::Tanh: return "tanh";
    case UnaryFn::Sigmoid: return "sigmoid";
    case UnaryFn::Erf: return "erf";
    case UnaryFn::Floor: return "floor";
    case UnaryFn::Ceil: return "ceil";
    case UnaryFn::Trunc: return "trunc";
    case UnaryFn::Round: return "round";
    case UnaryFn::Reciprocal: return "reciprocal";
    case UnaryFn::Relu: return "relu";
    case UnaryFn::Sign: return "sign";
    case UnaryFn::IsNan: return "isnan";
    case UnaryFn::IsInf: return "isinf";
    case UnaryFn::IsFinite: return "isfinite";
    case UnaryFn::Asin: return "asin";
    case UnaryFn::Acos: return "acos";
    case UnaryFn::Atan: return "atan";
    case UnaryFn::Sinh: return "sinh";
    case UnaryFn::Cosh: return "cosh";
    case UnaryFn::Asinh: return "asinh";
    case UnaryFn::Acosh: return "acosh";
    case UnaryFn::Atanh: return "atanh";
  }
  return "?";
}

const char* name(BinaryFn f) {
  switch (f) {
    case BinaryFn::Add: return "add";
    case BinaryFn::Sub: return "sub";
    case BinaryFn::Mul: return "mul";
    case BinaryFn::TrueDiv: return "truediv";
    case BinaryFn::FloorDiv: return "floordiv";
    case BinaryFn::Mod: return "mod";
    case BinaryFn::Pow: return "pow";
    case BinaryFn::Maximum: return "maximum";
    case BinaryFn::Minimum: return "minimum";
    case BinaryFn::BitAnd: return "bitand";
    case BinaryFn::BitOr: return "bitor";
    case BinaryFn::BitXor: return "bitxor";
    case BinaryFn::LShift: return "lshift";
    case BinaryFn::RShift: return "rshift";
    case BinaryFn::LogicalAnd: return "logical_and";
    case BinaryFn::LogicalOr: return "logical_or";
    case BinaryFn::Eq: return "eq";
    case BinaryFn::Ne: return "ne";
    case BinaryFn::Lt: return "lt";
    case BinaryFn::Le: return "le";
    case BinaryFn::Gt: return "gt";
    case BinaryFn::Ge: return "ge";
    case BinaryFn::Atan2: return "atan2";
    case BinaryFn::CopySign: return "copysign";
  }
  return "?";
}

const char* name(ReduceFn f) {
  switch (f) {
    case ReduceFn::Sum: return "sum";
    case ReduceFn::Prod: return "prod";
    case ReduceFn::Max: return "max";
    case ReduceFn::Min: return "min";
    case ReduceFn::ArgMax: return "argmax";
    case ReduceFn::ArgMin: return "argmin";
    case ReduceFn::Any: return "any";
    case ReduceFn::All: return "all";
  }
  return "?";
}

const char* name(AtomicFn f) {
  switch (f) {
    case AtomicFn::Add: return "add";
    case AtomicFn::And: return "and";
    case AtomicFn::Or: return "or";
    case AtomicFn::Xor: return "xor";
    case AtomicFn::Xchg: return "xchg";
    case AtomicFn::Max: return "max";
    case AtomicFn::Min: return "min";
    case AtomicFn::Cas: return "cas";
  }
  return "?";
}

const char* name(RandomFn f) {
  switch (f) {
    case RandomFn::Rand: return "rand";
    case RandomFn::Randn: return "randn";
    case RandomFn::Rand4x: return "rand4x";
    case RandomFn::RandInt: return "randint";
  }
  return "?";
}

bool is_comparison(BinaryFn f) {
  switch (f) {
    case BinaryFn::Eq:
    case BinaryFn::Ne:
    case BinaryFn::Lt:
    case BinaryFn::Le:
    case BinaryFn::Gt:
    case BinaryFn::Ge: return true;
    default: return false;
  }
}

Op* Builder::create(OpKind kind, std::vector<Value*> operands, const std::vector<Type>& result_types,
                    SourceSpan span, Attrs attrs) {
  auto op = std::make_unique<Op>();
  op->id = kernel_.next_op_id++;
  op->kind = kind;
  op->operands = std::move(operands);
  op->attrs = std::move(attrs);
  op->span = span;
  op->parent = region_;
  for (size_t i = 0; i < result_types.size(); ++i) {
    auto v = std::make_unique<Value>();
    v->id = kernel_.next_value_id++;
    v->type = result_types[i];
    v->def = op.get();
    v->index = static_cast<int>(i);
    op->results.push_back(std::move(v));
  }
  Op* raw = op.get();
  region_->ops.push_back(std::move(op));
  return raw;
}

Value* Builder::add_arg(Region* r, Type t, std::string name_hint) {
  auto v = std::make_unique<Value>();
  v->id = kernel_.next_value_id++;
  v->type = std::move(t);
  v->owner = r;
  v->index = static_cast<int>(r->args.size());
  v->name_hint = std::move(name_hint);
  Value* raw = v.get();
  r->args.push_back(std::move(v));
  return raw;
}

Region* Builder::add_region(Op* op) {
  auto r = std::make_unique<Region>();
  r->parent = op;
  Region* raw = r.get();
  op->regions.push_back(std::move(r));
  return raw;
}

void walk(const Region& r, const std::function<void(const Op&)>& fn) {
  for (const auto& op : r.ops) {
    fn(*op);
    for (const auto& sub : op->regions) walk(static_cast<const Region&>(*sub), fn);
  }
}

void walk_mut(Region& r, const std::function<void(Op&)>& fn) {
  for (auto& op : r.ops) {
    fn(*op);
    for (auto& sub : op->regions) walk_mut(*sub, fn);
  }
}

void replace_uses(Region& r, const Value* from, Value* to) {
  walk_mut(r, [&](Op& op) {
    for (auto& v : op.operands)
      if (v == from) v = to;
  });
}

ImpliedCounters implied_counters(const DeviceKernel& k) {
  ImpliedCounters c;
  auto see_value = [&](const Value& v) { c.next_value_id = std::max(c.next_value_id, v.id + 1); };
  walk(k.body, [&](const Op& op) {
    for (const auto& r : op.results) see_value(*r);
    for (const auto& sub : op.regions)
      for (const auto& a : sub->args) see_value(*a);
    if (op.kind == OpKind::Load) c.num_loads = std::max(c.num_loads, op.attrs.memory_op + 1);
    if (op.kind == OpKind::Store) c.num_stores = std::max(c.num_stores, op.attrs.memory_op + 1);
  });
  for (const auto& a : k.body.args) see_value(*a);
  return c;
}

namespace {

// Copies a region into `dst`, mapping old values to new ones.  Ids are kept
// so that printed IR and config indices stay stable across clones.
void clone_region(const Region& src, Region& dst, Op* parent, std::map<const Value*, Value*>& map) {
  dst.parent = parent;
  for (const auto& a : src.args) {
    auto v = std::make_unique<Value>(*a);
    v->owner = &dst;
    map[a.get()] = v.get();
    dst.args.push_back(std::move(v));
  }
  for (const auto& op : src.ops) {
    auto n = std::make_unique<Op>();
    n->id = op->id;
    n->kind = op->kind;
    n->attrs = op->attrs;
    n->span = op->span;
    n->parent = &dst;
    for (Value* o : op->operands) {
      auto it = map.find(o);
      DEUTERON_CHECK(it != map.end(), "clone: operand defined after use");
      n->operands.push_back(it->second);
    }
    for (const auto& r : op->results) {
      auto v = std::make_unique<Value>(*r);
      v->def = n.get();
      map[r.get()] = v.get();
      n->results.push_back(std::move(v));
    }
    for (const auto& sub : op->regions) {
      auto r = std::make_unique<Region>();
      clone_region(*sub, *r, n.get(), map);
      n->regions.push_back(std::move(r));
    }
    dst.ops.push_back(std::move(n));
  }
}

// Copies `src` into `dst` with fresh ids from k.
void clone_region_fresh(DeviceKernel& k, const Region& src, Region& dst, Op* parent,
                        std::map<const Value*, Value*>& map) {
  dst.parent = parent;
  for (const auto& a : src.args) {
    auto v = std::make_unique<Value>(*a);
    v->id = k.next_value_id++;
    v->owner = &dst;
    map[a.get()] = v.get();
    dst.args.push_back(std::move(v));
  }
  for (const auto& op : src.ops) {
    auto n = std::make_unique<Op>();
    n->id = k.next_op_id++;
    n->kind = op->kind;
    n->attrs = op->attrs;
    n->span = op->span;
    n->parent = &dst;
    for (Value* o : op->operands) {
      auto it = map.find(o);
      n->operands.push_back(it == map.end() ? o : it->second);
    }
    for (const auto& r : op->results) {
      auto v = std::make_unique<Value>(*r);
      v->id = k.next_value_id++;
      v->def = n.get();
      map[r.get()] = v.get();
      n->results.push_back(std::move(v));
    }
    for (const auto& sub : op->regions) {
      auto r = std::make_unique<Region>();
      clone_region_fresh(k, *sub, *r, n.get(), map);
      n->regions.push_back(std::move(r));
    }
    dst.ops.push_back(std::move(n));
  }
}

}  // namespace

Region* clone_region_into(DeviceKernel& k, const Region& src, Op* parent, const std::map<const Value*, Value*>& outer) {
  std::map<const Value*, Value*> map = outer;
  auto r = std::make_unique<Region>();
  clone_region_fresh(k, src, *r, parent, map);
  Region* raw = r.get();
  parent->regions.push_back(std::move(r));
  return raw;
}

bool has_combine_region(const Op& op) {
  return (op.kind == OpKind::Scan || op.kind == OpKind::CombineReduce) && !op.regions.empty();
}

std::unique_ptr<DeviceKernel> clone(const DeviceKernel& k) {
  auto out = std::make_unique<DeviceKernel>();
  out->name = k.name;
  out->source_loop = k.source_loop;
  out->tensors = k.tensors;
  out->scalars = k.scalars;
  out->dims = k.dims;
  out->grid_dims = k.grid_dims;
  out->nests = k.nests;
  out->span = k.span;
  out->index_dtype = k.index_dtype;
  out->num_loads = k.num_loads;
  out->num_stores = k.num_stores;
  out->next_value_id = k.next_value_id;
  out->next_op_id = k.next_op_id;
  std::map<const Value*, Value*> map;
  clone_region(k.body, out->body, nullptr, map);
  return out;
}

}  // namespace deuteron::ir
