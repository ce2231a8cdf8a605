// The IR text parser: print(parse(print(k))) == print(k), and parse(print(k))
// is the same kernel as k in everything a pass or the emitter reads (checked
// field by field after every lowering stage of kernels that use every op and
// attribute); malformed text is a CompileError at its line and column, never
// a crash (truncated and mutated texts).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "deuteron/compiler.h"
#include "deuteron/ir_parser.h"
#include "deuteron/passes.h"

namespace deuteron {
namespace {

// ------------------------------------------------------------- kernels

ArgSpec tensor(const std::string& name, DType dtype, std::vector<int64_t> sizes) {
  ArgSpec a;
  a.name = name;
  a.kind = ArgSpec::Kind::Tensor;
  a.dtype = dtype;
  a.sizes = sizes;
  a.strides.assign(sizes.size(), 1);
  for (size_t i = sizes.size(); i-- > 1;) a.strides[i - 1] = a.strides[i] * sizes[i];
  return a;
}

ArgSpec scalar(const std::string& name, ArgSpec::Kind kind) {
  ArgSpec a;
  a.name = name;
  a.kind = kind;
  return a;
}

GlobalSpec module(const std::string& name, const std::string& qual) {
  GlobalSpec g;
  g.name = name;
  g.kind = GlobalSpec::Kind::Module;
  g.qualname = qual;
  return g;
}

std::unique_ptr<BoundKernel> bind_kernel(const std::string& source, const std::string& function, std::vector<ArgSpec> args,
                                  bool static_shapes = true,
                                  const std::vector<std::pair<std::string, std::string>>& helpers = {}) {
  BindRequest req;
  auto file = std::make_shared<SourceFile>();
  file->filename = "kernels.py";
  file->text = source;
  req.file = file;
  req.function_name = function;
  req.args = std::move(args);
  req.static_shapes = static_shapes;
  req.interpret = true;  // breakpoint() in a tile loop
  req.globals = {module("torch", "torch"), module("deuteron", "deuteron"), module("hl", "deuteron.language"),
                 module("math", "math")};
  for (const auto& [name, text] : helpers) {
    GlobalSpec g;
    g.name = name;
    g.kind = GlobalSpec::Kind::Helper;
    auto helper = std::make_shared<SourceFile>();
    helper->filename = "helpers.py";
    helper->text = text;
    g.helper_source = helper;
    req.globals.push_back(g);
  }
  return BoundKernel::bind(req);
}

struct Case {
  const char* name;
  const char* source;
  const char* function;
  std::vector<ArgSpec> args;
  const char* config;  // JSON, normalized by the kernel's spec
  bool static_shapes = true;
  std::vector<std::pair<std::string, std::string>> helpers = {};  // module-level functions: name, source
};

const char* const kPointwise = R"(
@deuteron.kernel()
def mix(x: torch.Tensor, y: torch.Tensor, alpha: float, k: int) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(x.size()):
        a = x[tile_m, tile_n]
        b = y[tile_n]
        c = torch.where(a > 0.5, a * alpha, -b[None, :] + 1)
        d = torch.exp(c).to(torch.float16).to(torch.float32) // 3
        e = (tile_m.index[:, None] % 7 + tile_n.begin + k).to(torch.float32)
        flag = (a != a) | (b[None, :] > 2.5)
        f = (a * tile_n.block_size)[:, :, None].squeeze(2).permute(1, 0).permute(1, 0)
        out[tile_m, tile_n] = torch.where(flag, float("-inf"), d + e + tile_m.id + tile_n.count + f)
    return out
)";

const char* const kReductions = R"(
@deuteron.kernel()
def stats(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m, 3], dtype=torch.float32, device=x.device)
    idx = torch.empty([m], dtype=torch.int64, device=x.device)
    y = torch.empty_like(x)
    for tile_m in hl.tile(m):
        row = x[tile_m, :].to(torch.float32)
        out[tile_m, 0] = row.sum(-1)
        out[tile_m, 1] = torch.amax(row, dim=-1)
        out[tile_m, 2] = torch.var(row, dim=-1)
        idx[tile_m] = torch.argmax(row, dim=-1)
        sm = torch.softmax(row, dim=-1)
        y[tile_m, :] = sm.to(y.dtype)
    return out
)";

