"""Exporting kernels to a self-contained C++ package (see docs/aot.md).

:func:`export` records each (kernel, example arguments, config), compiles the
launched Triton kernels for sm_<arch> (no GPU needed), and writes::

    out_dir/
      include/<name>.h              one typed function per exported kernel
      include/deuteron_aot/tensor.h the Tensor argument type
      src/<name>.cc                 cubins as byte arrays, dispatch, launches
      runtime/                      deuteron's C++ runtime (a copy of cpp/runtime)
      cubins/*.cubin                the cubins, also as files
      CMakeLists.txt, cmake/<name>Config.cmake.in
      manifest.json                 what was exported, for tools and tests
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..runtime import env as _env
from ..runtime.aot import triton_signature
from . import cpp_codegen as cg
from .record import ExportError, ExportWarning, ScalarParam, Specialization, TensorParam, record_specialization
from .tensor_header import TENSOR_H


@dataclass
class Export:
    """One specialization to export: a kernel, example arguments, and optionally
    the config (a Config, a dict, JSON text, "default" or "autotune") and the
    C++ function's name (default: the kernel's)."""

    kernel: Any
    args: Sequence[Any]
    config: Any = None
    name: str | None = None


@dataclass
class ExportResult:
    out_dir: Path
    name: str
    package: cg.Package = field(repr=False)
    specializations: list[Specialization] = field(repr=False, default_factory=list)
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def header(self) -> Path:
        return self.out_dir / "include" / f"{self.name}.h"

    @property
    def source(self) -> Path:
        return self.out_dir / "src" / f"{self.name}.cc"

    @property
    def manifest(self) -> dict:
        return json.loads((self.out_dir / "manifest.json").read_text())


def _as_export(entry: Any) -> Export:
    if isinstance(entry, Export):
        return entry
    if isinstance(entry, dict):
        return Export(**entry)
    if isinstance(entry, (tuple, list)) and 2 <= len(entry) <= 4:
        return Export(*entry)
    raise TypeError("export() takes a list of Export(kernel, args, config=None, name=None), "
                    "(kernel, args[, config[, name]]) tuples or dicts with those keys; "
                    f"got {type(entry).__name__}")


def _identifier(name: str, what: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name in _RESERVED:
        raise ExportError(f"{what} {name!r} is not usable as a C++ identifier")
    return name


_RESERVED = {"deuteron", "std", "rt", "load_all", "describe", "Tensor", "Status", "DType", "main"}


def runtime_source_dir() -> Path:
    """cpp/runtime: $DEUTERON_RUNTIME_SOURCE, the copy installed with the package, or the repository's."""
    env = _env.runtime_source_dir()
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve().parent
    candidates += [here / "runtime_src", here.parents[2] / "cpp" / "runtime"]
    for c in candidates:
        if (c / "CMakeLists.txt").is_file() and (c / "include" / "deuteron_runtime" / "runtime.h").is_file():
            return c
    raise ExportError("cannot find the sources of deuteron's C++ runtime (cpp/runtime); set "
                      "DEUTERON_RUNTIME_SOURCE to that folder")


# ------------------------------------------------------------------ compile
def _compile(spec: Specialization, arch: int, cache: dict) -> None:
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource, compile

    for launch in spec.launches:
        signature, constexprs, attrs = triton_signature(launch.jit, launch.args)
        for p in launch.params:
            if p.kind == "scalar":  # passed through from the caller: any value, so no divisibility
                attrs.pop((p.index,), None)
        kinds = [t for t in signature.values() if t != "constexpr"]
        if kinds != [p.type for p in launch.params]:
            raise ExportError(f"{spec.function}: internal error: the parameters of {launch.kernel_name} "
                              f"({kinds}) do not match the recorded ones ({[p.type for p in launch.params]})")
        options = {"num_warps": launch.num_warps, "num_stages": launch.num_stages}
        if launch.maxnreg is not None:
            options["maxnreg"] = launch.maxnreg
        key = (launch.jit.cache_key, json.dumps(signature), repr(sorted(constexprs.items())),
               repr(sorted(attrs.items())), json.dumps(options, sort_keys=True), arch)
        compiled = cache.get(key)
        if compiled is None:
            src = ASTSource(fn=launch.jit, signature=signature, constexprs=constexprs, attrs=attrs)
            compiled = compile(src, target=GPUTarget("cuda", arch, 32), options=options)
            cache[key] = compiled
        if getattr(compiled.metadata, "tensordesc_meta", None):
            raise ExportError(f"{spec.function}: kernel {launch.kernel_name} takes host-side tensor descriptors, "
                              f"which exported kernels do not support")
        launch.compiled = compiled


