"""Data-aware defaults: ``regularization="auto"`` and ``random_state=0`` (issue 16)."""

from __future__ import annotations

import itertools
import json
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pytest
import scipy.sparse as sp

from alsrec import ALSParams, AlsrecWarning, ConfigError, DataError, Interactions, Recommender
from alsrec.datasets import synthetic
from alsrec.evaluation import PopularityBaseline, holdout_split, ndcg_at_k
from alsrec.io import inspect_artifact, read_manifest
from alsrec.model.defaults import (
    ALPHA_RANGE,
    AUTO_SCALE,
    FLAT_POPULARITY,
    FLAT_SCALE,
    HEAVY_FLAT,
    HEAVY_SHARE,
    HEAVY_UNIFORMITY,
    LEVEL_REFERENCE,
    PLATEAU_SHARE,
    SPECTRAL_EXCESS,
    SPECTRAL_FITTED,
    SPECTRAL_FLAT,
    SPECTRAL_MANY,
    WEIGHT_RANGE,
    alpha_from_totals,
    auto_alpha,
    auto_multiple,
    auto_regularization,
    flat_spectrum_scale,
    flat_spectrum_weight,
    level_factor,
    params_confidence,
    popularity_scale,
    ratio_damping,
    regularization_from_masses,
    resolve_params,
    spectral_scale,
    weight_unit,
)
from alsrec.model.statistics import (
    SPECTRAL_MIN_SIZE,
    component_scale,
    confidence_level,
    matrix_level,
    popularity_gini,
    spectral_excess,
    spectral_ratio,
    weight_uniformity,
)

if TYPE_CHECKING:
    from pathlib import Path

    import numpy.typing as npt

USERS = ["ann", "ann", "ann", "bob", "bob", "cid", "dan", "dan"]
ITEMS = ["tea", "cup", "pot", "tea", "cup", "tea", "pot", "mug"]
WEIGHTS = [1.0, 2.0, 5.0, 1.0, 3.0, 4.0, 1.0, 2.0]


def level_of(conf: sp.csr_matrix | np.ndarray) -> float:
    """(E[c]^3 / E[c^2] / 2)^0.2 over the observed confidences, from its definition."""
    dense = conf.toarray() if isinstance(conf, sp.csr_matrix) else np.asarray(conf)
    c = dense[dense > 0].astype(np.float64)
    return float((c.mean() ** 3 / (c**2).mean() / 2.0) ** 0.2)


def expected_auto(weights: sp.csr_matrix, alpha: float) -> float:
    """The rule on small data, from its definition:
    0.8 (level / 2)^0.2 (sqrt(sum d_u^2 / D) + sqrt(sum d_i^2 / D))."""
    dense = weights.toarray().astype(np.float64)
    conf = np.where(dense > 0, 1.0 + alpha * dense, 0.0)
    d_u, d_i, total = conf.sum(axis=1), conf.sum(axis=0), conf.sum()
    edge = np.sqrt((d_u**2).sum() / total) + np.sqrt((d_i**2).sum() / total)
    return float(0.8 * level_of(conf) * edge)


@pytest.fixture
def data() -> Interactions:
    return Interactions.from_arrays(USERS, ITEMS, WEIGHTS)


def small(**kwargs: object) -> Recommender:
    return Recommender(factors=3, iterations=3, **kwargs)  # type: ignore[arg-type]


# -- the rule -------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.0, 1.0, 7.5])
def test_auto_resolves_to_the_formula(data: Interactions, alpha: float) -> None:
    rec = small(alpha=alpha).fit(data)
    assert rec.params_.regularization == pytest.approx(expected_auto(data.matrix, alpha))
    assert rec.model_.provenance.auto_params == ("regularization",)


def test_the_rule_follows_the_weighting_scheme(data: Interactions) -> None:
    rec = small(weighting="log", weighting_eps=2.0).fit(data)
    logged = sp.csr_matrix(data.matrix, dtype=np.float64)
    logged.data = np.log1p(logged.data / 2.0)
    assert rec.params_.regularization == pytest.approx(expected_auto(logged, 1.0), rel=1e-6)


def test_masses_and_matrix_give_the_same_value(data: Interactions) -> None:
    conf = params_confidence(data.matrix, ALSParams(alpha=3.0))
    rows = np.asarray(conf.sum(axis=1)).ravel()
    cols = np.asarray(conf.sum(axis=0)).ravel()
    scale = AUTO_SCALE * level_of(conf)
    assert auto_regularization(conf) == pytest.approx(
        regularization_from_masses(rows, cols, scale=scale)
    )
    assert auto_regularization(conf) == pytest.approx(expected_auto(data.matrix, 3.0))


def test_the_rule_refuses_empty_data() -> None:
    with pytest.raises(DataError, match="needs training interactions"):
        auto_regularization(sp.csr_matrix((3, 2)))
    with pytest.raises(DataError, match="positive, finite"):
        regularization_from_masses([0.0, 0.0], [0.0])


@pytest.mark.parametrize("alpha", [1.0, 4.0, 23.0])
def test_binary_data_scales_the_rule_by_its_confidence_level(alpha: float) -> None:
    binary = sp.csr_matrix(random_pattern(400, 300))
    binary.data[:] = 1.0
    conf = params_confidence(binary, ALSParams(alpha=alpha))
    assert confidence_level(conf.nnz, conf.data.sum(), conf.data @ conf.data) == pytest.approx(
        1.0 + alpha  # one confidence for every pair: the level is that confidence
    )
    assert level_factor(1.0 + alpha) == pytest.approx(((1.0 + alpha) / 2.0) ** 0.2)
    plain = auto_regularization(conf, scale=auto_multiple(conf, level=LEVEL_REFERENCE))
    assert auto_regularization(conf) == pytest.approx(plain * ((1.0 + alpha) / 2.0) ** 0.2)
    assert (auto_regularization(conf) == pytest.approx(plain)) is (alpha == 1.0)


