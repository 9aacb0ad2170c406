"""The Recommender facade: training, queries, policies, and errors, on the numpy backend."""

from __future__ import annotations

import copy
import inspect
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from alsrec import (
    ALSParams,
    AlsrecWarning,
    BackendError,
    ConfigError,
    DataError,
    IdTypeError,
    Interactions,
    MappingMismatchError,
    NotFittedError,
    Recommender,
    UnknownIdError,
)
from alsrec.datasets import synthetic
from alsrec.evaluation import PopularityBaseline, holdout_split, ndcg_at_k
from alsrec.testing import checkerboard

if TYPE_CHECKING:
    from pathlib import Path

    import scipy.sparse as sp

    from alsrec.types import FactorMatrix

# -- training -------------------------------------------------------------------------------------


def test_fit_returns_self_and_learns_float32_factors(small_interactions: Interactions) -> None:
    rec = Recommender(factors=8, iterations=2, random_state=0)
    assert rec.fit(small_interactions) is rec
    assert rec.user_factors_.shape == (len(small_interactions.users), 8)
    assert rec.item_factors_.shape == (len(small_interactions.items), 8)
    assert rec.user_factors_.dtype == np.float32
    assert rec.item_factors_.flags.c_contiguous
    assert rec.backend_ == "numpy"
    assert rec.is_fitted


def test_duplicate_pairs_are_summed() -> None:
    users = ["a", "a", "a", "b", "b", "c"]
    items = ["x", "x", "y", "y", "z", "z"]
    weights = [1.0, 2.0, 1.0, 1.0, 1.0, 4.0]
    dup = Recommender(factors=4, iterations=3, random_state=1).fit(users, items, weights)
    summed = Recommender(factors=4, iterations=3, random_state=1).fit(
        ["a", "a", "b", "b", "c"], ["x", "y", "y", "z", "z"], [3.0, 1.0, 1.0, 1.0, 4.0]
    )
    np.testing.assert_array_equal(dup.user_factors_, summed.user_factors_)
    np.testing.assert_array_equal(dup.item_factors_, summed.item_factors_)
    seen = dup.seen_
    assert seen is not None
    assert seen[0, 0] == pytest.approx(3.0)


def test_same_seed_same_factors_other_seed_other_factors(small_interactions: Interactions) -> None:
    def train(seed: int) -> Recommender:
        return Recommender(factors=8, iterations=3, random_state=seed).fit(small_interactions)

    a, b, c = train(3), train(3), train(4)
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    assert not np.array_equal(a.item_factors_, c.item_factors_)


def test_refit_starts_from_scratch() -> None:
    first = Recommender(factors=4, iterations=3, random_state=0)
    first.fit(["a", "b"], ["x", "y"])
    first.fit(["p", "q", "q"], [1, 2, 3])
    fresh = Recommender(factors=4, iterations=3, random_state=0).fit(["p", "q", "q"], [1, 2, 3])
    assert first.users_ == fresh.users_
    np.testing.assert_array_equal(first.item_factors_, fresh.item_factors_)
    with pytest.raises(UnknownIdError):
        first.recommend("a", policy="strict")


def test_callback_sees_every_iteration() -> None:
    calls: list[tuple[int, tuple[int, int], tuple[int, int]]] = []

    def callback(iteration: int, users: FactorMatrix, items: FactorMatrix) -> None:
        calls.append((iteration, users.shape, items.shape))

    Recommender(factors=3, iterations=4, random_state=0).fit(
        ["a", "b"], ["x", "y"], callback=callback
    )
    assert calls == [(i, (2, 3), (2, 3)) for i in range(1, 5)]


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "fragment"),
    [
        ([1.0, float("nan")], "position 1, weights: weight nan is not finite"),
        ([float("inf"), 1.0], "position 0, weights: weight inf is not finite"),
        ([1.0, -2.0], "position 1, weights: weight -2.0 is negative"),
        ([0.0, 1.0], "position 0, weights: weight 0.0 is zero"),
        ([1.0], "user_ids has 2 entries but weights has 1"),
        (["a", "b"], "position 0, weights: weight 'a' is missing or not a number"),
    ],
)
def test_bad_weights_raise_data_error(weights: list[object], fragment: str) -> None:
    with pytest.raises(DataError, match=fragment):
        Recommender().fit(["u1", "u2"], ["i1", "i2"], weights)  # type: ignore[arg-type]


