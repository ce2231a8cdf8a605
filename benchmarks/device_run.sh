#!/usr/bin/env bash
# Builds deuteron on the device machine and runs the GPU tests and benchmarks.
# Usage (from the repository root on the device): bash benchmarks/device_run.sh [pytest args]
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
t0=$(date +%s)
python3 -m pip install --no-deps --no-build-isolation -q . > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
echo "build: $(( $(date +%s) - t0 )) s"
python3 -c "import torch, triton, deuteron; print('torch', torch.__version__, 'triton', triton.__version__, torch.cuda.get_device_name())"
cd /tmp  # import the installed package, not the source tree
REPO=$OLDPWD
python3 -m pytest -q -x -m gpu "$REPO/tests/gpu" "$@" 2>&1 | tail -25