def test_heavy_tailed_counts_lower_the_level_below_the_mean_confidence() -> None:
    counts = np.array([1.0] * 99 + [1000.0])  # one huge count: mean c 11.99, level 0.17
    c = 1.0 + counts
    level = confidence_level(c.size, float(c.sum()), float(c @ c))
    assert level == pytest.approx(c.mean() ** 3 / (c**2).mean())
    assert level < 2.0 < c.mean()
    assert level_factor(level) < 1.0  # the masses overstate such data: less penalty


def test_the_confidence_level_refuses_what_has_none() -> None:
    for count, total, squares in [(0, 0.0, 0.0), (3, 6.0, 0.0), (3, float("nan"), 1.0)]:
        with pytest.raises(DataError, match="positive, finite confidence"):
            confidence_level(count, total, squares)


def random_pattern(n_users: int, n_items: int, seed: int = 1) -> sp.csr_matrix:
    matrix = sp.random(n_users, n_items, density=0.05, random_state=seed, format="csr")
    matrix.data = np.round(1 + 4 * matrix.data)  # weights 1..5
    return matrix


def test_spectral_ratio_is_a_deterministic_lower_estimate_of_s70_over_s1() -> None:
    matrix = random_pattern(400, 300)
    ratio = spectral_ratio(matrix)
    assert ratio is not None
    assert spectral_ratio(matrix.copy()) == ratio  # the same number on every call
    pattern = matrix.copy()
    pattern.data[:] = 1.0
    exact = np.sort(sp.linalg.svds(pattern, k=70, return_singular_vectors=False))[::-1]
    assert 0.75 * exact[69] / exact[0] <= ratio <= 1.01 * exact[69] / exact[0]
    scaled = matrix.copy()
    scaled.data *= 7.0
    assert spectral_ratio(scaled) == pytest.approx(ratio)  # the pattern, not the weights


def test_small_or_rank_deficient_data_has_no_spectral_ratio() -> None:
    assert spectral_ratio(random_pattern(SPECTRAL_MIN_SIZE - 1, 400)) is None
    assert spectral_ratio(random_pattern(400, SPECTRAL_MIN_SIZE)) is not None
    assert spectral_scale(None) == AUTO_SCALE
    same_items = sp.csr_matrix(np.ones((300, 200)))  # rank 1: no 70th component
    assert spectral_ratio(same_items) is None
    conf = params_confidence(same_items, ALSParams(alpha=1.0))
    # ... but with every item equally popular it takes the flat multiple, not the constant
    flat = expected_auto(same_items, 1.0) * FLAT_SCALE / AUTO_SCALE
    assert auto_regularization(conf) == pytest.approx(flat)
    # Below SPECTRAL_MIN_SIZE users or items neither check applies: the constant.
    small = sp.csr_matrix(np.ones((SPECTRAL_MIN_SIZE - 1, 300)))
    conf = params_confidence(small, ALSParams(alpha=1.0))
    assert auto_regularization(conf) == pytest.approx(expected_auto(small, 1.0))


def clustered(n_users: int, n_items: int, n_clusters: int, **shape: float) -> Interactions:
    raw = synthetic(n_users, n_items, n_clusters=n_clusters, random_state=3, **shape)
    return Interactions.from_arrays(raw.user_ids, raw.item_ids, raw.weights)


def test_auto_on_larger_data_is_the_spectral_multiple_of_the_noise_scale() -> None:
    data = clustered(600, 400, 10, mean_interactions=15)
    conf = params_confidence(data.matrix, ALSParams(alpha=1.0))
    rows = np.asarray(conf.sum(axis=1)).ravel()
    cols = np.asarray(conf.sum(axis=0)).ravel()
    ratio = spectral_ratio(conf)
    assert ratio is not None
    assert SPECTRAL_FITTED[0] < ratio < SPECTRAL_FITTED[1]  # where the power law holds
    # counts at alpha 1 with skewed popularity: the damping of the law applies (one factor)
    level = float(level_of(conf) ** 5 * 2.0)  # E[c]^3 / E[c^2]
    damping = ratio_damping(ratio, level, popularity_gini(cols))
    assert damping < 1.0
    expected = 7.17 * ratio**1.08 * level_of(conf) * damping
    expected *= regularization_from_masses(rows, cols, scale=1.0)
    assert auto_regularization(conf) == pytest.approx(expected)
    # A flatter spectrum (more noise per signal) asks for more shrinkage.
    assert spectral_scale(0.2) > spectral_scale(0.1) > 0


def test_the_power_law_is_not_extrapolated() -> None:
    low, high = SPECTRAL_FITTED
    assert spectral_scale(0.01) == spectral_scale(low) == pytest.approx(7.17 * low**1.08)
    # Above the fitted range it bends back to the mass-only multiple, continuously ...
    assert spectral_scale(high * (1 + 1e-9)) == pytest.approx(7.17 * high**1.08)
    assert spectral_scale(SPECTRAL_FLAT * (1 - 1e-9)) == pytest.approx(AUTO_SCALE)
    between = [spectral_scale(r) for r in np.linspace(high, SPECTRAL_FLAT, 12)]
    assert all(a > b for a, b in itertools.pairwise(between))
    assert spectral_scale(SPECTRAL_FLAT) == pytest.approx(AUTO_SCALE)
    # Flatter still (many strong components), it tapers to a quarter of the noise scale ...
    many, floor = SPECTRAL_MANY
    tapering = [spectral_scale(r) for r in np.linspace(SPECTRAL_FLAT, many, 12)]
    assert all(a > b for a, b in itertools.pairwise(tapering))
    assert spectral_scale(many * (1 - 1e-9)) == pytest.approx(floor)
    # ... and stays there however flat the spectrum.
    assert spectral_scale(many) == spectral_scale(0.6) == spectral_scale(1.0) == floor == 0.25