def test_length_mismatch_and_empty_input() -> None:
    with pytest.raises(DataError, match="user_ids has 2 entries but item_ids has 1"):
        Recommender().fit(["a", "b"], ["x"])
    with pytest.raises(DataError, match="empty"):
        Recommender().fit([], [])


def test_mixed_id_types_are_refused() -> None:
    with pytest.raises(IdTypeError, match="user IDs mix int and str"):
        Recommender().fit(["a", 2], ["x", "y"])


def test_fit_argument_errors() -> None:
    data = Interactions.from_arrays(["a"], ["x"])
    with pytest.raises(ConfigError, match="not both"):
        Recommender().fit(data, ["x"])
    with pytest.raises(ConfigError, match="without item_ids"):
        Recommender().fit(["a"])


def test_unknown_backend_and_policy() -> None:
    with pytest.raises(ConfigError, match="Unknown backend 'tensorflow'"):
        Recommender(backend="tensorflow")
    with pytest.raises(ConfigError, match="policy must be 'safe' or 'strict'"):
        Recommender(policy="lenient")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"must be a name or an alsrec\.backends\.Backend"):
        Recommender(backend=42)  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [0, -3, True, 2.0])
def test_bad_n(fitted: Recommender, n: object) -> None:
    with pytest.raises(ConfigError, match="n must be"):
        fitted.recommend("U000000", n=n)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="n must be"):
        fitted.recommend_many(["U000000"], n=n)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="n must be"):
        fitted.similar_items("I000000", n=n)  # type: ignore[arg-type]


def test_implicits_call_shape_gets_a_hint_not_a_matrix_repr(fitted: Recommender) -> None:
    # implicit: model.recommend(userid, user_items[userid], N=10)
    seen = fitted.seen_
    assert seen is not None
    with pytest.raises(ConfigError) as info:
        fitted.recommend("U000000", seen[0])
    message = str(info.value)
    assert message.startswith("n must be a positive integer, got a csr_matrix of shape (1, ")
    assert "implicit's recommend(userid, user_items[userid]) is recommend(user_id)" in message
    assert "\n" not in message  # no multi-line matrix repr
    with pytest.raises(ConfigError, match=r"got \[0, 1, 2, 3, 4, 5, \.\.\.\] \(list\)"):
        fitted.recommend("U000000", list(range(10**6)))  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as scalar:
        fitted.recommend("U000000", 2.0)  # type: ignore[arg-type]
    assert "implicit" not in str(scalar.value)  # a wrong scalar is not a wrong call shape


def test_queries_before_fit_raise_not_fitted() -> None:
    rec = Recommender()
    with pytest.raises(NotFittedError, match="call fit"):
        rec.recommend("a")
    with pytest.raises(NotFittedError):
        rec.similar_items("a")
    with pytest.raises(NotFittedError):
        _ = rec.item_factors_
    assert not rec.is_fitted
    assert "not fitted" in rec.summary()


class _FailingBackend:
    name = "failing"
    deterministic = True

    def fit(self, confidence: sp.csr_matrix, params: ALSParams, *, callback: object = None) -> None:
        raise RuntimeError("device on fire")


class _WrongShapeBackend:
    name = "wrong-shape"
    deterministic = True

    def fit(
        self, confidence: sp.csr_matrix, params: ALSParams, *, callback: object = None
    ) -> tuple[FactorMatrix, FactorMatrix]:
        n_users, n_items = confidence.shape
        return (
            np.zeros((n_users, params.factors), np.float32),
            np.zeros((n_items + 1, params.factors), np.float32),
        )


def test_backend_failures_are_translated_at_the_seam() -> None:
    rec = Recommender(backend=_FailingBackend())  # type: ignore[arg-type]
    with pytest.raises(BackendError, match="'failing' failed while training: device on fire") as e:
        rec.fit(["a"], ["x"])
    assert isinstance(e.value.__cause__, RuntimeError)
    with pytest.raises(MappingMismatchError, match="item factors of shape"):
        Recommender(factors=2, backend=_WrongShapeBackend()).fit(["a"], ["x"])


# -- recommend ------------------------------------------------------------------------------------


