"""The multiple of the noise scale that ``regularization="auto"`` takes: the spectral law
and its checks.

:func:`alsrec.model.defaults.regularization_from_masses` gives the noise scale ``edge`` of
the data's confidence masses; :func:`alsrec.model.defaults.auto_multiple` measures the
statistics below and puts the functions of this module together into the multiple of
``edge`` that the regularization takes (see :mod:`alsrec.model.defaults` for the whole
rule). These functions are pure: they take the statistics (measured by
:mod:`alsrec.model.statistics`), not the data.

The multiple of ``edge`` (:func:`spectral_scale`) depends on how the signal is spread
over components, which the masses cannot see: data whose signal sits in a few strong
components (planted clusters) wants up to twice the edge, data with a long tail of weak
components (MovieLens) about half of it. The statistic is ``rho = s_70 / s_1`` of the
binary pattern of the observed pairs (its 70th and largest singular value, by
:func:`spectral_ratio`: a seeded randomized SVD with one power iteration, four sparse
products with 80 columns, a fraction of one ALS sweep), and

    lambda = 7.17 * rho**1.08 * edge

with the constants fitted on 24 datasets (see the "Default hyperparameters" guide and
``benchmarks/scripts/defaults_experiment.py``), whose ``rho`` ranged over 0.08-0.224. The law
is not extrapolated: a smaller ``rho`` counts as 0.08, and above 0.225 the multiple returns
to the mass-only 0.8 (reached at ``rho = 0.3``). A spectrum flatter still comes from many
strong components or from a few components over a flat noise floor, and a frozen check on
data made after the fit found the extrapolated law regularizing such data into a popularity
ranker. :func:`spectral_excess` tells the two apart: ``s_70`` against the ``s_70`` of the
same pattern with its items shuffled (what the row and column counts give by chance). Where
``s_70`` stands above chance (100-300 planted clusters), the multiple tapers to 0.25
(reached at ``rho = 0.4``). Where it is at chance level (sparse data with a dozen or two
planted clusters of about equal strength), the noise scale is the wrong yardstick: such
data ranks well only just below the cliff where ALS shrinks its few components away
together, and the cliff is a property of the components, not of the masses. The
regularization moves there to :data:`~alsrec.model.defaults.PLATEAU_SHARE` (half) of the
:func:`component_scale`, ``s_2`` of the pattern times the mean confidence
(:func:`flat_spectrum_scale`), unless heavy-tailed counts hold most of the confidence (a
:func:`confidence_level` below 2, that of binary data at ``alpha = 1``): the statistics read
only the pattern, and such data kept the taper's value best. On data with fewer than 160
users or items, where ``s_70`` is not a noise level, and in ``fit_spark`` with
``keep_seen=False`` (which only brings the masses to the driver) the spectral multiple is
the constant :data:`AUTO_SCALE` (0.8).

Data with flat item popularity (:func:`popularity_gini`, the Gini coefficient of the items'
confidence masses, at most 0.25) takes the multiple :data:`FLAT_SCALE` (1.4) instead,
blended back to the spectral multiple at a Gini of 0.3 (:func:`popularity_scale`): with no
popular items to fall back on, such data ranks well only just below the cliff where the
planted components are shrunk away, and its flat spectrum made ``rho`` give it the
quarter of the noise scale that many planted clusters want (65-81% of the grid's best).

Data whose pattern holds little personal signal above chance (the
:func:`~alsrec.model.statistics.signal_energy` of its 2nd to 21st components, 0.22 or
less; every dataset where ALS did best as a popularity ranker measured 0.14-0.22, every
other one 0.249 or more) takes up to :data:`WEAK_SCALE` (1.6) times the multiple, and a
:func:`level_factor` below 1 is undone there (:func:`weak_signal_factor`; not on flat
spectra, which the checks above handle): the rule's value had left such models half-way
down the cliff to the popularity ranker.

Where that check does not apply and the weights are not heavy-tailed, the law's rise above
``rho = 0.12`` is damped on data with skewed item popularity at a low confidence level
(:func:`ratio_damping`): the multiple is divided by ``(min(rho, 0.225) / 0.12) ** 0.5`` at
a :func:`confidence_level` up to 5 and a :func:`popularity_gini` from 0.4 on, by less up to
the level 8, down to the coefficient 0.3, from ``rho`` 0.225 to 0.3 (where the law itself
blends back) and as the weak-signal factor fades in, and not at all beyond. The law was fitted
where ``rho`` and the level rise together (sparse binary data at a large ``alpha``); at a
low level the sparse MovieLens-100k subsets sat at a cliff just above its value.

Last, the multiple is scaled by :func:`level_factor`, ``(level / 2) ** 0.2`` with the
:func:`confidence_level` ``E[c]**3 / E[c**2]`` of the observed pairs: the best
regularization grew faster with a uniform confidence than the noise scale's square root
(binary data at a large ``alpha``) and slower with heavy-tailed counts. At the level of
binary data with ``alpha = 1`` the factor is 1.
"""

