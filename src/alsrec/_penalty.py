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

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from alsrec.exceptions import DataError

if TYPE_CHECKING:
    import numpy.typing as npt

    from alsrec.params import ALSParams, RegularizationScale

__all__ = ["reference_scale", "row_penalties", "row_scales", "side_penalties"]


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
