// Random numbers inside tile loops: hl.rand, hl.randint, hl.rand4x (explicit
// seed) and torch.rand / randn / rand_like / randn_like (seeded from torch's
// generator).
//
// Every draw is Philox-4x32-10 of (seed, offset), the streams of Triton's
// tl.rand family.  Unless the user gives offsets, the offset of an element is
// its row-major linear index over the full extents of the draw's dims (a
// tile's global index times the extents of the dims after it), so the numbers
// depend on neither the block sizes nor which program draws them: the same
// seed gives the same tensor under every config, and a forward and a backward
// kernel drawing over the same shape get the same mask (low-memory dropout).
//
// The torch functions take no seed: each call site has a slot in a seed
// buffer that the host function fills with one torch.randint draw per call
// (`_rng_seeds`, see codegen/host_wrapper.cc), so torch.manual_seed makes a
// kernel reproducible and consecutive calls differ.
#include <algorithm>

#include "analyzer.h"

namespace deuteron::sema {

using K = SValue::Kind;
using ir::OpKind;

namespace {

constexpr const char* kSeedBufferExpr = "_rng_seeds";  // host variable of the seed buffer
constexpr const char* kSeedBufferName = "rng_seeds";   // its kernel parameter

bool fits_int32(int64_t v) { return v >= -(int64_t{1} << 31) && v < (int64_t{1} << 31); }

}  // namespace

ir::Value* Analyzer::random_offsets(const std::vector<int>& dims, SourceSpan span, const std::string& what) {
  // Draws over the same dims in one region share their offsets.
  auto key = std::make_pair(gen().builder().region(), dims);
  if (auto it = random_offsets_.find(key); it != random_offsets_.end()) return it->second;
  ir::Value* offsets = linear_offsets(dims, span, what);
  random_offsets_[key] = offsets;
  return offsets;
}

ir::Value* Analyzer::linear_offsets(const std::vector<int>& dims, SourceSpan span, const std::string& what) {
  // Extents per axis (size-1 axes add nothing) and the offsets' dtype: the
  // index dtype unless the draw has more elements than it can count.
  SymInt total = 1;
  for (int d : dims) {
    if (d == ir::kBroadcast) continue;
    const ir::Dim& dim = kernel_->dim(d);
    if (dim.dynamic_bounds)
      error(span, what + " over '" + gen().dim_name(d) + "', a tile whose bounds are computed in the kernel, is not supported",
            {"its offsets are linear indices over the full extent of each dim; pass offsets= explicitly (hl.rand)"});
    total = total * dim.extent();
  }
  DType dt = program_->index_dtype;
  if (auto n = total.hint(); !n || *n >= (int64_t{1} << 31)) dt = DType::Int64;

  int rank = static_cast<int>(dims.size());
  std::vector<SymInt> strides(rank, SymInt(1));
  for (int p = rank - 2; p >= 0; --p)
    strides[p] = dims[p + 1] == ir::kBroadcast ? strides[p + 1] : strides[p + 1] * kernel_->dim(dims[p + 1]).extent();
  ir::Value* offsets = nullptr;
  for (int p = 0; p < rank; ++p) {
    int d = dims[p];
    if (d == ir::kBroadcast) continue;
    ir::Attrs a;
    a.dim = d;
    OpKind kind = kernel_->dim(d).kind == ir::DimKind::Full ? OpKind::Arange : OpKind::TileIndex;
    ir::Value* index = gen().builder().create(kind, {}, {ir::Type{program_->index_dtype, {d}}}, span, a)->result();
    index = gen().cast(index, dt, span);
    // Place the index on axis p of the draw's shape (broadcasting aligns on the right).
    for (int i = p + 1; i < rank; ++i) index = gen().expand_dims(index, index->type.rank(), span);
    const SymInt& stride = strides[p];
    if (!(stride.is_constant() && stride.constant() == 1)) {
      ir::Value* s = stride.is_constant() && fits_int32(stride.constant())
                         ? gen().int_constant(stride.constant(), dt, span)
                         : gen().cast(gen().sym_value(stride, span), dt, span);
      index = gen().binary_raw(ir::BinaryFn::Mul, index, s, dt, span);
    }
    offsets = offsets ? gen().binary_raw(ir::BinaryFn::Add, offsets, index, dt, span) : index;
  }
  if (!offsets) return gen().full(dims, ir::Literal::from_int(0), dt, span);
  while (offsets->type.rank() < rank) offsets = gen().expand_dims(offsets, 0, span);
  if (offsets->def && offsets->def->kind != OpKind::TileIndex && offsets->def->kind != OpKind::Arange)
    offsets->name_hint = "offsets";
  return offsets;
}

ir::Value* Analyzer::random_seed(const SValue& seed, SourceSpan span, const std::string& what) {
  const std::string usage = "the seed of " + what + " must be an int or an integer tensor with one element";
  switch (seed.kind) {
    case K::Int:
      if (seed.i.is_constant())
        return gen().int_constant(seed.i.constant(), fits_int32(seed.i.constant()) ? DType::Int32 : DType::Int64, span);
      return gen().sym_value(seed.i, span);
    case K::Tensor: {
      const HostTensor& t = *seed.tensor;
      if (!is_integral(t.dtype)) error(span, usage + ", got a tensor of " + torch_name(t.dtype));
      IndexParts zeros;
      for (const auto& s : t.sizes) {
        if (s.is_constant() && s.constant() != 1)
          error(span, usage + ", got '" + t.expr + "' with " + std::to_string(t.sizes.size()) + " dims of sizes " +
                          [&] { std::string o; for (const auto& x : t.sizes) o += (o.empty() ? "" : ", ") + x.str(); return o; }());
        zeros.emplace_back(SValue::integer(0), span);
      }
      return load(seed, zeros, span, nullptr, "").value;
    }
    case K::IR:
      if (!seed.value->type.is_scalar() || !is_integral(seed.value->type.dtype))
        error(span, usage + ", got a " + torch_name(seed.value->type.dtype) + " value of shape " +
                        gen().shape_str(seed.value->type.dims));
      return seed.value;
    default: error(span, usage + ", got " + describe(seed));
  }
}

ir::Value* Analyzer::implicit_random_seed(SourceSpan span) {
  int tensor = -1;
  auto it = tensor_params_.find(kSeedBufferExpr);
  if (it != tensor_params_.end()) {
    tensor = it->second;
  } else {
    ir::TensorParam p;
    p.name = kSeedBufferName;
    p.host_expr = kSeedBufferExpr;
    p.dtype = DType::Int64;
    p.sizes = {SymInt(1)};  // the final count is set when the whole function is analyzed
    p.strides = {SymInt(1)};
    p.read = true;
    kernel_->tensors.push_back(p);
    tensor = static_cast<int>(kernel_->tensors.size() - 1);
    tensor_params_[kSeedBufferExpr] = tensor;
  }
  ir::Attrs a;
  a.tensor = tensor;
  a.seed_slot = program_->rng_seed_count++;
  return gen().builder().create(OpKind::RngSeed, {}, {ir::Type{DType::Int64, {}}}, span, a)->result();
}

std::vector<ir::Value*> Analyzer::random_draw(ir::RandomFn fn, ir::Value* seed, ir::Value* offsets, SourceSpan span,
                                              ir::Value* low, ir::Value* high) {
  ir::Attrs a;
  a.random = fn;
  std::vector<ir::Value*> operands = {seed, offsets};
  if (fn == ir::RandomFn::RandInt) {
    operands.push_back(low);
    operands.push_back(high);
  }
  ir::Type t{fn == ir::RandomFn::RandInt ? DType::Int32 : DType::Float32, offsets->type.dims};
  std::vector<ir::Type> types(fn == ir::RandomFn::Rand4x ? 4 : 1, t);
  ir::Op* op = gen().builder().create(OpKind::Random, operands, types, span, a);
  std::vector<ir::Value*> out;
  for (auto& r : op->results) out.push_back(r.get());
  return out;
}

void Analyzer::finish_random_seeds() {
  for (auto& k : program_->kernels)
    for (auto& t : k->tensors)
      if (t.host_expr == kSeedBufferExpr) t.sizes = {SymInt(program_->rng_seed_count)};
}

bool Analyzer::call_random(const std::string& name, const CallArgs& call, SValue& out) {
  auto device_only = [&]() {
    if (!in_device())
      error(call.span, name + "() can only be used inside a tile loop",
            {"on the host, draw random tensors with torch.rand / torch.randint"});
  };
  auto tensor_result = [](ir::Value* v) { return SValue::ir(v, PromotionClass::Tensor); };

  if (name == "hl.rand") {
    device_only();
    BoundArgs b = bind(call, {"shape", "seed", "device=", "offsets="});
    ir::Value* seed = random_seed(*b.get("seed"), b.span_of("seed"), "hl.rand");
    ir::Value* offsets;
    if (b.has("offsets") && b.get("offsets")->kind != K::None) {
      // Explicit offsets: the result has their shape and `shape` is not used.
      SValue o = expect_device(*b.get("offsets"), b.span_of("offsets"), "offsets of hl.rand");
      if (!is_integral(o.value->type.dtype))
        error(b.span_of("offsets"), "offsets of hl.rand must be integers, got " +
                                        std::string(torch_name(o.value->type.dtype)));
      offsets = o.value;
    } else {
      offsets = random_offsets(dims_from_shape(*b.get("shape"), b.span_of("shape")), call.span, "hl.rand");
    }
    out = tensor_result(random_draw(ir::RandomFn::Rand, seed, offsets, call.span)[0]);
    return true;
  }
  if (name == "hl.rand4x") {
    device_only();
    BoundArgs b = bind(call, {"seed", "offsets", "device="});
    ir::Value* seed = random_seed(*b.get("seed"), b.span_of("seed"), "hl.rand4x");
    SValue o = expect_device(*b.get("offsets"), b.span_of("offsets"), "offsets of hl.rand4x");
    if (!is_integral(o.value->type.dtype))
      error(b.span_of("offsets"), "offsets of hl.rand4x must be integers, got " +
                                      std::string(torch_name(o.value->type.dtype)));
    std::vector<SValue> parts;
    for (ir::Value* v : random_draw(ir::RandomFn::Rand4x, seed, o.value, call.span)) parts.push_back(tensor_result(v));
    out = SValue::tuple(parts);
    return true;
  }
  if (name == "hl.randint") {
    device_only();
    BoundArgs b = bind(call, {"shape", "low", "high", "seed", "device="});
    ir::Value* seed = random_seed(*b.get("seed"), b.span_of("seed"), "hl.randint");
    const SValue& low = *b.get("low");
    const SValue& high = *b.get("high");
    if (low.is_constant_int() && high.is_constant_int() && low.i.constant() >= high.i.constant())
      error(call.span, "hl.randint needs low < high, got low=" + low.i.str() + " and high=" + high.i.str());
    auto bound = [&](const SValue& v, const char* arg) {
      SValue d = expect_device(v, b.span_of(arg), std::string(arg) + " of hl.randint");
      if (!d.value->type.is_scalar() || !is_integral(d.value->type.dtype))
        error(b.span_of(arg), std::string(arg) + " of hl.randint must be an int");
      if (d.value->def && d.value->def->kind == OpKind::Constant && fits_int32(d.value->def->attrs.literal.i))
        return gen().cast(d.value, DType::Int32, b.span_of(arg));
      return d.value;
    };
    ir::Value* lo = bound(low, "low");
    ir::Value* hi = bound(high, "high");
    ir::Value* offsets = random_offsets(dims_from_shape(*b.get("shape"), b.span_of("shape")), call.span, "hl.randint");
    out = tensor_result(random_draw(ir::RandomFn::RandInt, seed, offsets, call.span, lo, hi)[0]);
    return true;
  }

  // torch's functions: seeded from torch's generator through the seed buffer.
  static const char* const kTorch[] = {"torch.rand", "torch.randn", "torch.rand_like", "torch.randn_like"};
  if (!in_device() || std::find(std::begin(kTorch), std::end(kTorch), name) == std::end(kTorch)) return false;
  bool like = name.size() > 5 && name.compare(name.size() - 5, 5, "_like") == 0;
  bool normal = name.rfind("torch.randn", 0) == 0;
  std::vector<int> dims;
  DType dtype = DType::Float32;
  BoundArgs b;
  if (like) {
    b = bind(call, {"input", "*", "dtype=", "layout=", "device=", "requires_grad=", "memory_format=", "pin_memory="});
    ir::Value* x = expect_tensor_value(*b.get("input"), b.span_of("input"), "the input of " + name);
    dims = x->type.dims;
    dtype = x->type.dtype;
  } else {
    // torch.rand(*size) or torch.rand(size): the sizes are positional.
    CallArgs sized = call;
    sized.args.clear();
    sized.arg_spans.clear();
    std::vector<SValue> sizes = call.args;
    if (sizes.size() == 1 && sizes[0].is_sequence()) sizes = sizes[0].elts;
    if (sizes.empty()) error(call.span, name + "() needs a size inside a tile loop");
    b = bind(sized, {"*", "generator=", "out=", "dtype=", "layout=", "device=", "requires_grad=", "pin_memory="});
    if (b.has("generator") && b.get("generator")->kind != K::None)
      error(b.span_of("generator"), name + "(generator=...) is not supported inside tile loops",
            {"the numbers come from torch's default generator (torch.manual_seed), or use hl.rand with a seed"});
    if (b.has("out") && b.get("out")->kind != K::None)
      error(b.span_of("out"), name + "(out=...) is not supported inside tile loops");
    dims = dims_from_shape(SValue::list(sizes), call.arg_spans.empty() ? call.span : call.arg_spans[0]);
  }
  if (b.has("dtype") && b.get("dtype")->kind != K::None) dtype = expect_dtype(*b.get("dtype"), b.span_of("dtype"), "dtype");
  if (!is_floating(dtype))
    error(b.has("dtype") ? b.span_of("dtype") : call.span,
          name + "(): implicit RNG only supports floating-point dtypes, got torch." + torch_name(dtype),
          {"for integers use hl.randint(shape, low, high, seed)"});
  if (b.has("requires_grad") && b.get("requires_grad")->kind != K::None &&
      expect_const_bool(*b.get("requires_grad"), b.span_of("requires_grad"), "requires_grad"))
    error(b.span_of("requires_grad"), name + "(requires_grad=True) is not supported inside tile loops");
  ir::Value* seed = implicit_random_seed(call.span);
  ir::Value* offsets = random_offsets(dims, call.span, name);
  ir::Value* v = random_draw(normal ? ir::RandomFn::Randn : ir::RandomFn::Rand, seed, offsets, call.span)[0];
  out = tensor_result(gen().cast(v, dtype, call.span));
  return true;
}

}  // namespace deuteron::sema
