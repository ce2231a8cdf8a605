// Source locations and diagnostics.
//
// Every error about a user's kernel is a Diagnostic value: where it is (a span
// into the kernel's source file), what is wrong, and notes that say what is
// supported instead.  Diagnostics travel as values; the only place they turn
// into an exception is CompileError, which the Python binding translates into
// a Python exception carrying file, line, column and a caret.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace deuteron {

// The text of one kernel's source file plus where it came from.  Lines in
// spans are absolute line numbers in `filename` (the kernel's text may start
// at `first_line` inside a larger file).
struct SourceFile {
  std::string filename;  // e.g. "/home/me/kernels.py" or "<string>"
  std::string text;      // the kernel's source (dedented function text)
  int first_line = 1;    // absolute line number of text's first line

  // The full text of absolute line `line` (without the newline), or "" when
  // the line is outside the text.
  std::string line_text(int line) const;
};

// A half-open range [begin, end) in a SourceFile.  Lines are absolute (see
// SourceFile), columns are 1-based character columns.  A default-constructed
// span (line 0) means "no location".
struct SourceSpan {
  int line = 0;
  int col = 0;
  int end_line = 0;
  int end_col = 0;

  bool valid() const { return line > 0; }
  // The smallest span covering both.
  static SourceSpan merge(const SourceSpan& a, const SourceSpan& b);
};

// What kind of problem a diagnostic reports.  The Python binding raises the
// subclass of deuteron.exc.CompileError named after the kind; the names are
// Helion's (helion.exc), so programs written for Helion that catch one run
// unchanged.  Generic is CompileError itself.  error_kind_name() gives the name.
#define DEUTERON_ERROR_KINDS(X)                                                              \
  X(StatementNotSupported)                    /* a Python statement kernels do not take */  \
  X(NotAllowedOnDevice)                       /* return/yield/... inside a device loop */   \
  X(InvalidDeviceForLoop)                     /* a for loop on the device over neither */   \
                                              /* hl.tile, hl.grid nor a range */            \
  X(NestedGridLoop)                           /* hl.grid / tile loops not at the top */     \
  X(TopLevelStatementBetweenLoops)            /* a statement between top-level loops */     \
  X(NoDeviceLoopsInKernel)                    /* a kernel without a tile or grid loop */    \
  X(FailedToUnpackTile)                       /* for a, b in hl.tile(n) */                  \
  X(InvalidTileRange)                         /* hl.tile(begin, end) with begin > end */    \
  X(TileOfTile)                               /* hl.tile(tile) */                           \
  X(RankMismatch)                             /* too many or too few indices */             \
  X(ShapeMismatch)                            /* shapes that do not broadcast or match */   \
  X(DotBatchDimensionMismatch)                /* hl.dot / bmm with unequal batch dims */    \
  X(ControlFlowTensorMismatch)                /* if/else branches give different shapes */  \
  X(CannotModifyHostVariableOnDevice)         /* host_var = ... inside a device loop */     \
  X(CannotReadDeviceVariableOnHost)           /* a device value read after its loop */      \
  X(DeviceTensorSubscriptAssignmentNotAllowed) /* device_value[i] = ... */                  \
  X(DataDependentOutputShapeNotSupported)     /* x[mask], torch.nonzero on the device */    \
  X(UnsupportedSplitOperation)                /* torch.split/chunk/unbind on the device */  \
  X(HostTensorDirectUsage)                    /* a host tensor used whole on the device */  \
  X(NestedKernelCallsNotSupported)            /* a kernel called inside a kernel */         \
  X(UndefinedVariable)                        /* a name that is not defined */              \
  X(InvalidIndexingType)                      /* an index that is no tile/int/None/slice */ \
  X(SpecializeOnDevice)                       /* hl.specialize inside a device loop */      \
  X(DeviceAPIOnHost)                          /* a device-only hl function in host code */  \
  X(TypeInferenceError)                       /* a value of a type the op cannot take */    \
  X(DecoratorAfterHelionKernelDecorator)      /* a decorator below @kernel (runtime/source) */ \
  X(InvalidAPIUsage)                          /* an hl function's argument of the wrong kind */ \
  X(EmptyDeviceLoopAfterDCE)                  /* a device loop whose body computes nothing */ \
  X(AtomicOnDeviceTensor)                     /* hl.atomic_* on a value made in the loop */ \
  X(InvalidJaggedTileUsage)                   /* hl.jagged_tile without its parent tiles */ \
  X(BarrierOnlyAllowedAtTopLevel)             /* hl.barrier() inside a device loop */      \
  X(InvalidPrintCall)                         /* print() without a string prefix, or of */  \
                                              /* a value known when compiling */            \
  X(ShapeSpecializingAllocation)              /* a whole dim of a size known only at run */ \
                                              /* time that needs a block: from data */ \
  X(StackTensorcOnHost)                       /* hl.stacktensor_like in host code */        \
  X(StackTensorDevPtrOnHost)                  /* its dev_ptrs a host tensor, not loaded */  \
  X(StackTensorDevPtrDtype)                   /* its dev_ptrs not of dtype uint64 */        \
  X(StackTensorExampleOnDevice)               /* its tensor_like a device value */       \
  X(BreakpointInDeviceLoopRequiresInterpret)  /* breakpoint() in a tile loop, compiled */   \
  X(InvalidMemorySemantic)                    /* hl.atomic_*(sem=...) not a known one */    \
  X(LoopDependencyError)                      /* a loop touching what an earlier loop of */ \
                                              /* its phase wrote (no hl.barrier() between) */

