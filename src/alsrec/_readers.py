"""Readers: arrays, data frames, CSV files and DB-API 2 query results -> interaction columns.

Every reader does the same three things, so every source behaves the same way:

1. *screen* each batch of rows (missing or empty IDs, unparsable or non-positive weights,
   unreadable timestamps, blank or malformed CSV lines) and either raise a
   :class:`~alsrec.DataError` naming the source, row/line and column, or drop the row and
   count it under a reason (``on_bad_rows="skip"``);
2. *encode* the IDs of the kept rows to integer codes in order of first appearance;
3. hand a :class:`Collected` (unique IDs, codes, weights, counts) to
   :func:`alsrec.interactions._assemble`, which merges duplicates and applies the filters.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from itertools import compress
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import numpy.typing as npt

from alsrec._progress import ProgressBar, ProgressOption
from alsrec.exceptions import ConfigError, DataError, IdTypeError
from alsrec.mapping import IdMapper

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Sequence

    from alsrec.types import IdArray, IndexArray

__all__ = [
    "REASONS",
    "BadRows",
    "Collected",
    "IdType",
    "collect_arrays",
    "collect_frame",
    "collect_sql",
    "read_csv",
]

BadRows = Literal["raise", "skip"]
IdType = Literal["auto", "int", "str"]
Float64Array = npt.NDArray[np.float64]

# Row problems, in the order they are checked: a row with several problems is counted
# once, under the first. Code 0 means "fine".
_MISSING_USER, _MISSING_ITEM, _EMPTY_USER, _EMPTY_ITEM = 1, 2, 3, 4
_BAD_WEIGHT, _NONFINITE_WEIGHT, _NEGATIVE_WEIGHT, _ZERO_WEIGHT = 5, 6, 7, 8
_BAD_TIMESTAMP = 9
_REASON_OF_CODE = {
    _MISSING_USER: "missing_id",
    _MISSING_ITEM: "missing_id",
    _EMPTY_USER: "empty_id",
    _EMPTY_ITEM: "empty_id",
    _BAD_WEIGHT: "bad_weight",
    _NONFINITE_WEIGHT: "nonfinite_weight",
    _NEGATIVE_WEIGHT: "negative_weight",
    _ZERO_WEIGHT: "zero_weight",
    _BAD_TIMESTAMP: "bad_timestamp",
}

REASONS: dict[str, str] = {
    "blank_line": "a blank line in a CSV file",
    "wrong_field_count": "a CSV line with more or fewer fields than the header",
    "missing_id": "a missing user or item ID (None, NULL, NaN)",
    "empty_id": "an empty user or item ID ('')",
    "bad_weight": "a weight that is missing or not a number",
    "nonfinite_weight": "a weight that is NaN or infinite",
    "negative_weight": "a weight < 0",
    "zero_weight": "a weight of 0 (an unobserved pair needs no row)",
    "bad_timestamp": "a timestamp that is missing or unreadable",
    "explicit_zero": "a stored zero in a scipy sparse matrix (an unobserved pair)",
    "min_user_interactions": "a user with too few distinct items (min_user_interactions)",
    "min_item_interactions": "an item with too few distinct users (min_item_interactions)",
}
"""Every reason a row can be dropped for, as counted in ``InteractionsSummary.dropped``."""

_SKIP_HINT = (
    "Fix or remove the row, or pass on_bad_rows='skip' to drop such rows "
    "(they are counted in summary().dropped)."
)


@dataclass
class Collected:
    """Screened, encoded interaction columns, ready for assembly.

    ``rows[k]`` indexes ``users`` and ``cols[k]`` indexes ``items``; codes follow the
    order of first appearance among the kept rows.
    """

    users: IdArray
    items: IdArray
    rows: IndexArray
    cols: IndexArray
    weights: Float64Array | None
    timestamps: Float64Array | None
    rows_read: int
    dropped: dict[str, int] = field(default_factory=dict)
    source: str = "arrays"


def check_bad_rows(on_bad_rows: object) -> BadRows:
    """Validate the ``on_bad_rows`` option."""
    if on_bad_rows not in ("raise", "skip"):
        raise ConfigError(f"on_bad_rows must be 'raise' or 'skip', got {on_bad_rows!r}.")
    return on_bad_rows


# -- screening ------------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, np.floating):
        return bool(np.isnan(value))
    # pandas.NA / pandas.NaT / numpy NaT, recognized without importing pandas
    return type(value).__name__ in ("NAType", "NaTType") or (
        isinstance(value, (np.datetime64, np.timedelta64)) and bool(np.isnat(value))
    )


def _show(value: object) -> str:
    """``repr`` of a value, numpy scalars shown as the Python value they hold."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _a(value: object) -> str:
    """``"an int"``, ``"a float"``: the type of ``value`` with its article."""
    name = type(value).__name__
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def _mark(reasons: npt.NDArray[np.int8], mask: npt.NDArray[np.bool_], code: int) -> None:
    np.copyto(reasons, np.int8(code), where=mask & (reasons == 0))