const char* const kMatmul = R"(
@deuteron.kernel()
def mm(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.empty([m, n], dtype=torch.float32, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = hl.dot(x[tile_m, tile_k], y[tile_k, tile_n], acc=acc)
        out[tile_m, tile_n] = torch.relu(acc)
    return out
)";

const char* const kCausal = R"(
@deuteron.kernel()
def causal(q_in: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    m_dim = q_in.size(-2)
    head_dim = hl.specialize(q_in.size(-1))
    k_view = k_in.transpose(1, 2)
    out = torch.empty_like(q_in)
    for tile_b, tile_m in hl.tile([q_in.size(0), m_dim]):
        m_i = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
        l_i = torch.full_like(m_i, 1.0)
        acc = hl.zeros([tile_b, tile_m, head_dim], dtype=torch.float32)
        q = q_in[tile_b, tile_m, :]
        for tile_n in hl.tile(0, tile_m.end):
            qk = torch.bmm(q, k_view[tile_b, :, tile_n])
            keep = tile_m.index[:, None] >= tile_n.index[None, :]
            qk = torch.where(keep[None, :, :], qk * 0.125, float("-inf"))
            m_ij = torch.maximum(m_i, torch.amax(qk, -1))
            p = torch.exp2(qk - m_ij[:, :, None])
            alpha = torch.exp2(m_i - m_ij)
            l_i = l_i * alpha + torch.sum(p, -1)
            acc = torch.baddbmm(acc * alpha[:, :, None], p.to(v_in.dtype), v_in[tile_b, tile_n, :])
            m_i = m_ij
        out[tile_b, tile_m, :] = (acc / l_i[:, :, None]).to(out.dtype)
    return out
)";

const char* const kMemory = R"(
@deuteron.kernel()
def memory(x: torch.Tensor, idx: torch.Tensor, counts: torch.Tensor, flags: torch.Tensor) -> torch.Tensor:
    n = x.size(0)
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        prev = hl.load(x, [tile.index - 1], extra_mask=tile.index > 0, eviction_policy="evict_last")
        gathered = x[idx[tile]]
        hl.store(out, [tile], prev + gathered, extra_mask=prev > 0)
        hl.atomic_add(counts, [tile.index % 8], 1)
        hl.atomic_cas(flags, [tile], 0, 1, sem="acq_rel")
        assert tile.begin >= 0, "a \"quoted\" message"
        print("prev: ", prev, gathered)
        twice, _ = hl.inline_triton("""
            t = {0} * 2  # "quoted" {{braces}}
            t, {c}
        """, args={"0": prev, "c": counts}, output_like=(prev, prev))
        hl.store(out, [tile], twice)
    hl.barrier()
    for row in hl.grid(4):
        v = x[row]
        if v > 0:
            v = v * 2
        else:
            v = v - 1
        out[row] = v + hl.arange(1).sum()
    return out
)";

// A registered block size's lanes (a Full dim) that tiles of a fixed block
// and of that block size join (block_lanes), and a store back onto the tile.
const char* const kBlockLanes = R"(
@deuteron.kernel()
def lanes(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.zeros([m], dtype=torch.float32, device=x.device)
    bs = hl.register_block_size(n)
    for tile_m in hl.tile(m, block_size=16):
        acc = hl.zeros([16, bs], dtype=torch.float32)
        for tile_n in hl.tile(n, block_size=bs):
            acc = acc + x[tile_m, tile_n] * 2
        out[tile_m] = acc.sum(-1)
    return out
)";

// While loops (a condition from a reduction, carried values; a spin lock on a
// one-lane tile) and a breakpoint.
const char* const kWhile = R"(
@deuteron.kernel()
def spin(x: torch.Tensor, lock: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile]
        steps = 0
        while v.abs().max() > 1.0:
            v = v * 0.5
            steps += 1
        breakpoint()
        out[tile] = v + steps
    for t in hl.tile(lock.size(0)):
        while hl.atomic_cas(lock, [t], 0, 1) == 1:
            pass
        hl.atomic_xchg(lock, [t], 0)
    return out
)";

const char* const kDynamic = R"(
@deuteron.kernel()
def dyn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(out.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n] + y[tile_m, tile_n].sum(-1, keepdim=True)
    return out
)";

// Random numbers (explicit and implicit seeds) and scans / reductions by combine
// functions, with and without regions and `other`.
const char* const kAddPair = R"(def add_pair(lv, ls, rv, rs):
    return torch.where(ls == rs, lv + rv, rv), rs
)";
const char* const kMul = R"(def mul(a, b):
    return a * b
)";
const char* const kRandomScans = R"(
@deuteron.kernel()
def rand_scans(x: torch.Tensor, ids: torch.Tensor, seed: int) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile, :] + hl.rand([tile, x.size(1)], seed=seed) + torch.rand_like(x[tile, :])
        segs = ids[tile].unsqueeze(1).expand_as(v)
        total, _ = hl.associative_scan(add_pair, (v, segs), dim=1, reverse=True)
        prod = hl.reduce(mul, total, dim=1, other=1.0, keep_dims=True)
        ranked, order = torch.sort(total, dim=1, descending=True)
        top, _ = torch.topk(v, 3)
        out[tile, :] = torch.cumsum(total, dim=1) + prod + ranked + order.float() + top.sum(dim=1, keepdim=True)
    return out
)";

// Advanced indexing: index tensors that broadcast together (the `broadcast`
// index), one dim on two axes, and torch.gather.
const char* const kGathers = R"(
@deuteron.kernel()
def gathers(x: torch.Tensor, rows: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile_m, tile_n in hl.tile(rows.size()):
        r = rows[tile_m, tile_n]
        v = x[r, tile_n.index[None, :]] + torch.gather(x[tile_m, :], 1, r)
        hl.atomic_add(out, [tile_m.index[:, None], r], v)
        out[tile_m.index, tile_m.index] = w[tile_m, tile_m] * 2
    return out
)";

