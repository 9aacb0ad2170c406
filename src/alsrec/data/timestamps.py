"""The one timestamp parser: numbers, ISO 8601 text, ``datetime`` and ``datetime64``.

Every reader (CSV, SQL, frames, arrays) and :func:`alsrec.evaluation.time_split` turn
timestamps into **float64 seconds since the Unix epoch** with these functions, so a time
means the same everywhere:

- numbers (``int``, ``float``, numeric text such as ``"1700000000"`` or ``"1.5"``) are
  kept as given: alsrec only orders them, so any unit works as long as a column uses one;
- ISO 8601 text (``"2024-05-01"``, ``"2024-05-01T12:00:00+02:00"``), ``datetime``,
  ``date`` and ``numpy.datetime64`` values become seconds since 1970-01-01 UTC; naive
  date/times are taken as UTC; ``datetime64`` keeps microsecond precision;
- ``None``, NaN, NaT, booleans, infinite numbers and other text are unreadable.

A column that mixes the two forms (numbers and dates) cannot be ordered: a number is read
as given (often milliseconds), a date as seconds. :func:`parse_with_forms` says where
each form first occurs, for the readers to refuse such a column.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from alsrec.exceptions import DataError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["parse_timestamps", "parse_with_forms", "to_seconds", "try_parse_timestamps"]

Float64Array = npt.NDArray[np.float64]

_PLAIN_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?")
"""ISO 8601 dates and date-times without a zone, which numpy reads exactly as
``datetime.fromisoformat`` does (a zone, spaces or other forms take the loop)."""


def to_seconds(value: object) -> float:
    """One timestamp as float seconds (naive date/times are taken as UTC).

    Raises ``TypeError`` or ``ValueError`` for an unreadable value.

    Examples
    --------
    >>> to_seconds("1970-01-02"), to_seconds("17"), to_seconds(2.5)
    (86400.0, 17.0, 2.5)
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("a boolean is not a timestamp")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp()
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ValueError("NaT")
        return float(value.astype("datetime64[us]").astype(np.int64)) / 1e6
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            return to_seconds(datetime.fromisoformat(text))
    out = float(value)  # type: ignore[arg-type]
    if math.isnan(out):
        raise ValueError("NaN")
    return out


Forms = tuple[int | None, int | None]
"""The first position of a number and of a date in a column (``None``: there is none)."""


def try_parse_timestamps(
    values: Sequence[object] | npt.NDArray[Any],
) -> tuple[Float64Array, npt.NDArray[np.bool_]]:
    """Parse a column of timestamps; return the seconds and a mask of unreadable ones.

    Examples
    --------
    >>> seconds, bad = try_parse_timestamps(["1970-01-01T00:01:00", "x", 5])
    >>> seconds.tolist()[0], bad.tolist()
    (60.0, [False, True, False])
    """
    seconds, bad, _ = parse_with_forms(values)
    return seconds, bad


def parse_with_forms(
    values: Sequence[object] | npt.NDArray[Any],
) -> tuple[Float64Array, npt.NDArray[np.bool_], Forms]:
    """:func:`try_parse_timestamps`, and where the column's first number and first date
    are (readable values only).

    Examples
    --------
    >>> parse_with_forms(["1583894339000", "2020-03-11", "x"])[2]  # a mixed column
    (0, 1)
    >>> parse_with_forms(["2020-03-11", "2020-03-12"])[2]
    (None, 0)
    """
    n = len(values)
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        nat = np.isnat(values)
        t = values.astype("datetime64[us]").astype(np.int64).astype(np.float64) / 1e6
        return t, nat, (None, _first(~nat))
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        t = values.astype(np.float64)
        return t, ~np.isfinite(t), (_first(np.isfinite(t)), None)
    if isinstance(values, np.ndarray) and values.dtype.kind in "UO":
        values = values.tolist()
    if isinstance(values, list) and all(type(v) is str for v in values):
        try:  # numbers written as text: parse them all at once
            t = np.fromiter(map(float, values), dtype=np.float64, count=n)
        except ValueError:
            pass
        else:
            return t, ~np.isfinite(t), (_first(np.isfinite(t)), None)
        if all(map(_PLAIN_ISO.fullmatch, values)):
            try:  # plain ISO dates and date-times (no zone: UTC), parsed at once by numpy
                stamps = np.asarray(values, dtype="datetime64[us]")
            except ValueError:
                pass  # an impossible date somewhere: the loop below finds its row
            else:
                seconds = stamps.astype(np.int64).astype(np.float64) / 1e6
                return seconds, np.zeros(n, bool), (None, 0 if n else None)
    return _parse_each(values, n)


def _parse_each(
    values: Sequence[object] | npt.NDArray[Any], n: int
) -> tuple[Float64Array, npt.NDArray[np.bool_], Forms]:
    """The value-by-value path of :func:`parse_with_forms`."""
    t = np.zeros(n, dtype=np.float64)
    bad = np.zeros(n, dtype=np.bool_)
    number: int | None = None
    when: int | None = None
    for pos, value in enumerate(values):
        try:
            t[pos] = to_seconds(value)
        except (TypeError, ValueError, OverflowError):
            bad[pos] = True
            continue
        if _is_number(value):
            number = pos if number is None else number
        elif when is None:
            when = pos
    bad |= ~np.isfinite(t)
    return t, bad, (number, when)


def _is_number(value: object) -> bool:
    """Whether a readable timestamp is a number (or numeric text), not a date."""
    if isinstance(value, str):
        try:
            float(value.strip())
        except ValueError:
            return False
        return True
    return not isinstance(value, (datetime, date, np.datetime64))


def _first(mask: npt.NDArray[np.bool_]) -> int | None:
    """The first ``True`` position, or ``None``."""
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def parse_timestamps(values: object, what: str = "timestamps") -> Float64Array:
    """Parse a whole column strictly: every value must be readable.

    Raises
    ------
    DataError
        Naming the first unreadable value and its row (0-based), or a column that is not
        one-dimensional.

    Examples
    --------
    >>> parse_timestamps(["2024-01-01", "2024-01-02"]).tolist()
    [1704067200.0, 1704153600.0]
    >>> parse_timestamps([1, float("nan")])
    Traceback (most recent call last):
    ...
    alsrec.exceptions.DataError: timestamps: row 1 is nan, which is neither a number nor an ISO ...
    """
    column: Any = values
    if not isinstance(values, (np.ndarray, list)):
        column = list(values) if isinstance(values, (tuple, range)) else np.asarray(values)
    if isinstance(column, np.ndarray) and column.ndim != 1:
        raise DataError(f"{what} must be one-dimensional, got shape {column.shape}.")
    seconds, bad = try_parse_timestamps(column)
    where = np.flatnonzero(bad)
    if where.size:
        k = int(where[0])
        value = column[k]
        shown = value.item() if isinstance(value, np.generic) else value
        raise DataError(
            f"{what}: row {k} is {shown!r}, which is neither a number nor an ISO 8601 "
            f"date/time{f' ({where.size} such rows)' if where.size > 1 else ''}. "
            "Drop those rows or fix them."
        )
    return seconds
