"""Recognizing the containers users pass: tables, mappings and pyarrow arrays.

IDs and weights arrive as lists, numpy arrays, pandas or polars Series and pyarrow arrays;
a table or a dict given in their place would iterate as its labels. These checks let the
readers (:mod:`alsrec.ids`, :mod:`alsrec.data.frames`) tell them apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from alsrec.exceptions import IdTypeError

__all__ = ["check_not_table", "check_sequence", "is_arrow", "library_of"]


def library_of(value: object) -> str:
    """The top-level package that defines ``value``'s type (``"pandas"``, ``"polars"``...).

    Examples
    --------
    >>> library_of(np.arange(2)), library_of([1])
    ('numpy', 'builtins')
    """
    return type(value).__module__.partition(".")[0]


def is_arrow(value: object) -> bool:
    """Whether ``value`` is a pyarrow object (an ``Array`` or ``ChunkedArray``).

    pyarrow arrays have no ``dtype`` and iterate as pyarrow scalars, so the readers convert
    them with ``np.asarray`` (one vectorized copy) instead.

    Examples
    --------
    >>> is_arrow([1, 2]), is_arrow(np.arange(2))
    (False, False)
    """
    return library_of(value) == "pyarrow"


def check_not_table(values: object, what: str) -> None:
    """Refuse a table or a mapping where a sequence of values is expected.

    Iterating a pandas DataFrame yields its column names, and a dict its keys, so
    ``recommend_many(df)`` or ``exclude={"u1": [...]}`` would quietly read labels as IDs.
    :class:`~alsrec.IdTypeError` names the argument and says what to pass instead.

    Examples
    --------
    >>> check_not_table({"u1": ["a"]}, "excluded item IDs")
    Traceback (most recent call last):
    ...
    alsrec.exceptions.IdTypeError: excluded item IDs must be a sequence, got a dict: ...
    """
    if isinstance(values, Mapping):
        raise IdTypeError(
            f"{what} must be a sequence, got a {type(values).__name__}: iterating it would "
            "read its keys as the values. Pass a list (or array) instead."
        )
    if type(values).__name__ == "LazyFrame":  # before hasattr: its columns cost a query plan
        raise IdTypeError(
            f"{what} must be a sequence, got a polars LazyFrame (a query plan): collect it "
            "and pass one column, e.g. lf.collect()['user_id']."
        )
    if hasattr(values, "columns") and not isinstance(values, np.ndarray):
        raise IdTypeError(
            f"{what} must be a sequence, got a {type(values).__name__} (a table): iterating "
            "it would read its column names as the values. Pass one column, e.g. "
            "df['user_id']."
        )


def check_sequence(values: object, what: str) -> None:
    """Refuse what is not a sequence of values: one value, a sparse matrix, a table or a
    mapping (:func:`check_not_table`), with :class:`~alsrec.IdTypeError` naming the
    argument and what to pass.

    A single ID where a list is expected (``recommend_many(7)``, ``exclude=5``) and a row
    of a sparse user-item matrix (implicit's ``user_items[u]``) are the usual slips.

    Examples
    --------
    >>> check_sequence(5, "excluded item IDs")
    Traceback (most recent call last):
    ...
    alsrec.exceptions.IdTypeError: excluded item IDs must be a sequence of IDs, got a single int ...
    >>> check_sequence([5], "excluded item IDs")
    """
    check_not_table(values, what)
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        one = values.decode(errors="replace") if isinstance(values, bytes) else values
        one = one.item() if isinstance(one, np.generic) else one
        fix = "" if one is None else f": wrap it in a list, [{one!r}]"
        raise IdTypeError(
            f"{what} must be a sequence of IDs, got a single {type(values).__name__} "
            f"({one!r}){fix}."
        )
    if library_of(values) == "scipy" and hasattr(values, "tocsr"):
        raise IdTypeError(
            f"{what} must be a sequence of IDs, got a scipy sparse matrix of shape "
            f"{getattr(values, 'shape', '?')}: pass the IDs of its stored columns, e.g. "
            "rec.items_.ids[row.indices] for a row of a user-item matrix (its weights: "
            "row.data)."
        )