def test_recommend_excludes_seen_and_returns_exactly_n(fitted: Recommender) -> None:
    seen = fitted.seen_
    assert seen is not None
    for user in ["U000000", "U000001", "U000150"]:
        row = fitted.users_.index_of(user)
        seen_items = set(fitted.items_.to_id(seen[row].indices).tolist())
        recs = fitted.recommend(user, n=10)
        assert len(recs) == 10
        assert recs.source == "model"
        assert not seen_items & set(recs.ids.tolist())
        assert list(recs.scores) == sorted(recs.scores, reverse=True)


def test_exclude_seen_false_ranks_everything(fitted: Recommender) -> None:
    n_items = len(fitted.items_)
    recs = fitted.recommend("U000000", n=n_items, exclude_seen=False)
    assert sorted(recs.ids.tolist()) == sorted(fitted.items_.ids.tolist())


def test_scores_are_float32_dot_products(fitted: Recommender) -> None:
    recs = fitted.recommend("U000003", n=5)
    u = fitted.user_factors_[fitted.users_.index_of("U000003")]
    expected = fitted.item_factors_[fitted.items_.to_index(recs.ids)] @ u
    assert recs.scores.dtype == np.float32
    np.testing.assert_allclose(recs.scores, expected, rtol=1e-5)


def test_fewer_than_n_only_when_fewer_are_eligible() -> None:
    rec = Recommender(factors=2, iterations=2, random_state=0).fit(["a", "a", "b"], ["x", "y", "z"])
    assert [i for i, _ in rec.recommend("a", n=5)] == ["z"]
    assert len(rec.recommend("a", n=5, exclude_seen=False)) == 3


def test_candidate_subset(fitted: Recommender) -> None:
    candidates = ["I000001", "I000002", "I000003", "I000004", "I000005", "I000006"]
    recs = fitted.recommend("U000010", n=3, items=candidates, exclude_seen=False)
    assert len(recs) == 3
    assert set(recs.ids.tolist()) <= set(candidates)
    everything = fitted.recommend("U000010", n=len(fitted.items_), exclude_seen=False)
    order = [i for i in everything.ids.tolist() if i in candidates]
    assert recs.ids.tolist() == order[:3]


def test_unknown_candidates_follow_the_policy(fitted: Recommender) -> None:
    recs = fitted.recommend("U000010", n=2, items=["I000001", "NOPE", "I000002"])
    assert recs.skipped == ("NOPE",)
    assert set(recs.ids.tolist()) <= {"I000001", "I000002"}
    with pytest.raises(UnknownIdError, match="'NOPE'"):
        fitted.recommend("U000010", items=["I000001", "NOPE"], policy="strict")


def test_unknown_user_safe_gives_popular_items(fitted: Recommender) -> None:
    recs = fitted.recommend("NEW", n=5)
    assert recs.source == "fallback"
    seen = fitted.seen_
    assert seen is not None
    counts = np.bincount(seen.indices, minlength=len(fitted.items_))
    top = counts[fitted.items_.to_index(recs.ids)]
    assert list(top) == sorted(counts, reverse=True)[:5]
    np.testing.assert_array_equal(recs.scores, top.astype(np.float32))


def test_unknown_user_strict_raises_naming_the_id(fitted: Recommender) -> None:
    with pytest.raises(UnknownIdError, match="Unknown user ID 'NEW'") as info:
        fitted.recommend("NEW", policy="strict")
    assert info.value.ids == ("NEW",)
    assert isinstance(info.value, KeyError)
    strict = Recommender(factors=2, iterations=1, policy="strict").fit(["a"], ["x"])
    with pytest.raises(UnknownIdError):
        strict.recommend("b")
    assert strict.recommend("b", policy="safe").source == "fallback"


