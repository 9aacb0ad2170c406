"""What every reader shares: screening rows, encoding IDs, reporting bad rows.

Every reader does the same three things, so every source behaves the same way:

1. *screen* each batch of rows (missing or empty IDs, unparsable or non-positive weights,
   unreadable timestamps, blank or malformed CSV lines) and either raise a
   :class:`~alsrec.DataError` naming the source, row/line and column, or drop the row and
   count it under a reason (``on_bad_rows="skip"``);
2. *encode* the IDs of the kept rows to integer codes in order of first appearance;
3. hand a :class:`Collected` (unique IDs, codes, weights, timestamps, counts) to
   :func:`alsrec.data.assemble.assemble`, which merges duplicates and applies the filters.

This module holds what every reader shares (screening, ID encoding, row reporting, the
streaming accumulator); the sources live in :mod:`~alsrec.data.frames` (arrays and data
frames), :mod:`~alsrec.data.csv_reader` and :mod:`~alsrec.data.sql_reader`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from itertools import compress, islice
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import numpy.typing as npt

from alsrec.data.timestamps import parse_with_forms
from alsrec.exceptions import ConfigError, DataError, IdTypeError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from alsrec.types import IdArray, IndexArray

__all__ = [
    "MAX_FIELD_CHARS",
    "MAX_ID_CHARS",
    "REASONS",
    "BadRows",
    "Collected",
    "Column",
    "IdType",
    "check_bad_rows",
    "is_complex",
    "refuse_complex",
]

MAX_ID_CHARS = 1_024
"""The longest ID (in characters) a reader accepts; a longer one is a :class:`DataError`
naming its line or row. It keeps memory proportional to the input: numpy stores IDs at
the width of the longest one."""

MAX_FIELD_CHARS = 131_072
"""The longest CSV field (in characters), quoted or not: the csv module's default limit.
A longer field, or input with no line end in sight, is a :class:`DataError` naming its line."""

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

SKIP_HINT = (
    "Fix or remove the row, or pass on_bad_rows='skip' to drop such rows "
    "(they are counted in summary().dropped)."
)
"""The advice that ends the message of a bad row under ``on_bad_rows="raise"``."""


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


def show_value(value: object) -> str:
    """``repr`` of a value, numpy scalars shown as the Python value they hold."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def type_with_article(value: object) -> str:
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
    seq = values.tolist() if isinstance(values, np.ndarray) else values
    if set(map(type, seq)) <= {str, int} and "" not in seq:
        # Every ID a non-empty str or a Python int (a pandas string column, a list of int
        # IDs): nothing is missing, settled in C loops at a fraction of the cost of the
        # loop below. A mixture of the two is refused by the ID type checks.
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


def refuse_complex(dtype: object, what: str) -> None:
    """Refuse weights of a complex ``dtype`` with a :class:`DataError` naming ``what`` (the
    column or argument) and the dtype: converting them to float would silently drop their
    imaginary parts (numpy only warns).

    Examples
    --------
    >>> refuse_complex(np.dtype(np.float32), "weights")  # real: nothing to say
    >>> refuse_complex(np.dtype(np.complex128), "column 'w'")
    Traceback (most recent call last):
    ...
    alsrec.exceptions.DataError: column 'w': the weights have the complex dtype complex128; ...
    """
    if isinstance(dtype, np.dtype) and dtype.kind == "c":
        raise DataError(
            f"{what}: the weights have the complex dtype {dtype}; weights must be real "
            "numbers, and converting them would drop the imaginary parts. Pass the real "
            "part (np.real(w)) or the magnitude (np.abs(w)), whichever you mean."
        )


_COMPLEX = (complex, np.complexfloating)


def is_complex(value: object) -> bool:
    """Whether ``value`` is a complex number (Python's or numpy's), which ``float()``
    refuses (Python's) or cuts to its real part with only a warning (numpy's)."""
    return isinstance(value, _COMPLEX)


