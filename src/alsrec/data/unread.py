"""Numeric columns a reader was not asked to read, when it reads no weight column.

Without a weight column every interaction weighs 1.0. If the data also holds a numeric
column (``rating``, ``plays``), the caller may well have meant it as the weight, and
training on 1.0 per row would be a silent surprise. ``fit(df)``,
:meth:`~alsrec.Interactions.from_csv` and :meth:`~alsrec.Interactions.from_sql` name such
columns in one :class:`~alsrec.UnreadColumnWarning`, written here; a column named like a
timestamp is not counted. So does :meth:`~alsrec.Interactions.from_frame`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

from alsrec.exceptions import UnreadColumnWarning
from alsrec.logs import warn

if TYPE_CHECKING:
    from collections.abc import Collection, Hashable, Iterable, Sequence

__all__ = [
    "SAMPLE_ROWS",
    "TIME_COLUMNS",
    "candidate_columns",
    "is_time_name",
    "looks_numeric",
    "numeric_frame_columns",
    "warn_unread",
]

TIME_COLUMNS = frozenset({"timestamp", "time", "ts", "date", "datetime"})
"""Column names read as times, not as candidate weights (compared in lower case)."""


SAMPLE_ROWS = 100
"""The first data rows whose unread fields the readers check for numbers."""


def is_time_name(name: Hashable) -> bool:
    """Whether a column's name says it holds times."""
    return isinstance(name, str) and name.strip().lower() in TIME_COLUMNS


def candidate_columns(
    names: Sequence[Hashable] | None, n_columns: int, used: Collection[int]
) -> list[tuple[Hashable, int]]:
    """The columns no role reads, time-named ones aside, as (name, position): the ones to
    check for numbers. Without names (a CSV without a header) a column is its position.

    Examples
    --------
    >>> candidate_columns(["user", "item", "rating", "ts"], 4, {0, 1})
    [('rating', 2)]
    >>> candidate_columns(None, 3, {0, 1})
    [(2, 2)]
    """
    return [
        (names[k] if names is not None else k, k)
        for k in range(n_columns)
        if k not in used and not (names is not None and is_time_name(names[k]))
    ]


def looks_numeric(texts: Iterable[str]) -> bool:
    """Whether sample fields of a text column all read as finite numbers (blanks aside),
    not all the same one: a column of one value (the 1.0 that ``alsrec split`` writes
    for unweighted data) would weigh every row alike.

    Examples
    --------
    >>> looks_numeric(["4", "3.5", ""])
    True
    >>> looks_numeric(["4", "five"])
    False
    >>> looks_numeric(["1.0", "1.0"])
    False
    """
    values = set()
    for text in texts:
        if not text.strip():
            continue
        try:
            value = float(text)
        except ValueError:
            return False
        if not math.isfinite(value):
            return False
        values.add(value)
    return len(values) > 1


def numeric_frame_columns(frame: object, used: Collection[Hashable | None]) -> list[Hashable]:
    """The numeric columns of a pandas or polars frame that no role reads (booleans and
    time-named columns aside), in the frame's order.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"u": [1], "i": ["a"], "plays": [3], "ts": [9], "ok": [True]})
    >>> numeric_frame_columns(frame, {"u", "i"})
    ['plays']
    """
    columns = list(getattr(frame, "columns"))  # noqa: B009 - duck-typed frame
    return [
        name
        for name in columns
        if name not in used and not is_time_name(name) and _numeric(frame, name)
    ]


def _numeric(frame: object, name: Hashable) -> bool:
    """Whether a pandas or polars column holds numbers (not booleans)."""
    dtype = getattr(cast("Any", frame)[name], "dtype", None)
    if dtype is None:
        return False
    if callable(getattr(dtype, "is_numeric", None)):  # polars
        return bool(dtype.is_numeric())
    return getattr(dtype, "kind", "") in ("i", "u", "f")  # numpy and pandas


def warn_unread(lead: str, unread: Sequence[Hashable], silence: str | None) -> None:
    """Warn, after ``lead`` (what read no weight column), that the numeric ``unread``
    columns exist; nothing if there are none.

    ``silence`` says how to drop the columns on purpose, if the source has a way. The
    warning points at the first caller outside alsrec, however deep the call came from
    (``fit(df)`` reaches the frame reader through two more of alsrec's functions than
    ``Interactions.from_frame`` does).
    """
    if not unread:
        return
    names = list(unread)
    tail = f", or {silence} to silence this" if silence else ""
    warn(
        f"{lead}, so every row weighs 1.0; the numeric column(s) {names} were not read."
        f" Pass weight={names[0]!r} to weigh the interactions by "
        f"it{tail}.",
        UnreadColumnWarning,
        stacklevel=None,
    )