def test_many_strong_components_get_a_useful_default() -> None:
    # A hundred planted clusters: s_70 is still signal, so s_70 / s_1 is far above the
    # fitted range. The power law, extrapolated, shrank every component away (a
    # popularity ranker); the default must keep the clusters.
    shape = {"mean_interactions": 12, "popularity_exponent": 0.6, "in_cluster": 0.85}
    data = clustered(2000, 1000, 100, **shape)
    train, test = holdout_split(data, 0.2, random_state=0)
    rec = Recommender().fit(train)
    conf = params_confidence(train.matrix, rec.params_)  # under the resolved alpha
    ratio = spectral_ratio(conf)
    assert ratio is not None and ratio > SPECTRAL_FLAT
    excess = spectral_excess(conf)  # s_70 is signal here: above what chance gives
    assert excess is not None and excess >= SPECTRAL_EXCESS[1]
    expected = auto_regularization(conf, scale=spectral_scale(ratio) * level_of(conf))
    assert rec.params_.regularization == pytest.approx(expected)  # the taper, no plateau
    extrapolated = 7.17 * ratio**1.08 * auto_regularization(conf, scale=1.0)
    worse = Recommender(regularization=extrapolated).fit(train)
    popular = PopularityBaseline(train)
    default_ndcg = ndcg_at_k(rec, test, k=10)
    assert default_ndcg > 5 * ndcg_at_k(worse, test, k=10)
    assert default_ndcg > 3 * ndcg_at_k(popular, test, k=10)


def test_spectral_excess_is_about_one_for_noise_and_reads_only_the_pattern() -> None:
    noise = random_pattern(600, 400)
    excess = spectral_excess(noise)
    assert excess is not None and 0.9 < excess < 1.1  # s_70 at the level chance gives
    assert spectral_excess(noise.copy()) == excess  # seeded: the same number every call
    scaled = noise.copy()
    scaled.data = scaled.data**3 + 7.0
    assert spectral_excess(scaled) == excess  # where pairs are, not their weights
    assert spectral_excess(random_pattern(SPECTRAL_MIN_SIZE - 1, 400)) is None
    # A hundred planted blocks: the 70th component is still signal, far above chance.
    blocks = sp.block_diag([np.ones((6, 4))] * 100, format="csr")
    shuffled_blocks = spectral_excess(blocks)
    assert shuffled_blocks is not None and shuffled_blocks > 1.5


def test_flat_spectrum_scale_moves_from_the_multiple_to_the_plateau() -> None:
    chance, signal = SPECTRAL_EXCESS
    many = SPECTRAL_MANY[0]
    for multiple, plateau in ((0.25, 2.0), (1.4, 0.9), (0.8, 0.8)):
        # Where the check does not apply: the multiple, unchanged.
        for ratio, excess in ((None, 1.0), (0.2, 1.0), (SPECTRAL_FLAT, 1.0), (0.5, None)):
            assert flat_spectrum_scale(multiple, ratio, excess, plateau) == multiple
        for ratio in (0.35, many, 0.7):
            assert flat_spectrum_scale(multiple, ratio, signal, plateau) == multiple
            assert flat_spectrum_scale(multiple, ratio, 1.5, plateau) == multiple
        # Flat (0.4 or more) and at chance level (1.1 or less): the plateau.
        for ratio, excess in ((many, chance), (0.6, 0.9), (1.0, 1.0)):
            assert flat_spectrum_scale(multiple, ratio, excess, plateau) == pytest.approx(plateau)
        # Between, monotone in both statistics and continuous at the ends.
        rising = [flat_spectrum_scale(multiple, r, 1.0, plateau) for r in np.linspace(0.3, 0.4, 9)]
        falling = [
            flat_spectrum_scale(multiple, 0.5, x, plateau) for x in np.linspace(chance, signal, 9)
        ]
        for path in (rising, falling[::-1]):
            assert path[0] == pytest.approx(multiple) and path[-1] == pytest.approx(plateau)
            steps = np.diff(np.log(path))
            assert (steps * np.sign(np.log(plateau / multiple)) >= -1e-12).all()
    # Geometric: halfway in log ratio and full excess weight gives the geometric mean.
    half = SPECTRAL_FLAT * (many / SPECTRAL_FLAT) ** 0.5
    assert flat_spectrum_scale(0.25, half, 1.0, 4.0) == pytest.approx(1.0)


def test_component_scale_is_the_second_singular_value_times_the_mean_confidence() -> None:
    raw = synthetic(
        600, 400, n_clusters=8, mean_interactions=10, popularity_exponent=0.3, random_state=2
    )
    data = Interactions.from_arrays(raw.user_ids, raw.item_ids, raw.weights)
    conf = params_confidence(data.matrix, ALSParams(alpha=3.0))
    pattern = (conf.toarray() > 0).astype(np.float64)
    second = np.linalg.svd(pattern, compute_uv=False)[1]  # exact, dense
    scale = component_scale(conf)
    assert scale is not None
    assert scale == pytest.approx(second * conf.data.astype(np.float64).mean(), rel=1e-4)
    assert component_scale(conf.copy()) == scale  # seeded: the same number every call
    doubled = conf.copy()
    doubled.data *= 2.0
    assert component_scale(doubled) == pytest.approx(2 * scale)  # linear in the confidence
    assert component_scale(random_pattern(SPECTRAL_MIN_SIZE - 1, 400)) is None
    assert component_scale(sp.csr_matrix((400, 400))) is None


