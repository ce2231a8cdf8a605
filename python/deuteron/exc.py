"""Exceptions raised by deuteron.

Every error about a user's kernel is a :class:`CompileError` whose message
names the kernel's file and line, shows the source line with a caret under
the offending code, and says what is supported instead.

Compile errors of a known kind are raised as a subclass of CompileError named
as Helion (``helion.exc``) names that kind -- :class:`ShapeMismatch`,
:class:`RankMismatch`, :class:`NotAllowedOnDevice`, ... -- so that a program
written for Helion that catches one runs unchanged.  The kinds come from the C++
core's diagnostics (``ErrorKind`` in cpp/include/deuteron/diagnostic.h).  Helion's
names for deuteron's other errors are aliases: ``InvalidConfig`` is
:class:`ConfigError`, ``NoConfigFound`` is :class:`AutotuneError`,
``InternalError`` is :class:`InternalCompilerError`, ``NotInsideKernel`` is
:class:`NotInsideKernelError`.  Helion's warning classes (``BaseWarning``,
``TensorOperationInWrapper``, ...) exist so that ``ignore_warnings=[...]``
naming them works.
"""

from __future__ import annotations


class DeuteronError(Exception):
    """Base class of every deuteron error."""


class CompileError(DeuteronError):
    """A problem in the user's kernel, found while compiling it.

    Attributes: ``filename``, ``line``, ``col`` (1-based), ``message`` (one
    sentence), ``notes`` (what is supported instead), and the formatted text
    (``str(err)``) with the source line and a caret.
    """

    def __init__(self, formatted: str, filename: str = "", line: int = 0, col: int = 0,
                 message: str = "", notes: list[str] | None = None) -> None:
        # Exception's own: a subclass that is an InternalError too (InvalidPrintCall)
        # keeps this text, without InternalCompilerError's "bug in deuteron" line.
        Exception.__init__(self, formatted)
        self.formatted = formatted
        self.filename = filename
        self.line = line
        self.col = col
        self.message = message or formatted
        self.notes = list(notes or [])

    def __reduce__(self):  # picklable across processes (autotune workers)
        return (type(self), (self.formatted, self.filename, self.line, self.col, self.message, self.notes))


class ConfigError(DeuteronError, ValueError):
    """A Config outside the kernel's config space (names the key and the allowed values)."""


class BarrierRequiresPersistent(ConfigError):
    """A config whose ``pid_type`` is not persistent for a kernel with ``hl.barrier()`` between
    top-level loops (Helion's rule: it runs them as one persistent kernel)."""


_CONFIG_ERRORS: dict[str, type[ConfigError]] = {"BarrierRequiresPersistent": BarrierRequiresPersistent}


def config_error_class(kind: str) -> type[ConfigError]:
    """The ConfigError subclass for a kind of config error of the C++ core (ConfigError itself for "")."""
    return _CONFIG_ERRORS.get(kind, ConfigError)


class InternalCompilerError(DeuteronError):
    """A bug in deuteron itself (please report it with the kernel that triggered it)."""

    def __init__(self, message: str) -> None:
        super().__init__(
            f"{message}\nThis is a bug in deuteron, not in your kernel; please report it with the kernel source."
        )


class InputError(DeuteronError, TypeError):
    """The arguments of a kernel call are unusable (wrong device, unsupported type, ...)."""


class InputTensorNumelExceedsIndexType(InputError):
    """A tensor argument needs offsets past the kernel's explicit ``index_dtype``
    (torch.int32 indexes up to 2**31 - 1 elements); Helion's name."""


class NotInsideKernelError(DeuteronError):
    """A deuteron.language function was called outside a kernel."""


class AutotuneError(DeuteronError):
    """Autotuning found no config that compiles and runs correctly."""


