"""The damping of the spectral law in ``regularization="auto"`` (``ratio_damping``).

Above a spectral ratio of 0.12, on data with skewed item popularity at a low confidence
level, the rule's multiple rises more slowly with the ratio: sparse MovieLens-style data
sat at a cliff just above the undamped value.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from alsrec import ALSParams, Interactions, Recommender
from alsrec.datasets import synthetic
from alsrec.evaluation import holdout_split, ndcg_at_k
from alsrec.model import noise_multiple
from alsrec.model.defaults import (
    DAMPED_EXPONENT,
    DAMPED_GINI,
    DAMPED_LEVEL,
    DAMPED_RATIO,
    SPECTRAL_FITTED,
    SPECTRAL_FLAT,
    WEAK_SCALE,
    WEAK_SIGNAL,
    auto_regularization,
    params_confidence,
    ratio_damping,
    resolve_params,
    weak_signal_factor,
)
from alsrec.model.statistics import (
    matrix_level,
    popularity_gini,
    signal_energy,
    spectral_ratio,
)


def _counts(seed: int, n_users: int, n_items: int, mean: int) -> Interactions:
    raw = synthetic(n_users, n_items, n_clusters=30, mean_interactions=mean, random_state=seed)
    return Interactions.from_arrays(raw.user_ids, raw.item_ids, raw.weights)


@pytest.fixture(scope="module")
def moderate() -> Interactions:
    """Poisson counts, skewed popularity, a spectral ratio above 0.12 at a low level."""
    return _counts(321, 3000, 1500, 20)


def test_the_factor_is_one_outside_its_region_and_full_inside_it() -> None:
    low_level, high_level = DAMPED_LEVEL
    flat, skewed = DAMPED_GINI
    assert ratio_damping(None, 2.0, 0.6) == ratio_damping(0.2, 2.0, None) == 1.0
    assert ratio_damping(DAMPED_RATIO, 2.0, 0.6) == ratio_damping(0.09, 2.0, 0.6) == 1.0
    assert ratio_damping(0.2, high_level, 0.6) == ratio_damping(0.2, 30.0, 0.6) == 1.0
    assert ratio_damping(0.2, 2.0, flat) == ratio_damping(0.2, 2.0, 0.1) == 1.0
    full = (0.2 / DAMPED_RATIO) ** -DAMPED_EXPONENT
    assert ratio_damping(0.2, low_level, skewed) == pytest.approx(full)
    assert ratio_damping(0.2, 1.0, 0.9) == pytest.approx(full)


def test_the_factor_is_continuous_and_monotone_in_each_statistic() -> None:
    top = SPECTRAL_FITTED[1]
    rising = [ratio_damping(r, 2.0, 0.6) for r in np.linspace(DAMPED_RATIO, top, 12)]
    assert rising[0] == 1.0 and all(a > b for a, b in itertools.pairwise(rising))
    # above the law's fitted range it fades out, to 1 where the law is back at 0.8
    fading = [ratio_damping(r, 2.0, 0.6) for r in np.geomspace(top, SPECTRAL_FLAT, 9)]
    assert fading[0] == pytest.approx(rising[-1]) and fading[-1] == pytest.approx(1.0)
    assert all(a < b for a, b in itertools.pairwise(fading))
    levels = [ratio_damping(0.2, v, 0.6) for v in np.geomspace(*DAMPED_LEVEL, 9)]
    assert levels[-1] == pytest.approx(1.0)
    assert all(a < b for a, b in itertools.pairwise(levels))  # the damping fades with level
    ginis = [ratio_damping(0.2, 2.0, g) for g in np.geomspace(*DAMPED_GINI, 9)]
    assert ginis[0] == pytest.approx(1.0)
    assert all(a > b for a, b in itertools.pairwise(ginis))  # and grows with skew
    energies = [ratio_damping(0.2, 2.0, 0.6, e) for e in np.geomspace(*WEAK_SIGNAL, 9)]
    assert energies[0] == pytest.approx(1.0) and energies[-1] == ratio_damping(0.2, 2.0, 0.6)
    assert all(a > b for a, b in itertools.pairwise(energies))


def test_the_rule_has_no_jump_where_the_weak_check_hands_over() -> None:
    # Across the weak-signal band one factor fades out as the other fades in: their
    # product moves by small steps, with no jump at either end of the band.
    weak, strong = WEAK_SIGNAL
    energies = np.geomspace(weak * 0.98, strong * 1.02, 200)
    product = [weak_signal_factor(e) * ratio_damping(0.2, 2.0, 0.6, e) for e in energies]
    steps = np.abs(np.diff(np.log(product)))
    assert steps.max() < 0.01
    assert product[0] == pytest.approx(WEAK_SCALE)
    assert product[-1] == pytest.approx(ratio_damping(0.2, 2.0, 0.6))


def test_the_rule_takes_the_factor_of_its_data(
    moderate: Interactions, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = params_confidence(moderate.matrix, ALSParams(alpha=1.0))
    masses = np.asarray(conf.sum(axis=0)).ravel()
    factor = ratio_damping(spectral_ratio(conf), matrix_level(conf), popularity_gini(masses))
    assert factor < 0.95  # the data is in the damping's region
    damped = auto_regularization(conf)
    monkeypatch.setattr(noise_multiple, "DAMPED_EXPONENT", 0.0)
    assert auto_regularization(conf) * factor == pytest.approx(damped)


def test_data_outside_the_region_keeps_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    # binary data at a large alpha (a high confidence level): the law as fitted
    raw = synthetic(6000, 3000, mean_interactions=7, random_state=320)
    binary = Interactions.from_arrays(raw.user_ids, raw.item_ids, None, aggregate="max")
    # flat popularity with a clear signal at a low level: only the Gini weight is 0 here
    raw = synthetic(1500, 800, mean_interactions=40, popularity_exponent=0.0, random_state=7)
    flat = Interactions.from_arrays(raw.user_ids, raw.item_ids, raw.weights).matrix
    conf = params_confidence(flat, resolve_params(ALSParams(), flat)[0])
    gini = popularity_gini(np.asarray(conf.sum(axis=0)).ravel())
    ratio = spectral_ratio(conf)
    assert gini is not None and gini <= DAMPED_GINI[0]
    assert ratio is not None and DAMPED_RATIO < ratio < 0.3
    assert matrix_level(conf) <= DAMPED_LEVEL[0]
    assert weak_signal_factor(signal_energy(flat), matrix_level(conf)) == 1.0
    # a random pattern: weak signal, whose factor the damping leaves alone
    weak = sp.random(400, 300, density=0.05, random_state=1, format="csr")
    sets = (binary.matrix, flat, weak)
    values = [resolve_params(ALSParams(), m)[0].regularization for m in sets]
    monkeypatch.setattr(noise_multiple, "DAMPED_EXPONENT", 0.0)
    assert [resolve_params(ALSParams(), m)[0].regularization for m in sets] == values


def test_the_damped_value_ranks_at_least_as_well(
    moderate: Interactions, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, test = holdout_split(moderate, 0.2, random_state=321)
    damped = Recommender(random_state=0).fit(train)
    with monkeypatch.context() as patch:
        patch.setattr(noise_multiple, "DAMPED_EXPONENT", 0.0)
        plain = Recommender(random_state=0).fit(train)
    assert damped.params_.regularization_value < 0.9 * plain.params_.regularization_value
    assert ndcg_at_k(damped, test, k=10) >= ndcg_at_k(plain, test, k=10)
