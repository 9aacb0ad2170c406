"""alsrec.explain and Recommender.explain / explain_history: exact splits of ALS scores."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import numpy as np
import pytest
import scipy.sparse as sp

from alsrec import ALSParams, ConfigError, Interactions, Recommender, UnknownIdError
from alsrec.backends import available
from alsrec.explain import Explanation, contributions

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

_STATUSES = available()


def _check_sum(why: Explanation) -> None:
    total = math.fsum([*why.contributions.tolist(), why.rest, why.residual])
    assert total == pytest.approx(why.score, rel=1e-12, abs=1e-12)


def _score_of(rec: Recommender, user: str, item: str, **kwargs: object) -> float:
    recs = rec.recommend(user, n=len(rec.items_), **kwargs)  # type: ignore[arg-type]
    return dict(recs.to_list())[item]


def _dense_split(rec: Recommender, weights: dict[str, float], item: str) -> dict[str, float]:
    """The paper's formula over the full confidence matrix: W_u = (YᵀC_uY + λI)⁻¹."""
    y = rec.item_factors_.astype(np.float64)
    c = np.ones(y.shape[0])
    rows = rec.items_.to_index(list(weights))
    c[rows] = 1.0 + rec.params_.alpha_value * np.asarray(list(weights.values()), dtype=np.float32)
    w = np.linalg.inv(
        y.T @ (c[:, None] * y) + rec.params_.regularization_value * np.eye(y.shape[1])
    )
    target = y[rec.items_.index_of(item)]
    return {j: float(target @ w @ y[r] * c[r]) for j, r in zip(weights, rows, strict=True)}


def test_fold_in_split_matches_the_paper_formula(fitted: Recommender) -> None:
    history = {"I000003": 2.0, "I000017": 1.0, "I000040": 5.0}
    target = "I000090"
    why = fitted.explain_history(list(history), target, list(history.values()))
    expected = _dense_split(fitted, history, target)
    got = dict(why.to_list())
    assert set(got) == set(expected)
    for item, value in expected.items():
        assert got[item] == pytest.approx(value, rel=1e-6, abs=1e-9)
    assert why.residual == 0.0 and why.source == "fold-in"
    _check_sum(why)


def test_fold_in_score_is_what_recommend_gives(fitted: Recommender) -> None:
    history = ["I000003", "I000017", "I000003"]  # a repeat: weights summed
    recs = fitted.recommend_for_history(history, n=5)
    for item, score in recs:
        why = fitted.explain_history(history, item)
        assert why.score == pytest.approx(score, rel=1e-5, abs=1e-6)
        assert why.items.tolist().count("I000003") == 1
        _check_sum(why)
    user = str(fitted.users_.ids[5])
    recs = fitted.recommend(user, n=3, history=["I000050"])
    for item, score in recs:
        why = fitted.explain(user, item, history=["I000050"])
        assert why.source == "fold-in" and why.residual == 0.0
        assert why.score == pytest.approx(score, rel=1e-5, abs=1e-6)
        seen = fitted.seen_
        assert seen is not None
        row = fitted.users_.index_of(user)
        training = set(fitted.items_.to_id(seen[row].indices).tolist())
        assert set(why.items.tolist()) == training | {"I000050"}


def test_stored_model_score_with_a_residual(fitted: Recommender) -> None:
    seen = fitted.seen_
    assert seen is not None
    for row in (0, 7, 42):
        user = str(fitted.users_.ids[row])
        for item, score in fitted.recommend(user, n=3):
            why = fitted.explain(user, item)
            assert why.source == "model"
            assert why.score == pytest.approx(score, rel=1e-5, abs=1e-6)
            _check_sum(why)
            assert set(why.items.tolist()) == set(fitted.items_.to_id(seen[row].indices).tolist())
            # The exact split of the training history: what a fold-in of it would score.
            hist = fitted.items_.to_id(seen[row].indices)
            folded = fitted.explain_history(hist, item, seen[row].data)
            assert why.explained == pytest.approx(folded.score, rel=1e-9)
            # A trained model is close to, not exactly, the least-squares solution.
            assert abs(why.residual) < 0.2 * abs(why.score)


def test_residual_is_zero_for_an_exactly_solved_user_factor(fitted: Recommender) -> None:
    seen = fitted.seen_
    assert seen is not None
    user = str(fitted.users_.ids[3])
    row = fitted.users_.index_of(user)
    hist = fitted.items_.to_id(seen[row].indices)
    exact = fitted.recommend_for_history(hist, seen[row].data, n=1)
    # After updated(), the touched user's factor is the exact solve against the items.
    updated = fitted.updated([user], [str(hist[0])], [1e-3])
    item = str(exact.ids[0])
    why = updated.explain(user, item)
    assert why.source == "model"
    assert abs(why.residual) < 1e-5 * max(1.0, abs(why.score))
    _check_sum(why)


