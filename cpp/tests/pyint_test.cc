// Python's integer and float operators on int64 (support/pyint.cc): each
// case where C++'s operator differs from Python's, checked against the
// value Python gives.
#include "deuteron/pyint.h"

#include <gtest/gtest.h>

#include <cmath>

#include "deuteron/symbolic.h"

namespace deuteron {
namespace {

using pyint::Status;
constexpr int64_t kMin = pyint::kMin, kMax = pyint::kMax;

int64_t ok(pyint::IntResult r) {
  EXPECT_EQ(r.status, Status::Ok);
  return r.value;
}

TEST(PyInt, FloorDivisionAndModuloRoundLikePython) {
  EXPECT_EQ(ok(pyint::floordiv(7, 2)), 3);
  EXPECT_EQ(ok(pyint::floordiv(-7, 2)), -4);
  EXPECT_EQ(ok(pyint::floordiv(7, -2)), -4);
  EXPECT_EQ(ok(pyint::floordiv(-7, -2)), 3);
  EXPECT_EQ(ok(pyint::mod(-7, 2)), 1);
  EXPECT_EQ(ok(pyint::mod(7, -2)), -1);
  EXPECT_EQ(ok(pyint::mod(-7, -2)), -1);
  EXPECT_EQ(ok(pyint::floordiv(kMin, 1)), kMin);
}

TEST(PyInt, MinDividedByMinusOneOverflowsInsteadOfTrapping) {
  // -2**63 // -1 is 2**63 in Python; in C++ the division traps (SIGFPE).
  EXPECT_EQ(pyint::floordiv(kMin, -1).status, Status::Overflow);
  // -2**63 % -1 is 0 in Python; C++'s % traps too.
  EXPECT_EQ(ok(pyint::mod(kMin, -1)), 0);
  EXPECT_EQ(ok(pyint::mod(kMax, -1)), 0);
}

TEST(PyInt, DivisionByZeroIsReported) {
  EXPECT_EQ(pyint::floordiv(1, 0).status, Status::ZeroDivision);
  EXPECT_EQ(pyint::mod(1, 0).status, Status::ZeroDivision);
  EXPECT_EQ(pyint::truediv(1, 0).status, Status::ZeroDivision);
  EXPECT_EQ(pyint::float_mod(1.0, 0.0).status, Status::ZeroDivision);
  EXPECT_EQ(pyint::float_floordiv(1.0, 0.0).status, Status::ZeroDivision);
}

TEST(PyInt, AddSubMulOverflow) {
  EXPECT_EQ(pyint::add(kMax, 1).status, Status::Overflow);
  EXPECT_EQ(pyint::sub(kMin, 1).status, Status::Overflow);
  EXPECT_EQ(pyint::mul(int64_t{1} << 32, int64_t{1} << 31).status, Status::Overflow);
  EXPECT_EQ(ok(pyint::mul(-(int64_t{1} << 32), int64_t{1} << 31)), kMin);
  EXPECT_EQ(pyint::neg(kMin).status, Status::Overflow);
  EXPECT_EQ(pyint::abs(kMin).status, Status::Overflow);
  EXPECT_EQ(ok(pyint::abs(kMin + 1)), kMax);
}

TEST(PyInt, ShiftsByAnyCount) {
  EXPECT_EQ(pyint::lshift(1, 64).status, Status::Overflow);  // C++: undefined, often 1
  EXPECT_EQ(pyint::lshift(1, 63).status, Status::Overflow);  // 2**63
  EXPECT_EQ(ok(pyint::lshift(-1, 63)), kMin);
  EXPECT_EQ(ok(pyint::lshift(0, 1000)), 0);
  EXPECT_EQ(ok(pyint::lshift(3, 61)), int64_t{3} << 61);
  EXPECT_EQ(pyint::lshift(3, 62).status, Status::Overflow);
  EXPECT_EQ(ok(pyint::rshift(-1, 1000)), -1);
  EXPECT_EQ(ok(pyint::rshift(kMax, 64)), 0);
  EXPECT_EQ(ok(pyint::rshift(-5, 1)), -3);
  EXPECT_EQ(pyint::lshift(1, -1).status, Status::NegativeShift);
  EXPECT_EQ(pyint::rshift(1, -1).status, Status::NegativeShift);
}

TEST(PyInt, PowIsBoundedWorkForAnyExponent) {
  EXPECT_EQ(ok(pyint::pow(2, 62)), int64_t{1} << 62);
  EXPECT_EQ(pyint::pow(2, 63).status, Status::Overflow);
  EXPECT_EQ(ok(pyint::pow(-2, 63)), kMin);
  EXPECT_EQ(pyint::pow(2, int64_t{1} << 62).status, Status::Overflow);  // was a hang
  EXPECT_EQ(ok(pyint::pow(1, kMax)), 1);
  EXPECT_EQ(ok(pyint::pow(-1, kMax)), -1);
  EXPECT_EQ(ok(pyint::pow(0, kMax)), 0);
  EXPECT_EQ(ok(pyint::pow(0, 0)), 1);
  EXPECT_EQ(pyint::pow(10, 30).status, Status::Overflow);
  EXPECT_EQ(ok(pyint::pow(10, 18)), 1000000000000000000);
  EXPECT_EQ(ok(pyint::pow(-3, 39)), -4052555153018976267);
}

TEST(PyInt, TrueDivisionIsCorrectlyRounded) {
  EXPECT_EQ(pyint::truediv(9007199254740993, 1).value, 9007199254740992.0);
  EXPECT_EQ(pyint::truediv(kMax, 3).value, 3.0744573456182584e+18);
  // Operands inexact as doubles: dividing the converted operands rounds
  // three times and misses Python's correctly rounded quotient.
  EXPECT_EQ(pyint::truediv(4928188522590161285, 9369236596014).value, 525996.8058322687);
  EXPECT_NE(4928188522590161285.0 / 9369236596014.0, 525996.8058322687);
  EXPECT_EQ(pyint::truediv(-3755934259410012995, 252081649451767).value, -14899.673449370493);
  EXPECT_EQ(pyint::truediv(kMax, (int64_t{1} << 62) + 1).value, 2.0);
  EXPECT_EQ(pyint::truediv(kMin, -1).value, 9223372036854775808.0);
  EXPECT_EQ(pyint::truediv(1, kMin).value, -1.0842021724855044e-19);
  EXPECT_EQ(pyint::truediv(-7, 2).value, -3.5);
  // Zero over an operand inexact as a double (this looped forever once).
  EXPECT_EQ(pyint::truediv(0, kMax).value, 0.0);
  EXPECT_TRUE(std::signbit(pyint::truediv(0, kMin).value));
}

TEST(PyInt, FloatFloorDivisionAndModuloFollowDivmod) {
  // floor(1 / 0.1) is 10, but Python's 1 // 0.1 is 9.0 (0.1 is a bit more than 1/10).
  EXPECT_EQ(pyint::float_floordiv(1.0, 0.1).value, 9.0);
  EXPECT_DOUBLE_EQ(pyint::float_mod(1.0, 0.1).value, 0.09999999999999995);
  EXPECT_EQ(pyint::float_mod(-1.0, 3.0).value, 2.0);
  EXPECT_EQ(pyint::float_mod(1.0, -3.0).value, -2.0);
  EXPECT_TRUE(std::signbit(pyint::float_mod(-3.0, 3.0).value) == false);
  EXPECT_TRUE(std::signbit(pyint::float_mod(3.0, -3.0).value));
  EXPECT_EQ(pyint::float_mod(-5.0, INFINITY).value, INFINITY);
}

TEST(PyInt, FloatPowRaisesWherePythonDoes) {
  EXPECT_EQ(pyint::float_pow(0.0, -1.0).status, Status::ZeroDivision);
  EXPECT_EQ(pyint::float_pow(-8.0, 1.0 / 3).status, Status::Complex);
  EXPECT_EQ(pyint::float_pow(10.0, 400.0).status, Status::Overflow);
  EXPECT_EQ(pyint::float_pow(2.0, -1.0).value, 0.5);
  EXPECT_EQ(pyint::float_pow(NAN, 0.0).value, 1.0);
  EXPECT_EQ(pyint::float_pow(-2.0, 3.0).value, -8.0);
}

TEST(PyInt, FloatToIntTruncatesWithinInt64) {
  EXPECT_EQ(ok(pyint::float_to_int(-2.7)), -2);
  EXPECT_EQ(ok(pyint::float_to_int(-9223372036854775808.0)), kMin);
  EXPECT_EQ(pyint::float_to_int(9223372036854775808.0).status, Status::Overflow);
  EXPECT_EQ(pyint::float_to_int(INFINITY).status, Status::Overflow);
  bool nan = false;
  EXPECT_EQ(pyint::float_to_int(NAN, &nan).status, Status::Overflow);
  EXPECT_TRUE(nan);
}

TEST(PyInt, IntComparesExactlyWithFloat) {
  bool unordered = false;
  // 2**53 + 1 > 2.0**53 in Python, though the int converts to 2.0**53.
  EXPECT_EQ(pyint::compare_int_float(9007199254740993, 9007199254740992.0, &unordered), 1);
  EXPECT_EQ(pyint::compare_int_float(kMax, 9223372036854775808.0, &unordered), -1);
  EXPECT_EQ(pyint::compare_int_float(kMin, -9223372036854775808.0, &unordered), 0);
  EXPECT_EQ(pyint::compare_int_float(2, 2.5, &unordered), -1);
  EXPECT_EQ(pyint::compare_int_float(-2, -2.5, &unordered), 1);
  pyint::compare_int_float(0, NAN, &unordered);
  EXPECT_TRUE(unordered);
}

TEST(SymIntOverflow, ConstantsThrowInsteadOfWrapping) {
  EXPECT_THROW(SymInt(kMax) + SymInt(1), IntOverflowError);
  EXPECT_THROW(SymInt(int64_t{1} << 62) * SymInt(4), IntOverflowError);
  EXPECT_THROW(-SymInt(kMin), IntOverflowError);
  EXPECT_THROW(floordiv(SymInt(kMin), SymInt(-1)), IntOverflowError);
  EXPECT_EQ(mod(SymInt(kMin), SymInt(-1)).constant(), 0);
  // Coefficients of symbolic terms are checked too.
  SymInt n = SymInt::symbol("n");
  EXPECT_THROW(n * SymInt(int64_t{1} << 62) * SymInt(4), IntOverflowError);
  EXPECT_THROW(n * SymInt(kMax) + n, IntOverflowError);
  // evaluate() has no value where the arithmetic overflows.
  EXPECT_EQ((n * SymInt(int64_t{1} << 62)).evaluate({{"n", 4}}), std::nullopt);
  // Printing never negates INT64_MIN.
  EXPECT_EQ((n + SymInt(kMin)).str(), "n + -9223372036854775808");
}

TEST(SymIntOverflow, NextPowerOf2) {
  EXPECT_EQ(next_power_of_2(0), 1);
  EXPECT_EQ(next_power_of_2(1), 1);
  EXPECT_EQ(next_power_of_2(3), 4);
  EXPECT_EQ(next_power_of_2(1024), 1024);
  EXPECT_EQ(next_power_of_2(int64_t{1} << 62), int64_t{1} << 62);
  EXPECT_THROW(next_power_of_2((int64_t{1} << 62) + 1), IntOverflowError);  // was a hang
  EXPECT_THROW(next_power_of_2(kMax), IntOverflowError);
}


TEST(SymIntNextPow2, FoldsConstantsWithTritonsSemantics) {
  EXPECT_EQ(sym_next_power_of_2(SymInt(0)).constant(), 0);  // triton.next_power_of_2(0) == 0
  EXPECT_EQ(sym_next_power_of_2(SymInt(-5)).constant(), 0);
  EXPECT_EQ(sym_next_power_of_2(SymInt(1)).constant(), 1);
  EXPECT_EQ(sym_next_power_of_2(SymInt(1000)).constant(), 1024);
  EXPECT_EQ(sym_next_power_of_2(SymInt(int64_t{1} << 62)).constant(), int64_t{1} << 62);
  EXPECT_THROW(sym_next_power_of_2(SymInt((int64_t{1} << 62) + 1)), IntOverflowError);
}

TEST(SymIntNextPow2, SymbolicFromTunables) {
  // k_block = next_power_of_2(cdiv(1024, split_k)), as Helion's split-k matmul computes it.
  SymInt split_k = SymInt::symbol("_tunable_split_k");
  SymInt k_block = sym_next_power_of_2(cdiv(SymInt(1000), split_k));
  EXPECT_EQ(k_block.kind(), SymInt::Kind::NextPow2);
  EXPECT_EQ(k_block.symbols(), std::vector<std::string>{"_tunable_split_k"});
  EXPECT_EQ(k_block.str(), "triton.next_power_of_2((_tunable_split_k + 999) // _tunable_split_k)");
  EXPECT_EQ(k_block.evaluate({{"_tunable_split_k", 1}}), 1024);
  EXPECT_EQ(k_block.evaluate({{"_tunable_split_k", 4}}), 256);
  EXPECT_EQ(k_block.evaluate({{"_tunable_split_k", 3}}), 512);  // cdiv gives 334
  EXPECT_EQ(k_block.evaluate({{"_tunable_split_k", 2000}}), 1);
  EXPECT_EQ(k_block.evaluate({}), std::nullopt);
  EXPECT_EQ(k_block.hint(), std::nullopt);  // tunables have no hint
  EXPECT_EQ(sym_next_power_of_2(SymInt::symbol("n", 100)).hint(), 128);
  // Idempotent, and structurally equal when built twice.
  EXPECT_TRUE(sym_next_power_of_2(k_block).same_as(k_block));
  EXPECT_TRUE(sym_next_power_of_2(cdiv(SymInt(1000), split_k)).same_as(k_block));
  // Arithmetic keeps it as an atom; names map like other symbols.
  SymInt twice = k_block * SymInt(2);
  EXPECT_EQ(twice.evaluate({{"_tunable_split_k", 4}}), 512);
  EXPECT_EQ(k_block.str([](const std::string&) { return std::string("4"); }), "triton.next_power_of_2((4 + 999) // 4)");
  // Values past 2**62 have no int64 next power of 2.
  SymInt n = SymInt::symbol("n");
  EXPECT_EQ(sym_next_power_of_2(n).evaluate({{"n", (int64_t{1} << 62) + 1}}), std::nullopt);
  EXPECT_EQ(sym_next_power_of_2(n).evaluate({{"n", 0}}), 0);
}

}  // namespace
}  // namespace deuteron
