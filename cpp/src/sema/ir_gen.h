// Builds typed IR with PyTorch's semantics: type promotion, broadcasting,
// "opmath" (16-bit floats compute in float32 and round once per op, as eager
// PyTorch does), and masking-safe reductions.  Knows nothing about the AST;
// errors are reported at the span the caller passes.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>

#include "deuteron/ir.h"
#include "svalue.h"

namespace deuteron::sema {

class IRGen {
 public:
  IRGen(ir::DeviceKernel& kernel, std::shared_ptr<const SourceFile> file, DType index_dtype);

  ir::Builder& builder() { return builder_; }
  // Errors point into this file (changes while a helper function is inlined).
  void set_file(std::shared_ptr<const SourceFile> f) { file_ = std::move(f); }
  ir::DeviceKernel& kernel() { return kernel_; }
  DType index_dtype() const { return index_dtype_; }
  [[noreturn]] void error(SourceSpan span, std::string msg, std::vector<std::string> notes = {}) const;
  [[noreturn]] void error(SourceSpan span, ErrorKind kind, std::string msg,
                          std::vector<std::string> notes = {}) const;

  // --- leaves
  ir::Value* constant(const ir::Literal& lit, DType dtype, SourceSpan span);
  ir::Value* int_constant(int64_t v, DType dtype, SourceSpan span);
  ir::Value* sym_value(const SymInt& s, SourceSpan span);
  ir::Value* scalar_param(int param, DType dtype, SourceSpan span);
  ir::Value* full(const std::vector<int>& dims, const ir::Literal& lit, DType dtype, SourceSpan span);

  // Turns a host-level number into a device scalar (promotion class Scalar);
  // IR values pass through.  `runtime_param` creates/gets a ScalarParam for
  // runtime host numbers (floats and bools known only at call time).
  SValue to_device(const SValue& v, SourceSpan span);
  // Registers a runtime host scalar as a kernel parameter (deduplicated by expr).
  int scalar_param_for(const std::string& host_expr, DType dtype);

  // --- typing
  // Right-aligned broadcasting of two shapes; error names both shapes.
  std::vector<int> broadcast_dims(const std::vector<int>& a, const std::vector<int>& b, SourceSpan span) const;
  // The same without the error: nullopt (and the first axis that does not line
  // up in *bad_axis) when the shapes cannot broadcast.
  std::optional<std::vector<int>> try_broadcast_dims(const std::vector<int>& a, const std::vector<int>& b,
                                                     size_t* bad_axis = nullptr) const;
  std::string shape_str(const std::vector<int>& dims) const;  // "[tile_m, 1]"
  // torch.result_type over operands (IR values and host numbers).
  DType result_type(const std::vector<SValue>& operands) const;

  // Helion's implicit broadcast by tile identity: in an op of values of
  // different ranks whose right-aligned shapes clash on tiles, the
  // lower-rank value's axes are placed where the same dims are in the other
  // (b[tile0] with a[tile0, tile1] is b[tile0][:, None]), size-1 axes added
  // in between.  A reduction's result is left alone: x - x.amax(1) without
  // keepdim is the classic mistake, and stays a shape error (as in Helion).
  void align_ranks(ir::Value*& a, ir::Value*& b, SourceSpan span);
  // The same for one value going to the shape `dims` (expand, stores).
  ir::Value* align_to(ir::Value* v, const std::vector<int>& dims, SourceSpan span);
  // Turns v's axes that are tiles of one lane (a fixed block size of 1) into
  // size-1 axes where `other` has another dim on that right-aligned axis.
  void unit_tiles_broadcast(ir::Value*& v, const ir::Value* other, SourceSpan span);
  // Retypes v's tiles onto the whole dim of their block's lanes where
  // `other` has that dim on the same right-aligned axis (a registered block
  // size's dim, hl.zeros([tile_m, block_size]) against a tile of a loop over
  // block_size): lanes past the tile's end become 0 (ir::OpKind::BlockLanes).
  void onto_block_lanes(ir::Value*& v, const ir::Value* other, SourceSpan span);
  // One axis of v (a tile) onto `to` when that is its block's whole dim, or
  // with `back` also the reverse (the lanes onto the tile: a store's value);
  // v otherwise.
  ir::Value* block_lanes(ir::Value* v, int axis, int to, SourceSpan span, bool back = false);