enum class ErrorKind {
  Generic,  // anything without a finer kind
#define DEUTERON_ERROR_KIND_ENUM(name) name,
  DEUTERON_ERROR_KINDS(DEUTERON_ERROR_KIND_ENUM)
#undef DEUTERON_ERROR_KIND_ENUM
};

// "ShapeMismatch", ...; "CompileError" for Generic.
const char* error_kind_name(ErrorKind kind);
// Every kind, in declaration order (for tests and the binding's table).
const std::vector<ErrorKind>& all_error_kinds();

struct Diagnostic {
  SourceSpan span;
  std::string message;             // one sentence: what is wrong
  std::vector<std::string> notes;  // what is supported instead, hints
  ErrorKind kind = ErrorKind::Generic;

  // "file:line:col: error: message\n  <source line>\n  ^~~~\n  note: ..."
  std::string format(const SourceFile* file) const;
};

// The exception used inside the C++ core to abort compilation of a kernel.
// It owns the diagnostic and a shared reference to the source so it can be
// formatted far from where it was raised.
class CompileError : public std::runtime_error {
 public:
  CompileError(Diagnostic diag, std::shared_ptr<const SourceFile> file);
  const Diagnostic& diagnostic() const { return diag_; }
  const std::shared_ptr<const SourceFile>& file() const { return file_; }
  // Same text as what().
  const std::string& formatted() const { return formatted_; }

 private:
  Diagnostic diag_;
  std::shared_ptr<const SourceFile> file_;
  std::string formatted_;
};

// Helper used throughout the core: throw a CompileError at `span`.
[[noreturn]] void raise_error(const std::shared_ptr<const SourceFile>& file, SourceSpan span,
                              std::string message, std::vector<std::string> notes = {});
// The same with a kind (see ErrorKind).
[[noreturn]] void raise_error(const std::shared_ptr<const SourceFile>& file, SourceSpan span, ErrorKind kind,
                              std::string message, std::vector<std::string> notes = {});

// An internal invariant was broken (a bug in deuteron, not in the user's
// kernel).  Carries the same location information when there is one.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

#define DEUTERON_CHECK(cond, msg)                                                          \
  do {                                                                                     \
    if (!(cond))                                                                           \
      throw ::deuteron::InternalError(std::string("internal error: ") + (msg) + " [" + \
                                      __FILE__ + ":" + std::to_string(__LINE__) + "]");    \
  } while (0)

}  // namespace deuteron
