// ir::reduction_identity: the one definition of what masked lanes of a
// reduction hold, used by reduction_rolling (its accumulators' initial
// values) and the Triton emitter (padding of masked lanes).  Two copies of it
// once disagreed on the unsigned types; these pin every dtype class down.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "deuteron/ir.h"

namespace deuteron::ir {
namespace {

int64_t int_of(ReduceFn f, DType t) {
  Literal l = reduction_identity(f, t);
  EXPECT_EQ(l.kind, Literal::Kind::Int) << name(f);
  return l.i;
}

TEST(ReductionIdentity, SumAndProdAreZeroAndOne) {
  EXPECT_EQ(int_of(ReduceFn::Sum, DType::Int32), 0);
  EXPECT_EQ(int_of(ReduceFn::Prod, DType::Int8), 1);
  Literal s = reduction_identity(ReduceFn::Sum, DType::Float16);
  EXPECT_EQ(s.kind, Literal::Kind::Float);
  EXPECT_EQ(s.f, 0.0);
  EXPECT_EQ(reduction_identity(ReduceFn::Prod, DType::Float32).f, 1.0);
}

TEST(ReductionIdentity, MaxStartsAtTheLowestValue) {
  EXPECT_EQ(int_of(ReduceFn::Max, DType::Int8), -128);
  EXPECT_EQ(int_of(ReduceFn::ArgMax, DType::Int32), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(int_of(ReduceFn::Max, DType::Int64), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(int_of(ReduceFn::Max, DType::UInt8), 0);
  EXPECT_EQ(reduction_identity(ReduceFn::Max, DType::Float32).f, -INFINITY);
  Literal b = reduction_identity(ReduceFn::Max, DType::Bool);
  EXPECT_EQ(b.kind, Literal::Kind::Bool);
  EXPECT_FALSE(b.b);
}

TEST(ReductionIdentity, MinStartsAtTheHighestValue) {
  EXPECT_EQ(int_of(ReduceFn::Min, DType::Int8), 127);
  EXPECT_EQ(int_of(ReduceFn::ArgMin, DType::Int16), 32767);
  EXPECT_EQ(int_of(ReduceFn::Min, DType::Int64), std::numeric_limits<int64_t>::max());
  // The unsigned maximum, not the signed one.
  EXPECT_EQ(int_of(ReduceFn::Min, DType::UInt8), 255);
  EXPECT_EQ(reduction_identity(ReduceFn::Min, DType::BFloat16).f, INFINITY);
  EXPECT_TRUE(reduction_identity(ReduceFn::Min, DType::Bool).b);
}

TEST(ReductionIdentity, AnyAndAllAreFalseAndTrue) {
  EXPECT_FALSE(reduction_identity(ReduceFn::Any, DType::Bool).b);
  EXPECT_TRUE(reduction_identity(ReduceFn::All, DType::Bool).b);
}

}  // namespace
}  // namespace deuteron::ir