  // --- pointwise (operands may be IR values or host numbers; at least one IR)
  ir::Value* cast(ir::Value* v, DType to, SourceSpan span);
  // A conversion to or from the type an op computes in (PyTorch's opmath:
  // float32 for 16-bit floats), not one the program wrote; marked so that
  // passes::keep_fp32_intermediates can drop the rounding between ops.
  ir::Value* opmath_cast(ir::Value* v, DType to, SourceSpan span);
  // Tensor.view(dtype): the same bits read as `to`, which must have v's width.
  ir::Value* bitcast(ir::Value* v, DType to, SourceSpan span);
  SValue unary(ir::UnaryFn fn, const SValue& x, SourceSpan span);
  SValue binary(ir::BinaryFn fn, const SValue& a, const SValue& b, SourceSpan span);
  SValue where(const SValue& cond, const SValue& a, const SValue& b, SourceSpan span);
  // Builds `fn` in `compute` dtype and rounds to `result` (opmath).
  ir::Value* binary_raw(ir::BinaryFn fn, ir::Value* a, ir::Value* b, DType result, SourceSpan span);
  ir::Value* unary_raw(ir::UnaryFn fn, ir::Value* a, DType result, SourceSpan span);
  ir::Value* where_raw(ir::Value* c, ir::Value* a, ir::Value* b, SourceSpan span);

  // --- shapes
  ir::Value* expand_dims(ir::Value* v, int axis, SourceSpan span);
  ir::Value* squeeze(ir::Value* v, int axis, SourceSpan span);
  ir::Value* permute(ir::Value* v, const std::vector<int>& perm, SourceSpan span);
  ir::Value* broadcast_to(ir::Value* v, const std::vector<int>& dims, SourceSpan span);
  ir::Value* reshape(ir::Value* v, const std::vector<int>& dims, SourceSpan span);

  // --- reductions: identity-padded over masked lanes at codegen; sums of
  // low-precision floats accumulate in float32 (as torch does).
  ir::Value* reduce(ir::ReduceFn fn, ir::Value* x, int axis, bool keepdim, std::optional<DType> out_dtype,
                    SourceSpan span);

  // --- scans with a known combine (Sum: cumsum, Prod: cumprod) along `axis`:
  // 16-bit floats and integers narrower than 32 bits compute in float32 /
  // int32 (what Triton's cumsum does), the result is rounded to `result`.
  ir::Value* scan(ir::ReduceFn fn, ir::Value* x, int axis, bool reverse, DType result, SourceSpan span);

  // --- matmul: a [.., M, K] @ b [.., K, N] (+ acc) -> [.., M, N]
  // (2-D and 3-D operands; a 2-D one with a 3-D one is broadcast over the batch.)
  ir::Value* dot(ir::Value* a, ir::Value* b, ir::Value* acc, std::optional<DType> out_dtype, SourceSpan span);
  // torch.matmul / `@`: dot, plus 1-D operands (matrix-vector products, a
  // multiply and a sum) with torch's result shapes.
  ir::Value* matmul(ir::Value* a, ir::Value* b, SourceSpan span);

