"""Autotuning: choosing the fastest correct config of a bound kernel.

``tune(bound, args, configs=None)`` is what ``BoundKernel.autotune`` calls; see
driver.py for the pipeline and docs/autotuning.md for the user's view.
"""

from __future__ import annotations

from .driver import Failure, TuneHooks, TuneResult, cached_config, tune

__all__ = ["tune", "cached_config", "TuneHooks", "TuneResult", "Failure"]