from __future__ import annotations

import math

__all__ = [
    "AUTO_SCALE",
    "DAMPED_EXPONENT",
    "DAMPED_GINI",
    "DAMPED_LEVEL",
    "DAMPED_RATIO",
    "FLAT_POPULARITY",
    "FLAT_SCALE",
    "HEAVY_FLAT",
    "LEVEL_EXPONENT",
    "LEVEL_REFERENCE",
    "SPECTRAL_EXCESS",
    "SPECTRAL_FITTED",
    "SPECTRAL_FLAT",
    "SPECTRAL_MANY",
    "WEAK_SCALE",
    "WEAK_SIGNAL",
    "flat_spectrum_scale",
    "flat_spectrum_weight",
    "level_factor",
    "popularity_scale",
    "ratio_damping",
    "spectral_scale",
    "weak_signal_factor",
]

AUTO_SCALE = 0.8
"""The multiple of the noise scale where the spectral statistic is not available (small
data, ``fit_spark`` with ``keep_seen=False``)."""

_SPECTRAL_FACTOR = 7.17
_SPECTRAL_EXPONENT = 1.08
SPECTRAL_FITTED = (0.08, 0.225)
"""The range of ``s_70 / s_1`` the power law was fitted on (0.080-0.224 over its 24
datasets). Below it the ratio is clamped to the lower end; above it the multiple returns
to :data:`AUTO_SCALE` (see :func:`spectral_scale`)."""
SPECTRAL_FLAT = 0.3
"""``s_70 / s_1`` at which the multiple is :data:`AUTO_SCALE` again."""
SPECTRAL_MANY = (0.4, 0.25)
"""From ``s_70 / s_1 = 0.4`` on the multiple is 0.25 when ``s_70`` is signal (many strong
components: between :data:`SPECTRAL_FLAT` and 0.4 a log-linear blend from
:data:`AUTO_SCALE`)."""
SPECTRAL_EXCESS = (1.1, 1.2)
"""The :func:`spectral_excess` at or below which ``s_70`` counts as chance level (from
:data:`SPECTRAL_FLAT` on the regularization moves to
:data:`~alsrec.model.defaults.PLATEAU_SHARE` of the :func:`component_scale`) and at or above
which it counts as signal (the multiple tapers to 0.25); log-linear between
(:func:`flat_spectrum_scale`)."""
FLAT_POPULARITY = (0.25, 0.3)
"""The :func:`popularity_gini` at or below which the multiple is :data:`FLAT_SCALE`, and
at or above which it is the spectral one (a log-linear blend between)."""
FLAT_SCALE = 1.4
"""The multiple of the noise scale on data with flat item popularity (see
:func:`popularity_scale`)."""
LEVEL_REFERENCE = 2.0
"""The confidence level (:func:`confidence_level`) at which :func:`level_factor` is 1:
binary data at ``alpha = 1``, where the spectral law was fitted."""
LEVEL_EXPONENT = 0.2
"""The exponent of :func:`level_factor`."""
HEAVY_FLAT = (0.25, 0.3)
"""The :func:`spectral_ratio` over which the heavy-tail path is blended in: not below 0.25,
fully from 0.3 (log-linear between; the plateau's range is 0.3-0.4). On the experiment's
sets with heavy-tailed weights the path lost at ``s_70/s_1`` of 0.24 and below (33-91% of
the grid best against 96-104% without it) and won from 0.30 on (100-102% against 77-85% on
two of three sets at 0.30-0.35)."""