def fake_cubin(name: str, signature: list[str], real: bytes) -> bytes:
    """A stand-in cubin for cpp/tests/fake_cuda: the kernel's parameter sizes (the two scratch
    pointers included), and a dummy function named after the real cubin's hash so that
    distinct cubins stay distinct."""
    sizes = [8 if t.startswith("*") else {"i1": 1, "i8": 1, "u8": 1, "i16": 2, "fp16": 2, "bf16": 2, "i32": 4,
                                           "fp32": 4}.get(t, 8) for t in signature] + [8, 8]
    digest = hashlib.sha256(real).hexdigest()[:16]
    return f"FAKECUBIN\n{name} {','.join(str(s) for s in sizes)}\n_cubin_{digest} -\n".encode() + b"\0"


def _package(name: str, arch: int, specs: list[Specialization], fake_cubins: bool) -> cg.Package:
    functions: dict[str, cg.Function] = {}
    for spec in specs:
        fn = functions.setdefault(spec.function, cg.Function(spec.function))
        if fn.specializations:
            _check_same_signature(fn.specializations[0], spec)
        fn.specializations.append(spec)
    cubins: list[bytes] = []
    cubin_files: list[str] = []
    cubin_index: dict[bytes, int] = {}
    kernels: list[cg.KernelImage] = []
    kernel_index: dict[tuple, int] = {}
    launch_kernels: dict[int, int] = {}
    for spec in specs:
        for launch in spec.launches:
            c = launch.compiled
            md = c.metadata
            sig = [p.type for p in launch.params]
            data = bytes(c.asm["cubin"])
            if fake_cubins:
                data = fake_cubin(md.name, sig, data)
            ci = cubin_index.get(data)
            if ci is None:
                ci = cubin_index[data] = len(cubins)
                cubins.append(data)
                cubin_files.append(f"{md.name.lstrip('_')}_{hashlib.sha256(data).hexdigest()[:12]}.cubin")
            image = cg.KernelImage(
                cubin=ci, name=md.name, num_warps=md.num_warps, num_ctas=md.num_ctas, shared=md.shared,
                global_scratch_size=md.global_scratch_size, global_scratch_align=md.global_scratch_align,
                profile_scratch_size=getattr(md, "profile_scratch_size", 0),
                profile_scratch_align=getattr(md, "profile_scratch_align", 1),
                launch_cooperative_grid=bool(getattr(md, "launch_cooperative_grid", False)),
                launch_pdl=bool(getattr(md, "launch_pdl", False)), signature=sig)
            key = json.dumps(vars(image), sort_keys=True)
            ki = kernel_index.get(key)
            if ki is None:
                ki = kernel_index[key] = len(kernels)
                kernels.append(image)
            launch_kernels[id(launch)] = ki
    return cg.Package(name, arch, list(functions.values()), kernels, cubins, cubin_files, launch_kernels)


def _param_shape(p: TensorParam | ScalarParam) -> tuple:
    return (p.name, "tensor" if isinstance(p, TensorParam) else p.kind)


def _check_same_signature(a: Specialization, b: Specialization) -> None:
    sa = [_param_shape(p) for p in a.params]
    sb = [_param_shape(p) for p in b.params]
    if sa != sb:
        def show(s: list) -> str:
            return ", ".join(f"{n}: {k}" for n, k in s)
        raise ExportError(
            f"two exports of {a.function} need different C++ arguments ({show(sa)} vs {show(sb)}); give one of "
            f"them another function name (Export(..., name=...), or --name in the CLI)")


def _launch_param(p: Any) -> dict:
    if p.kind == "tensor":
        return {"kind": "tensor", "type": p.type, "source": p.source, "offset": p.offset, "aligned": p.aligned}
    if p.kind == "scalar":
        return {"kind": "scalar", "type": p.type, "source": p.source}
    return {"kind": "const", "type": p.type, "value": p.value}


