#!/usr/bin/env bash
# Exports softmax (examples/softmax.py) and matmul (examples/matmul.py) for the H100 (sm_90)
# as the C++ package `example_kernels`, builds and installs it, builds the C++ example
# against it with find_package, runs it (results checked against the CPU), and measures
# the per-call overhead of the same kernel from Python for comparison.
#
#   examples/cpp/run.sh                 # on the GPU machine
#   AOT_AUTOTUNE=1 examples/cpp/run.sh  # export autotuned configs instead of the defaults
#   BUILD=/tmp/x PYTHON=python3 examples/cpp/run.sh
#
# Needs: python3 with torch and triton, cmake, a C++20 compiler; for running, an NVIDIA
# driver (no CUDA toolkit).  Exporting needs no GPU: NO_RUN=1 stops after building.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build/aot-example}
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 4)}
GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi
mkdir -p "$BUILD"

# 1. deuteron's Python package with its C++ core (built here when it is not importable).
export PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}"
if ! "$PYTHON" -c "import deuteron._core" 2>/dev/null; then
  echo "== building deuteron._core"
  cmake -S "$ROOT" -B "$BUILD/core" "${GEN[@]}" -DDEUTERON_BUILD_PYTHON=ON -DDEUTERON_BUILD_TESTS=OFF \
        -DPython_EXECUTABLE="$(command -v "$PYTHON")" >/dev/null
  cmake --build "$BUILD/core" --target _core -j "$JOBS"
  # A copy of the package whose _core is the one just built (the source tree stays untouched).
  PKG="$BUILD/pypkg/deuteron"
  rm -rf "$BUILD/pypkg" && mkdir -p "$PKG"
  for f in "$ROOT"/python/deuteron/*; do
    case "$(basename "$f")" in _core*) ;; *) ln -s "$f" "$PKG/" ;; esac
  done
  ln -s "$BUILD"/core/_core*.so "$PKG/"
  export PYTHONPATH="$BUILD/pypkg:$PYTHONPATH"
fi

# 2. Export.  The shapes are the ones examples/cpp/main.cc uses.
echo "== deuteron export"
EXPORT_OPTS=()
if [[ "${AOT_AUTOTUNE:-0}" != 0 ]]; then EXPORT_OPTS=(--device cuda); CONFIG=(--config autotune); else CONFIG=(); fi
"$PYTHON" -m deuteron.aot export \
    "$ROOT/examples/softmax.py:softmax" "${CONFIG[@]}" --args 'x:bfloat16[4096,16384]' --args 'x:bfloat16[16,1024]' \
    "$ROOT/examples/matmul.py:matmul" "${CONFIG[@]}" --args 'x:bfloat16[4096,4096],y:bfloat16[4096,4096]' \
    --arch 90 "${EXPORT_OPTS[@]}" -o "$BUILD/example_kernels" --package example_kernels

# 3. Build and install the exported package; build the example against the installed one.
echo "== building the exported package and the example"
cmake -S "$BUILD/example_kernels" -B "$BUILD/example_kernels-build" "${GEN[@]}" >/dev/null
cmake --build "$BUILD/example_kernels-build" -j "$JOBS"
cmake --install "$BUILD/example_kernels-build" --prefix "$BUILD/prefix" >/dev/null
cmake -S "$ROOT/examples/cpp" -B "$BUILD/example-build" "${GEN[@]}" -DCMAKE_PREFIX_PATH="$BUILD/prefix" >/dev/null
cmake --build "$BUILD/example-build" -j "$JOBS"

if [[ "${NO_RUN:-0}" != 0 ]]; then
  echo "built $BUILD/example-build/aot_example (NO_RUN set: not running it)"
  exit 0
fi

# 4. Run the C++ example, then the same kernels from Python.
echo "== C++ (no Python, no libtorch)"
"$BUILD/example-build/aot_example"
echo "== Python"
if [[ "${AOT_AUTOTUNE:-0}" == 0 ]]; then export DEUTERON_AUTOTUNE_EFFORT=none; fi  # the configs exported above
"$PYTHON" "$ROOT/examples/cpp/python_overhead.py"
