"""The layering of python/deuteron (docs/architecture.md, "Python layers"), checked.

* The import graph of the package, read from the source (ast, every import
  statement, at module level or inside a function), has no cycle, and every
  edge goes to the module's own layer or a lower one.
* No function imports a deuteron module (a function-local import is how a
  cycle hides).
* Every module imports on its own in a fresh interpreter.
* Only runtime/env.py reads the environment (and worker_protocol.py, which a
  worker process runs before it can import deuteron); worker_protocol.py and
  _worker_main.py use only the standard library.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "deuteron"

# Each module's layer: the entry for the module itself or for its nearest
# package.  A module may import modules of its own layer (without a cycle) and
# of lower layers, never of higher ones.
LAYERS = {
    # 0: no deuteron imports below them; the worker's side of the autotuner imports only the standard library.
    "deuteron.version": 0,
    "deuteron.exc": 0,
    "deuteron.language": 0,
    "deuteron.autotuner": 0,
    "deuteron.autotune.worker_protocol": 0,
    "deuteron.autotune._worker_main": 0,
    # 1: the runtime's parts: environment, settings, configs, the C++ core, source, generated modules, launching.
    "deuteron.runtime": 1,
    # 2: kernels as torch.library operators (knows BoundKernel only by its public methods);
    # compatibility with Helion programs (the `helion` import alias, platform queries).
    "deuteron.torch_integration": 2,
    "deuteron.compat": 2,
    # 3: Kernel and BoundKernel (the autotuner is plugged in, never imported).
    "deuteron.runtime.kernel": 3,
    # 4: users of BoundKernel's public API.
    "deuteron.runtime.aot": 4,
    "deuteron.autotune": 4,
    "deuteron.testing": 4,
    "deuteron.experimental": 4,  # backward(): compiles and calls a generated kernel
    # 5: C++ export.
    "deuteron.aot": 5,
    # 6: entry points: the package (which plugs the autotuner into the runtime) and the command line.
    "deuteron": 6,
    "deuteron.cli": 6,
    "deuteron.aot.__main__": 6,
}

# Imported by name but not Python source in the tree.
EXTERNAL = {"deuteron._core"}  # the C++ extension

# The only files that may read os.environ.
ENVIRONMENT_READERS = {"runtime/env.py", "autotune/worker_protocol.py"}

# Files that a worker process runs before deuteron can be imported.
STDLIB_ONLY = {"autotune/worker_protocol.py", "autotune/_worker_main.py"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(name: str) -> int | None:
    probe = name
    while True:
        if probe in LAYERS:
            return LAYERS[probe]
        if "." not in probe:
            return None
        probe = probe.rsplit(".", 1)[0]
        if probe == "deuteron":  # the package's own entry is for its __init__ only
            return None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    local: bool  # inside a function or class body

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({MODULES[self.source].relative_to(PACKAGE.parent)}:{self.line})"


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _targets(node: ast.Import | ast.ImportFrom, source: str) -> list[str]:
    """The deuteron modules an import statement imports (attribute imports count as their module)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base_parts = source.split(".")
            if not _is_package(source):
                base_parts = base_parts[:-1]
            base_parts = base_parts[:len(base_parts) - (node.level - 1)]
            base = ".".join(base_parts + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES | dict.fromkeys(EXTERNAL)
                 else base for alias in node.names]
    out = []
    for name in names:
        if name != "deuteron" and not name.startswith("deuteron."):
            continue
        if name in EXTERNAL:
            continue
        assert name in MODULES, f"{source} imports {name}, which is not a module of python/deuteron"
        out.append(name)
    return out


def _edges() -> list[Edge]:
    edges = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))

        def visit(node: ast.AST, local: bool) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    for target in _targets(child, name):
                        edges.append(Edge(name, target, child.lineno, local))
                inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))
                visit(child, inner)

        visit(tree, False)
    return edges


EDGES = _edges()