std::vector<Case> cases() {
  const DType f32 = DType::Float32, f16 = DType::Float16;
  return {
      {"pointwise", kPointwise, "mix",
       {tensor("x", f32, {100, 64}), tensor("y", f32, {64}), scalar("alpha", ArgSpec::Kind::Float),
        scalar("k", ArgSpec::Kind::Int)},
       R"({"block_sizes": [1, 64]})"},
      {"reductions persistent", kReductions, "stats", {tensor("x", f16, {64, 1000})}, R"({"block_sizes": [4]})"},
      {"reductions rolled", kReductions, "stats", {tensor("x", f16, {64, 1000})},
       R"({"block_sizes": [1], "reduction_loops": [128]})"},
      {"matmul", kMatmul, "mm", {tensor("x", f16, {256, 128}), tensor("y", f16, {128, 256})},
       R"({"block_sizes": [128, 64, 32], "subtiles": 2})"},
      {"causal", kCausal, "causal",
       {tensor("q_in", f16, {2, 256, 64}), tensor("k_in", f16, {2, 256, 64}), tensor("v_in", f16, {2, 256, 64})},
       R"({"block_sizes": [1, 128, 64], "subtiles": 2})"},
      {"memory", kMemory, "memory",
       {tensor("x", f32, {1000}), tensor("idx", DType::Int64, {1000}), tensor("counts", DType::Int32, {8}),
        tensor("flags", DType::Int32, {1000})},
       R"({"block_sizes": [128]})"},
      {"dynamic shapes", kDynamic, "dyn", {tensor("x", f32, {300, 200}), tensor("y", f32, {300, 200})},
       R"({"block_sizes": [16, 32]})", false},
      {"random and scans", kRandomScans, "rand_scans",
       {tensor("x", f32, {64, 100}), tensor("ids", DType::Int32, {64}), scalar("seed", ArgSpec::Kind::Int)},
       R"({"block_sizes": [4]})", true, {{"add_pair", kAddPair}, {"mul", kMul}}},
      {"block lanes", kBlockLanes, "lanes", {tensor("x", f32, {100, 70})}, R"({"block_sizes": [32]})"},
      {"gathers", kGathers, "gathers",
       {tensor("x", f32, {64, 64}), tensor("rows", DType::Int64, {64, 64}), tensor("w", f32, {64, 64})},
       R"({"block_sizes": [1, 16]})"},
      {"gathers 2-D", kGathers, "gathers",
       {tensor("x", f32, {64, 64}), tensor("rows", DType::Int64, {64, 64}), tensor("w", f32, {64, 64})},
       R"({"block_sizes": [8, 16]})"},
      {"while", kWhile, "spin", {tensor("x", f32, {100}), tensor("lock", DType::Int32, {8})},
       R"({"block_sizes": [32, 1]})"},
      {"int64 indices", kDynamic, "dyn", {tensor("x", f32, {65536, 32768}), tensor("y", f32, {65536, 32768})},
       R"({"block_sizes": [16, 32]})"},
  };
}

// ---------------------------------------------------- field-by-field equality

// The first difference between two kernels in what the text carries, or "".
// Not carried: spans' columns, name hints, tensors' arg_index, symbols' hints
// and the ids of ops other than loops.
// Literals equal bit for bit (so -0.0 differs from 0.0), any NaN equal to any NaN.
bool same_literal(const ir::Literal& x, const ir::Literal& y) {
  return x.kind == y.kind && x.i == y.i && x.b == y.b &&
         (std::memcmp(&x.f, &y.f, sizeof(double)) == 0 || (std::isnan(x.f) && std::isnan(y.f)));
}

class Differ {
 public:
  std::string run(const ir::DeviceKernel& a, const ir::DeviceKernel& b) {
    check(a.name == b.name, "kernel name");
    check(a.index_dtype == b.index_dtype, "index_dtype");
    check(a.next_value_id == b.next_value_id, "next_value_id");
    check(a.num_loads == b.num_loads, "num_loads");
    check(a.num_stores == b.num_stores, "num_stores");
    check(a.tensors.size() == b.tensors.size(), "tensor count");
    for (size_t i = 0; i < a.tensors.size() && out_.empty(); ++i) {
      const auto &x = a.tensors[i], &y = b.tensors[i];
      std::string w = "tensor " + x.name;
      check(x.name == y.name && x.host_expr == y.host_expr && x.dtype == y.dtype, w);
      check(syms(x.sizes, y.sizes) && syms(x.strides, y.strides), w + " sizes/strides");
      check(x.read == y.read && x.written == y.written, w + " read/written");
    }
    check(a.scalars.size() == b.scalars.size(), "scalar count");
    for (size_t i = 0; i < a.scalars.size() && out_.empty(); ++i)
      check(a.scalars[i].name == b.scalars[i].name && a.scalars[i].host_expr == b.scalars[i].host_expr &&
                a.scalars[i].dtype == b.scalars[i].dtype,
            "scalar " + a.scalars[i].name);
    check(a.dims.size() == b.dims.size(), "dim count");
    for (size_t i = 0; i < a.dims.size() && out_.empty(); ++i) {
      const auto &x = a.dims[i], &y = b.dims[i];
      std::string w = "dim d" + std::to_string(i);
      check(x.id == y.id && x.kind == y.kind && x.name == y.name, w);
      check(x.begin.same_as(y.begin) && x.end.same_as(y.end), w + " bounds");
      check(x.block_size_index == y.block_size_index && x.fixed_block_size == y.fixed_block_size, w + " block");
      check(x.reduction_index == y.reduction_index && x.loop_id == y.loop_id, w + " reduction/loop");
      check(x.dynamic_bounds == y.dynamic_bounds, w + " dynamic_bounds");
      check(x.subtile_of == y.subtile_of && x.subtile_offset == y.subtile_offset, w + " subtile");
    }
    check(a.grid_dims == b.grid_dims, "grid dims");
    if (out_.empty()) region(a.body, b.body, "body");
    return out_;
  }

