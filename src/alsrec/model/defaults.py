"""Data-aware default hyperparameters: what ``alpha="auto"`` and ``regularization="auto"``
resolve to.

:meth:`alsrec.Recommender.fit` (every backend, Spark included) resolves ``"auto"`` once,
before training, with :func:`resolve_params`; the fitted model then holds the concrete
values and records that they came from ``"auto"`` (:attr:`alsrec.model.Provenance.auto_params`,
the artifact manifest, ``inspect``).

This module holds the rule; the statistics of the data that it reads (the spectrum of the
observed pairs, the spread of their weights, item popularity) are measured by
:mod:`alsrec.model.statistics`.

``alpha`` comes first (:func:`auto_alpha`): ``0.03 / (density * mean f(w))`` within
[1, 100], so that the observed pairs' extra confidence is about 3% of the number of pairs
(the unobserved pairs' total); sparse data gets a larger slope, data with 3% or more of
the pairs observed keeps 1. The regularization is then computed from the confidences
under that ``alpha``.

The rule has two parts. The noise scale (:func:`regularization_from_masses`): with the
confidences ``c = 1 + alpha * f(w)`` of the observed pairs (``f`` = the weighting scheme),
their row sums ``d_u``, column sums ``d_i`` and total ``D``,

    edge = sqrt(sum_u d_u**2 / D) + sqrt(sum_i d_i**2 / D)

``sum d**2 / D`` is the mean mass of a row taken over interactions rather than over rows
(it grows with popularity skew and heavy weights), and ``sqrt(.) + sqrt(.)`` is the order
of the largest singular values that a sparse matrix with those row and column masses has by
chance alone. ALS with the penalty ``lambda`` on both sides shrinks every component by
about ``lambda`` (with ``alpha = 0`` it is exactly a soft-thresholded SVD), so a ``lambda``
of that order removes the noise components and keeps the signal. Far above it every
component is removed and the model ranks by popularity, so over-shooting costs more than
under-shooting.

The multiple of ``edge`` comes from :mod:`alsrec.model.noise_multiple`: ``7.17 * rho**1.08``
of the spectral ratio ``rho = s_70 / s_1`` of the observed pattern (:func:`spectral_scale`),
with its checks for flat spectra (:func:`flat_spectrum_scale`), flat item popularity
(:func:`popularity_scale`), weak personal signal (:func:`weak_signal_factor`), the
law's rise at a low confidence level (:func:`ratio_damping`) and the confidence level
(:func:`level_factor`); :func:`auto_multiple` measures the statistics and
puts them together. There is no search inside ``fit``, and the result is deterministic.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from alsrec._penalty import matrix_wr_share, reference_scale
from alsrec._threads import single_threaded_blas
from alsrec.data.weighting import confidence, weigh
from alsrec.exceptions import DataError
from alsrec.model.noise_multiple import AUTO_SCALE as AUTO_SCALE
from alsrec.model.noise_multiple import DAMPED_EXPONENT as DAMPED_EXPONENT
from alsrec.model.noise_multiple import DAMPED_GINI as DAMPED_GINI
from alsrec.model.noise_multiple import DAMPED_LEVEL as DAMPED_LEVEL
from alsrec.model.noise_multiple import DAMPED_RATIO as DAMPED_RATIO
from alsrec.model.noise_multiple import FLAT_POPULARITY as FLAT_POPULARITY
from alsrec.model.noise_multiple import FLAT_SCALE as FLAT_SCALE
from alsrec.model.noise_multiple import HEAVY_FLAT as HEAVY_FLAT
from alsrec.model.noise_multiple import LEVEL_EXPONENT as LEVEL_EXPONENT
from alsrec.model.noise_multiple import LEVEL_REFERENCE as LEVEL_REFERENCE
from alsrec.model.noise_multiple import SPECTRAL_EXCESS as SPECTRAL_EXCESS
from alsrec.model.noise_multiple import SPECTRAL_FITTED as SPECTRAL_FITTED
from alsrec.model.noise_multiple import SPECTRAL_FLAT as SPECTRAL_FLAT
from alsrec.model.noise_multiple import SPECTRAL_MANY as SPECTRAL_MANY
from alsrec.model.noise_multiple import WEAK_SCALE as WEAK_SCALE
from alsrec.model.noise_multiple import WEAK_SIGNAL as WEAK_SIGNAL
from alsrec.model.noise_multiple import flat_spectrum_scale as flat_spectrum_scale
from alsrec.model.noise_multiple import flat_spectrum_weight as flat_spectrum_weight
from alsrec.model.noise_multiple import level_factor as level_factor
from alsrec.model.noise_multiple import popularity_scale as popularity_scale
from alsrec.model.noise_multiple import ratio_damping as ratio_damping
from alsrec.model.noise_multiple import spectral_scale as spectral_scale
from alsrec.model.noise_multiple import weak_signal_factor as weak_signal_factor
from alsrec.model.statistics import (
    SPECTRAL_MIN_SIZE,
    PatternSpectrum,
    matrix_level,
    measure_spectrum,
    pattern_component_scale,
    popularity_gini,
    values_uniformity,
    weight_uniformity,
)

if TYPE_CHECKING:
    import numpy.typing as npt

    from alsrec.params import ALSParams

__all__ = [
    "ALPHA_RANGE",
    "ALPHA_SHARE",
    "AUTO_SCALE",
    "DAMPED_EXPONENT",
    "DAMPED_GINI",
    "DAMPED_LEVEL",
    "DAMPED_RATIO",
    "FLAT_POPULARITY",
    "FLAT_SCALE",
    "HEAVY_FLAT",
    "HEAVY_SHARE",
    "HEAVY_UNIFORMITY",
    "LEVEL_EXPONENT",
    "LEVEL_REFERENCE",
    "PLATEAU_SHARE",
    "SPECTRAL_EXCESS",
    "SPECTRAL_FITTED",
    "SPECTRAL_FLAT",
    "SPECTRAL_MANY",
    "WEAK_SCALE",
    "WEAK_SIGNAL",
    "WEIGHT_RANGE",
    "alpha_from_totals",
    "auto_alpha",
    "auto_multiple",
    "auto_regularization",
    "flat_spectrum_scale",
    "flat_spectrum_weight",
    "level_factor",
    "params_confidence",
    "popularity_scale",
    "ratio_damping",
    "regularization_from_masses",
    "resolve_params",
    "resolved_confidence",
    "spectral_scale",
    "weak_signal_factor",
    "weight_unit",
]

PLATEAU_SHARE = 0.5
"""The share of the :func:`component_scale` that ``regularization="auto"`` takes where the
spectrum is flat at chance level (:func:`flat_spectrum_scale`)."""
ALPHA_SHARE = 0.03
"""``alpha="auto"`` makes the observed pairs' extra confidence ``alpha * sum f(w)`` about
this share of the matrix's pairs (:func:`auto_alpha`)."""
ALPHA_RANGE = (1.0, 100.0)
"""The range ``alpha="auto"`` is kept in (the grid's range; 1 is the former default), for
weights whose mean ``f(w)`` lies in :data:`WEIGHT_RANGE`."""
WEIGHT_RANGE = (0.5, 10.0)
"""The mean ``f(w)`` of the data ``alpha="auto"`` was calibrated on (binary data 1, 1-5
ratings about 3.5, the heaviest counts of the defaults experiment 9.8). Weights whose mean
lies outside are first scaled to the nearer end (:func:`weight_unit`), so that a change of
unit (seconds to milliseconds) does not push the confidences far outside that range."""
HEAVY_UNIFORMITY = 0.25
"""The :func:`weight_uniformity` below which the weights count as heavy-tailed. On the 97
datasets of the defaults experiment: Pareto counts 0.003-0.017, log-normal counts
0.11-0.18; Poisson counts summed over repeats 0.38-0.79, 1-5 ratings 0.82-0.92, binary
data 1. 0.25 is about the geometric middle of the gap."""
HEAVY_SHARE = 0.2
"""The share of the :func:`component_scale` that ``regularization="auto"`` takes on flat data
with heavy-tailed weights, where ``alpha="auto"`` moves to the top of :data:`ALPHA_RANGE`
(see :func:`flat_spectrum_weight`)."""


