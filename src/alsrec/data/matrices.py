"""Interactions from data already in matrix form: a sparse matrix, or mapped indices.

These sources need no row parsing: a row or column of :meth:`Interactions.from_scipy`'s
matrix is the position of its ID, and :meth:`Interactions.from_indices` takes indices into
two given mappers. Both keep every given ID, including IDs without any stored entry (the
readers of rows keep only the IDs of the rows that remain). Each function returns the
keyword arguments of :class:`~alsrec.data.interactions.Interactions`, as
:func:`~alsrec.data.assemble.assemble` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
import scipy.sparse as sp

from alsrec.containers import library_of
from alsrec.data.assemble import assemble
from alsrec.data.rows import BadRows, Collected, refuse_complex
from alsrec.exceptions import ConfigError, DataError
from alsrec.mapping import IdMapper

if TYPE_CHECKING:
    from collections.abc import Iterable

    from alsrec.types import ExternalId, FloatArray, IdLike, IndexArray

__all__ = ["read_indices", "read_matrix", "refuse_table"]


def read_matrix(
    matrix: object,
    user_ids: IdLike | Iterable[ExternalId] | None,
    item_ids: IdLike | Iterable[ExternalId] | None,
    *,
    on_bad_rows: BadRows,
) -> dict[str, Any]:
    """Screen a ``users x items`` scipy sparse matrix (or 2-d array) of weights.

    The rules are those of :meth:`Interactions.from_scipy`: IDs default to ``0..n-1``,
    stored zeros are removed and counted under ``explicit_zero``, negative, NaN or infinite
    entries are bad rows, and duplicate stored entries are summed. A complex matrix and a
    data frame are refused
    (:func:`refuse_table`).
    """
    refuse_table(matrix)
    if sp.issparse(matrix):
        coo = sp.coo_matrix(cast("Any", matrix))
        refuse_complex(coo.dtype, "the matrix")
    else:
        dense = np.asarray(matrix)
        refuse_complex(dense.dtype, "the matrix")
        if dense.ndim != 2 or dense.dtype.kind not in "iufb":
            raise DataError(
                f"from_scipy needs a 2-d numeric matrix, got {type(matrix).__name__} "
                f"of shape {dense.shape} and dtype {dense.dtype}."
            )
        coo = sp.coo_matrix(dense)
    n_users, n_items = coo.shape
    users = IdMapper(range(n_users) if user_ids is None else user_ids, what="user_ids")
    items = IdMapper(range(n_items) if item_ids is None else item_ids, what="item_ids")
    for axis, mapper, size in (("user", users, n_users), ("item", items, n_items)):
        if len(mapper) != size:
            raise DataError(
                f"The matrix has {size} {'rows' if axis == 'user' else 'columns'} but "
                f"{len(mapper)} {axis} IDs were given; give one ID per "
                f"{'row' if axis == 'user' else 'column'}."
            )
    rows = coo.row.astype(np.int64)
    cols = coo.col.astype(np.int64)
    data = np.asarray(coo.data, dtype=np.float64)
    rows_read = int(data.size)
    dropped: dict[str, int] = {}
    zero = data == 0
    if zero.any():
        dropped["explicit_zero"] = int(zero.sum())
    bad = ~np.isfinite(data) | (data < 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        if on_bad_rows == "raise":
            raise DataError(
                f"matrix entry (row {int(rows[k])}, column {int(cols[k])}): weight "
                f"{float(data[k])!r} is {'negative' if data[k] < 0 else 'not finite'}; "
                "weights must be finite and > 0. Fix the matrix, or pass "
                "on_bad_rows='skip' to drop such entries (counted in summary().dropped)."
            )
        for reason, mask in (
            ("nonfinite_weight", ~np.isfinite(data)),
            ("negative_weight", data < 0),
        ):
            if mask.any():
                dropped[reason] = int(mask.sum())
    keep = ~(zero | bad)
    if not keep.all():
        rows, cols, data = rows[keep], cols[keep], data[keep]
    collected = Collected(
        users.ids, items.ids, rows, cols, data, None, rows_read, dropped, "scipy matrix"
    )
    if data.size == 0:
        return {
            "users": users,
            "items": items,
            "matrix": sp.csr_matrix((n_users, n_items), dtype=np.float32),
            "rows_read": rows_read,
            "duplicates_merged": 0,
            "dropped": dropped,
            "aggregate": "sum",
            "source": "scipy matrix",
        }
    return assemble(collected, aggregate="sum", min_user=1, min_item=1, compact=False)


def refuse_table(matrix: object) -> None:
    """Refuse a data frame (pandas, polars, a pyarrow Table) given as a matrix, with
    :class:`~alsrec.ConfigError`: read as a 2-d array it would lose its labels, and the
    rows and columns would silently become the IDs ``0..n-1``.

    Examples
    --------
    >>> import pandas as pd
    >>> refuse_table(pd.DataFrame([[1, 0]], index=["ann"], columns=["x", "y"]))
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: from_scipy got a pandas DataFrame, whose ...
    """
    if sp.issparse(matrix) or isinstance(matrix, np.ndarray) or not hasattr(matrix, "columns"):
        return
    kind = f"{library_of(matrix)} {type(matrix).__name__}"
    ids = (
        "user_ids=df.index, item_ids=df.columns"
        if hasattr(matrix, "index")  # pandas: the users are the index
        else "user_ids=<one user ID per row>, item_ids=<one item ID per column>"
    )
    raise ConfigError(
        f"from_scipy got a {kind}, whose row and column labels would be lost: its rows "
        "and columns would become the IDs 0..n-1. For a users x items table of weights "
        "(a pivot), pass Interactions.from_scipy(scipy.sparse.csr_matrix(df.to_numpy()), "
        f"{ids}); for one row per interaction (the long form, e.g. from df.stack()), use "
        "Interactions.from_frame(df, user=..., item=..., weight=...)."
    )


def read_indices(
    users: IdMapper,
    items: IdMapper,
    rows: IndexArray,
    cols: IndexArray,
    weights: FloatArray,
) -> dict[str, Any]:
    """Build the matrix of already-mapped row and column indices, summing duplicates
    (:meth:`Interactions.from_indices`); an index outside its mapper is a ``DataError``."""
    rows = np.asarray(rows)
    cols = np.asarray(cols)
    for name, idx, size in (("rows", rows, len(users)), ("cols", cols, len(items))):
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= size):
            raise DataError(
                f"{name} holds indices outside 0..{size - 1} (min {int(idx.min())}, "
                f"max {int(idx.max())}); they must index the given mapper."
            )
    coo = sp.coo_matrix(
        (np.asarray(weights).astype(np.float32), (rows, cols)),
        shape=(len(users), len(items)),
    )
    matrix = coo.tocsr()
    matrix.sum_duplicates()
    matrix.sort_indices()
    return {
        "users": users,
        "items": items,
        "matrix": matrix,
        "rows_read": int(rows.size),
        "duplicates_merged": int(rows.size - matrix.nnz),
    }
