// The heavy-first analysis: which grid dims have blocks whose work grows with
// their position (triangular loops such as causal attention's), built from
// small kernels written directly in the IR.
#include <gtest/gtest.h>

#include <functional>

#include "deuteron/analysis.h"

namespace deuteron::analysis {
namespace {

using ir::OpKind;

const ir::Type kIndex{DType::Int32, {}};

// A kernel with a grid tile dim d0 over [0, 1024) and an inner tile dim d1
// iterated by one For with device-computed bounds from `bounds(builder)`.
struct Triangle {
  ir::DeviceKernel k;
  Triangle(const std::function<std::pair<ir::Value*, ir::Value*>(ir::Builder&)>& bounds) {
    ir::Dim grid;
    grid.id = 0;
    grid.end = 1024;
    grid.name = "tile_m";
    ir::Dim inner;
    inner.id = 1;
    inner.end = 1024;
    inner.loop_id = 100;
    inner.dynamic_bounds = true;
    k.dims = {grid, inner};
    k.grid_dims = {0};
    ir::Builder b(k);
    auto [begin, end] = bounds(b);
    ir::Attrs attrs;
    attrs.dim = 1;
    attrs.dynamic_bounds = true;
    ir::Op* loop = b.create(OpKind::For, {begin, end}, {}, {}, attrs);
    b.add_region(loop);
  }
};

ir::Value* tile_value(ir::Builder& b, OpKind kind, int dim) {
  ir::Attrs a;
  a.dim = dim;
  return b.create(kind, {}, {kIndex}, {}, a)->result();
}

ir::Value* constant(ir::Builder& b, int64_t v) {
  ir::Attrs a;
  a.literal = ir::Literal::from_int(v);
  return b.create(OpKind::Constant, {}, {kIndex}, {}, a)->result();
}

ir::Value* binary(ir::Builder& b, ir::BinaryFn fn, ir::Value* x, ir::Value* y) {
  ir::Attrs a;
  a.binary = fn;
  return b.create(OpKind::Binary, {x, y}, {kIndex}, {}, a)->result();
}

TEST(HeavyFirst, LoopToTheBlockEndMakesLaterBlocksHeavier) {
  Triangle t([](ir::Builder& b) { return std::make_pair(constant(b, 0), tile_value(b, OpKind::TileEnd, 0)); });
  EXPECT_EQ(heavy_last_grid_dims(t.k), std::set<int>{0});
}

TEST(HeavyFirst, LoopFromTheBlockBeginMakesLaterBlocksLighter) {
  Triangle t([](ir::Builder& b) { return std::make_pair(tile_value(b, OpKind::TileBegin, 0), constant(b, 1024)); });
  EXPECT_TRUE(heavy_last_grid_dims(t.k).empty());
}

TEST(HeavyFirst, LoopOverTheDiagonalBlockIsConstantWork) {
  Triangle t([](ir::Builder& b) {
    return std::make_pair(tile_value(b, OpKind::TileBegin, 0), tile_value(b, OpKind::TileEnd, 0));
  });
  EXPECT_TRUE(heavy_last_grid_dims(t.k).empty());
}

TEST(HeavyFirst, ScaledAndShiftedEndsStillGrow) {
  Triangle t([](ir::Builder& b) {
    ir::Value* end = binary(b, ir::BinaryFn::Mul, tile_value(b, OpKind::TileEnd, 0), constant(b, 2));
    end = binary(b, ir::BinaryFn::Minimum, binary(b, ir::BinaryFn::Add, end, constant(b, 64)), constant(b, 1024));
    return std::make_pair(constant(b, 0), end);
  });
  EXPECT_EQ(heavy_last_grid_dims(t.k), std::set<int>{0});
}

TEST(HeavyFirst, ReversedEndShrinks) {
  Triangle t([](ir::Builder& b) {
    return std::make_pair(constant(b, 0), binary(b, ir::BinaryFn::Sub, constant(b, 1024), tile_value(b, OpKind::TileEnd, 0)));
  });
  EXPECT_TRUE(heavy_last_grid_dims(t.k).empty());
  ir::Value* end = t.k.body.ops.back()->operands.at(1);
  EXPECT_EQ(monotonicity_in_grid_dim(t.k, end, 0), -1);
}

TEST(HeavyFirst, UnknownDirectionKeepsTheOrder) {
  // end = tile_m.end * tile_m.end is not followed (a product of two grid values).
  Triangle t([](ir::Builder& b) {
    ir::Value* e = tile_value(b, OpKind::TileEnd, 0);
    return std::make_pair(constant(b, 0), binary(b, ir::BinaryFn::Mul, e, e));
  });
  EXPECT_TRUE(heavy_last_grid_dims(t.k).empty());
  EXPECT_EQ(monotonicity_in_grid_dim(t.k, t.k.body.ops.back()->operands.at(1), 0), std::nullopt);
}

TEST(HeavyFirst, FixedBoundsAreNotTriangular) {
  Triangle t([](ir::Builder& b) { return std::make_pair(constant(b, 0), constant(b, 512)); });
  EXPECT_TRUE(heavy_last_grid_dims(t.k).empty());
}

}  // namespace
}  // namespace deuteron::analysis
