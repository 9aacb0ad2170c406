"""The weak-signal check of ``regularization="auto"``: ``signal_energy`` and its factor.

Where the pattern's components after the first hardly stand above chance, the best ALS
model is close to the popularity ranker, and the rule's value left it half-way down the
cliff to it; the check multiplies the value by up to ``WEAK_SCALE``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp

from alsrec import ALSParams, Interactions, Recommender
from alsrec.datasets import synthetic
from alsrec.evaluation import holdout_split, ndcg_at_k
from alsrec.model.defaults import (
    LEVEL_REFERENCE,
    WEAK_SCALE,
    WEAK_SIGNAL,
    auto_regularization,
    level_factor,
    params_confidence,
    weak_signal_factor,
)
from alsrec.model.statistics import SPECTRAL_MIN_SIZE, signal_energy


def _data(in_cluster: float, seed: int = 7) -> Interactions:
    raw = synthetic(
        5000, 2500, n_clusters=16, mean_interactions=12, in_cluster=in_cluster, random_state=seed
    )
    return Interactions.from_arrays(raw.user_ids, raw.item_ids, None, aggregate="max")


@pytest.fixture(scope="module")
def weak() -> Interactions:
    """Binary data whose clusters hold 30% of each user's items, popularity the rest."""
    return _data(0.3)


def test_signal_energy_is_small_for_noise_large_for_planted_blocks_and_reads_the_pattern() -> None:
    noise = sp.random(600, 400, density=0.05, random_state=1, format="csr")
    energy = signal_energy(noise)
    assert energy is not None and energy < 0.1  # chance fluctuations only
    assert signal_energy(noise.copy()) == energy  # seeded: the same number every call
    scaled = noise.copy()
    scaled.data = scaled.data**3 + 7.0
    assert signal_energy(scaled) == energy  # where the pairs are, not their weights
    parts = [sp.random(40, 30, density=0.5, random_state=s) for s in range(10)]
    planted = signal_energy(sp.block_diag(parts, format="csr"))
    assert planted is not None and planted > 5  # nine more strong components: signal
    assert signal_energy(sp.random(SPECTRAL_MIN_SIZE - 1, 400, density=0.05)) is None


def test_weak_signal_factor_is_the_scale_below_the_band_one_above_it_and_monotone() -> None:
    weak, strong = WEAK_SIGNAL
    assert weak_signal_factor(None) == 1.0
    assert weak_signal_factor(0.0) == weak_signal_factor(weak) == WEAK_SCALE
    assert weak_signal_factor(strong) == weak_signal_factor(5.0) == 1.0
    between = [weak_signal_factor(e) for e in np.linspace(weak, strong, 9)]
    assert between[0] == pytest.approx(WEAK_SCALE) and between[-1] == pytest.approx(1.0)
    assert all(a > b for a, b in itertools.pairwise(between))


def test_on_weak_data_a_level_factor_below_one_is_undone_in_the_same_share() -> None:
    weak, strong = WEAK_SIGNAL
    heavy = 0.2  # the confidence level of Pareto counts: level factor about 0.63
    assert level_factor(heavy) < 1.0
    assert weak_signal_factor(weak, heavy) == pytest.approx(WEAK_SCALE / level_factor(heavy))
    # uniform confidences at or above the reference level keep the plain factor
    assert weak_signal_factor(weak, LEVEL_REFERENCE) == weak_signal_factor(weak, 8.0) == WEAK_SCALE
    assert weak_signal_factor(strong, heavy) == 1.0  # not weak: nothing to undo
    middle = math.sqrt(weak * strong)
    plain = weak_signal_factor(middle)
    share = math.log(plain) / math.log(WEAK_SCALE)  # about half of the way
    assert 0.4 < share < 0.6
    expected = plain * (1.0 / level_factor(heavy)) ** share
    assert weak_signal_factor(middle, heavy) == pytest.approx(expected)


def test_weak_data_takes_the_factor_and_ranks_at_least_as_well(weak: Interactions) -> None:
    train, test = holdout_split(weak, 0.2, random_state=0)
    energy = signal_energy(train.matrix)
    assert energy is not None and energy <= WEAK_SIGNAL[0]
    rec = Recommender(random_state=0).fit(train)
    conf = params_confidence(train.matrix, rec.params_)
    rule = auto_regularization(conf)  # the value with every check, the weak one included
    assert rec.params_.regularization_value == pytest.approx(rule)
    # The value the rule gave before the check: the same fit with it divided out.
    before = Recommender(
        alpha=rec.params_.alpha_value,
        regularization=rule / WEAK_SCALE,
        random_state=0,
    ).fit(train)
    assert ndcg_at_k(rec, test, k=10) > ndcg_at_k(before, test, k=10)


def test_data_with_a_clear_signal_is_left_alone() -> None:
    strong = _data(0.8)
    energy = signal_energy(strong.matrix)
    assert energy is not None and energy >= WEAK_SIGNAL[1]
    assert weak_signal_factor(energy) == 1.0


def test_the_factor_multiplies_the_rule_exactly(weak: Interactions) -> None:
    conf = params_confidence(weak.matrix, ALSParams(alpha=1.0))
    energy = signal_energy(conf)
    assert energy is not None
    with_check = auto_regularization(conf)
    # auto_regularization(scale=...) takes the multiple as given: no check applied.
    assert with_check > auto_regularization(conf, scale=0.01)
    assert weak_signal_factor(energy) == WEAK_SCALE
