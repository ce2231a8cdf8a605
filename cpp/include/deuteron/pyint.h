// Python's integer and float operators on the numbers the compiler folds.
//
// Python's ints are unbounded; the compiler's compile-time ints are int64,
// like the device's.  Each operation here gives Python's result when it fits
// in int64 and says why not otherwise: the result overflows (Python would
// give a bigger int; deuteron reports an error naming the expression), or
// Python itself raises (division or modulo by zero, a negative shift count,
// 0 ** -1, a complex power).  C++'s own operators differ from Python's on
// exactly these cases (`/` and `%` round toward zero, `<<` by 64 or more and
// signed overflow are undefined, INT64_MIN / -1 traps), so sema never uses
// them on user values directly.
#pragma once

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace deuteron::pyint {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

enum class Status {
  Ok,
  Overflow,      // Python's result does not fit in int64
  ZeroDivision,  // Python raises ZeroDivisionError
  NegativeShift, // Python raises ValueError: negative shift count
  Complex,       // Python's result is a complex number (negative base, fractional power)
};

template <typename T>
struct Result {
  Status status = Status::Ok;
  T value{};
  bool ok() const { return status == Status::Ok; }
};
using IntResult = Result<int64_t>;
using FloatResult = Result<double>;

// Python's message for a status that Python raises on ("integer division or
// modulo by zero", ...); for Overflow a sentence about the int64 limit.
std::string explain(Status s);
// "int64 (-9223372036854775808 to 9223372036854775807)": the documented limit.
std::string limit_text();

IntResult add(int64_t a, int64_t b);
IntResult sub(int64_t a, int64_t b);
IntResult mul(int64_t a, int64_t b);
IntResult neg(int64_t a);
IntResult abs(int64_t a);
IntResult floordiv(int64_t a, int64_t b);  // rounds toward negative infinity
IntResult mod(int64_t a, int64_t b);       // has the sign of b
IntResult lshift(int64_t a, int64_t n);
IntResult rshift(int64_t a, int64_t n);    // any n >= 0 (>= 64 gives 0 or -1)
// a ** e for e >= 0, by squaring (O(log e) work for any e).
IntResult pow(int64_t a, int64_t e);
// a / b rounded once to the nearest double, as Python's int / int is (a
// double division of the converted operands rounds twice above 2**53).
FloatResult truediv(int64_t a, int64_t b);

// Python's float operators (ints are converted first, as Python does).
FloatResult float_truediv(double a, double b);
FloatResult float_floordiv(double a, double b);  // floor of the exact quotient, as divmod()
FloatResult float_mod(double a, double b);       // has the sign of b
FloatResult float_pow(double a, double b);       // Overflow when finite operands give inf

// Python's int(x) of a float: truncation toward zero.  Overflow for +-inf
// (Python: OverflowError) and values outside int64; NaN sets *nan (Python:
// ValueError) and gives Overflow's status too.
IntResult float_to_int(double x, bool* nan = nullptr);

// Exact comparison of an int with a float, as Python compares them (not
// through a rounded conversion): -1, 0 or 1; `unordered` is set for NaN.
int compare_int_float(int64_t a, double b, bool* unordered);

}  // namespace deuteron::pyint

namespace deuteron {

// Thrown by symbolic integer arithmetic (SymInt) when a folded constant
// leaves int64; what() is the operation ("4611686018427387904 * 4").  Sema
// turns it into a CompileError at the expression being evaluated.
class IntOverflowError : public std::overflow_error {
 public:
  using std::overflow_error::overflow_error;
};

}  // namespace deuteron
