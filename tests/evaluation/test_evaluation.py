"""Splits, per-user metrics (hand-computed), the report, and a cross-check with implicit."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from alsrec import AlsrecWarning, ConfigError, DataError, Interactions, Recommender
from alsrec.datasets import SyntheticData, synthetic
from alsrec.evaluation import (
    METRICS,
    PopularityBaseline,
    evaluate,
    holdout_split,
    leave_k_out_split,
    ndcg_at_k,
    per_user_metrics,
    per_user_ndcg,
    time_split,
    user_split,
)
from alsrec.evaluation.metrics import is_member, popularity_ranks


def pairs(data: Interactions) -> set[tuple[object, object]]:
    coo = data.matrix.tocoo()
    return set(zip(data.users.ids[coo.row].tolist(), data.items.ids[coo.col].tolist(), strict=True))


def weighted_pairs(data: Interactions) -> dict[tuple[object, object], float]:
    coo = data.matrix.tocoo()
    keys = zip(data.users.ids[coo.row].tolist(), data.items.ids[coo.col].tolist(), strict=True)
    return dict(zip(keys, coo.data.tolist(), strict=True))


# -- a hand-built model -------------------------------------------------------------------------
#
# One factor: every user vector is [1] and item scores are a=6 > b=5 > c=4 > d=3 > e=2 > f=1,
# so each user's list is the catalog in that order minus the user's training items.
# Training (seen): u1 {b}, u2 {a}, u3 {a, c}.
# Test: u1 {c, e, b, z}, u2 {a}, u3 {b}, ghost {a}.
#   u1: b is a training item (dropped, "seen"), z is unknown (dropped) -> R = {c, e}, n = 2.
#   u2: its only test item a is a training item -> not evaluated (no relevant item).
#   u3: R = {b}, n = 1.
#   ghost: unknown to the model -> not evaluated.
# Popularity (training users per item): a=2, b=1, c=1, d=e=f=0, so the popularity ranks
# (1 = most popular, ties share the mean rank) are a=1, b=c=2.5, d=e=f=5.

ITEMS = ["a", "b", "c", "d", "e", "f"]


def hand_model() -> Recommender:
    seen = np.zeros((3, 6), dtype=np.float32)
    seen[0, 1] = seen[1, 0] = seen[2, 0] = seen[2, 2] = 1.0
    item_scores = np.array([[6.0], [5.0], [4.0], [3.0], [2.0], [1.0]])
    return Recommender.from_factors(
        np.ones((3, 1)), item_scores, ["u1", "u2", "u3"], ITEMS, seen=seen
    )


def hand_test() -> Interactions:
    return Interactions.from_arrays(
        ["u1", "u1", "u1", "u1", "u2", "u3", "ghost"], ["c", "e", "b", "z", "a", "b", "a"]
    )


def test_hand_lists_and_bookkeeping() -> None:
    m = per_user_metrics(hand_model(), hand_test(), k=3)
    # u1 ranks a, c, d (b excluded); u3 ranks b, d, e (a and c excluded).
    assert m.users.tolist() == ["u1", "u3"]
    assert m.items.tolist() == [["a", "c", "d"], ["b", "d", "e"]]
    assert m.hit.tolist() == [[False, True, False], [True, False, False]]
    assert m.n_relevant.tolist() == [2, 1]
    assert m.n_candidates.tolist() == [5, 4]  # 6 items minus 1 and 2 training items
    assert m.skipped_unknown_users == 1  # ghost
    assert m.skipped_users_without_relevant == 1  # u2
    assert m.dropped_seen_pairs == 2  # (u1, b), (u2, a)
    assert m.dropped_unknown_item_pairs == 1  # (u1, z)


def test_hand_metrics_per_user() -> None:
    m = per_user_metrics(hand_model(), hand_test(), k=3)
    # precision = H / k: u1 1/3, u3 1/3.
    np.testing.assert_allclose(m.precision, [1 / 3, 1 / 3])
    # recall = H / n: u1 1/2, u3 1/1.
    np.testing.assert_allclose(m.recall, [0.5, 1.0])
    # AP: u1 has its hit at rank 2 with 1 hit so far -> (1/2) / min(3, 2) = 0.25;
    #     u3 hit at rank 1 -> (1/1) / min(3, 1) = 1.
    np.testing.assert_allclose(m.map, [0.25, 1.0])
    # NDCG: u1 DCG = 1/log2(3), IDCG = 1 + 1/log2(3); u3 DCG = IDCG = 1.
    d3 = 1 / math.log2(3)
    np.testing.assert_allclose(m.ndcg, [d3 / (1 + d3), 1.0])
    np.testing.assert_allclose(m.hit_rate, [1.0, 1.0])
    # First hit at rank 2 (u1) and 1 (u3).
    np.testing.assert_allclose(m.mrr, [0.5, 1.0])
    # AUC u1: candidates a c d e f, positives {c, e}, negatives {a, d, f} (N = 3).
    #   ranking a, c, d, then {e, f} tied. Pairs: (c,a)=0 (c,d)=1 (c,f)=1 (e,a)=0 (e,d)=0
    #   (e,f)=0.5 -> 2.5 / 6.
    # AUC u3: candidates b d e f, positive {b} ranked first -> 3 / 3 = 1.
    np.testing.assert_allclose(m.auc, [2.5 / 6, 1.0])
    # implicit's variant also counts the training item b as a negative for u1 (N = 4):
    #   the extra pairs (c,b)=1 (b is below the list) and (e,b)=0.5 -> 4 / 8.
    np.testing.assert_allclose(m.auc_with_negatives(m.n_catalog - m.n_relevant), [0.5, 1.0])
    # Coverage: {a, c, d} | {b, d, e} = 5 of 6 items.
    assert m.coverage == pytest.approx(5 / 6)
    # Popularity rank: u1 slots a, c, d -> 1 + 2.5 + 5; u3 slots b, d, e -> 2.5 + 5 + 5;
    # 21 over 6 slots.
    assert m.popularity_rank == pytest.approx(3.5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_popularity_ranks_match_scipys_average_ranks(seed: int) -> None:
    from scipy.stats import rankdata

    rng = np.random.default_rng(seed)
    popularity = rng.integers(0, 12, size=300)  # many ties, zeros included
    expected = rankdata(-popularity, method="average")
    np.testing.assert_array_equal(popularity_ranks(popularity), expected)
    assert popularity_ranks(np.array([7], dtype=np.int64)).tolist() == [1.0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_membership_of_pair_keys_matches_numpy_isin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference = rng.integers(-5, 400, size=int(rng.integers(1, 300)))  # unsorted, repeats
    keys = rng.integers(-10, 420, size=(40, 7))  # below, inside and above the reference
    np.testing.assert_array_equal(is_member(keys, reference), np.isin(keys, reference))
    empty = np.zeros(0, dtype=np.int64)
    assert is_member(keys, empty).shape == keys.shape and not is_member(keys, empty).any()
    assert is_member(empty, reference).shape == (0,)


def test_hand_report_means() -> None:
    report = evaluate(hand_model(), hand_test(), k=3, bootstrap=0)
    expected = {
        "precision": 1 / 3,
        "recall": 0.75,
        "map": 0.625,
        "ndcg": (1 / math.log2(3) / (1 + 1 / math.log2(3)) + 1.0) / 2,
        "hit_rate": 1.0,
        "mrr": 0.75,
        "auc": (2.5 / 6 + 1.0) / 2,
        "coverage": 5 / 6,
        "popularity_rank": 3.5,
    }
    assert list(report.metrics) == list(METRICS)
    for name, value in expected.items():
        assert report.metrics[name].value == pytest.approx(value), name
        assert report.metrics[name].low is None
    assert report.n_users == 2
    assert report.n_items == 6
    assert report.skipped_unknown_users == 1


def test_hand_baseline_is_popularity_on_the_same_users() -> None:
    report = evaluate(hand_model(), hand_test(), k=3, bootstrap=0)
    assert report.baseline is not None
    # Popularity order a(2), b(1), c(1), d(0), e(0), f(0); equal counts in catalog order.
    # u1 (minus b): a, c, d -> hit c at rank 2 (the same list as the model's).
    # u3 (minus a, c): b, d, e -> hit b at rank 1.
    for name in ("precision", "recall", "map", "mrr", "coverage", "popularity_rank"):
        assert report.baseline[name].value == pytest.approx(report.metrics[name].value), name
    base = PopularityBaseline(
        Interactions.from_arrays(["u1", "u2", "u3", "u3", "u0"], ["b", "a", "a", "c", "d"])
    )
    # Counts a=2, b=c=d=1; the three tied items keep their first-appearance order b, c, d.
    assert base.recommend_many(["u0", "new"], n=4).ids.tolist() == [
        ["a", "b", "c", ""],
        ["a", "b", "c", "d"],
    ]


def test_short_list_precision_still_divides_by_k() -> None:
    # u3 has only 4 candidates (b, d, e, f); with k = 10 its list holds 4 items.
    test = Interactions.from_arrays(["u3"], ["b"])
    m = per_user_metrics(hand_model(), test, k=10)
    assert m.mask.sum() == 4
    assert m.items[0, :4].tolist() == ["b", "d", "e", "f"]
    assert m.items[0, 4:].tolist() == [""] * 6  # padding, as in BatchRecommendations
    np.testing.assert_allclose(m.precision, [0.1])
    np.testing.assert_allclose(m.ndcg, [1.0])
    # One positive at the top and 3 negatives, all in the list below it.
    np.testing.assert_allclose(m.auc, [1.0])


def test_auc_with_every_candidate_relevant_is_one() -> None:
    # u3 holds out all 4 of its candidates: no negative exists.
    test = Interactions.from_arrays(["u3"] * 4, ["b", "d", "e", "f"])
    m = per_user_metrics(hand_model(), test, k=2)
    np.testing.assert_allclose(m.auc, [1.0])
    np.testing.assert_allclose(m.recall, [0.5])


def test_int_ids_and_int_padding() -> None:
    rec = Recommender.from_factors(
        np.ones((1, 1)), [[3.0], [2.0]], [10], [100, 200], seen=np.array([[1.0, 0.0]])
    )
    m = per_user_metrics(rec, Interactions.from_arrays([10], [200]), k=3)
    assert m.items.tolist() == [[200, np.iinfo(np.int64).min, np.iinfo(np.int64).min]]
    np.testing.assert_allclose(m.precision, [1 / 3])


def test_train_argument_excludes_training_items_the_model_does_not() -> None:
    # The same factors without seen=: the model itself excludes nothing.
    model = hand_model()
    bare = Recommender.from_factors(
        model.user_factors_, model.item_factors_, model.users_, model.items_
    )
    train = Interactions.from_arrays(["u1", "u2", "u3", "u3"], ["b", "a", "a", "c"])
    with pytest.raises(ConfigError, match="train="):
        per_user_metrics(bare, hand_test(), k=3)
    with_train = per_user_metrics(bare, hand_test(), k=3, train=train)
    from_seen = per_user_metrics(model, hand_test(), k=3)
    assert with_train.items.tolist() == from_seen.items.tolist()
    np.testing.assert_allclose(with_train.auc, from_seen.auc)
    report = evaluate(bare, hand_test(), k=3, train=train, bootstrap=0)
    assert report.metrics["map"].value == pytest.approx(0.625)


def test_blocked_fetching_gives_the_same_lists(
    model: Recommender, split: tuple[Interactions, Interactions], monkeypatch: pytest.MonkeyPatch
) -> None:
    import alsrec.evaluation as evaluation

    bare = Recommender.from_factors(
        model.user_factors_, model.item_factors_, model.users_, model.items_
    )
    whole = per_user_metrics(bare, split[1], k=7, train=split[0])
    monkeypatch.setattr(evaluation.metrics, "_FETCH_BLOCK", 50)  # a few users per block
    blocked = per_user_metrics(bare, split[1], k=7, train=split[0])
    np.testing.assert_array_equal(blocked.items, whole.items)
    np.testing.assert_array_equal(blocked.hit, whole.hit)
    # Without seen=, the lists still leave out every training item.
    train_pairs = pairs(split[0])
    for user, row, mask in zip(whole.users.tolist(), whole.items, whole.mask, strict=True):
        assert not {(user, item) for item in row[mask].tolist()} & train_pairs


def test_id_type_mismatch_is_a_data_error() -> None:
    with pytest.raises(DataError, match="test user IDs are ints but the model's are strs"):
        per_user_metrics(hand_model(), Interactions.from_arrays([1], ["a"]))
    train = Interactions.from_arrays(["u1"], [5])
    with pytest.raises(DataError, match="training item IDs are ints"):
        per_user_metrics(hand_model(), hand_test(), train=train)


def test_no_evaluable_user_is_a_data_error() -> None:
    with pytest.raises(DataError, match="No test user can be evaluated"):
        per_user_metrics(hand_model(), Interactions.from_arrays(["ghost", "u2"], ["a", "a"]))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_k_is_a_config_error(bad: object) -> None:
    with pytest.raises(ConfigError, match="k must be"):
        per_user_metrics(hand_model(), hand_test(), k=bad)  # type: ignore[arg-type]


def test_bad_bootstrap_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="bootstrap"):
        evaluate(hand_model(), hand_test(), bootstrap=-1)


def test_arguments_of_the_wrong_kind_are_config_errors_in_the_callers_words() -> None:
    model, test = hand_model(), hand_test()
    calls = ((ndcg_at_k, "model"), (evaluate, "recommender"), (per_user_metrics, "recommender"))
    for call, name in calls:
        with pytest.raises(ConfigError, match=rf"{name} must be a fitted model.*look swapped"):
            call(test, model)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match=r"test must be an Interactions.*got list"):
            call(model, [("u1", "a")])  # type: ignore[arg-type]
    for split_call in (holdout_split, leave_k_out_split):
        expected = r"split: data must be an alsrec Interactions, got DataFrame"
        with pytest.raises(ConfigError, match=expected):
            split_call(pd.DataFrame({"user": ["u1"], "item": ["a"]}))


def test_ndcg_on_the_training_data_warns_that_seen_items_score_zero(
    small_interactions: Interactions,
) -> None:
    train, test = holdout_split(small_interactions, 0.25, random_state=3)
    rec = Recommender(factors=4, iterations=2).fit(train)
    with pytest.warns(AlsrecWarning, match=r"100% of the test pairs are training interactions"):
        assert ndcg_at_k(rec, train) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the held-out part: no warning
        assert ndcg_at_k(rec, test) > 0.0
    with pytest.warns(AlsrecWarning, match=r"100% of the test pairs"):  # it leaves them out too
        ndcg_at_k(PopularityBaseline(train), train)


# -- report and bootstrap on synthetic data --------------------------------------------------


@pytest.fixture(scope="module")
def split(small_interactions: Interactions) -> tuple[Interactions, Interactions]:
    return holdout_split(small_interactions, 0.25, random_state=3)


@pytest.fixture(scope="module")
def model(split: tuple[Interactions, Interactions]) -> Recommender:
    return Recommender(factors=8, regularization=1.0, iterations=6, random_state=0).fit(split[0])


def test_bootstrap_intervals_are_reproducible_and_contain_the_value(
    model: Recommender, split: tuple[Interactions, Interactions]
) -> None:
    a = evaluate(model, split[1], k=10, bootstrap=200, random_state=5)
    b = evaluate(model, split[1], k=10, bootstrap=200, random_state=5)
    c = evaluate(model, split[1], k=10, bootstrap=200, random_state=6)
    assert a.to_dict() == b.to_dict()
    assert a.metrics["ndcg"].low != c.metrics["ndcg"].low
    for name, est in a.metrics.items():
        if name == "coverage":
            assert est.low is None and est.high is None
            continue
        assert est.low is not None and est.high is not None
        assert est.low <= est.value <= est.high, name
        assert est.low < est.high, name


def test_model_beats_popularity_on_planted_clusters(
    model: Recommender, split: tuple[Interactions, Interactions]
) -> None:
    report = evaluate(model, split[1], k=10, bootstrap=200)
    assert report.baseline is not None
    high = report.baseline["ndcg"].high
    low = report.metrics["ndcg"].low
    assert high is not None and low is not None and low > high
    assert report.metrics["coverage"].value > report.baseline["coverage"].value
    # Popularity recommends the most popular items: near rank (k + 1) / 2.
    assert report.baseline["popularity_rank"].value < report.metrics["popularity_rank"].value
    assert report.baseline["popularity_rank"].value < 10


def test_baseline_matches_the_simple_ndcg_helper(split: tuple[Interactions, Interactions]) -> None:
    train, test = split
    # ndcg_at_k scores every test pair; keep only items the training set knows, so that
    # both count the same relevant items.
    coo = test.matrix.tocoo()
    known = train.items.to_index(test.items.ids, missing="negative")[coo.col] >= 0
    test = Interactions.from_arrays(test.users.ids[coo.row[known]], test.items.ids[coo.col[known]])
    base = PopularityBaseline(train)
    report = evaluate(
        Recommender(factors=2, iterations=1, random_state=0).fit(train), test, bootstrap=0
    )
    assert report.dropped_unknown_item_pairs == 0 and report.skipped_unknown_users == 0
    assert report.n_users == len(test.users)
    assert report.baseline is not None
    assert report.baseline["ndcg"].value == pytest.approx(ndcg_at_k(base, test, k=10), rel=1e-5)


def test_the_popularity_baseline_is_evaluated_like_a_model(
    split: tuple[Interactions, Interactions],
) -> None:
    train, test = split
    report = evaluate(Recommender(factors=2, iterations=1).fit(train), test, bootstrap=0)
    alone = evaluate(PopularityBaseline(train), test, bootstrap=0)
    assert report.baseline is not None and alone.n_users == report.n_users
    for name, value in alone.metrics.items():
        if name in report.baseline:
            assert value.value == pytest.approx(report.baseline[name].value, rel=1e-6), name
    users = per_user_metrics(PopularityBaseline(train), test, 10, train=train)
    assert len(users.users) == report.n_users


def test_report_renders_and_serialises(
    model: Recommender, split: tuple[Interactions, Interactions]
) -> None:
    report = evaluate(model, split[1], k=5, bootstrap=50)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["k"] == 5
    assert set(data["metrics"]) == set(METRICS) == set(data["baseline"])
    assert data["metrics"]["recall"]["value"] == pytest.approx(report.metrics["recall"].value)
    text = str(report)
    assert "NDCG@5" in text and "popularity" in text and "95% CI" in text
    no_base = evaluate(model, split[1], k=5, bootstrap=0, baseline=False)
    assert no_base.baseline is None
    header = next(line for line in str(no_base).splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "model"]  # no empty interval column
    with_base = str(evaluate(model, split[1], k=5, bootstrap=0))
    header = next(line for line in with_base.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "model", "popularity"]
    with pytest.raises(TypeError):
        report.metrics["ndcg"] = report.metrics["map"]  # type: ignore[index]


# -- cross-check with implicit ------------------------------------------------------------------


def _in_train_space(train: Interactions, test: Interactions) -> sp.csr_matrix:
    coo = test.matrix.tocoo()
    rows = train.users.to_index(test.users.ids, missing="negative")[coo.row]
    cols = train.items.to_index(test.items.ids, missing="negative")[coo.col]
    keep = (rows >= 0) & (cols >= 0)
    return sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], cols[keep])), shape=train.shape
    )


@pytest.mark.parametrize("k", [1, 5, 10])
def test_cross_check_with_implicit_ranking_metrics(small_data: SyntheticData, k: int) -> None:
    implicit_als = pytest.importorskip("implicit.cpu.als")
    implicit_eval = pytest.importorskip("implicit.evaluation")
    full = Interactions.from_arrays(small_data.user_ids, small_data.item_ids, small_data.weights)
    train, test = holdout_split(full, 0.3, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # implicit's BLAS-threads advice
        raw = implicit_als.AlternatingLeastSquares(
            factors=8, regularization=1.0, iterations=5, random_state=0
        )
        raw.fit(train.matrix, show_progress=False)
    test_csr = _in_train_space(train, test)
    expected = implicit_eval.ranking_metrics_at_k(
        raw, train.matrix, test_csr, K=k, show_progress=False
    )
    rec = Recommender.from_factors(
        raw.user_factors, raw.item_factors, train.users, train.items, seen=train.matrix
    )
    m = per_user_metrics(rec, test, k)
    assert len(m) == int((np.diff(test_csr.indptr) > 0).sum())
    # MAP and NDCG: same definitions.
    assert m.map.mean() == pytest.approx(expected["map"], rel=1e-9)
    assert m.ndcg.mean() == pytest.approx(expected["ndcg"], rel=1e-9)
    # implicit's "precision" pools hits over min(k, n_u); alsrec's is the mean of H_u / k.
    pooled = m.hits.sum() / np.minimum(k, m.n_relevant).sum()
    assert pooled == pytest.approx(expected["precision"], rel=1e-9)
    # implicit's AUC counts training items as negatives.
    assert m.auc_with_negatives(m.n_catalog - m.n_relevant).mean() == pytest.approx(
        expected["auc"], rel=1e-9
    )
    report = evaluate(rec, test, k, bootstrap=0)
    assert report.metrics["map"].value == pytest.approx(expected["map"], rel=1e-9)
    assert report.metrics["ndcg"].value == pytest.approx(expected["ndcg"], rel=1e-9)


# -- splits --------------------------------------------------------------------------------------


def test_holdout_split_partitions_and_is_reproducible(small_interactions: Interactions) -> None:
    train, test = holdout_split(small_interactions, 0.3, random_state=4)
    again_train, again_test = holdout_split(small_interactions, 0.3, random_state=4)
    other_train, _ = holdout_split(small_interactions, 0.3, random_state=5)
    assert pairs(train) == pairs(again_train) and pairs(test) == pairs(again_test)
    assert pairs(train) != pairs(other_train)
    assert pairs(train) | pairs(test) == pairs(small_interactions)
    assert not pairs(train) & pairs(test)
    full = weighted_pairs(small_interactions)
    assert {**weighted_pairs(train), **weighted_pairs(test)} == full
    # Every test user keeps a training item; per-user counts follow the rounding rule.
    counts = np.diff(small_interactions.matrix.indptr)
    test_counts = dict(
        zip(test.users.ids.tolist(), np.diff(test.matrix.indptr).tolist(), strict=True)
    )
    for user, n in zip(small_interactions.users.ids.tolist(), counts.tolist(), strict=True):
        want = 0 if n < 2 else int(min(max(np.rint(n * 0.3), 1), n - 1))
        assert test_counts.get(user, 0) == want


def test_holdout_split_rejects_bad_fraction(small_interactions: Interactions) -> None:
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ConfigError, match="test_fraction"):
            holdout_split(small_interactions, bad)


def test_leave_k_out_split(small_interactions: Interactions) -> None:
    train, test = leave_k_out_split(small_interactions, 2, random_state=0)
    assert pairs(train) | pairs(test) == pairs(small_interactions)
    assert not pairs(train) & pairs(test)
    counts = dict(
        zip(
            small_interactions.users.ids.tolist(),
            np.diff(small_interactions.matrix.indptr).tolist(),
            strict=True,
        )
    )
    test_counts = dict(
        zip(test.users.ids.tolist(), np.diff(test.matrix.indptr).tolist(), strict=True)
    )
    for user, n in counts.items():
        assert test_counts.get(user, 0) == (2 if n > 2 else 0)
    assert pairs(test) == pairs(leave_k_out_split(small_interactions, 2, random_state=0)[1])
    assert pairs(test) != pairs(leave_k_out_split(small_interactions, 2, random_state=1)[1])


def test_leave_k_out_split_errors() -> None:
    data = Interactions.from_arrays(["a", "a", "b"], ["x", "y", "x"])
    with pytest.raises(ConfigError, match="k must be"):
        leave_k_out_split(data, 0)
    with pytest.raises(DataError, match="more than 2 items"):
        leave_k_out_split(data, 2)


def test_time_split_global_fraction_and_ties() -> None:
    users = ["a", "a", "b", "b", "c", "c"]
    items = ["x", "y", "x", "z", "y", "z"]
    times = [10, 20, 30, 40, 40, 50]
    # 6 rows, test_fraction 0.3 -> 2 test rows -> cutoff at the 5th smallest time (40);
    # the tie at 40 sends 3 rows to the test set.
    train, test = time_split(users, items, [1, 2, 3, 4, 5, 6], times, test_fraction=0.3)
    assert pairs(test) == {("b", "z"), ("c", "y"), ("c", "z")}
    assert weighted_pairs(test)[("c", "z")] == 6.0
    assert pairs(train) == {("a", "x"), ("a", "y"), ("b", "x")}


def test_time_split_cutoff_and_datetimes() -> None:
    times = np.array(["2024-01-01", "2024-02-01", "2024-03-01"], dtype="datetime64[D]")
    train, test = time_split(
        ["a", "a", "b"], ["x", "y", "x"], None, times, cutoff=np.datetime64("2024-02-01")
    )
    assert pairs(test) == {("a", "y"), ("b", "x")}
    assert pairs(train) == {("a", "x")}
    # Rows repeating a pair are summed within a part.
    train, test = time_split(["a", "a", "a"], ["x", "x", "y"], [1.0, 2.0, 1.0], [1, 2, 3], cutoff=3)
    assert weighted_pairs(train) == {("a", "x"): 3.0}


def test_time_split_per_user_takes_each_users_latest() -> None:
    users = ["a", "b", "a", "b", "a", "c"]
    items = ["x", "x", "y", "y", "z", "x"]
    times = [3.0, 1.0, 1.0, 2.0, 2.0, 9.0]
    train, test = time_split(users, items, None, times, test_fraction=0.4, mode="per-user")
    # a: 3 rows -> round(1.2) = 1 test row, its latest (x at 3); b: 2 rows -> 1 (y at 2);
    # c: a single row stays in training.
    assert pairs(test) == {("a", "x"), ("b", "y")}
    assert ("c", "x") in pairs(train)


def test_time_split_errors() -> None:
    u, i = ["a", "b"], ["x", "y"]
    # One timestamp parser (alsrec.data.timestamps) reads them, and names the bad row.
    with pytest.raises(DataError, match="row 1 is nan"):
        time_split(u, i, None, [1.0, float("nan")])
    with pytest.raises(DataError, match=r"row 0 is 'monday'.*ISO 8601"):
        time_split(u, i, None, ["monday", "tuesday"])
    with pytest.raises(DataError, match="2 interactions"):
        time_split(u, i, None, [1])
    with pytest.raises(DataError, match="training set empty"):
        time_split(u, i, None, [5, 5])
    with pytest.raises(DataError, match="test set empty"):
        time_split(u, i, None, [1, 2], cutoff=3)
    with pytest.raises(ConfigError, match="cutoff only applies"):
        time_split(u, i, None, [1, 2], cutoff=2, mode="per-user")
    with pytest.raises(ConfigError, match="mode"):
        time_split(u, i, None, [1, 2], mode="random")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="row 1 is"):
        time_split(u, i, None, np.array(["2024-01-01", "NaT"], dtype="datetime64[D]"))
    with pytest.raises(DataError, match="no timestamps"):
        time_split(Interactions.from_arrays(u, i))
    with pytest.raises(ConfigError, match="do not pass"):
        time_split(Interactions.from_arrays(u, i, timestamps=[1, 2]), i)
    with pytest.raises(ConfigError, match="cutoff 'soon'"):
        time_split(u, i, None, [1, 2], cutoff="soon")


def test_time_split_of_interactions_uses_their_timestamps_and_keeps_them() -> None:
    users = ["a", "a", "a", "b", "b", "a"]
    items = ["x", "y", "z", "x", "y", "x"]
    times = ["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-03", "2024-01-04", "2024-01-06"]
    data = Interactions.from_arrays(users, items, [1, 1, 1, 1, 1, 2], timestamps=times)
    # (a, x) was merged from two rows: it is dated by the later one (Jan 6), so it tests.
    train, test = time_split(data, cutoff="2024-01-04")
    assert pairs(test) == {("a", "z"), ("b", "y"), ("a", "x")}
    assert pairs(train) == {("a", "y"), ("b", "x")}
    assert weighted_pairs(test)[("a", "x")] == 3.0
    assert test.timestamps is not None and train.timestamps is not None
    assert test.timestamps.min() >= train.timestamps.max()
    # The same rows as columns give the same split, row by row.
    raw_train, raw_test = time_split(
        users, items, [1, 1, 1, 1, 1, 2], times, cutoff=np.datetime64("2024-01-04")
    )
    assert pairs(raw_test) == {("a", "z"), ("b", "y"), ("a", "x")}
    assert pairs(raw_train) == {("a", "x"), ("a", "y"), ("b", "x")}


def test_holdout_and_leave_k_out_keep_timestamps() -> None:
    data = Interactions.from_arrays(
        ["a", "a", "a", "b", "b"], ["x", "y", "z", "x", "y"], timestamps=[1, 2, 3, 4, 5]
    )
    for train, test in (holdout_split(data, 0.4), leave_k_out_split(data, 1)):
        assert train.timestamps is not None and test.timestamps is not None
        assert sorted(train.timestamps.tolist() + test.timestamps.tolist()) == [1, 2, 3, 4, 5]


def test_time_split_on_synthetic_timestamps_evaluates() -> None:
    data = synthetic(n_users=150, n_items=60, random_state=2)
    train, test = time_split(
        data.user_ids, data.item_ids, data.weights, data.timestamps, test_fraction=0.2
    )
    rec = Recommender(factors=4, iterations=3, random_state=0).fit(train)
    report = evaluate(rec, test, k=5, bootstrap=0)
    # Users return to items over time: those pairs are counted, not scored.
    assert report.n_users > 0
    total = report.n_users + report.skipped_unknown_users + report.skipped_users_without_relevant
    assert total == len(test.users)


def test_test_users_without_test_items_are_left_out_and_counted() -> None:
    # Same-shape train/test matrices wrapped with from_scipy (implicit's train_test_split
    # habit) give test users with empty rows: ndcg_at_k averaged them in as 0 (0.5 here
    # instead of 1.0) and evaluate did not count them as skipped.
    users, items = ["a", "b", "c", "d"], ["w", "x", "y", "z"]
    train = Interactions.from_scipy(
        sp.csr_matrix(np.array([[0, 0, 1, 1], [1, 0, 1, 0], [1, 1, 0, 0], [0, 1, 1, 0]])),
        users,
        items,
    )
    test = Interactions.from_scipy(
        sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]])),
        users,
        items,
    )
    rec = Recommender(factors=2, iterations=5, random_state=0).fit(train)
    report = evaluate(rec, test, k=2, bootstrap=0)
    assert report.n_users == 2
    assert report.skipped_users_without_relevant == 2
    assert ndcg_at_k(rec, test, k=2) == pytest.approx(report.metrics["ndcg"].value, abs=1e-12)
    base = PopularityBaseline(train)
    values = per_user_ndcg(base.recommend_many(users, n=2), test, 2)
    assert values.dtype == np.float64
    assert ndcg_at_k(base, test, k=2) == pytest.approx(values[[0, 3]].mean())


def test_ndcg_at_k_refuses_ids_of_the_other_kind_as_evaluate_does() -> None:
    rec = Recommender(factors=2, iterations=3, random_state=0).fit([1, 1, 2, 3], [7, 8, 7, 9])
    test = Interactions.from_arrays(["1", "2"], ["9", "8"])
    with pytest.raises(DataError, match="test user IDs are strs but the model's are ints"):
        ndcg_at_k(rec, test)
    with pytest.raises(DataError, match="test user IDs are strs but the model's are ints"):
        evaluate(rec, test)


def test_a_matrix_where_interactions_are_expected_points_at_from_scipy() -> None:
    train = Interactions.from_arrays(["a", "a", "b"], ["x", "y", "x"])
    rec = Recommender(factors=2, iterations=3, random_state=0).fit(train)
    with pytest.raises(ConfigError, match=r"evaluate: train must be .*Interactions\.from_scipy"):
        evaluate(rec, train, train=train.matrix)
    with pytest.raises(ConfigError, match=r"PopularityBaseline: train .*from_scipy"):
        PopularityBaseline(train.matrix)


def test_numpy_float_fractions_are_numbers() -> None:
    data = Interactions.from_arrays(np.repeat(np.arange(20), 5), np.tile(np.arange(5), 20))
    a = holdout_split(data, np.float32(0.2), random_state=0)
    b = holdout_split(data, 0.2, random_state=0)
    assert a[1].nnz == b[1].nnz
    split = user_split(data, 0, np.float32(0.1), fold_in_fraction=np.float32(0.8))
    assert len(split.test.fold_in.users) == 2


def test_the_popularity_baseline_refuses_test_ids_of_another_type() -> None:
    train = Interactions.from_arrays(["u1", "u1", "u2", "u2", "u3"], ["1", "2", "1", "3", "2"])
    baseline = PopularityBaseline(train)
    assert baseline.users_ is train.users and baseline.items_ is train.items
    with pytest.raises(DataError, match="test item IDs are ints but the model's are strs"):
        ndcg_at_k(baseline, Interactions.from_arrays(["u1", "u2"], [3, 2]))
    with pytest.raises(DataError, match="test user IDs are ints"):
        ndcg_at_k(baseline, Interactions.from_arrays([1, 2], ["3", "2"]))


def test_evaluate_with_train_warns_when_the_model_was_fitted_on_the_test_pairs() -> None:
    data = synthetic(80, 40, n_clusters=4, random_state=1)
    full = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)
    train, test = holdout_split(full, 0.2, random_state=0)
    on_all = Recommender(factors=4, iterations=3, random_state=0).fit(full)  # the slip
    with pytest.warns(AlsrecWarning, match=r"100% of the test pairs are training.*train= names"):
        evaluate(on_all, test, k=5, train=train, bootstrap=0, baseline=False)
    right = Recommender(factors=4, iterations=3, random_state=0).fit(train)
    report = evaluate(right, test, k=5, train=train, bootstrap=0, baseline=False)
    assert report.metrics["ndcg"].value > 0


def test_a_per_user_time_split_without_two_rows_says_so() -> None:
    single = Interactions.from_arrays(["a", "b"], ["x", "y"], timestamps=[1, 2])
    with pytest.raises(DataError, match="no user has two or more rows"):
        time_split(single, mode="per-user")