 private:
  void check(bool ok, const std::string& what) {
    if (!ok && out_.empty()) out_ = what + " differs";
  }
  static bool syms(const std::vector<SymInt>& a, const std::vector<SymInt>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!a[i].same_as(b[i])) return false;
    return true;
  }
  static bool same_value(const ir::Value* a, const ir::Value* b) { return a->id == b->id && a->type == b->type; }

  void region(const ir::Region& a, const ir::Region& b, const std::string& where) {
    check(a.args.size() == b.args.size(), where + " argument count");
    for (size_t i = 0; i < a.args.size() && out_.empty(); ++i) {
      check(same_value(a.args[i].get(), b.args[i].get()), where + " argument " + std::to_string(i));
      check(b.args[i]->owner == &b && b.args[i]->index == static_cast<int>(i), where + " argument links");
    }
    check(a.ops.size() == b.ops.size(), where + " op count");
    for (size_t i = 0; i < a.ops.size() && out_.empty(); ++i) op(*a.ops[i], *b.ops[i], b);
  }

  void op(const ir::Op& a, const ir::Op& b, const ir::Region& parent) {
    std::string w = std::string(ir::name(a.kind)) + " (line " + std::to_string(a.span.line) + ")";
    check(a.kind == b.kind, w + " kind");
    if (!out_.empty()) return;
    check(b.parent == &parent, w + " parent link");
    check(a.span.line == b.span.line, w + " line");
    check(a.operands.size() == b.operands.size(), w + " operand count");
    // Memory ops' operands are in a canonical order after parsing (index
    // operands, expected, value, mask: passes append new index operands);
    // their attributes say which is which, and are compared by role below.
    bool memory = a.kind == ir::OpKind::Load || a.kind == ir::OpKind::Store || a.kind == ir::OpKind::AtomicRMW;
    for (size_t i = 0; i < a.operands.size() && out_.empty() && !memory; ++i)
      check(same_value(a.operands[i], b.operands[i]), w + " operand " + std::to_string(i));
    check(a.results.size() == b.results.size(), w + " result count");
    for (size_t i = 0; i < a.results.size() && out_.empty(); ++i) {
      check(same_value(a.results[i].get(), b.results[i].get()), w + " result " + std::to_string(i));
      check(b.results[i]->def == &b && b.results[i]->index == static_cast<int>(i), w + " result links");
    }
    const ir::Attrs &x = a.attrs, &y = b.attrs;
    switch (a.kind) {
      case ir::OpKind::Constant:
      case ir::OpKind::Full:
        check(same_literal(x.literal, y.literal), w + " literal");
        break;
      case ir::OpKind::ScalarParam: check(x.param == y.param, w + " param"); break;
      case ir::OpKind::SymValue: check(x.sym.same_as(y.sym), w + " sym"); break;
      case ir::OpKind::TileIndex:
      case ir::OpKind::TileBegin:
      case ir::OpKind::TileEnd:
      case ir::OpKind::TileBlockSize:
      case ir::OpKind::TileId:
      case ir::OpKind::TileCount:
      case ir::OpKind::TileMask:
      case ir::OpKind::Arange: check(x.dim == y.dim, w + " dim"); break;
      case ir::OpKind::Load:
      case ir::OpKind::Store:
      case ir::OpKind::AtomicRMW:
      {
        auto role = [](const ir::Op& op, int i) -> const ir::Value* { return i < 0 ? nullptr : op.operands.at(i); };
        auto same_role = [&](int i, int j) {
          const ir::Value *p = role(a, i), *q = role(b, j);
          return (!p && !q) || (p && q && same_value(p, q));
        };
        check(x.tensor == y.tensor, w + " tensor");
        check(x.index.size() == y.index.size(), w + " index size");
        for (size_t i = 0; i < x.index.size() && out_.empty(); ++i) {
          const auto &p = x.index[i], &q = y.index[i];
          check(p.kind == q.kind, w + " index kind " + std::to_string(i));
          if (p.kind == ir::IndexSpec::Kind::TileDim)
            check(p.dim == q.dim && p.offset.same_as(q.offset), w + " index dim " + std::to_string(i));
          if (p.kind == ir::IndexSpec::Kind::Scalar || p.kind == ir::IndexSpec::Kind::Tensor)
            check(same_role(p.operand, q.operand), w + " index operand " + std::to_string(i));
        }
        check(same_role(x.extra_mask, y.extra_mask), w + " extra_mask");
        check(x.mask_elided == y.mask_elided, w + " mask_elided");
        check(x.broadcast_index == y.broadcast_index, w + " broadcast_index");
        if (a.kind != ir::OpKind::Load) check(same_role(x.value_operand, y.value_operand), w + " value_operand");
        if (a.kind == ir::OpKind::AtomicRMW) {
          check(x.atomic == y.atomic && x.atomic_sem == y.atomic_sem, w + " atomic");
          check(same_role(x.expected_operand, y.expected_operand), w + " expected_operand");
        } else {
          check(x.memory_op == y.memory_op, w + " memory_op");
        }
        if (a.kind == ir::OpKind::Load) check(x.eviction_policy == y.eviction_policy, w + " eviction");
        break;
      }
      case ir::OpKind::Unary: check(x.unary == y.unary, w + " fn"); break;
      case ir::OpKind::Binary: check(x.binary == y.binary, w + " fn"); break;
      case ir::OpKind::Cast: check(x.bitcast == y.bitcast && x.opmath == y.opmath, w + " cast attrs"); break;
      case ir::OpKind::ExpandDims:
      case ir::OpKind::Squeeze:
      case ir::OpKind::BlockLanes: check(x.axis == y.axis, w + " axis"); break;
      case ir::OpKind::Permute: check(x.perm == y.perm, w + " perm"); break;
      case ir::OpKind::Reduce:
        check(x.reduce == y.reduce && x.axis == y.axis && x.keepdim == y.keepdim && x.mask_elided == y.mask_elided,
              w + " reduce attrs");
        break;
      case ir::OpKind::RngSeed: check(x.tensor == y.tensor && x.seed_slot == y.seed_slot, w + " seed attrs"); break;
      case ir::OpKind::Random: check(x.random == y.random, w + " fn"); break;
      case ir::OpKind::Scan:
      case ir::OpKind::CombineReduce: {
        bool same_other = std::equal(x.other.begin(), x.other.end(), y.other.begin(), y.other.end(), same_literal);
        check(x.axis == y.axis && x.keepdim == y.keepdim && x.reverse == y.reverse && x.combine_fn == y.combine_fn &&
                  (a.kind == ir::OpKind::CombineReduce || !a.regions.empty() || x.reduce == y.reduce) && same_other,
              w + " scan / combine attrs");
        break;
      }
      case ir::OpKind::Sort:
        check(x.axis == y.axis && x.reverse == y.reverse && x.sort_k == y.sort_k, w + " sort attrs");
        break;
      case ir::OpKind::Gather: check(x.axis == y.axis, w + " gather axis"); break;
      case ir::OpKind::Dot:
        check(x.dot_out_dtype == y.dot_out_dtype && x.dot_precision == y.dot_precision, w + " dot attrs");
        break;
      case ir::OpKind::For:
        check(a.id == b.id && x.dim == y.dim && x.dynamic_bounds == y.dynamic_bounds, w + " loop attrs");
        break;
      case ir::OpKind::Assert:
      case ir::OpKind::Print:
      case ir::OpKind::InlineTriton: check(x.message == y.message, w + " message"); break;
      default: break;
    }
    check(a.regions.size() == b.regions.size(), w + " region count");
    for (size_t i = 0; i < a.regions.size() && out_.empty(); ++i) {
      check(b.regions[i]->parent == &b, w + " region parent link");
      region(*a.regions[i], *b.regions[i], w + " region " + std::to_string(i));
    }
  }

  std::string out_;
};