def test_no_arpack_convergence_keeps_the_rule_without_the_plateau(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scipy.sparse.linalg import ArpackNoConvergence

    raw = synthetic(
        2500, 1200, n_clusters=15, mean_interactions=6, popularity_exponent=0.4, random_state=7
    )
    data = Interactions.from_arrays(raw.user_ids, raw.item_ids, None, aggregate="max")
    conf = params_confidence(data.matrix, ALSParams(alpha=5.0))
    with_plateau = auto_multiple(conf)

    def fails(*args: object, **kwargs: object) -> None:
        raise ArpackNoConvergence("no convergence", np.zeros(0), np.zeros((0, 0)))

    monkeypatch.setattr("scipy.sparse.linalg.svds", fails)
    assert component_scale(conf) is None
    ratio = spectral_ratio(conf)
    gini = popularity_gini(np.asarray(conf.sum(axis=0)).ravel())
    without = popularity_scale(spectral_scale(ratio), gini) * level_of(conf)
    assert auto_multiple(conf) == pytest.approx(without)
    assert with_plateau != pytest.approx(without)  # the plateau applied before


def test_a_few_clusters_over_noise_sit_below_the_cliff_of_their_components() -> None:
    # Sparse data, 15 planted clusters, nearly flat popularity (a Gini above the flat
    # check's blend): the spectrum is as flat as a hundred clusters', but its s_70 is at
    # chance level. The quarter of the noise scale that many clusters want overfits it;
    # the default takes half the scale at which its components are shrunk away.
    raw = synthetic(
        2500, 1200, n_clusters=15, mean_interactions=6, popularity_exponent=0.4, random_state=7
    )
    data = Interactions.from_arrays(raw.user_ids, raw.item_ids, None, aggregate="max")
    train, test = holdout_split(data, 0.2, random_state=0)
    rec = Recommender().fit(train)
    conf = params_confidence(train.matrix, rec.params_)
    ratio, excess = spectral_ratio(conf), spectral_excess(conf)
    gini = popularity_gini(np.asarray(conf.sum(axis=0)).ravel())
    assert ratio is not None and ratio > SPECTRAL_MANY[0]  # past the end of either blend
    assert excess is not None and excess <= SPECTRAL_EXCESS[0]
    assert gini is not None and gini >= FLAT_POPULARITY[1]  # not "flat popularity"
    scale = component_scale(conf)
    assert scale is not None
    assert rec.params_.regularization == pytest.approx(PLATEAU_SHARE * scale)
    tapered = auto_regularization(conf, scale=spectral_scale(ratio) * level_of(conf))
    assert rec.params_.regularization_value > 3 * tapered
    default = ndcg_at_k(rec, test, k=10)
    before = Recommender(alpha=rec.params_.alpha, regularization=tapered).fit(train)
    assert default > 1.2 * ndcg_at_k(before, test, k=10)
    # Near the best of a sweep around it; past the component scale, the cliff.
    sweep = {
        m: ndcg_at_k(
            Recommender(alpha=rec.params_.alpha, regularization=m * scale).fit(train), test, k=10
        )
        for m in (0.25, 0.35, 0.7, 1.4)
    }
    assert default >= 0.95 * max(sweep.values())
    assert sweep[1.4] < 0.5 * default


def _pareto_flat_split() -> tuple[Interactions, Interactions]:
    """15 planted clusters on a flat, sparse pattern with Pareto counts, split 80/20."""
    raw = synthetic(
        2500, 1200, n_clusters=15, mean_interactions=6, popularity_exponent=0.4, random_state=7
    )
    binary = Interactions.from_arrays(raw.user_ids, raw.item_ids, None, aggregate="max").matrix
    draws = np.random.default_rng(1).random(binary.nnz)
    coo = sp.coo_matrix(binary)
    counts = np.minimum(np.floor(draws ** (-1 / 1.2)), 1e4)  # Pareto counts, same pairs
    return holdout_split(Interactions.from_arrays(coo.row, coo.col, counts), 0.2, random_state=0)


def test_heavy_tailed_weights_on_a_flat_spectrum_take_the_top_alpha_and_their_plateau() -> None:
    # The planted clusters of the plateau test with Pareto counts: the pattern (and so the
    # spectrum and the excess) is flat at chance level, and a few pairs hold most of the
    # weight. alpha="auto" goes to the top of its range and the regularization to
    # HEAVY_SHARE of the component scale there.
    train, test = _pareto_flat_split()
    weights = train.matrix
    spread = params_confidence(weights, ALSParams(alpha=1.0))
    uniformity = weight_uniformity(spread)
    assert uniformity is not None and uniformity < HEAVY_UNIFORMITY
    ratio, excess = spectral_ratio(spread), spectral_excess(spread)
    assert ratio is not None and ratio >= SPECTRAL_MANY[0]  # fully flat
    assert excess is not None and excess <= SPECTRAL_EXCESS[0]  # s_70 at chance level
    assert flat_spectrum_weight(ratio, excess) == 1.0
    assert auto_alpha(weights) == ALPHA_RANGE[1]
    rec = Recommender().fit(train)
    assert rec.params_.alpha_value == ALPHA_RANGE[1]
    top = params_confidence(weights, ALSParams(alpha=ALPHA_RANGE[1]))
    scale = component_scale(top)
    assert scale is not None
    assert rec.params_.regularization_value == pytest.approx(HEAVY_SHARE * scale, rel=1e-9)
    # The former default (the taper at the mass-based alpha) ranked far worse.
    former_alpha = alpha_from_totals(weights.shape[0], weights.shape[1], float(weights.sum()))
    former = params_confidence(weights, ALSParams(alpha=former_alpha))
    gini = popularity_gini(np.asarray(former.sum(axis=0)).ravel())
    taper = popularity_scale(spectral_scale(ratio), gini) * level_factor(matrix_level(former))
    old = Recommender(alpha=former_alpha, regularization=auto_regularization(former, scale=taper))
    default = ndcg_at_k(rec, test, k=10)
    assert default > 1.2 * ndcg_at_k(old.fit(train), test, k=10)
    # Near the best of the neighbourhood, and below the cliff where the components die.
    nearby = {
        m: ndcg_at_k(Recommender(alpha=100.0, regularization=m * scale).fit(train), test, k=10)
        for m in (0.1, 0.3, 0.5)
    }
    assert default >= 0.9 * max(nearby[0.1], nearby[0.3])
    assert nearby[0.5] < 0.5 * default


def test_heavy_tailed_weights_without_a_flat_spectrum_keep_the_mass_alpha() -> None:
    # Pareto counts on a pattern with a steep spectrum (a few strong clusters, skewed
    # popularity): no flat-spectrum check, so alpha="auto" is the mass-based one.
    raw = synthetic(
        2500, 600, n_clusters=4, mean_interactions=25, popularity_exponent=1.2, random_state=3
    )
    binary = Interactions.from_arrays(raw.user_ids, raw.item_ids, None, aggregate="max").matrix
    heavy = sp.csr_matrix(binary, dtype=np.float64)
    heavy.data = np.minimum(np.floor(np.random.default_rng(2).random(heavy.nnz) ** (-1 / 1.2)), 1e4)
    uniformity = weight_uniformity(params_confidence(heavy, ALSParams(alpha=1.0)))
    assert uniformity is not None and uniformity < HEAVY_UNIFORMITY
    ratio = spectral_ratio(heavy)
    assert ratio is not None and ratio <= HEAVY_FLAT[0]
    assert auto_alpha(heavy) == alpha_from_totals(
        heavy.shape[0], heavy.shape[1], float(heavy.sum())
    )


def test_weight_uniformity_separates_heavy_tails_from_ratings_and_ignores_scale() -> None:
    rng = np.random.default_rng(0)
    pattern = sp.random(400, 300, density=0.05, random_state=1, format="csr")

    def uniformity_of(values: npt.NDArray[np.float64], alpha: float = 1.0) -> float | None:
        conf = pattern.copy()
        conf.data = 1.0 + alpha * values
        return weight_uniformity(conf)

    n = pattern.nnz
    assert uniformity_of(np.ones(n)) == pytest.approx(1.0)  # binary
    stars = rng.integers(1, 6, n).astype(np.float64)
    assert uniformity_of(stars) == pytest.approx(uniformity_of(stars, alpha=7.0))  # scale-free
    assert HEAVY_UNIFORMITY < (uniformity_of(stars) or 0.0) < 1.0
    lognormal = np.ceil(np.exp(rng.normal(0.0, 1.5, n)))
    pareto = np.minimum(np.floor(rng.random(n) ** (-1 / 1.2)), 1e4)
    assert (uniformity_of(pareto) or 1.0) < (uniformity_of(lognormal) or 1.0) < HEAVY_UNIFORMITY
    flat = pattern.copy()
    flat.data[:] = 1.0  # alpha 0: no weight at all
    assert weight_uniformity(flat) is None


def test_flat_spectrum_scale_is_the_geometric_blend_of_its_weight() -> None:
    for ratio, excess in [(0.45, 1.0), (0.35, 1.0), (0.45, 1.15), (0.33, 1.12), (0.2, 1.0)]:
        w = flat_spectrum_weight(ratio, excess)
        assert 0.0 <= w <= 1.0
        blended = flat_spectrum_scale(0.3, ratio, excess, 2.0)
        assert blended == pytest.approx(0.3 ** (1 - w) * 2.0**w)
    assert flat_spectrum_weight(None, 1.0) == flat_spectrum_weight(0.45, None) == 0.0
    # Heavy-tailed weights: the ramp in rho is 0.25-0.3 instead of 0.3-0.4.
    start, full = HEAVY_FLAT
    assert flat_spectrum_weight(start, 1.0, heavy=True) == 0.0
    assert flat_spectrum_weight(full, 1.0, heavy=True) == 1.0
    middle = (start * full) ** 0.5
    assert flat_spectrum_weight(middle, 1.0, heavy=True) == pytest.approx(0.5)
    assert flat_spectrum_weight(middle, 1.0) == 0.0
    blended = flat_spectrum_scale(0.3, middle, 1.0, 2.0, heavy=True)
    assert blended == pytest.approx((0.3 * 2.0) ** 0.5)


def test_popularity_gini_is_zero_for_equal_items_and_grows_with_concentration() -> None:
    assert popularity_gini(np.full(SPECTRAL_MIN_SIZE, 3.0)) == pytest.approx(0.0)
    # Gini from its definition: the mean absolute difference over twice the mean.
    masses = np.random.default_rng(0).pareto(1.5, 500) + 1.0
    pairs = np.abs(masses[:, None] - masses[None, :]).mean()
    assert popularity_gini(masses) == pytest.approx(pairs / (2 * masses.mean()))
    # Items without mass are left out; too few items with mass give no coefficient.
    assert popularity_gini(np.r_[masses, np.zeros(300)]) == popularity_gini(masses)
    assert popularity_gini(np.ones(SPECTRAL_MIN_SIZE - 1)) is None
    skewed = [popularity_gini(np.arange(1.0, 401.0) ** p) for p in (0.0, 0.5, 1.0, 2.0)]
    values = [g for g in skewed if g is not None]
    assert len(values) == 4 and values[0] == pytest.approx(0.0)
    assert all(a < b for a, b in itertools.pairwise(values))


def test_flat_popularity_takes_the_flat_multiple_and_blends_back() -> None:
    flat, skewed = FLAT_POPULARITY
    for spectral in (0.25, 0.8, 1.43):
        assert popularity_scale(spectral, 0.0) == popularity_scale(spectral, flat) == FLAT_SCALE
        assert popularity_scale(spectral, skewed) == pytest.approx(spectral)
        assert popularity_scale(spectral, 0.7) == popularity_scale(spectral, None) == spectral
        between = [popularity_scale(spectral, g) for g in np.linspace(flat, skewed, 9)]
        assert all(min(spectral, FLAT_SCALE) <= b <= max(spectral, FLAT_SCALE) for b in between)
        steps = np.diff(np.log(between))  # log-linear in log Gini: monotone towards spectral
        assert (np.sign(steps) == np.sign(np.log(spectral / FLAT_SCALE))).all()


def test_flat_item_popularity_raises_the_default_regularization() -> None:
    # Planted clusters, every item about equally popular: the spectrum is flattish (s_70 /
    # s_1 about 0.24, where the spectral multiple is about 1), and the items' Gini says
    # "flat popularity": the flat multiple.
    raw = synthetic(
        2000, 1000, n_clusters=10, mean_interactions=20, random_state=4, popularity_exponent=0.1
    )
    data = Interactions.from_arrays(raw.user_ids, raw.item_ids, None, aggregate="max")
    conf = params_confidence(data.matrix, ALSParams(alpha=1.0))
    gini = popularity_gini(np.asarray(conf.sum(axis=0)).ravel())
    assert gini is not None and gini <= FLAT_POPULARITY[0]
    ratio = spectral_ratio(conf)
    assert ratio is not None and ratio < SPECTRAL_FLAT  # no flat-spectrum check
    assert auto_multiple(conf) == pytest.approx(FLAT_SCALE)  # binary at alpha 1: level 2
    assert auto_regularization(conf) == pytest.approx(
        regularization_from_masses(conf.sum(axis=1), conf.sum(axis=0), scale=FLAT_SCALE)
    )
    # Skewed popularity keeps the spectral multiple.
    skew = synthetic(
        2000, 1000, n_clusters=10, mean_interactions=20, random_state=4, popularity_exponent=1.0
    )
    skewed = Interactions.from_arrays(skew.user_ids, skew.item_ids, None, aggregate="max")
    conf = params_confidence(skewed.matrix, ALSParams(alpha=1.0))
    skewed_gini = popularity_gini(np.asarray(conf.sum(axis=0)).ravel())
    assert skewed_gini is not None and skewed_gini > FLAT_POPULARITY[1]
    # (binary at alpha 1 has the level 2, where the damping of the law applies too)
    skewed_ratio = spectral_ratio(conf)
    damping = ratio_damping(skewed_ratio, LEVEL_REFERENCE, skewed_gini)
    assert auto_multiple(conf) == pytest.approx(spectral_scale(skewed_ratio) * damping)


def test_two_default_fits_of_larger_data_are_identical() -> None:
    raw = synthetic(n_users=300, n_items=200, mean_interactions=15, random_state=3)
    data = Interactions.from_arrays(raw.user_ids, raw.item_ids, raw.weights)
    first = Recommender(factors=8, iterations=3).fit(data)
    second = Recommender(factors=8, iterations=3).fit(data)
    assert first.params_.regularization == second.params_.regularization
    np.testing.assert_array_equal(first.user_factors_, second.user_factors_)


# -- alpha="auto" ---------------------------------------------------------------------------------


def binary_pattern(n_users: int, n_items: int, density: float) -> sp.csr_matrix:
    matrix = sp.random(n_users, n_items, density=density, random_state=1, format="csr")
    matrix.data[:] = 1.0
    return matrix


def test_auto_alpha_is_three_percent_of_the_pairs_over_the_observed_weight() -> None:
    sparse = binary_pattern(2000, 1000, 0.003)  # 6,000 of 2,000,000 pairs
    assert auto_alpha(sparse) == pytest.approx(0.03 * 2_000_000 / 6_000)  # 10
    heavier = sparse.copy()
    heavier.data[:] = 4.0  # four times the weight: a quarter of the slope
    assert auto_alpha(heavier) == pytest.approx(2.5)
    # kept within [1, 100]: dense data keeps the former default, the sparsest gets 100
    assert auto_alpha(binary_pattern(200, 100, 0.5)) == 1.0
    assert auto_alpha(binary_pattern(2000, 1000, 0.0001)) == 100.0
    # the Spark path (totals summed on the cluster) is the same rule
    assert alpha_from_totals(2000, 1000, float(sparse.sum())) == auto_alpha(sparse)


def test_auto_alpha_follows_the_weighting_scheme() -> None:
    counts = binary_pattern(2000, 1000, 0.003)
    counts.data[:] = np.arange(counts.nnz) % 7 + 1.0
    logged = float(np.log1p(counts.data / 2.0).sum())
    params = ALSParams(weighting="log", weighting_eps=2.0)
    assert auto_alpha(counts, params) == pytest.approx(0.03 * 2_000_000 / logged)
    assert auto_alpha(counts) == pytest.approx(0.03 * 2_000_000 / counts.data.sum())


def test_auto_alpha_reads_tiny_weights_in_double_precision() -> None:
    # 1 + 1e-9 is 1.0 in float32: a sum of f(w) read from the confidences would be 0 and
    # refuse positive weights; the rule reads f(w) in double precision.
    dense = binary_pattern(200, 100, 0.5)
    small = dense.copy()
    small.data[:] = 1e-9
    assert float(np.float32(1.0) + np.float32(1e-9)) == 1.0
    assert auto_alpha(dense) == 1.0
    # read at the bottom of WEIGHT_RANGE (mean 0.5), where the rule gives 1: confidence 1.5
    assert auto_alpha(small) == pytest.approx(WEIGHT_RANGE[0] / 1e-9)
    scaled = dense.copy()
    scaled.data[:] = 1.0e-9 * 2.0e7  # 0.02: the same rule at any scale below the range
    assert auto_alpha(scaled) == pytest.approx(WEIGHT_RANGE[0] / 0.02)
    users, items = small.nonzero()
    rec = Recommender(factors=4, iterations=1).fit(users.astype(str), items.astype(str), small.data)
    assert rec.params_.alpha_value == pytest.approx(WEIGHT_RANGE[0] / 1e-9)


def test_auto_alpha_follows_a_change_of_unit_outside_the_calibrated_range() -> None:
    # Inside WEIGHT_RANGE the rule is as it was; outside, the weights are read at the
    # nearer end of it, so seconds and milliseconds give the same confidences.
    sparse = binary_pattern(2000, 1000, 0.003)
    sparse.data[:] = np.arange(sparse.nnz) % 7 + 1.0  # mean 4: inside the range
    total = float(sparse.sum())
    assert auto_alpha(sparse) == alpha_from_totals(2000, 1000, total)
    assert auto_alpha(sparse) == alpha_from_totals(2000, 1000, total, n_pairs=sparse.nnz)
    edge = sparse * (WEIGHT_RANGE[1] / 4.0)  # mean 10: the top of the range
    for factor in (1.0, 1e3, 1e9):
        scaled = edge * factor
        assert auto_alpha(scaled) * factor == pytest.approx(auto_alpha(edge))
        assert alpha_from_totals(2000, 1000, total * factor * 2.5, n_pairs=sparse.nnz) == (
            pytest.approx(auto_alpha(scaled))
        )
    assert weight_unit(4.0 * 100, 100) == 1.0
    assert weight_unit(1e6 * 100, 100) == pytest.approx(WEIGHT_RANGE[1] / 1e6)


def test_a_default_model_does_not_depend_on_the_weights_unit() -> None:
    # Watch time in seconds or in milliseconds: the default model ranks the same. With the
    # slope kept at 1 or more, milliseconds gave confidences 1000 times too large and
    # NDCG@10 fell from 0.43 to 0.18 on this data.
    data = synthetic(n_users=1500, n_items=400, random_state=3)
    scores = []
    for factor in (1.0, 1000.0):
        full = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights * factor)
        train, test = holdout_split(full, 0.2, random_state=0)
        rec = Recommender(factors=16, iterations=8, random_state=0).fit(train)
        scores.append(ndcg_at_k(rec, test, 10))
    assert scores[1] >= 0.97 * scores[0], scores


