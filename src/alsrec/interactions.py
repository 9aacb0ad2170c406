"""Deprecated alias, moved to :mod:`alsrec.data.interactions` (kept for one release).

Import :class:`~alsrec.Interactions` from ``alsrec`` (or ``alsrec.data``) instead.
"""

from alsrec.data.interactions import (
    DROP_REASONS,
    Aggregate,
    Interactions,
    InteractionsSummary,
    as_weights,
)

__all__ = ["DROP_REASONS", "Aggregate", "Interactions", "InteractionsSummary", "as_weights"]