  // --- dims
  // The Full dim covering [0, extent) (shared by every `:` of that extent).
  int full_dim(const SymInt& extent, SourceSpan span, const std::string& origin);
  // Another whole dim of `extent`, distinct from every dim in `taken`: the
  // second `:` of w[:, :] over a square w.  It is interchangeable with the
  // Full dim of that extent (same lanes, same mask) wherever values meet,
  // but stays a separate axis of the value (w's two axes are not one).
  int full_dim_other_than(const SymInt& extent, const std::vector<int>& taken, SourceSpan span,
                          const std::string& origin);
  // Whole dims identified by their size (Helion's rule, where a `:` is a
  // dim of next_power_of_2(size) lanes): two Full dims of one extent are
  // interchangeable, and so are a constant extent n and the power of two
  // next_power_of_2(n) (hl.zeros([tile, next_power_of_2(n)]) + x[tile, :]),
  // whose meeting keeps the n live lanes (the padding lanes are masked in
  // reductions and stores).  Returns the dim the two become, or nullopt when
  // they are not such a pair.  Dims that met this way are kept whole
  // (never rolled into a reduction loop): their blocks must stay equal.
  //
  // With dynamic shapes two whole dims of different symbolic sizes whose
  // values at bind time are equal meet too (Helion's shape environment
  // unifies them with a guard): they become one dim when the kernel is done
  // (unify_whole_dims), and the host code checks the sizes' equality on
  // every call (size_equalities).
  std::optional<int> whole_dims_meet(int da, int db) const;
  // Both meet and have the same lanes (equal extents, or unified sizes).
  bool same_whole_lanes(int da, int db) const;
  // Renames the dims unified above to one dim throughout the kernel; errors
  // where that makes one value hold a dim twice.
  void unify_whole_dims(SourceSpan span);
  bool unified_away(int d) const { return unified_.count(d) != 0; }
  // Pairs of sizes the host code checks equal before launching (unified dims).
  const std::vector<std::pair<SymInt, SymInt>>& size_equalities() const { return size_equalities_; }
  bool met_by_size(int d) const { return met_by_size_.count(d) != 0; }
  // `d` and the whole dims that met it by size with the same lanes (w[:, :]'s
  // two axes and the `:` of that size they meet): dims that values move
  // between, so they are rolled into chunks or lifted into the grid together.
  std::set<int> whole_dims_with_lanes_of(int d) const;
  // `v` with its axes renamed to `dims` where they are whole dims that meet
  // by size (right-aligned; other axes unchanged); widening n lanes to
  // next_power_of_2(n) fills the padding lanes with zeros.
  ir::Value* conform_whole_dims(ir::Value* v, const std::vector<int>& dims, SourceSpan span);
  // Dims longer than this are an error (their next power of 2 must fit in int64).
  static constexpr int64_t kMaxExtent = int64_t{1} << 62;
  void check_extent(const SymInt& extent, SourceSpan span) const;
  // The dim's name in messages: what the user wrote for it (dim_display), else its name.
  std::string dim_name(int dim) const;
  void set_dim_display(int dim, std::string shown) { dim_display_[dim] = std::move(shown); }

  // --- jagged tiles (hl.jagged_tile): a tile dim whose lanes are valid only
  // below a per-lane end that depends on its parent tiles.  `mask` is
  // `index < parent` with the parent tiles' axes then the jagged dim's.
  // Loads, stores and atomics that produce the dim, and reductions and
  // matmul contractions over it, apply the mask (masked lanes read 0 and
  // count as the reduction's identity); using the dim without all its
  // parent axes is InvalidJaggedTileUsage.
  void set_jagged_mask(int dim, ir::Value* mask) { jagged_masks_[dim] = mask; }
  void clear_jagged_mask(int dim) { jagged_masks_.erase(dim); }
  bool is_jagged(int dim) const { return jagged_masks_.count(dim) != 0; }
  // The conjunction of the masks of the jagged dims among `dims` (only
  // `only` when >= 0), laid out on `dims` (other axes size 1); null when
  // none of them is jagged.  `what` names the use in the error.
  ir::Value* jagged_mask_on(const std::vector<int>& dims, SourceSpan span, const std::string& what, int only = -1);

 private:
  std::map<int, ir::Value*> jagged_masks_;
  std::set<int> other_full_dims_;          // made by full_dim_other_than
  mutable std::set<int> met_by_size_;      // see whole_dims_meet
  mutable std::map<int, int> unified_;      // symbolic whole dim -> the dim it became
  mutable std::vector<std::pair<SymInt, SymInt>> size_equalities_;
  int unified_root(int d) const {
    for (auto it = unified_.find(d); it != unified_.end(); it = unified_.find(d)) d = it->second;
    return d;
  }
  std::map<int, std::string> dim_display_;
  ir::DeviceKernel& kernel_;
  ir::Builder builder_;
  std::shared_ptr<const SourceFile> file_;
  DType index_dtype_;
};

}  // namespace deuteron::sema