class ConfigOutOfResources(DeuteronError):
    """A config the user gave (or the autotuner chose) needs more of the GPU than it
    has: Triton refused to load the compiled kernel (shared memory, registers or
    threads).  Names the config, the resource, what it needs and the limit.

    Attributes: ``config`` (JSON text), ``resource``, ``required``, ``limit``."""

    def __init__(self, message: str, config: str = "", resource: str = "", required: int = 0,
                 limit: int = 0) -> None:
        super().__init__(message)
        self.config = config
        self.resource = resource
        self.required = required
        self.limit = limit

    def __reduce__(self):  # picklable across processes (autotune workers)
        return (type(self), (str(self), self.config, self.resource, self.required, self.limit))


class TuningCacheError(DeuteronError):
    """The shared tuning cache is set up wrongly (an unknown URL scheme, the redis package missing).

    A store that is set up right but unreachable is not an error: tuning goes on with
    the local cache alone (see docs/autotuning.md)."""


# ------------------------------------------------------- kinds of compile errors
#
# One subclass of CompileError per ErrorKind of the C++ core, named as Helion
# names the error.  Each doc says when deuteron raises it.


class StatementNotSupported(CompileError):
    """A Python statement kernels do not accept (a nested ``def``, ``with``, ``try``, ...)."""


class NotAllowedOnDevice(CompileError):
    """A statement that is not allowed inside a tile or grid loop (``return``, ...)."""


class InvalidDeviceForLoop(CompileError):
    """A ``for`` loop inside a device loop over something other than ``hl.tile``,
    ``hl.grid``, ``range`` or ``hl.static_range``."""


class NestedGridLoop(CompileError):
    """A top-level kind of loop (``hl.grid``/``hl.tile`` as the launch grid) where it cannot be."""


class TopLevelStatementBetweenLoops(CompileError):
    """A statement between two top-level device loops other than ``hl.barrier()`` (Helion
    runs a kernel's top-level loops as one launch: host code goes before or after them)."""


class NoDeviceLoopsInKernel(CompileError):
    """A kernel without any ``hl.tile`` or ``hl.grid`` loop."""


class FailedToUnpackTile(CompileError):
    """``for a, b in hl.tile(...)`` unpacking a different number of tiles than the loop makes."""


class InvalidTileRange(CompileError):
    """``hl.tile(begin, end)`` whose begin is known to be past its end."""


class TileOfTile(CompileError):
    """``hl.tile(tile)``: a loop over a tile (use ``hl.tile(tile.begin, tile.end)``)."""


class RankMismatch(CompileError):
    """A tensor indexed with more (or fewer) indices than it has dimensions."""


class ShapeMismatch(CompileError):
    """Operands whose shapes do not broadcast together or do not match."""


class DotBatchDimensionMismatch(CompileError):
    """A batched matmul whose operands' batch dimensions differ."""


class ControlFlowTensorMismatch(CompileError):
    """The branches of an ``if`` give one variable tensors of different ranks or dtypes."""


class CannotModifyHostVariableOnDevice(CompileError):
    """A host variable assigned inside a device loop without an index (``out = ...``
    instead of ``out[tile] = ...``)."""


class CannotReadDeviceVariableOnHost(CompileError):
    """A variable assigned inside a device loop, read by host code after the loop."""


class DeviceTensorSubscriptAssignmentNotAllowed(CompileError):
    """An indexed assignment to a value computed on the device (``tmp[0] = 1``)."""


class DataDependentOutputShapeNotSupported(CompileError):
    """An op whose result's shape depends on data (boolean-mask indexing, ``torch.nonzero``)."""


class UnsupportedSplitOperation(CompileError):
    """``torch.split`` / ``chunk`` / ``unbind`` / ``tensor_split`` on the device."""


class HostTensorDirectUsage(CompileError):
    """A host tensor used whole (not indexed by tiles) in device code."""


class NestedKernelCallsNotSupported(CompileError):
    """A deuteron kernel called inside another kernel."""


class UndefinedVariable(CompileError):
    """A name that is not defined."""


class InvalidIndexingType(CompileError):
    """An index that is not a tile, an int, None, a slice or a tensor."""