def _screen_ids(
    values: Sequence[object] | npt.NDArray[Any],
    reasons: npt.NDArray[np.int8],
    missing_code: int,
    empty_code: int,
    *,
    quick: bool = False,
) -> None:
    """Mark rows whose ID is missing (None/NaN/NULL) or the empty string."""
    if isinstance(values, np.ndarray):
        kind = values.dtype.kind
        if kind in "iub":
            return
        if kind == "U":
            _mark(reasons, values == "", empty_code)
            return
        if kind == "f":
            _mark(reasons, np.isnan(values), missing_code)
            return
        if kind != "O":
            return  # as_id_array refuses it later, with the dtype in the message
    if quick and isinstance(values, list) and "" not in values and None not in values:
        # Streams (CSV text, SQL values): a C-level membership test settles most batches;
        # any other odd value is refused by the ID type checks, naming its row.
        return
    missing = np.zeros(len(values), dtype=np.bool_)
    empty = np.zeros(len(values), dtype=np.bool_)
    for pos, value in enumerate(values):
        if isinstance(value, str):
            if not value:
                empty[pos] = True
        elif _is_missing(value):
            missing[pos] = True
    _mark(reasons, missing, missing_code)
    _mark(reasons, empty, empty_code)


def _screen_weights(
    values: Sequence[object] | npt.NDArray[Any], reasons: npt.NDArray[np.int8]
) -> Float64Array:
    """Parse weights to float64 and mark missing, unparsable, non-finite and <= 0 ones."""
    n = len(values)
    w: Float64Array
    if isinstance(values, np.ndarray) and values.dtype.kind in "iufb":
        w = values.astype(np.float64)
    else:
        try:
            if None in values if isinstance(values, list) else any(v is None for v in values):
                raise TypeError("None")
            w = np.fromiter(map(float, values), dtype=np.float64, count=n)
        except (TypeError, ValueError, OverflowError):
            w = np.ones(n, dtype=np.float64)
            bad = np.zeros(n, dtype=np.bool_)
            for pos, value in enumerate(values):
                try:
                    if value is None:
                        raise TypeError("None")
                    w[pos] = float(value)
                except (TypeError, ValueError, OverflowError):
                    bad[pos] = True
            _mark(reasons, bad, _BAD_WEIGHT)
    finite = np.isfinite(w)
    _mark(reasons, ~finite, _NONFINITE_WEIGHT)
    with np.errstate(invalid="ignore"):
        _mark(reasons, w < 0, _NEGATIVE_WEIGHT)
        _mark(reasons, w == 0, _ZERO_WEIGHT)
    return w


def _to_seconds(value: object) -> float:
    """One timestamp as float seconds (naive date/times are taken as UTC)."""
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
            return _to_seconds(datetime.fromisoformat(text))
    out = float(value)  # type: ignore[arg-type]
    if math.isnan(out):
        raise ValueError("NaN")
    return out


def _screen_timestamps(
    values: Sequence[object] | npt.NDArray[Any], reasons: npt.NDArray[np.int8]
) -> Float64Array:
    """Timestamps as float64 seconds, for ordering only; unreadable ones are marked."""
    n = len(values)
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        nat = np.isnat(values)
        t = values.astype("datetime64[us]").astype(np.int64).astype(np.float64) / 1e6
        _mark(reasons, nat, _BAD_TIMESTAMP)
        return t
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        t = values.astype(np.float64)
        _mark(reasons, ~np.isfinite(t), _BAD_TIMESTAMP)
        return t
    if isinstance(values, list) and all(type(v) is str for v in values):
        try:  # numbers written as text: parse them all at once
            t = np.fromiter(map(float, values), dtype=np.float64, count=n)
        except ValueError:
            pass
        else:
            _mark(reasons, ~np.isfinite(t), _BAD_TIMESTAMP)
            return t
    t = np.zeros(n, dtype=np.float64)
    bad = np.zeros(n, dtype=np.bool_)
    for pos, value in enumerate(values):
        try:
            t[pos] = _to_seconds(value)
        except (TypeError, ValueError, OverflowError):
            bad[pos] = True
    bad |= ~np.isfinite(t)
    _mark(reasons, bad, _BAD_TIMESTAMP)
    return t


@dataclass
class _Batch:
    """One batch of raw columns from a source, with how to name its rows and columns."""

    users: Sequence[object] | npt.NDArray[Any]
    items: Sequence[object] | npt.NDArray[Any]
    weights: Sequence[object] | npt.NDArray[Any] | None
    timestamps: Sequence[object] | npt.NDArray[Any] | None
    where: Callable[[int], str]
    labels: dict[str, str]


def _describe(batch: _Batch, pos: int, code: int) -> str:
    where, labels = batch.where(pos), batch.labels
    if code in (_MISSING_USER, _EMPTY_USER, _MISSING_ITEM, _EMPTY_ITEM):
        axis = "user" if code in (_MISSING_USER, _EMPTY_USER) else "item"
        values = batch.users if axis == "user" else batch.items
        state = "missing" if code in (_MISSING_USER, _MISSING_ITEM) else "empty"
        return f"{where}, {labels[axis]}: the {axis} ID is {state} ({_show(values[pos])})"
    if code == _BAD_TIMESTAMP:
        assert batch.timestamps is not None
        return (
            f"{where}, {labels['timestamp']}: timestamp {batch.timestamps[pos]!r} is missing or "
            "is neither a number nor an ISO 8601 date/time"
        )
    assert batch.weights is not None
    value = batch.weights[pos]
    problem = {
        _BAD_WEIGHT: "is missing or not a number",
        _NONFINITE_WEIGHT: "is not finite",
        _NEGATIVE_WEIGHT: "is negative; weights must be > 0",
        _ZERO_WEIGHT: "is zero; a pair that was not observed needs no row",
    }[code]
    return f"{where}, {labels['weight']}: weight {_show(value)} {problem}"


