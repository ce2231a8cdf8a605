#!/usr/bin/env bash
# Sets up a development environment in .venv (Python deps + the package built
# from source in editable mode).  Safe to run again: it only does what is missing.
#
#   bash scripts/setup.sh            # set up
#   DEUTERON_PYTHON=python3.12 bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${DEUTERON_PYTHON:-python3}
VENV=${DEUTERON_VENV:-.venv}

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV with $($PY --version)"
  "$PY" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"

# torch 2.13.0 is the CPU build pinned for development machines; triton 3.6.0
# runs generated kernels (and interprets them on the CPU).  A machine that
# already has a CUDA torch should use its own environment instead of this one.
if ! python -c "import torch, triton, nanobind, scikit_build_core, pytest, hypothesis" 2>/dev/null; then
  echo "[setup] installing Python dependencies"
  python -m pip install -q "torch==2.13.0" "triton==3.6.0" "numpy<2.4" pytest hypothesis \
    "scikit-build-core>=0.10" "nanobind>=2.0" ninja cmake
fi
# Triton 3.6's interpreter (TRITON_INTERPRET=1) takes int() of 1-element arrays,
# which numpy 2.4 refuses: a kernel with an int argument as a loop bound fails
# there (runtime/launcher.py explains it to users).  Triton >= 3.8 is fixed.
if ! python -c "import numpy, sys; sys.exit(tuple(map(int, numpy.__version__.split('.')[:2])) >= (2, 4))" 2>/dev/null; then
  echo "[setup] installing numpy<2.4 (Triton 3.6's interpreter)"
  python -m pip install -q "numpy<2.4"
fi
# Test-only: expecttest is imported by Helion's own test files, which the
# conformance runner (scripts/conformance.py) runs unchanged.
if ! python -c "import expecttest" 2>/dev/null; then
  echo "[setup] installing test dependencies (expecttest)"
  python -m pip install -q expecttest
fi
# The Redis client: an optional dependency of deuteron (deuteron[redis], the shared
# tuning cache on Redis) that the tests of that cache need.
if ! python -c "import redis" 2>/dev/null; then
  echo "[setup] installing the redis client (tests of the shared tuning cache)"
  python -m pip install -q "redis>=4.5"
fi

# DEUTERON_SETUP_TESTS=1 (scripts/test.sh) also builds the C++ tests in the same
# build folder, so that the core is compiled once for both.
defines=()
what="C++ core + Python extension"
if [ "${DEUTERON_SETUP_TESTS:-0}" = 1 ]; then
  defines=(--config-settings=cmake.define.DEUTERON_BUILD_TESTS=ON)
  what="C++ core + Python extension + C++ tests"
fi
echo "[setup] building deuteron ($what): a few minutes on a small machine; progress below"
# pip hides the build unless verbose: keep its whole log, show ninja's [n/N] steps.
log=$(mktemp)
set +e
python -m pip install -v --no-deps --no-build-isolation -e . "${defines[@]}" 2>&1 | tee "$log" \
  | sed -u -n -E 's#^ *\[([0-9]+/[0-9]+)\] (Building|Linking)[^/]* ([^ ]*/)?([^ /]+)$#[setup]   [\1] \2 \4#p'
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" != 0 ]; then
  echo "[setup] the build failed (pip exit $rc); the end of its log ($log):"
  tail -60 "$log"
  exit 1
fi
rm -f "$log"
python -c "import deuteron, deuteron._core as c; print('[setup] deuteron', deuteron.__version__, 'core', c.__version__, 'ready')"