def test_auto_alpha_refuses_data_it_cannot_read() -> None:
    with pytest.raises(DataError, match="alpha='auto' needs training interactions"):
        auto_alpha(sp.csr_matrix((3, 2)))
    zeros = sp.csr_matrix((np.zeros(2), ([0, 1], [0, 1])), shape=(2, 2))
    with pytest.raises(DataError, match="Pass a number for alpha"):
        auto_alpha(zeros)
    with pytest.raises(DataError, match="positive, finite"):
        alpha_from_totals(10, 10, float("nan"))


def test_fit_resolves_alpha_first_and_the_regularization_follows_it() -> None:
    raw = synthetic(3000, 1500, n_clusters=100, mean_interactions=6, random_state=3)
    data = Interactions.from_arrays(raw.user_ids, raw.item_ids, None, aggregate="max")
    rec = Recommender(factors=8, iterations=2).fit(data)
    assert rec.params.alpha == "auto"
    assert rec.params_.alpha_value == pytest.approx(auto_alpha(data.matrix))
    assert rec.params_.alpha_value > 5
    conf = params_confidence(data.matrix, rec.params_)
    assert rec.params_.regularization == pytest.approx(auto_regularization(conf))
    assert rec.model_.provenance.auto_params == ("alpha", "regularization")
    given = Recommender(factors=8, iterations=2, alpha=3.0).fit(data)
    assert given.params_.alpha == 3.0
    assert given.model_.provenance.auto_params == ("regularization",)


