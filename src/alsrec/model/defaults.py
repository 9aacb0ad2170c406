"""Data-aware default hyperparameters: what ``regularization="auto"`` resolves to.

:meth:`alsrec.Recommender.fit` (every backend, Spark included) resolves ``"auto"`` once,
before training, with :func:`resolve_params`; the fitted model then holds the concrete
value and records that it came from ``"auto"`` (:attr:`alsrec.model.Provenance.auto_params`,
the artifact manifest, ``inspect``).

The rule (:func:`regularization_from_masses`): with the confidences ``c = 1 + alpha * f(w)``
of the observed pairs (``f`` = the weighting scheme), their row sums ``d_u``, column sums
``d_i`` and total ``D``,

    lambda = 0.8 * (sqrt(sum_u d_u**2 / D) + sqrt(sum_i d_i**2 / D))

``sum d**2 / D`` is the mean mass of a row taken over interactions rather than over rows
(it grows with popularity skew and heavy weights), and ``sqrt(.) + sqrt(.)`` is the order
of the largest singular values that a sparse matrix with those row and column masses has by
chance alone. ALS with the penalty ``lambda`` on both sides shrinks every component by
about ``lambda`` (with ``alpha = 0`` it is exactly a soft-thresholded SVD), so a ``lambda``
of that order removes the noise components and keeps the signal. Far above it every
component is removed and the model ranks by popularity, so over-shooting costs more than
under-shooting; the factor 0.8 was fitted on six datasets and checked on five more (see the
"Default hyperparameters" guide and ``benchmarks/scripts/defaults_experiment.py``). The
cost is one pass over the stored entries; there is no search inside ``fit``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from alsrec._penalty import reference_scale
from alsrec.data.weighting import confidence
from alsrec.exceptions import DataError

if TYPE_CHECKING:
    import numpy.typing as npt

    from alsrec.params import ALSParams

__all__ = [
    "AUTO_SCALE",
    "auto_regularization",
    "params_confidence",
    "regularization_from_masses",
    "resolve_params",
]

AUTO_SCALE = 0.8
"""``regularization="auto"`` is this multiple of the noise scale of the confidences."""


def regularization_from_masses(
    row_masses: npt.ArrayLike, column_masses: npt.ArrayLike, *, scale: float = AUTO_SCALE
) -> float:
    """The data-aware regularization from the confidence mass of each row and column.

    ``scale * (sqrt(sum d_u**2 / D) + sqrt(sum d_i**2 / D))`` with ``d_u`` the
    ``row_masses``, ``d_i`` the ``column_masses`` and ``D`` their common total; see the
    module documentation for why. This is the one implementation of the rule;
    :func:`auto_regularization` (a confidence matrix) and the Spark backend (masses
    aggregated on the cluster) both call it.

    Parameters
    ----------
    row_masses, column_masses : array_like of float
        ``d_u = sum_i c_ui`` per user and ``d_i = sum_u c_ui`` per item, over the
        observed pairs, with ``c = 1 + alpha * f(w)``. Both sum to ``D``.
    scale : float, default AUTO_SCALE
        The multiple of the noise scale (0.8).

    Returns
    -------
    float
        The regularization, > 0.

    Raises
    ------
    DataError
        The masses are empty, negative, not finite, or sum to zero.

    Examples
    --------
    >>> rows, cols = [3.0, 1.0], [2.0, 2.0]  # D = 4
    >>> round(regularization_from_masses(rows, cols), 4)  # 0.8 * (sqrt(10/4) + sqrt(8/4))
    2.3963
    """
    rows = np.asarray(row_masses, dtype=np.float64).ravel()
    cols = np.asarray(column_masses, dtype=np.float64).ravel()
    total = float(rows.sum())
    if (
        not (math.isfinite(total) and total > 0)
        or not np.isfinite(cols).all()
        or rows.min() < 0
        or cols.min() < 0
    ):
        raise DataError(
            "regularization='auto' needs interactions with positive, finite confidence; "
            f"got a total confidence of {total!r}. Pass a number for regularization."
        )
    return scale * (math.sqrt(float(rows @ rows) / total) + math.sqrt(float(cols @ cols) / total))


def auto_regularization(
    confidence_matrix: sp.spmatrix | sp.sparray, *, scale: float = AUTO_SCALE
) -> float:
    """The data-aware regularization of a confidence matrix (``regularization="auto"``).

    Parameters
    ----------
    confidence_matrix : scipy sparse matrix, users x items
        The confidences ``c = 1 + alpha * f(w)`` of the observed pairs, as
        :func:`alsrec.weighting.confidence` (or :func:`params_confidence`) returns them.
    scale : float, default AUTO_SCALE
        The multiple of the noise scale (0.8).

    Returns
    -------
    float
        :func:`regularization_from_masses` of the matrix's row and column sums.

    Raises
    ------
    DataError
        The matrix has no stored entry.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from alsrec.weighting import confidence
    >>> w = sp.csr_matrix(np.ones((4, 3)))  # c = 2 everywhere: d_u = 6, d_i = 8
    >>> round(auto_regularization(confidence(w, alpha=1.0)), 4)  # 0.8 * (sqrt(6) + sqrt(8))
    4.2223
    """
    matrix = sp.csr_matrix(confidence_matrix, dtype=np.float64)
    if matrix.nnz == 0:
        raise DataError(
            "regularization='auto' needs training interactions; the matrix has none. "
            "Pass a number for regularization."
        )
    rows = np.asarray(matrix.sum(axis=1)).ravel()
    cols = np.asarray(matrix.sum(axis=0)).ravel()
    return regularization_from_masses(rows, cols, scale=scale)


def params_confidence(matrix: sp.spmatrix | sp.sparray, params: ALSParams) -> sp.csr_matrix:
    """The confidence matrix that ``params`` (alpha, weighting) give the raw ``matrix``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from alsrec import ALSParams
    >>> w = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 3.0]]))
    >>> params_confidence(w, ALSParams(alpha=2.0)).toarray().tolist()
    [[3.0, 0.0], [0.0, 7.0]]
    """
    return confidence(
        sp.csr_matrix(matrix), params.alpha, params.weighting, **params.weighting_options()
    )


def resolve_params(
    params: ALSParams, confidence_matrix: sp.spmatrix | sp.sparray
) -> tuple[ALSParams, tuple[str, ...]]:
    """``params`` with every ``"auto"`` value made concrete, and the names resolved.

    Parameters
    ----------
    params : ALSParams
        The hyperparameters, possibly with ``regularization="auto"``.
    confidence_matrix : scipy sparse matrix
        The training confidences under ``params`` (see :func:`params_confidence`).

    Returns
    -------
    (ALSParams, tuple of str)
        Concrete parameters (``params`` itself when nothing was ``"auto"``) and the
        names of the hyperparameters that were resolved (``()``,
        ``("regularization",)``, and ``"regularization_reference"`` too when
        ``regularization_exponent > 0``: the mean row scale of
        :mod:`alsrec._penalty`; it stays ``"auto"`` while the exponent is 0, where it
        has no effect).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from alsrec import ALSParams
    >>> conf = params_confidence(sp.csr_matrix(np.ones((4, 3))), ALSParams())
    >>> resolved, names = resolve_params(ALSParams(), conf)
    >>> round(resolved.regularization, 4), names
    (4.2223, ('regularization',))
    >>> resolve_params(ALSParams(regularization=0.5), conf)[1]
    ()
    """
    if params.is_resolved:
        return params, ()
    names: list[str] = []
    if isinstance(params.regularization, str):
        value = auto_regularization(confidence_matrix)
        params = dataclasses.replace(params, regularization=value)
        names.append("regularization")
    if params.scaled_regularization and isinstance(params.regularization_reference, str):
        matrix = sp.csr_matrix(confidence_matrix)
        reference = reference_scale(matrix, params.regularization_scale)
        params = dataclasses.replace(params, regularization_reference=reference)
        names.append("regularization_reference")
    return params, tuple(names)