def _screen_weights(
    values: Sequence[object] | npt.NDArray[Any],
    reasons: npt.NDArray[np.int8],
    *,
    quick: bool = False,
) -> Float64Array:
    """Parse weights to float64 and mark missing, unparsable, complex, non-finite and
    <= 0 ones. ``quick``: text from a stream, which holds no complex numbers."""
    n = len(values)
    w: Float64Array
    if isinstance(values, np.ndarray) and values.dtype.kind in "iufb":
        w = values.astype(np.float64)
    else:
        try:
            if None in values if isinstance(values, list) else any(v is None for v in values):
                raise TypeError("None")
            if not quick and any(issubclass(kind, _COMPLEX) for kind in set(map(type, values))):
                raise TypeError("complex")
            w = np.fromiter(map(float, values), dtype=np.float64, count=n)
        except (TypeError, ValueError, OverflowError):
            w = np.ones(n, dtype=np.float64)
            bad = np.zeros(n, dtype=np.bool_)
            for pos, value in enumerate(values):
                try:
                    if value is None or is_complex(value):
                        raise TypeError("None or complex")
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


def _screen_timestamps(
    batch: RawBatch, reasons: npt.NDArray[np.int8], forms: dict[str, str]
) -> Float64Array:
    """Timestamps as float64 epoch seconds (see :mod:`alsrec.data.timestamps`); marks bad
    ones, and refuses a column that mixes numbers and dates (in this batch or, through
    ``forms``, the first form seen in an earlier one)."""
    values = batch.timestamps
    assert values is not None
    seconds, bad, (number, when) = parse_with_forms(values)
    _mark(reasons, bad, _BAD_TIMESTAMP)
    for form, pos in (("number", number), ("date", when)):
        if pos is not None and form not in forms:
            shown = values[pos]
            shown = shown.item() if isinstance(shown, np.generic) else shown
            forms[form] = f"{batch.where(pos)} has the {form} {shown!r}"
    if len(forms) == 2:
        raise DataError(
            f"{batch.labels['timestamp']}: the timestamps mix numbers and dates "
            f"({forms['number']}; {forms['date']}). A number is kept as given (often "
            "milliseconds or another unit) and a date becomes seconds since 1970, so the two "
            "cannot be ordered together: convert the column to one form."
        )
    return seconds


@dataclass
class RawBatch:
    """One batch of raw columns from a source, with how to name its rows and columns."""

    users: Sequence[object] | npt.NDArray[Any]
    items: Sequence[object] | npt.NDArray[Any]
    weights: Sequence[object] | npt.NDArray[Any] | None
    timestamps: Sequence[object] | npt.NDArray[Any] | None
    where: Callable[[int], str]
    labels: dict[str, str]


def _describe(batch: RawBatch, pos: int, code: int) -> str:
    where, labels = batch.where(pos), batch.labels
    if code in (_MISSING_USER, _EMPTY_USER, _MISSING_ITEM, _EMPTY_ITEM):
        axis = "user" if code in (_MISSING_USER, _EMPTY_USER) else "item"
        values = batch.users if axis == "user" else batch.items
        state = "missing" if code in (_MISSING_USER, _MISSING_ITEM) else "empty"
        return f"{where}, {labels[axis]}: the {axis} ID is {state} ({show_value(values[pos])})"
    if code == _BAD_TIMESTAMP:
        assert batch.timestamps is not None
        return (
            f"{where}, {labels['timestamp']}: timestamp {batch.timestamps[pos]!r} is missing or "
            "is neither a number nor an ISO 8601 date/time"
        )
    assert batch.weights is not None
    value = batch.weights[pos]
    problem = {
        _BAD_WEIGHT: "is complex; weights must be real numbers"
        if is_complex(value)
        else "is missing or not a number",
        _NONFINITE_WEIGHT: "is not finite",
        _NEGATIVE_WEIGHT: "is negative; weights must be > 0",
        _ZERO_WEIGHT: "is zero; a pair that was not observed needs no row",
    }[code]
    return f"{where}, {labels['weight']}: weight {show_value(value)} {problem}"