def test_sparse_data_with_many_clusters_ranks_better_with_auto_alpha() -> None:
    # 0.3% of the pairs observed, 100 planted clusters: with alpha 1 the unobserved pairs
    # drown the observed ones (about 13% lower NDCG@10 here).
    raw = synthetic(3000, 1500, n_clusters=100, mean_interactions=6, random_state=3)
    data = Interactions.from_arrays(raw.user_ids, raw.item_ids, None, aggregate="max")
    train, test = holdout_split(data, 0.2, random_state=0)
    default = Recommender().fit(train)
    former = Recommender(alpha=1.0).fit(train)
    assert ndcg_at_k(default, test, k=10) > 1.08 * ndcg_at_k(former, test, k=10)


def test_dense_data_keeps_alpha_one(data: Interactions) -> None:
    rec = small().fit(data)  # 8 of 16 pairs observed
    assert rec.params_.alpha == 1.0
    assert rec.model_.provenance.auto_params == ("alpha", "regularization")


# -- explicit values and the constructor's params -------------------------------------------------


@pytest.mark.parametrize("value", [0.0, 0.01, 250.0])
def test_an_explicit_number_is_used_as_given(data: Interactions, value: float) -> None:
    if value > 100:  # on 8 interactions this shrinks every factor to nothing, and says so
        with pytest.warns(AlsrecWarning, match="shrank to nothing.*regularization=250"):
            rec = small(regularization=value, alpha=1.0).fit(data)
    else:
        rec = small(regularization=value, alpha=1.0).fit(data)
    assert rec.params.regularization == value
    assert rec.params_.regularization == value
    assert rec.model_.provenance.auto_params == ()


