"""The implicit-ALS training objective, computed from factors.

Used for progress reporting (``alsrec train --progress``, ``Recommender.fit(progress=True)``,
:func:`loss_monitor`): the value after each sweep shows
whether training still improves. It is the objective of Hu, Koren and Volinsky (2008) with
the L2 penalty of the model's hyperparameters (constant, or frequency-scaled), divided by
the total confidence mass so that it reads as a weighted mean squared error and is
comparable across data sizes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from alsrec._penalty import side_penalties
from alsrec.exceptions import DataError
from alsrec.model.defaults import resolved_confidence
from alsrec.progress import ProgressBar

if TYPE_CHECKING:
    from collections.abc import Callable

    import scipy.sparse as sp

    from alsrec.backends import ProgressCallback
    from alsrec.interactions import Interactions
    from alsrec.params import ALSParams
    from alsrec.progress import ProgressOption
    from alsrec.types import FactorMatrix

__all__ = ["als_loss", "loss_monitor"]

_CHUNK = 1 << 20
"""Observed entries scored at once: bounds the temporary (chunk x factors) arrays."""


def als_loss(
    confidence: sp.csr_matrix,
    user_factors: npt.ArrayLike,
    item_factors: npt.ArrayLike,
    regularization: float | tuple[npt.ArrayLike, npt.ArrayLike],
) -> float:
    """Return the implicit-ALS objective per unit of confidence.

    With ``s_ui = x_u . y_i``, confidence ``c_ui`` (the stored value for an observed pair,
    1 otherwise) and preference ``p_ui`` (1 for an observed pair, 0 otherwise)::

        loss = ( sum_{u,i} c_ui (p_ui - s_ui)^2
                 + lambda (sum_u |x_u|^2 + sum_i |y_i|^2) ) / sum_{u,i} c_ui

    The sum over all ``U x I`` pairs is never formed: it is ``sum((XᵀX) * (YᵀY))`` (the
    squared scores of every pair at confidence 1) plus, over the observed entries only,
    ``c (1 - s)^2 - s^2``. Cost: ``O(nnz * f + (U + I) * f^2)``, computed in float64.

    Parameters
    ----------
    confidence : scipy.sparse.csr_matrix, shape (U, I)
        The confidence matrix the backend trains on (``1 + alpha * w`` on stored entries).
    user_factors, item_factors : array_like, shapes (>= U, f) and (>= I, f)
        Current factors; rows beyond the matrix shape are ignored.
    regularization : float or (array_like, array_like)
        The L2 penalty ``lambda``, or one penalty per user row and one per item row
        (frequency-scaled regularization, ``regularization_exponent > 0``): then the
        penalty term is ``sum_u lambda_u |x_u|^2 + sum_i lambda_i |y_i|^2``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> conf = sp.csr_matrix(np.array([[3.0, 0.0]], dtype=np.float32))
    >>> # One user, two items, x = [1], y = [[1], [0]]: the observed pair is predicted
    >>> # exactly (s = 1, p = 1), the other has s = 0 and p = 0, so only the penalty is
    >>> # left: 0.5 * (1 + 1 + 0) over a confidence mass of 3 + 1.
    >>> als_loss(conf, np.ones((1, 1)), np.array([[1.0], [0.0]]), 0.5)
    0.25
    """
    matrix = confidence.tocsr()
    n_users, n_items = matrix.shape
    users = np.asarray(user_factors, dtype=np.float64)[:n_users]
    items = np.asarray(item_factors, dtype=np.float64)[:n_items]
    if users.shape[0] != n_users or items.shape[0] != n_items or users.shape[1] != items.shape[1]:
        raise DataError(
            f"Factors of shapes {users.shape} and {items.shape} do not fit a confidence "
            f"matrix of shape {matrix.shape}."
        )
    total = float(np.sum((users.T @ users) * (items.T @ items)))
    rows = np.repeat(np.arange(n_users, dtype=np.int64), np.diff(matrix.indptr))
    cols = matrix.indices.astype(np.int64)
    conf = matrix.data.astype(np.float64)
    for start in range(0, matrix.nnz, _CHUNK):
        stop = start + _CHUNK
        s: npt.NDArray[np.float64] = np.einsum(
            "ij,ij->i", users[rows[start:stop]], items[cols[start:stop]]
        )
        c = conf[start:stop]
        total += float(np.sum(c * (1.0 - s) ** 2 - s * s))
    if isinstance(regularization, tuple):
        user_reg = np.asarray(regularization[0], dtype=np.float64)
        item_reg = np.asarray(regularization[1], dtype=np.float64)
        penalty = float(user_reg @ np.sum(users * users, axis=1)) + float(
            item_reg @ np.sum(items * items, axis=1)
        )
    else:
        penalty = regularization * (float(np.sum(users * users)) + float(np.sum(items * items)))
    mass = float(conf.sum()) + (n_users * n_items - matrix.nnz)
    return float((total + penalty) / mass)


def loss_monitor(
    data: Interactions,
    params: ALSParams,
    *,
    progress: ProgressOption = True,
    on_loss: Callable[[int, float], None] | None = None,
    callback: ProgressCallback | None = None,
) -> ProgressCallback:
    """A training callback that computes :func:`als_loss` after each sweep.

    It draws one bar step per sweep with the loss and the elapsed seconds (``progress``:
    ``True`` for stderr, a text stream, ``False`` for none), hands ``(iteration, loss)``
    to ``on_loss``, and calls ``callback`` (your own per-sweep callback) first.
    :meth:`alsrec.Recommender.fit` with ``progress=True`` uses it; pass it as ``callback=``
    to record the loss yourself.

    Parameters
    ----------
    data
        The interactions the model is trained on.
    params
        The model's hyperparameters (``alpha``, weighting and ``regularization`` give the
        confidence and penalty of the objective; ``iterations`` the bar's length).

    Examples
    --------
    >>> from alsrec import Interactions, Recommender
    >>> data = Interactions.from_arrays(["a", "a", "b"], ["x", "y", "x"])
    >>> rec = Recommender(factors=2, iterations=3, random_state=0)
    >>> losses = []
    >>> monitor = loss_monitor(data, rec.params, progress=False,
    ...                        on_loss=lambda i, loss: losses.append(loss))
    >>> _ = rec.fit(data, callback=monitor)
    >>> len(losses), losses[-1] <= losses[0]
    (3, True)
    """
    params, _, conf = resolved_confidence(params, data.matrix)  # "auto" as fit() resolves it
    user_reg, item_reg = side_penalties(conf, params)
    penalty: float | tuple[npt.ArrayLike, npt.ArrayLike] = (
        (user_reg, item_reg) if params.scaled_regularization else params.regularization_value
    )
    bar = ProgressBar("train", params.iterations, progress)
    start = time.perf_counter()

    def monitor(iteration: int, users: FactorMatrix, items: FactorMatrix) -> None:
        if callback is not None:
            callback(iteration, users, items)
        loss = als_loss(conf, users, items, penalty)
        bar.step(iteration, f"loss {loss:.6f}  {time.perf_counter() - start:6.1f} s")
        if on_loss is not None:
            on_loss(iteration, loss)

    return monitor
