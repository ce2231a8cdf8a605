#include "deuteron/pyint.h"

#include <cmath>

namespace deuteron::pyint {

namespace {

IntResult ok(int64_t v) { return {Status::Ok, v}; }
IntResult fail(Status s) { return {s, 0}; }
FloatResult okf(double v) { return {Status::Ok, v}; }
FloatResult failf(Status s) { return {s, 0.0}; }

uint64_t magnitude(int64_t a) { return a < 0 ? uint64_t{0} - static_cast<uint64_t>(a) : static_cast<uint64_t>(a); }

}  // namespace

std::string limit_text() { return "int64 (-9223372036854775808 to 9223372036854775807)"; }

std::string explain(Status s) {
  switch (s) {
    case Status::Ok: return "";
    case Status::Overflow:
      return "the result does not fit in " + limit_text() +
             ", the range of integers deuteron computes with at compile time (as the kernel does)";
    case Status::ZeroDivision: return "division or modulo by zero";
    case Status::NegativeShift: return "negative shift count";
    case Status::Complex: return "the result is a complex number (a negative number raised to a fractional power)";
  }
  return "";
}

IntResult add(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? fail(Status::Overflow) : ok(r);
}

IntResult sub(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_sub_overflow(a, b, &r) ? fail(Status::Overflow) : ok(r);
}

IntResult mul(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? fail(Status::Overflow) : ok(r);
}

IntResult neg(int64_t a) { return a == kMin ? fail(Status::Overflow) : ok(-a); }

IntResult abs(int64_t a) { return a == kMin ? fail(Status::Overflow) : ok(a < 0 ? -a : a); }

IntResult floordiv(int64_t a, int64_t b) {
  if (b == 0) return fail(Status::ZeroDivision);
  if (a == kMin && b == -1) return fail(Status::Overflow);  // 2**63; C++ would trap
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return ok(q);
}

IntResult mod(int64_t a, int64_t b) {
  if (b == 0) return fail(Status::ZeroDivision);
  if (b == -1) return ok(0);  // INT64_MIN % -1 traps in C++; Python's answer is 0
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return ok(r);
}

IntResult lshift(int64_t a, int64_t n) {
  if (n < 0) return fail(Status::NegativeShift);
  if (a == 0) return ok(0);
  if (n >= 64) return fail(Status::Overflow);
  if (a > (kMax >> n) || a < (kMin >> n)) return fail(Status::Overflow);
  return ok(static_cast<int64_t>(static_cast<uint64_t>(a) << n));
}

IntResult rshift(int64_t a, int64_t n) {
  if (n < 0) return fail(Status::NegativeShift);
  if (n >= 64) return ok(a < 0 ? -1 : 0);
  return ok(a >> n);  // arithmetic shift (C++20), Python's floor semantics
}

IntResult pow(int64_t a, int64_t e) {
  if (e < 0) return fail(Status::Complex);  // callers handle negative exponents as floats
  int64_t result = 1, base = a;
  while (e > 0) {
    if (e & 1) {
      if (__builtin_mul_overflow(result, base, &result)) return fail(Status::Overflow);
    }
    e >>= 1;
    // Squaring only when more bits follow: then |result| >= |base * base|,
    // so an overflow here means the result overflows too.
    if (e > 0 && __builtin_mul_overflow(base, base, &base)) return fail(Status::Overflow);
  }
  return ok(result);
}

FloatResult truediv(int64_t a, int64_t b) {
  if (b == 0) return failf(Status::ZeroDivision);
  constexpr int64_t kExact = int64_t{1} << 53;
  if (a >= -kExact && a <= kExact && b >= -kExact && b <= kExact)
    return okf(static_cast<double>(a) / static_cast<double>(b));  // exact operands: one rounding
  // Long division to at least 55 significant bits, truncated; a nonzero
  // remainder sets the last bit ("round to odd"), so that the one rounding
  // of the conversion to double below is the correctly rounded quotient.
  if (a == 0) return okf(b < 0 ? -0.0 : 0.0);  // the loop below needs a nonzero quotient
  uint64_t ua = magnitude(a), ub = magnitude(b);
  uint64_t q = ua / ub;
  unsigned __int128 r = ua % ub;
  int exponent = 0;
  while (q < (uint64_t{1} << 55)) {
    r <<= 1;
    q <<= 1;
    if (r >= ub) {
      r -= ub;
      q |= 1;
    }
    --exponent;
  }
  if (r != 0) q |= 1;
  double d = std::ldexp(static_cast<double>(q), exponent);
  return okf((a < 0) != (b < 0) ? -d : d);
}

FloatResult float_truediv(double a, double b) {
  if (b == 0.0) return failf(Status::ZeroDivision);
  return okf(a / b);
}

FloatResult float_mod(double a, double b) {
  if (b == 0.0) return failf(Status::ZeroDivision);
  double m = std::fmod(a, b);
  if (m != 0.0) {
    if ((b < 0) != (m < 0)) m += b;
  } else {
    m = std::copysign(0.0, b);
  }
  return okf(m);
}

FloatResult float_floordiv(double a, double b) {
  if (b == 0.0) return failf(Status::ZeroDivision);
  // fmod is exact, so a - m is a multiple of b up to one rounding; the
  // quotient is snapped to the nearest integer (Python's divmod()).
  double m = std::fmod(a, b);
  double div = (a - m) / b;
  if (m != 0.0 && ((b < 0) != (m < 0))) div -= 1.0;
  if (div == 0.0) return okf(std::copysign(0.0, a / b));
  double f = std::floor(div);
  if (div - f > 0.5) f += 1.0;
  return okf(f);
}

FloatResult float_pow(double a, double b) {
  // C's pow() has Python's special cases (Annex F: pow(x, 0) is 1 even for
  // NaN, pow(1, y) is 1, ...) except the three where Python raises.
  if (a == 0.0 && b < 0.0) return failf(Status::ZeroDivision);
  if (a < 0.0 && std::isfinite(a) && std::isfinite(b) && b != std::floor(b)) return failf(Status::Complex);
  double r = std::pow(a, b);
  if (std::isinf(r) && std::isfinite(a) && std::isfinite(b)) return failf(Status::Overflow);
  return okf(r);
}

IntResult float_to_int(double x, bool* nan) {
  if (nan) *nan = std::isnan(x);
  if (std::isnan(x)) return fail(Status::Overflow);
  double t = std::trunc(x);
  // int64 holds [-2**63, 2**63); both bounds are exact doubles.
  if (!(t >= -9223372036854775808.0 && t < 9223372036854775808.0)) return fail(Status::Overflow);
  return ok(static_cast<int64_t>(t));
}

int compare_int_float(int64_t a, double b, bool* unordered) {
  *unordered = std::isnan(b);
  if (*unordered) return 0;
  if (b >= 9223372036854775808.0) return -1;
  if (b < -9223372036854775808.0) return 1;
  double t = std::trunc(b);
  int64_t ti = static_cast<int64_t>(t);
  if (a != ti) return a < ti ? -1 : 1;
  double frac = b - t;
  return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

}  // namespace deuteron::pyint