def test_params_keep_auto_and_a_refit_resolves_again(data: Interactions) -> None:
    rec = small().fit(data)
    first = rec.params_.regularization
    assert rec.params.regularization == "auto"
    assert isinstance(first, float)
    other = Interactions.from_arrays(["x", "x", "y"], ["p", "q", "q"])
    rec.fit(other)
    assert rec.params.regularization == "auto"
    assert rec.params_.regularization == pytest.approx(expected_auto(other.matrix, 1.0))
    assert rec.params_.regularization != pytest.approx(first)


def test_a_bad_word_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="a number >= 0 or 'auto'"):
        ALSParams(regularization="automatic")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="only fit"):
        _ = ALSParams().regularization_value


def test_resolve_params_leaves_concrete_params_alone(data: Interactions) -> None:
    params = ALSParams(regularization=2.0, alpha=1.0)
    assert resolve_params(params, data.matrix) == (params, ())


def test_summary_and_repr_show_the_value_and_its_origin(data: Interactions) -> None:
    rec = small()
    assert "regularization='auto'" in repr(rec)
    assert "alpha='auto'" in repr(rec)
    rec.fit(data)
    shown = f"{rec.params_.regularization:g} (auto)"
    assert shown in repr(rec)
    assert f"regularization {shown}" in rec.summary()
    assert f"alpha={rec.params_.alpha:g} (auto)" in repr(rec)
    assert "(auto)" not in repr(small(regularization=0.5, alpha=1.0).fit(data))


# -- artifacts ------------------------------------------------------------------------------------


def test_manifest_and_inspect_record_the_value_and_origin(
    data: Interactions, tmp_path: Path
) -> None:
    rec = small().fit(data)
    value = rec.params_.regularization
    path = rec.save(tmp_path / "model")
    manifest = read_manifest(path)
    assert manifest["params"]["regularization"] == value
    assert manifest["auto_params"] == ["alpha", "regularization"]
    assert manifest["params"]["alpha"] == rec.params_.alpha
    for report in (rec.inspect(), inspect_artifact(path)):
        assert report.params.regularization == value
        assert report.auto_params == ("alpha", "regularization")
        assert report.to_dict()["auto_params"] == ["alpha", "regularization"]
        assert f"regularization {value:g} (auto)" in str(report)
        assert f"alpha {rec.params_.alpha:g} (auto)" in str(report)