// The kernel read back from its text is the same kernel.
void expect_round_trip(const ir::DeviceKernel& k, const std::string& where) {
  std::string text = ir::print(k);
  std::vector<std::unique_ptr<ir::DeviceKernel>> parsed;
  try {
    parsed = ir::parse_kernels(text, where);
  } catch (const CompileError& e) {
    ADD_FAILURE() << where << ": " << e.formatted() << "\n" << text;
    return;
  }
  ASSERT_EQ(parsed.size(), 1u) << where;
  EXPECT_EQ(ir::print(*parsed[0]), text) << where;
  EXPECT_EQ(Differ().run(k, *parsed[0]), "") << where << "\n" << text;
  EXPECT_NO_THROW(ir::verify(*parsed[0])) << where;
}

// Every lowering stage of every case, as BoundKernel::lower runs them.
TEST(IrParser, EveryStageOfKernelsUsingEveryOpReadsBackTheSame) {
  std::set<ir::OpKind> seen;
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    auto bound = bind_kernel(c.source, c.function, c.args, c.static_shapes, c.helpers);
    json::Value config = bound->normalize(json::parse(c.config));
    std::vector<std::optional<int64_t>> rl;
    for (const auto& v : config.at("reduction_loops").as_array())
      rl.push_back(v.is_null() ? std::nullopt : std::optional<int64_t>(v.as_int()));
    std::vector<int64_t> bs;
    for (const auto& v : config.at("block_sizes").as_array()) bs.push_back(v.as_int());
    int subtiles = static_cast<int>(config.at("subtiles").as_int());
    for (const auto& original : bound->program().kernels) {
      auto k = ir::clone(*original);
      std::string name = std::string(c.name) + " " + k->name;
      auto see = [&] { ir::walk(k->body, [&](const ir::Op& op) { seen.insert(op.kind); }); };
      expect_round_trip(*k, name + " after sema");
      see();
      passes::roll_reductions(*k, rl);
      expect_round_trip(*k, name + " after reduction_rolling");
      see();
      passes::eliminate_unit_dims(*k, bs);
      expect_round_trip(*k, name + " after unit_dim_elimination");
      see();
      passes::split_grid_subtiles(*k, subtiles, bs);
      expect_round_trip(*k, name + " after grid_subtiling");
      see();
      passes::eliminate_dead_code(*k);
      expect_round_trip(*k, name + " after dead_code_elimination");
    }
  }
  // The cases are meant to cover the IR: say which op kinds they missed.
  std::string missing;
  for (int i = 0; i <= static_cast<int>(ir::OpKind::InlineTriton); ++i)
    if (!seen.count(static_cast<ir::OpKind>(i))) missing += std::string(" ") + ir::name(static_cast<ir::OpKind>(i));
  EXPECT_EQ(missing, "") << "op kinds no case produces";
}