DAMPED_RATIO = 0.12
"""The :func:`spectral_ratio` above which :func:`ratio_damping` slows the spectral law's
rise."""
DAMPED_EXPONENT = 0.5
"""How much of the rise above :data:`DAMPED_RATIO` :func:`ratio_damping` takes back: the
multiple is divided by ``(rho / 0.12) ** 0.5`` where the damping fully applies."""
DAMPED_LEVEL = (5.0, 8.0)
"""The :func:`confidence_level` up to which :func:`ratio_damping` fully applies, and from
which on it does not (log-linear between)."""
DAMPED_GINI = (0.3, 0.4)
"""The :func:`popularity_gini` from which on :func:`ratio_damping` fully applies, and at or
below which it does not (log-linear between)."""
WEAK_SIGNAL = (0.19, 0.22)
"""The :func:`~alsrec.model.statistics.signal_energy` at and below which the regularization
takes :data:`WEAK_SCALE` times its value, and from which on it takes none of it
(log-linear between): data whose personal signal ALS cannot use better than popularity."""

WEAK_SCALE = 1.6
"""The factor of the weak-signal check (:func:`weak_signal_factor`)."""


def spectral_scale(ratio: float | None) -> float:
    """The multiple of the noise scale that ``regularization="auto"`` takes from the
    :func:`spectral_ratio`, before the popularity and flat-spectrum checks.

    ``7.17 * ratio**1.08`` for a ratio inside the range the law was fitted on
    (:data:`SPECTRAL_FITTED`, 0.08-0.225; a smaller ratio counts as 0.08);
    :data:`AUTO_SCALE` (0.8) without a ratio and at ``ratio = 0.3`` (:data:`SPECTRAL_FLAT`),
    with a log-linear blend between 0.225 and 0.3; from 0.3 on it tapers to 0.25 at
    ``ratio = 0.4`` (:data:`SPECTRAL_MANY`, log-linear) and stays there.

    A spectrum that flat comes from many strong components (e.g. a hundred planted
    clusters, where ``s_70`` is still signal) or from a few components over a flat noise
    floor. The power law, extrapolated there, regularized far past the cliff where every
    component is shrunk away (8% and 85% of the grid's best in the first frozen check of
    the "Default hyperparameters" guide); with 100-300 planted clusters every dataset of the
    checks ranked at least as well with a quarter of the noise scale as with 0.8 (150 and
    300 planted clusters: 79% and 48% of the grid's best with 0.8 at alpha 1, 96% and 97%
    with 0.25 and ``alpha="auto"``). Where ``s_70`` is at chance level instead (a few
    components over the noise floor), :func:`flat_spectrum_scale` replaces the taper.

    Examples
    --------
    >>> round(spectral_scale(0.09), 3), round(spectral_scale(0.19), 3)  # MovieLens, clusters
    (0.532, 1.193)
    >>> spectral_scale(None), spectral_scale(0.3), spectral_scale(0.574)  # 100 clusters
    (0.8, 0.8, 0.25)
    >>> round(spectral_scale(0.26), 3), round(spectral_scale(0.35), 3)  # the two blends
    (1.069, 0.429)
    """
    if ratio is None:
        return AUTO_SCALE
    low, high = SPECTRAL_FITTED
    if ratio >= SPECTRAL_FLAT:
        many, floor = SPECTRAL_MANY
        return floor if ratio >= many else _blend(ratio, (SPECTRAL_FLAT, AUTO_SCALE), (many, floor))
    fitted = float(_SPECTRAL_FACTOR * min(max(ratio, low), high) ** _SPECTRAL_EXPONENT)
    if ratio <= high:
        return fitted
    return _blend(ratio, (high, fitted), (SPECTRAL_FLAT, AUTO_SCALE))