def test_the_graph_is_read():
    # A parser that found nothing would pass every other test.
    assert "deuteron.runtime.source" in {e.target for e in EDGES if e.source == "deuteron.runtime.kernel"}
    assert {e.target for e in EDGES if e.source == "deuteron"} >= {"deuteron.autotune", "deuteron.runtime.kernel"}
    assert len(MODULES) > 30


def test_every_module_has_a_layer():
    missing = [m for m in MODULES if layer_of(m) is None]
    assert not missing, f"give these modules a layer in LAYERS and in docs/architecture.md: {missing}"


def test_imports_go_down_the_layers():
    up = [f"{e} (layer {layer_of(e.source)} imports layer {layer_of(e.target)})" for e in EDGES
          if layer_of(e.target) > layer_of(e.source)]
    assert not up, "imports against the layering (docs/architecture.md):\n" + "\n".join(up)


def test_no_import_cycle():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for e in EDGES:
        if e.target != e.source:
            graph[e.source].add(e.target)
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c + [c[0]]) for c in cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_function_local_imports_of_deuteron_modules():
    local = [str(e) for e in EDGES if e.local]
    assert not local, "import these at module level (a local import hides a cycle):\n" + "\n".join(local)


def _reads_environment(tree: ast.AST) -> bool:
    """Whether code (not the text of a string: generated code may set a variable) uses
    os.environ, os.getenv or a bare environ / getenv."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
            return True
        if isinstance(node, ast.Name) and node.id in ("environ", "getenv"):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                a.name in ("environ", "getenv", "environb") for a in node.names):
            return True
    return False


def test_only_env_reads_the_environment():
    readers = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if _reads_environment(ast.parse(path.read_text())) and rel not in ENVIRONMENT_READERS:
            readers.append(rel)
    assert not readers, f"read environment variables through deuteron.runtime.env: {readers}"
    assert _reads_environment(ast.parse("import os\nos.environ.get('X')"))
    assert _reads_environment(ast.parse("from os import getenv"))
    assert not _reads_environment(ast.parse("TEXT = 'os.environ.setdefault(\"X\", \"1\")'"))


def test_worker_side_uses_only_the_standard_library():
    for rel in STDLIB_ONLY:
        tree = ast.parse((PACKAGE / rel).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                roots = [] if node.module == "__future__" else [(node.module or "").split(".")[0]]
                assert node.level == 0, f"{rel}:{node.lineno}: a relative import (the worker loads it by path)"
            else:
                continue
            for root in roots:
                assert root in sys.stdlib_module_names, f"{rel}:{node.lineno} imports {root}"


# The child imports the third-party libraries first, then forks once per module:
# each module is imported in a process where no deuteron module was loaded yet,
# without paying for torch's import every time.
_IMPORT_EACH = r"""
import importlib, json, os, sys, traceback
import numpy, torch, triton
assert not [m for m in sys.modules if m == "deuteron" or m.startswith("deuteron.")]
results = {}
for name in json.loads(sys.argv[1]):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            importlib.import_module(name)
            message = ""
        except BaseException:
            message = traceback.format_exc()
        os.write(w, message.encode() or b"ok")
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read().decode()
    _, status = os.waitpid(pid, 0)
    results[name] = data if data else f"the child ended with status {status}"
print(json.dumps(results))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_each_module_imports_alone_in_a_fresh_interpreter():
    names = sorted(MODULES)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-c", _IMPORT_EACH, json.dumps(names)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    failed = {name: out for name, out in results.items() if out != "ok"}
    assert not failed, "\n".join(f"{name}:\n{out}" for name, out in failed.items())
    assert set(results) == set(names)


def test_import_deuteron_leaves_triton_unimported():
    """Triton decides when it is imported whether it interprets, so TRITON_INTERPRET may
    still be set after `import deuteron` (Triton is imported at the first bind)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    env.pop("TRITON_INTERPRET", None)
    code = "import sys, deuteron, deuteron.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'triton'))"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"