def _screen(
    batch: _Batch, on_bad_rows: BadRows, dropped: dict[str, int], *, quick: bool = False
) -> tuple[npt.NDArray[np.bool_] | None, Float64Array | None, Float64Array | None]:
    """Screen a batch: returns (keep mask or None when all rows are fine, weights, times)."""
    n = len(batch.users)
    reasons = np.zeros(n, dtype=np.int8)
    _screen_ids(batch.users, reasons, _MISSING_USER, _EMPTY_USER, quick=quick)
    _screen_ids(batch.items, reasons, _MISSING_ITEM, _EMPTY_ITEM, quick=quick)
    w = None if batch.weights is None else _screen_weights(batch.weights, reasons)
    t = None if batch.timestamps is None else _screen_timestamps(batch.timestamps, reasons)
    bad = np.flatnonzero(reasons)
    if bad.size == 0:
        return None, w, t
    if on_bad_rows == "raise":
        first = int(bad[0])
        raise DataError(f"{_describe(batch, first, int(reasons[first]))}. {_SKIP_HINT}")
    for code, count in enumerate(np.bincount(reasons[bad]).tolist()):
        if count:
            _count(dropped, _REASON_OF_CODE[code], count)
    return reasons == 0, w, t


def _count(dropped: dict[str, int], reason: str, n: int) -> None:
    dropped[reason] = dropped.get(reason, 0) + int(n)


def _take(values: Sequence[object] | npt.NDArray[Any], keep: npt.NDArray[np.bool_]) -> Any:
    if isinstance(values, np.ndarray):
        return values[keep]
    return list(compress(values, keep.tolist()))


# -- ID encoding ----------------------------------------------------------------------------

_CANONICAL_INT = re.compile(r"0|-?[1-9][0-9]*")
_INT64_MAX = int(np.iinfo(np.int64).max)
_INT64_MIN = int(np.iinfo(np.int64).min)


def _is_int_text(text: str) -> bool:
    """Whether ``text`` is an integer written canonically (no sign on 0, no leading zeros)."""
    return _CANONICAL_INT.fullmatch(text) is not None and (
        len(text) < 19 or _INT64_MIN <= int(text) <= _INT64_MAX
    )


class _IdEncoder:
    """Streams one ID column to codes (first appearance), deciding and enforcing its type.

    ``text=True`` (CSV): values are strings; the column is integer when ``id_type="int"``,
    or with ``"auto"`` when its first ID is an integer written canonically (``"17"``, not
    ``"017"`` or ``"+17"``): then every later ID must be too, or :class:`IdTypeError` names
    the line. ``text=False`` (SQL): values are Python objects; the first ID's type (int or
    str) is the column's type and a later ID of another type raises.
    """

    def __init__(self, axis: str, label: str, id_type: IdType, *, text: bool, option: str):
        self.axis = axis
        self.label = label
        self.text = text
        self.option = option
        self.declared = id_type != "auto"
        self.kind: Literal["int", "str"] | None = None if id_type == "auto" else id_type
        self.first: tuple[str, object] | None = None
        self.table: dict[object, int] = {}

    def encode(self, values: list[Any], where: Callable[[int], str]) -> IndexArray:
        if not values:
            return np.empty(0, dtype=np.int64)
        if self.first is None:
            self.first = (where(0), values[0])
            if self.kind is None:
                self.kind = self._kind_of(values[0], where, 0)
        if not self.text:
            self._check_types(values, where)
        table = self.table
        before = len(table)
        setdefault = table.setdefault
        # a list comprehension is measurably faster here than np.fromiter over a generator
        codes = np.array([setdefault(v, len(table)) for v in values], dtype=np.int64)
        if self.text and self.kind == "int" and len(table) > before:
            new = np.flatnonzero(codes >= before)
            _, first_new = np.unique(codes[new], return_index=True)
            for pos in np.sort(new[first_new]).tolist():
                if not _is_int_text(values[pos]):
                    self._raise_mixed(values[pos], where(pos))
        return codes

    def _kind_of(
        self, value: object, where: Callable[[int], str], pos: int
    ) -> Literal["int", "str"]:
        if self.text:
            return "int" if _is_int_text(cast("str", value)) else "str"
        if type(value) is str:
            return "str"
        if type(value) is int:
            return "int"
        return self._raise_type(value, where(pos))

    def _check_types(self, values: list[Any], where: Callable[[int], str]) -> None:
        expected = str if self.kind == "str" else int
        if all(type(v) is expected for v in values):
            return
        for pos, value in enumerate(values):
            if type(value) is not expected:
                if type(value) in (str, int):
                    self._raise_mixed(value, where(pos))
                self._raise_type(value, where(pos))

    def _raise_type(self, value: object, where: str) -> Literal["int", "str"]:
        raise IdTypeError(
            f"{where}, {self.label}: {self.axis} ID {_show(value)} is {_a(value)}; "
            "IDs must be int or str. Convert the column in the query (e.g. CAST(... AS TEXT))."
        )

    def _raise_mixed(self, value: object, where: str) -> None:
        assert self.first is not None
        first_where, first_value = self.first
        if self.text:
            why = (
                f"the column was declared integer ({self.option}='int')"
                if self.declared
                else f"its first ID ({first_where}: {first_value!r}) is an integer, so the "
                "column is read as integers"
            )
            raise IdTypeError(
                f"{where}, {self.label}: {self.axis} ID {value!r} is not an integer written "
                f"plainly (digits, optional '-', no leading zeros), but {why}. Mixed ID types in "
                f"one column: pass {self.option}='str' to read every ID in it as text."
            )
        raise IdTypeError(
            f"{where}, {self.label}: {self.axis} ID {_show(value)} is {_a(value)} but the "
            f"column's first ID ({first_where}: {_show(first_value)}) is "
            f"{_a(first_value)}. Mixed ID types in one column: make the column one "
            "type (e.g. CAST(... AS TEXT) in the query)."
        )

    def uniques(self) -> IdArray:
        keys = list(self.table)
        if self.kind == "int":
            try:
                return np.fromiter(
                    (int(k) for k in keys),  # type: ignore[call-overload]
                    dtype=np.int64,
                    count=len(keys),
                )
            except OverflowError as exc:
                raise IdTypeError(
                    f"{self.label}: a {self.axis} ID is outside the int64 range; "
                    f"read the column as text ({self.option}='str' or CAST(... AS TEXT))."
                ) from exc
        if not keys:
            return np.empty(0, dtype=np.str_)
        arr = np.asarray(keys, dtype=np.str_)
        if int(np.char.str_len(arr).sum()) != sum(map(len, cast("list[str]", keys))):
            raise IdTypeError(
                f"{self.label}: a {self.axis} ID ends in a NUL character ('\\x00'), which numpy "
                "cannot store; strip trailing NUL characters from the IDs."
            )
        return arr