// ------------------------------------------------------------ error messages

struct BadText {
  const char* text;
  int line, col;
  const char* message;
};

const char* const kGood = R"(kernel _add_kernel
  tensor x: f32[1000] strides [1] (read)  = x
  tensor out: f32[1000] strides [1] (written)  = out
  dim d0: tile tile [0, 1000) block_sizes[0]
  grid: d0
  %0 = load x[d0] #0 : f32[d0]  # line 12
  %1 = constant 2 : f32
  %2 = binary mul %0, %1 : f32[d0]  # line 12
  store out[d0], %2 #0  # line 12
)";

std::string with_line(int line, const std::string& replacement) {
  std::stringstream in(kGood);
  std::string out, l;
  for (int i = 1; std::getline(in, l); ++i) out += (i == line ? replacement : l) + "\n";
  return out;
}

TEST(IrParser, AcceptsTheReferenceText) {
  auto ks = ir::parse_kernels(kGood);
  ASSERT_EQ(ks.size(), 1u);
  EXPECT_EQ(ir::print(*ks[0]), kGood);
  EXPECT_NO_THROW(ir::verify(*ks[0]));
}

TEST(IrParser, ErrorsPointAtLineAndColumn) {
  std::vector<BadText> bad;
  auto line = [&](int n, const std::string& text, int col, const char* msg) {
    static std::vector<std::string> keep;
    keep.push_back(with_line(n, text));
    bad.push_back({keep.back().c_str(), n, col, msg});
  };
  line(1, "kernel", 7, "expected the kernel's name");
  line(1, "kernel _k colour=blue", 11, "unknown kernel attribute 'colour'");
  line(2, "  tensor x: f33[1000] strides [1] (read)  = x", 13, "unknown element type 'f33'");
  line(2, "  tensor x: f32[1000] strides [1, 1] (read)  = x", 38, "1 sizes but 2 strides");
  line(2, "  tensor x: f32[1000 strides [1] (read)  = x", 22, "expected ']'");
  line(4, "  dim d1: tile tile [0, 1000) block_sizes[0]", 7, "expected dim d0");
  line(4, "  dim d0: tiles tile [0, 1000) block_sizes[0]", 11, "expected 'tile', 'grid' or 'full'");
  line(4, "  dim d0: tile tile [0, 1000) block_sizes[0] extra", 46, "unexpected 'extra'");
  line(4, "  dim d0: tile tile [0, 1000 +) block_sizes[0]", 31, "expected a size expression");
  line(4, "  dim d0: tile tile [0, 1000 // 0) block_sizes[0]", 30, "division by zero");
  line(4, "  dim d0: tile tile [0, 9223372036854775807 + 1) block_sizes[0]", 45, "overflows");
  line(5, "  grid: d3", 9, "unknown dim d3");
  line(6, "  %0 = load y[d0] #0 : f32[d0]  # line 12", 13, "expected a tensor of the kernel");
  line(6, "  %0 = lod x[d0] #0 : f32[d0]  # line 12", 8, "unknown op 'lod'");
  line(6, "  %0 = load x[d0] : f32[d0]  # line 12", 19, "expected '#'");
  line(6, "  %0 = load x[d0] #0 : f32[d0, d7]  # line 12", 32, "unknown dim d7");
  line(6, "  %0 = load x[d0] #0  # line 12", 8, "defines 1 value but has 0 result types");
  line(7, "  %1 = constant : f32", 17, "expected a literal");
  line(7, "  %1 = constant two : f32", 17, "expected a literal");
  line(7, "  %1 = constant 99999999999999999999 : i32", 17, "out of range");
  line(8, "  %2 = binary mul %0 : f32[d0]  # line 12", 8, "'binary' takes 2 operands, got 1");
  line(8, "  %2 = binary mull %0, %1 : f32[d0]  # line 12", 15, "unknown binary function 'mull'");
  line(8, "  %2 = binary mul %0, %5 : f32[d0]  # line 12", 23, "value %5 is used before it is defined");
  line(8, "  %1 = binary mul %0, %1 : f32[d0]  # line 12", 3, "value %1 is defined twice");
  line(8, "  %2 = binary mul %0, %1 : f32[d0]  # lines 12", 39, "expected 'line'");
  line(8, "    %2 = binary mul %0, %1 : f32[d0]  # line 12", 1, "unexpected indentation");
  line(9, "  %3 = store out[d0], %2 #0  # line 12", 8, "'store' has 0 results, got 1");
  line(9, "  store out[d0] %2 #0  # line 12", 17, "expected ','");
  for (const BadText& b : bad) {
    SCOPED_TRACE(b.text);
    try {
      ir::parse_kernels(b.text, "t.ir");
      ADD_FAILURE() << "no error";
    } catch (const CompileError& e) {
      EXPECT_EQ(e.diagnostic().span.line, b.line) << e.formatted();
      EXPECT_EQ(e.diagnostic().span.col, b.col) << e.formatted();
      EXPECT_NE(e.diagnostic().message.find(b.message), std::string::npos) << e.formatted();
      EXPECT_EQ(e.formatted().rfind("t.ir:" + std::to_string(b.line) + ":" + std::to_string(b.col) + ": error:", 0),
                0u)
          << e.formatted();
    }
  }
}

