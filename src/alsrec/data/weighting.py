"""Turning interaction weights into ALS confidence values.

Implicit-feedback ALS (Hu, Koren and Volinsky, 2008) gives every observed pair a
preference of 1 and a *confidence* ``c > 1`` that says how sure we are of it; every
unobserved pair keeps confidence 1 and preference 0. A *weighting scheme* decides how a
raw weight ``w`` (a count, a duration, a rating) becomes ``c``. Every scheme here returns
``c = 1 + alpha * f(w)`` on the stored entries only, with ``f(w) > 0`` for ``w > 0``.

``"linear"`` (default): ``f(w) = w``
    Hu et al.'s rule. Use it when weights are already on a sensible scale: binary
    events, a handful of purchases, ratings. With large raw counts it lets one heavy
    user or one hit item dominate the loss.
``"log"``: ``f(w) = log(1 + w / eps)``
    The paper's second rule. Use it for heavy-tailed counts (plays, clicks, seconds
    watched): 1,000 plays count about three times as much as 10, not 100 times. ``eps``
    (option ``eps``, default 1.0) is the scale where counts start to matter: weights well
    below ``eps`` are nearly linear, weights well above are compressed.
``"bm25"``: Okapi BM25, with users as documents and items as terms
    ``f(w) = idf(i) * w * (k1 + 1) / (w + k1 * (1 - b + b * len(u) / avglen))`` where
    ``len(u)`` is the user's total weight, ``avglen`` its mean over users with data,
    and ``idf(i) = log(1 + (n_users - n_i + 0.5) / (n_i + 0.5))`` with ``n_i`` the number
    of users of item ``i``. Use it for play/click counts with strong popularity skew: it
    saturates repeated interactions (``k1``: small = saturate early, e.g. 1.2; large
    = nearly linear, e.g. 100 for raw play counts), discounts very active users
    (``b`` in [0, 1], 0 = no length normalization) and down-weights items everyone has.
``"tfidf"``: ``f(w) = w * idf(i)``, ``idf(i) = log((1 + n_users) / (1 + n_i)) + 1``
    Use it when popular items should count less but counts should stay linear (no
    saturation, no per-user normalization): a simpler, milder cousin of ``"bm25"``.

``bm25`` and ``tfidf`` read corpus statistics (users per item, user totals) from the
matrix they are given, so apply them to the whole training matrix, not to one row.
"""

from __future__ import annotations

import math
from typing import Literal, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from alsrec.exceptions import ConfigError, DataError

__all__ = ["SCHEME_OPTIONS", "Weighting", "confidence", "weigh"]

Weighting = Literal["linear", "log", "bm25", "tfidf"]
"""The names of the weighting schemes."""

SCHEME_OPTIONS: dict[str, dict[str, float]] = {
    "linear": {},
    "log": {"eps": 1.0},
    "bm25": {"k1": 1.2, "b": 0.75},
    "tfidf": {},
}
"""Each scheme's options and their defaults."""


def _check_options(scheme: str, options: dict[str, float]) -> dict[str, float]:
    if scheme not in SCHEME_OPTIONS:
        raise ConfigError(
            f"Unknown weighting scheme {scheme!r}; choose one of {sorted(SCHEME_OPTIONS)}."
        )
    allowed = SCHEME_OPTIONS[scheme]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(
            f"Weighting {scheme!r} takes the options {sorted(allowed) or 'none'}; "
            f"got unknown {unknown}."
        )
    out = dict(allowed)
    for name, value in options.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ConfigError(f"Weighting option {name} must be a number, got {value!r}.")
        number = float(value)
        if not math.isfinite(number):
            raise ConfigError(f"Weighting option {name} must be finite, got {value!r}.")
        out[name] = number
    if scheme == "log" and not out["eps"] > 0:
        raise ConfigError(f"Weighting option eps must be > 0, got {out['eps']!r}.")
    if scheme == "bm25":
        if out["k1"] < 0:
            raise ConfigError(f"Weighting option k1 must be >= 0, got {out['k1']!r}.")
        if not 0 <= out["b"] <= 1:
            raise ConfigError(f"Weighting option b must be in [0, 1], got {out['b']!r}.")
    return out