def flat_spectrum_scale(
    multiple: float,
    ratio: float | None,
    excess: float | None,
    plateau: float,
    *,
    heavy: bool = False,
) -> float:
    """The multiple of the noise scale after the flat-spectrum check.

    Where the spectrum is flat (:func:`spectral_ratio` ``rho`` of 0.3 or more) and its
    70th component is at chance level (:func:`spectral_excess` ``x`` of 1.1 or less),
    ``regularization="auto"`` takes ``plateau`` (what
    :func:`~alsrec.model.defaults.auto_regularization` passes:
    :data:`~alsrec.model.defaults.PLATEAU_SHARE` times the :func:`component_scale`, as a
    multiple of the noise scale) instead of ``multiple`` (the one from :func:`spectral_scale`,
    :func:`popularity_scale` and :func:`level_factor`). The result is the geometric blend
    ``multiple**(1 - w) * plateau**w`` with ``w`` the product of a weight in ``rho`` (0 at
    :data:`SPECTRAL_FLAT`, 1 from 0.4 on: :data:`SPECTRAL_MANY`) and one in ``x`` (1 at 1.1
    or less, 0 at 1.2 or more: :data:`SPECTRAL_EXCESS`), both log-linear, so the rule is
    continuous everywhere.

    Such data (sparse, a dozen or two planted clusters, nearly flat popularity) has as
    flat a spectrum as data with a hundred planted clusters, which wants a quarter of the
    noise scale, but its ``s_70`` is at chance level (excess 0.96-1.01, against 1.14-1.46
    for 90-300 clusters) and its best regularization sits just below the cliff where its
    few components are shrunk away together: a window of 20-30% in ``lambda`` that the
    noise scale (a property of the masses, not of the components) missed by up to 30%.
    Half the :func:`component_scale` raised the twelve such sets of the experiment from
    77-97% of the grid's best to 97-102% (``alpha="auto"``), and four of a frozen group
    made before it was designed from 80-87% to 99.5-101%.

    Parameters
    ----------
    multiple : float
        The multiple without the check.
    ratio, excess : float or None
        :func:`spectral_ratio` and :func:`spectral_excess` (``None``: no check).
    plateau : float
        The multiple that puts the regularization at
        :data:`~alsrec.model.defaults.PLATEAU_SHARE` of the :func:`component_scale`
        (:data:`~alsrec.model.defaults.HEAVY_SHARE` for heavy-tailed weights).
    heavy : bool
        Heavy-tailed weights: the weight in ``rho`` of :func:`flat_spectrum_weight` starts
        at 0.25 and is full from 0.3 (:data:`HEAVY_FLAT`).

    Returns
    -------
    float
        ``multiple`` where the check does not apply, ``plateau`` where it fully does.

    Examples
    --------
    >>> flat_spectrum_scale(0.25, 0.45, 1.0, 2.0)  # flat, s_70 at chance: the plateau
    2.0
    >>> flat_spectrum_scale(0.25, 0.45, 1.3, 2.0), flat_spectrum_scale(0.25, 0.2, 1.0, 2.0)
    (0.25, 0.25)
    >>> round(flat_spectrum_scale(0.5, 0.45, 1.1 * (1.2 / 1.1) ** 0.5, 2.0), 3)  # halfway
    1.0
    """
    weight = flat_spectrum_weight(ratio, excess, heavy=heavy)
    if weight == 0.0:
        return multiple
    return float(math.exp((1 - weight) * math.log(multiple) + weight * math.log(plateau)))