# -- arrays and frames ----------------------------------------------------------------------


@dataclass
class _ArrayColumn:
    values: Sequence[object] | npt.NDArray[Any]
    label: str
    integer: bool = False  # a float array from an integer column with nulls (pandas/polars)


def _as_column(values: object, label: str) -> Sequence[object] | npt.NDArray[Any]:
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise DataError(
                f"{label} must be one-dimensional, got an array of shape {values.shape}."
            )
        return values
    if isinstance(values, (str, bytes)):
        raise IdTypeError(f"{label} must be a sequence, got a single {type(values).__name__}.")
    if isinstance(values, list):
        return values
    try:
        return list(cast("Any", values))
    except TypeError as exc:
        raise DataError(
            f"{label} must be a sequence or 1-d array, got {type(values).__name__}."
        ) from exc


def _relocate_id_error(
    column: _ArrayColumn,
    keep: npt.NDArray[np.bool_] | None,
    axis: str,
    where: Callable[[int], str],
    exc: IdTypeError,
) -> IdTypeError:
    """Rewrite an IdTypeError from a filtered column so it names the original row."""
    positions = range(len(column.values)) if keep is None else np.flatnonzero(keep).tolist()
    first_pos: int | None = None
    first_kind = ""
    for pos in positions:
        value = column.values[pos]
        is_str = isinstance(value, (str, np.str_))
        is_int = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        if not (is_str or is_int):
            hint = (
                " A float ID column often comes from an integer column with missing values: "
                "use a nullable integer dtype (pandas 'Int64', polars Int64), or drop the "
                "missing rows and convert the column to int."
                if isinstance(value, (float, np.floating))
                else ""
            )
            return IdTypeError(
                f"{where(pos)}, {column.label}: {axis} ID {_show(value)} is {_a(value)}; "
                f"IDs must be int or str. Convert the column to str (or to int) first.{hint}"
            )
        kind = "str" if is_str else "int"
        if first_pos is None:
            first_pos, first_kind = pos, kind
        elif kind != first_kind:
            return IdTypeError(
                f"{where(pos)}, {column.label}: {axis} IDs mix int and str: {_show(value)} is "
                f"{kind} but the first ID ({where(first_pos)}: "
                f"{_show(column.values[first_pos])}) is {first_kind}. Use one type per column, "
                "e.g. convert all its IDs to str."
            )
    return IdTypeError(f"{column.label}: {exc}")


def _encode_column(
    column: _ArrayColumn,
    keep: npt.NDArray[np.bool_] | None,
    axis: str,
    where: Callable[[int], str],
) -> tuple[IdArray, IndexArray]:
    values = column.values if keep is None else _take(column.values, keep)
    if column.integer and isinstance(values, np.ndarray) and values.dtype.kind == "f":
        values = values.astype(np.int64)
    try:
        mapper, codes = IdMapper.factorize(cast("Any", values), f"{axis} IDs ({column.label})")
    except IdTypeError as exc:
        raise _relocate_id_error(column, keep, axis, where, exc) from exc
    return mapper.ids, codes


def collect_arrays(
    users: _ArrayColumn,
    items: _ArrayColumn,
    weights: _ArrayColumn | None,
    timestamps: _ArrayColumn | None,
    *,
    on_bad_rows: BadRows,
    where: Callable[[int], str],
    source: str,
) -> Collected:
    """Screen and encode whole in-memory columns (``from_arrays`` and ``from_frame``)."""
    n = len(users.values)
    for other in (items, weights, timestamps):
        if other is not None and len(other.values) != n:
            raise DataError(
                f"{users.label} has {n} entries but {other.label} has {len(other.values)}; "
                "every column needs one entry per interaction."
            )
    if n == 0:
        raise DataError(f"No interactions given: {users.label} and {items.label} are empty.")
    batch = _Batch(
        users.values,
        items.values,
        None if weights is None else weights.values,
        None if timestamps is None else timestamps.values,
        where,
        {
            "user": users.label,
            "item": items.label,
            "weight": "" if weights is None else weights.label,
            "timestamp": "" if timestamps is None else timestamps.label,
        },
    )
    dropped: dict[str, int] = {}
    keep, w, t = _screen(batch, on_bad_rows, dropped)
    if keep is not None and not keep.any():
        _raise_all_dropped(n, dropped, source)
    user_ids, rows = _encode_column(users, keep, "user", where)
    item_ids, cols = _encode_column(items, keep, "item", where)
    if keep is not None:
        w = None if w is None else w[keep]
        t = None if t is None else t[keep]
    return Collected(user_ids, item_ids, rows, cols, w, t, n, dropped, source)


