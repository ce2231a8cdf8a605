"""Ahead-of-time export of deuteron kernels to C++ (no Python, no libtorch at run time).

::

    import deuteron.aot
    from softmax import softmax
    from matmul import matmul

    x = torch.empty(4096, 16384, dtype=torch.bfloat16)       # CPU tensors are fine
    a = torch.empty(4096, 4096, dtype=torch.bfloat16)
    deuteron.aot.export([(softmax, (x,)), (matmul, (a, a), {"block_sizes": [128, 256, 64]})],
                        "out/my_kernels", name="my_kernels")

writes a CMake package (``find_package(my_kernels)``) with
``my_kernels::softmax(x, out, stream)`` and ``my_kernels::matmul(x, y, out, stream)``.
The same from the command line::

    deuteron export examples/softmax.py:softmax --args 'x:bfloat16[4096,16384]' -o out/my_kernels

See docs/aot.md.
"""

from __future__ import annotations

from .args import parse_args_spec
from .export import Export, ExportResult, export, prepare, runtime_source_dir, write
from .record import ExportError, ExportWarning, Specialization, record_specialization

__all__ = ["export", "prepare", "write", "Export", "ExportResult", "ExportError", "ExportWarning", "Specialization",
           "record_specialization", "parse_args_spec", "runtime_source_dir"]
