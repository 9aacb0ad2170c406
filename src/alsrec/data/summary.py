"""Counts describing an interaction dataset and how it was built."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["InteractionsSummary"]


@dataclass(frozen=True)
class InteractionsSummary:
    """Counts describing an :class:`Interactions` dataset and how it was built.

    ``rows_read == n_interactions + duplicates_merged + sum(dropped.values())``: every row
    read is either a stored pair, merged into one, or dropped for a reason named in
    ``dropped`` (see :data:`alsrec.data.interactions.DROP_REASONS`).
    """

    n_users: int
    n_items: int
    n_interactions: int
    rows_read: int
    duplicates_merged: int
    density: float
    dropped: dict[str, int] = field(default_factory=dict)
    aggregate: str = "sum"
    source: str = "arrays"

    @property
    def rows_dropped(self) -> int:
        """Rows dropped, all reasons together."""
        return sum(self.dropped.values())

    def __str__(self) -> str:
        text = (
            f"{self.n_users} users x {self.n_items} items, {self.n_interactions} interactions "
            f"(density {self.density:.3g}); {self.rows_read} rows read, "
            f"{self.duplicates_merged} duplicate (user, item) rows merged"
        )
        if self.dropped:
            reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.dropped.items()))
            text += f", {self.rows_dropped} rows dropped ({reasons})"
        return text