def _manifest(pkg: cg.Package, specs: list[Specialization]) -> dict:
    def param(p: TensorParam | ScalarParam) -> dict:
        if isinstance(p, TensorParam):
            return {"name": p.name, "kind": "tensor", "role": p.role, "dtype": p.dtype, "sizes": list(p.sizes),
                    "strides": list(p.strides), "origin": p.origin}
        return {"name": p.name, "kind": p.kind, "mode": p.mode, "value": p.value, "constexpr": p.constexpr}

    functions = []
    for fn in pkg.functions:
        entries = []
        for spec in fn.specializations:
            launches = []
            for launch in spec.launches:
                launches.append({
                    "kernel": pkg.launch_kernels[id(launch)], "name": launch.kernel_name, "grid": list(launch.grid),
                    "params": [_launch_param(p) for p in launch.params]})
            entries.append({"params": [param(p) for p in spec.params], "config": json.loads(spec.config.to_json()),
                            "launches": launches, "host_ops": spec.host_ops, "source": spec.source})
        functions.append({"name": fn.name, "specializations": entries})
    kernels = []
    for k in pkg.kernels:
        d = dict(vars(k))
        d["cubin"] = "cubins/" + pkg.cubin_files[k.cubin]
        kernels.append(d)
    return {"format": "deuteron.aot/1", "name": pkg.name, "arch": pkg.arch, "deuteron": cg.VERSION,
            "functions": functions, "kernels": kernels}


def _write(path: Path, text: str | bytes, files: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    if not path.exists() or path.read_bytes() != data:  # keep timestamps of unchanged files (rebuilds)
        path.write_bytes(data)
    files.append(path)


def _copy_runtime(src: Path, dst: Path, files: list[Path]) -> None:
    for f in sorted(src.rglob("*")):
        rel = f.relative_to(src)
        if f.is_dir() or any(part.startswith((".", "build")) for part in rel.parts):
            continue
        _write(dst / rel, f.read_bytes(), files)


def write_package(pkg: cg.Package, specs: list[Specialization], out_dir: str | os.PathLike[str]) -> list[Path]:
    out = Path(out_dir)
    files: list[Path] = []
    ns = pkg.name
    _write(out / "include" / f"{ns}.h", cg.header(pkg), files)
    _write(out / "include" / "deuteron_aot" / "tensor.h", TENSOR_H, files)
    _write(out / "src" / f"{ns}.cc", cg.source(pkg), files)
    _write(out / "CMakeLists.txt", cg.cmake_lists(pkg), files)
    _write(out / "cmake" / f"{ns}Config.cmake.in", cg.cmake_config(pkg), files)
    for data, fname in zip(pkg.cubins, pkg.cubin_files):
        _write(out / "cubins" / fname, data, files)
    _write(out / "manifest.json", json.dumps(_manifest(pkg, specs), indent=1, default=repr) + "\n", files)
    _copy_runtime(runtime_source_dir(), out / "runtime", files)
    return files


def prepare(entries: Iterable[Any], arch: int = 90) -> tuple[list[Specialization], list[str]]:
    """Records and compiles every entry (see :func:`export`); returns the
    specializations and the notes about host code that is not exported."""
    exports = [_as_export(e) for e in entries]
    if not exports:
        raise ExportError("nothing to export")
    specs: list[Specialization] = []
    notes: list[str] = []
    cache: dict = {}
    for e in exports:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ExportWarning)
            spec = record_specialization(e.kernel, e.args, e.config, e.name)
        for w in caught:
            notes.append(str(w.message))
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        _identifier(spec.function, "the function name")
        for other in specs:
            if other.function == spec.function:
                _check_same_signature(other, spec)
                break
        _compile(spec, arch, cache)
        specs.append(spec)
    return specs, notes


def export(entries: Iterable[Any], out_dir: str | os.PathLike[str], *, name: str = "deuteron_kernels",
           arch: int = 90) -> ExportResult:
    """Exports kernels to a C++ package in `out_dir` (see the module docstring and docs/aot.md).

    `entries`: ``(kernel, example_args[, config[, cpp_name]])`` tuples or
    :class:`Export` objects.  Example tensors may be CPU tensors (nothing runs;
    the code is generated and compiled for sm_<arch>); their dtypes, sizes,
    strides and pointer alignment are what the exported function accepts.
    Several entries of one kernel export several specializations of one C++
    function, tried in order.
    """
    _identifier(name, "the package name")
    specs, notes = prepare(entries, arch)
    return write(specs, out_dir, name=name, arch=arch, notes=notes)


def write(specs: list[Specialization], out_dir: str | os.PathLike[str], *, name: str, arch: int = 90,
          notes: list[str] | None = None, fake_cubins: bool = False) -> ExportResult:
    """Writes the package of compiled specializations (from :func:`prepare`).

    fake_cubins=True writes stand-ins that cpp/tests/fake_cuda loads instead
    of the real cubins (tests on machines without a GPU)."""
    _identifier(name, "the package name")
    pkg = _package(name, arch, specs, fake_cubins)
    files = write_package(pkg, specs, out_dir)
    return ExportResult(Path(out_dir), name, pkg, specs, files, list(notes or []))