def weigh(
    matrix: sp.csr_matrix,
    scheme: str = "linear",
    *,
    reference: sp.spmatrix | sp.sparray | None = None,
    **options: float,
) -> sp.csr_matrix:
    """Return ``f(w)`` of a weight matrix under a scheme (before ``1 + alpha * ...``).

    Parameters
    ----------
    matrix : scipy.sparse matrix
        Non-negative interaction weights, users x items.
    scheme : {"linear", "log", "bm25", "tfidf"}
        See the module documentation.
    reference : scipy.sparse matrix, optional
        Where ``"bm25"`` and ``"tfidf"`` take their corpus statistics (number of users,
        users per item, mean user total); default: ``matrix`` itself. Fold-in passes the
        training matrix, so that a few history rows are weighted exactly as those rows
        were in training. Each row's own total is always its ``len(u)``.
    **options : float
        ``eps`` for ``"log"``; ``k1`` and ``b`` for ``"bm25"``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> w = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 3.0]], dtype=np.float32))
    >>> weigh(w, "log").data.round(3).tolist()
    [0.693, 1.386]
    """
    opts = _check_options(scheme, dict(options))
    out = sp.csr_matrix(_weights_of(matrix), dtype=np.float64, copy=True)
    out.sum_duplicates()
    w = out.data
    _check_weights(w)
    n_rows, n_items = out.shape
    if scheme == "log":
        out.data = np.log1p(w / opts["eps"])
    elif scheme in ("bm25", "tfidf"):
        ref = out if reference is None else sp.csr_matrix(reference, dtype=np.float64)
        if ref.shape[1] != n_items:
            raise ConfigError(
                f"reference has {ref.shape[1]} items (columns) but the matrix has {n_items}."
            )
        ref.sum_duplicates()
        n_users = ref.shape[0]
        users_per_item = np.bincount(ref.indices[ref.data > 0], minlength=n_items).astype(
            np.float64
        )
        item = out.indices
        if scheme == "tfidf":
            idf = np.log((1.0 + n_users) / (1.0 + users_per_item)) + 1.0
            out.data = w * idf[item]
        else:
            idf = np.log1p((n_users - users_per_item + 0.5) / (users_per_item + 0.5))
            row = np.repeat(np.arange(n_rows), np.diff(out.indptr))
            lengths = np.bincount(row, weights=w, minlength=n_rows)
            ref_lengths = np.asarray(ref.sum(axis=1)).ravel()
            active = ref_lengths > 0
            avg = float(ref_lengths[active].mean()) if active.any() else 1.0
            k1, b = opts["k1"], opts["b"]
            norm = k1 * (1.0 - b + b * lengths[row] / avg)
            with np.errstate(invalid="ignore", divide="ignore"):
                tf = np.where(w > 0, w * (k1 + 1.0) / (w + norm), 0.0)
            out.data = tf * idf[item]
    return cast("sp.csr_matrix", out)


def confidence(
    matrix: sp.csr_matrix,
    alpha: float,
    scheme: str = "linear",
    *,
    reference: sp.spmatrix | sp.sparray | None = None,
    **options: float,
) -> sp.csr_matrix:
    """Return the confidence matrix ``c = 1 + alpha * f(w)`` of a weight matrix.

    Only stored (observed) entries are transformed; every other pair keeps the implicit
    confidence 1 and preference 0 (Hu, Koren and Volinsky, 2008). ``f`` is the weighting
    scheme (see the module documentation for when to use which).

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix
        Non-negative interaction weights, users x items.
    alpha : float
        Confidence slope, >= 0.
    scheme : {"linear", "log", "bm25", "tfidf"}, default "linear"
        How a weight becomes ``f(w)``.
    reference : scipy.sparse matrix, optional
        Corpus statistics for ``"bm25"`` / ``"tfidf"`` (see :func:`weigh`); default: the
        matrix itself.
    **options : float
        ``eps`` (``"log"``, default 1.0); ``k1`` (default 1.2) and ``b`` (default 0.75)
        (``"bm25"``).

    Raises
    ------
    ConfigError
        A negative ``alpha``, an unknown scheme or option, or an option out of range.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> w = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 3.0]], dtype=np.float32))
    >>> confidence(w, alpha=2.0).toarray().tolist()
    [[3.0, 0.0], [0.0, 7.0]]
    >>> confidence(w, 2.0, "log", eps=1.0).data.round(3).tolist()
    [2.386, 3.773]
    """
    number = isinstance(alpha, (int, float, np.integer, np.floating))
    if not number or isinstance(alpha, bool) or not alpha >= 0 or not math.isfinite(alpha):
        raise ConfigError(f"alpha must be a finite number >= 0, got {alpha!r}.")
    if scheme == "linear" and not options:
        out = sp.csr_matrix(_weights_of(matrix), dtype=np.float32, copy=True)
        _check_weights(out.data)
        with np.errstate(over="ignore"):
            out.data = (1.0 + np.float32(alpha) * out.data).astype(np.float32)
    else:
        out = weigh(matrix, scheme, reference=reference, **options)
        with np.errstate(over="ignore"):
            out.data = (1.0 + alpha * out.data).astype(np.float32)
    if out.nnz and not np.isfinite(out.data).all():
        top = float(sp.csr_matrix(matrix).max())
        raise DataError(
            f"The confidence 1 + alpha * f(w) passes float32's range (about 3.4e38) for the "
            f"largest weight, {top:.4g}, at alpha={alpha:g}: rescale the weights, lower "
            "alpha, or use weighting='log'."
        )
    return out


def _weights_of(matrix: object) -> object:
    """``matrix`` if it is a sparse or dense 2-d array; :class:`ConfigError` otherwise
    (scipy would turn ``None`` into an empty 1 x 1 matrix)."""
    if sp.issparse(matrix) or (isinstance(matrix, np.ndarray) and matrix.ndim == 2):
        return matrix
    raise ConfigError(
        f"The weights must be a users x items scipy sparse matrix, got {type(matrix).__name__}."
    )


def _check_weights(w: npt.NDArray[np.floating]) -> None:
    if w.size and not (np.isfinite(w).all() and (w >= 0).all()):
        value = float(w[int(np.flatnonzero(~(np.isfinite(w) & (w >= 0)))[0])])
        overflow = (
            " (a weight, or an item's weights summed where it repeats, passed the float32 "
            "range of about 3.4e38: rescale them)"
            if value == math.inf
            else ""
        )
        raise DataError(
            f"Weights must be finite and >= 0 to turn into confidence; one is {value!r}{overflow}."
        )
