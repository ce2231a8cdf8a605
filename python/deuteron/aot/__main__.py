"""``python -m deuteron.aot export ...``: the same as ``deuteron export ...`` (see deuteron/cli.py)."""

from __future__ import annotations

import sys

from ..cli import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not argv or argv[0] != "export":
        argv = ["export", *argv]  # `python -m deuteron.aot file.py:kernel ...`, `python -m deuteron.aot --help`
    sys.exit(main(argv))
