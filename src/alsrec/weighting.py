"""Deprecated alias, moved to :mod:`alsrec.data.weighting` (kept for one release)."""

from alsrec.data.weighting import SCHEME_OPTIONS, Weighting, confidence, weigh

__all__ = ["SCHEME_OPTIONS", "Weighting", "confidence", "weigh"]