class SpecializeOnDevice(CompileError):
    """``hl.specialize`` called inside a device loop."""


class DeviceAPIOnHost(CompileError):
    """A device-only ``hl`` function called in host code."""


class TypeInferenceError(CompileError, TypeError):
    """A value of a type the operation cannot take (also a TypeError: an integer matmul
    into a float accumulator is one, which Helion's Triton rejects with a TypeError)."""


class DecoratorAfterHelionKernelDecorator(CompileError):
    """Another decorator below ``@kernel`` (applied before it): the kernel would compile the
    source of the undecorated function and silently drop what that decorator does."""


class InvalidAPIUsage(CompileError):
    """An ``hl`` function called with an argument of the wrong kind (``hl.inline_triton``'s
    ``args`` or ``output_like``, ``hl.inline_asm_elementwise``'s ``dtype``)."""


class EmptyDeviceLoopAfterDCE(CompileError):
    """A device loop whose body computes nothing that is stored (all of it dead code)."""


class AtomicOnDeviceTensor(CompileError):
    """An ``hl.atomic_*`` whose target is a value computed in the tile loop, not a tensor in memory."""


class InvalidJaggedTileUsage(CompileError):
    """``hl.jagged_tile`` used without its parent tiles: as the outermost loop, over a
    scalar bound, or a jagged tile indexed without the tiles its lengths come from."""


class BarrierOnlyAllowedAtTopLevel(CompileError):
    """``hl.barrier()`` inside a tile loop: it separates top-level loops, in host code."""


class ShapeSpecializingAllocation(CompileError):
    """A whole dim (``x[tile, :m]``, ``hl.zeros([tile, m])``) of a size known only at run time
    where it must be one block (an inner loop, a matmul, a scan), when the size is no
    function of the arguments (read from a tensor's data), so no block can be chosen for
    it.  (Helion raises it for any device allocation of a size it has not specialized;
    deuteron loops over such dims in chunks or sizes their block by the call, and raises
    it only where neither can be done.)"""


class InvalidPrintCall(CompileError, InternalCompilerError):
    """``print()`` / ``hl.device_print()`` in a tile loop without a string prefix first, or
    of a value known when compiling.  Helion raises these as its InternalError (a
    ValueError it wraps), so this class is ``exc.InternalError`` too."""


class StackTensorcOnHost(CompileError):
    """``hl.stacktensor_like`` (or ``hl.StackTensor``) in host code: a StackTensor exists
    only inside a tile or grid loop (Helion's spelling of the name)."""


class StackTensorDevPtrOnHost(CompileError):
    """``hl.stacktensor_like(example, dev_ptrs)`` with ``dev_ptrs`` a host tensor: load the
    pointers first (``dev_ptrs[:]``, ``dev_ptrs[tile]``)."""


class StackTensorDevPtrDtype(CompileError):
    """``hl.stacktensor_like(example, dev_ptrs)`` with ``dev_ptrs`` not of dtype ``torch.uint64``."""


class StackTensorExampleOnDevice(CompileError):
    """``hl.stacktensor_like(example, dev_ptrs)`` with ``example`` a value made in the loop,
    not a host tensor."""
class BreakpointInDeviceLoopRequiresInterpret(CompileError):
    """``breakpoint()`` inside a tile loop of a kernel that is compiled: the debugger can stop
    in a kernel only where it runs as Python, in an interpret mode (``DEUTERON_INTERPRET=1`` or
    ``TRITON_INTERPRET=1``)."""


class InvalidMemorySemantic(CompileError, InternalCompilerError):
    """An ``hl.atomic_*`` whose ``sem`` is none of ``relaxed``, ``acquire``, ``release``,
    ``acq_rel``.  Helion raises it as its InternalError (a ValueError it wraps), so this class
    is ``exc.InternalError`` too."""