def test_round_trip_keeps_the_value_and_origin(data: Interactions, tmp_path: Path) -> None:
    rec = small().fit(data)
    loaded = Recommender.load(rec.save(tmp_path / "model"))
    assert loaded.params_ == rec.params_
    assert loaded.model_.provenance.auto_params == ("alpha", "regularization")
    assert loaded.params.regularization == loaded.params.alpha == "auto"  # a refit resolves
    again = Recommender.load(loaded.save(tmp_path / "again"))
    assert again.params_.regularization == rec.params_.regularization
    explicit = small(regularization=0.3, alpha=1.0).fit(data)
    loaded = Recommender.load(explicit.save(tmp_path / "explicit"))
    assert loaded.params.regularization == loaded.params_.regularization == 0.3
    assert loaded.model_.provenance.auto_params == ()


def test_an_artifact_without_auto_params_loads(data: Interactions, tmp_path: Path) -> None:
    # Artifacts written before "auto" existed have no such entry.
    path = small(regularization=0.3).fit(data).save(tmp_path / "model")
    manifest_path = path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["auto_params"]
    del manifest["manifest_sha256"]  # nor a checksum of the manifest
    manifest_path.write_text(json.dumps(manifest))
    loaded = Recommender.load(path)
    assert loaded.model_.provenance.auto_params == ()
    assert loaded.params_.regularization == 0.3


# -- paths without training ------------------------------------------------------------------------


def test_from_factors_resolves_auto_from_seen(data: Interactions) -> None:
    rng = np.random.default_rng(0)
    users, items = rng.random((4, 2)), rng.random((4, 2))
    rec = Recommender.from_factors(users, items, data.users, data.items, seen=data.matrix)
    assert rec.params_.alpha == 1.0  # 8 of 16 pairs observed: the floor
    assert rec.params_.regularization == pytest.approx(expected_auto(data.matrix, 1.0))
    assert rec.model_.provenance.auto_params == ("alpha", "regularization")
    assert rec.recommend_for_history(["tea"]).source == "fold-in"


def test_from_factors_without_seen_refuses_to_fold_in_with_auto(data: Interactions) -> None:
    rng = np.random.default_rng(0)
    users, items = rng.random((4, 2)), rng.random((4, 2))
    rec = Recommender.from_factors(users, items, data.users, data.items)
    assert rec.params_.regularization == rec.params_.alpha == "auto"
    assert [i for i, _ in rec.recommend("ann", n=2)]  # stored factors need no lambda
    with pytest.raises(ConfigError, match=r"alpha='auto', regularization='auto'.*from_factors"):
        rec.recommend_for_history(["tea"])
    with pytest.raises(ConfigError, match=r"params=ALSParams\(alpha=\.\.\., regularization="):
        rec.recommend("ann", history=["tea"])
    given = Recommender.from_factors(
        users, items, data.users, data.items, params=ALSParams(regularization=0.5, alpha=1.0)
    )
    assert given.params_.regularization == 0.5
    assert given.recommend_for_history(["tea"]).source == "fold-in"


def test_updated_keeps_the_trained_value(data: Interactions) -> None:
    rec = small().fit(data)
    new = rec.updated(["eve", "ann"], ["tea", "mug"])
    assert new.params_.regularization == rec.params_.regularization
    assert new.params_.alpha == rec.params_.alpha
    assert new.model_.provenance.auto_params == ("alpha", "regularization")


# -- reproducible by default ----------------------------------------------------------------------


def test_two_default_fits_give_the_same_model(data: Interactions) -> None:
    assert ALSParams().random_state == 0
    first = Recommender(factors=4).fit(data)
    second = Recommender(factors=4).fit(data)
    np.testing.assert_array_equal(first.user_factors_, second.user_factors_)
    np.testing.assert_array_equal(first.item_factors_, second.item_factors_)


def test_random_state_none_gives_fresh_seeds(data: Interactions) -> None:
    first = Recommender(factors=4, random_state=None).fit(data)
    second = Recommender(factors=4, random_state=None).fit(data)
    assert not np.array_equal(first.user_factors_, second.user_factors_)


# -- the point of it: better models out of the box -------------------------------------------------


def test_defaults_beat_the_former_defaults_on_planted_clusters() -> None:
    raw = synthetic(n_users=1500, n_items=400, n_clusters=8, mean_interactions=20, random_state=3)
    full = Interactions.from_arrays(raw.user_ids, raw.item_ids, raw.weights)
    train, test = holdout_split(full, 0.2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlsrecWarning)
        default = ndcg_at_k(Recommender().fit(train), test, 10)
        former = ndcg_at_k(Recommender(regularization=0.01).fit(train), test, 10)
    assert default > 1.5 * former, (default, former)  # measured: 0.394 vs 0.135


def test_a_backend_may_size_auto_for_its_own_penalty(data: Interactions) -> None:
    # A backend whose penalty is not the constant one (Spark's ALS-WR) scales the value
    # resolved from "auto"; a number given by the user is left alone.
    from alsrec.backends import get_backend

    class Halving:
        name = "halving"
        deterministic = True

        def __init__(self) -> None:
            self.inner = get_backend("numpy")

        def fit(self, confidence: sp.csr_matrix, params: ALSParams, **kw: object) -> object:
            self.trained = params.regularization_value
            return self.inner.fit(confidence, params, **kw)  # type: ignore[arg-type]

        def auto_regularization_share(self, confidence: sp.csr_matrix) -> float:
            return 0.5

    plain = Recommender(factors=2, iterations=1).fit(data)
    backend = Halving()
    halved = Recommender(factors=2, iterations=1, backend=backend).fit(data)  # type: ignore[arg-type]
    value = plain.params_.regularization_value
    assert halved.params_.regularization == pytest.approx(value / 2)
    assert backend.trained == pytest.approx(value / 2)
    assert halved.model_.provenance.auto_params == ("alpha", "regularization")
    Recommender(factors=2, iterations=1, regularization=3.0, backend=backend).fit(data)  # type: ignore[arg-type]
    assert backend.trained == 3.0
    # A count-scaled penalty asked for is sized by the rule itself, not twice.
    wr = {"regularization_exponent": 1.0, "regularization_scale": "count"}
    own = Recommender(factors=2, iterations=1, **wr).fit(data)  # type: ignore[arg-type]
    Recommender(factors=2, iterations=1, backend=backend, **wr).fit(data)  # type: ignore[arg-type]
    assert backend.trained == pytest.approx(own.params_.regularization_value)
