"""The ``deuteron`` command.

    deuteron version
    deuteron cache list|show|export|import|prune ...
    deuteron export FILE.py:KERNEL --args SPEC [--config JSON] [--args SPEC ...] [FILE.py:KERNEL ...]
                    -o OUT_DIR [--package NAME] [--arch 90] [--device cpu|cuda]

See ``deuteron export --help`` and docs/aot.md; ``deuteron cache --help`` and docs/autotuning.md.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from . import aot
from .autotune import cache_cli
from .runtime.kernel import Kernel
from .version import __version__

EXPORT_HELP = """\
usage: deuteron export KERNEL --args SPEC [--config CONFIG] [--args SPEC [--config CONFIG] ...] [--as NAME]
                       [KERNEL ...] -o OUT_DIR [--package NAME] [--arch N] [--device cpu|cuda]

Exports deuteron kernels to a C++ package: cubins for sm_N, a header and source with one
function per kernel, deuteron's C++ runtime and a CMake package (find_package(NAME)).

  KERNEL            path/to/file.py:kernel_name or package.module:kernel_name
  --args SPEC       example arguments of one specialization, e.g. 'x:bfloat16[4096,16384]'
                    (tensors name:dtype[sizes] row-major, +K to start K elements in;
                    scalars name:int=V, name:float=V, name:bool=V, name:None). Repeat for
                    more specializations of the same kernel.
  --config CONFIG   the config of the --args before it (or, before any --args, of all the
                    kernel's): JSON, @file.json, "default" or "autotune" (needs --device cuda).
                    Default: the kernel's config= if it has one, else its default config.
  --as NAME         the C++ function's name (default: the kernel's)
  -o, --out DIR     output folder (created)
  --package NAME    C++ namespace, library and CMake package name (default: the folder's name)
  --arch N          compute capability to compile for (default 90: H100)
  --device DEV      where example tensors live (default cpu; cuda for autotuning)
"""

USAGE = """\
usage: deuteron <command> [args]

commands:
  export    export kernels to a C++ package (deuteron export --help)
  cache     the shared tuning cache: list, show, export, import, prune (deuteron cache --help)
  version   print the versions of deuteron, torch and triton
"""


class UsageError(Exception):
    pass


def _load_kernel(ref: str) -> Any:
    if ":" not in ref:
        raise UsageError(f"{ref!r}: expected FILE.py:KERNEL or module:KERNEL")
    where, name = ref.rsplit(":", 1)
    if where.endswith(".py") or os.sep in where or os.path.exists(where):
        path = Path(where).resolve()
        if not path.is_file():
            raise UsageError(f"{where}: no such file")
        # The file's folder on sys.path: examples import their neighbours (_common.py).
        folder = str(path.parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        mod_name = path.stem if path.stem not in sys.modules else f"_deuteron_export_{path.stem}"
        spec = importlib.util.spec_from_file_location(mod_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    kernel = getattr(module, name, None)
    if kernel is None:
        raise UsageError(f"{where} has no {name!r}")
    if not isinstance(kernel, Kernel):
        raise UsageError(f"{ref} is not a deuteron kernel (@deuteron.kernel)")
    return kernel


def _config_value(text: str) -> Any:
    if text in ("default", "autotune"):
        return text
    if text.startswith("@"):
        text = Path(text[1:]).read_text()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"--config: not JSON: {e}") from None
    if not isinstance(value, dict):
        raise UsageError("--config: expected a JSON object")
    return value


def _parse_export(argv: Sequence[str]) -> dict[str, Any] | None:
    """The export command's options, or None for --help."""
    opts: dict[str, Any] = {"out": None, "package": None, "arch": 90, "device": "cpu", "kernels": []}
    i = 0
    current: dict[str, Any] | None = None

    def value(flag: str) -> str:
        nonlocal i
        a = argv[i]
        if "=" in a and a.startswith("--"):
            return a.split("=", 1)[1]
        if i + 1 >= len(argv):
            raise UsageError(f"{flag} needs a value")
        i += 1
        return argv[i]

    while i < len(argv):
        a = argv[i]
        flag = a.split("=", 1)[0] if a.startswith("--") else a
        if flag in ("-h", "--help"):
            return None
        if flag in ("-o", "--out"):
            opts["out"] = value(flag)
        elif flag == "--package":
            opts["package"] = value(flag)
        elif flag == "--arch":
            opts["arch"] = int(value(flag).removeprefix("sm_"))
        elif flag == "--device":
            opts["device"] = value(flag)
        elif flag in ("--args", "--config", "--as"):
            if current is None:
                raise UsageError(f"{flag} must follow a KERNEL (FILE.py:KERNEL)")
            v = value(flag)
            if flag == "--args":
                current["specs"].append({"args": v, "config": current["config"], "explicit": False})
            elif flag == "--as":
                current["name"] = v
            elif not current["specs"]:
                current["config"] = _config_value(v)  # for all of this kernel's --args
            elif current["specs"][-1]["explicit"]:
                raise UsageError(f"{current['ref']}: two --config for one --args")
            else:
                current["specs"][-1]["config"] = _config_value(v)
                current["specs"][-1]["explicit"] = True
        elif a.startswith("-"):
            raise UsageError(f"unknown option {a}")
        else:
            current = {"ref": a, "specs": [], "config": None, "name": None}
            opts["kernels"].append(current)
        i += 1
    if not opts["kernels"]:
        raise UsageError("no kernel to export (FILE.py:KERNEL --args ...)")
    for k in opts["kernels"]:
        if not k["specs"]:
            raise UsageError(f"{k['ref']}: give its example arguments with --args")
    if opts["out"] is None:
        raise UsageError("give the output folder with -o DIR")
    return opts


def export_command(argv: Sequence[str]) -> int:
    opts = _parse_export(argv)
    if opts is None:
        print(EXPORT_HELP, end="")
        return 0
    out = Path(opts["out"])
    package = opts["package"] or "".join(c if c.isalnum() else "_" for c in out.resolve().name)
    if package and package[0].isdigit():
        package = "_" + package
    entries = []
    for k in opts["kernels"]:
        kernel = _load_kernel(k["ref"])
        names = [p.name for p in kernel.parameters]
        for spec in k["specs"]:
            values = aot.parse_args_spec(spec["args"], device=opts["device"])
            unknown = [n for n in values if n not in names]
            if unknown:
                raise UsageError(f"{k['ref']}: no parameter named {', '.join(unknown)} "
                                 f"(parameters: {', '.join(names)})")
            entries.append(aot.Export(kernel, _positional(kernel, values), spec["config"], k["name"]))
    result = aot.export(entries, out, name=package, arch=opts["arch"])
    n = sum(len(fn.specializations) for fn in result.package.functions)
    print(f"deuteron export: wrote {result.out_dir} (package {package}: "
          f"{', '.join(fn.name for fn in result.package.functions)}; {n} specialization(s), "
          f"{len(result.package.cubins)} cubin(s) for sm_{opts['arch']})")
    print(f"  header: {result.header}")
    print(f"  build:  cmake -S {result.out_dir} -B <build> && cmake --build <build> && "
          f"cmake --install <build> --prefix <prefix>")
    return 0


def _positional(kernel: Any, values: dict[str, Any]) -> tuple:
    args = []
    for p in kernel.parameters:
        if p.name in values:
            args.append(values[p.name])
        elif p.default is not inspect.Parameter.empty:
            args.append(p.default)
        else:
            raise UsageError(f"{kernel.fn.__name__}: --args gives no value for {p.name!r}")
    return tuple(args)


def version_command() -> int:
    import triton  # not at import: see runtime/launcher.py

    print(f"deuteron {__version__}, torch {torch.__version__}, triton {triton.__version__}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    try:
        if command == "version" or command == "--version":
            return version_command()
        if command == "export":
            return export_command(rest)
        if command == "cache":
            return cache_cli.main(rest)
        raise UsageError(f"unknown command {command!r}")
    except UsageError as e:
        print(f"deuteron {command}: error: {e}", file=sys.stderr)
        return 2
    except aot.ExportError as e:
        print(f"deuteron {command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
