"""Autotuning: choosing the fastest correct config of a bound kernel."""

from __future__ import annotations

from .driver import tune

__all__ = ["tune"]
