#!/usr/bin/env bash
# Runs the whole test suite: C++ unit and golden tests (ctest), then pytest
# (CPU tests; GPU tests are marked `gpu` and deselected unless DEUTERON_GPU_TESTS=1),
# then the fuzzers for a fixed time each (scripts/fuzz.sh; DEUTERON_FUZZ_SECONDS,
# default 45, 0 skips them).  Exits non-zero when any test fails or a fuzzer
# finds a crash, hang or memory blow-up.
#
# What it installs when missing (with apt-get, through sudo when not root):
# libgtest-dev (GoogleTest, for the C++ unit tests) and redis-server (the
# shared tuning cache's tests start a real Redis); scripts/fuzz.sh adds clang.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v sudo >/dev/null && [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
apt_install() {  # apt_install WHY PACKAGE...
  local why=$1; shift
  echo "[test] installing $* ($why)"
  if ! command -v apt-get >/dev/null || { [ -z "$SUDO" ] && [ "$(id -u)" != 0 ]; }; then
    echo "[test] cannot install $* here (no apt-get, or not root and no sudo): install it yourself, then run again"
    exit 1
  fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "$@" >/dev/null
}

# GoogleTest: the C++ tests are built with the package (one build of the core).
if [ ! -e /usr/lib/x86_64-linux-gnu/cmake/GTest/GTestConfig.cmake ] && [ ! -e /usr/lib/cmake/GTest/GTestConfig.cmake ] \
   && ! ls /usr/lib/*/libgtest.a >/dev/null 2>&1; then
  apt_install "GoogleTest, for the C++ unit tests" libgtest-dev
fi
if ! command -v redis-server >/dev/null; then
  apt_install "the shared tuning cache's tests run a real Redis" redis-server
fi

DEUTERON_SETUP_TESTS=1 bash scripts/setup.sh
. "${DEUTERON_VENV:-.venv}/bin/activate"

# The package's build folder (pyproject.toml: build-dir = "build/{wheel_tag}") holds the C++ tests.
BUILD=build/$(python -c 'import sys, sysconfig
v = "cp%d%d" % sys.version_info[:2]
print(v + "-" + v + "-" + sysconfig.get_platform().replace("-", "_").replace(".", "_"))')
echo "[test] C++: ctest ($BUILD)"
ctest --test-dir "$BUILD" --output-on-failure -j "$(nproc)"

echo "[test] Python: pytest"
MARK="not gpu"
if [ "${DEUTERON_GPU_TESTS:-0}" = 1 ]; then MARK=""; fi
python -m pytest -q -m "$MARK" tests "$@"
echo "[test] Python: kernel tests again, through Triton's interpreter (TRITON_INTERPRET=1)"
TRITON_INTERPRET=1 python -m pytest -q -m "kernels and not gpu" tests "$@"
if [ "${DEUTERON_TRITON_RANGE_TESTS:-1}" = 1 ]; then
  echo "[test] Python: kernel tests again on the oldest and newest supported Triton (scripts/test_triton_range.sh)"
  bash scripts/test_triton_range.sh "$@"
fi
# Helion's own tests, unchanged through the `helion` import alias: a subset that
# runs in a few minutes, each file held to its floor of passing tests
# (scripts/conformance_floor.json; the whole corpus: python scripts/conformance.py).
HELION_CORPUS=${DEUTERON_HELION_DIR:-../shared/helion}
if [ -d "$HELION_CORPUS/test" ]; then
  echo "[test] conformance: Helion's test files (interpret mode), each at least its floor"
  python scripts/conformance.py --helion "$HELION_CORPUS" --check-floor --files \
    test_grid.py test_views.py test_misc.py test_control_flow.py test_reductions.py test_errors.py \
    test_dot.py test_closures.py test_unroll_tuples.py test_autodiff.py test_broadcasting.py
else
  echo "[test] conformance: not run, Helion's corpus is not at $HELION_CORPUS (set DEUTERON_HELION_DIR)"
fi
echo "[test] fuzzing: parser, compile and args fuzzers, ${DEUTERON_FUZZ_SECONDS:-45} s each"
bash scripts/fuzz.sh
