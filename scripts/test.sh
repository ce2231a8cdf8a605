#!/usr/bin/env bash
# Runs the whole test suite: C++ unit and golden tests (ctest), then pytest
# (CPU tests; GPU tests are marked `gpu` and deselected unless DEUTERON_GPU_TESTS=1),
# then the fuzzers for a fixed time each (scripts/fuzz.sh; DEUTERON_FUZZ_SECONDS,
# default 45, 0 skips them).  Exits non-zero when any test fails or a fuzzer
# finds a crash, hang or memory blow-up.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. "${DEUTERON_VENV:-.venv}/bin/activate"

# GoogleTest for the C++ tests.
if [ ! -e /usr/lib/x86_64-linux-gnu/cmake/GTest/GTestConfig.cmake ] && [ ! -e /usr/lib/cmake/GTest/GTestConfig.cmake ] \
   && ! ls /usr/lib/*/libgtest.a >/dev/null 2>&1; then
  echo "[test] installing GoogleTest (libgtest-dev)"
  if command -v sudo >/dev/null && [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libgtest-dev >/dev/null
fi

# redis-server for the tests of the shared tuning cache on Redis (tests/test_tuning_store.py and
# friends start their own server on a free port in a temporary folder, and stop it).
if ! command -v redis-server >/dev/null; then
  echo "[test] installing redis-server (the shared tuning cache's tests run a real Redis)"
  if command -v sudo >/dev/null && [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq redis-server >/dev/null
fi

echo "[test] C++: configure and build"
cmake -S . -B build/tests -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEUTERON_BUILD_PYTHON=OFF \
  -DDEUTERON_BUILD_TESTS=ON -DPython_EXECUTABLE="$(command -v python)" >/dev/null
cmake --build build/tests -j "$(nproc)"
echo "[test] C++: ctest"
ctest --test-dir build/tests --output-on-failure -j "$(nproc)"

echo "[test] Python: pytest"
MARK="not gpu"
if [ "${DEUTERON_GPU_TESTS:-0}" = 1 ]; then MARK=""; fi
python -m pytest -q -m "$MARK" tests "$@"
echo "[test] Python: kernel tests again, through Triton's interpreter (TRITON_INTERPRET=1)"
TRITON_INTERPRET=1 python -m pytest -q -m "kernels and not gpu" tests "$@"
echo "[test] fuzzing: parser, compile and args fuzzers, ${DEUTERON_FUZZ_SECONDS:-45} s each"
bash scripts/fuzz.sh
