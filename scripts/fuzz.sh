#!/usr/bin/env bash
# Builds the libFuzzer targets (cpp/tests/fuzz) and runs each for a fixed
# time on the checked-in corpus plus the new inputs libFuzzer makes from it.
# Fails on any finding: a crash or sanitizer report, an input that takes more
# than FUZZ_TIMEOUT seconds (a hang), or one that needs more than
# FUZZ_RSS_MB of memory.  Findings are left in build/fuzz/findings/.
#
#   bash scripts/fuzz.sh                      # every target, 45 s each
#   DEUTERON_FUZZ_SECONDS=600 bash scripts/fuzz.sh compile
#   DEUTERON_FUZZ_SECONDS=0 bash scripts/test.sh   # skip fuzzing
#
# Installs (Debian, with apt, only when no usable clang is there): clang-19,
# because libFuzzer is part of clang and not of gcc (and the core needs clang
# >= 16: Debian 12's default clang 14 rejects lambdas capturing structured
# bindings), and libclang-rt-19-dev, which holds clang's runtime libraries
# for -fsanitize=fuzzer,address,undefined (Debian's clang only recommends it).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${DEUTERON_FUZZ_SECONDS:-45}
FUZZ_TIMEOUT=${DEUTERON_FUZZ_TIMEOUT:-25}
FUZZ_RSS_MB=${DEUTERON_FUZZ_RSS_MB:-2048}
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then TARGETS=(parser compile args); fi
if [ "$SECONDS_PER_TARGET" = 0 ]; then
  echo "[fuzz] skipped (DEUTERON_FUZZ_SECONDS=0)"
  exit 0
fi

if command -v sudo >/dev/null && [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
# A clang that builds the core (C++20: lambdas capture structured bindings,
# clang >= 16) and links -fsanitize=fuzzer.
usable() {
  local cxx=$1 tmp rc
  command -v "$cxx" >/dev/null || return 1
  tmp=$(mktemp -d)
  cat > "$tmp/t.cc" <<'CC'
#include <map>
extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) {
  std::map<int, int> m;
  for (const auto& [k, v] : m) [&] { return k + v; }();
  return 0;
}
CC
  "$cxx" -std=c++20 -fsanitize=fuzzer,address,undefined "$tmp/t.cc" -o "$tmp/t" >/dev/null 2>&1
  rc=$?
  rm -rf "$tmp"
  return $rc
}
CXX_FUZZ=
for c in clang++ clang++-19 clang++-18 clang++-17 clang++-16; do
  if usable "$c"; then CXX_FUZZ=$c; break; fi
done
if [ -z "$CXX_FUZZ" ]; then
  echo "[fuzz] installing clang-19 and libclang-rt-19-dev (libFuzzer and the sanitizer runtimes)"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq clang-19 libclang-rt-19-dev >/dev/null
  usable clang++-19 || { echo "[fuzz] clang++-19 cannot build a libFuzzer target"; exit 1; }
  CXX_FUZZ=clang++-19
fi
CC_FUZZ=${CXX_FUZZ/clang++/clang}

echo "[fuzz] build ($CXX_FUZZ, -fsanitize=fuzzer,address,undefined)"
# -O1 and line tables only: quicker to build than -O2 -g, and enough for
# symbolized stack traces.
CC=$CC_FUZZ CXX=$CXX_FUZZ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DDEUTERON_BUILD_FUZZERS=ON -DDEUTERON_BUILD_PYTHON=OFF -DDEUTERON_BUILD_TESTS=OFF >/dev/null
cmake --build build/fuzz -j "$(nproc)" --target "${TARGETS[@]/%/_fuzzer}"

mkdir -p build/fuzz/findings
status=0
for t in "${TARGETS[@]}"; do
  # New inputs go to a scratch corpus; the checked-in one is only read.
  scratch=build/fuzz/corpus-$t
  mkdir -p "$scratch"
  seeds=cpp/tests/fuzz/corpus/$t
  [ "$t" = parser ] && seeds=cpp/tests/fuzz/corpus/compile  # kernel files, #ARGS is a comment
  dict=()
  [ -f "cpp/tests/fuzz/$t.dict" ] && dict=(-dict="cpp/tests/fuzz/$t.dict")
  echo "[fuzz] $t: ${SECONDS_PER_TARGET}s (timeout ${FUZZ_TIMEOUT}s per input, ${FUZZ_RSS_MB} MB)"
  # shellcheck disable=SC2086
  if ! ASAN_OPTIONS=detect_leaks=0 "build/fuzz/${t}_fuzzer" "${dict[@]}" -max_total_time="$SECONDS_PER_TARGET" \
      -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" -max_len=16384 -print_final_stats=1 \
      -artifact_prefix=build/fuzz/findings/"$t"- "$scratch" $seeds > "build/fuzz/$t.log" 2>&1; then
    echo "[fuzz] $t: FOUND A PROBLEM (build/fuzz/$t.log, reproducer in build/fuzz/findings/):"
    # The target's own message is the line after "<target>_fuzzer:" (the
    # exception's text); print it with the sanitizer's summary lines.
    grep -E -A3 "ERROR|SUMMARY|runtime error|==[0-9]+==|Test unit written|_fuzzer:" "build/fuzz/$t.log" | head -40
    # CI keeps no files: print each reproducer too (control bytes made
    # visible by cat -v), so that the log alone is enough to reproduce.
    for f in build/fuzz/findings/"$t"-*; do
      [ -f "$f" ] || continue
      echo "[fuzz] reproducer $f ($(wc -c < "$f") bytes, base64 then as text):"
      base64 -w 0 "$f" | head -c 6000; echo
      head -c 3000 "$f" | cat -v; echo
    done
    status=1
  else
    grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "build/fuzz/$t.log" | tr '\n' ' '
    echo
  fi
done
exit $status
