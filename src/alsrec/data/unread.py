"""Numeric columns a reader was not asked to read, when it reads no weight column.

Without a weight column every interaction weighs 1.0. If the data also holds a numeric
column (``rating``, ``plays``), the caller may well have meant it as the weight, and
training on 1.0 per row would be a silent surprise. ``fit(df)``,
:meth:`~alsrec.Interactions.from_csv` and :meth:`~alsrec.Interactions.from_sql` name such
columns in one :class:`~alsrec.UnreadColumnWarning`, written here. So do
:meth:`~alsrec.Interactions.from_frame` and ``fit_spark``. A column named like a time
(``event_time``, ``created_at``) or an ID (``order_id``, ``index``) is not counted: its
numbers are no weight, and the warning would recommend weighing by it
(:func:`is_unlikely_weight_name`).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, cast

from alsrec.exceptions import UnreadColumnWarning
from alsrec.logs import warn

if TYPE_CHECKING:
    from collections.abc import Collection, Hashable, Iterable, Sequence

__all__ = [
    "SAMPLE_ROWS",
    "TIME_COLUMNS",
    "candidate_columns",
    "is_id_name",
    "is_time_name",
    "is_unlikely_weight_name",
    "looks_numeric",
    "numeric_frame_columns",
    "warn_unread",
]

TIME_COLUMNS = frozenset({"timestamp", "time", "ts", "date", "datetime"})
"""Column names read as times, not as candidate weights (compared in lower case); see
:func:`is_time_name` for the other names that are."""

_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
"""The words of a column name: ``event_time``, ``eventTime``, ``EVENT-TIME`` -> event, time."""

_TIME_WORDS = frozenset({"timestamp", "ts", "date", "datetime", "epoch"})
"""Words that make a name a point in time wherever they stand (``timestamp_ms``)."""

_POINT_WORDS = frozenset(
    {"event", "created", "updated", "modified", "start", "end", "click", "order",
     "purchase", "rating", "action", "interaction", "log", "insert", "inserted", "login",
     "request", "sent", "received", "posted", "published", "release", "transaction"}
)  # fmt: skip
"""Words that make ``<word>_time`` a point in time (``event_time``); any other
``<word>_time`` is a duration (``watch_time``, ``listening_time``): a candidate weight."""


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(name)]


SAMPLE_ROWS = 100
"""The first data rows whose unread fields the readers check for numbers."""


def is_time_name(name: Hashable) -> bool:
    """Whether a column's name says it holds points in time: it is one of
    :data:`TIME_COLUMNS`, has a word such as ``timestamp``, ``ts`` or ``date``, ends in
    ``at`` (``created_at``, ``createdAt``), or is ``time`` after a word of an event
    (``event_time``, ``clickTime``). Other times are durations (``watch_time``,
    ``time_on_page``), which may be weights.

    Examples
    --------
    >>> [is_time_name(n) for n in ["event_time", "clickTime", "created_at", "timestamp_ms"]]
    [True, True, True, True]
    >>> [is_time_name(n) for n in ["watch_time", "listening_time", "time_on_page", "items", 3]]
    [False, False, False, False, False]
    """
    if not isinstance(name, str):
        return False
    words = _words(name)
    if not words:
        return False
    if name.strip().lower() in TIME_COLUMNS or _TIME_WORDS.intersection(words):
        return True
    if words[-1] == "at" or words[:2] == ["time", "stamp"]:
        return True
    return len(words) > 1 and words[-1] == "time" and words[-2] in _POINT_WORDS


def is_id_name(name: Hashable) -> bool:
    """Whether a column's name says it holds IDs: its last word is ``id``, ``idx`` or
    ``index`` (``order_id``, ``orderId``, ``ORDER_ID``, ``user_idx``).

    Examples
    --------
    >>> [is_id_name(n) for n in ["order_id", "orderId", "sessionID", "index", "idx"]]
    [True, True, True, True, True]
    >>> [is_id_name(n) for n in ["rating", "amount_paid", "valid", "quantity", 0]]
    [False, False, False, False, False]
    """
    if not isinstance(name, str):
        return False
    words = _words(name)
    return bool(words) and words[-1] in ("id", "idx", "index")


def is_unlikely_weight_name(name: Hashable) -> bool:
    """Whether a column is named like a time or an ID (:func:`is_time_name`,
    :func:`is_id_name`): whatever numbers it holds, the unread-column warning does not
    propose it as the weight. Names that are not strings (positions) never are.

    Examples
    --------
    >>> [is_unlikely_weight_name(n) for n in ["event_time", "order_id", "plays", "score"]]
    [True, True, False, False]
    """
    return is_time_name(name) or is_id_name(name)


def candidate_columns(
    names: Sequence[Hashable] | None, n_columns: int, used: Collection[int]
) -> list[tuple[Hashable, int]]:
    """The columns no role reads, those named like a time or an ID aside
    (:func:`is_unlikely_weight_name`), as (name, position): the ones to check for numbers.
    Without names (a CSV without a header) a column is its position.

    Examples
    --------
    >>> candidate_columns(["user", "item", "rating", "ts", "order_id"], 5, {0, 1})
    [('rating', 2)]
    >>> candidate_columns(None, 3, {0, 1})
    [(2, 2)]
    """
    return [
        (names[k] if names is not None else k, k)
        for k in range(n_columns)
        if k not in used and not (names is not None and is_unlikely_weight_name(names[k]))
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
    columns named like a time or an ID aside), in the frame's order.

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
        if name not in used and not is_unlikely_weight_name(name) and _numeric(frame, name)
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