class LoopDependencyError(CompileError):
    """A top-level loop that reads or writes a tensor an earlier top-level loop of its phase
    wrote, with no ``hl.barrier()`` between them (Helion runs the loops of a phase as one launch)."""


_KINDS: dict[str, type[CompileError]] = {
    cls.__name__: cls for cls in CompileError.__subclasses__()
}


def compile_error_class(kind: str) -> type[CompileError]:
    """The CompileError subclass for an error kind of the C++ core (CompileError itself
    for ``"CompileError"`` or a kind this module does not know)."""
    return _KINDS.get(kind, CompileError)


def error_kinds() -> tuple[str, ...]:
    """The names of the kinds of compile errors (CompileError's subclasses)."""
    return tuple(_KINDS)


# ------------------------------------------------------- Helion's other names

class AutodiffNotSupported(CompileError):
    """What ``experimental.backward`` cannot differentiate, named with its line (Helion's
    name).  Defined after ``_KINDS``: the C++ core raises it as a plain CompileError, which
    ``deuteron.experimental`` re-raises as this class."""


class AutodiffKernelNotCalled(DeuteronError):
    """``experimental.backward`` on a kernel that was never called (Helion's error): the
    backward is derived from the forward's specialization for the same arguments."""

    def __init__(self, message: str = "Kernel must be called at least once before computing backward. "
                 "Call the kernel with example inputs first.") -> None:
        super().__init__(message)


class GraphModuleUnsupportedOps(InputError):
    """A ``torch.fx.GraphModule`` passed to a kernel (a function of device values,
    inlined like a Python function) whose graph reads the module's own state:
    ``call_module`` or ``get_attr`` nodes (Helion's name).  Only graphs of function
    and method calls on their inputs are inlined."""

    def __init__(self, ops: str) -> None:
        super().__init__(f"GraphModule contains unsupported operations: {ops}. Only pure computation graphs "
                         f"are supported (no get_attr or call_module nodes: submodules and parameters are "
                         f"the module's state, which a kernel cannot inline)")


class IncompatibleInterpretModes(DeuteronError):
    """``HELION_INTERPRET=1`` (Helion's PyTorch-eager mode, deuteron's ``DEUTERON_INTERPRET``)
    and ``TRITON_INTERPRET=1`` set together, which Helion refuses: use one of them."""

    def __init__(self, message: str = "TRITON_INTERPRET=1 and HELION_INTERPRET=1 cannot be used together. "
                 "Please use only one of these debug modes at a time (deuteron's own DEUTERON_INTERPRET=1 "
                 "takes precedence over TRITON_INTERPRET=1 instead).") -> None:
        super().__init__(message)


InvalidConfig = ConfigError
NoConfigFound = AutotuneError
InternalError = InternalCompilerError
NotInsideKernel = NotInsideKernelError


class BaseWarning(UserWarning):
    """Base class of Helion's warnings; deuteron accepts them in ``ignore_warnings``."""


class TensorOperationInWrapper(BaseWarning):
    """Helion warns when host code computes on tensors; deuteron runs host code as written."""


class TensorOperationsInHostCall(TensorOperationInWrapper):
    """See TensorOperationInWrapper."""


class WrongDevice(BaseWarning):
    """An op made a tensor on another device than the kernel's."""


class BlockSizeIgnoredInInterpretMode(BaseWarning):
    """A block size that the interpret mode does not use (it runs whole dimensions)."""


class DefaultConfigShrunk(BaseWarning):
    """The default config did not fit the GPU when Triton compiled it (its shared
    memory or registers): deuteron ran a smaller one (fewer stages, halved blocks)."""


class AutotuneSkipped(BaseWarning):
    """A kernel with no config given ran without tuning, because tuning it on these
    arguments would change memory the tuner cannot put back (StackTensor stores through
    a pointer table or example that is not an argument itself, or no device memory for a
    copy of what its runs change); the warning says why."""


class TiledKMatmulAccumulationWarning(BaseWarning):
    """A matmul accumulated over tiles of K in a low-precision accumulator."""