def _raise_all_dropped(n: int, dropped: dict[str, int], source: str) -> None:
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(dropped.items()))
    raise DataError(
        f"{source}: all {n} rows were dropped as bad rows ({reasons}); nothing to load."
    )


def _frame_column(frame: Any, name: Hashable, role: str, columns: list[Hashable]) -> _ArrayColumn:
    hits = sum(1 for c in columns if c == name)
    if hits == 0:
        raise DataError(
            f"The frame has no column {name!r} (the {role} column); its columns are {columns!r}. "
            f"Pass {role}=<one of them>."
        )
    if hits > 1:
        raise DataError(f"The frame has {hits} columns named {name!r}; rename them apart first.")
    series = frame[name]
    to_numpy = getattr(series, "to_numpy", None)
    values = np.asarray(to_numpy() if callable(to_numpy) else series)
    if values.ndim != 1:
        raise DataError(
            f"Column {name!r} of the frame is not one-dimensional (shape {values.shape})."
        )
    if values.dtype.kind in "SVT":  # numpy bytes/void/StringDType: go through Python objects
        values = np.asarray(values.tolist(), dtype=object)
    dtype_name = str(getattr(series, "dtype", values.dtype)).lower()
    integer = values.dtype.kind == "f" and "int" in dtype_name
    return _ArrayColumn(values, f"column {name!r}", integer=integer)


def collect_frame(
    frame: object,
    *,
    user: Hashable,
    item: Hashable,
    weight: Hashable | None,
    timestamp: Hashable | None,
    on_bad_rows: BadRows,
) -> Collected:
    """Read columns of a pandas or polars frame (duck-typed: ``.columns``, ``frame[name]``)."""
    raw_columns = getattr(frame, "columns", None)
    if raw_columns is None or not hasattr(frame, "__getitem__"):
        raise ConfigError(
            f"from_frame needs a pandas or polars DataFrame (an object with .columns and "
            f"frame[name]); got {type(frame).__name__}."
        )
    columns = list(raw_columns)
    kind = type(frame).__module__.split(".")[0]
    return collect_arrays(
        _frame_column(frame, user, "user", columns),
        _frame_column(frame, item, "item", columns),
        None if weight is None else _frame_column(frame, weight, "weight", columns),
        None if timestamp is None else _frame_column(frame, timestamp, "timestamp", columns),
        on_bad_rows=on_bad_rows,
        where=lambda pos: f"frame row {pos}",
        source=f"{kind} frame",
    )


# -- streaming sources (CSV, SQL) -----------------------------------------------------------


class _Stream:
    """Accumulates screened, encoded batches from a streaming source."""

    def __init__(
        self,
        source: str,
        labels: dict[str, str],
        on_bad_rows: BadRows,
        *,
        text: bool,
        user_type: IdType = "auto",
        item_type: IdType = "auto",
    ) -> None:
        self.source = source
        self.labels = labels
        self.on_bad_rows = on_bad_rows
        self.users = _IdEncoder("user", labels["user"], user_type, text=text, option="user_type")
        self.items = _IdEncoder("item", labels["item"], item_type, text=text, option="item_type")
        self.rows: list[IndexArray] = []
        self.cols: list[IndexArray] = []
        self.weights: list[Float64Array] = []
        self.timestamps: list[Float64Array] = []
        self.rows_read = 0
        self.dropped: dict[str, int] = {}

    def add(
        self,
        users: list[Any],
        items: list[Any],
        weights: list[Any] | None,
        timestamps: list[Any] | None,
        where: Callable[[int], str],
    ) -> None:
        batch = _Batch(users, items, weights, timestamps, where, self.labels)
        keep, w, t = _screen(batch, self.on_bad_rows, self.dropped, quick=True)
        kept_where = where
        if keep is not None:
            users, items = _take(users, keep), _take(items, keep)
            w = None if w is None else w[keep]
            t = None if t is None else t[keep]
            index = np.flatnonzero(keep)

            def kept_where(pos: int) -> str:
                return where(int(index[pos]))

        self.rows.append(self.users.encode(users, kept_where))
        self.cols.append(self.items.encode(items, kept_where))
        if w is not None:
            self.weights.append(w)
        if t is not None:
            self.timestamps.append(t)

    def drop(self, reason: str, n: int) -> None:
        _count(self.dropped, reason, n)

    def finish(self, *, has_weights: bool, has_timestamps: bool) -> Collected:
        rows = _concat(self.rows, np.int64)
        if rows.size == 0:
            if self.dropped:
                _raise_all_dropped(self.rows_read, self.dropped, self.source)
            raise DataError(f"{self.source}: no data rows to load.")
        return Collected(
            self.users.uniques(),
            self.items.uniques(),
            rows,
            _concat(self.cols, np.int64),
            _concat(self.weights, np.float64) if has_weights else None,
            _concat(self.timestamps, np.float64) if has_timestamps else None,
            self.rows_read,
            self.dropped,
            self.source,
        )