def test_top_n_keeps_the_largest_and_sums_the_rest(fitted: Recommender) -> None:
    user = str(fitted.users_.ids[0])
    item = str(fitted.recommend(user, n=1).ids[0])
    full = fitted.explain(user, item)
    top = fitted.explain(user, item, n=2)
    assert len(top) == 2 < len(full)
    assert list(full.contributions) == sorted(full.contributions, reverse=True)
    assert top.items.tolist() == full.items.tolist()[:2]
    assert top.rest == pytest.approx(float(full.contributions[2:].sum()), rel=1e-9, abs=1e-12)
    assert full.rest == 0.0
    _check_sum(top)
    assert top.score == full.score and top.residual == full.residual
    with pytest.raises(ConfigError, match="n must be >= 1"):
        fitted.explain(user, item, n=0)


@pytest.mark.parametrize("name", [s.name for s in _STATUSES])
def test_every_backend(
    name: str, small_interactions: Interactions, require_backend: Callable[[str], None]
) -> None:
    require_backend(name)
    rec = Recommender(
        factors=8, regularization=5.0, alpha=2.0, iterations=8, random_state=0, backend=name
    ).fit(small_interactions)
    user = str(rec.users_.ids[10])
    for item, score in rec.recommend(user, n=3):
        why = rec.explain(user, item)
        assert why.score == pytest.approx(score, rel=1e-4, abs=1e-5)
        assert abs(why.residual) < 0.2 * abs(why.score)
        _check_sum(why)
        anonymous = rec.explain_history(why.items, item)
        _check_sum(anonymous)


def test_a_loaded_model_explains_the_same(fitted: Recommender, tmp_path: Path) -> None:
    loaded = Recommender.load(fitted.save(tmp_path / "model"))
    user = str(fitted.users_.ids[1])
    item = str(fitted.recommend(user, n=1).ids[0])
    a, b = fitted.explain(user, item), loaded.explain(user, item)
    assert a.items.tolist() == b.items.tolist()
    assert np.allclose(a.contributions, b.contributions, rtol=1e-9)
    assert a.residual == pytest.approx(b.residual, rel=1e-9, abs=1e-12)


def test_unknown_ids_follow_the_policy(fitted: Recommender) -> None:
    why = fitted.explain("nobody", "I000001")
    assert why.source == "fallback" and len(why) == 0
    assert fitted.seen_ is not None
    popularity = int((fitted.seen_.indices == fitted.items_.index_of("I000001")).sum())
    assert why.score == popularity == why.residual
    _check_sum(why)
    with pytest.raises(UnknownIdError, match="nobody"):
        fitted.explain("nobody", "I000001", policy="strict")
    for policy in ("safe", "strict"):
        with pytest.raises(UnknownIdError, match="no score to explain"):
            fitted.explain(str(fitted.users_.ids[0]), "no-such-item", policy=policy)
    user = str(fitted.users_.ids[0])
    partly = fitted.explain(user, "I000001", history=["I000002", "zzz"])
    assert partly.skipped == ("zzz",) and partly.source == "fold-in"
    with pytest.raises(UnknownIdError, match="zzz"):
        fitted.explain(user, "I000001", history=["zzz"], policy="strict")
    empty = fitted.explain_history(["zzz"], "I000001")
    assert empty.source == "fallback" and empty.skipped == ("zzz",)
    folded = fitted.explain("newcomer", "I000001", history=["I000002"])
    assert folded.source == "fold-in" and folded.user == "newcomer"
    assert folded.items.tolist() == ["I000002"]


def test_without_training_interactions_only_histories_are_explained() -> None:
    rec = Recommender.from_factors(
        [[1.0, 0.5], [0.2, 1.0]],
        [[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]],
        [1, 2],
        [10, 20, 30],
        params=ALSParams(regularization=0.01, alpha=1.0),  # without seen=, "auto" cannot resolve
    )
    # the way out names the paths that build such a model (a legacy pickle holds none)
    with pytest.raises(ConfigError, match=r"no training interactions .*legacy pickle.*"
                       r"Rebuild it with seen=.*explain_history"):  # fmt: skip
        rec.explain(1, 30)
    why = rec.explain_history([10, 20], 30, [2.0, 1.0])
    assert why.items.tolist() == [10, 20]  # plain ints, largest first
    assert type(why.to_dict()["contributions"][0]["item"]) is int
    _check_sum(why)


def test_explanation_values_are_read_only_and_serializable(fitted: Recommender) -> None:
    seen = fitted.seen_
    assert seen is not None
    user = str(fitted.users_.ids[int(np.argmax(np.diff(seen.indptr)))])  # the longest history
    item = str(fitted.recommend(user, n=1).ids[0])
    why = fitted.explain(user, item, n=3)
    with pytest.raises(ValueError, match="read-only"):
        why.contributions[0] = 1.0
    data = json.loads(json.dumps(why.to_dict()))
    assert data["user"] == user and data["item"] == item and data["source"] == "model"
    assert len(data["contributions"]) == 3
    first = data["contributions"][0]
    assert first["contribution"] == pytest.approx(first["confidence"] * first["similarity"])
    text = str(why)
    assert item in text and "residual" in text and "other history items" in text
    with pytest.raises(ValueError, match="one entry per history item"):
        Explanation(1, 2, 0.0, "model", np.array([1]), np.zeros(2), np.zeros(1), np.zeros(1))


