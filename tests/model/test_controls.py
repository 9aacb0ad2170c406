"""Tests of :mod:`alsrec.model.controls` through the facade: exclude=, users=, score,
updated(replace=True) and from_implicit(alpha=)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from alsrec import Recommender, UnknownIdError
from alsrec.datasets import synthetic


@pytest.fixture(scope="module")
def rec() -> Recommender:
    data = synthetic(n_users=60, n_items=30, n_clusters=3, random_state=0)
    return Recommender(factors=6, regularization=1.0, iterations=6, random_state=0).fit(
        data.user_ids, data.item_ids, data.weights
    )


def test_exclude_on_recommend_family(rec: Recommender) -> None:
    user = rec.users_.ids[0]
    full = rec.recommend(user, n=5)
    banned = list(full.ids[:2])
    got = rec.recommend(user, n=5, exclude=[*banned, "nope"])
    assert not set(banned) & set(got.ids.tolist())
    assert got.ids.tolist()[:3] == full.ids.tolist()[2:]
    assert got.skipped == ("nope",)
    with pytest.raises(UnknownIdError, match="excluded item"):
        rec.recommend(user, n=5, exclude=["nope"], policy="strict")
    hist = rec.recommend_for_history(list(rec.items_.ids[:2]), n=4, exclude=banned)
    assert not set(banned) & set(hist.ids.tolist())
    batch = rec.recommend_many(list(rec.users_.ids[:3]), n=4, exclude=banned)
    assert not set(banned) & set(batch.ids[batch.mask].tolist())
    fallback = rec.recommend("stranger", n=3, exclude=[rec.items_.ids[rec.model_.popular_order[0]]])
    assert fallback.source == "fallback"
    assert rec.items_.ids[rec.model_.popular_order[0]] not in fallback.ids.tolist()


def test_exclude_with_items_and_similar_items(rec: Recommender) -> None:
    item = rec.items_.ids[0]
    cands = list(rec.items_.ids[1:6])
    got = rec.similar_items(item, n=5, items=cands, exclude=cands[:2])
    assert set(got.ids.tolist()) <= set(cands[2:])
    many = rec.similar_items_many([item], n=3, exclude=[rec.similar_items(item, n=1).ids[0]])
    assert rec.similar_items(item, n=1).ids[0] not in many.ids[0].tolist()


def test_similar_users_candidates_and_exclude(rec: Recommender) -> None:
    user = rec.users_.ids[0]
    pool = list(rec.users_.ids[5:15])
    got = rec.similar_users(user, n=3, users=[*pool, "ghost"])
    assert set(got.ids.tolist()) <= set(pool) and got.skipped == ("ghost",)
    best = rec.similar_users(user, n=1).ids[0]
    assert best not in rec.similar_users(user, n=5, exclude=[best]).ids.tolist()
    batch = rec.similar_users_many([user, "ghost"], n=2, users=pool)
    assert batch.mask[1].sum() == 0 and "ghost" in batch.skipped
    with pytest.raises(UnknownIdError):
        rec.similar_users(user, users=["ghost"], policy="strict")


def test_score_given_items_in_order_or_ranked(rec: Recommender) -> None:
    user = rec.users_.ids[0]
    items = list(rec.items_.ids[[4, 1, 7]])
    s = rec.score(user, [*items, "nope"])
    row = rec.users_.to_index([user])[0]
    expected = rec.item_factors_[rec.items_.to_index(items)] @ rec.user_factors_[row]
    np.testing.assert_allclose(s.scores, expected, rtol=1e-6)
    assert s.ids.tolist() == items and s.skipped == ("nope",)
    assert rec.seen_ is not None
    seen_items = set(rec.items_.ids[rec.seen_[row].indices].tolist())
    assert s.seen.tolist() == [i in seen_items for i in items]
    ranked = rec.score(user, items, ranked=True)
    assert ranked.scores.tolist() == sorted(s.scores.tolist(), reverse=True)
    assert rec.score("stranger", items).source == "fallback"
    with pytest.raises(UnknownIdError):
        rec.score("stranger", items, policy="strict")
    assert list(s.to_frame().columns) == ["query", "id", "score", "seen", "source"]


def test_updated_replace_drops_the_users_old_interactions(rec: Recommender) -> None:
    user = rec.users_.ids[0]
    item = rec.items_.ids[-1]
    added = rec.updated([user], [item])
    replaced = rec.updated([user], [item], replace=True)
    row = rec.users_.to_index([user])[0]
    assert replaced.seen_ is not None and added.seen_ is not None
    assert replaced.seen_[row].indices.tolist() == [rec.items_.to_index([item])[0]]
    assert added.seen_[row].nnz > 1
    other = rec.users_.ids[1]
    np.testing.assert_array_equal(
        replaced.user_factors_[1], rec.user_factors_[rec.users_.to_index([other])[0]]
    )
    assert not np.allclose(replaced.user_factors_[row], added.user_factors_[row])


def test_from_implicit_records_alpha() -> None:
    implicit_als = pytest.importorskip("implicit.als")
    data = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=np.float32))
    model = implicit_als.AlternatingLeastSquares(
        factors=2, iterations=2, random_state=0, use_gpu=False
    )
    model.fit(data, show_progress=False)
    rec = Recommender.from_implicit(model, ["a", "b"], ["x", "y", "z"], seen=data, alpha=40.0)
    assert rec.params.alpha == 40.0
    # implicit's confidence is alpha * w (1 for its default on binary data), alsrec's
    # 1 + alpha * w: translated, alpha 0 (a number, never resolved as "auto")
    assert Recommender.from_implicit(model, ["a", "b"], ["x", "y", "z"]).params.alpha == 0.0
    wrapped = Recommender.from_implicit(model, ["a", "b"], ["x", "y", "z"], seen=data)
    assert wrapped.params_.alpha == 0.0
    assert "alpha" not in wrapped.model_.provenance.auto_params
    model.alpha = 40.0  # as if trained with AlternatingLeastSquares(alpha=40)
    assert Recommender.from_implicit(
        model, ["a", "b"], ["x", "y", "z"], seen=data
    ).params.alpha == (39.0)


def test_skipped_ids_keep_their_order_across_history_candidates_and_exclude(
    rec: Recommender,
) -> None:
    """Unknown IDs are reported history first, then candidates, then exclusions, on
    every query that takes them, and each exclusion is applied once."""
    user, items = rec.users_.ids[0], list(rec.items_.ids[:8])
    got = rec.recommend(
        user, n=3, items=[*items, "c?"], exclude=[items[0], "x?"], history=["h?", items[1]]
    )
    assert got.source == "fold-in" and got.skipped == ("h?", "c?", "x?")
    assert items[0] not in got.ids.tolist()
    anon = rec.recommend_for_history(["h?", items[1]], n=3, items=["c?", *items], exclude=["x?"])
    assert anon.skipped == ("h?", "c?", "x?")
    batch = rec.recommend_many(
        [user, "new"], n=3, items=[*items, "c?"], exclude=["x?"], histories={"new": ["h?"]}
    )
    assert batch.skipped == ("h?", "c?", "x?") and batch.sources.tolist()[1] == "fallback"
    similar = rec.similar_items(items[0], n=3, items=[*items, "c?"], exclude=[items[1], "x?"])
    assert similar.skipped == ("c?", "x?") and items[1] not in similar.ids.tolist()
    many = rec.similar_items_many(["q?", items[0]], n=3, items=["c?", *items], exclude=["x?"])
    assert many.skipped == ("q?", "c?", "x?")
