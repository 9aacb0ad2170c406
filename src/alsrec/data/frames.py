"""Readers of in-memory columns: arrays and sequences, pandas and polars frames."""

from __future__ import annotations

from collections.abc import Sized
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from alsrec.checks import check_aligned
from alsrec.containers import check_not_table, is_arrow, library_of
from alsrec.data.columns import candidates, common_names
from alsrec.data.rows import (
    BadRows,
    Collected,
    RawBatch,
    check_id_lengths,
    raise_all_dropped,
    screen_batch,
    show_value,
    take_kept,
    type_with_article,
)
from alsrec.exceptions import ConfigError, DataError, IdTypeError
from alsrec.mapping import IdMapper

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Sequence

    from alsrec.types import IdArray, IndexArray

__all__ = [
    "check_eager",
    "collect_arrays",
    "collect_columns",
    "collect_frame",
    "frame_roles",
]


@dataclass
class ArrayColumn:
    """One in-memory column of IDs, weights or timestamps, with the label its messages use."""

    values: Sequence[object] | npt.NDArray[Any]
    label: str


def as_column(values: object, label: str) -> Sequence[object] | npt.NDArray[Any]:
    """The values of an in-memory column (a 1-d array, a list, a Series), checked to be one."""
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
    check_not_table(values, label)
    if is_arrow(values) or (
        callable(getattr(values, "to_numpy", None)) and hasattr(values, "dtype")
    ):
        return _series_values(values, label)  # a pandas or polars Series, a pyarrow array
    try:
        return list(cast("Any", values))
    except TypeError as exc:
        raise DataError(
            f"{label} must be a sequence or 1-d array, got {type(values).__name__}."
        ) from exc


def _relocate_id_error(
    column: ArrayColumn,
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
                f"{where(pos)}, {column.label}: {axis} ID {show_value(value)} is "
                f"{type_with_article(value)}; IDs must be int or str. Convert the column to str "
                f"(or to int) first.{hint}"
            )
        kind = "str" if is_str else "int"
        if first_pos is None:
            first_pos, first_kind = pos, kind
        elif kind != first_kind:
            return IdTypeError(
                f"{where(pos)}, {column.label}: {axis} IDs mix int and str: {show_value(value)} is "
                f"{kind} but the first ID ({where(first_pos)}: "
                f"{show_value(column.values[first_pos])}) is {first_kind}. Use one type per "
                "column, e.g. convert all its IDs to str."
            )
    return IdTypeError(f"{column.label}: {exc}")


def _encode_column(
    column: ArrayColumn,
    keep: npt.NDArray[np.bool_] | None,
    axis: str,
    where: Callable[[int], str],
) -> tuple[IdArray, IndexArray]:
    check_id_lengths(column.values, keep, axis, lambda pos: f"{where(pos)}, {column.label}")
    values = column.values if keep is None else take_kept(column.values, keep)
    try:
        mapper, codes = IdMapper.factorize(cast("Any", values), f"{axis} IDs ({column.label})")
    except IdTypeError as exc:
        raise _relocate_id_error(column, keep, axis, where, exc) from exc
    return mapper.ids, codes