TEST(IrParser, RegionsNeedTheirHeaders) {
  const char* text = R"(kernel _k
  tensor x: f32[64] strides [1] (read)  = x
  dim d0: tile t [0, 64) block_sizes[0]
  dim d1: tile u [0, 64) block_sizes[1] loop #3
  grid: d0
  %0 = full 0 : f32[d0]
  %5 = for d1 #3 iter(%0) : f32[d0]
  %6 = binary add %5, %5 : f32[d0]
)";
  try {
    ir::parse_kernels(text, "t.ir");
    ADD_FAILURE() << "no error";
  } catch (const CompileError& e) {
    EXPECT_EQ(e.diagnostic().span.line, 8) << e.formatted();
    EXPECT_NE(e.diagnostic().message.find("expected 'body:'"), std::string::npos) << e.formatted();
  }
}

TEST(IrParser, ValuesOfALoopAreNotVisibleInItsBody) {
  // %5 is the loop's own result: using it inside the body is an error.
  const char* text = R"(kernel _k
  dim d0: tile t [0, 64) block_sizes[0]
  dim d1: tile u [0, 64) block_sizes[1] loop #3
  grid: d0
  %0 = full 0 : f32[d0]
  %5 = for d1 #3 iter(%0) : f32[d0]
    body(%1: f32[d0]):
      %2 = binary add %1, %5 : f32[d0]
      yield %2
)";
  try {
    ir::parse_kernels(text, "t.ir");
    ADD_FAILURE() << "no error";
  } catch (const CompileError& e) {
    EXPECT_EQ(e.diagnostic().span.line, 8) << e.formatted();
    EXPECT_EQ(e.diagnostic().span.col, 27) << e.formatted();
  }
}

TEST(IrParser, SkipsCommentsAndReadsSeveralKernels) {
  std::string text = std::string("# RUN: --run-pass=verify\n\n") + kGood + "# between\n" + kGood;
  auto ks = ir::parse_kernels(text);
  ASSERT_EQ(ks.size(), 2u);
  EXPECT_EQ(ir::print(*ks[1]), kGood);
}

TEST(IrParser, LiteralsKeepTheirKind) {
  const char* text = R"(kernel _k
  dim d0: tile t [0, 64) block_sizes[0]
  grid: d0
  %0 = constant 2 : f32
  %1 = constant 2 : i32
  %2 = constant 2.5 : f32
  %3 = constant -inf : f32
  %4 = constant nan : f32
  %5 = constant True : i1
  %6 = constant 1.0000000000000001e-05 : f32
  %7 = constant -9223372036854775808 : i64
)";
  auto ks = ir::parse_kernels(text);
  std::vector<ir::Literal> lits;
  ir::walk(ks[0]->body, [&](const ir::Op& op) { lits.push_back(op.attrs.literal); });
  ASSERT_EQ(lits.size(), 8u);
  EXPECT_EQ(lits[0].kind, ir::Literal::Kind::Float);
  EXPECT_EQ(lits[1].kind, ir::Literal::Kind::Int);
  EXPECT_EQ(lits[2].f, 2.5);
  EXPECT_TRUE(std::isinf(lits[3].f) && lits[3].f < 0);
  EXPECT_TRUE(std::isnan(lits[4].f));
  EXPECT_EQ(lits[5].kind, ir::Literal::Kind::Bool);
  EXPECT_EQ(lits[6].f, 1e-05);
  EXPECT_EQ(lits[7].i, INT64_MIN);
  EXPECT_EQ(ir::print(*ks[0]), text);
}

