"""The implicit-ALS objective used for progress reports."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from alsrec import DataError, Interactions, Recommender
from alsrec.model.loss import als_loss
from alsrec.weighting import confidence


def dense_loss(conf: np.ndarray, users: np.ndarray, items: np.ndarray, lam: float) -> float:
    observed = conf > 0
    c = np.where(observed, conf, 1.0)
    p = observed.astype(float)
    s = users @ items.T
    penalty = lam * ((users**2).sum() + (items**2).sum())
    return float(((c * (p - s) ** 2).sum() + penalty) / c.sum())


def test_matches_the_dense_definition() -> None:
    rng = np.random.default_rng(0)
    conf = np.where(rng.random((7, 5)) < 0.4, 1.0 + 3.0 * rng.random((7, 5)), 0.0)
    users, items = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    got = als_loss(sp.csr_matrix(conf.astype(np.float32)), users, items, 0.7)
    assert got == pytest.approx(dense_loss(conf.astype(np.float32), users, items, 0.7), rel=1e-6)


def test_extra_factor_rows_are_ignored_and_bad_shapes_refused() -> None:
    conf = sp.csr_matrix(np.array([[2.0, 0.0]], dtype=np.float32))
    users, items = np.ones((3, 2)), np.ones((4, 2))
    assert als_loss(conf, users, items, 0.0) == als_loss(conf, users[:1], items[:2], 0.0)
    with pytest.raises(DataError, match="do not fit"):
        als_loss(conf, np.ones((1, 2)), np.ones((2, 3)), 0.0)


def test_exact_als_never_increases_the_loss(small_interactions: Interactions) -> None:
    # Each exact solve minimises the objective over one side, so the sequence cannot rise.
    lam, alpha = 2.0, 3.0
    conf = confidence(small_interactions.matrix, alpha)
    losses: list[float] = []

    def record(iteration: int, users: np.ndarray, items: np.ndarray) -> None:
        losses.append(als_loss(conf, users, items, lam))

    Recommender(
        factors=6, regularization=lam, alpha=alpha, iterations=6, solver="cholesky", random_state=0
    ).fit(small_interactions, callback=record)
    assert len(losses) == 6
    assert all(b <= a * (1 + 1e-6) for a, b in itertools.pairwise(losses))
    assert losses[-1] < losses[0]