@pytest.mark.parametrize(
    "collection",
    [["u", "v"], ("u", "v"), np.array(["u", "v"]), {"u", "v"}],
    ids=["list", "tuple", "array", "set"],
)
def test_single_id_methods_refuse_a_collection_naming_the_batch_method(
    fitted: Recommender, collection: object
) -> None:
    # implicit's recommend takes arrays of users; here the batch has its own method, and
    # the message names it instead of calling the list one malformed ID
    user = str(fitted.users_.id_of(0))
    item = str(fitted.items_.id_of(0))
    calls: list[tuple[Any, str, str | None]] = [
        (lambda c: fitted.recommend(c), "user_id", "recommend_many"),
        (lambda c: fitted.recommend(c, exclude=[item]), "user_id", "recommend_many"),
        (lambda c: fitted.similar_items(c), "item_id", "similar_items_many"),
        (lambda c: fitted.similar_users(c, users=[user]), "user_id", "similar_users_many"),
        (lambda c: fitted.score(c, [item]), "user_id", None),
        (lambda c: fitted.explain(c, item), "user_id", None),
    ]
    for call, name, many in calls:
        with pytest.raises(IdTypeError, match=f"^{name} takes one ID .*got a \\w+ of 2") as info:
            call(collection)
        assert (f"call {many}(...)" in str(info.value)) is (many is not None)
    # one ID in numpy's types is still one ID
    assert fitted.recommend(np.str_(user), n=2).query == user


def test_queries_do_not_mutate_the_model(fitted: Recommender) -> None:
    before = (fitted.user_factors_.copy(), fitted.item_factors_.copy())
    recs = fitted.recommend("U000000", n=3)
    fitted.recommend_many(["U000000", "X"], n=3)
    fitted.similar_items("I000000")
    np.testing.assert_array_equal(before[0], fitted.user_factors_)
    np.testing.assert_array_equal(before[1], fitted.item_factors_)
    with pytest.raises(ValueError, match="read-only"):
        recs.scores[0] = 1.0


def test_int_ids_round_trip_as_python_ints() -> None:
    rec = Recommender(factors=2, iterations=2, random_state=0).fit([10, 10, 20], [7, 8, 8])
    item, score = rec.recommend(20, n=1)[0]
    assert item == 7
    assert type(item) is int
    assert type(score) is float


# -- recommend_many ----------------------------------------------------------------------


def test_recommend_many_matches_single_calls_and_pads(fitted: Recommender) -> None:
    users = ["U000005", "GHOST", "U000007"]
    batch = fitted.recommend_many(users, n=4)
    assert batch.ids.shape == batch.scores.shape == batch.mask.shape == (3, 4)
    assert batch.sources.tolist() == ["model", "fallback", "model"]
    for i, user in enumerate(users):
        single = fitted.recommend(user, n=4)
        assert batch[i].ids.tolist() == single.ids.tolist()
        np.testing.assert_allclose(batch[i].scores, single.scores, rtol=1e-5)


def test_recommend_many_padding_is_documented_sentinels() -> None:
    rec = Recommender(factors=2, iterations=2, random_state=0).fit(["a", "a", "b"], ["x", "y", "z"])
    batch = rec.recommend_many(["a", "b"], n=3)
    assert batch.mask.tolist() == [[True, False, False], [True, True, False]]
    assert batch.ids[0, 1] == ""
    assert np.isnan(batch.scores[0, 1])
    ints = Recommender(factors=2, iterations=2, random_state=0).fit([1, 1], [5, 6])
    padded = ints.recommend_many([1], n=2)
    assert padded.ids[0, 0] == np.iinfo(np.int64).min
    assert padded.to_dict() == {1: []}


def test_recommend_many_strict_lists_all_unknown(fitted: Recommender) -> None:
    with pytest.raises(UnknownIdError) as info:
        fitted.recommend_many(["U000001", "X1", "X2"], policy="strict")
    assert info.value.ids == ("X1", "X2")