def screen_batch(
    batch: RawBatch,
    on_bad_rows: BadRows,
    dropped: dict[str, int],
    *,
    quick: bool = False,
    time_forms: dict[str, str] | None = None,
) -> tuple[npt.NDArray[np.bool_] | None, Float64Array | None, Float64Array | None]:
    """Screen a batch: returns (keep mask or None when all rows are fine, weights, times).

    ``time_forms`` carries the first number and the first date seen among the
    timestamps from one batch of a source to the next (a fresh one per call otherwise).
    """
    n = len(batch.users)
    reasons = np.zeros(n, dtype=np.int8)
    _screen_ids(batch.users, reasons, _MISSING_USER, _EMPTY_USER, quick=quick)
    _screen_ids(batch.items, reasons, _MISSING_ITEM, _EMPTY_ITEM, quick=quick)
    w = None
    if batch.weights is not None:
        refuse_complex(getattr(batch.weights, "dtype", None), batch.labels["weight"])
        w = _screen_weights(batch.weights, reasons, quick=quick)
    forms = {} if time_forms is None else time_forms
    t = None if batch.timestamps is None else _screen_timestamps(batch, reasons, forms)
    bad = np.flatnonzero(reasons)
    if bad.size == 0:
        return None, w, t
    if on_bad_rows == "raise":
        first = int(bad[0])
        raise DataError(f"{_describe(batch, first, int(reasons[first]))}. {SKIP_HINT}")
    for code, count in enumerate(np.bincount(reasons[bad]).tolist()):
        if count:
            _count(dropped, _REASON_OF_CODE[code], count)
    return reasons == 0, w, t


def _count(dropped: dict[str, int], reason: str, n: int) -> None:
    dropped[reason] = dropped.get(reason, 0) + int(n)


def take_kept(values: Sequence[object] | npt.NDArray[Any], keep: npt.NDArray[np.bool_]) -> Any:
    """The values of ``values`` where ``keep`` is true (an array stays an array)."""
    if isinstance(values, np.ndarray):
        return values[keep]
    return list(compress(values, keep.tolist()))


# -- ID encoding ----------------------------------------------------------------------------


def raise_long_id(value: str, axis: str, where: str, *, column: bool = True) -> None:
    """Raise the :class:`DataError` for an ID longer than :data:`MAX_ID_CHARS` (``column``:
    ask whether the right column was read, for IDs read from a table)."""
    article = "an" if axis == "item" else "a"
    raise DataError(
        f"{where}: {article} {axis} ID of {len(value):,} characters ({shorten(value, 40)!r}); "
        f"IDs are at most {MAX_ID_CHARS:,} characters."
        + (f" Is the right column the {axis} column?" if column else "")
    )


