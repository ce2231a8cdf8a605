#!/usr/bin/env bash
# The kernel tests through Triton's interpreter (TRITON_INTERPRET=1) on the
# oldest and the newest Triton deuteron supports (pyproject.toml's range),
# next to the pinned one scripts/test.sh uses.  Each version gets a small
# venv of its own holding only that Triton; everything else (torch, the
# editable deuteron build) comes from the main venv through a .pth file, so
# nothing is built twice.
#
#   bash scripts/test_triton_range.sh                   # the versions below
#   DEUTERON_TRITON_RANGE="3.7.1" bash scripts/test_triton_range.sh
#
# Run after scripts/setup.sh; exits non-zero when a test fails on any version.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${DEUTERON_VENV:-.venv}
# Oldest and newest supported (keep in step with pyproject.toml and
# target.h's kOldestTriton / kNewestTriton).
VERSIONS=${DEUTERON_TRITON_RANGE:-"3.5.1 3.9.0"}
MAIN_SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

status=0
for v in $VERSIONS; do
  dir=.venv-triton-$v
  if [ ! -x "$dir/bin/python" ]; then
    echo "[triton-range] creating $dir (triton==$v only; the rest from $VENV)"
    "$VENV/bin/python" -m venv "$dir"
  fi
  site=$("$dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  # addsitedir runs the main venv's own .pth files too (the editable build);
  # this venv's site-packages comes first, so its Triton wins.
  echo "import site; site.addsitedir('$MAIN_SITE')" > "$site/zz_deuteron_main_venv.pth"
  if [ "$("$dir/bin/python" -c 'import triton; print(triton.__version__)' 2>/dev/null)" != "$v" ]; then
    echo "[triton-range] installing triton==$v"
    "$dir/bin/python" -m pip install -q --no-deps "triton==$v"
  fi
  got=$("$dir/bin/python" -c 'import triton; print(triton.__version__)')
  if [ "$got" != "$v" ]; then
    echo "[triton-range] $dir imports triton $got, not $v"
    exit 1
  fi
  echo "[triton-range] kernel tests through Triton $v's interpreter"
  if ! TRITON_INTERPRET=1 "$dir/bin/python" -m pytest -q -p no:cacheprovider -m "kernels and not gpu" tests "$@"; then
    echo "[triton-range] FAILED on Triton $v"
    status=1
  fi
done
exit $status