def collect_arrays(
    users: ArrayColumn,
    items: ArrayColumn,
    weights: ArrayColumn | None,
    timestamps: ArrayColumn | None,
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
    batch = RawBatch(
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
    keep, w, t = screen_batch(batch, on_bad_rows, dropped)
    if keep is not None and not keep.any():
        raise_all_dropped(n, dropped, source)
    user_ids, rows = _encode_column(users, keep, "user", where)
    item_ids, cols = _encode_column(items, keep, "item", where)
    if keep is not None:
        w = None if w is None else w[keep]
        t = None if t is None else t[keep]
    return Collected(user_ids, item_ids, rows, cols, w, t, n, dropped, source)


def collect_columns(
    user_ids: object,
    item_ids: object,
    weights: object,
    timestamps: object,
    *,
    on_bad_rows: BadRows,
) -> Collected:
    """Read the columns given to ``from_arrays`` (``weights`` and ``timestamps`` may be
    ``None``), paired by position: pandas Series with different indexes are refused."""
    check_aligned(
        {
            "user_ids": user_ids,
            "item_ids": item_ids,
            "weights": weights,
            "timestamps": timestamps,
        },
        ", or pass one DataFrame: fit(df, user=..., item=..., weight=...)",
    )
    return collect_arrays(
        ArrayColumn(as_column(user_ids, "user_ids"), "user_ids"),
        ArrayColumn(as_column(item_ids, "item_ids"), "item_ids"),
        None if weights is None else ArrayColumn(as_column(weights, "weights"), "weights"),
        None
        if timestamps is None
        else ArrayColumn(as_column(timestamps, "timestamps"), "timestamps"),
        on_bad_rows=on_bad_rows,
        where=lambda pos: f"position {pos}",
        source="arrays",
    )


def _frame_column(
    frame: Any, name: Hashable, role: str, columns: list[Hashable], note: str = ""
) -> ArrayColumn:
    hits = sum(1 for c in columns if c == name)
    if hits == 0:
        names = getattr(getattr(frame, "index", None), "names", None) or ()
        fix = (
            "It is the frame's index: pass df.reset_index() so that it becomes a column."
            if name in list(names)
            else f"Pass {role}=<one of them>."
        )
        raise DataError(
            f"The frame has no column {name!r} (the {role} column); its columns are "
            f"{columns!r}. {fix}"
        )
    if hits > 1:
        raise DataError(f"The frame has {hits} columns named {name!r}; rename them apart first.")
    label = f"column {name!r}{note}"
    return ArrayColumn(_series_values(frame[name], label), label)


def _series_values(series: Any, label: str) -> npt.NDArray[Any]:
    """A pandas or polars column (a frame's, or a Series passed as one of the three
    columns) as a 1-d numpy array, in one vectorized copy rather than one Python object
    per row."""
    if getattr(getattr(series, "dtype", None), "tz", None) is not None and hasattr(series, "dt"):
        # A time-zone-aware pandas column: to_numpy() gives one Timestamp object per row;
        # in UTC without the zone it is one datetime64 array (the same instants).
        series = series.dt.tz_convert(None)
    to_numpy = getattr(series, "to_numpy", None)
    arrow = is_arrow(series)  # pyarrow's to_numpy() refuses nulls and strings by default
    values = np.asarray(to_numpy() if callable(to_numpy) and not arrow else series)
    if values.ndim != 1:
        raise DataError(f"{label} is not one-dimensional (shape {values.shape}).")
    if values.dtype.kind in "SVT":  # numpy bytes/void/StringDType: go through Python objects
        values = np.asarray(values.tolist(), dtype=object)
    dtype_name = str(getattr(series, "type" if arrow else "dtype", values.dtype)).lower()
    to_list = getattr(series, "to_pylist" if arrow else "to_list", None)
    if values.dtype.kind == "f" and "int" in dtype_name and callable(to_list):
        # A nullable integer column with nulls (pandas/polars Int64): to_numpy() gives
        # float64, which rounds IDs above 2**53. Take the exact Python ints (and the nulls,
        # which the screen marks missing) instead.
        exact = np.empty(values.size, dtype=object)
        exact[:] = to_list()
        values = exact
    elif values.dtype.kind == "f" and np.isnan(values).any():
        nulls = _null_mask(series, arrow)
        if nulls is not None and nulls.any():
            # Nulls of a nullable float column (pandas Float64, polars, pyarrow) became NaN:
            # mark them missing again, so the row is reported as missing, not as NaN.
            marked = values.astype(object)
            marked[nulls] = None
            values = marked
    return values


def _null_mask(series: Any, arrow: bool) -> npt.NDArray[np.bool_] | None:
    """Where a nullable column holds nulls (``None`` for a column that cannot)."""
    if arrow or library_of(series) == "polars":
        return np.asarray(series.is_null(), dtype=bool)
    if hasattr(getattr(series, "dtype", None), "na_value") and callable(
        getattr(series, "isna", None)
    ):
        return np.asarray(series.isna(), dtype=bool)  # a pandas extension (nullable) dtype
    return None


def check_eager(frame: object) -> None:
    """Refuse, with :class:`~alsrec.ConfigError`, a frame whose columns cannot be read by
    name: a lazy frame (polars ``LazyFrame``), until it is collected, and a pyarrow
    ``Table`` or ``RecordBatch``, whose ``.columns`` are its arrays, not their names.

    Examples
    --------
    >>> import pyarrow as pa
    >>> check_eager(pa.table({"user_id": [1], "item_id": [2]}))
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: Got a pyarrow Table; alsrec reads the columns of a ...
    """
    if callable(getattr(frame, "collect", None)) and type(frame).__name__.startswith("Lazy"):
        raise ConfigError(
            f"Got a {type(frame).__name__}, whose columns cannot be read before it is "
            "computed: pass frame.collect() instead."
        )
    if is_arrow(frame) and hasattr(frame, "column_names"):
        raise ConfigError(
            f"Got a pyarrow {type(frame).__name__}; alsrec reads the columns of a pandas or "
            "polars DataFrame: pass table.to_pandas() or polars.from_arrow(table) instead."
        )


def frame_where(frame: object) -> Callable[[int], str]:
    """How messages name row ``pos`` (a position) of ``frame``: with its index label too
    when a pandas index is not the positions themselves (a filtered or sorted frame,
    where ``df.loc[pos]`` would be another row).

    Examples
    --------
    >>> import pandas as pd
    >>> frame_where(pd.DataFrame({"a": [1, 2]}, index=[10, 4]))(1)
    'frame row at position 1 (index label 4)'
    >>> frame_where(pd.DataFrame({"a": [1, 2]}))(1)
    'frame row 1'
    """
    index = getattr(frame, "index", None)
    size = len(index) if isinstance(index, Sized) else 0
    positional = index is None or not size or _is_range(index, size)
    if positional:
        return lambda pos: f"frame row {pos}"
    labels = cast("Sequence[object]", index)

    def where(pos: int) -> str:
        label = labels[pos]
        shown = label.item() if isinstance(label, np.generic) else label
        return f"frame row at position {pos} (index label {shown!r})"

    return where


def _is_range(index: object, size: int) -> bool:
    """Whether a pandas index is ``0, 1, ..., size - 1`` (a default RangeIndex)."""
    start, stop, step = (getattr(index, name, None) for name in ("start", "stop", "step"))
    return (start, stop, step) == (0, size, 1)


def collect_frame(
    frame: object,
    *,
    user: Hashable,
    item: Hashable,
    weight: Hashable | None,
    timestamp: Hashable | None,
    on_bad_rows: BadRows,
    weight_note: str = "",
) -> Collected:
    """Read columns of a pandas or polars frame (duck-typed: ``.columns``, ``frame[name]``);
    ``weight_note`` is added to the weight column's name in messages."""
    check_eager(frame)
    raw_columns = getattr(frame, "columns", None)
    if raw_columns is None or not hasattr(frame, "__getitem__"):
        raise ConfigError(
            f"from_frame needs a pandas or polars DataFrame (an object with .columns and "
            f"frame[name]); got {type(frame).__name__}."
        )
    columns = list(raw_columns)
    roles = {"user": user, "item": item, "weight": weight, "timestamp": timestamp}
    named = [(role, name) for role, name in roles.items() if name is not None]
    for k, (role, name) in enumerate(named):
        twin = next((other for other, same in named[k + 1 :] if same == name), None)
        if twin is not None:
            raise ConfigError(
                f"The {role} and {twin} columns are both {name!r}; each role needs its own "
                f"column (name them with {role}= and {twin}=)."
            )
    kind = library_of(frame)
    return collect_arrays(
        _frame_column(frame, user, "user", columns),
        _frame_column(frame, item, "item", columns),
        None if weight is None else _frame_column(frame, weight, "weight", columns, weight_note),
        None if timestamp is None else _frame_column(frame, timestamp, "timestamp", columns),
        on_bad_rows=on_bad_rows,
        where=frame_where(frame),
        source=f"{kind} frame",
    )


def frame_roles(
    frame: object, user: Hashable | None, item: Hashable | None, weight: Hashable | None
) -> tuple[Hashable, Hashable, Hashable | None]:
    """The user, item and weight columns of ``frame``: as given, or, given as None, the
    columns named like them (:mod:`alsrec.data.columns`; no such weight column: None).
    ``weight=False`` stays False: no weight column, whatever the names.

    Examples
    --------
    >>> import pandas as pd
    >>> frame_roles(pd.DataFrame(columns=["userId", "movieId", "rating"]), None, None, None)
    ('userId', 'movieId', None)
    """
    check_eager(frame)
    raw = getattr(frame, "columns", None)
    if raw is None or isinstance(raw, (str, bytes)):
        return user, item, weight  # not a frame: collect_frame refuses it
    columns = list(raw)
    levels = getattr(getattr(frame, "index", None), "names", None)
    index = [n for n in levels if n is not None] if isinstance(levels, (list, tuple)) else []
    found = [_frame_role(columns, role, given, index) for role, given in
             (("user", user), ("item", item), ("weight", weight))]  # fmt: skip
    return found[0], found[1], found[2]


def _frame_role(
    columns: list[Hashable], role: str, given: Hashable | None, index: list[Hashable]
) -> Hashable | None:
    reset = (
        f"(the {role} IDs) is the frame's index, not a column; pass df.reset_index() so that "
        "it becomes one."
    )
    if given is False and role == "weight":
        return False
    if given is not None:
        if given not in columns and given in index:
            raise ConfigError(f"{given!r} {reset}")
        return given
    found = candidates(columns, role)
    if len(found) == 1:
        return found[0]
    if role == "weight" and not found:
        return None
    in_index = candidates(index, role)
    if not found and in_index:
        raise ConfigError(f"{in_index[0]!r} {reset}")
    if found:
        raise DataError(
            f"Several columns of the frame could hold the {role} IDs ({found!r}); pass "
            f"{role}=<one of them>."
        )
    raise DataError(
        f"The frame has no column named like the {role} IDs ({common_names(role)}); its "
        f"columns are {columns!r}. Pass {role}=<one of them>."
    )