def check_id_lengths(
    values: Sequence[object] | npt.NDArray[Any],
    keep: npt.NDArray[np.bool_] | None,
    axis: str,
    where: Callable[[int], str],
    *,
    column: bool = True,
) -> None:
    """Refuse a (kept) str ID longer than :data:`MAX_ID_CHARS`, naming its row (see
    :func:`raise_long_id` for ``column``)."""
    if isinstance(values, np.ndarray):
        if values.dtype.kind == "U":
            if values.dtype.itemsize // 4 <= MAX_ID_CHARS:
                return
            lengths = np.char.str_len(values)
        elif values.dtype.kind in "OT":
            seq = values.tolist()
            try:  # all str (the common case): one C-level pass
                if max(map(len, cast("list[str]", seq)), default=0) <= MAX_ID_CHARS:
                    return
            except TypeError:  # not all str: find the long ones among the str
                if not any(issubclass(kind, str) for kind in set(map(type, seq))):
                    return
            lengths = np.fromiter(
                (len(v) if isinstance(v, str) else 0 for v in seq),
                dtype=np.int64,
                count=len(values),
            )
        else:
            return
    else:
        try:
            if max(map(len, cast("Sequence[str]", values)), default=0) <= MAX_ID_CHARS:
                return
        except TypeError:  # not all str: the ID type checks speak about that
            if not any(issubclass(kind, str) for kind in set(map(type, values))):
                return  # no str at all (e.g. a list of int IDs): nothing to measure
        lengths = np.fromiter(
            (len(v) if isinstance(v, str) else 0 for v in values), dtype=np.int64, count=len(values)
        )
    too_long = lengths > MAX_ID_CHARS
    if keep is not None:
        too_long &= keep
    if too_long.any():
        pos = int(np.flatnonzero(too_long)[0])
        raise_long_id(str(values[pos]), axis, where(pos), column=column)


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
        if len(table) > before and (self.text or self.kind == "str"):
            self._check_new_strings(
                cast("list[str]", list(islice(reversed(table), len(table) - before))), values, where
            )
        if self.text and self.kind == "int" and len(table) > before:
            new = np.flatnonzero(codes >= before)
            _, first_new = np.unique(codes[new], return_index=True)
            for pos in np.sort(new[first_new]).tolist():
                if not _is_int_text(values[pos]):
                    self._raise_mixed(values[pos], where(pos))
        return codes

    def _check_new_strings(
        self, new: list[str], values: list[str], where: Callable[[int], str]
    ) -> None:
        """Refuse new str IDs that are too long or end in NUL (numpy drops trailing NULs).

        Only the IDs first seen in this batch are checked, so the cost follows the number
        of distinct IDs; the first bad one's line is found in ``values``.
        """
        if max(map(len, new)) > MAX_ID_CHARS:
            pos = next(k for k, v in enumerate(values) if len(v) > MAX_ID_CHARS)
            raise_long_id(values[pos], self.axis, f"{where(pos)}, {self.label}")
        if self.kind == "str" and "\x00" in "".join(new):
            for pos, value in enumerate(values):
                if value.endswith("\x00"):
                    raise IdTypeError(
                        f"{where(pos)}, {self.label}: {self.axis} ID {value!r} ends in a NUL "
                        "character ('\\x00'), which numpy cannot store; strip trailing NUL "
                        "characters from the IDs."
                    )

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
            f"{where}, {self.label}: {self.axis} ID {show_value(value)} is "
            f"{type_with_article(value)}; IDs must be int or str. Convert the column in the "
            "query (e.g. CAST(... AS TEXT))."
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
            if _CANONICAL_INT.fullmatch(cast("str", value)):
                raise IdTypeError(  # written plainly, but too large for 64 bits
                    f"{where}, {self.label}: {self.axis} ID {value!r} is outside the 64-bit "
                    f"integer range ({_INT64_MIN} to {_INT64_MAX}), but {why}. Pass "
                    f"{self.option}='str' to read every ID in it as text."
                )
            raise IdTypeError(
                f"{where}, {self.label}: {self.axis} ID {value!r} is not an integer written "
                f"plainly (digits, optional '-', no leading zeros), but {why}. Mixed ID types in "
                f"one column: pass {self.option}='str' to read every ID in it as text."
            )
        raise IdTypeError(
            f"{where}, {self.label}: {self.axis} ID {show_value(value)} is "
            f"{type_with_article(value)} but the column's first ID ({first_where}: "
            f"{show_value(first_value)}) is {type_with_article(first_value)}. Mixed ID types "
            "in one column: make the column one type (e.g. CAST(... AS TEXT) in the query)."
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


# -- streaming sources (CSV, SQL) -----------------------------------------------------------


def raise_all_dropped(n: int, dropped: dict[str, int], source: str) -> None:
    """Raise the :class:`DataError` for a source whose rows were all dropped as bad."""
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(dropped.items()))
    raise DataError(
        f"{source}: all {n} rows were dropped as bad rows ({reasons}); nothing to load."
    )


class RowStream:
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
        self.time_forms: dict[str, str] = {}  # the first number and date among the timestamps

    def add(
        self,
        users: list[Any],
        items: list[Any],
        weights: list[Any] | None,
        timestamps: list[Any] | None,
        where: Callable[[int], str],
    ) -> None:
        batch = RawBatch(users, items, weights, timestamps, where, self.labels)
        keep, w, t = screen_batch(
            batch, self.on_bad_rows, self.dropped, quick=True, time_forms=self.time_forms
        )
        kept_where = where
        if keep is not None:
            users, items = take_kept(users, keep), take_kept(items, keep)
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
                raise_all_dropped(self.rows_read, self.dropped, self.source)
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


def shorten(text: str, limit: int = 120) -> str:
    """``text`` on one line (whitespace collapsed), cut to ``limit`` characters with "..."."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