def test_contributions_function_with_singular_system() -> None:
    # Regularization 0 and rank-deficient factors: the minimum-norm solve, still a split.
    y = np.array([[1.0, 1.0], [2.0, 2.0], [0.5, 0.5]], dtype=np.float32)
    gram = y.T.astype(np.float64) @ y
    sim, contrib = contributions(y, gram, 2, np.array([0, 1]), [3.0, 1.0])
    lhs = gram + 2.0 * np.outer(y[0], y[0])
    x = np.linalg.pinv(lhs) @ (3.0 * y[0] + 1.0 * y[1])
    assert contrib.sum() == pytest.approx(float(y[2] @ x), rel=1e-6)
    assert np.allclose(contrib, sim * np.array([3.0, 1.0]))


@pytest.mark.parametrize("weighting", ["linear", "log", "bm25", "tfidf"])
def test_every_weighting_scheme(weighting: str, small_interactions: Interactions) -> None:
    from alsrec import ALSParams

    rec = Recommender(factors=8, regularization=5.0, alpha=2.0, iterations=8, random_state=0)
    rec.set_params(params=ALSParams.from_dict({**rec.params.to_dict(), "weighting": weighting}))
    rec.fit(small_interactions)
    user = str(rec.users_.ids[4])
    history = ["I000003", "I000017", "I000040"]
    for item, score in rec.recommend_for_history(history, [3.0, 1.0, 2.0], n=3):
        why = rec.explain_history(history, item, [3.0, 1.0, 2.0])
        assert why.score == pytest.approx(score, rel=1e-5, abs=1e-6)
        _check_sum(why)
    for item, score in rec.recommend(user, n=3):
        why = rec.explain(user, item)
        assert why.score == pytest.approx(score, rel=1e-5, abs=1e-6)
        assert abs(why.residual) < 0.2 * abs(why.score)
        _check_sum(why)


def test_an_imported_implicit_model_explains_its_own_scores() -> None:
    # implicit's confidence is alpha * w, alsrec's 1 + alpha * w: from_implicit translates
    # implicit's alpha, so a converged implicit model's scores are explained with no
    # residual (with alpha 1 recorded as before, 29% of a score showed as "residual").
    implicit_als = pytest.importorskip("implicit.als")
    matrix = sp.random(40, 25, density=0.2, random_state=3, format="csr", dtype=np.float32)
    matrix.data[:] = 1.0
    model = implicit_als.AlternatingLeastSquares(
        factors=4, regularization=0.1, iterations=200, use_cg=False, random_state=0, use_gpu=False
    )
    model.fit(matrix, show_progress=False)
    users, items = [f"u{k}" for k in range(40)], [f"i{k}" for k in range(25)]
    rec = Recommender.from_implicit(model, users, items, seen=matrix)
    for user in users[:8]:
        why = rec.explain(user, "i0")
        assert abs(why.residual) <= 1e-4 * max(abs(why.score), 1e-3)


@pytest.mark.parametrize("weight", [3.0, 1e9, 1e20, 1e30])
def test_a_history_weight_far_above_the_penalty_is_explained_as_fold_in_scores_it(
    weight: float,
) -> None:
    # From 1e8 times the penalty fold-in solves through the dual system; explain follows it
    # (with the normal equations, 1e20 gave 0.396 for a fold-in score of 0.386).
    rec = Recommender(factors=8, iterations=10, random_state=0, alpha=1.0, regularization=0.1)
    users = [f"u{k % 40}" for k in range(400)]
    items = [f"i{(k * 7 + k // 40) % 30}" for k in range(400)]
    rec.fit(users, items)
    history, target = ["i0", "i1", "i2"], "i5"
    why = rec.explain_history(history, target, [weight, 1.0, 1.0])
    served = dict(rec.recommend_for_history(history, [weight, 1.0, 1.0], n=30))
    assert why.score == pytest.approx(served[target], rel=1e-5, abs=1e-7)
    _check_sum(why)


def test_the_dual_split_equals_the_normal_one_where_both_are_exact() -> None:
    rng = np.random.default_rng(3)
    factors = rng.standard_normal((12, 4)).astype(np.float32)
    gram = factors.T.astype(np.float64) @ factors + 0.7 * np.eye(4)
    history, conf = np.array([1, 4, 9]), np.array([3.0, 1.0, 25.0])
    normal = contributions(factors, gram, 6, history, conf)
    dual = contributions(factors, gram, 6, history, conf, dual=True)
    np.testing.assert_allclose(dual[0], normal[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dual[1], normal[1], rtol=1e-9, atol=1e-12)