def flat_spectrum_weight(
    ratio: float | None, excess: float | None, *, heavy: bool = False
) -> float:
    """How fully the flat-spectrum check applies, from 0 to 1: the ``w`` of
    :func:`flat_spectrum_scale`.

    The product of a weight in the :func:`spectral_ratio` ``rho`` (0 at
    :data:`SPECTRAL_FLAT`, 1 from 0.4 on) and one in the :func:`spectral_excess` ``x`` (1 at
    1.1 or less, 0 at 1.2 or more), both log-linear; 0 when either is ``None``. With
    heavy-tailed weights (:func:`weight_uniformity` below
    :data:`~alsrec.model.defaults.HEAVY_UNIFORMITY`, ``heavy=True``) the weight in ``rho``
    goes from 0 at 0.25 to 1 at 0.3 instead (:data:`HEAVY_FLAT`), and ``alpha="auto"`` moves
    by the same weight toward the top of :data:`~alsrec.model.defaults.ALPHA_RANGE`
    (:func:`~alsrec.model.defaults.auto_alpha`).

    Examples
    --------
    >>> flat_spectrum_weight(0.45, 1.0), flat_spectrum_weight(0.2, 1.0)
    (1.0, 0.0)
    >>> round(flat_spectrum_weight(0.3 * (0.4 / 0.3) ** 0.5, 1.0), 3)  # halfway in rho
    0.5
    >>> flat_spectrum_weight(0.3, 1.0), flat_spectrum_weight(0.3, 1.0, heavy=True)
    (0.0, 1.0)
    """
    chance, signal = SPECTRAL_EXCESS
    start, full = HEAVY_FLAT if heavy else (SPECTRAL_FLAT, SPECTRAL_MANY[0])
    if ratio is None or excess is None or ratio <= start or excess >= signal:
        return 0.0
    return _weight(ratio, (start, full)) * (1.0 - _weight(excess, (chance, signal)))


def _blend(ratio: float, start: tuple[float, float], end: tuple[float, float]) -> float:
    """Log-linear in ``ratio`` from ``start = (ratio, multiple)`` to ``end``."""
    share = math.log(ratio / start[0]) / math.log(end[0] / start[0])
    return float(math.exp((1 - share) * math.log(start[1]) + share * math.log(end[1])))


def popularity_scale(multiple: float, gini: float | None) -> float:
    """The multiple of the noise scale after the popularity check: :data:`FLAT_SCALE`
    (1.4) for a :func:`popularity_gini` at or below 0.25, ``multiple`` (the spectral one)
    from 0.3 on or without a coefficient, log-linear in the coefficient between
    (:data:`FLAT_POPULARITY`).

    With flat item popularity there are no popular items to fall back on: NDCG@10 rises
    with the regularization up to the cliff where the planted components are shrunk away
    and then drops to the level of random ranking. The best value sat at 1.1-2.5 times
    the noise scale on every such dataset of the checks (at ``alpha = 1``), but their
    flat spectrum (``s_70 / s_1`` of 0.24-0.45, like data with a hundred or more planted
    clusters, which wants 0.25-0.4 times it) made :func:`spectral_scale` give them
    0.25-1.4. The popularity of the items tells the two apart where the spectrum does not:
    the many-cluster sets' Gini was 0.34-0.42.

    Examples
    --------
    >>> popularity_scale(0.25, 0.15), popularity_scale(0.25, 0.45), popularity_scale(0.25, None)
    (1.4, 0.25, 0.25)
    >>> round(popularity_scale(0.25, 0.275), 3)  # about halfway (in log Gini) between
    0.569
    """
    if gini is None:
        return multiple
    flat, skewed = FLAT_POPULARITY
    if gini <= flat:
        return FLAT_SCALE
    if gini >= skewed:
        return multiple
    return _blend(gini, (flat, FLAT_SCALE), (skewed, multiple))