def _concat(parts: list[npt.NDArray[Any]], dtype: type[np.generic]) -> Any:
    if not parts:
        return np.empty(0, dtype=dtype)
    out = parts[0] if len(parts) == 1 else np.concatenate(parts)
    parts.clear()
    return out


Column = str | int


def _resolve(
    spec: Column,
    role: str,
    names: list[str] | None,
    n_fields: int,
    describe_header: Callable[[], tuple[str, str]],
) -> int:
    """Column position of ``spec`` (a header name, or a 0-based position)."""
    if isinstance(spec, bool) or not isinstance(spec, (str, int)):
        raise ConfigError(f"{role} must be a column name (str) or position (int), got {spec!r}.")
    if isinstance(spec, int):
        if not 0 <= spec < n_fields:
            text, hint = describe_header()
            raise DataError(
                f"{role} column position {spec} is out of range ({n_fields} field(s); positions "
                f"start at 0): {text}.{hint}"
            )
        return spec
    if names is None:
        raise ConfigError(
            f"{role}={spec!r} names a column, but header=False: give a 0-based position instead."
        )
    hits = [pos for pos, name in enumerate(names) if name == spec]
    if len(hits) > 1:
        text, _ = describe_header()
        raise DataError(f"The {role} column {spec!r} occurs {len(hits)} times: {text}.")
    if not hits:
        text, hint = describe_header()
        raise DataError(
            f"There is no column {spec!r} (the {role} column): {text}."
            f"{hint or f' Pass {role}=<one of the columns>.'}"
        )
    return hits[0]


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- CSV ------------------------------------------------------------------------------------

_GUESSES = (",", "\t", ";", "|")


def _count_lines(text: str) -> int:
    """Physical lines in ``text`` (``\\n``, ``\\r\\n`` or a lone ``\\r`` ends a line)."""
    n = text.count("\n") + text.count("\r") - text.count("\r\n")
    if text and not text.endswith(("\n", "\r")):
        n += 1
    return n


def _guess_delimiter(line: str) -> str:
    counts = [(line.count(d), -i, d) for i, d in enumerate(_GUESSES)]
    best = max(counts)
    return best[2] if best[0] > 0 else ","


def _delimiter_hint(line: str, delimiter: str, guessed: bool) -> str:
    how = "guessed" if guessed else "given"
    others = [d for d in _GUESSES if d != delimiter and d in line]
    hint = f" The delimiter {how} was {delimiter!r}"
    if others:
        hint += (
            f"; the line contains {others[0]!r}: is that the delimiter (delimiter={others[0]!r})?"
        )
    else:
        hint += "."
    return hint


