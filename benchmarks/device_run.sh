#!/usr/bin/env bash
# Builds deuteron on the device machine, then runs the stages asked for, each
# logging to $OUT/<stage>.log (the device's output folder; /tmp/out elsewhere).
#
#   bash benchmarks/device_run.sh [tests] [cpp] [pointwise] [kernels] [autotune] [helion-examples] [aoti-probe] [split-dot-defaults]
#
# tests:     pytest -m gpu tests/gpu (examples, torch.compile/export/AOTInductor, autograd)
# cpp:       examples/cpp/run.sh (C++ export of softmax and matmul, run without Python)
# pointwise: benchmarks/pointwise.py (add vs copy, host overhead)
# kernels:   benchmarks/kernels.py (each example vs eager, torch.compile, cuBLAS/SDPA)
# autotune:  benchmarks/autotune.py --effort quick (tune time, tuned vs default speed)
# helion-examples: benchmarks/helion_examples.py (deuteron vs Helion on Helion's examples); HX_JOBS: check processes at a time
# aoti-probe: benchmarks/aoti_probe.py (AOTInductor Python load: plain torch, triton_op, deuteron)
# split-dot-defaults: benchmarks/split_dot_defaults.py (default config vs variants of the kernels fission splits)
# autotune-full: the same with --effort full (autotune_full.json, at_full/)
# With no stage named: tests.  KERNELS=softmax,matmul limits kernels/autotune;
# TESTS=attention_gpu limits tests to tests/gpu/test_attention_gpu.py.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
t0=$(date +%s)
python3 -m pip install --no-deps --no-build-isolation -q . > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
echo "build: $(( $(date +%s) - t0 )) s"
python3 -c "import torch, triton, deuteron; print('torch', torch.__version__, 'triton', triton.__version__, torch.cuda.get_device_name())"
cd /tmp  # import the installed package, not the source tree
rc=0
stages=("$@"); [ ${#stages[@]} -eq 0 ] && stages=(tests)
for stage in "${stages[@]}"; do
  s0=$(date +%s)
  echo "== $stage"
  case "$stage" in
    # Examples run with the default config (autotuning is the autotune stage).
    # One pytest process per file, verbose, so that a crash names its test
    # (pytest's faulthandler prints the Python stack) and spares the other file.
    tests) (fail=0; for f in "$REPO"/tests/gpu/test_${TESTS:-*}.py; do
             # AOTInductor builds take minutes: test_torch_gpu.py gets more time per test.
             t=120; case "$f" in *test_torch_gpu.py) t=600 ;; esac
             DEUTERON_AUTOTUNE_EFFORT=none python3 -X faulthandler -m pytest -v -m gpu "$f" -p no:cacheprovider \
               --timeout $t || { echo "FAILED: $(basename "$f") exit $?"; fail=1; }
           done; exit $fail) 2>&1 | tee "$OUT/tests.log" | grep -E "PASSED|FAILED|ERROR|SKIPPED|Fatal|passed|failed|File \"" | tail -60 ;;
    cpp) BUILD=/tmp/aot-example bash "$REPO/examples/cpp/run.sh" 2>&1 | tee "$OUT/cpp.log" | tail -25 ;;
    pointwise) python3 "$REPO/benchmarks/pointwise.py" --json "$OUT/pointwise.json" 2>&1 | tee "$OUT/pointwise.log" | tail -12 ;;
    kernels) python3 "$REPO/benchmarks/kernels.py" --out "$OUT" ${KERNELS:+--only "$KERNELS"} 2>&1 | tail -30 ;;
    autotune) python3 "$REPO/benchmarks/autotune.py" --effort quick --json "$OUT/autotune.json" --log-dir "$OUT/at" \
                ${KERNELS:+--kernels "$KERNELS"} 2>&1 | tee "$OUT/autotune.log" | tail -12 ;;
    autotune-full) python3 "$REPO/benchmarks/autotune.py" --effort full --json "$OUT/autotune_full.json" \
                     --log-dir "$OUT/at_full" ${KERNELS:+--kernels "$KERNELS"} 2>&1 | tee "$OUT/autotune_full.log" | tail -12 ;;
    # Helion's examples on deuteron and on Helion itself (HELION: a Helion checkout with
    # helion/ and examples/, default .helion in the repo; HX_BUDGET: seconds for the stage).
    helion-examples) python3 "$REPO/benchmarks/helion_examples.py" --helion "${HELION:-$REPO/.helion}" --out "$OUT" \
                       --work /tmp/hx-work --budget "${HX_BUDGET:-420}" --jobs "${HX_JOBS:-8}" ${KERNELS:+--only "$KERNELS"} 2>&1 \
                       | tee "$OUT/helion_examples.log" | tail -70 ;;
    aoti-probe) python3 "$REPO/benchmarks/aoti_probe.py" /tmp/aoti_probe 2>&1 | tee "$OUT/aoti_probe.log" | grep -E "^(plain|triton_op|deuteron)[:/]" ;;
    split-dot-defaults) python3 "$REPO/benchmarks/split_dot_defaults.py" --helion "${HELION:-$REPO/.helion}" 2>&1 \
                          | tee "$OUT/split_dot_defaults.log" ;;
    *) echo "unknown stage $stage"; rc=2 ;;
  esac
  st=${PIPESTATUS[0]}; [ "$st" != 0 ] && rc=$st
  echo "== $stage: $(( $(date +%s) - s0 )) s, exit $st"
done
exit $rc