def ratio_damping(
    ratio: float | None, level: float, gini: float | None, energy: float | None = None
) -> float:
    """The factor of the multiple that slows the spectral law's rise above a
    :func:`spectral_ratio` of 0.12 on data with skewed item popularity at a low confidence
    level: ``(min(rho, 0.225) / 0.12) ** (-0.5 * w)``, with ``w`` the product of four
    weights, each log-linear between its ends: one in the :func:`confidence_level` (1 up
    to 5, 0 from 8 on: :data:`DAMPED_LEVEL`), one in the :func:`popularity_gini` (0 up to
    0.3, 1 from 0.4 on: :data:`DAMPED_GINI`), one in the ratio (1 up to the top of the
    law's fitted range, 0.225, 0 at :data:`SPECTRAL_FLAT`, where the law has returned to
    :data:`AUTO_SCALE` and the flat-spectrum checks take over) and one in the
    :func:`~alsrec.model.statistics.signal_energy` (0 where the weak-signal check fully
    applies, up to 0.19, 1 from 0.22 on or without a value: :data:`WEAK_SIGNAL`). 1 at a
    ratio of 0.12 or less (:data:`DAMPED_RATIO`) or without a ratio or a coefficient. The
    weights make the rule continuous at every edge of the check.

    The law ``7.17 * rho**1.08`` was fitted where ``rho`` and the level rise together
    (sparse binary data, which ``alpha="auto"`` gives a large ``alpha``). At a low level
    (ratings, counts, or binary data at an ``alpha`` of 1-3) with popular items to fall
    back on, the best value rose more slowly with ``rho``: the sparse MovieLens-100k
    subsets (``rho`` 0.13-0.25, levels 2-5) wanted 0.7-0.85 times the rule's value and
    sat at a cliff just above it (90.0% and 92.7% of the grid's best at the rule's value,
    96-100% at 0.8 times it). Flat popularity keeps its own multiple
    (:func:`popularity_scale`), and weak signal its own factor
    (:func:`weak_signal_factor`). On the 143 sets of the "Default hyperparameters" guide
    it moved 19, 15 of them up (by up to 12.6 points of the grid's best) and four down, by
    at most 0.7.

    Examples
    --------
    >>> ratio_damping(0.11, 2.0, 0.65), round(ratio_damping(0.2, 2.0, 0.65), 4)  # MovieLens
    (1.0, 0.7746)
    >>> ratio_damping(0.2, 20.0, 0.65), ratio_damping(0.2, 2.0, 0.2)  # high level, flat
    (1.0, 1.0)
    >>> ratio_damping(0.3, 2.0, 0.65), ratio_damping(0.2, 2.0, 0.65, energy=0.19)  # edges
    (1.0, 1.0)
    """
    if ratio is None or gini is None or ratio <= DAMPED_RATIO:
        return 1.0
    weight = (1.0 - _weight(level, DAMPED_LEVEL)) * _weight(gini, DAMPED_GINI)
    weight *= 1.0 - _weight(ratio, (SPECTRAL_FITTED[1], SPECTRAL_FLAT))
    if energy is not None:
        weight *= _weight(energy, WEAK_SIGNAL)
    return float((min(ratio, SPECTRAL_FITTED[1]) / DAMPED_RATIO) ** (-DAMPED_EXPONENT * weight))


def _weight(value: float, bounds: tuple[float, float]) -> float:
    """0 at or below ``bounds[0]``, 1 at or above ``bounds[1]``, log-linear between."""
    low, high = bounds
    if value <= low:
        return 0.0
    if value >= high:
        return 1.0
    return math.log(value / low) / math.log(high / low)


