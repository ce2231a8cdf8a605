#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs a demo kernel: on the GPU when
# there is one, otherwise on the CPU in interpret mode (the script says which).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. "${DEUTERON_VENV:-.venv}/bin/activate"
python examples/demo.py
