"""Strong generalization: capped recall, truncation, held-out fold-in vs a slow reference."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from alsrec import ConfigError, DataError, Interactions, Recommender
from alsrec.data import Weighting, synthetic
from alsrec.evaluation import (
    METRICS,
    HeldOutUsers,
    evaluate,
    evaluate_strong_generalization,
    heldout_user_metrics,
    holdout_split,
    per_user_metrics,
    user_split,
)

ITEMS = ["a", "b", "c", "d", "e", "f"]


def hand_model() -> Recommender:
    """One factor; item scores a=6 > b=5 > ... > f=1; training users u1 {b}, u2 {a}, u3 {a, c}.

    Popularity (training users per item): a=2, b=1, c=1, d=e=f=0.
    """
    seen = np.zeros((3, 6), dtype=np.float32)
    seen[0, 1] = seen[1, 0] = seen[2, 0] = seen[2, 2] = 1.0
    item_scores = np.array([[6.0], [5.0], [4.0], [3.0], [2.0], [1.0]])
    return Recommender.from_factors(
        np.ones((3, 1)), item_scores, ["u1", "u2", "u3"], ITEMS, seen=seen
    )


def hand_heldout() -> HeldOutUsers:
    # h1 folds in {a}: its list is b, c, d, ...; target {c, e, z}: z is unknown -> R = {c, e}.
    # h2 folds in {b, c}: list a, d, e; target {a, c}: c is a fold-in item -> R = {a}.
    # h3 folds in {d}; target {d} only: nothing to score (skipped).
    # h4 has no fold-in: the unknown user's fallback (most popular: a, b, c); target {a}.
    fold_in = Interactions.from_arrays(["h1", "h2", "h2", "h3"], ["a", "b", "c", "d"])
    target = Interactions.from_arrays(
        ["h1", "h1", "h1", "h2", "h2", "h3", "h4"], ["c", "e", "z", "a", "c", "d", "a"]
    )
    return HeldOutUsers(fold_in, target)


def test_capped_recall_by_hand() -> None:
    # A known user with no training items and relevant {a, c, e}: at k=2 the list is
    # [a, b]: one hit of three relevant items; recall 1/3, capped recall 1/min(2, 3).
    rec = Recommender.from_factors(
        np.ones((1, 1)), [[5.0], [4.0], [3.0], [2.0], [1.0]], ["u"], ITEMS[:5],
        seen=np.zeros((1, 5)),
    )  # fmt: skip
    test = Interactions.from_arrays(["u", "u", "u"], ["a", "c", "e"])
    m = per_user_metrics(rec, test, k=2, train=Interactions.from_arrays(["u"], ["zz"]))
    np.testing.assert_allclose(m.recall, [1 / 3])
    np.testing.assert_allclose(m.capped_recall, [1 / 2])
    np.testing.assert_allclose(m.ndcg, [1 / (1 + 1 / math.log2(3))])
    report = evaluate(rec, test, k=2, train=Interactions.from_arrays(["u"], ["zz"]), bootstrap=0)
    assert report.metrics["capped_recall"].value == pytest.approx(0.5)
    assert "capped_recall" in METRICS
    assert "capped recall@2" in str(report)


def test_truncated_equals_ranking_at_the_shorter_length() -> None:
    data = synthetic(n_users=150, n_items=50, random_state=1)
    full = Interactions.from_arrays(data.user_ids, data.item_ids)
    train, test = holdout_split(full, 0.3, random_state=0)
    rec = Recommender(factors=6, iterations=4, random_state=0).fit(train)
    long = per_user_metrics(rec, test, k=20)
    short = per_user_metrics(rec, test, k=7)
    cut = long.truncated(7)
    assert cut.k == 7
    np.testing.assert_array_equal(cut.items, short.items)
    for name in ("capped_recall", "recall", "ndcg", "map", "auc", "mrr"):
        np.testing.assert_allclose(getattr(cut, name), getattr(short, name), err_msg=name)
    with pytest.raises(ConfigError, match="longer than these lists"):
        long.truncated(21)


def test_heldout_metrics_by_hand() -> None:
    m = heldout_user_metrics(hand_model(), hand_heldout(), k=3)
    assert m.users.tolist() == ["h1", "h2", "h4"]
    assert m.items.tolist() == [["b", "c", "d"], ["a", "d", "e"], ["a", "b", "c"]]
    assert m.hit.tolist() == [[False, True, False], [True, False, False], [True, False, False]]
    assert m.n_relevant.tolist() == [2, 1, 1]
    assert m.n_candidates.tolist() == [5, 4, 6]
    np.testing.assert_allclose(m.capped_recall, [0.5, 1.0, 1.0])
    np.testing.assert_allclose(m.ndcg, [(1 / math.log2(3)) / (1 + 1 / math.log2(3)), 1.0, 1.0])
    assert m.skipped_users_without_relevant == 1  # h3
    assert m.dropped_seen_pairs == 2  # (h2, c) and (h3, d)
    assert m.dropped_unknown_item_pairs == 1  # (h1, z)


def test_heldout_baseline_is_training_popularity_without_fold_in_items() -> None:
    # A model that ranks against popularity (f first), so the two lists differ.
    rec = Recommender.from_factors(
        np.ones((3, 1)), np.arange(1.0, 7.0)[:, None], ["u1", "u2", "u3"], ITEMS,
        seen=hand_model().seen_,
    )  # fmt: skip
    base = heldout_user_metrics(rec, hand_heldout(), k=3, baseline=True)
    # Popularity a(2), b(1), c(1), d, e, f (ties in catalog order), fold-in items removed.
    assert base.items.tolist() == [["b", "c", "d"], ["a", "d", "e"], ["a", "b", "c"]]
    model = heldout_user_metrics(rec, hand_heldout(), k=3)
    assert model.items.tolist()[0] == ["f", "e", "d"]


def test_report_by_hand_at_two_lengths() -> None:
    report = evaluate_strong_generalization(hand_model(), hand_heldout(), k=[3, 1], bootstrap=0)
    assert sorted(report.reports) == [1, 3]
    at3, at1 = report.reports[3], report.reports[1]
    assert at3.n_users == 3
    assert at3.metrics["capped_recall"].value == pytest.approx(2.5 / 3)
    # At k=1: h1's list [b] misses; h2 [a] and h4 [a] hit.
    assert at1.metrics["capped_recall"].value == pytest.approx(2 / 3)
    assert at1.metrics["ndcg"].value == pytest.approx(2 / 3)
    assert report.metric("capped_recall", 1).value == pytest.approx(2 / 3)
    assert report.n_fold_in_pairs == 3  # h1 {a}, h2 {b, c}
    text = str(report)
    assert "Recall@1 " in text and "NDCG@3" in text and "popularity" in text
    json.dumps(report.to_dict())
    with pytest.raises(ConfigError, match="k=20 was not measured"):
        report.metric("ndcg", 20)
    with pytest.raises(ConfigError, match=r"got '20'"):  # one value, not '2' and '0'
        evaluate_strong_generalization(hand_model(), hand_heldout(), k="20")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="Unknown metric"):
        report.metric("nope", 3)


def reference_lists(rec: Recommender, heldout: HeldOutUsers, k: int) -> dict[object, list[object]]:
    """The slow reference: one recommend_for_history call per held-out user."""
    fold_in = heldout.fold_in
    out: dict[object, list[object]] = {}
    for row, user in enumerate(fold_in.users.ids.tolist()):
        lo, hi = fold_in.matrix.indptr[row], fold_in.matrix.indptr[row + 1]
        items = fold_in.items.ids[fold_in.matrix.indices[lo:hi]]
        recs = rec.recommend_for_history(items, fold_in.matrix.data[lo:hi], n=k)
        out[user] = [item for item, _ in recs]
    return out


@pytest.mark.parametrize("weighting", ["linear", "bm25"])
def test_batch_fold_in_equals_a_single_user_reference(weighting: Weighting) -> None:
    data = synthetic(n_users=400, n_items=90, random_state=2)
    full = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)
    split = user_split(full, 0, 80, random_state=0)
    rec = Recommender(factors=8, iterations=5, alpha=2.0, weighting=weighting, random_state=0).fit(
        split.train
    )
    k = 25
    m = heldout_user_metrics(rec, split.test, k=k)
    reference = reference_lists(rec, split.test, k)
    target = split.test.target
    expected_recall, expected_ndcg = [], []
    for row, user in enumerate(m.users.tolist()):
        ranked = reference[user]
        assert m.items[row].tolist() == ranked, user
        t = target.users.index_of(user)
        lo, hi = target.matrix.indptr[t], target.matrix.indptr[t + 1]
        relevant = set(target.items.ids[target.matrix.indices[lo:hi]].tolist())
        hits = [item in relevant for item in ranked]
        expected_recall.append(sum(hits) / min(k, len(relevant)))
        dcg = sum(1 / math.log2(j + 2) for j, h in enumerate(hits) if h)
        idcg = sum(1 / math.log2(j + 2) for j in range(min(k, len(relevant))))
        expected_ndcg.append(dcg / idcg)
    assert len(m) == len(set(target.users.ids.tolist()))
    np.testing.assert_allclose(m.capped_recall, expected_recall)
    np.testing.assert_allclose(m.ndcg, expected_ndcg)
    report = evaluate_strong_generalization(rec, split.test, k=k, bootstrap=0)
    assert report.reports[k].metrics["ndcg"].value == pytest.approx(np.mean(expected_ndcg))


def test_the_model_beats_popularity_on_planted_clusters() -> None:
    data = synthetic(n_users=600, n_items=120, random_state=4)
    split = user_split(Interactions.from_arrays(data.user_ids, data.item_ids), 100, 100)
    rec = Recommender(factors=12, iterations=8, random_state=0).fit(split.train)
    assert split.validation is not None
    for heldout in (split.validation, split.test):
        report = evaluate_strong_generalization(rec, heldout, bootstrap=200)
        at20 = report.reports[20]
        assert at20.baseline is not None
        model, base = at20.metrics["capped_recall"], at20.baseline["capped_recall"]
        assert model.low is not None and base.high is not None
        assert model.low > base.high


def test_heldout_users_known_to_the_model_are_refused() -> None:
    heldout = HeldOutUsers(
        Interactions.from_arrays(["u1"], ["a"]), Interactions.from_arrays(["u1"], ["c"])
    )
    with pytest.raises(DataError, match=r"fold-in users are users of the model .*\['u1'\]"):
        evaluate_strong_generalization(hand_model(), heldout)


def test_ids_of_another_type_are_refused() -> None:
    heldout = HeldOutUsers(
        Interactions.from_arrays(["h"], [1]), Interactions.from_arrays(["h"], [2])
    )
    with pytest.raises(DataError, match="fold-in item IDs are ints"):
        heldout_user_metrics(hand_model(), heldout)


def test_nothing_to_score_is_a_data_error() -> None:
    heldout = HeldOutUsers(
        Interactions.from_arrays(["h"], ["a"]), Interactions.from_arrays(["h", "h"], ["a", "z"])
    )
    with pytest.raises(DataError, match="None of the 1 held-out users"):
        heldout_user_metrics(hand_model(), heldout)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0}, "k must be an integer >= 1"),
        ({"k": []}, "non-empty sequence"),
        ({"k": [10, 2.5]}, "k must be an integer >= 1"),
        ({"bootstrap": -1}, "bootstrap must be >= 0"),
        ({"bootstrap": 1.5}, "bootstrap must be an integer"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        evaluate_strong_generalization(hand_model(), hand_heldout(), **kwargs)  # type: ignore[arg-type]


def test_heldout_must_be_a_pair() -> None:
    with pytest.raises(ConfigError, match="heldout must be a HeldOutUsers"):
        heldout_user_metrics(hand_model(), Interactions.from_arrays(["h"], ["a"]))  # type: ignore[arg-type]


def test_users_without_a_fold_in_history_get_the_fallback() -> None:
    # Neither target user has fold-in rows: both get the most popular items (a, b).
    heldout = HeldOutUsers(
        Interactions.from_arrays(["x"], ["a"]), Interactions.from_arrays(["h4", "h5"], ["a", "b"])
    )
    report = evaluate_strong_generalization(hand_model(), heldout, k=2, bootstrap=0)
    assert report.n_fold_in_pairs == 0
    at2 = report.reports[2]
    assert at2.metrics["capped_recall"].value == pytest.approx(1.0)
    assert at2.metrics["ndcg"].value == pytest.approx((1 + 1 / math.log2(3) / 1) / 2)
    assert at2.baseline is not None
    assert at2.baseline["ndcg"].value == pytest.approx(at2.metrics["ndcg"].value)
    assert "CI" not in str(report)  # no intervals, no interval columns
