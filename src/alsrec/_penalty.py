"""Frequency-scaled regularization: the L2 penalty of each row (private).

With ``regularization_exponent`` ``nu > 0`` (:class:`~alsrec.ALSParams`) row ``u`` of either
side (a user, or an item when the items are solved) is penalized with

    lambda_u = regularization * (s_u / s_ref) ** nu

where ``s_u`` is the row's scale and ``s_ref`` the reference scale:

* ``regularization_scale="confidence"``: ``s_u = sum_j c_uj`` over *every* column ``j`` of
  the other side, unobserved pairs counting ``c = 1``, so ``s_u = columns + sum over the
  observed pairs of (c_uj - 1)``; for binary data and ``c = 1 + alpha`` this is
  ``alpha (|I_u| + |I| / alpha)``, the paper's ``|I_u| + alpha0 |I|`` with
  ``alpha0 = 1 / alpha`` up to the constant factor ``alpha``;
* ``regularization_scale="count"``: ``s_u`` = the row's number of observed pairs (ALS-WR,
  what Spark trains).

``s_ref`` (``regularization_reference="auto"``) is the mean ``s_u`` over every user row and
every item row that has at least one observed pair. Then, at ``nu = 1``, the penalties of
all solved rows add up to ``regularization`` times their number, as with the constant
penalty, which keeps the best ``regularization`` in the same range for every ``nu``. For
``"count"`` it is ``2 nnz / (users with data + items with data)``, the mean Spark's
``regParam`` mapping divides by (:func:`alsrec.spark.spark_reg_param`).

This module is the one definition: the numpy backend trains with it, fold-in, ``explain``
and ``updated`` solve with it, and ``regularization_reference="auto"`` is resolved by it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from alsrec.exceptions import DataError

if TYPE_CHECKING:
    import numpy.typing as npt

    from alsrec.params import ALSParams, RegularizationScale

__all__ = [
    "als_wr_share",
    "matrix_wr_share",
    "reference_scale",
    "row_penalties",
    "row_scales",
    "side_penalties",
]


def row_scales(
    matrix: sp.csr_matrix, scale: RegularizationScale, *, columns: int | None = None
) -> npt.NDArray[np.float64]:
    """``s_u`` of every row of a confidence matrix (rows x columns of the other side).

    ``columns`` (default: the matrix's) is the number of columns of the other side; the
    ``"confidence"`` scale counts each unobserved one with confidence 1.
    """
    csr = sp.csr_matrix(matrix)
    counts: npt.NDArray[np.float64] = np.diff(csr.indptr).astype(np.float64)
    if scale == "count":
        return counts
    n_cols = csr.shape[1] if columns is None else columns
    rows = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
    extra = np.bincount(
        rows, weights=csr.data.astype(np.float64) - 1.0, minlength=csr.shape[0]
    ).astype(np.float64)
    return float(n_cols) + extra


def _column_scales(matrix: sp.csr_matrix, scale: RegularizationScale) -> npt.NDArray[np.float64]:
    """``s_i`` of every column, without transposing the matrix."""
    csr = sp.csr_matrix(matrix)
    n_cols = csr.shape[1]
    counts = np.bincount(csr.indices, minlength=n_cols).astype(np.float64)
    if scale == "count":
        return counts
    extra = np.bincount(csr.indices, weights=csr.data.astype(np.float64) - 1.0, minlength=n_cols)
    return float(csr.shape[0]) + extra.astype(np.float64)


def als_wr_share(
    user_counts: npt.ArrayLike, item_counts: npt.ArrayLike, reference: float | None = None
) -> float:
    """The share of a constant-penalty ``regularization="auto"`` that ALS-WR takes.

    The data-aware rule sizes ``lambda`` for a penalty that is the same on every row
    (:mod:`alsrec.model.defaults`), at the noise scale that the rows with the most
    interactions set (their count-weighted mean count ``n_w = sum n**2 / sum n`` on each
    side). ALS-WR (Spark, and ``regularization_scale="count"`` with exponent 1) penalizes
    a row with ``lambda * n / s_ref`` (``s_ref`` the mean count over user and item rows),
    so those rows would get ``n_w / s_ref`` times the penalty the rule meant; Spark models
    of the defaults experiment lost up to three quarters of their NDCG@10 that way.
    ``"auto"`` under that penalty is the rule's value times ``s_ref / sqrt(n_w(users) *
    n_w(items))``: at most 1 with the default ``s_ref`` (1 with equal counts everywhere),
    0.1-0.7 on the datasets of the "Default hyperparameters" guide. With an exponent
    ``nu`` the share is raised to it.

    Parameters
    ----------
    user_counts, item_counts : array_like of int
        The number of distinct interactions of each user and of each item.
    reference : float, optional
        ``s_ref``; by default the mean count over the user and item rows.

    Examples
    --------
    >>> als_wr_share([2, 2], [2, 2])  # every row the same count: the rule's own value
    1.0
    >>> round(als_wr_share([9, 1, 1, 1], [3, 3, 3, 3]), 3)  # one heavy user
    0.655
    """
    users = np.asarray(user_counts, dtype=np.float64).ravel()
    items = np.asarray(item_counts, dtype=np.float64).ravel()
    total = float(users.sum())
    if not total > 0 or users.size + items.size == 0:
        raise DataError("Cannot size an ALS-WR regularization: there are no interactions.")
    if reference is None:
        reference = 2.0 * total / (users.size + items.size)
    weighted = math.sqrt(float(users @ users) / total * float(items @ items) / total)
    return reference / weighted


def matrix_wr_share(matrix: sp.csr_matrix, reference: float | None = None) -> float:
    """:func:`als_wr_share` of a matrix's stored pairs (the ``"count"`` row and column
    scales).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> matrix_wr_share(sp.csr_matrix(np.ones((2, 2))))
    1.0
    """
    csr = sp.csr_matrix(matrix)
    return als_wr_share(row_scales(csr, "count"), _column_scales(csr, "count"), reference)


def reference_scale(matrix: sp.csr_matrix, scale: RegularizationScale) -> float:
    """The mean ``s`` over the rows and columns with observed pairs (``"auto"``).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> conf = sp.csr_matrix(np.array([[3.0, 0.0, 2.0], [0.0, 0.0, 2.0]]))
    >>> reference_scale(conf, "count")  # 2 * 3 pairs / (2 users + 2 items)
    1.5
    >>> reference_scale(conf, "confidence")  # users 3 + 3, 3 + 1; items 2 + 2, 2 + 2
    4.5
    """
    csr = sp.csr_matrix(matrix)
    if csr.nnz == 0:
        raise DataError(
            "regularization_reference='auto' needs training interactions; the matrix has "
            "none. Pass a number for regularization_reference."
        )
    rows = np.diff(csr.indptr) > 0
    cols = np.bincount(csr.indices, minlength=csr.shape[1]) > 0
    total = float(row_scales(csr, scale)[rows].sum()) + float(
        _column_scales(csr, scale)[cols].sum()
    )
    value = total / float(rows.sum() + cols.sum())
    if not (np.isfinite(value) and value > 0):
        raise DataError(
            f"regularization_reference='auto' came out as {value!r} (confidences must be "
            "finite); pass a number for regularization_reference."
        )
    return value


def row_penalties(
    scales: npt.ArrayLike, regularization: float, exponent: float, reference: float
) -> npt.NDArray[np.float64]:
    """``regularization * (s / reference) ** exponent`` for each scale ``s``.

    Examples
    --------
    >>> row_penalties([1.0, 4.0, 9.0], 2.0, 0.5, 4.0).tolist()
    [1.0, 2.0, 3.0]
    """
    s = np.asarray(scales, dtype=np.float64)
    with np.errstate(over="ignore"):  # inf: training names it (diverged), fold-in falls back
        out: npt.NDArray[np.float64] = regularization * np.power(s / reference, exponent)
    return out


def side_penalties(
    matrix: sp.csr_matrix, params: ALSParams
) -> tuple[float | npt.NDArray[np.float64], float | npt.NDArray[np.float64]]:
    """The penalties of the user rows and of the item rows of a training matrix.

    Two floats (``regularization`` itself) while ``regularization_exponent`` is 0: the
    constant penalty, on the solvers' constant fast path. Otherwise one ``float64``
    array per side.
    """
    reg = params.regularization_value
    if not params.scaled_regularization:
        return reg, reg
    exponent = params.regularization_exponent
    reference = params.regularization_reference_value
    scale = params.regularization_scale
    return (
        row_penalties(row_scales(matrix, scale), reg, exponent, reference),
        row_penalties(_column_scales(matrix, scale), reg, exponent, reference),
    )