class _CsvReader:
    """Streams one CSV file in blocks of whole records (see :func:`read_csv`)."""

    def __init__(
        self,
        path: str,
        *,
        user: Column,
        item: Column,
        weight: Column | None,
        timestamp: Column | None,
        delimiter: str | None,
        header: bool,
        encoding: str,
        user_type: IdType,
        item_type: IdType,
        chunk_rows: int,
        on_bad_rows: BadRows,
        progress: ProgressOption,
    ) -> None:
        self.path = path
        self.specs = {"user": user, "item": item, "weight": weight, "timestamp": timestamp}
        self.delimiter = delimiter
        self.header = header
        self.encoding = encoding
        self.user_type = user_type
        self.item_type = item_type
        self.chunk_rows = chunk_rows
        self.on_bad_rows = on_bad_rows
        self.progress = progress
        self.name = os.path.basename(path) or path
        self.line = 0  # physical lines consumed so far

    # the file -------------------------------------------------------------------------------

    def _read(self, text: io.TextIOWrapper, size: int, raw: io.BufferedReader) -> str:
        try:
            return text.read(size) if size >= 0 else text.readline()
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{self.path}: not valid {self.encoding} text (near byte {raw.tell()}, "
                f"after line {self.line}): {exc.reason}. Pass the file's encoding as encoding=..."
            ) from exc

    def _complete(self, block: str, text: io.TextIOWrapper, raw: io.BufferedReader) -> str:
        """Extend ``block`` to the end of its last record (line end, balanced quotes)."""
        if block and not block.endswith("\n"):
            block += self._read(text, -1, raw)
        while block.count('"') % 2:
            more = self._read(text, -1, raw)
            if not more:
                break
            block += more
        return block

    def _parse_records(self, block: str, first_line: int) -> tuple[list[list[str]], list[int]]:
        """Parse ``block`` with the csv module; returns records and their first lines."""
        assert self.delimiter is not None
        reader = csv.reader(io.StringIO(block, newline=""), delimiter=self.delimiter)
        records: list[list[str]] = []
        starts: list[int] = []
        previous = 0
        try:
            for record in reader:
                records.append(record)
                starts.append(first_line + previous)
                previous = reader.line_num
        except csv.Error as exc:
            raise DataError(
                f"{self.path}, line {first_line + previous}: the CSV is malformed ({exc})."
            ) from exc
        return records, starts

    def read(self) -> Collected:
        try:
            raw = open(self.path, "rb")  # noqa: SIM115 - closed in the finally below
        except OSError as exc:
            raise DataError(f"Cannot open the CSV file {self.path!r}: {exc.strerror}.") from exc
        try:
            total = os.fstat(raw.fileno()).st_size
            text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            return self._read_all(text, raw, total)
        finally:
            raw.close()

    def _read_all(self, text: io.TextIOWrapper, raw: io.BufferedReader, total: int) -> Collected:
        first = self._complete(self._read(text, -1, raw), text, raw)
        if not first:
            raise DataError(f"{self.path}: the file is empty; expected a CSV header and rows.")
        first_line_text = first.splitlines()[0] if first.strip() else first
        guessed = self.delimiter is None
        if self.delimiter is None:
            self.delimiter = _guess_delimiter(first_line_text)
        elif len(self.delimiter) != 1 or self.delimiter in '"\r\n' or self.delimiter.isalnum():
            raise ConfigError(
                f"delimiter must be one character other than a quote, a letter, a digit or a "
                f"line break, got {self.delimiter!r}."
            )
        records, _ = self._parse_records(first, 1)
        fields = records[0] if records else []
        names = fields if self.header else None
        seen = "the header" if self.header else "line 1"

        def describe() -> tuple[str, str]:
            hint = ""
            if len(fields) < 2:
                hint = _delimiter_hint(first_line_text, cast("str", self.delimiter), guessed)
            text = f"{self.path}: {seen} reads {_short(first_line_text)!r}, columns {fields!r}"
            return text, hint

        positions: dict[str, int] = {}
        for role, spec in self.specs.items():
            if spec is not None:
                positions[role] = _resolve(spec, role, names, len(fields), describe)
        if positions["user"] == positions["item"]:
            raise ConfigError("user and item must be different columns.")
        labels = {
            role: (f"column {names[pos]!r}" if names is not None else f"column {pos} (0-based)")
            for role, pos in positions.items()
        }
        labels.setdefault("weight", "")
        labels.setdefault("timestamp", "")
        stream = _Stream(
            self.path,
            labels,
            self.on_bad_rows,
            text=True,
            user_type=self.user_type,
            item_type=self.item_type,
        )
        n_fields = len(fields)
        pending = ""
        if self.header:
            self.line = _count_lines(first)
        else:
            pending = first
        bar = ProgressBar(self.name, total, self.progress)
        size = min(1 << 20, 64 * self.chunk_rows)
        while True:
            block = pending + self._read(text, size, raw)
            pending = ""
            if not block:
                break
            block = self._complete(block, text, raw)
            n_before = stream.rows_read
            self._block(block, n_fields, positions, stream)
            n_records = stream.rows_read - n_before
            if n_records:
                size = max(1, min(1 << 28, len(block) * self.chunk_rows // n_records))
            bar.update(raw.tell(), stream.rows_read)
        bar.close(raw.tell(), stream.rows_read)
        return stream.finish(
            has_weights="weight" in positions, has_timestamps="timestamp" in positions
        )

    def _block(self, block: str, n_fields: int, positions: dict[str, int], stream: _Stream) -> None:
        delimiter = cast("str", self.delimiter)
        first_line = self.line + 1
        self.line += _count_lines(block)
        flat = block
        if "\r" in flat:
            flat = flat.replace("\r\n", "\n")
        if '"' not in flat and "\r" not in flat:
            # Fast path: no quoting, one record per line; split the whole block at once.
            lines = flat.split("\n")
            if lines[-1] == "":
                lines.pop()
            stream.rows_read += len(lines)
            line_of = np.arange(first_line, first_line + len(lines), dtype=np.int64)
            counts = [line.count(delimiter) for line in lines]
            if counts.count(n_fields - 1) != len(counts):
                keep = np.asarray(counts, dtype=np.int64) == n_fields - 1
                self._bad_lines(keep, [[line] for line in lines], line_of, n_fields, stream)
                lines = list(compress(lines, keep.tolist()))
                line_of = line_of[keep]
            if not lines:
                return
            values = delimiter.join(lines).split(delimiter)
            columns = {role: values[pos::n_fields] for role, pos in positions.items()}
        else:
            records, starts = self._parse_records(block, first_line)
            stream.rows_read += len(records)
            line_of = np.asarray(starts, dtype=np.int64)
            lengths = [len(r) for r in records]
            if lengths.count(n_fields) != len(lengths):
                keep = np.asarray(lengths, dtype=np.int64) == n_fields
                self._bad_lines(keep, records, line_of, n_fields, stream)
                records = list(compress(records, keep.tolist()))
                line_of = line_of[keep]
            if not records:
                return
            columns = {role: [r[pos] for r in records] for role, pos in positions.items()}

        path = self.path

        def where(pos: int) -> str:
            return f"{path}, line {int(line_of[pos])}"

        stream.add(
            columns["user"], columns["item"], columns.get("weight"), columns.get("timestamp"), where
        )

    def _bad_lines(
        self,
        keep: npt.NDArray[np.bool_],
        records: list[list[str]],
        line_of: IndexArray,
        n_fields: int,
        stream: _Stream,
    ) -> None:
        bad = np.flatnonzero(~keep)
        blank = [records[pos] in ([""], []) for pos in bad.tolist()]
        if self.on_bad_rows == "raise":
            pos = int(bad[0])
            if blank[0]:
                raise DataError(
                    f"{self.path}, line {int(line_of[pos])}: the line is blank. Remove blank "
                    "lines, or pass on_bad_rows='skip' to drop them (counted in summary().dropped)."
                )
            record = records[pos]
            shown = record[0] if len(record) == 1 else cast("str", self.delimiter).join(record)
            n_seen = (
                len(record) if len(record) > 1 else shown.count(cast("str", self.delimiter)) + 1
            )
            raise DataError(
                f"{self.path}, line {int(line_of[pos])}: {n_seen} field(s) where the "
                f"{'header has' if self.header else 'first line has'} {n_fields}; the line "
                f"reads {_short(shown)!r}. {_SKIP_HINT}"
            )
        n_blank = sum(blank)
        if n_blank:
            stream.drop("blank_line", n_blank)
        if len(blank) - n_blank:
            stream.drop("wrong_field_count", len(blank) - n_blank)


def read_csv(
    path: str | os.PathLike[str],
    *,
    user: Column,
    item: Column,
    weight: Column | None,
    timestamp: Column | None,
    delimiter: str | None,
    header: bool,
    encoding: str,
    user_type: IdType,
    item_type: IdType,
    chunk_rows: int,
    on_bad_rows: BadRows,
    progress: ProgressOption,
) -> Collected:
    """Stream a CSV file into :class:`Collected` columns (see ``Interactions.from_csv``)."""
    for option, value in (("user_type", user_type), ("item_type", item_type)):
        if value not in ("auto", "int", "str"):
            raise ConfigError(f"{option} must be 'auto', 'int' or 'str', got {value!r}.")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be an integer >= 1, got {chunk_rows!r}.")
    if not isinstance(header, bool):
        raise ConfigError(f"header must be True or False, got {header!r}.")
    return _CsvReader(
        os.fspath(path),
        user=user,
        item=item,
        weight=weight,
        timestamp=timestamp,
        delimiter=delimiter,
        header=header,
        encoding=encoding,
        user_type=user_type,
        item_type=item_type,
        chunk_rows=chunk_rows,
        on_bad_rows=on_bad_rows,
        progress=progress,
    ).read()


# -- SQL ------------------------------------------------------------------------------------


def collect_sql(
    connection: object,
    query: str,
    params: object,
    *,
    user: Column,
    item: Column,
    weight: Column | None,
    timestamp: Column | None,
    batch_size: int,
    on_bad_rows: BadRows,
    progress: ProgressOption,
) -> Collected:
    """Run ``query`` on a DB-API 2 connection (or cursor) and stream the rows with fetchmany."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be an integer >= 1, got {batch_size!r}.")
    if not isinstance(query, str) or not query.strip():
        raise ConfigError(f"query must be a non-empty SQL string, got {query!r}.")
    own_cursor = callable(getattr(connection, "cursor", None))
    if own_cursor:
        cursor: Any = cast("Any", connection).cursor()
    elif callable(getattr(connection, "execute", None)) and callable(
        getattr(connection, "fetchmany", None)
    ):
        cursor = connection
    else:
        raise ConfigError(
            f"from_sql needs a DB-API 2 connection (with .cursor()) or cursor (with .execute() "
            f"and .fetchmany()); got {type(connection).__name__}."
        )
    shown = _short(query)
    try:
        try:
            if params is None:
                cursor.execute(query)
            else:
                cursor.execute(query, params)
        except Exception as exc:
            raise DataError(
                f"The query failed ({type(exc).__module__}.{type(exc).__name__}: "
                f"{_short(str(exc), 300)}). Query: {shown!r}"
            ) from exc
        description = cursor.description
        if not description:
            raise DataError(f"The query returned no result set (is it a SELECT?): {shown!r}")
        names = [str(d[0]) for d in description]

        def describe() -> tuple[str, str]:
            return f"the query's result has columns {names!r}", ""

        specs = {"user": user, "item": item, "weight": weight, "timestamp": timestamp}
        positions = {
            role: _resolve(spec, role, names, len(names), describe)
            for role, spec in specs.items()
            if spec is not None
        }
        if positions["user"] == positions["item"]:
            raise ConfigError("user and item must be different columns.")
        labels = {role: f"column {names[pos]!r}" for role, pos in positions.items()}
        labels.setdefault("weight", "")
        labels.setdefault("timestamp", "")
        stream = _Stream("query", labels, on_bad_rows, text=False)
        bar = ProgressBar("query", None, progress)
        while True:
            try:
                batch = cursor.fetchmany(batch_size)
            except Exception as exc:
                raise DataError(
                    f"Fetching the query's rows failed after row {stream.rows_read} "
                    f"({type(exc).__name__}: {_short(str(exc), 300)})."
                ) from exc
            if not batch:
                break
            offset = stream.rows_read
            stream.rows_read += len(batch)
            columns = {role: [r[pos] for r in batch] for role, pos in positions.items()}

            def where(pos: int, offset: int = offset) -> str:
                return f"query result row {offset + pos + 1}"

            stream.add(
                columns["user"],
                columns["item"],
                columns.get("weight"),
                columns.get("timestamp"),
                where,
            )
            bar.update(0, stream.rows_read)
        bar.close(0, stream.rows_read)
        if stream.rows_read == 0:
            raise DataError(
                f"The query returned no rows: {shown!r}. Check its WHERE clause and parameters."
            )
        return stream.finish(
            has_weights="weight" in positions, has_timestamps="timestamp" in positions
        )
    finally:
        if own_cursor:
            cursor.close()