def test_recommend_many_many_blocks_match(
    fitted: Recommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alsrec.model.ranking as module

    users = fitted.users_.ids[:50]
    whole = fitted.recommend_many(users, n=5)
    monkeypatch.setattr(module, "SCORE_BLOCK_ENTRIES", 7 * len(fitted.items_))
    blocked = fitted.recommend_many(users, n=5)
    np.testing.assert_array_equal(whole.ids, blocked.ids)


def _wide_model(seed: int = 0) -> Recommender:
    """Random factors over 9600 items: large batches take the tiled scoring path."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    n_users, n_items = 300, 9600
    items = rng.standard_normal((n_items, 8)).astype(np.float32)
    items[[5, 17]] = 0.0  # cosine is undefined for them: never similar to anything
    seen = sp.random(n_users, n_items, density=0.003, format="csr", random_state=seed)
    return Recommender.from_factors(
        rng.standard_normal((n_users, 8)).astype(np.float32),
        items,
        [f"u{i}" for i in range(n_users)],
        [f"i{i}" for i in range(n_items)],
        seen=seen,
    )


def test_large_batches_match_single_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    from alsrec import _scoring

    tiled: list[int] = []
    real = _scoring._tiled_top_n

    def spy(*args: Any, **kwargs: Any) -> Any:
        tiled.append(args[1].size)
        return real(*args, **kwargs)

    monkeypatch.setattr(_scoring, "_tiled_top_n", spy)
    rec = _wide_model()
    users = list(rec.users_.ids)
    batch = rec.recommend_many(users, n=10)
    assert batch.mask.all()
    for i in range(0, 300, 7):
        single = rec.recommend(users[i], n=10)
        assert batch[i].ids.tolist() == single.ids.tolist()
        np.testing.assert_allclose(batch[i].scores, single.scores, rtol=1e-5)
    items = list(rec.items_.ids[:200])
    with pytest.warns(AlsrecWarning, match=r"No similar items for 'i5', 'i17': the factor row"):
        sims = rec.similar_items_many(items, n=10)  # i5, i17: all-zero rows
    for i in (0, 5, 17, 99, 199):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AlsrecWarning)  # the zero rows again
            single = rec.similar_items(items[i], n=10)
        assert sims[i].ids.tolist() == single.ids.tolist()
        assert items[i] not in sims[i].ids.tolist()
        assert not {"i5", "i17"} & set(sims[i].ids.tolist())
    candidates = [i for j, i in enumerate(rec.items_.ids) if j % 40]  # 9360 of them
    subset = rec.recommend_many(users[:100], n=10, items=candidates)
    assert set(subset.ids.ravel()) <= set(candidates)
    assert subset[3].ids.tolist() == rec.recommend(users[3], n=10, items=candidates).ids.tolist()
    assert tiled == [300, 200, 100]  # every batch above took the tiled path


# -- similar items / users --------------------------------------------------------------


def test_similar_items_cosine_excludes_query(fitted: Recommender) -> None:
    sims = fitted.similar_items("I000010", n=8)
    assert len(sims) == 8
    assert "I000010" not in sims.ids.tolist()
    factors = fitted.item_factors_
    q = factors[fitted.items_.index_of("I000010")]
    others = factors[fitted.items_.to_index(sims.ids)]
    cosine = others @ q / (np.linalg.norm(others, axis=1) * np.linalg.norm(q))
    np.testing.assert_allclose(sims.scores, cosine, rtol=1e-4, atol=1e-6)
    assert np.all(np.abs(sims.scores) <= 1.0 + 1e-5)


def test_similar_items_policies(fitted: Recommender) -> None:
    empty = fitted.similar_items("NOPE")
    assert len(empty) == 0
    assert empty.skipped == ("NOPE",)
    with pytest.raises(UnknownIdError, match="NOPE"):
        fitted.similar_items("NOPE", policy="strict")
    subset = fitted.similar_items("I000010", n=3, items=["I000011", "I000012", "I000010"])
    assert set(subset.ids.tolist()) == {"I000011", "I000012"}


def test_similar_users(fitted: Recommender) -> None:
    sims = fitted.similar_users("U000020", n=5)
    assert len(sims) == 5
    assert "U000020" not in sims.ids.tolist()
    assert fitted.similar_users("NOBODY").skipped == ("NOBODY",)
    with pytest.raises(UnknownIdError):
        fitted.similar_users("NOBODY", policy="strict")


def test_similar_many_matches_single(fitted: Recommender) -> None:
    batch = fitted.similar_items_many(["I000001", "ZZZ", "I000002"], n=3)
    assert batch.skipped == ("ZZZ",)
    assert batch.mask[1].tolist() == [False, False, False]
    assert batch[0].ids.tolist() == fitted.similar_items("I000001", n=3).ids.tolist()
    users = fitted.similar_users_many(["U000001"], n=3)
    assert users[0].ids.tolist() == fitted.similar_users("U000001", n=3).ids.tolist()


def test_similar_users_reflect_planted_clusters() -> None:
    data = synthetic(n_users=200, n_items=80, n_clusters=4, in_cluster=0.95, random_state=3)
    rec = Recommender(factors=8, regularization=1.0, iterations=10, random_state=0).fit(
        data.user_ids, data.item_ids, data.weights
    )
    agree = []
    for user in range(20):
        uid = f"U{user:06d}"
        for other, _ in rec.similar_users(uid, n=5):
            agree.append(data.user_clusters[int(str(other)[1:])] == data.user_clusters[user])
    assert np.mean(agree) > 0.8


# -- unmapped factor rows ------------------------------------------------------------------------


def _mismatched(policy: str = "safe") -> Recommender:
    rng = np.random.default_rng(0)
    users = rng.standard_normal((5, 4)).astype(np.float32)
    items = rng.standard_normal((1000, 4)).astype(np.float32)
    # Make the unmapped rows the best matches of every user: a wrong model would return them.
    items[950:] = users.mean(axis=0) * 50
    return Recommender.from_factors(
        users,
        items,
        [f"u{i}" for i in range(5)],
        [f"i{i}" for i in range(950)],
        policy=policy,  # type: ignore[arg-type]
    )


def test_safe_policy_never_returns_unmapped_rows_and_still_fills_n() -> None:
    with pytest.warns(AlsrecWarning, match="1000 rows but only 950 item IDs"):
        rec = _mismatched()
    for user in rec.users_:
        recs = rec.recommend(user, n=10)
        assert len(recs) == 10
        assert all(int(str(i)[1:]) < 950 for i in recs.ids.tolist())
    batch = rec.recommend_many(list(rec.users_), n=20)
    assert batch.mask.all()
    assert len(rec.similar_items("i3", n=10)) == 10
    assert rec.mapping_check() == {
        "user_rows": 5,
        "user_ids": 5,
        "item_rows": 1000,
        "item_ids": 950,
        "ok": False,
    }
    assert "MISMATCH" in rec.summary()


def test_strict_policy_refuses_a_mismatched_model_with_both_counts() -> None:
    with pytest.raises(MappingMismatchError, match="1000 rows but 950 item IDs"):
        _mismatched("strict")
    with pytest.warns(AlsrecWarning):
        rec = _mismatched()
    with pytest.raises(MappingMismatchError, match="1000 item rows for 950 IDs"):
        rec.recommend("u0", policy="strict")


def test_more_ids_than_rows_treats_the_extra_ids_as_unknown() -> None:
    with pytest.warns(
        AlsrecWarning, match="3 item IDs are mapped but the item factors have only 2"
    ):
        rec = Recommender.from_factors(np.ones((1, 2)), np.eye(2), ["u"], ["a", "b", "c"])
    assert len(rec.items_) == 2
    assert rec.similar_items("c").skipped == ("c",)


def test_from_factors_validates() -> None:
    with pytest.raises(DataError, match="same number of factors"):
        Recommender.from_factors(np.ones((1, 2)), np.ones((2, 3)), ["u"], ["a", "b"])
    with pytest.raises(DataError, match="NaN or inf in 1 row"):
        Recommender.from_factors(
            np.ones((1, 2)), np.array([[1.0, np.nan], [0.0, 1.0]]), ["u"], ["a", "b"]
        )
    with pytest.raises(DataError, match="2-d"):
        Recommender.from_factors(np.ones(2), np.ones((2, 2)), ["u"], ["a", "b"])


def test_from_factors_without_seen_ranks_fallback_by_norm() -> None:
    rec = Recommender.from_factors(
        np.ones((1, 2)), [[0.1, 0.0], [3.0, 0.0], [1.0, 1.0]], ["u"], ["a", "b", "c"]
    )
    assert rec.recommend("nobody", n=3).ids.tolist() == ["b", "c", "a"]
    assert rec.seen_ is None
    assert rec.backend_ == "external"


# -- quality ------------------------------------------------------------------------------------


def test_checkerboard_withheld_item_ranks_first() -> None:
    users, items, withheld = checkerboard(blocks=4, users_per_block=12, items_per_block=10)
    rec = Recommender(factors=8, regularization=1.0, iterations=15, random_state=0).fit(
        users, items
    )
    for user, item in withheld.items():
        assert rec.recommend(user, n=1).ids.tolist() == [item], user


def test_beats_popularity_by_half_on_held_out_synthetic_data() -> None:
    data = synthetic(n_users=1500, n_items=400, n_clusters=10, random_state=11)
    interactions = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)
    train, test = holdout_split(interactions, 0.2, random_state=0)
    rec = Recommender(factors=32, regularization=10.0, iterations=15, random_state=0).fit(train)
    model = ndcg_at_k(rec, test, k=10)
    popular = ndcg_at_k(PopularityBaseline(train), test, k=10)
    assert model >= 1.5 * popular, (model, popular)


def test_repr_mentions_the_essentials(fitted: Recommender) -> None:
    text = repr(fitted)
    assert "factors=16" in text
    assert "300 users" in text


def test_from_factors_owns_its_factors() -> None:
    users = np.ones((1, 2), dtype=np.float32)
    items = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    rec = Recommender.from_factors(users, items, ["u"], ["a", "b"])
    before = rec.recommend("u", n=2, exclude_seen=False).to_list()
    items[0] = -100.0
    assert rec.recommend("u", n=2, exclude_seen=False).to_list() == before
    assert "backend='external'" in repr(rec)


# -- get_params / set_params (scikit-learn protocol) ---------------------------------------


def _clone(est: Recommender) -> Recommender:
    """scikit-learn's ``clone`` in miniature: rebuild from get_params, check identity."""
    params = {name: copy.deepcopy(value) for name, value in est.get_params(deep=False).items()}
    new = type(est)(**params)
    for name, value in new.get_params(deep=False).items():
        assert value is params[name], name  # clone's check: the constructor kept each value
    return new


def test_get_params_names_are_the_constructor_names() -> None:
    constructor = set(inspect.signature(Recommender.__init__).parameters) - {"self"}
    assert set(Recommender().get_params()) == constructor
    assert Recommender().get_params(deep=True) == Recommender().get_params(deep=False)


def test_clone_round_trip_gives_an_equal_unfitted_recommender() -> None:
    rec = Recommender(factors=8, alpha=2.5, policy="strict", weighting="bm25", bm25_k1=2.0)
    rec.fit(["a", "b"], ["x", "y"])
    twin = _clone(rec)
    assert twin.get_params() == rec.get_params()
    assert twin.params == rec.params
    assert not twin.is_fitted
    via_params = Recommender(params=rec.params)
    assert via_params.get_params() == Recommender(**rec.get_params()).get_params() | {
        "policy": "safe"
    }


def test_set_params_validates_and_resets_a_fitted_model() -> None:
    rec = Recommender(factors=4, iterations=2).fit(["a", "b"], ["x", "y"])
    served = rec.model_
    same = rec.set_params(policy="strict")
    assert same is rec
    assert rec.model_ is served  # the policy alone keeps the model
    rec.set_params(factors=6, regularization=0.5)
    assert rec.params.factors == 6
    assert served.params.factors == 4  # the old model is untouched
    with pytest.raises(NotFittedError):
        rec.recommend("a")
    rec.set_params(params=ALSParams(factors=3), alpha=4.0)
    assert (rec.params.factors, rec.params.alpha) == (3, 4.0)
    with pytest.raises(
        ConfigError, match=r"unexpected keyword argument 'factor'; did you mean factors="
    ):
        rec.set_params(factor=3)
    with pytest.raises(ConfigError):
        rec.set_params(factors=0)
    with pytest.raises(ConfigError, match="Unknown backend"):
        rec.set_params(backend="tensorflow")


def test_params_is_read_only() -> None:
    rec = Recommender(factors=4)
    with pytest.raises(AttributeError, match=r"read-only.*set_params"):
        rec.params = ALSParams(factors=8)
    assert rec.params.factors == 4


# -- serving threads ---------------------------------------------------------------------------


def test_load_num_threads_sets_serving_threads_without_touching_params(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alsrec.model import ranking

    rec = Recommender(factors=4, iterations=3, random_state=0, num_threads=2).fit(
        ["a", "a", "b", "c"], ["x", "y", "y", "z"]
    )
    path = rec.save(tmp_path / "m")
    served = Recommender.load(path, num_threads=1)
    assert served.num_threads == 1
    assert served.params.num_threads == 2 == served.model_.params.num_threads
    seen: list[int] = []
    original = ranking.rank_users

    def spy(*args: Any) -> Any:
        seen.append(args[-1])
        return original(*args)

    monkeypatch.setattr(ranking, "rank_users", spy)
    batch = served.recommend_many(["a", "b"], n=2)
    per_call = served.recommend_many(["a", "b"], n=2, num_threads=3)
    assert seen == [1, 3]
    np.testing.assert_array_equal(batch.ids, per_call.ids)
    assert Recommender.load(path).num_threads == 2
    with pytest.raises(ConfigError):
        Recommender.load(path, num_threads=-1)
    with pytest.raises(ConfigError):
        served.recommend_many(["a"], num_threads=-2)


def test_with_num_threads_leaves_the_shared_recommender_alone() -> None:
    rec = Recommender(factors=4, iterations=3).fit(["a", "b"], ["x", "y"])
    one = rec.with_num_threads(1)
    assert (one.num_threads, rec.num_threads) == (1, 0)
    assert one.model_ is rec.model_


def test_the_seen_matrix_cannot_be_changed_through_the_model() -> None:
    users, items = ["u1", "u1", "u2", "u3"], ["a", "b", "a", "c"]
    fitted = Recommender(factors=2, iterations=2, random_state=0).fit(users, items)
    seen = fitted.seen_
    assert seen is not None
    for part in (seen.data, seen.indices, seen.indptr):
        with pytest.raises(ValueError, match="read-only"):
            part[0] = part[0]
    copy = seen.copy()
    copy.data[:] = 5.0  # a copy is the caller's own
    # from_factors owns its seen matrix: a later change to the caller's does not reach it
    built = Recommender.from_factors(
        fitted.user_factors_, fitted.item_factors_, fitted.users_, fitted.items_,
        seen=copy, params=fitted.params_,
    )  # fmt: skip
    before = built.recommend_for_history(["a"], n=2)
    copy.data[:] = 1e6
    assert built.recommend_for_history(["a"], n=2) == before
    assert built.seen_ is not None and float(built.seen_.data.max()) == 5.0


def test_score_of_a_user_without_signal_is_the_fallback_as_in_recommend() -> None:
    fitted = Recommender(factors=2, iterations=2, random_state=0).fit(
        ["u1", "u1", "u2", "u3"], ["a", "b", "a", "c"]
    )
    grown = fitted.updated(["nu"], ["ni"])  # a new user whose only item is new: zero rows
    assert grown.recommend("nu", n=2).source == "fallback"
    scores = grown.score("nu", ["a", "b"])
    assert scores.source == "fallback"
    assert scores.scores.tolist() == [2.0, 1.0]  # the popularity counts


def test_similar_to_an_id_without_signal_says_why_it_is_empty() -> None:
    fitted = Recommender(factors=2, iterations=2, random_state=0).fit(
        ["u1", "u1", "u2", "u3"], ["a", "b", "a", "c"]
    )
    grown = fitted.updated(["nu"], ["ni"])  # both factor rows stay zero
    with pytest.warns(
        AlsrecWarning, match=r"No similar items for 'ni': the factor row is all zero"
    ):
        assert len(grown.similar_items("ni", n=2)) == 0
    with pytest.warns(AlsrecWarning, match=r"No similar users for 'nu'"):
        batch = grown.similar_users_many(["nu", "u1"], n=2)
    assert len(batch[0]) == 0 and len(batch[1]) > 0


def test_fit_spark_on_an_instance_takes_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import alsrec.spark

    trained = Recommender(factors=2, iterations=1).fit(["u1", "u2"], ["a", "b"]).model_
    calls: list[dict[str, Any]] = []

    def fake_fit(df: object, **kwargs: Any) -> Any:  # stands in for Spark's training
        calls.append(kwargs)
        return trained

    monkeypatch.setattr(alsrec.spark, "fit_dataframe", fake_fit)
    configured = Recommender(factors=4, iterations=3, policy="strict")
    configured.fit_spark(object(), "u", "i")  # type: ignore[arg-type]
    assert calls[-1]["params"] == configured.params and calls[-1]["policy"] == "strict"
    Recommender.fit_spark(object(), "u", "i")  # type: ignore[arg-type]
    assert calls[-1]["params"] is None and calls[-1]["policy"] == "safe"  # the defaults
    own = ALSParams(factors=8)
    configured.fit_spark(object(), "u", "i", params=own)  # type: ignore[arg-type]
    assert calls[-1]["params"] == own  # given keywords win
