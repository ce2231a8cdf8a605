"""Experimental features (Helion's ``helion.experimental``): :func:`backward`."""

from __future__ import annotations

from .autodiff import backward

__all__ = ["backward"]
