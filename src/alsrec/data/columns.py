"""Which columns hold the user IDs, the item IDs and the weights when the caller names none.

One rule for every reader (``fit(df)``, :meth:`~alsrec.Interactions.from_frame`,
:meth:`~alsrec.Interactions.from_csv`, :meth:`~alsrec.Interactions.from_sql` and the
command line): a role's first common name (``user_id``, ``item_id``, ``weight``) if a
column has it, else the one column with another of its common names (``user``,
``userId``, ``movieId``, ...). None, or several of the others, and the caller must name
the column (a weight column is optional: none is read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Hashable

__all__ = ["COMMON_COLUMNS", "candidates", "common_names"]

COMMON_COLUMNS: dict[str, tuple[str, ...]] = {
    "user": ("user_id", "user", "userId", "userID", "user_idx"),
    "item": ("item_id", "item", "itemId", "itemID", "item_idx", "movieId"),
    "weight": ("weight",),
}
"""The column names tried for each role when its keyword (or flag) is not given, the
preferred one first."""


def candidates(columns: Collection[Hashable], role: str) -> list[Hashable]:
    """The columns that may hold ``role`` when none is named (see the module docstring):
    one column is the answer, none or several mean the caller must name it.

    Examples
    --------
    >>> candidates(["user_id", "user", "item"], "user")
    ['user_id']
    >>> candidates(["userId", "user", "movieId"], "user"), candidates(["a", "b"], "item")
    (['user', 'userId'], [])
    """
    names = COMMON_COLUMNS[role]
    present: list[Hashable] = [name for name in names if name in columns]
    return present[:1] if present[:1] == [names[0]] else present


def common_names(role: str) -> str:
    """The common names of ``role`` for a message: ``user_id, user, userId, ...``."""
    return ", ".join(COMMON_COLUMNS[role])