TEST(IrParser, SizeExpressionsMeanWhatTheySay) {
  // Written by hand (not in SymInt's canonical order): read, the values are
  // right, and the canonical text print writes reads back unchanged.
  const char* text = R"(kernel _k
  tensor x: f32[x_size_0, x_size_1] strides [x_size_1, 1] (read)  = x
  dim d0: tile t [0, x_size_0 * x_size_1) block_sizes[0]
  dim d1: full x_size_1 * 4 [0, x_size_1 * 4)
  dim d2: full [1, max(x_size_0, 16) - (x_size_1 // 2) + x_size_0 % 3)
  grid: d0
  %0 = sym min(x_size_0, x_size_1 + 1) * 2 : i64
  %1 = load x[d0 + -1, d1 + x_size_1 - 2] #0 : f32[d0, d1]
)";
  auto ks = ir::parse_kernels(text);
  const ir::DeviceKernel& k = *ks[0];
  std::map<std::string, int64_t> env = {{"x_size_0", 100}, {"x_size_1", 10}};
  EXPECT_EQ(k.dims[0].end.evaluate(env), 1000);
  EXPECT_EQ(k.dims[1].name, "x_size_1 * 4");
  EXPECT_EQ(k.dims[1].end.evaluate(env), 40);
  EXPECT_EQ(k.dims[2].begin.evaluate(env), 1);
  EXPECT_EQ(k.dims[2].end.evaluate(env), 100 - 5 + 1);
  const ir::Op& sym = *k.body.ops[0];
  EXPECT_EQ(sym.attrs.sym.evaluate(env), 22);
  const ir::Op& load = *k.body.ops[1];
  EXPECT_EQ(load.attrs.index[0].offset.evaluate(env), -1);
  EXPECT_EQ(load.attrs.index[1].offset.evaluate(env), 8);
  std::string printed = ir::print(k);
  EXPECT_EQ(ir::print(*ir::parse_kernels(printed)[0]), printed);
}

// ------------------------------------------------------------- robustness

// Parses `text`; any outcome but success or a CompileError inside the text
// fails.  A kernel that parses is verified and, when valid, run through
// every pass: none of it may crash.
void parse_anything(const std::string& text) {
  std::vector<std::unique_ptr<ir::DeviceKernel>> ks;
  try {
    ks = ir::parse_kernels(text, "fuzz.ir");
  } catch (const CompileError& e) {
    EXPECT_TRUE(e.diagnostic().span.valid()) << e.formatted();
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a CompileError: " << e.what() << "\n" << text;
    return;
  }
  for (auto& k : ks) {
    try {
      ir::verify(*k);
    } catch (const ir::VerifyError&) {
      continue;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "verify threw something else: " << e.what() << "\n" << text;
      continue;
    }
    std::string printed = ir::print(*k);
    EXPECT_EQ(ir::print(*ir::parse_kernels(printed)[0]), printed);
    // Valid IR goes through every pass (odd but valid IR may be refused
    // with an exception, never crash).
    std::vector<std::optional<int64_t>> rl(8, 16);
    std::vector<int64_t> bs = {1, 32, 32, 1, 32, 32, 32, 32};
    try {
      passes::roll_reductions(*k, rl);
      passes::eliminate_unit_dims(*k, bs);
      passes::split_grid_subtiles(*k, 2, bs);
      passes::eliminate_dead_code(*k);
      ir::verify(*k);
    } catch (const std::exception&) {
    }
  }
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// IR text as print wrote it: golden dumps and the pass tests' outputs (not
// the analyses' findings, which also start with `kernel`).
std::vector<std::string> printed_ir_files() {
  std::vector<std::string> out;
  for (const char* dir : {DEUTERON_GOLDEN_DIR, DEUTERON_PASS_TEST_DIR})
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (e.path().extension() != ".expected") continue;
      std::string text = read(e.path());
      if (text.rfind("kernel ", 0) == 0 && text.find("\n  grid:") != std::string::npos) out.push_back(text);
    }
  return out;
}

TEST(IrParser, EveryPrintedFileOfTheTestsReadsBack) {
  auto files = printed_ir_files();
  EXPECT_GT(files.size(), 40u);
  for (const std::string& text : files) {
    auto ks = ir::parse_kernels(text);
    std::string again;
    for (const auto& k : ks) {
      again += ir::print(*k);
      EXPECT_NO_THROW(ir::verify(*k));
    }
    EXPECT_EQ(again, text);
  }
}

// The robustness corpus: the reference text, the golden dumps and the pass
// tests' inputs (comments and all).
std::vector<std::string> corpus() {
  std::vector<std::string> out = {kGood};
  for (const auto& e : std::filesystem::directory_iterator(DEUTERON_GOLDEN_DIR)) {
    std::string text = read(e.path());
    if (text.rfind("kernel ", 0) == 0) out.push_back(text);
  }
  for (const auto& e : std::filesystem::recursive_directory_iterator(DEUTERON_PASS_TEST_DIR))
    if (e.path().extension() == ".ir") out.push_back(read(e.path()));
  return out;
}

TEST(IrParserRobustness, TruncatedTextIsAnErrorOrAShorterKernel) {
  auto texts = corpus();
  EXPECT_GT(texts.size(), 40u);
  // Every length of the first few texts, every fifth of the others.
  for (size_t t = 0; t < texts.size(); ++t)
    for (size_t n = 0; n < texts[t].size(); n += t < 5 ? 1 : 5) parse_anything(texts[t].substr(0, n));
}

TEST(IrParserRobustness, MutatedTextIsAnErrorOrAKernel) {
  std::mt19937 rng(1234);
  const std::string alphabet = "%#:,[]()=+-*/ \nd0123456789abcxyz._\"\\";
  const char* const words[] = {"%0", "%99", "d0", "d9", "#1", "f32", "i1", "None", "for", "if", "yield", "body:",
                               "then:", "else:", "  ", "    ", ":", ",", "[", "]", "(", ")", "-", "1", "mask",
                               "unmasked", "iter(", "bounds(", "load", "store", "x[", "max(", "//", "\n"};
  for (const std::string& text : corpus()) {
    for (int iter = 0; iter < 200; ++iter) {
      std::string t = text;
      int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits && !t.empty(); ++e) {
        size_t pos = rng() % t.size();
        switch (rng() % 5) {
          case 0: t.erase(pos, 1 + rng() % 4); break;
          case 1: t.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
          case 2: t[pos] = alphabet[rng() % alphabet.size()]; break;
          case 3: t.insert(pos, words[rng() % (sizeof(words) / sizeof(words[0]))]); break;
          case 4: {  // duplicate or drop a whole line
            size_t b = t.rfind('\n', pos);
            b = b == std::string::npos ? 0 : b + 1;
            size_t en = t.find('\n', pos);
            en = en == std::string::npos ? t.size() : en + 1;
            std::string l = t.substr(b, en - b);
            if (rng() % 2) t.insert(en, l);
            else t.erase(b, en - b);
            break;
          }
        }
      }
      parse_anything(t);
    }
  }
}

}  // namespace
}  // namespace deuteron