def regularization_from_masses(
    row_masses: npt.ArrayLike, column_masses: npt.ArrayLike, *, scale: float = AUTO_SCALE
) -> float:
    """The data-aware regularization from the confidence mass of each row and column.

    ``scale * (sqrt(sum d_u**2 / D) + sqrt(sum d_i**2 / D))`` with ``d_u`` the
    ``row_masses``, ``d_i`` the ``column_masses`` and ``D`` their common total; see the
    module documentation for why. This is the one implementation of the rule;
    :func:`auto_regularization` (a confidence matrix) and ``fit_spark`` with
    ``keep_seen=False`` (masses aggregated on the cluster) both call it.

    Parameters
    ----------
    row_masses, column_masses : array_like of float
        ``d_u = sum_i c_ui`` per user and ``d_i = sum_u c_ui`` per item, over the
        observed pairs, with ``c = 1 + alpha * f(w)``. Both sum to ``D``.
    scale : float, default AUTO_SCALE
        The multiple of the noise scale: 0.8, or :func:`spectral_scale` of the
        data's :func:`spectral_ratio` (what :func:`auto_regularization` passes).

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


def auto_alpha(matrix: sp.spmatrix | sp.sparray, params: ALSParams | None = None) -> float:
    """The data-aware confidence slope (``alpha="auto"``) of an interaction matrix.

    ``0.03 / (density * mean f(w))`` within [1, 100] (:data:`ALPHA_SHARE`,
    :data:`ALPHA_RANGE`), with ``density = nnz / (users * items)`` and ``f`` the weighting
    scheme of ``params`` applied to the observed weights: the observed pairs' extra
    confidence ``alpha * sum f(w)`` is then about 3% of the number of pairs, the mass of
    the unobserved ones. With a fixed ``alpha`` that share falls with the density, and
    on sparse data the zeros drown the observations: on the checks of the "Default
    hyperparameters" guide the best ``alpha`` was 1 on MovieLens-style data (3-6% of the
    pairs observed) and 10-30 on data with 0.1-0.5% observed. The constant was chosen
    on 30 datasets with a grid, then checked on 8 made afterwards.

    One exception: where the weights are heavy-tailed (:func:`weight_uniformity` of
    ``1 + f(w)`` below :data:`HEAVY_UNIFORMITY`) and the pattern's spectrum is flat at
    chance level, the value moves geometrically toward the top of :data:`ALPHA_RANGE` by
    the plateau's :func:`flat_spectrum_weight` (``alpha ** (1 - w) * 100 ** w``): on such
    data the grid's best sat at alpha 100 on 11 of 14 sets (see the "Default
    hyperparameters" guide).

    Parameters
    ----------
    matrix : scipy sparse matrix, users x items
        The raw weights of the observed pairs (before confidence).
    params : ALSParams, optional
        Where the weighting scheme and its options come from (default: linear).

    Returns
    -------
    float
        The slope, in [1, 100].

    Raises
    ------
    DataError
        The matrix has no stored entry, or its weights give no positive ``f(w)``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> auto_alpha(sp.csr_matrix(np.ones((4, 3))))  # every pair observed: the floor
    1.0
    >>> sparse = sp.random(2000, 1000, density=0.002, random_state=0, format="csr")
    >>> sparse.data[:] = 1.0  # 0.2% observed, binary: 0.03 / 0.002
    >>> round(auto_alpha(sparse), 1)
    15.0
    """
    return _auto_alpha(matrix, params)[0]


def _auto_alpha(
    matrix: sp.spmatrix | sp.sparray, params: ALSParams | None
) -> tuple[float, PatternSpectrum | None]:
    """:func:`auto_alpha`, and the spectrum of the pattern when it was measured
    (heavy-tailed weights), for the regularization to reuse."""
    weights = sp.csr_matrix(matrix, dtype=np.float64)
    if weights.nnz == 0:
        raise DataError(
            "alpha='auto' needs training interactions; the matrix has none. Pass a number "
            "for alpha."
        )
    name, options = (
        ("linear", {}) if params is None else (params.weighting, params.weighting_options())
    )
    # f(w) once, in double precision: read back from the float32 confidences 1 + f, the
    # sum would round to 0 for weights below about 6e-8 each
    weighted = weights if name == "linear" and not options else weigh(weights, name, **options)
    total = float(weighted.data.sum())
    alpha = alpha_from_totals(weights.shape[0], weights.shape[1], total, n_pairs=weighted.nnz)
    uniformity = values_uniformity(np.asarray(weighted.data, dtype=np.float64))
    if uniformity is None or uniformity >= HEAVY_UNIFORMITY:
        return alpha, None
    with single_threaded_blas():
        spectrum = measure_spectrum(weighted)  # reads only the pattern
        if spectrum is None or spectrum.ratio <= HEAVY_FLAT[0]:
            return alpha, spectrum
        weight = flat_spectrum_weight(spectrum.ratio, spectrum.excess(), heavy=True)
    top = ALPHA_RANGE[1]
    unit = weight_unit(total, weighted.nnz)  # the blend is in the rule's own range
    return unit * float(min((alpha / unit) ** (1 - weight) * top**weight, top)), spectrum


def weight_unit(weight_total: float, n_pairs: int) -> float:
    """The factor that brings the mean ``f(w)`` into :data:`WEIGHT_RANGE` (1 inside it).

    ``alpha="auto"`` applies its rule to the weights times this factor, then multiplies the
    slope by it: the confidences ``1 + alpha * f(w)`` are those of the scaled weights.

    Examples
    --------
    >>> weight_unit(350.0, 100), weight_unit(3500.0, 100)  # mean 3.5, mean 35 (a new unit)
    (1.0, 0.2857142857142857)
    """
    mean = weight_total / n_pairs
    low, high = WEIGHT_RANGE
    return min(max(mean, low), high) / mean


def alpha_from_totals(
    n_users: int, n_items: int, weight_total: float, *, n_pairs: int | None = None
) -> float:
    """:func:`auto_alpha` from totals: the one implementation of the rule.

    ``0.03 * n_users * n_items / weight_total`` within [1, 100], for weights whose mean
    ``f(w)`` is in :data:`WEIGHT_RANGE`; outside it the rule is applied to the weights
    scaled into that range (:func:`weight_unit`) and the slope scaled back, so the result
    is outside [1, 100] in proportion. The Spark backend calls it with totals summed on
    the cluster.

    Parameters
    ----------
    n_users, n_items : int
        The matrix's shape.
    weight_total : float
        ``sum f(w)`` over the observed pairs (the weighting scheme applied to the raw
        weights; the sum of the weights for ``"linear"``).
    n_pairs : int, optional
        The number of observed pairs, for the mean ``f(w)``; without it the weights are
        taken to be in :data:`WEIGHT_RANGE` (the rule before 2026-12-04).

    Raises
    ------
    DataError
        ``weight_total`` is not positive and finite.

    Examples
    --------
    >>> alpha_from_totals(1000, 500, 5000.0)  # 1% observed, weight 1 each: 0.03 / 0.01
    3.0
    """
    if not (math.isfinite(weight_total) and weight_total > 0):
        raise DataError(
            "alpha='auto' needs observed weights with a positive, finite sum after "
            f"weighting; got {weight_total!r}. Pass a number for alpha."
        )
    unit = 1.0 if n_pairs is None else weight_unit(weight_total, n_pairs)
    low, high = ALPHA_RANGE
    share = ALPHA_SHARE * float(n_users) * float(n_items) / (unit * weight_total)
    return unit * float(min(max(share, low), high))


def auto_regularization(
    confidence_matrix: sp.spmatrix | sp.sparray,
    *,
    scale: float | None = None,
    level: float | None = None,
) -> float:
    """The data-aware regularization of a confidence matrix (``regularization="auto"``).

    Parameters
    ----------
    confidence_matrix : scipy sparse matrix, users x items
        The confidences ``c = 1 + alpha * f(w)`` of the observed pairs, as
        :func:`alsrec.weighting.confidence` (or :func:`params_confidence`) returns them.
    scale : float, optional
        The multiple of the noise scale; by default :func:`auto_multiple`: the
        :func:`spectral_scale` of the matrix's :func:`spectral_ratio` (:data:`AUTO_SCALE`,
        0.8, on small data), or :data:`FLAT_SCALE` when item popularity is flat
        (:func:`popularity_scale`), times :func:`level_factor` of its
        :func:`confidence_level`, with the weak-signal, damping and flat-spectrum checks
        (see :func:`auto_multiple`). :func:`alsrec.tuning.search` passes the multiple of
        the data at its default point (``alsrec.tuning.space.home_multiple``), so
        that within one dataset its regularization ratio keeps the noise scale's own
        dependence on ``alpha``.
    level : float, optional
        The confidence level when ``scale`` is not given, for :func:`level_factor`,
        :func:`weak_signal_factor` and :func:`ratio_damping`; by default the matrix's own
        (:func:`matrix_level`).

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
    >>> big = confidence(sp.random(400, 300, density=0.05, random_state=1), alpha=1.0)
    >>> auto = auto_regularization(big)  # the multiple times the noise scale
    >>> round(auto / auto_regularization(big, scale=1.0), 3)  # 1.4 (flat) * 1.6 (weak signal)
    2.24

    (The level factor, 0.937 here, is undone on data with weak signal: see
    :func:`weak_signal_factor`.)
    """
    return _auto_regularization(confidence_matrix, scale=scale, level=level, spectrum=None)


def _auto_regularization(
    confidence_matrix: sp.spmatrix | sp.sparray,
    *,
    scale: float | None,
    level: float | None,
    spectrum: PatternSpectrum | None,
) -> float:
    """:func:`auto_regularization`, reusing the spectrum :func:`_auto_alpha` measured."""
    matrix = sp.csr_matrix(confidence_matrix, dtype=np.float64)
    if matrix.nnz == 0:
        raise DataError(
            "regularization='auto' needs training interactions; the matrix has none. "
            "Pass a number for regularization."
        )
    rows = np.asarray(matrix.sum(axis=1)).ravel()
    cols = np.asarray(matrix.sum(axis=0)).ravel()
    if scale is None:
        scale = _multiple(matrix, rows, cols, level, spectrum)
    return regularization_from_masses(rows, cols, scale=scale)


def auto_multiple(
    confidence_matrix: sp.spmatrix | sp.sparray, *, level: float | None = None
) -> float:
    """The multiple of the noise scale that ``regularization="auto"`` uses for a matrix.

    :func:`popularity_scale` of the :func:`spectral_scale` of its :func:`spectral_ratio`
    and of the :func:`popularity_gini` of its column sums (no popularity check with fewer
    than :data:`SPECTRAL_MIN_SIZE` users or items, like the spectral one), times the
    :func:`level_factor` of ``level`` (by default the matrix's own :func:`matrix_level`);
    then the :func:`flat_spectrum_scale` check, where the ratio is :data:`SPECTRAL_FLAT` or
    more and ``level`` is at least :data:`LEVEL_REFERENCE`: by its :func:`spectral_excess`,
    toward :data:`PLATEAU_SHARE` of its :func:`component_scale` (divided by the noise
    scale, so that the multiple times the noise scale gives that regularization); below
    that ratio instead, times the :func:`weak_signal_factor` of its
    :func:`~alsrec.model.statistics.signal_energy` and, unless the weights are
    heavy-tailed, the :func:`ratio_damping` of its ratio, ``level``, Gini coefficient and
    energy (which fades out where the weak-signal factor fades in).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> auto_multiple(sp.csr_matrix(np.full((4, 3), 2.0)))  # small: 0.8, level 2
    0.8
    >>> flat = sp.random(400, 300, density=0.05, random_state=1, format="csr")
    >>> flat.data[:] = 2.0  # binary at alpha 1: every item about equally popular
    >>> round(popularity_gini(np.asarray(flat.sum(axis=0))), 3), round(auto_multiple(flat), 3)
    (0.119, 2.24)

    (1.4 for flat popularity, times 1.6 from the weak-signal check: a random pattern holds
    no signal above chance.)
    """
    matrix = sp.csr_matrix(confidence_matrix, dtype=np.float64)
    rows = np.asarray(matrix.sum(axis=1)).ravel()
    return _multiple(matrix, rows, np.asarray(matrix.sum(axis=0)).ravel(), level)


def _multiple(
    matrix: sp.csr_matrix,
    row_masses: npt.NDArray[np.float64],
    column_masses: npt.NDArray[np.float64],
    level: float | None,
    spectrum: PatternSpectrum | None = None,
) -> float:
    """:func:`auto_multiple` of ``matrix`` given its row and column sums (computed once by
    the caller)."""
    # One scope for all of it: leaving and entering it between the SVDs kept BLAS's other
    # threads spinning, at twice the CPU time of the work itself.
    with single_threaded_blas():
        return _scoped_multiple(matrix, row_masses, column_masses, level, spectrum)


def _scoped_multiple(
    matrix: sp.csr_matrix,
    row_masses: npt.NDArray[np.float64],
    column_masses: npt.NDArray[np.float64],
    level: float | None,
    spectrum: PatternSpectrum | None,
) -> float:
    """:func:`_multiple` inside the BLAS scope."""
    if level is None:
        level = matrix_level(matrix)
    gini = popularity_gini(column_masses) if min(matrix.shape) >= SPECTRAL_MIN_SIZE else None
    if spectrum is None or not spectrum.measures(matrix):
        spectrum = measure_spectrum(matrix)  # none passed, or not this matrix's pattern
    ratio = None if spectrum is None else spectrum.ratio
    multiple = popularity_scale(spectral_scale(ratio), gini) * level_factor(level)
    # The excess reads only the pattern. Under heavy-tailed counts whose level is below
    # that of binary data at alpha 1 the weights, not the pattern, decide and the taper
    # stays, unless the weights are heavy-tailed enough for their own plateau
    # (HEAVY_SHARE, with alpha="auto" at the top of its range).
    uniformity = weight_uniformity(matrix)
    heavy = uniformity is not None and uniformity < HEAVY_UNIFORMITY
    # The excess is read only where the spectrum is flat (one more SVD, of the shuffled
    # pattern), and the component scale only where the excess is near chance (ARPACK).
    if spectrum is None or ratio is None:
        return multiple
    if ratio <= (HEAVY_FLAT[0] if heavy else SPECTRAL_FLAT):
        # not flat: the weak-signal check (the same shuffled pattern's SVD), and, as it
        # fades out, the damping of the law's rise at a low level
        energy = spectrum.signal_energy()
        weak = weak_signal_factor(energy, level)
        if heavy:
            return multiple * weak
        return multiple * weak * ratio_damping(ratio, level, gini, energy)
    if level < LEVEL_REFERENCE and not heavy:
        return multiple
    excess = spectrum.excess()
    if excess is None or excess >= SPECTRAL_EXCESS[1]:
        return multiple
    scale = pattern_component_scale(spectrum.pattern, float(matrix.data.mean()))
    if scale is None:
        return multiple
    noise = regularization_from_masses(row_masses, column_masses, scale=1.0)
    share = HEAVY_SHARE if heavy else PLATEAU_SHARE
    return flat_spectrum_scale(multiple, ratio, excess, share * scale / noise, heavy=heavy)


def params_confidence(matrix: sp.spmatrix | sp.sparray, params: ALSParams) -> sp.csr_matrix:
    """The confidence matrix that ``params`` (alpha, weighting) give the raw ``matrix``.

    ``params.alpha`` must be a number (see :func:`resolve_params` for ``"auto"``).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from alsrec import ALSParams
    >>> w = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 3.0]]))
    >>> params_confidence(w, ALSParams(alpha=2.0)).toarray().tolist()
    [[3.0, 0.0], [0.0, 7.0]]
    """
    return confidence(
        sp.csr_matrix(matrix), params.alpha_value, params.weighting, **params.weighting_options()
    )


def resolve_params(
    params: ALSParams, matrix: sp.spmatrix | sp.sparray
) -> tuple[ALSParams, tuple[str, ...]]:
    """``params`` with every ``"auto"`` value made concrete, and the names resolved.

    ``alpha`` first (:func:`auto_alpha`), then ``regularization``
    (:func:`auto_regularization` of the confidences under the resolved ``alpha``), then
    ``regularization_reference``.

    Parameters
    ----------
    params : ALSParams
        The hyperparameters, possibly with ``"auto"`` values.
    matrix : scipy sparse matrix, users x items
        The raw training weights (before confidence), as
        :attr:`alsrec.Interactions.matrix` holds them.

    Returns
    -------
    (ALSParams, tuple of str)
        Concrete parameters (``params`` itself when nothing was ``"auto"``) and the
        names of the hyperparameters that were resolved, in that order (``()``,
        ``("alpha", "regularization")`` for the defaults, and
        ``"regularization_reference"`` too when ``regularization_exponent > 0``: the mean
        row scale of :mod:`alsrec._penalty`; it stays ``"auto"`` while the exponent is 0,
        where it has no effect).

    Raises
    ------
    DataError
        A value is ``"auto"`` and the matrix has no interaction to derive it from.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from alsrec import ALSParams
    >>> weights = sp.csr_matrix(np.ones((4, 3)))
    >>> resolved, names = resolve_params(ALSParams(), weights)
    >>> resolved.alpha, round(resolved.regularization, 4), names
    (1.0, 4.2223, ('alpha', 'regularization'))
    >>> resolve_params(ALSParams(regularization=0.5, alpha=2.0), weights)[1]
    ()
    """
    resolved, names, _ = resolved_confidence(params, matrix)
    return resolved, names


def resolved_confidence(
    params: ALSParams, matrix: sp.spmatrix | sp.sparray
) -> tuple[ALSParams, tuple[str, ...], sp.csr_matrix]:
    """:func:`resolve_params` and the training confidences under the resolved values.

    What ``fit`` needs: the regularization rule reads the confidences, so they are
    computed once and returned instead of again by the caller.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from alsrec import ALSParams
    >>> params, names, conf = resolved_confidence(ALSParams(), sp.csr_matrix(np.ones((4, 3))))
    >>> names, conf.toarray()[0].tolist()
    (('alpha', 'regularization'), [2.0, 2.0, 2.0])
    """
    if params.is_resolved:
        return params, (), params_confidence(matrix, params)
    names: list[str] = []
    spectrum = None
    if isinstance(params.alpha, str):
        alpha, spectrum = _auto_alpha(matrix, params)
        params = dataclasses.replace(params, alpha=alpha)
        names.append("alpha")
    conf = params_confidence(matrix, params)
    if isinstance(params.regularization, str):
        value = _auto_regularization(conf, scale=None, level=None, spectrum=spectrum)
        params = dataclasses.replace(params, regularization=value)
        names.append("regularization")
    if params.scaled_regularization and isinstance(params.regularization_reference, str):
        reference = reference_scale(conf, params.regularization_scale)
        params = dataclasses.replace(params, regularization_reference=reference)
        names.append("regularization_reference")
    if "regularization" in names and params.scaled_regularization:
        params = _count_scaled(params, conf)
    return params, tuple(names), conf


def _count_scaled(params: ALSParams, conf: sp.csr_matrix) -> ALSParams:
    """``params`` whose regularization, resolved from ``"auto"`` for a constant penalty,
    is sized for the count-scaled one (``regularization_scale="count"``, ALS-WR at
    exponent 1): times :func:`~alsrec._penalty.als_wr_share` to the exponent. The
    ``"confidence"`` scale, nearly the same for every row of sparse data, keeps it."""
    if params.regularization_scale != "count":
        return params
    share = matrix_wr_share(conf, params.regularization_reference_value)
    value = params.regularization_value * share**params.regularization_exponent
    return dataclasses.replace(params, regularization=value)