def level_factor(level: float) -> float:
    """How ``regularization="auto"`` scales with the :func:`confidence_level`:
    ``(level / 2) ** 0.2`` (:data:`LEVEL_REFERENCE`, :data:`LEVEL_EXPONENT`).

    The noise scale of :func:`~alsrec.model.defaults.regularization_from_masses` grows as
    the square root of a uniform confidence, but the best regularization grew faster: binary
    data at the larger ``alpha`` that ``alpha="auto"`` gives sparse data wanted 1.4-2x the
    rule's value, and data with heavy-tailed counts, whose masses a few huge weights
    inflate, wanted 0.5-0.7x. Measured at the resolved ``alpha`` on 44 datasets (a sweep of
    the multiple from 0.25 to 4, see the "Default hyperparameters" guide); one exponent for
    both, 0.2, was in the middle of the range that did best.
    Examples
    --------
    >>> level_factor(2.0), round(level_factor(24.0), 3)  # binary: alpha 1, alpha 23
    (1.0, 1.644)
    """
    return float((level / LEVEL_REFERENCE) ** LEVEL_EXPONENT)


def weak_signal_factor(energy: float | None, level: float | None = None) -> float:
    """The factor of ``regularization="auto"`` for data whose personal signal is weak:
    :data:`WEAK_SCALE` (1.6) at a :func:`~alsrec.model.statistics.signal_energy` of 0.19 or
    less, 1 from 0.22 on or without a value, log-linear between (:data:`WEAK_SIGNAL`).
    With the :func:`confidence_level` ``level`` of heavy-tailed counts, whose
    :func:`level_factor` (below 1) lowered the multiple, the factor also undoes that
    lowering, in the same share as its own (all of it at 0.19 or less).

    Where the pattern's components after the first hardly stand above chance, the best
    ALS model is the one regularized into a popularity ranker (the first component alone),
    or close to it: on the eight such datasets of the checks (energies 0.14-0.22),
    popularity was within 91-100% of the grid's best, and the rule's value sat on the
    slope of the cliff below that plateau, where a model keeps its weak components
    half-shrunk (90-99% of the grid's best). 1.6 times the value gave 96.5-100.4% on all
    eight (96.4-99.9% with the level part below); 1.3 and 1.8 times missed 95% on one
    each, and 2 times on four. The next energy of the checks was 0.249 (all other
    datasets: 0.25-7.6), left alone. The level factor of heavy-tailed counts (0.5-0.7)
    exists because a few huge weights inflate the noise scale; on weak data the target
    is the cliff to the popularity ranker instead: the first such set checked out of
    sample (weak clusters with Pareto counts) stayed at 92.6% with the lowering, 99.2%
    without it, and a group made afterwards reached 95% on all eight sets.

    Examples
    --------
    >>> weak_signal_factor(0.15), weak_signal_factor(0.5), weak_signal_factor(None)
    (1.6, 1.0, 1.0)
    >>> round(weak_signal_factor(0.205), 3)  # about halfway (in log energy) between
    1.254
    >>> round(weak_signal_factor(0.15, level=0.2), 3)  # 1.6 / level_factor(0.2) = 1.6 / 0.631
    2.536
    >>> weak_signal_factor(0.15, level=8.0), weak_signal_factor(0.5, level=0.2)
    (1.6, 1.0)
    """
    if energy is None:
        return 1.0
    weak, strong = WEAK_SIGNAL
    if energy <= weak:
        factor = WEAK_SCALE
    elif energy >= strong:
        return 1.0
    else:
        factor = _blend(energy, (weak, WEAK_SCALE), (strong, 1.0))
    lowered = 1.0 if level is None else level_factor(level)
    if lowered < 1.0:  # heavy-tailed counts: undo the level factor, in the same share
        factor *= (1.0 / lowered) ** (math.log(factor) / math.log(WEAK_SCALE))
    return float(factor)
